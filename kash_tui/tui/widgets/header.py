"""The line at the top of every place: the current portfolio's mode badge, workspace ›
portfolio, and a tab per place (click it or press its key).

The places come down from the screen (``KashHeader(place_id, places)``); the header imports no
place. Cheap to import: it is on screen at the first paint.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Click, Resize
from textual.widgets import Static

if TYPE_CHECKING:
    from kash_tui.tui.app import KashApp
    from kash_tui.tui.places import Place

NARROW = 100
"""Below this many columns the header's tabs use the places' short titles, so the current
workspace and portfolio stay readable; and the Keys panel floats over the place instead of
squeezing it."""
TINY = 70
"""Below this many columns the header's tabs show only their keys (the tooltip names them)."""



class PlaceTab(Static):
    """One place in the header's tab strip; click it or press its key."""

    def __init__(self, place: Place, key_label: str, *, current: bool) -> None:
        super().__init__(f"{key_label} {place.title}", classes="-current" if current else "")
        self.place = place
        self.key_label = key_label
        self.tooltip = f"{place.tooltip} ({key_label})"

    def fit(self, width: int) -> None:
        """Full title, short title, or only the key, as the header's ``width`` allows."""
        if width < TINY:
            self.update(self.key_label)
            return
        title = (self.place.short or self.place.title) if width < NARROW else self.place.title
        self.update(f"{self.key_label} {title}")

    async def on_click(self, event: Click) -> None:
        event.stop()
        await self.app.run_action(f"switch_place('{self.place.id}')")


class KashHeader(Horizontal):
    """The current portfolio's mode badge, workspace › portfolio, and the places."""

    def __init__(self, place_id: str, places: Iterable[Place]) -> None:
        super().__init__(id="kash-header")
        self.place_id = place_id
        self.places = tuple(places)
        self._badge = Static("", id="mode-badge", markup=False)
        self._where = Static("Kash", id="header-context", markup=False)

    @property
    def kash(self) -> KashApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield self._badge
        yield self._where
        with Horizontal(id="place-tabs"):
            for place in self.places:
                label = self.kash.key_label(place.binding_id, place.keys)
                yield PlaceTab(place, label, current=place.id == self.place_id)

    def on_resize(self, event: Resize) -> None:
        for tab in self.query(PlaceTab).results(PlaceTab):
            tab.fit(event.size.width)

    def on_mount(self) -> None:
        self.watch(self.app, "catalog", self._refresh_context)
        self.watch(self.app, "selection", self._refresh_context)
        self.watch(self.app, "status", self._refresh_context)

    def _refresh_context(self, _value: object = None) -> None:
        app = self.kash
        context, badge = self._where, self._badge
        badge.remove_class("-backtest", "-paper", "-live")
        workspace = app.current_workspace
        portfolio = app.current_portfolio
        if app.status != "ready":
            context.update("Kash")
            badge.display = False
            return
        if workspace is None:
            context.update("No workspace: create one under Workspaces")
            badge.display = False
            return
        if portfolio is None:
            context.update(f"{workspace.name} › no portfolio")
            badge.display = False
            return
        context.update(f"{workspace.name} › {portfolio.name}")
        mode = portfolio.mode.value
        badge.update(f" {mode} ")
        badge.add_class(f"-{mode.lower()}")
        badge.tooltip = {
            "BACKTEST": "Backtest portfolio: simulated fills, no broker",
            "PAPER": f"Paper trading on {portfolio.connection_name}",
            "LIVE": f"LIVE trading with real money on {portfolio.connection_name}",
        }[mode]
        badge.display = True


__all__ = ["NARROW", "TINY", "KashHeader", "PlaceTab"]
