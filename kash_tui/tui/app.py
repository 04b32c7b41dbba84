"""The Kash Textual app: one factory (:func:`make_app`) for the CLI and the tests.

The first frame paints before anything slow happens. Loading the settings (pydantic) and the
service provider (SQLAlchemy, Alembic, migrations) run in a thread worker after the first
refresh; every place shows "Opening the database…" until then, or the problem's own sentence
if Kash cannot start. Services are called only in thread workers (:meth:`KashApp.call_service`);
every error reaches :meth:`KashApp.report_error`, the one place errors become sentences.

Settings: pass a ``Settings`` (tests, or a caller that has one) or only a ``database_url`` and
let the app load the settings after the first paint (``kash`` does this: importing pydantic
costs about as much as Textual's own first paint). For that first paint the app reads just
``theme`` and ``keymap`` from ``KASH_THEME`` / the config file with :func:`quick_preferences`;
the loaded settings are authoritative and re-applied if they differ.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeVar

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.reactive import var
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Input
from textual.worker import Worker, WorkerState, get_current_worker

from kash_tui.domains.connection import ConnectionModel
from kash_tui.errors import user_sentence  # one list of user errors for the CLI and the app
from kash_tui.domains.workspace import DEMO_WORKSPACE, Portfolio, Workspace
from kash_tui.tui.commands import KashCommands
from kash_tui.tui.keymap import all_bindings, keymap_problems, known_binding_ids, usable_keymap
from kash_tui.tui.places import FIRST_PLACE, PLACES
from kash_tui.tui.themes import fallback_theme, load_themes, theme_folders

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from kash_tui.config import Settings
    from kash_tui.domains.strategy import StrategyInfo  # numpy: not before the first paint
    from kash_tui.provider import ServiceProviderProtocol

T = TypeVar("T")

class ServicesNotReady(Exception):
    """A service was asked for before the database was open."""


# -- app state -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    """What the workspace, connection and strategy services hold, as plain value objects
    (read in a worker; the header, the forms and the palette read it on the UI thread)."""

    workspaces: tuple[Workspace, ...] = ()
    portfolios: tuple[Portfolio, ...] = ()
    connections: tuple[ConnectionModel, ...] = ()
    strategies: tuple[StrategyInfo, ...] = ()

    def workspace(self, workspace_id: int | None) -> Workspace | None:
        return next((w for w in self.workspaces if w.id == workspace_id), None)

    def workspace_named(self, name: str) -> Workspace | None:
        return next((w for w in self.workspaces if w.name == name), None)

    def portfolio(self, portfolio_id: int | None) -> Portfolio | None:
        return next((p for p in self.portfolios if p.id == portfolio_id), None)

    def portfolios_of(self, workspace_id: int | None) -> list[Portfolio]:
        return [p for p in self.portfolios if p.workspace_id == workspace_id]

    def connection(self, name: str | None) -> ConnectionModel | None:
        return next((c for c in self.connections if c.name == name), None)


def read_catalog(provider: ServiceProviderProtocol) -> Catalog:
    """Load the catalog; call from a thread worker only."""
    return Catalog(
        workspaces=tuple(provider.workspace.list_workspaces()),
        portfolios=tuple(provider.workspace.list_portfolios()),
        connections=tuple(provider.connection.list_connections()),
        strategies=tuple(provider.strategy.list()),
    )


class Selection(NamedTuple):
    """The current workspace and portfolio (what the header shows and trading acts on)."""

    workspace_id: int | None = None
    portfolio_id: int | None = None


def fit_selection(selection: Selection, catalog: Catalog) -> Selection:
    """Keep the selection if it still exists; otherwise pick a sensible one."""
    portfolio = catalog.portfolio(selection.portfolio_id)
    if portfolio is not None:
        return Selection(portfolio.workspace_id, portfolio.id)
    workspace = catalog.workspace(selection.workspace_id)
    if workspace is None:
        workspace = catalog.workspace_named(DEMO_WORKSPACE) or next(iter(catalog.workspaces), None)
    if workspace is None:
        return Selection()
    first = next(iter(catalog.portfolios_of(workspace.id)), None)
    return Selection(workspace.id, first.id if first else None)


class Preferences(NamedTuple):
    """What the first paint needs from the settings."""

    theme: str
    keymap: dict[str, str]


def quick_preferences() -> Preferences:
    """``theme`` and ``keymap`` as the settings will have them, read without pydantic.

    Same sources as :class:`kash_tui.config.Settings` for these two keys (``KASH_THEME``, then
    the config file); anything odd is ignored here and reported once the settings load.
    """
    from kash_tui.tui.themes import DEFAULT_THEME

    data: dict[str, Any] = {}
    path = os.environ.get("KASH_CONFIG")
    if not path:
        import platformdirs

        path = str(Path(platformdirs.user_config_dir("kash")) / "config.toml")
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        data = {}
    theme = os.environ.get("KASH_THEME") or data.get("theme")
    keymap = data.get("keymap")
    if not isinstance(keymap, dict) or "KASH_KEYMAP" in os.environ:
        keymap = {}
    return Preferences(
        theme if isinstance(theme, str) else DEFAULT_THEME,
        {str(k): str(v) for k, v in keymap.items()},
    )


# -- the app ---------------------------------------------------------------------------------


class KashApp(App[int]):
    """Kash's shell: places as modes, header state, the provider, themes and keys."""

    CSS_PATH = "app.tcss"
    TITLE = "Kash"
    DEFAULT_MODE = FIRST_PLACE
    COMMANDS = App.COMMANDS | {KashCommands}
    NOTIFICATION_TIMEOUT = 6

    BINDINGS: ClassVar = [
        # first: F5 retries only when the start failed (check_action); otherwise it falls
        # through to the place bound to F5
        Binding(
            "f5", "retry_startup", "Retry", id="retry_startup",
            tooltip="Try again to load the settings and open the database",
        ),
        *(place.binding() for place in PLACES.values()),
        # Alt+number reaches a place from a text field too (a bare number types into it);
        # priority, or the field would take the number
        *(
            Binding(
                f"alt+{number}", f"app.switch_place_anywhere('{place.id}')", place.title,
                show=False,
                priority=True, id=f"{place.binding_id}_alt",
                tooltip=f"{place.tooltip} (also from a text field)",
            )
            for number, place in enumerate(PLACES.values(), 1)
        ),
        Binding(
            "question_mark", "help", "Help", id="help",
            tooltip="The keys of this place and the keys that work everywhere",
        ),
        Binding(
            "ctrl+p", "command_palette", "Commands", show=False, priority=True,
            id="command_palette",
            tooltip="Search every action by name: places, help, backtest, orders, themes, ...",
        ),
        Binding(
            "colon", "command_palette", "Commands", show=False, id="command_palette_alt",
            tooltip="Open the command palette (an alternative to Ctrl+P)",
        ),
        Binding(
            "ctrl+q,f10", "quit", "Quit", show=False, priority=True, id="quit",
            tooltip="Quit Kash",
        ),
    ]

    status: var[str] = var("starting")  # starting | ready | failed
    startup_problem: var[str] = var("")
    catalog: var[Catalog] = var(Catalog())
    selection: var[Selection] = var(Selection())

    def __init__(
        self,
        settings: Settings | None = None,
        provider: ServiceProviderProtocol | None = None,
        *,
        warnings: Iterable[str] = (),
        database_url: str | None = None,
    ) -> None:
        super().__init__()
        self.settings: Settings | None = settings
        self._database_url = database_url
        self._provider = provider
        self._owns_provider = provider is None
        self._notes: list[str] = list(warnings)
        self._declared_keys_cache: dict[str, str] = {}
        self._keymap_overrides: dict[str, str] = {}
        # The first place is the default screen of its mode (see get_default_screen); the
        # others are modes built on first use. Registering the first as a MODE too would make
        # Textual re-parse all CSS before the first paint.
        for place in PLACES.values():
            if place.id != self.DEFAULT_MODE:
                self.add_mode(place.id, place.make_screen)
        prefs = (
            Preferences(settings.theme, dict(settings.keymap))
            if settings is not None
            else quick_preferences()
        )
        themes, problems = load_themes(theme_folders())
        for theme in themes:
            self.register_theme(theme)
        self._notes.extend(problems)
        self._saved_theme = ""
        self._apply_theme(prefs.theme, report=settings is not None)
        self._keymap_overrides = usable_keymap(prefs.keymap)
        if self._keymap_overrides:
            self.set_keymap(self._keymap_overrides)

    # -- themes -------------------------------------------------------------------------------

    def _apply_theme(self, wanted: str, *, report: bool) -> None:
        """Use theme ``wanted``, or fall back (with a note when ``report``)."""
        if wanted not in self.available_themes:
            fallback = fallback_theme(self.available_themes)
            if report:
                self._notes.append(
                    f"Theme {wanted!r} is not available; using {fallback}. "
                    "Pick another with the command palette "
                    f"({self.key_label('command_palette', 'ctrl+p')}, then 'theme')."
                )
            wanted = fallback
        self._saved_theme = wanted  # what the config says or falls back to: nothing to save
        theme = self.get_theme(wanted)
        if theme is not None and not theme.ansi and not self.is_running:
            # Before the app runs, apply the theme the way App.__init__ applies its default,
            # so the CSS is parsed once (assigning App.theme re-parses every stylesheet).
            self.set_reactive(App.theme, wanted)
            self.stylesheet.set_variables(self.get_css_variables())
            self.set_class(theme.dark, "-dark-mode", update=False)
            self.set_class(not theme.dark, "-light-mode", update=False)
            self.set_class(True, f"-theme-{wanted}", update=False)
        elif wanted != self.theme or not self.is_running:
            self.theme = wanted  # ANSI themes also switch Textual's colour filters

    def _theme_changed(self, theme: Theme) -> None:
        if theme.name != self._saved_theme:
            self._saved_theme = theme.name
            self._save_theme(theme.name)

    @work(thread=True, exclusive=True, group="config", exit_on_error=False)
    def _save_theme(self, name: str) -> None:
        from kash_tui.config import ConfigError, save_config_values

        try:
            save_config_values(theme=name)
        except OSError as exc:
            raise ConfigError(
                f"Could not save the theme to the config file ({exc.strerror}); "
                "it applies until Kash quits."
            ) from None

    # -- lifecycle ----------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        return PLACES[self.DEFAULT_MODE].make_screen()

    def on_mount(self) -> None:
        first = PLACES[self.DEFAULT_MODE]
        if first.id not in self._modes:
            self.add_mode(first.id, first.make_screen)  # its screen exists: for switch_mode
        self._show_notes()
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        # After the first frame: the worker's imports would compete for the GIL with it.
        self.call_after_refresh(self._start_services)
        if self.settings is not None and self._keymap_overrides:
            self.call_after_refresh(self._check_keymap)

    def _show_notes(self) -> None:
        for note in self._notes:
            self.notify(note, severity="warning", timeout=12)
        self._notes.clear()

    def on_unmount(self) -> None:
        if self._provider is not None and self._owns_provider:
            self._provider.close()

    @work(thread=True, exclusive=True, group="startup", exit_on_error=False)
    def _start_services(self) -> None:
        built: ServiceProviderProtocol | None = None
        try:
            settings = self.settings
            if settings is None:
                from kash_tui.config import load_settings  # pydantic: after the first paint

                settings, notes = load_settings(self._database_url)
                self.call_from_thread(self._settings_loaded, settings, notes)
            provider = self._provider
            if provider is None:
                from kash_tui.provider import ServiceProvider  # SQLAlchemy & co

                provider = built = ServiceProvider(settings)
            provider.prepare()
            catalog = read_catalog(provider)
            for place in PLACES.values():  # after the first paint: their palette commands
                place.load()
        except Exception as exc:  # noqa: BLE001 - shown on screen by _startup_failed
            if built is not None:
                built.close()
            self.call_from_thread(self._startup_failed, exc)
            return
        self.call_from_thread(self._services_ready, provider, catalog)

    def _settings_loaded(self, settings: Settings, notes: list[str]) -> None:
        self.settings = settings
        self._notes.extend(notes)
        self._apply_theme(settings.theme, report=True)
        keymap = usable_keymap(settings.keymap)
        if keymap != self._keymap_overrides:
            self._keymap_overrides = keymap
            self.set_keymap(keymap)
        self._show_notes()
        if keymap:
            self._check_keymap()

    def _services_ready(self, provider: ServiceProviderProtocol, catalog: Catalog) -> None:
        self._provider = provider
        self.catalog = catalog
        self.status = "ready"

    def _startup_failed(self, error: BaseException) -> None:
        self.startup_problem = user_sentence(error) or self._log_unexpected(error)
        self.status = "failed"

    @work(thread=True, exclusive=True, group="keymap", exit_on_error=False)
    def _check_keymap(self) -> None:
        # import every place (after the first paint) so its bindings are known and its palette
        # commands registered (chart: symbols and timeframes; strategies: strategies, run, sweep)
        for place in PLACES.values():
            place.load()
        from kash_tui.tui.modals import import_all

        import_all()

        keymap = self.settings.keymap if self.settings is not None else {}
        for problem in keymap_problems(keymap, known_binding_ids()):
            self.call_from_thread(self.notify, problem, severity="warning", timeout=12)

    def action_retry_startup(self) -> None:
        self.startup_problem = ""
        self.status = "starting"
        self._start_services()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry_startup":
            return self.status == "failed"
        if action in ("switch_place_anywhere", "help"):
            return not self.screen.is_modal  # a form or dialog is answered or closed first
        return True

    # -- errors: the one place ----------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.report_error(event.worker.error)

    def report_error(
        self, error: BaseException, show: Callable[[str], object] | None = None
    ) -> None:
        """Turn ``error`` into a sentence: shown by ``show`` (a form) or as a notification."""
        sentence = user_sentence(error) or self._log_unexpected(error)
        if show is not None:
            show(sentence)
        else:
            self.notify(sentence, severity="error", timeout=10)

    def _log_unexpected(self, error: BaseException) -> str:
        from kash_tui.errors import crash_sentence, write_crash_report

        path = write_crash_report(error, "kash (app)")
        return crash_sentence(error, path, start="Something unexpected went wrong")

    # -- services -----------------------------------------------------------------------------

    @property
    def services(self) -> ServiceProviderProtocol:
        if self._provider is None or self.status != "ready":
            raise ServicesNotReady("Kash is still opening the database; try again in a moment.")
        return self._provider

    @work(thread=True, group="service", exit_on_error=False)
    def call_service(
        self,
        call: Callable[[ServiceProviderProtocol], T],
        *,
        done: Callable[[T], object] | None = None,
        failed: Callable[[str], object] | None = None,
        refresh: bool = True,
    ) -> None:
        """Run ``call(provider)`` in a thread worker; then, on the UI thread, ``done(result)``.

        ``refresh`` re-reads the catalog after the call (keep it for every change). A refusal
        goes to ``failed(sentence)`` when given (a form shows it), else to a notification.
        Not exclusive: two changes never cancel each other.
        """
        self._serve(call, done, failed, refresh)

    def call_latest(
        self,
        node: DOMNode,
        key: str,
        call: Callable[[ServiceProviderProtocol], T],
        *,
        done: Callable[[T], object] | None = None,
        failed: Callable[[str], object] | None = None,
        refresh: bool = False,
    ) -> Worker[None]:
        """As :meth:`call_service`, in a thread worker of ``node`` that is exclusive per
        ``key``: a newer call with the same node and key cancels this one, and a cancelled
        call's result or failure never reaches ``done`` or ``failed`` (nor a notification).
        For reads where only the latest answer matters: a load, a search, a preview.
        """

        def run() -> None:
            self._serve(call, done, failed, refresh, get_current_worker())

        group = f"service:{key}"
        return node.run_worker(
            run, name=group, group=group, thread=True, exclusive=True, exit_on_error=False
        )

    def _serve(
        self,
        call: Callable[[ServiceProviderProtocol], T],
        done: Callable[[T], object] | None,
        failed: Callable[[str], object] | None,
        refresh: bool,
        worker: Worker[Any] | None = None,
    ) -> None:
        """The body of a service call's worker thread (``worker``: the exclusive one)."""
        try:
            provider = self.services
            if worker is not None and worker.is_cancelled:
                return  # superseded before it started
            result = call(provider)
            catalog = read_catalog(provider) if refresh else None
        except Exception as exc:  # noqa: BLE001 - every error goes to report_error
            self.call_from_thread(self._service_failed, exc, failed, worker)
            return
        self.call_from_thread(self._service_done, result, catalog, done, worker)

    def _service_failed(
        self,
        error: BaseException,
        failed: Callable[[str], object] | None,
        worker: Worker[Any] | None,
    ) -> None:
        if worker is not None and worker.is_cancelled:
            return  # a newer call of the same kind replaced this one
        self.report_error(error, failed)

    def _service_done(
        self,
        result: object,
        catalog: Catalog | None,
        done: Callable[[Any], object] | None,
        worker: Worker[Any] | None = None,
    ) -> None:
        if catalog is not None:
            self.catalog = catalog
        if worker is not None and worker.is_cancelled:
            return  # a newer call of the same kind replaced this one: its result is stale
        if done is not None:
            done(result)

    # -- current workspace and portfolio ------------------------------------------------------

    def watch_catalog(self, catalog: Catalog) -> None:
        self.selection = fit_selection(self.selection, catalog)

    @property
    def current_workspace(self) -> Workspace | None:
        return self.catalog.workspace(self.selection.workspace_id)

    @property
    def current_portfolio(self) -> Portfolio | None:
        return self.catalog.portfolio(self.selection.portfolio_id)

    def use_portfolio(self, portfolio_id: int) -> None:
        portfolio = self.catalog.portfolio(portfolio_id)
        if portfolio is None:
            return
        self.selection = Selection(portfolio.workspace_id, portfolio.id)
        self.notify(
            f"Using {portfolio.name} ({portfolio.mode.value}) in {portfolio.workspace_name}.",
            timeout=3,
        )

    def use_workspace(self, workspace_id: int) -> None:
        workspace = self.catalog.workspace(workspace_id)
        if workspace is None:
            return
        self.selection = fit_selection(Selection(workspace_id, None), self.catalog)
        portfolio = self.current_portfolio
        where = f", portfolio {portfolio.name}" if portfolio else ", no portfolio yet"
        self.notify(f"Workspace {workspace.name}{where}.", timeout=3)

    # -- typing into fields ------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and await self._edit_key_in_place(event):
            return
        await super().on_event(event)

    async def _edit_key_in_place(self, event: events.Key) -> bool:
        """Run a focused field's own editing key (Backspace, End, Ctrl+K, ...) right away.

        Textual inserts a typed character as soon as the field gets the key, but an editing key
        is a binding: it first bubbles up through every container to the app and only then
        runs. When a form is busy, the next character overtakes it: typing End, Backspace,
        Backspace, 1, 2 into "25" at 20 keys a second gave "22" (Textual issue #6605). Running
        the field's binding here keeps the keys in the order they were typed; what runs is the
        same binding the app would pick (priority bindings first, then the focused widget's).
        """
        focused = self.focused
        if event.is_forwarded or event.is_printable or not isinstance(focused, Input):
            return False
        own = [b for b in focused._bindings.key_to_bindings.get(event.key, ()) if not b.priority]
        if not own:
            return False
        if await self._check_bindings(event.key, priority=True):
            return True
        for binding in own:
            if await self.run_action(binding.action, focused):
                return True
        return False

    # -- places and keys ----------------------------------------------------------------------

    def action_switch_place(self, place_id: str) -> None:
        if place_id in PLACES and self.current_mode != place_id:
            self.switch_mode(place_id)

    def action_switch_place_anywhere(self, place_id: str) -> None:
        """Alt+number: a priority key (so a text field cannot type it), never from a dialog."""
        if not self.screen.is_modal:
            self.action_switch_place(place_id)

    def key_label(self, binding_id: str, default_keys: str) -> str:
        """The key to name for a binding in a message, a label or the header, after the user's
        keymap: the first of its keys that also works while a text field has the focus (an
        F-key, not a letter or a digit the field would type), else its first key."""
        declared = self._declared_keys(binding_id) or default_keys
        keys = [k.strip() for k in self._keymap_overrides.get(binding_id, declared).split(",")]
        keys = [k for k in keys if k] or [default_keys.split(",")[0].strip()]
        key = next((k for k in keys if works_in_text_fields(k)), keys[0])
        return self.get_key_display(Binding(key, ""))

    def get_key_display(self, binding: Binding) -> str:
        """As Textual shows keys (``^p``, ``del``), with function keys as printed on the
        keyboard: ``F9``."""
        shown = super().get_key_display(binding)
        if len(shown) > 1 and shown[0] == "f" and shown[1:].isdigit():
            return shown.upper()
        return shown

    def _declared_keys(self, binding_id: str) -> str | None:
        """The keys a Kash class declares for ``binding_id`` (None: no class imported yet)."""
        cache = self._declared_keys_cache
        if binding_id not in cache:
            cache.update({i: b.key for i, b in all_bindings().items()})
            cache.setdefault(binding_id, "")
        return cache[binding_id] or None

    def action_help(self) -> None:
        from kash_tui.tui.modals.help_screen import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_help_quit(self) -> None:
        """Ctrl+C (Textual: copy) outside a text field says how to quit, naming Kash's key."""
        self.notify(f"Press {self.key_label('quit', 'ctrl+q,f10')} to quit Kash.",
                    title="Do you want to quit?")

    def notify(  # type: ignore[override]
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """As ``App.notify``, but always plain text: a message quotes names and sentences
        (a portfolio "Swing [old]", "[keymap]") that must show as typed, not as Rich markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)


def works_in_text_fields(key: str) -> bool:
    """Whether ``key`` still reaches Kash while a text field has the focus: not a character
    the field would type, nor a key the field uses itself (Backspace, Home, Enter, ...)."""
    from textual.keys import key_to_character

    character = key if len(key) == 1 else key_to_character(key)
    if character is not None and character.isprintable():
        return False
    return key not in _INPUT_KEYS


_INPUT_KEYS = frozenset(
    key.strip() for binding in Input.BINDINGS if isinstance(binding, Binding)
    for key in binding.key.split(",")
)


def make_app(
    settings: Settings | None = None,
    provider: ServiceProviderProtocol | None = None,
    *,
    warnings: Sequence[str] = (),
    database_url: str | None = None,
) -> KashApp:
    """The one way to build Kash: the CLI and the tests both call this.

    Without ``settings`` (and without a provider) the settings are loaded after the first
    paint, with ``database_url`` as ``--db`` would give it.
    """
    if settings is None and provider is not None:
        settings = provider.settings
    return KashApp(settings, provider, warnings=warnings, database_url=database_url)


def run_app(
    settings: Settings | None = None,
    warnings: Sequence[str] = (),
    *,
    database_url: str | None = None,
) -> int:
    """Run Kash in the terminal; returns the process exit code."""
    from kash_tui.logs import setup_logging

    setup_logging()  # library warnings go to kash.log, never over the screen
    app = make_app(settings, warnings=warnings, database_url=database_url)
    app.run()
    return app.return_code or 0
