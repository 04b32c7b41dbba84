"""The kill switch's question: halt only, or halt and close the position (flatten)."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static


class HaltChoice(StrEnum):
    HALT = "halt"
    """Stop new orders and cancel the open ones; the position stays."""
    FLATTEN = "flatten"
    """The same, and a market order closes the position."""


class HaltModal(ModalScreen[HaltChoice | None]):
    """Asks before the kill switch. Cancel has the focus, so Enter alone halts nothing;
    ``y`` halts, ``f`` halts and flattens, ``n`` or Esc keeps trading."""

    BINDINGS: ClassVar = [
        Binding("y", "answer('halt')", "Halt", id="halt_yes",
                tooltip="Halt: no new orders, open orders cancelled; the position stays"),
        Binding("f", "answer('flatten')", "Halt and flatten", id="halt_flatten",
                tooltip="Halt, cancel the open orders and close the position at market"),
        Binding("n,escape", "answer('')", "No", id="halt_no", tooltip="No, keep it trading"),
    ]

    def __init__(self, question: str, detail: str = "", *, halt_label: str = "Halt",
                 flatten_label: str = "Halt and flatten") -> None:
        super().__init__(classes="kash-modal")
        self.question = question
        self.detail = detail
        self.halt_label = halt_label
        self.flatten_label = flatten_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -danger"):
            yield Static(self.question, classes="dialog-title", markup=False)
            if self.detail:
                yield Static(self.detail, classes="dialog-detail", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.halt_label} (y)", id="halt", variant="error",
                             compact=True)
                yield Button(f"{self.flatten_label} (f)", id="flatten", variant="error",
                             compact=True)
                yield Button("Cancel (n)", id="cancel", compact=True)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_answer("" if event.button.id == "cancel" else str(event.button.id))

    def action_answer(self, choice: str) -> None:
        self.dismiss(HaltChoice(choice) if choice else None)


__all__ = ["HaltChoice", "HaltModal"]
