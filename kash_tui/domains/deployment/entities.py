"""Deployment tables: the deployments, their journal, and who owns each connection's
market-data stream. Public to migrations only.

A deployment row holds what the user asked (strategy, parameters, symbol, timeframe, limits,
desired state) and what its runner last reported (state, heartbeat, pid, data mode and health,
last bar and signal, position, orders today, P&L). The CLI, the app and a detached runner meet
here; nothing else is shared between processes.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kash_tui.db import Base, UtcDateTime

MONEY = Numeric(38, 16)

STATES = "('running', 'stopped', 'halted', 'failed')"
DESIRED = "('running', 'stopped', 'halted')"


class DeploymentRow(Base):
    __tablename__ = "deployments"
    __table_args__ = (
        CheckConstraint(f"state IN {STATES}", name="state"),
        CheckConstraint(f"desired_state IN {DESIRED}", name="desired_state"),
        CheckConstraint("data_mode IS NULL OR data_mode IN ('stream', 'poll')", name="data_mode"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), index=True
    )
    strategy_id: Mapped[str] = mapped_column(String(64))
    params_json: Mapped[str] = mapped_column(Text)
    symbol: Mapped[str] = mapped_column(String(64))
    timeframe: Mapped[str] = mapped_column(String(16))
    max_position_pct: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    max_orders_per_day: Mapped[int | None] = mapped_column(Integer)
    daily_loss_limit_pct: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    order_tag: Mapped[str] = mapped_column(String(16))
    """Random, fixed at creation: every client order id of this deployment starts with
    ``kash-d-<tag>-``, so its orders are found (and cancelled) by prefix."""
    desired_state: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    flatten_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(255))
    data_mode: Mapped[str | None] = mapped_column(String(8))
    data_health: Mapped[str] = mapped_column(String(16), default="unknown")
    warmup_start: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """The first bar of the history its signals are computed over (fixed at first start)."""
    first_live_bar: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_bar_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    done_bar_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """The newest bar whose signal has been fully handled (a restart never handles it again)."""
    last_signal_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_signal_side: Mapped[str | None] = mapped_column(String(4))
    position_qty: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    orders_today: Mapped[int] = mapped_column(Integer, default=0)
    trading_day: Mapped[str | None] = mapped_column(String(10))
    """New York date (YYYY-MM-DD) ``orders_today`` and ``day_start_equity`` belong to."""
    start_equity: Mapped[Decimal | None] = mapped_column(MONEY)
    day_start_equity: Mapped[Decimal | None] = mapped_column(MONEY)
    pnl: Mapped[Decimal | None] = mapped_column(MONEY)
    message: Mapped[str | None] = mapped_column(Text)
    log_path: Mapped[str | None] = mapped_column(Text)


class DeploymentEventRow(Base):
    __tablename__ = "deployment_journal"
    __table_args__ = (
        Index("ix_deployment_journal_deployment_id_id", "deployment_id", "id"),
        Index("ix_deployment_journal_deployment_id_bar_at", "deployment_id", "bar_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(24))
    bar_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    message: Mapped[str] = mapped_column(Text)
    data_json: Mapped[str] = mapped_column(Text, default="{}")


class StreamLeaseRow(Base):
    """Who owns a connection's market-data stream (Alpaca allows one per key). Claimed by
    inserting the row (the primary key makes it atomic on SQLite and PostgreSQL); a holder
    whose heartbeat is old loses it to the next claimant."""

    __tablename__ = "market_stream_leases"

    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    holder: Mapped[str] = mapped_column(String(128))
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime())
