"""The app shell: start-up, header, places, keys, themes, the palette and a broken database."""

from __future__ import annotations

import threading
import tomllib
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.dom import DOMNode
from textual.widgets import Input, OptionList, Static

from kash_tui.config import Settings, config_file
from kash_tui.tui.app import KashApp, make_app
from kash_tui.tui.keymap import all_bindings, only_swallowed_keys
from kash_tui.tui.places import PLACES

SIZE = (80, 24)


async def settle(pilot) -> None:  # noqa: ANN001
    """Let the start-up worker and everything it triggers finish."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def header_text(app: KashApp) -> str:
    header = app.screen.query_one("#kash-header")
    return " ".join(str(s.render()) for s in header.query(Static) if s.display)


def notices(app: KashApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


@pytest.fixture
def settings(sqlite_db_url: str) -> Settings:
    return Settings(database_url=sqlite_db_url)


async def test_starts_on_the_demo_database(settings: Settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.status == "ready"
        assert app.screen.PLACE == "workspaces"
        text = header_text(app)
        assert "Demo › Demo backtest" in text
        assert "BACKTEST" in text
        badge = app.screen.query_one("#mode-badge", Static)
        assert badge.has_class("-backtest")


class GatedProvider:
    """The real provider, but ``prepare`` waits until the test opens the gate."""

    def __init__(self, settings: Settings) -> None:
        from kash_tui.provider import ServiceProvider

        self.settings = settings
        self.gate = threading.Event()
        self._real = ServiceProvider(settings)
        self.workspace = self._real.workspace
        self.connection = self._real.connection
        self.market = self._real.market
        self.strategy = self._real.strategy
        self.trading = self._real.trading
        self.database_description = self._real.database_description

    def prepare(self) -> None:
        assert self.gate.wait(30)
        self._real.prepare()

    def close(self) -> None:
        self._real.close()


async def test_first_paint_shows_loading_before_the_database(settings: Settings) -> None:
    provider = GatedProvider(settings)
    app = make_app(provider=provider)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # the database is not open yet: a notice, no tables
        assert app.status == "starting"
        notice = app.screen.query_one("#startup-notice", Static)
        assert notice.display and "Opening the database" in str(notice.render())
        assert not app.screen.query("#workspaces")
        assert "Kash" in header_text(app) and "BACKTEST" not in header_text(app)
        provider.gate.set()
        await settle(pilot)
        assert app.status == "ready"
        assert not notice.display
        assert app.screen.query("#workspaces")
    provider.close()


async def test_settings_can_load_after_the_first_paint(sqlite_db_url: str) -> None:
    app = make_app(database_url=sqlite_db_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.status == "ready"
        assert app.settings is not None
        assert app.settings.database_url == sqlite_db_url
        assert "Demo › Demo backtest" in header_text(app)


@pytest.mark.parametrize(
    ("key", "place"),
    [("2", "chart"), ("3", "strategies"), ("4", "orders"), ("1", "workspaces"),
     ("f2", "chart"), ("f3", "strategies"), ("f4", "orders"), ("f1", "workspaces"),
     ("alt+2", "chart"), ("alt+5", "options"), ("alt+1", "workspaces")],
)
async def test_number_and_function_keys_switch_places(
    settings: Settings, key: str, place: str
) -> None:
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        if place == "workspaces":
            await pilot.press("4")
            assert app.current_mode == "orders"
        await pilot.press(key)
        await pilot.pause()
        assert app.current_mode == place
        assert app.screen.PLACE == place
        current = [t for t in app.screen.query("PlaceTab") if t.has_class("-current")]
        assert [t.place.id for t in current] == [place]


async def test_orders_place_says_how_to_start_trading(settings: Settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        text = str(app.screen.query_one("#orders-empty", Static).render())
        assert "kash connection add paper --broker alpaca --paper" in text


async def test_keymap_from_settings_rebinds_an_action(sqlite_db_url: str) -> None:
    settings = Settings(database_url=sqlite_db_url, keymap={"go_chart": "c", "go_orders": "o,f4"})
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")  # no longer bound
        await pilot.pause()
        assert app.current_mode == "workspaces"
        await pilot.press("c")
        await pilot.pause()
        assert app.current_mode == "chart"
        await pilot.press("o")
        await pilot.pause()
        assert app.current_mode == "orders"
        tabs = {t.place.id: str(t.render()) for t in app.screen.query("PlaceTab")}
        assert tabs["chart"].split()[0] == "c"
        assert not any("unknown action" in n for n in notices(app))


async def test_unknown_keymap_id_is_a_notification(sqlite_db_url: str) -> None:
    settings = Settings(database_url=sqlite_db_url, keymap={"launch_rocket": "x"})
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.is_running
        assert any("launch_rocket" in n for n in notices(app))


async def test_unknown_theme_falls_back_with_a_notification(sqlite_db_url: str) -> None:
    app = make_app(Settings(database_url=sqlite_db_url, theme="neon-nights"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "kash-dark"
        assert any("neon-nights" in n and "kash-dark" in n for n in notices(app))
        assert not config_file().exists()  # a fallback is not a choice: nothing is saved


async def test_kash_themes_are_registered(settings: Settings) -> None:
    app = make_app(settings)
    for name in ("kash-dark", "kash-light", "kash-16"):
        assert name in app.available_themes
    assert app.get_theme("kash-16").ansi  # 16 ANSI colours only
    assert "textual-dark" in app.available_themes  # Textual's own stay available


@pytest.mark.parametrize("theme", ["kash-dark", "kash-light", "kash-16", "textual-light"])
@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
async def test_starts_with_each_theme(
    sqlite_db_url: str, theme: str, no_color: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(Settings(database_url=sqlite_db_url, theme=theme))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == theme
        assert app.status == "ready"
        assert not notices(app)


async def test_theme_change_persists_to_the_config_file(settings: Settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.theme = "kash-light"
        await settle(pilot)
    with config_file().open("rb") as fh:
        assert tomllib.load(fh)["theme"] == "kash-light"
    # and the next start restores it
    restored = make_app(Settings(database_url=settings.database_url))
    assert restored.theme == "kash-light"


async def test_a_broken_theme_file_is_a_notification(
    settings: Settings, isolated_env: dict[str, str]
) -> None:
    user_themes = Path(isolated_env["XDG_CONFIG_HOME"]) / "kash" / "themes"
    user_themes.mkdir(parents=True)
    (user_themes / "broken.toml").write_text('name = "broken"\nprimary = "not-a-colour"\n')
    (user_themes / "mine.toml").write_text('name = "mine"\nprimary = "#ff8800"\n')
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "mine" in app.available_themes
        assert "broken" not in app.available_themes
        assert any("broken.toml" in n for n in notices(app))


async def test_database_error_is_shown_and_the_app_keeps_running() -> None:
    app = make_app(Settings(database_url="sqlite:////nonexistent-dir/x.db"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.status == "failed"
        notice = app.screen.query_one("#startup-notice", Static)
        text = str(notice.render())
        assert notice.display
        assert "/nonexistent-dir" in text and "Kash could not start" in text
        assert "F5" in text
        await pilot.press("2")
        await pilot.pause()
        assert app.current_mode == "chart"
        assert app.is_running


async def test_f5_retries_once_the_problem_is_fixed(tmp_path: Path) -> None:
    folder = tmp_path / "later"
    app = make_app(Settings(database_url=f"sqlite:///{folder}/kash.db"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.status == "failed"
        folder.mkdir()
        await pilot.press("f5")
        await settle(pilot)
        assert app.status == "ready"
        assert not app.screen.query_one("#startup-notice", Static).display
        assert "Demo › Demo backtest" in header_text(app)


async def test_palette_switches_workspace(settings: Settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        worker = app.call_service(lambda p: p.workspace.create_workspace("Research"))
        await worker.wait()
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        for ch in "Switch workspace: Research":
            await pilot.press("space" if ch == " " else ch)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_workspace is not None
        assert app.current_workspace.name == "Research"
        assert app.current_portfolio is None
        assert "Research › no portfolio" in header_text(app)


async def test_palette_offers_places_themes_and_portfolios(settings: Settings) -> None:
    from kash_tui.tui.commands import COMMAND_SOURCES

    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [c.title for source in COMMAND_SOURCES for c in source(app)]
    assert "Go to Chart" in titles
    assert "Switch portfolio: Demo › Demo backtest" in titles
    assert "Theme: kash-light" in titles


def test_every_binding_has_an_id_a_tooltip_and_a_reachable_key() -> None:
    for place in PLACES.values():
        place.load()
    from kash_tui.tui.modals import import_all

    import_all()

    ours = _kash_bindings()
    assert {"go_workspaces", "go_chart", "workspace_new", "portfolio_new"} <= {b.id for b in ours}
    assert {b.id for b in ours} <= set(all_bindings())  # all remappable through the keymap
    for binding in ours:
        assert binding.id, binding
        assert binding.tooltip, binding.id
        assert not only_swallowed_keys(binding), binding.id


def _kash_bindings() -> list[Binding]:
    """Every Binding declared by a Kash class (imported so far)."""
    found: list[Binding] = []
    stack: list[type] = [DOMNode]
    seen: set[type] = set()
    while stack:
        for cls in stack.pop().__subclasses__():
            if cls in seen:
                continue
            seen.add(cls)
            stack.append(cls)
            if cls.__module__.startswith("kash_tui."):
                found += [b for b in cls.__dict__.get("BINDINGS", ()) if isinstance(b, Binding)]
    return found


# -- help, the palette, keys that work where the user is ----------------------------------------


async def open_sma_form(pilot) -> Input:  # noqa: ANN001
    """Strategies, SMA crossover chosen with the keyboard: the focus in its first field."""
    app = pilot.app
    await pilot.press("f3")
    for _ in range(200):
        await settle(pilot)
        if app.screen.query("#strategy-list") and app.screen.query_one(
                "#strategy-list", OptionList).option_count:
            break
    listing = app.screen.query_one("#strategy-list", OptionList)
    listing.focus()
    listing.highlighted = listing.get_option_index("sma_crossover")
    await pilot.press("enter")
    for _ in range(200):
        await settle(pilot)
        if app.screen.query("#param-short_period"):
            break
    field = app.screen.query_one("#param-short_period", Input)
    assert app.focused is field
    return field


def help_text(app: KashApp) -> str:
    from kash_tui.tui.modals import HelpScreen

    assert isinstance(app.screen, HelpScreen)
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_question_mark_shows_the_keys_of_the_place_and_the_global_ones(
    settings: Settings,
) -> None:
    app = make_app(settings)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = help_text(app)
        assert "Keys in Workspaces" in text
        assert "New workspace" in text and "Rename" in text  # this place's
        assert "F2, alt+2, 2" in text and "Chart" in text  # the places, every key
        assert "Quit" in text and "Help" in text
        await pilot.press("escape")
        assert app.screen.PLACE == "workspaces"


async def test_help_taller_than_80x24_scrolls_by_keyboard(settings: Settings) -> None:
    from textual.containers import VerticalScroll

    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        body = app.screen.query_one("#help-body", VerticalScroll)
        assert body.max_scroll_y > 0  # the Strategies keys and the global ones overflow 24 rows
        assert "Quit" not in help_text(app)
        await pilot.press("end")
        await pilot.pause()
        assert body.scroll_y == body.max_scroll_y
        assert "Quit" in help_text(app) and "[keymap]" in help_text(app)


async def test_help_and_messages_name_keys_that_work_in_a_field(settings: Settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        field = await open_sma_form(pilot)
        screen = app.screen
        # the run bar names the key that works from here: r would type into the field
        status = str(screen.query_one("#run-status", Static).render())
        assert "F9 runs the backtest" in status and " r " not in status
        assert str(screen.query_one("#run-button").label) == "Run (F9)"
        await pilot.press("question_mark")  # a text field types it...
        assert field.value == "10"  # ...a number field refuses it
        await pilot.press("ctrl+p")  # help from the palette works everywhere
        await pilot.pause()
        for ch in "help":
            await pilot.press(ch)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        text = help_text(app)
        assert "Keys in Strategies" in text
        assert "F9" in text and "Run" in text
        assert "F3, alt+3" in text
        assert "F3, alt+3, 3" not in text  # a digit would type into the field


async def test_a_remapped_key_is_the_one_messages_name(sqlite_db_url: str) -> None:
    settings = Settings(database_url=sqlite_db_url,
                        keymap={"strategies.run_backtest": "x,f6"})
    app = make_app(settings)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await open_sma_form(pilot)
        status = str(app.screen.query_one("#run-status", Static).render())
        assert "F6 runs the backtest" in status


async def test_alt_number_switches_place_from_a_field_without_typing(settings: Settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        field = await open_sma_form(pilot)
        assert field.value == "10"
        await pilot.press("4")  # a digit types into the field: it is a number field
        assert app.current_mode == "strategies" and field.value == "4"
        await pilot.press("backspace", "1", "0")
        await pilot.press("alt+4")
        await pilot.pause()
        assert app.current_mode == "orders"
        await pilot.press("alt+3")
        await pilot.pause()
        assert app.current_mode == "strategies"
        assert field.value == "10"  # untouched
        tabs = [str(t.render()) for t in app.screen.query("PlaceTab")]
        assert tabs[0].split()[0] == "F1" and tabs[3].split()[0] == "F4"  # F-keys, not digits


@pytest.mark.parametrize(
    ("query", "title"),
    [("help", "Help: keys of this place"), ("keys", "Keys: action ids for the keymap"),
     ("backtest", "Run backtest"), ("sweep", "Sweep parameters"), ("order", "Go to Orders"),
     ("theme", "Theme: kash-light"), ("remap", "Keys: action ids for the keymap"),
     ("shortcuts", "Help: keys of this place"), ("rename", "Workspaces: Rename")],
)
async def test_the_palette_finds_actions_by_the_words_a_user_types(
    settings: Settings, query: str, title: str
) -> None:
    app = make_app(settings)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        for ch in query:
            await pilot.press(ch)
        await pilot.pause(0.4)
        found = [str(o.prompt) for o in app.screen.query_one(OptionList).options]
        assert any(title in prompt for prompt in found), found


async def test_brackets_in_names_and_help_show_as_typed(settings: Settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        for ch in "keys":
            await pilot.press(ch)
        await pilot.pause(0.4)
        shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "the [keymap] table" in shown
        await pilot.press("escape")
        name = "[b]S[/]"  # short: the list cuts long names to its width
        worker = app.call_service(lambda p: p.workspace.create_workspace(name))
        await worker.wait()
        await settle(pilot)
        app.notify(f"Workspace {name}.")  # a markup error before
        await pilot.pause()
        assert name in notices(app)[-1]
        shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert name in shown  # the workspace list
