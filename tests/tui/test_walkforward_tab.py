"""The Strategies place's Walk-forward tab and the sweep form's out-of-sample share: what a
user types, sees and reopens, on the demo data."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static, TabbedContent

from kash_tui.tui.modals.sweep_form import SweepForm
from kash_tui.tui.modals.walkforward_form import WalkForwardForm
from kash_tui.tui.screens.strategies import StrategiesScreen
from kash_tui.tui.widgets.strategies import RunsTable
from kash_tui.tui.widgets.walkforward import WindowsTable
from tests.tui.test_strategies_screen import new_app, open_strategies, pick, settle


def text_of(screen: object, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())  # type: ignore[attr-defined]


async def type_into(pilot: Pilot, field: Input, text: str) -> None:
    """Focus ``field``, clear it and type ``text`` key by key."""
    field.focus()
    await pilot.pause()
    field.value = ""
    for char in text:
        await pilot.press(char)
    await pilot.pause()


async def open_walk_form(pilot: Pilot) -> tuple[StrategiesScreen, WalkForwardForm]:
    screen = await open_strategies(pilot)
    await pick(pilot, screen, "sma_crossover")
    await pilot.press("f11")  # works from the parameters' text field
    await pilot.pause()
    form = pilot.app.screen
    assert isinstance(form, WalkForwardForm)
    return screen, form


async def walk(pilot: Pilot, short: str = "5:15:5", long: str = "20:40:20",
               train: str = "2y", test: str = "6m") -> StrategiesScreen:
    screen, form = await open_walk_form(pilot)
    form.query_one("#sweep-short_period", Input).value = short
    form.query_one("#sweep-long_period", Input).value = long
    await type_into(pilot, form.query_one("#opt-train", Input), train)
    await type_into(pilot, form.query_one("#opt-test", Input), test)
    await pilot.press("f9")
    await settle(pilot)
    assert pilot.app.screen is screen
    return screen


async def test_the_form_checks_the_lengths_as_you_type(sqlite_db_url: str) -> None:
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(80, 24)) as pilot:
        _screen, form = await open_walk_form(pilot)
        train, test = form.query_one("#opt-train", Input), form.query_one("#opt-test", Input)
        assert (train.value, test.value) == ("2y", "6m")  # daily bars: years and months
        start = form.query_one("#save", Button)
        assert not start.disabled

        await type_into(pilot, train, "3x")
        assert text_of(form, "#opt-train-error") == (
            "Training '3x' is not a length; give a number of bars (e.g. 5000) or a duration "
            "such as 90d, 12w, 6m or 2y.")
        assert start.disabled
        await pilot.press("f9")  # refused: the form stays
        assert app.screen is form

        await type_into(pilot, train, "")
        assert text_of(form, "#opt-train-error").startswith("Give the training length")
        await type_into(pilot, train, "500")
        assert text_of(form, "#opt-train-error") == ""
        assert text_of(form, "#opt-train-note") == "Each training part is 500 bars."

        await type_into(pilot, test, "0")
        assert text_of(form, "#opt-test-error").startswith("Test '0' is not a length;")
        await type_into(pilot, test, "12w")
        assert text_of(form, "#opt-test-note") == "Each test part is 12w (calendar)."
        assert not start.disabled

        form.query_one("#sweep-short_period", Input).value = "5:x"
        await pilot.pause()
        assert "Fix the ranges marked above" in text_of(form, "#sweep-count")
        assert start.disabled
        form.query_one("#sweep-short_period", Input).value = "5:15:5"
        await pilot.pause()
        assert text_of(form, "#sweep-count").startswith(
            "15 combinations ranked per training part")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, StrategiesScreen)
        assert app.services.trading.list_walk_forwards() == []


async def test_a_walk_forward_on_the_demo_data_shows_its_windows_and_efficiency(
    sqlite_db_url: str,
) -> None:
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await walk(pilot)
        stored = app.services.trading.list_walk_forwards()
        assert len(stored) == 1
        report = screen.walk_report
        assert report is not None and report.id == stored[0].id
        assert screen.query_one("#st-tabs", TabbedContent).active == "tab-walkforward"
        assert report.train.spec == "24m" and report.test.spec == "6m"
        assert report.grid == {"short_period": [5, 10, 15], "long_period": [20, 40]}

        table = screen.query_one("#wf-windows", WindowsTable)
        headers = [str(c.label) for c in table.columns.values()]
        assert headers == ["#", "Test", "short_period", "long_period", "IS Sharpe",
                           "OOS Sharpe", "OOS return %", "WFE", "Train"]
        assert table.row_count == len(report.windows) > 5
        first = report.windows[0]
        row = [str(c) for c in table.get_row_at(0)]
        assert row[1] == f"{first.test_first:%Y-%m-%d}..{first.test_last:%Y-%m-%d}"
        assert row[2:4] == [str(first.params["short_period"]), str(first.params["long_period"])]
        assert row[4] == f"{first.train.sharpe:.2f}"

        summary = screen.walkforward_tab.summary
        eff = report.efficiency
        assert (f"Walk-forward efficiency {eff:.2f}" if eff is not None
                else "Walk-forward efficiency n/a") in summary
        assert f"return {report.metrics.total_return_pct:,.2f} %" in summary
        params = text_of(screen, "#wf-params")
        last = report.windows[-1].params
        assert "short_period" in params and f"5..15, last {last['short_period']}" in params
        assert "wf1 stored" in text_of(screen, "#run-status")


async def test_a_stored_walk_forward_reopens_from_history(sqlite_db_url: str) -> None:
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await walk(pilot)
    stored = app.services.trading.list_walk_forwards()[0]

    app = new_app(sqlite_db_url)  # the app again: the stored one is listed and reopens
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_strategies(pilot)
        await pilot.press("h")  # History takes the focus: Enter reopens
        await settle(pilot)
        runs = screen.query_one("#runs", RunsTable)
        assert runs.has_focus and runs.highlighted_key == f"wf{stored.id}"
        assert str(runs.get_row_at(0)[0]) == f"wf{stored.id}"
        assert "walk-forward" in str(runs.get_row_at(0)[-1])
        await pilot.press("enter")
        await settle(pilot)
        assert screen.query_one("#st-tabs", TabbedContent).active == "tab-walkforward"
        report = screen.walk_report
        assert report is not None and report.id == stored.id
        assert screen.query_one("#wf-windows", WindowsTable).row_count == stored.window_count
        assert f"wf{stored.id}: sma_crossover on DEMOA 1Day" in text_of(screen, "#wf-title")


async def test_escape_cancels_a_walk_forward_and_nothing_is_stored(sqlite_db_url: str) -> None:
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, form = await open_walk_form(pilot)
        # 96 x 57 cells a window: minutes of work, cancelled within a job or two
        form.query_one("#sweep-short_period", Input).value = "5:100:1"
        form.query_one("#sweep-long_period", Input).value = "20:300:5"
        await pilot.pause()
        await pilot.press("f9")
        await pilot.pause(0.3)
        assert screen.run_bar.busy == "walk-forward"
        assert "Esc cancels" in text_of(screen, "#run-status")
        await pilot.press("escape")
        await settle(pilot)
        assert screen.run_bar.busy is None
        assert text_of(screen, "#run-status") == (
            "The walk-forward was cancelled; nothing was stored.")
        assert app.services.trading.list_walk_forwards() == []


async def test_the_sweep_form_holds_out_a_share_and_shows_in_and_out_of_sample(
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
        oos = form.query_one("#opt-oos", Input)
        assert oos.value == ""  # blank: no split
        assert text_of(form, "#opt-oos-note").startswith("Blank: no split.")
        await type_into(pilot, oos, "150")
        assert text_of(form, "#opt-oos-error") == (
            "'150' is not a share of the bars above 0 % and below 100 %; give e.g. 30, or "
            "leave it blank for no split.")
        assert form.query_one("#save", Button).disabled
        await type_into(pilot, oos, "30")
        assert text_of(form, "#opt-oos-error") == ""
        assert text_of(form, "#opt-oos-note") == (
            "Chosen on the first 70 % of the bars, then tried on the last 30 %.")
        form.query_one("#sweep-short_period", Input).value = "5:15:5"
        form.query_one("#sweep-long_period", Input).value = "20:40:20"
        await pilot.pause()
        await pilot.press("f9")
        await settle(pilot)
        report = screen.sweep_report
        assert report is not None and report.oos is not None
        assert report.oos.fraction == pytest.approx(0.3)
        assert report.oos.params == report.rows[0].params  # chosen in sample
        shown = text_of(screen, "#sweep-oos").split("\n")
        ins, out = report.oos.in_sample, report.oos.out_of_sample
        assert shown[-2].split() == ["In", "sample", f"{ins.total_return_pct:,.2f}",
                                     f"{ins.sharpe:.2f}", f"{ins.max_drawdown_pct:,.2f}",
                                     str(ins.round_trips)]
        assert shown[-1].split()[:3] == ["Out", "of", "sample"]
        assert shown[-1].split()[3] == f"{out.total_return_pct:,.2f}"
        assert all(len(line) <= 52 for line in shown[1:])  # whole at 80 columns
        assert app.services.trading.list_runs() == []  # a sweep stores nothing


async def test_a_sweep_without_a_share_shows_no_split(sqlite_db_url: str) -> None:
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_strategies(pilot)
        await pick(pilot, screen, "sma_crossover")
        await pilot.press("f8")
        await pilot.pause()
        await pilot.press("f9")
        await settle(pilot)
        assert screen.sweep_report is not None and screen.sweep_report.oos is None
        assert not screen.query_one("#sweep-oos", Static).display


# -- how it looks ----------------------------------------------------------------------------


def _after_walk_forward(size: tuple[int, int]):  # noqa: ANN202
    async def run_before(pilot: Pilot) -> None:
        screen = await walk(pilot)
        screen.walkforward_tab.take_focus()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_walk_forward(snap_compare, sqlite_db_url: str, size: tuple[int, int]) -> None:
    assert snap_compare(new_app(sqlite_db_url), terminal_size=size,
                        run_before=_after_walk_forward(size))


def test_the_new_keys_have_ids_and_tooltips() -> None:
    ids = {b.id: b for b in StrategiesScreen.BINDINGS}
    assert ids["strategies.walk_forward"].key == "f,f11"
    assert ids["strategies.cancel_job"].key == "escape"
    assert ids["strategies.tab_walkforward"].key == "F"
    for binding in WalkForwardForm.BINDINGS:
        assert binding.id and binding.id.startswith("strategies.") and binding.tooltip

