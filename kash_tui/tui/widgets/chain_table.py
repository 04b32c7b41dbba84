"""An option chain, one expiration: calls | strike | puts. The row at the money is highlighted,
in-the-money cells are shaded, and the cursor (a cell) says which contract is meant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from kash_tui.tui.format import delta_text, iv_text, oi_text, px, strike_text

if TYPE_CHECKING:
    from kash_tui.domains.market import OptionChain, OptionQuote

SIDE_COLUMNS = ("Bid", "Ask", "Last", "IV", "Δ", "OI")
SIDE_WIDTHS = (6, 6, 6, 5, 6, 6)
STRIKE_WIDTH = 8
STRIKE_COLUMN = len(SIDE_COLUMNS)


def quote_cells(quote: OptionQuote | None) -> list[str]:
    if quote is None:
        return [""] * len(SIDE_COLUMNS)
    return [px(quote.bid), px(quote.ask), px(quote.last), iv_text(quote.implied_volatility),
            delta_text(quote.delta), oi_text(quote.open_interest)]


def at_the_money(chain: OptionChain) -> int | None:
    """Index of the row whose strike is nearest the underlying's price."""
    if not chain.rows:
        return None
    if chain.underlying_price is None:
        return len(chain.rows) // 2
    target = chain.underlying_price
    return min(range(len(chain.rows)), key=lambda i: abs(chain.rows[i].strike - target))


@dataclass(frozen=True)
class Picked:
    """The contract under the cursor."""

    quote: OptionQuote
    side: str  # "call" | "put"


class ChainTable(DataTable):
    """Calls | strike | puts; the cursor is a cell, so it says which contract is meant."""

    COMPONENT_CLASSES: ClassVar[set[str]] = DataTable.COMPONENT_CLASSES | {
        "chain--atm", "chain--itm", "chain--strike",
    }
    DEFAULT_CSS = """
    ChainTable { height: 1fr; scrollbar-size-vertical: 1; background: $surface; }
    ChainTable > .chain--atm { background: $primary 40%; text-style: bold; }
    ChainTable > .chain--itm { background: $panel; }
    ChainTable > .chain--strike { text-style: bold; }
    """
    BINDINGS: ClassVar = [
        Binding("enter,n", "screen.order_contract", "Order", id="options.order",
                tooltip="Open the order ticket filled in with the highlighted contract"),
        Binding("c", "screen.chart_contract", "Chart", id="options.chart",
                tooltip="Chart the highlighted contract in the Chart place"),
    ]

    def __init__(self) -> None:
        super().__init__(id="chain", cursor_type="cell", cell_padding=0, zebra_stripes=False,
                         cursor_background_priority="css")
        self.chain: OptionChain | None = None
        self.atm: int | None = None
        for label, width in zip(SIDE_COLUMNS, SIDE_WIDTHS, strict=True):
            self.add_column(Text(label, justify="right"), width=width)
        self.add_column(Text("Strike ", justify="right"), width=STRIKE_WIDTH)
        for label, width in zip(SIDE_COLUMNS, SIDE_WIDTHS, strict=True):
            self.add_column(Text(label, justify="right"), width=width)

    def show(self, chain: OptionChain | None) -> None:
        self.chain = chain
        self.clear()
        if chain is None:
            self.atm = None
            return
        self.atm = at_the_money(chain)
        atm_style = self.get_component_rich_style("chain--atm")
        itm_style = self.get_component_rich_style("chain--itm")
        strike_style = self.get_component_rich_style("chain--strike")
        spot = chain.underlying_price
        for index, row in enumerate(chain.rows):
            atm = index == self.atm
            call_itm = spot is not None and row.strike < spot
            put_itm = spot is not None and row.strike > spot

            def style(itm: bool, atm: bool = atm) -> Style:
                return atm_style if atm else itm_style if itm else Style()

            cells: list[Text] = [
                Text(v, style=style(call_itm), justify="right")
                for v in quote_cells(row.call)
            ]
            mark = strike_text(row.strike).rjust(STRIKE_WIDTH - 1) + " "
            cells.append(Text(mark, style=strike_style + atm_style if atm else strike_style,
                              justify="right"))
            cells += [
                Text(v, style=style(put_itm), justify="right") for v in quote_cells(row.put)
            ]
            self.add_row(*cells, key=strike_text(row.strike))
        if self.atm is not None:
            self.move_cursor(row=self.atm, column=1, animate=False, scroll=True)

    def picked(self) -> Picked | None:
        chain = self.chain
        if chain is None or not chain.rows:
            return None
        row_index, column = self.cursor_coordinate
        if not 0 <= row_index < len(chain.rows):
            return None
        row = chain.rows[row_index]
        if column < STRIKE_COLUMN and row.call is not None:
            return Picked(row.call, "call")
        if column > STRIKE_COLUMN and row.put is not None:
            return Picked(row.put, "put")
        return None


__all__ = [
    "SIDE_COLUMNS", "SIDE_WIDTHS", "STRIKE_COLUMN", "STRIKE_WIDTH", "ChainTable", "Picked",
    "at_the_money", "quote_cells",
]
