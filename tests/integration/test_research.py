"""Robust sweeps, the --oos split and walk-forward through the trading service, on SQLite and
PostgreSQL: choices made on in-sample bars only, windows and stitching against the engine run
by hand, parallel equal to serial, stored walk-forwards read back equal."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest

from kash_tui.config import Settings
from kash_tui.domains.market import Timeframe
from kash_tui.domains.trading import (
    BacktestRequest,
    BacktestSettings,
    Span,
    TradingError,
    create_trading_service,
)
from kash_tui.domains.trading.engine import run_backtest as run_engine
from kash_tui.domains.trading.executor import LocalExecutor
from kash_tui.provider import ServiceProvider

GRID = {"short_period": [5, 10, 15, 20], "long_period": [20, 40, 60]}
REQUEST = BacktestRequest(symbol="DEMOA", strategy_id="sma_crossover",
                          settings=BacktestSettings(commission=0.0005))


@pytest.fixture
def kash(db_url: str) -> Iterator[ServiceProvider]:
    provider = ServiceProvider(Settings(database_url=db_url))
    provider.prepare()
    try:
        yield provider
    finally:
        provider.close()


def _engine(kash: ServiceProvider, params: dict, start: int, end: int, cash: float | None = None):
    """The engine by hand: signals on bars [0, end), trades in [start, end)."""
    bars = kash.market.load_bars("DEMOA", Timeframe.DAY_1)
    strategy = kash.strategy.create_with_params("sma_crossover", params)
    prefix = kash.market.load_bars("DEMOA", Timeframe.DAY_1)
    signals = strategy.generate_signals(type(prefix)(
        symbol=prefix.symbol, timeframe=prefix.timeframe, asset_class=prefix.asset_class,
        tz=prefix.tz, timestamps=prefix.timestamps[:end], open=prefix.open[:end],
        high=prefix.high[:end], low=prefix.low[:end], close=prefix.close[:end],
        volume=prefix.volume[:end]))
    settings = replace(REQUEST.settings, periods_per_year=252.0)
    if cash is not None:
        settings = replace(settings, initial_cash=cash)
    s = slice(start, end)
    return run_engine(bars.open[s], bars.high[s], bars.low[s], bars.close[s],
                      bars.timestamps[s], signals[start:end], settings)


def _valid(grid: dict) -> list[dict]:
    return [{"short_period": a, "long_period": b} for a in grid["short_period"]
            for b in grid["long_period"] if a < b]


def _best(kash: ServiceProvider, start: int, end: int) -> dict:
    scored = [(p, _engine(kash, p, start, end).metrics.sharpe) for p in _valid(GRID)]
    return max(scored, key=lambda ps: -math.inf if ps[1] is None else ps[1])[0]


# -- robust sweeps and the out-of-sample split -----------------------------------------------


def test_rows_carry_their_neighbourhood_and_rank_by_it(kash: ServiceProvider) -> None:
    raw = kash.trading.sweep(REQUEST, GRID)
    robust = kash.trading.sweep(REQUEST, GRID, rank_by="robust:sharpe")
    by_params = {tuple(sorted(r.params.items())): r for r in raw.rows}
    for row in raw.rows:
        i = GRID["short_period"].index(row.params["short_period"])
        j = GRID["long_period"].index(row.params["long_period"])
        hood = [
            other.metrics.sharpe for other in raw.rows
            if abs(GRID["short_period"].index(other.params["short_period"]) - i) <= 1
            and abs(GRID["long_period"].index(other.params["long_period"]) - j) <= 1
        ]
        assert row.robust_worst == min(hood)
        assert row.robust_median == pytest.approx(float(np.median(hood)), rel=1e-12)
        assert row.neighbours == len(hood)
        assert by_params[tuple(sorted(row.params.items()))] == row
    worsts = [r.robust_worst for r in robust.rows]
    assert worsts == sorted(worsts, reverse=True)
    assert robust.best_robust() is robust.rows[0] and raw.best_raw() is raw.rows[0]
    assert robust.metric == "sharpe" and robust.robust and not raw.robust


def test_oos_chooses_on_in_sample_bars_only(kash: ServiceProvider) -> None:
    report = kash.trading.sweep(REQUEST, GRID, oos=0.3)
    n = len(kash.market.load_bars("DEMOA", Timeframe.DAY_1))
    split = n - round(n * 0.3)
    oos = report.oos
    assert oos is not None and (oos.in_sample_bars, oos.out_of_sample_bars) == (split, n - split)
    in_sample_best = _best(kash, 0, split)
    out_of_sample_best = _best(kash, split, n)
    assert in_sample_best != out_of_sample_best  # the data make the point: the two differ
    assert oos.params == in_sample_best == report.rows[0].params
    # the rows are in-sample results; the chosen cell's out-of-sample run trades after the split
    assert report.rows[0].metrics == _engine(kash, in_sample_best, 0, split).metrics
    assert oos.in_sample == report.rows[0].metrics
    assert oos.out_of_sample == _engine(kash, in_sample_best, split, n).metrics
    with pytest.raises(TradingError, match="above 0 % and below 100 %"):
        kash.trading.sweep(REQUEST, GRID, oos=1.0)


# -- walk-forward ----------------------------------------------------------------------------


@pytest.mark.parametrize("anchored", [False, True])
def test_walk_forward_windows_and_stitching(kash: ServiceProvider, anchored: bool) -> None:
    n = len(kash.market.load_bars("DEMOA", Timeframe.DAY_1))
    assert n == 2608
    report = kash.trading.walk_forward(REQUEST, GRID, train=Span(bars=1000),
                                       test=Span(bars=400), anchored=anchored)
    # tests start at 1000, 1400, 1800, 2200, 2600; the last ends at the last bar (8 bars)
    bounds = [(w.train_start, w.test_start, w.test_end) for w in report.windows]
    starts = [0] * 5 if anchored else [0, 400, 800, 1200, 1600]
    assert bounds == list(zip(starts, [1000, 1400, 1800, 2200, 2600],
                              [1400, 1800, 2200, 2600, 2608], strict=True))
    cash = REQUEST.settings.initial_cash
    pieces = []
    pnl, settled = [], 0  # every trip's P&L, counted closed unless open at the very end
    for k, w in enumerate(report.windows):
        assert w.params == _best(kash, w.train_start, w.test_start)
        assert w.train == _engine(kash, w.params, w.train_start, w.test_start).metrics
        piece = _engine(kash, w.params, w.test_start, w.test_end, cash)
        assert w.test == piece.metrics
        pieces.append(piece.equity)
        cash = piece.metrics.final_equity
        trips = piece.round_trip_columns
        last = k == len(report.windows) - 1
        pnl += [p for p, o in zip(trips.pnl.tolist(), trips.is_open.tolist(), strict=True)
                if not (o and last)]
        settled += int(trips.is_open.sum()) if not last else 0
    stitched = np.concatenate(pieces)
    assert np.array_equal(report.equity, stitched)
    bars = kash.market.load_bars("DEMOA", Timeframe.DAY_1)
    assert np.array_equal(report.timestamps, bars.timestamps[1000:])
    m = report.metrics
    # a position a test part still holds at its end is settled at that part's last close (the
    # next part starts flat with that equity): it is a closed trip of the stitched curve
    assert settled >= 1  # the data make the point
    wins, losses = [p for p in pnl if p > 0], [p for p in pnl if p < 0]
    assert m.win_rate_pct == pytest.approx(len(wins) / len(pnl) * 100, rel=1e-12)
    assert m.profit_factor == pytest.approx(sum(wins) / -sum(losses), rel=1e-12)
    assert m.final_equity == stitched[-1]
    assert m.total_return_pct == pytest.approx((stitched[-1] / 10_000 - 1) * 100, rel=1e-12)
    cagrs = [w.train.cagr_pct for w in report.windows]
    assert report.in_sample_cagr_pct == pytest.approx(sum(cagrs) / len(cagrs), rel=1e-12)
    if report.in_sample_cagr_pct > 0:
        assert report.efficiency == pytest.approx(m.cagr_pct / report.in_sample_cagr_pct)


def test_walk_forward_is_stored_and_reads_back_equal(kash: ServiceProvider) -> None:
    report = kash.trading.walk_forward(REQUEST, GRID, train=Span.parse("2y"),
                                       test=Span.parse("6m"), rank_by="robust:sharpe")
    assert report.id > 0 and len(report.windows) == 16
    back = kash.trading.get_walk_forward(report.id)
    assert back.windows == report.windows
    assert np.array_equal(back.equity, report.equity)
    assert np.array_equal(back.timestamps, report.timestamps)
    assert (back.metrics, back.in_sample_cagr_pct, back.efficiency) == (
        report.metrics, report.in_sample_cagr_pct, report.efficiency)
    assert (back.train, back.test, back.anchored, back.rank_by, back.grid) == (
        Span(months=24), Span(months=6), False, "robust:sharpe", GRID)
    assert back.request.settings == report.request.settings
    listed = kash.trading.list_walk_forwards()
    assert [(w.id, w.window_count, w.metrics) for w in listed] == [
        (report.id, 16, report.metrics)]
    assert kash.trading.list_runs() == []  # not a backtest run
    with pytest.raises(TradingError, match="no walk-forward run wf999"):
        kash.trading.get_walk_forward(999)


def test_walk_forward_in_parallel_equals_serial(kash: ServiceProvider) -> None:
    reports = {}
    for name, executor in {"inline": LocalExecutor(1),
                           "threads": LocalExecutor(2, min_job_seconds=0)}.items():
        trading = create_trading_service(kash.db, kash.market, kash.strategy, kash.workspace,
                                         executor=executor)
        progress: list[tuple[int, int]] = []
        reports[name] = trading.walk_forward(
            REQUEST, GRID, train=Span(bars=700), test=Span(bars=300),
            progress=lambda d, t, p=progress: p.append((d, t)))
        total = len(reports[name].windows) * (len(_valid(GRID)) + 1)
        assert progress[-1] == (total, total)
    serial, parallel = reports["inline"], reports["threads"]
    assert parallel.windows == serial.windows
    assert np.array_equal(parallel.equity, serial.equity)
    assert parallel.metrics == serial.metrics


def test_walk_forward_refuses_too_little_history(kash: ServiceProvider) -> None:
    with pytest.raises(TradingError, match=r"too few for one window of 20y training and 6m"):
        kash.trading.walk_forward(REQUEST, GRID, train=Span.parse("20y"), test=Span.parse("6m"))
    assert kash.trading.list_walk_forwards() == []
