"""A stateful fake Alpaca (trading API, market data API and their WebSocket streams) for tests.

The real alpaca-py clients talk to it over HTTP/WebSocket on 127.0.0.1, one port::

    with FakeAlpaca() as fake:                      # or the ``fake_alpaca`` fixture
        client = TradingClient(fake.key_id, fake.secret_key, paper=True,
                               url_override=fake.base_url)
        data = StockHistoricalDataClient(fake.key_id, fake.secret_key,
                                         url_override=fake.base_url)
        stream = TradingStream(fake.key_id, fake.secret_key, url_override=fake.ws_url + "/stream")
        bars = StockDataStream(fake.key_id, fake.secret_key, url_override=fake.ws_url + "/v2/iex")

Paths served (``base_url``): trading ``/v2/account``, ``/v2/account/configurations``,
``/v2/account/activities[/FILL]``, ``/v2/positions[/{symbol}]`` (GET, DELETE = close),
``/v2/orders`` (GET, POST, DELETE = cancel all, 207), ``/v2/orders/{id}`` (GET, PATCH = replace,
DELETE = cancel, 204), ``/v2/orders:by_client_order_id``, ``/v2/assets[/{symbol}]``,
``/v2/clock``, ``/v2/calendar``, ``/v2/options/contracts[/{symbol}]``; market data
``/v2/stocks/bars``, ``/v2/stocks/{symbol}/bars``, ``/v2/stocks/{bars,trades,quotes}/latest``,
``/v2/stocks/snapshots``, ``/v2/stocks/{symbol}/snapshot``, ``/v1beta3/crypto/us/bars``,
``/v1beta3/crypto/us/latest/{bars,trades,quotes}``, ``/v1beta3/crypto/us/snapshots``,
``/v1beta1/options/bars``, ``/v1beta1/options/snapshots[/{underlying}]``,
``/v1beta1/options/{trades,quotes}/latest``. Streams (``ws_url``): ``/stream`` (trade_updates),
``/v2/iex`` ``/v2/sip`` ``/v2/delayed_sip`` ``/v2/test`` (stocks), ``/v1beta3/crypto/us``,
``/v1beta1/indicative`` ``/v1beta1/opra`` (options), ``/v1beta1/news`` (no data).

Auth: only ``key_id`` / ``secret_key`` (random per instance) in ``APCA-API-KEY-ID`` /
``APCA-API-SECRET-KEY``; anything else gets 401 ``{"code": 40110000, "message": "request is not
authorized"}``. Streams authenticate in-protocol; wrong keys get Alpaca's error and a close.

Seeded (``FakeAlpaca(seed=False)`` for an empty fake): AAPL 190, MSFT 420 (NASDAQ), SPY 500
(ARCA), BRK.A 700000 (NYSE, not fractionable, not shortable), BTC/USD 60000, ETH/USD 3000
(crypto), each with 300 daily bars ending today whose last close is that price. Account: cash
100000, multiplier 2 (buying power = (equity - initial margin) x 2 - open buy orders, i.e.
200000 to start; ``set_account(multiplier=1)`` makes buying power = cash), no positions.

Setup (all thread-safe, callable while clients are connected): ``set_account(**fields)``,
``add_asset(symbol, ...)``, ``set_price(symbol, price, lastday_price=None)``,
``add_fills(count, symbol="AAPL", price=100, qty=1, start=None)`` (FILL history only),
``set_quote(symbol, bid, ask)``, ``replay(symbol, timeframe, bars)`` (bars held back and
revealed by ``advance(count=1, symbol=None, silent=None)`` as the clock moves bar by bar; the
symbol's market orders fill at the next revealed bar's open, ``replay_fill_offset`` against the
trader; ``stream_silent`` keeps the stream quiet while REST still serves the bars), ``add_position(symbol, qty, avg_entry_price=None)`` (a holding
from before today, cash untouched), ``add_bars(symbol, timeframe, bars)``,
``generate_bars(symbol, timeframe, start, count, seed, end=, start_price=, end_price=,
volatility=, add=True)``, ``clear_bars(symbol=None)``, ``add_option_contract(occ, ...)``,
``generate_option_chain(underlying, expirations, strikes, iv=0.3)`` (Black-Scholes quotes and
greeks), ``set_clock(now=, is_open=)``, ``auto_fill_market``, ``bars_page_cap``. Driving:
``fill_order(id, qty=None, price=None)`` (partial fills), ``cancel_order(id)``,
``expire_day_orders()``, ``push_bar(symbol, bar, timeframe="1Min", kind="b")``,
``push_trade(symbol, price)``, ``push_quote(symbol, bid, ask)``, ``drop_streams()``.

Behaviour worth knowing (as real Alpaca does, unless noted):

* ``POST /v2/orders`` answers with the order as acknowledged, status ``pending_new``; it is then
  routed at once: status ``new`` + trade update ``new`` (or ``accepted`` when the market is
  closed and it is not crypto / an extended-hours limit order). Market orders fill at once at the
  last price (``auto_fill_market``; off: they rest until :meth:`FakeAlpaca.fill_order`). Limit,
  stop, stop-limit and trailing-stop orders rest; a *marketable* one fills at once at the last
  price (choice of this fake). :meth:`set_price` fills resting orders it makes marketable.
  ``ioc``/``fok`` orders that do not fill are canceled.
* Fills update the position (average entry price, flips), cash, and append a FILL activity; the
  trade update carries ``price``, ``qty``, ``position_qty``, ``execution_id``.
* Crypto positions are listed as ``BTCUSD`` (no slash) while orders/assets say ``BTC/USD``;
  ``GET/DELETE /v2/positions/`` accepts either (and the asset id).
* ``order_class`` is ``""`` unless the request sent one (alpaca-py reads ``""`` as simple).
* Only simple orders (no bracket/oco/oto/mleg: 422).
* Bars: ``start`` defaults to the start of today (ET), ``end`` to now; a page holds at most
  ``min(limit, fake.bars_page_cap)`` bars (cap 1000 by default, so pagination is exercised);
  tokens are opaque. Multi-symbol pages are ordered by symbol then time; ``limit`` counts all
  symbols. Missing timeframes are aggregated from finer stored bars (minutes -> minutes/hours,
  days -> weeks/months).
* ``/v2/options/contracts`` defaults ``expiration_date_lte`` to the coming weekend when no
  expiration filter is given (documented Alpaca behaviour) and ``status`` to active.
* Account fields ``pattern_day_trader``, ``daytrade_count``, ``daytrading_buying_power`` are
  omitted (Alpaca dropped them on 2026-07-06) unless set with :meth:`set_account`.
* The clock says the market is open unless :meth:`set_clock` says otherwise (``"auto"``: real
  session hours, weekdays 9:30-16:00 ET, no holidays).

Errors (status, message; ``code`` as Alpaca): duplicate ``client_order_id`` 422 "client_order_id
must be unique"; qty and notional both 422 "only one of qty or notional can be specified",
neither 422 "qty or notional is required"; notional on a non-fractionable asset 422 "asset BRK.A
is not fractionable", fractional qty there 422 "qty must be integer"; fractional not DAY 422;
insufficient buying power 403 ``{"code": 40310000, "message": "insufficient buying power"}``;
selling more than held 403 "insufficient qty available for order (requested: x, available: y)"
(crypto: "insufficient balance for BTC ..."); crypto TIF not gtc/ioc 422 "invalid crypto
time_in_force"; extended hours not limit+day 422 "extended hours order must be DAY limit
orders"; sub-penny prices 422; unknown order 404 "order not found"; cancel of a closed order 422
'order is already in "filled" state'; unknown position 404 "position does not exist".

Faults: :meth:`FakeAlpaca.fail` (see its docstring): a status (JSON ``{"code", "message"}``,
``retry_after=`` adds ``Retry-After``), ``"hang"``, ``"hang_after"`` (acts, then never answers),
``"malformed"``, ``"missing_field"`` (``field=``), ``"reset"``; ``times=None`` for every request;
``path_prefix`` is a plain prefix (``"/v2/account"`` also hits ``/v2/account/activities``).
Observation: ``requests`` (HTTP only; :class:`RecordedRequest`: method, path, query, json,
status, authorized, at; never headers), ``orders``,
``positions``, ``account``, ``activities``, ``trade_updates``, ``stream_connections``,
``stream_connects``, ``open_streams()``, ``subscriptions()``, ``wait_for_subscription()``,
``wait_for_trade_listener()``, ``wait_until()``.

Stream frames: the trading stream answers JSON objects in *binary* frames (as the paper API
does; ``trading_stream_binary = False`` for text): ``{"stream": "authorization", "data":
{"status": "authorized"|"unauthorized", "action": "authenticate"}}``, ``{"stream": "listening",
"data": {"streams": ["trade_updates"]}}``, ``{"stream": "trade_updates", "data": {"event": ...,
"order": {...}, "timestamp": ..., ...}}``. Market-data streams send lists of messages, msgpack
(binary) when the client sent ``Content-Type: application/msgpack`` as alpaca-py does, JSON text
otherwise: ``[{"T": "success", "msg": "connected"}]`` on connect, ``[{"T": "success", "msg":
"authenticated"}]`` or ``[{"T": "error", "code": 402, "msg": "auth failed"}]`` (then close),
``[{"T": "subscription", "trades": [...], "quotes": [...], "bars": [...], ...}]``, and data
``{"T": "b"|"u"|"d", "S", "o", "h", "l", "c", "v", "t", "n", "vw"}`` / ``{"T": "t", ...}`` /
``{"T": "q", ...}`` with ``t`` a msgpack Timestamp (JSON: RFC 3339).
"""

from tests.fakes.alpaca._broker import occ_symbol
from tests.fakes.alpaca._server import FakeAlpaca, Fault, RecordedRequest

__all__ = ["FakeAlpaca", "Fault", "RecordedRequest", "occ_symbol"]
