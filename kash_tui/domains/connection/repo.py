"""Data access for connections."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kash_tui.domains.connection.entities import ConnectionRow


def all_connections(session: Session) -> list[ConnectionRow]:
    return list(session.scalars(select(ConnectionRow).order_by(ConnectionRow.name)))


def by_name(session: Session, name: str) -> ConnectionRow | None:
    return session.scalar(select(ConnectionRow).where(ConnectionRow.name == name))


def by_id(session: Session, connection_id: int) -> ConnectionRow | None:
    return session.get(ConnectionRow, connection_id)
