"""Guards of starting a deployment: one running deployment per symbol and broker account (each
adopts the account's whole position in the symbol, so two would both sell it and take the
account short), and ``--detach --no-stream`` reaching the background runner."""

from __future__ import annotations

import pytest

from kash_tui.domains.deployment import DeploymentError, DeploymentState, EventKind, NewDeployment
from kash_tui.domains.workspace import PortfolioMode
from tests.integration.test_deployments import (  # noqa: F401 - fixtures
    PARAMS,
    SYMBOL,
    deploy,
    market,
    roomy_rate_budget,
    start_runner,
    wait_for,
)


def test_a_second_deployment_of_a_symbol_on_one_account_is_refused(market) -> None:  # noqa: ANN001
    kash, fake, folio = market
    deploy(kash, folio, "wave")
    # another portfolio on the same connection is the same Alpaca account
    other = kash.workspace.create_portfolio("Demo", "Same account", PortfolioMode.PAPER,
                                            connection="paper")
    kash.deployment.create(NewDeployment(
        name="twin", portfolio=other.name, strategy_id="sma_crossover", symbol=SYMBOL,
        timeframe="1Min", params=PARAMS))
    run = start_runner(kash, fake, "wave")
    wait_for(lambda: run.row().state is DeploymentState.RUNNING, "wave running")
    with pytest.raises(DeploymentError, match=r"'wave' already trades .* stop it first"):
        kash.deployment.check_start("twin")
    with pytest.raises(DeploymentError, match="already trades"):
        kash.deployment.launch("twin")
    assert kash.deployment.get("twin").state is not DeploymentState.RUNNING
    run.finish()
    assert not run.errors
    kash.deployment.check_start("twin")  # once wave stopped, twin may start


def test_detach_without_stream_reaches_the_background_runner(market) -> None:  # noqa: ANN001
    kash, fake, folio = market
    deploy(kash, folio, "quiet")
    kash.deployment.launch("quiet", tick_seconds=0.05, stream=False)
    try:
        wait_for(lambda: kash.deployment.get("quiet").state is DeploymentState.RUNNING,
                 "the detached runner", timeout=60)
        wait_for(lambda: any(e.kind is EventKind.WARMUP for e in kash.deployment.journal("quiet")),
                 "its warm-up", timeout=60)
        assert kash.deployment.get("quiet").data_mode.value == "poll"
        assert sum(fake.stream_connects.values()) == 0  # it never opened the stream
    finally:
        kash.deployment.halt("quiet")
        wait_for(lambda: kash.deployment.get("quiet").state is not DeploymentState.RUNNING,
                 "the runner to end", timeout=60)
