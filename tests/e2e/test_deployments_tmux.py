"""End to end: a detached deployment (``kash deploy start --detach``, a background runner
process) trades against the fake Alpaca server on loopback while the installed ``kash`` watches
it in a real terminal (tmux); quitting the app leaves the runner trading; the app, opened
again, halts it with its kill-switch key (which asks: halt, or halt and flatten), and
``kash deploy list --json`` says halted."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from tests.broker_setup import connect_env
from tests.cli.test_cli_deploy import _alive
from tests.e2e.test_tmux import terminal  # noqa: F401 - the fixture
from tests.integration.test_deployments import SYMBOL, wait_for, wave


def listed(run_kash, db: str) -> dict:  # noqa: ANN001
    done = run_kash("deploy", "list", "--json", "--db", db)
    assert done.returncode == 0, done.stderr
    return next(d for d in json.loads(done.stdout) if d["name"] == "wave")


def test_a_detached_deployment_watched_and_halted_from_the_app(
    terminal, run_kash, tmp_path: Path, fake_alpaca, monkeypatch  # noqa: ANN001, F811
) -> None:
    fake = fake_alpaca
    fake.add_asset(SYMBOL, fractionable=False, price=100)
    bars = wave(120)
    fake.add_bars(SYMBOL, "1Min", bars[:40])
    fake.replay(SYMBOL, "1Min", bars[40:])
    connect_env(fake, monkeypatch)  # the runner and the tmux server inherit these
    db = str(tmp_path / "e2e.db")
    for args in (
        ("connection", "add", "paper", "--broker", "alpaca", "--paper",
         "--trading-url", fake.base_url, "--data-url", fake.base_url),
        ("portfolio", "create", "Paper", "--workspace", "Demo", "--mode", "paper",
         "--connection", "paper"),
        ("deploy", "start", "wave", "--portfolio", "Paper", "--strategy", "sma_crossover",
         "--symbol", SYMBOL, "--timeframe", "1Min", "--params",
         '{"short_period": 3, "long_period": 8}', "--tick", "0.2", "--no-stream", "--detach"),
    ):
        done = run_kash(*args, "--db", db, timeout=60)
        assert done.returncode == 0, done.stderr
    wait_for(lambda: listed(run_kash, db)["state"] == "running", "the runner", timeout=90)
    pid = listed(run_kash, db)["pid"]
    try:
        term = terminal("--db", db)
        term.wait_for("Demo backtest", timeout=40)
        term.keys("F6")  # Deployments
        screen = term.wait_for("running", timeout=30)
        assert "wave" in screen and "PAPER" in screen and f"{SYMBOL} 1Min" in screen
        term.wait_for("warmup", timeout=30)  # the journal, newest at the bottom
        for _ in range(3):  # the runner follows bars while the app watches
            bar = fake.advance(symbol=SYMBOL)[0]
            wait_for(lambda bar=bar: listed(run_kash, db)["last_bar_at"] is not None
                     and listed(run_kash, db)["last_bar_at"].startswith(
                         bar.t.strftime("%Y-%m-%dT%H:%M")), "the bar", timeout=30)
        term.wait_for(f"{bars[42][0]:%m-%d %H:%M}", timeout=15)  # the row's last bar, live
        screen = term.screen()
        assert fake.key_id not in screen and fake.secret_key not in screen

        term.keys("C-q")  # closing the app leaves the detached runner trading
        term.wait_for("Deployments", absent=True, timeout=15)
        time.sleep(1.0)
        row = listed(run_kash, db)
        assert row["state"] == "running" and row["heartbeat_age_seconds"] < 10
        assert _alive(pid)

        term = terminal("--db", db)
        term.wait_for("Demo backtest", timeout=40)
        time.sleep(0.3)
        term.keys("F6")
        term.wait_for("running", timeout=30)
        time.sleep(0.5)  # a person reads the row before pressing the kill switch
        term.keys("k")  # the kill switch asks: halt, or halt and close the position
        screen = term.wait_for("Halt and flatten (f)", timeout=15)
        assert "Halt wave?" in screen and "Halt (y)" in screen
        time.sleep(0.3)
        term.keys("y")
        screen = term.wait_for("wave is halted", timeout=30)  # the details line
        row = listed(run_kash, db)
        assert row["state"] == "halted"
        wait_for(lambda: not _alive(pid), "the runner to exit", timeout=30)
        term.keys("C-q")
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGTERM)
