"""The Sweep tab: a sweep's combinations ranked by its metric, and a heatmap of two swept
parameters (chosen under "Across" and "Down"). A sweep with an out-of-sample split shows the
chosen cell's in-sample and out-of-sample results beside each other above the table. Enter on
a row posts :class:`SweepTab.RowChosen` with that row's parameters."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, Select, Static, TabPane

from kash_tui.domains.trading import OutOfSample, SweepReport
from kash_tui.tui.format import format_metric, params_text
from kash_tui.tui.widgets.results import METRIC_LABELS, SweepHeatmap, SweepTable, sweep_columns


class SweepTab(TabPane):
    """The last sweep: a summary line, the ranked table, the heatmap."""

    SCOPED_CSS = False  # the layout follows the screen's -wide class
    DEFAULT_CSS = """
    SweepTab #sweep-summary { height: auto; padding: 0 1; }
    SweepTab #sweep-oos { height: auto; padding: 0 1; }
    SweepTab #sweep-body { height: 1fr; layout: vertical; }
    .-wide SweepTab #sweep-body { layout: horizontal; }
    SweepTab #sweep-table { height: 1fr; min-height: 6; }
    .-wide SweepTab #sweep-table { width: auto; max-width: 65%; }
    SweepTab #heat-box { height: auto; padding: 0 1; }
    .-wide SweepTab #heat-box { width: 1fr; height: 1fr; }
    SweepTab #heat-axes { height: auto; }
    SweepTab #heat-axes Label { padding: 0 1 0 0; color: $text-muted; }
    SweepTab #heat-axes Select { width: 1fr; max-width: 24; margin-right: 1; }
    """

    class RowChosen(Message):
        """The user chose a ranked row: put ``params`` into the form."""

        def __init__(self, tab: SweepTab, params: dict[str, Any]) -> None:
            super().__init__()
            self.tab = tab
            self.params = params

        @property
        def control(self) -> SweepTab:
            return self.tab

    def __init__(self, *, sweep_key: str) -> None:
        super().__init__("Sweep", id="tab-sweep")
        self._sweep_key = sweep_key
        self.report: SweepReport | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"No sweep yet: press {self._sweep_key} to sweep parameter ranges.",
                     id="sweep-summary", markup=False)
        oos = Static("", id="sweep-oos", markup=False)
        oos.display = False
        yield oos
        with Horizontal(id="sweep-body"):
            yield SweepTable(id="sweep-table")
            with Vertical(id="heat-box"):
                with Horizontal(id="heat-axes"):
                    yield Label("Across")
                    yield Select([], id="heat-x", compact=True, prompt="x", allow_blank=True)
                    yield Label("Down")
                    yield Select([], id="heat-y", compact=True, prompt="y", allow_blank=True)
                yield SweepHeatmap(id="heatmap")

    @property
    def table(self) -> SweepTable:
        return self.query_one(SweepTable)

    def show(self, report: SweepReport) -> None:
        self.report = report
        skipped = len(report.skipped)
        metric = METRIC_LABELS.get(report.metric, report.metric)
        if report.robust:
            metric = f"worst-neighbour {metric}"
        self.query_one("#sweep-summary", Static).update(
            f"{len(report.rows)} combinations of {report.request.strategy_id} on "
            f"{report.request.symbol} {report.request.timeframe}, best {metric} first"
            f"{f' ({skipped} invalid skipped)' if skipped else ''}. Enter loads a row's "
            "parameters into the form."
        )
        oos = self.query_one("#sweep-oos", Static)
        oos.update(oos_text(report.oos) if report.oos is not None else "")
        oos.display = report.oos is not None
        self.table.show(report)
        swept = [n for n in sweep_columns(report) if len(report.grid[n]) > 1]
        x_select, y_select = self.query_one("#heat-x", Select), self.query_one("#heat-y", Select)
        self.query_one("#heat-axes").display = len(swept) >= 2
        with self.prevent(Select.Changed):
            options = [(n, n) for n in swept]
            x_select.set_options(options)
            y_select.set_options(options)
            if len(swept) >= 2:
                x_select.value, y_select.value = swept[1], swept[0]
        self._draw_heatmap()

    def _draw_heatmap(self) -> None:
        x = self.query_one("#heat-x", Select).value
        y = self.query_one("#heat-y", Select).value
        self.query_one(SweepHeatmap).show(
            self.report,
            None if x is Select.NULL else str(x),
            None if y is Select.NULL else str(y),
        )

    @on(Select.Changed, "#heat-x, #heat-y")
    def _heat_axes_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._draw_heatmap()

    @on(DataTable.RowSelected, "#sweep-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.table.row_for_key(event.row_key.value)
        if row is not None:
            self.post_message(self.RowChosen(self, dict(row.params)))


OOS_COLUMNS = (("Return %", "total_return_pct", 9), ("Sharpe", "sharpe", 7),
               ("Max DD %", "max_drawdown_pct", 9), ("Trips", "round_trips", 6))


def oos_text(oos: OutOfSample) -> str:
    """The chosen cell in sample and out of sample, beside each other (rows of 45 cells: they
    fit the tab at 80 columns)."""
    day = "%Y-%m-%d"
    lines = [
        f"Chosen on the first {oos.in_sample_bars:,} bars ({oos.in_sample_first:{day}} to "
        f"{oos.in_sample_last:{day}}): {params_text(oos.params)}; out of sample: the last "
        f"{oos.out_of_sample_bars:,} ({oos.out_of_sample_first:{day}} to "
        f"{oos.out_of_sample_last:{day}}).",
        " " * 14 + "".join(h.rjust(w) for h, _k, w in OOS_COLUMNS),
    ]
    for label, metrics in (("In sample", oos.in_sample), ("Out of sample", oos.out_of_sample)):
        lines.append(f"{label:<14}" + "".join(format_metric(getattr(metrics, k)).rjust(w)
                                            for _h, k, w in OOS_COLUMNS))
    return "\n".join(lines)


__all__ = ["SweepTab", "oos_text"]
