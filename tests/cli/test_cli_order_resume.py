"""``kash order submit`` interrupted while sending, and run again; ``kash fills --limit``;
``kash connection add --feed/--custom-host``. Through the installed binary against the fake
Alpaca on loopback.

An interrupted send may or may not have reached Alpaca, and the journal keeps the ticket as
``sending``. The same command run again takes that ticket up (same client order id): Alpaca is
asked first, so the order is placed at most once. Only a ticket whose outcome is unknown is taken
up: once it is known (placed or refused), the same command is a new order, and ``--new-order``
makes one even while an earlier run is unresolved.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.broker_setup import connect_env
from tests.cli.outcome import as_json, ok, refused

ORDER = ("order", "submit", "--symbol", "AAPL", "--side", "buy", "--qty", "2", "--yes")


@pytest.fixture
def kash(run_kash, fake_alpaca, monkeypatch):  # noqa: ANN001, ANN201
    connect_env(fake_alpaca, monkeypatch)
    ok(run_kash("connection", "add", "paper", "--broker", "alpaca", "--paper",
                "--trading-url", fake_alpaca.base_url, "--data-url", fake_alpaca.base_url))
    ok(run_kash("portfolio", "create", "Swing", "--workspace", "Demo", "--mode", "paper",
                "--connection", "paper"))
    fake_alpaca.set_price("AAPL", 150.0)
    return run_kash


def _posts(fake) -> list:  # noqa: ANN001
    return [r for r in fake.requests if r.method == "POST" and r.path == "/v2/orders"]


def _interrupt_while_sending(kash_bin: Path, tmp_path: Path, fake) -> tuple[int, str, str]:  # noqa: ANN001
    """Run ORDER, press Ctrl-C once its POST reached the fake (which does not answer)."""
    proc = subprocess.Popen(
        [str(kash_bin), *ORDER], env=dict(os.environ), cwd=str(tmp_path),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        fake.wait_until(lambda: len(_posts(fake)) >= 1, timeout=30, what="the order's POST")
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out, err


@pytest.mark.parametrize("fault", ["hang", "hang_after"])
def test_ctrl_c_while_sending_names_the_order_and_a_rerun_places_it_once(
    kash, fake_alpaca, kash_bin: Path, tmp_path: Path, fault: str  # noqa: ANN001
) -> None:
    fake_alpaca.fail("/v2/orders", fault, times=1, method="POST")
    code, _out, err = _interrupt_while_sending(kash_bin, tmp_path, fake_alpaca)
    client_id = _posts(fake_alpaca)[0].json["client_order_id"]
    assert code == 130
    assert f"client order id {client_id}" in err
    assert "kash orders --status all" in err and "nothing was saved half-way" not in err
    reached = fault == "hang_after"
    assert len(fake_alpaca.orders) == (1 if reached else 0)

    again = ok(kash(*ORDER))  # the user runs the same command again
    assert f"earlier run of this order" in again.stderr and client_id in again.stderr
    assert [o["client_order_id"] for o in fake_alpaca.orders] == [client_id]
    assert len(_posts(fake_alpaca)) == (1 if reached else 2)  # adopted, or sent (once)
    assert client_id in again.stdout

    # its outcome is known now: the same command is a genuinely new order
    third = ok(kash(*ORDER))
    assert "earlier run" not in third.stderr
    assert len(fake_alpaca.orders) == 2
    assert len({o["client_order_id"] for o in fake_alpaca.orders}) == 2


def test_new_order_places_a_second_one_while_an_earlier_run_is_unresolved(
    kash, fake_alpaca, kash_bin: Path, tmp_path: Path  # noqa: ANN001
) -> None:
    fake_alpaca.fail("/v2/orders", "hang_after", times=1, method="POST")
    code, _out, _err = _interrupt_while_sending(kash_bin, tmp_path, fake_alpaca)
    assert code == 130
    other = ok(kash(*ORDER, "--new-order"))
    assert "earlier run" not in other.stderr
    assert len(fake_alpaca.orders) == 2
    line = refused(kash(*ORDER, "--new-order", "--client-order-id", "mine-1"))
    assert "not allowed with argument" in line


def test_fills_are_limited_and_say_when_more_exist(kash, fake_alpaca) -> None:  # noqa: ANN001
    fake_alpaca.add_fills(620, "MSFT", price=420)
    newest = kash("fills", "--json")
    assert len(as_json(newest)) == 500
    assert "showing the newest 500 fills; more exist" in newest.stderr
    everything = kash("fills", "--limit", "0", "--json")
    assert len(as_json(everything)) == 620 and everything.stderr == ""
    few = kash("fills", "--limit", "700")
    assert few.returncode == 0 and "more exist" not in few.stderr
    assert "--limit must be 0" in refused(kash("fills", "--limit", "-1"))


def test_connection_feed_and_hosts_from_the_command_line(run_kash) -> None:  # noqa: ANN001
    ok(run_kash("connection", "add", "sip", "--broker", "alpaca", "--paper", "--feed", "sip"))
    [conn] = as_json(run_kash("connection", "list", "--json"))
    assert conn["feed"] == "sip"
    line = refused(run_kash("connection", "add", "p", "--broker", "alpaca", "--paper",
                            "--trading-url", "https://api.alpaca.markets"))
    assert "Alpaca's live trading host, but 'p' is a paper connection" in line
    line = refused(run_kash("connection", "add", "p", "--broker", "alpaca", "--paper",
                            "--trading-url", "https://proxy.example.com"))
    assert "--custom-host" in line
    ok(run_kash("connection", "add", "p", "--broker", "alpaca", "--paper",
                "--trading-url", "https://proxy.example.com", "--custom-host"))
