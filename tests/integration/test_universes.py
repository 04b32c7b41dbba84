"""Universes (named lists of symbols in a workspace) on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kash_tui.config import Settings
from kash_tui.domains.workspace import UniverseNotFound, WorkspaceError
from kash_tui.provider import ServiceProvider


@pytest.fixture
def kash(db_url: str) -> Iterator[ServiceProvider]:
    provider = ServiceProvider(Settings(database_url=db_url, demo_data=False))
    provider.prepare()
    try:
        yield provider
    finally:
        provider.close()


def test_a_universe_keeps_its_symbols_in_order_once_each(kash: ServiceProvider) -> None:
    kash.workspace.create_workspace("Research")
    made = kash.workspace.create_universe("tech", ["nvda", " AAPL ", "msft", "AAPL"])
    assert made.symbols == ("NVDA", "AAPL", "MSFT")
    assert made.workspace_name == "Research"
    again = kash.workspace.get_universe("tech")
    assert again.symbols == ("NVDA", "AAPL", "MSFT")
    assert [u.name for u in kash.workspace.list_universes("Research")] == ["tech"]


def test_refused_universes_write_nothing(kash: ServiceProvider) -> None:
    with pytest.raises(WorkspaceError, match="Say which workspace"):
        kash.workspace.create_universe("u", ["AAPL"])  # no workspace at all yet
    kash.workspace.create_workspace("A")
    kash.workspace.create_workspace("B")
    with pytest.raises(WorkspaceError, match="there are 2"):
        kash.workspace.create_universe("u", ["AAPL"])
    with pytest.raises(WorkspaceError, match="not a valid symbol"):
        kash.workspace.create_universe("u", ["AAPL", "BAD SYMBOL"], "A")
    with pytest.raises(WorkspaceError, match="at least one symbol"):
        kash.workspace.create_universe("u", ["  "], "A")
    assert kash.workspace.list_universes() == []
    kash.workspace.create_universe("u", ["AAPL"], "A")
    with pytest.raises(WorkspaceError, match="already has a universe named 'u'"):
        kash.workspace.create_universe("u", ["MSFT"], "A")
    assert kash.workspace.get_universe("u").symbols == ("AAPL",)


def test_same_name_in_two_workspaces_needs_the_workspace(kash: ServiceProvider) -> None:
    kash.workspace.create_workspace("A")
    kash.workspace.create_workspace("B")
    kash.workspace.create_universe("u", ["AAPL"], "A")
    kash.workspace.create_universe("u", ["MSFT"], "B")
    with pytest.raises(WorkspaceError, match="several workspaces"):
        kash.workspace.get_universe("u")
    assert kash.workspace.get_universe("u", "B").symbols == ("MSFT",)
    kash.workspace.delete_universe("u", "A")
    assert kash.workspace.get_universe("u").workspace_name == "B"
    with pytest.raises(UniverseNotFound):
        kash.workspace.get_universe("u", "A")


def test_deleting_the_workspace_deletes_its_universes(kash: ServiceProvider) -> None:
    kash.workspace.create_workspace("A")
    kash.workspace.create_universe("u", ["AAPL", "MSFT"], "A")
    kash.workspace.delete_workspace("A")
    assert kash.workspace.list_universes() == []


# -- universe backtests: stored and read back like runs --------------------------------------

import numpy as np  # noqa: E402

from kash_tui.domains.market import AssetClass, BarSeries, Timeframe  # noqa: E402
from kash_tui.domains.trading import (  # noqa: E402
    BacktestSettings,
    TradingError,
    UniverseBacktestRequest,
)

DAY_S = 86_400


def _walk(symbol: str, seed: int, bars: int = 400, skip: int = 0) -> BarSeries:
    """A daily random walk; ``skip`` drops every skip-th bar (missing bars to align)."""
    rng = np.random.default_rng(seed)
    close = 40 * np.exp(np.cumsum(rng.normal(0, 0.02, bars)))
    open_ = np.r_[40.0, close[:-1]] * np.exp(rng.normal(0, 0.003, bars))
    days = np.arange(bars, dtype=np.int64)
    if skip:
        keep = days % skip != skip - 1
        days, close, open_ = days[keep], close[keep], open_[keep]
    start = 1_600_000_000 - 1_600_000_000 % DAY_S
    return BarSeries(
        symbol=symbol, timeframe=Timeframe.DAY_1, asset_class=AssetClass.US_EQUITY, tz="UTC",
        timestamps=(start + DAY_S * days) * 1_000_000_000, open=open_,
        high=np.maximum(open_, close), low=np.minimum(open_, close), close=close,
        volume=np.full(close.shape[0], 100.0),
    )


def test_a_universe_run_is_stored_and_reads_back_as_computed(kash: ServiceProvider) -> None:
    kash.workspace.create_workspace("Research")
    for k, sym in enumerate(["AAA", "BBB", "CCC", "DDD"]):
        kash.market.store_bars(_walk(sym, k, skip=7 if sym == "CCC" else 0), source="csv")
    kash.workspace.create_universe("four", ["AAA", "BBB", "CCC", "DDD"])
    request = UniverseBacktestRequest(
        universe="four", strategy_id="sma_crossover", params={"short_period": 5,
                                                              "long_period": 20},
        settings=BacktestSettings(initial_cash=50_000, commission=0.001), max_positions=2)
    report = kash.trading.run_universe_backtest(request)
    run = report.run
    assert run.universe is not None and run.universe.symbols == ("AAA", "BBB", "CCC", "DDD")
    assert run.universe.max_positions == 2
    assert run.bar_count == 400  # the union of the four time lines
    assert sum(b.pnl for b in run.universe.breakdown) == pytest.approx(
        run.metrics.final_equity - 50_000)
    assert len(report.round_trips) == sum(b.round_trips for b in run.universe.breakdown) > 10

    again = kash.trading.get_run(run.id)
    assert again.run.universe == run.universe
    assert again.run.metrics == run.metrics
    assert np.array_equal(again.equity, report.equity)
    assert np.array_equal(again.timestamps, report.timestamps)
    for name in ("entry_index", "exit_index", "qty", "pnl", "is_open"):
        assert np.array_equal(getattr(again.round_trip_columns, name),
                              getattr(report.round_trip_columns, name)), name
    assert np.array_equal(again.round_trip_symbols, report.round_trip_symbols)
    assert np.array_equal(again.fill_symbols, report.fill_symbols)
    assert np.array_equal(again.signal_symbols, report.signal_symbols)
    listed = {r.id: r for r in kash.trading.list_runs()}
    assert listed[run.id].universe is not None
    assert listed[run.id].universe.symbols == run.universe.symbols


def test_a_universe_with_symbols_without_bars_is_refused_and_nothing_stored(
    kash: ServiceProvider,
) -> None:
    kash.workspace.create_workspace("Research")
    kash.market.store_bars(_walk("AAA", 1), source="csv")
    kash.workspace.create_universe("u", ["AAA", "NOPE", "ZIP"])
    with pytest.raises(TradingError, match=r"2 of the 3 symbols .* \(NOPE, ZIP\); fetch them"):
        kash.trading.run_universe_backtest(
            UniverseBacktestRequest(universe="u", strategy_id="sma_crossover"))
    assert kash.trading.list_runs() == []
