"""Places that have no content yet. Each says plainly what will be there and where to go now.

Orders arrives with the Alpaca connection (issue 5); until then it says so and points to
where backtest results live.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from kash_tui.tui.screens import PlaceScreen


class EmptyPlace(PlaceScreen):
    """A place with a title and an empty-state message."""

    HEADLINE: ClassVar[str] = ""
    MESSAGE: ClassVar[str] = ""
    NEEDS_SERVICES = False

    def compose_body(self) -> Iterator[Widget]:
        with Vertical(classes="empty-place"):
            yield Static(self.HEADLINE, classes="empty-headline", markup=False)
            yield Static(self.MESSAGE, classes="empty-message", markup=False)


class OrdersScreen(EmptyPlace):
    PLACE = "orders"
    HEADLINE = "No orders"
    MESSAGE = (
        "Order entry arrives with the Alpaca connection; backtest results live under Strategies."
    )
