"""The Strategies place's palette commands: choose a strategy, run the backtest, sweep, walk
forward, check the strategy, reload the strategies (folder and installed packages).

They read the app's catalog only (no service call) and act through the place's screen."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from kash_tui.tui.commands import PaletteCommand, palette_command
from kash_tui.tui.screens.strategies.screen import StrategiesScreen
from kash_tui.tui.state import StrategyChoice, workbench

if TYPE_CHECKING:
    from kash_tui.domains.strategy import StrategyInfo
    from kash_tui.tui.app import KashApp


def known_strategies(app: KashApp) -> tuple[StrategyInfo, ...]:
    """The strategies in the app's catalog (for the palette: no service call)."""
    return app.catalog.strategies


def _open_strategy(app: KashApp, strategy_id: str) -> None:
    wb = workbench(app)
    current = wb.state.strategy
    if current is None or current.strategy_id != strategy_id:
        wb.choose_strategy(StrategyChoice(strategy_id, {}))
    app.action_switch_place(StrategiesScreen.PLACE)


def _on_strategies(app: KashApp, action: str) -> None:
    app.action_switch_place(StrategiesScreen.PLACE)
    screen = app.screen
    if isinstance(screen, StrategiesScreen):
        screen.request(action)


@palette_command
def strategy_commands(app: KashApp) -> Iterator[PaletteCommand]:
    for info in known_strategies(app):
        yield PaletteCommand(f"Strategy: {info.name}", partial(_open_strategy, app, info.id),
                             info.description)
    run_key = app.key_label("strategies.run_backtest", "r")
    sweep_key = app.key_label("strategies.sweep", "w")
    yield PaletteCommand("Run backtest", partial(_on_strategies, app, "run_backtest"),
                         f"The strategy and settings under Strategies (key {run_key} there)")
    yield PaletteCommand("Sweep parameters", partial(_on_strategies, app, "sweep"),
                         f"Rank parameter ranges of the chosen strategy (key {sweep_key} there)")
    walk_key = app.key_label("strategies.walk_forward", "f")
    yield PaletteCommand("Walk forward", partial(_on_strategies, app, "walk_forward"),
                         "Rank parameter ranges on each training part, run the best on the "
                         f"test part after it (key {walk_key} under Strategies)",
                         "walkforward out of sample wfe")
    check_key = app.key_label("strategies.check", "c")
    yield PaletteCommand("Check strategy", partial(_on_strategies, app, "check_strategy"),
                         "Look-ahead, determinism, shape, schema and speed of the chosen "
                         f"strategy (key {check_key} there)", "lookahead test verify")
    yield PaletteCommand("Reload strategies", partial(_on_strategies, app, "reload_strategies"),
                         "Read the strategies folder and installed packages again, without "
                         "restarting", "refresh files user reimport")


__all__ = ["known_strategies", "strategy_commands"]
