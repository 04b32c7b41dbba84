"""How a walk-forward looks: its windows (training and test spans, the chosen parameters, the
ranked metric in and out of sample), the stitched out-of-sample equity (the runs' equity
curve), the parameters chosen over time, and the summary with the walk-forward efficiency.

Every widget takes the trading domain's ``WalkForwardReport`` through ``show(...)``; none calls
a service.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.text import Text
from textual.widgets import DataTable, Static

from kash_tui.tui.format import format_metric, number_text, time_formatter
from kash_tui.tui.widgets.results import (
    BLOCKS,
    MAX_TABLE_ROWS,
    METRIC_LABELS,
    METRIC_SUFFIX,
    EquityCurve,
)

if TYPE_CHECKING:
    from kash_tui.domains.trading import WalkForwardReport


def ranked_metric(report: WalkForwardReport) -> str:
    """The metric the windows were ranked by (``robust:sharpe`` -> ``sharpe``)."""
    text = report.rank_by
    return text.split(":", 1)[1] if text.startswith("robust:") else text


def swept(report: WalkForwardReport, order: Sequence[str] = ()) -> list[str]:
    """The swept parameters (more than one value), in ``order`` first."""
    names = [n for n in report.grid if len(report.grid[n]) > 1]
    return [n for n in order if n in names] + [n for n in names if n not in order]


def efficiency_text(report: WalkForwardReport) -> str:
    """``Walk-forward efficiency 0.42 (out-of-sample CAGR 3.10 % / in-sample 7.38 %)``."""
    oos, ins = report.metrics.cagr_pct, report.in_sample_cagr_pct
    rates = (f"out-of-sample CAGR {format_metric(oos, ' %')} / mean in-sample "
             f"{format_metric(ins, ' %')}")
    if report.efficiency is None:
        return f"Walk-forward efficiency n/a ({rates}: defined when in-sample is positive)"
    return f"Walk-forward efficiency {report.efficiency:.2f} ({rates})"


def walk_forward_title(report: WalkForwardReport, tz: str = "UTC") -> str:
    """``wf3: sma_crossover on DEMOA 1Day, 14 rolling windows of 2y + 6m, by sharpe``."""
    request = report.request
    show = time_formatter(tz, request.timeframe)
    kind = "anchored" if report.anchored else "rolling"
    count = len(report.windows)
    return (
        f"wf{report.id}: {request.strategy_id} on {request.symbol} {request.timeframe}, "
        f"{count} {kind} window{'s' if count != 1 else ''} of {report.train} training + "
        f"{report.test} test, ranked by {report.rank_by}; {report.bar_count:,} bars "
        f"{show(report.first_bar)} to {show(report.last_bar)}"
    )


def summary_text(report: WalkForwardReport) -> str:
    """The stitched out-of-sample result and the efficiency, in two sentences."""
    m = report.metrics
    n = report.skipped
    skipped = f" {n} invalid combination{'s' if n != 1 else ''} skipped." if n else ""
    return (
        f"Out of sample, stitched: return {format_metric(m.total_return_pct, ' %')}, Sharpe "
        f"{format_metric(m.sharpe)}, max drawdown {format_metric(m.max_drawdown_pct, ' %')}, "
        f"{m.round_trips} round trips. {efficiency_text(report)}.{skipped}"
    )


class StitchedEquity(EquityCurve):
    """The runs' equity curve over the stitched test parts."""

    def show_walk_forward(self, report: WalkForwardReport | None, tz: str = "UTC") -> None:
        if report is None:
            self._equity = self._timestamps = None
        else:
            self._equity = np.asarray(report.equity, dtype=np.float64)
            self._timestamps = np.asarray(report.timestamps, dtype=np.int64)
            self._format = time_formatter(tz, report.request.timeframe)
        self.refresh()


class WindowsTable(DataTable):
    """One row per window: its test span, the chosen parameters, the ranked metric on the
    training and the test part, the test return, the window's efficiency and its training span
    (last: in a narrow terminal the figures come before the dates; → scrolls to them)."""

    DEFAULT_CSS = """
    WindowsTable {
        width: 100%;
        height: auto;
        max-height: 20;
        min-height: 4;
        overflow-x: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def show(self, report: WalkForwardReport | None, tz: str = "UTC",
             order: Sequence[str] = ()) -> None:
        self.clear(columns=True)
        if report is None:
            return
        metric = ranked_metric(report)
        label = METRIC_LABELS.get(metric, metric)
        suffix = METRIC_SUFFIX.get(metric, "")
        names = swept(report, order)
        self.add_columns("#", "Test", *names, f"IS {label}", f"OOS {label}",
                         "OOS return %", "WFE", "Train")
        show = time_formatter(tz, report.request.timeframe)
        for w in report.windows[:MAX_TABLE_ROWS]:
            self.add_row(
                _right(str(w.number)),
                f"{show(w.test_first)}..{show(w.test_last)}",
                *(_right(number_text(w.params.get(n))) for n in names),
                _right(format_metric(getattr(w.train, metric), suffix)),
                _right(format_metric(getattr(w.test, metric), suffix)),
                _right(format_metric(w.test.total_return_pct)),
                _right(format_metric(w.efficiency)),
                f"{show(w.train_first)}..{show(w.train_last)}",
                key=str(w.number),
            )
        if len(report.windows) > MAX_TABLE_ROWS:
            self.add_row("", f"… and {len(report.windows) - MAX_TABLE_ROWS} more "
                         f"(kash runs show wf{report.id})", key="more")


def _right(text: str) -> Text:
    return Text(text, justify="right")


def sparkline(values: Sequence[float], low: float, high: float) -> str:
    """One block per value, scaled from ``low`` (▁) to ``high`` (█)."""
    span = high - low
    marks = []
    for value in values:
        level = 1 if span <= 0 else 1 + round((value - low) / span * 7)
        marks.append(BLOCKS[max(1, min(8, level))])
    return "".join(marks)


def params_over_time(report: WalkForwardReport, order: Sequence[str] = ()) -> list[str]:
    """Per swept parameter: its name, a sparkline of the value chosen in each window (scaled
    over the grid's range), and the grid's range and the last choice."""
    names = swept(report, order)
    width = max((len(n) for n in names), default=0)
    lines = []
    for name in names:
        grid = [float(v) for v in report.grid[name]]
        chosen = [float(w.params.get(name, 0.0)) for w in report.windows]
        last = report.windows[-1].params.get(name) if report.windows else None
        lines.append(
            f"{name.ljust(width)} {sparkline(chosen, min(grid), max(grid))} "
            f"{number_text(_plain(min(grid)))}..{number_text(_plain(max(grid)))}, "
            f"last {number_text(last)}"
        )
    return lines


def _plain(value: float) -> Any:
    return int(value) if float(value).is_integer() else value


class ParamsOverTime(Static):
    """The parameters chosen window by window, one sparkline per swept parameter."""

    DEFAULT_CSS = """
    ParamsOverTime {
        height: auto;
        width: auto;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def show(self, report: WalkForwardReport | None, order: Sequence[str] = ()) -> None:
        if report is None:
            self.update("")
            return
        lines = params_over_time(report, order)
        head = "Chosen per window (oldest left):" if lines else \
            "Nothing was swept: every window used the same parameters."
        self.update(Text("\n".join([head, *lines])))


__all__ = [
    "ParamsOverTime",
    "StitchedEquity",
    "WindowsTable",
    "efficiency_text",
    "params_over_time",
    "ranked_metric",
    "sparkline",
    "summary_text",
    "swept",
    "walk_forward_title",
]
