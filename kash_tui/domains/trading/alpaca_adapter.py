"""``AlpacaTradingAdapter``: a PAPER or LIVE portfolio's broker account through alpaca-py.

Only :meth:`SqlTradingService.resolve_trading_adapter` builds one; everything above that call
sees a :class:`TradingAdapter`. Every broker call goes through
:func:`kash_tui.domains.connection.alpaca.broker_call`, so failures arrive as one sentence
(``BrokerError``) and every HTTP request has a timeout and a share of the connection's rate
budget.

Orders are sent at most once. Each ticket carries a ``client_order_id`` made when the ticket
was made; before sending, the order is written to the local order journal (``order_journal``),
and after the broker answers the journal records the outcome. When the outcome is unknown (a
timeout, a dropped connection, a 5xx) the broker is asked for the order by its
``client_order_id``; if it cannot say either, the journal keeps the order as *unknown* and a
later attempt with the same ticket first asks the broker again instead of sending blindly.
Alpaca itself refuses a second order with the same ``client_order_id``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from urllib.parse import quote
from uuid import UUID

from sqlalchemy.exc import IntegrityError

from kash_tui.db import Database
from kash_tui.domains.connection import BrokerError
from kash_tui.domains.connection.alpaca import AlpacaSession, broker_call
from kash_tui.domains.trading import repo
from kash_tui.domains.trading.order_rules import check_order, is_option_symbol
from kash_tui.domains.trading.service import (
    Account,
    AssetInfo,
    Capabilities,
    ConnectionInfo,
    LiveConfirmationRequired,
    MarketClock,
    Order,
    OrderRequest,
    OrderRuleError,
    OrderSide,
    OrderType,
    Position,
    Trade,
    TradingError,
    UnresolvedTicket,
)

log = logging.getLogger("kash.trading")

T = TypeVar("T")

RESUME_WINDOW = timedelta(hours=24)
"""How far back an interrupted ticket of the same order is taken up again by a new attempt."""

FILL_PAGE_SIZE = 100
"""Alpaca's largest page of account activities."""


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _positive(value: Any) -> Decimal | None:
    """A broker's float (alpaca-py reads sizes as floats) as the decimal it was sent as."""
    d = _dec(value)
    return d if d is not None and d.is_finite() and d > 0 else None


def _dec0(value: Any) -> Decimal:
    d = _dec(value)
    return d if d is not None else Decimal(0)


def _enum(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def position_key(symbol: str) -> str:
    """Alpaca names crypto positions without the slash (BTCUSD for BTC/USD)."""
    return symbol.replace("/", "").upper()


def _require(obj: Any, action: str, *fields: str) -> None:
    """A reply that lacks a field Kash shows must not turn into a silent zero."""
    for name in fields:
        if getattr(obj, name, None) in (None, ""):
            raise BrokerError(
                f"Alpaca sent a reply Kash could not read while {action} (field {name!r} is "
                "missing); try again, and report it if it persists.",
                kind="malformed",
            )


def to_order(o: Any) -> Order:
    _require(o, "reading an order", "id", "symbol", "status", "side")
    return Order(
        id=str(o.id),
        symbol=o.symbol or "",
        side=OrderSide(_enum(o.side) or "buy"),
        qty=_dec(o.qty),
        order_type=_enum(o.order_type or o.type),
        status=_enum(o.status),
        submitted_at=_time(o.submitted_at) or _time(o.created_at) or datetime.now(UTC),
        filled_at=_time(o.filled_at),
        filled_avg_price=_dec(o.filled_avg_price),
        filled_qty=_dec0(o.filled_qty),
        notional=_dec(o.notional),
        limit_price=_dec(o.limit_price),
        stop_price=_dec(o.stop_price),
        trail_percent=_dec(o.trail_percent),
        trail_price=_dec(o.trail_price),
        time_in_force=_enum(o.time_in_force),
        extended_hours=bool(o.extended_hours),
        client_order_id=o.client_order_id or "",
        asset_class=_enum(o.asset_class) or "us_equity",
    )


def _to_trade(r: Any) -> Trade:
    try:
        return Trade(
            id=str(r["id"]),
            order_id=str(r.get("order_id", "")),
            symbol=str(r["symbol"]),
            side=OrderSide(str(r["side"]).lower()),
            qty=_dec0(r["qty"]),
            price=_dec0(r["price"]),
            commission=_dec0(r.get("commission")),
            time=_time(r.get("transaction_time")) or datetime.now(UTC),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise BrokerError(
            "Alpaca sent a fill Kash could not read (a field is missing); try again, and "
            "report it if it persists.",
            kind="malformed",
        ) from None


class AlpacaTradingAdapter:
    """The broker account of one PAPER or LIVE portfolio."""

    def __init__(
        self,
        session: AlpacaSession,
        *,
        db: Database,
        portfolio_id: int,
        mode: str,
    ) -> None:
        self._session = session
        self._db = db
        self._portfolio_id = portfolio_id
        self._mode = mode
        self._client = session.trading_client()
        self._data_clients: dict[str, Any] = {}

    # -- identity ---------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def live(self) -> bool:
        return self._mode == "LIVE"

    @property
    def capabilities(self) -> Capabilities:
        conn = self._session.connection
        return Capabilities(can_trade=True, live=self.live, streams=conn.cap_trade_stream)

    def connection(self) -> ConnectionInfo:
        return self._session.connection

    @property
    def session(self) -> AlpacaSession:
        return self._session

    def _call(self, action: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return broker_call(action, fn, *args, credentials=self._session.credentials, **kwargs)

    # -- reading ----------------------------------------------------------------------------

    def get_account(self) -> Account:
        a = self._call("loading the account", self._client.get_account)
        _require(a, "loading the account", "cash", "equity", "buying_power")
        return Account(
            cash=_dec0(a.cash),
            equity=_dec0(a.equity),
            buying_power=_dec0(a.buying_power),
            currency=a.currency or "USD",
            status=_enum(a.status),
            pattern_day_trader=(
                None if a.pattern_day_trader is None else bool(a.pattern_day_trader)
            ),
            daytrade_count=None if a.daytrade_count is None else int(a.daytrade_count),
            trading_blocked=bool(a.trading_blocked),
            non_marginable_buying_power=_dec(a.non_marginable_buying_power),
            options_buying_power=_dec(getattr(a, "options_buying_power", None)),
        )

    def get_positions(self) -> list[Position]:
        rows = self._call("loading positions", self._client.get_all_positions)
        for p in rows:
            _require(p, "loading positions", "symbol", "qty", "avg_entry_price", "market_value")
        return [
            Position(
                symbol=p.symbol,
                qty=_dec0(p.qty),
                avg_entry_price=_dec0(p.avg_entry_price),
                current_price=_dec0(p.current_price),
                market_value=_dec0(p.market_value),
                unrealized_pl=_dec0(p.unrealized_pl),
                asset_class=_enum(p.asset_class) or "us_equity",
                side=_enum(p.side) or "long",
            )
            for p in rows
        ]

    def get_orders(self, status: str = "all") -> list[Order]:
        from alpaca.trading.enums import QueryOrderStatus
        from alpaca.trading.requests import GetOrdersRequest

        if status not in ("open", "closed", "all"):
            raise TradingError(f"Unknown order status {status!r}; use open, closed or all.")
        request = GetOrdersRequest(status=QueryOrderStatus(status), limit=500, nested=False)
        rows = self._call("loading orders", self._client.get_orders, filter=request)
        return [to_order(o) for o in rows]

    def get_trades(self, limit: int | None = None) -> list[Trade]:
        """FILL activities, newest first: every one (``limit=None``), or the newest ``limit``.

        Alpaca sends at most 100 a page (alpaca-py has no method; the REST path is called), so
        all of an account with 100,000 fills is 1,000 requests: a few minutes within the rate
        budget. Screens ask for the newest few; ``kash fills`` asks for one more than it shows,
        to say when more exist.
        """
        if limit is not None and limit <= 0:
            return []
        trades: list[Trade] = []
        seen: set[str] = set()
        page_token: str | None = None
        while limit is None or len(trades) < limit:
            size = FILL_PAGE_SIZE if limit is None else min(FILL_PAGE_SIZE, limit - len(trades))
            params: dict[str, Any] = {"page_size": size, "direction": "desc"}
            if page_token:
                params["page_token"] = page_token
            rows = self._call(
                "loading fills", self._client.get, "/account/activities/FILL", params
            )
            if not isinstance(rows, list):
                raise BrokerError(
                    "Alpaca sent a reply Kash could not read while loading fills; try again.",
                    kind="malformed",
                )
            for r in rows:
                trade = _to_trade(r)
                if trade.id in seen:  # a page token that did not move on: stop, never loop
                    raise BrokerError(
                        "Alpaca sent the same fills twice while paging through them; try "
                        "again, and report it if it persists.",
                        kind="malformed",
                    )
                seen.add(trade.id)
                trades.append(trade)
            if len(rows) < size:
                break
            page_token = trades[-1].id
        return trades

    def get_asset(self, symbol: str) -> AssetInfo:
        symbol = symbol.strip().upper()
        if not symbol:
            raise TradingError("Give a symbol.")
        if is_option_symbol(symbol):
            c = self._call(f"looking up {symbol}", self._client.get_option_contract, symbol)
            return AssetInfo(
                symbol=symbol, asset_class="us_option", name=c.name or symbol,
                tradable=bool(c.tradable), fractionable=False, shortable=False, exchange="OPRA",
            )
        try:
            a = self._call(f"looking up {symbol}", self._client.get_asset, quote(symbol, safe=""))
        except BrokerError as exc:
            if exc.kind == "not_found":
                raise TradingError(
                    f"Alpaca does not know the symbol {symbol}; check it (crypto is written "
                    "like BTC/USD, options as OCC symbols like AAPL261218C00190000)."
                ) from None
            raise
        return AssetInfo(
            symbol=a.symbol or symbol,
            asset_class=_enum(a.asset_class) or "us_equity",
            name=a.name or "",
            tradable=bool(a.tradable),
            fractionable=bool(a.fractionable),
            shortable=bool(a.shortable),
            exchange=_enum(a.exchange),
            min_order_size=_positive(getattr(a, "min_order_size", None)),
            min_trade_increment=_positive(getattr(a, "min_trade_increment", None)),
        )

    def get_clock(self) -> MarketClock:
        c = self._call("reading the market clock", self._client.get_clock)
        _require(c, "reading the market clock", "timestamp", "is_open")
        return MarketClock(
            timestamp=(_time(c.timestamp) or datetime.now(UTC)).astimezone(UTC),
            is_open=bool(c.is_open),
            next_open=_time(c.next_open),
            next_close=_time(c.next_close),
        )

    def _price_source(self, asset: AssetInfo) -> str:
        """Where the reference price comes from, as the preview shows it."""
        if asset.asset_class == "crypto":
            return "last trade, Alpaca crypto"
        if asset.asset_class == "us_option":
            return "last trade, OPRA"
        return f"last trade, {self._session.feed_label} feed"

    def _reference_price(self, asset: AssetInfo) -> Decimal | None:
        """The last trade, or None when the data API cannot tell (the preview says so)."""
        try:
            if asset.asset_class == "crypto":
                from alpaca.data.requests import CryptoLatestTradeRequest

                client = self._data("crypto", self._session.crypto_data_client)
                got = self._call(
                    f"getting the last price of {asset.symbol}", client.get_crypto_latest_trade,
                    CryptoLatestTradeRequest(symbol_or_symbols=asset.symbol),
                )
            elif asset.asset_class == "us_option":
                from alpaca.data.requests import OptionLatestTradeRequest

                client = self._data("option", self._session.option_data_client)
                got = self._call(
                    f"getting the last price of {asset.symbol}", client.get_option_latest_trade,
                    OptionLatestTradeRequest(symbol_or_symbols=asset.symbol),
                )
            else:
                from alpaca.data.requests import StockLatestTradeRequest

                client = self._data("stock", self._session.stock_data_client)
                got = self._call(
                    f"getting the last price of {asset.symbol}", client.get_stock_latest_trade,
                    StockLatestTradeRequest(symbol_or_symbols=asset.symbol,
                                            feed=self._session.feed),
                )
        except BrokerError as exc:
            log.info("no reference price for %s: %s", asset.symbol, exc)
            return None
        trade = got.get(asset.symbol) if isinstance(got, dict) else None
        return _dec(getattr(trade, "price", None)) if trade is not None else None

    def _data(self, kind: str, make: Callable[[], Any]) -> Any:
        client = self._data_clients.get(kind)
        if client is None:
            client = self._data_clients[kind] = make()
        return client

    def _position_qty(self, symbol: str) -> tuple[Decimal, Decimal | None]:
        """Signed quantity held and its current price (0, None when flat)."""
        key = position_key(symbol)
        for p in self.get_positions():
            if position_key(p.symbol) == key:
                return p.qty, p.current_price
        return Decimal(0), None

    # -- orders -----------------------------------------------------------------------------

    def preview_order(self, request: OrderRequest):  # noqa: ANN201 - OrderPreview
        from kash_tui.domains.trading.service import OrderPreview

        request = _normalised(request)
        asset = self.get_asset(request.symbol)
        account = self.get_account()
        held, held_price = self._position_qty(request.symbol)
        last = self._reference_price(asset)
        price = last or held_price
        source = self._price_source(asset) if last is not None else (
            "the position's current price" if held_price is not None else "")
        problems, warnings, estimated = check_order(
            request, asset, account=account, position_qty=held, reference_price=price,
            live=self.live,
        )
        return OrderPreview(
            request=request, asset=asset, reference_price=price, estimated_cost=estimated,
            buying_power=account.buying_power, position_qty=held, problems=problems,
            warnings=warnings, live=self.live, price_source=source,
        )

    def submit_order(self, request: OrderRequest, *, confirm_live: bool = False) -> Order:
        request = _normalised(request)
        if self.live and not confirm_live:
            raise LiveConfirmationRequired(
                f"This is a LIVE order on {self._session.connection.name!r} ({request.describe()}); "
                "confirm it explicitly to send it."
            )
        # one ticket at a time in this process; other processes are kept out by the journal's
        # unique client order id and, at the broker, by Alpaca's own uniqueness check
        with _ticket_lock(request.client_order_id):
            existing = self._already_sent(request)
            if existing is not None:
                return existing
            preview = self.preview_order(request)
            if preview.problems:
                raise OrderRuleError(" ".join(preview.problems))
            if not self._journal_claim(request):
                found = self._lookup_client_id(request)
                if found:
                    return found
                raise self._unknown(request, None)
            return self._send(request)

    def _send(self, request: OrderRequest) -> Order:
        try:
            placed = self._call(
                f"sending the order to {request.describe()}",
                self._client.post, "/orders", _order_body(request),
            )
        except BrokerError as exc:
            if exc.kind == "rejected" and "client_order_id" in (exc.broker_message or ""):
                # Alpaca already has an order with this id: this ticket was placed before
                found = self._lookup_client_id(request)
                if found:
                    return found
            if not exc.outcome_unknown:
                self._journal_finish(request, "rejected", message=str(exc))
                raise
            found = self._lookup_client_id(request)
            if found:
                return found
            # Not found (yet) or not answering: the order may still arrive, so it stays
            # "unknown" and the next attempt with this ticket asks the broker first.
            self._journal_finish(request, "unknown", message=str(exc))
            raise self._unknown(request, exc) from None
        order_id = placed.get("id") if isinstance(placed, dict) else None
        if order_id:
            self._journal_finish(request, "sent", broker_order_id=str(order_id))
        from alpaca.trading.models import Order as AlpacaOrder

        try:
            order = to_order(AlpacaOrder(**placed))
        except BrokerError:
            raise
        except Exception:  # noqa: BLE001 - a reply alpaca-py cannot read: ask for the order
            found = self._lookup_client_id(request)
            if found:
                return found
            self._journal_finish(request, "unknown", message="unreadable reply")
            raise self._unknown(request, None) from None
        self._journal_finish(request, "sent", broker_order_id=order.id)
        return order

    def _unknown(self, request: OrderRequest, exc: BrokerError | None) -> BrokerError:
        first = f"{exc} " if exc is not None else ""
        return BrokerError(
            f"{first}It is not known whether Alpaca received the order (client order id "
            f"{request.client_order_id}); Kash did not resend it. Check the open orders; sending "
            "the same ticket again is safe: Alpaca never places one client order id twice.",
            kind=exc.kind if exc is not None else "network",
            status=exc.status if exc is not None else None,
            broker_message=exc.broker_message if exc is not None else None,
        )

    def _lookup_client_id(self, request: OrderRequest) -> Order | None | bool:
        """The broker's order for this ticket; False when the broker says it has none; None
        when the broker cannot be asked."""
        try:
            found = self._call(
                "checking whether the order arrived", self._client.get_order_by_client_id,
                request.client_order_id,
            )
        except BrokerError as exc:
            return False if exc.kind == "not_found" else None
        order = to_order(found)
        if order.symbol.replace("/", "") != request.symbol.replace("/", "") or (
            order.side is not request.side
        ):
            raise TradingError(
                f"The client order id {request.client_order_id} belongs to another order at "
                f"Alpaca ({order.side.value} {order.symbol}); use a new id for this one."
            )
        self._journal_finish(request, "sent", broker_order_id=order.id)
        return order

    def _already_sent(self, request: OrderRequest) -> Order | None:
        """The broker's order if this very ticket was sent before (by a crash or a retry)."""
        with self._db.unit_of_work() as s:
            row = repo.journal_entry(s, request.client_order_id)
            status = row.status if row is not None else None
            summary = row.summary if row is not None else None
        if status is None:
            return None
        if summary != request.describe():
            raise TradingError(
                f"The client order id {request.client_order_id} was already used for another "
                f"order ({summary}); use a new id for this one."
            )
        if status == "rejected":
            return None  # the broker refused it: sending again is a new attempt, same id
        found = self._lookup_client_id(request)
        if found:
            return found
        if found is None:
            raise BrokerError(
                "Kash cannot tell whether this order reached Alpaca (the broker does not answer), "
                "so it is not sent again; try again when the connection is back.",
                kind="network",
            )
        if status == "sending":
            # Left half-way (Kash stopped between writing the journal and hearing the broker)
            # and Alpaca has no order with this id: it may be sent. Should the first attempt
            # still arrive, Alpaca refuses the second id (422) and the order is adopted.
            self._journal_finish(
                request, "unknown",
                message="left in 'sending' by an earlier attempt; Alpaca had no such order",
            )
        return None  # the broker has no order with this id: sending is safe

    def unresolved_ticket(self, request: OrderRequest) -> UnresolvedTicket | None:
        """An earlier ticket for this very order (same portfolio, same description) whose
        outcome is unknown, from the last ``RESUME_WINDOW``; see the Protocol."""
        since = datetime.now(UTC) - RESUME_WINDOW
        with self._db.unit_of_work() as s:
            row = repo.journal_unresolved(
                s, portfolio_id=self._portfolio_id, summary=_normalised(request).describe(),
                since=since,
            )
            if row is None:
                return None
            return UnresolvedTicket(
                client_order_id=row.client_order_id, status=row.status,
                created_at=row.created_at,
            )

    def _journal_claim(self, request: OrderRequest) -> bool:
        """Record the ticket as being sent; False when another process holds it already."""
        try:
            with self._db.unit_of_work() as s:
                return repo.journal_claim(
                    s, portfolio_id=self._portfolio_id, client_order_id=request.client_order_id,
                    symbol=request.symbol, summary=request.describe(), live=self.live,
                )
        except IntegrityError:
            return False  # another process inserted this ticket a moment ago

    def _journal_finish(
        self, request: OrderRequest, status: str, *, broker_order_id: str | None = None,
        message: str | None = None,
    ) -> None:
        with self._db.unit_of_work() as s:
            repo.journal_finish(
                s, request.client_order_id, status, broker_order_id=broker_order_id,
                message=message,
            )

    def cancel_order(self, order_id: str) -> None:
        order_id = order_id.strip()
        if not order_id:
            raise TradingError("Give the id of the order to cancel (see `kash orders`).")
        try:
            UUID(order_id)
        except ValueError:
            raise TradingError(
                f"{order_id!r} is not an Alpaca order id (those look like "
                "1f2e3d4c-5b6a-4789-8abc-0123456789ab); list the open orders and their ids "
                "with `kash orders --status open`."
            ) from None
        try:
            self._call("cancelling the order", self._client.cancel_order_by_id, order_id)
        except BrokerError as exc:
            if exc.kind == "not_found":
                raise TradingError(
                    f"There is no order {order_id} at Alpaca; list them with "
                    "`kash orders --status open`."
                ) from None
            raise

    def close_position(self, symbol: str, *, confirm_live: bool = False) -> Order:
        symbol = symbol.strip().upper()
        if self.live and not confirm_live:
            raise LiveConfirmationRequired(
                f"Closing {symbol} is a LIVE order; confirm it explicitly to send it."
            )
        held, _price = self._position_qty(symbol)
        if held == 0:
            raise TradingError(f"There is no open position in {symbol}.")
        placed = self._call(
            f"closing the {symbol} position", self._client.close_position,
            quote(position_key(symbol), safe=""),
        )
        return to_order(placed)


def _normalised(request: OrderRequest) -> OrderRequest:
    from dataclasses import replace

    symbol = request.symbol.strip().upper()
    if not symbol:
        raise TradingError("Give a symbol.")
    return replace(request, symbol=symbol) if symbol != request.symbol else request


def _wire(value: Decimal) -> str:
    """A decimal as Alpaca's JSON wants it: plain digits, exactly as typed (no float)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _order_body(request: OrderRequest) -> dict[str, Any]:
    """The POST /v2/orders body. Built here rather than with alpaca-py's request models, whose
    float fields would turn 0.00005 into 5e-05 and round a 9-decimal crypto quantity."""
    body: dict[str, Any] = {
        "symbol": request.symbol,
        "side": request.side.value,
        "type": request.order_type.value,
        "time_in_force": request.time_in_force.value,
        "client_order_id": request.client_order_id,
    }
    if request.qty is not None:
        body["qty"] = _wire(request.qty)
    if request.notional is not None:
        body["notional"] = _wire(request.notional)
    for name in ("limit_price", "stop_price", "trail_percent", "trail_price"):
        value = getattr(request, name)
        if value is not None:
            body[name] = _wire(value)
    if request.extended_hours:
        body["extended_hours"] = True
    return body


_ticket_locks: dict[str, threading.Lock] = {}
_ticket_locks_guard = threading.Lock()


def _ticket_lock(client_order_id: str) -> threading.Lock:
    with _ticket_locks_guard:
        lock = _ticket_locks.get(client_order_id)
        if lock is None:
            if len(_ticket_locks) > 1000:
                _ticket_locks.clear()
            lock = _ticket_locks[client_order_id] = threading.Lock()
        return lock
