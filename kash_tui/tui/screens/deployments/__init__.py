"""Deployments: strategies trading PAPER and LIVE portfolios. The deployments of the current
workspace with the columns of ``kash deploy list``, live; start (a form from the strategy's
JSON Schema plus symbol, timeframe, portfolio and risk limits), stop, halt, halt all (asked
first); the chosen one's journal, chart (its signals, live fills and the backtest's fills) and
parity report.

==============  ====================================================================
``screen``      DeploymentsScreen: the coordinator of the widgets below
``reads``       what its workers read (the list and new journal entries; chart and parity)
``commands``    the palette's commands (New deployment, Halt all deployments)
==============  ====================================================================

The panels are widgets in :mod:`kash_tui.tui.widgets.deployments`; the start form is
:mod:`kash_tui.tui.modals.deploy_form`.
"""

from kash_tui.tui.screens.deployments.commands import deployment_commands
from kash_tui.tui.screens.deployments.screen import DeploymentsScreen

__all__ = ["DeploymentsScreen", "deployment_commands"]
