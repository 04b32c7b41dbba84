"""Connection tables. Public to migrations only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kash_tui.db import Base, UtcDateTime


class ConnectionRow(Base):
    __tablename__ = "connections"
    __table_args__ = (
        CheckConstraint("environment IN ('paper', 'live')", name="environment"),
        CheckConstraint("live_enabled = false OR environment = 'live'", name="live_only_live"),
        CheckConstraint(
            "(keyring_entry IS NULL) <> (key_env IS NULL AND secret_env IS NULL)",
            name="one_key_source",
        ),
        CheckConstraint("feed IN ('iex', 'sip')", name="feed"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    broker: Mapped[str] = mapped_column(String(32))
    environment: Mapped[str] = mapped_column(String(8))
    trading_url: Mapped[str | None] = mapped_column(String(512))
    data_url: Mapped[str | None] = mapped_column(String(512))
    key_env: Mapped[str | None] = mapped_column(String(128))
    secret_env: Mapped[str | None] = mapped_column(String(128))
    keyring_entry: Mapped[str | None] = mapped_column(String(128))
    live_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    live_enabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    feed: Mapped[str] = mapped_column(String(8), default="iex", server_default="iex")
    """Alpaca's stock data feed: iex (every account) or sip (subscribers)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
