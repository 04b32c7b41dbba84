"""The open orders of the account shown on the Orders place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.message import Message

from kash_tui.tui.widgets.orders import clock
from kash_tui.tui.format import order_amount, order_price_text
from kash_tui.tui.widgets.orders.table import MeasuredTable, columns, right

if TYPE_CHECKING:
    from kash_tui.domains.trading import Order


class OpenOrdersTable(MeasuredTable):
    """Orders still working, newest first. ``x`` posts :class:`CancelRequested` for the
    highlighted row; the screen asks first and cancels it."""

    COLUMNS = columns("Time", "Symbol", "Side", "Qty>", "Type", "Price", "TIF", "Status")
    BINDINGS: ClassVar = [
        Binding("x,delete", "cancel_order", "Cancel order", id="orders.cancel_order",
                tooltip="Cancel the highlighted open order (asks first)"),
    ]

    @dataclass
    class CancelRequested(Message):
        """The user asked to cancel ``order_id``, described as ``buy 5 AAPL limit 150.00``."""

        order_id: str
        description: str

    can_act = False
    """Set by the screen: this portfolio can trade (else the Cancel key is hidden)."""

    def show(self, orders: Sequence[Order]) -> None:
        rows = sorted(orders, key=lambda o: o.submitted_at, reverse=True)
        self.reload(
            [
                (
                    o.id,
                    (
                        clock.when(o.submitted_at), Text(o.symbol, style="bold"), o.side.value,
                        right(order_amount(o)), o.order_type.replace("_", "-"),
                        order_price_text(o), o.time_in_force, o.status,
                    ),
                )
                for o in rows
            ],
            self.highlighted_key,
        )
        self.border_title = f"Open orders ({len(rows)})"

    def action_cancel_order(self) -> None:
        order_id = self.highlighted_key
        if not self.can_act or order_id is None:
            return
        symbol, side, amount, kind, price = (str(c) for c in self.get_row(order_id)[1:6])
        description = f"{side} {amount} {symbol} {kind}" + (
            f" {price}" if price != "market" else "")
        self.post_message(self.CancelRequested(order_id, description))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_order":
            # False: hidden (nothing to act on here); None: greyed out (no row highlighted)
            return False if not self.can_act else self.highlighted_key is not None or None
        return True


__all__ = ["OpenOrdersTable"]
