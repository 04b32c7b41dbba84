"""The database: engine, units of work and schema migrations.

SQLite (WAL, foreign keys on, busy timeout) is the embedded default; PostgreSQL through
``postgresql+psycopg://``. The schema changes only through the Alembic migrations in
``migrations/``; :meth:`Database.prepare` upgrades an empty or older database and refuses one
whose schema is newer than this code. Engines are built by :class:`Database`, never at import.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from datetime import UTC, datetime

from kash_tui.resources import migrations_dir

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import URL, Engine
    from sqlalchemy.orm import Session, sessionmaker

    from kash_tui.orm import Base, UtcDateTime  # noqa: F401 - see __getattr__


def __getattr__(name: str) -> Any:  # noqa: ANN401
    """``Base``, ``UtcDateTime`` and ``NAMING_CONVENTION`` live in :mod:`kash_tui.orm` (they
    need SQLAlchemy); the entities and the migrations still find them here."""
    if name in ("Base", "UtcDateTime", "NAMING_CONVENTION"):
        from kash_tui import orm

        return getattr(orm, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


VERSION_TABLE = "alembic_version"
T = TypeVar("T")

# The migrations this code knows, oldest first; the last is the schema head. Kept here so the
# everyday start-up check needs no Alembic import; tests/integration/test_migrations.py proves
# it matches migrations/versions. Add the new revision id here with every migration.
KNOWN_REVISIONS: tuple[str, ...] = ("0001", "0002", "0003", "0004", "0005", "0006", "0007",
                                   "0008", "0009", "0010", "0011", "0012", "0013")
SCHEMA_HEAD = KNOWN_REVISIONS[-1]


def utc_now() -> datetime:
    return datetime.now(UTC)


class DatabaseError(Exception):
    """The database cannot be used as asked; the message says what is wrong and what to do."""


def _sqlite_path(raw: str) -> str | None:
    """The file of a plain SQLite location (a path, or ``sqlite:///PATH`` without options),
    found without SQLAlchemy; None for anything else (which :func:`normalise_url` reads)."""
    text = raw.strip()
    if not text:
        return None
    if "://" not in text:
        if _looks_like_a_scheme(text):
            return None
        return str(Path(text).expanduser().absolute())
    prefix = "sqlite:///"
    if text.startswith(prefix) and "?" not in text:
        path = text[len(prefix):]
        if path and path != ":memory:":
            return path
    return None


def normalise_url(raw: str) -> URL:
    """Turn what a user typed (--db, KASH_DATABASE_URL) into a SQLAlchemy URL, or explain."""
    from sqlalchemy import exc
    from sqlalchemy.engine import make_url

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


def unwritable_reason(sqlite_path: str | None) -> str | None:
    """Why Kash cannot write the SQLite database file ``sqlite_path`` (the file or its folder
    is read-only), or None when it can (or the file does not exist yet, or it is PostgreSQL:
    ``None``)."""
    if sqlite_path is None:
        return None
    path = Path(sqlite_path)
    if not path.exists():
        return None
    if not os.access(path, os.W_OK):
        return "the file is read-only"
    if not os.access(path.parent, os.W_OK):
        return "its folder is read-only (SQLite writes a journal beside it)"
    return None


def _explain_operational(db: Database, error: BaseException) -> DatabaseError:
    reason = str(getattr(error, "orig", error) or error).strip().splitlines()[0:1]
    text = reason[0] if reason else type(error).__name__
    if db.is_sqlite:
        path = db.sqlite_path
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
    url = db.url
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


def _read_only_uri(path: Path) -> str:
    from urllib.parse import quote

    return f"file:{quote(str(path.absolute()))}?mode=ro&immutable=1"


def _check_sqlite_file(path: Path, *, read_only: bool) -> None:
    """Refuse, in one sentence, a SQLite file Kash cannot open as asked."""
    folder = path.parent
    if not folder.is_dir():
        raise DatabaseError(
            f"The folder {folder} for the database does not exist; create it or "
            "point --db at another path."
        )
    if read_only:
        return
    why = unwritable_reason(str(path))
    if why:
        raise DatabaseError(
            f"Kash cannot write to {path} ({why}), and this command changes the database; "
            "make it writable or point --db at a writable copy (listing commands still "
            "read it as it is)."
        )


def build_engine(
    url: URL, *, read_only: bool = False, on_wait: Callable[[], None] | None = None
) -> Engine:
    """The engine for ``url``. ``read_only`` (SQLite): opened as an immutable snapshot, so
    nothing (no journal, no -wal/-shm file) is ever written beside it. ``on_wait`` is called
    once when a statement starts waiting for another program's write lock."""
    from sqlalchemy import create_engine, event, exc

    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        _check_sqlite_file(path, read_only=read_only)
        if read_only:
            uri = _read_only_uri(path)
            engine = create_engine(
                "sqlite://",
                creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
            )
            event.listen(engine, "connect",
                         lambda conn, record: _sqlite_on_connect(conn, record, read_only=True))
            return engine

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



class RawConnection:
    """A DBAPI connection inside one transaction, for the paths where the ORM's per-statement
    cost (and SQLAlchemy's import) would be most of the work: the schema check, loading bars,
    storing a run. Statements use ``?`` placeholders on both backends."""

    def __init__(self, dbapi: Any, *, is_sqlite: bool) -> None:  # noqa: ANN401
        self.dbapi = dbapi
        self.is_sqlite = is_sqlite

    def sql(self, text: str) -> str:
        """``text`` with the driver's placeholder (psycopg: ``%s``)."""
        return text if self.is_sqlite else text.replace("?", "%s")

    def cursor(self, *, binary: bool = False) -> Any:  # noqa: ANN401
        """A cursor; ``binary`` (PostgreSQL): results in binary format, so bytea comes back as
        bytes, not hex text to decode."""
        if self.is_sqlite or not binary:
            return self.dbapi.cursor()
        return self.dbapi.cursor(binary=True)

    def all(self, text: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.cursor()
        try:
            cursor.execute(self.sql(text), tuple(params))
            return [tuple(r) for r in cursor.fetchall()]
        finally:
            cursor.close()

    def one(self, text: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        rows = self.all(text, params)
        return rows[0] if rows else None

    def scalar(self, text: str, params: Sequence[Any] = ()) -> Any:  # noqa: ANN401
        row = self.one(text, params)
        return row[0] if row else None

    def insert(self, table: str, values: dict[str, Any]) -> int:
        """Insert one row into a table with an integer ``id`` key; the new ``id``."""
        return self._insert(table, values, returning_id=True)

    def insert_row(self, table: str, values: dict[str, Any]) -> None:
        """Insert one row (a table keyed otherwise)."""
        self._insert(table, values, returning_id=False)

    def _insert(self, table: str, values: dict[str, Any], *, returning_id: bool) -> int:
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        params = tuple(_bind(v, self.is_sqlite) for v in values.values())
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
        cursor = self.cursor()
        try:
            if self.is_sqlite or not returning_id:
                cursor.execute(self.sql(sql), params)
                return int(cursor.lastrowid or 0) if self.is_sqlite else 0
            cursor.execute(self.sql(sql + " RETURNING id"), params)
            return int(cursor.fetchone()[0])
        finally:
            cursor.close()


def _bind(value: Any, is_sqlite: bool) -> Any:  # noqa: ANN401
    """A value as the ORM would have bound it: UTC datetimes naive on SQLite in SQLAlchemy's
    text format (see ``orm.UtcDateTime``), Decimals as floats on SQLite (SQLAlchemy's
    ``Numeric`` does the same there)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if is_sqlite else value
    if is_sqlite and type(value).__name__ == "Decimal":
        return float(value)
    return value


def read_utc(value: Any) -> datetime | None:  # noqa: ANN401
    """A timestamp column read through :class:`RawConnection` as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Database:
    """One database: its engine, its unit-of-work sessions, raw connections and migrations.

    SQLAlchemy is imported only when the engine is first needed: a SQLite database whose schema
    is current answers :meth:`prepare` and :meth:`raw` with the standard library alone."""

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        self._text = url
        self.sqlite_path: str | None = _sqlite_path(url)
        """The SQLite file, or None for PostgreSQL."""
        self._url: URL | None = None
        if self.sqlite_path is None:
            self._url = normalise_url(url)  # PostgreSQL, or a SQLite URL with options
            if self._url.get_backend_name() == "sqlite":
                self.sqlite_path = str(self._url.database)
        self.read_only = read_only
        """SQLite only: read as an immutable snapshot, never written (see build_engine)."""
        self.on_wait: Callable[[], None] | None = None
        """Called once when a write starts waiting for another program's lock (the CLI says
        so on stderr); set it before the first use."""
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._raw_lock = threading.Lock()
        self._raw_idle: list[sqlite3.Connection] = []
        """SQLite connections of :meth:`raw` between uses (closed by :meth:`dispose`)."""

    @property
    def url(self) -> URL:
        """The SQLAlchemy URL (imports SQLAlchemy)."""
        if self._url is None:
            self._url = normalise_url(self._text)
        return self._url

    def use_read_only_if_unwritable(self) -> str | None:
        """Switch to read-only when the SQLite file cannot be written; the reason, or None.
        Only before first use."""
        why = unwritable_reason(self.sqlite_path) if self._engine is None else None
        if why:
            self.read_only = True
        return why

    @property
    def display_url(self) -> str:
        if self.sqlite_path is not None:
            return self.sqlite_path
        return describe(self.url)

    @property
    def is_sqlite(self) -> bool:
        return self.sqlite_path is not None

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
            from sqlalchemy.orm import sessionmaker

            from kash_tui.orm import register_all_tables

            register_all_tables()
            self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        return self._sessions

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error."""
        from sqlalchemy import exc

        session = self.sessions()
        try:
            with session.begin():
                yield session
        except exc.OperationalError as error:
            raise _explain_operational(self, error) from None
        except exc.DataError as error:
            reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
            raise DatabaseError(
                f"The database refused a value that does not fit its column ({reason}); "
                "nothing was saved."
            ) from None
        except exc.DatabaseError as error:
            if isinstance(error, exc.IntegrityError):
                raise
            raise _explain_operational(self, error) from None
        finally:
            session.close()

    def _sqlite_connect(self) -> sqlite3.Connection:
        assert self.sqlite_path is not None
        path = Path(self.sqlite_path)
        read_only = self.read_only
        _check_sqlite_file(path, read_only=read_only)
        if read_only:
            conn = sqlite3.connect(_read_only_uri(path), uri=True, isolation_level=None,
                                   check_same_thread=False)
        else:
            conn = sqlite3.connect(path, timeout=_LOCK_STEP_MS / 1000, isolation_level=None,
                                   factory=_WaitingConnection, check_same_thread=False)
            conn.on_wait = lambda: self.on_wait() if self.on_wait is not None else None
        try:
            _sqlite_on_connect(conn, None, read_only=read_only)
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def raw(self) -> Iterator[RawConnection]:
        """One transaction on a plain DBAPI connection: committed when the block ends, rolled
        back on any error. SQLite: a connection of its own (no SQLAlchemy); PostgreSQL: one
        from the engine's pool."""
        if self.is_sqlite:
            with self._raw_lock:
                conn = self._raw_idle.pop() if self._raw_idle else None
            if conn is None:
                try:
                    conn = self._sqlite_connect()
                except sqlite3.Error as error:
                    raise _explain_operational(self, error) from None
            reusable = True
            try:
                cursor = conn.cursor()
                cursor.execute("BEGIN")
                cursor.close()
                yield RawConnection(conn, is_sqlite=True)
                conn.execute("COMMIT")
            except BaseException as error:
                try:
                    conn.rollback()
                except sqlite3.Error:
                    reusable = False
                if isinstance(error, sqlite3.Error) and not isinstance(
                    error, sqlite3.IntegrityError
                ):
                    raise _explain_operational(self, error) from None
                raise
            finally:
                if reusable and conn.in_transaction is False:
                    with self._raw_lock:  # kept for the next raw(): no open and close each time
                        self._raw_idle.append(conn)
                else:
                    conn.close()
            return
        import psycopg

        try:
            proxy = self.engine.raw_connection()
        except Exception as error:  # noqa: BLE001 - SQLAlchemy wraps the driver's error
            raise _explain_operational(self, error) from None
        try:
            yield RawConnection(proxy.driver_connection, is_sqlite=False)
            proxy.commit()
        except psycopg.IntegrityError:
            proxy.rollback()
            raise
        except (psycopg.OperationalError, psycopg.DataError) as error:
            proxy.rollback()
            raise _explain_operational(self, error) from None
        except BaseException:
            proxy.rollback()
            raise
        finally:
            proxy.close()

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
        from sqlalchemy import exc

        try:
            with self.engine.connect() as conn:
                return MigrationContext.configure(conn).get_current_revision()
        except exc.DBAPIError as error:
            raise _explain_operational(self, error) from None

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
        from sqlalchemy import exc

        cfg = self._alembic_config()
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                getattr(command, action)(cfg, revision)
        except exc.DBAPIError as error:
            if isinstance(error, exc.IntegrityError):
                raise
            raise _explain_operational(self, error) from None

    def upgrade(self, revision: str = "head") -> None:
        self._check_not_newer(self.current_revision())
        self._run("upgrade", revision)

    def downgrade(self, revision: str) -> None:
        self._check_not_newer(self.current_revision())
        self._run("downgrade", revision)

    def _stored_revision(self) -> str | None:
        """The schema revision recorded in the database: one raw query when the database is
        current (the everyday start, without SQLAlchemy on SQLite)."""
        if self.is_sqlite:
            try:
                with self.raw() as conn:
                    found = conn.scalar(
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (VERSION_TABLE,),
                    )
                    if found is None:
                        return None  # an empty database
                    return conn.scalar(f"SELECT version_num FROM {VERSION_TABLE}")
            except sqlite3.Error as error:
                raise _explain_operational(self, error) from None
        from sqlalchemy import exc, inspect

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
            raise _explain_operational(self, error) from None

    def schema_state(self) -> tuple[str | None, str]:
        """``(stored revision, state)``; state is ``"empty"``, ``"up to date"``, ``"behind"``
        (``kash db upgrade`` applies what is missing) or ``"newer"`` (written by a newer Kash).
        A SQLite file that does not exist is empty and is not created."""
        if self.is_sqlite and not os.path.exists(self.sqlite_path or ""):
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
        from sqlalchemy import inspect

        return sorted(inspect(self.engine).get_table_names())

    def dispose(self) -> None:
        with self._raw_lock:
            idle, self._raw_idle = self._raw_idle, []
        for conn in idle:
            conn.close()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._sessions = None
