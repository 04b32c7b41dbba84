"""Market tables. Public to migrations only.

Bars are stored in columnar chunks (``bar_chunks``): one row per instrument, timeframe and
bucket, the bucket a fixed span of time per timeframe (8192 bars' worth, see
``repo.bucket_width``). ``data`` holds the chunk's bars as raw little-endian arrays, one after
the other: ``ts`` (int64 seconds since the Unix epoch, UTC, ascending, unique) then ``open``,
``high``, ``low``, ``close``, ``volume`` (float64), ``count`` values each. Loading a million bars
is then a few hundred blob reads and memory copies on SQLite and PostgreSQL alike; writing
rewrites only the chunks a write touches.

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
    ForeignKey,
    Integer,
    LargeBinary,
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


class BarChunkRow(Base):
    """The bars of one series in one time bucket (see the module docstring for ``data``)."""

    __tablename__ = "bar_chunks"
    __table_args__ = (
        CheckConstraint("count > 0", name="count"),
        CheckConstraint("first_ts <= last_ts", name="first_last"),
    )

    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    timeframe: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    """Start of the bucket, epoch seconds: ``ts // width * width``."""
    first_ts: Mapped[int] = mapped_column(BigInteger)
    last_ts: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


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
