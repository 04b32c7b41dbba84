"""Trading tables: stored backtest runs (with their fills and end positions) and the order
journal.

Public to migrations only. A backtest run is one row: its settings and metrics as columns, its
arrays as ``.npy`` blobs (uncompressed: a million-point equity curve is stored and read in
milliseconds, where zlib saved 15 % at 0.1-0.3 s): the bar timestamps, the equity curve, the
signals, and the fills (``fills_blob``: one record per fill with its bar, time, the time of the
signal that placed its order, side, quantity, price and commission, float64). A backtest order
is a market order filled at once, so the fills are also the run's orders. So a past run reopens
exactly as it was computed, even if its bars are re-imported later. The end position stays a
``Numeric`` (Decimal) row.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kash_tui.db import Base, UtcDateTime

MONEY = Numeric(38, 16)


class BacktestRunRow(Base):
    __tablename__ = "backtest_runs"
    __table_args__ = (
        CheckConstraint("initial_cash > 0", name="initial_cash"),
        CheckConstraint("commission >= 0", name="commission"),
        CheckConstraint("slippage >= 0 AND slippage < 1", name="slippage"),
        CheckConstraint(
            "position_size_pct > 0 AND position_size_pct <= 100", name="position_size_pct"
        ),
        CheckConstraint("fill_model IN ('next_open', 'close')", name="fill_model"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portfolio_id: Mapped[int | None] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    strategy_id: Mapped[str] = mapped_column(String(64))
    params_json: Mapped[str] = mapped_column(Text)
    symbol: Mapped[str] = mapped_column(String(64))
    timeframe: Mapped[str] = mapped_column(String(8))
    requested_start: Mapped[datetime | None] = mapped_column(UtcDateTime())
    requested_end: Mapped[datetime | None] = mapped_column(UtcDateTime())
    first_bar_ts: Mapped[int] = mapped_column(BigInteger)
    last_bar_ts: Mapped[int] = mapped_column(BigInteger)
    bar_count: Mapped[int] = mapped_column(Integer)
    initial_cash: Mapped[Decimal] = mapped_column(MONEY)
    commission: Mapped[float] = mapped_column(Double)
    slippage: Mapped[float] = mapped_column(Double)
    position_size_pct: Mapped[float] = mapped_column(Double)
    whole_shares: Mapped[bool] = mapped_column(Boolean)
    fill_model: Mapped[str] = mapped_column(String(16))
    periods_per_year: Mapped[float] = mapped_column(Double)
    final_equity: Mapped[Decimal] = mapped_column(MONEY)
    metrics_json: Mapped[str] = mapped_column(Text)
    timestamps_blob: Mapped[bytes] = mapped_column(LargeBinary)
    equity_blob: Mapped[bytes] = mapped_column(LargeBinary)
    signals_blob: Mapped[bytes] = mapped_column(LargeBinary)
    fills_blob: Mapped[bytes] = mapped_column(LargeBinary)
    last_close: Mapped[float] = mapped_column(Double)
    """The close of the last bar (float64, exact): what an open round trip is marked to."""
    # exits (migration 0009): NULL when not set; the run under the other intrabar order
    stop_loss_pct: Mapped[float | None] = mapped_column(Double)
    take_profit_pct: Mapped[float | None] = mapped_column(Double)
    trailing_stop_pct: Mapped[float | None] = mapped_column(Double)
    intrabar: Mapped[str] = mapped_column(String(16), server_default="pessimistic")
    ambiguous_bars: Mapped[int] = mapped_column(Integer, server_default="0")
    other_total_return_pct: Mapped[float | None] = mapped_column(Double)
    other_round_trips: Mapped[int | None] = mapped_column(Integer)
    other_ambiguous_bars: Mapped[int | None] = mapped_column(Integer)


class BacktestPositionRow(Base):
    """The position a run ended with (long-only: at most one row per run and symbol)."""

    __tablename__ = "backtest_positions"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("backtest_runs.id", ondelete="CASCADE"), primary_key=True
    )
    symbol: Mapped[str] = mapped_column(String(64), primary_key=True)
    qty: Mapped[Decimal] = mapped_column(MONEY)
    avg_entry_price: Mapped[Decimal] = mapped_column(MONEY)
    last_price: Mapped[Decimal] = mapped_column(MONEY)


class OrderJournalRow(Base):
    """One order ticket Kash sent (or tried to send) to a broker, keyed by its client order id.

    Written before the order leaves and updated with the outcome, so a crash or a timeout never
    leads to a blind second send: the next attempt with the same ticket asks the broker first.
    Holds no secret; ``summary`` is the human description of the order.
    """

    __tablename__ = "order_journal"
    __table_args__ = (
        CheckConstraint(
            "status IN ('sending', 'sent', 'rejected', 'unknown')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portfolio_id: Mapped[int | None] = mapped_column(
        ForeignKey("portfolios.id", ondelete="SET NULL"), index=True
    )
    client_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    symbol: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)
    live: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    broker_order_id: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class BacktestRunUniverseRow(Base):
    """What makes a ``backtest_runs`` row a universe run: the universe's symbols in order, the
    symbol (index into them) of every fill and signal, each symbol's last close (open trips are
    marked to it) and the per-symbol breakdown (JSON)."""

    __tablename__ = "backtest_run_universes"
    __table_args__ = (CheckConstraint("max_positions > 0", name="max_positions"),)

    run_id: Mapped[int] = mapped_column(
        ForeignKey("backtest_runs.id", ondelete="CASCADE"), primary_key=True
    )
    universe_name: Mapped[str] = mapped_column(String(64))
    workspace_name: Mapped[str] = mapped_column(String(64))
    max_positions: Mapped[int] = mapped_column(Integer)
    symbols_json: Mapped[str] = mapped_column(Text)
    breakdown_json: Mapped[str] = mapped_column(Text)
    fill_symbols_blob: Mapped[bytes] = mapped_column(LargeBinary)
    signal_symbols_blob: Mapped[bytes] = mapped_column(LargeBinary)
    last_closes_blob: Mapped[bytes] = mapped_column(LargeBinary)


class WalkForwardRunRow(Base):
    """A stored walk-forward (migration 0010): what was asked, the stitched out-of-sample
    metrics, and the stitched curve's bar times and equity as blobs. Written and read through
    ``walkforward_rows`` on a raw connection; described here for the migrations."""

    __tablename__ = "walkforward_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portfolio_id: Mapped[int | None] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    strategy_id: Mapped[str] = mapped_column(String(64))
    params_json: Mapped[str] = mapped_column(Text)
    grid_json: Mapped[str] = mapped_column(Text)
    rank_by: Mapped[str] = mapped_column(String(64))
    train: Mapped[str] = mapped_column(String(16))
    test: Mapped[str] = mapped_column(String(16))
    anchored: Mapped[bool] = mapped_column(Boolean)
    symbol: Mapped[str] = mapped_column(String(64))
    timeframe: Mapped[str] = mapped_column(String(8))
    requested_start: Mapped[datetime | None] = mapped_column(UtcDateTime())
    requested_end: Mapped[datetime | None] = mapped_column(UtcDateTime())
    first_bar_ts: Mapped[int] = mapped_column(BigInteger)
    last_bar_ts: Mapped[int] = mapped_column(BigInteger)
    bar_count: Mapped[int] = mapped_column(Integer)
    settings_json: Mapped[str] = mapped_column(Text)
    metrics_json: Mapped[str] = mapped_column(Text)
    in_sample_cagr_pct: Mapped[float | None] = mapped_column(Double)
    window_count: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    timestamps_blob: Mapped[bytes] = mapped_column(LargeBinary)
    equity_blob: Mapped[bytes] = mapped_column(LargeBinary)
    universe_json: Mapped[str | None] = mapped_column(Text)
    """A universe's walk-forward (migration 0013): name, workspace, symbols, max positions."""


class WalkForwardWindowRow(Base):
    """One window of a walk-forward: its bar ranges and times, the chosen parameters and the
    chosen cell's training and test metrics."""

    __tablename__ = "walkforward_windows"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("walkforward_runs.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    train_start: Mapped[int] = mapped_column(Integer)
    train_end: Mapped[int] = mapped_column(Integer)
    test_start: Mapped[int] = mapped_column(Integer)
    test_end: Mapped[int] = mapped_column(Integer)
    train_first_ts: Mapped[int] = mapped_column(BigInteger)
    train_last_ts: Mapped[int] = mapped_column(BigInteger)
    test_first_ts: Mapped[int] = mapped_column(BigInteger)
    test_last_ts: Mapped[int] = mapped_column(BigInteger)
    params_json: Mapped[str] = mapped_column(Text)
    train_metrics_json: Mapped[str] = mapped_column(Text)
    test_metrics_json: Mapped[str] = mapped_column(Text)
    candidates: Mapped[int] = mapped_column(Integer)
