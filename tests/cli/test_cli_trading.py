"""``kash account | positions | orders | fills | order | position`` through the installed binary,
against the fake Alpaca server on loopback."""

from __future__ import annotations

import pytest
from tests.broker_setup import connect_env
from tests.cli.outcome import as_json, ok, refused


@pytest.fixture
def kash(run_kash, fake_alpaca, monkeypatch):  # noqa: ANN001, ANN201
    """A paper connection and one PAPER portfolio made through the CLI itself."""
    connect_env(fake_alpaca, monkeypatch)
    ok(run_kash("connection", "add", "paper", "--broker", "alpaca", "--paper",
                "--trading-url", fake_alpaca.base_url, "--data-url", fake_alpaca.base_url))
    ok(run_kash("portfolio", "create", "Swing", "--workspace", "Demo", "--mode", "paper",
                "--connection", "paper"))
    fake_alpaca.set_price("AAPL", 150.0)
    return run_kash


def _posts(fake) -> int:  # noqa: ANN001
    return len([r for r in fake.requests if r.method == "POST" and r.path == "/v2/orders"])


def test_account_positions_orders_and_fills_after_a_paper_order(kash, fake_alpaca) -> None:  # noqa: ANN001
    account = as_json(kash("account", "--json"))
    assert account["portfolio"] == "Swing" and account["mode"] == "PAPER"
    assert account["cash"] == 100000

    result = ok(kash("order", "submit", "--symbol", "aapl", "--side", "buy", "--qty", "2",
                     "--yes"))
    assert "paper order: buy 2 AAPL at market day" in result.stdout
    assert "estimated cost    300.00" in result.stdout
    assert "Sent: order " in result.stdout and "status pending_new" in result.stdout

    [position] = as_json(kash("positions", "--json", "--portfolio", "Swing"))
    assert position["symbol"] == "AAPL" and position["qty"] == 2
    table = ok(kash("positions")).stdout
    assert table.splitlines()[0].split()[:3] == ["SYMBOL", "QTY", "AVG"]
    assert "AAPL" in table
    [order] = as_json(kash("orders", "--status", "all", "--json"))
    assert order["status"] == "filled" and order["client_order_id"].startswith("kash-")
    assert as_json(kash("orders", "--json")) == []  # open orders by default
    [fill] = as_json(kash("fills", "--json"))
    assert fill["price"] == 150 and fill["order_id"] == order["id"]
    assert as_json(kash("account", "--json"))["cash"] == 100000 - 300


def test_limit_order_cancel_and_position_close(kash, fake_alpaca) -> None:  # noqa: ANN001
    placed = as_json(kash("order", "submit", "--symbol", "AAPL", "--side", "buy", "--qty", "1",
                          "--type", "limit", "--limit-price", "120", "--tif", "gtc", "--yes",
                          "--json"))
    assert placed["status"] == "pending_new"  # as Alpaca answers a new order
    [open_order] = as_json(kash("orders", "--status", "open", "--json"))
    assert open_order["id"] == placed["id"]
    assert "Cancel requested" in ok(kash("order", "cancel", placed["id"])).stdout
    assert as_json(kash("orders", "--json")) == []

    ok(kash("order", "submit", "--symbol", "AAPL", "--side", "buy", "--qty", "3", "--yes"))
    closing = as_json(kash("position", "close", "aapl", "--yes", "--json"))
    assert closing["side"] == "sell"
    assert as_json(kash("positions", "--json")) == []


def test_the_prompt_sends_only_on_yes(kash, fake_alpaca) -> None:  # noqa: ANN001
    line = refused(kash("order", "submit", "--symbol", "AAPL", "--side", "buy", "--qty", "1",
                        input="n\n"))
    assert line == ("kash: The order was not sent (not confirmed); add --yes to send without "
                    "the prompt.")
    assert _posts(fake_alpaca) == 0
    ok(kash("order", "submit", "--symbol", "AAPL", "--side", "buy", "--qty", "1", input="y\n"))
    assert _posts(fake_alpaca) == 1


def test_a_client_order_id_makes_a_script_retry_safe(kash, fake_alpaca) -> None:  # noqa: ANN001
    args = ("order", "submit", "--symbol", "AAPL", "--side", "buy", "--qty", "1", "--yes",
            "--client-order-id", "nightly-rebalance-1", "--json")
    first = as_json(kash(*args))
    second = as_json(kash(*args))
    assert first["id"] == second["id"]
    assert _posts(fake_alpaca) == 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--qty", "0"), "kash: --qty must be a number greater than zero, not '0'."),
        (("--qty", "ten"), "kash: --qty 'ten' is not a number; give one like 10 or 189.50."),
        (("--qty", "1", "--type", "limit"),
         "kash: The order was not sent: A limit order needs a limit price."),
        (("--notional", "500", "--tif", "gtc"),
         "kash: The order was not sent: Fractional and notional orders must be DAY orders."),
        (("--qty", "1", "--extended-hours"),
         "kash: The order was not sent: Extended-hours orders must be limit orders with time "
         "in force DAY."),
    ],
)
def test_bad_orders_are_refused_before_sending(kash, fake_alpaca, args, expected) -> None:  # noqa: ANN001
    line = refused(kash("order", "submit", "--symbol", "AAPL", "--side", "buy", *args, "--yes"))
    assert line == expected
    assert _posts(fake_alpaca) == 0


def test_crypto_rules_and_non_fractionable_assets(kash, fake_alpaca) -> None:  # noqa: ANN001
    line = refused(kash("order", "submit", "--symbol", "BTC/USD", "--side", "sell", "--qty",
                        "0.5", "--tif", "gtc", "--yes"))
    assert line == "kash: The order was not sent: Crypto cannot be sold short: you hold 0 BTC/USD; sell at most that."
    line = refused(kash("order", "submit", "--symbol", "BRK.A", "--side", "buy", "--notional",
                        "100", "--yes"))
    assert "BRK.A is not fractionable at Alpaca" in line
    assert _posts(fake_alpaca) == 0


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (403, "kash: Alpaca refused sending the order to buy 1 AAPL at market day (403): insufficient buying power."),
        (422, "kash: Alpaca rejected sending the order to buy 1 AAPL at market day (422)"),
        (401, "kash: Alpaca refused the API keys while sending the order"),
        ("hang", "kash: Alpaca did not answer in time while sending the order"),
    ],
)
def test_broker_faults_end_in_one_sentence(kash, fake_alpaca, kind, expected) -> None:  # noqa: ANN001
    message = "insufficient buying power" if kind == 403 else None
    fake_alpaca.fail("/v2/orders", kind, method="POST", message=message)
    line = refused(kash("order", "submit", "--symbol", "AAPL", "--side", "buy", "--qty", "1",
                        "--yes", "--json", env={"KASH_HTTP_TIMEOUT_SECONDS": "1"}))
    assert line.startswith(expected), line
    assert fake_alpaca.key_id not in line and fake_alpaca.secret_key not in line


def test_a_live_order_needs_confirm_live(run_kash, fake_alpaca, monkeypatch) -> None:  # noqa: ANN001
    connect_env(fake_alpaca, monkeypatch)
    ok(run_kash("connection", "add", "real", "--broker", "alpaca", "--live",
                "--trading-url", fake_alpaca.base_url, "--data-url", fake_alpaca.base_url))
    ok(run_kash("connection", "enable-live", "real", "--yes-i-understand"))
    ok(run_kash("portfolio", "create", "Main", "--workspace", "Demo", "--mode", "live",
                "--connection", "real"))
    fake_alpaca.set_price("AAPL", 150.0)
    order = ("order", "submit", "--symbol", "AAPL", "--side", "buy", "--qty", "1", "--yes")
    line = refused(run_kash(*order))
    assert line == ("kash: Portfolio 'Main' trades LIVE money; add --confirm-live (and --yes) "
                    "to send this order.")
    assert _posts(fake_alpaca) == 0
    result = ok(run_kash(*order, "--confirm-live"))
    assert "LIVE order: buy 1 AAPL at market day" in result.stdout
    assert _posts(fake_alpaca) == 1


def test_no_broker_portfolio_and_backtest_portfolios_are_explained(run_kash) -> None:  # noqa: ANN001
    line = refused(run_kash("account"))
    assert line.startswith("kash: There is no PAPER or LIVE portfolio yet; create one with")
    line = refused(run_kash("order", "submit", "--portfolio", "Demo backtest", "--symbol",
                            "DEMOA", "--side", "buy", "--qty", "1", "--yes"))
    assert "backtest portfolio cannot place" in line.lower() or "has no backtest runs" in line


def test_missing_keys_are_a_sentence_not_a_traceback(run_kash, fake_alpaca) -> None:  # noqa: ANN001
    ok(run_kash("connection", "add", "paper", "--broker", "alpaca", "--paper",
                "--trading-url", fake_alpaca.base_url))
    ok(run_kash("portfolio", "create", "Swing", "--workspace", "Demo", "--mode", "paper",
                "--connection", "paper"))
    line = refused(run_kash("account"))
    assert "reads its keys from $APCA_API_KEY_ID and $APCA_API_SECRET_KEY" in line


def test_secrets_are_nowhere_on_disk_after_failures(kash, fake_alpaca, tmp_path) -> None:  # noqa: ANN001
    """Config, database, log: after orders, rejections and a refused key, no file under the
    user's folders holds the key id or the secret."""
    ok(kash("order", "submit", "--symbol", "AAPL", "--side", "buy", "--qty", "1", "--yes"))
    fake_alpaca.fail("/v2/orders", 422, method="POST")
    refused(kash("order", "submit", "--symbol", "AAPL", "--side", "buy", "--qty", "1", "--yes"))
    fake_alpaca.fail("/v2/account", 401)
    refused(kash("account"))
    fake_alpaca.fail("/v2/account", "malformed")
    refused(kash("account"))
    logs = list(tmp_path.rglob("kash.log"))
    assert logs, "the failures above should have been logged"
    assert "broker call failed" in logs[0].read_text(encoding="utf-8")
    secrets = (fake_alpaca.key_id.encode(), fake_alpaca.secret_key.encode())
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in secrets:
                assert secret not in data, f"a key is in {path}"


def test_an_unknown_outcome_tells_how_to_retry_without_a_second_order(kash, fake_alpaca) -> None:  # noqa: ANN001
    import re

    fake_alpaca.fail("/v2/orders", "hang_after", method="POST")
    fake_alpaca.fail("/v2/orders:by_client_order_id", 500)
    order = ("order", "submit", "--symbol", "AAPL", "--side", "buy", "--qty", "1", "--yes")
    line = refused(kash(*order, env={"KASH_HTTP_TIMEOUT_SECONDS": "1"}))
    assert "It is not known whether Alpaca received the order" in line
    cid = re.search(r"--client-order-id (kash-[0-9a-f]+)\.$", line)
    assert cid, line
    assert len(fake_alpaca.orders) == 1
    retried = as_json(kash(*order, "--client-order-id", cid.group(1), "--json"))
    assert retried["id"] == fake_alpaca.orders[0]["id"]
    assert len(fake_alpaca.orders) == 1
