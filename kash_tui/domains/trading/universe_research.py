"""Research over a universe (private to the trading domain): a sweep whose cells are whole
universe runs, the in-sample / out-of-sample split of such a sweep, and a walk-forward of a
universe. The rules of one universe run are ``universe.py``'s; this module only cuts time.

A *part* is a range ``[start, end)`` of the universe's time line (the sorted union of every
symbol's bar times). For each symbol the part covers its own bars whose times fall inside
``union[start] .. union[end - 1]``; its signals there are computed on every one of its bars
before the part's end (earlier bars are its indicators' history; nothing later is seen), and the
shared-cash simulation runs over the part only: it starts flat with the starting cash at
``union[start]``, and a signal of a bar before the part is not acted on. A symbol without a bar
inside the part sits the part out. The whole time line ``[0, n)`` is exactly the universe run.

Jobs (one per cell, or per window x cell) run on the ``GridExecutor``; the context holds every
symbol's bars and one ``IndicatorCache`` per symbol and part end, so each indicator of a symbol
is computed once per prefix for the whole grid.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from kash_tui.domains.strategy import CachedSignals, IndicatorCache, Strategy
from kash_tui.domains.trading.engine import checked_signals
from kash_tui.domains.trading.service import (
    BacktestMetrics,
    BacktestSettings,
    TradingError,
)
from kash_tui.domains.trading.universe import (
    SymbolBars,
    UniverseResult,
    simulate_universe,
    union_times,
)

__all__ = [
    "UniverseContext",
    "UniversePart",
    "plan_cells",
    "run_universe_part",
    "universe_part_metrics",
]


def plan_cells(base: Strategy, params: Mapping[str, Any], grid: Mapping[str, Sequence[Any]]
               ) -> tuple[tuple[int, ...], list[Strategy], list[tuple[int, ...]],
                          list[tuple[dict[str, Any], str]]]:
    """``(shape, strategies, cells, skipped)`` of ``grid`` over ``base`` with fixed ``params``,
    as a one-symbol sweep enumerates them (grid order; refused combinations skipped)."""
    from kash_tui.domains.strategy import StrategyError

    names = list(grid)
    shape = tuple(len(grid[k]) for k in names)
    strategies: list[Strategy] = []
    cells: list[tuple[int, ...]] = []
    skipped: list[tuple[dict[str, Any], str]] = []
    for cell in itertools.product(*(range(size) for size in shape)):
        values = [grid[k][i] for k, i in zip(names, cell, strict=True)]
        merged = {**dict(params), **dict(zip(names, values, strict=True))}
        try:
            strategies.append(base.with_params(merged))
            cells.append(cell)
        except StrategyError as exc:
            skipped.append((merged, str(exc)))
    return shape, strategies, cells, skipped


@dataclass(frozen=True, eq=False)
class UniverseContext:
    """What every job of a universe grid shares: each symbol's bars, the union time line, the
    settings, the slots, and an indicator cache per (symbol, part end)."""

    bars: list[SymbolBars]
    union: np.ndarray
    settings: BacktestSettings
    max_positions: int
    caches: dict[tuple[int, int], IndicatorCache] = field(default_factory=dict)

    @classmethod
    def over(cls, bars: list[SymbolBars], settings: BacktestSettings, max_positions: int,
             ends: Sequence[int]) -> UniverseContext:
        context = cls(bars, union_times(bars), settings, max_positions)
        for end in set(int(e) for e in ends):
            for k, (_lo, hi) in enumerate(context.own_ranges(0, end)):
                context.caches.setdefault((k, hi), IndicatorCache())
        return context

    def own_ranges(self, start: int, end: int) -> list[tuple[int, int]]:
        """Each symbol's own bar range ``[lo, hi)`` inside the time-line part ``[start, end)``."""
        first = self.union[start] if start < len(self.union) else np.iinfo(np.int64).max
        last = self.union[end - 1]
        return [(int(np.searchsorted(b.timestamps, first, "left")),
                 int(np.searchsorted(b.timestamps, last, "right"))) for b in self.bars]

    def cache(self, k: int, end: int) -> IndicatorCache:
        found = self.caches.get((k, end))
        if found is None:  # an executor that unpickled an empty dict
            found = self.caches.setdefault((k, end), IndicatorCache())
        return found


@dataclass(frozen=True)
class UniversePart:
    """One job: ``strategy`` over the time-line part ``[start, end)``."""

    start: int
    end: int
    strategy: Strategy
    cash: float | None = None
    """Starting cash of this part (default: the settings')."""


def _symbol_bars(b: SymbolBars, lo: int, hi: int) -> SymbolBars:
    if lo == 0 and hi == len(b):
        return b
    return SymbolBars(b.symbol, b.timestamps[lo:hi], b.open[lo:hi], b.high[lo:hi],
                      b.low[lo:hi], b.close[lo:hi], b.volume[lo:hi])


def _signals(context: UniverseContext, k: int, hi: int, strategy: Strategy) -> np.ndarray:
    prefix = _symbol_bars(context.bars[k], 0, hi)
    if isinstance(strategy, CachedSignals):
        raw = strategy.generate_signals_cached(prefix, context.cache(k, hi))
    else:
        raw = strategy.generate_signals(prefix)
    return checked_signals(raw, hi)


def run_universe_part(context: UniverseContext, part: UniversePart) -> UniverseResult:
    """The shared-cash simulation of ``part`` (see the module docstring)."""
    bars, signals = [], []
    for k, (lo, hi) in enumerate(context.own_ranges(part.start, part.end)):
        if hi <= lo:
            continue  # no bar of this symbol inside the part
        signals.append(_signals(context, k, hi, part.strategy)[lo:hi])
        bars.append(_symbol_bars(context.bars[k], lo, hi))
    if not bars:
        raise TradingError("No symbol of the universe has a bar in this part of the time line.")
    settings = context.settings
    if part.cash is not None:
        settings = replace(settings, initial_cash=part.cash)
    return simulate_universe(bars, signals, settings, context.max_positions,
                             context.union[part.start:part.end])


def universe_part_metrics(context: UniverseContext, part: UniversePart) -> BacktestMetrics:
    """The portfolio metrics of ``part``: the job of a universe sweep or walk-forward cell."""
    return run_universe_part(context, part).metrics


# -- the service's universe sweep and walk-forward -------------------------------------------


def _checked_grid(grid: Mapping[str, Sequence[Any]]) -> int:
    import math

    from kash_tui.domains.trading.service import MAX_SWEEP_COMBINATIONS

    if not grid or any(len(v) == 0 for v in grid.values()):
        raise TradingError("The sweep grid is empty; give e.g. short_period=5:50:5.")
    total = math.prod(len(v) for v in grid.values())
    if total > MAX_SWEEP_COMBINATIONS:
        raise TradingError(
            f"This sweep has {total:,} combinations but a sweep may have at most "
            f"{MAX_SWEEP_COMBINATIONS:,}; narrow the ranges or take larger steps."
        )
    return total


@dataclass(frozen=True, eq=False)
class _Plan:
    loaded: Any
    grid: Any  # a sweeps.GridPlan (series None)
    info: Any  # UniverseRunInfo without a breakdown
    request: Any  # the BacktestRequest a report carries (symbol: the universe's name)


def _plan(service: Any, request: Any, grid: Mapping[str, Sequence[Any]]) -> _Plan:  # noqa: ANN401
    from kash_tui.domains.strategy import StrategyError
    from kash_tui.domains.trading import universe_runs
    from kash_tui.domains.trading.service import BacktestRequest, UniverseRunInfo
    from kash_tui.domains.trading.sweeps import GridPlan

    total = _checked_grid(grid)
    loaded = universe_runs.load(service, request)
    base = loaded.strategy
    known = set(base.params_schema().get("properties", {}))
    unknown = [k for k in grid if k not in known]
    if unknown:
        raise StrategyError(
            f"Unknown parameter {unknown[0]!r} for {base.id}; valid parameters are "
            f"{', '.join(sorted(known))}."
        )
    shape, strategies, cells, skipped = plan_cells(base, request.params, grid)
    if not strategies:
        raise TradingError(
            "No combination of the sweep is valid for this strategy; "
            f"the first was refused: {skipped[0][1]}"
        )
    plan = GridPlan(None, loaded.settings, shape, strategies, cells, skipped, total)
    info = UniverseRunInfo(
        universe=loaded.universe.name, workspace=loaded.universe.workspace_name,
        symbols=tuple(b.symbol for b in loaded.bars), max_positions=loaded.max_positions,
    )
    single = BacktestRequest(
        symbol=loaded.universe.name, strategy_id=request.strategy_id,
        timeframe=loaded.timeframe.value, params=dict(request.params), start=request.start,
        end=request.end, settings=loaded.settings, portfolio_id=request.portfolio_id,
    )
    return _Plan(loaded, plan, info, single)


def _when(union: np.ndarray) -> Any:  # noqa: ANN401
    from datetime import UTC, datetime

    return lambda i: datetime.fromtimestamp(int(union[i]) // 1_000_000_000, tz=UTC)


def sweep(service: Any, request: Any, grid: Mapping[str, Sequence[Any]], *,  # noqa: ANN401
          rank_by: str, progress: Any, oos: float | None) -> Any:
    """``TradingService.sweep_universe``."""
    from kash_tui.domains.trading.service import (
        OutOfSample,
        SweepReport,
        parse_rank_by,
        rank_key,
    )
    from kash_tui.domains.trading.sweeps import scored_rows

    metric, robust = parse_rank_by(rank_by)
    if oos is not None and not (isinstance(oos, (int, float)) and 0 < oos < 1):
        raise TradingError(
            f"The out-of-sample share must be above 0 % and below 100 % (got {oos!r}); "
            "give for example --oos 30%."
        )
    p = _plan(service, request, grid)
    plan, loaded = p.grid, p.loaded
    union = union_times(loaded.bars)
    n = int(union.shape[0])
    split = n
    if oos is not None:
        held_out = int(round(n * oos))
        split = n - held_out
        if split < 2 or held_out < 2:
            raise TradingError(
                f"The universe's {n} bar times are too few to hold out {oos:.0%} (each part "
                "needs at least two); load more history or change --oos."
            )
    context = UniverseContext.over(loaded.bars, loaded.settings, loaded.max_positions,
                                   [split, n])
    total = plan.total
    if progress:
        progress(len(plan.skipped), total)
    tick = (lambda done: progress(len(plan.skipped) + done, total)) if progress else None
    metrics = service._executor.map(  # noqa: SLF001
        universe_part_metrics, context,
        [UniversePart(0, split, s) for s in plan.strategies], progress=tick,
    )
    rows = scored_rows(plan, metrics, metric)
    order = sorted(range(len(rows)), key=lambda k: rank_key(rows[k], metric, robust=robust))
    out_of_sample = None
    if oos is not None:
        best, chosen = rows[order[0]], plan.strategies[order[0]]
        result = run_universe_part(context, UniversePart(split, n, chosen))
        when = _when(union)
        out_of_sample = OutOfSample(
            fraction=float(oos), in_sample_bars=split, out_of_sample_bars=n - split,
            in_sample_first=when(0), in_sample_last=when(split - 1),
            out_of_sample_first=when(split), out_of_sample_last=when(n - 1),
            params=dict(best.params), in_sample=best.metrics, out_of_sample=result.metrics,
        )
    return SweepReport(
        request=p.request, grid={k: list(v) for k, v in grid.items()}, rank_by=rank_by,
        rows=tuple(rows[k] for k in order), skipped=tuple(plan.skipped), oos=out_of_sample,
        universe=p.info,
    )


def walk_forward(service: Any, request: Any, grid: Mapping[str, Sequence[Any]], *,  # noqa: ANN401, PLR0913
                 train: Any, test: Any, anchored: bool, rank_by: str, progress: Any) -> Any:
    """``TradingService.walk_forward_universe`` (not stored here: the caller stores it)."""
    from kash_tui.db import utc_now
    from kash_tui.domains.trading import research
    from kash_tui.domains.trading.engine import compute_metrics
    from kash_tui.domains.trading.service import (
        RoundTripColumns,
        WalkForwardReport,
        WalkForwardWindow,
        best_row,
        parse_rank_by,
    )
    from kash_tui.domains.trading.sweeps import scored_rows

    metric, robust = parse_rank_by(rank_by)
    p = _plan(service, request, grid)
    plan, loaded = p.grid, p.loaded
    settings = loaded.settings
    union = union_times(loaded.bars)
    n = int(union.shape[0])
    when = _when(union)
    windows = research.plan_windows(union, train, test, anchored=anchored)
    if not windows:
        raise TradingError(
            f"The universe's {n:,} bar times from {when(0):%Y-%m-%d} to {when(n - 1):%Y-%m-%d} "
            f"are too few for one window of {train} training and {test} test; load more "
            "history or shorten --train/--test."
        )
    cells = len(plan.strategies)
    total = len(windows) * cells + len(windows)
    ends = [w.test_start for w in windows] + [w.test_end for w in windows]
    context = UniverseContext.over(loaded.bars, settings, loaded.max_positions, ends)
    jobs = [UniversePart(w.train_start, w.test_start, s)
            for w in windows for s in plan.strategies]
    metrics = service._executor.map(  # noqa: SLF001
        universe_part_metrics, context, jobs,
        progress=(lambda done: progress(done, total)) if progress else None,
    )
    chosen = []
    for k in range(len(windows)):
        rows = scored_rows(plan, metrics[k * cells:(k + 1) * cells], metric)
        best = best_row(rows, metric, robust=robust)
        assert best is not None
        chosen.append((best, plan.strategies[rows.index(best)]))
    # the test parts one after another: each starts with the equity the one before ended with
    cash = settings.initial_cash
    results = []
    for number, (w, (_best, strategy)) in enumerate(zip(windows, chosen, strict=True), 1):
        result = run_universe_part(context, UniversePart(w.test_start, w.test_end, strategy,
                                                         cash=cash))
        results.append(result)
        cash = float(result.metrics.final_equity)
        if progress:
            progress(len(jobs) + number, total)
    first, last = windows[0].test_start, windows[-1].test_end
    equity = np.concatenate([r.equity for r in results])
    open_count = np.concatenate([r.open_positions for r in results])
    trips = [r.trips for r in results]
    stitched_trips = RoundTripColumns(**{
        name: np.concatenate([getattr(t, name) for t in trips])
        for name in ("entry_index", "exit_index", "entry_price", "exit_price", "qty", "pnl",
                     "return_pct", "is_open")
    })
    # buy and hold: the mean of the symbols' own, over the stitched span
    lo_t, hi_t = union[first], union[last - 1]
    holds = []
    for b in loaded.bars:
        lo = int(np.searchsorted(b.timestamps, lo_t, "left"))
        hi = int(np.searchsorted(b.timestamps, hi_t, "right"))
        if hi > lo:
            holds.append(float(b.close[hi - 1]) / float(b.close[lo]))
    bench = np.ones(last - first)
    if bench.shape[0] > 1:
        bench[-1] = float(np.mean(holds))
    stitched = compute_metrics(equity, open_count, bench, union[first:last], stitched_trips,
                               settings)
    rows_out = []
    for number, (w, (best, _s), result) in enumerate(
            zip(windows, chosen, results, strict=True), start=1):
        rows_out.append(WalkForwardWindow(
            number=number, train_start=w.train_start, train_end=w.test_start,
            test_start=w.test_start, test_end=w.test_end,
            train_first=when(w.train_start), train_last=when(w.test_start - 1),
            test_first=when(w.test_start), test_last=when(w.test_end - 1),
            params=dict(best.params), train=best.metrics, test=result.metrics,
            candidates=cells,
        ))
    cagrs = [w.train.cagr_pct for w in rows_out if w.train.cagr_pct is not None]
    return WalkForwardReport(
        id=0, created_at=utc_now(), request=p.request,
        grid={k: list(v) for k, v in grid.items()}, rank_by=rank_by, train=train, test=test,
        anchored=anchored, bar_count=n, first_bar=when(0), last_bar=when(n - 1),
        windows=tuple(rows_out), timestamps=np.ascontiguousarray(union[first:last]),
        equity=equity, metrics=stitched,
        in_sample_cagr_pct=float(np.mean(cagrs)) if cagrs else None,
        skipped=len(plan.skipped), portfolio_id=request.portfolio_id, universe=p.info,
    )
