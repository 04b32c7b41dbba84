"""Which symbol to chart: the stored symbols and the broker's assets, as you type."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from kash_tui.tui.app import KashApp


class SymbolSearch(ModalScreen["str | None"]):
    """Type part of a symbol or name; the stored symbols and the broker's assets (marked
    "Alpaca": their bars are fetched when charted) show as you type. Enter charts the
    highlighted one (or what was typed, when nothing matches)."""

    DEFAULT_CSS = """
    SymbolSearch > .chart-dialog {
        width: 60;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 0 1;
        border: round $primary;
        background: $surface;
    }
    SymbolSearch .chart-dialog-title { text-style: bold; margin-bottom: 1; }
    SymbolSearch #symbol-results {
        height: auto;
        max-height: 12;
        margin-top: 1;
        border: none;
        background: $surface;
    }
    SymbolSearch #symbol-status { height: auto; color: $text-muted; }
    """

    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Cancel", id="chart.search_cancel",
                tooltip="Close the search; the chart keeps its symbol"),
        Binding("down", "move(1)", "Next", show=False, id="chart.search_next",
                tooltip="Highlight the next match"),
        Binding("up", "move(-1)", "Previous", show=False, id="chart.search_previous",
                tooltip="Highlight the previous match"),
    ]

    def __init__(self, current: str = "") -> None:
        super().__init__(classes="kash-modal")
        self.current = current
        self._results_for: str | None = None
        self._pick_when_ready = False
        self._answered = False

    @property
    def kash(self) -> KashApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Vertical(classes="chart-dialog"):
            yield Static("Chart a symbol", classes="chart-dialog-title", markup=False)
            yield Input(placeholder="Symbol or name, e.g. DEMOB", id="symbol-query")
            yield OptionList(id="symbol-results")
            yield Static("Searching…", id="symbol-status", markup=False)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#symbol-results", OptionList).can_focus = False
        self.query_one("#symbol-query", Input).focus()
        self._search("")

    @on(Input.Changed, "#symbol-query")
    def _typed(self, event: Input.Changed) -> None:
        self._search(event.value)

    def _search(self, text: str) -> None:
        needle = text.strip()
        self.kash.call_latest(  # a newer search replaces this one: its matches never show
            self, "search",
            lambda provider: [
                (h.symbol, h.name, h.has_bars) for h in provider.market.search_assets(needle)
            ],
            done=partial(self._show_matches, needle),
        )

    def _show_matches(self, needle: str, found: list[tuple[str, str, bool]]) -> None:
        if self._answered:
            return
        results = self.query_one("#symbol-results", OptionList)
        options = []
        for symbol, name, has_bars in found:
            prompt = Text.assemble((symbol, "bold"), "  ", (name, "dim") if name else "")
            if not has_bars:
                prompt.append("  Alpaca", "italic dim")
            options.append(Option(prompt, id=symbol))
        results.set_options(options)
        results.display = bool(options)
        if options:
            highlight = next(
                (i for i, (symbol, _n, _b) in enumerate(found) if symbol == needle.upper()), 0
            )
            results.highlighted = highlight
        status = self.query_one("#symbol-status", Static)
        if options:
            status.update("Enter charts the highlighted symbol; ↑↓ move.")
        elif needle:
            status.update(f"No stored symbol matches {needle!r}; Enter charts {needle.upper()} "
                          "anyway and says how to get its bars.")
        else:
            status.update("No bars are stored yet: import a CSV with `kash data import`.")
        self._results_for = needle
        if self._pick_when_ready:
            self._pick()

    @on(Input.Submitted, "#symbol-query")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._results_for == event.value.strip():
            self._pick()
        else:  # the matches for what was typed are on their way
            self._pick_when_ready = True

    def _pick(self) -> None:
        self._pick_when_ready = False
        results = self.query_one("#symbol-results", OptionList)
        option = results.highlighted_option if results.option_count else None
        typed = self.query_one("#symbol-query", Input).value.strip().upper()
        choice = option.id if option is not None else typed
        if choice:
            self._answer(choice)

    @on(OptionList.OptionSelected, "#symbol-results")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._answer(event.option.id)

    def action_move(self, step: int) -> None:
        results = self.query_one("#symbol-results", OptionList)
        if step > 0:
            results.action_cursor_down()
        else:
            results.action_cursor_up()

    def action_cancel(self) -> None:
        self._answer(None)

    def _answer(self, symbol: str | None) -> None:
        self._answered = True
        self.dismiss(symbol)


__all__ = ["SymbolSearch"]
