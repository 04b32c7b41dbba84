"""The Strategies place's widgets, one per module: the list of strategies, the five tabs
(Setup with the backtest settings form, Results, History with the runs table, Sweep,
Walk-forward) and the run bar. They receive data from the screen and post messages up to it."""

from kash_tui.tui.widgets.strategies.history_tab import HistoryTab
from kash_tui.tui.widgets.strategies.results_tab import ResultsTab
from kash_tui.tui.widgets.strategies.run_bar import RunBar
from kash_tui.tui.widgets.strategies.runs_table import RunsTable
from kash_tui.tui.widgets.strategies.settings_form import (
    BacktestParts,
    BacktestSettingsForm,
    parse_day,
    settings_problems,
    size_of,
    tidy_sentence,
)
from kash_tui.tui.widgets.strategies.setup_tab import SetupTab
from kash_tui.tui.widgets.strategies.strategy_list import StrategyList
from kash_tui.tui.widgets.strategies.sweep_tab import SweepTab
from kash_tui.tui.widgets.strategies.walkforward_tab import WalkForwardTab

__all__ = [
    "BacktestParts",
    "BacktestSettingsForm",
    "HistoryTab",
    "ResultsTab",
    "RunBar",
    "RunsTable",
    "SetupTab",
    "StrategyList",
    "SweepTab",
    "WalkForwardTab",
    "parse_day",
    "settings_problems",
    "size_of",
    "tidy_sentence",
]
