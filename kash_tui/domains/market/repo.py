"""Data access for instruments, bars and the cached broker asset list.

Bars move in bulk. They are stored in columnar chunks (``bar_chunks``, see ``entities``): one
row per series and time bucket whose blob holds the raw arrays. Loading reads the chunks that
overlap the range, copies them into preallocated numpy arrays and trims the edges; writing
reads the chunks a write touches, merges by timestamp (the new bars win, never a duplicate) and
writes them back, all inside the caller's transaction. The same statements run on SQLite and
PostgreSQL; nothing outside this module knows the layout.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from kash_tui.domains.market.entities import (
    BarChunkRow,
    BrokerAssetListRow,
    BrokerAssetRow,
    InstrumentRow,
)
from kash_tui.domains.market.service import MarketError, Timeframe

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


def instruments(session: Session) -> list[InstrumentRow]:
    return list(session.scalars(select(InstrumentRow).order_by(InstrumentRow.symbol)))


def instrument(session: Session, symbol: str) -> InstrumentRow | None:
    return session.scalar(select(InstrumentRow).where(InstrumentRow.symbol == symbol))


def has_demo(session: Session) -> bool:
    stmt = select(func.count()).select_from(InstrumentRow).where(InstrumentRow.source == "demo")
    return bool(session.scalar(stmt))


def summaries(session: Session) -> list[tuple[InstrumentRow, str, int, int, int]]:
    stmt = (
        select(
            InstrumentRow,
            BarChunkRow.timeframe,
            func.min(BarChunkRow.first_ts),
            func.max(BarChunkRow.last_ts),
            func.sum(BarChunkRow.count),
        )
        .join(BarChunkRow, BarChunkRow.instrument_id == InstrumentRow.id)
        .group_by(InstrumentRow.id, BarChunkRow.timeframe)
        .order_by(InstrumentRow.symbol, BarChunkRow.timeframe)
    )
    return [(r, tf, int(a), int(b), int(n)) for r, tf, a, b, n in session.execute(stmt)]


def timeframes(session: Session, instrument_id: int) -> list[str]:
    stmt = (
        select(BarChunkRow.timeframe).where(BarChunkRow.instrument_id == instrument_id).distinct()
    )
    return list(session.scalars(stmt))


def count_bars(session: Session, instrument_id: int, timeframe: str) -> int:
    stmt = select(func.sum(BarChunkRow.count)).where(
        BarChunkRow.instrument_id == instrument_id, BarChunkRow.timeframe == timeframe
    )
    return int(session.scalar(stmt) or 0)


def last_ts(session: Session, instrument_id: int, timeframe: str) -> int | None:
    stmt = select(func.max(BarChunkRow.last_ts)).where(
        BarChunkRow.instrument_id == instrument_id, BarChunkRow.timeframe == timeframe
    )
    value = session.scalar(stmt)
    return int(value) if value is not None else None


def _raw(session: Session):  # noqa: ANN202
    return session.connection().connection.dbapi_connection


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _cursor(session: Session):  # noqa: ANN202
    raw = _raw(session)
    # PostgreSQL: bytea in binary format, not hex text to decode
    return raw.cursor() if _is_sqlite(session) else raw.cursor(binary=True)


def _chunk_index(
    session: Session, instrument_id: int, timeframe: str, start_ts: int | None,
    end_ts: int | None,
) -> list[tuple[int, int, int, int]]:
    """(bucket, first_ts, last_ts, count) of the chunks overlapping [start_ts, end_ts]
    (a raw query: a few hundred small rows, without the ORM's per-row cost)."""
    ph = "?" if _is_sqlite(session) else "%s"
    sql = (
        "SELECT bucket, first_ts, last_ts, count FROM bar_chunks "
        f"WHERE instrument_id = {ph} AND timeframe = {ph}"
    )
    params: list[object] = [instrument_id, timeframe]
    if start_ts is not None:
        sql += f" AND last_ts >= {ph}"
        params.append(start_ts)
    if end_ts is not None:
        sql += f" AND first_ts <= {ph}"
        params.append(end_ts)
    cursor = _raw(session).cursor()
    try:
        cursor.execute(sql + " ORDER BY bucket", params)
        return [tuple(r) for r in cursor.fetchall()]
    finally:
        cursor.close()


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
    session: Session, instrument_id: int, timeframe: str, ranges: Sequence[tuple[int, int]],
    total: int, progress: Callable[[int, int], None] | None,
) -> BarColumns:
    """The chunks of the given bucket ranges, concatenated (ranges ascending, disjoint)."""
    ph = "?" if _is_sqlite(session) else "%s"
    sql = (
        f"SELECT count, data FROM bar_chunks WHERE instrument_id = {ph} AND timeframe = {ph} "
        f"AND bucket >= {ph} AND bucket <= {ph} ORDER BY bucket"
    )
    ts = np.empty(total, np.int64)
    values = np.empty((5, total), np.float64)
    at = 0
    cursor = _cursor(session)
    try:
        for lo, hi in ranges:
            cursor.execute(sql, (instrument_id, timeframe, lo, hi))
            for n, blob in cursor.fetchall():
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
    session: Session,
    instrument_id: int,
    timeframe: str,
    start_ts: int | None,
    end_ts: int | None,
    last: int | None,
    progress: Callable[[int, int], None] | None = None,
) -> BarColumns:
    """Bars with ``start_ts <= ts <= end_ts`` (either bound optional), the ``last`` newest of
    them if given, oldest first."""
    index = _chunk_index(session, instrument_id, timeframe, start_ts, end_ts)
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
    data = _read_chunks(session, instrument_id, timeframe, ranges, total, progress)
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


def _check_bars(ts: np.ndarray, values: np.ndarray) -> None:
    """What the bars table's constraints used to refuse: refused before anything is written."""
    o, h, low, c, v = values
    finite = np.isfinite(values).all(axis=0)
    bad = ~finite | (h < low) | (v < 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        when = datetime.fromtimestamp(int(ts[k]), tz=UTC).isoformat()
        if not finite[k]:
            reason = "a price or volume that is not a number"
        elif h[k] < low[k]:
            reason = "a high below its low"
        else:
            reason = "a negative volume"
        raise MarketError(
            f"{int(bad.sum())} bar(s) cannot be stored, the first at {when} with {reason}; "
            "nothing was stored. Fix the data and try again."
        )


def upsert(
    session: Session,
    instrument_id: int,
    timeframe: str,
    rows: np.ndarray,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Insert or replace bars (a ``BAR_DTYPE`` array, any order) inside the caller's
    transaction. For a timestamp given twice the later row wins; a stored bar with the same
    timestamp is replaced."""
    n = int(rows.shape[0])
    if n == 0:
        return
    new = BarColumns.from_rows(rows)
    _check_bars(new.ts, new.values)
    order = np.argsort(new.ts, kind="stable")
    ts, values = new.ts[order], new.values[:, order]
    last_of_run = np.ones(ts.shape[0], bool)
    last_of_run[:-1] = ts[1:] != ts[:-1]
    ts, values = ts[last_of_run], values[:, last_of_run]

    width = bucket_width(timeframe)
    touched = np.unique(ts // width * width)
    stmt = select(
        BarChunkRow.bucket, BarChunkRow.first_ts, BarChunkRow.last_ts, BarChunkRow.count
    ).where(
        BarChunkRow.instrument_id == instrument_id, BarChunkRow.timeframe == timeframe,
        BarChunkRow.bucket >= int(touched[0]), BarChunkRow.bucket <= int(touched[-1]),
    )
    wanted = set(touched.tolist())
    stored = [
        (int(b), int(f), int(la), int(c))
        for b, f, la, c in session.execute(stmt.order_by(BarChunkRow.bucket))
        if b in wanted
    ]
    if stored:
        old = _read_stored(session, instrument_id, timeframe, stored)
        # old bars not replaced by a new one at the same timestamp (both sides sorted)
        pos = np.searchsorted(ts, old.ts)
        hit = np.zeros(old.ts.shape[0], bool)
        inside = pos < ts.shape[0]
        hit[inside] = ts[pos[inside]] == old.ts[inside]
        keep = ~hit
        ts = np.concatenate([old.ts[keep], ts])
        values = np.concatenate([old.values[:, keep], values], axis=1)
        order = np.argsort(ts, kind="stable")
        ts, values = ts[order], values[:, order]

    buckets = ts // width * width
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    ends = np.r_[starts[1:], ts.shape[0]]
    ph = "?" if _is_sqlite(session) else "%s"
    sql = (
        "INSERT INTO bar_chunks (instrument_id, timeframe, bucket, first_ts, last_ts, count, data) "
        f"VALUES ({ph}, {ph}, {ph}, {ph}, {ph}, {ph}, {ph}) "
        "ON CONFLICT (instrument_id, timeframe, bucket) DO UPDATE SET "
        "first_ts = excluded.first_ts, last_ts = excluded.last_ts, count = excluded.count, "
        "data = excluded.data"
    )
    total = int(ts.shape[0])
    cursor = _raw(session).cursor()
    try:
        for g in range(0, starts.shape[0], _WRITE_GROUP):
            params = [
                (instrument_id, timeframe, int(buckets[a]), int(ts[a]), int(ts[b - 1]),
                 int(b - a), pack_chunk(ts[a:b], values[:, a:b]))
                for a, b in zip(starts[g : g + _WRITE_GROUP].tolist(),
                                ends[g : g + _WRITE_GROUP].tolist(), strict=True)
            ]
            cursor.executemany(sql, params)
            if progress is not None:
                done = int(ends[min(g + _WRITE_GROUP, starts.shape[0]) - 1])
                progress(round(done / total * n), n)
    finally:
        cursor.close()


def _read_stored(
    session: Session, instrument_id: int, timeframe: str, stored: list[tuple[int, int, int, int]]
) -> BarColumns:
    """The given stored chunks (ascending buckets), concatenated."""
    total = sum(r[3] for r in stored)
    ts = np.empty(total, np.int64)
    values = np.empty((5, total), np.float64)
    ph = "?" if _is_sqlite(session) else "%s"
    at = 0
    cursor = _cursor(session)
    try:
        for g in range(0, len(stored), _IN_LIST):
            part = [r[0] for r in stored[g : g + _IN_LIST]]
            marks = ", ".join([ph] * len(part))
            cursor.execute(
                f"SELECT count, data FROM bar_chunks WHERE instrument_id = {ph} AND "
                f"timeframe = {ph} AND bucket IN ({marks}) ORDER BY bucket",
                (instrument_id, timeframe, *part),
            )
            for n, blob in cursor.fetchall():
                _unpack_into(blob, n, ts, values, at)
                at += n
    finally:
        cursor.close()
    return BarColumns(ts[:at], values[:, :at])


# -- the broker's asset list -----------------------------------------------------------------


def asset_list_fetched_at(session: Session, asset_class: str) -> datetime | None:
    """When the list of ``asset_class`` was last downloaded (None: never)."""
    row = session.get(BrokerAssetListRow, asset_class)
    return row.fetched_at if row is not None else None


def replace_assets(
    session: Session, asset_class: str, rows: list[dict[str, object]], fetched_at: datetime
) -> None:
    """Swap the cached list of one asset class for a fresh download, inside the caller's
    transaction (a failed download never leaves half a list)."""
    session.execute(delete(BrokerAssetRow).where(BrokerAssetRow.asset_class == asset_class))
    # a symbol cached under another class (unique across classes): the fresh list wins
    for start in range(0, len(rows), 1000):
        chunk = [r["symbol"] for r in rows[start : start + 1000]]
        session.execute(delete(BrokerAssetRow).where(BrokerAssetRow.symbol.in_(chunk)))
    if rows:
        session.execute(insert(BrokerAssetRow), [{**r, "fetched_at": fetched_at} for r in rows])
    marker = session.get(BrokerAssetListRow, asset_class)
    if marker is None:
        session.add(BrokerAssetListRow(asset_class=asset_class, fetched_at=fetched_at,
                                       count=len(rows)))
    else:
        marker.fetched_at, marker.count = fetched_at, len(rows)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_assets(session: Session, needle: str, limit: int) -> list[BrokerAssetRow]:
    """Assets whose symbol starts with ``needle`` (shortest first), then those whose name
    contains it. ``needle`` is upper case."""
    pattern = _like(needle)
    by_symbol = list(session.scalars(
        select(BrokerAssetRow)
        .where(BrokerAssetRow.symbol.like(f"{pattern}%", escape="\\"))
        .order_by(func.length(BrokerAssetRow.symbol), BrokerAssetRow.symbol)
        .limit(limit)
    ))
    if len(by_symbol) >= limit or not needle:
        return by_symbol
    taken = {r.symbol for r in by_symbol}
    by_name = session.scalars(
        select(BrokerAssetRow)
        .where(func.upper(BrokerAssetRow.name).like(f"%{pattern}%", escape="\\"))
        .order_by(func.length(BrokerAssetRow.symbol), BrokerAssetRow.symbol)
        .limit(limit + len(taken))
    )
    return (by_symbol + [r for r in by_name if r.symbol not in taken])[:limit]


def asset(session: Session, symbol: str) -> BrokerAssetRow | None:
    return session.scalar(select(BrokerAssetRow).where(BrokerAssetRow.symbol == symbol))

