"""The sweep form: a range per numeric parameter of the chosen strategy and the metric to rank
by; it answers a :class:`SweepPlan` (or ``None`` when cancelled). The one limit is the trading
domain's ``MAX_SWEEP_COMBINATIONS``, on the whole grid."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from kash_tui.domains.trading import MAX_SWEEP_COMBINATIONS, RANKABLE_METRICS
from kash_tui.tui.format import number_text
from kash_tui.tui.widgets.results import METRIC_LABELS
from kash_tui.tui.widgets.schema_form import FieldSpec, parse_range, suggest_range


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
                yield Select([(f"{METRIC_LABELS.get(m, m)} ({m})", m) for m in RANKABLE_METRICS]
                             + [(f"Robust {METRIC_LABELS.get(m, m)} (robust:{m})",
                                 f"robust:{m}") for m in RANKABLE_METRICS],
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


__all__ = ["SweepForm", "SweepPlan", "sweep_count_text", "sweep_plan"]
