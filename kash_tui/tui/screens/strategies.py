"""Strategies: pick a strategy, set its parameters and the backtest's, run it, read the results,
reopen past runs, and sweep parameters.

Left: the registered strategies. Right, in tabs: *Setup* (the strategy's form, rendered from its
JSON Schema by :class:`SchemaForm`, and the backtest settings), *Results* (metrics, equity curve
with drawdown, round trips), *History* (past runs of the current portfolio) and *Sweep* (ranked
combinations and a heatmap). Under the tabs: Run and Sweep, a progress bar and what is going on.

The screen holds no business logic. The strategy service says whether parameters are valid
(``create_with_params``: pure pydantic, cheap enough to call as you type); ``BacktestSettings``
says whether the settings are. Runs, sweeps and stored runs go through the trading service in a
thread worker (``app.call_service``). What the chart shows is shared through the workbench: a
valid form sets the strategy (the chart overlays its indicators), a run or a reopened run sets
the backtest (the chart marks its fills).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.markup import escape
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Input,
    Label,
    OptionList,
    ProgressBar,
    Select,
    Static,
    Switch,
    TabbedContent,
    TabPane,
)
from textual.widgets.option_list import Option

from kash_tui.domains.market import MarketError
from kash_tui.domains.strategy import TIMEFRAMES, StrategyError, StrategyInfo
from kash_tui.domains.trading import (
    MAX_SWEEP_COMBINATIONS,
    RANKABLE_METRICS,
    BacktestError,
    BacktestReport,
    BacktestRequest,
    BacktestRun,
    BacktestSettings,
    FillModel,
    SweepReport,
    TradingError,
)
from kash_tui.domains.workspace import PortfolioMode
from kash_tui.tui.commands import PaletteCommand, palette_command
from kash_tui.tui.screens import PlaceScreen
from kash_tui.tui.state import StrategyChoice, WorkbenchState, workbench
from kash_tui.tui.widgets.results import (
    METRIC_LABELS,
    EquityCurve,
    MetricsPanel,
    RoundTripsTable,
    SweepHeatmap,
    SweepTable,
    cursor_row_key,
    format_metric,
    params_text,
    run_title,
    sweep_columns,
)
from kash_tui.tui.widgets.schema_form import (
    FieldSpec,
    SchemaForm,
    number_text,
    parse_range,
    suggest_range,
)

if TYPE_CHECKING:
    from kash_tui.provider import ServiceProviderProtocol
    from kash_tui.tui.app import KashApp

WIDE = 120
"""From this many columns, the setup, results and sweep lay their parts side by side."""


# Errors whose message is a sentence for the user. Until the app's USER_ERRORS lists them, a
# worker returns them as a Refusal so their sentence (not "something unexpected") is shown.
REFUSALS: tuple[type[BaseException], ...] = (StrategyError, TradingError, BacktestError,
                                             MarketError)


@dataclass(frozen=True)
class Refusal:
    sentence: str


def refusable(call: Callable[[], Any]) -> Any:
    """``call()``, or a :class:`Refusal` carrying the sentence of a domain's user error."""
    try:
        return call()
    except REFUSALS as exc:
        return Refusal(str(exc))


def exchange_tz(provider: ServiceProviderProtocol, symbol: str) -> str:
    try:
        return provider.market.get_instrument(symbol).exchange_tz
    except MarketError:
        return "UTC"


# -- what the settings fields mean -----------------------------------------------------------

SETTING_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("bt-cash", "initial_cash", "10000"),
    ("bt-commission", "commission", "0.001"),
    ("bt-slippage", "slippage", "0.0005"),
    ("bt-size", "position_size_pct", "100"),
)


def tidy_sentence(text: str) -> str:
    """A settings sentence without its command-line advice (``...; pass --cash 10000.``)."""
    head = text.split("; pass ")[0].strip()
    return head if head.endswith(".") else head + "."


def parse_day(text: str, *, end: bool = False) -> tuple[datetime | None, str | None]:
    """``YYYY-MM-DD`` -> UTC midnight (the end: the last second of that day); empty -> None."""
    clean = text.strip()
    if not clean:
        return None, None
    try:
        day = date.fromisoformat(clean)
    except ValueError:
        return None, "Use YYYY-MM-DD, e.g. 2024-01-31, or leave it empty."
    if end:
        return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC), None
    return datetime(day.year, day.month, day.day, tzinfo=UTC), None


def settings_problems(
    texts: dict[str, str], *, whole_shares: bool, fill_model: FillModel
) -> tuple[BacktestSettings | None, dict[str, str]]:
    """The settings, or what is wrong with each field (``BacktestSettings`` decides)."""
    problems: dict[str, str] = {}
    values: dict[str, float] = {}
    for widget_id, name, example in SETTING_FIELDS:
        try:
            value = float(texts.get(widget_id, "").strip())
        except ValueError:
            problems[widget_id] = f"Give a number, e.g. {example}."
            continue
        try:
            BacktestSettings(**{name: value})
        except BacktestError as exc:
            problems[widget_id] = tidy_sentence(str(exc))
            continue
        values[name] = value
    if problems:
        return None, problems
    try:
        return BacktestSettings(**values, whole_shares=whole_shares, fill_model=fill_model), {}
    except BacktestError as exc:  # a rule across fields: show it on the first
        return None, {SETTING_FIELDS[0][0]: tidy_sentence(str(exc))}


@dataclass(frozen=True)
class BacktestParts:
    """What the settings form holds, checked: everything of a request but the strategy."""

    symbol: str
    timeframe: str
    start: datetime | None
    end: datetime | None
    settings: BacktestSettings


# -- the backtest settings form --------------------------------------------------------------


class BacktestSettingsForm(Vertical):
    """Symbol, timeframe, dates and the engine's settings, checked as you type."""

    DEFAULT_CSS = """
    BacktestSettingsForm {
        height: auto;
    }
    BacktestSettingsForm .bt-field {
        height: auto;
    }
    BacktestSettingsForm .bt-row {
        height: auto;
    }
    BacktestSettingsForm .bt-label {
        width: 14;
        padding-right: 1;
        color: $text-muted;
    }
    BacktestSettingsForm .bt-row Input {
        width: 14;
    }
    BacktestSettingsForm .bt-row Select {
        width: 1fr;
        max-width: 34;
    }
    BacktestSettingsForm .bt-row Switch {
        border: none;
        height: 1;
        padding: 0;
        background: $surface;
    }
    BacktestSettingsForm .bt-row Switch:focus {
        border: none;
        background: $primary 40%;
    }
    BacktestSettingsForm .bt-hint {
        width: 1fr;
        padding-left: 1;
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    BacktestSettingsForm .bt-error {
        padding-left: 14;
        color: $text-error;
    }
    BacktestSettingsForm #bt-filed {
        margin-top: 1;
        color: $text-muted;
    }
    """

    class Changed(Message):
        def __init__(self, form: BacktestSettingsForm, parts: BacktestParts | None) -> None:
            super().__init__()
            self.form = form
            self.parts = parts

        @property
        def control(self) -> BacktestSettingsForm:
            return self.form

    def __init__(self, *, symbol: str, timeframe: str, size_pct: float, id: str | None = None,  # noqa: A002
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._symbol, self._timeframe = symbol, timeframe
        self._applied_market = (symbol, timeframe)
        self._default_size = size_pct
        self.parts: BacktestParts | None = None
        self.problems: dict[str, str] = {}

    def _field(self, label: str, widget: Widget, hint: str = "") -> ComposeResult:
        with Vertical(classes="bt-field", id=f"{widget.id}-field"):
            with Horizontal(classes="bt-row"):
                yield Label(label, classes="bt-label", markup=False)
                yield widget
                yield Static(hint, classes="bt-hint", markup=False)
            error = Static("", classes="bt-error", id=f"{widget.id}-error", markup=False)
            error.display = False
            yield error

    def compose(self) -> ComposeResult:
        timeframe = self._timeframe if self._timeframe in TIMEFRAMES else "1Day"
        yield from self._field(
            "Symbol", Input(self._symbol, id="bt-symbol", compact=True, select_on_focus=True,
                            tooltip="The symbol to backtest on (bars must be stored)"),
        )
        yield from self._field(
            "Timeframe",
            Select([(t, t) for t in TIMEFRAMES], value=timeframe, allow_blank=False,
                   id="bt-timeframe", compact=True),
        )
        yield from self._field(
            "Start", Input(placeholder="YYYY-MM-DD", id="bt-start", compact=True,
                           tooltip="First day (UTC); empty: from the first stored bar"),
            "optional",
        )
        yield from self._field(
            "End", Input(placeholder="YYYY-MM-DD", id="bt-end", compact=True,
                         tooltip="Last day (UTC), inclusive; empty: to the last stored bar"),
            "optional",
        )
        yield from self._field(
            "Cash", Input("10000", type="number", id="bt-cash", compact=True,
                          select_on_focus=True, tooltip="Starting cash"),
            "starting cash",
        )
        yield from self._field(
            "Commission", Input("0", type="number", id="bt-commission", compact=True,
                                select_on_focus=True,
                                tooltip="Fraction of the notional per fill: 0.001 is 0.1 %"),
            "0.001 = 0.1 % per fill",
        )
        yield from self._field(
            "Slippage", Input("0", type="number", id="bt-slippage", compact=True,
                              select_on_focus=True,
                              tooltip="Fraction of the price lost per fill: 0.0005 is 0.05 %"),
            "0.0005 = 0.05 % of price",
        )
        yield from self._field(
            "Position size", Input(number_text(self._default_size), type="number", id="bt-size",
                                   compact=True, select_on_focus=True,
                                   tooltip="Percent of equity committed per entry"),
            "% of equity per entry",
        )
        yield from self._field(
            "Whole shares", Switch(False, id="bt-whole", animate=False,
                                   tooltip="Buy whole shares only (else fractional)"),
            "on: whole shares only",
        )
        yield from self._field(
            "Fills at",
            Select([(m.label, m) for m in FillModel], value=FillModel.NEXT_OPEN,
                   allow_blank=False, id="bt-fill", compact=True),
        )
        yield Static("", id="bt-filed", markup=False)

    def on_mount(self) -> None:
        self.check()

    # reading and checking

    def _text(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def check(self) -> BacktestParts | None:
        problems: dict[str, str] = {}
        symbol = self._text("bt-symbol").strip().upper()
        if not symbol:
            problems["bt-symbol"] = "Give a symbol, e.g. DEMOA."
        timeframe = str(self.query_one("#bt-timeframe", Select).value)
        start, problem = parse_day(self._text("bt-start"))
        if problem:
            problems["bt-start"] = problem
        end, problem = parse_day(self._text("bt-end"), end=True)
        if problem:
            problems["bt-end"] = problem
        elif start and end and start > end:
            problems["bt-end"] = "The end is before the start; swap them."
        fill = self.query_one("#bt-fill", Select).value
        settings, found = settings_problems(
            {wid: self._text(wid) for wid, _n, _e in SETTING_FIELDS},
            whole_shares=self.query_one("#bt-whole", Switch).value,
            fill_model=FillModel(fill) if fill is not Select.NULL else FillModel.NEXT_OPEN,
        )
        problems.update(found)
        self.problems = problems
        for error in self.query(".bt-error").results(Static):
            field_id = (error.id or "").removesuffix("-error")
            text = problems.get(field_id, "")
            error.update(text)
            error.display = bool(text)
        for field_id in ("bt-symbol", "bt-start", "bt-end", *(w for w, _n, _e in SETTING_FIELDS)):
            self.query_one(f"#{field_id}").set_class(field_id in problems, "-invalid")
        self.parts = None
        if not problems and settings is not None:
            self.parts = BacktestParts(symbol, timeframe, start, end, settings)
        self.post_message(self.Changed(self, self.parts))
        return self.parts

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Switch.Changed)
    def _changed(self, event: Message) -> None:
        event.stop()
        self.check()

    # what the screen sets

    def follow_market(self, symbol: str, timeframe: str) -> None:
        """The chart moved to another symbol/timeframe: follow it unless the user typed another."""
        if (symbol, timeframe) == self._applied_market:
            return
        typed = self._text("bt-symbol").strip().upper()
        chosen = self.query_one("#bt-timeframe", Select).value
        if (typed, chosen) == self._applied_market:
            self.query_one("#bt-symbol", Input).value = symbol
            if timeframe in TIMEFRAMES:
                self.query_one("#bt-timeframe", Select).value = timeframe
        self._applied_market = (symbol, timeframe)

    def default_size(self, size_pct: float) -> None:
        """The current portfolio's position size, unless the user typed another."""
        size = self.query_one("#bt-size", Input)
        if size.value.strip() == number_text(self._default_size):
            size.value = number_text(size_pct)
        self._default_size = size_pct

    def filed_under(self, text: str) -> None:
        self.query_one("#bt-filed", Static).update(text)

    def load_run(self, run: BacktestRun) -> None:
        """The settings of a stored run, so running again repeats it."""
        s = run.settings
        self._applied_market = (run.symbol, run.timeframe)
        with self.prevent(Input.Changed, Select.Changed, Switch.Changed):
            self.query_one("#bt-symbol", Input).value = run.symbol
            if run.timeframe in TIMEFRAMES:
                self.query_one("#bt-timeframe", Select).value = run.timeframe
            self.query_one("#bt-start", Input).value = (
                f"{run.requested_start:%Y-%m-%d}" if run.requested_start else "")
            self.query_one("#bt-end", Input).value = (
                f"{run.requested_end:%Y-%m-%d}" if run.requested_end else "")
            self.query_one("#bt-cash", Input).value = number_text(s.initial_cash)
            self.query_one("#bt-commission", Input).value = number_text(s.commission)
            self.query_one("#bt-slippage", Input).value = number_text(s.slippage)
            self.query_one("#bt-size", Input).value = number_text(s.position_size_pct)
            self.query_one("#bt-whole", Switch).value = s.whole_shares
            self.query_one("#bt-fill", Select).value = s.fill_model
        self.check()


# -- the sweep form --------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepPlan:
    grid: dict[str, list[Any]]
    rank_by: str


def sweep_plan(
    specs: list[FieldSpec], texts: dict[str, str], rank_by: str
) -> tuple[SweepPlan | None, dict[str | None, str], int]:
    """The grid from one ``START:STOP:STEP`` per parameter (empty: not swept), the problems by
    parameter name (``None``: the whole form) and the number of combinations."""
    grid: dict[str, list[Any]] = {}
    problems: dict[str | None, str] = {}
    for spec in specs:
        # the one limit is the trading domain's, on the whole grid
        values, problem = parse_range(spec, texts.get(spec.name, ""),
                                      limit=MAX_SWEEP_COMBINATIONS)
        if problem:
            problems[spec.name] = problem
        elif values:
            grid[spec.name] = values
    count = math.prod(len(v) for v in grid.values()) if grid else 0
    if not problems:
        if not grid:
            problems[None] = "Give a range for at least one parameter."
        elif count > MAX_SWEEP_COMBINATIONS:
            problems[None] = (
                f"{count:,} combinations is too many (at most {MAX_SWEEP_COMBINATIONS:,}); "
                "use larger steps or fewer parameters."
            )
    if problems:
        return None, problems, count
    return SweepPlan(grid, rank_by), {}, count


def sweep_count_text(count: int, problems: dict[str | None, str]) -> str:
    """What the form says about the size of the sweep: nothing is counted while a range is
    wrong (its sentence says why), and the limit is always stated."""
    limit = f"at most {MAX_SWEEP_COMBINATIONS:,}"
    if any(name is not None for name in problems):
        return f"Fix the ranges marked above; a sweep runs {limit} combinations."
    if not count:
        return f"A sweep runs {limit} combinations."
    plural = "s" if count != 1 else ""
    return (f"{count:,} combination{plural} ({limit}); those the strategy refuses "
            "are skipped.")


class SweepForm(ModalScreen["SweepPlan | None"]):
    """A range per numeric parameter and the metric to rank by."""

    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Cancel", id="strategies.sweep_cancel",
                tooltip="Close the sweep form without sweeping"),
        Binding("f9", "start", "Sweep", id="strategies.sweep_start",
                tooltip="Start the sweep (Enter in a range field does too)"),
    ]

    def __init__(self, strategy_name: str, specs: list[FieldSpec], values: dict[str, Any]) -> None:
        super().__init__(classes="kash-modal")
        self.strategy_name = strategy_name
        self.specs = [s for s in specs if s.numeric]
        self.values = values

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form", id="sweep-dialog"):
            yield Static(f"Sweep the parameters of {self.strategy_name}",
                         classes="dialog-title", markup=False)
            yield Static(
                "A range per parameter as START:STOP:STEP (inclusive), or values as 5|10|20; "
                "leave one empty to keep the form's value.",
                classes="dialog-detail", markup=False,
            )
            for spec in self.specs:
                with Vertical(classes="field", id=f"sweep-{spec.name}-field"):
                    with Horizontal(classes="field-row"):
                        yield Label(spec.title, classes="field-label", markup=False)
                        yield Input(suggest_range(spec, self.values.get(spec.name)),
                                    id=f"sweep-{spec.name}", compact=True, select_on_focus=True)
                    note = f"now {number_text(self.values.get(spec.name))}"
                    if spec.bounds:
                        note += f"; {spec.bounds}"
                    yield Static(note, classes="field-note", markup=False)
                    yield Static("", classes="field-error", id=f"sweep-{spec.name}-error",
                                 markup=False)
            with Horizontal(classes="field-row"):
                yield Label("Rank by", classes="field-label")
                yield Select([(f"{METRIC_LABELS.get(m, m)} ({m})", m) for m in RANKABLE_METRICS],
                             value="sharpe", allow_blank=False, id="sweep-rank", compact=True)
            yield Static("", id="sweep-count", classes="field-note", markup=False)
            yield Static("", id="form-error", classes="form-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Sweep (F9)", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.refresh_form()
        first = next(iter(self.query("Input").results()), None)
        if first is not None:
            first.focus()

    def _plan(self) -> tuple[SweepPlan | None, dict[str | None, str], int]:
        texts = {s.name: self.query_one(f"#sweep-{s.name}", Input).value for s in self.specs}
        rank = self.query_one("#sweep-rank", Select).value
        return sweep_plan(self.specs, texts, str(rank))

    def refresh_form(self) -> SweepPlan | None:
        plan, problems, count = self._plan()
        for spec in self.specs:
            error = self.query_one(f"#sweep-{spec.name}-error", Static)
            text = problems.get(spec.name, "")
            error.update(text)
            error.display = bool(text)
        self.query_one("#form-error", Static).update(problems.get(None, ""))
        self.query_one("#sweep-count", Static).update(sweep_count_text(count, problems))
        self.query_one("#save", Button).disabled = plan is None
        return plan

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.refresh_form()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.refresh_form()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_start()
        else:
            self.action_cancel()

    def action_start(self) -> None:
        plan = self.refresh_form()
        if plan is not None:
            self.dismiss(plan)

    def action_cancel(self) -> None:
        self.dismiss(None)


# -- past runs -------------------------------------------------------------------------------


class RunsTable(DataTable):
    """Stored runs, newest first. Enter reopens one."""

    COLUMNS = ("Run", "Strategy", "Return %", "Sharpe", "Max DD %", "Trips", "Symbol", "TF",
               "Parameters")

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.add_columns(*self.COLUMNS)

    def show(self, runs: list[BacktestRun],
             order: Callable[[str], Sequence[str]] = lambda _sid: ()) -> None:
        keep = self.highlighted_key
        self.clear()
        for run in runs[:500]:
            m = run.metrics
            self.add_row(
                Text(f"#{run.id}", justify="right"), run.strategy_id,
                Text(format_metric(m.total_return_pct), justify="right"),
                Text(format_metric(m.sharpe), justify="right"),
                Text(format_metric(m.max_drawdown_pct), justify="right"),
                Text(str(m.round_trips), justify="right"),
                run.symbol, run.timeframe,
                params_text(run.params, order(run.strategy_id)),
                key=str(run.id),
            )
        if keep is not None:
            try:
                self.move_cursor(row=self.get_row_index(keep), animate=False)
            except Exception:  # noqa: BLE001 - the run is gone
                pass

    @property
    def highlighted_key(self) -> str | None:
        return cursor_row_key(self)


# -- the place -------------------------------------------------------------------------------


def known_strategies(app: Any) -> tuple[StrategyInfo, ...]:
    """The strategies in the app's catalog (for the palette: no service call)."""
    return app.catalog.strategies


class StrategiesScreen(PlaceScreen):
    PLACE = "strategies"

    BINDINGS: ClassVar = [
        Binding("r,f9", "run_backtest", "Run", id="strategies.run_backtest",
                tooltip="Run the backtest of the strategy with these parameters and settings"),
        Binding("w,f8", "sweep", "Sweep", id="strategies.sweep",
                tooltip="Sweep parameter ranges and rank the combinations"),
        Binding("f7,ctrl+r", "reload", "Reload", id="strategies.reload", show=False,
                tooltip="Reload the list of strategies and past runs"),
        Binding("p", "show_tab('tab-setup')", "Setup", id="strategies.tab_setup", show=False,
                tooltip="Show the strategy's parameters and the backtest settings"),
        Binding("o", "show_tab('tab-results')", "Results", id="strategies.tab_results",
                show=False, tooltip="Show the results of the run on screen"),
        Binding("h", "show_tab('tab-history')", "History", id="strategies.tab_history",
                show=False, tooltip="Show past runs of the current portfolio"),
        Binding("g", "show_tab('tab-sweep')", "Sweep results", id="strategies.tab_sweep",
                show=False, tooltip="Show the ranked sweep and its heatmap"),
        Binding("s", "focus_strategies", "Strategies", id="strategies.focus_list", show=False,
                tooltip="Move to the list of strategies"),
    ]

    DEFAULT_CSS = """
    StrategiesScreen #st-columns { height: 1fr; }
    StrategiesScreen #st-left { width: 26; }
    StrategiesScreen.-wide #st-left { width: 36; }
    StrategiesScreen #st-right { width: 1fr; }
    StrategiesScreen #strategy-list {
        height: 1fr;
        border: round $border-blurred;
        border-title-color: $text-muted;
        background: $surface;
    }
    StrategiesScreen #strategy-list:focus {
        border: round $border;
        border-title-color: $text;
    }
    StrategiesScreen #st-tabs { height: 1fr; }
    StrategiesScreen TabPane { padding: 0; }
    StrategiesScreen #setup-scroll, StrategiesScreen #results-scroll { height: 1fr; }
    StrategiesScreen #strategy-about {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    StrategiesScreen #setup-columns { height: auto; layout: vertical; }
    StrategiesScreen.-wide #setup-columns { layout: horizontal; }
    StrategiesScreen #params-box, StrategiesScreen #settings-box {
        height: auto;
        padding: 0 1;
        border: round $border-blurred;
        border-title-color: $text-muted;
    }
    StrategiesScreen.-wide #params-box, StrategiesScreen.-wide #settings-box { width: 1fr; }
    StrategiesScreen #params-box:focus-within, StrategiesScreen #settings-box:focus-within {
        border: round $border;
        border-title-color: $text;
    }
    StrategiesScreen .hint { color: $text-muted; height: auto; padding: 0 1; }
    StrategiesScreen #run-title { height: auto; padding: 0 1; text-style: bold; }
    StrategiesScreen #results-top { height: auto; layout: vertical; }
    StrategiesScreen.-wide #results-top { layout: horizontal; }
    StrategiesScreen #metrics { padding: 0 1; }
    StrategiesScreen #equity { padding: 0 1; }
    StrategiesScreen.-wide #equity { height: 14; }
    StrategiesScreen #trips { min-height: 10; }
    StrategiesScreen #results-scroll:focus { background-tint: $foreground 4%; }
    StrategiesScreen #runs { height: 1fr; }
    StrategiesScreen #sweep-summary { height: auto; padding: 0 1; }
    StrategiesScreen #sweep-body { height: 1fr; layout: vertical; }
    StrategiesScreen.-wide #sweep-body { layout: horizontal; }
    StrategiesScreen #sweep-table { height: 1fr; min-height: 6; }
    StrategiesScreen.-wide #sweep-table { width: auto; max-width: 65%; }
    StrategiesScreen #heat-box { height: auto; padding: 0 1; }
    StrategiesScreen.-wide #heat-box { width: 1fr; height: 1fr; }
    StrategiesScreen #heat-axes { height: auto; }
    StrategiesScreen #heat-axes Label { padding: 0 1 0 0; color: $text-muted; }
    StrategiesScreen #heat-axes Select { width: 1fr; max-width: 24; margin-right: 1; }
    StrategiesScreen #run-bar {
        height: auto;
        background: $panel;
    }
    StrategiesScreen #run-bar Button { margin-right: 1; }
    StrategiesScreen #run-progress { width: auto; margin-right: 1; }
    StrategiesScreen #run-status {
        width: 1fr;
        height: auto;
        max-height: 3;
        color: $text-muted;
    }
    StrategiesScreen #run-status.-error { color: $text-error; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.infos: list[StrategyInfo] = []
        self.strategy_id: str | None = None
        self.form_values: dict[str, Any] = {}
        self.form_valid = False
        self.parts: BacktestParts | None = None
        self.busy: str | None = None
        self.report: BacktestReport | None = None
        self.report_tz = "UTC"
        self.sweep_report: SweepReport | None = None
        self.runs: list[BacktestRun] = []
        self._ready = False
        self._queued: list[str] = []
        self._status_error = ""

    # -- layout -------------------------------------------------------------------------------

    def compose_body(self) -> Iterator[Widget]:
        market = workbench(self.app).state.market
        with Horizontal(id="st-columns"):
            with Vertical(id="st-left"):
                strategies = OptionList(id="strategy-list")
                strategies.border_title = "Strategies"
                yield strategies
            with Vertical(id="st-right"):
                with TabbedContent(id="st-tabs", initial="tab-setup"):
                    with TabPane("Setup", id="tab-setup"):
                        with VerticalScroll(id="setup-scroll"):
                            yield Static("Choose a strategy on the left: ↑↓ then Enter.",
                                         id="strategy-about", markup=False)
                            with Horizontal(id="setup-columns"):
                                params = Vertical(id="params-box")
                                params.border_title = "Parameters"
                                with params:
                                    yield Static("No strategy chosen yet.", classes="hint",
                                                 markup=False)
                                settings = BacktestSettingsForm(
                                    symbol=market.symbol, timeframe=market.timeframe,
                                    size_pct=self._portfolio_size(), id="settings-box",
                                )
                                settings.border_title = "Backtest"
                                yield settings
                    with TabPane("Results", id="tab-results"):
                        with VerticalScroll(id="results-scroll", can_focus=True):
                            yield Static("No run yet: set up a strategy and press "
                                         f"{self._key('strategies.run_backtest', 'r')}.",
                                         id="run-title", markup=False)
                            with Horizontal(id="results-top"):
                                yield MetricsPanel(id="metrics")
                                yield EquityCurve(id="equity")
                            yield RoundTripsTable(id="trips")
                    with TabPane("History", id="tab-history"):
                        yield Static("", id="runs-title", classes="hint", markup=False)
                        yield RunsTable(id="runs")
                    with TabPane("Sweep", id="tab-sweep"):
                        yield Static(f"No sweep yet: press {self._key('strategies.sweep', 'w')} "
                                     "to sweep parameter ranges.",
                                     id="sweep-summary", markup=False)
                        with Horizontal(id="sweep-body"):
                            yield SweepTable(id="sweep-table")
                            with Vertical(id="heat-box"):
                                with Horizontal(id="heat-axes"):
                                    yield Label("Across")
                                    yield Select([], id="heat-x", compact=True, prompt="x",
                                                 allow_blank=True)
                                    yield Label("Down")
                                    yield Select([], id="heat-y", compact=True, prompt="y",
                                                 allow_blank=True)
                                yield SweepHeatmap(id="heatmap")
                with Horizontal(id="run-bar"):
                    yield Button(self._label("Run", "strategies.run_backtest", "r"),
                                 id="run-button", compact=True, variant="primary",
                                 disabled=True, action="screen.run_backtest")
                    yield Button(self._label("Sweep", "strategies.sweep", "w"),
                                 id="sweep-button", compact=True, disabled=True,
                                 action="screen.sweep")
                    progress = ProgressBar(id="run-progress", show_eta=False)
                    progress.display = False
                    yield progress
                    yield Static("", id="run-status", markup=False)

    def _label(self, text: str, binding_id: str, keys: str) -> str:
        return f"{text} ({self._key(binding_id, keys)})"

    def _key(self, binding_id: str, keys: str) -> str:
        """The key to name for an action: one that works here even from a text field."""
        return self.kash.key_label(binding_id, keys)

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width >= WIDE, "-wide")

    def on_mount(self) -> None:
        super().on_mount()
        self.set_class(self.app.size.width >= WIDE, "-wide")

    def on_services_ready(self) -> None:
        if not self._ready:
            self._ready = True
            wb = workbench(self.app)
            wb.changed.subscribe(self, self._workbench_changed)
            self.watch(self.app, "selection", self._portfolio_changed, init=False)
            self.watch(self.app, "catalog", self._portfolio_changed, init=False)
            self._portfolio_changed()
        else:
            self.reload()
        self._load_strategies()
        self._refresh_run_state()
        if self.focused is None:
            self.query_one("#strategy-list", OptionList).focus()

    def on_screen_resume(self) -> None:
        if self._ready:
            self.reload()

    # -- the current portfolio ----------------------------------------------------------------

    def _backtest_portfolio(self) -> Any:
        portfolio = self.kash.current_portfolio
        if portfolio is not None and portfolio.mode is PortfolioMode.BACKTEST:
            return portfolio
        return None

    def _portfolio_size(self) -> float:
        portfolio = self._backtest_portfolio()
        return float(portfolio.position_size_pct) if portfolio is not None else 100.0

    def _portfolio_changed(self, _value: object = None) -> None:
        portfolio = self._backtest_portfolio()
        settings = self.query_one("#settings-box", BacktestSettingsForm)
        settings.default_size(self._portfolio_size())
        current = self.kash.current_portfolio
        if portfolio is not None:
            settings.filed_under(
                f"Runs are stored under {portfolio.workspace_name} › {portfolio.name}.")
        elif current is not None:
            settings.filed_under(
                f"Runs are stored without a portfolio: {current.name} is {current.mode.value}, "
                "not BACKTEST.")
        else:
            settings.filed_under("Runs are stored without a portfolio (none is current).")
        self._load_runs()

    # -- strategies ---------------------------------------------------------------------------

    def reload(self) -> None:
        self._load_strategies()
        self._load_runs()

    def action_reload(self) -> None:
        self.reload()

    def _load_strategies(self) -> None:
        # refresh: the catalog (and so the palette) learns of newly registered strategies too
        self.kash.call_service(lambda p: p.strategy.list(), done=self._strategies_loaded)

    def _strategies_loaded(self, infos: list[StrategyInfo]) -> None:
        self.infos = list(infos)
        listing = self.query_one("#strategy-list", OptionList)
        highlighted = listing.highlighted_option.id if listing.highlighted_option else None
        listing.clear_options()
        listing.add_options(
            Option(Text.assemble((info.name, "bold"), "\n", (info.description, "dim")),
                   id=info.id)
            for info in self.infos
        )
        keep = self.strategy_id or highlighted
        if keep is not None and keep in {i.id for i in self.infos}:
            listing.highlighted = listing.get_option_index(keep)
        elif self.infos:
            listing.highlighted = 0
        if self.strategy_id is not None and self.info(self.strategy_id) is None:
            self.strategy_id = None
            self.call_next(self._show_form, None)
        choice = workbench(self.app).state.strategy
        if self.strategy_id is None and choice is not None and self.info(choice.strategy_id):
            self.call_next(self._show_form, choice.strategy_id, dict(choice.params))
        queued, self._queued = self._queued, []
        for action in queued:
            self.call_after_refresh(self.run_action, action)

    def info(self, strategy_id: str | None) -> StrategyInfo | None:
        return next((i for i in self.infos if i.id == strategy_id), None)

    def param_order(self, strategy_id: str) -> list[str]:
        """The strategy's parameter names in its schema's order (stored runs sort them)."""
        info = self.info(strategy_id)
        return list(info.params_schema.get("properties", {})) if info else []

    @on(OptionList.OptionSelected, "#strategy-list")
    async def _strategy_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_id is None:
            return
        if event.option_id != self.strategy_id:
            await self._show_form(event.option_id)
        self.action_show_tab("tab-setup")
        form = self.form
        if form is not None:
            form.focus_first()

    @property
    def form(self) -> SchemaForm | None:
        found = self.query("#params-box SchemaForm").results(SchemaForm)
        return next(iter(found), None)

    async def _show_form(self, strategy_id: str | None, values: dict[str, Any] | None = None
                         ) -> None:
        """Recompose the parameters for ``strategy_id`` (``None``: no strategy)."""
        box = self.query_one("#params-box", Vertical)
        about = self.query_one("#strategy-about", Static)
        info = self.info(strategy_id)
        self.strategy_id = info.id if info else None
        self.form_values, self.form_valid = {}, False
        await box.remove_children()
        if info is None:
            box.border_title = "Parameters"
            about.update("Choose a strategy on the left: ↑↓ then Enter.")
            await box.mount(Static("No strategy chosen yet.", classes="hint", markup=False))
        else:
            box.border_title = f"Parameters of {escape(info.name)}"
            about.update(f"{info.name} ({info.id}, default timeframe {info.default_timeframe}): "
                         f"{info.description}")
            service = self.kash.services.strategy
            sid = info.id
            await box.mount(
                SchemaForm(
                    info.params_schema,
                    values=values,
                    validator=lambda params: service.create_with_params(sid, params),
                    refusals=(StrategyError,),
                    id=f"form-{sid}",
                )
            )
            listing = self.query_one("#strategy-list", OptionList)
            listing.highlighted = listing.get_option_index(sid)
        self._refresh_run_state()

    @on(SchemaForm.Changed)
    def _form_changed(self, event: SchemaForm.Changed) -> None:
        event.stop()
        if self.strategy_id is None or event.form is not self.form:
            return
        self.form_values, self.form_valid = dict(event.values), event.valid
        if event.valid:
            # while the user types, the chart redraws once the typing pauses
            workbench(self.app).choose_strategy(
                StrategyChoice(self.strategy_id, dict(event.values)),
                settle=0.3 if event.form.typing else 0.0)
        self._refresh_run_state()

    @on(BacktestSettingsForm.Changed)
    def _settings_changed(self, event: BacktestSettingsForm.Changed) -> None:
        event.stop()
        self.parts = event.parts
        self._refresh_run_state()

    async def _workbench_changed(self, state: WorkbenchState) -> None:
        if not self.is_attached:
            return
        self.query_one("#settings-box", BacktestSettingsForm).follow_market(
            state.market.symbol, state.market.timeframe)
        choice = state.strategy
        if choice is None or self.info(choice.strategy_id) is None:
            return
        if choice.strategy_id != self.strategy_id:
            await self._show_form(choice.strategy_id, dict(choice.params))
            return
        shown = {k: self.form_values.get(k) for k in choice.params}
        form = self.form
        if shown != dict(choice.params) and form is not None:
            form.set_values(dict(choice.params))

    # -- running ------------------------------------------------------------------------------

    def _problem(self) -> str | None:
        """Why nothing can run now, or None."""
        if not self._ready:
            return "Kash is still opening the database."
        if self.busy == "backtest":
            return "The backtest is running…"
        if self.busy == "sweep":
            return "The sweep is running…"
        if self.strategy_id is None:
            return "Choose a strategy on the left (↑↓, Enter)."
        if not self.form_valid:
            return "Fix the parameters to run."
        if self.parts is None:
            return "Fix the backtest settings to run."
        return None

    def _refresh_run_state(self) -> None:
        if not self._body_mounted:
            return
        problem = self._problem()
        run, sweep = self.query_one("#run-button", Button), self.query_one("#sweep-button", Button)
        run.disabled = sweep.disabled = problem is not None
        status = self.query_one("#run-status", Static)
        if self.busy is None and self._status_error:
            status.update(self._status_error)
            status.add_class("-error")
        else:
            status.remove_class("-error")
            if problem is None:
                run_key = self.kash.key_label("strategies.run_backtest", "r")
                sweep_key = self.kash.key_label("strategies.sweep", "w")
                status.update(f"Ready: {run_key} runs the backtest, {sweep_key} sweeps.")
            else:
                status.update(problem)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("run_backtest", "sweep"):
            try:
                return True if self._problem() is None else None
            except Exception:  # noqa: BLE001 - before compose
                return None
        return True

    def request(self, action: str) -> None:
        """Run ``action`` now, or once the strategies are listed (from the palette)."""
        if self._ready and self.infos:
            self.call_later(self.run_action, action)
        else:
            self._queued.append(action)

    def _request(self) -> BacktestRequest | None:
        parts = self.parts
        if self._problem() is not None or parts is None or self.strategy_id is None:
            return None
        portfolio = self._backtest_portfolio()
        return BacktestRequest(
            symbol=parts.symbol,
            strategy_id=self.strategy_id,
            timeframe=parts.timeframe,
            params=dict(self.form_values),
            start=parts.start,
            end=parts.end,
            settings=parts.settings,
            portfolio_id=portfolio.id if portfolio is not None else None,
        )

    def _start(self, busy: str, message: str) -> Callable[[int, int], None]:
        self.busy = busy
        self._status_error = ""
        bar = self.query_one("#run-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self._refresh_run_state()
        self.query_one("#run-status", Static).update(message)
        app = self.app

        def progress(done: int, total: int) -> None:  # in the worker thread
            app.call_from_thread(bar.update, total=total, progress=done)

        return progress

    def _finish(self, error: str = "") -> None:
        self.busy = None
        self._status_error = error
        self.query_one("#run-progress", ProgressBar).display = False
        self._refresh_run_state()

    def action_run_backtest(self) -> None:
        request = self._request()
        if request is None:
            self.notify(self._problem() or "Nothing to run yet.", severity="warning", timeout=4)
            return
        progress = self._start(
            "backtest",
            f"Running {request.strategy_id} on {request.symbol} {request.timeframe}…",
        )

        def call(provider: ServiceProviderProtocol) -> Any:
            def run() -> tuple[BacktestReport, str]:
                report = provider.trading.run_backtest(request, progress=progress)
                return report, exchange_tz(provider, report.run.symbol)

            return refusable(run)

        self.kash.call_service(call, done=self._backtest_done, failed=self._failed,
                               refresh=False)

    def _failed(self, sentence: str) -> None:
        self._finish(sentence)
        self.notify(sentence, severity="error", timeout=8)

    def _backtest_done(self, result: Any) -> None:
        if isinstance(result, Refusal):
            self._failed(result.sentence)
            return
        report, tz = result
        self._finish()
        self.show_report(report, tz)
        portfolio = self.kash.catalog.portfolio(report.run.portfolio_id)
        where = f" under {portfolio.name}" if portfolio else ""
        self.query_one("#run-status", Static).update(
            f"Run #{report.run.id} stored{where}: total return "
            f"{format_metric(report.run.metrics.total_return_pct, ' %')}."
        )
        self._load_runs()
        self.action_show_tab("tab-results")
        self._focus_results()

    def _focus_results(self) -> None:
        """The results pane takes the keys: ↓, PgDn and End scroll down to the trades, Tab
        moves into them. The metrics stay in view."""
        pane = self.query_one("#results-scroll", VerticalScroll)
        pane.scroll_home(animate=False)
        pane.focus(scroll_visible=False)

    def show_report(self, report: BacktestReport, tz: str) -> None:
        """Results on screen and in the workbench (the chart marks the fills)."""
        self.report, self.report_tz = report, tz
        self.query_one("#run-title", Static).update(
            run_title(report.run, tz, self.param_order(report.run.strategy_id)))
        self.query_one("#metrics", MetricsPanel).show(report.run)
        self.query_one("#equity", EquityCurve).show(report, tz)
        self.query_one("#trips", RoundTripsTable).show(report, tz)
        workbench(self.app).show_backtest(report)

    # -- past runs ----------------------------------------------------------------------------

    def _load_runs(self) -> None:
        if not self._ready:
            return
        portfolio = self._backtest_portfolio()
        portfolio_id = portfolio.id if portfolio is not None else None
        title = (
            f"Runs of {portfolio.workspace_name} › {portfolio.name}, newest first; "
            "Enter reopens one." if portfolio is not None
            else "All runs (the current portfolio is not a BACKTEST one); Enter reopens one."
        )
        self.query_one("#runs-title", Static).update(title)

        def call(provider: ServiceProviderProtocol) -> Any:
            return refusable(lambda: provider.trading.list_runs(portfolio_id))

        self.kash.call_service(call, done=self._runs_loaded, refresh=False)

    def _runs_loaded(self, runs: Any) -> None:
        if isinstance(runs, Refusal):
            self.notify(runs.sentence, severity="error", timeout=8)
            return
        self.runs = list(runs)
        self.query_one("#runs", RunsTable).show(self.runs, self.param_order)
        if not self.runs:
            self.query_one("#runs-title", Static).update(
                "No runs yet for this portfolio: set up a strategy and press "
                f"{self._key('strategies.run_backtest', 'r')}.")

    @on(DataTable.RowSelected, "#runs")
    def _run_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value
        if key is None:
            return
        run_id = int(key)
        self.query_one("#run-status", Static).update(f"Opening run #{run_id}…")

        def call(provider: ServiceProviderProtocol) -> Any:
            def get() -> tuple[BacktestReport, str]:
                report = provider.trading.get_run(run_id)
                return report, exchange_tz(provider, report.run.symbol)

            return refusable(get)

        self.kash.call_service(call, done=self._run_reopened, failed=self._failed,
                               refresh=False)

    def _run_reopened(self, result: Any) -> None:
        if isinstance(result, Refusal):
            self._failed(result.sentence)
            return
        report, tz = result
        self._status_error = ""
        self.query_one("#settings-box", BacktestSettingsForm).load_run(report.run)
        self.show_report(report, tz)  # the workbench sets the form to the run's parameters
        self._refresh_run_state()
        self.query_one("#run-status", Static).update(
            f"Run #{report.run.id} reopened; {self._key('strategies.run_backtest', 'r')} runs "
            "it again.")
        self.action_show_tab("tab-results")
        self._focus_results()

    # -- sweeps -------------------------------------------------------------------------------

    def action_sweep(self) -> None:
        form, info = self.form, self.info(self.strategy_id)
        if self._request() is None or form is None or info is None:
            self.notify(self._problem() or "Nothing to sweep yet.", severity="warning", timeout=4)
            return
        numeric = [s for s in form.specs if s.numeric]
        if not numeric:
            self.notify(f"{info.name} has no numeric parameter to sweep.", timeout=4)
            return
        self.app.push_screen(SweepForm(info.name, numeric, dict(self.form_values)),
                             self._sweep_planned)

    def _sweep_planned(self, plan: SweepPlan | None) -> None:
        request = self._request()
        if plan is None or request is None:
            return
        count = math.prod(len(v) for v in plan.grid.values())
        progress = self._start("sweep", f"Sweeping {count:,} combinations…")

        def call(provider: ServiceProviderProtocol) -> Any:
            return refusable(lambda: provider.trading.sweep(
                request, plan.grid, rank_by=plan.rank_by, progress=progress))

        self.kash.call_service(call, done=self._sweep_done, failed=self._failed, refresh=False)

    def _sweep_done(self, result: Any) -> None:
        if isinstance(result, Refusal):
            self._failed(result.sentence)
            return
        self._finish()
        self.show_sweep(result)
        self.action_show_tab("tab-sweep")
        self.query_one("#sweep-table", SweepTable).focus()

    def show_sweep(self, report: SweepReport) -> None:
        self.sweep_report = report
        skipped = len(report.skipped)
        metric = METRIC_LABELS.get(report.rank_by, report.rank_by)
        self.query_one("#sweep-summary", Static).update(
            f"{len(report.rows)} combinations of {report.request.strategy_id} on "
            f"{report.request.symbol} {report.request.timeframe}, best {metric} first"
            f"{f' ({skipped} invalid skipped)' if skipped else ''}. Enter loads a row's "
            "parameters into the form."
        )
        self.query_one("#run-status", Static).update(
            f"Swept {len(report.rows) + skipped} combinations; {len(report.rows)} valid.")
        self.query_one("#sweep-table", SweepTable).show(report)
        swept = [n for n in sweep_columns(report) if len(report.grid[n]) > 1]
        x_select, y_select = self.query_one("#heat-x", Select), self.query_one("#heat-y", Select)
        axes = self.query_one("#heat-axes")
        axes.display = len(swept) >= 2
        with self.prevent(Select.Changed):
            options = [(n, n) for n in swept]
            x_select.set_options(options)
            y_select.set_options(options)
            if len(swept) >= 2:
                x_select.value, y_select.value = swept[1], swept[0]
        self._draw_heatmap()

    def _draw_heatmap(self) -> None:
        report = self.sweep_report
        x = self.query_one("#heat-x", Select).value
        y = self.query_one("#heat-y", Select).value
        self.query_one("#heatmap", SweepHeatmap).show(
            report,
            None if x is Select.NULL else str(x),
            None if y is Select.NULL else str(y),
        )

    @on(Select.Changed, "#heat-x, #heat-y")
    def _heat_axes_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._draw_heatmap()

    @on(DataTable.RowSelected, "#sweep-table")
    def _sweep_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        table = self.query_one("#sweep-table", SweepTable)
        row = table.row_for_key(event.row_key.value)
        form = self.form
        if row is None or form is None:
            return
        form.set_values(row.params)
        self.action_show_tab("tab-setup")
        form.focus_first()
        order = self.param_order(self.strategy_id or "")
        run_key = self._key("strategies.run_backtest", "r")  # the focus is in a field now
        self.notify(f"Loaded {params_text(row.params, order)}; {run_key} runs it.", timeout=4)

    # -- moving around ------------------------------------------------------------------------

    def action_show_tab(self, tab_id: str) -> None:
        self.query_one("#st-tabs", TabbedContent).active = tab_id

    def action_focus_strategies(self) -> None:
        self.query_one("#strategy-list", OptionList).focus()


# -- palette ---------------------------------------------------------------------------------


def _open_strategy(app: KashApp, strategy_id: str) -> None:
    wb = workbench(app)
    current = wb.state.strategy
    if current is None or current.strategy_id != strategy_id:
        wb.choose_strategy(StrategyChoice(strategy_id, {}))
    app.action_switch_place(StrategiesScreen.PLACE)


def _on_strategies(app: KashApp, action: str) -> None:
    app.action_switch_place(StrategiesScreen.PLACE)
    screen = app.screen
    if isinstance(screen, StrategiesScreen):
        screen.request(action)


@palette_command
def strategy_commands(app: KashApp) -> Iterator[PaletteCommand]:
    for info in known_strategies(app):
        yield PaletteCommand(f"Strategy: {info.name}", partial(_open_strategy, app, info.id),
                             info.description)
    run_key = app.key_label("strategies.run_backtest", "r")
    sweep_key = app.key_label("strategies.sweep", "w")
    yield PaletteCommand("Run backtest", partial(_on_strategies, app, "run_backtest"),
                         f"The strategy and settings under Strategies (key {run_key} there)")
    yield PaletteCommand("Sweep parameters", partial(_on_strategies, app, "sweep"),
                         f"Rank parameter ranges of the chosen strategy (key {sweep_key} there)")


__all__ = [
    "BacktestParts",
    "BacktestSettingsForm",
    "Refusal",
    "RunsTable",
    "StrategiesScreen",
    "SweepForm",
    "SweepPlan",
    "known_strategies",
    "parse_day",
    "settings_problems",
    "strategy_commands",
    "sweep_plan",
    "tidy_sentence",
]
