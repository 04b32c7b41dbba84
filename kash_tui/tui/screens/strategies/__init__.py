"""Strategies: pick a strategy, set its parameters and the backtest's, run it, read the results,
reopen past runs, and sweep parameters.

Left: the registered strategies. Right, in tabs: *Setup* (the strategy's form, rendered from its
JSON Schema by :class:`SchemaForm`, and the backtest settings), *Results* (metrics, equity curve
with drawdown, round trips), *History* (past runs of the current portfolio) and *Sweep* (ranked
combinations and a heatmap). Under the tabs: Run and Sweep, a progress bar and what is going on.

==============  ====================================================================
``screen``      StrategiesScreen: the coordinator of the widgets below
``commands``    the palette's commands (a strategy, Run backtest, Sweep parameters)
==============  ====================================================================

The panels are widgets in :mod:`kash_tui.tui.widgets.strategies`, one per module; the sweep
form is :mod:`kash_tui.tui.modals.sweep_form`. The screen holds no business logic. The strategy
service says whether parameters are valid (``create_with_params``: pure pydantic, cheap enough
to call as you type); ``BacktestSettings`` says whether the settings are. Runs, sweeps and
stored runs go through the trading service in a thread worker. What the chart shows is shared
through the workbench: a valid form sets the strategy (the chart overlays its indicators), a
run or a reopened run sets the backtest (the chart marks its fills).
"""

from kash_tui.tui.screens.strategies.commands import known_strategies, strategy_commands
from kash_tui.tui.screens.strategies.screen import StrategiesScreen

__all__ = ["StrategiesScreen", "known_strategies", "strategy_commands"]
