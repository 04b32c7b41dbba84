"""The database fixtures themselves: a real PostgreSQL server, fresh empty databases."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url


def test_postgres_server_round_trip(postgres_db_url: str) -> None:
    url = make_url(postgres_db_url)
    assert url.drivername == "postgresql+psycopg"
    assert url.database and url.database != "postgres"

    engine = sa.create_engine(postgres_db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE probe (id integer PRIMARY KEY, name text NOT NULL)"))
            conn.execute(sa.text("INSERT INTO probe (id, name) VALUES (1, 'kash')"))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT current_database()")).scalar_one() == url.database
            rows = conn.execute(sa.text("SELECT id, name FROM probe")).all()
        assert [tuple(r) for r in rows] == [(1, "kash")]
    finally:
        engine.dispose()


def test_started_server_listens_on_loopback_only(pg_server, pg_url: str) -> None:
    if not pg_server.started_here:
        pytest.skip("external server from KASH_TEST_POSTGRES_URL")
    assert make_url(pg_url).host == "127.0.0.1"
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SHOW listen_addresses")).scalar_one() == "127.0.0.1"
            assert conn.execute(sa.text("SHOW fsync")).scalar_one() == "off"
    finally:
        engine.dispose()


def test_db_url_is_an_empty_database(db_url: str, request: pytest.FixtureRequest) -> None:
    url = make_url(db_url)
    if request.node.callspec.params["db_url"] == "sqlite":
        assert url.get_backend_name() == "sqlite"
        assert not Path(url.database).exists()
    else:
        assert url.drivername == "postgresql+psycopg"
        assert request.node.get_closest_marker("postgres") is not None

    engine = sa.create_engine(db_url)
    try:
        inspector = sa.inspect(engine)
        assert inspector.get_table_names() == []
        if url.get_backend_name() == "postgresql":
            with engine.connect() as conn:
                user_tables = conn.execute(sa.text(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                )).scalar_one()
            assert user_tables == 0
    finally:
        engine.dispose()


def test_each_test_gets_its_own_database(postgres_db_url: str, pg_url: str) -> None:
    name = make_url(postgres_db_url).database
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar_one()
        assert exists == 1
    finally:
        engine.dispose()
