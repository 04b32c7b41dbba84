"""Workspace tables. Public to migrations only. A portfolio stores no cash."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kash_tui.db import Base, UtcDateTime


class WorkspaceRow(Base):
    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PortfolioRow(Base):
    __tablename__ = "portfolios"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", name="uq_portfolios_workspace_name"),
        CheckConstraint("mode IN ('BACKTEST', 'PAPER', 'LIVE')", name="mode"),
        CheckConstraint(
            "position_size_pct > 0 AND position_size_pct <= 100", name="position_size_pct"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16))
    position_size_pct: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("connections.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AppFlagRow(Base):
    """One-time events of the installation, such as 'the Demo workspace was seeded'."""

    __tablename__ = "app_flags"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    set_at: Mapped[datetime] = mapped_column(UtcDateTime())


class UniverseRow(Base):
    """A named list of symbols in a workspace (``universe_members`` holds the symbols)."""

    __tablename__ = "universes"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_universes_workspace_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class UniverseMemberRow(Base):
    """One symbol of a universe; ``position`` keeps the order the user gave (0-based)."""

    __tablename__ = "universe_members"

    universe_id: Mapped[int] = mapped_column(
        ForeignKey("universes.id", ondelete="CASCADE"), primary_key=True
    )
    symbol: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
