"""The top line of the Orders place: which portfolio it shows, its mode and its connection."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Label, Select, Static

if TYPE_CHECKING:
    from kash_tui.domains.workspace import Portfolio


class PortfolioBar(Horizontal):
    """``Portfolio [Demo › Paper (PAPER)] PAPER on paper``. Choosing another portfolio posts
    :class:`PortfolioChosen`; the screen makes it the current one."""

    DEFAULT_CSS = """
    PortfolioBar { height: 1; }
    PortfolioBar Label { width: auto; margin: 0 1; color: $text-muted; }
    PortfolioBar #orders-portfolio { width: 42; max-width: 60%; }
    PortfolioBar #orders-mode { width: auto; margin-left: 1; text-style: bold;
                                background: $secondary; color: auto 95%; }
    PortfolioBar #orders-mode.-paper { background: $success; }
    PortfolioBar #orders-mode.-live { background: $error; }
    PortfolioBar #orders-via { width: 1fr; margin-left: 1; color: $text-muted;
                               text-wrap: nowrap; text-overflow: ellipsis; }
    """

    @dataclass
    class PortfolioChosen(Message):
        portfolio_id: int

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._select: Select[int] = Select([], prompt="Choose a portfolio", id="orders-portfolio",
                                           compact=True)
        self._mode = Static("", id="orders-mode", markup=False)
        self._via = Static("", id="orders-via", markup=False)

    def compose(self) -> Iterator[Widget]:
        yield Label("Portfolio")
        yield self._select
        yield self._mode
        yield self._via

    @property
    def select(self) -> Select[int]:
        return self._select

    def fill(self, portfolios: Sequence[Portfolio], current: int | None) -> None:
        """List ``portfolios`` (in this order) and show ``current`` as chosen."""
        options = [(f"{p.workspace_name} › {p.name} ({p.mode.value})", p.id) for p in portfolios]
        # "Choose a portfolio" is a prompt, not a choice: once there is something to choose,
        # the list holds only portfolios (picking the prompt left header and body disagreeing)
        chosen = current is not None and any(p.id == current for p in portfolios)
        select = self._select
        with self.prevent(Select.Changed):  # filling the list chooses nothing
            select._allow_blank = not chosen  # noqa: SLF001 - Select has no setter for it
            select.set_options(options)
            if chosen:
                select.value = current

    def show_mode(self, portfolio: Portfolio | None) -> None:
        """The mode badge (LIVE says it is real money) and the connection it trades on."""
        badge, via = self._mode, self._via
        badge.remove_class("-paper", "-live", "-backtest")
        if portfolio is None:
            badge.display = False
            via.update("")
            return
        mode = portfolio.mode.value
        badge.display = True
        badge.update(f" {mode} " if mode != "LIVE" else " LIVE · REAL MONEY ")
        badge.add_class(f"-{mode.lower()}")
        via.update(f"on {portfolio.connection_name}" if portfolio.connection_name
                   else "read-only")

    def open(self) -> None:
        """Focus the list and drop it down."""
        self._select.focus()
        self._select.expanded = True

    @on(Select.Changed, "#orders-portfolio")
    def _chosen(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is not Select.NULL:
            self.post_message(self.PortfolioChosen(int(event.value)))  # type: ignore[arg-type]


__all__ = ["PortfolioBar"]
