"""Recent orders or fills of the account, the lowest table of the Orders place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text

from kash_tui.tui.widgets.orders import clock
from kash_tui.tui.format import (
    money_text,
    order_amount,
    price_text,
    qty_text,
)
from kash_tui.tui.widgets.orders.table import MeasuredTable, columns, right

if TYPE_CHECKING:
    from kash_tui.domains.trading import Order, Trade


class ActivityTable(MeasuredTable):
    """Closed orders, or (after :meth:`toggle`) the fills, newest first."""

    COLUMNS = columns("Time", "Symbol", "Side", "Qty>", "Type", "Status", "Filled>",
                      "Avg price>")
    FILL_COLUMNS = columns("Time", "Symbol", "Side", "Qty>", "Price>", "Commission>")

    def __init__(self, *, id: str, title: str) -> None:  # noqa: A002
        super().__init__(id=id, title=title)
        self.fills = False
        """Show the fills instead of the orders."""
        self._shown: tuple[Sequence[Order], Sequence[Trade]] | None = None

    def show(self, orders: Sequence[Order], trades: Sequence[Trade]) -> None:
        """Keep both lists; show the one chosen."""
        self._shown = (orders, trades)
        keep = self.highlighted_key
        if self.fills:
            self.show_columns(self.FILL_COLUMNS)
            self.reload(
                [
                    (
                        t.id,
                        (clock.when(t.time), Text(t.symbol, style="bold"), t.side.value,
                         right(qty_text(t.qty)), right(price_text(t.price)),
                         right(money_text(t.commission))),
                    )
                    for t in trades
                ],
                keep,
            )
            self.border_title = f"Fills ({len(trades)})"
        else:
            self.show_columns(self.COLUMNS)
            self.reload(
                [
                    (
                        o.id,
                        (clock.when(o.submitted_at), Text(o.symbol, style="bold"), o.side.value,
                         right(order_amount(o)), o.order_type.replace("_", "-"), o.status,
                         right(qty_text(o.filled_qty)), right(price_text(o.filled_avg_price))),
                    )
                    for o in orders
                ],
                keep,
            )
            self.border_title = f"Recent orders ({len(orders)})"
        self.border_subtitle = "t: fills" if not self.fills else "t: orders"

    def forget(self) -> None:
        """No rows, nothing kept (another portfolio is coming)."""
        self._shown = None
        self.clear()

    def show_problem(self, sentence: str) -> None:
        """Why the rows could not be read; the rows shown stay."""
        self.border_subtitle = sentence

    def toggle(self) -> None:
        """Orders <-> fills."""
        self.fills = not self.fills
        if self._shown is not None:
            self.show(*self._shown)
            return
        self.show_columns(self.FILL_COLUMNS if self.fills else self.COLUMNS)
        self.border_title = "Fills" if self.fills else "Recent orders"

    def show_columns(self, columns: tuple[object, ...]) -> None:
        if tuple(str(c.label) for c in self.columns.values()) != tuple(str(c) for c in columns):
            self.clear(columns=True)
            self.add_columns(*columns)


__all__ = ["ActivityTable"]
