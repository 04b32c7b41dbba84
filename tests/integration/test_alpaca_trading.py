"""The Alpaca trading adapter against the fake Alpaca server, through the real alpaca-py.

Each test builds Kash on a real database with a paper connection pointed at the fake
(tests/broker_setup.py) and asks for the portfolio's adapter the way screens and the CLI do:
``kash.trading.resolve_trading_adapter(portfolio_id)``.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal as D

import pytest

from kash_tui.domains.connection import BrokerError
from kash_tui.domains.trading import (
    FeedState,
    LiveConfirmationRequired,
    OrderRequest,
    OrderRuleError,
    OrderSide,
    OrderType,
    TimeInForce,
    TradingError,
)
from tests.broker_setup import paper_kash


@pytest.fixture
def paper(sqlite_db_url, fake_alpaca, monkeypatch):  # noqa: ANN001, ANN201
    kash, folio = paper_kash(sqlite_db_url, fake_alpaca, monkeypatch)
    yield kash, folio, kash.trading.resolve_trading_adapter(folio.id)
    kash.close()


def buy(symbol: str = "AAPL", qty: str = "2", **kw) -> OrderRequest:  # noqa: ANN003
    return OrderRequest(symbol=symbol, side=OrderSide.BUY, qty=D(qty), **kw)


def posted_orders(fake) -> list:  # noqa: ANN001
    return [r for r in fake.requests if r.method == "POST" and r.path == "/v2/orders"]


def test_a_paper_portfolio_resolves_to_the_broker_account(paper, fake_alpaca) -> None:  # noqa: ANN001
    _kash, _folio, adapter = paper
    assert adapter.mode == "PAPER"
    assert adapter.capabilities.can_trade and not adapter.capabilities.live
    assert adapter.connection().rfqdn == "markets.alpaca.paper"
    account = adapter.get_account()
    assert account.cash == D(100000)
    assert account.equity == D(100000)
    assert account.buying_power > 0
    assert adapter.get_positions() == []
    assert adapter.get_orders("all") == []


def test_a_market_order_fills_and_shows_everywhere(paper, fake_alpaca) -> None:  # noqa: ANN001
    _kash, _folio, adapter = paper
    fake_alpaca.set_price("AAPL", 150.0)
    preview = adapter.preview_order(buy(qty="2"))
    assert preview.ok, preview.problems
    assert preview.reference_price == D("150")
    assert preview.estimated_cost == D("300")
    order = adapter.submit_order(preview.request)
    assert order.symbol == "AAPL" and order.client_order_id == preview.request.client_order_id

    [position] = adapter.get_positions()
    assert (position.symbol, position.qty) == ("AAPL", D(2))
    assert position.avg_entry_price == D(150)
    account = adapter.get_account()
    assert account.cash == D(100000) - D(300)
    [filled] = adapter.get_orders("closed")
    assert filled.id == order.id and filled.status == "filled"
    assert filled.filled_avg_price == D(150)
    [fill] = adapter.get_trades()
    assert (fill.symbol, fill.side, fill.qty, fill.price) == ("AAPL", OrderSide.BUY, D(2), D(150))
    assert fill.order_id == order.id


def test_a_limit_order_rests_and_can_be_cancelled(paper, fake_alpaca) -> None:  # noqa: ANN001
    _kash, _folio, adapter = paper
    fake_alpaca.set_price("AAPL", 150.0)
    order = adapter.submit_order(
        buy(qty="1", order_type=OrderType.LIMIT, limit_price=D("120.00"),
            time_in_force=TimeInForce.GTC)
    )
    [open_order] = adapter.get_orders("open")
    assert open_order.id == order.id
    assert open_order.limit_price == D("120.00")
    adapter.cancel_order(order.id)
    assert adapter.get_orders("open") == []
    with pytest.raises(TradingError, match="'nope' is not an Alpaca order id"):
        adapter.cancel_order("nope")


def test_closing_a_position_sells_it_all(paper, fake_alpaca) -> None:  # noqa: ANN001
    _kash, _folio, adapter = paper
    fake_alpaca.set_price("AAPL", 150.0)
    adapter.submit_order(buy(qty="3"))
    fake_alpaca.set_price("AAPL", 160.0)
    closing = adapter.close_position("aapl")
    assert closing.side is OrderSide.SELL
    assert adapter.get_positions() == []
    assert adapter.get_account().cash == D(100000) + D(30)
    with pytest.raises(TradingError, match="There is no open position in AAPL"):
        adapter.close_position("AAPL")


def test_rule_problems_stop_the_order_before_it_is_sent(paper, fake_alpaca) -> None:  # noqa: ANN001
    _kash, _folio, adapter = paper
    request = OrderRequest(symbol="BRK.A", side=OrderSide.BUY, notional=D(500))
    preview = adapter.preview_order(request)
    assert not preview.ok
    assert "not fractionable" in preview.problems[0]
    with pytest.raises(OrderRuleError, match="not fractionable"):
        adapter.submit_order(request)
    assert posted_orders(fake_alpaca) == []


def test_the_same_ticket_is_never_sent_twice(paper, fake_alpaca) -> None:  # noqa: ANN001
    kash, _folio, adapter = paper
    fake_alpaca.set_price("AAPL", 100.0)
    request = buy(qty="1")
    first = adapter.submit_order(request)
    again = adapter.submit_order(request)  # e.g. the user pressed confirm twice
    assert again.id == first.id
    assert len(posted_orders(fake_alpaca)) == 1
    assert len(fake_alpaca.orders) == 1
    # a second adapter (another process, after a crash) knows it too, from the journal
    other = kash.trading.resolve_trading_adapter(_folio.id)
    assert other.submit_order(request).id == first.id
    assert len(posted_orders(fake_alpaca)) == 1


def test_a_timeout_on_submit_asks_the_broker_instead_of_resending(paper, fake_alpaca) -> None:  # noqa: ANN001
    _kash, _folio, adapter = paper
    fake_alpaca.set_price("AAPL", 100.0)
    fake_alpaca.fail("/v2/orders", "hang", method="POST")
    request = buy(qty="1")
    started = time.monotonic()
    with pytest.raises(BrokerError) as caught:
        adapter.submit_order(request)
    assert time.monotonic() - started < 10  # the 2 s timeout, not forever
    message = str(caught.value)
    assert "did not answer in time" in message
    assert "Kash did not resend it" in message or "nothing was placed" in message
    # sending the same ticket again never produces a second order
    fake_alpaca.set_price("AAPL", 100.0)
    adapter.submit_order(request)
    assert len([o for o in fake_alpaca.orders if o["client_order_id"] == request.client_order_id]) == 1


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (401, "Alpaca refused the API keys while sending the order"),
        (403, "Alpaca refused sending the order to buy 1 AAPL at market day (403)"),
        (422, "Alpaca rejected sending the order to buy 1 AAPL at market day (422)"),
        (500, "Alpaca had a server error while sending the order"),
    ],
)
def test_broker_faults_on_submit_are_one_sentence(paper, fake_alpaca, kind, expected) -> None:  # noqa: ANN001
    _kash, _folio, adapter = paper
    fake_alpaca.set_price("AAPL", 100.0)
    fake_alpaca.fail("/v2/orders", kind, method="POST")
    with pytest.raises(BrokerError) as caught:
        adapter.submit_order(buy(qty="1"))
    text = str(caught.value)
    assert text.startswith(expected), text
    assert "\n" not in text and "Traceback" not in text
    assert fake_alpaca.key_id not in text and fake_alpaca.secret_key not in text


@pytest.mark.parametrize("kind", ["malformed", "missing_field", "hang_after"])
def test_an_unreadable_reply_to_an_order_is_resolved_by_asking_the_broker(paper, fake_alpaca, kind) -> None:  # noqa: ANN001
    """The order was placed but its reply was lost or garbled: Kash finds it by client id."""
    _kash, _folio, adapter = paper
    fake_alpaca.set_price("AAPL", 100.0)
    fake_alpaca.fail("/v2/orders", kind, method="POST")
    request = buy(qty="1")
    order = adapter.submit_order(request)
    assert order.client_order_id == request.client_order_id
    assert order.id == fake_alpaca.orders[0]["id"]
    assert len(fake_alpaca.orders) == 1
    assert adapter.submit_order(request).id == order.id  # and a resend stays one order
    assert len(posted_orders(fake_alpaca)) == 1


def test_the_brokers_own_rejection_message_is_shown(paper, fake_alpaca) -> None:  # noqa: ANN001
    _kash, _folio, adapter = paper
    fake_alpaca.set_price("AAPL", 100.0)
    fake_alpaca.fail("/v2/orders", 403, method="POST",
                     message="trade denied due to pattern day trading protection")
    with pytest.raises(BrokerError, match="pattern day trading protection") as caught:
        adapter.submit_order(buy(qty="1"))
    assert caught.value.kind == "forbidden"


def test_429_backs_off_and_then_succeeds(paper, fake_alpaca) -> None:  # noqa: ANN001
    _kash, _folio, adapter = paper
    fake_alpaca.fail("/v2/account", 429, times=2)
    account = adapter.get_account()
    assert account.cash == D(100000)
    hits = [r.status for r in fake_alpaca.requests if r.path == "/v2/account"]
    assert hits == [429, 429, 200]


def test_reading_faults_are_sentences_and_nothing_is_written(paper, fake_alpaca) -> None:  # noqa: ANN001
    _kash, _folio, adapter = paper
    fake_alpaca.fail("/v2/positions", "hang")
    with pytest.raises(BrokerError, match="did not answer in time while loading positions"):
        adapter.get_positions()
    fake_alpaca.fail("/v2/account", "missing_field")
    with pytest.raises(BrokerError, match="could not read while loading the account"):
        adapter.get_account()
    fake_alpaca.fail("/v2/account", 401)
    with pytest.raises(BrokerError, match="refused the API keys"):
        adapter.get_account()


def test_a_live_portfolio_needs_the_opt_in_and_a_confirmation(sqlite_db_url, fake_alpaca, monkeypatch) -> None:  # noqa: ANN001
    from kash_tui.domains.connection import Environment, NewConnection
    from kash_tui.domains.workspace import PortfolioMode

    kash, _paper = paper_kash(sqlite_db_url, fake_alpaca, monkeypatch)
    kash.connection.add(NewConnection(
        name="live", environment=Environment.LIVE, trading_url=fake_alpaca.base_url,
        data_url=fake_alpaca.base_url,
    ))
    kash.connection.enable_live("live", "live")
    folio = kash.workspace.create_portfolio("Demo", "Real", PortfolioMode.LIVE, connection="live")
    adapter = kash.trading.resolve_trading_adapter(folio.id)
    assert adapter.mode == "LIVE" and adapter.capabilities.live
    fake_alpaca.set_price("AAPL", 100.0)
    preview = adapter.preview_order(buy(qty="1"))
    assert preview.live and "This is a LIVE order: it trades real money." in preview.warnings
    with pytest.raises(LiveConfirmationRequired, match="LIVE order"):
        adapter.submit_order(preview.request)
    assert posted_orders(fake_alpaca) == []
    assert adapter.submit_order(preview.request, confirm_live=True).symbol == "AAPL"
    # turning the opt-in off stops the adapter from being built at all
    kash.connection.disable_live("live")
    with pytest.raises(BrokerError, match="Live trading is off"):
        kash.trading.resolve_trading_adapter(folio.id)
    kash.close()


def test_secrets_never_reach_the_database_or_the_log(paper, fake_alpaca, sqlite_db_url, isolated_env) -> None:  # noqa: ANN001
    from pathlib import Path

    from kash_tui.logs import RedactSecrets

    _kash, _folio, adapter = paper
    fake_alpaca.set_price("AAPL", 100.0)
    adapter.submit_order(buy(qty="1"))
    fake_alpaca.fail("/v2/orders", 422, method="POST")
    with pytest.raises(BrokerError):
        adapter.submit_order(buy(qty="1"))
    db_file = Path(sqlite_db_url.removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
    assert fake_alpaca.key_id.encode() not in raw
    assert fake_alpaca.secret_key.encode() not in raw
    # the log filter removes the keys whatever a library logs
    import logging

    record = logging.LogRecord("alpaca", logging.ERROR, __file__, 1,
                               "auth with %s failed", (fake_alpaca.secret_key,), None)
    RedactSecrets().filter(record)
    assert fake_alpaca.secret_key not in record.getMessage()


def test_watch_account_streams_fills_and_survives_a_dropped_stream(paper, fake_alpaca) -> None:  # noqa: ANN001
    kash, folio, adapter = paper
    fake_alpaca.set_price("AAPL", 100.0)
    snapshots, statuses = [], []
    changed = threading.Event()

    def on_snapshot(snap) -> None:  # noqa: ANN001
        snapshots.append(snap)
        changed.set()

    watch = kash.trading.watch_account(folio.id, on_snapshot, statuses.append, poll_interval=30)
    try:
        _wait(lambda: watch.status.state is FeedState.STREAMING, "stream connected")
        # an order placed behind Kash's back (another device) arrives through the stream
        other = kash.trading.resolve_trading_adapter(folio.id)
        other.submit_order(buy(qty="4"))
        _wait(lambda: snapshots and snapshots[-1].positions and
              snapshots[-1].positions[0].qty == D(4), "position from the stream")
        connects = fake_alpaca.stream_connects["/stream"]
        fake_alpaca.drop_streams()
        _wait(lambda: fake_alpaca.stream_connects["/stream"] > connects, "reconnect")
        _wait(lambda: watch.status.state is FeedState.STREAMING, "streaming again")
        assert any(s.state is FeedState.RECONNECTING for s in statuses)
        other.submit_order(buy(qty="1"))
        _wait(lambda: snapshots[-1].positions and snapshots[-1].positions[0].qty == D(5),
              "position after the reconnect")
    finally:
        watch.stop()
    assert watch.status.state is FeedState.STOPPED
    assert statuses[-1].state is FeedState.STOPPED  # nothing after STOPPED
    assert watch.join(15)
    assert not [t for t in threading.enumerate() if t.name.startswith(("kash-account", "kash-trade"))]


def test_watch_account_polls_when_streaming_is_off(sqlite_db_url, fake_alpaca, monkeypatch) -> None:  # noqa: ANN001
    kash, folio = paper_kash(sqlite_db_url, fake_alpaca, monkeypatch, stream_account_updates=False,
                             poll_interval_seconds=1.0)
    fake_alpaca.set_price("AAPL", 100.0)
    snapshots, statuses = [], []
    watch = kash.trading.watch_account(folio.id, snapshots.append, statuses.append)
    try:
        _wait(lambda: watch.status.state is FeedState.POLLING, "polling")
        kash.trading.resolve_trading_adapter(folio.id).submit_order(buy(qty="2"))
        _wait(lambda: snapshots[-1].positions, "position by polling")
        fake_alpaca.fail("/v2/account", 500, times=1)
        _wait(lambda: watch.status.state is FeedState.DOWN, "down after a 500")
        assert "server error" in watch.status.message
        _wait(lambda: watch.status.state is FeedState.POLLING, "recovered")
    finally:
        watch.stop()
    assert watch.join(15)
    assert fake_alpaca.stream_connects.get("/stream", 0) == 0
    kash.close()


def _wait(condition, what: str, timeout: float = 15.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except IndexError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {what}")


def test_an_unknown_outcome_names_the_ticket_and_a_resend_stays_one_order(paper, fake_alpaca) -> None:  # noqa: ANN001
    """The order is placed but its reply is lost and the follow-up question fails too."""
    kash, _folio, adapter = paper
    fake_alpaca.set_price("AAPL", 100.0)
    fake_alpaca.fail("/v2/orders", "hang_after", method="POST")
    fake_alpaca.fail("/v2/orders:by_client_order_id", 500)
    request = buy(qty="1")
    with pytest.raises(BrokerError) as caught:
        adapter.submit_order(request)
    assert f"client order id {request.client_order_id}" in str(caught.value)
    assert "Kash did not resend it" in str(caught.value)
    assert len(fake_alpaca.orders) == 1
    again = adapter.submit_order(request)
    assert again.id == fake_alpaca.orders[0]["id"]
    assert len(fake_alpaca.orders) == 1
    assert len(posted_orders(fake_alpaca)) == 1


def test_two_submits_of_one_ticket_at_once_place_one_order(paper, fake_alpaca) -> None:  # noqa: ANN001
    kash, folio, _adapter = paper
    fake_alpaca.set_price("AAPL", 100.0)
    request = buy(qty="1")
    adapters = [kash.trading.resolve_trading_adapter(folio.id) for _ in range(3)]
    results, errors = [], []

    def send(adapter) -> None:  # noqa: ANN001
        try:
            results.append(adapter.submit_order(request).id)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(a,)) for a in adapters]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(fake_alpaca.orders) == 1
    assert all(isinstance(e, BrokerError) for e in errors), errors
    assert set(results) <= {fake_alpaca.orders[0]["id"]} and results


def test_an_order_that_arrives_late_is_recognised_on_the_resend(paper, fake_alpaca) -> None:  # noqa: ANN001
    _kash, _folio, adapter = paper
    fake_alpaca.set_price("AAPL", 100.0)
    request = buy(qty="1")
    fake_alpaca.fail("/v2/orders", "hang", method="POST")
    with pytest.raises(BrokerError):
        adapter.submit_order(request)
    # meanwhile the order reaches Alpaca after all (e.g. through a slow proxy)
    import requests

    requests.post(f"{fake_alpaca.base_url}/v2/orders", json={
        "symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "qty": "1",
        "client_order_id": request.client_order_id,
    }, headers={"APCA-API-KEY-ID": fake_alpaca.key_id,
                "APCA-API-SECRET-KEY": fake_alpaca.secret_key}, timeout=5)
    assert adapter.submit_order(request).client_order_id == request.client_order_id
    assert len(fake_alpaca.orders) == 1


def test_a_client_order_id_cannot_be_reused_for_another_order(paper, fake_alpaca) -> None:  # noqa: ANN001
    from dataclasses import replace

    _kash, _folio, adapter = paper
    fake_alpaca.set_price("AAPL", 100.0)
    first = buy(qty="1", client_order_id="mine-1")
    adapter.submit_order(first)
    with pytest.raises(TradingError, match="client order id mine-1 was already used for another order"):
        adapter.submit_order(replace(first, side=OrderSide.SELL))
    assert len(fake_alpaca.orders) == 1


def test_quantities_go_to_the_broker_exactly_as_typed(paper, fake_alpaca) -> None:  # noqa: ANN001
    _kash, _folio, adapter = paper
    request = OrderRequest(symbol="BTC/USD", side=OrderSide.BUY, qty=D("0.000150001"),
                           time_in_force=TimeInForce.GTC)
    adapter.submit_order(request)
    [post] = posted_orders(fake_alpaca)
    assert post.json["qty"] == "0.000150001"


def test_stopping_a_watch_from_its_own_callback_is_prompt_and_final(paper, fake_alpaca) -> None:  # noqa: ANN001
    kash, folio, _adapter = paper
    statuses: list = []
    holder: dict = {}
    ready = threading.Event()

    def on_snapshot(_snap) -> None:  # noqa: ANN001
        ready.wait(5)
        holder["watch"].stop()

    started = time.monotonic()
    holder["watch"] = watch = kash.trading.watch_account(folio.id, on_snapshot, statuses.append)
    ready.set()
    assert watch.join(15)
    assert time.monotonic() - started < 10
    assert statuses[-1].state is FeedState.STOPPED
    assert not [t for t in threading.enumerate() if t.name.startswith(("kash-account", "kash-trade"))]


def test_a_ticket_left_sending_by_a_crash_is_resolved_with_the_broker(paper, fake_alpaca) -> None:  # noqa: ANN001
    """Kash stopped between writing the journal and hearing Alpaca: the next try asks Alpaca
    by the client order id; absent -> it is sent (once), present -> it is adopted."""
    kash, folio, adapter = paper
    fake_alpaca.set_price("AAPL", 100.0)
    never_left = buy(qty="1")
    assert adapter._journal_claim(never_left)  # noqa: SLF001 - the state a crash leaves
    again = kash.trading.resolve_trading_adapter(folio.id)  # the next process
    order = again.submit_order(never_left)
    assert order.client_order_id == never_left.client_order_id
    assert [o["client_order_id"] for o in fake_alpaca.orders] == [never_left.client_order_id]

    arrived = buy(qty="3")
    assert adapter._journal_claim(arrived)  # noqa: SLF001
    import requests

    requests.post(f"{fake_alpaca.base_url}/v2/orders", json={  # it reached Alpaca, then the crash
        "symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "qty": "3",
        "client_order_id": arrived.client_order_id,
    }, headers={"APCA-API-KEY-ID": fake_alpaca.key_id,
                "APCA-API-SECRET-KEY": fake_alpaca.secret_key}, timeout=5)
    adopted = again.submit_order(arrived)
    assert adopted.client_order_id == arrived.client_order_id and adopted.qty == D(3)
    assert len([o for o in fake_alpaca.orders if o["client_order_id"] == arrived.client_order_id]) == 1
    assert len(fake_alpaca.orders) == 2


def test_every_fill_is_read_past_the_old_cap_and_a_limit_reads_only_the_newest(paper, fake_alpaca) -> None:  # noqa: ANN001
    """Fills used to stop silently at 2,000 (20 pages of 100)."""
    _kash, _folio, adapter = paper
    fake_alpaca.add_fills(2_345, "MSFT", price=420)
    trades = adapter.get_trades()
    assert len(trades) == 2_345
    assert len({t.id for t in trades}) == 2_345
    assert trades[0].time > trades[-1].time  # newest first
    fake_alpaca.clear_requests()
    newest = adapter.get_trades(limit=51)  # what `kash fills` asks to show 50 and know of more
    assert [t.id for t in newest] == [t.id for t in trades[:51]]
    assert len([r for r in fake_alpaca.requests if "activities" in r.path]) == 1


def test_a_quantity_alpaca_cannot_take_is_a_problem_before_anything_is_sent(paper, fake_alpaca) -> None:  # noqa: ANN001
    """1e-30 used to pass the preview (and reach the broker as "0"); 1e400 printed a
    400-digit cost. The crypto pair's steps come from Alpaca's asset."""
    _kash, _folio, adapter = paper
    tiny = adapter.preview_order(buy(qty="1e-30"))
    assert any("more than 9 decimals" in p for p in tiny.problems), tiny.problems
    huge = adapter.preview_order(buy(qty="1e400"))
    assert huge.estimated_cost is None
    assert any("typing mistake" in p for p in huge.problems)
    dust = OrderRequest(symbol="BTC/USD", side=OrderSide.BUY, qty=D("0.00005"),
                        time_in_force=TimeInForce.GTC)
    assert adapter.get_asset("BTC/USD").min_order_size == D("0.0001")
    with pytest.raises(OrderRuleError, match="smallest BTC/USD order is 0.0001"):
        adapter.submit_order(dust)
    assert posted_orders(fake_alpaca) == []


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_broker_that_cannot_be_reached_is_down_at_once_and_stays_down(sqlite_db_url, monkeypatch) -> None:  # noqa: ANN001
    """A closed port: the first status says so, and stream reconnect attempts never turn it
    back into a bare "connecting" while no snapshot has come."""
    from kash_tui.config import Settings
    from kash_tui.domains.connection import NewConnection
    from kash_tui.domains.workspace import PortfolioMode
    from kash_tui.provider import ServiceProvider

    monkeypatch.setenv("APCA_API_KEY_ID", "made-up-key-id-for-test")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "made-up-secret-for-test")
    nowhere = f"http://127.0.0.1:{_closed_port()}"
    kash = ServiceProvider(Settings(database_url=sqlite_db_url, http_timeout_seconds=2.0))
    kash.prepare()
    kash.connection.add(NewConnection("local", trading_url=nowhere, data_url=nowhere))
    folio = kash.workspace.create_portfolio("Demo", "P", PortfolioMode.PAPER, connection="local")
    adapter = kash.trading.resolve_trading_adapter(folio.id)
    with pytest.raises(BrokerError) as caught:
        adapter.get_account()
    assert caught.value.kind == "unreachable" and not caught.value.outcome_unknown
    assert "cannot be reached at 127.0.0.1:" in str(caught.value)
    assert "connection refused" in str(caught.value)

    statuses: list = []
    watch = kash.trading.watch_account(folio.id, lambda _s: None, statuses.append)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
            s.state is FeedState.DOWN for s in statuses
        ):
            time.sleep(0.05)
        first_down = next(i for i, s in enumerate(statuses) if s.state is FeedState.DOWN)
        time.sleep(4)  # the account stream tries to reconnect meanwhile (1 s, 2 s, ...)
        after = statuses[first_down:]
        assert all(s.state is FeedState.DOWN and "cannot be reached" in s.message
                   for s in after), [(s.state, s.message[:30]) for s in after]
    finally:
        watch.stop()
        watch.join(10)
        kash.close()
