"""The walk-forward form: the sweep form's ranges and rank-by, then the training and test
lengths (a number of bars or a duration, read by the trading domain's ``Span.parse`` as you
type) and whether the training parts are anchored. It answers a :class:`WalkForwardPlan` (or
``None`` when cancelled)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Select, Static

from kash_tui.domains.trading import MAX_SWEEP_COMBINATIONS, Span, TradingError
from kash_tui.tui.modals.sweep_form import SweepForm, is_range, sweep_plan
from kash_tui.tui.widgets.schema_form import FieldSpec

TRAIN_FIELD, TEST_FIELD, ANCHORED_FIELD = "opt-train", "opt-test", "opt-anchored"


@dataclass(frozen=True)
class WalkForwardPlan:
    grid: dict[str, list[Any]]
    rank_by: str
    train: Span
    test: Span
    anchored: bool


def default_lengths(timeframe: str) -> tuple[str, str]:
    """Training and test lengths to start from: a few years of days, months of hours, and
    bars for minutes."""
    if timeframe in ("1Day", "1Week"):
        return "2y", "6m"
    if timeframe.endswith("Hour"):
        return "3m", "1m"
    return "20000", "5000"


def span_problem(text: str, what: str) -> tuple[Span | None, str | None]:
    """``text`` read as the CLI's ``--train``/``--test``: the span, or one sentence."""
    if not text.strip():
        return None, (f"Give the {what} length: a number of bars (e.g. 5000) or a duration "
                      "such as 90d, 12w, 6m or 2y.")
    try:
        return Span.parse(text, what.capitalize()), None
    except TradingError as exc:
        return None, str(exc)


def span_note(span: Span | None, what: str) -> str:
    if span is None:
        return "Bars (5000) or a duration: 90d, 12w, 6m, 2y."
    return f"Each {what} part is {span}" + ("." if span.is_bars else " (calendar).")


def walk_forward_plan(
    specs: list[FieldSpec], texts: dict[str, str], rank_by: str, train: str, test: str,
    anchored: bool,
) -> tuple[WalkForwardPlan | None, dict[str | None, str], int]:
    """As :func:`sweep_plan`, with the lengths' problems under ``opt-train``/``opt-test``."""
    plan, problems, count = sweep_plan(specs, texts, rank_by)
    train_span, train_problem = span_problem(train, "training")
    test_span, test_problem = span_problem(test, "test")
    if train_problem:
        problems[TRAIN_FIELD] = train_problem
    if test_problem:
        problems[TEST_FIELD] = test_problem
    if problems or plan is None or train_span is None or test_span is None:
        return None, problems, count
    return WalkForwardPlan(plan.grid, rank_by, train_span, test_span, anchored), {}, count


def walk_forward_count_text(count: int, problems: dict[str | None, str]) -> str:
    limit = f"at most {MAX_SWEEP_COMBINATIONS:,}"
    if any(is_range(name) for name in problems):
        return f"Fix the ranges marked above; each window ranks {limit} combinations."
    if not count:
        return f"Each window ranks {limit} combinations."
    plural = "s" if count != 1 else ""
    return (f"{count:,} combination{plural} ranked per training part ({limit}); the best "
            "runs on its test part.")


class WalkForwardForm(SweepForm):
    """Ranges and rank-by as a sweep, then train, test and anchored."""

    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Cancel", id="strategies.wf_cancel",
                tooltip="Close the walk-forward form without running"),
        Binding("f9", "start", "Walk forward", id="strategies.wf_start",
                tooltip="Start the walk-forward (Enter in a text field does too)"),
    ]
    TITLE_TEXT = "Walk forward with {name}"
    DETAIL_TEXT = (
        "Each window ranks these ranges on its training part and runs the best on the test "
        "part after it. Ranges as START:STOP:STEP or 5|10|20; empty keeps the form's value."
    )
    START_LABEL = "Walk forward (F9)"
    OPTION_FIELDS = (TRAIN_FIELD, TEST_FIELD)

    def __init__(self, strategy_name: str, specs: list[FieldSpec], values: dict[str, Any],
                 timeframe: str = "1Day") -> None:
        super().__init__(strategy_name, specs, values)
        self.lengths = default_lengths(timeframe)

    def compose_options(self) -> ComposeResult:
        train, test = self.lengths
        yield from self.option_field(
            "Train", Input(train, id=TRAIN_FIELD, compact=True, select_on_focus=True))
        yield from self.option_field(
            "Test", Input(test, id=TEST_FIELD, compact=True, select_on_focus=True))
        yield from self.option_field(
            "Anchored",
            Select([("No: the training part slides", False),
                    ("Yes: it starts at the first bar", True)],
                   value=False, allow_blank=False, id=ANCHORED_FIELD, compact=True),
        )

    @property
    def anchored(self) -> bool:
        return bool(self.query_one(f"#{ANCHORED_FIELD}", Select).value)

    def make_plan(self, texts: dict[str, str], rank_by: str
                  ) -> tuple[Any, dict[str | None, str], int]:
        train, test = self.text(TRAIN_FIELD), self.text(TEST_FIELD)
        for field, text, what in ((TRAIN_FIELD, train, "training"), (TEST_FIELD, test, "test")):
            span, _problem = span_problem(text, what)
            self.query_one(f"#{field}-note", Static).update(span_note(span, what))
        anchored_note = self.query_one(f"#{ANCHORED_FIELD}-note", Static)
        anchored_note.update("Every training part starts at the first bar and grows."
                             if self.anchored else
                             "Each training part is one training length before its test part.")
        return walk_forward_plan(self.specs, texts, rank_by, train, test, self.anchored)

    def count_text(self, count: int, problems: dict[str | None, str]) -> str:
        return walk_forward_count_text(count, problems)


__all__ = [
    "WalkForwardForm", "WalkForwardPlan", "default_lengths", "span_problem",
    "walk_forward_count_text", "walk_forward_plan",
]
