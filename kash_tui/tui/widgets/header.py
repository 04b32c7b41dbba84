"""The line at the top of every place: the current portfolio's mode badge, workspace ›
portfolio, and a tab per place (click it or press its key).

The places come down from the screen (``KashHeader(place_id, places)``); the header imports no
place. Cheap to import: it is on screen at the first paint.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Click, Resize
from textual.widgets import Static

if TYPE_CHECKING:
    from kash_tui.tui.app import KashApp
    from kash_tui.tui.places import Place

TAB_LEVELS = ("full", "short", "current", "keys")
"""How much the place tabs say, richest first: full titles, short titles, the current place's
title only (the others their keys), keys only. The header takes the richest that leaves the
workspace › portfolio readable."""
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

    def label_at(self, level: str) -> str:
        """The tab's text at a :data:`TAB_LEVELS` level."""
        short = self.place.short or self.place.title
        if level == "full":
            return f"{self.key_label} {self.place.title}"
        if level == "short" or (level == "current" and self.has_class("-current")):
            return f"{self.key_label} {short}"
        return self.key_label

    def width_at(self, level: str) -> int:
        padding = self.styles.padding
        return cell_len(self.label_at(level)) + padding.left + padding.right

    def fit(self, width: int) -> None:
        """Full title, short title, or only the key, as the header's ``width`` allows (the
        header fits all its tabs together with :meth:`KashHeader.fit_tabs`)."""
        level = "keys" if width < TINY else "short" if width < NARROW else "full"
        self.update(self.label_at(level))

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
        self._context_text = "Kash"
        self._badge_text = ""

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
        self.fit_tabs(event.size.width)

    def fit_tabs(self, width: int | None = None) -> None:
        """The richest :data:`TAB_LEVELS` level whose tabs fit beside the badge and the whole
        workspace › portfolio (full titles from NARROW columns, keys only below TINY)."""
        width = self.size.width if width is None else width
        tabs = list(self.query(PlaceTab).results(PlaceTab))
        if not tabs or width <= 0:
            return
        badge = self._badge
        used = cell_len(self._context_text) + 2
        if badge.display:
            used += cell_len(self._badge_text) + 1
        levels = [lv for lv in TAB_LEVELS if lv != "full" or width >= NARROW]
        if width < TINY:
            levels = ["keys"]
        level = next((lv for lv in levels if used + sum(t.width_at(lv) for t in tabs) <= width),
                     levels[-1])
        for tab in tabs:
            tab.update(tab.label_at(level))

    def on_mount(self) -> None:
        self.watch(self.app, "catalog", self._refresh_context)
        self.watch(self.app, "selection", self._refresh_context)
        self.watch(self.app, "status", self._refresh_context)

    def _refresh_context(self, _value: object = None) -> None:
        self._show_context()
        self._context_text = str(self._where.content)
        self._badge_text = str(self._badge.content)
        self.fit_tabs()

    def _show_context(self) -> None:
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
