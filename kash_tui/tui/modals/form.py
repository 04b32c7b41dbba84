"""The base of Kash's forms and the field rules they check while typing.

A form checks its fields as you type (the Save button stays disabled while a field is wrong and
the reason shows under the field). On save it calls the service in a thread worker through
``app.call_service``; if the service refuses, its sentence shows in the form and the form stays
open. The form dismisses with the service's result (or ``None`` when cancelled).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Label, Select, Static

from kash_tui.domains.workspace.service import NAME_MAX_LENGTH
from kash_tui.names import unprintable

if TYPE_CHECKING:
    from kash_tui.provider import ServiceProviderProtocol
    from kash_tui.tui.app import KashApp

T = TypeVar("T")
ServiceCall = Callable[["ServiceProviderProtocol"], Any]
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# -- field rules (what can be checked while typing; the service stays the authority) ----------


def name_problem(kind: str, text: str) -> str | None:
    clean = text.strip()
    if not clean:
        return f"Give the {kind} a name."
    if len(clean) > NAME_MAX_LENGTH:
        return f"At most {NAME_MAX_LENGTH} characters ({len(clean)} now)."
    bad = unprintable(clean)
    if bad:
        return f"Remove {bad}."
    return None


def position_size_problem(text: str) -> str | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return "Give a percentage of equity, e.g. 25."
    if not value.is_finite() or value <= 0 or value > 100:
        return "Must be more than 0 and at most 100."
    return None


def env_name_problem(text: str) -> str | None:
    if not _ENV_NAME.match(text.strip()):
        return "An environment variable name: letters, digits and _, e.g. APCA_API_KEY_ID."
    return None


class FormModal(ModalScreen["T | None"], Generic[T]):
    """Base of Kash's forms. Subclasses compose fields with :meth:`field`, list per-field
    problems in :meth:`problems`, and say which service call saves in :meth:`service_call`."""

    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Cancel", id="form_cancel",
                tooltip="Close the form without saving"),
    ]
    SAVE_LABEL: ClassVar[str] = "Save"

    def __init__(self, title: str) -> None:
        super().__init__(classes="kash-modal")
        self.form_title = title
        self._touched: set[str] = set()
        self._busy = False

    @property
    def kash(self) -> KashApp:
        return self.app  # type: ignore[return-value]

    # what subclasses provide
    def compose_fields(self) -> Iterator[Widget]:
        yield from ()

    def problems(self) -> dict[str, str]:
        """Field id -> what is wrong with it, for the fields that are wrong now."""
        return {}

    def service_call(self) -> ServiceCall:
        """Every form subclass must say which service call saves it (abstract)."""
        raise NotImplementedError(f"{type(self).__name__} does not say how it saves")

    def fields_changed(self, widget_id: str | None) -> None:
        """A field changed (``None``: on mount); adjust dependent fields here."""

    # layout helpers
    def field(self, label: str, widget: Widget, note: str = "") -> ComposeResult:
        """A labelled field with a note line (hidden when empty) and an error line under it."""
        with Vertical(classes="field", id=f"{widget.id}-field"):
            with Horizontal(classes="field-row"):
                yield Label(label, classes="field-label")
                yield widget
            note_widget = Static(note, classes="field-note", id=f"{widget.id}-note", markup=False)
            note_widget.display = bool(note)
            yield note_widget
            yield Static("", classes="field-error", id=f"{widget.id}-error", markup=False)

    def set_note(self, widget_id: str, text: str) -> None:
        note = self.query_one(f"#{widget_id}-note", Static)
        note.update(text)
        note.display = bool(text)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form"):
            yield Static(self.form_title, classes="dialog-title", markup=False)
            yield from self.compose_fields()
            refusal = Static("", id="form-error", classes="form-error", markup=False)
            refusal.display = False
            yield refusal
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.SAVE_LABEL, id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.fields_changed(None)
        self.refresh_form()
        first = next(iter(self.query("Input, Select").results()), None)
        if first is not None:
            first.focus()

    # checking as you type
    def refresh_form(self) -> None:
        problems = self.problems()
        for error in self.query(".field-error").results(Static):
            field_id = (error.id or "").removesuffix("-error")
            text = problems.get(field_id, "") if field_id in self._touched else ""
            error.update(text)
            error.display = bool(text)
        save = self.query_one("#save", Button)
        save.disabled = bool(problems) or self._busy
        save.label = "Saving…" if self._busy else self.SAVE_LABEL

    def _show_refusal(self, sentence: str) -> None:
        refusal = self.query_one("#form-error", Static)
        refusal.update(sentence)
        refusal.display = bool(sentence)

    def _changed(self, widget: Widget) -> None:
        if widget.has_focus or widget.id in self._touched:
            self._touched.add(widget.id or "")
        self.fields_changed(widget.id)
        self._show_refusal("")
        self.refresh_form()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._changed(event.input)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._touched.add(event.select.id or "")
        self._changed(event.select)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    # saving
    def action_save(self) -> None:
        if self._busy:
            return
        problems = self.problems()
        self._touched.update(problems)
        self.refresh_form()
        if problems:
            first = next(iter(problems))
            self.query_one(f"#{first}").focus()
            return
        self._busy = True
        self.refresh_form()
        self.kash.call_service(self.service_call(), done=self._saved, failed=self._refused)

    def _saved(self, result: T) -> None:
        if self.is_current:  # not cancelled while the service worked
            self.dismiss(result)

    def _refused(self, sentence: str) -> None:
        if not self.is_current:
            self.app.notify(sentence, severity="error", timeout=10)
            return
        self._busy = False
        self._show_refusal(sentence)
        self.refresh_form()

    def action_cancel(self) -> None:
        self.dismiss(None)

    # values
    def text(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def choice(self, widget_id: str) -> Any:
        value = self.query_one(f"#{widget_id}", Select).value
        return None if value is Select.NULL else value


__all__ = [
    "FormModal", "ServiceCall", "env_name_problem", "name_problem", "position_size_problem",
]
