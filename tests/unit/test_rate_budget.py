"""The shared per-connection request budget (Alpaca allows 200 requests a minute)."""

from __future__ import annotations

import pytest

from kash_tui.domains.connection import BrokerError
from kash_tui.domains.connection.alpaca import RateBudget, budget_for


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_lets_a_burst_through_then_paces_requests() -> None:
    clock = Clock()
    budget = RateBudget(per_minute=120, clock=clock)  # 2 per second, bursts of 30
    assert [budget.reserve() for _ in range(30)] == [0.0] * 30
    assert budget.reserve() == pytest.approx(0.5)  # the 31st waits for a refill
    assert budget.reserve() == pytest.approx(1.0)
    clock.now += 60  # refills to the burst size, not beyond
    waits = [budget.reserve() for _ in range(30)]
    assert max(waits) <= 1e-9
    assert budget.reserve() > 0


def test_a_refused_caller_does_not_run_the_budget_into_debt() -> None:
    clock = Clock()
    budget = RateBudget(per_minute=60, clock=clock)
    budget.penalise(20.0)
    for _ in range(50):  # a screen polling while blocked
        assert budget.reserve(max_wait=5.0) > 5.0
    clock.now += 20.5
    assert budget.reserve(max_wait=5.0) == 0.0


def test_a_429_blocks_everyone_until_retry_after() -> None:
    clock = Clock()
    budget = RateBudget(per_minute=200, clock=clock)
    budget.penalise(7.0)
    assert budget.reserve() == pytest.approx(7.0)
    assert budget.throttled == 1
    clock.now += 7.5
    assert budget.reserve() < 1.0


def test_waiting_longer_than_allowed_is_a_sentence() -> None:
    budget = RateBudget(per_minute=60, clock=Clock())
    budget.penalise(30.0)
    with pytest.raises(BrokerError, match="rate limit is used up for the next 30 s") as caught:
        budget.acquire(max_wait=5.0)
    assert caught.value.kind == "rate_limited"


def test_clients_of_one_connection_share_a_budget() -> None:
    assert budget_for("paper:PKAB12") is budget_for("paper:PKAB12")
    assert budget_for("paper:PKAB12") is not budget_for("live:AKZZ99")
