"""Trading domain, public face: backtest settings and results, the TradingAdapter every mode
implements, and the TradingService that runs, stores and sweeps backtests.

Money and quantities in the vectorised backtest types are float64 (``BacktestSettings``,
``Fill``, ``RoundTrip``, ``BacktestMetrics``); ``Account``, ``Position``, ``Order`` and ``Trade``
carry ``Decimal``, as at the broker boundary and in stored orders and fills.

A backtest over a million bars can hold tens of thousands of fills. Building one Python object
per fill would cost more than the whole vectorised run, so a ``BacktestResult`` keeps its fills
and round trips as numpy columns (``FillColumns``, ``RoundTripColumns``) and builds the tuples of
``Fill`` / ``RoundTrip`` objects only when ``result.fills`` / ``result.round_trips`` is first read.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

import numpy as np

class BacktestError(ValueError):
    """A backtest cannot run as asked; the message says what to change."""


class FillModel(StrEnum):
    """When a signal computed at the close of bar i is executed."""

    NEXT_OPEN = "next_open"
    """At the open of bar i+1 (default; no look-ahead). A signal on the last bar never fills."""
    CLOSE = "close"
    """At the close of bar i itself: optimistic, the signal used that close to decide."""

    @property
    def optimistic(self) -> bool:
        """True when the model fills at a price the strategy could not have traded at."""
        return self is FillModel.CLOSE

    @property
    def label(self) -> str:
        return "next bar's open" if self is FillModel.NEXT_OPEN else "same bar's close (optimistic)"


class IntrabarOrder(StrEnum):
    """Which exit a bar takes when its range touches both the stop and the target: bars show
    only their open, high, low and close, not which of the high and low came first."""

    PESSIMISTIC = "pessimistic"
    """The stop (or trailing stop) first (default): a result that does not rest on luck."""
    OPTIMISTIC = "optimistic"
    """The target first."""

    @property
    def other(self) -> IntrabarOrder:
        if self is IntrabarOrder.PESSIMISTIC:
            return IntrabarOrder.OPTIMISTIC
        return IntrabarOrder.PESSIMISTIC

    @property
    def label(self) -> str:
        return "stop first" if self is IntrabarOrder.PESSIMISTIC else "target first"


class FillReason(StrEnum):
    """Why a fill happened: the strategy's signal, or one of the exits of the settings."""

    SIGNAL = "signal"
    STOP = "stop"
    TARGET = "target"
    TRAIL = "trail"

    @property
    def code(self) -> int:
        return FILL_REASON_CODES.index(self)


FILL_REASON_CODES: tuple[FillReason, ...] = (
    FillReason.SIGNAL, FillReason.STOP, FillReason.TARGET, FillReason.TRAIL,
)
"""The int8 code of each reason in ``FillColumns.reason`` and stored runs (its index here)."""

MAX_TAKE_PROFIT_PCT = 100_000.0
"""The largest take-profit a backtest accepts (a thousandfold gain)."""


def _finite(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


MAX_STARTING_CASH = 1e15
"""The largest starting cash a backtest accepts (a thousand trillion): amounts stay far inside
what a float64 and the stored Numeric columns hold."""

MIN_PRICE = 1e-12
MAX_PRICE = 1e12
"""Bar prices a backtest accepts: every close, and the open (or close) a fill is made at, must
lie in ``[MIN_PRICE, MAX_PRICE]``. Outside, quantities or equity leave the range of a float64
(e.g. a price of 1e-300 buys 1e303 shares); the engine refuses with a sentence naming the bar."""


@dataclass(frozen=True)
class BacktestSettings:
    """How a backtest turns signals into fills. Validated on construction."""

    initial_cash: float = 10_000.0
    """Starting cash in the account currency (0 < cash <= ``MAX_STARTING_CASH``)."""
    commission: float = 0.0
    """Fraction of the notional paid per fill, e.g. 0.001 for 0.1 % (0 <= commission < 1)."""
    slippage: float = 0.0
    """Fraction of the price lost per fill, against the trader (0 <= slippage < 1)."""
    position_size_pct: float = 100.0
    """Percent of current equity committed per entry (0 < p <= 100)."""
    whole_shares: bool = False
    """Buy whole shares only (quantity floored); fractional otherwise."""
    fill_model: FillModel = FillModel.NEXT_OPEN
    periods_per_year: float = 252.0
    """Bars per year, for annualising Sharpe and Sortino; derive it from the timeframe."""
    stop_loss_pct: float | None = None
    """Sell when the price falls this many percent below the entry price (0 < p < 100)."""
    take_profit_pct: float | None = None
    """Sell when the price rises this many percent above the entry price (p > 0)."""
    trailing_stop_pct: float | None = None
    """Sell when the price falls this many percent below the highest price since entry
    (0 < p < 100); the rules are in the engine's docstring."""
    intrabar: IntrabarOrder = IntrabarOrder.PESSIMISTIC
    """Which exit a bar that touches both the stop and the target takes."""

    @property
    def has_exits(self) -> bool:
        """True when a stop, target or trailing stop is set."""
        return (
            self.stop_loss_pct is not None
            or self.take_profit_pct is not None
            or self.trailing_stop_pct is not None
        )

    def __post_init__(self) -> None:
        for name, flag, upper in (
            ("stop_loss_pct", "--stop-loss", 100.0),
            ("trailing_stop_pct", "--trailing-stop", 100.0),
        ):
            value = getattr(self, name)
            if value is not None and (not _finite(value) or not 0 < value < upper):
                what = "Stop loss" if name == "stop_loss_pct" else "Trailing stop"
                raise BacktestError(
                    f"{what} must be a percent above 0 and below 100 (got {value!r}); pass for "
                    f"example {flag} 5 for 5 %."
                )
        tp = self.take_profit_pct
        if tp is not None and (not _finite(tp) or not 0 < tp <= MAX_TAKE_PROFIT_PCT):
            raise BacktestError(
                f"Take profit must be a percent above 0 and at most {MAX_TAKE_PROFIT_PCT:,.0f} "
                f"(got {tp!r}); pass for example --take-profit 10 for 10 %."
            )
        for name in ("stop_loss_pct", "take_profit_pct", "trailing_stop_pct"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, float(value))
        try:
            object.__setattr__(self, "intrabar", IntrabarOrder(self.intrabar))
        except ValueError:
            choices = ", ".join(m.value for m in IntrabarOrder)
            raise BacktestError(
                f"Unknown intrabar order {self.intrabar!r}; choose one of: {choices}."
            ) from None
        if not _finite(self.initial_cash) or self.initial_cash <= 0:
            raise BacktestError(
                f"Starting cash must be greater than 0 (got {self.initial_cash!r}); "
                "pass a positive amount such as --cash 10000."
            )
        if self.initial_cash > MAX_STARTING_CASH:
            raise BacktestError(
                f"Starting cash is too large (got {self.initial_cash:,.6g}); pass at most "
                f"{MAX_STARTING_CASH:,.0f}, for example --cash 10000."
            )
        if not _finite(self.commission) or not 0 <= self.commission < 1:
            raise BacktestError(
                f"Commission must be a fraction of the notional from 0 up to (not including) 1 "
                f"(got {self.commission!r}); pass for example --commission 0.001 for 0.1 %."
            )
        if not _finite(self.slippage) or not 0 <= self.slippage < 1:
            raise BacktestError(
                f"Slippage must be a fraction from 0 up to (not including) 1 (got {self.slippage!r}); "
                "pass for example --slippage 0.0005 for 0.05 %."
            )
        if not _finite(self.position_size_pct) or not 0 < self.position_size_pct <= 100:
            raise BacktestError(
                f"Position size must be a percent of equity above 0 and at most 100 "
                f"(got {self.position_size_pct!r}); pass for example --position-size-pct 100."
            )
        if not _finite(self.periods_per_year) or self.periods_per_year <= 0:
            raise BacktestError(
                f"Periods per year must be greater than 0 (got {self.periods_per_year!r}); "
                "use 252 for daily bars."
            )
        if not isinstance(self.whole_shares, bool):
            raise BacktestError("whole_shares must be true or false.")
        try:
            object.__setattr__(self, "fill_model", FillModel(self.fill_model))
        except ValueError:
            choices = ", ".join(m.value for m in FillModel)
            raise BacktestError(
                f"Unknown fill model {self.fill_model!r}; choose one of: {choices}."
            ) from None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (the fill model as its string value), e.g. for the run record."""
        data = dataclasses.asdict(self)
        data["fill_model"] = self.fill_model.value
        data["intrabar"] = self.intrabar.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BacktestSettings:
        """Inverse of ``to_dict``; unknown keys are ignored, missing keys take defaults."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def entry_quantity(cash: Any, price: Any, settings: BacktestSettings) -> Any:
    """The engine's sizing rule (rule 3 of the engine): ``cash * position_size_pct / 100 /
    (price * (1 + commission))``, floored to whole shares with ``settings.whole_shares``.

    ``cash`` and ``price`` are floats or float64 arrays (the vectorised fractional path passes
    arrays). The backtest engine and a deployment's live orders both size with this one function,
    so a live order is sized exactly as the backtest of the same bars would size it."""
    q = cash * settings.position_size_pct / 100.0 / (price * (1.0 + settings.commission))
    if settings.whole_shares:
        if isinstance(q, np.ndarray):
            return np.floor(q)
        if math.isfinite(q):
            return float(math.floor(q))
    return q


@dataclass(frozen=True)
class Fill:
    """One execution in a backtest (float64 money; not a stored broker fill)."""

    bar_index: int
    side: str
    """"buy" or "sell"."""
    qty: float
    price: float
    """Execution price including slippage."""
    commission: float
    reason: str = FillReason.SIGNAL.value
    """"signal", "stop", "target" or "trail" (``FillReason``)."""


@dataclass(frozen=True)
class RoundTrip:
    """An entry and its exit. An open trip is marked to the last close (no exit costs)."""

    entry_index: int
    exit_index: int | None
    entry_price: float
    exit_price: float | None
    qty: float
    pnl: float
    return_pct: float
    is_open: bool


@dataclass(frozen=True)
class BacktestMetrics:
    """Summary statistics. ``None`` where a metric is undefined for the run."""

    total_return_pct: float
    cagr_pct: float | None
    max_drawdown_pct: float
    """Worst peak-to-trough fall, a negative number (or 0)."""
    sharpe: float | None
    sortino: float | None
    win_rate_pct: float | None
    profit_factor: float | None
    round_trips: int
    """Closed plus open round trips."""
    exposure_pct: float
    buy_and_hold_return_pct: float
    final_equity: float

    def to_dict(self) -> dict[str, float | int | None]:
        return dataclasses.asdict(self)


class Rows(Sequence):
    """Rows of a run (fills, round trips, signals) built only when they are read.

    ``len()``, indexing and slices build just the rows asked for (the CLI shows the last 30 of
    27,000 round trips without building the rest); iterating builds them all once and keeps
    them. Compares equal to any sequence of the same rows (a tuple, another ``Rows``)."""

    __slots__ = ("_count", "_build", "_all")

    def __init__(self, count: int, build: Callable[[int, int], list[Any]]) -> None:
        self._count = count
        self._build = build
        self._all: tuple[Any, ...] | None = None

    def __len__(self) -> int:
        return self._count

    def _every(self) -> tuple[Any, ...]:
        if self._all is None:
            self._all = tuple(self._build(0, self._count)) if self._count else ()
        return self._all

    def __getitem__(self, key: Any) -> Any:
        if self._all is not None:
            return self._all[key]
        if isinstance(key, slice):
            start, stop, step = key.indices(self._count)
            if step != 1:
                return self._every()[key]
            return tuple(self._build(start, stop)) if start < stop else ()
        i = key.__index__()
        if i < 0:
            i += self._count
        if not 0 <= i < self._count:
            raise IndexError("row index out of range")
        return self._build(i, i + 1)[0]

    def __iter__(self) -> Any:
        return iter(self._every())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(other) == self._count and self._every() == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Rows({self._count} rows)"


@dataclass(frozen=True, eq=False)
class FillColumns:
    """All fills of a run as numpy columns, in time order (buys and sells alternate)."""

    bar_index: np.ndarray
    """int64 bar of each fill."""
    is_buy: np.ndarray
    """bool; False means sell."""
    qty: np.ndarray
    price: np.ndarray
    commission: np.ndarray
    reason: np.ndarray | None = None
    """int8 code of each fill's reason (``FILL_REASON_CODES``); None (given) means every fill
    came from a signal and reads as zeros."""

    def __post_init__(self) -> None:
        if self.reason is None:
            object.__setattr__(self, "reason", np.zeros(self.bar_index.shape[0], dtype=np.int8))

    def __len__(self) -> int:
        return int(self.bar_index.shape[0])

    def to_fills(self, start: int = 0, stop: int | None = None) -> tuple[Fill, ...]:
        part = slice(start, stop)
        names = [r.value for r in FILL_REASON_CODES]
        assert self.reason is not None
        return tuple(
            Fill(bar_index=b, side="buy" if buy else "sell", qty=q, price=p, commission=c,
                 reason=names[r])
            for b, buy, q, p, c, r in zip(
                self.bar_index[part].tolist(),
                self.is_buy[part].tolist(),
                self.qty[part].tolist(),
                self.price[part].tolist(),
                self.commission[part].tolist(),
                self.reason[part].tolist(),
                strict=True,
            )
        )

    def rows(self) -> Rows:
        """The fills as ``Fill`` objects, built as they are read."""
        return Rows(len(self), lambda a, b: list(self.to_fills(a, b)))

    def round_trips(self, last_close: float) -> RoundTripColumns:
        """Pair each buy with the following sell (long-only; buys and sells alternate); an
        unpaired last buy is open, marked at ``last_close``. The same float64 operations, in the
        same order, as the engine's own round trips, so a stored run reads back bit for bit."""
        entry = np.flatnonzero(self.is_buy)
        following = entry + 1
        closed = following < len(self)
        if self.is_buy[following[closed]].any():
            raise ValueError("the fills of a run must alternate buy and sell")
        exit_ = np.where(closed, following, -1)
        is_open = ~closed
        cost = self.qty[entry] * self.price[entry] + self.commission[entry]
        xs = exit_[closed]
        pnl = np.empty(entry.shape[0])
        pnl[closed] = (self.qty[xs] * self.price[xs] - self.commission[xs]) - cost[closed]
        pnl[is_open] = self.qty[entry[is_open]] * last_close - cost[is_open]
        exit_price = np.full(entry.shape[0], np.nan)
        exit_price[closed] = self.price[xs]
        exit_index = np.full(entry.shape[0], -1, dtype=np.int64)
        exit_index[closed] = self.bar_index[xs]
        safe = np.where(cost != 0, cost, 1.0)
        return RoundTripColumns(
            entry_index=self.bar_index[entry].astype(np.int64),
            exit_index=exit_index,
            entry_price=self.price[entry],
            exit_price=exit_price,
            qty=self.qty[entry],
            pnl=pnl,
            return_pct=np.where(cost != 0, pnl / safe * 100.0, 0.0),
            is_open=is_open,
        )


@dataclass(frozen=True, eq=False)
class RoundTripColumns:
    """All round trips of a run as numpy columns. Only the last one can be open."""

    entry_index: np.ndarray
    """int64 fill bar of the entry."""
    exit_index: np.ndarray
    """int64 fill bar of the exit; -1 while open."""
    entry_price: np.ndarray
    exit_price: np.ndarray
    """NaN while open."""
    qty: np.ndarray
    pnl: np.ndarray
    return_pct: np.ndarray
    is_open: np.ndarray
    """bool."""

    def __len__(self) -> int:
        return int(self.entry_index.shape[0])

    def rows(self) -> Rows:
        """The round trips as ``RoundTrip`` objects, built as they are read."""
        return Rows(len(self), lambda a, b: list(self.to_round_trips(a, b)))

    def to_round_trips(self, start: int = 0, stop: int | None = None) -> tuple[RoundTrip, ...]:
        trips = []
        part = slice(start, stop)
        for ei, xi, ep, xp, q, pnl, ret, is_open in zip(
            self.entry_index[part].tolist(),
            self.exit_index[part].tolist(),
            self.entry_price[part].tolist(),
            self.exit_price[part].tolist(),
            self.qty[part].tolist(),
            self.pnl[part].tolist(),
            self.return_pct[part].tolist(),
            self.is_open[part].tolist(),
            strict=True,
        ):
            trips.append(
                RoundTrip(
                    entry_index=ei,
                    exit_index=None if is_open else xi,
                    entry_price=ep,
                    exit_price=None if is_open else xp,
                    qty=q,
                    pnl=pnl,
                    return_pct=ret,
                    is_open=is_open,
                )
            )
        return tuple(trips)


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """Outcome of ``run_backtest``: per-bar arrays, fills, round trips and metrics."""

    equity: np.ndarray
    """float64 equity at each bar's close (cash + position marked at that close)."""
    position: np.ndarray
    """float64 quantity held at each bar's close."""
    metrics: BacktestMetrics
    fill_columns: FillColumns
    round_trip_columns: RoundTripColumns
    settings: BacktestSettings
    ambiguous_bars: int = 0
    """Bars whose range touched both the stop (or trailing stop) and the target after an open
    between them: their exit rests on ``settings.intrabar``."""

    @cached_property
    def fills(self) -> Rows:
        """The fills as objects, built as they are read (``fill_columns`` for bulk work)."""
        return self.fill_columns.rows()

    @cached_property
    def round_trips(self) -> Rows:
        """The round trips as objects, built as they are read."""
        return self.round_trip_columns.rows()


# ---------------------------------------------------------------------------------------------
# Trading: the adapter every mode implements, and the service that runs and stores backtests
# ---------------------------------------------------------------------------------------------


class TradingError(Exception):
    """A user-facing trading problem; the message says what to do."""


class ConnectionInfo(Protocol):
    """What trading needs to know of a connection (the connection domain's ConnectionModel and
    BacktestConnection satisfy it structurally)."""

    @property
    def name(self) -> str: ...

    @property
    def rfqdn(self) -> str: ...

    @property
    def cap_data_stream_live(self) -> bool: ...

    @property
    def cap_data_stream_historic(self) -> bool: ...

    @property
    def cap_trading_live(self) -> bool: ...

    @property
    def cap_trading_paper(self) -> bool: ...


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-")


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    OPG = "opg"
    CLS = "cls"


class OrderStatusFilter(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    ALL = "all"


@dataclass(frozen=True)
class Account:
    """Money in Decimal, as at the broker boundary."""

    cash: Decimal
    equity: Decimal
    buying_power: Decimal
    currency: str = "USD"
    status: str = ""
    pattern_day_trader: bool | None = False
    """None when the broker does not report it (Alpaca stopped sending it in 2026)."""
    daytrade_count: int | None = 0
    trading_blocked: bool = False
    non_marginable_buying_power: Decimal | None = None
    """What crypto can be bought with (crypto is never bought on margin)."""
    options_buying_power: Decimal | None = None


@dataclass(frozen=True)
class Position:
    symbol: str
    qty: Decimal
    avg_entry_price: Decimal
    current_price: Decimal
    market_value: Decimal
    unrealized_pl: Decimal
    asset_class: str = "us_equity"
    side: str = "long"


@dataclass(frozen=True)
class Order:
    id: str
    symbol: str
    side: OrderSide
    qty: Decimal | None
    """None for a notional (dollar amount) order until it fills."""
    order_type: str
    status: str
    submitted_at: datetime
    filled_at: datetime | None
    filled_avg_price: Decimal | None
    filled_qty: Decimal = Decimal(0)
    notional: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_percent: Decimal | None = None
    trail_price: Decimal | None = None
    time_in_force: str = "day"
    extended_hours: bool = False
    client_order_id: str = ""
    asset_class: str = "us_equity"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ORDER_STATUSES


OPEN_ORDER_STATUSES = frozenset({
    "new", "accepted", "pending_new", "accepted_for_bidding", "partially_filled", "held",
    "pending_cancel", "pending_replace", "calculated", "stopped", "suspended", "done_for_day",
})


@dataclass(frozen=True)
class Trade:
    """One execution (a fill)."""

    id: str
    order_id: str
    symbol: str
    side: OrderSide
    qty: Decimal
    price: Decimal
    commission: Decimal
    time: datetime


def new_client_order_id() -> str:
    """A fresh id for one order ticket; sending the same ticket twice reuses it."""
    import uuid

    return f"kash-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class OrderRequest:
    """What the user asked to trade. ``client_order_id`` is fixed when the ticket is made, so a
    resend after a timeout is recognised by the broker instead of trading twice."""

    symbol: str
    side: OrderSide
    qty: Decimal | None = None
    notional: Decimal | None = None
    order_type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_percent: Decimal | None = None
    trail_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    extended_hours: bool = False
    client_order_id: str = field(default_factory=new_client_order_id)

    def describe(self) -> str:
        """E.g. ``buy 10 AAPL limit 189.50 day`` or ``buy $500 of AAPL at market day``."""
        amount = f"{self.qty} {self.symbol}" if self.qty is not None else (
            f"${self.notional} of {self.symbol}"
        )
        parts = [self.side.value, amount]
        if self.order_type is OrderType.MARKET:
            parts.append("at market")
        if self.stop_price is not None:
            parts.append(f"stop {self.stop_price}")
        if self.limit_price is not None:
            parts.append(f"limit {self.limit_price}")
        if self.order_type is OrderType.TRAILING_STOP:
            parts.append("trailing stop")
        if self.trail_percent is not None:
            parts.append(f"{self.trail_percent}%")
        if self.trail_price is not None:
            parts.append(f"${self.trail_price}")
        parts.append(self.time_in_force.value)
        if self.extended_hours:
            parts.append("extended hours")
        return " ".join(parts)


@dataclass(frozen=True)
class AssetInfo:
    """What the broker says about a tradable symbol; the order rules depend on it."""

    symbol: str
    asset_class: str
    """us_equity, crypto or us_option."""
    name: str = ""
    tradable: bool = True
    fractionable: bool = False
    shortable: bool = False
    exchange: str = ""
    min_order_size: Decimal | None = None
    """Crypto: the smallest quantity Alpaca takes (None when the broker does not say)."""
    min_trade_increment: Decimal | None = None
    """Crypto: quantities are whole multiples of this step."""


@dataclass(frozen=True)
class OrderPreview:
    """An order checked against the broker's rules and the account, before it is sent."""

    request: OrderRequest
    asset: AssetInfo
    reference_price: Decimal | None
    """The price the estimate uses: the limit price, else the stop price, else the last trade."""
    estimated_cost: Decimal | None
    """Quantity x price (x 100 for options), or the notional."""
    buying_power: Decimal
    position_qty: Decimal
    problems: tuple[str, ...]
    """Rule violations, one sentence each; the order cannot be sent while there are any."""
    warnings: tuple[str, ...]
    live: bool
    price_source: str = ""
    """Where ``reference_price`` came from, e.g. ``last trade, IEX feed``."""

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class UnresolvedTicket:
    """An earlier ticket for the same order whose outcome nobody knows (an interrupted run left
    it ``sending``, or a timeout left it ``unknown``)."""

    client_order_id: str
    status: str
    created_at: datetime


class OrderRuleError(TradingError):
    """The order breaks a broker rule Kash checks before sending; the message says which."""


class LiveConfirmationRequired(TradingError):
    """A live order needs an explicit confirmation for this very order."""


@dataclass(frozen=True)
class MarketClock:
    """The broker's clock: its time (the time a deployment trades by) and whether the stock
    market is open now."""

    timestamp: datetime
    is_open: bool
    next_open: datetime | None = None
    next_close: datetime | None = None


@dataclass(frozen=True)
class Capabilities:
    can_trade: bool
    """Orders can be submitted, cancelled and positions closed."""
    live: bool
    streams: bool
    """Account events arrive over a stream rather than by polling."""


class TradingAdapter(Protocol):
    """The one interface above which nothing knows whether trading is backtest, paper or live."""

    @property
    def mode(self) -> str:
        """BACKTEST, PAPER or LIVE."""
        ...

    @property
    def capabilities(self) -> Capabilities: ...

    def connection(self) -> ConnectionInfo: ...

    def get_account(self) -> Account: ...

    def get_positions(self) -> list[Position]: ...

    def get_orders(self, status: str = "all") -> list[Order]: ...

    def get_trades(self, limit: int | None = None) -> list[Trade]:
        """Fills; every one with ``limit=None``, else the newest ``limit`` (ask for one more
        than you show to know whether more exist)."""
        ...

    def get_asset(self, symbol: str) -> AssetInfo: ...

    def get_clock(self) -> MarketClock:
        """The broker's time and whether the stock market is open (crypto trades always)."""
        ...

    def preview_order(self, request: OrderRequest) -> OrderPreview:
        """Check ``request`` against the broker's rules and the account; sends nothing."""
        ...

    def submit_order(self, request: OrderRequest, *, confirm_live: bool = False) -> Order:
        """Send the order once. Raises ``OrderRuleError`` before sending when a rule is broken,
        ``LiveConfirmationRequired`` for a live order without ``confirm_live``."""
        ...

    def cancel_order(self, order_id: str) -> None: ...

    def close_position(self, symbol: str, *, confirm_live: bool = False) -> Order: ...

    def unresolved_ticket(self, request: OrderRequest) -> UnresolvedTicket | None:
        """An earlier ticket for this very order (same portfolio, same ``describe()``) whose
        outcome is unknown, from the last day; sending ``request`` under its client order id
        first asks the broker for it, so a re-run never makes a second order. None when there
        is none (a ticket whose outcome is known never matches: a second identical order is
        then a new order)."""
        ...


class FeedState(StrEnum):
    CONNECTING = "connecting"
    STREAMING = "streaming"
    POLLING = "polling"
    RECONNECTING = "reconnecting"
    DOWN = "down"
    STOPPED = "stopped"


@dataclass(frozen=True)
class FeedStatus:
    """Health of the live account feed, for the status line."""

    state: FeedState
    updated_at: datetime | None
    """When the account data last came in (its age is shown)."""
    attempts: int = 0
    """Reconnect attempts since the last good connection."""
    message: str = ""
    """Why it is down or reconnecting, one sentence."""


@dataclass(frozen=True)
class AccountSnapshot:
    portfolio_id: int
    account: Account
    positions: tuple[Position, ...]
    orders: tuple[Order, ...]
    """Open orders."""
    taken_at: datetime


class AccountWatch(Protocol):
    @property
    def status(self) -> FeedStatus: ...

    def refresh(self) -> None:
        """Ask for a fresh snapshot now (after the user placed or cancelled an order)."""
        ...

    def stop(self) -> None:
        """Stop watching; returns at once and no callback runs after it."""
        ...

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the watch's threads have ended; True when they have."""
        ...


@dataclass(frozen=True)
class BacktestRequest:
    symbol: str
    strategy_id: str
    timeframe: str = "1Day"
    params: Mapping[str, Any] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None
    settings: BacktestSettings = field(default_factory=BacktestSettings)
    portfolio_id: int | None = None


@dataclass(frozen=True)
class SignalPoint:
    index: int
    time: datetime
    type: OrderSide
    price: float


@dataclass(frozen=True, eq=False)
class SignalColumns:
    """A run's signals as numpy columns: bar index, +1 buy / -1 sell, the close it was computed
    at (NaN for runs stored before prices were kept), and the run's bar times (int64 ns UTC)."""

    index: np.ndarray
    kind: np.ndarray
    price: np.ndarray
    timestamps: np.ndarray

    def __len__(self) -> int:
        return int(self.index.shape[0])

    def to_points(self, start: int = 0, stop: int | None = None) -> list[SignalPoint]:
        part = slice(start, stop)
        at = self.index[part].astype(np.int64)
        seconds = (np.asarray(self.timestamps, dtype=np.int64)[at] // 1_000_000_000)
        times = [t.replace(tzinfo=UTC) for t in seconds.astype("datetime64[s]").tolist()]
        return [
            SignalPoint(index=i, time=t, type=OrderSide.BUY if k > 0 else OrderSide.SELL,
                        price=float(p))
            for i, t, k, p in zip(at.tolist(), times, self.kind[part].tolist(),
                                  self.price[part].tolist(), strict=True)
        ]

    def rows(self) -> Rows:
        return Rows(len(self), self.to_points)


@dataclass(frozen=True)
class BacktestRun:
    """The stored record of one backtest: what was asked, on what, with what result."""

    id: int
    created_at: datetime
    portfolio_id: int | None
    strategy_id: str
    params: dict[str, Any]
    symbol: str
    timeframe: str
    requested_start: datetime | None
    requested_end: datetime | None
    first_bar: datetime
    last_bar: datetime
    bar_count: int
    settings: BacktestSettings
    metrics: BacktestMetrics
    ambiguous_bars: int = 0
    """Bars that touched both the stop and the target (0 for runs without exits or stored
    before they were counted)."""
    sensitivity: FillSensitivity | None = None
    """The same run under the other intrabar order; None without a stop and a target."""
    universe: UniverseRunInfo | None = None
    """What makes it a universe run (its symbols, max positions, per-symbol breakdown); None
    for a run on one symbol."""


@dataclass(frozen=True)
class FillSensitivity:
    """How much a run rests on the intrabar assumption: its figures under the other order."""

    intrabar: IntrabarOrder
    """The other order (the one the run did not use)."""
    total_return_pct: float
    round_trips: int
    ambiguous_bars: int
    """Ambiguous bars of the run under the other order (its exits differ, so may its count)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "intrabar": self.intrabar.value,
            "total_return_pct": self.total_return_pct,
            "round_trips": self.round_trips,
            "ambiguous_bars": self.ambiguous_bars,
        }


@dataclass(frozen=True, eq=False)
class BacktestReport:
    """A run with everything to show it: bar times, equity, fills, round trips and signals."""

    run: BacktestRun
    timestamps: np.ndarray
    """int64 ns UTC, one per bar of the run."""
    equity: np.ndarray
    fills: Sequence[Fill]
    """Built as read (``Rows``) when the report comes from a run; ``fill_columns`` for bulk."""
    round_trips: Sequence[RoundTrip]
    signals: Sequence[SignalPoint]
    fill_columns: FillColumns | None = None
    round_trip_columns: RoundTripColumns | None = None
    signal_columns: SignalColumns | None = None
    fill_symbols: np.ndarray | None = None
    """Universe runs: int32 index into ``run.universe.symbols`` of each fill (None otherwise);
    likewise ``round_trip_symbols`` and ``signal_symbols``."""
    round_trip_symbols: np.ndarray | None = None
    signal_symbols: np.ndarray | None = None

    def time(self, index: int) -> datetime:
        return datetime.fromtimestamp(int(self.timestamps[index]) / 1e9, tz=UTC)


@dataclass(frozen=True)
class SweepRow:
    params: dict[str, Any]
    metrics: BacktestMetrics
    robust_worst: float | None = None
    """The worst value of the report's metric (``SweepReport.metric``) over this cell's
    neighbourhood: the cell and every valid cell at most one grid step away along each swept
    parameter (Chebyshev distance 1; diagonals included; invalid, skipped cells and cells whose
    metric is undefined left out). None when the cell's own metric is undefined."""
    robust_median: float | None = None
    """The median of the same neighbourhood's values."""
    neighbours: int = 0
    """How many cells that neighbourhood holds, this one included."""


@dataclass(frozen=True)
class OutOfSample:
    """An in-sample / out-of-sample split of a sweep (``sweep(..., oos=0.3)``): the sweep's rows
    are in-sample results, the parameters are chosen on them only, and the chosen cell is then
    run on the out-of-sample bars. Its signals there are computed on every bar up to each one
    (the in-sample bars are its indicators' history, as a live trader has them), but it trades
    only out of sample: it starts flat with the starting cash at the first out-of-sample bar,
    and a signal of an earlier bar is not acted on."""

    fraction: float
    """Share of the bars held out, at the end (0.3 for ``--oos 30%``)."""
    in_sample_bars: int
    out_of_sample_bars: int
    in_sample_first: datetime
    in_sample_last: datetime
    out_of_sample_first: datetime
    out_of_sample_last: datetime
    params: dict[str, Any]
    """The chosen cell's parameters (the best in-sample row)."""
    in_sample: BacktestMetrics
    out_of_sample: BacktestMetrics


@dataclass(frozen=True)
class SweepReport:
    request: BacktestRequest
    grid: dict[str, list[Any]]
    rank_by: str
    """A metric (``sharpe``) or ``robust:`` and a metric: rows ranked by their robust worst."""
    rows: tuple[SweepRow, ...]
    """Every valid combination, best first by ``rank_by``."""
    skipped: tuple[tuple[dict[str, Any], str], ...]
    """Invalid combinations and why (e.g. short_period >= long_period)."""
    oos: OutOfSample | None = None
    """With a split: the chosen cell in and out of sample (the rows are in-sample results)."""
    universe: UniverseRunInfo | None = None
    """A sweep of a universe: each row is a whole universe run (``request.symbol`` holds the
    universe's name)."""

    @property
    def metric(self) -> str:
        """The metric ranked by and scored for robustness (``rank_by`` without ``robust:``)."""
        return parse_rank_by(self.rank_by)[0]

    @property
    def robust(self) -> bool:
        """True when the rows are ranked by their robust worst."""
        return parse_rank_by(self.rank_by)[1]

    def best_raw(self) -> SweepRow | None:
        """The row with the best raw metric (the first of equals in grid order)."""
        return best_row(self.rows, self.metric, robust=False)

    def best_robust(self) -> SweepRow | None:
        """The row with the best robust worst (ties: the better raw metric)."""
        return best_row(self.rows, self.metric, robust=True)


ROBUST_PREFIX = "robust:"


def parse_rank_by(rank_by: str) -> tuple[str, bool]:
    """``"sharpe"`` -> ``("sharpe", False)``; ``"robust:sharpe"`` -> ``("sharpe", True)``.
    Raises ``TradingError`` naming the choices for anything else."""
    text = str(rank_by).strip()
    robust = text.startswith(ROBUST_PREFIX)
    metric = text[len(ROBUST_PREFIX):] if robust else text
    if metric not in RANKABLE_METRICS:
        raise TradingError(
            f"Cannot rank by {rank_by!r}; choose one of {', '.join(RANKABLE_METRICS)}, or "
            f"robust:METRIC (e.g. robust:sharpe) for the worst of each cell's neighbours."
        )
    return metric, robust


def _defined(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def rank_key(row: SweepRow, metric: str, *, robust: bool) -> tuple[Any, ...]:
    """Sort key, best first: the robust worst (then the raw metric) or the raw metric;
    undefined values last. Every rankable metric is better higher."""
    raw = getattr(row.metrics, metric)
    raw_key = (0, -float(raw)) if _defined(raw) else (1, 0.0)
    if not robust:
        return raw_key
    worst = row.robust_worst
    return ((0, -float(worst)) if _defined(worst) else (1, 0.0)) + raw_key


def best_row(rows: Sequence[SweepRow], metric: str, *, robust: bool) -> SweepRow | None:
    """The best of ``rows`` (the first of equals), or None when there are none."""
    if not rows:
        return None
    return min(rows, key=lambda r: rank_key(r, metric, robust=robust))


_SPAN_UNITS = {"d": "days", "w": "weeks", "m": "months", "y": "years"}


@dataclass(frozen=True)
class Span:
    """A length of a walk-forward part: a number of bars (``5000``) or a calendar duration
    (``90d``, ``12w``, ``6m``, ``2y``; months and years are calendar months)."""

    bars: int = 0
    days: int = 0
    months: int = 0

    @property
    def is_bars(self) -> bool:
        return self.bars > 0

    @classmethod
    def parse(cls, text: str, what: str = "length") -> Span:
        """``5000``, ``5000b``, ``90d``, ``12w``, ``6m``, ``2y``; a ``TradingError`` naming
        ``what`` (e.g. ``--train``) for anything else."""
        raw = str(text).strip().lower()
        number, unit = raw, ""
        if raw and raw[-1] in "bdwmy":
            number, unit = raw[:-1].strip(), raw[-1]
        if not number.isdigit() or int(number) <= 0:
            raise TradingError(
                f"{what} {text!r} is not a length; give a number of bars (e.g. 5000) or a "
                "duration such as 90d, 12w, 6m or 2y."
            )
        n = int(number)
        if unit in ("", "b"):
            return cls(bars=n)
        if unit == "d":
            return cls(days=n)
        if unit == "w":
            return cls(days=7 * n)
        if unit == "m":
            return cls(months=n)
        return cls(months=12 * n)

    @property
    def spec(self) -> str:
        """The text ``parse`` reads back: ``5000``, ``90d``, ``6m``."""
        if self.bars:
            return str(self.bars)
        return f"{self.months}m" if self.months else f"{self.days}d"

    def __str__(self) -> str:
        if self.bars:
            return f"{self.bars} bars"
        if self.months:
            return f"{self.months // 12}y" if self.months % 12 == 0 else f"{self.months}m"
        return f"{self.days // 7}w" if self.days % 7 == 0 else f"{self.days}d"


@dataclass(frozen=True)
class WalkForwardWindow:
    """One window of a walk-forward: the best cell of the grid on its training part, and that
    cell's result on the test part that follows. Bar indices count from the first bar of the
    walk-forward's bars; ``*_end`` is one past the last bar."""

    number: int
    """1, 2, ... in time order."""
    train_start: int
    train_end: int
    test_start: int
    test_end: int
    train_first: datetime
    train_last: datetime
    test_first: datetime
    test_last: datetime
    params: dict[str, Any]
    """The chosen cell's parameters."""
    train: BacktestMetrics
    """The chosen cell on the training part."""
    test: BacktestMetrics
    """The chosen cell on the test part (started with the equity the previous test part ended
    with: the stitched curve's piece)."""
    candidates: int = 0
    """Valid cells ranked on the training part."""

    @property
    def efficiency(self) -> float | None:
        """This window's test CAGR / its training CAGR; None when the training CAGR is not
        positive or either is undefined."""
        return efficiency(self.test.cagr_pct, self.train.cagr_pct)


def efficiency(oos_cagr: float | None, is_cagr: float | None) -> float | None:
    """Walk-forward efficiency: annualised out-of-sample return / annualised in-sample return
    (as fractions of each other: 0.5 means half the in-sample rate). None when the in-sample
    figure is not positive or either is undefined."""
    if not _defined(oos_cagr) or not _defined(is_cagr) or is_cagr <= 0:
        return None
    return float(oos_cagr) / float(is_cagr)


@dataclass(frozen=True, eq=False)
class WalkForwardReport:
    """A stored walk-forward: its windows, the stitched out-of-sample equity and its metrics."""

    id: int
    created_at: datetime
    request: BacktestRequest
    """Symbol, strategy, timeframe, base parameters, requested dates and settings."""
    grid: dict[str, list[Any]]
    rank_by: str
    train: Span
    test: Span
    anchored: bool
    """Anchored: every training part starts at the first bar; rolling: it slides."""
    bar_count: int
    first_bar: datetime
    last_bar: datetime
    windows: tuple[WalkForwardWindow, ...]
    timestamps: np.ndarray
    """int64 ns UTC of the stitched test bars (every window's test part, in order)."""
    equity: np.ndarray
    """The stitched out-of-sample equity: each test part starts with the equity the previous
    one ended with (a position still open at a part's end is counted at its last close)."""
    metrics: BacktestMetrics
    """Metrics of the stitched curve (from the first test bar to the last)."""
    in_sample_cagr_pct: float | None
    """The mean of the chosen cells' training CAGRs (windows where it is defined)."""
    skipped: int = 0
    """Invalid combinations of the grid (not run)."""
    portfolio_id: int | None = None
    universe: UniverseRunInfo | None = None
    """A walk-forward of a universe (``request.symbol`` holds its name): windows cut the union
    of the symbols' bar times and every cell is a whole universe run; ``bar_count`` counts
    those times."""

    @property
    def efficiency(self) -> float | None:
        """Walk-forward efficiency: the stitched out-of-sample CAGR / ``in_sample_cagr_pct``."""
        return efficiency(self.metrics.cagr_pct, self.in_sample_cagr_pct)


@dataclass(frozen=True)
class WalkForwardRun:
    """A stored walk-forward as listed (no arrays, no windows)."""

    id: int
    created_at: datetime
    portfolio_id: int | None
    strategy_id: str
    symbol: str
    timeframe: str
    train: Span
    test: Span
    anchored: bool
    rank_by: str
    window_count: int
    first_bar: datetime
    last_bar: datetime
    metrics: BacktestMetrics
    in_sample_cagr_pct: float | None
    universe: UniverseRunInfo | None = None
    """Set for a walk-forward of a universe (``symbol`` is then its name)."""

    @property
    def efficiency(self) -> float | None:
        return efficiency(self.metrics.cagr_pct, self.in_sample_cagr_pct)


@dataclass(frozen=True)
class UniverseSymbolResult:
    """One symbol's part in a universe run (float64 money)."""

    symbol: str
    bars: int
    signals: int
    round_trips: int
    skipped_no_slot: int
    """Buys not taken because ``max_positions`` positions were open."""
    skipped_no_cash: int
    """Buys not taken because they would have bought nothing (no cash, under one share)."""
    pnl: float
    """Closed trips' P&L plus the open one's, marked to the symbol's last close."""
    contribution_pct: float
    """``pnl`` as a percent of the starting cash."""
    win_rate_pct: float | None
    exposure_pct: float
    """Times of the run with a position in this symbol, percent."""
    buy_and_hold_return_pct: float
    open_qty: float
    """Quantity held at the end (0 when flat)."""


@dataclass(frozen=True)
class UniverseRunInfo:
    universe: str
    workspace: str
    symbols: tuple[str, ...]
    """In the universe's order (the tie rule of same-time signals)."""
    max_positions: int
    breakdown: tuple[UniverseSymbolResult, ...] = ()


@dataclass(frozen=True)
class UniverseBacktestRequest:
    """A strategy across a universe with shared cash: equal weight (each entry gets
    ``min(cash, equity / max_positions)``, times ``position_size_pct``), at most
    ``max_positions`` open at once (default: one slot per symbol); same-time entries ranked by
    signal time, then the universe's order. The rules are in ``trading/universe.py``."""

    universe: str
    strategy_id: str
    workspace: str | None = None
    timeframe: str = "1Day"
    params: Mapping[str, Any] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None
    settings: BacktestSettings = field(default_factory=BacktestSettings)
    max_positions: int | None = None
    portfolio_id: int | None = None


RANKABLE_METRICS = (
    "total_return_pct", "cagr_pct", "max_drawdown_pct", "sharpe", "sortino", "win_rate_pct",
    "profit_factor", "exposure_pct", "final_equity",
)

MAX_SWEEP_COMBINATIONS = 10_000
"""The most combinations one sweep may have (the product of the grid's value counts, invalid
ones included). ``TradingService.sweep`` refuses more with a sentence; the CLI and the app check
it up front with the same constant. At 100,000 bars a combination takes about a millisecond."""


class GridExecutor(Protocol):
    """Runs a grid of independent jobs (sweep combinations, walk-forward windows, universe
    runs): the one interface between the trading service and whatever computes them.

    ``map(job, context, items)`` returns ``[job(context, item) for item in items]`` in the
    order of ``items``. ``context`` is what every job shares (bar arrays, settings, a strategy);
    an executor sends it to each worker once. Jobs take arrays and settings and return value
    objects; they never touch the database (the caller stores results in one transaction).
    ``job`` must be a module-level function and ``context``, items and results picklable, so
    that any executor (threads, processes, a cluster) can run them.

    ``progress(done)`` is called in the calling thread as jobs finish. The first exception a
    job raises is raised from ``map`` after the pending jobs are cancelled. A
    ``KeyboardInterrupt`` in the calling thread stops the grid the same way: no job is left
    running and no worker process outlives the call.
    """

    def map(
        self,
        job: Callable[[Any, Any], Any],
        context: Any,
        items: Sequence[Any],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> list[Any]: ...


class TradingService(Protocol):
    def run_backtest(
        self,
        request: BacktestRequest,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> BacktestReport:
        """Run and store one backtest (all or nothing)."""
        ...

    def sweep(
        self,
        request: BacktestRequest,
        grid: Mapping[str, Sequence[Any]],
        *,
        rank_by: str = "sharpe",
        progress: Callable[[int, int], None] | None = None,
        oos: float | None = None,
    ) -> SweepReport:
        """Run every valid combination of ``grid`` over the same bars; nothing is stored.
        More than ``MAX_SWEEP_COMBINATIONS`` combinations are refused with a ``TradingError``
        before any bar is loaded. Every row carries its robustness (``SweepRow.robust_*``);
        ``rank_by`` is a metric or ``robust:METRIC``. With ``oos`` (0 < oos < 1) the last
        ``oos`` share of the bars is held out: the rows are in-sample, and ``report.oos`` holds
        the best row's out-of-sample result."""
        ...

    def walk_forward(
        self,
        request: BacktestRequest,
        grid: Mapping[str, Sequence[Any]],
        *,
        train: Span,
        test: Span,
        anchored: bool = False,
        rank_by: str = "sharpe",
        progress: Callable[[int, int], None] | None = None,
    ) -> WalkForwardReport:
        """For each window the best cell of ``grid`` on its training part, then that cell on
        the following test part; the test parts stitched into one out-of-sample curve. Every
        window x cell runs as a job of the executor. Stored (all or nothing) and returned."""
        ...

    def sweep_universe(
        self,
        request: UniverseBacktestRequest,
        grid: Mapping[str, Sequence[Any]],
        *,
        rank_by: str = "sharpe",
        progress: Callable[[int, int], None] | None = None,
        oos: float | None = None,
    ) -> SweepReport:
        """``sweep`` where each cell is a whole universe run (shared cash, ``max_positions``),
        ranked on the portfolio's metric; nothing is stored. ``oos`` holds out the last share
        of the universe's time line (the same cut for every symbol)."""
        ...

    def walk_forward_universe(
        self,
        request: UniverseBacktestRequest,
        grid: Mapping[str, Sequence[Any]],
        *,
        train: Span,
        test: Span,
        anchored: bool = False,
        rank_by: str = "sharpe",
        progress: Callable[[int, int], None] | None = None,
    ) -> WalkForwardReport:
        """``walk_forward`` of a universe: windows on the union of the symbols' bar times, each
        window's cell chosen on the universe portfolio's metric, the test parts' universe
        equity stitched. Stored (``report.universe`` set) and returned."""
        ...

    def list_walk_forwards(self, portfolio_id: int | None = None) -> list[WalkForwardRun]: ...

    def get_walk_forward(self, run_id: int) -> WalkForwardReport: ...

    def run_universe_backtest(
        self,
        request: UniverseBacktestRequest,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> BacktestReport:
        """Run the strategy across a universe with shared cash and store the run (all or
        nothing); ``get_run`` and ``list_runs`` return it like any run, with ``run.universe``
        set. Symbols without bars in the range are refused with a sentence naming them."""
        ...

    def list_runs(self, portfolio_id: int | None = None) -> list[BacktestRun]: ...

    def get_run(self, run_id: int) -> BacktestReport: ...

    def resolve_trading_adapter(
        self, portfolio_id: int, run_id: int | None = None
    ) -> TradingAdapter:
        """BACKTEST portfolios: a stored run; PAPER and LIVE: the broker account of the
        portfolio's connection. Nothing above this call knows which."""
        ...

    def simulate(
        self, bars: Any, signals: np.ndarray, settings: BacktestSettings
    ) -> BacktestResult:
        """Run the backtest engine over ``bars`` (``open``/``high``/``low``/``close``/
        ``timestamps`` arrays, e.g. a market ``BarSeries``) and these ``signals``; nothing is
        loaded or stored. A deployment's parity report replays exactly the bars it saw."""
        ...

    def watch_account(
        self,
        portfolio_id: int,
        on_snapshot: Callable[[AccountSnapshot], None],
        on_status: Callable[[FeedStatus], None],
        *,
        poll_interval: float | None = None,
    ) -> AccountWatch:
        """Keep a PAPER/LIVE portfolio's account, positions and open orders fresh: the broker's
        trade-updates stream when the connection can stream, else polling. Callbacks run on a
        background thread."""
        ...
