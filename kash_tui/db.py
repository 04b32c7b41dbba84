"""The database: engine, units of work and schema migrations.

SQLite (WAL, foreign keys on, busy timeout) is the embedded default; PostgreSQL through
``postgresql+psycopg://``. The schema changes only through the Alembic migrations in
``migrations/``; :meth:`Database.prepare` upgrades an empty or older database and refuses one
whose schema is newer than this code. Engines are built by :class:`Database`, never at import.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

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
T = TypeVar("T")

# The migrations this code knows, oldest first; the last is the schema head. Kept here so the
# everyday start-up check needs no Alembic import; tests/integration/test_migrations.py proves
# it matches migrations/versions. Add the new revision id here with every migration.
KNOWN_REVISIONS: tuple[str, ...] = ("0001", "0002", "0003", "0004", "0005", "0006", "0007")
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
        if _looks_like_a_scheme(text):
            raise DatabaseError(
                f"The database URL {raw.strip()!r} is neither a file path nor a URL; use "
                "sqlite:///PATH, a path like ./kash.db, or postgresql+psycopg://USER@HOST/DB."
            )
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


def _looks_like_a_scheme(text: str) -> bool:
    """``garbage:::`` or ``postgres:/host``: a word and a colon where a path would not have one
    (a Windows drive letter ``C:\\`` is a path)."""
    import re

    if re.match(r"^[A-Za-z]:[\\/]", text):
        return False
    return re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", text) is not None


def describe(url: URL) -> str:
    """The URL as safe to show: the password is never printed."""
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return url.render_as_string(hide_password=True)


LOCK_WAIT_SECONDS = 15.0
"""How long a write waits for another program's write to finish before it gives up."""
_LOCK_STEP_MS = 1000
"""SQLite's own wait per attempt; after the first, the user is told that Kash is waiting."""
_SQLITE_BUSY = 5


def _wait_while_locked(connection: object, call: Callable[[], T]) -> T:
    """``call()``, retried while another program holds SQLite's write lock (up to
    :data:`LOCK_WAIT_SECONDS`); the connection's ``on_wait`` hook hears once that Kash waits.

    A statement refused with SQLITE_BUSY changed nothing, so running it again is safe."""
    import time

    started = time.monotonic() - _LOCK_STEP_MS / 1000
    told = False
    while True:
        try:
            return call()
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorcode", None) != _SQLITE_BUSY:
                raise
            hook = getattr(connection, "on_wait", None)
            if hook is not None and not told:
                told = True
                hook()
            if time.monotonic() - started >= LOCK_WAIT_SECONDS:
                raise


class _WaitingCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> _WaitingCursor:
        run = super().execute
        return _wait_while_locked(self.connection, lambda: run(sql, parameters))

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> _WaitingCursor:
        run = super().executemany
        if isinstance(seq_of_parameters, list | tuple):
            return _wait_while_locked(self.connection, lambda: run(sql, seq_of_parameters))
        # an iterator cannot be replayed: let SQLite itself wait the whole time
        plain = sqlite3.Cursor(self.connection)
        plain.execute(f"PRAGMA busy_timeout={int(LOCK_WAIT_SECONDS * 1000)}")
        try:
            return run(sql, seq_of_parameters)
        finally:
            plain.execute(f"PRAGMA busy_timeout={_LOCK_STEP_MS}")
            plain.close()


class _WaitingConnection(sqlite3.Connection):
    """A SQLite connection whose statements wait for another program's write lock in steps,
    so the CLI can say it is waiting instead of hanging in silence."""

    on_wait: Callable[[], None] | None = None

    def cursor(self, factory: Any = _WaitingCursor) -> Any:  # noqa: ANN401
        return super().cursor(factory)


def _sqlite_on_connect(dbapi_connection, _record, *, read_only: bool = False) -> None:  # noqa: ANN001
    cursor = sqlite3.Cursor(dbapi_connection)
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_LOCK_STEP_MS}")
        # read pages through a memory map: loading a million bars (48 MB of chunk blobs) costs
        # about a third less than through read() calls page by page
        cursor.execute("PRAGMA mmap_size=268435456")
        if not read_only:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def unwritable_reason(url: URL) -> str | None:
    """Why Kash cannot write the SQLite database at ``url`` (the file or its folder is
    read-only), or None when it can (or the file does not exist yet, or it is PostgreSQL)."""
    if url.get_backend_name() != "sqlite":
        return None
    path = Path(str(url.database))
    if not path.exists():
        return None
    if not os.access(path, os.W_OK):
        return "the file is read-only"
    if not os.access(path.parent, os.W_OK):
        return "its folder is read-only (SQLite writes a journal beside it)"
    return None


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
                f"{path} is still locked after {LOCK_WAIT_SECONDS:g} s by another program "
                "writing to it (the Kash app, a runner or another kash command); try again "
                "when it has finished."
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


def build_engine(
    url: URL, *, read_only: bool = False, on_wait: Callable[[], None] | None = None
) -> Engine:
    """The engine for ``url``. ``read_only`` (SQLite): opened as an immutable snapshot, so
    nothing (no journal, no -wal/-shm file) is ever written beside it. ``on_wait`` is called
    once when a statement starts waiting for another program's write lock."""
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        folder = path.parent
        if not folder.is_dir():
            raise DatabaseError(
                f"The folder {folder} for the database does not exist; create it or "
                "point --db at another path."
            )
        if read_only:
            from urllib.parse import quote

            uri = f"file:{quote(str(path.absolute()))}?mode=ro&immutable=1"
            engine = create_engine(
                "sqlite://",
                creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
            )
            event.listen(engine, "connect",
                         lambda conn, record: _sqlite_on_connect(conn, record, read_only=True))
            return engine
        why = unwritable_reason(url)
        if why:
            raise DatabaseError(
                f"Kash cannot write to {path} ({why}), and this command changes the database; "
                "make it writable or point --db at a writable copy (listing commands still "
                "read it as it is)."
            )

        def connected(conn, record) -> None:  # noqa: ANN001
            _sqlite_on_connect(conn, record)
            conn.on_wait = on_wait

        engine = create_engine(
            url, connect_args={"timeout": _LOCK_STEP_MS / 1000, "factory": _WaitingConnection}
        )
        event.listen(engine, "connect", connected)
        return engine
    try:
        return create_engine(url, connect_args={"connect_timeout": 5}, pool_pre_ping=True)
    except (ModuleNotFoundError, exc.NoSuchModuleError):
        raise DatabaseError(
            "PostgreSQL support is not installed; run pip install 'kash-tui[postgres]'."
        ) from None


class Database:
    """One database: its engine, its unit-of-work sessions and its migrations."""

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        self.url = normalise_url(url)
        self.read_only = read_only
        """SQLite only: read as an immutable snapshot, never written (see build_engine)."""
        self.on_wait: Callable[[], None] | None = None
        """Called once when a write starts waiting for another program's lock (the CLI says
        so on stderr); set it before the first use."""
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None

    def use_read_only_if_unwritable(self) -> str | None:
        """Switch to read-only when the SQLite file cannot be written; the reason, or None.
        Only before first use."""
        why = unwritable_reason(self.url) if self._engine is None else None
        if why:
            self.read_only = True
        return why

    @property
    def display_url(self) -> str:
        return describe(self.url)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = build_engine(
                self.url, read_only=self.read_only and self.is_sqlite,
                on_wait=lambda: self.on_wait() if self.on_wait is not None else None,
            )
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
                try:  # one query when the database is current (the everyday start)
                    return conn.exec_driver_sql(
                        f"SELECT version_num FROM {VERSION_TABLE}"
                    ).scalar()
                except exc.DBAPIError:
                    conn.rollback()
                    if inspect(conn).has_table(VERSION_TABLE):
                        raise
                    return None  # an empty database
        except exc.DBAPIError as error:
            raise _explain_operational(self.url, error) from None

    def schema_state(self) -> tuple[str | None, str]:
        """``(stored revision, state)``; state is ``"empty"``, ``"up to date"``, ``"behind"``
        (``kash db upgrade`` applies what is missing) or ``"newer"`` (written by a newer Kash).
        A SQLite file that does not exist is empty and is not created."""
        if self.is_sqlite and not os.path.exists(self.url.database or ""):
            return None, "empty"
        self.use_read_only_if_unwritable()
        current = self._stored_revision()
        if current is None:
            return None, "empty"
        if current == SCHEMA_HEAD:
            return current, "up to date"
        if current in KNOWN_REVISIONS:
            return current, "behind"
        return current, "newer"

    def prepare(self) -> None:
        """Make the database usable: refuse a newer schema, apply pending migrations."""
        current = self._stored_revision()
        if current == SCHEMA_HEAD:
            return
        if current is not None and current not in KNOWN_REVISIONS:
            self._check_not_newer(current)
        if self.read_only:
            raise DatabaseError(
                f"{self.display_url} is read-only and its schema "
                f"{'is empty' if current is None else f'({current}) is older than this Kash'}"
                "; `kash db upgrade` needs write access to it: make it writable or point --db "
                "at a writable copy."
            )
        self._run("upgrade", "head")

    def table_names(self) -> list[str]:
        return sorted(inspect(self.engine).get_table_names())

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._sessions = None
