"""The Walk-forward tab: the last walk-forward run or reopened: its title, the stitched
out-of-sample result with the walk-forward efficiency, the stitched equity beside (from 120
columns) or above the parameters chosen over time, and the windows. The pane scrolls by
keyboard down to the windows, like the Results tab."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static, TabPane

from kash_tui.domains.trading import WalkForwardReport
from kash_tui.tui.widgets.walkforward import (
    ParamsOverTime,
    StitchedEquity,
    WindowsTable,
    summary_text,
    walk_forward_title,
)


class WalkForwardTab(TabPane):
    """What one walk-forward found."""

    SCOPED_CSS = False  # the layout follows the screen's -wide class
    DEFAULT_CSS = """
    WalkForwardTab #wf-scroll { height: 1fr; }
    WalkForwardTab #wf-title { height: auto; padding: 0 1; text-style: bold; }
    WalkForwardTab #wf-summary { height: auto; padding: 0 1; }
    WalkForwardTab #wf-top { height: auto; layout: vertical; }
    .-wide WalkForwardTab #wf-top { layout: horizontal; }
    WalkForwardTab #wf-equity { padding: 0 1; height: 10; }
    .-wide WalkForwardTab #wf-equity { height: 14; }
    WalkForwardTab #wf-scroll:focus { background-tint: $foreground 4%; }
    """

    def __init__(self, *, walk_key: str) -> None:
        super().__init__("Walk-forward", id="tab-walkforward")
        self._walk_key = walk_key
        self.report: WalkForwardReport | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="wf-scroll", can_focus=True):
            yield Static(f"No walk-forward yet: set up a strategy and press {self._walk_key}; "
                         "History reopens stored ones (wfN).", id="wf-title", markup=False)
            yield Static("", id="wf-summary", markup=False)
            with Horizontal(id="wf-top"):
                yield StitchedEquity(id="wf-equity")
                yield ParamsOverTime(id="wf-params")
            yield WindowsTable(id="wf-windows")

    @property
    def windows_table(self) -> WindowsTable:
        return self.query_one(WindowsTable)

    @property
    def summary(self) -> str:
        return str(self.query_one("#wf-summary", Static).render())

    def show(self, report: WalkForwardReport, tz: str, order: Sequence[str]) -> None:
        """``report`` with its times in ``tz`` and its parameters in ``order``."""
        self.report = report
        self.query_one("#wf-title", Static).update(walk_forward_title(report, tz))
        self.query_one("#wf-summary", Static).update(summary_text(report))
        self.query_one(StitchedEquity).show_walk_forward(report, tz)
        self.query_one(ParamsOverTime).show(report, order)
        self.windows_table.show(report, tz, order)

    def take_focus(self) -> None:
        """The pane takes the keys: ↓, PgDn and End scroll down to the windows, Tab moves into
        them."""
        pane = self.query_one("#wf-scroll", VerticalScroll)
        pane.scroll_home(animate=False)
        pane.focus(scroll_visible=False)


__all__ = ["WalkForwardTab"]
