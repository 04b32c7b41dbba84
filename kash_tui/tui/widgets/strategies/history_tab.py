"""The History tab: past runs and walk-forwards of the current portfolio (or all of them),
newest first.

Enter on a run posts :class:`HistoryTab.RunChosen`, on a walk-forward
:class:`HistoryTab.WalkForwardChosen`; the screen reopens it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Static, TabPane

from kash_tui.domains.trading import BacktestRun, WalkForwardRun
from kash_tui.tui.widgets.strategies.runs_table import RunsTable

if TYPE_CHECKING:
    from kash_tui.domains.workspace import Portfolio


class HistoryTab(TabPane):
    """A line saying whose runs these are, and the runs."""

    DEFAULT_CSS = """
    HistoryTab .hint { color: $text-muted; height: auto; padding: 0 1; }
    HistoryTab #runs { height: 1fr; }
    """

    class RunChosen(Message):
        """The user asked to reopen the stored run ``run_id``."""

        def __init__(self, tab: HistoryTab, run_id: int) -> None:
            super().__init__()
            self.tab = tab
            self.run_id = run_id

        @property
        def control(self) -> HistoryTab:
            return self.tab

    class WalkForwardChosen(Message):
        """The user asked to reopen the stored walk-forward ``wf{run_id}``."""

        def __init__(self, tab: HistoryTab, run_id: int) -> None:
            super().__init__()
            self.tab = tab
            self.run_id = run_id

        @property
        def control(self) -> HistoryTab:
            return self.tab

    def __init__(self, *, run_key: str) -> None:
        super().__init__("History", id="tab-history")
        self._run_key = run_key

    def compose(self) -> ComposeResult:
        yield Static("", id="runs-title", classes="hint", markup=False)
        yield RunsTable(id="runs")

    @property
    def table(self) -> RunsTable:
        return self.query_one(RunsTable)

    def _set_title(self, text: str) -> None:
        self.query_one("#runs-title", Static).update(text)

    def show_owner(self, portfolio: Portfolio | None) -> None:
        """The runs to come are ``portfolio``'s (None: all runs)."""
        self._set_title(
            f"Runs of {portfolio.workspace_name} › {portfolio.name}, newest first; "
            "Enter reopens one." if portfolio is not None
            else "All runs (the current portfolio is not a BACKTEST one); Enter reopens one."
        )

    def show(self, runs: list[BacktestRun], order: Callable[[str], Sequence[str]],
             walks: Sequence[WalkForwardRun] = ()) -> None:
        """``runs`` and ``walks``, their parameters in ``order(strategy_id)``."""
        self.table.show(runs, order, walks)
        if not runs and not walks:
            self._set_title("No runs yet for this portfolio: set up a strategy and press "
                        f"{self._run_key}.")

    @on(DataTable.RowSelected, "#runs")
    def _run_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value
        if key is not None and key.startswith("wf"):
            self.post_message(self.WalkForwardChosen(self, int(key[2:])))
        elif key is not None:
            self.post_message(self.RunChosen(self, int(key)))


__all__ = ["HistoryTab"]
