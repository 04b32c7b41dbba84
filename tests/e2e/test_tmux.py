"""End to end: the installed ``kash`` in a real terminal (tmux), driven by keys, read back with
capture-pane. The keys are the ones a user presses; F-keys, since tmux passes them through."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


class Terminal:
    """A private tmux server (own socket, so it inherits this test's isolated environment)."""

    def __init__(self, socket: str, session: str) -> None:
        self.socket, self.session = socket, session

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            [TMUX or "tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20
        )
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.session, *keys)

    def wait_for(self, text: str, timeout: float = 30.0, *, absent: bool = False) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if (text in screen) != absent:
                return screen
            time.sleep(0.2)
        state = "still on" if absent else "not on"
        raise AssertionError(f"{text!r} {state} the screen after {timeout}s:\n{screen}")


@pytest.fixture
def terminal(kash_bin: Path, tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    if TMUX is None:
        if _in_ci():
            pytest.fail("tmux is not installed; .ci/run installs it")
        pytest.skip("tmux is not installed (apt-get install tmux)")
    socket = f"kash-e2e-{uuid.uuid4().hex[:8]}"
    started: list[Terminal] = []

    def start(*args: str, width: int = 80, height: int = 24) -> Terminal:
        env = {"TERM": "xterm-256color", "COLORTERM": "truecolor"}
        command = " ".join([*(f"{k}={v}" for k, v in env.items()), str(kash_bin), *args])
        term = Terminal(socket, "kash")
        subprocess.run(
            [TMUX, "-L", socket, "new-session", "-d", "-s", "kash", "-x", str(width), "-y",
             str(height), command],
            check=True, timeout=20, cwd=tmp_path,
        )
        started.append(term)
        return term

    yield start
    for term in started:
        term.tmux("kill-server")


def test_backtest_from_the_keyboard_in_a_real_terminal(terminal, run_kash, tmp_path: Path) -> None:
    db = tmp_path / "e2e.db"
    term = terminal("--db", str(db))
    screen = term.wait_for("Demo backtest", timeout=40)
    assert "BACKTEST" in screen  # the mode badge of the seeded portfolio

    term.keys("F3")  # Strategies
    term.wait_for("Bollinger band")  # the list, by id: SMA crossover is the last of six
    term.keys("End")
    term.wait_for("SMA crossover")
    term.keys("Enter")
    term.wait_for("Short period")  # its form, drawn from the JSON Schema
    term.keys("F9")  # run the backtest with the default parameters
    screen = term.wait_for("Total return", timeout=40)
    assert "Sharpe" in screen

    runs = json.loads(run_kash("runs", "list", "--json", "--db", str(db)).stdout)
    assert len(runs) == 1
    assert runs[0]["settings"]["symbol"] == "DEMOA"
    assert runs[0]["settings"]["strategy"] == "sma_crossover"

    term.keys("F2")  # the chart shows the run's symbol with its fills
    term.wait_for("DEMOA")
    term.keys("C-q")
    term.wait_for("Demo backtest", absent=True, timeout=15)


def test_a_paper_order_from_the_keyboard_in_a_real_terminal(
    terminal, run_kash, tmp_path: Path, fake_alpaca, monkeypatch  # noqa: ANN001
) -> None:
    """The installed kash, a paper connection to the fake Alpaca on loopback, an order placed
    with keys only: the ticket previews it, sends it once, and the position appears by itself."""
    from tests.broker_setup import connect_env

    connect_env(fake_alpaca, monkeypatch)  # the tmux server inherits this environment
    db = str(tmp_path / "e2e.db")
    for args in (
        ("connection", "add", "paper", "--broker", "alpaca", "--paper",
         "--trading-url", fake_alpaca.base_url, "--data-url", fake_alpaca.base_url),
        ("portfolio", "create", "Paper", "--workspace", "Demo", "--mode", "paper",
         "--connection", "paper"),
    ):
        done = run_kash(*args, "--db", db)
        assert done.returncode == 0, done.stderr
    term = terminal("--db", db)
    term.wait_for("Demo backtest", timeout=40)
    term.keys("F4")  # Orders, still on the backtest portfolio
    term.wait_for("press p to choose one")
    term.keys("p")
    term.wait_for("Demo › Paper (PAPER)")  # the list opens on the backtest portfolio
    term.keys("Up", "Enter")  # Demo › Paper
    screen = term.wait_for("Buying power", timeout=30)
    assert "PAPER" in screen and "100,000.00" in screen
    term.wait_for("Live (stream)", timeout=30)

    term.keys("n")
    term.wait_for("New order · Paper")
    time.sleep(0.5)  # a person reads the ticket before typing
    term.keys("AAPL")
    term.wait_for("AAPL ")
    for _ in range(3):  # side, amount kind, quantity
        time.sleep(0.3)
        term.keys("Tab")
    time.sleep(0.3)
    term.keys("3")
    time.sleep(0.3)
    term.keys("Enter")  # preview
    screen = term.wait_for("Estimated cost $570.00", timeout=30)
    assert fake_alpaca.orders == []  # a preview sends nothing
    term.keys("Enter")  # send
    term.wait_for("Order sent to Paper", timeout=30)
    screen = term.wait_for("570.00", timeout=30)  # the position's value, with no key pressed
    assert len(fake_alpaca.orders) == 1
    assert fake_alpaca.orders[0]["symbol"] == "AAPL" and fake_alpaca.orders[0]["qty"] == "3"
    assert fake_alpaca.key_id not in screen and fake_alpaca.secret_key not in screen
    term.keys("C-q")
    term.wait_for("Buying power", absent=True, timeout=15)
