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

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher
from textual.markup import escape

from kash_tui.tui.format import percent
from kash_tui.tui.places import PLACES

if TYPE_CHECKING:
    from textual.screen import Screen

    from kash_tui.tui.app import KashApp


@dataclass(frozen=True)
class PaletteCommand:
    """One palette entry. It is found by fuzzy match on ``title``, or when every word typed
    starts a word of ``title``, ``keywords`` or ``help`` ("backtest" finds "Strategies: Run")."""

    title: str
    run: Callable[[], object]
    help: str = ""
    keywords: str = ""

    def words(self) -> list[str]:
        return _WORD.findall(f"{self.title} {self.keywords} {self.help}".lower())


_WORD = re.compile(r"[\w+]+")


def word_match(query: str, command: PaletteCommand) -> bool:
    """Every word of ``query`` starts some word of the command (title, keywords, help)."""
    wanted = _WORD.findall(query.lower())
    if not wanted:
        return False
    words = command.words()
    return all(any(word.startswith(w) for word in words) for w in wanted)


CommandSource = Callable[["KashApp"], Iterable[PaletteCommand]]
COMMAND_SOURCES: list[CommandSource] = []


def palette_command(source: CommandSource) -> CommandSource:
    """Register a generator of palette commands (see the module docstring)."""
    COMMAND_SOURCES.append(source)
    return source


# -- Kash's commands -------------------------------------------------------------------------


@palette_command
def help_commands(app: KashApp) -> Iterator[PaletteCommand]:
    key = app.key_label("help", "question_mark")
    yield PaletteCommand(
        "Help: keys of this place",
        app.action_help,
        f"Every key that works here and everywhere (key {key} outside a text field)",
        "help keys shortcuts bindings keyboard ?",
    )


@palette_command
def go_to_place(app: KashApp) -> Iterator[PaletteCommand]:
    for place in PLACES.values():
        key = app.key_label(place.binding_id, place.keys)
        yield PaletteCommand(
            f"Go to {place.title}",
            partial(app.action_switch_place, place.id),
            f"{place.tooltip} (key {key})",
            "place switch open show",
        )


@palette_command
def import_commands(app: KashApp) -> Iterator[PaletteCommand]:
    from kash_tui.tui.navigation import open_import

    key = app.key_label("chart.import", "i")
    yield PaletteCommand(
        "Import bars from a CSV file",
        partial(open_import, app),
        f"Datetime, Open, High, Low, Close, Volume; then chart them (key {key} in the Chart)",
        "csv data load file bars import",
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
            f"Theme: {name}", partial(setattr, app, "theme", name), "Kept for the next start",
            "colours colors dark light look",
        )


@palette_command
def show_key_ids(app: KashApp) -> Iterator[PaletteCommand]:
    def show() -> None:
        from kash_tui.tui.modals.keymap_screen import KeymapScreen

        app.push_screen(KeymapScreen())

    yield PaletteCommand(
        "Keys: action ids for the keymap",
        show,
        "The ids to remap in the [keymap] table of the config file",
        "remap rebind bindings shortcuts config",
    )


def screen_actions(app: KashApp, screen: Screen) -> Iterator[PaletteCommand]:
    """Every action of the place the palette was opened from (as its footer and help list
    them): "Strategies: Run", "Chart: Zoom in", ... with the keys that run it there."""
    place = PLACES.get(getattr(screen, "PLACE", ""))
    if place is None:
        return
    found: dict[tuple[int, str], tuple[Any, Binding, list[str]]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.id or active.node is app or not active.enabled:
            continue  # the app's own (places, help, quit) have commands of their own
        entry = found.setdefault((id(active.node), binding.action), (active.node, binding, []))
        entry[2].append(app.get_key_display(Binding(key, "")))
    for node, binding, keys in found.values():
        yield PaletteCommand(
            f"{place.title}: {binding.description}",
            partial(app.run_action, binding.action, node),
            f"{binding.tooltip or binding.description} (key {', '.join(keys)})",
            binding.id.replace(".", " ").replace("_", " "),
        )


# -- the provider ----------------------------------------------------------------------------


class KashCommands(Provider):
    """Serves every registered :data:`COMMAND_SOURCES` function to the palette."""

    def _commands(self) -> list[PaletteCommand]:
        app: KashApp = self.app  # type: ignore[assignment]
        commands: list[PaletteCommand] = []
        for source in COMMAND_SOURCES:
            commands.extend(source(app))
        commands.extend(screen_actions(app, self.screen))
        return commands

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(Content(command.title), command.run, text=command.title,
                               help=_plain(command.help))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score <= 0 and word_match(query, command):
                score = 0.5  # found by a word of its keywords or help: below a title match
            if score > 0:
                yield Hit(
                    score, _highlight(matcher, command.title), command.run,
                    text=command.title, help=_plain(command.help),
                )


def _highlight(matcher: Matcher, title: str) -> Content:
    """``Matcher.highlight`` reads the title as markup; a title quotes names ("Swing [old]")."""
    content = Content(title)
    _score, offsets = matcher.fuzzy_search.match(matcher.query, title)
    for offset in offsets:
        if not title[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


def _plain(text: str) -> str | None:
    """The palette reads help as markup: escape it so "[keymap]" shows as written."""
    return escape(text) if text else None
