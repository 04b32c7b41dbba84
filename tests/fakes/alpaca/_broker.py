"""The fake's brains: account, assets, prices, orders, positions, activities, market data.

Everything here is plain Python guarded by one re-entrant lock; the HTTP/WebSocket layer in
``_server.py`` calls in from its event-loop thread and tests call the public setters from theirs.
Errors for clients are raised as :class:`ApiError` and become Alpaca-style JSON replies.
"""

from __future__ import annotations

import math
import random
import secrets
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from tests.fakes.alpaca._models import (
    Asset,
    BarRow,
    OptionContract,
    Order,
    Position,
    stable_id,
)
from tests.fakes.alpaca._util import (
    CT,
    ET,
    UTC,
    ZERO,
    ApiError,
    TimeFrame,
    at_et,
    dec,
    decode_token,
    encode_token,
    fmt_money,
    fmt_price,
    fmt_qty,
    fmt_ratio,
    is_integral,
    next_close_after,
    next_open_after,
    parse_bool,
    parse_date,
    parse_time,
    parse_timeframe,
    session_open,
    start_of_day_et,
    ts,
)

_UNSET: Any = object()

ORDER_TYPES = ("market", "limit", "stop", "stop_limit", "trailing_stop")
TIFS = ("day", "gtc", "opg", "cls", "ioc", "fok")
CRYPTO_QUOTES = ("USD", "USDT", "USDC", "BTC")

SEED_ASSETS: list[dict[str, Any]] = [
    dict(symbol="AAPL", name="Apple Inc. Common Stock", exchange="NASDAQ", price="190.00",
         attributes=["fractional_eh_enabled", "has_options"]),
    dict(symbol="MSFT", name="Microsoft Corporation Common Stock", exchange="NASDAQ",
         price="420.00", attributes=["fractional_eh_enabled", "has_options"]),
    dict(symbol="SPY", name="SPDR S&P 500 ETF Trust", exchange="ARCA", price="500.00",
         attributes=["fractional_eh_enabled", "has_options"]),
    dict(symbol="BRK.A", name="Berkshire Hathaway Inc. Class A", exchange="NYSE",
         price="700000.00", fractionable=False, shortable=False, easy_to_borrow=False),
    dict(symbol="BTC/USD", asset_class="crypto", name="Bitcoin  / US Dollar", exchange="CRYPTO",
         price="60000.00", shortable=False, easy_to_borrow=False, marginable=False,
         min_order_size="0.0001", min_trade_increment="0.000000001", price_increment="1"),
    dict(symbol="ETH/USD", asset_class="crypto", name="Ethereum / US Dollar", exchange="CRYPTO",
         price="3000.00", shortable=False, easy_to_borrow=False, marginable=False,
         min_order_size="0.001", min_trade_increment="0.000000001", price_increment="0.1"),
]
SEED_DAILY_BARS = 300


class Broker:
    """State and rules. :class:`FakeAlpaca` adds the server on top."""

    def __init__(self, *, seed: bool = True) -> None:
        self._lock = threading.RLock()
        self.key_id = "PK" + secrets.token_hex(9).upper()
        self.secret_key = secrets.token_hex(20)
        # account
        self._account_id = str(uuid.uuid4())
        self._account_number = "PA" + secrets.token_hex(5).upper()
        self._created_at = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)
        self._cash = Decimal(100000)
        self._last_equity: Decimal | None = None
        self._multiplier = Decimal(2)
        self._bp_override: Decimal | None = None
        self._account_flags: dict[str, Any] = {
            "status": "ACTIVE",
            "crypto_status": "ACTIVE",
            "currency": "USD",
            "trading_blocked": False,
            "transfers_blocked": False,
            "account_blocked": False,
            "trade_suspended_by_user": False,
            "shorting_enabled": True,
            "options_approved_level": 2,
            "options_trading_level": 2,
        }
        self._legacy_pdt: dict[str, Any] = {}
        self._account_extra: dict[str, Any] = {}
        # market
        self._assets: dict[str, Asset] = {}
        self._prices: dict[str, Decimal] = {}
        self._price_times: dict[str, datetime] = {}
        self._lastday: dict[str, Decimal] = {}
        self._quotes: dict[str, tuple[Decimal, Decimal, int, int]] = {}
        self._bars: dict[tuple[str, str], dict[datetime, BarRow]] = {}
        self._options: dict[str, OptionContract] = {}
        # trading
        self._orders: dict[str, Order] = {}
        self._positions: dict[str, Position] = {}  # by asset symbol
        self._activities: list[dict[str, Any]] = []
        self._clock_now: datetime | None = None
        self._clock_open: bool | str = True
        self.auto_fill_market = True
        """Market orders fill at once (when the market is open). Off: they rest until
        :meth:`fill_order`."""
        self.bars_page_cap = 1000
        """Most bars one page carries, whatever ``limit`` asks (real Alpaca: 10000)."""
        self._replay: dict[str, tuple[TimeFrame, deque[BarRow]]] = {}
        self.stream_silent = False
        """While True, :meth:`advance` stores bars (REST sees them) but sends none over the
        market-data streams: a connected stream gone silent."""
        self.replay_fill_offset = Decimal(0)
        """Added to the next bar's open for a replayed symbol's market buys, taken off for its
        sells: slippage a test introduces on purpose."""
        if seed:
            self._seed()

    # ------------------------------------------------------------------ hooks (server overrides)

    def _publish_trade_update(self, payload: dict[str, Any]) -> None:  # pragma: no cover
        """Called under the lock for every trade update (``data`` of a trade_updates frame)."""

    def _publish_market(self, symbol_class: str, channel: str, symbol: str, msg: dict[str, Any]) -> None:  # pragma: no cover
        """Called under the lock for every market-data message."""

    # ------------------------------------------------------------------ clock

    def now(self) -> datetime:
        """The fake's current time (real time unless :meth:`set_clock` froze it)."""
        return self._clock_now if self._clock_now is not None else datetime.now(UTC)

    def set_clock(self, *, now: datetime | None | Any = _UNSET, is_open: bool | str | Any = _UNSET) -> None:
        """Freeze the fake's time (``now=None`` unfreezes) and/or say whether the market is open.

        ``is_open``: ``True`` (default) / ``False`` / ``"auto"`` (real session hours, weekdays
        9:30-16:00 ET, no holidays). Opening the market routes orders accepted while closed.
        """
        with self._lock:
            if now is not _UNSET:
                if now is not None and now.tzinfo is None:
                    now = now.replace(tzinfo=UTC)
                self._clock_now = now
            if is_open is not _UNSET:
                self._clock_open = is_open
            self._route_waiting()

    def market_open(self) -> bool:
        if self._clock_open == "auto":
            return session_open(self.now())
        return bool(self._clock_open)

    def clock_json(self) -> dict[str, Any]:
        with self._lock:
            now = self.now()
            is_open = self.market_open()
            if is_open:
                next_close = next_close_after(now)
                next_open = next_open_after(next_close)
            else:
                next_open = next_open_after(now)
                next_close = at_et(next_open.astimezone(ET).date(), time(16, 0))
            stamp = now.astimezone(ET).isoformat()
            return {
                "timestamp": stamp,
                "is_open": is_open,
                "next_open": next_open.isoformat(),
                "next_close": next_close.isoformat(),
            }

    def calendar_json(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        today = self.now().astimezone(ET).date()
        start = parse_date(query["start"]) if query.get("start") else today
        end = parse_date(query["end"]) if query.get("end") else start + timedelta(days=30)
        out = []
        d = start
        while d <= end:
            if d.weekday() < 5:
                out.append({
                    "date": d.isoformat(), "open": "09:30", "close": "16:00",
                    "session_open": "0400", "session_close": "2000",
                    "settlement_date": (d + timedelta(days=1)).isoformat(),
                })
            d += timedelta(days=1)
        return out

    # ------------------------------------------------------------------ setup: assets and prices

    def _seed(self) -> None:
        for spec in SEED_ASSETS:
            spec = dict(spec)
            price = spec.pop("price")
            self.add_asset(**spec)
            self.set_price(spec["symbol"], price)
        end = self.now()
        for spec in SEED_ASSETS:
            self.generate_bars(spec["symbol"], "1Day", count=SEED_DAILY_BARS, end=end,
                               end_price=spec["price"], seed=7)

    def add_asset(
        self,
        symbol: str,
        *,
        asset_class: str = "us_equity",
        name: str = "",
        fractionable: bool = True,
        shortable: bool = True,
        easy_to_borrow: bool = True,
        tradable: bool = True,
        exchange: str | None = None,
        status: str = "active",
        marginable: bool | None = None,
        attributes: list[str] | None = None,
        price: Any = None,
        min_order_size: str | None = None,
        min_trade_increment: str | None = None,
        price_increment: str | None = None,
    ) -> dict[str, Any]:
        """Add (or replace) an asset; returns its JSON. ``price`` also calls :meth:`set_price`."""
        crypto = asset_class == "crypto"
        asset = Asset(
            symbol=symbol,
            asset_class=asset_class,
            name=name,
            exchange=exchange if exchange is not None else ("CRYPTO" if crypto else "NASDAQ"),
            status=status,
            tradable=tradable,
            marginable=(not crypto) if marginable is None else marginable,
            shortable=shortable and not crypto,
            easy_to_borrow=easy_to_borrow and not crypto,
            fractionable=fractionable,
            attributes=list(attributes or []),
            min_order_size=min_order_size if min_order_size is not None else ("0.000000001" if crypto else None),
            min_trade_increment=min_trade_increment if min_trade_increment is not None else ("0.000000001" if crypto else None),
            price_increment=price_increment if price_increment is not None else ("0.01" if crypto else None),
        )
        with self._lock:
            self._assets[symbol] = asset
            if price is not None:
                self.set_price(symbol, price)
            return asset.to_json()

    def set_price(self, symbol: str, price: Any, *, lastday_price: Any = None) -> None:
        """The last trade price: fills, quotes, positions' market value. Resting orders on
        ``symbol`` that the new price makes marketable fill (when the market is open)."""
        with self._lock:
            p = dec(price, "price")
            self._prices[symbol] = p
            self._price_times[symbol] = self.now()
            if lastday_price is not None:
                self._lastday[symbol] = dec(lastday_price, "lastday_price")
            else:
                self._lastday.setdefault(symbol, p)
            self._check_resting(symbol)

    def set_quote(self, symbol: str, bid: Any, ask: Any, *, bid_size: int = 100, ask_size: int = 100) -> None:
        """Override the quote (default: last price -/+ one cent, or 0.05% for crypto)."""
        with self._lock:
            self._quotes[symbol] = (dec(bid), dec(ask), bid_size, ask_size)

    def price(self, symbol: str) -> Decimal | None:
        with self._lock:
            return self._price_of(symbol)

    def _price_of(self, symbol: str) -> Decimal | None:
        p = self._prices.get(symbol)
        if p is not None:
            return p
        contract = self._options.get(symbol)
        if contract is not None:
            if contract.last is not None:
                return contract.last
            if contract.bid is not None and contract.ask is not None:
                return (contract.bid + contract.ask) / 2
        return None

    def _quote_of(self, symbol: str) -> tuple[Decimal, Decimal, int, int] | None:
        if symbol in self._quotes:
            return self._quotes[symbol]
        contract = self._options.get(symbol)
        if contract is not None and contract.bid is not None and contract.ask is not None:
            return contract.bid, contract.ask, contract.bid_size, contract.ask_size
        p = self._prices.get(symbol)
        if p is None:
            return None
        asset = self._assets.get(symbol)
        spread = (p * Decimal("0.0005")).quantize(Decimal("0.01")) if asset and asset.is_crypto else Decimal("0.01")
        spread = max(spread, Decimal("0.01"))
        return p - spread, p + spread, 100, 100

    # ------------------------------------------------------------------ setup: account

    def set_account(self, **kwargs: Any) -> dict[str, Any]:
        """Change account fields; what is not passed keeps its value. Returns the account JSON.

        Known: ``cash``, ``buying_power`` (fixed override; ``None`` = computed), ``multiplier``
        (``1`` cash account: buying power = cash; ``2`` default: Reg-T), ``last_equity``,
        ``status``, ``crypto_status``, ``trading_blocked``, ``account_blocked``,
        ``transfers_blocked``, ``trade_suspended_by_user``, ``shorting_enabled``,
        ``options_approved_level``, ``options_trading_level``, ``pattern_day_trader``,
        ``daytrade_count``, ``daytrading_buying_power`` (the last three are omitted from the JSON
        unless set, as Alpaca stopped sending them on 2026-07-06). Anything else is copied
        verbatim into the JSON (e.g. ``accrued_fees="1.5"``).
        """
        with self._lock:
            for key, value in kwargs.items():
                if key == "cash":
                    self._cash = dec(value, "cash")
                elif key == "buying_power":
                    self._bp_override = None if value is None else dec(value, "buying_power")
                elif key == "multiplier":
                    self._multiplier = dec(value, "multiplier")
                elif key == "last_equity":
                    self._last_equity = None if value is None else dec(value, "last_equity")
                elif key in self._account_flags:
                    self._account_flags[key] = value
                elif key in ("pattern_day_trader", "daytrade_count", "daytrading_buying_power"):
                    if value is None:
                        self._legacy_pdt.pop(key, None)
                    else:
                        self._legacy_pdt[key] = value
                else:
                    self._account_extra[key] = value
            return self.account_json()

    def add_position(self, symbol: str, qty: Any, avg_entry_price: Any = None) -> dict[str, Any]:
        """Give the account a holding (bought before today) without touching cash; negative
        ``qty`` is a short. ``qty=0`` removes it. Returns the position JSON (or ``{}``)."""
        with self._lock:
            asset = self._asset_or_option(symbol)
            if asset is None:
                raise KeyError(f"unknown symbol {symbol!r}; add_asset / add_option_contract first")
            q = dec(qty, "qty")
            if q == 0:
                self._positions.pop(asset.symbol, None)
                return {}
            price = self._price_of(asset.symbol)
            avg = dec(avg_entry_price) if avg_entry_price is not None else (price or Decimal(1))
            base = self._lastday.get(asset.symbol, price or avg)
            self._positions[asset.symbol] = Position(asset, q, avg, intraday_base=base)
            return self._position_json(self._positions[asset.symbol])

    # ------------------------------------------------------------------ lookups

    def _find_asset(self, key: str) -> Asset | None:
        if key in self._assets:
            return self._assets[key]
        upper = key.upper()
        if upper in self._assets:
            return self._assets[upper]
        for asset in self._assets.values():
            if asset.id == key or (asset.is_crypto and asset.position_symbol == upper):
                return asset
        if "/" not in upper:
            for quote in CRYPTO_QUOTES:
                if upper.endswith(quote) and len(upper) > len(quote):
                    cand = f"{upper[: -len(quote)]}/{quote}"
                    if cand in self._assets:
                        return self._assets[cand]
        return None

    def _option_asset(self, contract: OptionContract) -> Asset:
        asset = self._assets.get(contract.symbol)
        if asset is None or not asset.is_option:
            asset = Asset(symbol=contract.symbol, asset_class="us_option", name=contract.name,
                          exchange="", tradable=contract.tradable, marginable=True,
                          shortable=False, easy_to_borrow=False, fractionable=False,
                          status=contract.status, id=contract.id)
        return asset

    def _asset_or_option(self, key: str) -> Asset | None:
        asset = self._find_asset(key)
        if asset is not None:
            return asset
        contract = self._options.get(key.upper()) or next(
            (c for c in self._options.values() if c.id == key), None
        )
        return self._option_asset(contract) if contract is not None else None

    # ------------------------------------------------------------------ account maths

    @staticmethod
    def _contract_mult(asset: Asset) -> Decimal:
        return Decimal(100) if asset.is_option else Decimal(1)

    def _market_value(self, pos: Position) -> Decimal:
        price = self._price_of(pos.asset.symbol) or pos.avg_entry_price
        return pos.qty * price * self._contract_mult(pos.asset)

    def _order_price_estimate(self, order: Order) -> Decimal:
        price = self._price_of(order.asset.symbol) or ZERO
        if order.type in ("limit", "stop_limit") and order.limit_price is not None:
            return order.limit_price
        if order.type == "stop" and order.stop_price is not None:
            return max(order.stop_price, price) if order.side == "buy" else order.stop_price
        return price

    def _order_hold(self, order: Order) -> Decimal:
        """Cash an open buy order holds back (Alpaca lowers buying power by it)."""
        if order.notional is not None:
            return max(ZERO, order.notional - order.filled_value)
        remaining = (order.qty or ZERO) - order.filled_qty
        return max(ZERO, remaining) * self._order_price_estimate(order) * self._contract_mult(order.asset)

    def _numbers(self) -> dict[str, Decimal]:
        lmv = smv = im = mm = ZERO
        for pos in self._positions.values():
            mv = self._market_value(pos)
            if mv >= 0:
                lmv += mv
            else:
                smv += mv
            marginable = pos.asset.marginable and not pos.asset.is_crypto and not pos.asset.is_option
            im += abs(mv) * (Decimal("0.5") if marginable and self._multiplier > 1 else Decimal(1))
            mm += abs(mv) * (Decimal("0.3") if marginable else Decimal(1))
        equity = self._cash + lmv + smv
        holds = sum((self._order_hold(o) for o in self._orders.values()
                     if o.is_open and o.side == "buy"), ZERO)
        non_marginable = max(ZERO, self._cash - holds)
        if self._multiplier > 1:
            regt = max(ZERO, (equity - im) * self._multiplier)
            buying_power = max(ZERO, regt - holds)
        else:
            regt = max(ZERO, self._cash)
            buying_power = non_marginable
        if self._bp_override is not None:
            buying_power = regt = self._bp_override
        return {
            "cash": self._cash, "lmv": lmv, "smv": smv, "equity": equity, "im": im, "mm": mm,
            "regt": regt, "bp": buying_power, "nmbp": non_marginable,
        }

    def account_json(self) -> dict[str, Any]:
        with self._lock:
            n = self._numbers()
            last_equity = self._last_equity if self._last_equity is not None else n["equity"]
            data: dict[str, Any] = {
                "id": self._account_id,
                "admin_configurations": {},
                "user_configurations": None,
                "account_number": self._account_number,
                "status": self._account_flags["status"],
                "crypto_status": self._account_flags["crypto_status"],
                "options_approved_level": self._account_flags["options_approved_level"],
                "options_trading_level": self._account_flags["options_trading_level"],
                "currency": self._account_flags["currency"],
                "buying_power": fmt_money(n["bp"]),
                "regt_buying_power": fmt_money(n["regt"]),
                "effective_buying_power": fmt_money(n["bp"]),
                "non_marginable_buying_power": fmt_money(n["nmbp"]),
                "options_buying_power": fmt_money(n["nmbp"]),
                "bod_dtbp": "0",
                "cash": fmt_money(n["cash"]),
                "accrued_fees": "0",
                "pending_transfer_in": "0",
                "portfolio_value": fmt_money(n["equity"]),
                "trading_blocked": self._account_flags["trading_blocked"],
                "transfers_blocked": self._account_flags["transfers_blocked"],
                "account_blocked": self._account_flags["account_blocked"],
                "created_at": ts(self._created_at),
                "trade_suspended_by_user": self._account_flags["trade_suspended_by_user"],
                "multiplier": fmt_qty(self._multiplier),
                "shorting_enabled": self._account_flags["shorting_enabled"],
                "equity": fmt_money(n["equity"]),
                "last_equity": fmt_money(last_equity),
                "long_market_value": fmt_money(n["lmv"]),
                "short_market_value": fmt_money(n["smv"]),
                "position_market_value": fmt_money(n["lmv"] - n["smv"]),
                "initial_margin": fmt_money(n["im"]),
                "maintenance_margin": fmt_money(n["mm"]),
                "last_maintenance_margin": fmt_money(n["mm"]),
                "sma": fmt_money(n["equity"]),
                "balance_asof": (self.now().astimezone(ET).date() - timedelta(days=1)).isoformat(),
                "crypto_tier": 1,
                "intraday_adjustments": "0",
                "pending_reg_taf_fees": "0",
            }
            data.update(self._legacy_pdt)
            data.update(self._account_extra)
            return data

    def account_configurations_json(self) -> dict[str, Any]:
        return {
            "dtbp_check": "entry", "trade_confirm_email": "all", "suspend_trade": False,
            "no_shorting": not self._account_flags["shorting_enabled"], "fractional_trading": True,
            "max_margin_multiplier": fmt_qty(self._multiplier), "max_options_trading_level": 2,
            "pdt_check": "entry", "ptp_no_exception_entry": False,
        }

    # ------------------------------------------------------------------ positions

    def _position_json(self, pos: Position) -> dict[str, Any]:
        asset = pos.asset
        mult = self._contract_mult(asset)
        price = self._price_of(asset.symbol) or pos.avg_entry_price
        lastday = self._lastday.get(asset.symbol, price)
        mv = pos.qty * price * mult
        cost = pos.qty * pos.avg_entry_price * mult
        upl = mv - cost
        uplpc = upl / abs(cost) if cost else ZERO
        base = pos.intraday_base if pos.intraday_base is not None else pos.avg_entry_price
        ipl = (price - base) * pos.qty * mult
        iplpc = ipl / abs(base * pos.qty * mult) if base and pos.qty else ZERO
        held = sum(((o.qty or ZERO) - o.filled_qty for o in self._orders.values()
                    if o.is_open and o.asset.symbol == asset.symbol
                    and o.side == ("sell" if pos.qty > 0 else "buy")), ZERO)
        return {
            "asset_id": asset.id,
            "symbol": asset.position_symbol,
            "exchange": asset.exchange,
            "asset_class": asset.asset_class,
            "asset_marginable": asset.marginable,
            "qty": fmt_qty(pos.qty),
            "avg_entry_price": fmt_price(pos.avg_entry_price),
            "side": "long" if pos.qty > 0 else "short",
            "market_value": fmt_money(mv),
            "cost_basis": fmt_money(cost),
            "unrealized_pl": fmt_money(upl),
            "unrealized_plpc": fmt_ratio(uplpc),
            "unrealized_intraday_pl": fmt_money(ipl),
            "unrealized_intraday_plpc": fmt_ratio(iplpc),
            "current_price": fmt_price(price),
            "lastday_price": fmt_price(lastday),
            "change_today": fmt_ratio((price - lastday) / lastday if lastday else ZERO),
            "qty_available": fmt_qty(pos.qty - held if pos.qty > 0 else pos.qty + held),
        }

    def positions_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._position_json(p) for p in
                    sorted(self._positions.values(), key=lambda p: p.asset.symbol)]

    def _find_position(self, key: str) -> Position:
        asset = self._asset_or_option(key)
        if asset is not None and asset.symbol in self._positions:
            return self._positions[asset.symbol]
        for pos in self._positions.values():
            if key in (pos.asset.symbol, pos.asset.position_symbol, pos.asset.id):
                return pos
        raise ApiError(404, "position does not exist", code=40410000)

    def position_json(self, key: str) -> dict[str, Any]:
        with self._lock:
            return self._position_json(self._find_position(key))

    def close_position(self, key: str, query: Mapping[str, str]) -> dict[str, Any]:
        with self._lock:
            pos = self._find_position(key)
            qty = abs(pos.qty)
            if query.get("qty"):
                qty = dec(query["qty"], "qty")
                if qty <= 0 or qty > abs(pos.qty):
                    raise ApiError(403, f"insufficient qty available for order (requested: "
                                        f"{fmt_qty(qty)}, available: {fmt_qty(abs(pos.qty))})",
                                   code=40310000)
            elif query.get("percentage"):
                pct = dec(query["percentage"], "percentage")
                if not 0 < pct <= 100:
                    raise ApiError(422, "percentage must be between 0 and 100")
                qty = (abs(pos.qty) * pct / 100).quantize(Decimal("0.000000001"), rounding=ROUND_DOWN)
            # Alpaca refuses while other orders hold the shares
            body = {
                "symbol": pos.asset.symbol,
                "qty": str(qty),
                "side": "sell" if pos.qty > 0 else "buy",
                "type": "market",
                "time_in_force": "gtc" if pos.asset.is_crypto else "day",
            }
            return self.submit_order(body)

    def close_all_positions(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        with self._lock:
            if parse_bool(query.get("cancel_orders")):
                self.cancel_all_orders()
            out = []
            for pos in list(self._positions.values()):
                try:
                    order = self.close_position(pos.asset.symbol, {})
                    out.append({"order_id": order["id"], "status": 200,
                                "symbol": pos.asset.position_symbol, "body": order})
                except ApiError as exc:
                    out.append({"status": exc.status, "symbol": pos.asset.position_symbol,
                                "body": exc.body()})
            return out

    # ------------------------------------------------------------------ orders: queries

    @property
    def orders(self) -> list[dict[str, Any]]:
        """Every order the fake knows (oldest first), as Alpaca's JSON."""
        with self._lock:
            return [o.to_json() for o in self._orders.values()]

    @property
    def positions(self) -> list[dict[str, Any]]:
        return self.positions_json()

    @property
    def account(self) -> dict[str, Any]:
        return self.account_json()

    @property
    def activities(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(a) for a in self._activities]

    def add_fills(self, count: int, symbol: str = "AAPL", *, price: Any = 100,
                  qty: Any = 1, start: datetime | None = None) -> None:
        """Append ``count`` FILL activities (one a second from ``start``, default a day ago)
        without touching orders, positions or cash: an account's long history of fills."""
        with self._lock:
            first = start or (self.now() - timedelta(days=1))
            p, q = fmt_price(dec(price, "price")), fmt_qty(dec(qty, "qty"))
            for k in range(count):
                at = first + timedelta(seconds=k)
                self._activities.append({
                    "id": f"{at.astimezone(UTC):%Y%m%d%H%M%S}000::{uuid.uuid4()}",
                    "account_id": self._account_id, "activity_type": "FILL",
                    "transaction_time": ts(at), "type": "fill", "price": p, "qty": q,
                    "side": "buy" if k % 2 == 0 else "sell", "symbol": symbol,
                    "leaves_qty": "0", "order_id": str(uuid.uuid4()), "cum_qty": q,
                    "order_status": "filled",
                })

    def _get_order(self, order_id: str) -> Order:
        try:
            uuid.UUID(order_id)
        except ValueError:
            raise ApiError(422, "order_id is missing", code=40010001) from None
        order = self._orders.get(order_id)
        if order is None:
            raise ApiError(404, "order not found", code=40410000)
        return order

    def order_json(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._get_order(order_id).to_json()

    def order_by_client_id_json(self, client_order_id: str | None) -> dict[str, Any]:
        with self._lock:
            for order in self._orders.values():
                if order.client_order_id == client_order_id:
                    return order.to_json()
            raise ApiError(404, "order not found", code=40410000)

    def list_orders(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        with self._lock:
            status = (query.get("status") or "open").lower()
            if status not in ("open", "closed", "all"):
                raise ApiError(422, f"invalid status: {status}")
            try:
                limit = int(query.get("limit") or 50)
            except ValueError:
                raise ApiError(422, "invalid limit") from None
            if not 1 <= limit <= 500:
                raise ApiError(422, "limit must be between 1 and 500")
            direction = (query.get("direction") or "desc").lower()
            after = parse_time(query["after"], "after") if query.get("after") else None
            until = parse_time(query["until"], "until") if query.get("until") else None
            symbols = {s.strip().upper() for s in (query.get("symbols") or "").split(",") if s.strip()}
            side = (query.get("side") or "").lower()
            rows = []
            for order in self._orders.values():
                if status == "open" and not order.is_open:
                    continue
                if status == "closed" and order.is_open:
                    continue
                if symbols and order.asset.symbol.upper() not in symbols and \
                        order.asset.position_symbol.upper() not in symbols:
                    continue
                if side and order.side != side:
                    continue
                sub = order.submitted_at or order.created_at
                if after and sub <= after:
                    continue
                if until and sub >= until:
                    continue
                rows.append(order)
            rows.sort(key=lambda o: o.submitted_at or o.created_at, reverse=direction != "asc")
            return [o.to_json() for o in rows[:limit]]

    # ------------------------------------------------------------------ orders: submit

    def submit_order(self, body: Any) -> dict[str, Any]:
        """POST /v2/orders. Returns the order as Alpaca acknowledges it (``pending_new``);
        routing, fills and trade updates follow at once."""
        with self._lock:
            order = self._validate_new_order(body)
            self._orders[order.id] = order
            ack = order.to_json()
            self._route(order)
            return ack

    def _validate_new_order(self, body: Any) -> Order:
        if not isinstance(body, dict):
            raise ApiError(400, "request body format is invalid", code=40010000)
        flags = self._account_flags
        if flags["account_blocked"] or flags["trading_blocked"] or flags["trade_suspended_by_user"]:
            raise ApiError(403, "account is not allowed to trade", code=40310000)
        order_class = body.get("order_class") or ""
        if order_class not in ("", "simple"):
            raise ApiError(422, f"order_class {order_class} is not supported by this fake",
                           code=40010001)
        symbol = body.get("symbol")
        if not symbol:
            raise ApiError(422, "symbol is required")
        side = (body.get("side") or "").lower()
        if side not in ("buy", "sell"):
            raise ApiError(422, "side is required" if not side else f"invalid side: {side}")
        otype = (body.get("type") or body.get("order_type") or "").lower()
        if otype not in ORDER_TYPES:
            raise ApiError(422, "type is required" if not otype else f"invalid order type: {otype}")
        tif = (body.get("time_in_force") or "").lower()
        if tif not in TIFS:
            raise ApiError(422, "time_in_force is required" if not tif
                           else f"invalid time_in_force: {tif}")
        asset = self._asset_or_option(str(symbol))
        if asset is None:
            raise ApiError(422, f'asset "{symbol}" not found', code=40010001)
        if asset.status != "active" or not asset.tradable:
            raise ApiError(422, f"asset {asset.symbol} is not tradable", code=40010001)

        has_qty = body.get("qty") not in (None, "")
        has_notional = body.get("notional") not in (None, "")
        if has_qty and has_notional:
            raise ApiError(422, "only one of qty or notional can be specified", code=40010001)
        if not has_qty and not has_notional:
            raise ApiError(422, "qty or notional is required", code=40010001)
        qty = dec(body["qty"], "qty") if has_qty else None
        notional = dec(body["notional"], "notional") if has_notional else None
        if qty is not None and qty <= 0:
            raise ApiError(422, "qty must be > 0", code=40010001)
        if notional is not None and notional <= 0:
            raise ApiError(422, "notional must be > 0", code=40010001)
        if notional is not None and not asset.is_crypto and notional < 1:
            raise ApiError(422, "notional must be >= 1", code=40010001)

        limit_price = dec(body["limit_price"], "limit_price") if body.get("limit_price") not in (None, "") else None
        stop_price = dec(body["stop_price"], "stop_price") if body.get("stop_price") not in (None, "") else None
        trail_price = dec(body["trail_price"], "trail_price") if body.get("trail_price") not in (None, "") else None
        trail_percent = dec(body["trail_percent"], "trail_percent") if body.get("trail_percent") not in (None, "") else None
        if otype in ("limit", "stop_limit") and limit_price is None:
            raise ApiError(422, "limit_price is required for limit orders"
                           if otype == "limit" else "limit_price is required", code=40010001)
        if otype in ("stop", "stop_limit") and stop_price is None:
            raise ApiError(422, "stop_price is required", code=40010001)
        if otype == "trailing_stop":
            if (trail_price is None) == (trail_percent is None):
                raise ApiError(422, "exactly one of trail_price or trail_percent is required",
                               code=40010001)
        for name, value in (("limit_price", limit_price), ("stop_price", stop_price)):
            if value is None:
                continue
            if value <= 0:
                raise ApiError(422, f"{name} must be > 0", code=40010001)
            if not asset.is_crypto:
                places = 2 if value >= 1 else 4
                if value != value.quantize(Decimal(1).scaleb(-places)):
                    raise ApiError(422, f"invalid {name} {plain_num(value)}. sub-penny increment "
                                        "does not fulfill minimum pricing criteria", code=42210000)

        fractional = notional is not None or (qty is not None and not is_integral(qty))
        extended = parse_bool(str(body.get("extended_hours")), False) if body.get("extended_hours") is not None else False
        if asset.is_crypto:
            if tif not in ("gtc", "ioc"):
                raise ApiError(422, "invalid crypto time_in_force", code=42210000)
            if otype not in ("market", "limit", "stop_limit"):
                raise ApiError(422, f"invalid order type for crypto order: {otype}", code=42210000)
            if extended:
                raise ApiError(422, "extended hours is not supported for crypto orders", code=42210000)
        elif asset.is_option:
            if fractional:
                raise ApiError(422, "qty must be integer", code=40010001)
            if tif != "day":
                raise ApiError(422, "only day orders are allowed for options", code=42210000)
            if otype not in ("market", "limit", "stop", "stop_limit"):
                raise ApiError(422, f"invalid order type for options order: {otype}", code=42210000)
            if extended:
                raise ApiError(422, "extended hours is not supported for options", code=42210000)
        else:
            if fractional and not asset.fractionable:
                if notional is not None:
                    raise ApiError(422, f"asset {asset.symbol} is not fractionable", code=40010001)
                raise ApiError(422, "qty must be integer", code=40010001)
            if fractional and tif != "day":
                raise ApiError(422, "fractional orders must be DAY orders", code=40010001)
            if notional is not None and otype != "market":
                raise ApiError(422, "notional orders must be market orders", code=40010001)
        if extended and not (otype == "limit" and tif == "day"):
            raise ApiError(422, "extended hours order must be DAY limit orders", code=42210000)

        client_order_id = body.get("client_order_id") or str(uuid.uuid4())
        if len(str(client_order_id)) > 128:
            raise ApiError(422, "client_order_id must be no more than 128 characters", code=40010001)
        if any(o.client_order_id == client_order_id for o in self._orders.values()):
            raise ApiError(422, "client_order_id must be unique", code=40010001)

        now = self.now()
        order = Order(
            id=str(uuid.uuid4()),
            client_order_id=str(client_order_id),
            asset=asset,
            side=side,
            type=otype,
            time_in_force=tif,
            qty=qty,
            notional=notional,
            created_at=now,
            updated_at=now,
            submitted_at=now,
            order_class=order_class,
            limit_price=limit_price,
            stop_price=stop_price,
            trail_price=trail_price,
            trail_percent=trail_percent,
            extended_hours=extended,
        )
        self._check_funds(order, fractional)
        if tif == "day" and not asset.is_crypto:
            order.expires_at = next_close_after(now).astimezone(UTC)
        elif tif == "gtc":
            order.expires_at = now + timedelta(days=90)
        pos = self._positions.get(asset.symbol)
        held = pos.qty if pos else ZERO
        if body.get("position_intent"):
            order.position_intent = str(body["position_intent"])
        elif side == "buy":
            order.position_intent = "buy_to_close" if held < 0 else "buy_to_open"
        else:
            order.position_intent = "sell_to_close" if held > 0 else "sell_to_open"
        if otype == "trailing_stop":
            price = self._price_of(asset.symbol) or ZERO
            order.hwm = price
            order.stop_price = self._trail_stop(order)
        return order

    def _check_funds(self, order: Order, fractional: bool) -> None:
        asset = order.asset
        price = self._price_of(asset.symbol)
        if price is None and order.type in ("market", "trailing_stop"):
            raise ApiError(422, f"no price for {asset.symbol}; call set_price first", code=40010001)
        n = self._numbers()
        pos = self._positions.get(asset.symbol)
        held = pos.qty if pos else ZERO
        if order.side == "buy":
            cost = self._order_hold(order)
            if asset.is_crypto or asset.is_option:
                available = n["nmbp"]
            else:
                available = n["bp"]
            if cost > available:
                raise ApiError(403, "insufficient buying power", code=40310000)
            return
        # sell
        qty = order.target_qty(price) or ZERO
        open_sells = sum(((o.qty or ZERO) - o.filled_qty for o in self._orders.values()
                          if o.is_open and o.side == "sell" and o.asset.symbol == asset.symbol), ZERO)
        if held > 0:
            available = max(ZERO, held - open_sells)
            if qty > available and asset.is_crypto:
                base = asset.symbol.split("/")[0]
                raise ApiError(403, f"insufficient balance for {base} (requested: {fmt_qty(qty)}, "
                                    f"available: {fmt_qty(available)})", code=40310000)
            if qty > available:
                raise ApiError(
                    403,
                    f"insufficient qty available for order (requested: {fmt_qty(qty)}, "
                    f"available: {fmt_qty(available)})",
                    code=40310000,
                    available=fmt_qty(available),
                    existing_qty=fmt_qty(held),
                    held_for_orders=fmt_qty(open_sells),
                    symbol=asset.symbol,
                )
            return
        # opening or adding to a short
        if asset.is_crypto:
            base = asset.symbol.split("/")[0]
            raise ApiError(403, f"insufficient balance for {base} (requested: {fmt_qty(qty)}, "
                                f"available: 0)", code=40310000)
        if asset.is_option:
            raise ApiError(403, "account not eligible to trade uncovered option contracts",
                           code=40310000)
        if fractional:
            raise ApiError(422, "fractional orders cannot be sold short", code=40010001)
        if not self._account_flags["shorting_enabled"] or self._multiplier <= 1:
            raise ApiError(403, "account is not allowed to short", code=40310000)
        if not asset.shortable:
            raise ApiError(422, f"asset {asset.symbol} cannot be sold short", code=40010001)
        cost = qty * self._order_price_estimate(order)
        if cost > n["bp"]:
            raise ApiError(403, "insufficient buying power", code=40310000)

    # ------------------------------------------------------------------ orders: lifecycle

    def _event(self, event: str, order: Order, **extra: Any) -> None:
        payload: dict[str, Any] = {
            "event": event,
            "timestamp": ts(self.now()),
            "order": order.to_json(),
        }
        if event in ("fill", "partial_fill"):
            payload["execution_id"] = str(uuid.uuid4())
        payload.update(extra)
        self._publish_trade_update(payload)

    def _tradable_now(self, order: Order) -> bool:
        return order.asset.is_crypto or self.market_open() or order.extended_hours

    def _route(self, order: Order) -> None:
        """pending_new -> accepted (market closed) or new, then whatever fills at once."""
        if not self._tradable_now(order):
            self._set_status(order, "accepted")
            self._event("accepted", order)
            return
        self._set_status(order, "new")
        self._event("new", order)
        self._try_execute(order)
        if order.is_open and order.time_in_force in ("ioc", "fok"):
            self._cancel(order)

    def _route_waiting(self) -> None:
        for order in list(self._orders.values()):
            if order.status == "accepted" and self._tradable_now(order):
                self._set_status(order, "new")
                self._event("new", order)
                self._try_execute(order)

    def _set_status(self, order: Order, status: str) -> None:
        order.status = status
        order.updated_at = self.now()

    def _trail_stop(self, order: Order) -> Decimal:
        hwm = order.hwm or ZERO
        if order.trail_price is not None:
            offset = order.trail_price
        else:
            offset = hwm * (order.trail_percent or ZERO) / 100
        stop = hwm - offset if order.side == "sell" else hwm + offset
        return stop.quantize(Decimal("0.01"))

    def _try_execute(self, order: Order) -> None:
        """Fill ``order`` if the current price allows it (market: always, when enabled)."""
        if not order.is_open or order.status == "accepted" or not self._tradable_now(order):
            return
        if order.type == "market" and order.asset.symbol in self._replay:
            return  # a replayed symbol's market orders fill at the next bar's open (advance)
        price = self._price_of(order.asset.symbol)
        if price is None:
            return
        buy = order.side == "buy"
        fill = False
        if order.type == "market":
            fill = self.auto_fill_market
        elif order.type == "limit":
            fill = price <= order.limit_price if buy else price >= order.limit_price
        elif order.type == "stop":
            fill = price >= order.stop_price if buy else price <= order.stop_price
        elif order.type == "stop_limit":
            if not order.triggered:
                order.triggered = price >= order.stop_price if buy else price <= order.stop_price
            if order.triggered:
                fill = price <= order.limit_price if buy else price >= order.limit_price
        elif order.type == "trailing_stop":
            if buy:
                order.hwm = min(order.hwm or price, price)
            else:
                order.hwm = max(order.hwm or price, price)
            order.stop_price = self._trail_stop(order)
            fill = price >= order.stop_price if buy else price <= order.stop_price
        if fill:
            remaining = (order.target_qty(price) or ZERO) - order.filled_qty
            if remaining > 0:
                self._fill(order, remaining, price)

    def _check_resting(self, symbol: str) -> None:
        for order in list(self._orders.values()):
            if order.asset.symbol == symbol and order.is_open:
                if order.type == "market" and not self.auto_fill_market:
                    continue
                self._try_execute(order)

    def _fill(self, order: Order, qty: Decimal, price: Decimal) -> None:
        asset = order.asset
        mult = self._contract_mult(asset)
        now = self.now()
        signed = qty if order.side == "buy" else -qty
        # position
        pos = self._positions.get(asset.symbol)
        if pos is None:
            pos = Position(asset, ZERO, price)
        old = pos.qty
        new = old + signed
        if old == 0 or (old > 0) == (signed > 0):
            pos.avg_entry_price = (abs(old) * pos.avg_entry_price + qty * price) / abs(new)
            if old == 0:
                pos.intraday_base = None
        elif (old > 0) != (new > 0) and new != 0:
            pos.avg_entry_price = price  # flipped side: the remainder is entered at this price
            pos.intraday_base = None
        pos.qty = new
        if new == 0:
            self._positions.pop(asset.symbol, None)
        else:
            self._positions[asset.symbol] = pos
        # cash
        self._cash -= signed * price * mult
        # order
        order.filled_qty += qty
        order.filled_value += qty * price
        target = order.target_qty(price) or order.filled_qty
        done = order.filled_qty >= target
        order.status = "filled" if done else "partially_filled"
        order.updated_at = now
        if done:
            order.filled_at = now
        # activity
        self._activities.append({
            "id": f"{now.astimezone(UTC):%Y%m%d%H%M%S}{now.microsecond // 1000:03d}::{uuid.uuid4()}",
            "account_id": self._account_id,
            "activity_type": "FILL",
            "transaction_time": ts(now),
            "type": "fill" if done else "partial_fill",
            "price": fmt_price(price),
            "qty": fmt_qty(qty),
            "side": order.side,
            "symbol": asset.symbol,
            "leaves_qty": fmt_qty(max(ZERO, target - order.filled_qty)),
            "order_id": order.id,
            "cum_qty": fmt_qty(order.filled_qty),
            "order_status": order.status,
        })
        self._event(
            "fill" if done else "partial_fill",
            order,
            price=fmt_price(price),
            qty=fmt_qty(qty),
            position_qty=fmt_qty(new),
        )

    def fill_order(self, order_id: str, qty: Any = None, price: Any = None) -> dict[str, Any]:
        """Fill (part of) a resting order now, at ``price`` (default: the last price, else the
        limit/stop price). ``qty`` less than what is left makes a ``partial_fill``."""
        with self._lock:
            order = self._orders[order_id]
            if not order.is_open:
                raise ValueError(f"order {order_id} is {order.status}")
            p = dec(price) if price is not None else (
                self._price_of(order.asset.symbol) or order.limit_price or order.stop_price)
            if p is None:
                raise ValueError("no price to fill at")
            target = order.target_qty(p) or ZERO
            q = dec(qty) if qty is not None else target - order.filled_qty
            if order.status in ("accepted", "pending_new"):
                self._set_status(order, "new")
                self._event("new", order)
            self._fill(order, q, p)
            return order.to_json()

    def _cancel(self, order: Order) -> None:
        now = self.now()
        order.status = "canceled"
        order.canceled_at = now
        order.updated_at = now
        self._event("canceled", order)

    def cancel_order_by_id(self, order_id: str) -> None:
        """DELETE /v2/orders/{id}: 204, or 422 when the order is no longer cancelable."""
        with self._lock:
            order = self._get_order(order_id)
            if not order.is_open:
                raise ApiError(422, f'order is already in "{order.status}" state', code=42210000)
            self._cancel(order)

    cancel_order = cancel_order_by_id

    def cancel_all_orders(self) -> list[dict[str, Any]]:
        with self._lock:
            out = []
            for order in list(self._orders.values()):
                if order.is_open:
                    self._cancel(order)
                    out.append({"id": order.id, "status": 200, "body": order.to_json()})
            return out

    def expire_day_orders(self) -> int:
        """End of day: open ``day`` orders become ``expired`` (event ``expired``). Returns count."""
        with self._lock:
            n = 0
            for order in self._orders.values():
                if order.is_open and order.time_in_force == "day":
                    now = self.now()
                    order.status = "expired"
                    order.expired_at = now
                    order.updated_at = now
                    self._event("expired", order)
                    n += 1
            return n

    def replace_order(self, order_id: str, body: Any) -> dict[str, Any]:
        """PATCH /v2/orders/{id}: a new order replaces the open one."""
        with self._lock:
            old = self._get_order(order_id)
            if not old.is_open:
                raise ApiError(422, f'order is already in "{old.status}" state', code=42210000)
            if old.filled_qty:
                raise ApiError(422, "order is partially filled", code=42210000)
            body = body if isinstance(body, dict) else {}
            new_body: dict[str, Any] = {
                "symbol": old.asset.symbol,
                "side": old.side,
                "type": old.type,
                "time_in_force": body.get("time_in_force") or old.time_in_force,
                "qty": body.get("qty") if body.get("qty") is not None else (
                    str(old.qty) if old.qty is not None else None),
                "notional": str(old.notional) if old.notional is not None and body.get("qty") is None else None,
                "limit_price": body.get("limit_price") if body.get("limit_price") is not None else old.limit_price,
                "stop_price": body.get("stop_price") if body.get("stop_price") is not None else (
                    old.stop_price if old.type != "trailing_stop" else None),
                "extended_hours": old.extended_hours,
                "client_order_id": body.get("client_order_id") or str(uuid.uuid4()),
            }
            if old.type == "trailing_stop":
                trail = body.get("trail")
                if old.trail_percent is not None:
                    new_body["trail_percent"] = trail if trail is not None else old.trail_percent
                else:
                    new_body["trail_price"] = trail if trail is not None else old.trail_price
            for key in ("limit_price", "stop_price", "trail_price", "trail_percent"):
                if isinstance(new_body.get(key), Decimal):
                    new_body[key] = str(new_body[key])
            # the old order's qty and hold no longer count against the new one
            was = old.status
            old.status = "replaced"
            try:
                new = self._validate_new_order(new_body)
            finally:
                old.status = was
            now = self.now()
            new.replaces = old.id
            old.status = "replaced"
            old.replaced_at = now
            old.replaced_by = new.id
            old.updated_at = now
            self._event("replaced", old)
            self._orders[new.id] = new
            ack = new.to_json()
            self._route(new)
            return ack

    # ------------------------------------------------------------------ activities

    def activities_json(self, query: Mapping[str, str], types: list[str]) -> list[dict[str, Any]]:
        with self._lock:
            types = [t.strip().upper() for t in types if t.strip()]
            if types and "FILL" not in types:
                return []
            direction = (query.get("direction") or "desc").lower()
            try:
                page_size = int(query.get("page_size") or 100)
            except ValueError:
                raise ApiError(422, "invalid page_size") from None
            if not 1 <= page_size <= 100:
                raise ApiError(422, "page_size must be between 1 and 100")
            rows = list(self._activities)
            if query.get("date"):
                day = parse_date(query["date"])
                rows = [a for a in rows if parse_time(a["transaction_time"]).astimezone(ET).date() == day]
            if query.get("after"):
                after = parse_time(query["after"], "after")
                rows = [a for a in rows if parse_time(a["transaction_time"]) > after]
            if query.get("until"):
                until = parse_time(query["until"], "until")
                rows = [a for a in rows if parse_time(a["transaction_time"]) < until]
            rows.sort(key=lambda a: (a["transaction_time"], a["id"]), reverse=direction != "asc")
            token = query.get("page_token")
            if token:
                ids = [a["id"] for a in rows]
                if token in ids:
                    rows = rows[ids.index(token) + 1:]
                else:
                    rows = []
            return [dict(a) for a in rows[:page_size]]

    # ------------------------------------------------------------------ assets

    def assets_json(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        with self._lock:
            status = query.get("status")
            asset_class = query.get("asset_class") or "us_equity"
            exchange = query.get("exchange")
            attributes = {a for a in (query.get("attributes") or "").split(",") if a}
            out = []
            for asset in self._assets.values():
                if asset.is_option:
                    continue
                if status and asset.status != status:
                    continue
                if asset.asset_class != asset_class:
                    continue
                if exchange and asset.exchange != exchange:
                    continue
                if attributes and not attributes & set(asset.attributes):
                    continue
                out.append(asset.to_json())
            return out

    def asset_json(self, key: str) -> dict[str, Any]:
        with self._lock:
            asset = self._find_asset(key)
            if asset is None:
                raise ApiError(404, f"could not find asset \"{key}\"", code=40410000)
            return asset.to_json()

    # ------------------------------------------------------------------ option contracts

    def add_option_contract(
        self,
        symbol: str,
        *,
        underlying: str,
        expiration: date,
        strike: Any,
        type: str,  # noqa: A002 - Alpaca's field name
        open_interest: int | None = 100,
        bid: Any = None,
        ask: Any = None,
        last: Any = None,
        iv: float | None = None,
        delta: float | None = None,
        gamma: float | None = None,
        theta: float | None = None,
        vega: float | None = None,
        rho: float | None = None,
        style: str = "american",
        status: str = "active",
        tradable: bool = True,
        bid_size: int = 10,
        ask_size: int = 10,
        close_price: Any = None,
    ) -> dict[str, Any]:
        """Add an option contract (OCC ``symbol``); quotes/greeks feed the snapshots."""
        if type not in ("call", "put"):
            raise ValueError("type must be 'call' or 'put'")
        with self._lock:
            today = self.now().astimezone(ET).date()
            last_d = dec(last) if last is not None else None
            contract = OptionContract(
                symbol=symbol,
                underlying=underlying,
                expiration=expiration,
                strike=dec(strike),
                type=type,
                style=style,
                status=status,
                tradable=tradable,
                open_interest=open_interest,
                open_interest_date=today - timedelta(days=1) if open_interest is not None else None,
                close_price=dec(close_price) if close_price is not None else last_d,
                close_price_date=today - timedelta(days=1),
                bid=dec(bid) if bid is not None else None,
                ask=dec(ask) if ask is not None else None,
                last=last_d,
                bid_size=bid_size,
                ask_size=ask_size,
                iv=iv, delta=delta, gamma=gamma, theta=theta, vega=vega, rho=rho,
            )
            self._options[symbol] = contract
            return contract.to_json(self._underlying_id(underlying))

    def _underlying_id(self, underlying: str) -> str:
        asset = self._find_asset(underlying)
        return asset.id if asset else stable_id("asset", underlying)

    def generate_option_chain(
        self,
        underlying: str,
        expirations: Iterable[date],
        strikes: Iterable[Any],
        *,
        iv: float = 0.3,
        rate: float = 0.04,
        open_interest: int = 250,
    ) -> list[str]:
        """Calls and puts for every expiration x strike, priced with Black-Scholes off the
        underlying's price (bid/ask = model -/+ 2.5%, greeks included). Returns the symbols."""
        with self._lock:
            spot = float(self._price_of(underlying) or 100)
            today = self.now().astimezone(ET).date()
            out = []
            for exp in expirations:
                t = max((exp - today).days, 1) / 365.0
                for k in strikes:
                    k_f = float(k)
                    for kind in ("call", "put"):
                        g = _black_scholes(spot, k_f, t, rate, iv, kind)
                        mid = max(g["price"], 0.01)
                        bid = max(round(mid * 0.975, 2), 0.01)
                        ask = max(round(mid * 1.025, 2), bid + 0.01)
                        sym = occ_symbol(underlying, exp, kind, k_f)
                        self.add_option_contract(
                            sym, underlying=underlying, expiration=exp, strike=k, type=kind,
                            open_interest=open_interest, bid=f"{bid:.2f}", ask=f"{ask:.2f}",
                            last=f"{round(mid, 2):.2f}", iv=round(iv, 4),
                            delta=round(g["delta"], 4), gamma=round(g["gamma"], 4),
                            theta=round(g["theta"], 4), vega=round(g["vega"], 4),
                            rho=round(g["rho"], 4),
                        )
                        out.append(sym)
            return out

    def _filter_contracts(self, query: Mapping[str, str], *, underlying: str | None,
                          contracts_endpoint: bool) -> list[OptionContract]:
        unders = {s.strip().upper() for s in (query.get("underlying_symbols") or "").split(",") if s.strip()}
        if underlying:
            unders = {underlying.upper()}
        status = query.get("status") or ("active" if contracts_endpoint else None)
        exp = parse_date(query["expiration_date"]) if query.get("expiration_date") else None
        exp_gte = parse_date(query["expiration_date_gte"]) if query.get("expiration_date_gte") else None
        exp_lte = parse_date(query["expiration_date_lte"]) if query.get("expiration_date_lte") else None
        if contracts_endpoint and exp is None and exp_gte is None and exp_lte is None:
            # Alpaca: "By default this is set to the next weekend."
            today = self.now().astimezone(ET).date()
            exp_lte = today + timedelta(days=(6 - today.weekday()) % 7)
        kind = (query.get("type") or "").lower()
        style = (query.get("style") or "").lower()
        root = query.get("root_symbol")
        k_gte = dec(query["strike_price_gte"], "strike_price_gte") if query.get("strike_price_gte") else None
        k_lte = dec(query["strike_price_lte"], "strike_price_lte") if query.get("strike_price_lte") else None
        out = []
        for c in sorted(self._options.values(), key=lambda c: c.symbol):
            if unders and c.underlying.upper() not in unders:
                continue
            if status and c.status != status:
                continue
            if exp and c.expiration != exp:
                continue
            if exp_gte and c.expiration < exp_gte:
                continue
            if exp_lte and c.expiration > exp_lte:
                continue
            if kind and c.type != kind:
                continue
            if style and c.style != style:
                continue
            if root and c.root_symbol != root:
                continue
            if k_gte is not None and c.strike < k_gte:
                continue
            if k_lte is not None and c.strike > k_lte:
                continue
            out.append(c)
        return out

    def option_contracts_json(self, query: Mapping[str, str]) -> dict[str, Any]:
        with self._lock:
            rows = self._filter_contracts(query, underlying=None, contracts_endpoint=True)
            limit = _int_param(query, "limit", 100, 1, 10000)
            offset = decode_token(query.get("page_token"), "contracts")
            page = rows[offset: offset + limit]
            token = encode_token(offset + len(page), "contracts") if offset + len(page) < len(rows) else None
            return {
                "option_contracts": [c.to_json(self._underlying_id(c.underlying)) for c in page],
                "next_page_token": token,
            }

    def option_contract_json(self, key: str) -> dict[str, Any]:
        with self._lock:
            c = self._options.get(key.upper()) or next(
                (c for c in self._options.values() if c.id == key), None)
            if c is None:
                raise ApiError(404, "option contract not found", code=40410000)
            return c.to_json(self._underlying_id(c.underlying))

    # ------------------------------------------------------------------ bars: setup

    def add_bars(self, symbol: str, timeframe: str, bars: Iterable[Any]) -> int:
        """Store bars (``(t, o, h, l, c, v)`` or ``(t, o, h, l, c, v, n, vw)`` tuples, or dicts
        with Alpaca's keys ``t o h l c v n vw``). Same timestamp replaces. Returns the count."""
        tf = parse_timeframe(timeframe)
        with self._lock:
            series = self._bars.setdefault((symbol, tf.key), {})
            n = 0
            for bar in bars:
                row = _to_bar_row(bar)
                series[row.t] = row
                n += 1
            return n

    def clear_bars(self, symbol: str | None = None) -> None:
        with self._lock:
            for key in list(self._bars):
                if symbol is None or key[0] == symbol:
                    del self._bars[key]

    def generate_bars(
        self,
        symbol: str,
        timeframe: str = "1Day",
        start: datetime | None = None,
        count: int = 100,
        seed: int = 0,
        *,
        end: datetime | None = None,
        start_price: Any = None,
        end_price: Any = None,
        volatility: float | None = None,
        add: bool = True,
    ) -> list[tuple[datetime, float, float, float, float, float]]:
        """Deterministic OHLCV random walk on the market's bar times (equities: weekdays, intraday
        bars within 9:30-16:00 ET; crypto: around the clock). With ``start`` it runs forward
        from ``start`` (at ``start_price``, default the current price); without it the last bar
        is the latest one at or before ``end`` (default now) and closes at ``end_price``
        (default the current price). ``add`` stores them as :meth:`add_bars` would."""
        tf = parse_timeframe(timeframe)
        with self._lock:
            asset = self._asset_or_option(symbol)
            crypto = bool(asset and asset.is_crypto) or "/" in symbol
            current = self._price_of(symbol)
            if start is not None:
                start = start if start.tzinfo else start.replace(tzinfo=UTC)
                times = list(_bar_times(tf, crypto, start, forward=True, count=count))
            else:
                end = end or self.now()
                end = end if end.tzinfo else end.replace(tzinfo=UTC)
                times = list(_bar_times(tf, crypto, end, forward=False, count=count))
                times.reverse()
            rng = random.Random(f"{seed}:{symbol}:{tf.key}")
            if volatility is not None:
                vol = volatility
            elif tf.intraday:
                vol = 0.015 * math.sqrt(tf.seconds / 23400)
            else:
                vol = 0.015 * math.sqrt({"Day": 1, "Week": 5, "Month": 21}[tf.unit] * tf.amount)
            p0 = float(start_price if start_price is not None else (current or 100))
            raw = []
            prev = p0
            for _ in times:
                o = prev * (1 + rng.gauss(0, vol * 0.2))
                c = o * (1 + rng.gauss(0, vol))
                h = max(o, c) * (1 + abs(rng.gauss(0, vol * 0.5)))
                low = min(o, c) * (1 - abs(rng.gauss(0, vol * 0.5)))
                v = rng.lognormvariate(math.log(1_000_000 if not crypto else 50), 0.4)
                raw.append([o, h, low, c, v])
                prev = c
            if start is None and raw:
                target = float(end_price if end_price is not None else (current or raw[-1][3]))
                scale = target / raw[-1][3]
                for r in raw:
                    for i in range(4):
                        r[i] *= scale
            out = []
            rows = []
            for t, (o, h, low, c, v) in zip(times, raw, strict=True):
                places = 2 if c >= 1 else 4
                o, h, low, c = (round(x, places) for x in (o, h, low, c))
                h = max(h, o, c)
                low = min(low, o, c)
                vol_out = round(v, 6) if crypto else float(int(v))
                out.append((t, o, h, low, c, vol_out))
                n_trades = max(1, int(vol_out / (100 if not crypto else 0.5)))
                rows.append(BarRow(t, o, h, low, c, vol_out, n_trades, round((o + h + low + c) / 4, places + 2)))
            if add:
                series = self._bars.setdefault((symbol, tf.key), {})
                for row in rows:
                    series[row.t] = row
            return out

    # ------------------------------------------------------------------ bars: replay

    def replay(self, symbol: str, timeframe: str, bars: Iterable[Any]) -> None:
        """Hold ``bars`` (oldest first, as :meth:`add_bars` takes them) back and reveal them one
        at a time with :meth:`advance`, as a market whose clock moves on. The clock is frozen at
        the first held bar's open. Until then the symbol's market orders rest; each advance
        fills them at the revealed bar's open (``replay_fill_offset`` against the trader), as
        a backtest's next-open fill model assumes."""
        tf = parse_timeframe(timeframe)
        rows = deque(sorted((_to_bar_row(b) for b in bars), key=lambda r: r.t))
        with self._lock:
            self._replay[symbol] = (tf, rows)
            if rows:
                self._clock_now = rows[0].t

    def replay_left(self, symbol: str) -> int:
        with self._lock:
            entry = self._replay.get(symbol)
            return len(entry[1]) if entry else 0

    def advance(self, count: int = 1, *, symbol: str | None = None,
                silent: bool | None = None) -> list[BarRow]:
        """Reveal the next ``count`` held bars (of ``symbol``, or of every replayed symbol):
        the clock moves to the bar's open, resting market orders fill at that open, then the
        clock moves to the bar's close, the bar is stored (REST serves it), its close becomes
        the last price, and it is sent to subscribed market-data streams unless ``silent``
        (default :attr:`stream_silent`)."""
        quiet = self.stream_silent if silent is None else silent
        out: list[BarRow] = []
        with self._lock:
            for _ in range(count):
                for sym in ([symbol] if symbol else list(self._replay)):
                    tf, queue = self._replay[sym]
                    if not queue:
                        raise IndexError(f"no held bars of {sym} left to reveal")
                    row = queue.popleft()
                    self._clock_now = row.t
                    self._fill_at_open(sym, Decimal(str(row.o)))
                    self._clock_now = row.t + timedelta(seconds=tf.seconds)
                    self._bars.setdefault((sym, tf.key), {})[row.t] = row
                    self._prices[sym] = Decimal(str(row.c))
                    self._price_times[sym] = self._clock_now
                    self._lastday.setdefault(sym, Decimal(str(row.c)))
                    if not quiet:
                        cls = self._symbol_class(sym)
                        self._publish_market(cls, "bars", sym,
                                             row.to_stream(sym, "b", integer_volume=cls != "crypto"))
                    out.append(row)
        return out

    def _fill_at_open(self, symbol: str, open_price: Decimal) -> None:
        for order in list(self._orders.values()):
            if (order.asset.symbol != symbol or not order.is_open or order.type != "market"
                    or order.status in ("accepted", "pending_new")
                    or not self._tradable_now(order)):
                continue
            offset = self.replay_fill_offset
            price = open_price + offset if order.side == "buy" else open_price - offset
            remaining = (order.target_qty(price) or ZERO) - order.filled_qty
            if remaining > 0:
                self._fill(order, remaining, price)

    # ------------------------------------------------------------------ bars: queries

    def _series(self, symbol: str, tf: TimeFrame) -> list[BarRow]:
        exact = self._bars.get((symbol, tf.key))
        if exact:
            return sorted(exact.values(), key=lambda r: r.t)
        # aggregate from a finer stored series
        if tf.intraday:
            bases = [k for (s, k) in self._bars if s == symbol
                     and parse_timeframe(k).intraday and tf.seconds % parse_timeframe(k).seconds == 0]
        else:
            bases = [k for (s, k) in self._bars if s == symbol and parse_timeframe(k).unit == "Day"
                     and tf.unit in ("Week", "Month")]
        if not bases:
            return []
        base = min(bases, key=lambda k: parse_timeframe(k).seconds)
        rows = sorted(self._bars[(symbol, base)].values(), key=lambda r: r.t)
        asset = self._find_asset(symbol)
        crypto = bool(asset and asset.is_crypto)
        return _aggregate(rows, tf, crypto)

    def bars_json(self, query: Mapping[str, str], *, symbols: list[str] | None = None,
                  single: str | None = None, integer_volume: bool = True) -> dict[str, Any]:
        with self._lock:
            if single is not None:
                symbols = [single]
            if symbols is None:
                symbols = [s.strip() for s in (query.get("symbols") or "").split(",") if s.strip()]
            if not symbols:
                raise ApiError(400, "missing symbols", code=40010001)
            tf = parse_timeframe(query.get("timeframe") or "")
            now = self.now()
            start = parse_time(query["start"], "start") if query.get("start") else start_of_day_et(now)
            end = parse_time(query["end"], "end") if query.get("end") else now
            if end < start:
                raise ApiError(422, "end should not be before start", code=42210000)
            limit = _int_param(query, "limit", 1000, 1, 10000)
            page_size = min(limit, self.bars_page_cap)
            desc = (query.get("sort") or "asc").lower() == "desc"
            rows: list[tuple[str, BarRow]] = []
            for sym in sorted(dict.fromkeys(symbols)):
                series = [r for r in self._series(sym, tf) if start <= r.t <= end]
                if desc:
                    series.reverse()
                rows.extend((sym, r) for r in series)
            offset = decode_token(query.get("page_token"), "bars")
            page = rows[offset: offset + page_size]
            token = encode_token(offset + len(page), "bars") if offset + len(page) < len(rows) else None
            if single is not None:
                return {"bars": [r.to_json(integer_volume) for _, r in page], "symbol": single,
                        "next_page_token": token}
            bars: dict[str, list[dict[str, Any]]] = {}
            for sym, r in page:
                bars.setdefault(sym, []).append(r.to_json(integer_volume))
            return {"bars": bars, "next_page_token": token}

    def _latest_bar(self, symbol: str, unit: str = "Min") -> BarRow | None:
        keys = [k for (s, k) in self._bars if s == symbol and parse_timeframe(k).unit == unit]
        best: BarRow | None = None
        for k in keys:
            rows = self._bars[(symbol, k)]
            if rows:
                cand = rows[max(rows)]
                if best is None or cand.t > best.t:
                    best = cand
        return best

    def _daily_bars(self, symbol: str) -> list[BarRow]:
        rows = self._bars.get((symbol, "1Day"))
        return sorted(rows.values(), key=lambda r: r.t) if rows else []

    def _synthetic_bar(self, symbol: str, t: datetime) -> BarRow | None:
        p = self._price_of(symbol)
        if p is None:
            return None
        f = float(p)
        return BarRow(t, f, f, f, f, 0.0, 0, f)

    def _trade_json(self, symbol: str, *, option: bool = False, crypto: bool = False) -> dict[str, Any] | None:
        p = self._price_of(symbol)
        if p is None:
            return None
        t = ts(self._price_times.get(symbol, self.now()))
        if option:
            return {"c": "I", "p": float(p), "s": 1, "t": t, "x": "C"}
        if crypto:
            return {"i": 1, "p": float(p), "s": 0.01, "t": t, "tks": "B"}
        return {"c": ["@"], "i": 52983525029461, "p": float(p), "s": 100, "t": t, "x": "V", "z": "C"}

    def _quote_json(self, symbol: str, *, option: bool = False, crypto: bool = False) -> dict[str, Any] | None:
        q = self._quote_of(symbol)
        if q is None:
            return None
        bid, ask, bs, as_ = q
        t = ts(self._price_times.get(symbol, self.now()))
        if option:
            return {"ap": float(ask), "as": as_, "ax": "C", "bp": float(bid), "bs": bs, "bx": "C",
                    "c": "A", "t": t}
        if crypto:
            return {"ap": float(ask), "as": float(as_) / 100, "bp": float(bid), "bs": float(bs) / 100, "t": t}
        return {"ap": float(ask), "as": as_, "ax": "V", "bp": float(bid), "bs": bs, "bx": "V",
                "c": ["R"], "t": t, "z": "C"}

    def latest_json(self, kind: str, symbols: list[str], *, crypto: bool = False,
                    option: bool = False) -> dict[str, Any]:
        """``kind``: trades | quotes | bars -> ``{"trades": {SYM: {...}}}`` (missing: left out)."""
        with self._lock:
            out: dict[str, Any] = {}
            for sym in symbols:
                if kind == "trades":
                    item = self._trade_json(sym, option=option, crypto=crypto)
                elif kind == "quotes":
                    item = self._quote_json(sym, option=option, crypto=crypto)
                else:
                    bar = self._latest_bar(sym) or self._synthetic_bar(
                        sym, self.now().replace(second=0, microsecond=0))
                    item = bar.to_json(not crypto) if bar else None
                if item is not None:
                    out[sym] = item
            return {kind: out}

    def _stock_snapshot(self, symbol: str, crypto: bool = False) -> dict[str, Any] | None:
        if self._price_of(symbol) is None and not self._daily_bars(symbol):
            return None
        now = self.now()
        daily = self._daily_bars(symbol)
        today_start = start_of_day_et(now) if not crypto else datetime.combine(
            now.astimezone(CT).date(), time(0), CT).astimezone(UTC)
        day_bar = daily[-1] if daily and daily[-1].t >= today_start else None
        prev = [r for r in daily if r.t < today_start]
        minute = self._latest_bar(symbol) or self._synthetic_bar(symbol, now.replace(second=0, microsecond=0))
        if day_bar is None:
            day_bar = self._synthetic_bar(symbol, today_start)
        prev_bar = prev[-1] if prev else None
        iv = not crypto
        return {
            "latestTrade": self._trade_json(symbol, crypto=crypto),
            "latestQuote": self._quote_json(symbol, crypto=crypto),
            "minuteBar": minute.to_json(iv) if minute else None,
            "dailyBar": day_bar.to_json(iv) if day_bar else None,
            "prevDailyBar": prev_bar.to_json(iv) if prev_bar else None,
        }

    def stock_snapshots_json(self, symbols: list[str]) -> dict[str, Any]:
        with self._lock:
            return {s: snap for s in symbols if (snap := self._stock_snapshot(s)) is not None}

    def crypto_snapshots_json(self, symbols: list[str]) -> dict[str, Any]:
        with self._lock:
            return {"snapshots": {s: snap for s in symbols
                                  if (snap := self._stock_snapshot(s, crypto=True)) is not None}}

    def _option_snapshot(self, c: OptionContract) -> dict[str, Any]:
        snap: dict[str, Any] = {
            "latestQuote": self._quote_json(c.symbol, option=True),
            "latestTrade": self._trade_json(c.symbol, option=True),
        }
        if c.iv is not None:
            snap["impliedVolatility"] = c.iv
        greeks = {k: getattr(c, k) for k in ("delta", "gamma", "rho", "theta", "vega")}
        if any(v is not None for v in greeks.values()):
            snap["greeks"] = {k: (v if v is not None else 0.0) for k, v in greeks.items()}
        daily = self._daily_bars(c.symbol)
        if daily:
            snap["dailyBar"] = daily[-1].to_json()
            if len(daily) > 1:
                snap["prevDailyBar"] = daily[-2].to_json()
        return {k: v for k, v in snap.items() if v is not None}

    def option_chain_json(self, underlying: str, query: Mapping[str, str]) -> dict[str, Any]:
        with self._lock:
            rows = self._filter_contracts(query, underlying=underlying, contracts_endpoint=False)
            return self._option_snapshot_page(rows, query)

    def option_snapshots_json(self, query: Mapping[str, str]) -> dict[str, Any]:
        with self._lock:
            wanted = [s.strip().upper() for s in (query.get("symbols") or "").split(",") if s.strip()]
            if not wanted:
                raise ApiError(400, "missing symbols", code=40010001)
            rows = [self._options[s] for s in sorted(set(wanted)) if s in self._options]
            return self._option_snapshot_page(rows, query)

    def _option_snapshot_page(self, rows: list[OptionContract], query: Mapping[str, str]) -> dict[str, Any]:
        limit = _int_param(query, "limit", 100, 1, 1000)
        offset = decode_token(query.get("page_token"), "snapshots")
        page = rows[offset: offset + limit]
        token = encode_token(offset + len(page), "snapshots") if offset + len(page) < len(rows) else None
        return {"snapshots": {c.symbol: self._option_snapshot(c) for c in page}, "next_page_token": token}

    # ------------------------------------------------------------------ live market data

    def _symbol_class(self, symbol: str) -> str:
        if symbol in self._options:
            return "option"
        asset = self._find_asset(symbol)
        if (asset and asset.is_crypto) or "/" in symbol:
            return "crypto"
        return "stock"

    def push_bar(self, symbol: str, bar: Any, *, timeframe: str = "1Min", kind: str = "b",
                 update_price: bool = True) -> dict[str, Any]:
        """Store a bar (``(t, o, h, l, c, v[, n, vw])`` or a dict) in ``timeframe`` and send it
        to every market-data stream subscribed to ``symbol`` (``kind``: ``b`` bars, ``u``
        updatedBars, ``d`` dailyBars). ``update_price`` makes its close the last price."""
        channel = {"b": "bars", "u": "updatedBars", "d": "dailyBars"}[kind]
        with self._lock:
            row = _to_bar_row(bar)
            tf = parse_timeframe(timeframe)
            self._bars.setdefault((symbol, tf.key), {})[row.t] = row
            cls = self._symbol_class(symbol)
            msg = row.to_stream(symbol, kind, integer_volume=cls != "crypto")
            self._publish_market(cls, channel, symbol, msg)
            if update_price:
                self.set_price(symbol, str(row.c))
            return msg

    def push_trade(self, symbol: str, price: Any, size: Any = 100) -> dict[str, Any]:
        """Set the last price and send a ``t`` message to subscribed streams."""
        with self._lock:
            self.set_price(symbol, price)
            cls = self._symbol_class(symbol)
            msg: dict[str, Any] = {"T": "t", "S": symbol, "i": next(_trade_ids), "x": "V",
                                   "p": float(dec(price)), "s": size, "c": ["@"], "z": "C",
                                   "t": self.now()}
            if cls == "crypto":
                msg = {"T": "t", "S": symbol, "p": float(dec(price)), "s": float(size),
                       "t": self.now(), "i": next(_trade_ids), "tks": "B"}
            elif cls == "option":
                msg = {"T": "t", "S": symbol, "p": float(dec(price)), "s": int(size), "x": "C",
                       "c": "I", "t": self.now()}
            self._publish_market(cls, "trades", symbol, msg)
            return msg

    def push_quote(self, symbol: str, bid: Any, ask: Any, *, bid_size: int = 100, ask_size: int = 100) -> dict[str, Any]:
        """Set the quote and send a ``q`` message to subscribed streams."""
        with self._lock:
            self.set_quote(symbol, bid, ask, bid_size=bid_size, ask_size=ask_size)
            cls = self._symbol_class(symbol)
            msg: dict[str, Any] = {"T": "q", "S": symbol, "bx": "V", "bp": float(dec(bid)),
                                   "bs": bid_size, "ax": "V", "ap": float(dec(ask)),
                                   "as": ask_size, "c": ["R"], "z": "C", "t": self.now()}
            if cls == "crypto":
                msg = {"T": "q", "S": symbol, "bp": float(dec(bid)), "bs": float(bid_size),
                       "ap": float(dec(ask)), "as": float(ask_size), "t": self.now()}
            self._publish_market(cls, "quotes", symbol, msg)
            return msg


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

_trade_ids = iter(range(10_000_000, 1 << 62))


def plain_num(d: Decimal) -> str:
    return format(d.normalize(), "f")


def _int_param(query: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, f"invalid {name}: {raw}", code=42210000) from None
    if not lo <= value <= hi:
        raise ApiError(422, f"invalid {name}: {raw} (must be between {lo} and {hi})", code=42210000)
    return value


def _to_bar_row(bar: Any) -> BarRow:
    if isinstance(bar, BarRow):
        return bar
    if isinstance(bar, Mapping):
        t = bar["t"]
        o, h, low, c = (float(bar[k]) for k in ("o", "h", "l", "c"))
        v = float(bar.get("v", 0))
        n = int(bar.get("n", 0))
        vw = float(bar.get("vw", (o + h + low + c) / 4))
    else:
        items = list(bar)
        t, o, h, low, c = items[0], *(float(x) for x in items[1:5])
        v = float(items[5]) if len(items) > 5 else 0.0
        n = int(items[6]) if len(items) > 6 else max(1, int(v // 100))
        vw = float(items[7]) if len(items) > 7 else round((o + h + low + c) / 4, 4)
    if isinstance(t, str):
        t = parse_time(t)
    elif isinstance(t, date) and not isinstance(t, datetime):
        t = datetime.combine(t, time(0), ET).astimezone(UTC)
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return BarRow(t.astimezone(UTC), o, h, low, c, v, n, vw)


def _day_anchor(d: date, crypto: bool) -> datetime:
    return datetime.combine(d, time(0), CT if crypto else ET).astimezone(UTC)


def _times_of_day(tf: TimeFrame, crypto: bool, d: date) -> list[datetime]:
    """Bar open times on calendar day ``d`` (ET for equities, UTC for crypto)."""
    if not tf.intraday:
        return []
    step = tf.seconds
    if crypto:
        day0 = datetime.combine(d, time(0), UTC)
        first = math.ceil(day0.timestamp() / step) * step
        out = []
        t = first
        while t < day0.timestamp() + 86400:
            out.append(datetime.fromtimestamp(t, UTC))
            t += step
        return out
    if d.weekday() >= 5:
        return []
    begin = datetime.combine(d, time(9, 30) if tf.unit == "Min" else time(9, 0), ET)
    close = datetime.combine(d, time(16, 0), ET)
    out = []
    t = begin
    while t < close:
        out.append(t.astimezone(UTC))
        t += timedelta(seconds=step)
    return out


def _bar_times(tf: TimeFrame, crypto: bool, anchor: datetime, *, forward: bool, count: int) -> Iterator[datetime]:
    """``count`` bar times from ``anchor`` onwards (forward) or at/before it (backward)."""
    produced = 0
    if count <= 0:
        return
    zone = CT if crypto else ET
    local = anchor.astimezone(UTC if crypto and tf.intraday else zone)
    d = local.date()
    step = timedelta(days=1 if forward else -1)
    guard = 0
    while produced < count and guard < 200_000:
        guard += 1
        if tf.intraday:
            times = _times_of_day(tf, crypto, d)
            if not forward:
                times.reverse()
            for t in times:
                if (forward and t >= anchor) or (not forward and t <= anchor):
                    yield t
                    produced += 1
                    if produced >= count:
                        return
        else:
            ok = crypto or d.weekday() < 5
            if tf.unit == "Week":
                ok = ok and d.weekday() == 0
            elif tf.unit == "Month":
                ok = d.day == 1
            t = _day_anchor(d, crypto)
            if ok and ((forward and t >= anchor) or (not forward and t <= anchor)):
                yield t
                produced += 1
        d += step


def _aggregate(rows: list[BarRow], tf: TimeFrame, crypto: bool) -> list[BarRow]:
    buckets: dict[datetime, list[BarRow]] = {}
    for r in rows:
        if tf.intraday:
            secs = tf.seconds
            key = datetime.fromtimestamp(int(r.t.timestamp()) // secs * secs, UTC)
        else:
            local = r.t.astimezone(CT if crypto else ET).date()
            if tf.unit == "Week":
                local = local - timedelta(days=local.weekday())
            elif tf.unit == "Month":
                local = local.replace(day=1)
            key = _day_anchor(local, crypto)
        buckets.setdefault(key, []).append(r)
    out = []
    for key in sorted(buckets):
        group = buckets[key]
        v = sum(g.v for g in group)
        vw = sum(g.vw * g.v for g in group) / v if v else group[-1].vw
        out.append(BarRow(key, group[0].o, max(g.h for g in group), min(g.l for g in group),
                          group[-1].c, v, sum(g.n for g in group), round(vw, 4)))
    return out


def occ_symbol(underlying: str, expiration: date, kind: str, strike: float) -> str:
    """``AAPL261218C00190000``."""
    return f"{underlying}{expiration:%y%m%d}{'C' if kind == 'call' else 'P'}{int(round(strike * 1000)):08d}"


def _norm_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _norm_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _black_scholes(s: float, k: float, t: float, r: float, sigma: float, kind: str) -> dict[str, float]:
    sq = sigma * math.sqrt(t)
    d1 = (math.log(s / k) + (r + 0.5 * sigma * sigma) * t) / sq
    d2 = d1 - sq
    disc = math.exp(-r * t)
    if kind == "call":
        price = s * _norm_cdf(d1) - k * disc * _norm_cdf(d2)
        delta = _norm_cdf(d1)
        theta = (-s * _norm_pdf(d1) * sigma / (2 * math.sqrt(t)) - r * k * disc * _norm_cdf(d2)) / 365
        rho = k * t * disc * _norm_cdf(d2) / 100
    else:
        price = k * disc * _norm_cdf(-d2) - s * _norm_cdf(-d1)
        delta = _norm_cdf(d1) - 1
        theta = (-s * _norm_pdf(d1) * sigma / (2 * math.sqrt(t)) + r * k * disc * _norm_cdf(-d2)) / 365
        rho = -k * t * disc * _norm_cdf(-d2) / 100
    gamma = _norm_pdf(d1) / (s * sq)
    vega = s * _norm_pdf(d1) * math.sqrt(t) / 100
    return {"price": price, "delta": delta, "gamma": gamma, "theta": theta, "vega": vega, "rho": rho}
