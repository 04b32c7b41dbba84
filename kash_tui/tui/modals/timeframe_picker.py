"""Which timeframe to chart a symbol in."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option


class TimeframePicker(ModalScreen["str | None"]):
    """The timeframes stored for a symbol (all of them with an Alpaca connection: the missing
    ones are fetched); Enter picks the highlighted one."""

    DEFAULT_CSS = """
    TimeframePicker > .chart-dialog {
        width: 40;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 0 1;
        border: round $primary;
        background: $surface;
    }
    TimeframePicker .chart-dialog-title { text-style: bold; margin-bottom: 1; }
    TimeframePicker #timeframes { height: auto; max-height: 10; border: none; }
    TimeframePicker #timeframe-note { height: auto; color: $text-muted; margin-top: 1; }
    """

    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Cancel", id="chart.timeframe_cancel",
                tooltip="Close without changing the timeframe"),
    ]

    def __init__(
        self, symbol: str, timeframes: list[str], current: str,
        note: str = "Only the timeframes stored for this symbol are offered.",
    ) -> None:
        super().__init__(classes="kash-modal")
        self.symbol = symbol
        self.timeframes = list(timeframes)
        self.current = current
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="chart-dialog"):
            yield Static(f"Timeframe for {self.symbol}", classes="chart-dialog-title",
                         markup=False)
            options = [
                Option(f"{tf}  (on screen)" if tf == self.current else tf, id=tf)
                for tf in self.timeframes
            ]
            yield OptionList(*options, id="timeframes")
            yield Static(self.note, id="timeframe-note", markup=False)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        picker = self.query_one("#timeframes", OptionList)
        if self.current in self.timeframes:
            picker.highlighted = self.timeframes.index(self.current)
        picker.focus()

    @on(OptionList.OptionSelected, "#timeframes")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


__all__ = ["TimeframePicker"]
