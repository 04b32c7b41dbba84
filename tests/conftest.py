"""Shared fixtures for the whole suite.

Databases
    ``pg_url``           session: admin URL of a real PostgreSQL server (see tests/pg_server.py)
    ``postgres_db_url``  function: a fresh, empty PostgreSQL database, dropped afterwards
    ``sqlite_db_url``    function: ``sqlite:///<tmp_path>/kash.db`` (file not created yet)
    ``db_url``           function, parametrised ``[sqlite]`` / ``[postgres]``: ask for it and a
                         repository/service test runs on both databases

    No PostgreSQL available: tests that need it are skipped locally and FAIL when ``CI`` is
    ``true``/``1``. Every test using PostgreSQL carries the ``postgres`` marker, so
    ``-m "not postgres"`` deselects them.

Isolation
    ``isolated_env`` (autouse): XDG data/config/cache dirs under tmp_path, no ``KASH_*`` (except
    ``KASH_TEST_*``) or ``APCA_*`` variables, keyring pointed at the null backend.

CLI
    ``kash_bin``  session: the installed ``kash`` console script next to ``sys.executable``
    ``run_kash``  function: ``run_kash(*args, input=None, env=None, timeout=60, cwd=None)`` ->
                  ``subprocess.CompletedProcess[str]``, run with the isolated environment
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from tests.pg_server import (
    PostgresServer,
    PostgresUnavailable,
    acquire_server,
    unique_database_name,
    with_database,
)

# fixtures whose presence means "this test needs PostgreSQL"
_PG_FIXTURES = {"pg_url", "pg_server", "postgres_db_url"}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _PG_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


# ---------------------------------------------------------------------------------------------
# isolation from the user's real files and credentials
# ---------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point every per-user location at tmp_path and drop real settings/credentials.

    Returns the XDG folders by variable name (they are created)."""
    dirs = {
        "XDG_DATA_HOME": tmp_path / "xdg" / "data",
        "XDG_CONFIG_HOME": tmp_path / "xdg" / "config",
        "XDG_CACHE_HOME": tmp_path / "xdg" / "cache",
        "XDG_STATE_HOME": tmp_path / "xdg" / "state",
    }
    for name, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(path))
    for name in list(os.environ):
        if (name.startswith("KASH_") and not name.startswith("KASH_TEST_")) or name.startswith(
            "APCA_"
        ):
            monkeypatch.delenv(name, raising=False)
    for name in ("KASH_DATABASE_URL", "APCA_API_KEY_ID", "APCA_API_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    # never read or write the user's real keyring (tests that need one install a fake)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    return {name: str(path) for name, path in dirs.items()}


# ---------------------------------------------------------------------------------------------
# databases
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A reachable PostgreSQL server for the whole session (started here unless
    KASH_TEST_POSTGRES_URL is set); skipped locally / failed under CI when there is none."""
    reason = ""
    try:
        server = acquire_server()
    except PostgresUnavailable as exc:
        reason = str(exc)
    if reason:  # raised outside the except block: no chained traceback in the report
        if _in_ci():
            pytest.fail(f"PostgreSQL required under CI: {reason}", pytrace=False)
        pytest.skip(reason)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_url(pg_server: PostgresServer) -> str:
    """Admin URL ``postgresql+psycopg://USER@127.0.0.1:PORT/postgres`` (password included)."""
    return pg_server.url


@pytest.fixture(scope="session")
def _pg_admin_engine(pg_url: str):
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_db_url(pg_url: str, _pg_admin_engine) -> Iterator[str]:
    """A fresh empty database on the session server for this test; dropped (FORCE) after."""
    import sqlalchemy as sa

    name = unique_database_name()
    with _pg_admin_engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(pg_url, name)
    finally:
        with _pg_admin_engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_db_url(tmp_path: Path) -> str:
    """``sqlite:///<tmp_path>/kash.db``; the file does not exist yet."""
    return f"sqlite:///{tmp_path / 'kash.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_db_url")
    return request.getfixturevalue("postgres_db_url")


# ---------------------------------------------------------------------------------------------
# the installed CLI
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kash_bin() -> Path:
    """The installed ``kash`` console script of the interpreter running the tests."""
    path = Path(sys.executable).parent / ("kash.exe" if os.name == "nt" else "kash")
    if not path.exists():
        pytest.fail(
            f"{path} not found: install the project first: pip install '.[dev]'", pytrace=False
        )
    return path


RunKash = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def run_kash(kash_bin: Path, isolated_env: dict[str, str], tmp_path: Path) -> RunKash:
    """``run_kash(*args, input=None, env=None, timeout=60, cwd=None)``.

    Runs the installed binary with the isolated environment (the current, monkeypatched
    ``os.environ``) plus ``env`` overrides (a value of ``None`` removes that variable), in
    ``tmp_path`` by default. Output is text, captured; never raises on a non-zero exit."""

    def run(
        *args: object,
        input: str | None = None,  # noqa: A002 - mirrors subprocess.run
        env: Mapping[str, str | None] | None = None,
        timeout: float = 60,
        cwd: str | os.PathLike[str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ)
        for key, value in (env or {}).items():
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = str(value)
        return subprocess.run(
            [str(kash_bin), *(str(a) for a in args)],
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            env=full_env,
            cwd=str(cwd) if cwd is not None else str(tmp_path),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
        )

    return run


# ---------------------------------------------------------------------------------------------
# a fake Alpaca (trading + market data + streams) on 127.0.0.1 (see tests/fakes/alpaca)
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def fake_alpaca():
    from tests.fakes.alpaca import FakeAlpaca

    with FakeAlpaca() as fake:
        yield fake
