"""The panels of the Orders place, one widget per module; :mod:`.clock` holds its time words.

Each panel is given data by the screen (``show(...)``) and posts messages for what the user
asks (``PositionsTable.CloseRequested``, ``OpenOrdersTable.CancelRequested``,
``PortfolioBar.PortfolioChosen``); :class:`kash_tui.tui.screens.orders.OrdersScreen` handles them.
"""

from kash_tui.tui.widgets.orders.account_panel import AccountPanel
from kash_tui.tui.widgets.orders.activity import ActivityTable
from kash_tui.tui.widgets.orders.empty_notice import EmptyNotice, how_to_trade
from kash_tui.tui.widgets.orders.feed_status import FeedStatusLine
from kash_tui.tui.widgets.orders.open_orders import OpenOrdersTable
from kash_tui.tui.widgets.orders.portfolio_bar import PortfolioBar
from kash_tui.tui.widgets.orders.positions import PositionsTable

__all__ = [
    "AccountPanel",
    "ActivityTable",
    "EmptyNotice",
    "FeedStatusLine",
    "OpenOrdersTable",
    "PortfolioBar",
    "PositionsTable",
    "how_to_trade",
]
