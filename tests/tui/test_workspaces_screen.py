"""The Workspaces place: workspaces, portfolios and connections, driven with the keyboard.

Each change is checked through the services (the database), not only on screen.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from textual.widgets import Button, Select, Static

from kash_tui.config import Settings
from kash_tui.domains.connection import Environment, NewConnection
from kash_tui.domains.workspace import PortfolioMode, WorkspaceNotFound
from kash_tui.provider import ServiceProvider
from kash_tui.tui.app import KashApp, make_app
from kash_tui.tui.modals import ConfirmModal, ConnectionForm, NameForm, PortfolioForm
from kash_tui.tui.screens.workspaces import WorkspacesScreen

SIZE = (80, 24)


async def settle(pilot) -> None:  # noqa: ANN001
    for _ in range(2):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_text(pilot, text: str) -> None:  # noqa: ANN001
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


def header_text(app: KashApp) -> str:
    header = app.screen.query_one("#kash-header")
    return " ".join(str(s.render()) for s in header.query(Static) if s.display)


def seed(settings: Settings) -> None:
    """A fixed database: Demo (seeded), Research with two portfolios, two connections."""
    provider = ServiceProvider(settings)
    provider.prepare()
    try:
        provider.connection.add(NewConnection(name="alpaca-paper"))
        provider.connection.add(
            NewConnection(name="alpaca-live", environment=Environment.LIVE,
                          keyring_entry="kash-live")
        )
        provider.workspace.create_workspace("Research")
        provider.workspace.create_portfolio(
            "Research", "Swing", PortfolioMode.BACKTEST, position_size_pct="25"
        )
        provider.workspace.create_portfolio(
            "Research", "Paper momentum", PortfolioMode.PAPER, position_size_pct="12.5",
            connection="alpaca-paper",
        )
    finally:
        provider.close()


@pytest.fixture
def settings(sqlite_db_url: str) -> Settings:
    return Settings(database_url=sqlite_db_url)


@pytest.fixture
def seeded(settings: Settings) -> Settings:
    seed(settings)
    return settings


async def test_create_a_workspace_and_a_backtest_portfolio_with_the_keyboard(
    settings: Settings,
) -> None:
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WorkspacesScreen)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NameForm)
        await type_text(pilot, "Research")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WorkspacesScreen)
        assert app.services.workspace.get_workspace("Research").portfolio_count == 0

        await pilot.press("enter")  # into the portfolios of the new (highlighted) workspace
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, PortfolioForm)
        assert form.workspace == "Research"
        await type_text(pilot, "Swing")
        await pilot.press("tab")  # mode: BACKTEST is the default
        await pilot.press("tab")  # position size
        await type_text(pilot, "25")
        await pilot.press("enter")
        await settle(pilot)

        assert isinstance(app.screen, WorkspacesScreen)
        [portfolio] = app.services.workspace.list_portfolios("Research")
        assert portfolio.name == "Swing"
        assert portfolio.mode is PortfolioMode.BACKTEST
        assert portfolio.position_size_pct == Decimal("25")
        assert portfolio.connection_id is None


async def test_position_size_150_is_refused_while_typing(settings: Settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab", "n")  # portfolios of Demo, new portfolio
        await pilot.pause()
        form = app.screen
        assert isinstance(form, PortfolioForm)
        await type_text(pilot, "Big")
        await pilot.press("tab", "tab")
        await type_text(pilot, "150")
        await pilot.pause()
        error = form.query_one("#size-error", Static)
        assert error.display
        assert "at most 100" in str(error.render())
        assert form.query_one("#save", Button).disabled

        await pilot.press("enter")  # refuses: the form stays open, nothing is stored
        await settle(pilot)
        assert app.screen is form
        names = [p.name for p in app.services.workspace.list_portfolios("Demo")]
        assert "Big" not in names

        await pilot.press("backspace", "backspace", "backspace")
        await type_text(pilot, "50")
        await pilot.pause()
        assert not error.display
        assert not form.query_one("#save", Button).disabled


async def test_the_services_refusal_shows_in_the_form(settings: Settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab", "n")
        await pilot.pause()
        form = app.screen
        await type_text(pilot, "Demo backtest")  # the seeded portfolio's name
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is form
        refusal = str(form.query_one("#form-error", Static).render())
        assert "already has a portfolio named 'Demo backtest'" in refusal
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, WorkspacesScreen)


async def test_rename_a_workspace(seeded: Settings) -> None:
    app = make_app(seeded)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down")  # Demo -> Research
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, NameForm)
        await type_text(pilot, "Lab")  # the old name is selected: typing replaces it
        await pilot.press("enter")
        await settle(pilot)
        assert app.services.workspace.get_workspace("Lab").portfolio_count == 2
        with pytest.raises(WorkspaceNotFound):
            app.services.workspace.get_workspace("Research")


async def test_delete_a_workspace_asks_first(seeded: Settings) -> None:
    app = make_app(seeded)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "Research" in app.screen.question
        await pilot.press("n")  # cancel: nothing happens
        await settle(pilot)
        assert app.services.workspace.get_workspace("Research")

        await pilot.press("d")
        await pilot.pause()
        await pilot.press("enter")  # Cancel has the focus: Enter alone deletes nothing
        await settle(pilot)
        assert app.services.workspace.get_workspace("Research")

        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        with pytest.raises(WorkspaceNotFound):
            app.services.workspace.get_workspace("Research")
        assert [p.workspace_name for p in app.services.workspace.list_portfolios()] == ["Demo"]


async def test_delete_a_portfolio_asks_first(seeded: Settings) -> None:
    app = make_app(seeded)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")  # Research's portfolios
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        question = app.screen.question
        await pilot.press("y")
        await settle(pilot)
        left = [p.name for p in app.services.workspace.list_portfolios("Research")]
        assert len(left) == 1 and left[0] not in question


async def test_choosing_a_portfolio_makes_it_current(seeded: Settings) -> None:
    app = make_app(seeded)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Demo › Demo backtest" in header_text(app)
        await pilot.press("down", "enter")  # Research, into its portfolios
        await pilot.press("down")  # the second row (rows are in the service's order)
        table = app.screen.query_one("#portfolios")
        chosen = app.catalog.portfolio(int(table.highlighted_key))
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_portfolio == chosen
        text = header_text(app)
        assert f"Research › {chosen.name}" in text
        assert chosen.mode.value in text
        badge = app.screen.query_one("#mode-badge", Static)
        assert badge.has_class(f"-{chosen.mode.value.lower()}")


async def test_edit_a_portfolio_to_paper_trading_with_the_keyboard(seeded: Settings) -> None:
    app = make_app(seeded)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")  # Research's portfolios
        table = app.screen.query_one("#portfolios")
        while app.catalog.portfolio(int(table.highlighted_key)).name != "Swing":
            await pilot.press("down")
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, PortfolioForm) and form.portfolio.name == "Swing"
        await pilot.press("tab")  # mode
        await pilot.press("enter")  # open the list: BACKTEST, PAPER, LIVE
        await pilot.press("down", "enter")
        await pilot.pause()
        assert form.query_one("#mode", Select).value is PortfolioMode.PAPER
        await pilot.press("tab")  # position size
        await type_text(pilot, "30")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WorkspacesScreen)
        swing = app.services.workspace.find_portfolio("Swing", "Research")
        assert swing.mode is PortfolioMode.PAPER
        assert swing.connection_name == "alpaca-paper"  # the only paper connection
        assert swing.position_size_pct == Decimal("30")


async def test_connection_choice_fits_the_mode(seeded: Settings) -> None:
    app = make_app(seeded)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab", "n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, PortfolioForm)
        mode = form.query_one("#mode", Select)
        connection = form.query_one("#connection", Select)
        assert connection.disabled  # BACKTEST: no broker

        mode.value = PortfolioMode.PAPER
        await pilot.pause()
        assert not connection.disabled
        assert connection.value == "alpaca-paper"  # the one paper connection, preselected
        assert [v for _label, v in connection._options if v != Select.NULL] == ["alpaca-paper"]

        mode.value = PortfolioMode.LIVE  # alpaca-live exists but live trading is off
        await pilot.pause()
        assert connection.is_blank()
        error = str(form.query_one("#connection-error", Static).render())
        assert "live trading enabled" in error
        assert form.query_one("#save", Button).disabled


async def test_add_and_remove_a_connection(settings: Settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab", "tab", "n")
        await pilot.pause()
        assert isinstance(app.screen, ConnectionForm)
        await type_text(pilot, "alpaca-paper")
        await pilot.press("enter")
        await settle(pilot)
        [added] = app.services.connection.list_connections()
        assert (added.name, added.environment, added.key_source) == (
            "alpaca-paper", Environment.PAPER, "env:APCA_API_KEY_ID,APCA_API_SECRET_KEY"
        )
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert app.services.connection.list_connections() == []


# -- looks ------------------------------------------------------------------------------------


async def _ready(pilot) -> None:  # noqa: ANN001
    await settle(pilot)


async def _research_highlighted(pilot) -> None:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("down")
    await pilot.pause()


async def _portfolio_form(pilot) -> None:  # noqa: ANN001
    await _research_highlighted(pilot)
    await pilot.press("enter", "n")
    await pilot.pause()
    await type_text(pilot, "Intraday")
    await pilot.press("tab", "tab")
    await type_text(pilot, "150")
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_workspaces(
    snap_compare, seeded: Settings, size: tuple[int, int]  # noqa: ANN001
) -> None:
    assert snap_compare(make_app(seeded), terminal_size=size, run_before=_research_highlighted)


def test_snapshot_portfolio_form(snap_compare, seeded: Settings) -> None:  # noqa: ANN001
    assert snap_compare(make_app(seeded), terminal_size=(80, 24), run_before=_portfolio_form)


def test_snapshot_database_error(snap_compare) -> None:  # noqa: ANN001
    app = make_app(Settings(database_url="sqlite:////nonexistent-dir/x.db"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_ready)


async def _orders_place(pilot) -> None:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("f4")
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_orders_place(
    snap_compare, seeded: Settings, size: tuple[int, int]  # noqa: ANN001
) -> None:
    """Orders on the Demo backtest (no runs yet) says so and how to pick a paper portfolio."""
    assert snap_compare(make_app(seeded), terminal_size=size, run_before=_orders_place)


async def open_keys_panel(pilot) -> None:  # noqa: ANN001
    """The palette's Keys command, from the keyboard."""
    await pilot.press("ctrl+p")
    await settle(pilot)
    await type_text(pilot, "keys")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_the_keys_panel_leaves_the_header_and_the_place_whole(
    seeded: Settings, size: tuple[int, int]
) -> None:
    """At 80x24 the Keys panel used to squeeze the place to 50 columns and push "5 Options"
    out of the header; now it floats over the place (narrow) or sits beside it (wide), and
    the header and footer keep the full width."""
    from textual.widgets import Footer, HelpPanel

    app = make_app(seeded)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await open_keys_panel(pilot)
        panel = app.screen.query_one(HelpPanel)
        assert panel.region.width > 0
        header = header_text(app)
        assert "Demo › Demo backtest" in header
        assert header.rstrip().endswith("F5 F6" if size[0] < 100 else "F6 Deployments")
        assert app.screen.query_one("#kash-header").region.width == size[0]
        assert app.screen.query_one(Footer).region.width == size[0]
        assert panel.region.y >= 1  # below the header
        assert panel.region.bottom <= size[1] - 1  # above the footer
        table = app.screen.query_one("#workspaces")
        if size[0] < 100:
            assert table.region.width + app.screen.query_one("#portfolios").region.width > 70
        else:
            assert panel.region.x >= app.screen.query_one("#portfolios").region.right


async def test_a_very_narrow_header_keeps_every_place_key(seeded: Settings) -> None:
    app = make_app(seeded)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        header = header_text(app)
        for key in "12345":
            assert key in header
        assert app.screen.query_one("#place-tabs").region.right <= 60


@pytest.mark.parametrize(
    "name",
    ["W" * 64, "研究ワークスペース" * 4, "📈 Momentum 🚀 " * 4],
    ids=["64-chars", "cjk", "emoji"],
)
async def test_long_and_wide_names_stay_inside_their_panels(settings: Settings, name: str) -> None:
    """A 64-character workspace name pushed the Portfolios column out of its panel; CJK and
    emoji names (two cells a character) misaligned. Names are cut, by cells, with …"""
    from rich.cells import cell_len

    provider = ServiceProvider(settings)
    provider.prepare()
    name = name.strip()[:64]
    provider.workspace.create_workspace(name)
    provider.workspace.create_portfolio(name, name, PortfolioMode.BACKTEST)
    provider.close()
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause()
        screen = app.screen
        workspaces = screen.query_one("#workspaces")
        panel = workspaces.content_region
        assert sum(c.get_render_width(workspaces) for c in workspaces.columns.values()) <= (
            panel.width)
        rows = [[str(c) for c in workspaces.get_row_at(i)] for i in range(workspaces.row_count)]
        cut = next(r for r in rows if "…" in r[0] or name in r[0])
        assert cell_len(cut[0]) <= panel.width
        portfolios = screen.query_one("#portfolios")
        pick = next(i for i, r in enumerate(rows) if r is cut)
        workspaces.move_cursor(row=pick)
        await settle(pilot)
        assert sum(c.get_render_width(portfolios) for c in portfolios.columns.values()) <= (
            portfolios.content_region.width)
        labels = [str(c.label) for c in portfolios.columns.values()]
        assert labels == ["Name", "Mode", "Size %", "Connection"]


async def test_the_keymap_list_reads_whole_at_80x24(settings: Settings) -> None:
    """The "What it does" column was cut at the right edge; now it wraps in the room left."""
    from textual.widgets import DataTable

    from kash_tui.tui.modals import KeymapScreen

    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(KeymapScreen())
        await settle(pilot)
        table = app.screen.query_one("#keymap-table", DataTable)
        widths = sum(c.get_render_width(table) for c in table.columns.values())
        assert widths <= table.content_region.width
        texts = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        longest = max(texts, key=len)
        assert len(longest) > table.columns[list(table.columns)[2]].width  # needs wrapping
        index = texts.index(longest)
        assert table.rows[list(table.rows)[index]].height >= 2  # and it wraps


def test_a_name_field_says_which_character_cannot_be_shown() -> None:
    from kash_tui.tui.modals.form import name_problem

    assert name_problem("workspace", "Swing\tTrades") == "Remove a tab."
    assert name_problem("portfolio", "red\x1b[31m") == (
        "Remove an escape code (ESC, as in terminal colours).")
    assert name_problem("workspace", "Research") is None
