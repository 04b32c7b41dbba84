"""Mapping between stored runs and public types; array blobs; Decimal at the storage edge."""

from __future__ import annotations

import io
import json
import zlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from kash_tui.domains.trading.service import (
    BacktestMetrics,
    FillColumns,
    BacktestRun,
    BacktestSettings,
    FillSensitivity,
    IntrabarOrder,
)

NS = 1_000_000_000

if TYPE_CHECKING:
    from kash_tui.domains.trading.entities import BacktestRunRow


def to_decimal(value: float) -> Decimal:
    """A float64 from the engine as the Decimal stored with orders and fills (15 significant
    digits: the float's own precision, without binary noise)."""
    return Decimal(f"{value:.15g}")


NPY_MAGIC = b"\x93NUMPY"

FILL_DTYPE_V1 = np.dtype([
    ("bar_index", "<i8"), ("ts", "<i8"), ("signal_ts", "<i8"), ("buy", "i1"),
    ("qty", "<f8"), ("price", "<f8"), ("commission", "<f8"),
])
"""One fill of a run stored before exits (0006 to 0008): its bar, its time and the time of the
signal that placed its order (epoch seconds), side (1 buy, 0 sell), quantity, price, commission
(float64, exactly as the engine computed them). Migration 0006 has its own copy."""

FILL_DTYPE = np.dtype(FILL_DTYPE_V1.descr + [("reason", "i1")])
"""One fill of a stored run (``fills_blob``) since migration 0009: ``FILL_DTYPE_V1`` plus the
fill's reason (``FILL_REASON_CODES``: 0 signal, 1 stop, 2 target, 3 trail). The ``.npy`` header
of each blob says which version it is; :func:`fill_columns` reads both."""


def pack(array: np.ndarray) -> bytes:
    """An array as ``.npy`` bytes, uncompressed: raw copies are what makes storing and reading a
    million-point run take milliseconds (zlib level 1 saved ~15 % of a float equity curve for
    ~140 ms per million points; level 6 ~300 ms)."""
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def unpack(blob: bytes) -> np.ndarray:
    """An array from :func:`pack` or :func:`pack_steps`, or from the zlib-compressed blobs of
    runs stored before."""
    raw = bytes(blob)
    if raw.startswith(STEPS_MAGIC):
        return _unpack_steps(raw)
    if not raw.startswith(NPY_MAGIC):
        raw = zlib.decompress(raw)
    return np.load(io.BytesIO(raw), allow_pickle=False)


STEPS_MAGIC = b"KASHST1\x00"
"""Start of a float64 series stored as the values where it changes (see :func:`pack_steps`)."""


def pack_steps(series: np.ndarray) -> bytes:
    """A float64 series that often repeats its previous value (an equity curve while flat) as a
    bit per point (changed or not) and the values where it changed: a curve flat half the time
    takes half the room, written and read back bit for bit (compared as bits, so -0.0 and NaN
    stay what they were). A series that seldom repeats is stored with :func:`pack`."""
    values = np.ascontiguousarray(series, dtype="<f8")
    n = values.shape[0]
    if values.ndim != 1 or n == 0:
        return pack(values)
    bits = values.view("<i8")
    changed = np.empty(n, dtype=bool)
    changed[0] = True
    np.not_equal(bits[1:], bits[:-1], out=changed[1:])
    kept = values[changed]
    if kept.nbytes > 0.9 * values.nbytes:
        return pack(values)
    return b"".join((STEPS_MAGIC, np.int64(n).astype("<i8").tobytes(),
                     np.packbits(changed).tobytes(), kept.tobytes()))


def _unpack_steps(raw: bytes) -> np.ndarray:
    at = len(STEPS_MAGIC)
    n = int(np.frombuffer(raw, "<i8", 1, at)[0])
    at += 8
    mask_bytes = (n + 7) // 8
    changed = np.unpackbits(np.frombuffer(raw, np.uint8, mask_bytes, at), count=n).view(bool)
    kept = np.frombuffer(raw, "<f8", offset=at + mask_bytes)
    return kept[np.cumsum(changed) - 1].astype(np.float64)


def pack_fills(fills: Any, ts_seconds: np.ndarray, lag: int) -> bytes:
    """The engine's fill columns as ``FILL_DTYPE`` records; ``lag`` bars between a signal and
    its fill (1: next open, 0: same close)."""
    out = np.empty(len(fills), dtype=FILL_DTYPE)
    bars = np.asarray(fills.bar_index, dtype=np.int64)
    out["bar_index"] = bars
    out["ts"] = ts_seconds[bars] if len(bars) else 0
    out["signal_ts"] = ts_seconds[bars - lag] if len(bars) else 0
    out["buy"] = fills.is_buy
    out["qty"] = fills.qty
    out["price"] = fills.price
    out["commission"] = fills.commission
    out["reason"] = fills.reason
    return pack(out)


TIMESTAMPS_MAGIC = b"KASHDT1\x00"
"""Start of a timestamps blob stored as its first value and the steps between values."""


def pack_timestamps(ts: np.ndarray) -> bytes:
    """Bar timestamps (int64, ascending) as the first one and the steps, zlib level 1: bars
    come at a fixed step almost everywhere, so a million of them take tens of kilobytes instead
    of 8 MB, in about 10 ms. :func:`unpack_timestamps` reads them back exactly."""
    ts = np.ascontiguousarray(ts, dtype="<i8")
    steps = np.empty_like(ts)
    steps[:1] = ts[:1]
    np.subtract(ts[1:], ts[:-1], out=steps[1:])
    return TIMESTAMPS_MAGIC + zlib.compress(memoryview(steps).cast("B"), 1)


def unpack_timestamps(blob: bytes) -> np.ndarray:
    """The timestamps of :func:`pack_timestamps`, or of a run stored before it (``pack``)."""
    raw = bytes(blob)
    if not raw.startswith(TIMESTAMPS_MAGIC):
        return unpack(raw)
    steps = np.frombuffer(zlib.decompress(raw[len(TIMESTAMPS_MAGIC):]), "<i8")
    return np.cumsum(steps, dtype=np.int64)


def fill_columns(records: np.ndarray) -> FillColumns:
    """The packed fills of a stored run as the engine's columns (no object per fill)."""
    return FillColumns(
        bar_index=records["bar_index"].astype(np.int64),
        is_buy=records["buy"].astype(bool),
        qty=records["qty"].astype(np.float64),
        price=records["price"].astype(np.float64),
        commission=records["commission"].astype(np.float64),
        # runs stored before exits (FILL_DTYPE_V1) have no reason: every fill was a signal's
        reason=(records["reason"].astype(np.int8) if "reason" in (records.dtype.names or ())
                else None),
    )


def ts_to_datetime(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def ts_to_datetimes(seconds: np.ndarray) -> list[datetime]:
    """``ts_to_datetime`` of many epoch seconds at once (tens of thousands of fills or signals
    in milliseconds)."""
    naive = np.asarray(seconds, dtype=np.int64).astype("datetime64[s]").tolist()
    return [t.replace(tzinfo=UTC) for t in naive]


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
        stop_loss_pct=row.stop_loss_pct,
        take_profit_pct=row.take_profit_pct,
        trailing_stop_pct=row.trailing_stop_pct,
        intrabar=row.intrabar or IntrabarOrder.PESSIMISTIC,
    )
    sensitivity = None
    if row.other_total_return_pct is not None:
        sensitivity = FillSensitivity(
            intrabar=settings.intrabar.other,
            total_return_pct=row.other_total_return_pct,
            round_trips=int(row.other_round_trips or 0),
            ambiguous_bars=int(row.other_ambiguous_bars or 0),
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
        ambiguous_bars=int(row.ambiguous_bars or 0),
        sensitivity=sensitivity,
    )
