"""Data access for stored backtest runs (one row each, arrays packed in it; see entities)
and the order journal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, defer

from kash_tui.db import utc_now

from kash_tui.domains.trading.entities import (
    BacktestPositionRow,
    BacktestRunRow,
    BacktestRunUniverseRow,
    OrderJournalRow,
)


_ARRAYS = (
    BacktestRunRow.timestamps_blob, BacktestRunRow.equity_blob, BacktestRunRow.signals_blob,
    BacktestRunRow.fills_blob,
)


def _without_arrays():  # noqa: ANN202
    """Listing runs reads no blob (a 1M-bar run holds ~17 MB of arrays)."""
    return [defer(c, raiseload=True) for c in _ARRAYS]


def runs(session: Session, portfolio_id: int | None) -> list[BacktestRunRow]:
    stmt = select(BacktestRunRow).options(*_without_arrays()).order_by(BacktestRunRow.id.desc())
    if portfolio_id is not None:
        stmt = stmt.where(BacktestRunRow.portfolio_id == portfolio_id)
    return list(session.scalars(stmt))


def run(session: Session, run_id: int, *, arrays: bool = True) -> BacktestRunRow | None:
    if arrays:
        return session.get(BacktestRunRow, run_id)
    return session.scalar(
        select(BacktestRunRow).options(*_without_arrays()).where(BacktestRunRow.id == run_id)
    )


def latest_run(session: Session, portfolio_id: int) -> BacktestRunRow | None:
    stmt = (
        select(BacktestRunRow)
        .options(*_without_arrays())
        .where(BacktestRunRow.portfolio_id == portfolio_id)
        .order_by(BacktestRunRow.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def insert_position(session: Session, row: dict) -> None:
    session.execute(insert(BacktestPositionRow), [row])


def positions(session: Session, run_id: int) -> list[BacktestPositionRow]:
    stmt = select(BacktestPositionRow).where(BacktestPositionRow.run_id == run_id)
    return list(session.scalars(stmt))


# -- order journal ---------------------------------------------------------------------------


def journal_entry(session: Session, client_order_id: str) -> OrderJournalRow | None:
    return session.scalars(
        select(OrderJournalRow).where(OrderJournalRow.client_order_id == client_order_id)
    ).first()


def journal_claim(
    session: Session, *, portfolio_id: int, client_order_id: str, symbol: str, summary: str,
    live: bool,
) -> bool:
    """Mark the ticket as being sent. A new ticket is inserted; a ticket the broker refused, or
    one whose fate was unknown and that the broker has just said it does not have, may be sent
    again (Alpaca refuses a second order with the same id should the first still arrive).
    Returns False when the row exists in any other state (or another process
    inserted it first: the unique constraint raises and the caller treats that as False)."""
    now = utc_now()
    row = journal_entry(session, client_order_id)
    if row is None:
        session.add(OrderJournalRow(
            portfolio_id=portfolio_id, client_order_id=client_order_id, symbol=symbol,
            summary=summary, live=live, status="sending", created_at=now, updated_at=now,
        ))
        session.flush()
        return True
    if row.status not in ("rejected", "unknown"):
        return False
    row.status = "sending"
    row.updated_at = now
    session.flush()
    return True


def journal_finish(
    session: Session, client_order_id: str, status: str, *, broker_order_id: str | None,
    message: str | None,
) -> None:
    row = journal_entry(session, client_order_id)
    if row is None or (row.status == "sent" and status != "sent"):
        return  # an order known to be placed never goes back to another state
    row.status = status
    row.updated_at = utc_now()
    if broker_order_id is not None:
        row.broker_order_id = broker_order_id
    row.message = message
    session.flush()


def journal_unresolved(
    session: Session, *, portfolio_id: int, summary: str, since: datetime,
) -> OrderJournalRow | None:
    """The newest ticket of ``portfolio_id`` for the order ``summary`` whose outcome nobody
    knows: left ``sending`` by an interrupted run, or ``unknown`` after a timeout; made since
    ``since``."""
    return session.scalars(
        select(OrderJournalRow)
        .where(
            OrderJournalRow.portfolio_id == portfolio_id,
            OrderJournalRow.summary == summary,
            OrderJournalRow.status.in_(("sending", "unknown")),
            OrderJournalRow.created_at >= since,
        )
        .order_by(OrderJournalRow.created_at.desc(), OrderJournalRow.id.desc())
        .limit(1)
    ).first()


# -- universe runs ---------------------------------------------------------------------------


def universe_rows(session: Session, run_ids: list[int]) -> dict[int, BacktestRunUniverseRow]:
    """The ``backtest_run_universes`` rows of those runs that are universe runs."""
    if not run_ids:
        return {}
    stmt = select(BacktestRunUniverseRow).where(BacktestRunUniverseRow.run_id.in_(run_ids))
    return {row.run_id: row for row in session.scalars(stmt)}
