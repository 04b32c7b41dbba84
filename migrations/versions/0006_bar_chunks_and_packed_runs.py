"""bar chunks and packed runs

Bars move from one row per bar (``bars``) to columnar chunks per series (``bar_chunks``): one
row per (instrument, timeframe, bucket), the bucket a fixed span of time per timeframe (8192
bars' worth), its ``data`` the raw little-endian arrays ts (int64 seconds) then open, high,
low, close, volume (float64), ``count`` bars each, oldest first.

Stored backtest runs keep their fills (and their orders, one per fill) as one packed array in
the run row (``backtest_runs.fills_blob``, a ``.npy`` structured array) instead of a row per
order and per fill (``backtest_orders``, ``backtest_fills``).

The upgrade converts existing bars and runs; the downgrade converts them back (and
re-compresses run blobs stored uncompressed, which the code of 0005 cannot read). The layout
is frozen here on purpose: this file must not follow later changes of the repository code.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence
import io
import zlib

import numpy as np
import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# -- the layout of 0006 (mirrors kash_tui/domains/market/repo.py at this revision) ----------

_TF_SECONDS = {
    "1Min": 60, "5Min": 300, "15Min": 900, "30Min": 1800, "1Hour": 3600,
    "4Hour": 14400, "1Day": 86400, "1Week": 604800,
}
_BARS_PER_BUCKET = 8192
_FIELDS = ("open", "high", "low", "close", "volume")
_FILL_DTYPE = np.dtype([
    ("bar_index", "<i8"), ("ts", "<i8"), ("signal_ts", "<i8"), ("buy", "i1"),
    ("qty", "<f8"), ("price", "<f8"), ("commission", "<f8"),
])
_NPY_MAGIC = b"\x93NUMPY"
_BATCH = 50_000


def _bucket_width(timeframe: str) -> int:
    return _TF_SECONDS.get(timeframe, 60) * _BARS_PER_BUCKET


def _pack_chunk(ts: np.ndarray, cols: Sequence[np.ndarray]) -> bytes:
    parts = [np.ascontiguousarray(ts, dtype="<i8").tobytes()]
    parts += [np.ascontiguousarray(c, dtype="<f8").tobytes() for c in cols]
    return b"".join(parts)


def _unpack_chunk(blob: bytes, n: int) -> tuple[np.ndarray, np.ndarray]:
    ts = np.frombuffer(blob, dtype="<i8", count=n)
    cols = np.frombuffer(blob, dtype="<f8", count=5 * n, offset=8 * n).reshape(5, n)
    return ts, cols


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def _load_npy(blob: bytes) -> np.ndarray:
    raw = bytes(blob)
    if not raw.startswith(_NPY_MAGIC):
        raw = zlib.decompress(raw)
    return np.load(io.BytesIO(raw), allow_pickle=False)


# -- upgrade --------------------------------------------------------------------------------


def upgrade() -> None:
    op.create_table('bar_chunks',
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('timeframe', sa.String(length=8), nullable=False),
    sa.Column('bucket', sa.BigInteger(), nullable=False),
    sa.Column('first_ts', sa.BigInteger(), nullable=False),
    sa.Column('last_ts', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.CheckConstraint('count > 0', name=op.f('ck_bar_chunks_count')),
    sa.CheckConstraint('first_ts <= last_ts', name=op.f('ck_bar_chunks_first_last')),
    sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_bar_chunks_instrument_id_instruments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instrument_id', 'timeframe', 'bucket', name=op.f('pk_bar_chunks'))
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # the arrays barely compress: store them out of line as they are, without trying
        op.execute("ALTER TABLE bar_chunks ALTER COLUMN data SET STORAGE EXTERNAL")
    _bars_to_chunks(bind)
    op.drop_table('bars')

    # runs: fills (and their orders) packed into the run row
    # ADD COLUMN (no copy of the table on SQLite: dropping the old copy would cascade-delete
    # the runs' end positions); the defaults only fill the rows being converted
    op.add_column('backtest_runs', sa.Column('fills_blob', sa.LargeBinary(), nullable=False,
                                             server_default=sa.text("''")))
    op.add_column('backtest_runs', sa.Column('last_close', sa.Double(), nullable=False,
                                             server_default=sa.text("0")))
    if bind.dialect.name == "postgresql":
        op.alter_column('backtest_runs', 'fills_blob', server_default=None)
        op.alter_column('backtest_runs', 'last_close', server_default=None)
    _fills_to_blobs(bind)
    # an open round trip is marked to the last close, known where a position was left open
    op.execute(
        "UPDATE backtest_runs SET last_close = (SELECT MAX(p.last_price) FROM "
        "backtest_positions p WHERE p.run_id = backtest_runs.id) WHERE EXISTS "
        "(SELECT 1 FROM backtest_positions p WHERE p.run_id = backtest_runs.id)"
    )
    with op.batch_alter_table('backtest_fills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backtest_fills_run_id'))
    op.drop_table('backtest_fills')
    with op.batch_alter_table('backtest_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backtest_orders_run_id'))
    op.drop_table('backtest_orders')


def _bars_to_chunks(bind: sa.Connection) -> None:
    series = bind.execute(sa.text(
        "SELECT DISTINCT instrument_id, timeframe FROM bars ORDER BY instrument_id, timeframe"
    )).all()
    insert = sa.text(
        "INSERT INTO bar_chunks (instrument_id, timeframe, bucket, first_ts, last_ts, count, "
        "data) VALUES (:i, :tf, :b, :f, :l, :n, :d)"
    ).bindparams(sa.bindparam("d", type_=sa.LargeBinary()))
    for instrument_id, timeframe in series:
        result = bind.execute(sa.text(
            "SELECT ts, open, high, low, close, volume FROM bars "
            "WHERE instrument_id = :i AND timeframe = :tf ORDER BY ts"
        ), {"i": instrument_id, "tf": timeframe})
        rows = result.all()
        if not rows:
            continue
        ts = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        values = np.array([tuple(r[1:]) for r in rows], dtype=np.float64).reshape(-1, 5)
        width = _bucket_width(timeframe)
        buckets = ts // width * width
        starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]]).tolist()
        ends = starts[1:] + [len(ts)]
        params = []
        for a, b in zip(starts, ends, strict=True):
            params.append({
                "i": instrument_id, "tf": timeframe, "b": int(buckets[a]), "f": int(ts[a]),
                "l": int(ts[b - 1]), "n": b - a,
                "d": _pack_chunk(ts[a:b], [values[a:b, k] for k in range(5)]),
            })
            if len(params) >= 64:
                bind.execute(insert, params)
                params = []
        if params:
            bind.execute(insert, params)


def _fills_to_blobs(bind: sa.Connection) -> None:
    runs = bind.execute(sa.text("SELECT id FROM backtest_runs ORDER BY id")).scalars().all()
    update = sa.text("UPDATE backtest_runs SET fills_blob = :d WHERE id = :i").bindparams(
        sa.bindparam("d", type_=sa.LargeBinary())
    )
    for run_id in runs:
        rows = bind.execute(sa.text(
            "SELECT f.bar_index, f.ts, o.signal_ts, f.side, f.qty, f.price, f.commission "
            "FROM backtest_fills f JOIN backtest_orders o ON o.id = f.order_id "
            "WHERE f.run_id = :i ORDER BY o.seq, f.id"
        ), {"i": run_id}).all()
        fills = np.zeros(len(rows), dtype=_FILL_DTYPE)
        for k, (bar, ts, sig, side, qty, price, commission) in enumerate(rows):
            fills[k] = (int(bar), int(ts), int(sig), 1 if side == "buy" else 0,
                        float(qty), float(price), float(commission))
        bind.execute(update, {"d": _npy(fills), "i": run_id})


# -- downgrade ------------------------------------------------------------------------------


def downgrade() -> None:
    bind = op.get_bind()
    op.create_table('backtest_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('signal_ts', sa.BigInteger(), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('order_type', sa.String(length=16), nullable=False),
    sa.Column('qty', sa.Numeric(precision=38, scale=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.CheckConstraint("side IN ('buy', 'sell')", name=op.f('ck_backtest_orders_side')),
    sa.ForeignKeyConstraint(['run_id'], ['backtest_runs.id'], name=op.f('fk_backtest_orders_run_id_backtest_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backtest_orders'))
    )
    with op.batch_alter_table('backtest_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backtest_orders_run_id'), ['run_id'], unique=False)
    op.create_table('backtest_fills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('bar_index', sa.Integer(), nullable=False),
    sa.Column('ts', sa.BigInteger(), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('qty', sa.Numeric(precision=38, scale=16), nullable=False),
    sa.Column('price', sa.Numeric(precision=38, scale=16), nullable=False),
    sa.Column('commission', sa.Numeric(precision=38, scale=16), nullable=False),
    sa.CheckConstraint("side IN ('buy', 'sell')", name=op.f('ck_backtest_fills_side')),
    sa.ForeignKeyConstraint(['order_id'], ['backtest_orders.id'], name=op.f('fk_backtest_fills_order_id_backtest_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['backtest_runs.id'], name=op.f('fk_backtest_fills_run_id_backtest_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backtest_fills'))
    )
    with op.batch_alter_table('backtest_fills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backtest_fills_run_id'), ['run_id'], unique=False)
    _blobs_to_fills(bind)
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+) instead of a batch copy of the table: dropping
    # the old copy would cascade-delete the runs' end positions
    op.execute("ALTER TABLE backtest_runs DROP COLUMN fills_blob")
    op.execute("ALTER TABLE backtest_runs DROP COLUMN last_close")

    op.create_table('bars',
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('timeframe', sa.String(length=8), nullable=False),
    sa.Column('ts', sa.BigInteger(), nullable=False),
    sa.Column('open', sa.Double(), nullable=False),
    sa.Column('high', sa.Double(), nullable=False),
    sa.Column('low', sa.Double(), nullable=False),
    sa.Column('close', sa.Double(), nullable=False),
    sa.Column('volume', sa.Double(), nullable=False),
    sa.CheckConstraint('high >= low', name=op.f('ck_bars_high_low')),
    sa.CheckConstraint('volume >= 0', name=op.f('ck_bars_volume')),
    sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_bars_instrument_id_instruments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instrument_id', 'timeframe', 'ts', name=op.f('pk_bars')),
    sqlite_with_rowid=False
    )
    _chunks_to_bars(bind)
    op.drop_table('bar_chunks')


def _blobs_to_fills(bind: sa.Connection) -> None:
    runs = bind.execute(sa.text(
        "SELECT id, fills_blob, timestamps_blob, equity_blob, signals_blob FROM backtest_runs "
        "ORDER BY id"
    )).all()
    orders = sa.table(
        'backtest_orders', sa.column('id', sa.Integer), sa.column('run_id', sa.Integer),
        sa.column('seq', sa.Integer), sa.column('signal_ts', sa.BigInteger),
        sa.column('side', sa.String), sa.column('order_type', sa.String),
        sa.column('qty', sa.Numeric(38, 16)), sa.column('status', sa.String),
    )
    fills_t = sa.table(
        'backtest_fills', sa.column('run_id', sa.Integer), sa.column('order_id', sa.Integer),
        sa.column('bar_index', sa.Integer), sa.column('ts', sa.BigInteger),
        sa.column('side', sa.String), sa.column('qty', sa.Numeric(38, 16)),
        sa.column('price', sa.Numeric(38, 16)), sa.column('commission', sa.Numeric(38, 16)),
    )
    recompress = sa.text(
        "UPDATE backtest_runs SET timestamps_blob = :t, equity_blob = :e, signals_blob = :s "
        "WHERE id = :i"
    ).bindparams(*(sa.bindparam(k, type_=sa.LargeBinary()) for k in ("t", "e", "s")))
    next_id = (bind.execute(sa.text("SELECT MAX(id) FROM backtest_orders")).scalar() or 0) + 1
    for run_id, blob, t_blob, e_blob, s_blob in runs:
        fills = _load_npy(blob) if blob else np.zeros(0, dtype=_FILL_DTYPE)
        order_rows, fill_rows = [], []
        for k, f in enumerate(fills.tolist()):
            bar, ts, sig, buy, qty, price, commission = f
            side = "buy" if buy else "sell"
            oid = next_id
            next_id += 1
            order_rows.append({
                "id": oid, "run_id": run_id, "seq": k, "signal_ts": int(sig), "side": side,
                "order_type": "market", "qty": _dec(qty), "status": "filled",
            })
            fill_rows.append({
                "run_id": run_id, "order_id": oid, "bar_index": int(bar), "ts": int(ts),
                "side": side, "qty": _dec(qty), "price": _dec(price),
                "commission": _dec(commission),
            })
        for start in range(0, len(order_rows), _BATCH):
            bind.execute(orders.insert(), order_rows[start : start + _BATCH])
            bind.execute(fills_t.insert(), fill_rows[start : start + _BATCH])
        bind.execute(recompress, {
            "i": run_id,
            **{k: _zlib(b) for k, b in (("t", t_blob), ("e", e_blob), ("s", s_blob))},
        })


def _dec(value: float):  # noqa: ANN202
    from decimal import Decimal

    return Decimal(f"{value:.15g}")


def _zlib(blob: bytes) -> bytes:
    raw = bytes(blob)
    return zlib.compress(raw, 6) if raw.startswith(_NPY_MAGIC) else raw


def _chunks_to_bars(bind: sa.Connection) -> None:
    bars = sa.table(
        'bars', sa.column('instrument_id', sa.Integer), sa.column('timeframe', sa.String),
        sa.column('ts', sa.BigInteger), *(sa.column(k, sa.Double) for k in _FIELDS),
    )
    series = bind.execute(sa.text(
        "SELECT DISTINCT instrument_id, timeframe FROM bar_chunks "
        "ORDER BY instrument_id, timeframe"
    )).all()
    for instrument_id, timeframe in series:
        result = bind.execute(sa.text(
            "SELECT count, data FROM bar_chunks WHERE instrument_id = :i AND timeframe = :tf "
            "ORDER BY bucket"
        ), {"i": instrument_id, "tf": timeframe})
        rows: list[dict] = []
        for n, blob in result.all():
            ts, cols = _unpack_chunk(bytes(blob), int(n))
            values = cols.T.tolist()
            rows.extend(
                {"instrument_id": instrument_id, "timeframe": timeframe, "ts": t,
                 **dict(zip(_FIELDS, v, strict=True))}
                for t, v in zip(ts.tolist(), values, strict=True)
            )
            if len(rows) >= _BATCH:
                bind.execute(bars.insert(), rows)
                rows = []
        if rows:
            bind.execute(bars.insert(), rows)
