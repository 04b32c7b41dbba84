"""Migrations on SQLite and PostgreSQL: up, down, up again; the models match the migrations."""

from __future__ import annotations

import importlib

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from kash_tui.config import Settings
from kash_tui.db import Base, Database, DatabaseError
from kash_tui.domains.workspace import PortfolioMode
from kash_tui.provider import ServiceProvider
from kash_tui.resources import migrations_dir

DOMAINS = ("connection", "workspace", "market", "strategy", "trading", "deployment")
EXPECTED_TABLES = {"workspaces", "portfolios", "connections", "app_flags", "instruments", "bar_chunks"}


def _load_all_entities() -> None:
    """As migrations/env.py does: every domain's tables on Base.metadata."""
    for name in DOMAINS:
        importlib.import_module(f"kash_tui.domains.{name}.entities")


def test_migration_history_is_one_straight_line() -> None:
    script = ScriptDirectory(str(migrations_dir()))
    assert len(script.get_heads()) == 1, "several heads: `kash db upgrade` could not pick one"
    assert len(script.get_bases()) == 1
    revisions = list(script.walk_revisions())
    assert revisions[-1].down_revision is None
    assert Database("sqlite:////tmp/unused.db").head_revision() == script.get_current_head()


def test_known_revisions_match_the_migrations() -> None:
    """The start-up fast path trusts KNOWN_REVISIONS: it must list every migration in order."""
    from kash_tui.db import KNOWN_REVISIONS, SCHEMA_HEAD

    script = ScriptDirectory(str(migrations_dir()))
    in_order = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert list(KNOWN_REVISIONS) == in_order
    assert SCHEMA_HEAD == script.get_current_head()


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    db = Database(db_url)
    try:
        assert db.current_revision() is None
        head = db.head_revision()
        assert head is not None

        db.upgrade()
        assert db.current_revision() == head
        assert EXPECTED_TABLES <= set(db.table_names())

        db.downgrade("base")
        assert db.current_revision() is None
        assert set(db.table_names()) <= {"alembic_version"}

        db.upgrade("head")
        assert db.current_revision() == head
        assert EXPECTED_TABLES <= set(db.table_names())
    finally:
        db.dispose()

    # and the upgraded-again database is fully usable
    kash = ServiceProvider(Settings(database_url=db_url))
    kash.prepare()
    try:
        kash.workspace.create_workspace("After")
        kash.workspace.create_portfolio("After", "p", PortfolioMode.BACKTEST, position_size_pct=5)
        assert "After" in [w.name for w in kash.workspace.list_workspaces()]
        assert kash.market.list_data()  # demo bars went into the re-created tables
    finally:
        kash.close()


def test_step_by_step_down_and_up(db_url: str) -> None:
    """Every single migration can be undone and redone from the one before it."""
    script = ScriptDirectory(str(migrations_dir()))
    chain = [r.revision for r in reversed(list(script.walk_revisions()))]
    db = Database(db_url)
    try:
        db.upgrade("head")
        for rev in reversed(chain):
            db.downgrade("-1")
            db.upgrade(rev)
            assert db.current_revision() == rev
            db.downgrade("-1")
        assert db.current_revision() is None
        db.upgrade("head")
        assert db.current_revision() == chain[-1]
    finally:
        db.dispose()


def test_models_match_the_migrations(db_url: str) -> None:
    _load_all_entities()
    db = Database(db_url)
    try:
        db.upgrade("head")
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        db.dispose()
    assert diff == [], (
        "entities.py and migrations/ disagree; write a migration for: "
        + "; ".join(_describe(d) for d in diff)
    )


def _describe(item) -> str:  # noqa: ANN001
    """One autogenerate difference, short: 'add_table backtest_runs', 'modify_type bars.ts'."""
    if isinstance(item, list):  # modify_* ops come grouped per column
        return ", ".join(_describe(i) for i in item)
    op, *rest = item
    if op.startswith("modify_"):
        _schema, table, column = rest[0], rest[1], rest[2]
        return f"{op} {table}.{column}"
    target = rest[0] if rest else None
    name = getattr(target, "name", None)
    table = getattr(getattr(target, "table", None), "name", None)
    label = str(name) if name else repr(target)
    return f"{op} {table + '.' if table else ''}{label}"


def test_prepare_is_idempotent_and_upgrades_an_empty_database(db_url: str) -> None:
    db = Database(db_url)
    try:
        db.prepare()
        db.prepare()
        assert db.current_revision() == db.head_revision()
    finally:
        db.dispose()


def test_a_newer_schema_is_refused(db_url: str) -> None:
    kash = ServiceProvider(Settings(database_url=db_url))
    kash.prepare()
    kash.workspace.create_workspace("Mine")
    with kash.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'ffff'"))
    kash.close()

    for attempt in (
        lambda db: db.prepare(),
        lambda db: db.upgrade(),
        lambda db: db.downgrade("base"),
    ):
        db = Database(db_url)
        try:
            with pytest.raises(DatabaseError) as err:
                attempt(db)
        finally:
            db.dispose()
        message = str(err.value)
        assert "ffff" in message and "newer" in message
        assert "upgrade Kash" in message
        assert "\n" not in message

    again = ServiceProvider(Settings(database_url=db_url))
    try:
        with pytest.raises(DatabaseError, match="newer than this Kash"):
            again.prepare()
    finally:
        again.close()

    # nothing was touched: the user's data and the stamp are still there
    db = Database(db_url)
    try:
        assert db.current_revision() == "ffff"
        with db.engine.connect() as conn:
            names = conn.execute(sa.text("SELECT name FROM workspaces ORDER BY name")).scalars()
            assert list(names) == ["Demo", "Mine"]
    finally:
        db.dispose()


# -- 0006: bars into chunks, runs' orders and fills into the run row, and back ---------------


def _old_npy(array):  # noqa: ANN001, ANN202
    """A run array as the code of 0005 stored it: .npy compressed with zlib."""
    import io
    import zlib

    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return zlib.compress(buf.getvalue(), 6)


def _seed_0005(conn: sa.Connection):  # noqa: ANN202
    """Bars (two series, one crossing many chunk edges) and a stored run with orders, fills and
    an end position, written as the schema of 0005 held them. Returns what was written."""
    from datetime import UTC, datetime
    from decimal import Decimal

    import numpy as np

    now = datetime(2026, 1, 5, tzinfo=UTC).replace(tzinfo=None)
    conn.execute(sa.text(
        "INSERT INTO instruments (id, symbol, asset_class, exchange_tz, name, source, created_at) "
        "VALUES (1, 'OLDM', 'crypto', 'UTC', 'minutes', 'csv', :t), "
        "(2, 'OLDD', 'us_equity', 'America/New_York', 'days', 'csv', :t)"), {"t": now})
    rng = np.random.default_rng(5)
    minutes = 1_704_067_200 + 60 * np.cumsum(np.where(rng.random(30_000) < 0.01, 500, 1))
    days = 1_704_171_600 + 86_400 * np.arange(300)
    bars = {}
    for inst, tf, ts in ((1, "1Min", minutes), (2, "1Day", days)):
        close = np.round(100 + np.cumsum(rng.normal(0, 0.1, len(ts))), 4)
        values = np.stack([close - 0.5, close + 1, close - 1, close, np.arange(len(ts)) * 1.0])
        bars[(inst, tf)] = (ts.astype(np.int64), values)
        rows = [{"i": inst, "tf": tf, "ts": int(t), "o": o, "h": h, "l": lo, "c": c, "v": v}
                for t, o, h, lo, c, v in zip(ts.tolist(), *(r.tolist() for r in values),
                                             strict=True)]
        conn.execute(sa.text(
            "INSERT INTO bars (instrument_id, timeframe, ts, open, high, low, close, volume) "
            "VALUES (:i, :tf, :ts, :o, :h, :l, :c, :v)"), rows)

    ts_ns = days[:100].astype(np.int64) * 1_000_000_000
    fills = [  # bar, side, qty, price, commission: two round trips, the second still open
        (11, "buy", "95.2380952380952", "105.0", "0.01"),
        (31, "sell", "95.2380952380952", "110.123456789", "0.0104876"),
        (61, "buy", "101.5", "103.25", "0.0"),
    ]
    conn.execute(sa.text(
        "INSERT INTO backtest_runs (id, portfolio_id, created_at, strategy_id, params_json, "
        "symbol, timeframe, first_bar_ts, last_bar_ts, bar_count, initial_cash, commission, "
        "slippage, position_size_pct, whole_shares, fill_model, periods_per_year, final_equity, "
        "metrics_json, timestamps_blob, equity_blob, signals_blob) VALUES (7, NULL, :t, "
        "'sma_crossover', '{}', 'OLDD', '1Day', :f, :l, 100, 10000, 0.0001, 0, 100, :w, "
        "'next_open', 252, 10480.5, :m, :tb, :eb, :sb)"
    ).bindparams(*(sa.bindparam(k, type_=sa.LargeBinary()) for k in ("tb", "eb", "sb"))), {
        "t": now, "f": int(days[0]), "l": int(days[99]), "w": False, "m": _OLD_METRICS,
        "tb": _old_npy(ts_ns), "eb": _old_npy(np.linspace(10_000, 10_480.5, 100)),
        "sb": _old_npy(np.array([[10.0, 30, 60], [1, -1, 1], [104.5, 109.9, 103.0]])),
    })
    for seq, (bar, side, qty, price, commission) in enumerate(fills):
        conn.execute(sa.text(
            "INSERT INTO backtest_orders (id, run_id, seq, signal_ts, side, order_type, qty, "
            "status) VALUES (:id, 7, :seq, :sig, :side, 'market', :qty, 'filled')"
        ).bindparams(sa.bindparam("qty", type_=_MONEY)),
            {"id": 100 + seq, "seq": seq, "sig": int(days[bar - 1]), "side": side,
             "qty": Decimal(qty)})
        conn.execute(sa.text(
            "INSERT INTO backtest_fills (run_id, order_id, bar_index, ts, side, qty, price, "
            "commission) VALUES (7, :oid, :bar, :ts, :side, :qty, :price, :c)"
        ).bindparams(*(sa.bindparam(k, type_=_MONEY) for k in ("qty", "price", "c"))),
            {"oid": 100 + seq, "bar": bar, "ts": int(days[bar]), "side": side,
             "qty": Decimal(qty), "price": Decimal(price), "c": Decimal(commission)})
    conn.execute(sa.text(
        "INSERT INTO backtest_positions (run_id, symbol, qty, avg_entry_price, last_price) "
        "VALUES (7, 'OLDD', :q, :p, :l)"
    ).bindparams(*(sa.bindparam(k, type_=_MONEY) for k in ("q", "p", "l"))),
        {"q": Decimal("101.5"), "p": Decimal("103.25"), "l": Decimal("104.75")})
    return bars, fills, days


_MONEY = sa.Numeric(38, 16)
_OLD_METRICS = (
    '{"buy_and_hold_return_pct": 3.0, "cagr_pct": 1.0, "exposure_pct": 50.0, '
    '"final_equity": 10480.5, "max_drawdown_pct": -1.0, "profit_factor": null, '
    '"round_trips": 2, "sharpe": 1.0, "sortino": 1.0, "total_return_pct": 4.805, '
    '"win_rate_pct": 100.0}'
)


def _old_rows(db: Database):  # noqa: ANN202
    with db.engine.connect() as conn:
        bars = conn.execute(sa.text(
            "SELECT instrument_id, timeframe, ts, open, high, low, close, volume FROM bars "
            "ORDER BY instrument_id, timeframe, ts")).all()
        orders = conn.execute(sa.text(
            "SELECT seq, signal_ts, side, order_type, qty, status FROM backtest_orders "
            "WHERE run_id = 7 ORDER BY seq")).all()
        fills = conn.execute(sa.text(
            "SELECT f.bar_index, f.ts, f.side, f.qty, f.price, f.commission, o.seq FROM "
            "backtest_fills f JOIN backtest_orders o ON o.id = f.order_id WHERE f.run_id = 7 "
            "ORDER BY o.seq")).all()
        blobs = conn.execute(sa.text(
            "SELECT timestamps_blob, equity_blob, signals_blob FROM backtest_runs")).one()
    return [tuple(r) for r in bars], [tuple(r) for r in orders], [tuple(r) for r in fills], blobs


def test_data_survives_the_upgrade_to_chunks_and_packed_runs_and_back(db_url: str) -> None:
    import zlib
    from datetime import UTC, datetime
    from decimal import Decimal

    import numpy as np

    from kash_tui.domains.market import Timeframe

    _load_all_entities()
    db = Database(db_url)
    try:
        db.upgrade("0005")
        with db.engine.begin() as conn:
            bars, fills, days = _seed_0005(conn)
        before = _old_rows(db)
        db.upgrade("head")
        with db.engine.connect() as conn:
            chunks = conn.execute(sa.text(
                "SELECT COUNT(*) FROM bar_chunks WHERE instrument_id = 1")).scalar_one()
        assert chunks > 10  # the minute series was spread over many chunks
    finally:
        db.dispose()

    def check_upgraded(label: str) -> None:
        kash = ServiceProvider(Settings(database_url=db_url, demo_data=False))
        kash.prepare()
        try:
            for symbol, tf, key in (("OLDM", Timeframe.MIN_1, (1, "1Min")),
                                    ("OLDD", Timeframe.DAY_1, (2, "1Day"))):
                series = kash.market.load_bars(symbol, tf)
                ts, values = bars[key]
                assert np.array_equal(series.timestamps, ts * 1_000_000_000)
                for got, want in zip((series.open, series.high, series.low, series.close,
                                      series.volume), values, strict=True):
                    assert np.array_equal(got, want)
            assert {(d.symbol, d.count) for d in kash.market.list_data()} == {
                ("OLDM", len(bars[(1, "1Min")][0])), ("OLDD", 300)}

            run = kash.trading.get_run(7)
            assert [(f.bar_index, f.side, f.qty, f.price, f.commission) for f in run.fills] == [
                (b, s, float(q), float(p), float(c)) for b, s, q, p, c in fills]
            assert [(t.entry_index, t.exit_index, t.is_open) for t in run.round_trips] == [
                (11, 31, False), (61, None, True)]
            open_trip = run.round_trips[-1]
            assert open_trip.pnl == 101.5 * 104.75 - (101.5 * 103.25 + 0.0)  # marked to 104.75
            assert [(s.index, s.price) for s in run.signals] == [
                (10, 104.5), (30, 109.9), (60, 103.0)]
            assert run.equity[-1] == 10_480.5 and len(run.timestamps) == 100

            kash.workspace.create_workspace(f"Old {label}")
            pid = kash.workspace.create_portfolio(
                f"Old {label}", "Old runs", PortfolioMode.BACKTEST, position_size_pct=100).id
            with kash.db.engine.begin() as conn:
                conn.execute(sa.text("UPDATE backtest_runs SET portfolio_id = :p"), {"p": pid})
            adapter = kash.trading.resolve_trading_adapter(pid)
            orders = adapter.get_orders()
            when = [datetime.fromtimestamp(int(days[b - 1]), tz=UTC) for b, *_ in fills]
            assert [(o.side.value, o.qty, o.submitted_at, o.status) for o in orders] == [
                (s, Decimal(q), w, "filled") for (_b, s, q, _p, _c), w in zip(fills, when)]
            assert [(t.price, t.commission) for t in adapter.get_trades()] == [
                (Decimal(p), Decimal(c)) for _b, _s, _q, p, c in fills]
            (position,) = adapter.get_positions()  # the end position was not lost on the way
            assert (position.qty, position.avg_entry_price, position.current_price) == (
                Decimal("101.5"), Decimal("103.25"), Decimal("104.75"))
        finally:
            kash.close()

    check_upgraded("first")

    # and back: the rows of 0005 as they were, blobs readable by the code of 0005
    db = Database(db_url)
    try:
        db.downgrade("0005")
        after = _old_rows(db)
        assert after[0] == before[0]
        assert after[1] == before[1] and after[2] == before[2]
        for blob in after[3]:
            zlib.decompress(blob)
        db.upgrade("head")
    finally:
        db.dispose()
    check_upgraded("again")
