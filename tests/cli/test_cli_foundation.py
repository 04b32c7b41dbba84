"""The installed ``kash`` command: db, workspace, connection and portfolio commands.

A user error is exit code 2 with one sentence on stderr and never a traceback; after a refused
command nothing is half-written.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

import pytest

from kash_tui.config import Settings
from kash_tui.db import Database
from kash_tui.domains.connection import Environment, NewConnection
from kash_tui.domains.workspace import PortfolioMode
from kash_tui.provider import ServiceProvider
from tests.cli.outcome import as_json, ok, refused




def _state(url: str) -> tuple:
    """What every listing shows, read in-process (demo seeding off so it changes nothing)."""
    kash = ServiceProvider(Settings(database_url=url, demo_data=False))
    kash.prepare()
    try:
        return (
            [(w.name, w.portfolio_count) for w in kash.workspace.list_workspaces()],
            [(p.workspace_name, p.name, p.mode, str(p.position_size_pct), p.connection_name)
             for p in kash.workspace.list_portfolios()],
            [(c.name, c.environment, c.live_enabled) for c in kash.connection.list_connections()],
        )
    finally:
        kash.close()


# -- the happy path --------------------------------------------------------------------------


def test_happy_path(run_kash, db_url: str) -> None:  # noqa: ANN001
    db = ("--db", db_url)
    head = Database(db_url).head_revision()

    out = ok(run_kash("db", "upgrade", *db)).stdout
    assert f"schema {head}" in out
    current = as_json(run_kash("db", "current", "--json", *db))
    assert (current["current"], current["head"], current["up_to_date"]) == (head, head, True)
    assert "password" not in json.dumps(current)

    assert "Created workspace 'Alpha'" in ok(run_kash("workspace", "create", "Alpha", *db)).stdout
    spaces = as_json(run_kash("workspace", "list", "--json", *db))
    assert [(w["name"], w["portfolio_count"]) for w in spaces] == [("Alpha", 0), ("Demo", 1)]
    ok(run_kash("workspace", "rename", "Alpha", "Beta", *db))

    ok(run_kash("connection", "add", "paper1", "--broker", "alpaca", "--paper", *db))
    out = ok(run_kash("connection", "add", "live1", "--broker", "alpaca", "--live",
                      "--key-env", "LIVE_KEY", "--secret-env", "LIVE_SECRET", *db)).stdout
    assert "enable-live" in out  # tells the user live trading is still off
    conns = {c["name"]: c for c in as_json(run_kash("connection", "list", "--json", *db))}
    assert conns["paper1"]["rfqdn"] == "markets.alpaca.paper"
    assert conns["paper1"]["cap_trading_paper"] is True
    assert conns["live1"]["key_source"] == "env:LIVE_KEY,LIVE_SECRET"
    assert (conns["live1"]["live_enabled"], conns["live1"]["cap_trading_live"]) == (False, False)

    ok(run_kash("connection", "enable-live", "live1", "--yes-i-understand", *db))
    conns = {c["name"]: c for c in as_json(run_kash("connection", "list", "--json", *db))}
    assert (conns["live1"]["live_enabled"], conns["live1"]["cap_trading_live"]) == (True, True)

    ok(run_kash("portfolio", "create", "Trend", "--workspace", "Beta", "--mode", "backtest",
                "--position-size-pct", "25", *db))
    ok(run_kash("portfolio", "create", "Paper", "--workspace", "Beta", "--mode", "paper",
                "--connection", "paper1", *db))
    ok(run_kash("portfolio", "create", "Live", "--workspace", "Beta", "--mode", "LIVE",
                "--connection", "live1", "--position-size-pct", "0.5", *db))
    items = as_json(run_kash("portfolio", "list", "--workspace", "Beta", "--json", *db))
    assert [(p["name"], p["mode"], p["connection_name"], p["position_size_pct"]) for p in items] == [
        ("Live", "LIVE", "live1", 0.5),
        ("Paper", "PAPER", "paper1", 100),
        ("Trend", "BACKTEST", None, 25),
    ]

    # a refused command in the middle changes nothing the listings show
    before = as_json(run_kash("portfolio", "list", "--json", *db))
    refused(run_kash("portfolio", "create", "Trend", "--workspace", "Beta", "--mode", "backtest",
                     *db))
    assert "still used" in refused(run_kash("connection", "remove", "paper1", *db))
    assert as_json(run_kash("portfolio", "list", "--json", *db)) == before

    ok(run_kash("portfolio", "delete", "Paper", "--workspace", "Beta", *db))
    ok(run_kash("connection", "remove", "paper1", *db))
    assert [c["name"] for c in as_json(run_kash("connection", "list", "--json", *db))] == ["live1"]

    assert "holds 2 portfolio" in refused(run_kash("workspace", "delete", "Beta", *db))
    out = ok(run_kash("workspace", "delete", "Beta", "--force", *db)).stdout
    assert "2 portfolio(s)" in out
    assert [w["name"] for w in as_json(run_kash("workspace", "list", "--json", *db))] == ["Demo"]
    assert [p["name"] for p in as_json(run_kash("portfolio", "list", "--json", *db))] == [
        "Demo backtest"
    ]


def test_plain_listings_are_tables(run_kash, sqlite_db_url: str) -> None:  # noqa: ANN001
    db = ("--db", sqlite_db_url)
    out = ok(run_kash("workspace", "list", *db)).stdout
    assert out.splitlines()[0].split() == ["NAME", "PORTFOLIOS", "CREATED"]
    assert out.splitlines()[1].startswith("Demo ")
    assert "No connections" in ok(run_kash("connection", "list", *db)).stdout
    assert "Demo backtest" in ok(run_kash("portfolio", "list", *db)).stdout
    assert "latest" in ok(run_kash("db", "current", *db)).stdout


def test_version_and_help(run_kash) -> None:  # noqa: ANN001
    assert ok(run_kash("--version")).stdout.startswith("kash ")
    out = ok(run_kash("--help")).stdout
    for name in ("db", "workspace", "connection", "portfolio", "data"):
        assert name in out


def test_database_url_from_environment_and_db_flag_wins(
    run_kash, tmp_path: Path  # noqa: ANN001
) -> None:
    env_db, flag_db = tmp_path / "env.db", tmp_path / "flag.db"
    env = {"KASH_DATABASE_URL": f"sqlite:///{env_db}"}
    ok(run_kash("workspace", "create", "FromEnv", env=env))
    ok(run_kash("workspace", "create", "FromFlag", "--db", str(flag_db), env=env))
    assert [w[0] for w in _state(f"sqlite:///{env_db}")[0]] == ["Demo", "FromEnv"]
    assert [w[0] for w in _state(f"sqlite:///{flag_db}")[0]] == ["Demo", "FromFlag"]


def test_default_database_lives_in_the_user_data_folder(
    run_kash, isolated_env: dict[str, str]  # noqa: ANN001
) -> None:
    ok(run_kash("workspace", "create", "Mine"))
    path = Path(isolated_env["XDG_DATA_HOME"]) / "kash" / "kash.db"
    assert path.is_file()
    assert [w[0] for w in _state(f"sqlite:///{path}")[0]] == ["Demo", "Mine"]


def test_broken_config_file_warns_and_still_works(
    run_kash, isolated_env: dict[str, str], sqlite_db_url: str  # noqa: ANN001
) -> None:
    config = Path(isolated_env["XDG_CONFIG_HOME"]) / "kash" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("theme = [unclosed\n")
    result = ok(run_kash("workspace", "list", "--json", "--db", sqlite_db_url))
    assert [w["name"] for w in json.loads(result.stdout)] == ["Demo"]
    (warning,) = result.stderr.splitlines()
    assert warning.startswith("kash: warning:") and str(config) in warning


# -- refused commands ------------------------------------------------------------------------


@pytest.fixture
def populated(sqlite_db_url: str) -> str:
    """Demo, a workspace 'Work' holding portfolio 'Existing', a paper and a live connection."""
    kash = ServiceProvider(Settings(database_url=sqlite_db_url))
    kash.prepare()
    kash.workspace.create_workspace("Work")
    kash.workspace.create_portfolio("Work", "Existing", PortfolioMode.BACKTEST)
    kash.connection.add(NewConnection("paper1"))
    kash.connection.add(NewConnection("live1", environment=Environment.LIVE))
    kash.close()
    return sqlite_db_url


BAD_COMMANDS = [
    (("workspace", "rename", "Nope", "X"), "no workspace named 'Nope'"),
    (("workspace", "delete", "Nope"), "no workspace named 'Nope'"),
    (("workspace", "create", "Demo"), "already exists"),
    (("workspace", "create", " Work "), "already exists"),
    (("workspace", "create", ""), "needs a name"),
    (("workspace", "rename", "Work", "Demo"), "already exists"),
    (("workspace", "delete", "Work"), "holds 1 portfolio"),
    (("portfolio", "create", "Existing", "--workspace", "Work", "--mode", "backtest"),
     "already has a portfolio named 'Existing'"),
    (("portfolio", "create", "P", "--workspace", "Nope", "--mode", "backtest"),
     "no workspace named 'Nope'"),
    (("portfolio", "create", "P", "--workspace", "Work", "--mode", "backtest",
      "--position-size-pct", "0"), "Position size"),
    (("portfolio", "create", "P", "--workspace", "Work", "--mode", "backtest",
      "--position-size-pct", "150"), "Position size"),
    (("portfolio", "create", "P", "--workspace", "Work", "--mode", "backtest",
      "--position-size-pct", "abc"), "not a number"),
    (("portfolio", "create", "P", "--workspace", "Work", "--mode", "backtest",
      "--position-size-pct", "-5"), "Position size"),
    (("portfolio", "create", "P", "--workspace", "Work", "--mode", "paper"),
     "PAPER portfolio needs a paper connection"),
    (("portfolio", "create", "P", "--workspace", "Work", "--mode", "paper", "--connection",
      "live1"), "paper one"),
    (("portfolio", "create", "P", "--workspace", "Work", "--mode", "live"),
     "LIVE portfolio needs a live connection"),
    (("portfolio", "create", "P", "--workspace", "Work", "--mode", "live", "--connection",
      "live1"), "Live trading is not enabled"),
    (("portfolio", "create", "P", "--workspace", "Work", "--mode", "live", "--connection",
      "paper1"), "is a paper connection"),
    (("portfolio", "create", "P", "--workspace", "Work", "--mode", "live", "--connection",
      "ghost"), "no connection named 'ghost'"),
    (("portfolio", "create", "P", "--workspace", "Work", "--mode", "margin"), "invalid choice"),
    (("portfolio", "create", "P", "--mode", "backtest"), "--workspace"),
    (("portfolio", "delete", "Ghost"), "no portfolio named 'Ghost'"),
    (("connection", "add", "paper1", "--broker", "alpaca", "--paper"), "already exists"),
    (("connection", "add", "x", "--broker", "alpaca"), "--paper"),
    (("connection", "add", "x", "--broker", "ibkr", "--paper"), "invalid choice"),
    (("connection", "add", "x", "--broker", "alpaca", "--paper", "--key-env", "K"), "together"),
    (("connection", "add", "x", "--broker", "alpaca", "--paper", "--trading-url",
      "https://u:pw@example.com"), "must not carry a user or password"),
    (("connection", "enable-live", "paper1", "--yes-i-understand"), "paper connection"),
    (("connection", "enable-live", "live1"), "needs a terminal"),
    (("connection", "enable-live", "ghost", "--yes-i-understand"), "no connection named"),
    (("connection", "remove", "ghost"), "no connection named 'ghost'"),
    (("workspace", "frobnicate"), "invalid choice"),
    (("workspace",), "needs a command"),
    (("workspace", "list", "--bogus"), "unrecognized arguments: --bogus"),
    (("frobnicate",), "invalid choice"),
]


@pytest.mark.parametrize(
    ("args", "words"), BAD_COMMANDS, ids=[" ".join(a)[:60] for a, _ in BAD_COMMANDS]
)
def test_bad_input_is_refused_and_changes_nothing(
    run_kash, populated: str, args: tuple[str, ...], words: str  # noqa: ANN001
) -> None:
    before = _state(populated)
    line = refused(run_kash("--db", populated, *args))
    assert words in line
    assert _state(populated) == before


def test_enable_live_without_a_terminal_keeps_live_off(run_kash, populated: str) -> None:  # noqa: ANN001
    # stdin is not a terminal (a pipe with the right name on it does not count either)
    refused(run_kash("connection", "enable-live", "live1", "--db", populated, input="live1\n"))
    assert ("live1", Environment.LIVE, False) in _state(populated)[2]


def _enable_live_on_a_terminal(kash_bin: Path, url: str, typed: str, cwd: Path):  # noqa: ANN202
    try:
        master, slave = pty.openpty()
    except OSError as exc:  # no pseudo-terminals in this sandbox
        pytest.skip(f"cannot open a pseudo-terminal: {exc}")
    try:
        proc = subprocess.Popen(
            [str(kash_bin), "connection", "enable-live", "live1", "--db", url],
            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ),
            cwd=cwd, text=True,
        )
        os.close(slave)
        slave = -1
        os.write(master, typed.encode() + b"\n")
        out, err = proc.communicate(timeout=60)
    finally:
        if slave != -1:
            os.close(slave)
        os.close(master)
    return proc.returncode, out, err


def test_enable_live_on_a_terminal_needs_the_typed_name(
    kash_bin: Path, populated: str, tmp_path: Path
) -> None:
    code, out, err = _enable_live_on_a_terminal(kash_bin, populated, "live", tmp_path)
    assert code == 2, (out, err)
    assert "real money" in out
    assert "does not match" in err and "Traceback" not in err
    assert ("live1", Environment.LIVE, False) in _state(populated)[2]

    code, out, err = _enable_live_on_a_terminal(kash_bin, populated, "live1", tmp_path)
    assert code == 0, (out, err)
    assert "Live trading is enabled for 'live1'" in out
    assert ("live1", Environment.LIVE, True) in _state(populated)[2]


# -- databases Kash cannot use ---------------------------------------------------------------


def test_malformed_database_urls(run_kash) -> None:  # noqa: ANN001
    for url in ("://nothing", "postgresql://kash@localhost:notaport/kash"):
        assert "malformed" in refused(run_kash("workspace", "list", "--db", url))
    assert "not mysql" in refused(run_kash("workspace", "list", "--db", "mysql://k@h/db"))
    # --db before the command works the same
    assert "not mysql" in refused(run_kash("--db", "mysql://k@h/db", "workspace", "list"))


def test_database_in_a_missing_folder(run_kash, tmp_path: Path) -> None:  # noqa: ANN001
    missing = tmp_path / "nope" / "deeper"
    line = refused(run_kash("workspace", "create", "X", "--db", str(missing / "k.db")))
    assert "does not exist" in line and str(missing) in line
    assert not (tmp_path / "nope").exists()


def test_corrupt_database_file(run_kash, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "broken.db"
    junk = bytes(range(256)) * 32
    path.write_bytes(junk)
    for args in (("workspace", "list"), ("workspace", "create", "X"), ("db", "upgrade"),
                 ("db", "current")):
        line = refused(run_kash(*args, "--db", str(path)))
        assert "corrupt" in line
    assert path.read_bytes() == junk


def test_database_with_a_newer_schema(run_kash, sqlite_db_url: str) -> None:  # noqa: ANN001
    import sqlalchemy as sa

    ok(run_kash("db", "upgrade", "--db", sqlite_db_url))
    engine = sa.create_engine(sqlite_db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'ffff'"))
    engine.dispose()
    line = refused(run_kash("workspace", "list", "--db", sqlite_db_url))
    assert "newer than this Kash" in line
