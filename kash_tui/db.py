"""The database: engine, units of work and schema migrations.

SQLite (WAL, foreign keys on, busy timeout) is the embedded default; PostgreSQL through
``postgresql+psycopg://``. The schema changes only through the Alembic migrations in
``migrations/``; :meth:`Database.prepare` upgrades an empty or older database and refuses one
whose schema is newer than this code. Engines are built by :class:`Database`, never at import.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, create_engine, event, exc, inspect
from sqlalchemy.types import TypeDecorator
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from kash_tui.resources import migrations_dir

if TYPE_CHECKING:
    from alembic.config import Config

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

VERSION_TABLE = "alembic_version"

# The migrations this code knows, oldest first; the last is the schema head. Kept here so the
# everyday start-up check needs no Alembic import; tests/integration/test_migrations.py proves
# it matches migrations/versions. Add the new revision id here with every migration.
KNOWN_REVISIONS: tuple[str, ...] = ("0001", "0002", "0003", "0004", "0005", "0006")
SCHEMA_HEAD = KNOWN_REVISIONS[-1]


class Base(DeclarativeBase):
    """Declarative base of every domain's ``entities.py``: one metadata for migrations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores none natively)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


class DatabaseError(Exception):
    """The database cannot be used as asked; the message says what is wrong and what to do."""


def normalise_url(raw: str) -> URL:
    """Turn what a user typed (--db, KASH_DATABASE_URL) into a SQLAlchemy URL, or explain."""
    text = raw.strip()
    if not text:
        raise DatabaseError("The database URL is empty; pass a SQLite path or a postgresql URL.")
    if "://" not in text:
        # A bare path is a SQLite file: `kash --db ./team.db`.
        text = f"sqlite:///{Path(text).expanduser().absolute()}"
    try:
        url = make_url(text)
    except (exc.ArgumentError, ValueError):
        raise DatabaseError(
            "The database URL is malformed; use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB."
        ) from None
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        if url.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
            url = url.set(drivername="postgresql+psycopg")
        else:
            raise DatabaseError(
                f"Kash talks to PostgreSQL through psycopg 3, not {url.drivername}; "
                "use a postgresql+psycopg:// URL."
            )
    elif backend == "sqlite":
        if url.drivername != "sqlite":
            raise DatabaseError("Use a plain sqlite:///PATH URL for SQLite databases.")
        if not url.database or url.database == ":memory:":
            raise DatabaseError(
                "An in-memory SQLite database would lose everything on exit; give a file path."
            )
    else:
        raise DatabaseError(
            f"Kash supports SQLite and PostgreSQL, not {backend}; "
            "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB."
        )
    return url


def describe(url: URL) -> str:
    """The URL as safe to show: the password is never printed."""
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return url.render_as_string(hide_password=True)


def _sqlite_on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _explain_operational(url: URL, error: BaseException) -> DatabaseError:
    reason = str(getattr(error, "orig", error) or error).strip().splitlines()[0:1]
    text = reason[0] if reason else type(error).__name__
    if url.get_backend_name() == "sqlite":
        path = url.database
        low = text.lower()
        if "not a database" in low or "malformed" in low or "corrupt" in low:
            return DatabaseError(
                f"{path} is not a Kash database or is corrupt; restore it from a backup "
                "or point --db at another file."
            )
        if "unable to open" in low or "readonly" in low or "read-only" in low:
            return DatabaseError(
                f"Cannot open or write {path}; check the folder exists and is writable, "
                "or point --db at another file."
            )
        if "locked" in low:
            return DatabaseError(
                f"{path} is locked by another program; close it and try again."
            )
        return DatabaseError(f"SQLite cannot use {path} ({text}); point --db at another file.")
    host = f"{url.host or 'localhost'}:{url.port or 5432}"
    low = text.lower()
    if "password authentication failed" in low or "authentication" in low:
        return DatabaseError(
            f"PostgreSQL at {host} refused the login for user {url.username!r}; "
            "check the user and password in the URL."
        )
    if "does not exist" in low and "database" in low:
        return DatabaseError(
            f"The database {url.database!r} does not exist on {host}; create it "
            f"(createdb {url.database}) or fix the URL."
        )
    return DatabaseError(
        f"Cannot reach the PostgreSQL server at {host} ({text}); "
        "check that it is running and that the URL is right."
    )


def build_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        folder = path.parent
        if not folder.is_dir():
            raise DatabaseError(
                f"The folder {folder} for the database does not exist; create it or "
                "point --db at another path."
            )
        if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise DatabaseError(
                f"Kash cannot write to {path}; check its permissions or point --db at another path."
            )
        engine = create_engine(url, connect_args={"timeout": 15})
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    try:
        return create_engine(url, connect_args={"connect_timeout": 5}, pool_pre_ping=True)
    except (ModuleNotFoundError, exc.NoSuchModuleError):
        raise DatabaseError(
            "PostgreSQL support is not installed; run pip install 'kash-tui[postgres]'."
        ) from None


class Database:
    """One database: its engine, its unit-of-work sessions and its migrations."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None

    @property
    def display_url(self) -> str:
        return describe(self.url)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = build_engine(self.url)
        return self._engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        return self._sessions

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error."""
        session = self.sessions()
        try:
            with session.begin():
                yield session
        except exc.OperationalError as error:
            raise _explain_operational(self.url, error) from None
        except exc.DataError as error:
            reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
            raise DatabaseError(
                f"The database refused a value that does not fit its column ({reason}); "
                "nothing was saved."
            ) from None
        except exc.DatabaseError as error:
            if isinstance(error, exc.IntegrityError):
                raise
            raise _explain_operational(self.url, error) from None
        finally:
            session.close()

    # -- migrations -------------------------------------------------------------------------

    def _alembic_config(self) -> Config:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(migrations_dir()))
        cfg.set_main_option("version_table", VERSION_TABLE)
        return cfg

    def head_revision(self) -> str | None:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        try:
            with self.engine.connect() as conn:
                return MigrationContext.configure(conn).get_current_revision()
        except exc.DBAPIError as error:
            raise _explain_operational(self.url, error) from None

    def _check_not_newer(self, current: str | None) -> None:
        from alembic.script import ScriptDirectory
        from alembic.util import CommandError

        if current is None:
            return
        script = ScriptDirectory.from_config(self._alembic_config())
        try:
            known = script.get_revision(current)
        except CommandError:
            known = None
        if known is None:
            raise DatabaseError(
                f"The database {self.display_url} has schema {current}, newer than this Kash "
                "knows; upgrade Kash (pip install -U kash-tui) or use another database."
            )

    def _run(self, action: str, revision: str) -> None:
        from alembic import command

        cfg = self._alembic_config()
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                getattr(command, action)(cfg, revision)
        except exc.DBAPIError as error:
            if isinstance(error, exc.IntegrityError):
                raise
            raise _explain_operational(self.url, error) from None

    def upgrade(self, revision: str = "head") -> None:
        self._check_not_newer(self.current_revision())
        self._run("upgrade", revision)

    def downgrade(self, revision: str) -> None:
        self._check_not_newer(self.current_revision())
        self._run("downgrade", revision)

    def _stored_revision(self) -> str | None:
        """The schema revision recorded in the database, read without Alembic."""
        try:
            with self.engine.connect() as conn:
                if not inspect(conn).has_table(VERSION_TABLE):
                    return None
                return conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar()
        except exc.DBAPIError as error:
            raise _explain_operational(self.url, error) from None

    def prepare(self) -> None:
        """Make the database usable: refuse a newer schema, apply pending migrations."""
        current = self._stored_revision()
        if current == SCHEMA_HEAD:
            return
        if current is not None and current not in KNOWN_REVISIONS:
            self._check_not_newer(current)
        self._run("upgrade", "head")

    def table_names(self) -> list[str]:
        return sorted(inspect(self.engine).get_table_names())

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._sessions = None
