"""Data access for workspaces, portfolios and app flags."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kash_tui.domains.workspace.entities import (
    AppFlagRow,
    PortfolioRow,
    UniverseMemberRow,
    UniverseRow,
    WorkspaceRow,
)


def workspaces_with_counts(session: Session) -> list[tuple[WorkspaceRow, int]]:
    counts = (
        select(PortfolioRow.workspace_id, func.count(PortfolioRow.id).label("n"))
        .group_by(PortfolioRow.workspace_id)
        .subquery()
    )
    stmt = (
        select(WorkspaceRow, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.workspace_id == WorkspaceRow.id)
        .order_by(WorkspaceRow.name)
    )
    return [(row, int(n)) for row, n in session.execute(stmt)]


def workspace_by_name(session: Session, name: str) -> WorkspaceRow | None:
    return session.scalar(select(WorkspaceRow).where(WorkspaceRow.name == name))


def portfolio_count(session: Session, workspace_id: int) -> int:
    stmt = select(func.count(PortfolioRow.id)).where(PortfolioRow.workspace_id == workspace_id)
    return int(session.scalar(stmt) or 0)


def portfolios(session: Session, workspace_id: int | None = None) -> list[tuple[PortfolioRow, str]]:
    stmt = select(PortfolioRow, WorkspaceRow.name).join(
        WorkspaceRow, WorkspaceRow.id == PortfolioRow.workspace_id
    )
    if workspace_id is not None:
        stmt = stmt.where(PortfolioRow.workspace_id == workspace_id)
    stmt = stmt.order_by(WorkspaceRow.name, PortfolioRow.name)
    return [(row, ws) for row, ws in session.execute(stmt)]


def portfolios_named(session: Session, name: str) -> list[tuple[PortfolioRow, str]]:
    stmt = (
        select(PortfolioRow, WorkspaceRow.name)
        .join(WorkspaceRow, WorkspaceRow.id == PortfolioRow.workspace_id)
        .where(PortfolioRow.name == name)
        .order_by(WorkspaceRow.name)
    )
    return [(row, ws) for row, ws in session.execute(stmt)]


def portfolio_by_id(session: Session, portfolio_id: int) -> tuple[PortfolioRow, str] | None:
    stmt = (
        select(PortfolioRow, WorkspaceRow.name)
        .join(WorkspaceRow, WorkspaceRow.id == PortfolioRow.workspace_id)
        .where(PortfolioRow.id == portfolio_id)
    )
    found = session.execute(stmt).first()
    return (found[0], found[1]) if found else None


def flag(session: Session, name: str) -> AppFlagRow | None:
    return session.get(AppFlagRow, name)


# -- universes -------------------------------------------------------------------------------


def universes(
    session: Session, workspace_id: int | None = None, name: str | None = None
) -> list[tuple[UniverseRow, str, list[str]]]:
    """Universes (with their workspace's name and symbols in order), by workspace and name."""
    stmt = select(UniverseRow, WorkspaceRow.name).join(
        WorkspaceRow, WorkspaceRow.id == UniverseRow.workspace_id
    )
    if workspace_id is not None:
        stmt = stmt.where(UniverseRow.workspace_id == workspace_id)
    if name is not None:
        stmt = stmt.where(UniverseRow.name == name)
    found = list(session.execute(stmt.order_by(WorkspaceRow.name, UniverseRow.name)))
    if not found:
        return []
    members: dict[int, list[str]] = {row.id: [] for row, _ws in found}
    rows = session.execute(
        select(UniverseMemberRow.universe_id, UniverseMemberRow.symbol)
        .where(UniverseMemberRow.universe_id.in_(list(members)))
        .order_by(UniverseMemberRow.universe_id, UniverseMemberRow.position)
    )
    for universe_id, symbol in rows:
        members[universe_id].append(symbol)
    return [(row, ws, members[row.id]) for row, ws in found]
