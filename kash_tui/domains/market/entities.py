"""Market tables. Public to migrations only.

``bars.ts`` is seconds since the Unix epoch, UTC: integers keep the key exact and make loading a
million bars into numpy arrays fast on SQLite and PostgreSQL alike.

``broker_assets`` caches the broker's asset list (about 12,000 equities and crypto pairs) so the
symbol search answers as the user types without a request per keystroke; ``broker_asset_lists``
says when each asset class was last downloaded (refreshed after a day), even when the broker
listed none of that class.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from kash_tui.db import Base, UtcDateTime


class InstrumentRow(Base):
    __tablename__ = "instruments"
    __table_args__ = (
        CheckConstraint(
            "asset_class IN ('us_equity', 'crypto', 'us_option')", name="asset_class"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    symbol: Mapped[str] = mapped_column(String(64), unique=True)
    asset_class: Mapped[str] = mapped_column(String(16))
    exchange_tz: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class BarRow(Base):
    __tablename__ = "bars"
    __table_args__ = (
        CheckConstraint("high >= low", name="high_low"),
        CheckConstraint("volume >= 0", name="volume"),
        {"sqlite_with_rowid": False},
    )

    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    timeframe: Mapped[str] = mapped_column(String(8), primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    open: Mapped[float] = mapped_column(Double)
    high: Mapped[float] = mapped_column(Double)
    low: Mapped[float] = mapped_column(Double)
    close: Mapped[float] = mapped_column(Double)
    volume: Mapped[float] = mapped_column(Double)


class BrokerAssetRow(Base):
    """One asset of the broker's list (no bars): what the symbol search offers beyond the cache."""

    __tablename__ = "broker_assets"
    __table_args__ = (
        CheckConstraint(
            "asset_class IN ('us_equity', 'crypto', 'us_option')", name="asset_class"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    symbol: Mapped[str] = mapped_column(String(64), unique=True)
    asset_class: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    exchange: Mapped[str] = mapped_column(String(32), default="")
    tradable: Mapped[bool] = mapped_column(Boolean)
    fractionable: Mapped[bool] = mapped_column(Boolean)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime())


class BrokerAssetListRow(Base):
    """When one asset class of the broker's list was downloaded, and how many it had."""

    __tablename__ = "broker_asset_lists"

    asset_class: Mapped[str] = mapped_column(String(16), primary_key=True)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime())
    count: Mapped[int] = mapped_column(Integer)
