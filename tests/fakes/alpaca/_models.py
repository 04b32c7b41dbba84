"""The fake's state objects and how each renders to Alpaca's JSON."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tests.fakes.alpaca._util import (
    ZERO,
    fmt_money,
    fmt_price,
    fmt_qty,
    ts,
    ts_bar,
)

_NS = uuid.UUID("6f0c6a5e-3a3b-4c55-9d1e-6b4b8f0a1c2d")


def stable_id(kind: str, key: str) -> str:
    """A UUID that is the same for the same symbol in every run (handy in snapshots)."""
    return str(uuid.uuid5(_NS, f"{kind}:{key}"))


@dataclass
class Asset:
    symbol: str
    asset_class: str = "us_equity"  # us_equity | crypto | us_option
    name: str = ""
    exchange: str = "NASDAQ"
    status: str = "active"
    tradable: bool = True
    marginable: bool = True
    shortable: bool = True
    easy_to_borrow: bool = True
    fractionable: bool = True
    attributes: list[str] = field(default_factory=list)
    id: str = ""
    min_order_size: str | None = None
    min_trade_increment: str | None = None
    price_increment: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            self.id = stable_id("asset", self.symbol)

    @property
    def is_crypto(self) -> bool:
        return self.asset_class == "crypto"

    @property
    def is_option(self) -> bool:
        return self.asset_class == "us_option"

    @property
    def position_symbol(self) -> str:
        """Alpaca lists crypto positions without the slash (``BTCUSD``); orders keep ``BTC/USD``."""
        return self.symbol.replace("/", "") if self.is_crypto else self.symbol

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "class": self.asset_class,
            "exchange": self.exchange,
            "symbol": self.symbol,
            "name": self.name,
            "status": self.status,
            "tradable": self.tradable,
            "marginable": self.marginable,
            "maintenance_margin_requirement": 100 if self.is_crypto or not self.marginable else 30,
            "margin_requirement_long": "100" if self.is_crypto or not self.marginable else "30",
            "margin_requirement_short": "100" if self.is_crypto or not self.marginable else "30",
            "shortable": self.shortable,
            "easy_to_borrow": self.easy_to_borrow,
            "fractionable": self.fractionable,
            "attributes": list(self.attributes),
        }
        if self.min_order_size is not None:
            data["min_order_size"] = self.min_order_size
        if self.min_trade_increment is not None:
            data["min_trade_increment"] = self.min_trade_increment
        if self.price_increment is not None:
            data["price_increment"] = self.price_increment
        return data


@dataclass
class OptionContract:
    symbol: str
    underlying: str
    expiration: date
    strike: Decimal
    type: str  # call | put
    style: str = "american"
    status: str = "active"
    tradable: bool = True
    size: int = 100
    open_interest: int | None = 100
    open_interest_date: date | None = None
    close_price: Decimal | None = None
    close_price_date: date | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    last: Decimal | None = None
    bid_size: int = 10
    ask_size: int = 10
    last_size: int = 1
    iv: float | None = None
    delta: float | None = None
    gamma: float | None = None
    theta: float | None = None
    vega: float | None = None
    rho: float | None = None
    id: str = ""
    root_symbol: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            self.id = stable_id("option", self.symbol)
        if not self.root_symbol:
            self.root_symbol = self.underlying

    @property
    def name(self) -> str:
        return (
            f"{self.underlying} {self.expiration:%b} {self.expiration.day} {self.expiration:%Y} "
            f"{format(self.strike.normalize(), 'f')} {'Call' if self.type == 'call' else 'Put'}"
        )

    def to_json(self, underlying_asset_id: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "symbol": self.symbol,
            "name": self.name,
            "status": self.status,
            "tradable": self.tradable,
            "expiration_date": self.expiration.isoformat(),
            "root_symbol": self.root_symbol,
            "underlying_symbol": self.underlying,
            "underlying_asset_id": underlying_asset_id,
            "type": self.type,
            "style": self.style,
            "strike_price": fmt_price(self.strike),
            "multiplier": str(self.size),
            "size": str(self.size),
            "open_interest": None if self.open_interest is None else str(self.open_interest),
            "open_interest_date": None
            if self.open_interest_date is None
            else self.open_interest_date.isoformat(),
            "close_price": fmt_price(self.close_price),
            "close_price_date": None
            if self.close_price_date is None
            else self.close_price_date.isoformat(),
            "ppind": True,
        }


@dataclass
class Position:
    asset: Asset
    qty: Decimal  # signed: negative is short
    avg_entry_price: Decimal
    intraday_base: Decimal | None = None  # None: opened today (intraday P/L from entry)


@dataclass
class Order:
    id: str
    client_order_id: str
    asset: Asset
    side: str
    type: str
    time_in_force: str
    qty: Decimal | None
    notional: Decimal | None
    created_at: datetime
    order_class: str = ""
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    hwm: Decimal | None = None
    extended_hours: bool = False
    position_intent: str | None = None
    status: str = "pending_new"
    updated_at: datetime | None = None
    submitted_at: datetime | None = None
    filled_at: datetime | None = None
    expired_at: datetime | None = None
    expires_at: datetime | None = None
    canceled_at: datetime | None = None
    failed_at: datetime | None = None
    replaced_at: datetime | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    filled_qty: Decimal = ZERO
    filled_value: Decimal = ZERO  # sum(qty * price) of fills
    triggered: bool = False  # stop_limit: the stop was hit

    OPEN = ("pending_new", "accepted", "new", "partially_filled", "pending_cancel",
            "pending_replace", "held", "accepted_for_bidding", "calculated", "done_for_day")

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def filled_avg_price(self) -> Decimal | None:
        if self.filled_qty == 0:
            return None
        return self.filled_value / self.filled_qty

    def target_qty(self, price: Decimal | None) -> Decimal | None:
        """Ordered quantity; for a notional order the quantity it buys at ``price``."""
        if self.qty is not None:
            return self.qty
        if self.notional is None or not price:
            return None
        from decimal import ROUND_DOWN

        return (self.notional / price).quantize(Decimal("0.000000001"), rounding=ROUND_DOWN)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": ts(self.created_at),
            "updated_at": ts(self.updated_at or self.created_at),
            "submitted_at": ts(self.submitted_at or self.created_at),
            "filled_at": ts(self.filled_at),
            "expired_at": ts(self.expired_at),
            "canceled_at": ts(self.canceled_at),
            "failed_at": ts(self.failed_at),
            "replaced_at": ts(self.replaced_at),
            "replaced_by": self.replaced_by,
            "replaces": self.replaces,
            "asset_id": self.asset.id,
            "symbol": self.asset.symbol,
            "asset_class": self.asset.asset_class,
            "notional": fmt_money(self.notional) if self.notional is not None else None,
            "qty": fmt_qty(self.qty),
            "filled_qty": fmt_qty(self.filled_qty),
            "filled_avg_price": fmt_price(self.filled_avg_price),
            "order_class": self.order_class,
            "order_type": self.type,
            "type": self.type,
            "side": self.side,
            "position_intent": self.position_intent,
            "time_in_force": self.time_in_force,
            "limit_price": fmt_price(self.limit_price),
            "stop_price": fmt_price(self.stop_price),
            "status": self.status,
            "extended_hours": self.extended_hours,
            "legs": None,
            "trail_percent": fmt_price(self.trail_percent),
            "trail_price": fmt_price(self.trail_price),
            "hwm": fmt_price(self.hwm),
            "subtag": None,
            "source": None,
            "expires_at": ts(self.expires_at),
        }


@dataclass
class BarRow:
    t: datetime
    o: float
    h: float
    l: float  # noqa: E741
    c: float
    v: float
    n: int
    vw: float

    def to_json(self, integer_volume: bool = True) -> dict[str, Any]:
        return {
            "t": ts_bar(self.t),
            "o": self.o,
            "h": self.h,
            "l": self.l,
            "c": self.c,
            "v": int(self.v) if integer_volume else self.v,
            "n": self.n,
            "vw": self.vw,
        }

    def to_stream(self, symbol: str, kind: str = "b", integer_volume: bool = True) -> dict[str, Any]:
        return {
            "T": kind,
            "S": symbol,
            "o": self.o,
            "h": self.h,
            "l": self.l,
            "c": self.c,
            "v": int(self.v) if integer_volume else self.v,
            "t": self.t,  # a datetime: msgpack Timestamp / RFC 3339 string on the wire
            "n": self.n,
            "vw": self.vw,
        }
