"""Data access for deployments, their journal and the stream leases (private)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from kash_tui.domains.deployment.entities import (
    DeploymentEventRow,
    DeploymentRow,
    StreamLeaseRow,
)


def by_name(session: Session, name: str) -> DeploymentRow | None:
    return session.scalars(select(DeploymentRow).where(DeploymentRow.name == name)).first()


def by_id(session: Session, deployment_id: int) -> DeploymentRow | None:
    return session.get(DeploymentRow, deployment_id)


def all_rows(session: Session) -> list[DeploymentRow]:
    return list(session.scalars(select(DeploymentRow).order_by(DeploymentRow.name)))


def set_fields(session: Session, deployment_id: int, **fields: Any) -> None:
    session.execute(update(DeploymentRow).where(DeploymentRow.id == deployment_id).values(**fields))


def add_event(
    session: Session, deployment_id: int, *, at: datetime, kind: str, message: str,
    bar_at: datetime | None = None, data: dict[str, Any] | None = None,
) -> DeploymentEventRow:
    row = DeploymentEventRow(
        deployment_id=deployment_id, at=at, kind=kind, bar_at=bar_at, message=message,
        data_json=json.dumps(data or {}, default=str, separators=(",", ":")),
    )
    session.add(row)
    session.flush()
    return row


_EVENT_COLUMNS = (
    DeploymentEventRow.id, DeploymentEventRow.deployment_id, DeploymentEventRow.at,
    DeploymentEventRow.kind, DeploymentEventRow.bar_at, DeploymentEventRow.message,
    DeploymentEventRow.data_json,
)


def events(
    session: Session, deployment_id: int, *, after_id: int | None = None,
    limit: int | None = None, kinds: tuple[str, ...] | None = None,
    bar_at: datetime | None = None,
) -> list[Any]:
    """Oldest first; ``limit`` keeps the newest N. ``bar_at``: the events of one bar (read
    through the (deployment_id, bar_at) index, however long the journal). Plain rows with the
    table's attributes (no ORM objects: a journal of 100,000 rows reads several times faster)."""
    query = select(*_EVENT_COLUMNS).where(DeploymentEventRow.deployment_id == deployment_id)
    if bar_at is not None:
        query = query.where(DeploymentEventRow.bar_at == bar_at)
    if after_id is not None:
        query = query.where(DeploymentEventRow.id > after_id)
    if kinds:
        query = query.where(DeploymentEventRow.kind.in_(kinds))
    if limit is not None:
        rows = list(session.execute(query.order_by(DeploymentEventRow.id.desc()).limit(limit)))
        rows.reverse()
        return rows
    return list(session.execute(query.order_by(DeploymentEventRow.id)))


def count_events(session: Session, deployment_id: int, kind: str, since: datetime) -> int:
    return int(session.scalar(
        select(func.count()).select_from(DeploymentEventRow).where(
            DeploymentEventRow.deployment_id == deployment_id,
            DeploymentEventRow.kind == kind,
            DeploymentEventRow.at >= since,
        )
    ) or 0)


def delete_deployment(session: Session, deployment_id: int) -> None:
    session.execute(delete(DeploymentEventRow).where(
        DeploymentEventRow.deployment_id == deployment_id))
    session.execute(delete(DeploymentRow).where(DeploymentRow.id == deployment_id))


# -- stream leases -------------------------------------------------------------------------


def lease(session: Session, connection_id: int) -> StreamLeaseRow | None:
    return session.get(StreamLeaseRow, connection_id)


def insert_lease(session: Session, connection_id: int, holder: str, now: datetime) -> None:
    session.add(StreamLeaseRow(connection_id=connection_id, holder=holder, heartbeat_at=now))
    session.flush()


def take_lease(
    session: Session, connection_id: int, holder: str, now: datetime, *, was: str,
    stale_before: datetime | None,
) -> bool:
    """Move the lease from ``was`` to ``holder`` if it still is ``was`` (and, with
    ``stale_before``, still older than that). True when it moved."""
    query = update(StreamLeaseRow).where(
        StreamLeaseRow.connection_id == connection_id, StreamLeaseRow.holder == was
    )
    if stale_before is not None:
        query = query.where(StreamLeaseRow.heartbeat_at < stale_before)
    result = session.execute(query.values(holder=holder, heartbeat_at=now))
    return bool(result.rowcount)


def renew_lease(session: Session, connection_id: int, holder: str, now: datetime) -> bool:
    result = session.execute(update(StreamLeaseRow).where(
        StreamLeaseRow.connection_id == connection_id, StreamLeaseRow.holder == holder,
    ).values(heartbeat_at=now))
    return bool(result.rowcount)


def release_lease(session: Session, connection_id: int, holder: str) -> None:
    session.execute(delete(StreamLeaseRow).where(
        StreamLeaseRow.connection_id == connection_id, StreamLeaseRow.holder == holder))
