"""Universes (named lists of symbols in a workspace) on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kash_tui.config import Settings
from kash_tui.domains.workspace import UniverseNotFound, WorkspaceError
from kash_tui.provider import ServiceProvider


@pytest.fixture
def kash(db_url: str) -> Iterator[ServiceProvider]:
    provider = ServiceProvider(Settings(database_url=db_url, demo_data=False))
    provider.prepare()
    try:
        yield provider
    finally:
        provider.close()


def test_a_universe_keeps_its_symbols_in_order_once_each(kash: ServiceProvider) -> None:
    kash.workspace.create_workspace("Research")
    made = kash.workspace.create_universe("tech", ["nvda", " AAPL ", "msft", "AAPL"])
    assert made.symbols == ("NVDA", "AAPL", "MSFT")
    assert made.workspace_name == "Research"
    again = kash.workspace.get_universe("tech")
    assert again.symbols == ("NVDA", "AAPL", "MSFT")
    assert [u.name for u in kash.workspace.list_universes("Research")] == ["tech"]


def test_refused_universes_write_nothing(kash: ServiceProvider) -> None:
    with pytest.raises(WorkspaceError, match="Say which workspace"):
        kash.workspace.create_universe("u", ["AAPL"])  # no workspace at all yet
    kash.workspace.create_workspace("A")
    kash.workspace.create_workspace("B")
    with pytest.raises(WorkspaceError, match="there are 2"):
        kash.workspace.create_universe("u", ["AAPL"])
    with pytest.raises(WorkspaceError, match="not a valid symbol"):
        kash.workspace.create_universe("u", ["AAPL", "BAD SYMBOL"], "A")
    with pytest.raises(WorkspaceError, match="at least one symbol"):
        kash.workspace.create_universe("u", ["  "], "A")
    assert kash.workspace.list_universes() == []
    kash.workspace.create_universe("u", ["AAPL"], "A")
    with pytest.raises(WorkspaceError, match="already has a universe named 'u'"):
        kash.workspace.create_universe("u", ["MSFT"], "A")
    assert kash.workspace.get_universe("u").symbols == ("AAPL",)


def test_same_name_in_two_workspaces_needs_the_workspace(kash: ServiceProvider) -> None:
    kash.workspace.create_workspace("A")
    kash.workspace.create_workspace("B")
    kash.workspace.create_universe("u", ["AAPL"], "A")
    kash.workspace.create_universe("u", ["MSFT"], "B")
    with pytest.raises(WorkspaceError, match="several workspaces"):
        kash.workspace.get_universe("u")
    assert kash.workspace.get_universe("u", "B").symbols == ("MSFT",)
    kash.workspace.delete_universe("u", "A")
    assert kash.workspace.get_universe("u").workspace_name == "B"
    with pytest.raises(UniverseNotFound):
        kash.workspace.get_universe("u", "A")


def test_deleting_the_workspace_deletes_its_universes(kash: ServiceProvider) -> None:
    kash.workspace.create_workspace("A")
    kash.workspace.create_universe("u", ["AAPL", "MSFT"], "A")
    kash.workspace.delete_workspace("A")
    assert kash.workspace.list_universes() == []
