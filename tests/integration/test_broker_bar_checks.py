"""Bars from Alpaca pass the checks CSV rows pass (bar_checks.bar_problems): a bar the broker
sends with a close of 0, an absurd price or a time far outside the sane range refuses the
fetch with one sentence naming the symbol and the time, and nothing is stored. Fake Alpaca
server, real alpaca-py, both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from kash_tui.domains.connection import BrokerError
from kash_tui.domains.market import Timeframe
from kash_tui.provider import ServiceProvider
from tests.broker_setup import paper_kash

START = datetime(2025, 1, 2, tzinfo=UTC)


@pytest.fixture
def kash(db_url: str, fake_alpaca, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServiceProvider]:  # noqa: ANN001
    provider, _folio = paper_kash(db_url, fake_alpaca, monkeypatch)
    yield provider
    provider.close()


def _bars(bad: tuple[float, float, float, float, float]) -> list[tuple]:
    """Five good daily bars of ACME (05:00 UTC, midnight New York), the third replaced."""
    rows = [(START + timedelta(days=d, hours=5), 10.0, 11.0, 9.0, 10.5, 1000.0) for d in range(5)]
    rows[2] = (rows[2][0], *bad)
    return rows


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ((10.0, 11.0, 9.0, 0.0, 1000.0), "Close 0 is not a positive price"),
        ((10.0, 1e308, 9.0, 10.5, 1000.0), "High 1e+308 is not below 1e+12"),
        ((10.0, 9.0, 11.0, 10.5, 1000.0), "High 9 is below Low 11"),
        ((10.0, 11.0, 9.0, 10.5, -1.0), "Volume -1 is negative"),
    ],
    ids=["close-0", "price-1e308", "high-below-low", "negative-volume"],
)
def test_a_bad_bar_from_the_broker_is_refused_and_nothing_is_stored(
    kash: ServiceProvider, fake_alpaca, bad: tuple, says: str  # noqa: ANN001
) -> None:
    fake_alpaca.add_asset("ACME", name="Acme Corporation Common Stock", price="50")
    fake_alpaca.add_bars("ACME", "1Day", _bars(bad))
    with pytest.raises(BrokerError) as caught:
        kash.market.fetch_bars("ACME", Timeframe.DAY_1, START)
    message = str(caught.value)
    assert message.startswith(
        f"Alpaca sent a 1Day bar of ACME at 2025-01-04 05:00 UTC that Kash cannot use: {says}"
    ), message
    assert message.endswith("; nothing was stored.") and "\n" not in message
    assert "ACME" not in {d.symbol for d in kash.market.list_data()}


def test_good_bars_from_the_broker_are_stored(kash: ServiceProvider, fake_alpaca) -> None:  # noqa: ANN001
    fake_alpaca.add_asset("ACME", name="Acme Corporation Common Stock", price="50")
    fake_alpaca.add_bars("ACME", "1Day", _bars((10.0, 11.0, 9.0, 10.5, 1000.0)))
    report = kash.market.fetch_bars("ACME", Timeframe.DAY_1, START)
    assert report.stored == 5
