"""The job of a parameter sweep: one parameter set of a strategy over bars every job shares.

A ``GridExecutor`` runs ``run_combination(context, strategy)`` once per valid combination. The
context holds the bars, the settings and one ``IndicatorCache`` for the series: a strategy that
implements ``CachedSignals`` takes its indicators from it, so each distinct indicator (SMA(20),
MFI(14), ...) is computed once for the whole grid rather than once per combination. Jobs read
arrays and return ``BacktestMetrics``; they never touch the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kash_tui.domains.strategy import OHLCV, CachedSignals, IndicatorCache, Strategy
from kash_tui.domains.trading.engine import run_backtest
from kash_tui.domains.trading.service import BacktestMetrics, BacktestSettings, SweepRow


@dataclass(frozen=True, eq=False)
class SweepContext:
    """What every job of one sweep shares."""

    bars: OHLCV
    timestamps: np.ndarray
    """int64 ns UTC, one per bar (for CAGR)."""
    settings: BacktestSettings
    cache: IndicatorCache = field(default_factory=IndicatorCache)


def run_combination(context: SweepContext, strategy: Strategy) -> BacktestMetrics:
    """The metrics of ``strategy`` (one combination of the grid) over the context's bars."""
    bars = context.bars
    if isinstance(strategy, CachedSignals):
        signals = strategy.generate_signals_cached(bars, context.cache)
    else:
        signals = strategy.generate_signals(bars)
    result = run_backtest(
        bars.open, bars.high, bars.low, bars.close, context.timestamps, signals, context.settings
    )
    return result.metrics


@dataclass(frozen=True, eq=False)
class GridPlan:
    """A sweep's bars and its valid combinations, each with its place in the grid."""

    series: Any
    settings: BacktestSettings
    shape: tuple[int, ...]
    """Values per grid parameter, in the grid's order."""
    strategies: list[Strategy]
    cells: list[tuple[int, ...]]
    """The grid index of each valid combination (parallel to ``strategies``)."""
    skipped: list[tuple[dict[str, Any], str]]
    total: int


def scored_rows(plan: GridPlan, metrics: list[BacktestMetrics], metric: str) -> list[SweepRow]:
    """One row per valid combination, in grid order, with its robustness on ``metric`` (see
    ``research.robustness``)."""
    from kash_tui.domains.trading.research import robustness

    values = [getattr(m, metric) for m in metrics]
    scores = robustness(plan.shape, plan.cells, values)
    return [
        SweepRow(strategy.params.model_dump(mode="json"), m, worst, median, count)
        for strategy, m, (worst, median, count) in zip(
            plan.strategies, metrics, scores, strict=True)
    ]
