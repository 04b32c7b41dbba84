"""The workspace service on SQLite and PostgreSQL: workspaces, portfolios, the Demo seed.

Every refused command must leave the database exactly as it was (no half-written rows).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from kash_tui.config import Settings
from kash_tui.db import Database
from kash_tui.domains.connection import (
    BrokerConnectionError,
    Environment,
    NewConnection,
)
from kash_tui.domains.workspace import (
    DEMO_PORTFOLIO,
    DEMO_WORKSPACE,
    PortfolioMode,
    PortfolioNotFound,
    WorkspaceError,
    WorkspaceNotFound,
)
from kash_tui.provider import ServiceProvider


def _provider(url: str, *, demo: bool = True) -> ServiceProvider:
    return ServiceProvider(Settings(database_url=url, demo_data=demo))


@pytest.fixture
def kash(db_url: str) -> Iterator[ServiceProvider]:
    """A prepared provider on an empty database, without the Demo seed."""
    provider = _provider(db_url, demo=False)
    provider.prepare()
    try:
        yield provider
    finally:
        provider.close()


def _state(kash: ServiceProvider) -> tuple:
    """Everything a user can list, to prove a refused command changed nothing."""
    ws = [(w.name, w.portfolio_count) for w in kash.workspace.list_workspaces()]
    pf = [
        (p.workspace_name, p.name, p.mode, p.position_size_pct, p.connection_name)
        for p in kash.workspace.list_portfolios()
    ]
    conns = [(c.name, c.environment, c.live_enabled) for c in kash.connection.list_connections()]
    return ws, pf, conns


# -- the Demo seed ---------------------------------------------------------------------------


def test_fresh_database_has_demo_workspace_with_backtest_portfolio(db_url: str) -> None:
    kash = _provider(db_url)
    kash.prepare()
    try:
        spaces = kash.workspace.list_workspaces()
        assert [(w.name, w.portfolio_count) for w in spaces] == [(DEMO_WORKSPACE, 1)]
        (demo,) = kash.workspace.list_portfolios(DEMO_WORKSPACE)
        assert demo.name == DEMO_PORTFOLIO == "Demo backtest"
        assert demo.mode is PortfolioMode.BACKTEST
        assert demo.connection_name is None
        assert demo.position_size_pct == Decimal(100)
    finally:
        kash.close()


def test_preparing_again_does_not_duplicate_the_demo(db_url: str) -> None:
    for _ in range(3):
        kash = _provider(db_url)
        kash.prepare()
        kash.prepare()  # idempotent on the same provider too
        kash.close()
    kash = _provider(db_url)
    kash.prepare()
    try:
        assert [w.name for w in kash.workspace.list_workspaces()] == [DEMO_WORKSPACE]
        assert [p.name for p in kash.workspace.list_portfolios()] == [DEMO_PORTFOLIO]
    finally:
        kash.close()


def test_deleted_demo_does_not_come_back(db_url: str) -> None:
    kash = _provider(db_url)
    kash.prepare()
    assert kash.workspace.delete_workspace(DEMO_WORKSPACE, force=True) == 1
    kash.close()

    again = _provider(db_url)
    again.prepare()
    try:
        assert again.workspace.list_workspaces() == []
        assert again.workspace.list_portfolios() == []
    finally:
        again.close()


def test_seed_never_touches_a_users_own_demo_workspace(db_url: str) -> None:
    # The user's database already has the schema and their own "Demo" before Kash first seeds.
    Database(db_url).prepare()
    kash = _provider(db_url)
    kash.workspace.create_workspace("Demo")
    kash.workspace.create_portfolio("Demo", "Mine", PortfolioMode.BACKTEST, position_size_pct=25)
    kash.prepare()  # first seed
    kash.close()

    for _ in range(2):
        again = _provider(db_url)
        again.prepare()
        try:
            assert [(w.name, w.portfolio_count) for w in again.workspace.list_workspaces()] == [
                ("Demo", 1)
            ]
            (mine,) = again.workspace.list_portfolios("Demo")
            assert (mine.name, mine.position_size_pct) == ("Mine", Decimal(25))
        finally:
            again.close()


def test_demo_data_off_seeds_nothing(db_url: str) -> None:
    kash = _provider(db_url, demo=False)
    kash.prepare()
    try:
        assert kash.workspace.list_workspaces() == []
    finally:
        kash.close()


# -- workspaces ------------------------------------------------------------------------------


def test_create_rename_delete_workspace(kash: ServiceProvider) -> None:
    ws = kash.workspace.create_workspace("  Research  ")
    assert ws.name == "Research"  # surrounding blanks are not part of a name
    assert ws.portfolio_count == 0
    assert kash.workspace.get_workspace("Research").id == ws.id

    renamed = kash.workspace.rename_workspace("Research", "Swing")
    assert renamed.id == ws.id and renamed.name == "Swing"
    assert [w.name for w in kash.workspace.list_workspaces()] == ["Swing"]
    with pytest.raises(WorkspaceNotFound):
        kash.workspace.get_workspace("Research")

    assert kash.workspace.delete_workspace("Swing") == 0
    assert kash.workspace.list_workspaces() == []


def test_workspaces_are_listed_by_name_with_portfolio_counts(kash: ServiceProvider) -> None:
    for name in ("b", "a", "c"):
        kash.workspace.create_workspace(name)
    kash.workspace.create_portfolio("c", "p1", PortfolioMode.BACKTEST)
    kash.workspace.create_portfolio("c", "p2", PortfolioMode.BACKTEST)
    assert [(w.name, w.portfolio_count) for w in kash.workspace.list_workspaces()] == [
        ("a", 0), ("b", 0), ("c", 2),
    ]
    assert kash.workspace.get_workspace("c").portfolio_count == 2


def test_duplicate_workspace_names_are_refused(kash: ServiceProvider) -> None:
    kash.workspace.create_workspace("Alpha")
    kash.workspace.create_workspace("Beta")
    before = _state(kash)
    with pytest.raises(WorkspaceError, match="already exists"):
        kash.workspace.create_workspace("Alpha")
    with pytest.raises(WorkspaceError, match="already exists"):
        kash.workspace.rename_workspace("Beta", "Alpha")
    assert _state(kash) == before


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "tab\there"])
def test_unusable_workspace_names_are_refused(kash: ServiceProvider, name: str) -> None:
    with pytest.raises(WorkspaceError):
        kash.workspace.create_workspace(name)
    assert kash.workspace.list_workspaces() == []


def test_unknown_workspace_is_a_clear_error(kash: ServiceProvider) -> None:
    for call in (
        lambda: kash.workspace.get_workspace("Nope"),
        lambda: kash.workspace.rename_workspace("Nope", "Other"),
        lambda: kash.workspace.delete_workspace("Nope"),
        lambda: kash.workspace.list_portfolios("Nope"),
        lambda: kash.workspace.create_portfolio("Nope", "p", PortfolioMode.BACKTEST),
    ):
        with pytest.raises(WorkspaceNotFound, match="no workspace named 'Nope'"):
            call()
    assert _state(kash) == ([], [], [])


def test_delete_refuses_while_holding_portfolios_unless_forced(kash: ServiceProvider) -> None:
    kash.workspace.create_workspace("Full")
    kash.workspace.create_portfolio("Full", "one", PortfolioMode.BACKTEST)
    kash.workspace.create_portfolio("Full", "two", PortfolioMode.BACKTEST)
    kash.workspace.create_workspace("Other")
    kash.workspace.create_portfolio("Other", "keep", PortfolioMode.BACKTEST)
    before = _state(kash)

    with pytest.raises(WorkspaceError, match=r"holds 2 portfolio"):
        kash.workspace.delete_workspace("Full")
    assert _state(kash) == before

    assert kash.workspace.delete_workspace("Full", force=True) == 2
    assert [w.name for w in kash.workspace.list_workspaces()] == ["Other"]
    assert [(p.workspace_name, p.name) for p in kash.workspace.list_portfolios()] == [
        ("Other", "keep")
    ]
    with pytest.raises(PortfolioNotFound):
        kash.workspace.find_portfolio("one")


# -- portfolios ------------------------------------------------------------------------------


def test_portfolio_name_unique_within_a_workspace_but_not_across(kash: ServiceProvider) -> None:
    kash.workspace.create_workspace("A")
    kash.workspace.create_workspace("B")
    kash.workspace.create_portfolio("A", "Trend", PortfolioMode.BACKTEST)
    before = _state(kash)
    with pytest.raises(WorkspaceError, match="already has a portfolio named 'Trend'"):
        kash.workspace.create_portfolio("A", "Trend", PortfolioMode.BACKTEST)
    assert _state(kash) == before

    other = kash.workspace.create_portfolio("B", "Trend", PortfolioMode.BACKTEST)
    assert other.workspace_name == "B"
    assert [(p.workspace_name, p.name) for p in kash.workspace.list_portfolios()] == [
        ("A", "Trend"), ("B", "Trend"),
    ]
    assert [p.name for p in kash.workspace.list_portfolios("B")] == ["Trend"]


def test_find_portfolio_with_the_same_name_in_two_workspaces(kash: ServiceProvider) -> None:
    kash.workspace.create_workspace("A")
    kash.workspace.create_workspace("B")
    a = kash.workspace.create_portfolio("A", "Trend", PortfolioMode.BACKTEST)
    b = kash.workspace.create_portfolio("B", "Trend", PortfolioMode.BACKTEST)

    with pytest.raises(WorkspaceError) as err:
        kash.workspace.find_portfolio("Trend")
    message = str(err.value)
    assert "'A'" in message and "'B'" in message and "--workspace" in message

    assert kash.workspace.find_portfolio("Trend", "A").id == a.id
    assert kash.workspace.find_portfolio("Trend", "B").id == b.id
    assert kash.workspace.get_portfolio(b.id).workspace_name == "B"

    # deleting needs the workspace too, and then deletes only that one
    with pytest.raises(WorkspaceError, match="several workspaces"):
        kash.workspace.delete_portfolio("Trend")
    kash.workspace.delete_portfolio("Trend", "A")
    assert kash.workspace.find_portfolio("Trend").id == b.id


def test_unknown_portfolio_is_a_clear_error(kash: ServiceProvider) -> None:
    kash.workspace.create_workspace("A")
    with pytest.raises(PortfolioNotFound, match="no portfolio named 'Ghost'"):
        kash.workspace.find_portfolio("Ghost")
    with pytest.raises(PortfolioNotFound, match="in workspace 'A'"):
        kash.workspace.delete_portfolio("Ghost", "A")
    with pytest.raises(PortfolioNotFound):
        kash.workspace.get_portfolio(999_999)


@pytest.mark.parametrize("size", [0, "0", 150, "100.01", -5, "abc", "", "nan", "inf", "0.00001"])
def test_bad_position_sizes_are_refused(kash: ServiceProvider, size: object) -> None:
    kash.workspace.create_workspace("A")
    before = _state(kash)
    with pytest.raises(WorkspaceError, match="[Pp]osition size"):
        kash.workspace.create_portfolio("A", "p", PortfolioMode.BACKTEST, position_size_pct=size)
    assert _state(kash) == before


@pytest.mark.parametrize(
    ("size", "stored"),
    [(0.5, Decimal("0.5")), ("100", Decimal(100)), (100, Decimal(100)), ("12.25", Decimal("12.25")),
     (Decimal("0.0001"), Decimal("0.0001"))],
)
def test_good_position_sizes_are_kept(kash: ServiceProvider, size: object, stored: Decimal) -> None:
    kash.workspace.create_workspace("A")
    created = kash.workspace.create_portfolio(
        "A", "p", PortfolioMode.BACKTEST, position_size_pct=size
    )
    assert created.position_size_pct == stored
    (listed,) = kash.workspace.list_portfolios("A")
    assert listed.position_size_pct == stored


def test_default_position_size_is_100_percent(kash: ServiceProvider) -> None:
    kash.workspace.create_workspace("A")
    assert kash.workspace.create_portfolio("A", "p", PortfolioMode.BACKTEST).position_size_pct == 100


def test_paper_portfolio_needs_a_paper_connection(kash: ServiceProvider) -> None:
    kash.workspace.create_workspace("A")
    kash.connection.add(NewConnection("live1", environment=Environment.LIVE))
    kash.connection.enable_live("live1", "live1")
    before = _state(kash)

    with pytest.raises(WorkspaceError, match="PAPER portfolio needs a paper connection"):
        kash.workspace.create_portfolio("A", "p", PortfolioMode.PAPER)
    with pytest.raises(WorkspaceError, match="paper one"):
        kash.workspace.create_portfolio("A", "p", PortfolioMode.PAPER, connection="live1")
    with pytest.raises(WorkspaceError, match="no connection named 'ghost'"):
        kash.workspace.create_portfolio("A", "p", PortfolioMode.PAPER, connection="ghost")
    assert _state(kash) == before

    kash.connection.add(NewConnection("paper1"))
    p = kash.workspace.create_portfolio("A", "p", PortfolioMode.PAPER, connection="paper1")
    assert (p.mode, p.connection_name) == (PortfolioMode.PAPER, "paper1")
    assert kash.workspace.find_portfolio("p").connection_name == "paper1"


def test_live_portfolio_needs_a_live_connection_with_opt_in(kash: ServiceProvider) -> None:
    kash.workspace.create_workspace("A")
    kash.connection.add(NewConnection("paper1"))
    kash.connection.add(NewConnection("live1", environment=Environment.LIVE))
    before = _state(kash)

    with pytest.raises(WorkspaceError, match="LIVE portfolio needs a live connection"):
        kash.workspace.create_portfolio("A", "p", PortfolioMode.LIVE)
    with pytest.raises(WorkspaceError, match="is a paper connection"):
        kash.workspace.create_portfolio("A", "p", PortfolioMode.LIVE, connection="paper1")
    with pytest.raises(WorkspaceError, match="Live trading is not enabled"):
        kash.workspace.create_portfolio("A", "p", PortfolioMode.LIVE, connection="live1")

    # the opt-in needs the connection's name typed exactly; a paper connection never opts in
    with pytest.raises(BrokerConnectionError, match="does not match"):
        kash.connection.enable_live("live1", "live")
    with pytest.raises(BrokerConnectionError, match="paper connection"):
        kash.connection.enable_live("paper1", "paper1")
    with pytest.raises(WorkspaceError, match="Live trading is not enabled"):
        kash.workspace.create_portfolio("A", "p", PortfolioMode.LIVE, connection="live1")
    assert _state(kash) == before

    kash.connection.enable_live("live1", "live1")
    p = kash.workspace.create_portfolio("A", "p", PortfolioMode.LIVE, connection="live1")
    assert (p.mode, p.connection_name) == (PortfolioMode.LIVE, "live1")


def test_update_portfolio_checks_like_create(kash: ServiceProvider) -> None:
    kash.workspace.create_workspace("A")
    kash.workspace.create_portfolio("A", "one", PortfolioMode.BACKTEST, position_size_pct=10)
    two = kash.workspace.create_portfolio("A", "two", PortfolioMode.BACKTEST)
    before = _state(kash)
    with pytest.raises(WorkspaceError, match="already has a portfolio named 'one'"):
        kash.workspace.update_portfolio(two.id, name="one")
    with pytest.raises(WorkspaceError, match="[Pp]osition size"):
        kash.workspace.update_portfolio(two.id, position_size_pct=0)
    with pytest.raises(WorkspaceError, match="PAPER portfolio needs"):
        kash.workspace.update_portfolio(two.id, mode=PortfolioMode.PAPER)
    assert _state(kash) == before

    updated = kash.workspace.update_portfolio(two.id, name="deux", position_size_pct="33.5")
    assert (updated.name, updated.position_size_pct) == ("deux", Decimal("33.5"))
    assert kash.workspace.find_portfolio("deux", "A").id == two.id


def test_mode_text_is_parsed_or_refused() -> None:
    assert PortfolioMode.parse(" paper ") is PortfolioMode.PAPER
    with pytest.raises(WorkspaceError, match="use backtest, paper or live"):
        PortfolioMode.parse("margin")
