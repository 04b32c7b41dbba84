"""A throwaway PostgreSQL server for the test suite.

Used by ``tests/conftest.py``. Resolution order:

1. ``KASH_TEST_POSTGRES_URL`` (any ``postgresql[+driver]://`` URL with admin rights): use that
   server as is. It is not started or stopped here.
2. Otherwise find ``initdb``/``pg_ctl`` (``PATH``, then ``/usr/lib/postgresql/*/bin`` newest
   first), ``initdb`` a cluster in a temporary folder and start it on a free TCP port bound to
   127.0.0.1 only (trust auth, fsync off, unix socket inside the temporary folder). PostgreSQL
   refuses to run as root, so as root every server command runs as the ``postgres`` user via
   ``runuser``.
3. Otherwise :class:`PostgresUnavailable` says why.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ENV_URL = "KASH_TEST_POSTGRES_URL"
NO_SERVER_HINT = "no PostgreSQL server: set KASH_TEST_POSTGRES_URL or install postgresql"
START_TIMEOUT_S = 30.0
SERVER_USER = "postgres"  # OS user the server runs as when we are root
DB_SUPERUSER = "postgres"  # database superuser created by initdb


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be found or started; the message says why."""


@dataclass
class PostgresServer:
    """A reachable server. ``url`` is the admin URL (``postgresql+psycopg://``, database
    ``postgres``), rendered with its password."""

    url: str
    started_here: bool = False
    bindir: Path | None = None
    workdir: Path | None = None
    start_seconds: float = 0.0
    _as_user: str | None = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    @property
    def datadir(self) -> Path | None:
        return self.workdir / "data" if self.workdir else None

    def stop(self) -> None:
        """Stop a server started here and delete its folder (no-op for an external one)."""
        if self._stopped or not self.started_here:
            return
        self._stopped = True
        assert self.bindir and self.workdir
        try:
            _run(
                [str(self.bindir / "pg_ctl"), "stop", "-D", str(self.datadir), "-m", "fast", "-w",
                 "-t", "30"],
                as_user=self._as_user, cwd=self.workdir, check=False, timeout=60,
            )
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# public entry points
# ---------------------------------------------------------------------------------------------


def to_psycopg_url(url: str) -> str:
    """Normalise ``postgres://`` / ``postgresql://`` / ``postgresql+driver://`` to psycopg 3."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise PostgresUnavailable(f"{ENV_URL} is not a PostgreSQL URL: {parsed!r}")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def with_database(url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=database).render_as_string(hide_password=False)


def check_connect(url: str, timeout: float = 5.0) -> None:
    """Raise if ``SELECT 1`` on ``url`` fails."""
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    engine = sa.create_engine(
        url, poolclass=NullPool, connect_args={"connect_timeout": max(1, int(timeout))}
    )
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    finally:
        engine.dispose()


def acquire_server() -> PostgresServer:
    """Return a reachable server (external or freshly started) or raise PostgresUnavailable."""
    env_url = os.environ.get(ENV_URL, "").strip()
    if env_url:
        try:
            url = to_psycopg_url(env_url)
            check_connect(url)
        except PostgresUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - any driver/parse error means "unusable"
            raise PostgresUnavailable(
                f"{ENV_URL} is set but the server is unusable: {type(exc).__name__}: "
                f"{_one_line(exc)}"
            ) from exc
        return PostgresServer(url=url)
    return start_temp_server()


def find_pg_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: PATH first, then the Debian layout."""
    initdb = shutil.which("initdb")
    if initdb:
        bindir = Path(initdb).resolve().parent
        if (bindir / "pg_ctl").exists():
            return bindir
        pg_ctl = shutil.which("pg_ctl")
        if pg_ctl and Path(pg_ctl).resolve().parent == bindir:
            return bindir

    def version_key(p: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", p.parent.name)) or (0,)

    candidates = [
        p for p in Path("/usr/lib/postgresql").glob("*/bin")
        if (p / "initdb").exists() and (p / "pg_ctl").exists()
    ]
    if not candidates:
        return None
    return max(candidates, key=version_key)


def start_temp_server(timeout: float = START_TIMEOUT_S) -> PostgresServer:
    t0 = time.monotonic()
    bindir = find_pg_bindir()
    if bindir is None:
        raise PostgresUnavailable(f"{NO_SERVER_HINT} (initdb/pg_ctl not found)")

    as_user: str | None = None
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        as_user = SERVER_USER
        if shutil.which("runuser") is None:
            raise PostgresUnavailable(f"{NO_SERVER_HINT} (running as root and runuser is missing)")
        try:
            import pwd

            pw = pwd.getpwnam(SERVER_USER)
        except KeyError as exc:
            raise PostgresUnavailable(
                f"{NO_SERVER_HINT} (running as root and there is no '{SERVER_USER}' OS user)"
            ) from exc

    base = tempfile.gettempdir()
    if as_user and not _traversable_by_others(base):
        base = "/tmp"
    workdir = Path(tempfile.mkdtemp(prefix="kash-pg-", dir=base))
    try:
        os.chmod(workdir, 0o700)
        if as_user:
            os.chown(workdir, pw.pw_uid, pw.pw_gid)
        datadir = workdir / "data"
        _run(
            [str(bindir / "initdb"), "-D", str(datadir), "-U", DB_SUPERUSER, "--auth=trust",
             "--encoding=UTF8", "--locale=C", "--no-sync"],
            as_user=as_user, cwd=workdir, timeout=120,
        )
        server: PostgresServer | None = None
        last_error = ""
        for _attempt in range(3):  # a free port can be taken between probing and binding
            port = _free_port()
            server, last_error = _try_start(bindir, workdir, port, as_user, timeout)
            if server:
                break
        if server is None:
            raise PostgresUnavailable(f"PostgreSQL did not start: {last_error}")
    except PostgresUnavailable:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    except Exception as exc:  # noqa: BLE001
        shutil.rmtree(workdir, ignore_errors=True)
        raise PostgresUnavailable(
            f"could not start a temporary PostgreSQL from {bindir}: {_one_line(exc)}"
        ) from exc
    server.start_seconds = time.monotonic() - t0
    atexit.register(server.stop)  # belt and braces if the session finalizer never runs
    return server


def unique_database_name(prefix: str = "kash_test") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


# ---------------------------------------------------------------------------------------------
# internals
# ---------------------------------------------------------------------------------------------


def _try_start(
    bindir: Path, workdir: Path, port: int, as_user: str | None, timeout: float
) -> tuple[PostgresServer | None, str]:
    datadir = workdir / "data"
    logfile = workdir / "postgres.log"
    opts = " ".join([
        f"-p {port}",
        "-c listen_addresses=127.0.0.1",
        f"-k '{workdir}'",
        "-c fsync=off",
        "-c synchronous_commit=off",
        "-c full_page_writes=off",
        "-c max_connections=200",
        "-c shared_buffers=64MB",
    ])
    proc = _run(
        [str(bindir / "pg_ctl"), "start", "-D", str(datadir), "-l", str(logfile), "-w",
         "-t", str(int(timeout)), "-o", opts],
        as_user=as_user, cwd=workdir, check=False, timeout=timeout + 15,
    )
    url = f"postgresql+psycopg://{DB_SUPERUSER}@127.0.0.1:{port}/postgres"
    server = PostgresServer(url=url, started_here=True, bindir=bindir, workdir=workdir,
                            _as_user=as_user)
    if proc.returncode != 0:
        # make sure a half-started postmaster does not linger before retrying
        _run([str(bindir / "pg_ctl"), "stop", "-D", str(datadir), "-m", "immediate", "-w"],
             as_user=as_user, cwd=workdir, check=False, timeout=30)
        return None, f"pg_ctl start exited {proc.returncode}: {_tail(logfile, proc)}"

    deadline = time.monotonic() + timeout
    while True:
        try:
            check_connect(url, timeout=2)
            return server, ""
        except Exception as exc:  # noqa: BLE001
            if time.monotonic() > deadline:
                _run([str(bindir / "pg_ctl"), "stop", "-D", str(datadir), "-m", "immediate",
                      "-w"], as_user=as_user, cwd=workdir, check=False, timeout=30)
                return None, f"no connection within {timeout:.0f}s: {_one_line(exc)}"
            time.sleep(0.1)


def _run(
    cmd: list[str], *, as_user: str | None, cwd: Path, check: bool = True, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    if as_user:
        cmd = ["runuser", "-u", as_user, "--", *cmd]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.setdefault("LC_ALL", "C")
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise PostgresUnavailable(
            f"{' '.join(cmd)} exited {proc.returncode}: "
            f"{_one_line(proc.stderr or proc.stdout)}"
        )
    return proc


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _traversable_by_others(path: str) -> bool:
    p = Path(path).resolve()
    for part in [p, *p.parents]:
        try:
            if not os.stat(part).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def _tail(logfile: Path, proc: subprocess.CompletedProcess[str]) -> str:
    text = ""
    try:
        text = logfile.read_text(errors="replace")
    except OSError:
        pass
    text = text or proc.stderr or proc.stdout or ""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return " | ".join(lines[-5:])


def _one_line(obj: object) -> str:
    text = " ".join(str(obj).split())
    return text[:500]
