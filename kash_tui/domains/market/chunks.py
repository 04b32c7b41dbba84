"""The stored layout of bars, and reading it without the ORM.

Bars are stored in columnar chunks (``bar_chunks``, see ``entities``): one row per series and
time bucket whose blob holds the raw arrays. Loading reads the chunks that overlap the range,
copies them into preallocated numpy arrays and trims the edges. This module needs no SQLAlchemy:
it runs on a :class:`~kash_tui.db.RawConnection`, so a backtest loads a million bars with the
standard library's driver alone; ``repo`` writes chunks and wraps these reads for ORM sessions.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kash_tui.domains.market.service import MarketError, Timeframe

if TYPE_CHECKING:
    from kash_tui.db import RawConnection

BAR_DTYPE = np.dtype(
    [("ts", np.int64), ("open", np.float64), ("high", np.float64), ("low", np.float64),
     ("close", np.float64), ("volume", np.float64)]
)
"""Bars handed to :func:`upsert`: one record per bar."""
FIELDS = ("open", "high", "low", "close", "volume")
BARS_PER_BUCKET = 8192
"""A bucket spans this many bars of its timeframe (a 1Min bucket is 5.7 days): at most
8192 x 48 bytes = 384 KiB per chunk, so an append rewrites little and a million bars are a few
hundred rows."""
_LOAD_GROUP = 200_000
"""With a progress callback, chunks are read in groups of about this many bars."""
_WRITE_GROUP = 64
"""Chunks per multi-row write."""
_IN_LIST = 500


def bucket_width(timeframe: str) -> int:
    """Seconds spanned by one chunk of ``timeframe``. Part of the stored layout (migration
    0006 has its own copy): changing it needs a migration that re-chunks every series."""
    try:
        seconds = Timeframe(timeframe).seconds
    except ValueError:
        seconds = 60
    return seconds * BARS_PER_BUCKET


@dataclass(frozen=True, eq=False)
class BarColumns:
    """Bars as columns, oldest first: ``ts`` int64 epoch seconds and ``values`` a C-ordered
    float64 (5, n) array whose rows are open, high, low, close, volume (each row contiguous)."""

    ts: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def column(self, name: str) -> np.ndarray:
        return self.values[FIELDS.index(name)]

    @classmethod
    def empty(cls) -> BarColumns:
        return cls(np.empty(0, np.int64), np.empty((5, 0), np.float64))

    @classmethod
    def from_rows(cls, rows: np.ndarray) -> BarColumns:
        values = np.empty((5, rows.shape[0]), np.float64)
        for k, name in enumerate(FIELDS):
            values[k] = rows[name]
        return cls(np.ascontiguousarray(rows["ts"], dtype=np.int64), values)


def pack_chunk(ts: np.ndarray, values: np.ndarray) -> bytes:
    """ts (int64) then the five value rows (float64), little-endian, no header."""
    if sys.byteorder == "little":
        return np.ascontiguousarray(ts, np.int64).tobytes() + np.ascontiguousarray(
            values, np.float64).tobytes()
    return np.ascontiguousarray(ts, "<i8").tobytes() + np.ascontiguousarray(
        values, "<f8").tobytes()


def _unpack_into(blob: bytes, n: int, ts: np.ndarray, values: np.ndarray, at: int) -> None:
    if len(blob) != 48 * n:
        raise MarketError(
            "A stored chunk of bars is damaged (its size does not match its count); "
            "re-import the series."
        )
    ts[at : at + n] = np.frombuffer(blob, "<i8", n)
    values[:, at : at + n] = np.frombuffer(blob, "<f8", 5 * n, 8 * n).reshape(5, n)


def _chunk_index(
    conn: RawConnection, instrument_id: int, timeframe: str, start_ts: int | None,
    end_ts: int | None,
) -> list[tuple[int, int, int, int]]:
    """(bucket, first_ts, last_ts, count) of the chunks overlapping [start_ts, end_ts]."""
    sql = (
        "SELECT bucket, first_ts, last_ts, count FROM bar_chunks "
        "WHERE instrument_id = ? AND timeframe = ?"
    )
    params: list[object] = [instrument_id, timeframe]
    if start_ts is not None:
        sql += " AND last_ts >= ?"
        params.append(start_ts)
    if end_ts is not None:
        sql += " AND first_ts <= ?"
        params.append(end_ts)
    return conn.all(sql + " ORDER BY bucket", params)


def _groups(index: Sequence[tuple[int, int, int, int]], bars: int) -> Iterator[tuple[int, int]]:
    """Consecutive (first bucket, last bucket) ranges of about ``bars`` bars each."""
    lo, acc = None, 0
    for bucket, _f, _l, n in index:
        if lo is None:
            lo = bucket
        acc += n
        if acc >= bars:
            yield lo, bucket
            lo, acc = None, 0
    if lo is not None:
        yield lo, index[-1][0]


def _read_chunks(
    conn: RawConnection, instrument_id: int, timeframe: str, ranges: Sequence[tuple[int, int]],
    total: int, progress: Callable[[int, int], None] | None,
) -> BarColumns:
    """The chunks of the given bucket ranges, concatenated (ranges ascending, disjoint)."""
    sql = conn.sql(
        "SELECT count, data FROM bar_chunks WHERE instrument_id = ? AND timeframe = ? "
        "AND bucket >= ? AND bucket <= ? ORDER BY bucket"
    )
    ts = np.empty(total, np.int64)
    values = np.empty((5, total), np.float64)
    at = 0
    cursor = conn.cursor(binary=True)
    try:
        for lo, hi in ranges:
            cursor.execute(sql, (instrument_id, timeframe, lo, hi))
            # row by row, not fetchall(): each chunk's blob is freed once copied, so a million
            # bars never hold their 48 MB twice
            for n, blob in cursor:
                if at + n > total:
                    raise MarketError(
                        "The bars changed while they were being read; load them again."
                    )
                _unpack_into(blob, n, ts, values, at)
                at += n
            if progress is not None:
                progress(at, total)
    finally:
        cursor.close()
    if at != total:
        ts, values = ts[:at], values[:, :at]
    return BarColumns(ts, values)


def load(
    conn: RawConnection,
    instrument_id: int,
    timeframe: str,
    start_ts: int | None,
    end_ts: int | None,
    last: int | None,
    progress: Callable[[int, int], None] | None = None,
) -> BarColumns:
    """Bars with ``start_ts <= ts <= end_ts`` (either bound optional), the ``last`` newest of
    them if given, oldest first."""
    index = _chunk_index(conn, instrument_id, timeframe, start_ts, end_ts)
    if last is not None:
        # the newest chunks until they surely hold `last` bars in range (an edge chunk that the
        # range cuts counts for nothing until it is read)
        taken, sure = 0, 0
        for bucket, first, final, n in reversed(index):
            taken += 1
            inside = (start_ts is None or first >= start_ts) and (end_ts is None or final <= end_ts)
            sure += n if inside else 0
            if sure >= last:
                break
        index = index[len(index) - taken :]
    if not index:
        return BarColumns.empty()
    total = sum(n for *_rest, n in index)
    if progress is None:
        ranges = [(index[0][0], index[-1][0])]
    else:
        ranges = list(_groups(index, _LOAD_GROUP))
    data = _read_chunks(conn, instrument_id, timeframe, ranges, total, progress)
    ts = data.ts
    lo = int(np.searchsorted(ts, start_ts, "left")) if start_ts is not None else 0
    hi = int(np.searchsorted(ts, end_ts, "right")) if end_ts is not None else len(ts)
    if last is not None:
        lo = max(lo, hi - last)
    if lo == 0 and hi == len(ts):
        return data
    if 2 * (hi - lo) < len(ts):  # do not keep a large buffer alive for a small slice
        return BarColumns(ts[lo:hi].copy(), np.ascontiguousarray(data.values[:, lo:hi]))
    return BarColumns(ts[lo:hi], data.values[:, lo:hi])


# -- instruments, read raw ------------------------------------------------------------------

INSTRUMENT_COLUMNS = ("id", "symbol", "asset_class", "exchange_tz", "name", "source")


@dataclass(frozen=True)
class InstrumentRecord:
    """The columns of an ``instruments`` row that reading bars needs (the attribute names of
    ``entities.InstrumentRow``, so ``models`` maps either)."""

    id: int
    symbol: str
    asset_class: str
    exchange_tz: str
    name: str | None
    source: str


def instrument(conn: RawConnection, symbol: str) -> InstrumentRecord | None:
    row: Any = conn.one(
        f"SELECT {', '.join(INSTRUMENT_COLUMNS)} FROM instruments WHERE symbol = ?", (symbol,)
    )
    return InstrumentRecord(*row) if row is not None else None


def has_demo(conn: RawConnection) -> bool:
    return bool(conn.scalar("SELECT count(*) FROM instruments WHERE source = ?", ("demo",)))
