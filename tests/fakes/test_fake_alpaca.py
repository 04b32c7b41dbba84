"""The fake Alpaca, exercised only through the real alpaca-py clients (and a raw WebSocket)."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.historical.crypto import CryptoHistoricalDataClient
from alpaca.data.historical.option import OptionHistoricalDataClient
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.live.crypto import CryptoDataStream
from alpaca.data.live.stock import StockDataStream
from alpaca.data.models import Bar
from alpaca.data.requests import (
    CryptoBarsRequest,
    OptionBarsRequest,
    OptionChainRequest,
    StockBarsRequest,
    StockLatestQuoteRequest,
    StockSnapshotRequest,
)
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import (
    OrderSide,
    OrderStatus,
    QueryOrderStatus,
    TimeInForce,
)
from alpaca.trading.models import TradeActivity, TradeUpdate
from alpaca.trading.requests import (
    GetOptionContractsRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    StopOrderRequest,
)
from alpaca.trading.stream import TradingStream
from pydantic import ValidationError
from websockets.sync.client import connect as ws_connect

from tests.fakes.alpaca import FakeAlpaca

START = datetime(2025, 1, 2, tzinfo=UTC)


@pytest.fixture
def fake(fake_alpaca: FakeAlpaca) -> FakeAlpaca:
    return fake_alpaca


@pytest.fixture
def trading(fake: FakeAlpaca) -> TradingClient:
    client = TradingClient(fake.key_id, fake.secret_key, paper=True, url_override=fake.base_url)
    client._retry_wait = 0  # noqa: SLF001  (429 retries without sleeping)
    return client


@pytest.fixture
def stocks(fake: FakeAlpaca) -> StockHistoricalDataClient:
    return StockHistoricalDataClient(fake.key_id, fake.secret_key, url_override=fake.base_url)


def _with_timeout(client: Any, seconds: float) -> None:
    client._session.request = functools.partial(client._session.request, timeout=seconds)  # noqa: SLF001


def _market(symbol: str = "AAPL", qty: float = 10, side: OrderSide = OrderSide.BUY, **kw: Any) -> MarketOrderRequest:
    return MarketOrderRequest(symbol=symbol, qty=qty, side=side, time_in_force=TimeInForce.DAY, **kw)


# ---------------------------------------------------------------------------------------------
# trading
# ---------------------------------------------------------------------------------------------


def test_market_order_round_trip(fake: FakeAlpaca, trading: TradingClient) -> None:
    account = trading.get_account()
    assert account.cash == "100000" and account.buying_power == "200000"
    assert account.pattern_day_trader is None  # dropped by Alpaca in 2026

    ack = trading.submit_order(_market(client_order_id="mine-1"))
    assert ack.status is OrderStatus.PENDING_NEW and ack.filled_qty == "0"

    order = trading.get_order_by_id(ack.id)
    assert order.status is OrderStatus.FILLED
    assert order.filled_qty == "10" and order.filled_avg_price == "190"
    assert trading.get_order_by_client_id("mine-1").id == ack.id

    (position,) = trading.get_all_positions()
    assert (position.symbol, position.qty, position.avg_entry_price) == ("AAPL", "10", "190")
    fake.set_price("AAPL", "200")
    position = trading.get_open_position("AAPL")
    assert position.market_value == "2000" and position.unrealized_pl == "100"

    account = trading.get_account()
    assert account.cash == "98100"
    assert account.equity == "100100" and account.long_market_value == "2000"

    closing = trading.close_position("AAPL")
    assert closing.side is OrderSide.SELL and closing.qty == "10"
    assert trading.get_all_positions() == []
    assert trading.get_account().cash == "100100"

    assert [u["event"] for u in fake.trade_updates] == ["new", "fill", "new", "fill"]
    closed = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.CLOSED))
    assert {o.id for o in closed} == {ack.id, closing.id}
    assert trading.get_orders() == []  # default: open orders


def test_limit_order_rests_fills_on_price_and_cancels(fake: FakeAlpaca, trading: TradingClient) -> None:
    resting = trading.submit_order(
        LimitOrderRequest(symbol="MSFT", qty=5, side=OrderSide.BUY, time_in_force=TimeInForce.GTC,
                          limit_price=400)
    )
    assert trading.get_order_by_id(resting.id).status is OrderStatus.NEW
    (open_order,) = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, symbols=["MSFT"]))
    assert open_order.limit_price == "400"
    # an open buy holds buying power back
    assert trading.get_account().buying_power == str(200000 - 5 * 400)

    trading.cancel_order_by_id(resting.id)
    assert trading.get_order_by_id(resting.id).status is OrderStatus.CANCELED
    with pytest.raises(APIError) as err:
        trading.cancel_order_by_id(resting.id)
    assert err.value.status_code == 422 and "canceled" in err.value.message

    # replaced, then filled when the price comes down to it
    second = trading.submit_order(
        LimitOrderRequest(symbol="MSFT", qty=5, side=OrderSide.BUY, time_in_force=TimeInForce.DAY,
                          limit_price=400)
    )
    replacement = trading.replace_order_by_id(second.id, ReplaceOrderRequest(limit_price=410))
    assert trading.get_order_by_id(second.id).status is OrderStatus.REPLACED
    fake.set_price("MSFT", "409.50")
    filled = trading.get_order_by_id(replacement.id)
    assert filled.status is OrderStatus.FILLED and filled.filled_avg_price == "409.5"

    stop = trading.submit_order(
        StopOrderRequest(symbol="MSFT", qty=5, side=OrderSide.SELL, time_in_force=TimeInForce.DAY,
                         stop_price=380)
    )
    assert trading.cancel_orders()[0].id == stop.id
    assert [u["event"] for u in fake.trade_updates] == [
        "new", "canceled", "new", "replaced", "new", "fill", "new", "canceled"]


def test_partial_fill_and_closed_market(fake: FakeAlpaca, trading: TradingClient) -> None:
    fake.auto_fill_market = False
    order = trading.submit_order(_market("SPY", 10))
    fake.fill_order(str(order.id), qty=4, price="500")
    got = trading.get_order_by_id(order.id)
    assert got.status is OrderStatus.PARTIALLY_FILLED and got.filled_qty == "4"
    fake.fill_order(str(order.id))
    assert trading.get_order_by_id(order.id).status is OrderStatus.FILLED
    assert [u["event"] for u in fake.trade_updates] == ["new", "partial_fill", "fill"]

    fake.auto_fill_market = True
    fake.set_clock(is_open=False)
    assert trading.get_clock().is_open is False
    waiting = trading.submit_order(_market("SPY", 1))
    assert trading.get_order_by_id(waiting.id).status is OrderStatus.ACCEPTED
    crypto = trading.submit_order(
        MarketOrderRequest(symbol="BTC/USD", notional=600, side=OrderSide.BUY, time_in_force=TimeInForce.GTC)
    )
    assert trading.get_order_by_id(crypto.id).status is OrderStatus.FILLED  # crypto trades 24/7
    fake.set_clock(is_open=True)
    assert trading.get_order_by_id(waiting.id).status is OrderStatus.FILLED
    btc = trading.get_open_position("BTC/USD")
    assert btc.symbol == "BTCUSD" and btc.qty == "0.01"


def test_trailing_stop_and_stop_limit_follow_the_price(fake: FakeAlpaca, trading: TradingClient) -> None:
    trading.submit_order(_market(qty=10))
    trail = trading.post("/orders", {"symbol": "AAPL", "qty": "4", "side": "sell",
                                     "type": "trailing_stop", "trail_price": "5",
                                     "time_in_force": "gtc"})
    assert trail["stop_price"] == "185" and trail["hwm"] == "190"
    fake.set_price("AAPL", "200")  # the high-water mark rises, the stop follows
    assert trading.get_order_by_id(trail["id"]).stop_price == "195"
    fake.set_price("AAPL", "196")
    assert trading.get_order_by_id(trail["id"]).status is OrderStatus.NEW
    stop_limit = trading.post("/orders", {"symbol": "AAPL", "qty": "6", "side": "sell",
                                          "type": "stop_limit", "stop_price": "194",
                                          "limit_price": "193", "time_in_force": "day"})
    fake.set_price("AAPL", "194.50")
    assert trading.get_order_by_id(trail["id"]).filled_avg_price == "194.5"
    assert trading.get_order_by_id(stop_limit["id"]).status is OrderStatus.NEW
    fake.set_price("AAPL", "193.90")  # stop hit: now a limit at 193, marketable
    assert trading.get_order_by_id(stop_limit["id"]).status is OrderStatus.FILLED
    assert trading.get_all_positions() == []


def test_unknown_endpoint_is_404_json(trading: TradingClient) -> None:
    with pytest.raises(APIError) as err:
        trading.get("/watchlists")
    assert err.value.status_code == 404 and err.value.code == 40410000


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"symbol": "AAPL", "qty": "1", "notional": "100", "side": "buy", "type": "market",
          "time_in_force": "day"}, 422, "only one of qty or notional"),
        ({"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day"}, 422,
         "qty or notional is required"),
        ({"symbol": "BRK.A", "notional": "100", "side": "buy", "type": "market",
          "time_in_force": "day"}, 422, "not fractionable"),
        ({"symbol": "BRK.A", "qty": "0.5", "side": "buy", "type": "market",
          "time_in_force": "day"}, 422, "qty must be integer"),
        ({"symbol": "BRK.A", "qty": "1", "side": "buy", "type": "market",
          "time_in_force": "day"}, 403, "insufficient buying power"),
        ({"symbol": "BTC/USD", "qty": "0.1", "side": "buy", "type": "market",
          "time_in_force": "day"}, 422, "invalid crypto time_in_force"),
        ({"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day",
          "extended_hours": True}, 422, "extended hours order must be DAY limit orders"),
        ({"symbol": "AAPL", "qty": "1", "side": "sell", "type": "limit", "limit_price": "190.001",
          "time_in_force": "day"}, 422, "sub-penny"),
        ({"symbol": "ETH/USD", "qty": "1", "side": "sell", "type": "market",
          "time_in_force": "gtc"}, 403, "insufficient balance for ETH"),
        ({"symbol": "NOPE", "qty": "1", "side": "buy", "type": "market",
          "time_in_force": "day"}, 422, "not found"),
    ],
)
def test_order_rules(trading: TradingClient, body: dict[str, Any], status: int, needle: str) -> None:
    with pytest.raises(APIError) as err:
        trading.post("/orders", body)
    assert err.value.status_code == status
    assert needle in err.value.message
    assert err.value.code == (40310000 if status == 403 else err.value.code)


def test_duplicate_client_order_id_and_insufficient_qty(fake: FakeAlpaca, trading: TradingClient) -> None:
    trading.submit_order(_market(qty=3, client_order_id="dup"))
    with pytest.raises(APIError) as err:
        trading.submit_order(_market(qty=1, client_order_id="dup"))
    assert (err.value.status_code, err.value.message) == (422, "client_order_id must be unique")
    with pytest.raises(APIError) as err:
        trading.submit_order(_market(qty=5, side=OrderSide.SELL))
    assert err.value.status_code == 403
    assert err.value.message == "insufficient qty available for order (requested: 5, available: 3)"
    assert len(fake.orders) == 1


def test_fill_activities_paginate(fake: FakeAlpaca, trading: TradingClient) -> None:
    for qty in (1, 2, 3):
        trading.submit_order(_market(qty=qty))
    first = trading.get("/account/activities/FILL", {"page_size": 2})
    assert [a["qty"] for a in first] == ["3", "2"]  # newest first
    rest = trading.get("/account/activities", {"activity_types": "FILL", "page_size": 2,
                                               "page_token": first[-1]["id"]})
    assert [a["qty"] for a in rest] == ["1"]
    parsed = TradeActivity(**rest[0])
    assert parsed.type.value == "fill" and parsed.symbol == "AAPL" and parsed.cum_qty == 1
    assert set(rest[0]) >= {"id", "activity_type", "transaction_time", "type", "price", "qty",
                            "side", "symbol", "leaves_qty", "order_id", "cum_qty", "order_status"}


def test_assets_and_option_contracts(fake: FakeAlpaca, trading: TradingClient) -> None:
    symbols = {a.symbol for a in trading.get_all_assets()}
    assert {"AAPL", "MSFT", "SPY", "BRK.A"} <= symbols and "BTC/USD" not in symbols
    assert trading.get_asset("BRK.A").fractionable is False
    with pytest.raises(APIError) as err:
        trading.get_asset("ZZZZ")
    assert err.value.status_code == 404

    fake.set_clock(now=datetime(2026, 12, 1, 15, 0, tzinfo=UTC))  # a Tuesday
    near, far = date(2026, 12, 4), date(2027, 6, 18)
    fake.generate_option_chain("AAPL", [near, far], [180, 190, 200])
    fake.add_option_contract("AAPL261218C00190000", underlying="AAPL", expiration=date(2026, 12, 18),
                             strike=190, type="call", bid="10.10", ask="10.40", last="10.25",
                             iv=0.28, delta=0.52, gamma=0.02, theta=-0.05, vega=0.3, rho=0.1)
    default = trading.get_option_contracts(GetOptionContractsRequest(underlying_symbols=["AAPL"]))
    # no expiration filter: Alpaca only lists contracts expiring by the coming weekend
    assert {c.expiration_date for c in default.option_contracts} == {near}
    assert len(default.option_contracts) == 6
    page = trading.get_option_contracts(GetOptionContractsRequest(
        underlying_symbols=["AAPL"], expiration_date_gte=far, type="call", limit=2))
    assert len(page.option_contracts) == 2 and page.next_page_token
    assert page.option_contracts[0].strike_price == 180.0
    rest = trading.get_option_contracts(GetOptionContractsRequest(
        underlying_symbols=["AAPL"], expiration_date_gte=far, type="call", limit=2,
        page_token=page.next_page_token))
    assert [c.strike_price for c in rest.option_contracts] == [200.0] and rest.next_page_token is None


def test_option_chain_and_bars(fake: FakeAlpaca) -> None:
    occ = "AAPL261218C00190000"
    fake.add_option_contract(occ, underlying="AAPL", expiration=date(2026, 12, 18), strike=190,
                             type="call", bid="10.10", ask="10.40", last="10.25", iv=0.28,
                             delta=0.52, gamma=0.02, theta=-0.05, vega=0.3, rho=0.1)
    fake.generate_option_chain("AAPL", [date(2027, 1, 15)], [170, 210])
    fake.generate_bars(occ, "1Day", start=START, count=20, start_price=10)
    client = OptionHistoricalDataClient(fake.key_id, fake.secret_key, url_override=fake.base_url)
    chain = client.get_option_chain(OptionChainRequest(underlying_symbol="AAPL"))
    assert len(chain) == 5
    snap = chain[occ]
    assert snap.latest_quote.bid_price == 10.10 and snap.latest_quote.ask_price == 10.40
    assert snap.latest_trade.price == 10.25 and snap.implied_volatility == 0.28
    assert snap.greeks.delta == 0.52 and snap.greeks.theta == -0.05
    calls = client.get_option_chain(OptionChainRequest(
        underlying_symbol="AAPL", type="call", strike_price_gte=200))
    assert list(calls) == ["AAPL270115C00210000"]
    bars = client.get_option_bars(OptionBarsRequest(symbol_or_symbols=occ, timeframe=TimeFrame.Day,
                                                    start=START))
    assert len(bars[occ]) == 20


# ---------------------------------------------------------------------------------------------
# market data
# ---------------------------------------------------------------------------------------------


def test_stock_bars_paginate(fake: FakeAlpaca, stocks: StockHistoricalDataClient) -> None:
    fake.clear_bars()  # drop the seeded daily bars
    fake.bars_page_cap = 100
    made = fake.generate_bars("AAPL", "1Day", start=START, count=250, seed=3)
    fake.generate_bars("MSFT", "1Day", start=START, count=30, seed=3)
    barset = stocks.get_stock_bars(StockBarsRequest(
        symbol_or_symbols=["AAPL", "MSFT"], timeframe=TimeFrame.Day, start=START,
        end=START + timedelta(days=400)))
    calls = [r for r in fake.requests if r.path == "/v2/stocks/bars"]
    assert len(calls) == 3
    assert calls[0].query["timeframe"] == "1Day" and calls[0].query["symbols"] == "AAPL,MSFT"
    assert len(barset["AAPL"]) == 250 and len(barset["MSFT"]) == 30
    first: Bar = barset["AAPL"][0]
    assert first.timestamp == made[0][0] and first.close == made[0][4]
    times = [b.timestamp for b in barset["AAPL"]]
    assert times == sorted(times) and all(t.weekday() < 5 for t in times)
    # limit spans pages too; generated bars are deterministic
    limited = stocks.get_stock_bars(StockBarsRequest(
        symbol_or_symbols="AAPL", timeframe=TimeFrame.Day, start=START, limit=150))
    assert len(limited["AAPL"]) == 150
    assert fake.generate_bars("AAPL", "1Day", start=START, count=5, seed=3, add=False) == made[:5]


def test_intraday_aggregation_quotes_and_snapshots(fake: FakeAlpaca, stocks: StockHistoricalDataClient) -> None:
    day = datetime(2025, 1, 6, tzinfo=UTC)
    fake.generate_bars("SPY", "1Min", start=day, count=390)  # one regular session
    five = stocks.get_stock_bars(StockBarsRequest(
        symbol_or_symbols="SPY", timeframe=TimeFrame(5, TimeFrameUnit.Minute), start=day,
        end=day + timedelta(days=1)))
    assert len(five["SPY"]) == 78
    assert five["SPY"][0].timestamp == datetime(2025, 1, 6, 14, 30, tzinfo=UTC)
    quote = stocks.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols="AAPL"))
    assert quote["AAPL"].bid_price == 189.99 and quote["AAPL"].ask_price == 190.01
    snaps = stocks.get_stock_snapshot(StockSnapshotRequest(symbol_or_symbols=["AAPL", "MSFT"]))
    assert snaps["AAPL"].latest_trade.price == 190.0
    assert snaps["MSFT"].daily_bar is not None and snaps["MSFT"].previous_daily_bar is not None


def test_crypto_bars(fake: FakeAlpaca) -> None:
    client = CryptoHistoricalDataClient(fake.key_id, fake.secret_key, url_override=fake.base_url)
    fake.generate_bars("BTC/USD", "1Hour", start=START, count=48, seed=1)
    bars = client.get_crypto_bars(CryptoBarsRequest(
        symbol_or_symbols=["BTC/USD", "ETH/USD"], timeframe=TimeFrame.Hour, start=START,
        end=START + timedelta(days=3)))
    assert len(bars["BTC/USD"]) == 48 and "ETH/USD" not in bars.data
    assert bars["BTC/USD"][1].timestamp - bars["BTC/USD"][0].timestamp == timedelta(hours=1)
    assert isinstance(bars["BTC/USD"][0].volume, float)
    # seeded daily bars end at the seeded price
    daily = client.get_crypto_bars(CryptoBarsRequest(
        symbol_or_symbols="ETH/USD", timeframe=TimeFrame.Day, start=datetime.now(UTC) - timedelta(days=10)))
    assert daily["ETH/USD"][-1].close == 3000.0


# ---------------------------------------------------------------------------------------------
# faults
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403, 422, 500])
def test_status_faults(fake: FakeAlpaca, trading: TradingClient, status: int) -> None:
    fake.fail("/v2/account", status, message="boom" if status == 422 else None)
    with pytest.raises(APIError) as err:
        trading.get_account()
    assert err.value.status_code == status
    assert isinstance(err.value.code, int) and err.value.message
    assert trading.get_account().cash == "100000"  # times=1: the next call is fine
    assert [r.status for r in fake.requests] == [status, 200]


def test_429_is_retried_by_alpaca_py_and_carries_retry_after(fake: FakeAlpaca, trading: TradingClient) -> None:
    fake.fail("/v2/clock", 429, retry_after=2)
    assert trading.get_clock().is_open is True  # alpaca-py retried (wait patched to 0)
    fake.fail("/v2/clock", 429, times=None, retry_after=2)
    trading._retry = 0  # noqa: SLF001
    with pytest.raises(APIError) as err:
        trading.get_clock()
    assert err.value.status_code == 429 and err.value.response.headers["Retry-After"] == "2"
    assert err.value.code == 42910000


def test_wrong_keys_get_401(fake: FakeAlpaca) -> None:
    client = TradingClient(fake.key_id, "not-the-secret", paper=True, url_override=fake.base_url)
    with pytest.raises(APIError) as err:
        client.get_account()
    assert err.value.status_code == 401 and err.value.message == "request is not authorized"
    data = StockHistoricalDataClient("nope", "nope", url_override=fake.base_url)
    with pytest.raises(APIError):
        data.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols="AAPL"))
    recorded = fake.requests
    assert not any(r.authorized for r in recorded)
    assert fake.secret_key not in repr(recorded)


def test_malformed_and_missing_field(fake: FakeAlpaca, trading: TradingClient) -> None:
    fake.fail("/v2/account", "malformed")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        trading.get_account()
    fake.fail("/v2/account", "missing_field")
    assert trading.get_account().cash is None
    trading.submit_order(_market(qty=1))
    fake.fail("/v2/orders", "missing_field")
    with pytest.raises(ValidationError):
        trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL))
    fake.fail("/v2/stocks/bars", "missing_field")
    stocks = StockHistoricalDataClient(fake.key_id, fake.secret_key, url_override=fake.base_url)
    with pytest.raises(ValidationError):
        stocks.get_stock_bars(StockBarsRequest(symbol_or_symbols="AAPL", timeframe=TimeFrame.Day,
                                               start=START))


def test_hang_times_out_and_reset_drops(fake: FakeAlpaca, trading: TradingClient) -> None:
    _with_timeout(trading, 0.3)
    fake.fail("/v2/account", "hang")
    with pytest.raises(requests.exceptions.Timeout):
        trading.get_account()
    # acted on, then no answer: the order exists although the client never heard back
    fake.fail("/v2/orders", "hang_after", method="POST")
    with pytest.raises(requests.exceptions.Timeout):
        trading.submit_order(_market(qty=1, client_order_id="lost-reply"))
    assert trading.get_order_by_client_id("lost-reply").status is OrderStatus.FILLED
    fake.fail("/v2/positions", "reset")
    with pytest.raises(requests.exceptions.ConnectionError):
        trading.get_all_positions()
    assert len(trading.get_all_positions()) == 1


# ---------------------------------------------------------------------------------------------
# streams
# ---------------------------------------------------------------------------------------------


def _run_in_thread(stream: Any) -> threading.Thread:
    thread = threading.Thread(target=stream.run, daemon=True)
    thread.start()
    return thread


def _stop(stream: Any, thread: threading.Thread, fake: FakeAlpaca) -> None:
    stream.stop()
    fake.drop_streams()  # alpaca-py notices the stop only when recv() returns
    thread.join(timeout=10)
    assert not thread.is_alive()


def _wait(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_trading_stream_receives_fill(fake: FakeAlpaca, trading: TradingClient) -> None:
    updates: list[TradeUpdate] = []

    async def on_update(update: TradeUpdate) -> None:
        updates.append(update)

    stream = TradingStream(fake.key_id, fake.secret_key, paper=True, url_override=fake.ws_url + "/stream")
    stream.subscribe_trade_updates(on_update)
    thread = _run_in_thread(stream)
    try:
        fake.wait_for_trade_listener()
        order = trading.submit_order(_market(qty=2))
        _wait(lambda: len(updates) >= 2)
        new, fill = updates[:2]
        assert (new.event, fill.event) == ("new", "fill")
        assert fill.order.id == order.id and fill.order.status is OrderStatus.FILLED
        assert fill.price == 190.0 and fill.qty == 2 and fill.position_qty == 2
    finally:
        _stop(stream, thread, fake)
    assert fake.stream_connects["/stream"] == 1


def test_market_streams_receive_pushed_bars_and_reconnect(fake: FakeAlpaca) -> None:
    got: list[Bar] = []

    async def on_bar(bar: Bar) -> None:
        got.append(bar)

    stocks = StockDataStream(fake.key_id, fake.secret_key, url_override=fake.ws_url + "/v2/iex")
    stocks.subscribe_bars(on_bar, "AAPL")
    crypto = CryptoDataStream(fake.key_id, fake.secret_key, url_override=fake.ws_url + "/v1beta3/crypto/us")
    crypto.subscribe_bars(on_bar, "BTC/USD")
    threads = [_run_in_thread(stocks), _run_in_thread(crypto)]
    try:
        fake.wait_for_subscription("AAPL", path="/v2/iex")
        fake.wait_for_subscription("BTC/USD", path="/v1beta3/crypto/us")
        t = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)
        fake.push_bar("AAPL", (t, 190, 191, 189.5, 190.5, 12000))
        fake.push_bar("MSFT", (t, 1, 1, 1, 1, 1))  # nobody subscribed: not delivered
        fake.push_bar("BTC/USD", (t, 60000, 60100, 59900, 60050, 1.25))
        _wait(lambda: len(got) >= 2)
        by_symbol = {b.symbol: b for b in got}
        assert set(by_symbol) == {"AAPL", "BTC/USD"}
        assert by_symbol["AAPL"].close == 190.5 and by_symbol["AAPL"].timestamp == t
        assert by_symbol["BTC/USD"].volume == 1.25
        assert fake.price("AAPL") == 190.5  # a pushed bar moves the last price

        assert fake.stream_connections == 2
        assert fake.drop_streams() == 2
        fake.wait_until(lambda: fake.stream_connects.get("/v2/iex") == 2, 10, "a reconnect")
        fake.wait_for_subscription("AAPL", path="/v2/iex", timeout=10)
        fake.push_bar("AAPL", (t + timedelta(minutes=1), 190.5, 191, 190, 190.75, 800))
        _wait(lambda: any(b.close == 190.75 for b in got))
    finally:
        stocks.stop()
        crypto.stop()
        fake.drop_streams()
        for thread in threads:
            thread.join(timeout=10)
            assert not thread.is_alive()


def test_stream_auth_errors_raw(fake: FakeAlpaca) -> None:
    with ws_connect(fake.ws_url + "/v2/iex") as ws:  # no msgpack header: JSON text frames
        assert json.loads(ws.recv(timeout=5)) == [{"T": "success", "msg": "connected"}]
        ws.send(json.dumps({"action": "auth", "key": fake.key_id, "secret": "wrong"}))
        assert json.loads(ws.recv(timeout=5)) == [{"T": "error", "code": 402, "msg": "auth failed"}]
    with ws_connect(fake.ws_url + "/stream") as ws:
        ws.send(json.dumps({"action": "authenticate", "data": {"key_id": "x", "secret_key": "y"}}))
        frame = ws.recv(timeout=5)
        assert isinstance(frame, bytes)  # like the paper API
        assert json.loads(frame) == {"stream": "authorization",
                                     "data": {"status": "unauthorized", "action": "authenticate"}}
    with ws_connect(fake.ws_url + "/v2/iex") as ws:
        ws.recv(timeout=5)
        ws.send(json.dumps({"action": "auth", "key": fake.key_id, "secret": fake.secret_key}))
        assert json.loads(ws.recv(timeout=5)) == [{"T": "success", "msg": "authenticated"}]
        ws.send(json.dumps({"action": "subscribe", "trades": ["AAPL"], "bars": ["*"]}))
        ack = json.loads(ws.recv(timeout=5))[0]
        assert ack["T"] == "subscription" and ack["trades"] == ["AAPL"] and ack["bars"] == ["*"]
        fake.push_trade("AAPL", "191.25")
        (trade,) = json.loads(ws.recv(timeout=5))
        assert trade["T"] == "t" and trade["S"] == "AAPL" and trade["p"] == 191.25
    fake.fail("/v2/sip", 429)
    with pytest.raises(Exception, match="429"):
        ws_connect(fake.ws_url + "/v2/sip")
