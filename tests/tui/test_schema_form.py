"""SchemaForm: a form for any JSON Schema, checked as you type against a validator callback."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from enum import Enum
from typing import Any, Literal, Self

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from textual import events
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Select, Static, Switch

from kash_tui.domains.strategy import StrategyError, create_strategy_service
from kash_tui.tui.widgets.schema_form import (
    BOOLEAN,
    CHOICE,
    INTEGER,
    NUMBER,
    TEXT,
    SchemaForm,
    assign_errors,
    field_specs,
    number_text,
    parse_range,
    parse_value,
    suggest_range,
)


class PriceField(str, Enum):
    CLOSE = "close"
    OPEN = "open"


class EveryKind(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Every kind")

    lookback: int = Field(default=20, ge=2, le=100, title="Lookback", description="Bars to look at.")
    threshold: float = Field(default=0.5, gt=0, le=1, description="How far it must move.")
    long_only: bool = Field(default=True, title="Long only")
    price: PriceField = Field(default=PriceField.CLOSE, title="Price", description="Which price.")
    mode: Literal["fast", "slow"] = "fast"
    limit: int | None = Field(default=None, ge=1)
    note: str = "x"
    weird: Any = None

    @model_validator(mode="after")
    def _rule(self) -> Self:
        if self.lookback > 50 and self.threshold > 0.9:
            raise ValueError(
                f"threshold must be at most 0.9 when lookback is above 50 (got {self.threshold:g})"
            )
        return self


def validate_every_kind(params: dict[str, Any]) -> EveryKind:
    try:
        return EveryKind.model_validate(params)
    except ValidationError as exc:
        sentences = []
        for error in exc.errors(include_url=False):
            loc = ".".join(str(p) for p in error["loc"])
            msg = error["msg"].removeprefix("Value error, ").rstrip(".")
            sentences.append(f"{loc}: {msg}." if loc else f"{msg}.")
        raise StrategyError(" ".join(sentences)) from None


# -- reading a schema ------------------------------------------------------------------------


def test_sma_crossover_schema_becomes_two_integer_fields() -> None:
    info = {i.id: i for i in create_strategy_service().list()}["sma_crossover"]
    specs = field_specs(info.params_schema)
    assert [s.name for s in specs] == ["short_period", "long_period"]
    short, long = specs
    assert (short.kind, short.title, short.default, short.bounds) == (
        INTEGER, "Short period", 10, "2 to 500")
    assert short.description == "Bars in the fast moving average."
    assert (long.default, long.bounds) == (30, "3 to 1000")


def test_every_kind_of_field() -> None:
    specs = {s.name: s for s in field_specs(EveryKind.model_json_schema())}
    assert specs["lookback"].kind == INTEGER
    assert specs["threshold"].kind == NUMBER
    assert specs["threshold"].bounds == "above 0, at most 1"
    assert specs["threshold"].title == "Threshold"  # from the name when the schema has none
    assert specs["long_only"].kind == BOOLEAN and specs["long_only"].default is True
    assert specs["price"].kind == CHOICE  # an Enum: a $ref to $defs
    assert specs["price"].choices == ("close", "open")
    assert specs["price"].description == "Which price."
    assert specs["mode"].kind == CHOICE and specs["mode"].choices == ("fast", "slow")
    assert specs["limit"].kind == INTEGER and specs["limit"].nullable
    assert specs["limit"].bounds == "at least 1"
    assert specs["note"].kind == TEXT
    assert specs["weird"].kind == TEXT  # unknown: a text field


def test_any_of_consts_is_a_choice_and_unknown_types_are_text() -> None:
    schema = {
        "type": "object",
        "properties": {
            "side": {"anyOf": [{"const": "buy"}, {"const": "sell"}], "default": "buy"},
            "blob": {"type": "array", "items": {"type": "integer"}},
        },
    }
    side, blob = field_specs(schema)
    assert (side.kind, side.choices, side.default) == (CHOICE, ("buy", "sell"), "buy")
    assert blob.kind == TEXT
    assert field_specs({"type": "object"}) == []


@pytest.mark.parametrize(
    ("kind_field", "text", "value", "problem"),
    [
        ("lookback", "12", 12, None),
        ("lookback", " 7 ", 7, None),
        ("lookback", "", None, "Give a whole number, 2 to 100."),
        ("lookback", "1.5", None, "Give a whole number, e.g. 20."),
        ("threshold", "0.25", 0.25, None),
        ("threshold", "1e-3", 0.001, None),
        ("threshold", "abc", None, "Give a number, e.g. 0.5."),
        ("threshold", "inf", None, "Give a finite number."),
        ("limit", "", None, None),  # nullable: empty is None
    ],
)
def test_parse_value(kind_field: str, text: str, value: Any, problem: str | None) -> None:
    spec = {s.name: s for s in field_specs(EveryKind.model_json_schema())}[kind_field]
    assert parse_value(spec, text) == (value, problem)


def test_number_text() -> None:
    assert number_text(20.0) == "20"
    assert number_text(0.0005) == "0.0005"
    assert number_text(10) == "10"
    assert number_text(None) == ""


# -- errors go next to the field they name ---------------------------------------------------


def test_cross_field_rule_goes_to_the_first_named_field() -> None:
    names = ["short_period", "long_period"]
    message = "short_period must be less than long_period (got 50 and 30)."
    assert assign_errors(message, names) == {"short_period": message}


def test_each_sentence_goes_to_its_field_without_the_name_prefix() -> None:
    message = (
        "short_period: Input should be greater than or equal to 2 (got 1). "
        "long_period: Input should be greater than or equal to 3 (got 2.5)."
    )
    assert assign_errors(message, ["short_period", "long_period"]) == {
        "short_period": "Input should be greater than or equal to 2 (got 1).",
        "long_period": "Input should be greater than or equal to 3 (got 2.5).",
    }


def test_sentence_naming_no_field_is_for_the_form() -> None:
    assert assign_errors("Something is off.", ["a"]) == {None: "Something is off."}
    # a field name inside another word does not count
    assert assign_errors("period_x is odd.", ["period"]) == {None: "period_x is odd."}


# -- sweep ranges ----------------------------------------------------------------------------


def test_suggested_ranges_are_round_and_inside_the_bounds() -> None:
    specs = {s.name: s for s in field_specs(create_strategy_service().get("sma_crossover")
                                            .params_schema())}
    assert suggest_range(specs["short_period"]) == "5:20:5"
    assert suggest_range(specs["long_period"]) == "20:60:10"
    values, problem = parse_range(specs["long_period"], suggest_range(specs["long_period"]))
    assert problem is None and values == [20, 30, 40, 50, 60]
    mfi = {s.name: s for s in field_specs(create_strategy_service().get("mfi").params_schema())}
    values, problem = parse_range(mfi["overbought"], suggest_range(mfi["overbought"]))
    assert problem is None and all(0 <= v <= 100 for v in values) and len(values) >= 3


def test_parse_range() -> None:
    spec = field_specs(create_strategy_service().get("sma_crossover").params_schema())[0]
    assert parse_range(spec, "5:15:5") == ([5, 10, 15], None)
    assert parse_range(spec, "5:7") == ([5, 6, 7], None)
    assert parse_range(spec, "5|9|20") == ([5, 9, 20], None)
    assert parse_range(spec, "12") == ([12], None)
    assert parse_range(spec, "") == ([], None)
    assert parse_range(spec, "9:5:1")[1] == "The range runs backwards (9 to 5)."
    assert parse_range(spec, "5:9:0")[1] == "The step must be more than 0."
    assert "START:STOP:STEP" in (parse_range(spec, "a:b")[1] or "")
    assert "use a larger step" in (parse_range(spec, "1:100000:1")[1] or "")


# -- the widget ------------------------------------------------------------------------------


class FormApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.changes: list[SchemaForm.Changed] = []

    def compose(self) -> ComposeResult:
        yield SchemaForm(
            EveryKind.model_json_schema(),
            values={"lookback": 30},
            validator=validate_every_kind,
            refusals=(StrategyError,),
            id="form",
        )

    def on_schema_form_changed(self, event: SchemaForm.Changed) -> None:
        self.changes.append(event)


def error_text(app: App, name: str) -> str:
    error = app.query_one(f"#param-{name}-error", Static)
    return str(error.render()) if error.display else ""


async def test_form_renders_widgets_by_kind_with_values_bounds_and_help() -> None:
    app = FormApp()
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.pause()
        assert app.query_one("#param-lookback", Input).value == "30"  # given value over default
        assert app.query_one("#param-threshold", Input).value == "0.5"
        assert app.query_one("#param-long_only", Switch).value is True
        price = app.query_one("#param-price", Select)
        assert price.value == "close"
        assert app.query_one("#param-mode", Select).value == "fast"
        assert app.query_one("#param-note", Input).type == "text"
        texts = [str(s.render()) for s in app.query(".schema-bounds").results(Static)]
        assert "2 to 100" in texts and "above 0, at most 1" in texts
        helps = [str(s.render()) for s in app.query(".schema-help").results(Static)]
        assert "Bars to look at." in helps
        form = app.query_one(SchemaForm)
        assert form.valid
        assert app.changes and app.changes[-1].valid
        assert app.changes[-1].values["lookback"] == 30
        assert app.changes[-1].values["limit"] is None


async def test_form_shows_problems_as_you_type_and_clears_them() -> None:
    app = FormApp()
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.pause()
        form = app.query_one(SchemaForm)
        lookback = app.query_one("#param-lookback", Input)
        lookback.focus()
        lookback.value = ""
        await pilot.press("1")  # below the minimum: the validator's sentence, next to the field
        await pilot.pause()
        assert not form.valid and not app.changes[-1].valid
        assert "greater than or equal to 2" in error_text(app, "lookback")
        assert lookback.has_class("-invalid")
        await pilot.press("0")
        await pilot.pause()
        assert form.valid and error_text(app, "lookback") == ""
        # a rule across two fields: under the field the user is in (lookback has the focus),
        # once; both fields it names are marked
        threshold = app.query_one("#param-threshold", Input)
        lookback.value = "60"
        threshold.value = "0.95"
        await pilot.pause()
        assert "at most 0.9 when lookback" in error_text(app, "lookback")
        assert error_text(app, "threshold") == ""
        assert lookback.has_class("-invalid") and threshold.has_class("-invalid")
        assert not form.valid
        # with the focus in neither, under the first field the sentence names
        app.set_focus(None)
        form.check()
        await pilot.pause()
        assert "at most 0.9 when lookback" in error_text(app, "threshold")
        assert error_text(app, "lookback") == ""
        # not a number: said locally, the validator's sentence for that field waits
        threshold.value = "."
        await pilot.pause()
        assert error_text(app, "threshold") == "Give a number, e.g. 0.5."
        threshold.value = "0.2"
        await pilot.pause()
        assert form.valid
        assert app.changes[-1].values == {**form.values}
        assert app.changes[-1].values["threshold"] == 0.2


async def test_switch_and_select_changes_are_values() -> None:
    app = FormApp()
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.pause()
        app.query_one("#param-long_only", Switch).focus()
        await pilot.press("space")
        await pilot.pause()
        assert app.changes[-1].values["long_only"] is False
        app.query_one("#param-price", Select).value = "open"
        await pilot.pause()
        assert app.changes[-1].values["price"] == "open"
        form = app.query_one(SchemaForm)
        form.set_values({"lookback": 5, "mode": "slow", "long_only": True})
        await pilot.pause()
        assert app.query_one("#param-lookback", Input).value == "5"
        assert form.values["mode"] == "slow" and form.values["long_only"] is True
        assert form.valid


async def test_the_field_being_typed_in_keeps_its_text_when_values_arrive() -> None:
    app = FormApp()
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.pause()
        form = app.query_one(SchemaForm)
        lookback = app.query_one("#param-lookback", Input)
        lookback.focus()
        await pilot.press("end", "backspace", "1")  # the user is typing "31"
        await pilot.pause()
        assert lookback.value == "31"
        # an echo of an earlier value (the workbench) must not undo the user's keys...
        form.set_values({"lookback": 30, "threshold": 0.25})
        await pilot.pause()
        assert lookback.value == "31"
        assert app.query_one("#param-threshold", Input).value == "0.25"  # ...others take theirs
        assert form.values["lookback"] == 31
        # once the user has left the field, values arriving are shown again
        app.query_one("#param-threshold", Input).focus()
        await pilot.pause()
        form.set_values({"lookback": 40})
        await pilot.pause()
        assert lookback.value == "40"


# -- typing at a person's pace in the real app -----------------------------------------------


async def send_keys(pilot: Pilot, keys: list[str], gap: float) -> None:
    """Keys as a terminal delivers them: posted to the app ``gap`` seconds apart (0: in one
    burst), without waiting for the app to handle each one first (``Pilot.press`` waits)."""
    for key in keys:
        pilot.app.post_message(events.Key(key, key if len(key) == 1 else None))
        if gap:
            await asyncio.sleep(gap)
    for _ in range(3):
        await asyncio.sleep(0.05)
        await pilot.pause()


async def wait_for(pilot: Pilot, ready: Callable[[], object], what: str) -> None:
    for _ in range(300):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.02)
        if ready():
            return
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("gap", [0.05, 0.0], ids=["20-keys-a-second", "one-burst"])
async def test_no_keystroke_is_lost_or_reordered_in_a_parameter(sqlite_db_url: str,
                                                                gap: float) -> None:
    from kash_tui.config import Settings
    from kash_tui.tui.app import make_app
    from kash_tui.tui.state import workbench

    app = make_app(Settings(database_url=sqlite_db_url))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.status == "ready", "the database")
        await pilot.press("f2")  # the chart is open: it follows the strategy's parameters
        await wait_for(pilot, lambda: app.screen.PLACE == "chart", "the chart")
        await pilot.press("f3")
        await wait_for(pilot, lambda: app.screen.query("#strategy-list")
                       and app.screen.query_one("#strategy-list", OptionList).option_count,
                       "the strategies")
        listing = app.screen.query_one("#strategy-list", OptionList)
        listing.focus()
        listing.highlighted = listing.get_option_index("sma_crossover")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.query("#param-short_period"), "the form")
        field = app.screen.query_one("#param-short_period", Input)
        assert app.focused is field
        for target in ["25", "12", "27", "12", "25", "21"]:  # below long_period (30)
            await send_keys(pilot, ["end", "backspace", "backspace", *target], gap)
            assert field.value == target
        await pilot.pause(0.4)  # the chart follows once the typing pauses
        choice = workbench(app).state.strategy
        assert choice is not None and choice.params["short_period"] == 21
        assert field.value == "21"


# -- the built-ins' forms: a choice, a switch, a float step, rules across fields ---------------


class StrategyFormApp(App[None]):
    def __init__(self, strategy_id: str) -> None:
        super().__init__()
        self.strategy_id = strategy_id
        self.service = create_strategy_service()

    def compose(self) -> ComposeResult:
        strategy = self.service.get(self.strategy_id)
        yield SchemaForm(
            strategy.params_schema(),
            values=strategy.params.model_dump(),
            validator=lambda v: self.service.create_with_params(self.strategy_id, v),
            refusals=(StrategyError,),
            id="form",
        )


def bounds_of(app: App, name: str) -> str:
    row = app.query_one(f"#param-{name}-field")
    return str(row.query_one(".schema-bounds", Static).render())


async def test_bollinger_form_draws_a_choice_and_a_float_step() -> None:
    app = StrategyFormApp("bollinger_reversion")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        form = app.query_one(SchemaForm)
        exit_choice = app.query_one("#param-exit", Select)
        assert exit_choice.value == "middle"
        assert bounds_of(app, "num_std") == "0.5 to 5, step 0.1"
        width = app.query_one("#param-num_std", Input)
        assert width.value == "2"
        width.focus()
        await pilot.press("end", ".", "0", "5")  # 2.05: between two steps
        await pilot.pause()
        assert error_text(app, "num_std") == "Give a multiple of 0.1 (2 or 2.1 are nearest)."
        assert not form.valid and width.has_class("-invalid")
        await pilot.press("backspace", "backspace", "backspace", ".", "3")  # 2.3: on a step
        await pilot.pause()
        assert form.valid and form.values["num_std"] == 2.3
        # the choice, by keyboard: open the list, down to "upper", Enter
        exit_choice.focus()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert exit_choice.value == "upper"
        assert form.valid and form.values["exit"] == "upper"
        app.service.create_with_params("bollinger_reversion", form.values)  # what the form holds


async def test_macd_form_has_a_switch_and_shows_fast_below_slow_inline() -> None:
    app = StrategyFormApp("macd")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        form = app.query_one(SchemaForm)
        switch = app.query_one("#param-above_zero_only", Switch)
        assert switch.value is False
        switch.focus()
        await pilot.press("space")
        await pilot.pause()
        assert form.values["above_zero_only"] is True and form.valid
        fast = app.query_one("#param-fast_period", Input)
        slow = app.query_one("#param-slow_period", Input)
        fast.focus()
        await pilot.press("end", "backspace", "backspace", "3", "0")  # fast 30, slow 26
        await pilot.pause()
        sentence = "fast_period must be less than slow_period (got 30 and 26)."
        assert error_text(app, "fast_period") == sentence
        assert error_text(app, "slow_period") == ""
        assert fast.has_class("-invalid") and slow.has_class("-invalid")
        assert not form.valid
        # the user goes to the slow period to fix it there: the sentence follows them
        slow.focus()
        await pilot.press("end", "backspace", "backspace", "2", "8")  # 28: still below 30
        await pilot.pause()
        assert error_text(app, "slow_period") == sentence.replace("26", "28")
        assert error_text(app, "fast_period") == ""
        await pilot.press("backspace", "backspace", "4", "0")
        await pilot.pause()
        assert form.valid and error_text(app, "slow_period") == ""
        assert not fast.has_class("-invalid") and not slow.has_class("-invalid")


async def test_rsi_form_shows_oversold_below_overbought_inline() -> None:
    app = StrategyFormApp("rsi_reversion")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        form = app.query_one(SchemaForm)
        oversold = app.query_one("#param-oversold", Input)
        oversold.focus()
        await pilot.press("end", "backspace", "backspace", "8", "0")
        await pilot.pause()
        assert error_text(app, "oversold") == (
            "oversold must be less than overbought (got 80 and 70).")
        assert app.query_one("#param-overbought", Input).has_class("-invalid")
        assert not form.valid


def test_a_step_keeps_suggested_sweep_values_on_the_grid() -> None:
    specs = {s.name: s for s in field_specs(
        create_strategy_service().get("bollinger_reversion").params_schema())}
    width = specs["num_std"]
    assert (width.kind, width.step, width.bounds) == (NUMBER, 0.1, "0.5 to 5, step 0.1")
    values, problem = parse_range(width, suggest_range(width))
    assert problem is None and len(values) >= 3
    assert all(parse_value(width, str(v)) == (v, None) for v in values)
    assert parse_value(width, "2.05") == (None, "Give a multiple of 0.1 (2 or 2.1 are nearest).")
    assert specs["exit"].kind == CHOICE and specs["exit"].choices == ("middle", "upper")
    macd = {s.name: s for s in field_specs(create_strategy_service().get("macd").params_schema())}
    assert macd["above_zero_only"].kind == BOOLEAN
