"""HTTP + WebSocket front of the fake: one aiohttp app on 127.0.0.1, in its own thread/loop."""

from __future__ import annotations

import asyncio
import contextvars
import json
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgpack
from aiohttp import WSMsgType, web

from tests.fakes.alpaca._broker import Broker
from tests.fakes.alpaca._util import ApiError, default_code, ts

# ---------------------------------------------------------------------------------------------
# public records
# ---------------------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One HTTP request the fake answered (headers are never kept: they carry the secret)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int | None = None  # None: never answered (``hang``) or still running
    authorized: bool = False
    at: float = field(default_factory=time.time)


FAULT_KINDS = ("hang", "hang_after", "malformed", "missing_field", "reset")


@dataclass
class Fault:
    path_prefix: str
    kind: int | str
    remaining: int | None
    method: str | None = None
    message: str | None = None
    field: str | None = None
    retry_after: float | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return path.startswith(self.path_prefix)


_DEFAULT_FAULT_MESSAGES = {
    400: "bad request",
    401: "request is not authorized",
    403: "forbidden",
    404: "not found",
    422: "request is not valid",
    429: "rate limit exceeded",
    500: "internal server error occurred",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}

# which field ``missing_field`` removes when none is named (first matching prefix wins)
_DEFAULT_MISSING_FIELD = [
    ("/v2/account/activities", "order_id"),
    ("/v2/account/configurations", "fractional_trading"),
    ("/v2/account", "cash"),
    ("/v2/orders", "id"),
    ("/v2/positions", "qty"),
    ("/v2/assets", "symbol"),
    ("/v2/clock", "is_open"),
    ("/v2/calendar", "date"),
    ("/v2/options/contracts", "strike_price"),
    ("/v1beta1/options/snapshots", "latestQuote"),
]

WS_STOCK = ("/v2/iex", "/v2/sip", "/v2/delayed_sip", "/v2/test", "/v2/boats", "/v2/overnight")
WS_CRYPTO = ("/v1beta3/crypto/us", "/v1beta3/crypto/us-1", "/v1beta3/crypto/eu-1")
WS_OPTION = ("/v1beta1/indicative", "/v1beta1/opra")
WS_NEWS = ("/v1beta1/news",)
WS_TRADING = ("/stream",)

_CHANNELS = {
    "stock": ("trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds",
              "corrections", "cancelErrors"),
    "crypto": ("trades", "quotes", "bars", "updatedBars", "dailyBars", "orderbooks"),
    "option": ("trades", "quotes"),
    "news": ("news",),
}

_CLOSE = object()
_BODY: contextvars.ContextVar[Any] = contextvars.ContextVar("fake_alpaca_body", default=None)


def _strip_field(obj: Any, name: str) -> bool:
    """Remove ``name`` wherever it first appears down each branch of ``obj``."""
    hit = False
    if isinstance(obj, dict):
        if name in obj:
            del obj[name]
            return True
        for value in obj.values():
            if isinstance(value, (dict, list)):
                hit = _strip_field(value, name) or hit
    elif isinstance(obj, list):
        for item in obj:
            hit = _strip_field(item, name) or hit
    return hit


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return ts(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, default=_json_default, separators=(",", ":"))


@dataclass
class Reply:
    status: int = 200
    data: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    empty: bool = False


class _Conn:
    """One accepted WebSocket."""

    def __init__(self, server: FakeAlpaca, ws: web.WebSocketResponse, request: web.Request,
                 path: str, kind: str, symbol_class: str, use_msgpack: bool) -> None:
        self.server = server
        self.ws = ws
        self.transport = request.transport
        self.path = path
        self.kind = kind  # trading | market
        self.symbol_class = symbol_class
        self.msgpack = use_msgpack
        self.authed = False
        self.listening = False
        self.subs: dict[str, set[str]] = {c: set() for c in _CHANNELS.get(symbol_class, ())}
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    # called from any thread
    def send(self, obj: Any) -> None:
        loop = self.server._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self.queue.put_nowait, obj)
        except RuntimeError:
            pass

    def close_after_flush(self) -> None:
        self.send(_CLOSE)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def encode(self, obj: Any) -> tuple[bool, bytes | str]:
        """(binary?, payload)."""
        if self.kind == "trading":
            text = _dumps(obj)
            if self.server.trading_stream_binary:
                return True, text.encode()
            return False, text
        if self.msgpack:
            return True, msgpack.packb(obj, datetime=True, default=_json_default)
        return False, _dumps(obj)

    async def writer(self) -> None:
        while True:
            obj = await self.queue.get()
            if obj is _CLOSE:
                await self.ws.close()
                return
            if self.ws.closed:
                return
            binary, payload = self.encode(obj)
            try:
                if binary:
                    await self.ws.send_bytes(payload)  # type: ignore[arg-type]
                else:
                    await self.ws.send_str(payload)  # type: ignore[arg-type]
            except (ConnectionError, RuntimeError):
                return


class FakeAlpaca(Broker):
    """A stateful fake of Alpaca's trading API, market data API and their streams.

    Use as a context manager (or :meth:`start` / :meth:`stop`). The real alpaca-py clients
    talk to it with ``url_override=fake.base_url`` (REST) and ``fake.ws_url + "/stream"`` /
    ``fake.ws_url + "/v2/iex"`` ... (streams), authenticating with ``fake.key_id`` /
    ``fake.secret_key``. See ``tests/fakes/alpaca/__init__.py`` for the whole contract.
    """

    def __init__(self, *, seed: bool = True) -> None:
        self._trade_updates: list[dict[str, Any]] = []
        self._conns: set[_Conn] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        super().__init__(seed=seed)
        self.base_url = ""
        self.ws_url = ""
        self.port = 0
        self.trading_stream_binary = True
        """Alpaca's paper trading stream sends JSON in binary frames; False sends text."""
        self._requests: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self._stream_connects: Counter[str] = Counter()
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._release: asyncio.Event | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> FakeAlpaca:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> FakeAlpaca:
        if self._thread is not None:
            return self
        self._ready.clear()
        self._startup_error = None
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._run, args=(sock,), name="fake-alpaca", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._startup_error is not None:
            raise RuntimeError("fake Alpaca failed to start") from self._startup_error
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=15)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=15)
            self._thread = None

    def _run(self, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._startup(sock))
        except BaseException as exc:  # noqa: BLE001
            self._startup_error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    async def _startup(self, sock: socket.socket) -> None:
        self._release = asyncio.Event()
        app = web.Application(middlewares=[self._middleware], client_max_size=8 * 1024 * 1024)
        self._routes(app)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.SockSite(self._runner, sock)
        await site.start()

    async def _shutdown(self) -> None:
        if self._release is not None:
            self._release.set()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            conn.abort()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ observation

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every HTTP request so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    @property
    def trade_updates(self) -> list[dict[str, Any]]:
        """Every trade update emitted so far (the ``data`` of each trade_updates frame)."""
        with self._lock:
            return list(self._trade_updates)

    @property
    def stream_connections(self) -> int:
        """WebSocket connections accepted so far, all paths together."""
        with self._lock:
            return sum(self._stream_connects.values())

    @property
    def stream_connects(self) -> dict[str, int]:
        """WebSocket connections accepted so far, by path (``"/stream"``, ``"/v2/iex"`` ...)."""
        with self._lock:
            return dict(self._stream_connects)

    def open_streams(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for c in self._conns if path is None or c.path == path)

    def subscriptions(self, path: str | None = None) -> dict[str, set[str]]:
        """Union of what the open market-data streams (on ``path``) are subscribed to."""
        out: dict[str, set[str]] = {}
        with self._lock:
            for conn in self._conns:
                if conn.kind == "market" and (path is None or conn.path == path):
                    for channel, symbols in conn.subs.items():
                        out.setdefault(channel, set()).update(symbols)
        return out

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.01)
        raise TimeoutError(f"fake Alpaca: timed out after {timeout} s waiting for {what}")

    def wait_for_subscription(self, symbol: str, channel: str = "bars", *, path: str | None = None,
                              timeout: float = 5.0) -> None:
        """Block until an authenticated market-data stream subscribed ``symbol`` on ``channel``."""
        self.wait_until(lambda: symbol in self.subscriptions(path).get(channel, set()),
                        timeout, f"a {channel} subscription to {symbol}")

    def wait_for_trade_listener(self, count: int = 1, timeout: float = 5.0) -> None:
        """Block until ``count`` trading streams are authenticated and listening to trade_updates."""
        def ready() -> bool:
            with self._lock:
                return sum(1 for c in self._conns if c.kind == "trading" and c.listening) >= count
        self.wait_until(ready, timeout, f"{count} trade_updates listener(s)")

    # ------------------------------------------------------------------ faults

    def fail(
        self,
        path_prefix: str,
        kind: int | str,
        *,
        times: int | None = 1,
        method: str | None = None,
        message: str | None = None,
        field: str | None = None,
        retry_after: float | None = None,
    ) -> Fault:
        """Make the next ``times`` requests (``None``: all) whose path starts with
        ``path_prefix`` (and whose method is ``method``, if given) fail as ``kind``.

        * an HTTP status (401, 403, 404, 422, 429, 500, 503 ...): Alpaca-style JSON
          ``{"code": ..., "message": ...}``; ``retry_after`` adds a ``Retry-After`` header;
        * ``"hang"``: never answers (until :meth:`stop`); the request is not acted on;
        * ``"hang_after"``: acts on the request (e.g. places the order), then never answers;
        * ``"malformed"``: acts on it, answers 200 with the JSON cut in half;
        * ``"missing_field"``: acts on it, answers 200 without ``field`` (default per endpoint:
          account ``cash``, orders ``id``, positions ``qty``, assets ``symbol``, clock
          ``is_open``, activities ``order_id``, option contracts ``strike_price``, option
          snapshots ``latestQuote``, bars ``c``; else ``id``), removed wherever it appears;
        * ``"reset"``: drops the TCP connection without answering.

        On stream paths (``/stream``, ``/v2/iex`` ...) a status rejects the WebSocket upgrade,
        ``"hang"`` never completes it and ``"reset"`` drops it.
        """
        if isinstance(kind, bool) or not (
            (isinstance(kind, int) and 400 <= kind <= 599) or kind in FAULT_KINDS
        ):
            raise ValueError(f"unknown fault kind {kind!r}")
        fault = Fault(path_prefix, kind, times, method, message, field, retry_after)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault
        return None

    # ------------------------------------------------------------------ streams: hooks

    def _publish_trade_update(self, payload: dict[str, Any]) -> None:
        self._trade_updates.append(payload)
        frame = {"stream": "trade_updates", "data": payload}
        for conn in list(self._conns):
            if conn.kind == "trading" and conn.listening:
                conn.send(frame)

    def _publish_market(self, symbol_class: str, channel: str, symbol: str, msg: dict[str, Any]) -> None:
        for conn in list(self._conns):
            if conn.kind != "market" or not conn.authed or conn.symbol_class != symbol_class:
                continue
            subs = conn.subs.get(channel, set())
            if symbol in subs or "*" in subs:
                conn.send([msg])

    def drop_streams(self) -> int:
        """Abort every open WebSocket (no close frame, like a network drop). Returns how many."""
        with self._lock:
            conns = list(self._conns)
        loop = self._loop
        if loop is None or loop.is_closed():
            return 0
        for conn in conns:
            loop.call_soon_threadsafe(conn.abort)
        return len(conns)

    # ------------------------------------------------------------------ HTTP plumbing

    def _authorized(self, request: web.Request) -> bool:
        key = request.headers.get("APCA-API-KEY-ID", "")
        secret = request.headers.get("APCA-API-SECRET-KEY", "")
        return secrets.compare_digest(key, self.key_id) and secrets.compare_digest(secret, self.secret_key)

    @staticmethod
    def _error_reply(status: int, message: str | None = None, code: int | None = None) -> Reply:
        return Reply(status, {"code": code if code is not None else default_code(status),
                              "message": message or _DEFAULT_FAULT_MESSAGES.get(status, "error")})

    def _rate_headers(self) -> dict[str, str]:
        return {
            "X-Ratelimit-Limit": "200",
            "X-Ratelimit-Remaining": "199",
            "X-Ratelimit-Reset": str(int(time.time()) + 60),
        }

    def _render(self, reply: Reply) -> web.StreamResponse:
        headers = {**self._rate_headers(), **reply.headers}
        if reply.empty:
            return web.Response(status=reply.status, headers=headers)
        return web.Response(status=reply.status, text=_dumps(reply.data),
                            content_type="application/json", headers=headers)

    async def _hang(self) -> None:
        assert self._release is not None
        await self._release.wait()

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[[web.Request], Awaitable[Any]]) -> web.StreamResponse:
        path = request.path
        if path in _WS_PATHS:
            return await handler(request)
        method = request.method
        raw = await request.read() if request.can_read_body else b""
        body: Any = None
        body_ok = True
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body, body_ok = raw.decode("utf-8", "replace"), False
        authorized = self._authorized(request)
        rec = RecordedRequest(method, path, dict(request.query), body, authorized=authorized)
        with self._lock:
            self._requests.append(rec)
        fault = self._take_fault(method, path)
        if fault is not None and fault.kind == "hang":
            await self._hang()
            return _aborted(request)
        if fault is not None and fault.kind == "reset":
            return _aborted(request)
        if fault is not None and isinstance(fault.kind, int):
            reply = self._error_reply(fault.kind, fault.message)
            if fault.retry_after is not None:
                reply.headers["Retry-After"] = f"{fault.retry_after:g}"
            rec.status = reply.status
            return self._render(reply)
        if not authorized:
            reply = self._error_reply(401)
        elif not body_ok:
            reply = self._error_reply(400, "request body format is invalid", 40010000)
        else:
            _BODY.set(body)
            try:
                result = await handler(request)
                reply = result if isinstance(result, Reply) else Reply(200, result)
            except ApiError as exc:
                reply = Reply(exc.status, exc.body())
            except web.HTTPNotFound:
                reply = self._error_reply(404, "endpoint not found", 40410000)
            except web.HTTPMethodNotAllowed:
                reply = self._error_reply(405, "method not allowed", 40510000)
        if fault is not None and fault.kind == "hang_after":
            await self._hang()
            return _aborted(request)
        if fault is not None and fault.kind == "missing_field" and 200 <= reply.status < 300 and not reply.empty:
            name = fault.field or self._default_missing(path)
            _strip_field(reply.data, name)
        rec.status = reply.status
        if fault is not None and fault.kind == "malformed":
            text = "" if reply.empty else _dumps(reply.data)
            cut = text[: max(1, len(text) // 2)] if len(text) > 1 else "{"
            return web.Response(status=200, text=cut, content_type="application/json",
                                headers=self._rate_headers())
        return self._render(reply)

    @staticmethod
    def _default_missing(path: str) -> str:
        for prefix, name in _DEFAULT_MISSING_FIELD:
            if path.startswith(prefix):
                return name
        if path.endswith("/bars") or "/bars/" in path:
            return "c"
        if "trades" in path:
            return "p"
        if "quotes" in path:
            return "ap"
        if "snapshot" in path:
            return "latestTrade"
        return "id"

    # ------------------------------------------------------------------ routes

    def _routes(self, app: web.Application) -> None:
        r = app.router
        q = _query

        def add(method: str, path: str, fn: Callable[[web.Request], Any]) -> None:
            async def handler(request: web.Request) -> Any:
                return fn(request)
            r.add_route(method, path, handler)

        # trading
        add("GET", "/v2/account", lambda rq: self.account_json())
        add("GET", "/v2/account/configurations", lambda rq: self.account_configurations_json())
        add("GET", "/v2/account/activities",
            lambda rq: self.activities_json(q(rq), (q(rq).get("activity_types") or "").split(",")))
        add("GET", "/v2/account/activities/{activity_type}",
            lambda rq: self.activities_json(q(rq), [rq.match_info["activity_type"]]))
        add("GET", "/v2/positions", lambda rq: self.positions_json())
        add("DELETE", "/v2/positions", lambda rq: Reply(207, self.close_all_positions(q(rq))))
        add("GET", "/v2/positions/{symbol:.+}", lambda rq: self.position_json(rq.match_info["symbol"]))
        add("DELETE", "/v2/positions/{symbol:.+}",
            lambda rq: self.close_position(rq.match_info["symbol"], q(rq)))
        add("GET", "/v2/orders", lambda rq: self.list_orders(q(rq)))
        add("POST", "/v2/orders", lambda rq: self.submit_order(_BODY.get()))
        add("DELETE", "/v2/orders", lambda rq: Reply(207, self.cancel_all_orders()))
        add("GET", "/v2/orders:by_client_order_id",
            lambda rq: self.order_by_client_id_json(q(rq).get("client_order_id")))
        add("GET", "/v2/orders/{order_id}", lambda rq: self.order_json(rq.match_info["order_id"]))
        add("PATCH", "/v2/orders/{order_id}",
            lambda rq: self.replace_order(rq.match_info["order_id"], _BODY.get()))
        add("DELETE", "/v2/orders/{order_id}", self._delete_order)
        add("GET", "/v2/assets", lambda rq: self.assets_json(q(rq)))
        add("GET", "/v2/assets/{symbol:.+}", lambda rq: self.asset_json(rq.match_info["symbol"]))
        add("GET", "/v2/clock", lambda rq: self.clock_json())
        add("GET", "/v2/calendar", lambda rq: self.calendar_json(q(rq)))
        add("GET", "/v2/options/contracts", lambda rq: self.option_contracts_json(q(rq)))
        add("GET", "/v2/options/contracts/{symbol}",
            lambda rq: self.option_contract_json(rq.match_info["symbol"]))

        # stock market data
        add("GET", "/v2/stocks/bars", lambda rq: self.bars_json(q(rq)))
        add("GET", "/v2/stocks/bars/latest", lambda rq: self.latest_json("bars", _symbols(rq)))
        add("GET", "/v2/stocks/trades/latest", lambda rq: self.latest_json("trades", _symbols(rq)))
        add("GET", "/v2/stocks/quotes/latest", lambda rq: self.latest_json("quotes", _symbols(rq)))
        add("GET", "/v2/stocks/snapshots", lambda rq: self.stock_snapshots_json(_symbols(rq)))
        add("GET", "/v2/stocks/{symbol}/bars",
            lambda rq: self.bars_json(q(rq), single=rq.match_info["symbol"]))
        add("GET", "/v2/stocks/{symbol}/snapshot", self._single_stock_snapshot)
        add("GET", "/v2/stocks/{symbol}/trades/latest",
            lambda rq: _single(self.latest_json("trades", [rq.match_info["symbol"]]), "trade", rq))
        add("GET", "/v2/stocks/{symbol}/quotes/latest",
            lambda rq: _single(self.latest_json("quotes", [rq.match_info["symbol"]]), "quote", rq))
        add("GET", "/v2/stocks/{symbol}/bars/latest",
            lambda rq: _single(self.latest_json("bars", [rq.match_info["symbol"]]), "bar", rq))

        # crypto market data
        add("GET", "/v1beta3/crypto/{loc}/bars",
            lambda rq: self.bars_json(q(rq), integer_volume=False))
        add("GET", "/v1beta3/crypto/{loc}/latest/bars",
            lambda rq: self.latest_json("bars", _symbols(rq), crypto=True))
        add("GET", "/v1beta3/crypto/{loc}/latest/trades",
            lambda rq: self.latest_json("trades", _symbols(rq), crypto=True))
        add("GET", "/v1beta3/crypto/{loc}/latest/quotes",
            lambda rq: self.latest_json("quotes", _symbols(rq), crypto=True))
        add("GET", "/v1beta3/crypto/{loc}/snapshots",
            lambda rq: self.crypto_snapshots_json(_symbols(rq)))

        # option market data
        add("GET", "/v1beta1/options/bars", lambda rq: self.bars_json(q(rq)))
        add("GET", "/v1beta1/options/snapshots", lambda rq: self.option_snapshots_json(q(rq)))
        add("GET", "/v1beta1/options/snapshots/{underlying}",
            lambda rq: self.option_chain_json(rq.match_info["underlying"], q(rq)))
        add("GET", "/v1beta1/options/trades/latest",
            lambda rq: self.latest_json("trades", _symbols(rq), option=True))
        add("GET", "/v1beta1/options/quotes/latest",
            lambda rq: self.latest_json("quotes", _symbols(rq), option=True))

        # streams
        for path in _WS_PATHS:
            r.add_route("GET", path, self._ws_handler)

    def _delete_order(self, request: web.Request) -> Reply:
        self.cancel_order_by_id(request.match_info["order_id"])
        return Reply(204, empty=True)

    def _single_stock_snapshot(self, request: web.Request) -> Any:
        symbol = request.match_info["symbol"]
        snaps = self.stock_snapshots_json([symbol])
        if symbol not in snaps:
            raise ApiError(404, "not found", code=40410000)
        return {"symbol": symbol, **snaps[symbol]}

    # ------------------------------------------------------------------ WebSockets

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        fault = self._take_fault("GET", path)
        if fault is not None:
            if fault.kind in ("hang", "hang_after"):
                await self._hang()
                return _aborted(request)
            if fault.kind == "reset":
                return _aborted(request)
            if isinstance(fault.kind, int):
                reply = self._error_reply(fault.kind, fault.message)
                if fault.retry_after is not None:
                    reply.headers["Retry-After"] = f"{fault.retry_after:g}"
                return self._render(reply)
        if path in WS_TRADING:
            kind, symbol_class = "trading", ""
        elif path in WS_CRYPTO:
            kind, symbol_class = "market", "crypto"
        elif path in WS_OPTION:
            kind, symbol_class = "market", "option"
        elif path in WS_NEWS:
            kind, symbol_class = "market", "news"
        else:
            kind, symbol_class = "market", "stock"
        use_msgpack = "msgpack" in request.headers.get("Content-Type", "").lower()
        ws = web.WebSocketResponse(compress=False, autoping=True, max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        conn = _Conn(self, ws, request, path, kind, symbol_class, use_msgpack)
        with self._lock:
            self._conns.add(conn)
            self._stream_connects[path] += 1
        writer = asyncio.ensure_future(conn.writer())
        try:
            if kind == "market":
                conn.send([{"T": "success", "msg": "connected"}])
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    raw: Any = msg.data
                elif msg.type == WSMsgType.BINARY:
                    raw = msg.data
                else:
                    break
                data = self._decode_client(conn, raw)
                if kind == "trading":
                    self._on_trading_message(conn, data)
                else:
                    self._on_market_message(conn, data)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            # let queued frames (e.g. an auth error before close) go out, then stop the writer
            await asyncio.sleep(0)
            writer.cancel()
        return ws

    @staticmethod
    def _decode_client(conn: _Conn, raw: Any) -> Any:
        try:
            if isinstance(raw, (bytes, bytearray)):
                if conn.kind == "market":
                    try:
                        return msgpack.unpackb(raw)
                    except Exception:  # noqa: BLE001
                        return json.loads(raw)
                return json.loads(raw)
            return json.loads(raw)
        except Exception:  # noqa: BLE001
            return None

    def _on_trading_message(self, conn: _Conn, data: Any) -> None:
        if not isinstance(data, dict):
            conn.send({"stream": "listening", "data": {"error": "invalid syntax"}})
            return
        action = data.get("action")
        payload = data.get("data") if isinstance(data.get("data"), dict) else {}
        if action in ("authenticate", "auth"):
            key = payload.get("key_id", data.get("key", ""))
            secret = payload.get("secret_key", data.get("secret", ""))
            ok = secrets.compare_digest(str(key), self.key_id) and secrets.compare_digest(
                str(secret), self.secret_key)
            conn.authed = ok
            conn.send({"stream": "authorization",
                       "data": {"status": "authorized" if ok else "unauthorized",
                                "action": "authenticate"}})
            if not ok:
                conn.close_after_flush()
            return
        if action == "listen":
            if not conn.authed:
                conn.send({"stream": "authorization",
                           "data": {"status": "unauthorized", "action": "listen"}})
                return
            streams = payload.get("streams") or []
            with self._lock:
                conn.listening = "trade_updates" in streams
            conn.send({"stream": "listening", "data": {"streams": ["trade_updates"] if conn.listening else []}})
            return
        conn.send({"stream": "listening", "data": {"error": f"invalid action: {action}"}})

    def _on_market_message(self, conn: _Conn, data: Any) -> None:
        if not isinstance(data, dict):
            conn.send([{"T": "error", "code": 400, "msg": "invalid syntax"}])
            return
        action = data.get("action")
        if action == "auth":
            ok = secrets.compare_digest(str(data.get("key", "")), self.key_id) and \
                secrets.compare_digest(str(data.get("secret", "")), self.secret_key)
            if conn.authed:
                conn.send([{"T": "error", "code": 403, "msg": "already authenticated"}])
                return
            if ok:
                conn.authed = True
                conn.send([{"T": "success", "msg": "authenticated"}])
            else:
                conn.send([{"T": "error", "code": 402, "msg": "auth failed"}])
                conn.close_after_flush()
            return
        if action in ("subscribe", "unsubscribe"):
            if not conn.authed:
                conn.send([{"T": "error", "code": 401, "msg": "not authenticated"}])
                return
            with self._lock:
                for channel in conn.subs:
                    symbols = data.get(channel) or []
                    if isinstance(symbols, str):
                        symbols = [symbols]
                    if action == "subscribe":
                        conn.subs[channel].update(str(s) for s in symbols)
                    else:
                        conn.subs[channel].difference_update(str(s) for s in symbols)
                ack: dict[str, Any] = {"T": "subscription"}
                ack.update({c: sorted(s) for c, s in conn.subs.items()})
            conn.send([ack])
            return
        conn.send([{"T": "error", "code": 400, "msg": "invalid syntax"}])


_WS_PATHS = WS_TRADING + WS_STOCK + WS_CRYPTO + WS_OPTION + WS_NEWS


def _aborted(request: web.Request) -> web.StreamResponse:
    """Drop the connection without an answer (the response object is never written)."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=503)


def _query(request: web.Request) -> dict[str, str]:
    return dict(request.query)


def _symbols(request: web.Request) -> list[str]:
    raw = request.query.get("symbols") or ""
    symbols = [s.strip() for s in raw.split(",") if s.strip()]
    if not symbols:
        raise ApiError(400, "missing symbols", code=40010001)
    return symbols


def _single(data: dict[str, Any], key: str, request: web.Request) -> dict[str, Any]:
    symbol = request.match_info["symbol"]
    (inner,) = data.values()
    if symbol not in inner:
        raise ApiError(404, "not found", code=40410000)
    return {"symbol": symbol, key: inner[symbol]}
