"""The places of Kash and what every place screen shares.

A *place* is a top-level screen the user switches to with a number key or an F-key. Each is one
entry in :data:`PLACES`: its title, default keys, and a loader that imports the screen class
lazily (so a heavy place, e.g. the chart with numpy, costs nothing until it is first used or
the app warms it up). The app turns every entry into a Textual mode, a ``Binding`` with the id
``go_<place>``, a tab in the header and a "Go to ..." palette command.

To add or replace a place: write a :class:`PlaceScreen` subclass with ``PLACE = "<id>"`` and
point the entry's loader at it. Nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal
from textual.events import Click, Resize
from textual.screen import Screen
from textual.widget import AwaitMount, Widget
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from kash_tui.tui.app import KashApp


@dataclass(frozen=True)
class Place:
    id: str
    title: str
    keys: str  # default keys, comma separated; remappable through the binding id
    tooltip: str
    load: Callable[[], type[PlaceScreen]]
    short: str = ""  # the tab's title in a narrow terminal (default: the title)

    @property
    def binding_id(self) -> str:
        return f"go_{self.id}"

    def make_screen(self) -> PlaceScreen:
        return self.load()()

    def binding(self) -> Binding:
        return Binding(
            self.keys,
            f"app.switch_place('{self.id}')",
            self.title,
            show=False,
            id=self.binding_id,
            tooltip=self.tooltip,
        )


def _workspaces() -> type[PlaceScreen]:
    from kash_tui.tui.screens.workspaces import WorkspacesScreen

    return WorkspacesScreen


def _chart() -> type[PlaceScreen]:
    from kash_tui.tui.screens.chart import ChartScreen

    return ChartScreen


def _strategies() -> type[PlaceScreen]:
    from kash_tui.tui.screens.strategies import StrategiesScreen

    return StrategiesScreen


def _orders() -> type[PlaceScreen]:
    from kash_tui.tui.screens.orders import OrdersScreen

    return OrdersScreen


def _options() -> type[PlaceScreen]:
    from kash_tui.tui.screens.options import OptionsScreen

    return OptionsScreen


PLACES: dict[str, Place] = {
    p.id: p
    for p in (
        Place("workspaces", "Workspaces", "1,f1",
              "Workspaces, portfolios and broker connections", _workspaces, short="Work"),
        Place("chart", "Chart", "2,f2", "Candlestick chart of the current symbol", _chart),
        Place("strategies", "Strategies", "3,f3",
              "Strategies, their parameters and backtest results", _strategies, short="Strat"),
        Place("orders", "Orders", "4,f4", "Orders, positions and the account", _orders),
        Place("options", "Options", "5,f5",
              "Option chains: expirations and strikes around the money", _options),
    )
}
FIRST_PLACE = "workspaces"
NARROW = 100
"""Below this many columns the header's tabs use the places' short titles, so the current
workspace and portfolio stay readable; and the Keys panel floats over the place instead of
squeezing it."""
TINY = 70
"""Below this many columns the header's tabs show only their keys (the tooltip names them)."""


def percent(value: Decimal) -> str:
    """``Decimal('25.5000')`` -> ``'25.5'``: a stored percentage as a trader writes it."""
    text = format(value.normalize(), "f")
    return text


# -- the header ------------------------------------------------------------------------------


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

    def __init__(self, place_id: str) -> None:
        super().__init__(id="kash-header")
        self.place_id = place_id
        self._badge = Static("", id="mode-badge", markup=False)
        self._where = Static("Kash", id="header-context", markup=False)

    @property
    def kash(self) -> KashApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield self._badge
        yield self._where
        with Horizontal(id="place-tabs"):
            for place in PLACES.values():
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


# -- the base of every place -----------------------------------------------------------------


class PlaceScreen(Screen[None]):
    """A top-level place: header, a startup notice until the services are ready, the body, footer.

    Subclasses set ``PLACE`` and implement :meth:`compose_body`; they read the app's reactive
    state (``catalog``, ``selection``) with ``self.watch(self.app, ...)`` and call services with
    ``self.kash.call_service(...)`` (a thread worker; errors are reported by the app).
    """

    PLACE: ClassVar[str] = ""
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"), (NARROW, "-roomy"),
    ]
    DEFAULT_CSS = """
    PlaceScreen #place-body { layers: default keys; }
    /* The Keys panel (palette: Keys) lives in the body, so the header and footer stay whole.
       Below NARROW columns it floats over the right of the place instead of squeezing the
       place to 50 columns. */
    PlaceScreen.-narrow HelpPanel {
        split: none;
        dock: right;
        layer: keys;
        width: 46;
        max-width: 60%;
        height: 100%;
        background: $panel;
    }
    """
    AUTO_FOCUS = None  # nothing to act on until the services are ready; see on_services_ready
    NEEDS_SERVICES: ClassVar[bool] = True  # False: the body shows even before the database opens

    @property
    def kash(self) -> KashApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield KashHeader(self.PLACE)
        yield Static("", id="startup-notice", markup=False)
        with Container(id="place-body"):
            if not self.NEEDS_SERVICES:
                yield from self.compose_body()
        yield Footer()

    def mount(self, *widgets: Widget, **kwargs: Any) -> AwaitMount:
        """As ``Screen.mount``, but the Keys panel (the app mounts it on the screen) goes into
        the body: beside or over the place, never over the header or the footer."""
        from textual.widgets import HelpPanel

        bodies = self.query("#place-body")
        if widgets and not kwargs and bodies and all(isinstance(w, HelpPanel) for w in widgets):
            return bodies.first().mount(*widgets)
        return super().mount(*widgets, **kwargs)

    def compose_body(self) -> Iterator:
        """The place's own widgets. With ``NEEDS_SERVICES`` they are mounted once the services
        are ready (not before the first paint), then :meth:`on_services_ready` is called."""
        yield from ()

    def on_mount(self) -> None:
        self._body_mounted = not self.NEEDS_SERVICES
        self.watch(self.app, "status", self._show_status)

    async def _show_status(self, status: str) -> None:
        notice = self.query_one("#startup-notice", Static)
        body = self.query_one("#place-body")
        failed = status == "failed"
        notice.set_class(failed, "-failed")
        if failed:
            notice.update(
                "Kash could not start.\n\n"
                f"{self.kash.startup_problem}\n\n"
                f"Fix that and press {self.kash.key_label('retry_startup', 'f5')} to try "
                f"again, or quit ({self.kash.key_label('quit', 'ctrl+q,f10')}) and start Kash "
                "with another database: kash --db PATH"
            )
        else:
            notice.update("Opening the database…")
        notice.display = failed or (status != "ready" and self.NEEDS_SERVICES)
        body.display = status == "ready" or (not failed and not self.NEEDS_SERVICES)
        if not body.display:
            self.set_focus(None)
        if status == "ready":
            if not self._body_mounted:
                self._body_mounted = True
                await body.mount_compose(self.compose_body())
            self.on_services_ready()
        self.refresh_bindings()

    def on_services_ready(self) -> None:
        """Called (again) whenever the services become ready; override to focus or load."""


__all__ = ["FIRST_PLACE", "PLACES", "KashHeader", "Place", "PlaceScreen", "PlaceTab", "percent"]
