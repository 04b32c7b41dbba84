"""The positions of the account shown on the Orders place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.message import Message

from kash_tui.tui.format import money_text, price_text, qty_text
from kash_tui.tui.widgets.orders.table import MeasuredTable, columns, right, signed

if TYPE_CHECKING:
    from kash_tui.domains.trading import Position


class PositionsTable(MeasuredTable):
    """One row per symbol held. ``c`` posts :class:`CloseRequested` for the highlighted row;
    the screen asks first and closes it."""

    COLUMNS = columns("Symbol", "Qty>", "Avg entry>", "Price>", "Value>", "Unrealized P/L>")
    BINDINGS: ClassVar = [
        Binding("c", "close_position", "Close", id="orders.close_position",
                tooltip="Close the highlighted position with a market order (asks first)"),
    ]

    @dataclass
    class CloseRequested(Message):
        """The user asked to close the position in ``symbol`` (``qty`` as the row shows it)."""

        symbol: str
        qty: str

    can_act = False
    """Set by the screen: this portfolio can trade (else the Close key is hidden)."""

    def show(self, positions: Sequence[Position]) -> None:
        self.reload(
            [
                (
                    p.symbol,
                    (
                        Text(p.symbol, style="bold"),
                        right(qty_text(p.qty)),
                        right(price_text(p.avg_entry_price)),
                        right(price_text(p.current_price)),
                        right(money_text(p.market_value)),
                        signed(p.unrealized_pl, money_text(p.unrealized_pl, sign=True)),
                    ),
                )
                for p in sorted(positions, key=lambda p: p.symbol)
            ],
            self.highlighted_key,
        )
        self.border_title = f"Positions ({len(positions)})"

    def action_close_position(self) -> None:
        symbol = self.highlighted_key
        if self.can_act and symbol is not None:
            self.post_message(self.CloseRequested(symbol, str(self.get_row(symbol)[1]).strip()))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_position":
            # False: hidden (nothing to act on here); None: greyed out (no row highlighted)
            return False if not self.can_act else self.highlighted_key is not None or None
        return True


__all__ = ["PositionsTable"]
