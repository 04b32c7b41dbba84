"""Data access for instruments, bars and the cached broker asset list.

Bars move in bulk. They are stored in columnar chunks (``bar_chunks``, see ``entities``): one
row per series and time bucket whose blob holds the raw arrays. Loading reads the chunks that
overlap the range, copies them into preallocated numpy arrays and trims the edges; writing
reads the chunks a write touches, merges by timestamp (the new bars win, never a duplicate) and
writes them back, all inside the caller's transaction. The same statements run on SQLite and
PostgreSQL; nothing outside this module knows the layout.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from kash_tui.db import RawConnection
from kash_tui.domains.market import chunks
from kash_tui.domains.market.chunks import (
    _IN_LIST,
    _WRITE_GROUP,
    BarColumns,
    _unpack_into,
    bucket_width,
    pack_chunk,
)
from kash_tui.domains.market.entities import (
    BarChunkRow,
    BrokerAssetListRow,
    BrokerAssetRow,
    InstrumentRow,
)
from kash_tui.domains.market.service import MarketError

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


def load(
    session: Session,
    instrument_id: int,
    timeframe: str,
    start_ts: int | None,
    end_ts: int | None,
    last: int | None,
    progress: Callable[[int, int], None] | None = None,
) -> BarColumns:
    """:func:`chunks.load` inside the session's transaction."""
    conn = RawConnection(_raw(session), is_sqlite=_is_sqlite(session))
    return chunks.load(conn, instrument_id, timeframe, start_ts, end_ts, last, progress)


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

