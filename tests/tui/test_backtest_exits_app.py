"""Exits in the app: the Strategies place's settings take a stop loss, take profit, trailing
stop and the intrabar order, checked as you type; the results show the ambiguous bars and the
run under the other order; the chart draws a stop, target or trail exit with its own glyph."""

from __future__ import annotations

import numpy as np
from textual.widgets import Input, Select, Static

from kash_tui.domains.trading import IntrabarOrder
from kash_tui.tui.widgets.candles import EXIT_GLYPHS, CandleChart, ChartData, Marker
from kash_tui.tui.widgets.strategies import settings_problems
from kash_tui.tui.widgets.strategies.settings_form import EXIT_FIELDS
from kash_tui.domains.trading import FillModel
from tests.tui.test_strategies_screen import (
    error_of,
    new_app,
    open_strategies,
    pick,
    run_enabled,
    settle,
)


def test_exit_fields_are_optional_percents_checked_by_the_settings() -> None:
    base = {"bt-cash": "10000", "bt-commission": "0", "bt-slippage": "0", "bt-size": "100"}
    settings, problems = settings_problems(base, whole_shares=False,
                                           fill_model=FillModel.NEXT_OPEN)
    assert problems == {} and settings is not None and not settings.has_exits
    texts = {**base, "bt-stop": "2", "bt-target": "5%", "bt-trail": " "}
    settings, problems = settings_problems(texts, whole_shares=False,
                                           fill_model=FillModel.NEXT_OPEN,
                                           intrabar=IntrabarOrder.OPTIMISTIC)
    assert problems == {}
    assert settings is not None
    assert (settings.stop_loss_pct, settings.take_profit_pct, settings.trailing_stop_pct) == (
        2.0, 5.0, None)
    assert settings.intrabar is IntrabarOrder.OPTIMISTIC
    _s, problems = settings_problems({**base, "bt-stop": "x", "bt-trail": "100"},
                                     whole_shares=False, fill_model=FillModel.NEXT_OPEN)
    assert problems["bt-stop"] == "Give a percent, e.g. 5 or leave it empty."
    assert problems["bt-trail"].startswith("Trailing stop must be a percent above 0 and below 100")
    assert [w for w, _n, _e in EXIT_FIELDS] == ["bt-stop", "bt-target", "bt-trail"]


async def test_set_exits_run_read_sensitivity_and_reopen(sqlite_db_url: str) -> None:
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_strategies(pilot)
        await pick(pilot, screen, "sma_crossover")
        screen.query_one("#param-short_period", Input).value = "3"
        screen.query_one("#param-long_period", Input).value = "8"
        screen.query_one("#bt-symbol", Input).value = "DEMOB"

        stop = screen.query_one("#bt-stop", Input)
        stop.value = "150"
        await pilot.pause()
        assert error_of(screen, "bt-stop").startswith(
            "Stop loss must be a percent above 0 and below 100")
        assert "--stop-loss" not in error_of(screen, "bt-stop")  # no command-line advice
        assert stop.has_class("-invalid") and not run_enabled(screen)
        stop.value = "1"
        screen.query_one("#bt-target", Input).value = "1"
        screen.query_one("#bt-intrabar", Select).value = IntrabarOrder.OPTIMISTIC
        await pilot.pause()
        assert error_of(screen, "bt-stop") == "" and run_enabled(screen)

        await pilot.press("f9")
        await settle(pilot)
        (run,) = app.services.trading.list_runs()
        s = run.settings
        assert (s.stop_loss_pct, s.take_profit_pct, s.trailing_stop_pct) == (1.0, 1.0, None)
        assert s.intrabar is IntrabarOrder.OPTIMISTIC
        assert run.ambiguous_bars > 0 and run.sensitivity is not None
        text = str(screen.query_one("#metrics-exits", Static).render())
        assert text.startswith("Exits: stop 1 %, target 1 %.")
        assert f"{run.ambiguous_bars} bars touched stop and target" in text
        assert f"target first {run.metrics.total_return_pct:+,.2f} %" in text
        assert f"stop first {run.sensitivity.total_return_pct:+,.2f} %" in text

        # the fills the chart is handed carry their reasons
        from kash_tui.tui.state import workbench

        report = workbench(app).state.backtest
        assert report is not None
        assert {f.reason for f in report.fills} >= {"signal", "stop", "target"}

        # a run reopened brings its exits back into the settings
        stop.value = ""
        screen.query_one("#bt-target", Input).value = ""
        screen.query_one("#bt-intrabar", Select).value = IntrabarOrder.PESSIMISTIC
        await pilot.pause()
        screen.query_one("#settings-box").load_run(run)  # type: ignore[attr-defined]
        await pilot.pause()
        assert (stop.value, screen.query_one("#bt-target", Input).value) == ("1", "1")
        assert screen.query_one("#bt-intrabar", Select).value is IntrabarOrder.OPTIMISTIC


async def test_a_run_without_exits_shows_no_exit_line(sqlite_db_url: str) -> None:
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_strategies(pilot)
        await pick(pilot, screen, "sma_crossover")
        await pilot.press("f9")
        await settle(pilot)
        assert screen.query_one("#metrics-exits", Static).display is False


def _one_bar_chart(reason: str) -> ChartData:
    n = 40
    close = np.linspace(100.0, 120.0, n)
    return ChartData(
        np.arange(n, dtype=np.int64) * 86_400_000_000_000, close - 0.5, close + 1.0,
        close - 1.0, close, np.full(n, 1000.0), symbol="X", timeframe="1Day",
        markers=(Marker(10, "buy", "fill"), Marker(20, "sell", "fill", reason)),
    )


async def test_the_chart_draws_each_exit_reason_with_its_own_glyph() -> None:
    from textual.app import App, ComposeResult

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield CandleChart(id="chart")

    for reason, glyph in (("signal", "▼"), *((r, g) for r, g in EXIT_GLYPHS.items() if g)):
        app = Host()
        async with app.run_test(size=(80, 24)) as pilot:
            chart = app.query_one(CandleChart)
            chart.set_data(_one_bar_chart(reason))
            await pilot.pause()
            screen_text = "\n".join(
                "".join(seg.text for seg in chart.render_line(y)) for y in range(chart.size.height))
            assert glyph in screen_text, reason
            others = {g for r, g in EXIT_GLYPHS.items() if g and r != reason}
            assert not others & set(screen_text), reason
            assert "▲" in screen_text  # the entry
