"""Workspace domain: workspaces and their portfolios."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kash_tui.domains.workspace.service import (
    DEMO_PORTFOLIO,
    DEMO_WORKSPACE,
    Portfolio,
    PortfolioMode,
    PortfolioNotFound,
    UNIVERSE_MAX_SYMBOLS,
    Universe,
    UniverseNotFound,
    Workspace,
    WorkspaceError,
    WorkspaceNotFound,
    WorkspaceService,
)

if TYPE_CHECKING:
    from kash_tui.db import Database
    from kash_tui.domains.connection import ConnectionService

__all__ = [
    "DEMO_PORTFOLIO",
    "DEMO_WORKSPACE",
    "Portfolio",
    "PortfolioMode",
    "PortfolioNotFound",
    "UNIVERSE_MAX_SYMBOLS",
    "Universe",
    "UniverseNotFound",
    "Workspace",
    "WorkspaceError",
    "WorkspaceNotFound",
    "WorkspaceService",
    "create_workspace_service",
]


def create_workspace_service(db: Database, connections: ConnectionService) -> WorkspaceService:
    from kash_tui.domains.workspace.service_impl import SqlWorkspaceService

    return SqlWorkspaceService(db, connections)
