"""``kash deploy``: bad input refused in one sentence, LIVE refused without its checks, and a
foreground deployment run by the installed binary against the fake Alpaca (started, followed
bar by bar, stopped with Ctrl-C), then listed, logged and compared with its backtest."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from kash_tui.domains.deployment import EventKind
from tests.broker_setup import paper_kash
from tests.cli.outcome import as_json, ok, refused
from tests.integration.test_deployments import SYMBOL, wait_for, wave


@pytest.fixture
def paper(sqlite_db_url, fake_alpaca, monkeypatch):  # noqa: ANN001, ANN201
    fake_alpaca.add_asset(SYMBOL, fractionable=False, price=100)
    bars = wave(80)
    fake_alpaca.add_bars(SYMBOL, "1Min", bars[:40])
    fake_alpaca.replay(SYMBOL, "1Min", bars[40:])
    kash, folio = paper_kash(sqlite_db_url, fake_alpaca, monkeypatch)
    yield kash, folio
    kash.close()


def start_args(db: str, *extra: object) -> list[object]:
    return ["deploy", "start", "wave", "--db", db, "--portfolio", "Alpaca paper", "--strategy",
            "sma_crossover", "--symbol", SYMBOL, "--timeframe", "1Min", *extra]


@pytest.mark.parametrize(("extra", "words"), [
    (("--params", "{short"), "--params is not valid JSON"),
    (("--params", "[1, 2]"), "must be a JSON object"),
    (("--params", '{"short_period": 50, "long_period": 20}'), "short_period"),
    (("--timeframe", "2Min"), "Unknown timeframe"),
    (("--max-position-pct", "-5"), "--max-position-pct"),
    (("--max-position-pct", "150"), "at most 100"),
    (("--max-orders-per-day", "0"), "--max-orders-per-day"),
])
def test_bad_input_is_one_sentence_and_exit_2(paper, kash_main, sqlite_db_url, extra, words):  # noqa: ANN001
    args = start_args(sqlite_db_url)
    if extra[0] in args:  # replace an option given by start_args
        i = args.index(extra[0])
        args[i + 1] = extra[1]
    else:
        args += list(extra)
    line = refused(kash_main(*args))
    assert words in line
    kash, _folio = paper
    assert kash.deployment.list() == [] or all(d.state.value == "stopped"
                                               for d in kash.deployment.list())


def test_unknown_and_incomplete_deployments_are_refused(paper, kash_main, sqlite_db_url) -> None:  # noqa: ANN001
    assert "no deployment 'nope'" in refused(kash_main("deploy", "stop", "nope", "--db",
                                                       sqlite_db_url))
    assert "--portfolio, --strategy" in refused(kash_main("deploy", "start", "new-one", "--db",
                                                          sqlite_db_url))
    assert "--all" in refused(kash_main("deploy", "halt", "--db", sqlite_db_url))
    kash, _folio = paper
    line = refused(kash_main(*start_args(sqlite_db_url)[:-10], "--portfolio", "Demo backtest",
                             "--strategy", "sma_crossover", "--symbol", "AAPL", "--timeframe",
                             "1Min"))
    assert "BACKTEST portfolio" in line


def test_live_is_refused_without_confirmation_or_loss_limit(
    paper, kash_main, sqlite_db_url, fake_alpaca  # noqa: ANN001
) -> None:
    from kash_tui.domains.connection import Environment, NewConnection
    from kash_tui.domains.workspace import PortfolioMode

    kash, _folio = paper
    kash.connection.add(NewConnection(name="real", environment=Environment.LIVE,
                                      trading_url=fake_alpaca.base_url,
                                      data_url=fake_alpaca.base_url))
    kash.connection.enable_live("real", "real")
    kash.workspace.create_portfolio("Demo", "Real", PortfolioMode.LIVE, connection="real")
    base = ["deploy", "start", "live", "--db", sqlite_db_url, "--portfolio", "Real",
            "--strategy", "sma_crossover", "--symbol", "AAPL", "--timeframe", "1Min"]
    assert "daily loss limit" in refused(kash_main(*base, "--confirm-live", "live"))
    line = refused(kash_main(*base, "--daily-loss-limit-pct", "2"))  # not a terminal
    assert "--confirm-live live" in line
    typed = kash_main("deploy", "start", "live", "--db", sqlite_db_url, stdin_tty=True,
                      input="nope\n")
    assert typed.returncode == 2 and "Traceback" not in typed.stderr
    assert "Type its name to confirm" in typed.stderr
    assert "--confirm-live live" in typed.stderr.splitlines()[-1]
    assert fake_alpaca.orders == []


def test_a_foreground_deployment_runs_stops_on_ctrl_c_and_reports(
    paper, kash_bin, sqlite_db_url, fake_alpaca, run_kash  # noqa: ANN001
) -> None:
    kash, _folio = paper
    process = subprocess.Popen(
        [str(kash_bin), *map(str, start_args(sqlite_db_url, "--tick", "0.1", "--no-stream",
                                            "--params", '{"short_period": 3, "long_period": 8}'))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
        stdin=subprocess.DEVNULL,
    )
    try:
        def warmed_up() -> bool:
            names = [d.name for d in kash.deployment.list()]
            return "wave" in names and any(
                e.kind is EventKind.WARMUP for e in kash.deployment.journal("wave"))

        wait_for(lambda: warmed_up() or process.poll() is not None, "the warm-up", timeout=60)
        assert process.poll() is None, process.communicate()
        for _ in range(14):
            bar = fake_alpaca.advance(symbol=SYMBOL)[0]
            wait_for(lambda bar=bar: kash.deployment.get("wave").last_bar_at == bar.t,
                     "the bar", timeout=30)
        listed = as_json(run_kash("deploy", "list", "--json", "--db", sqlite_db_url))
        assert listed[0]["name"] == "wave" and listed[0]["state"] == "running"
        assert listed[0]["data_mode"] == "poll"
        assert listed[0]["heartbeat_age_seconds"] < 30
        table = ok(run_kash("deploy", "list", "--db", sqlite_db_url)).stdout
        assert "wave" in table and "poll" in table
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, (out, err)
    assert "Traceback" not in out + err
    lines = out.splitlines()
    assert any(" bar " in line for line in lines)
    assert any(" signal " in line for line in lines)
    assert "is stopped" in lines[-1]
    assert kash.deployment.get("wave").state.value == "stopped"

    log = ok(run_kash("deploy", "log", "wave", "--db", sqlite_db_url)).stdout
    assert "order_sent" in log and "fill" in log
    # the log is the lines the foreground run printed, each event once
    every = ok(run_kash("deploy", "log", "wave", "--all", "--db", sqlite_db_url)).stdout
    assert every.splitlines() == [line for line in lines if " UTC  " in line]
    newest = ok(run_kash("deploy", "log", "wave", "--tail", "3", "--db", sqlite_db_url)).stdout
    assert newest.splitlines() == [
        "(the newest 3 events; --tail N for more, --all for every one)",
        *every.splitlines()[-3:]]
    assert "--tail" in refused(run_kash("deploy", "log", "wave", "--tail", "3", "--all",
                                        "--db", sqlite_db_url))
    entries = as_json(run_kash("deploy", "log", "wave", "--json", "--db", sqlite_db_url))
    assert entries[-1]["kind"] == "stop"
    parity = ok(run_kash("deploy", "parity", "wave", "--db", sqlite_db_url)).stdout
    assert "Signals:" in parity and "0 missed" in parity
    report = as_json(run_kash("deploy", "parity", "wave", "--json", "--db", sqlite_db_url))
    assert report["total_slippage"] == 0
    time.sleep(0)  # nothing left running


def test_a_detached_deployment_outlives_its_shell_and_stops_from_another(
    paper, sqlite_db_url, fake_alpaca, run_kash  # noqa: ANN001
) -> None:
    kash, _folio = paper
    started = ok(run_kash(*start_args(sqlite_db_url, "--tick", "0.1", "--no-stream",
                                      "--detach"), timeout=60))
    assert "started in the background" in started.stdout
    d = kash.deployment.get("wave")
    assert d.log_path and d.log_path.endswith("wave.log")
    wait_for(lambda: kash.deployment.get("wave").state.value == "running"
             and kash.deployment.get("wave").pid is not None, "the detached runner", timeout=60)
    pid = kash.deployment.get("wave").pid
    try:
        bar = fake_alpaca.advance(symbol=SYMBOL)[0]
        wait_for(lambda: kash.deployment.get("wave").last_bar_at == bar.t, "a bar", timeout=30)
        ok(run_kash("deploy", "stop", "wave", "--db", sqlite_db_url))
        wait_for(lambda: kash.deployment.get("wave").state.value == "stopped", "the stop",
                 timeout=30)
        wait_for(lambda: not _alive(pid), "the runner process to exit", timeout=30)
    finally:
        if _alive(pid):  # never leave a runner behind a failed test
            os.kill(pid, signal.SIGTERM)
    with open(d.log_path, encoding="utf-8") as fh:
        log = fh.read()
    assert "warmup" in log and "Stopped by `kash deploy stop`" in log
    assert "Traceback" not in log


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child of nobody we know: its state says
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False
