"""A yes/no question about an order or a position (closing a position, cancelling an order,
closing a ticket whose order may be at Alpaca); for a LIVE account the symbol is typed first."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Static


class TradeConfirm(ModalScreen[bool]):
    """A yes/no question about an order or a position; "No" has the focus. For a LIVE account
    the user must also type ``typed`` (the symbol) before Yes is possible."""

    DEFAULT_CSS = """
    TradeConfirm { align: center middle; background: $background 60%; }
    TradeConfirm > #confirm-dialog {
        width: 64; max-width: 100%; height: auto; padding: 0 1;
        border: round $warning; background: $surface;
    }
    TradeConfirm > #confirm-dialog.-live { border: heavy $error; }
    TradeConfirm #confirm-title { text-style: bold; margin-bottom: 1; }
    TradeConfirm #confirm-detail { color: $text-muted; margin-bottom: 1; }
    TradeConfirm #confirm-live { background: $error; color: auto 95%; text-style: bold;
                                 text-align: center; width: 100%; margin-bottom: 1; }
    TradeConfirm #confirm-typed { width: 100%; }
    TradeConfirm .dialog-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    TradeConfirm .dialog-buttons Button { margin-left: 2; }
    """

    BINDINGS: ClassVar = [
        Binding("y", "answer(True)", "Yes", id="trade_confirm.yes", tooltip="Yes, do it"),
        Binding("n,escape", "answer(False)", "No", id="trade_confirm.no",
                tooltip="No, leave it as it is"),
    ]

    def __init__(
        self, question: str, detail: str = "", *, yes_label: str = "Yes", no_label: str = "No",
        live: bool = False, typed: str = "",
    ) -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.yes_label = yes_label
        self.no_label = no_label
        self.live = live
        self.typed = typed.upper() if live else ""

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="-live" if self.live else ""):
            yield Static(self.question, id="confirm-title", markup=False)
            if self.live:
                yield Static("LIVE ACCOUNT · REAL MONEY", id="confirm-live", markup=False)
            if self.detail:
                yield Static(self.detail, id="confirm-detail", markup=False)
            if self.typed:
                yield Input(placeholder=f"type {self.typed} to confirm", id="confirm-typed",
                            compact=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes_label} (y)" if not self.typed else self.yes_label,
                             id="yes", variant="error", compact=True,
                             disabled=bool(self.typed))
                yield Button(f"{self.no_label} (n)", id="no", compact=True)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        if self.typed:
            self.query_one("#confirm-typed", Input).focus()
        else:
            self.query_one("#no", Button).focus()

    def _typed_ok(self) -> bool:
        if not self.typed:
            return True
        return self.query_one("#confirm-typed", Input).value.strip().upper() == self.typed

    @on(Input.Changed, "#confirm-typed")
    def _typing(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one("#yes", Button).disabled = not self._typed_ok()

    @on(Input.Submitted, "#confirm-typed")
    def _typed_enter(self, event: Input.Submitted) -> None:
        event.stop()
        if self._typed_ok():
            self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "yes" and not self._typed_ok():
            return
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        if yes and not self._typed_ok():
            return
        self.dismiss(yes)


__all__ = ["TradeConfirm"]
