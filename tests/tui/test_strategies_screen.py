"""The Strategies place: pick, set up, run, read, reopen, sweep; what a user sees and does."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from textual.pilot import Pilot
from textual.widgets import Button, Input, OptionList, Select, Static, Switch, TabbedContent

from kash_tui.config import Settings
from kash_tui.domains.strategy import Indicator, Strategy, StrategyError
from kash_tui.domains.trading import BacktestSettings, FillModel
from kash_tui.tui.app import KashApp, make_app
from kash_tui.tui.places import PLACES
from kash_tui.tui.modals.sweep_form import SweepForm, sweep_plan
from kash_tui.tui.screens.strategies import StrategiesScreen
from kash_tui.tui.widgets.strategies import (
    RunsTable,
    parse_day,
    settings_problems,
    tidy_sentence,
)
from kash_tui.tui.state import workbench
from kash_tui.tui.widgets.results import (
    METRIC_ROWS,
    MetricsPanel,
    RoundTripsTable,
    SweepHeatmap,
    SweepTable,
    area_rows,
    column_buckets,
    format_metric,
    heat_grid,
)
from kash_tui.tui.widgets.schema_form import SchemaForm, field_specs


def test_the_strategies_place_is_this_screen() -> None:
    assert PLACES["strategies"].load() is StrategiesScreen


def new_app(db_url: str) -> KashApp:
    return make_app(Settings(database_url=db_url))


async def settle(pilot: Pilot) -> None:
    """Let the workers finish and the UI take their results (which may start more workers)."""
    for _ in range(6):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def open_strategies(pilot: Pilot) -> StrategiesScreen:
    app: KashApp = pilot.app  # type: ignore[assignment]
    for _ in range(200):
        if app.status == "ready":
            break
        await pilot.pause(0.05)
    assert app.status == "ready", app.startup_problem
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, StrategiesScreen)
    return screen


async def pick(pilot: Pilot, screen: StrategiesScreen, strategy_id: str) -> SchemaForm:
    """Choose a strategy with the keyboard: the list, arrows, Enter."""
    listing = screen.query_one("#strategy-list", OptionList)
    listing.focus()
    await pilot.pause()
    target = listing.get_option_index(strategy_id)
    while listing.highlighted != target:
        await pilot.press("down" if (listing.highlighted or 0) < target else "up")
    await pilot.press("enter")
    await settle(pilot)
    form = screen.form
    assert form is not None and screen.strategy_id == strategy_id
    return form


def error_of(screen: StrategiesScreen, widget_id: str) -> str:
    error = screen.query_one(f"#{widget_id}-error", Static)
    return str(error.render()) if error.display else ""


def run_enabled(screen: StrategiesScreen) -> bool:
    return (
        screen.check_action("run_backtest", ()) is True
        and not screen.query_one("#run-button", Button).disabled
    )


# -- pure helpers ----------------------------------------------------------------------------


def test_settings_are_checked_by_backtest_settings() -> None:
    texts = {"bt-cash": "10000", "bt-commission": "0.001", "bt-slippage": "0",
             "bt-size": "50"}
    settings, problems = settings_problems(texts, whole_shares=True, fill_model=FillModel.CLOSE)
    assert problems == {}
    assert settings == BacktestSettings(initial_cash=10000, commission=0.001, slippage=0,
                                        position_size_pct=50, whole_shares=True,
                                        fill_model=FillModel.CLOSE)
    bad = {**texts, "bt-cash": "-5", "bt-slippage": "x", "bt-size": "150"}
    settings, problems = settings_problems(bad, whole_shares=False, fill_model=FillModel.NEXT_OPEN)
    assert settings is None
    assert problems["bt-cash"] == "Starting cash must be greater than 0 (got -5.0)."
    assert problems["bt-slippage"] == "Give a number, e.g. 0.0005."
    assert problems["bt-size"].startswith("Position size must be a percent of equity")
    assert "--" not in " ".join(problems.values())  # no command-line advice in the TUI


def test_tidy_sentence_and_dates() -> None:
    assert tidy_sentence("Slippage must be x (got 2); pass for example --slippage 0.1.") == (
        "Slippage must be x (got 2).")
    start, problem = parse_day("2024-01-31")
    assert problem is None and start is not None and start.isoformat() == "2024-01-31T00:00:00+00:00"
    end, _ = parse_day("2024-01-31", end=True)
    assert end is not None and end.isoformat() == "2024-01-31T23:59:59+00:00"
    assert parse_day("") == (None, None)
    assert parse_day("31/01/2024")[1] == "Use YYYY-MM-DD, e.g. 2024-01-31, or leave it empty."


def test_sweep_plan() -> None:
    from kash_tui.domains.strategy import create_strategy_service

    specs = field_specs(create_strategy_service().get("sma_crossover").params_schema())
    plan, problems, count = sweep_plan(
        specs, {"short_period": "5:15:5", "long_period": "20:40:20"}, "sharpe")
    assert problems == {} and count == 6
    assert plan is not None and plan.grid == {"short_period": [5, 10, 15], "long_period": [20, 40]}
    plan, problems, _ = sweep_plan(specs, {"short_period": "", "long_period": ""}, "sharpe")
    assert plan is None and problems == {None: "Give a range for at least one parameter."}
    plan, problems, count = sweep_plan(
        specs, {"short_period": "2:150:1", "long_period": "3:150:1"}, "sharpe")
    assert plan is None and count > 5000 and "too many" in (problems[None])


def test_equity_curve_helpers_are_fast_on_many_points() -> None:
    starts = column_buckets(10_000, 70)
    assert len(starts) == 70 and starts[0] == 0 and starts[-1] < 10_000
    assert len(column_buckets(5, 70)) == 5
    assert area_rows(np.array([0, 8, 12, 16]), 2) == ["  ▄█", " ███"]


def test_heat_grid_keeps_the_best_and_leaves_invalid_blank() -> None:
    @dataclasses.dataclass
    class M:
        sharpe: float | None

    @dataclasses.dataclass
    class Row:
        params: dict[str, Any]
        metrics: M

    rows = [
        Row({"a": 1, "b": 10, "c": 0}, M(0.5)),
        Row({"a": 1, "b": 10, "c": 1}, M(0.9)),  # best over the third parameter
        Row({"a": 2, "b": 10, "c": 0}, M(None)),  # undefined: blank
        Row({"a": 2, "b": 20, "c": 0}, M(-0.3)),
    ]
    grid = heat_grid(rows, [1, 2], [10, 20], "a", "b", "sharpe")  # type: ignore[arg-type]
    assert grid == [[0.9, None], [None, -0.3]]


def test_format_metric_is_the_cli_wording() -> None:
    assert format_metric(96.589, " %") == "96.59 %"
    assert format_metric(19658.93) == "19,658.93"
    assert format_metric(44) == "44"
    assert format_metric(None) == "n/a"
    assert format_metric(float("nan")) == "n/a"


# -- the keyboard flow -----------------------------------------------------------------------


async def test_pick_fix_run_read_and_reopen(sqlite_db_url: str) -> None:
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_strategies(pilot)
        assert [i.id for i in screen.infos] == [
            "bollinger_reversion", "donchian_breakout", "macd", "mfi", "rsi_reversion",
            "sma_crossover"]
        assert not run_enabled(screen)  # nothing chosen yet
        form = await pick(pilot, screen, "sma_crossover")
        short = screen.query_one("#param-short_period", Input)
        assert short.has_focus  # Enter on the list moves into the form
        assert run_enabled(screen)
        assert workbench(app).state.strategy is not None
        assert workbench(app).state.strategy.strategy_id == "sma_crossover"

        # short 50 with long 30: the sentence shows next to short_period, Run is disabled
        await pilot.press("5", "0")
        await pilot.pause()
        assert "short_period must be less than long_period (got 50 and 30)" in error_of(
            screen, "param-short_period")
        assert not form.valid
        assert screen.check_action("run_backtest", ()) is None  # shown, but disabled
        assert screen.query_one("#run-button", Button).disabled
        await pilot.press("f9")  # refused while invalid
        await settle(pilot)
        assert app.services.trading.list_runs() == []

        # fixed: the error goes, Run is enabled, the chart gets the parameters
        await pilot.press("backspace", "backspace", "1", "2")
        await pilot.pause()
        assert error_of(screen, "param-short_period") == ""
        assert run_enabled(screen)
        assert workbench(app).state.strategy.params == {"short_period": 12, "long_period": 30}

        # the settings are checked as you type too
        cash = screen.query_one("#bt-cash", Input)
        cash.value = "0"
        await pilot.pause()
        assert error_of(screen, "bt-cash").startswith("Starting cash must be greater than 0")
        assert not run_enabled(screen)
        cash.value = "10000"
        await pilot.pause()
        assert run_enabled(screen)

        # run (F9 works while typing in a field)
        short.focus()
        await pilot.press("f9")
        await settle(pilot)
        runs = app.services.trading.list_runs()
        assert len(runs) == 1
        run = runs[0]
        demo = next(p for p in app.catalog.portfolios if p.name == "Demo backtest")
        assert run.portfolio_id == demo.id == app.current_portfolio.id
        assert run.params == {"short_period": 12, "long_period": 30}
        metrics = screen.query_one("#metrics", MetricsPanel)
        assert metrics.value_of("total_return_pct") == format_metric(
            run.metrics.total_return_pct, " %")
        for _label, key, suffix in METRIC_ROWS:
            assert metrics.value_of(key) == format_metric(getattr(run.metrics, key), suffix)
        trips = screen.query_one("#trips", RoundTripsTable)
        assert trips.row_count == run.metrics.round_trips > 0
        shown = workbench(app).state.backtest
        assert shown is not None and shown.run.id == run.id
        assert workbench(app).state.market.symbol == "DEMOA"
        assert screen.query_one("#st-tabs", TabbedContent).active == "tab-results"
        status = str(screen.query_one("#run-status", Static).render())
        assert status.startswith(f"Run #{run.id} stored under Demo backtest")

        # past runs list it; Enter reopens it into the results and the workbench
        await pilot.press("h")
        runs_table = screen.query_one("#runs", RunsTable)
        assert runs_table.row_count == 1
        assert runs_table.highlighted_key == str(run.id)
        workbench(app).show_backtest(None)
        metrics.show(None)
        assert metrics.value_of("total_return_pct") == "n/a"
        runs_table.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert metrics.value_of("total_return_pct") == format_metric(
            run.metrics.total_return_pct, " %")
        assert workbench(app).state.backtest.run.id == run.id
        assert form.values == {"short_period": 12, "long_period": 30}


async def test_a_run_outside_a_backtest_portfolio_is_filed_under_none(sqlite_db_url: str
                                                                      ) -> None:
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_strategies(pilot)
        app.selection = type(app.selection)(app.selection.workspace_id, None)
        await settle(pilot)
        filed = str(screen.query_one("#bt-filed", Static).render())
        assert "without a portfolio" in filed
        await pick(pilot, screen, "mfi")
        screen.query_one("#bt-fill", Select).value = FillModel.CLOSE
        await pilot.pause()
        await pilot.press("f9")
        await settle(pilot)
        runs = app.services.trading.list_runs()
        assert len(runs) == 1 and runs[0].portfolio_id is None
        assert runs[0].settings.fill_model is FillModel.CLOSE
        assert screen.query_one("#runs", RunsTable).row_count == 1  # all runs when none
        fill = screen.query_one("#metrics-fill", Static)
        assert fill.has_class("-optimistic") and "OPTIMISTIC" in str(fill.render())


async def test_progress_comes_from_the_worker_thread(sqlite_db_url: str) -> None:
    import asyncio

    from textual.widgets import ProgressBar

    app = new_app(sqlite_db_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_strategies(pilot)
        await pick(pilot, screen, "sma_crossover")
        progress = screen._start("backtest", "Running…")  # noqa: SLF001
        bar = screen.query_one("#run-progress", ProgressBar)
        assert bar.display and not run_enabled(screen)
        await asyncio.to_thread(progress, 2, 4)
        await pilot.pause()
        assert (bar.progress, bar.total) == (2, 4)
        screen._finish()  # noqa: SLF001
        assert not bar.display and run_enabled(screen)


async def test_a_refusal_shows_its_sentence(sqlite_db_url: str) -> None:
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_strategies(pilot)
        await pick(pilot, screen, "sma_crossover")
        screen.query_one("#bt-symbol", Input).value = "NOPE"
        await pilot.pause()
        await pilot.press("f9")
        await settle(pilot)
        status = screen.query_one("#run-status", Static)
        assert status.has_class("-error")
        assert "NOPE" in str(status.render())
        assert "unexpected" not in str(status.render())
        assert app.services.trading.list_runs() == []


async def test_sweep_ranks_valid_combinations_and_draws_a_heatmap(sqlite_db_url: str) -> None:
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_strategies(pilot)
        await pick(pilot, screen, "sma_crossover")
        await pilot.press("f8")
        await pilot.pause()
        sweep_form = app.screen
        assert isinstance(sweep_form, SweepForm)
        assert sweep_form.query_one("#sweep-short_period", Input).value == "5:20:5"
        sweep_form.query_one("#sweep-short_period", Input).value = "10:30:10"
        sweep_form.query_one("#sweep-long_period", Input).value = "20:40:20"
        await pilot.pause()
        assert "6 combinations" in str(sweep_form.query_one("#sweep-count", Static).render())
        await pilot.press("f9")
        await settle(pilot)
        assert app.screen is screen
        report = screen.sweep_report
        assert report is not None and report.rank_by == "sharpe"
        valid = [(s, lp) for s in (10, 20, 30) for lp in (20, 40) if s < lp]
        table = screen.query_one("#sweep-table", SweepTable)
        assert len(report.rows) == len(valid) == 4 and len(report.skipped) == 2
        assert table.row_count == len(valid)
        sharpes = [r.metrics.sharpe for r in report.rows]
        assert sharpes == sorted(sharpes, reverse=True)
        heatmap = screen.query_one("#heatmap", SweepHeatmap)
        assert heatmap.cells_filled == len(valid)
        assert (heatmap.x, heatmap.y) == ("long_period", "short_period")
        drawn = heatmap.render().plain
        assert "Sharpe: long_period across, short_period down" in drawn and "·" in drawn  # the invalid ones are blank
        assert screen.query_one("#st-tabs", TabbedContent).active == "tab-sweep"
        assert app.services.trading.list_runs() == []  # a sweep stores nothing

        # Enter on a ranked row loads its parameters into the form
        table.focus()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert screen.form is not None
        assert screen.form.values == report.rows[1].params
        assert screen.query_one("#st-tabs", TabbedContent).active == "tab-setup"


# -- at 80x24: everything reachable and whole ------------------------------------------------


async def run_sma(pilot: Pilot) -> StrategiesScreen:
    screen = await open_strategies(pilot)
    await pick(pilot, screen, "sma_crossover")
    await pilot.press("f9")
    await settle(pilot)
    return screen


async def test_the_results_scroll_by_keyboard_down_to_the_trades_at_80x24(
    sqlite_db_url: str,
) -> None:
    """After a run the results pane has the keys: PgDn/End/Down scroll it so the trades come
    into view, Tab moves into the trades (they used to be out of reach at 80x24)."""
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await run_sma(pilot)
        pane = screen.query_one("#results-scroll")
        trips = screen.query_one("#trips", RoundTripsTable)
        assert pane.has_focus and pane.scroll_y == 0
        assert pane.max_scroll_y > 0  # the trades start below the fold
        assert not pane.region.contains_region(trips.region)
        for key in ("pagedown", "end"):
            await pilot.press(key)
            await pilot.pause()
        assert pane.scroll_y == pane.max_scroll_y > 0
        await pilot.press("home")
        await pilot.pause()
        assert pane.scroll_y == 0
        await pilot.press("down")
        await pilot.pause()
        assert pane.scroll_y > 0
        await pilot.press("tab")
        await pilot.pause()
        assert trips.has_focus
        visible = trips.region.intersection(pane.region)
        assert visible.height >= 4  # header and rows of trades on screen
        await pilot.press("down", "down")
        await pilot.pause()
        assert trips.cursor_row == 2


async def test_status_lines_wrap_instead_of_ending_in_an_ellipsis_at_80x24(
    sqlite_db_url: str,
) -> None:
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_strategies(pilot)
        await pick(pilot, screen, "sma_crossover")
        status = screen.query_one("#run-status", Static)
        screen.query_one("#param-long_period", Input).value = "5"  # below short: invalid
        await pilot.pause()
        text = str(status.render())
        assert text == "Fix the parameters to run."
        assert status.region.width * status.region.height >= len(text)
        screen.query_one("#param-long_period", Input).value = "30"
        await pilot.press("f9")
        await settle(pilot)
        text = str(status.render())
        assert text.startswith("Run #1 stored under Demo backtest: total return ")
        assert text.endswith(" %.")
        assert status.region.height >= 2  # wrapped, not cut
        assert status.region.bottom <= 23  # above the footer


async def test_a_huge_metric_keeps_its_unit_on_its_line(sqlite_db_url: str) -> None:
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await run_sma(pilot)
        assert screen.report is not None
        run = screen.report.run
        huge = dataclasses.replace(run, metrics=dataclasses.replace(
            run.metrics, cagr_pct=22752.42, total_return_pct=1234567.89))
        panel = screen.query_one("#metrics", MetricsPanel)
        panel.show(huge)
        await pilot.pause()
        for key, text in (("cagr_pct", "22,752.42 %"), ("total_return_pct", "1,234,567.89 %")):
            label = panel.query_one(f"#metric-{key}")
            assert panel.value_of(key) == text
            assert label.region.height == 1 and label.region.width >= len(text), key


async def test_equity_and_drawdown_are_apart_at_160x48(sqlite_db_url: str) -> None:
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await run_sma(pilot)
        lines = screen.query_one("#equity").render().plain.split("\n")
        zero = next(i for i, line in enumerate(lines) if line.strip().startswith("0 %"))
        assert lines[zero - 1].strip() == ""  # a blank row between the two charts
        assert lines[zero - 2][:8].strip()  # the equity's low label, not beside "0 %"


async def sweep(pilot: Pilot, screen: StrategiesScreen, short: str, long: str) -> None:
    await pilot.press("f8")
    await pilot.pause()
    form = pilot.app.screen
    assert isinstance(form, SweepForm)
    form.query_one("#sweep-short_period", Input).value = short
    form.query_one("#sweep-long_period", Input).value = long
    await pilot.pause()
    await pilot.press("f9")
    await settle(pilot)
    assert pilot.app.screen is screen


def heatmap_cells(drawn: str) -> list[str]:
    """The rows of the heatmap's cells (after the title and the x values, before the legend)."""
    return drawn.split("\n")[2:-1]


@pytest.mark.parametrize("theme", ["kash-dark", "kash-16"])
async def test_the_heatmap_says_something_without_colour(
    sqlite_db_url: str, theme: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Values when the cells have room, else shades worst ░ .. best █, and a legend with the
    worst and best values, at 80x24; with NO_COLOR or 16 colours the text alone carries it."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(80, 24)) as pilot:
        app.theme = theme
        screen = await open_strategies(pilot)
        await pick(pilot, screen, "sma_crossover")
        await sweep(pilot, screen, "5:15:5", "20:40:10")  # 3 x 3: room for the values
        heatmap = screen.query_one("#heatmap", SweepHeatmap)
        drawn = heatmap.render().plain
        legend = drawn.split("\n")[-1]
        assert "worst " in legend and " best " in legend and "░▒▓█" in legend
        best = max(r.metrics.sharpe for r in screen.sweep_report.rows)
        assert f"{best:.2f}" in "\n".join(heatmap_cells(drawn))
        assert heatmap.region.bottom <= 23 and heatmap.region.height >= drawn.count("\n") + 1

        await sweep(pilot, screen, "5:20:5", "21:60:3")  # 14 columns: too narrow for values
        drawn = heatmap.render().plain
        cells = "".join(heatmap_cells(drawn))
        assert {"░", "█"} <= set(cells)  # worst and best told apart without colour
        assert "worst " in drawn.split("\n")[-1]


async def test_sweep_form_counts_only_valid_ranges_and_states_the_limit(
    sqlite_db_url: str,
) -> None:
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_strategies(pilot)
        await pick(pilot, screen, "sma_crossover")
        await pilot.press("f8")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, SweepForm)
        from kash_tui.domains.trading import MAX_SWEEP_COMBINATIONS

        count = form.query_one("#sweep-count", Static)
        assert str(count.render()).startswith(
            f"20 combinations (at most {MAX_SWEEP_COMBINATIONS:,})")
        # one limit, the trading domain's, on the whole grid (no 200-values-per-parameter cap)
        form.query_one("#sweep-short_period", Input).value = "2:301"
        form.query_one("#sweep-long_period", Input).value = "400"
        await pilot.pause()
        assert str(count.render()).startswith("300 combinations")
        assert not form.query_one("#save", Button).disabled
        form.query_one("#sweep-long_period", Input).value = "400:500"
        await pilot.pause()
        assert f"at most {MAX_SWEEP_COMBINATIONS:,}" in str(
            form.query_one("#form-error", Static).render())
        assert form.query_one("#save", Button).disabled
        form.query_one("#sweep-short_period", Input).value = "x"
        await pilot.pause()
        text = str(count.render())
        assert "combinations;" not in text and "skipped" not in text
        assert text.startswith("Fix the ranges marked above")
        assert form.query_one("#save", Button).disabled


async def test_sweep_rows_say_why_a_win_rate_is_missing(sqlite_db_url: str) -> None:
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_strategies(pilot)
        await pick(pilot, screen, "sma_crossover")
        await sweep(pilot, screen, "5:10:5", "20:30:10")
        report = screen.sweep_report
        first = report.rows[0]
        only_open = dataclasses.replace(first, metrics=dataclasses.replace(
            first.metrics, round_trips=1, win_rate_pct=None))
        table = screen.query_one("#sweep-table", SweepTable)
        table.show(dataclasses.replace(report, rows=[only_open, *report.rows[1:]]))
        labels = [str(c.label) for c in table.columns.values()]
        assert "Win % closed" in labels and "Trips" in labels
        row = [str(c) for c in table.get_row_at(0)]
        assert row[labels.index("Trips")].strip() == "1"
        assert row[labels.index("Win % closed")].strip() == "none closed"


# -- a strategy the TUI has never heard of ---------------------------------------------------


class ToyParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    lookback: int = Field(default=20, ge=2, le=200, title="Lookback",
                          description="Bars to look back.")
    threshold: float = Field(default=0.5, gt=0, le=1, title="Threshold")
    long_only: bool = Field(default=True, title="Long only", description="Never sell short.")
    price: Literal["close", "open", "typical"] = Field(default="close", title="Price")


class ToyStrategy:
    """A test-only strategy, written against the Strategy Protocol and a pydantic model."""

    id = "zz_toy"
    name = "Toy strategy"
    description = "Registered by a test; never trades."
    default_timeframe = "1Day"

    def __init__(self, params: ToyParams | None = None) -> None:
        self.params = params or ToyParams()

    def params_schema(self) -> dict[str, Any]:
        return ToyParams.model_json_schema()

    def with_params(self, params: Mapping[str, Any]) -> Strategy:
        try:
            return ToyStrategy(ToyParams.model_validate({**self.params.model_dump(), **params}))
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            raise StrategyError(f"{first['loc'][0]}: {first['msg']}.") from None

    def generate_signals(self, bars: Any) -> np.ndarray:
        return np.zeros(len(bars.close), dtype=np.int8)

    def indicators(self, bars: Any) -> list[Indicator]:
        return []


async def test_a_newly_registered_strategy_gets_its_form(sqlite_db_url: str) -> None:
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_strategies(pilot)
        assert "zz_toy" not in [i.id for i in screen.infos]
        app.services.strategy.register(ToyStrategy)
        await pilot.press("f7")  # reload
        await settle(pilot)
        assert [i.id for i in screen.infos][-1] == "zz_toy"
        form = await pick(pilot, screen, "zz_toy")
        assert screen.query_one("#param-lookback", Input).value == "20"
        assert screen.query_one("#param-threshold", Input).value == "0.5"
        assert screen.query_one("#param-long_only", Switch).value is True
        price = screen.query_one("#param-price", Select)
        assert price.value == "close"
        assert form.valid and run_enabled(screen)
        screen.query_one("#param-lookback", Input).value = "1"
        await pilot.pause()
        assert "greater than or equal to 2" in error_of(screen, "param-lookback")
        assert not run_enabled(screen)


async def test_palette_commands(sqlite_db_url: str) -> None:
    from kash_tui.tui.commands import COMMAND_SOURCES

    app = new_app(sqlite_db_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_strategies(pilot)
        commands = {c.title: c for source in COMMAND_SOURCES for c in source(app)}
        assert {"Strategy: SMA crossover", "Strategy: Money Flow Index", "Run backtest",
                "Sweep parameters"} <= set(commands)
        await pilot.press("1")  # elsewhere: the command comes back here with the strategy
        await pilot.pause()
        commands["Strategy: Money Flow Index"].run()
        await settle(pilot)
        assert app.screen is screen and screen.strategy_id == "mfi"
        commands["Run backtest"].run()
        await settle(pilot)
        assert [r.strategy_id for r in app.services.trading.list_runs()] == ["mfi"]


def test_every_binding_has_an_id_and_a_tooltip() -> None:
    for cls in (StrategiesScreen, SweepForm):
        for binding in cls.BINDINGS:
            assert binding.id and binding.id.startswith("strategies."), binding
            assert binding.tooltip, binding
            assert binding.key != "ctrl+enter"


# -- how it looks ----------------------------------------------------------------------------


def _chosen(strategy_id: str):  # noqa: ANN202
    async def run_before(pilot: Pilot) -> None:
        screen = await open_strategies(pilot)
        await pick(pilot, screen, strategy_id)
        screen.query_one("#strategy-list", OptionList).focus()
        await pilot.pause()

    return run_before


def _after_backtest(pilot_size: tuple[int, int]):  # noqa: ANN202
    async def run_before(pilot: Pilot) -> None:
        screen = await open_strategies(pilot)
        await pick(pilot, screen, "sma_crossover")
        await pilot.press("f9")
        await settle(pilot)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_sma_crossover_chosen(snap_compare, sqlite_db_url: str,
                                       size: tuple[int, int]) -> None:
    assert snap_compare(new_app(sqlite_db_url), terminal_size=size,
                        run_before=_chosen("sma_crossover"))


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_after_backtest(snap_compare, sqlite_db_url: str,
                                 size: tuple[int, int]) -> None:
    assert snap_compare(new_app(sqlite_db_url), terminal_size=size,
                        run_before=_after_backtest(size))


async def test_a_robust_sweep_ranks_by_the_worst_neighbour_and_marks_both_bests(
    sqlite_db_url: str,
) -> None:
    """The form ranks by robust:sharpe; the table shows each row's worst neighbour, and the
    heatmap marks the best raw cell (*) and the best robust cell (r), named in its legend."""
    from textual.widgets import Select

    app = new_app(sqlite_db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_strategies(pilot)
        await pick(pilot, screen, "sma_crossover")
        await pilot.press("f8")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, SweepForm)
        form.query_one("#sweep-short_period", Input).value = "5:30:5"
        form.query_one("#sweep-long_period", Input).value = "20:80:20"
        form.query_one("#sweep-rank", Select).value = "robust:sharpe"
        await pilot.pause()
        await pilot.press("f9")
        await settle(pilot)
        report = screen.sweep_report
        assert report is not None and report.rank_by == "robust:sharpe"
        worsts = [r.robust_worst for r in report.rows]
        assert worsts == sorted(worsts, reverse=True)
        table = screen.query_one("#sweep-table", SweepTable)
        headers = [str(c.label) for c in table.columns.values()]
        assert headers[-2:] == ["Worst Sharpe", "Median"]
        assert table.get_row_at(0)[-2].plain == f"{report.rows[0].robust_worst:.2f}"
        heatmap = screen.query_one("#heatmap", SweepHeatmap)
        drawn = heatmap.render().plain
        assert drawn.startswith("Worst neighbour Sharpe: long_period across")
        best, robust = report.best_raw(), report.best_robust()
        assert best is not robust  # this grid's sharpest cell is not its steadiest
        cells = heatmap_cells(drawn)
        row_of = {v: j for j, v in enumerate(report.grid["short_period"])}
        assert "*" in cells[row_of[best.params["short_period"]]]
        assert "r" in cells[row_of[robust.params["short_period"]]]
        assert "* best" in drawn.split("\n")[-1] and "r best robust" in drawn.split("\n")[-1]
