"""The backtest's settings form: symbol, timeframe, dates and the engine's settings, checked as
you type. It posts :class:`BacktestSettingsForm.Changed` with the checked :class:`BacktestParts`
(or ``None`` while a field is wrong); ``BacktestSettings`` decides what is valid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, Switch

from kash_tui.domains.strategy import TIMEFRAMES
from kash_tui.domains.trading import (
    BacktestError,
    BacktestRun,
    BacktestSettings,
    FillModel,
    IntrabarOrder,
)
from kash_tui.tui.format import number_text

if TYPE_CHECKING:
    from kash_tui.domains.workspace import Portfolio

# -- what the settings fields mean -----------------------------------------------------------

SETTING_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("bt-cash", "initial_cash", "10000"),
    ("bt-commission", "commission", "0.001"),
    ("bt-slippage", "slippage", "0.0005"),
    ("bt-size", "position_size_pct", "100"),
)

EXIT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("bt-stop", "stop_loss_pct", "5"),
    ("bt-target", "take_profit_pct", "10"),
    ("bt-trail", "trailing_stop_pct", "8"),
)
"""The optional exits, in percent; an empty field is no exit."""

INTRABAR_CHOICES: tuple[tuple[str, IntrabarOrder], ...] = (
    ("stop first", IntrabarOrder.PESSIMISTIC),
    ("target first", IntrabarOrder.OPTIMISTIC),
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
    texts: dict[str, str], *, whole_shares: bool, fill_model: FillModel,
    intrabar: IntrabarOrder = IntrabarOrder.PESSIMISTIC,
) -> tuple[BacktestSettings | None, dict[str, str]]:
    """The settings, or what is wrong with each field (``BacktestSettings`` decides). The exit
    fields (``EXIT_FIELDS``) are optional: empty or missing is no exit."""
    problems: dict[str, str] = {}
    values: dict[str, float] = {}
    for widget_id, name, example in (*SETTING_FIELDS, *EXIT_FIELDS):
        raw = texts.get(widget_id, "").strip().rstrip("%").strip()
        if not raw and (widget_id, name, example) in EXIT_FIELDS:
            continue
        try:
            value = float(raw)
        except ValueError:
            what = "a percent" if (widget_id, name, example) in EXIT_FIELDS else "a number"
            empty = " or leave it empty" if what == "a percent" else ""
            problems[widget_id] = f"Give {what}, e.g. {example}{empty}."
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
        return BacktestSettings(**values, whole_shares=whole_shares, fill_model=fill_model,
                                intrabar=intrabar), {}
    except BacktestError as exc:  # a rule across fields: show it on the first
        return None, {SETTING_FIELDS[0][0]: tidy_sentence(str(exc))}


def size_of(portfolio: Portfolio | None) -> float:
    """The position size a run takes by default: the portfolio's, else 100 %."""
    return float(portfolio.position_size_pct) if portfolio is not None else 100.0


@dataclass(frozen=True)
class BacktestParts:
    """What the settings form holds, checked: everything of a request but the strategy."""

    symbol: str
    timeframe: str
    start: datetime | None
    end: datetime | None
    settings: BacktestSettings


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
            "0.001 = 0.1 %/fill",
        )
        yield from self._field(
            "Slippage", Input("0", type="number", id="bt-slippage", compact=True,
                              select_on_focus=True,
                              tooltip="Fraction of the price lost per fill: 0.0005 is 0.05 %"),
            "0.0005 = 0.05 %",
        )
        yield from self._field(
            "Position size", Input(number_text(self._default_size), type="number", id="bt-size",
                                   compact=True, select_on_focus=True,
                                   tooltip="Percent of equity committed per entry"),
            "% of equity/entry",
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
        for label, widget_id, tip, hint in (
            ("Stop loss", "bt-stop", "Sell when the price falls this many % below the entry (empty: no stop)",
             "% below entry"),
            ("Take profit", "bt-target", "Sell when the price rises this many % above the entry (empty: no target)",
             "% above entry"),
            ("Trailing stop", "bt-trail",
             "Sell when the price falls this many % below the highest high since entry "
             "(empty: no trailing stop)",
             "% below the high"),
        ):
            yield from self._field(
                label, Input(placeholder="off", id=widget_id, compact=True,
                             select_on_focus=True, tooltip=tip),
                hint,
            )
        yield from self._field(
            "Both touched",
            Select(list(INTRABAR_CHOICES), value=IntrabarOrder.PESSIMISTIC, allow_blank=False,
                   id="bt-intrabar", compact=True,
                   tooltip="A bar touching both stop and target: which exit it takes "
                           "(stop first is pessimistic, the default)"),
            "bar hits both",
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
        intrabar = self.query_one("#bt-intrabar", Select).value
        settings, found = settings_problems(
            {wid: self._text(wid) for wid, _n, _e in (*SETTING_FIELDS, *EXIT_FIELDS)},
            whole_shares=self.query_one("#bt-whole", Switch).value,
            fill_model=FillModel(fill) if fill is not Select.NULL else FillModel.NEXT_OPEN,
            intrabar=(IntrabarOrder(intrabar) if intrabar is not Select.NULL
                      else IntrabarOrder.PESSIMISTIC),
        )
        problems.update(found)
        self.problems = problems
        for error in self.query(".bt-error").results(Static):
            field_id = (error.id or "").removesuffix("-error")
            text = problems.get(field_id, "")
            error.update(text)
            error.display = bool(text)
        for field_id in ("bt-symbol", "bt-start", "bt-end",
                         *(w for w, _n, _e in (*SETTING_FIELDS, *EXIT_FIELDS))):
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

    def show_owner(self, portfolio: Portfolio | None, current: Portfolio | None) -> None:
        """Runs are filed under ``portfolio`` (the current one when it is a BACKTEST one, else
        None) and take its position size by default; ``current``: the current portfolio."""
        self.default_size(size_of(portfolio))
        if portfolio is not None:
            text = f"Runs are stored under {portfolio.workspace_name} › {portfolio.name}."
        elif current is not None:
            text = (f"Runs are stored without a portfolio: {current.name} is "
                    f"{current.mode.value}, not BACKTEST.")
        else:
            text = "Runs are stored without a portfolio (none is current)."
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
            for widget_id, name, _example in EXIT_FIELDS:
                value = getattr(s, name)
                self.query_one(f"#{widget_id}", Input).value = (
                    "" if value is None else number_text(value))
            self.query_one("#bt-intrabar", Select).value = s.intrabar
        self.check()



__all__ = [
    "EXIT_FIELDS",
    "INTRABAR_CHOICES",
    "SETTING_FIELDS",
    "BacktestParts",
    "BacktestSettingsForm",
    "parse_day",
    "settings_problems",
    "size_of",
    "tidy_sentence",
]
