"""The places of Kash and what every place screen shares: the registry and the base screen.

A *place* is a top-level screen the user switches to with a number key or an F-key. Each is one
entry in :data:`PLACES`: its title, default keys, and a loader that imports the screen class
lazily (so a heavy place, e.g. the chart with numpy, costs nothing until it is first used or
the app warms it up). The app turns every entry into a Textual mode, a ``Binding`` with the id
``go_<place>``, a tab in the header and a "Go to ..." palette command.

To add or replace a place: write a :class:`PlaceScreen` subclass with ``PLACE = "<id>"`` and
point the entry's loader at it. Nothing else changes.

Places never import each other (the ``tui-places-independent`` contract in ``pyproject.toml``);
to reach another place they call :mod:`kash_tui.tui.navigation`. Only this registry's loaders
import the place modules (that edge is the contract's one ignored import).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widget import AwaitMount, Widget
from textual.widgets import Footer, Static
from textual.worker import Worker

from kash_tui.tui.widgets.header import NARROW, TINY, KashHeader

if TYPE_CHECKING:
    from kash_tui.provider import ServiceProviderProtocol
    from kash_tui.tui.app import KashApp

T = TypeVar("T")


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


def _deployments() -> type[PlaceScreen]:
    from kash_tui.tui.screens.deployments import DeploymentsScreen

    return DeploymentsScreen


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
        Place("deployments", "Deployments", "6,f6",
              "Strategies trading paper and live portfolios: start, stop, halt, journal, "
              "parity", _deployments, short="Deploy"),
    )
}
FIRST_PLACE = "workspaces"


# -- the base of every place -----------------------------------------------------------------


class PlaceScreen(Screen[None]):
    """A top-level place: header, a startup notice until the services are ready, the body, footer.

    Subclasses set ``PLACE`` and implement :meth:`compose_body`; they read the app's reactive
    state (``catalog``, ``selection``) with ``self.watch(self.app, ...)`` and call services with
    ``self.kash.call_service(...)`` (a thread worker; errors are reported by the app), or with
    :meth:`call_service` when only the latest of a kind of call matters (a load, a search).
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
        yield KashHeader(self.PLACE, PLACES.values())
        yield Static("", id="startup-notice", markup=False)
        with Container(id="place-body"):
            if not self.NEEDS_SERVICES:
                yield from self.compose_body()
        yield Footer()

    def mount(self, *widgets: Widget, **kwargs: Any) -> AwaitMount:
        """As ``Screen.mount``, but the Keys panel (the app mounts it on the screen) goes into
        the body: beside or over the place, never over the header or the footer."""
        # HelpPanel pulls in Markdown (~50 ms): import-free check, since no panel can exist
        # before its module has been imported
        help_module = sys.modules.get("textual.widgets._help_panel")
        if widgets and not kwargs and help_module is not None and all(
            isinstance(w, help_module.HelpPanel) for w in widgets
        ):
            bodies = self.query("#place-body")
            if bodies:
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

    def call_service(
        self,
        call: Callable[[ServiceProviderProtocol], T],
        *,
        key: str,
        done: Callable[[T], object] | None = None,
        failed: Callable[[str], object] | None = None,
        refresh: bool = False,
    ) -> Worker[None]:
        """``call(provider)`` in a thread worker of this screen, exclusive per ``key``: a newer
        call with the same key cancels this one, and a cancelled call's result (or failure)
        never reaches ``done`` (or ``failed``). See :meth:`KashApp.call_latest`."""
        return self.kash.call_latest(self, key, call, done=done, failed=failed, refresh=refresh)


__all__ = ["FIRST_PLACE", "NARROW", "PLACES", "TINY", "Place", "PlaceScreen"]
