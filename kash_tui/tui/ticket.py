"""The old home of the order ticket and the trading formats, kept while code still imports
them from here: the ticket is :mod:`kash_tui.tui.modals.order_ticket` (and
:mod:`~kash_tui.tui.modals.trade_confirm`), the formats :mod:`kash_tui.tui.format`."""

from __future__ import annotations

from kash_tui.tui.format import (
    describe_contract,
    dollars,
    is_option_symbol,
    money,
    price,
    quantity,
)
from kash_tui.tui.modals.order_ticket import OrderTicket, TicketDefaults, parse_positive
from kash_tui.tui.modals.trade_confirm import TradeConfirm

__all__ = [
    "OrderTicket",
    "TicketDefaults",
    "TradeConfirm",
    "describe_contract",
    "dollars",
    "is_option_symbol",
    "money",
    "parse_positive",
    "price",
    "quantity",
]
