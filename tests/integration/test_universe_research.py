"""Sweeps and walk-forwards of a universe through the trading service, on SQLite and PostgreSQL:
every cell equal to that cell's universe backtest run alone, parallel equal to serial, the
out-of-sample split on time, walk-forward windows on the union of the symbols' times with the
test parts rebuilt by hand and stitched, stored and read back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from kash_tui.config import Settings
from kash_tui.domains.market import AssetClass, BarSeries, Timeframe
from kash_tui.domains.trading import (
    BacktestSettings,
    Span,
    TradingError,
    UniverseBacktestRequest,
    create_trading_service,
)
from kash_tui.domains.trading.executor import LocalExecutor
from kash_tui.domains.trading.universe import SymbolBars, simulate_universe
from kash_tui.provider import ServiceProvider

DAY_S = 86_400
NS = 1_000_000_000
GRID = {"short_period": [3, 5, 8, 12], "long_period": [15, 25, 40]}
SYMBOLS = ["AAA", "BBB", "CCC"]
REQUEST = UniverseBacktestRequest(
    universe="three", strategy_id="sma_crossover",
    settings=BacktestSettings(initial_cash=30_000, commission=0.0005), max_positions=2)


def _walk(symbol: str, seed: int, bars: int = 400, skip: int = 0, first: int = 0) -> BarSeries:
    """A daily random walk from day ``first``; ``skip`` drops every skip-th bar."""
    rng = np.random.default_rng(seed)
    close = 40 * np.exp(np.cumsum(rng.normal(0.0005, 0.02, bars)))
    open_ = np.r_[40.0, close[:-1]] * np.exp(rng.normal(0, 0.003, bars))
    days = np.arange(first, first + bars, dtype=np.int64)
    if skip:
        keep = days % skip != skip - 1
        days, close, open_ = days[keep], close[keep], open_[keep]
    start = 1_600_000_000 - 1_600_000_000 % DAY_S
    return BarSeries(
        symbol=symbol, timeframe=Timeframe.DAY_1, asset_class=AssetClass.US_EQUITY, tz="UTC",
        timestamps=(start + DAY_S * days) * NS, open=open_,
        high=np.maximum(open_, close), low=np.minimum(open_, close), close=close,
        volume=np.full(close.shape[0], 100.0),
    )


@pytest.fixture
def kash(db_url: str) -> Iterator[ServiceProvider]:
    provider = ServiceProvider(Settings(database_url=db_url, demo_data=False))
    provider.prepare()
    provider.workspace.create_workspace("Research")
    # AAA every day; BBB misses every 5th; CCC lists 30 days late
    for series in (_walk("AAA", 1), _walk("BBB", 2, skip=5), _walk("CCC", 3, bars=370, first=30)):
        provider.market.store_bars(series, source="csv")
    provider.workspace.create_universe("three", SYMBOLS)
    try:
        yield provider
    finally:
        provider.close()


def _trading(kash: ServiceProvider, executor: LocalExecutor):  # noqa: ANN202
    return create_trading_service(kash.db, kash.market, kash.strategy, kash.workspace,
                                  executor=executor)


def _union(kash: ServiceProvider) -> np.ndarray:
    return np.unique(np.concatenate([
        kash.market.load_bars(s, Timeframe.DAY_1).timestamps for s in SYMBOLS]))


def _at(ns: int) -> datetime:
    return datetime.fromtimestamp(int(ns) // NS, tz=UTC)


def _by_hand(kash: ServiceProvider, params: dict, first_ns: int, last_ns: int, cash: float):  # noqa: ANN202
    """A universe part rebuilt by hand: each symbol's signals on its bars up to ``last_ns``,
    kept from ``first_ns`` on; the shared-cash simulation over those bars only."""
    strategy = kash.strategy.create_with_params("sma_crossover", params)
    bars, signals = [], []
    for s in SYMBOLS:
        b = kash.market.load_bars(s, Timeframe.DAY_1)
        upto = b.timestamps <= last_ns
        prefix = SymbolBars(s, b.timestamps[upto], b.open[upto], b.high[upto], b.low[upto],
                            b.close[upto], b.volume[upto])
        sig = np.asarray(strategy.generate_signals(prefix), dtype=np.int8)
        inside = prefix.timestamps >= first_ns
        if not inside.any():
            continue
        bars.append(SymbolBars(s, *(a[inside] for a in (
            prefix.timestamps, prefix.open, prefix.high, prefix.low, prefix.close,
            prefix.volume))))
        signals.append(sig[inside])
    settings = replace(REQUEST.settings, initial_cash=cash, periods_per_year=252.0)
    return simulate_universe(bars, signals, settings, REQUEST.max_positions)


def test_each_cell_is_the_universe_backtest_of_its_parameters(kash: ServiceProvider) -> None:
    serial = _trading(kash, LocalExecutor(1)).sweep_universe(REQUEST, GRID)
    progress: list[tuple[int, int]] = []
    parallel = _trading(kash, LocalExecutor(2, min_job_seconds=0)).sweep_universe(
        REQUEST, GRID, progress=lambda d, t: progress.append((d, t)))
    assert progress[-1] == (12, 12)
    assert [(r.params, r.metrics, r.robust_worst, r.robust_median) for r in parallel.rows] == [
        (r.params, r.metrics, r.robust_worst, r.robust_median) for r in serial.rows]
    assert serial.universe.symbols == tuple(SYMBOLS) and serial.universe.max_positions == 2
    assert serial.request.symbol == "three"
    for row in serial.rows:
        alone = kash.trading.run_universe_backtest(replace(REQUEST, params=row.params))
        assert alone.run.metrics == row.metrics, row.params
    # ranked by the portfolio's Sharpe, best first; the robust worst over the grid neighbours
    sharpes = [r.metrics.sharpe for r in serial.rows]
    assert sharpes == sorted(sharpes, reverse=True)
    by_cell = {(GRID["short_period"].index(r.params["short_period"]),
                GRID["long_period"].index(r.params["long_period"])): r.metrics.sharpe
               for r in serial.rows}
    top = serial.rows[0]
    i, j = (GRID["short_period"].index(top.params["short_period"]),
            GRID["long_period"].index(top.params["long_period"]))
    near = [v for (a, b), v in by_cell.items() if abs(a - i) <= 1 and abs(b - j) <= 1]
    assert top.robust_worst == min(near) and top.neighbours == len(near)
    assert len(kash.trading.list_runs()) == 12  # the runs made alone above; the sweep stores none


def test_oos_cuts_time_the_same_for_every_symbol(kash: ServiceProvider) -> None:
    report = kash.trading.sweep_universe(REQUEST, GRID, oos=0.25, rank_by="robust:sharpe")
    union = _union(kash)
    n = union.shape[0]
    assert n == 400
    split = 300
    oos = report.oos
    assert (oos.in_sample_bars, oos.out_of_sample_bars) == (split, n - split)
    assert (oos.in_sample_last, oos.out_of_sample_first) == (_at(union[split - 1]),
                                                              _at(union[split]))
    # in sample a cell sees nothing after the cut: its universe backtest ended there
    end = _at(union[split - 1])
    for row in report.rows[:3]:
        alone = kash.trading.run_universe_backtest(replace(REQUEST, params=row.params, end=end))
        assert alone.run.metrics == row.metrics
    assert oos.params == report.best_robust().params
    by_hand = _by_hand(kash, oos.params, int(union[split]), int(union[-1]), 30_000.0)
    assert oos.out_of_sample == by_hand.metrics
    assert oos.out_of_sample.round_trips > 0


@pytest.mark.parametrize("anchored", [True, False])
def test_walk_forward_windows_on_the_union_and_stitching(kash: ServiceProvider,
                                                         anchored: bool) -> None:
    report = kash.trading.walk_forward_universe(
        REQUEST, GRID, train=Span(bars=150), test=Span(bars=100), anchored=anchored)
    union = _union(kash)
    # tests start at union times 150, 250, 350; the last ends at the last time
    bounds = [(w.train_start, w.test_start, w.test_end) for w in report.windows]
    starts = [0, 0, 0] if anchored else [0, 100, 200]
    assert bounds == list(zip(starts, [150, 250, 350], [250, 350, 400], strict=True))
    assert [w.test_first for w in report.windows] == [_at(union[k]) for k in (150, 250, 350)]
    cash, pieces = 30_000.0, []
    for w in report.windows:
        if anchored:  # a training part from the first time is the universe backtest up to it
            end = _at(union[w.test_start - 1])
            best = kash.trading.sweep_universe(replace(REQUEST, end=end), GRID).rows[0]
            assert w.params == best.params and w.train == best.metrics
        piece = _by_hand(kash, w.params, int(union[w.test_start]), int(union[w.test_end - 1]),
                         cash)
        assert w.test == piece.metrics
        pieces.append(piece.equity)
        cash = piece.metrics.final_equity
    stitched = np.concatenate(pieces)
    assert np.array_equal(report.equity, stitched)
    assert np.array_equal(report.timestamps, union[150:])
    assert report.metrics.final_equity == stitched[-1] == cash
    assert report.metrics.total_return_pct == pytest.approx((cash / 30_000 - 1) * 100, rel=1e-12)
    assert report.bar_count == 400 and report.universe.symbols == tuple(SYMBOLS)


def test_a_universe_walk_forward_is_stored_and_reads_back_equal(kash: ServiceProvider) -> None:
    serial = _trading(kash, LocalExecutor(1)).walk_forward_universe(
        REQUEST, GRID, train=Span.parse("6m"), test=Span.parse("3m"), rank_by="robust:sharpe")
    parallel = _trading(kash, LocalExecutor(2, min_job_seconds=0)).walk_forward_universe(
        REQUEST, GRID, train=Span.parse("6m"), test=Span.parse("3m"), rank_by="robust:sharpe")
    assert parallel.windows == serial.windows
    assert np.array_equal(parallel.equity, serial.equity)
    back = kash.trading.get_walk_forward(serial.id)
    assert back.universe == serial.universe
    assert back.universe.max_positions == 2
    assert back.windows == serial.windows
    assert np.array_equal(back.equity, serial.equity)
    assert back.metrics == serial.metrics and back.request.symbol == "three"
    listed = {w.id: w for w in kash.trading.list_walk_forwards()}
    assert listed[serial.id].universe == serial.universe
    assert listed[serial.id].symbol == "three"


def test_refusals_say_what_to_do(kash: ServiceProvider) -> None:
    with pytest.raises(TradingError, match="too few for one window"):
        kash.trading.walk_forward_universe(REQUEST, GRID, train=Span(bars=400),
                                           test=Span(bars=5))
    with pytest.raises(TradingError, match="too few to hold out"):
        kash.trading.sweep_universe(REQUEST, GRID, oos=0.001)
    kash.workspace.create_universe("holes", ["AAA", "NOPE"])
    with pytest.raises(TradingError, match=r"1 of the 2 symbols .* \(NOPE\)"):
        kash.trading.sweep_universe(replace(REQUEST, universe="holes"), GRID)
    assert kash.trading.list_walk_forwards() == []
