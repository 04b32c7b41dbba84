"""The sweep form: a range per numeric parameter of the chosen strategy, the metric to rank by
and an optional out-of-sample share; it answers a :class:`SweepPlan` (or ``None`` when
cancelled). The one limit is the trading domain's ``MAX_SWEEP_COMBINATIONS``, on the whole grid.
The walk-forward form (:mod:`kash_tui.tui.modals.walkforward_form`) is this form with other
fields under the ranges (:meth:`SweepForm.compose_options`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Label, Select, Static

from kash_tui.domains.trading import MAX_SWEEP_COMBINATIONS, RANKABLE_METRICS
from kash_tui.tui.format import number_text
from kash_tui.tui.widgets.results import METRIC_LABELS
from kash_tui.tui.widgets.schema_form import FieldSpec, parse_range, suggest_range


@dataclass(frozen=True)
class SweepPlan:
    grid: dict[str, list[Any]]
    rank_by: str
    oos: float | None = None
    """The share of the bars held out at the end (0.3), or None for no split."""


OOS_FIELD = "opt-oos"
"""The id of the out-of-sample field (and its key in the problems): a parameter's name never
holds a ``-``, so it cannot clash with a range's."""


def is_range(name: str | None) -> bool:
    """Whether a problem's key names a parameter's range (not the whole form nor an option)."""
    return name is not None and not name.startswith("opt-")


def oos_share(text: str) -> tuple[float | None, str | None]:
    """The out-of-sample field as ``kash backtest --oos`` reads it: ``30``, ``30%`` or ``0.3``
    -> 0.3; blank -> no split. Returns the share and the problem (None when fine)."""
    raw = text.strip()
    if not raw:
        return None, None
    try:
        value = float(raw.rstrip("%").strip())
    except ValueError:
        value = math.nan
    if raw.endswith("%") or value >= 1:
        value /= 100.0
    if not (math.isfinite(value) and 0 < value < 1):
        return None, (f"{text.strip()!r} is not a share of the bars above 0 % and below 100 %; "
                      "give e.g. 30, or leave it blank for no split.")
    return value, None


def oos_note(share: float | None) -> str:
    """What the out-of-sample field means now."""
    if share is None:
        return "Blank: no split. 30 holds out the last 30 % of the bars."
    kept = 100 * (1 - share)
    return (f"Chosen on the first {kept:g} % of the bars, then tried on the last "
            f"{100 * share:g} %.")


def sweep_plan(
    specs: list[FieldSpec], texts: dict[str, str], rank_by: str, oos: str = ""
) -> tuple[SweepPlan | None, dict[str | None, str], int]:
    """The grid from one ``START:STOP:STEP`` per parameter (empty: not swept), the problems by
    parameter name (``None``: the whole form, :data:`OOS_FIELD`: the out-of-sample share) and
    the number of combinations."""
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
    share, oos_problem = oos_share(oos)
    if oos_problem:
        problems[OOS_FIELD] = oos_problem
    count = math.prod(len(v) for v in grid.values()) if grid else 0
    if not any(is_range(name) for name in problems):  # the ranges are right: is the grid?
        if not grid:
            problems[None] = "Give a range for at least one parameter."
        elif count > MAX_SWEEP_COMBINATIONS:
            problems[None] = (
                f"{count:,} combinations is too many (at most {MAX_SWEEP_COMBINATIONS:,}); "
                "use larger steps or fewer parameters."
            )
    if problems:
        return None, problems, count
    return SweepPlan(grid, rank_by, share), {}, count


def sweep_count_text(count: int, problems: dict[str | None, str]) -> str:
    """What the form says about the size of the sweep: nothing is counted while a range is
    wrong (its sentence says why), and the limit is always stated."""
    limit = f"at most {MAX_SWEEP_COMBINATIONS:,}"
    if any(is_range(name) for name in problems):
        return f"Fix the ranges marked above; a sweep runs {limit} combinations."
    if not count:
        return f"A sweep runs {limit} combinations."
    plural = "s" if count != 1 else ""
    return (f"{count:,} combination{plural} ({limit}); those the strategy refuses "
            "are skipped.")


class SweepForm(ModalScreen["SweepPlan | None"]):
    """A range per numeric parameter, the metric to rank by and the out-of-sample share.

    A subclass changes the title, the explanation and the start button (class attributes) and
    the fields under the ranges (:meth:`compose_options`, :meth:`option_problems`,
    :meth:`make_plan`)."""

    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Cancel", id="strategies.sweep_cancel",
                tooltip="Close the sweep form without sweeping"),
        Binding("f9", "start", "Sweep", id="strategies.sweep_start",
                tooltip="Start the sweep (Enter in a range field does too)"),
    ]
    TITLE_TEXT: ClassVar[str] = "Sweep the parameters of {name}"
    DETAIL_TEXT: ClassVar[str] = (
        "A range per parameter as START:STOP:STEP (inclusive), or values as 5|10|20; "
        "leave one empty to keep the form's value."
    )
    START_LABEL: ClassVar[str] = "Sweep (F9)"
    OPTION_FIELDS: ClassVar[tuple[str, ...]] = (OOS_FIELD,)
    DEFAULT_CSS = """
    SweepForm #sweep-fields { height: auto; max-height: 50vh; }
    """
    """The ids of the fields under the ranges that have an error line."""

    def __init__(self, strategy_name: str, specs: list[FieldSpec], values: dict[str, Any]) -> None:
        super().__init__(classes="kash-modal")
        self.strategy_name = strategy_name
        self.specs = [s for s in specs if s.numeric]
        self.values = values

    @staticmethod
    def option_field(label: str, widget: Widget, note: str = "") -> ComposeResult:
        """A labelled field under the ranges, with its note and error lines."""
        with Vertical(classes="field", id=f"{widget.id}-field"):
            with Horizontal(classes="field-row"):
                yield Label(label, classes="field-label", markup=False)
                yield widget
            yield Static(note, classes="field-note", id=f"{widget.id}-note", markup=False)
            yield Static("", classes="field-error", id=f"{widget.id}-error", markup=False)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form", id="sweep-dialog"):
            yield Static(self.TITLE_TEXT.format(name=self.strategy_name),
                         classes="dialog-title", markup=False)
            with VerticalScroll(id="sweep-fields"):
                yield Static(self.DETAIL_TEXT, classes="dialog-detail", markup=False)
                for spec in self.specs:
                    with Vertical(classes="field", id=f"sweep-{spec.name}-field"):
                        with Horizontal(classes="field-row"):
                            yield Label(spec.title, classes="field-label", markup=False)
                            yield Input(suggest_range(spec, self.values.get(spec.name)),
                                        id=f"sweep-{spec.name}", compact=True,
                                        select_on_focus=True)
                        note = f"now {number_text(self.values.get(spec.name))}"
                        if spec.bounds:
                            note += f"; {spec.bounds}"
                        yield Static(note, classes="field-note", markup=False)
                        yield Static("", classes="field-error", id=f"sweep-{spec.name}-error",
                                     markup=False)
                with Horizontal(classes="field-row"):
                    yield Label("Rank by", classes="field-label")
                    yield Select(
                        [(f"{METRIC_LABELS.get(m, m)} ({m})", m) for m in RANKABLE_METRICS]
                        + [(f"Robust {METRIC_LABELS.get(m, m)} (robust:{m})", f"robust:{m}")
                           for m in RANKABLE_METRICS],
                        value="sharpe", allow_blank=False, id="sweep-rank", compact=True)
                yield from self.compose_options()
            yield Static("", id="sweep-count", classes="field-note", markup=False)
            yield Static("", id="form-error", classes="form-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.START_LABEL, id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer(show_command_palette=False)

    def compose_options(self) -> ComposeResult:
        """The fields under "Rank by": here the out-of-sample share."""
        yield from self.option_field(
            "Out of sample %",
            Input("", id=OOS_FIELD, compact=True, placeholder="blank = none",
                  select_on_focus=True),
            oos_note(None),
        )

    def on_mount(self) -> None:
        self.refresh_form()
        first = next(iter(self.query("Input").results()), None)
        if first is not None:
            first.focus()

    def text(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def _plan(self) -> tuple[Any, dict[str | None, str], int]:
        texts = {s.name: self.text(f"sweep-{s.name}") for s in self.specs}
        rank = str(self.query_one("#sweep-rank", Select).value)
        return self.make_plan(texts, rank)

    def make_plan(self, texts: dict[str, str], rank_by: str
                  ) -> tuple[Any, dict[str | None, str], int]:
        """The plan (None while something is wrong), the problems and the combinations."""
        plan, problems, count = sweep_plan(self.specs, texts, rank_by, self.text(OOS_FIELD))
        share, _problem = oos_share(self.text(OOS_FIELD))
        self.query_one(f"#{OOS_FIELD}-note", Static).update(oos_note(share))
        return plan, problems, count

    def count_text(self, count: int, problems: dict[str | None, str]) -> str:
        return sweep_count_text(count, problems)

    def refresh_form(self) -> Any:
        plan, problems, count = self._plan()
        errors = [(f"sweep-{s.name}-error", problems.get(s.name, "")) for s in self.specs]
        errors += [(f"{name}-error", problems.get(name, "")) for name in self.OPTION_FIELDS]
        for error_id, text in errors:
            error = self.query_one(f"#{error_id}", Static)
            error.update(text)
            error.display = bool(text)
        for name in self.OPTION_FIELDS:  # an option's error says what its note says, and why
            self.query_one(f"#{name}-note", Static).display = name not in problems
        form_error = self.query_one("#form-error", Static)
        form_error.update(problems.get(None, ""))
        form_error.display = None in problems
        self.query_one("#sweep-count", Static).update(self.count_text(count, problems))
        self.query_one("#save", Button).disabled = plan is None
        # once the error lines have their height (after the next layout)
        self.set_timer(0.05, self._show_focused_field)
        return plan

    def _show_focused_field(self) -> None:
        """Scroll the focused field's note and error line into view with it."""
        focused = self.focused
        if focused is None:
            return
        field = next((a for a in focused.ancestors if isinstance(a, Widget)
                      and a.has_class("field")), None)
        if field is not None:
            field.scroll_visible(animate=False)

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


__all__ = [
    "OOS_FIELD", "SweepForm", "SweepPlan", "is_range", "oos_note", "oos_share",
    "sweep_count_text", "sweep_plan",
]
