"""How a backtest and a parameter sweep look: metrics, round trips, the equity curve with its
drawdown, the ranked sweep table and a heatmap of one metric over two parameters.

Every widget takes the trading domain's value objects (``BacktestRun``, ``BacktestReport``,
``SweepReport``) through a ``show(...)`` method and renders them; none calls a service. Big results
never sit whole in a widget: tables hold at most :data:`MAX_TABLE_ROWS` rows and the curve draws
one column per terminal cell, whatever the number of bars.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.color import Color, ColorParseError
from textual.containers import Grid, Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Label, Static
from textual.widgets.data_table import CellDoesNotExist

from kash_tui.tui.format import (  # re-exported: the strategies place reads them from here
    compact_number,
    format_metric,
    heat_text,
    params_text,
    run_title,
    settings_text,
    time_formatter,
)

if TYPE_CHECKING:
    from kash_tui.domains.trading import (
        BacktestMetrics,
        BacktestReport,
        BacktestRun,
        SweepReport,
        SweepRow,
    )

MAX_TABLE_ROWS = 500
"""Rows a results table holds; the rest is counted in a note row."""

# The CLI's wording (kash backtest), in the panel's two-column order.
METRIC_ROWS: tuple[tuple[str, str, str], ...] = (
    ("Total return", "total_return_pct", " %"),
    ("Sharpe", "sharpe", ""),
    ("Buy & hold return", "buy_and_hold_return_pct", " %"),
    ("Sortino", "sortino", ""),
    ("CAGR", "cagr_pct", " %"),
    ("Win rate", "win_rate_pct", " %"),
    ("Max drawdown", "max_drawdown_pct", " %"),
    ("Profit factor", "profit_factor", ""),
    ("Final equity", "final_equity", ""),
    ("Round trips", "round_trips", ""),
    ("Exposure", "exposure_pct", " %"),
)
METRIC_LABELS = {key: label for label, key, _suffix in METRIC_ROWS}
METRIC_SUFFIX = {key: suffix for _label, key, suffix in METRIC_ROWS}


def metric_text(metrics: BacktestMetrics, key: str) -> str:
    return format_metric(getattr(metrics, key), METRIC_SUFFIX.get(key, ""))


# -- metrics ---------------------------------------------------------------------------------



def cursor_row_key(table: DataTable) -> str | None:
    """The key of the row under a table's cursor, or None when there is none."""
    if table.row_count == 0:
        return None
    try:
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
    except CellDoesNotExist:
        return None
    return key.value

class MetricsPanel(Vertical):
    """The run's metrics in two columns, and how it filled (flagged when optimistic)."""

    DEFAULT_CSS = """
    MetricsPanel {
        height: auto;
        width: 52;
        max-width: 100%;
    }
    MetricsPanel .metrics-grid {
        grid-size: 4;
        grid-columns: 17 9 15 9;
        grid-gutter: 0 0;
        height: auto;
    }
    MetricsPanel .metric-label {
        color: $text-muted;
        text-wrap: nowrap;
    }
    MetricsPanel .metric-label.-second {
        padding-left: 2;
    }
    MetricsPanel .metric-value {
        width: 100%;
        text-align: right;
        text-wrap: nowrap;
    }
    MetricsPanel .metric-value.-good { color: $text-success; }
    MetricsPanel .metric-value.-bad { color: $text-error; }
    MetricsPanel #metrics-fill {
        color: $text-muted;
    }
    MetricsPanel #metrics-fill.-optimistic {
        color: $text-warning;
        text-style: bold;
    }
    """

    SIGNED: ClassVar[frozenset[str]] = frozenset(
        {"total_return_pct", "buy_and_hold_return_pct", "cagr_pct"}
    )

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.values: dict[str, str] = {key: "n/a" for _label, key, _suffix in METRIC_ROWS}

    def compose(self) -> ComposeResult:
        with Grid(classes="metrics-grid"):
            for n, (label, key, _suffix) in enumerate(METRIC_ROWS):
                classes = "metric-label -second" if n % 2 else "metric-label"
                yield Label(label, classes=classes, markup=False)
                yield Label("n/a", id=f"metric-{key}", classes="metric-value", markup=False)
        yield Static("", id="metrics-fill", markup=False)
        exits = Static("", id="metrics-exits", markup=False)
        exits.display = False
        yield exits

    def show(self, run: BacktestRun | None) -> None:
        for _label, key, _suffix in METRIC_ROWS:
            label = self.query_one(f"#metric-{key}", Label)
            value = getattr(run.metrics, key) if run is not None else None
            self.values[key] = metric_text(run.metrics, key) if run is not None else "n/a"
            label.update(self.values[key])
            signed = key in self.SIGNED and isinstance(value, (int, float))
            label.set_class(signed and value > 0, "-good")
            label.set_class(signed and value < 0, "-bad")
        self._fit_columns()
        fill = self.query_one("#metrics-fill", Static)
        exits = self.query_one("#metrics-exits", Static)
        exits.update(exits_text(run) if run is not None else "")
        exits.display = bool(run is not None and run.settings.has_exits)
        if run is None:
            fill.update("")
            fill.set_class(False, "-optimistic")
            return
        model = run.settings.fill_model
        if model.optimistic:
            fill.update(
                "Fills at the same bar's close: OPTIMISTIC, the signal already saw that close."
            )
        else:
            fill.update(f"Fills at the {model.label}. {settings_text(run)}.")
        fill.set_class(model.optimistic, "-optimistic")

    def _fit_columns(self) -> None:
        """Each value column as wide as its widest value (``22,752.42 %`` never wraps its
        ``%`` onto the next line); the panel grows with it."""
        firsts = [self.values[key] for _l, key, _s in METRIC_ROWS[0::2]]
        seconds = [self.values[key] for _l, key, _s in METRIC_ROWS[1::2]]
        first_w = max(9, *(cell_len(v) for v in firsts))
        second_w = max(9, *(cell_len(v) for v in seconds))
        grid = self.query_one(".metrics-grid", Grid)
        grid.styles.grid_columns = f"17 {first_w} 15 {second_w}"
        self.styles.width = 17 + first_w + 15 + second_w + 2

    def value_of(self, key: str) -> str:
        """What the panel shows for ``key`` (e.g. ``total_return_pct``)."""
        return self.values[key]


def exits_text(run: BacktestRun) -> str:
    """A run's exits, its ambiguous bars and the same run under the other intrabar order
    ("" without exits)."""
    s = run.settings
    if not s.has_exits:
        return ""
    parts = [f"{label} {value:g} %" for label, value in (
        ("stop", s.stop_loss_pct), ("target", s.take_profit_pct), ("trail", s.trailing_stop_pct))
        if value is not None]
    text = f"Exits: {', '.join(parts)}."
    sens = run.sensitivity
    if sens is None:
        return text
    count = run.ambiguous_bars
    m = run.metrics
    return (
        f"{text} {count} bar{'' if count == 1 else 's'} touched stop and target: "
        f"{s.intrabar.label} {m.total_return_pct:+,.2f} % in {m.round_trips} trips, "
        f"{sens.intrabar.label} {sens.total_return_pct:+,.2f} % in {sens.round_trips}."
    )


# -- the equity curve ------------------------------------------------------------------------

BLOCKS = " ▁▂▃▄▅▆▇█"
_BLOCK_ARRAY = np.array(list(BLOCKS))


def column_buckets(length: int, width: int) -> np.ndarray:
    """Start index of each of ``min(width, length)`` columns over ``length`` points."""
    columns = max(1, min(width, length))
    return np.linspace(0, length, columns + 1).astype(np.int64)[:-1]


def drawdown(equity: np.ndarray) -> np.ndarray:
    """Fraction below the running peak at each bar (0 or negative)."""
    peak = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, equity / peak - 1.0, 0.0)
    return np.nan_to_num(dd, nan=0.0)


def area_rows(levels: np.ndarray, rows: int) -> list[str]:
    """A filled area chart: ``levels`` in eighths of a row (0 .. rows*8), top row first."""
    out = []
    for r in range(rows):
        cells = np.clip(levels - (rows - 1 - r) * 8, 0, 8)
        out.append("".join(_BLOCK_ARRAY[cells].tolist()))
    return out


class EquityCurve(Widget):
    """Equity over the run as a filled area, and the drawdown from the running peak below it.

    One column per cell: the highest equity and the deepest drawdown of the bars in that column,
    so a 10,000-bar run costs no more to draw than a 100-bar one.
    """

    DEFAULT_CSS = """
    EquityCurve {
        height: 12;
        min-height: 6;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "equity-curve--equity",
        "equity-curve--drawdown",
        "equity-curve--axis",
        "equity-curve--title",
    }
    DEFAULT_CSS += """
    EquityCurve > .equity-curve--equity { color: $success; }
    EquityCurve > .equity-curve--drawdown { color: $error; }
    EquityCurve > .equity-curve--axis { color: $text-muted; }
    EquityCurve > .equity-curve--title { text-style: bold; }
    """

    GUTTER = 8

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes=classes)
        self._equity: np.ndarray | None = None
        self._timestamps: np.ndarray | None = None
        self._format: Callable[[datetime], str] = time_formatter("UTC", "1Day")

    def show(self, report: BacktestReport | None, tz: str = "UTC") -> None:
        if report is None:
            self._equity = self._timestamps = None
        else:
            self._equity = np.asarray(report.equity, dtype=np.float64)
            self._timestamps = np.asarray(report.timestamps, dtype=np.int64)
            self._format = time_formatter(tz, report.run.timeframe)
        self.refresh()

    def _time(self, index: int) -> str:
        assert self._timestamps is not None
        when = datetime.fromtimestamp(int(self._timestamps[index]) / 1e9, tz=UTC)
        return self._format(when)

    def render(self) -> Text:
        equity = self._equity
        width, height = self.content_size.width, self.content_size.height
        axis = self.get_component_rich_style("equity-curve--axis")
        if equity is None or len(equity) == 0:
            return Text("No run yet: the equity curve shows here.", style=axis)
        plot_w = max(1, width - self.GUTTER)
        title_style = self.get_component_rich_style("equity-curve--title")
        dd = drawdown(equity)
        worst = float(dd.min())
        title = Text.assemble(
            ("Equity ", title_style),
            f"{equity[0]:,.0f} → {equity[-1]:,.0f}",
            ("   Drawdown ", title_style),
            f"worst {worst * 100:,.2f} %",
            no_wrap=True,
            overflow="ellipsis",
        )
        rows = max(2, height - 2)
        gap = 1 if rows >= 6 else 0  # a blank row keeps the two charts and their labels apart
        dd_rows = max(1, (rows - gap) // 3)
        eq_rows = rows - gap - dd_rows
        starts = column_buckets(len(equity), plot_w)
        top = np.maximum.reduceat(equity, starts)
        low_eq = float(np.min(np.minimum.reduceat(equity, starts)))
        high_eq = float(top.max())
        span = high_eq - low_eq
        if span <= 0:
            levels = np.full(len(top), eq_rows * 4, dtype=np.int64)
        else:
            levels = np.round((top - low_eq) / span * (eq_rows * 8 - 1)).astype(np.int64) + 1
        eq_lines = area_rows(levels, eq_rows)
        depth_per_col = np.minimum.reduceat(dd, starts)
        if worst < 0:
            depth = np.round(depth_per_col / worst * dd_rows * 8).astype(np.int64)
        else:
            depth = np.zeros(len(starts), dtype=np.int64)

        eq_style = self.get_component_rich_style("equity-curve--equity")
        dd_style = self.get_component_rich_style("equity-curve--drawdown")
        dd_partial = dd_style + Style(reverse=True)
        gutter = self.GUTTER
        out = Text(no_wrap=True, overflow="crop")
        out.append_text(title)
        for r, line in enumerate(eq_lines):
            label = compact_number(high_eq) if r == 0 else (
                compact_number(low_eq) if r == eq_rows - 1 else "")
            out.append("\n")
            out.append(label.rjust(gutter - 1)[: gutter - 1] + " ", axis)
            out.append(line, eq_style)
        if gap:
            out.append("\n")
        for r in range(dd_rows):
            label = "0 %" if r == 0 else (f"{worst * 100:.0f} %" if r == dd_rows - 1 else "")
            out.append("\n")
            out.append(label.rjust(gutter - 1)[: gutter - 1] + " ", axis)
            fill = np.clip(depth - r * 8, 0, 8).tolist()
            for f in fill:
                if f >= 8:
                    out.append("█", dd_style)
                elif f <= 0:
                    out.append(" ")
                else:
                    out.append(BLOCKS[8 - f], dd_partial)
        first, last = self._time(0), self._time(len(equity) - 1)
        space = max(1, len(starts) - len(first) - len(last))
        out.append("\n")
        out.append(" " * gutter + first + " " * space + last, axis)
        return out


# -- tables ----------------------------------------------------------------------------------


def _right(text: str) -> Text:
    return Text(text, justify="right")


class RoundTripsTable(DataTable):
    """Entries and exits in the exchange's zone; at most :data:`MAX_TABLE_ROWS` rows."""

    DEFAULT_CSS = """
    RoundTripsTable {
        height: 1fr;
        min-height: 6;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.shown = 0
        self.total = 0

    def on_mount(self) -> None:
        if not self.columns:
            self._set_columns("")

    def _set_columns(self, zone: str) -> None:
        self.clear(columns=True)
        self.add_columns("#", f"Entry{zone}", f"Exit{zone}", "Qty", "Entry price",
                         "Exit price", "P&L", "Return %")

    def show(self, report: BacktestReport | None, tz: str = "UTC") -> None:
        timeframe = report.run.timeframe if report is not None else "1Day"
        zone = "" if timeframe in ("1Day", "1Week") else f" ({tz})"
        self._set_columns(zone)
        self.shown = self.total = 0
        if report is None:
            return
        show = time_formatter(tz, timeframe)
        trips = report.round_trips
        self.total = len(trips)
        for n, r in enumerate(trips[:MAX_TABLE_ROWS], start=1):
            self.add_row(
                _right(str(n)),
                show(report.time(r.entry_index)),
                "open" if r.exit_index is None else show(report.time(r.exit_index)),
                _right(f"{r.qty:,.4f}"),
                _right(f"{r.entry_price:,.4f}"),
                _right("-" if r.exit_price is None else f"{r.exit_price:,.4f}"),
                _right(f"{r.pnl:,.2f}"),
                _right(f"{r.return_pct:,.2f}"),
                key=str(n),
            )
        self.shown = min(self.total, MAX_TABLE_ROWS)
        if self.total > MAX_TABLE_ROWS:
            more = self.total - MAX_TABLE_ROWS
            self.add_row("", f"… and {more} more (kash runs show {report.run.id} --json)",
                         key="more")


def sweep_columns(report: SweepReport) -> list[str]:
    """The parameters that were swept (more than one value), then the other grid keys."""
    names = list(report.grid)
    return [n for n in names if len(report.grid[n]) > 1] + [
        n for n in names if len(report.grid[n]) <= 1
    ]


class SweepTable(DataTable):
    """Valid combinations, best first: parameters, then return, Sharpe, drawdown, trips, win %."""

    DEFAULT_CSS = """
    SweepTable {
        height: 1fr;
        min-height: 6;
    }
    """

    RESULT_COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("Return %", "total_return_pct"),
        ("Sharpe", "sharpe"),
        ("Max DD %", "max_drawdown_pct"),
        ("Trips", "round_trips"),
        ("Win % closed", "win_rate_pct"),
    )
    """Trips count the open position too; the win rate is of the closed trips only, so a row
    whose only trip is still open says so instead of an unexplained n/a."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.rows_shown: list[SweepRow] = []

    def show(self, report: SweepReport | None) -> None:
        self.clear(columns=True)
        self.rows_shown = []
        if report is None:
            return
        names = sweep_columns(report)
        metric = report.metric
        extra = [] if metric in {k for _h, k in self.RESULT_COLUMNS} else [
            (METRIC_LABELS.get(metric, metric), metric)
        ]
        if report.robust:  # ranked by the worst of each neighbourhood: show it, and the median
            extra += [(f"Worst {METRIC_LABELS.get(metric, metric)}", "robust_worst"),
                      ("Median", "robust_median")]
        columns = [*self.RESULT_COLUMNS, *extra]
        self.add_columns("#", *names, *(h for h, _k in columns))
        from kash_tui.tui.widgets.schema_form import number_text

        for n, row in enumerate(report.rows[:MAX_TABLE_ROWS], start=1):
            cells = [_right(str(n))]
            cells += [_right(number_text(row.params.get(name))) for name in names]
            for _h, key in columns:
                value = getattr(row, key) if key.startswith("robust_") else getattr(
                    row.metrics, key)
                text = format_metric(value)
                if key == "win_rate_pct" and value is None and row.metrics.round_trips > 0:
                    text = "none closed"
                cells.append(_right(text))
            self.add_row(*cells, key=str(n - 1))
            self.rows_shown.append(row)
        if len(report.rows) > MAX_TABLE_ROWS:
            self.add_row("", f"… and {len(report.rows) - MAX_TABLE_ROWS} more", key="more")

    def row_for_key(self, key: str | None) -> SweepRow | None:
        if key is None or not key.isdigit():
            return None
        index = int(key)
        return self.rows_shown[index] if index < len(self.rows_shown) else None


# -- heatmap ---------------------------------------------------------------------------------


def heat_grid(
    rows: Iterable[SweepRow],
    x_values: Sequence[Any],
    y_values: Sequence[Any],
    x: str,
    y: str,
    metric: str,
    robust: bool = False,
) -> list[list[float | None]]:
    """``grid[j][i]``: the best ``metric`` among rows with ``x == x_values[i]`` and
    ``y == y_values[j]`` (other swept parameters vary); ``None`` where no valid combination.
    ``robust``: each row's robust worst (the worst ``metric`` of its neighbourhood) instead."""
    index_x = {v: i for i, v in enumerate(x_values)}
    index_y = {v: j for j, v in enumerate(y_values)}
    grid: list[list[float | None]] = [[None] * len(x_values) for _ in y_values]
    for row in rows:
        i, j = index_x.get(row.params.get(x)), index_y.get(row.params.get(y))
        value = row.robust_worst if robust else getattr(row.metrics, metric, None)
        if i is None or j is None or value is None:
            continue
        value = float(value)
        if not math.isfinite(value):
            continue
        best = grid[j][i]
        if best is None or value > best:
            grid[j][i] = value
    return grid


SHADES = "░▒▓█"
"""Cells without room for their value are shaded worst (░) to best (█): readable without
colour (NO_COLOR, a 16-colour theme, a screenshot in print)."""


def shade_of(t: float) -> str:
    """The shade for a value at ``t`` (0 worst .. 1 best)."""
    return SHADES[min(len(SHADES) - 1, max(0, int(t * len(SHADES))))]


class SweepHeatmap(Widget):
    """One metric over two swept parameters: a cell per combination, coloured from the theme's
    error colour (worst) to its success colour (best) and showing its value when the cell has
    room, else a shade from ░ (worst) to █ (best); ``·`` where the combination is invalid. The
    legend under it names the worst and best values, at every size."""

    DEFAULT_CSS = """
    SweepHeatmap {
        height: auto;
        min-height: 4;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    SweepHeatmap > .sweep-heatmap--axis { color: $text-muted; }
    SweepHeatmap > .sweep-heatmap--title { text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"sweep-heatmap--axis", "sweep-heatmap--title"}

    MAX_CELL = 7

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.report: SweepReport | None = None
        self.x: str | None = None
        self.y: str | None = None
        self.metric = "sharpe"
        self.robust = False
        self.grid: list[list[float | None]] = []
        self.marks: dict[tuple[int, int], str] = {}
        """(row, column) of the best raw cell ("*") and the best robust cell ("r")."""

    def show(self, report: SweepReport | None, x: str | None, y: str | None,
             metric: str | None = None) -> None:
        self.report, self.x, self.y = report, x, y
        self.metric = metric or (report.metric if report else "sharpe")
        self.robust = bool(report is not None and report.robust and metric is None)
        self.grid = []
        self.marks = {}
        if report is not None and x and y and x != y:
            self.grid = heat_grid(report.rows, report.grid[x], report.grid[y], x, y, self.metric,
                                  self.robust)
            # where the best raw and the best robust cells are: "*" and "r" (both: "*")
            for mark, row in (("r", report.best_robust()), ("*", report.best_raw())):
                if row is not None and row.params.get(x) in report.grid[x] \
                        and row.params.get(y) in report.grid[y]:
                    at = (report.grid[y].index(row.params[y]), report.grid[x].index(row.params[x]))
                    self.marks[at] = mark
        self.refresh(layout=True)

    @property
    def cells_filled(self) -> int:
        return sum(v is not None for row in self.grid for v in row)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        if not self.grid:
            return 1
        return len(self.grid) + 3  # title, x values, the rows, legend

    def _colours(self) -> tuple[Color, Color] | None:
        variables = self.app.theme_variables
        try:
            low, high = Color.parse(variables["error"]), Color.parse(variables["success"])
        except (KeyError, ColorParseError):
            return None
        if low.ansi is not None or high.ansi is not None:
            return None  # 16 colours cannot blend: the shades and values carry it
        return low, high

    def render(self) -> Text:
        axis = self.get_component_rich_style("sweep-heatmap--axis")
        report, x, y = self.report, self.x, self.y
        if report is None:
            return Text("Run a sweep (w) to see a heatmap here.", style=axis)
        if not self.grid or x is None or y is None:
            return Text("A heatmap needs two swept parameters.", style=axis)
        title_style = self.get_component_rich_style("sweep-heatmap--title")
        xs, ys = report.grid[x], report.grid[y]
        from kash_tui.tui.widgets.schema_form import number_text

        y_labels = [number_text(v) for v in ys]
        label_w = min(12, max(len(y), *(len(s) for s in y_labels)) + 1)
        width = self.content_size.width
        x_labels = [number_text(v) for v in xs]
        cell_w = max(1, min(self.MAX_CELL, (width - label_w) // max(1, len(xs))))
        values = [v for row in self.grid for v in row if v is not None]
        texts = {
            (j, i): heat_text(v, self.metric)
            for j, row in enumerate(self.grid) for i, v in enumerate(row) if v is not None
        }
        numbers = bool(texts) and cell_w >= max(len(t) for t in texts.values()) + 1
        low, high = (min(values), max(values)) if values else (0.0, 0.0)
        colours = self._colours()
        label = METRIC_LABELS.get(self.metric, self.metric)
        if self.robust:
            label = f"Worst neighbour {label}"
        out = Text(no_wrap=True, overflow="crop")
        out.append(f"{label}: {x} across, {y} down", title_style)
        out.append("\n")
        out.append(y.ljust(label_w)[:label_w], axis)
        labels_fit = all(len(t) < cell_w for t in x_labels)
        for i, text in enumerate(x_labels):
            if labels_fit:
                out.append(text.center(cell_w)[:cell_w], axis)
            elif i in (0, len(x_labels) - 1):  # no room: the first and last value only
                out.append(text[:cell_w].ljust(cell_w) if i == 0 else text.rjust(cell_w)[-cell_w:],
                           axis)
            else:
                out.append(" " * cell_w, axis)
        if not labels_fit and len(x_labels) > 1:
            out.append(f" ({x_labels[0]}..{x_labels[-1]})", axis)
        for j, row in enumerate(self.grid):
            out.append("\n")
            out.append(y_labels[j].rjust(label_w - 1)[: label_w - 1] + " ", axis)
            for i, value in enumerate(row):
                if value is None:
                    out.append("·".center(cell_w), axis)
                    continue
                t = 0.5 if high == low else (value - low) / (high - low)
                mark = self.marks.get((j, i))
                text = (texts[(j, i)].rjust(cell_w - 1) + (mark or " ") if numbers
                        else shade_of(t) * (cell_w - 1) + (mark or shade_of(t)))
                if colours is None:
                    out.append(text)
                    continue
                bg = colours[0].blend(colours[1], t)
                fg = bg.get_contrast_text(1.0)
                out.append(text, Style(color=fg.rich_color, bgcolor=bg.rich_color))
        out.append("\n")
        out.append(" " * label_w + f"worst {heat_text(low, self.metric)} ", axis)
        for k, shade in enumerate(SHADES):
            t = k / (len(SHADES) - 1)
            if colours is None:
                out.append(shade)
            else:
                bg = colours[0].blend(colours[1], t)
                out.append(shade, Style(color=bg.get_contrast_text(1.0).rich_color,
                                        bgcolor=bg.rich_color))
        out.append(f" best {heat_text(high, self.metric)}", axis)
        if any(v is None for row in self.grid for v in row):
            out.append("  · invalid", axis)
        if self.marks:
            out.append("  * best", axis)
            if "r" in self.marks.values():
                out.append("  r best robust", axis)
        return out


__all__ = [
    "MAX_TABLE_ROWS",
    "METRIC_LABELS",
    "METRIC_ROWS",
    "EquityCurve",
    "MetricsPanel",
    "RoundTripsTable",
    "SweepHeatmap",
    "SweepTable",
    "area_rows",
    "column_buckets",
    "compact_number",
    "drawdown",
    "format_metric",
    "heat_grid",
    "metric_text",
    "params_text",
    "run_title",
    "settings_text",
    "exits_text",
    "sweep_columns",
    "time_formatter",
]
