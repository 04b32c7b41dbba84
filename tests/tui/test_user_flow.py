"""A new user's first session, end to end, with the keyboard only (80x24).

Fresh database -> a workspace and a BACKTEST portfolio of their own -> DEMOB on the chart ->
SMA crossover set up (a wrong parameter first) -> a backtest filed under the new portfolio ->
its fills on the chart, a zoomed view that survives a reload.

Every step asserts what the user sees (the screen's text, the widgets on it) and, where the
step changes something, what the services stored.
"""

from __future__ import annotations

from decimal import Decimal

from textual.pilot import Pilot
from textual.widgets import (
    Button,
    DataTable,
    Input,
    Label,
    OptionList,
    Static,
    TabbedContent,
)

from kash_tui.config import Settings
from kash_tui.domains.workspace import PortfolioMode
from kash_tui.tui.app import KashApp, make_app
from kash_tui.tui.modals import NameForm, PortfolioForm, SymbolSearch
from kash_tui.tui.screens.chart import ChartScreen
from kash_tui.tui.widgets import ChartHeader
from kash_tui.tui.screens.strategies import StrategiesScreen
from kash_tui.tui.screens.workspaces import WorkspacesScreen
from kash_tui.tui.state import workbench
from kash_tui.tui.widgets.candles import CandleChart
from kash_tui.tui.widgets.results import MetricsPanel, format_metric

SIZE = (80, 24)


# -- helpers ---------------------------------------------------------------------------------


async def settle(pilot: Pilot) -> None:
    """Let the workers finish and the UI take their results (which may start more workers)."""
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def type_text(pilot: Pilot, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


def screen_text(app: KashApp) -> str:
    """What the terminal shows now, one line per row."""
    strips = app.screen._compositor.render_strips()  # noqa: SLF001 - read only, to assert
    return "\n".join(strip.text for strip in strips)


def header_text(app: KashApp) -> str:
    header = app.screen.query_one("#kash-header")
    return " ".join(str(s.render()) for s in header.query(Static) if s.display)


def chart_of(app: KashApp) -> CandleChart:
    return app.screen.query_one("#chart", CandleChart)


def chart_header(app: KashApp) -> str:
    return str(app.screen.query_one("#chart-header", ChartHeader).render())


def visible_times(chart: CandleChart) -> tuple[int, int]:
    start, end = chart.visible
    assert chart.data is not None and end > start
    return int(chart.data.timestamps_ns[start]), int(chart.data.timestamps_ns[end - 1])


def row_names(table: DataTable) -> list[str]:
    return [str(table.get_row_at(i)[0]).strip(" ●") for i in range(table.row_count)]


def error_of(screen: StrategiesScreen, widget_id: str) -> str:
    error = screen.query_one(f"#{widget_id}-error", Static)
    return str(error.render()) if error.display else ""


def run_enabled(screen: StrategiesScreen) -> bool:
    return (
        screen.check_action("run_backtest", ()) is True
        and not screen.query_one("#run-button", Button).disabled
    )


# -- the flow --------------------------------------------------------------------------------


async def test_a_new_user_sets_up_runs_and_charts_a_backtest(sqlite_db_url: str) -> None:
    app = make_app(Settings(database_url=sqlite_db_url))
    async with app.run_test(size=SIZE) as pilot:
        # 1. a fresh database: the Workspaces place, with the Demo workspace -------------------
        await settle(pilot)
        assert app.status == "ready", app.startup_problem
        screen = app.screen
        assert isinstance(screen, WorkspacesScreen)
        workspaces = screen.query_one("#workspaces", DataTable)
        assert row_names(workspaces) == ["Demo"]
        assert app.focused is workspaces
        assert "Demo › Demo backtest" in header_text(app)
        assert "Demo" in screen_text(app)
        assert "Opening the database" not in screen_text(app)

        # 2. a workspace "Research" through its form ------------------------------------------
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, NameForm)
        assert "New workspace" in screen_text(app)
        await type_text(pilot, "Research")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert row_names(workspaces) == ["Demo", "Research"]
        assert workspaces.highlighted_key == str(app.catalog.workspace_named("Research").id)
        assert "Research" in screen_text(app)

        # ...then a BACKTEST portfolio "Swing" with position size 25 in it
        await pilot.press("enter")  # into the portfolios of the highlighted workspace
        portfolios = screen.query_one("#portfolios", DataTable)
        assert app.focused is portfolios
        assert "No portfolios in Research" in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, PortfolioForm)
        assert "New portfolio in Research" in screen_text(app)
        await type_text(pilot, "Swing")
        await pilot.press("tab")  # mode: BACKTEST is the default
        assert form.focused is form.query_one("#mode")
        await pilot.press("tab")  # position size, its "100" selected: typing replaces it
        size = form.query_one("#size", Input)
        assert form.focused is size
        await type_text(pilot, "25")
        assert size.value == "25"
        assert not form.query_one("#save", Button).disabled
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert app.focused is portfolios
        assert row_names(portfolios) == ["Swing"]
        swing_row = [str(cell) for cell in portfolios.get_row_at(0)]
        assert swing_row[1:3] == ["BACKTEST", "25"]
        # still on the Demo portfolio until the user says otherwise
        assert "Demo › Demo backtest" in header_text(app)

        # ...and makes it the current portfolio
        await pilot.press("u")
        await pilot.pause()
        header = header_text(app)
        assert "Research › Swing" in header
        assert "BACKTEST" in header
        assert "Research › Swing" in screen_text(app)

        research = app.services.workspace.get_workspace("Research")
        assert research.portfolio_count == 1
        [swing] = app.services.workspace.list_portfolios("Research")
        assert swing.name == "Swing"
        assert swing.mode is PortfolioMode.BACKTEST
        assert swing.position_size_pct == Decimal("25")
        assert swing.connection_id is None
        assert app.current_portfolio is not None and app.current_portfolio.id == swing.id

        # 3. the chart: search DEMOB and pick it -----------------------------------------------
        await pilot.press("f2")
        await settle(pilot)
        chart_screen = app.screen
        assert isinstance(chart_screen, ChartScreen)
        chart = chart_of(app)
        assert chart.data is not None and chart.data.symbol == "DEMOA"  # the default
        assert "Research › Swing" in header_text(app)

        await pilot.press("s")
        await settle(pilot)
        search = app.screen
        assert isinstance(search, SymbolSearch)
        await type_text(pilot, "DEMOB")
        await settle(pilot)
        assert search.query_one("#symbol-query", Input).value == "DEMOB"
        results = search.query_one("#symbol-results", OptionList)
        assert [results.get_option_at_index(i).id for i in range(results.option_count)] == [
            "DEMOB"]
        assert results.highlighted_option is not None
        assert results.highlighted_option.id == "DEMOB"
        assert "DEMOB" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is chart_screen
        assert chart.data is not None
        assert (chart.data.symbol, chart.data.timeframe) == ("DEMOB", "1Day")
        assert len(chart.data) > 0
        assert chart_header(app).startswith("DEMOB 1Day")
        assert screen_text(app).splitlines()[1].lstrip().startswith("DEMOB 1Day")
        assert app.focused is chart

        # 4. Strategies: SMA crossover, a wrong short period, then a right one ----------------
        await pilot.press("f3")
        await settle(pilot)
        strategies = app.screen
        assert isinstance(strategies, StrategiesScreen)
        listing = strategies.query_one("#strategy-list", OptionList)
        assert app.focused is listing
        assert [i.id for i in strategies.infos] == [
            "bollinger_reversion", "donchian_breakout", "macd", "mfi", "rsi_reversion",
            "sma_crossover"]
        assert not run_enabled(strategies)  # nothing chosen yet
        # the backtest settings follow the chart's symbol and the portfolio's size
        assert strategies.query_one("#bt-symbol", Input).value == "DEMOB"
        assert strategies.query_one("#bt-size", Input).value == "25"
        assert "Runs are stored under Research › Swing." in str(
            strategies.query_one("#bt-filed", Static).render())

        await pilot.press("end")  # SMA crossover is the last of the six, sorted by id
        assert listing.highlighted_option is not None
        assert listing.highlighted_option.id == "sma_crossover"
        await pilot.press("enter")
        await settle(pilot)
        assert strategies.strategy_id == "sma_crossover"
        short = strategies.query_one("#param-short_period", Input)
        long = strategies.query_one("#param-long_period", Input)
        assert app.focused is short
        assert (short.value, long.value) == ("10", "30")
        assert run_enabled(strategies)

        await type_text(pilot, "60")  # the "10" is selected: typing replaces it
        await pilot.pause()
        assert short.value == "60"
        error = error_of(strategies, "param-short_period")
        assert "short_period must be less than long_period (got 60 and 30)" in error
        shown = screen_text(app)  # under the field, wrapped at 80 columns
        assert "short_period must be less than" in shown
        assert "long_period (got 60 and 30)." in shown
        assert strategies.check_action("run_backtest", ()) is None  # shown, but disabled
        assert strategies.query_one("#run-button", Button).disabled
        assert "Fix the parameters to run." in str(
            strategies.query_one("#run-status", Static).render())
        await pilot.press("f9")  # refused while the parameters are wrong
        await settle(pilot)
        assert app.services.trading.list_runs() == []
        assert strategies.query_one("#st-tabs", TabbedContent).active == "tab-setup"

        await pilot.press("backspace", "backspace")
        await type_text(pilot, "10")
        await pilot.pause()
        assert short.value == "10"
        assert error_of(strategies, "param-short_period") == ""
        assert run_enabled(strategies)
        assert "Ready:" in str(strategies.query_one("#run-status", Static).render())

        # 5. run it (F9, still in the field) ---------------------------------------------------
        await pilot.press("f9")
        await settle(pilot)
        assert app.screen is strategies
        assert strategies.query_one("#st-tabs", TabbedContent).active == "tab-results"
        runs = app.services.trading.list_runs(swing.id)
        assert len(runs) == 1
        [run] = runs
        assert run.portfolio_id == swing.id
        assert run.symbol == "DEMOB"
        assert run.timeframe == "1Day"
        assert run.strategy_id == "sma_crossover"
        assert run.params == {"short_period": 10, "long_period": 30}
        assert run.settings.position_size_pct == 25
        assert len(app.services.trading.list_runs()) == 1  # nothing stored elsewhere

        # The metrics panel's own text. Not the terminal's: at 80x24 the Results tab is
        # sometimes scrolled down to the round trips (focusing #trips scrolls it into view,
        # depending on whether the tab was laid out yet), which hides the metrics.
        metrics = strategies.query_one("#metrics", MetricsPanel)
        metrics_text = " ".join(str(label.render()) for label in metrics.query(Label))
        total_return = format_metric(run.metrics.total_return_pct, " %")
        assert "Total return" in metrics_text
        assert total_return in metrics_text
        assert metrics.value_of("total_return_pct") == total_return
        assert "n/a" not in metrics.value_of("final_equity")
        assert "Round trips" in metrics_text and metrics.value_of("round_trips") != "0"
        status = str(strategies.query_one("#run-status", Static).render())
        assert status.startswith(f"Run #{run.id} stored under Swing")
        report = strategies.report
        assert report is not None and report.run.id == run.id
        assert len(report.fills) > 0
        assert workbench(app).state.backtest is report

        # 6. back to the chart: the run's fills are marked; a zoomed view survives a reload ---
        await pilot.press("f2")
        await settle(pilot)
        assert app.screen is chart_screen
        assert app.focused is chart
        data = chart.data
        assert data is not None and (data.symbol, data.timeframe) == ("DEMOB", "1Day")
        fills = [m for m in data.markers if m.source == "fill"]
        assert len(fills) == len(report.fills)
        expected = {(int(report.timestamps[f.bar_index]), f.side) for f in report.fills}
        assert {(int(data.timestamps_ns[m.index]), m.kind) for m in fills} == expected
        assert [s.name for s in data.overlays] == ["SMA(10)", "SMA(30)"]
        assert f"run #{run.id}: {len(report.fills)} fills" in chart_header(app)

        full = chart.visible
        await pilot.press("plus", "plus")
        await pilot.pause()
        start, end = chart.visible
        assert end - start < full[1] - full[0]  # zoomed in
        before = visible_times(chart)
        old_data = chart.data

        await pilot.press("r")
        await settle(pilot)
        assert chart.data is not old_data  # read again
        assert visible_times(chart) == before
        data = chart.data
        assert data is not None
        assert sum(m.source == "fill" for m in data.markers) == len(report.fills)
        assert f"run #{run.id}: {len(report.fills)} fills" in chart_header(app)
        assert "Research › Swing" in header_text(app)
