"""Your own strategies in the app: a file in the strategies folder gets its form and backtests;
broken files are listed greyed with their reason and Kash still starts; the checks run from the
Strategies place (c); the palette's "Reload strategies" reads the folder again."""

from __future__ import annotations

import re

from pathlib import Path

from textual.widgets import Input, OptionList, Static

from kash_tui.tui.app import KashApp
from kash_tui.tui.commands import COMMAND_SOURCES
from kash_tui.tui.modals.check_report import CheckReportScreen
from kash_tui.tui.widgets.strategies.strategy_list import FAILED_PREFIX
from tests.strategy_files import BROKEN, GOOD, PEEK, strategies_folder, strategy, write
from tests.tui.test_strategies_screen import new_app, open_strategies, pick, settle


def screen_text(app: KashApp) -> str:
    strips = app.screen._compositor.render_strips()  # noqa: SLF001 - read only, to assert
    return "\n".join(strip.text for strip in strips)


async def test_a_strategy_file_gets_its_form_and_backtests_and_broken_ones_are_greyed(
    sqlite_db_url: str, isolated_env: dict[str, str]
) -> None:
    folder = strategies_folder(isolated_env)
    write(folder, "close_cross.py", GOOD)
    for name, source in BROKEN.items():
        write(folder, name, source)
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_strategies(pilot)  # Kash started despite five broken files
        assert "close_cross" in [i.id for i in screen.infos]
        listing = screen.query_one("#strategy-list", OptionList)
        failed = [listing.get_option_at_index(i) for i in range(listing.option_count)]
        failed = [o for o in failed if (o.id or "").startswith(FAILED_PREFIX)]
        assert len(failed) == len(BROKEN) and all(o.disabled for o in failed)
        prompts = " ".join(str(o.prompt) for o in failed)
        assert "syntax_error (failed)" in prompts and "syntax_error.py:1" in prompts
        assert "returned 299 signals for 300 bars" in prompts

        await pick(pilot, screen, "close_cross")
        assert screen.query_one("#param-period", Input).value == "20"
        screen.query_one("#param-period", Input).value = "30"
        await pilot.pause()
        await pilot.press("f9")
        await settle(pilot)
        runs = app.services.trading.list_runs()
        assert [(r.strategy_id, r.params) for r in runs] == [("close_cross", {"period": 30})]


async def test_the_checks_run_from_the_strategies_place_at_80x24(
    sqlite_db_url: str, isolated_env: dict[str, str]
) -> None:
    write(strategies_folder(isolated_env), "peek.py", strategy("peek_ahead", PEEK))
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_strategies(pilot)
        await pick(pilot, screen, "peek_ahead")
        screen.strategy_list.focus()
        await pilot.press("c")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, CheckReportScreen)
        assert modal.report.strategy_id == "peek_ahead" and not modal.report.passed
        verdict = modal.query_one("#check-verdict", Static)
        assert str(verdict.render()) == "Failed: look-ahead."
        assert 0 <= verdict.region.y and verdict.region.bottom <= 23  # on screen
        drawn = screen_text(app)
        assert "Checks of Peek ahead" in drawn and "synthetic random walk" in drawn
        assert "FAIL" in drawn and "look-ahead" in drawn
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        status = str(screen.query_one("#run-status", Static).render())
        assert status == "Peek ahead: failed look-ahead."

        await pick(pilot, screen, "sma_crossover")
        await pilot.press("f12")  # F6 is the Deployments place
        await settle(pilot)
        assert isinstance(app.screen, CheckReportScreen) and app.screen.report.passed
        await pilot.press("escape")
        screen.strategy_list.focus()
        await pilot.press("question_mark")
        await pilot.pause()
        assert re.search(r"F12, c +Check", screen_text(app))  # the help lists the key


async def test_reload_strategies_from_the_palette_without_restarting(
    sqlite_db_url: str, isolated_env: dict[str, str]
) -> None:
    folder = strategies_folder(isolated_env)
    app = new_app(sqlite_db_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_strategies(pilot)
        assert "close_cross" not in [i.id for i in screen.infos]
        write(folder, "close_cross.py", GOOD)
        write(folder, "syntax_error.py", BROKEN["syntax_error.py"])
        commands = {c.title: c for source in COMMAND_SOURCES for c in source(app)}
        commands["Reload strategies"].run()
        await settle(pilot)
        assert "close_cross" in [i.id for i in screen.infos]
        assert [f.name for f in screen.strategy_list.failures] == ["syntax_error"]
        assert "Strategy: Close cross" in {c.title for s in COMMAND_SOURCES for c in s(app)}
        await pick(pilot, screen, "close_cross")

        Path(folder / "syntax_error.py").unlink()
        commands["Reload strategies"].run()
        await settle(pilot)
        assert screen.strategy_list.failures == []
        assert screen.strategy_id == "close_cross"  # the chosen one stays
