"""The Results tab: a run's title, its metrics beside (from 120 columns) or above the equity
curve with drawdown, and its round trips. The pane scrolls by keyboard down to the trades."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static, TabPane

from kash_tui.domains.trading import BacktestReport
from kash_tui.tui.format import run_title
from kash_tui.tui.widgets.results import EquityCurve, MetricsPanel, RoundTripsTable


class ResultsTab(TabPane):
    """What one backtest run did."""

    SCOPED_CSS = False  # the layout follows the screen's -wide class
    DEFAULT_CSS = """
    ResultsTab #results-scroll { height: 1fr; }
    ResultsTab #run-title { height: auto; padding: 0 1; text-style: bold; }
    ResultsTab #results-top { height: auto; layout: vertical; }
    .-wide ResultsTab #results-top { layout: horizontal; }
    ResultsTab #metrics { padding: 0 1; }
    ResultsTab #equity { padding: 0 1; }
    .-wide ResultsTab #equity { height: 14; }
    ResultsTab #trips { min-height: 10; }
    ResultsTab #results-scroll:focus { background-tint: $foreground 4%; }
    """

    def __init__(self, *, run_key: str) -> None:
        super().__init__("Results", id="tab-results")
        self._run_key = run_key

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="results-scroll", can_focus=True):
            yield Static(f"No run yet: set up a strategy and press {self._run_key}.",
                         id="run-title", markup=False)
            with Horizontal(id="results-top"):
                yield MetricsPanel(id="metrics")
                yield EquityCurve(id="equity")
            yield RoundTripsTable(id="trips")

    def show(self, report: BacktestReport, tz: str, order: Sequence[str]) -> None:
        """``report`` with its times in ``tz`` and its parameters in ``order``."""
        self.query_one("#run-title", Static).update(run_title(report.run, tz, order))
        self.query_one(MetricsPanel).show(report.run)
        self.query_one(EquityCurve).show(report, tz)
        self.query_one(RoundTripsTable).show(report, tz)

    def take_focus(self) -> None:
        """The pane takes the keys: ↓, PgDn and End scroll down to the trades, Tab moves into
        them. The metrics stay in view."""
        pane = self.query_one("#results-scroll", VerticalScroll)
        pane.scroll_home(animate=False)
        pane.focus(scroll_visible=False)


__all__ = ["ResultsTab"]
