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

DOMAINS = ("connection", "workspace", "market", "strategy", "trading")
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
