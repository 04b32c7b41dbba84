"""Workspace domain, public face: workspaces group portfolios; portfolios have a mode.

A portfolio stores no cash: cash is the broker's concern (paper, live) or the run's (backtest).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from collections.abc import Sequence
from typing import Protocol

DEMO_WORKSPACE = "Demo"
DEMO_PORTFOLIO = "Demo backtest"
NAME_MAX_LENGTH = 64


class WorkspaceError(Exception):
    """A user-facing workspace or portfolio problem; the message says what to do."""


class WorkspaceNotFound(WorkspaceError):
    pass


class PortfolioNotFound(WorkspaceError):
    pass


class UniverseNotFound(WorkspaceError):
    pass


UNIVERSE_MAX_SYMBOLS = 10_000
"""The most symbols one universe may hold."""


class PortfolioMode(StrEnum):
    BACKTEST = "BACKTEST"
    PAPER = "PAPER"
    LIVE = "LIVE"

    @classmethod
    def parse(cls, text: str) -> PortfolioMode:
        try:
            return cls(text.strip().upper())
        except ValueError:
            raise WorkspaceError(
                f"Unknown portfolio mode {text!r}; use backtest, paper or live."
            ) from None


@dataclass(frozen=True)
class Workspace:
    id: int
    name: str
    created_at: datetime
    portfolio_count: int = 0


@dataclass(frozen=True)
class Portfolio:
    id: int
    workspace_id: int
    workspace_name: str
    name: str
    mode: PortfolioMode
    position_size_pct: Decimal
    connection_id: int | None
    connection_name: str | None
    created_at: datetime


@dataclass(frozen=True)
class Universe:
    """A named list of symbols in a workspace, in the order the user gave them (that order
    breaks ties between signals of the same bar in a universe backtest)."""

    id: int
    workspace_id: int
    workspace_name: str
    name: str
    symbols: tuple[str, ...]
    created_at: datetime


class WorkspaceService(Protocol):
    def list_workspaces(self) -> list[Workspace]: ...

    def get_workspace(self, name: str) -> Workspace: ...

    def create_workspace(self, name: str) -> Workspace: ...

    def rename_workspace(self, name: str, new_name: str) -> Workspace: ...

    def delete_workspace(self, name: str, *, force: bool = False) -> int:
        """Delete a workspace; refuses while it holds portfolios unless ``force``.

        Returns the number of portfolios deleted with it.
        """
        ...

    def list_portfolios(self, workspace: str | None = None) -> list[Portfolio]: ...

    def get_portfolio(self, portfolio_id: int) -> Portfolio: ...

    def find_portfolio(self, name: str, workspace: str | None = None) -> Portfolio: ...

    def create_portfolio(
        self,
        workspace: str,
        name: str,
        mode: PortfolioMode,
        *,
        position_size_pct: Decimal | float | str = Decimal(100),
        connection: str | None = None,
    ) -> Portfolio: ...

    def update_portfolio(
        self,
        portfolio_id: int,
        *,
        name: str | None = None,
        mode: PortfolioMode | None = None,
        position_size_pct: Decimal | float | str | None = None,
        connection: str | None = None,
        clear_connection: bool = False,
    ) -> Portfolio: ...

    def delete_portfolio(self, name: str, workspace: str | None = None) -> None: ...

    def seed_demo(self) -> bool:
        """Create the Demo workspace and its backtest portfolio once, on first run.

        Never overwrites or re-creates what a user made or deleted. Returns True if it seeded.
        """
        ...

    # -- universes ----------------------------------------------------------------------------

    def list_universes(self, workspace: str | None = None) -> list[Universe]: ...

    def get_universe(self, name: str, workspace: str | None = None) -> Universe:
        """The universe ``name``; ``workspace`` is needed only when several workspaces have a
        universe of that name."""
        ...

    def create_universe(
        self, name: str, symbols: Sequence[str], workspace: str | None = None
    ) -> Universe:
        """Store a universe. Symbols are upper-cased and a repeated one is kept once (at its
        first place). Without ``workspace``: the only workspace there is."""
        ...

    def delete_universe(self, name: str, workspace: str | None = None) -> None: ...
