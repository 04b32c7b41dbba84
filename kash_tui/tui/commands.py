"""Command palette (Ctrl+P or ':'): Kash's own commands, next to Textual's system commands.

Adding commands is one function: decorate a generator that takes the app and yields
:class:`PaletteCommand` objects. It runs each time the palette opens, on the UI thread, so it
must read app state (``app.catalog``, ``app.selection``, ...) and never call a service; to act,
the command's ``run`` calls an app method or ``app.call_service(...)``::

    @palette_command
    def run_backtest(app: KashApp) -> Iterator[PaletteCommand]:
        if app.current_portfolio is not None:
            yield PaletteCommand("Run backtest", app.action_run_backtest, "on the current chart")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from kash_tui.tui.screens import PLACES, percent

if TYPE_CHECKING:
    from kash_tui.tui.app import KashApp


@dataclass(frozen=True)
class PaletteCommand:
    title: str
    run: Callable[[], object]
    help: str = ""


CommandSource = Callable[["KashApp"], Iterable[PaletteCommand]]
COMMAND_SOURCES: list[CommandSource] = []


def palette_command(source: CommandSource) -> CommandSource:
    """Register a generator of palette commands (see the module docstring)."""
    COMMAND_SOURCES.append(source)
    return source


# -- Kash's commands -------------------------------------------------------------------------


@palette_command
def go_to_place(app: KashApp) -> Iterator[PaletteCommand]:
    for place in PLACES.values():
        key = app.key_label(place.binding_id, place.keys)
        yield PaletteCommand(
            f"Go to {place.title}",
            partial(app.action_switch_place, place.id),
            f"{place.tooltip} (key {key})",
        )


@palette_command
def switch_workspace(app: KashApp) -> Iterator[PaletteCommand]:
    for workspace in app.catalog.workspaces:
        count = workspace.portfolio_count
        yield PaletteCommand(
            f"Switch workspace: {workspace.name}",
            partial(app.use_workspace, workspace.id),
            f"{count} portfolio{'s' if count != 1 else ''}",
        )


@palette_command
def switch_portfolio(app: KashApp) -> Iterator[PaletteCommand]:
    for portfolio in app.catalog.portfolios:
        via = f" on {portfolio.connection_name}" if portfolio.connection_name else ""
        yield PaletteCommand(
            f"Switch portfolio: {portfolio.workspace_name} › {portfolio.name}",
            partial(app.use_portfolio, portfolio.id),
            f"{portfolio.mode.value}{via}, {percent(portfolio.position_size_pct)}% per position",
        )


@palette_command
def change_theme(app: KashApp) -> Iterator[PaletteCommand]:
    for name in sorted(app.available_themes):
        if name == app.theme:
            continue
        yield PaletteCommand(
            f"Theme: {name}", partial(setattr, app, "theme", name), "Kept for the next start"
        )


@palette_command
def show_key_ids(app: KashApp) -> Iterator[PaletteCommand]:
    def show() -> None:
        from kash_tui.tui.modals import KeymapScreen

        app.push_screen(KeymapScreen())

    yield PaletteCommand(
        "Keys: action ids for the keymap",
        show,
        "The ids to remap in the [keymap] table of the config file",
    )


# -- the provider ----------------------------------------------------------------------------


class KashCommands(Provider):
    """Serves every registered :data:`COMMAND_SOURCES` function to the palette."""

    def _commands(self) -> list[PaletteCommand]:
        app: KashApp = self.app  # type: ignore[assignment]
        commands: list[PaletteCommand] = []
        for source in COMMAND_SOURCES:
            commands.extend(source(app))
        return commands

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.title, command.run, help=command.help or None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(command.title), command.run,
                    text=command.title, help=command.help or None,
                )
