"""Data access for stored backtest runs."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from kash_tui.domains.trading.entities import (
    BacktestFillRow,
    BacktestOrderRow,
    BacktestPositionRow,
    BacktestRunRow,
)


def runs(session: Session, portfolio_id: int | None) -> list[BacktestRunRow]:
    stmt = select(BacktestRunRow).order_by(BacktestRunRow.id.desc())
    if portfolio_id is not None:
        stmt = stmt.where(BacktestRunRow.portfolio_id == portfolio_id)
    return list(session.scalars(stmt))


def run(session: Session, run_id: int) -> BacktestRunRow | None:
    return session.get(BacktestRunRow, run_id)


def latest_run(session: Session, portfolio_id: int) -> BacktestRunRow | None:
    stmt = (
        select(BacktestRunRow)
        .where(BacktestRunRow.portfolio_id == portfolio_id)
        .order_by(BacktestRunRow.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def insert_orders(session: Session, rows: list[dict]) -> list[int]:
    """Bulk insert, returning the new ids in the order given."""
    if not rows:
        return []
    stmt = insert(BacktestOrderRow).returning(BacktestOrderRow.id, sort_by_parameter_order=True)
    return list(session.scalars(stmt, rows))


def insert_fills(session: Session, rows: list[dict]) -> None:
    if rows:
        session.execute(insert(BacktestFillRow), rows)


def insert_position(session: Session, row: dict) -> None:
    session.execute(insert(BacktestPositionRow), [row])


def orders(session: Session, run_id: int) -> list[BacktestOrderRow]:
    stmt = select(BacktestOrderRow).where(BacktestOrderRow.run_id == run_id)
    return list(session.scalars(stmt.order_by(BacktestOrderRow.seq)))


def fills(session: Session, run_id: int) -> list[BacktestFillRow]:
    stmt = select(BacktestFillRow).where(BacktestFillRow.run_id == run_id)
    return list(session.scalars(stmt.order_by(BacktestFillRow.id)))


def positions(session: Session, run_id: int) -> list[BacktestPositionRow]:
    stmt = select(BacktestPositionRow).where(BacktestPositionRow.run_id == run_id)
    return list(session.scalars(stmt))
