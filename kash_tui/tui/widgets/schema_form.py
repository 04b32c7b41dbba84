"""A form for any strategy's parameters, built from the JSON Schema of its pydantic model.

Nothing here knows a strategy: the schema says what each field is (``type``, ``title``,
``description``, ``default``, bounds, ``enum``), and a validator callback given by the screen (the
strategy service's ``create_with_params``) says whether the values go together. Its refusal is a
sentence naming the field(s); each sentence shows once, under the field the user is in when it
names that one, else under the first it names, or on the form's own error line when it names
none; every field a sentence names is marked invalid (a rule across fields, e.g. ``fast_period
must be less than slow_period``, marks both). A ``multipleOf`` (float step) is shown with the
bounds and checked as you type.

The pure helpers (:func:`field_specs`, :func:`parse_value`, :func:`assign_errors`,
:func:`suggest_range`, :func:`parse_range`) hold the schema reading and text parsing; the widget
(:class:`SchemaForm`) lays the fields out and posts :class:`SchemaForm.Changed` on every change.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, Switch

from kash_tui.tui.format import number_text  # re-exported: forms and tests read it from here

INTEGER, NUMBER, BOOLEAN, CHOICE, TEXT = "integer", "number", "boolean", "choice", "text"

MAX_SWEEP_VALUES = 200
"""Values one swept parameter may take in a form (the grid multiplies them)."""


# -- reading a schema ------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One parameter as the form shows it."""

    name: str
    kind: str  # INTEGER | NUMBER | BOOLEAN | CHOICE | TEXT
    title: str
    description: str = ""
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    step: float | None = None  # JSON Schema ``multipleOf``: values are whole multiples of it
    choices: tuple[Any, ...] = ()
    nullable: bool = False
    required: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def numeric(self) -> bool:
        return self.kind in (INTEGER, NUMBER)

    @property
    def bounds(self) -> str:
        """``"2 to 500"``, ``"at least 0"``, ``"above 0, at most 100"``, ``"0.5 to 5, step
        0.1"`` or ``""``."""
        text = self._range_text()
        if self.step is None or not self.numeric:
            return text
        step = f"step {number_text(self.step)}"
        return f"{text}, {step}" if text else step

    def _range_text(self) -> str:
        low = high = ""
        if self.minimum is not None:
            low = number_text(self.minimum)
        if self.maximum is not None:
            high = number_text(self.maximum)
        if low and high:
            return f"{low} to {high}"
        parts = []
        if low:
            parts.append(f"at least {low}")
        elif self.exclusive_minimum is not None:
            parts.append(f"above {number_text(self.exclusive_minimum)}")
        if high:
            parts.append(f"at most {high}")
        elif self.exclusive_maximum is not None:
            parts.append(f"below {number_text(self.exclusive_maximum)}")
        return ", ".join(parts)

    @property
    def low(self) -> float | None:
        """The smallest value allowed (for an exclusive bound, just above it)."""
        if self.minimum is not None:
            return self.minimum
        if self.exclusive_minimum is not None:
            return self.exclusive_minimum + (1 if self.kind == INTEGER else 0)
        return None

    @property
    def high(self) -> float | None:
        if self.maximum is not None:
            return self.maximum
        if self.exclusive_maximum is not None:
            return self.exclusive_maximum - (1 if self.kind == INTEGER else 0)
        return None


def _resolve(node: Mapping[str, Any], root: Mapping[str, Any], depth: int = 0) -> dict[str, Any]:
    """Inline ``$ref`` (``#/$defs/...``) and single-item ``allOf``; the field's own keys win."""
    out = dict(node)
    if depth > 8:
        return out
    ref = out.pop("$ref", None)
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        if isinstance(target, Mapping):
            out = {**_resolve(target, root, depth + 1), **out}
    all_of = out.pop("allOf", None)
    if isinstance(all_of, list):
        merged: dict[str, Any] = {}
        for item in all_of:
            if isinstance(item, Mapping):
                merged.update(_resolve(item, root, depth + 1))
        out = {**merged, **out}
    return out


def _choices_of(options: list[Any], root: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The values of an ``anyOf``/``oneOf`` made only of ``const``/``enum`` items, else None."""
    values: list[Any] = []
    for option in options:
        if not isinstance(option, Mapping):
            return None
        option = _resolve(option, root)
        if "const" in option:
            values.append(option["const"])
        elif isinstance(option.get("enum"), list):
            values.extend(option["enum"])
        else:
            return None
    return tuple(values)


def _is_null(node: Any) -> bool:
    return isinstance(node, Mapping) and node.get("type") == "null"


def field_spec(name: str, node: Mapping[str, Any], root: Mapping[str, Any] | None = None,
               *, required: bool = False) -> FieldSpec:
    """What one property of a JSON Schema becomes in the form."""
    root = root if root is not None else {}
    prop = _resolve(node, root)
    nullable = False
    kind = TEXT
    choices: tuple[Any, ...] = ()
    options = prop.get("anyOf", prop.get("oneOf"))
    if isinstance(options, list):
        non_null = [o for o in options if not _is_null(o)]
        nullable = len(non_null) < len(options)
        found = _choices_of(non_null, root)
        if found is not None:
            kind, choices = CHOICE, found
        elif len(non_null) == 1 and isinstance(non_null[0], Mapping):
            prop = {**_resolve(non_null[0], root), **{k: v for k, v in prop.items()
                                                       if k not in ("anyOf", "oneOf")}}
    types = prop.get("type")
    if isinstance(types, list):
        nullable = nullable or "null" in types
        types = next((t for t in types if t != "null"), None)
    if kind != CHOICE:
        if isinstance(prop.get("enum"), list):
            kind, choices = CHOICE, tuple(prop["enum"])
        elif "const" in prop:
            kind, choices = CHOICE, (prop["const"],)
        elif types == "integer":
            kind = INTEGER
        elif types == "number":
            kind = NUMBER
        elif types == "boolean":
            kind = BOOLEAN

    def num(key: str) -> float | None:
        value = prop.get(key)
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    title = prop.get("title") if isinstance(prop.get("title"), str) else None
    description = prop.get("description") if isinstance(prop.get("description"), str) else ""
    known = {"type", "title", "description", "default", "minimum", "maximum", "exclusiveMinimum",
             "exclusiveMaximum", "multipleOf", "enum", "const", "anyOf", "oneOf"}
    step = num("multipleOf")
    return FieldSpec(
        name=name,
        kind=kind,
        title=title or name.replace("_", " ").capitalize(),
        description=description,
        default=prop.get("default"),
        minimum=num("minimum"),
        maximum=num("maximum"),
        exclusive_minimum=num("exclusiveMinimum"),
        exclusive_maximum=num("exclusiveMaximum"),
        step=step if step is not None and step > 0 else None,
        choices=choices,
        nullable=nullable,
        required=required,
        extra={k: v for k, v in prop.items() if k not in known},
    )


def field_specs(schema: Mapping[str, Any]) -> list[FieldSpec]:
    """Every property of an object schema, in the schema's order."""
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return []
    required = set(schema.get("required") or ())
    return [
        field_spec(name, node if isinstance(node, Mapping) else {}, schema,
                   required=name in required)
        for name, node in properties.items()
    ]


def initial_text(spec: FieldSpec, value: Any) -> str:
    """What an Input shows for ``value``."""
    if value is None:
        return ""
    return number_text(value) if spec.numeric else str(value)


def parse_value(spec: FieldSpec, text: str) -> tuple[Any, str | None]:
    """``(value, None)`` or ``(None, problem)`` for what was typed in a text field."""
    clean = text.strip()
    if not clean:
        if spec.nullable:
            return None, None
        if spec.kind == TEXT:
            return "", None
        what = "a whole number" if spec.kind == INTEGER else "a number"
        return None, f"Give {what}" + (f", {spec.bounds}." if spec.bounds else ".")
    if spec.kind == INTEGER:
        try:
            return int(clean), None
        except ValueError:
            return None, "Give a whole number, e.g. " + number_text(spec.default or 10) + "."
    if spec.kind == NUMBER:
        try:
            value = float(clean)
        except ValueError:
            return None, "Give a number, e.g. " + number_text(spec.default or 0.5) + "."
        if not math.isfinite(value):
            return None, "Give a finite number."
        problem = off_step(spec, value)
        return (None, problem) if problem else (value, None)
    return clean, None


def off_step(spec: FieldSpec, value: float) -> str | None:
    """The problem with ``value`` when it is not a whole multiple of the field's step (within
    rounding, as pydantic allows), naming the two nearest values; else None."""
    step = spec.step
    if step is None:
        return None
    ratio = value / step
    if abs(ratio - round(ratio)) <= 1e-9 * max(1.0, abs(ratio)):
        return None
    below = math.floor(ratio) * step
    nearest = [round(v, 10) for v in (below, below + step)]
    return (f"Give a multiple of {number_text(step)} "
            f"({number_text(nearest[0])} or {number_text(nearest[1])} are nearest).")


# -- errors: which field a sentence is about -------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Za-z_'\"(])")


def split_sentences(message: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(message.strip()) if s.strip()]


def named_fields(sentence: str, names: list[str]) -> list[str]:
    """The field names ``sentence`` mentions as whole words, in the order they appear."""
    found = []
    for name in names:
        match = re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", sentence)
        if match:
            found.append((match.start(), name))
    return [name for _, name in sorted(found)]


def assign_errors(
    message: str, names: list[str], prefer: str | None = None
) -> dict[str | None, str]:
    """Each sentence of ``message`` under the field it names first (``None``: names none).

    A sentence that also names ``prefer`` (the field the user is in) goes under that one
    instead: a rule across two fields (``fast_period must be less than slow_period``) shows
    where the user is looking, whichever of the two they changed."""
    found: dict[str | None, list[str]] = {}
    for sentence in split_sentences(message):
        named = named_fields(sentence, names)
        owner = prefer if prefer in named else (named[0] if named else None)
        if owner is not None and sentence.startswith(f"{owner}:"):
            sentence = sentence[len(owner) + 1:].strip()  # the field shows next to it already
            sentence = sentence[:1].upper() + sentence[1:]
        found.setdefault(owner, []).append(sentence)
    return {k: " ".join(v) for k, v in found.items()}


# -- sweep ranges ----------------------------------------------------------------------------


def _nice_step(span: float, integer: bool) -> float:
    """A round step giving about four intervals over ``span``."""
    raw = span / 4 if span > 0 else 1
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * 0.75)
    return max(1, round(step)) if integer else step


def suggest_range(spec: FieldSpec, value: Any = None) -> str:
    """``START:STOP:STEP`` around ``value`` (or the default), inside the bounds."""
    if not spec.numeric:
        return ""
    integer = spec.kind == INTEGER
    centre = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if centre is None:
        centre = spec.default if isinstance(spec.default, (int, float)) else spec.low or 1
    low, high = spec.low, spec.high
    if centre > 0:
        start, stop = centre / 2, centre * 2
    else:
        start, stop = centre, centre + (10 if integer else 1)
    if low is not None:
        start = max(start, low)
    if high is not None:
        stop = min(stop, high)
    if stop <= start:
        return number_text(centre)
    step = _nice_step(stop - start, integer)
    if spec.step is not None and not integer:
        step = max(spec.step, round(step / spec.step) * spec.step)  # values stay on the grid
    start = math.ceil(start / step - 1e-9) * step
    if low is not None and start < low:
        start += step
    stop = start + math.floor((stop - start) / step + 1e-9) * step
    if integer:
        return f"{int(start)}:{int(stop)}:{int(step)}"
    return ":".join(number_text(round(v, 10)) for v in (start, stop, step))


def parse_range(
    spec: FieldSpec, text: str, *, limit: int = MAX_SWEEP_VALUES
) -> tuple[list[Any], str | None]:
    """``START:STOP:STEP`` (inclusive), ``START:STOP`` (step 1), ``a|b|c`` or one value.

    An empty text means "not swept": ``([], None)``."""
    clean = text.strip()
    if not clean:
        return [], None
    integer = spec.kind == INTEGER
    example = suggest_range(spec) or "5:50:5"

    def one(piece: str) -> int | float:
        piece = piece.strip()
        if integer:
            return int(piece)
        value = float(piece)
        if not math.isfinite(value):
            raise ValueError(piece)
        return value

    try:
        if "|" in clean:
            return [one(p) for p in clean.split("|") if p.strip()], None
        pieces = clean.split(":")
        if len(pieces) == 1:
            return [one(pieces[0])], None
        if len(pieces) > 3:
            raise ValueError(clean)
        start, stop = one(pieces[0]), one(pieces[1])
        step = one(pieces[2]) if len(pieces) == 3 else 1
    except ValueError:
        kind = "whole numbers" if integer else "numbers"
        return [], f"Write START:STOP:STEP in {kind}, e.g. {example}."
    if step <= 0:
        return [], "The step must be more than 0."
    if stop < start:
        return [], f"The range runs backwards ({number_text(start)} to {number_text(stop)})."
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    if count > limit:
        return [], f"{count:,} values; use a larger step (at most {limit:,})."
    if integer:
        return [int(start + i * step) for i in range(count)], None
    return [round(start + i * step, 10) for i in range(count)], None


# -- the widget ------------------------------------------------------------------------------


def _widget_id(name: str) -> str:
    return "param-" + re.sub(r"[^A-Za-z0-9_-]", "_", name)


class SchemaForm(Vertical):
    """Fields for a JSON Schema; validates on every change and posts :class:`Changed`."""

    DEFAULT_CSS = """
    SchemaForm {
        height: auto;
    }
    SchemaForm .schema-field {
        height: auto;
        margin-bottom: 1;
    }
    SchemaForm .schema-row {
        height: auto;
    }
    SchemaForm .schema-label {
        width: 18;
        padding-right: 1;
        color: $text-muted;
    }
    SchemaForm .schema-row Input {
        width: 14;
    }
    SchemaForm .schema-row Select {
        width: 24;
    }
    SchemaForm .schema-row Switch {
        border: none;
        height: 1;
        padding: 0;
        margin-right: 1;
        background: $surface;
    }
    SchemaForm .schema-row Switch:focus {
        border: none;
        background: $primary 40%;
    }
    SchemaForm .schema-bounds {
        width: 1fr;
        padding-left: 1;
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    SchemaForm .schema-help {
        padding-left: 18;
        color: $text-muted;
    }
    SchemaForm .schema-error, SchemaForm .schema-form-error {
        padding-left: 18;
        color: $text-error;
    }
    SchemaForm .schema-form-error {
        padding-left: 0;
        text-style: bold;
    }
    SchemaForm .schema-empty {
        color: $text-muted;
    }
    """

    class Changed(Message):
        """The values changed (or the form was mounted): ``valid`` when the validator took them."""

        def __init__(self, form: SchemaForm, values: dict[str, Any], valid: bool) -> None:
            super().__init__()
            self.form = form
            self.values = values
            self.valid = valid

        @property
        def control(self) -> SchemaForm:
            return self.form

    EMPTY_TEXT: ClassVar[str] = "No parameters to set."

    def __init__(
        self,
        schema: Mapping[str, Any],
        *,
        values: Mapping[str, Any] | None = None,
        validator: Callable[[dict[str, Any]], object] | None = None,
        refusals: tuple[type[BaseException], ...] = (ValueError,),
        id: str | None = None,  # noqa: A002
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.schema = dict(schema)
        self.specs = field_specs(schema)
        self.validator = validator
        self.refusals = refusals
        given = dict(values or {})
        self._initial = {s.name: given.get(s.name, s.default) for s in self.specs}
        self.values: dict[str, Any] = {}
        self.errors: dict[str | None, str] = {}
        self.flagged: set[str] = set()  # fields a refusal names (marked invalid)
        self.valid = False
        self._shown: dict[Static, str] = {}
        self._typing: str | None = None  # the field the user is typing in (focused and edited)

    # layout

    def _field_widget(self, spec: FieldSpec, value: Any) -> Widget:
        wid = _widget_id(spec.name)
        tip = spec.description or None
        if spec.kind == BOOLEAN:
            return Switch(bool(value), id=wid, tooltip=tip, animate=False)
        if spec.kind == CHOICE:
            options = [(number_text(v) if not isinstance(v, str) else v, v) for v in spec.choices]
            keep = value if value in spec.choices else Select.NULL
            return Select(options, value=keep, allow_blank=spec.nullable or keep is Select.NULL,
                          id=wid, compact=True, tooltip=tip)
        input_type = {INTEGER: "integer", NUMBER: "number"}.get(spec.kind, "text")
        return Input(initial_text(spec, value), type=input_type, id=wid, compact=True,
                     tooltip=tip, select_on_focus=True)

    def compose(self) -> ComposeResult:
        if not self.specs:
            yield Static(self.EMPTY_TEXT, classes="schema-empty", markup=False)
        for spec in self.specs:
            wid = _widget_id(spec.name)
            with Vertical(classes="schema-field", id=f"{wid}-field"):
                with Horizontal(classes="schema-row"):
                    yield Label(spec.title, classes="schema-label", markup=False)
                    yield self._field_widget(spec, self._initial.get(spec.name))
                    yield Static(spec.bounds, classes="schema-bounds", markup=False)
                if spec.description:
                    yield Static(spec.description, classes="schema-help", markup=False)
                error = Static("", classes="schema-error", id=f"{wid}-error", markup=False)
                error.display = False
                yield error
        form_error = Static("", classes="schema-form-error", id="schema-form-error", markup=False)
        form_error.display = False
        yield form_error

    def on_mount(self) -> None:
        self.check()

    # values

    def widget_for(self, name: str) -> Widget:
        return self.query_one(f"#{_widget_id(name)}")

    def _read(self) -> tuple[dict[str, Any], dict[str, str]]:
        values: dict[str, Any] = {}
        local: dict[str, str] = {}
        for spec in self.specs:
            widget = self.widget_for(spec.name)
            if isinstance(widget, Switch):
                values[spec.name] = widget.value
            elif isinstance(widget, Select):
                if widget.value is Select.NULL:
                    if spec.nullable:
                        values[spec.name] = None
                    else:
                        local[spec.name] = "Choose one."
                else:
                    values[spec.name] = widget.value
            elif isinstance(widget, Input):
                value, problem = parse_value(spec, widget.value)
                if problem:
                    local[spec.name] = problem
                else:
                    values[spec.name] = value
        return values, local

    def check(self) -> bool:
        """Read, validate, show the problems, post :class:`Changed`; returns ``valid``."""
        values, local = self._read()
        errors: dict[str | None, str] = dict(local)
        flagged: set[str] = set()
        if self.validator is not None:
            try:
                self.validator(dict(values))
            except self.refusals as exc:
                names = [s.name for s in self.specs]
                message = str(exc)
                prefer = self._focused_field()
                for owner, text in assign_errors(message, names, prefer).items():
                    if owner in local:
                        continue  # what was typed is not a number yet: say that first
                    if owner is not None and owner not in values and owner in names:
                        continue
                    errors[owner] = f"{errors[owner]} {text}" if owner in errors else text
                # every field a shown sentence names is marked, not only the one it sits under
                for sentence in split_sentences(message):
                    named = named_fields(sentence, names)
                    if named and not any(n in local for n in named):
                        flagged.update(named)
        self.values = values
        self.errors = errors
        self.flagged = flagged
        self.valid = not errors
        self._show_errors()
        self.post_message(self.Changed(self, dict(values), self.valid))
        return self.valid

    def _show_errors(self) -> None:
        # Only what changed: updating a Static lays the whole screen out again, and this runs
        # on every keystroke.
        for spec in self.specs:
            wid = _widget_id(spec.name)
            self._show_error(self.query_one(f"#{wid}-error", Static), self.errors.get(spec.name, ""))
            invalid = spec.name in self.errors or spec.name in self.flagged
            self.widget_for(spec.name).set_class(invalid, "-invalid")
        self._show_error(self.query_one("#schema-form-error", Static), self.errors.get(None, ""))

    def _show_error(self, widget: Static, text: str) -> None:
        if self._shown.get(widget) != text:
            self._shown[widget] = text
            widget.update(text)
            widget.display = bool(text)

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Put ``values`` into the fields (others keep theirs), then check once.

        The field the user is typing in keeps what they typed: a value arriving from elsewhere
        (the workbench echoing an earlier keystroke) never overwrites it.
        """
        with self.prevent(Input.Changed, Switch.Changed, Select.Changed):
            for spec in self.specs:
                if spec.name not in values or spec.name == self.typing:
                    continue
                value = values[spec.name]
                widget = self.widget_for(spec.name)
                if isinstance(widget, Switch):
                    widget.value = bool(value)
                elif isinstance(widget, Select):
                    widget.value = value if value in spec.choices else Select.NULL
                elif isinstance(widget, Input):
                    widget.value = initial_text(spec, value)
        self.check()

    def _focused_field(self) -> str | None:
        """The field whose widget (or a part of it, e.g. a Select's list) has the focus."""
        focused = self.app.focused if self.is_attached else None
        while focused is not None and focused is not self:
            if focused.id and focused.id.startswith("param-"):
                return next((s.name for s in self.specs if _widget_id(s.name) == focused.id), None)
            focused = focused.parent  # type: ignore[assignment]
        return None

    def focus_first(self) -> None:
        first = next(iter(self.query("Input, Select, Switch").results()), None)
        if first is not None:
            first.focus()

    def fields(self) -> Iterator[FieldSpec]:
        yield from self.specs

    # changes from the fields

    @property
    def typing(self) -> str | None:
        """The name of the field the user has typed in since it got the focus, or None."""
        name = self._typing
        if name is None:
            return None
        widget = self.widget_for(name)
        return name if widget.has_focus else None

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.input.has_focus:
            self._typing = next((s.name for s in self.specs
                                 if _widget_id(s.name) == event.input.id), None)
        self.check()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if self._typing is not None and event.widget is self.widget_for(self._typing):
            self._typing = None

    def on_switch_changed(self, event: Switch.Changed) -> None:
        event.stop()
        self.check()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.check()


__all__ = [
    "BOOLEAN",
    "CHOICE",
    "INTEGER",
    "NUMBER",
    "TEXT",
    "FieldSpec",
    "SchemaForm",
    "assign_errors",
    "field_spec",
    "field_specs",
    "initial_text",
    "named_fields",
    "number_text",
    "off_step",
    "parse_range",
    "parse_value",
    "split_sentences",
    "suggest_range",
]
