"""The CLI items of the "first hour" issue: each test calls the CLI's ``main`` in this process
(arguments and messages) unless it needs the real binary (a pipe, a second process)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.outcome import ok, refused

DAILY_ROWS = 8


def _csv(path: Path, rows: int) -> Path:
    lines = ["Date,Open,High,Low,Close,Volume"]
    for k in range(rows):
        price = 100 + k
        lines.append(f"2024-01-{k + 2:02d},{price},{price + 1},{price - 1},{price + 0.5},1000")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def db(kash_main, tmp_path: Path) -> str:  # noqa: ANN001
    """A prepared SQLite database (schema and demo data) as ``--db`` value."""
    url = f"sqlite:///{tmp_path / 'kash.db'}"
    ok(kash_main("db", "upgrade", "--db", url))
    ok(kash_main("workspace", "list", "--db", url))  # seeds the demo data
    return url


# -- kash without a terminal ---------------------------------------------------------------------


@pytest.mark.parametrize(("stdin_tty", "stdout_tty", "which"),
                         [(False, True, "input"), (True, False, "output"), (False, False, "input")])
def test_the_app_refuses_to_start_without_a_terminal(
    kash_main, stdin_tty: bool, stdout_tty: bool, which: str  # noqa: ANN001
) -> None:
    result = kash_main(stdin_tty=stdin_tty, stdout_tty=stdout_tty)
    line = refused(result)
    assert "needs a terminal" in line and f"its {which} is not one" in line
    assert result.stdout == ""  # no escape codes written into the pipe


def test_the_installed_kash_in_a_pipe_ends_at_once(run_kash) -> None:  # noqa: ANN001
    started = time.monotonic()
    result = run_kash(timeout=30)  # before: the app started, wrote escape codes and hung
    assert "needs a terminal" in refused(result)
    assert result.stdout == ""
    assert time.monotonic() - started < 30


# -- arguments -------------------------------------------------------------------------------------


def test_the_same_sweep_parameter_twice_is_refused(kash_main, db: str) -> None:  # noqa: ANN001
    line = refused(kash_main("backtest", "--symbol", "DEMOA", "--strategy", "sma_crossover",
                             "--sweep", "short_period=5:10,short_period=6", "--db", db))
    assert "short_period twice" in line
    assert json.loads(ok(kash_main("runs", "list", "--json", "--db", db)).stdout) == []


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--commission", "1"], "Commission must be"),
        (["--commission", "1e308"], "Commission must be"),
        (["--cash", "1e308"], "Starting cash is too large"),
        (["--cash", "0"], "Starting cash must be greater than 0"),
    ],
)
def test_impossible_backtest_settings_are_refused_up_front(
    kash_main, db: str, args: list[str], says: str  # noqa: ANN001
) -> None:
    line = refused(kash_main("backtest", "--symbol", "DEMOA", "--strategy", "sma_crossover",
                             *args, "--db", db))
    assert says in line
    assert json.loads(ok(kash_main("runs", "list", "--json", "--db", db)).stdout) == []


def test_too_few_bars_for_the_lookback_is_said(kash_main, db: str, tmp_path: Path) -> None:  # noqa: ANN001
    ok(kash_main("data", "import", _csv(tmp_path / "eight.csv", DAILY_ROWS), "--symbol", "EIGHT",
                 "--db", db))
    out = ok(kash_main("backtest", "--symbol", "EIGHT", "--strategy", "sma_crossover",
                       "--db", db)).stdout
    assert f"{DAILY_ROWS} bars are too few for the strategy's lookback" in out
    assert "SMA(30)" in out
    # with enough bars and no trade, the plain sentence stays
    out = ok(kash_main("backtest", "--symbol", "EIGHT", "--strategy", "sma_crossover",
                       "--params", '{"short_period": 2, "long_period": 3}', "--db", db)).stdout
    assert "too few" not in out


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("two\nlines", "cannot contain a line break"),
        ("\x1b[31mred\x1b[0m", "cannot contain an escape code"),
        ("a\tb", "cannot contain a tab"),
        ("bell\x07", "cannot contain the unprintable character U+0007"),
        ("x" * 65, "at most 64 characters (this one has 65)"),
    ],
    ids=["newline", "ansi", "tab", "control", "long"],
)
def test_bad_names_say_what_is_wrong(kash_main, db: str, name: str, says: str) -> None:  # noqa: ANN001
    assert says in refused(kash_main("workspace", "create", name, "--db", db))
    assert says.replace("64", "64") in refused(
        kash_main("connection", "add", name, "--broker", "alpaca", "--paper", "--db", db)
    )
    spaces = json.loads(ok(kash_main("workspace", "list", "--json", "--db", db)).stdout)
    assert [w["name"] for w in spaces] == ["Demo"]


def test_cancelling_a_malformed_order_id_is_a_local_check(kash_main, db: str,  # noqa: ANN001
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APCA_API_KEY_ID", "made-up-key-id-for-test")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "made-up-secret-for-test")
    nowhere = "http://127.0.0.1:9"  # nothing listens: the broker is unreachable
    ok(kash_main("connection", "add", "paper", "--broker", "alpaca", "--paper",
                 "--trading-url", nowhere, "--data-url", nowhere, "--db", db))
    ok(kash_main("portfolio", "create", "Swing", "--workspace", "Demo", "--mode", "paper",
                 "--connection", "paper", "--db", db))
    line = refused(kash_main("order", "cancel", "nonexistent-id", "--db", db))
    assert "'nonexistent-id' is not an Alpaca order id" in line
    assert "There is no order" not in line


# -- the database ------------------------------------------------------------------------------


def test_db_current_on_a_newer_database_says_so(kash_main, db: str) -> None:  # noqa: ANN001
    path = db.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffff'")
    out = ok(kash_main("db", "current", "--db", db)).stdout
    assert "newer than this Kash" in out and "behind" not in out
    assert json.loads(ok(kash_main("db", "current", "--json", "--db", db)).stdout)["state"] == (
        "newer"
    )
    assert "newer than this Kash" in refused(kash_main("db", "upgrade", "--db", db))


def test_a_garbage_database_url_is_refused(kash_main, tmp_path: Path,  # noqa: ANN001
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KASH_DATABASE_URL", "garbage:::")
    line = refused(kash_main("workspace", "list"))
    assert "'garbage:::' is neither a file path nor a URL" in line
    assert not (tmp_path / "garbage:::").exists()
    assert list(tmp_path.glob("garbage*")) == []


def test_an_empty_db_flag_is_refused(kash_main, isolated_env: dict[str, str]) -> None:  # noqa: ANN001
    line = refused(kash_main("workspace", "list", "--db", ""))
    assert "The database URL is empty" in line
    assert not (Path(isolated_env["XDG_DATA_HOME"]) / "kash" / "kash.db").exists()


def test_an_empty_database_variable_is_refused(kash_main, monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
                                               isolated_env: dict[str, str]) -> None:
    monkeypatch.setenv("KASH_DATABASE_URL", "")
    assert "KASH_DATABASE_URL" in refused(kash_main("workspace", "list"))
    assert not (Path(isolated_env["XDG_DATA_HOME"]) / "kash" / "kash.db").exists()


def test_a_missing_kash_config_file_is_refused(kash_main, tmp_path: Path, db: str,  # noqa: ANN001
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KASH_CONFIG", str(tmp_path / "missing.toml"))
    line = refused(kash_main("workspace", "list", "--db", db))
    assert "KASH_CONFIG" in line and "missing.toml" in line and "does not exist" in line


_HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def _hold_lock(path: str, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, path, str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_a_write_to_a_locked_database_says_it_waits(kash_main, db: str) -> None:  # noqa: ANN001
    holder = _hold_lock(db.removeprefix("sqlite:///"), 2.5)
    try:
        result = ok(kash_main("workspace", "create", "Patient", "--db", db))
    finally:
        holder.wait(timeout=30)
    assert "waiting for" in result.stderr and "another program is writing to it" in result.stderr
    assert "Created workspace 'Patient'" in result.stdout


def test_a_lock_that_outlasts_the_wait_is_one_sentence(kash_main, db: str,  # noqa: ANN001
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from kash_tui import db as database

    monkeypatch.setattr(database, "LOCK_WAIT_SECONDS", 2.0)
    holder = _hold_lock(db.removeprefix("sqlite:///"), 8)
    try:
        result = kash_main("workspace", "create", "Impatient", "--db", db)
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert result.returncode == 2, result
    lines = result.stderr.splitlines()
    assert "waiting for" in lines[0]
    assert lines[-1].startswith("kash: ") and "still locked after 2 s" in lines[-1]
    assert "Traceback" not in result.stderr


@pytest.fixture
def read_only_db(db: str, tmp_path: Path):  # noqa: ANN201, ANN001
    """The prepared database as a file that cannot be written (immutable when run as root,
    whom file modes do not stop)."""
    path = Path(db.removeprefix("sqlite:///"))
    for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        assert not extra.exists()
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        assert chattr, "chattr is needed to make a read-only file for root"
        subprocess.run([chattr, "+i", str(path)], check=True)
    else:
        path.chmod(0o444)
    try:
        assert not os.access(path, os.W_OK)
        yield db
    finally:
        if os.geteuid() == 0:
            subprocess.run([shutil.which("chattr") or "chattr", "-i", str(path)], check=True)
        path.chmod(0o644)


def test_a_read_only_database_can_be_listed(kash_main, read_only_db: str) -> None:  # noqa: ANN001
    db = read_only_db
    path = Path(db.removeprefix("sqlite:///"))
    before = sorted(p.name for p in path.parent.iterdir())
    spaces = json.loads(ok(kash_main("workspace", "list", "--json", "--db", db)).stdout)
    assert [w["name"] for w in spaces] == ["Demo"]
    ok(kash_main("portfolio", "list", "--db", db))
    ok(kash_main("data", "list", "--db", db))
    ok(kash_main("runs", "list", "--db", db))
    assert "up to date" in ok(kash_main("db", "current", "--db", db)).stdout
    line = refused(kash_main("workspace", "create", "New", "--db", db))
    assert "cannot write" in line and "this command changes the database" in line
    assert sorted(p.name for p in path.parent.iterdir()) == before  # no -wal / -shm left


# -- strategies through the provider ----------------------------------------------------------


def test_strategies_come_from_the_provider_without_a_database(kash_main, tmp_path: Path,  # noqa: ANN001
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from kash_tui import provider as composition

    built: list[object] = []
    real = composition.ServiceProvider

    class Recording(real):  # type: ignore[misc, valid-type]
        def __init__(self, settings) -> None:  # noqa: ANN001
            super().__init__(settings)
            built.append(self)

    monkeypatch.setattr(composition, "ServiceProvider", Recording)
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    infos = json.loads(ok(kash_main("strategies", "--json", "--db", url)).stdout)
    assert {"sma_crossover", "mfi"} <= {i["id"] for i in infos}
    assert len(built) == 1  # through the provider, like every command
    assert not (tmp_path / "fresh.db").exists()  # listing strategies opens no database
    # a broken setting is still reported: the settings are loaded the same way
    monkeypatch.setenv("KASH_CONFIG", str(tmp_path / "missing.toml"))
    assert "KASH_CONFIG" in refused(kash_main("strategies"))
