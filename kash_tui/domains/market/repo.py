"""Data access for instruments, bars and the cached broker asset list.

Bars move in bulk: loading goes straight from the DBAPI cursor into a numpy structured array;
storing is an upsert (SQLite ``ON CONFLICT``; PostgreSQL ``COPY`` into a temporary table, then
``INSERT ... ON CONFLICT``), so re-importing overlapping data never duplicates a bar.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from kash_tui.domains.market.entities import (
    BarRow,
    BrokerAssetListRow,
    BrokerAssetRow,
    InstrumentRow,
)

BAR_DTYPE = np.dtype(
    [("ts", np.int64), ("open", np.float64), ("high", np.float64), ("low", np.float64),
     ("close", np.float64), ("volume", np.float64)]
)
_CHUNK = 50_000


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
            BarRow.timeframe,
            func.min(BarRow.ts),
            func.max(BarRow.ts),
            func.count(),
        )
        .join(BarRow, BarRow.instrument_id == InstrumentRow.id)
        .group_by(InstrumentRow.id, BarRow.timeframe)
        .order_by(InstrumentRow.symbol, BarRow.timeframe)
    )
    return [(r, tf, int(a), int(b), int(n)) for r, tf, a, b, n in session.execute(stmt)]


def timeframes(session: Session, instrument_id: int) -> list[str]:
    stmt = select(BarRow.timeframe).where(BarRow.instrument_id == instrument_id).distinct()
    return list(session.scalars(stmt))


def count_bars(session: Session, instrument_id: int, timeframe: str) -> int:
    stmt = select(func.count()).select_from(BarRow).where(
        BarRow.instrument_id == instrument_id, BarRow.timeframe == timeframe
    )
    return int(session.scalar(stmt) or 0)


def _raw(session: Session):  # noqa: ANN202
    return session.connection().connection.dbapi_connection


def _placeholder(session: Session) -> str:
    return "?" if session.get_bind().dialect.name == "sqlite" else "%s"


def load(
    session: Session,
    instrument_id: int,
    timeframe: str,
    start_ts: int | None,
    end_ts: int | None,
    last: int | None,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Bars as a structured array (fields of ``BAR_DTYPE``), oldest first."""
    ph = _placeholder(session)
    where = [f"instrument_id = {ph}", f"timeframe = {ph}"]
    params: list[object] = [instrument_id, timeframe]
    if start_ts is not None:
        where.append(f"ts >= {ph}")
        params.append(start_ts)
    if end_ts is not None:
        where.append(f"ts <= {ph}")
        params.append(end_ts)
    order = "DESC" if last is not None else "ASC"
    sql = (
        "SELECT ts, open, high, low, close, volume FROM bars WHERE "
        + " AND ".join(where)
        + f" ORDER BY ts {order}"
    )
    if last is not None:
        sql += f" LIMIT {int(last)}"
    total = 0
    if progress is not None:
        total = count_bars(session, instrument_id, timeframe)
    cursor = _raw(session).cursor()
    try:
        cursor.execute(sql, params)
        if progress is None:
            data = np.fromiter(cursor, dtype=BAR_DTYPE)
        else:
            parts, done = [], 0
            while True:
                rows = cursor.fetchmany(_CHUNK * 4)
                if not rows:
                    break
                parts.append(np.fromiter(rows, dtype=BAR_DTYPE, count=len(rows)))
                done += len(rows)
                progress(done, max(total, done))
            data = np.concatenate(parts) if parts else np.empty(0, dtype=BAR_DTYPE)
    finally:
        cursor.close()
    return data[::-1].copy() if last is not None else data


def upsert(
    session: Session,
    instrument_id: int,
    timeframe: str,
    rows: np.ndarray,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Insert or replace bars (a ``BAR_DTYPE`` array) inside the caller's transaction."""
    n = int(rows.shape[0])
    if n == 0:
        return
    dialect = session.get_bind().dialect.name
    raw = _raw(session)
    if dialect == "sqlite":
        sql = (
            "INSERT INTO bars (instrument_id, timeframe, ts, open, high, low, close, volume) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instrument_id, timeframe, ts) DO UPDATE "
            "SET open = excluded.open, high = excluded.high, low = excluded.low, "
            "close = excluded.close, volume = excluded.volume"
        )
        cursor = raw.cursor()
        try:
            for start in range(0, n, _CHUNK):
                chunk = rows[start : start + _CHUNK]
                cursor.executemany(
                    sql,
                    [(instrument_id, timeframe, *r) for r in chunk.tolist()],
                )
                if progress is not None:
                    progress(min(start + _CHUNK, n), n)
        finally:
            cursor.close()
        return
    with raw.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS kash_bars_in (ts BIGINT, open DOUBLE PRECISION, "
            "high DOUBLE PRECISION, low DOUBLE PRECISION, close DOUBLE PRECISION, "
            "volume DOUBLE PRECISION) ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE kash_bars_in")
        with cursor.copy(
            "COPY kash_bars_in (ts, open, high, low, close, volume) FROM STDIN"
        ) as copy:
            for start in range(0, n, _CHUNK):
                for r in rows[start : start + _CHUNK].tolist():
                    copy.write_row(r)
                if progress is not None:
                    progress(min(start + _CHUNK, n), n)
        cursor.execute(
            "INSERT INTO bars (instrument_id, timeframe, ts, open, high, low, close, volume) "
            "SELECT %s, %s, ts, open, high, low, close, volume FROM kash_bars_in "
            "ON CONFLICT (instrument_id, timeframe, ts) DO UPDATE SET open = EXCLUDED.open, "
            "high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, "
            "volume = EXCLUDED.volume",
            (instrument_id, timeframe),
        )


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


def last_ts(session: Session, instrument_id: int, timeframe: str) -> int | None:
    stmt = select(func.max(BarRow.ts)).where(
        BarRow.instrument_id == instrument_id, BarRow.timeframe == timeframe
    )
    value = session.scalar(stmt)
    return int(value) if value is not None else None
