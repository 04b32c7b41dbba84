"""Research on a grid of parameters (private to the trading domain): robustness of sweep cells,
the windows of a walk-forward, and the jobs that run one cell over one part of the bars.

A *part* is a range of bars ``[start, end)``. A cell's signals for a part are computed on every
bar before ``end`` (the bars before ``start`` are its indicators' history, as a live trader has
them; nothing after ``end`` is seen), and the engine trades only inside the part: it starts flat
with the starting cash at ``start``, and a signal of a bar before ``start`` is not acted on. The
in-sample part of a sweep with ``--oos`` is ``[0, split)``, its out-of-sample part
``[split, n)``; a walk-forward window has a training part and the test part after it.

Jobs run on a ``GridExecutor`` like a sweep's combinations: the context holds the bars and one
``IndicatorCache`` per distinct part end (a prefix of the bars is a series of its own), so each
indicator is computed once per prefix for the whole grid.
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from kash_tui.domains.strategy import CachedSignals, IndicatorCache, Strategy
from kash_tui.domains.trading.engine import run_backtest
from kash_tui.domains.trading.service import BacktestMetrics, BacktestSettings, Span, TradingError

NS = 1_000_000_000


# -- robustness ------------------------------------------------------------------------------


def robustness(
    shape: Sequence[int], cells: Sequence[Sequence[int]], values: Sequence[float | None]
) -> list[tuple[float | None, float | None, int]]:
    """``(worst, median, count)`` for each cell: over the cell and every listed cell at most one
    step away along each axis (Chebyshev distance 1, diagonals included). ``cells`` are the grid
    indices of the valid combinations (the others were skipped and are no one's neighbour);
    ``values`` their metric, None or NaN where undefined (left out of every neighbourhood).
    A cell whose own value is undefined gets ``(None, None, 0)``."""
    n = len(cells)
    if n == 0:
        return []
    index = np.asarray(cells, dtype=np.int64).reshape(n, len(shape))
    vals = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    live = [axis for axis, size in enumerate(shape) if size > 1]
    offsets = list(itertools.product((-1, 0, 1), repeat=len(live)))
    out: list[tuple[float | None, float | None, int]] = []
    if len(offsets) * n <= 20_000_000:
        # dense: the grid padded by one NaN cell on every side, one shifted view per offset
        dims = [shape[a] + 2 for a in live]
        dense = np.full(dims, np.nan)
        at = tuple(index[:, a] + 1 for a in live)
        dense[at] = vals
        stack = np.empty((len(offsets), n))
        for k, off in enumerate(offsets):
            stack[k] = dense[tuple(p + d for p, d in zip(at, off, strict=True))]
        with np.errstate(all="ignore"):
            counts = np.count_nonzero(~np.isnan(stack), axis=0)
            safe = np.where(np.isnan(stack), np.inf, stack)
            worst = safe.min(axis=0)
            # median of the defined values: NaNs sort last (np.nanmedian would import numpy.ma)
            ordered = np.sort(stack, axis=0)
            low = np.maximum(counts - 1, 0) // 2
            high = np.maximum(counts, 1) // 2
            median = 0.5 * (np.take_along_axis(ordered, low[None, :], axis=0)[0]
                            + np.take_along_axis(ordered, np.minimum(high, len(offsets) - 1)[None, :],
                                                 axis=0)[0])
        for i in range(n):
            if np.isnan(vals[i]):
                out.append((None, None, 0))
            else:
                out.append((float(worst[i]), float(median[i]), int(counts[i])))
        return out
    # very many swept parameters: compare every cell with every other (rare, and small grids)
    sub = index[:, live]
    for i in range(n):
        if np.isnan(vals[i]):
            out.append((None, None, 0))
            continue
        near = np.all(np.abs(sub - sub[i]) <= 1, axis=1) & ~np.isnan(vals)
        hood = vals[near]
        out.append((float(hood.min()), float(np.median(hood)), int(hood.shape[0])))
    return out


# -- windows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Bar ranges of one walk-forward window: train ``[train_start, test_start)``, test
    ``[test_start, test_end)``."""

    train_start: int
    test_start: int
    test_end: int


def add_months(when: datetime, months: int) -> datetime:
    """``when`` moved by whole calendar months (the day clamped to the month's last)."""
    total = when.year * 12 + (when.month - 1) + months
    year, month = divmod(total, 12)
    day = min(when.day, calendar.monthrange(year, month + 1)[1])
    return when.replace(year=year, month=month + 1, day=day)


def _shift(when: datetime, span: Span, times: int) -> datetime:
    from datetime import timedelta

    if span.months:
        return add_months(when, span.months * times)
    return when + timedelta(days=span.days * times)


def plan_windows(timestamps: np.ndarray, train: Span, test: Span, *, anchored: bool
                 ) -> list[Window]:
    """The windows over bars at ``timestamps`` (int64 ns UTC, ascending).

    The first test part starts after the first training part: ``train`` bars after the first
    bar, or at the first bar at or after the first bar's time + ``train``. Each following test
    part starts ``test`` later (bars, or calendar time from the first test part's start), and
    ends where the next starts; the last ends at the last bar (it may be shorter). A training
    part ends where its test part starts; it starts at the first bar (``anchored``) or
    ``train`` earlier (rolling: ``train`` bars before, or the first bar at or after the test
    start's time - ``train``). A window needs at least two training bars and one test bar."""
    ts = np.asarray(timestamps, dtype=np.int64)
    n = int(ts.shape[0])
    if n == 0:
        return []

    def at(when: datetime) -> int:
        return int(np.searchsorted(ts, int(when.timestamp()) * NS + when.microsecond * 1000,
                                   side="left"))

    def time_of(i: int) -> datetime:
        return datetime.fromtimestamp(int(ts[i]) // NS, tz=UTC)

    # the nominal time of the first test start: first bar + train (a duration), else that bar's
    origin = _shift(time_of(0), train, 1) if not train.is_bars else None
    first_test = train.bars if train.is_bars else at(origin)
    if first_test >= n:
        return []
    if origin is None:
        origin = time_of(first_test)
    starts: list[int] = []
    boundaries: list[datetime] = []
    k = 0
    while k <= n:  # every step moves at least one bar, or ends the loop
        if test.is_bars:
            s = first_test + k * test.bars
            boundary = time_of(s) if s < n else origin
        else:
            boundary = _shift(origin, test, k)
            s = at(boundary)
        if s >= n:
            break
        if not starts or s > starts[-1]:
            starts.append(s)
            boundaries.append(boundary)
        k += 1
    windows = []
    for j, s in enumerate(starts):
        e = starts[j + 1] if j + 1 < len(starts) else n
        if anchored:
            a = 0
        elif train.is_bars:
            a = s - train.bars
        else:
            a = at(_shift(boundaries[j], train, -1))
        a = max(0, a)
        if s - a >= 2 and e > s:
            windows.append(Window(a, s, e))
    return windows


# -- jobs ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Prefix:
    """The first ``end`` bars of a series, as views (the strategy sees no later bar)."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    timestamps: np.ndarray

    def __len__(self) -> int:
        return int(self.close.shape[0])


@dataclass(frozen=True, eq=False)
class PartContext:
    """What every job of a research grid shares: the bars, the settings, and an indicator
    cache per part end (filled as the jobs ask)."""

    bars: Any
    timestamps: np.ndarray
    settings: BacktestSettings
    caches: dict[int, IndicatorCache] = field(default_factory=dict)

    @classmethod
    def over(cls, bars: Any, settings: BacktestSettings, ends: Sequence[int]) -> PartContext:
        return cls(bars, np.asarray(bars.timestamps), settings,
                   {int(e): IndicatorCache() for e in set(ends)})

    def prefix(self, end: int) -> Prefix:
        b = self.bars
        volume = getattr(b, "volume", None)
        if volume is None:
            volume = np.zeros(len(self.timestamps))
        return Prefix(b.open[:end], b.high[:end], b.low[:end], b.close[:end], volume[:end],
                      self.timestamps[:end])

    def cache(self, end: int) -> IndicatorCache:
        found = self.caches.get(end)
        if found is None:  # an executor that unpickled an empty dict
            found = self.caches.setdefault(end, IndicatorCache())
        return found


@dataclass(frozen=True)
class Part:
    """One job: ``strategy`` over the bars ``[start, end)``."""

    start: int
    end: int
    strategy: Strategy
    cash: float | None = None
    """Starting cash for this part (default: the settings')."""


def part_signals(context: PartContext, part: Part) -> np.ndarray:
    """The strategy's signals on every bar before ``part.end``, from ``part.start`` on (int8);
    signals of bars before ``start`` are not acted on."""
    bars = context.prefix(part.end)
    strategy = part.strategy
    if isinstance(strategy, CachedSignals):
        signals = strategy.generate_signals_cached(bars, context.cache(part.end))
    else:
        signals = strategy.generate_signals(bars)
    out = np.asarray(signals)[part.start:part.end]
    if out.shape[0] != part.end - part.start:
        raise TradingError(
            f"The strategy {strategy.id} returned {len(signals)} signals for {part.end} bars; "
            "it must return one per bar. Fix the strategy."
        )
    return out


def run_part_result(context: PartContext, part: Part, signals: np.ndarray | None = None
                    ) -> Any:
    """The engine's whole result of ``part`` (trades inside it only)."""
    if signals is None:
        signals = part_signals(context, part)
    b, s, e = context.bars, part.start, part.end
    settings = context.settings
    if part.cash is not None:
        from dataclasses import replace

        settings = replace(settings, initial_cash=part.cash)
    return run_backtest(b.open[s:e], b.high[s:e], b.low[s:e], b.close[s:e],
                        context.timestamps[s:e], signals, settings)


def run_part(context: PartContext, part: Part) -> BacktestMetrics:
    """The metrics of ``part`` (a sweep cell on a training or in-sample part)."""
    return run_part_result(context, part).metrics


__all__ = [
    "Part",
    "PartContext",
    "Prefix",
    "Window",
    "add_months",
    "part_signals",
    "plan_windows",
    "robustness",
    "run_part",
    "run_part_result",
]
