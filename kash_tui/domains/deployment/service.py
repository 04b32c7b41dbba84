"""Deployment domain, public face: strategies that trade a PAPER or LIVE portfolio.

A deployment is one strategy with its parameters, on one symbol and timeframe, trading one
PAPER or LIVE portfolio, with risk limits. It is stored (so it survives restarts and the CLI,
the app and a detached runner meet in the database) with a journal of every event. The runner
(:meth:`DeploymentService.run`) trades it bar by bar with exactly the strategy code and
parameters a backtest uses; :meth:`DeploymentService.parity` replays the bars it saw through
the backtest engine and compares, trade by trade.

Money in the public types is ``Decimal`` where it came from the broker (equity, fills,
position) and ``float`` in the parity report's backtest figures (the engine works in float64).
Times are timezone-aware UTC.

This module imports only the standard library.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol


class DeploymentError(Exception):
    """A deployment problem the user can fix; the message says what to do."""


class DeploymentNotFound(DeploymentError):
    pass


class LiveRefused(DeploymentError):
    """A LIVE deployment was asked to start without everything live trading needs."""


class DeploymentState(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    HALTED = "halted"
    FAILED = "failed"


class DesiredState(StrEnum):
    """What the user last asked for; the runner obeys it on its next tick."""

    RUNNING = "running"
    STOPPED = "stopped"
    HALTED = "halted"


class DataMode(StrEnum):
    """How a running deployment follows bars. Alpaca allows one market-data stream per key:
    one deployment per connection owns it (``STREAM``), the others ``POLL`` over REST."""

    STREAM = "stream"
    POLL = "poll"


class DataHealth(StrEnum):
    WARMING_UP = "warming up"
    OK = "ok"
    STALE = "stale"
    """No bar for two bar lengths during the session: signals are held while it back-fills."""
    MARKET_CLOSED = "market closed"
    UNKNOWN = "unknown"


class EventKind(StrEnum):
    """Every kind of journal entry."""

    START = "start"
    RECONCILE = "reconcile"
    WARMUP = "warmup"
    BAR = "bar"
    SIGNAL = "signal"
    ORDER_SENT = "order_sent"
    BROKER_ANSWER = "broker_answer"
    FILL = "fill"
    SKIP = "skip"
    RISK_CHECK_FAILED = "risk_check_failed"
    STALE = "stale"
    GAP = "gap"
    RESUMED = "resumed"
    RECONNECT = "reconnect"
    BROKER_ERROR = "broker_error"
    HALT = "halt"
    CANCEL = "cancel"
    STOP = "stop"
    FAILED = "failed"


def _limit(value: Any, name: str, flag: str, *, upper: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise DeploymentError(f"{name} must be a number (got {value!r}); pass e.g. {flag} 5.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DeploymentError(f"{name} must be a number (got {value!r}); pass e.g. {flag} 5.") from None
    if not math.isfinite(number) or number <= 0 or (upper is not None and number > upper):
        top = f" and at most {upper:g}" if upper is not None else ""
        raise DeploymentError(
            f"{name} must be a percent above 0{top} (got {value!r}); pass e.g. {flag} 5."
        )
    return number


@dataclass(frozen=True)
class RiskLimits:
    """Checked before every order. ``None`` means no limit. Validated on construction."""

    max_position_pct: float | None = None
    """The position after a buy may be worth at most this percent of the account's equity."""
    max_orders_per_day: int | None = None
    """Orders this deployment may send per trading day (New York date)."""
    daily_loss_limit_pct: float | None = None
    """Equity falling this percent below the start-of-day equity halts the deployment."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_position_pct", _limit(
            self.max_position_pct, "The maximum position", "--max-position-pct", upper=100.0))
        object.__setattr__(self, "daily_loss_limit_pct", _limit(
            self.daily_loss_limit_pct, "The daily loss limit", "--daily-loss-limit-pct",
            upper=100.0))
        n = self.max_orders_per_day
        if n is not None:
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise DeploymentError(
                    f"The maximum orders per day must be a whole number of at least 1 (got "
                    f"{n!r}); pass e.g. --max-orders-per-day 10."
                )

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_position_pct": self.max_position_pct,
            "max_orders_per_day": self.max_orders_per_day,
            "daily_loss_limit_pct": self.daily_loss_limit_pct,
        }


@dataclass(frozen=True)
class NewDeployment:
    """What to deploy. ``portfolio`` is a PAPER or LIVE portfolio's name (``workspace`` when
    the name is ambiguous). ``params`` go over the strategy's defaults, as in a backtest."""

    name: str
    portfolio: str
    strategy_id: str
    symbol: str
    timeframe: str
    params: Mapping[str, Any] = field(default_factory=dict)
    limits: RiskLimits = field(default_factory=RiskLimits)
    workspace: str | None = None


@dataclass(frozen=True)
class Deployment:
    """One stored deployment with what its runner last reported (the `kash deploy list` row)."""

    id: int
    name: str
    portfolio_id: int
    portfolio_name: str
    workspace_name: str
    mode: str
    """PAPER or LIVE (the portfolio's)."""
    connection_name: str | None
    strategy_id: str
    params: dict[str, Any]
    symbol: str
    timeframe: str
    limits: RiskLimits
    desired_state: DesiredState
    state: DeploymentState
    created_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None
    heartbeat_at: datetime | None
    pid: int | None
    host: str | None
    data_mode: DataMode | None
    """Stream owner or poller, while running."""
    data_health: DataHealth
    last_bar_at: datetime | None
    """Open time of the newest closed bar the runner has seen."""
    last_signal_at: datetime | None
    last_signal_side: str | None
    """``buy`` or ``sell``."""
    position_qty: Decimal
    orders_today: int
    start_equity: Decimal | None
    pnl: Decimal | None
    """P&L of this deployment's own trades since it was first started: realised plus the open
    position marked at the last close."""
    message: str | None
    """Why it is halted, stopped or failed (one sentence)."""
    log_path: str | None = None
    """The log file of a detached runner."""

    def heartbeat_age(self, now: datetime) -> timedelta | None:
        return now - self.heartbeat_at if self.heartbeat_at is not None else None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (enums as values; times and Decimals as they are)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, StrEnum):
                value = value.value
            elif isinstance(value, RiskLimits):
                value = value.to_dict()
            out[name] = value
        return out


@dataclass(frozen=True)
class JournalEntry:
    """One event of a deployment, with its time. ``message`` is one sentence for people;
    ``data`` holds the numbers (indicator values, prices, quantities, the client order id)."""

    id: int
    deployment_id: int
    at: datetime
    kind: EventKind
    message: str
    bar_at: datetime | None = None
    """The bar the event is about (its open time), when it is about one."""
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at, "kind": self.kind.value,
                "bar_at": self.bar_at, "message": self.message, "data": self.data}


def event_line(entry: JournalEntry) -> str:
    """One log line per event (``kash deploy start`` and ``log``, a detached runner's log
    file): the UTC time, the kind, the sentence."""
    return f"{entry.at:%Y-%m-%d %H:%M:%S} UTC  {entry.kind.value:<17} {entry.message}"


@dataclass(frozen=True)
class HaltReport:
    """What the kill switch did to one deployment."""

    name: str
    cancelled_orders: tuple[str, ...]
    """Broker ids of the open orders it cancelled."""
    flatten_order_id: str | None
    problems: tuple[str, ...] = ()
    """What could not be done (the broker did not answer ...), one sentence each."""


class SignalMatch(StrEnum):
    MATCHED = "matched"
    MISSED = "missed"
    """The backtest signalled and the deployment did not (or did not act on it)."""
    EXTRA = "extra"
    """The deployment signalled and the backtest did not."""


@dataclass(frozen=True)
class SignalComparison:
    bar_at: datetime
    side: str
    status: SignalMatch
    live_action: str = ""
    """What the deployment did with it: ``order``, ``skip: reason``, or empty."""


@dataclass(frozen=True)
class FillComparison:
    """A live fill against the backtest's fill of the same signal (next bar's open)."""

    signal_bar_at: datetime
    side: str
    live_price: Decimal | None
    live_qty: Decimal | None
    backtest_price: float | None
    backtest_qty: float | None
    slippage_per_unit: float | None
    """What the live fill cost per unit against the backtest: positive = worse (paid more on a
    buy, got less on a sell)."""
    slippage_cost: float | None
    """``slippage_per_unit`` x the live quantity."""


@dataclass(frozen=True)
class ParityReport:
    """The deployment against the backtest of exactly the bars it saw."""

    name: str
    strategy_id: str
    params: dict[str, Any]
    symbol: str
    timeframe: str
    bars: int
    """Bars replayed (warm-up included)."""
    live_bars: int
    """Bars the deployment followed while trading."""
    first_live_bar: datetime | None
    last_bar: datetime | None
    signals: tuple[SignalComparison, ...]
    fills: tuple[FillComparison, ...]
    total_slippage: float
    live_pnl: float | None
    backtest_pnl: float | None
    notes: tuple[str, ...] = ()
    """Things to act on, one sentence each (differences in bars, quantities, skipped signals)."""

    @property
    def matched(self) -> int:
        return sum(1 for s in self.signals if s.status is SignalMatch.MATCHED)

    @property
    def missed(self) -> int:
        return sum(1 for s in self.signals if s.status is SignalMatch.MISSED)

    @property
    def extra(self) -> int:
        return sum(1 for s in self.signals if s.status is SignalMatch.EXTRA)


@dataclass(frozen=True)
class RunOptions:
    """How the runner paces itself. Defaults suit real use; tests make them short."""

    tick_seconds: float = 2.0
    """How often the runner checks its row (stop/halt), the clock, fills and data health."""
    warmup_bars: int | None = None
    """Bars of history before the first live bar (default: from the strategy's parameters)."""
    stream: bool = True
    """Try to own the connection's market-data stream; False always polls."""
    clock_refresh_seconds: float = 15.0
    """How often the broker's clock is read; in between it is advanced by this machine's."""


EventCallback = Callable[[JournalEntry], None]


@dataclass(frozen=True)
class StreamUse:
    """Whether a bar watch (the app's chart) streams a connection's market data. Alpaca allows
    one market-data stream per API key, so it streams only while it holds the connection's
    stream lease; when a deployment (or another app) holds it, the watch polls over REST
    and reads the bars the owner stores."""

    stream: bool
    connection: str | None = None
    owner: str | None = None
    """Who holds the stream when it is another: a deployment's name, or ``the app (PID)``."""
    note: str | None = None
    """One sentence for the user when the watch does not stream."""


class DeploymentService(Protocol):
    def create(self, new: NewDeployment) -> Deployment:
        """Store a new deployment (stopped). Checks the portfolio (PAPER or LIVE with a
        connection), the strategy and its parameters, the symbol and the timeframe; raises
        ``DeploymentError`` with one sentence otherwise. A name may be used once."""
        ...

    def update(self, new: NewDeployment) -> Deployment:
        """Change a stopped, halted or failed deployment's settings (same checks as create)."""
        ...

    def get(self, name: str) -> Deployment: ...

    def list(self, workspace: str | None = None) -> list[Deployment]:
        """Every deployment (of one workspace), by name."""
        ...

    def check_start(self, name: str, *, confirm_live: str | None = None) -> Deployment:
        """Raise unless ``name`` may start now: not already running (a fresh heartbeat), and for
        a LIVE portfolio: live enabled on its connection, a daily loss limit, and
        ``confirm_live`` equal to the deployment's name (``LiveRefused``). Changes nothing."""
        ...

    def run(
        self,
        name: str,
        *,
        confirm_live: str | None = None,
        stop: Any = None,
        on_event: EventCallback | None = None,
        options: RunOptions | None = None,
    ) -> Deployment:
        """Trade ``name`` in this thread until it is stopped (``stop.set()`` on a
        ``threading.Event``, :meth:`stop`), halted (:meth:`halt` or the daily loss limit) or
        fails. Reconciles with the broker first. ``on_event`` sees each journal entry as it is
        written (the CLI prints one line each). Returns the deployment as it ended."""
        ...

    def launch(
        self, name: str, *, confirm_live: str | None = None, tick_seconds: float | None = None,
        stream: bool = True,
    ) -> Deployment:
        """Start ``name`` as a background process that outlives this one (its log under the
        data folder, ``Deployment.log_path``). Returns once the process has started; the
        deployment shows ``running`` once that process has warmed up. ``tick_seconds`` and
        ``stream`` (False: never take the market-data stream, poll) as in ``RunOptions``."""
        ...

    def stop(self, name: str) -> Deployment:
        """Ask the runner to stop trading (cancels nothing). A deployment whose runner is gone
        is marked stopped at once."""
        ...

    def halt(self, name: str, *, flatten: bool = False) -> HaltReport:
        """The kill switch: no new orders, the deployment's open orders cancelled at the broker
        now (not waiting for the runner), and with ``flatten`` its position closed. It stays
        halted until started again."""
        ...

    def halt_all(self, *, flatten: bool = False, workspace: str | None = None) -> list[HaltReport]:
        """:meth:`halt` every deployment that is running or has open orders."""
        ...

    def delete(self, name: str) -> None:
        """Remove a deployment that is not running, with its journal."""
        ...

    def journal(
        self, name: str, *, after_id: int | None = None, limit: int | None = None,
        kinds: tuple[EventKind, ...] | None = None,
    ) -> list[JournalEntry]:
        """Journal entries oldest first; ``after_id`` for the ones since (a live view polls
        with the last id it has), ``limit`` for the newest N, ``kinds`` for only those kinds
        (a chart's signals and fills: ``(EventKind.SIGNAL, EventKind.FILL)``). A deployment
        on minute bars writes 100,000 entries in a few months: page with ``limit`` (and
        ``after_id``) or filter with ``kinds`` rather than reading them all."""
        ...

    def parity(self, name: str) -> ParityReport:
        """Backtest exactly the bars the deployment saw, with its parameters and settings, and
        compare signals, fills and P&L."""
        ...

    def watch_bars(
        self, symbol: str, timeframe: Any, on_bars: Callable[[int], None], *,
        connection: str | None = None, poll_interval: float = 5.0,
    ) -> Any:
        """``MarketService.watch_bars`` for a viewer (the app's chart) that respects the
        connection's stream lease: it streams only when it can take the lease (held, with a
        heartbeat, until ``stop()``), else it polls every ``poll_interval`` seconds and reads
        what the owner stores. Returns the market's ``BarWatch`` with ``stream_use``
        (:class:`StreamUse`) saying which and why. ``connection`` None: the market's default
        (the first paper Alpaca connection)."""
        ...
