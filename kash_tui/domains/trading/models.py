"""Mapping between stored runs and public types; array blobs; Decimal at the storage edge."""

from __future__ import annotations

import io
import json
import zlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from kash_tui.domains.trading.entities import BacktestRunRow
from kash_tui.domains.trading.service import (
    BacktestMetrics,
    BacktestRun,
    BacktestSettings,
)

NS = 1_000_000_000


def to_decimal(value: float) -> Decimal:
    """A float64 from the engine as the Decimal stored with orders and fills (15 significant
    digits: the float's own precision, without binary noise)."""
    return Decimal(f"{value:.15g}")


def pack(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return zlib.compress(buf.getvalue(), 6)


def unpack(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(zlib.decompress(blob)), allow_pickle=False)


def ts_to_datetime(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def metrics_from_json(text: str) -> BacktestMetrics:
    return BacktestMetrics(**json.loads(text))


def metrics_to_json(metrics: BacktestMetrics) -> str:
    return json.dumps(metrics.to_dict(), allow_nan=False, sort_keys=True)


def params_to_json(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def to_run(row: BacktestRunRow) -> BacktestRun:
    settings = BacktestSettings(
        initial_cash=float(row.initial_cash),
        commission=row.commission,
        slippage=row.slippage,
        position_size_pct=row.position_size_pct,
        whole_shares=bool(row.whole_shares),
        fill_model=row.fill_model,
        periods_per_year=row.periods_per_year,
    )
    return BacktestRun(
        id=row.id,
        created_at=row.created_at,
        portfolio_id=row.portfolio_id,
        strategy_id=row.strategy_id,
        params=json.loads(row.params_json),
        symbol=row.symbol,
        timeframe=row.timeframe,
        requested_start=row.requested_start,
        requested_end=row.requested_end,
        first_bar=ts_to_datetime(row.first_bar_ts),
        last_bar=ts_to_datetime(row.last_bar_ts),
        bar_count=row.bar_count,
        settings=settings,
        metrics=metrics_from_json(row.metrics_json),
    )
