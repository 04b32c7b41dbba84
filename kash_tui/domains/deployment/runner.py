"""The runner: trades one deployment bar by bar (private).

Each tick (``RunOptions.tick_seconds``) it reads its row (a stop or halt from another process),
beats its heart, reads the broker's clock (the time it trades by), checks its open orders for
fills, and follows closed bars:

* A bar is closed once the broker's clock is past its end (a US-equity day bar at 16:00 New
  York). Only closed bars make signals, computed by the strategy's own ``generate_signals``
  over every bar since the deployment's first warm-up bar, with its stored parameters: exactly
  what a backtest of those bars computes. Those bars are held in memory (:class:`_History`):
  read once at start, each new closed bar appended; the whole history is read again only
  after a back-fill. Per bar the runner reads the few newest stored bars and the journal rows
  of that one bar (indexed), never the whole journal.
* The newest closed bar's signal becomes a market order right away (the backtest fills it at
  the next bar's open). A bar that arrives late (after a silence, or while the runner was down)
  is journaled, and its signal recorded and skipped: the next bar's open it was meant for has
  passed.
* Bars come over REST into the market cache. The deployment that owns its connection's
  market-data stream (``DataMode.STREAM``) fetches when the stream says a bar exists; the
  others (``POLL``) fetch when a bar is due. No bar for two bar lengths while the market is open
  is *stale*: signals are held, the gap is back-filled over REST, then it resumes.
* Orders carry a client order id made of the deployment's tag and the bar's time, and go
  through the trading adapter (order journal, Alpaca's rule checks), so a crash and a restart
  never send a second order for a signal. The intent is journaled before it is sent; a restart
  on the same bar sends that very ticket again, which the adapter first looks up at the broker.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
from kash_tui.db import utc_now
from kash_tui.domains.connection import BrokerConnectionError, BrokerError
from kash_tui.domains.deployment import models, repo
from kash_tui.domains.deployment.entities import DeploymentRow
from kash_tui.domains.deployment.service import (
    DataHealth,
    DataMode,
    DeploymentError,
    DeploymentState,
    DesiredState,
    EventCallback,
    EventKind,
    JournalEntry,
    RunOptions,
)
from kash_tui.domains.deployment.service_impl import (
    claim_stream_lease,
    ny_date,
    order_prefix,
)
from kash_tui.domains.market import BarSeries, MarketError, NoBarsError, Timeframe
from kash_tui.domains.strategy import StrategyError
from kash_tui.domains.trading import (
    BacktestSettings,
    MarketClock,
    OrderRequest,
    OrderSide,
    OrderType,
    TimeInForce,
    TradingError,
    entry_quantity,
)
from kash_tui.domains.workspace import Portfolio, PortfolioMode

if TYPE_CHECKING:
    from kash_tui.domains.deployment.service_impl import SqlDeploymentService

log = logging.getLogger("kash.deployment.runner")

NY = ZoneInfo("America/New_York")
FINAL_STATUSES = frozenset({"filled", "canceled", "expired", "rejected", "replaced"})
NS = 1_000_000_000


class _History:
    """The closed bars a deployment's signals are computed over, in memory: from its first
    warm-up bar to the newest bar it handled. Appending is amortised O(1) (the arrays double
    when full); :meth:`series` is a view of the bars so far."""

    FIELDS = ("timestamps", "open", "high", "low", "close", "volume")

    def __init__(self, series: BarSeries) -> None:
        self._template = series
        self._n = len(series)
        capacity = max(256, 2 * self._n)
        self._arrays: dict[str, np.ndarray] = {}
        for name in self.FIELDS:
            source = getattr(series, name)
            array = np.empty(capacity, dtype=source.dtype)
            array[: self._n] = source
            self._arrays[name] = array

    def __len__(self) -> int:
        return self._n

    def append(self, series: BarSeries, lo: int, hi: int) -> None:
        """Append ``series``' bars ``lo`` to ``hi`` (exclusive)."""
        count = hi - lo
        if count <= 0:
            return
        needed = self._n + count
        for name in self.FIELDS:
            array = self._arrays[name]
            if needed > array.shape[0]:
                grown = np.empty(max(needed, 2 * array.shape[0]), dtype=array.dtype)
                grown[: self._n] = array[: self._n]
                self._arrays[name] = array = grown
            array[self._n:needed] = getattr(series, name)[lo:hi]
        self._n = needed

    def series(self) -> BarSeries:
        n = self._n
        return replace(self._template, **{k: a[:n] for k, a in self._arrays.items()})


class _Halted(Exception):
    """The deployment was halted (by the user or its daily loss limit): leave the loop."""


class _Stopped(Exception):
    pass


@dataclass
class _Pending:
    client_order_id: str
    side: str
    qty: Decimal
    bar_at: datetime | None


def default_warmup(params: dict[str, Any]) -> int:
    """Bars of history before trading: three times the longest integer parameter (a period),
    at least 50 and at most 2,000."""
    longest = max((v for v in params.values() if isinstance(v, int) and not isinstance(v, bool)),
                  default=0)
    return int(min(max(50, 3 * longest), 2000))


def history_span(timeframe: Timeframe, bars: int, crypto: bool) -> timedelta:
    """How far back ``bars`` bars reach (weekends and nights included for equities)."""
    seconds = timeframe.seconds
    if crypto:
        return timedelta(seconds=bars * seconds * 1.1 + seconds)
    if timeframe is Timeframe.WEEK_1:
        return timedelta(days=bars * 7 + 14)
    if timeframe is Timeframe.DAY_1:
        return timedelta(days=bars * 7 / 5 + 10)
    per_day = max(1, int(6.5 * 3600 // seconds))
    return timedelta(days=math.ceil(bars / per_day) * 7 / 5 + 4)


def close_time(bar_at: datetime, timeframe: Timeframe, crypto: bool) -> datetime:
    """When the bar opening at ``bar_at`` closes."""
    if timeframe is Timeframe.DAY_1 and not crypto:
        local = bar_at.astimezone(NY)
        return local.replace(hour=16, minute=0, second=0, microsecond=0).astimezone(UTC)
    return bar_at + timedelta(seconds=timeframe.seconds)


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.2f}"


class Runner:
    def __init__(
        self,
        service: SqlDeploymentService,
        row: DeploymentRow,
        portfolio: Portfolio,
        options: RunOptions,
        *,
        stop: Any = None,
        on_event: EventCallback | None = None,
    ) -> None:
        self.svc = service
        self.id = row.id
        self.name = row.name
        self.symbol = row.symbol
        self.tf = Timeframe.parse(row.timeframe)
        self.prefix = order_prefix(row.order_tag)
        self.limits = models.limits_of(row)
        self.params = models.params_of(row)
        self.strategy_id = row.strategy_id
        self.portfolio = portfolio
        self.live = portfolio.mode is PortfolioMode.LIVE
        self.options = options
        self.stop_event = stop if stop is not None else threading.Event()
        self.on_event = on_event
        self.wake = threading.Event()
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.holder = f"{self.name[:60]}@{self.host[:40]}:{self.pid}"
        self.pending: dict[str, _Pending] = {}
        self.position = Decimal(0)
        self.health = DataHealth.UNKNOWN
        self.mode = DataMode.POLL
        self.watch: Any = None
        self.lease_connection: int | None = None
        self.clock: MarketClock | None = None
        self._clock_read = 0.0
        self._beat = 0.0
        self.broker_down = False
        self.session_since: datetime | None = None
        self.stale_from: datetime | None = None
        self.last_seen: datetime | None = None
        self.warmup_start: datetime | None = None
        self.first_live_bar: datetime | None = None
        self.last_close: float | None = None
        self.cash_flow = Decimal(0)
        self._orders_checked = 0.0
        self.held: tuple | None = None
        """A day bar's signal waiting for the session to open."""
        self.history: _History | None = None
        self._stream_connects = 0
        """Connections of the market-data stream seen so far (more later = it reconnected)."""
        self._stream_down_at: datetime | None = None
        self._daily_fetched = 0.0
        self._daily_poll = 4 * max(options.tick_seconds, options.clock_refresh_seconds)
        """Seconds between fetches of a day bar that is due (60 s by default)."""
        """The closed bars from the first warm-up bar to ``last_seen`` (see :class:`_History`)."""

    # -- journal ------------------------------------------------------------------------------

    def emit(self, kind: EventKind, message: str, *, bar_at: datetime | None = None,
             data: dict[str, Any] | None = None, **fields: Any) -> JournalEntry:
        entry = self.svc.record(self.id, kind, message, bar_at=bar_at, data=data,
                                fields=fields or None)
        log.info("%s: %s %s", self.name, kind.value, message)
        if self.on_event is not None:
            try:
                self.on_event(entry)
            except Exception:  # noqa: BLE001 - a printer must not stop trading
                log.exception("event callback failed")
        return entry

    def set(self, **fields: Any) -> None:
        with self.svc.db.unit_of_work() as s:
            repo.set_fields(s, self.id, **fields)

    def fresh_row(self) -> DeploymentRow:
        with self.svc.db.unit_of_work() as s:
            row = repo.by_id(s, self.id)
            if row is None:
                raise _Stopped()
            s.expunge(row)
            return row

    def _events(self, *kinds: EventKind, bar_at: datetime | None = None) -> list[JournalEntry]:
        """This deployment's journal entries of ``kinds`` (of one bar: an indexed read)."""
        with self.svc.db.unit_of_work() as s:
            return [models.to_entry(e) for e in repo.events(
                s, self.id, kinds=tuple(k.value for k in kinds), bar_at=bar_at)]

    # -- the whole run ------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._start()
            self._loop()
        except (_Halted, _Stopped):
            pass
        except KeyboardInterrupt:
            self._stopped("Stopped (interrupted).")
        except BaseException as exc:
            from kash_tui.errors import is_user_error

            sentence = str(exc) if is_user_error(exc) else (
                f"Unexpected error ({type(exc).__name__}); see the log file.")
            self.emit(EventKind.FAILED, f"Failed: {sentence}",
                      state=DeploymentState.FAILED.value, message=sentence,
                      stopped_at=utc_now())
            raise
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        if self.watch is not None:
            try:
                self.watch.stop()
            except Exception:  # noqa: BLE001
                log.exception("stopping the bar watch")
            self.watch = None
        if self.lease_connection is not None:
            try:
                with self.svc.db.unit_of_work() as s:
                    repo.release_lease(s, self.lease_connection, self.holder)
            except Exception:  # noqa: BLE001
                log.exception("releasing the stream lease")
        try:
            self.set(pid=None, data_mode=None)
        except Exception:  # noqa: BLE001
            log.exception("clearing the runner's pid")

    def _stopped(self, message: str) -> None:
        self.emit(EventKind.STOP, message, state=DeploymentState.STOPPED.value,
                  desired_state=DesiredState.STOPPED.value, stopped_at=utc_now())

    # -- start: reconcile, data mode, warm-up -------------------------------------------------

    def _start(self) -> None:
        now = utc_now()
        self.set(state=DeploymentState.RUNNING.value, desired_state=DesiredState.RUNNING.value,
                 pid=self.pid, host=self.host, started_at=now, heartbeat_at=now,
                 stopped_at=None, message=None, flatten_requested=False,
                 data_health=DataHealth.WARMING_UP.value)
        self.health = DataHealth.WARMING_UP
        trading = self.svc.trading
        self.adapter = trading.resolve_trading_adapter(self.portfolio.id)
        self.asset = self.adapter.get_asset(self.symbol)
        self.crypto = self.asset.asset_class == "crypto"
        self.whole_shares = not (self.crypto or self.asset.fractionable)
        try:
            self.strategy = self.svc.strategies.create_with_params(self.strategy_id, self.params)
        except StrategyError as exc:
            raise DeploymentError(str(exc)) from None
        limits = ", ".join(f"{k} {v:g}" for k, v in self.limits.to_dict().items() if v) or "none"
        self.emit(
            EventKind.START,
            f"Started {self.strategy_id} {self.params} on {self.symbol} {self.tf.value}, "
            f"{self.portfolio.mode.value} portfolio {self.portfolio.name!r} "
            f"(position size {self.portfolio.position_size_pct}% of equity; risk limits: "
            f"{limits}).",
            data={"strategy_id": self.strategy_id, "params": self.params,
                  "whole_shares": self.whole_shares,
                  "position_size_pct": float(self.portfolio.position_size_pct),
                  "live": self.live, "pid": self.pid, "host": self.host},
        )
        clock = self._now(force=True)
        self._reconcile(clock)
        self._choose_data_mode()
        self._warmup(clock)

    def _broker_qty(self) -> Decimal:
        key = self.symbol.replace("/", "")
        for p in self.adapter.get_positions():
            if p.symbol.replace("/", "") == key:
                return p.qty
        return Decimal(0)

    def _reconcile(self, now: datetime) -> None:
        row = self.fresh_row()
        account = self.adapter.get_account()
        held = self._broker_qty()
        expected = row.position_qty or Decimal(0)
        if held != expected:
            self.emit(EventKind.RECONCILE,
                      f"The broker holds {held} {self.symbol} where the journal expected "
                      f"{expected}; adopting the broker's position (the broker is the truth).",
                      data={"broker_qty": str(held), "expected_qty": str(expected)},
                      position_qty=held)
        else:
            self.emit(EventKind.RECONCILE,
                      f"Position agrees with the broker: {held} {self.symbol}; equity "
                      f"{account.equity}.", data={"broker_qty": str(held),
                                                   "equity": str(account.equity)})
        self.position = held
        fields: dict[str, Any] = {}
        if row.start_equity is None:
            fields["start_equity"] = account.equity
        today = ny_date(now)
        if row.trading_day != today:
            fields.update(trading_day=today, day_start_equity=account.equity, orders_today=0)
        if fields:
            self.set(**fields)
        # orders of this deployment: fills that happened while it was down, open ones to follow
        fills = self._events(EventKind.FILL)
        filled = {e.data.get("client_order_id") for e in fills}
        sent = {e.data.get("client_order_id"): e for e in self._events(EventKind.ORDER_SENT)}
        for fill in fills:
            self._count_fill(fill.data.get("side", ""), Decimal(str(fill.data.get("qty", 0))),
                             Decimal(str(fill.data.get("price", 0))))
        for order in self.adapter.get_orders("all"):
            cid = order.client_order_id
            if not cid.startswith(self.prefix) or cid in filled:
                continue
            intent = sent.get(cid)
            bar_at = intent.bar_at if intent is not None else None
            self.pending[cid] = _Pending(cid, order.side.value, order.qty or Decimal(0), bar_at)
        if self.pending:
            self._check_orders()

    def _choose_data_mode(self) -> None:
        conn_name = self.portfolio.connection_name or ""
        conn = self.svc.connections.get(conn_name)
        mode = DataMode.POLL
        if (self.options.stream and conn.cap_data_stream_live and conn.id is not None
                and self.asset.asset_class != "us_option" and self._claim_lease(conn.id)):
            mode = DataMode.STREAM
            self.lease_connection = conn.id
            self.watch = self.svc.market.watch_bars(
                self.symbol, self.tf, lambda _new: self.wake.set(), connection=conn_name,
                poll_interval=max(self.options.tick_seconds, 0.05), stream=True,
            )
        self.mode = mode
        self.set(data_mode=mode.value)

    def _claim_lease(self, connection_id: int) -> bool:
        return claim_stream_lease(self.svc.db, connection_id, self.holder)

    def _fetch(self, start: datetime) -> None:
        try:
            self.svc.market.fetch_bars(self.symbol, self.tf, start,
                                       connection=self.portfolio.connection_name)
        except NoBarsError:
            return

    def _warmup(self, now: datetime) -> None:
        row = self.fresh_row()
        n = self.options.warmup_bars or default_warmup(self.params)
        if row.warmup_start is None:
            start = now - history_span(self.tf, n, self.crypto)
            try:
                self.svc.market.fetch_bars(self.symbol, self.tf, start,
                                           connection=self.portfolio.connection_name)
                series = self.svc.market.load_bars(self.symbol, self.tf, start)
            except NoBarsError:
                raise DeploymentError(
                    f"Alpaca has no {self.tf.value} bars of {self.symbol} to warm up on; check "
                    "the symbol and timeframe."
                ) from None
            closed = self._closed_count(series, now)
            if closed == 0:
                raise DeploymentError(
                    f"There is no closed {self.tf.value} bar of {self.symbol} yet to warm up "
                    "on; start the deployment later."
                )
            first = max(0, closed - n)
            self.warmup_start = series.time(first)
            self.last_seen = series.time(closed - 1)
            self.set(warmup_start=self.warmup_start, last_bar_at=self.last_seen)
            count = closed - first
            self.history = _History(_slice(series, first, closed))
        else:
            self.warmup_start = row.warmup_start
            self.last_seen = row.last_bar_at or row.warmup_start
            self._fetch(self.last_seen)
            series = self.svc.market.load_bars(self.symbol, self.tf, self.warmup_start)
            count = self._closed_count(series, now)
            # in memory up to the last bar handled; the ones after it are new (and late)
            seen = int(np.searchsorted(series.timestamps[:count],
                                       int(self.last_seen.timestamp() * NS), side="right"))
            self.history = _History(_slice(series, 0, seen))
        self.first_live_bar = row.first_live_bar
        self.emit(EventKind.WARMUP,
                  f"History: {count} closed {self.tf.value} bars from "
                  f"{self.warmup_start:%Y-%m-%d %H:%M} UTC to {self.last_seen:%Y-%m-%d %H:%M} UTC.",
                  data={"bars": count, "first": self.warmup_start.isoformat(),
                        "last": self.last_seen.isoformat(), "mode": self.mode.value})

    def _closed_count(self, series: BarSeries, now: datetime) -> int:
        """How many of ``series``' bars (oldest first) are closed at ``now``."""
        n = len(series)
        while n and close_time(series.time(n - 1), self.tf, self.crypto) > now:
            n -= 1
        return n

    # -- the loop -----------------------------------------------------------------------------

    def _loop(self) -> None:
        tick = max(self.options.tick_seconds, 0.01)
        while True:
            if self.stop_event.is_set():
                self._stopped("Stopped.")
                return
            row = self.fresh_row()
            if row.desired_state == DesiredState.STOPPED.value:
                self._stopped("Stopped by `kash deploy stop`.")
                return
            if row.desired_state == DesiredState.HALTED.value:
                return  # the halt recorded itself and cancelled the orders
            self._heartbeat()
            self._watch_stream()
            try:
                now = self._now(force=self.wake.is_set())
                self._day(now)
                if self.pending and time.monotonic() - self._orders_checked >= min(
                        1.0, self.options.tick_seconds * 10):
                    self._check_orders()
                self._follow(now)
                if self.held is not None and self.in_session:
                    held, self.held = self.held, None
                    self._signal(*held, current=True)
                if self.broker_down:
                    self.broker_down = False
                    self.emit(EventKind.RECONNECT, "The broker answers again; trading resumes.")
            except BrokerConnectionError as exc:
                if not self.broker_down:
                    self.broker_down = True
                    self.emit(EventKind.BROKER_ERROR, f"{exc} Retrying every tick.")
            except MarketError as exc:
                if not self.broker_down:
                    self.broker_down = True
                    self.emit(EventKind.BROKER_ERROR, f"{exc} Retrying every tick.")
            if self.wake.wait(tick):
                self.wake.clear()

    def _watch_stream(self) -> None:
        """Journal a market-data stream that dropped and came back (alpaca-py reconnects by
        itself), and fetch at once what it missed meanwhile. A stream that stays away is the
        stale-data check's (no bar for two bar lengths)."""
        watch = self.watch
        if watch is None:
            return
        connects = watch.stream_connects
        if connects > self._stream_connects:
            if self._stream_connects:
                down = ""
                seconds = None
                if self._stream_down_at is not None:
                    seconds = (utc_now() - self._stream_down_at).total_seconds()
                    down = f" (down since {self._stream_down_at:%H:%M:%S} UTC, {seconds:.0f} s)"
                self.emit(EventKind.RECONNECT,
                          f"The market-data stream dropped and reconnected{down}; bars "
                          "missed meanwhile are fetched over REST.",
                          data={"connects": connects, "down_seconds": seconds})
                self.wake.set()
            self._stream_connects = connects
            self._stream_down_at = None
        elif self._stream_connects and self._stream_down_at is None and not watch.streaming:
            self._stream_down_at = utc_now()

    def _heartbeat(self) -> None:
        mono = time.monotonic()
        if mono - self._beat < min(1.0, self.options.tick_seconds):
            return
        self._beat = mono
        now = utc_now()
        self.set(heartbeat_at=now)
        if self.lease_connection is not None:
            with self.svc.db.unit_of_work() as s:
                repo.renew_lease(s, self.lease_connection, self.holder, now)

    def _now(self, *, force: bool = False) -> datetime:
        mono = time.monotonic()
        if force or self.clock is None or (
            mono - self._clock_read >= self.options.clock_refresh_seconds
        ):
            was_open = self.clock.is_open if self.clock is not None else False
            self.clock = self.adapter.get_clock()
            self._clock_read = mono
            if self.clock.is_open and not was_open:
                self.session_since = self.clock.timestamp
            return self.clock.timestamp
        return self.clock.timestamp + timedelta(seconds=mono - self._clock_read)

    @property
    def in_session(self) -> bool:
        return self.crypto or bool(self.clock and self.clock.is_open)

    def _day(self, now: datetime) -> None:
        today = ny_date(now)
        row = self.fresh_row()
        if row.trading_day != today:
            equity = self.adapter.get_account().equity
            self.set(trading_day=today, day_start_equity=equity, orders_today=0)

    # -- bars ---------------------------------------------------------------------------------

    def _follow(self, now: datetime) -> None:
        assert self.last_seen is not None
        last_close = close_time(self.last_seen, self.tf, self.crypto)
        next_close = last_close + timedelta(seconds=self.tf.seconds)
        woken = self.wake.is_set()
        if not self.in_session:
            if self.health is not DataHealth.MARKET_CLOSED:
                self.health = DataHealth.MARKET_CLOSED
                self.set(data_health=self.health.value)
        since = max(last_close, self.session_since or last_close)
        silent_for = (now - since).total_seconds()
        stale = self.in_session and silent_for > 2 * self.tf.seconds
        if stale and self.health is not DataHealth.STALE:
            self.health = DataHealth.STALE
            self.stale_from = self.last_seen
            self.emit(EventKind.STALE,
                      f"No {self.tf.value} bar since the one at {self.last_seen:%H:%M} UTC "
                      f"({silent_for / 60:.0f} min, over two bar lengths); holding signals and "
                      "back-filling over REST.",
                      bar_at=self.last_seen, data_health=self.health.value)
        # an equity day (week) bar closes with the session: it is fetched while the market is
        # closed too (its signal waits for the open), and a forming one is not asked for
        # every tick: at most once per ``_daily_poll`` seconds
        daily = not self.crypto and self.tf in (Timeframe.DAY_1, Timeframe.WEEK_1)
        due = now >= next_close and (self.in_session or daily)
        if due and daily and not woken:
            mono = time.monotonic()
            if mono - self._daily_fetched < self._daily_poll:
                due = False
            else:
                self._daily_fetched = mono
        if stale or (due and (self.mode is DataMode.POLL or woken)):
            self._fetch(self.last_seen)
        self._take_new_bars(now)

    def _take_new_bars(self, now: datetime) -> None:
        market = self.svc.market
        last_ns = int(self.last_seen.timestamp() * NS)
        # only the bars from the last one handled on: a few rows, however long the history
        try:
            source = market.load_bars(self.symbol, self.tf, self.last_seen)
        except NoBarsError:
            return
        hi = self._closed_count(source, now)
        lo = int(np.searchsorted(source.timestamps[:hi], last_ns, side="right"))
        if lo >= hi:
            return
        self.held = None  # a newer bar replaces a signal still waiting for the open
        if self.pending:
            self._check_orders()  # the bar's open may have filled what is pending
        if self.history is None or self.health is DataHealth.STALE:
            # after a back-fill the whole history is read again: a gap may have been filled
            # anywhere in it, and signals are computed over what the cache holds
            source = market.load_bars(self.symbol, self.tf, self.warmup_start)
            hi = self._closed_count(source, now)
            lo = int(np.searchsorted(source.timestamps[:hi], last_ns, side="right"))
            self.history = _History(_slice(source, 0, lo))
            if lo >= hi:
                return
        start = len(self.history)
        self.history.append(source, lo, hi)
        series = self.history.series()
        n = len(series)
        new = list(range(start, n))
        for i in new:
            self.emit(EventKind.BAR,
                      f"Bar {series.time(i):%Y-%m-%d %H:%M} UTC closed: O {_fmt(series.open[i])} "
                      f"H {_fmt(series.high[i])} L {_fmt(series.low[i])} C {_fmt(series.close[i])} "
                      f"V {_fmt(series.volume[i])}.",
                      bar_at=series.time(i),
                      data={"o": float(series.open[i]), "h": float(series.high[i]),
                            "l": float(series.low[i]), "c": float(series.close[i]),
                            "v": float(series.volume[i])})
        if self.health is DataHealth.STALE:
            self.emit(EventKind.GAP,
                      f"Back-filled {len(new)} bar(s) from {series.time(new[0]):%H:%M} to "
                      f"{series.time(new[-1]):%H:%M} UTC after the silence since "
                      f"{self.stale_from:%H:%M} UTC; their signals are not traded late.",
                      bar_at=series.time(new[0]),
                      data={"bars": len(new), "from": series.time(new[0]).isoformat(),
                            "to": series.time(new[-1]).isoformat()})
            self.emit(EventKind.RESUMED, "Data is flowing again; trading resumes.",
                      data_health=DataHealth.OK.value)
        elif len(new) > 1:
            self.emit(EventKind.GAP,
                      f"{len(new)} bars arrived at once ({series.time(new[0]):%H:%M} to "
                      f"{series.time(new[-1]):%H:%M} UTC); only the newest may trade.",
                      bar_at=series.time(new[0]), data={"bars": len(new)})
        self.health = DataHealth.OK if self.in_session else DataHealth.MARKET_CLOSED
        if self.first_live_bar is None:
            self.first_live_bar = series.time(new[0])
            self.set(first_live_bar=self.first_live_bar)
        signals = np.asarray(self.strategy.generate_signals(series))
        indicators = functools.cache(lambda: self.strategy.indicators(series))
        newest = new[-1]
        self.last_close = float(series.close[newest])
        for i in new:
            if int(signals[i]) == 0:
                continue
            current = i == newest and now < close_time(series.time(i), self.tf, self.crypto) + (
                timedelta(seconds=self.tf.seconds))
            self._signal(series, i, int(signals[i]), indicators, current)
        self.last_seen = series.time(newest)
        self._mark(last_bar_at=self.last_seen, done_bar_at=self.last_seen,
                   data_health=self.health.value)
        self._check_loss()

    # -- signals and orders -------------------------------------------------------------------

    def _signal(self, series: BarSeries, i: int, kind: int,
                indicators: Callable[[], list], current: bool) -> None:
        """Handle the signal of bar ``i``; ``indicators()`` computes the strategy's indicators
        over ``series`` (only when the signal is journaled for the first time)."""
        bar_at = series.time(i)
        side = OrderSide.BUY if kind > 0 else OrderSide.SELL
        cid = f"{self.prefix}{int(bar_at.timestamp())}-{side.value[0]}"
        sent = self._events(EventKind.ORDER_SENT, EventKind.BROKER_ANSWER, EventKind.SIGNAL,
                            bar_at=bar_at)
        intent = next((e for e in sent if e.kind is EventKind.ORDER_SENT
                       and e.data.get("client_order_id") == cid), None)
        answered = any(e.kind is EventKind.BROKER_ANSWER and e.data.get("client_order_id") == cid
                       for e in sent)
        if answered:
            return  # handled before a restart
        close = float(series.close[i])
        if not any(e.kind is EventKind.SIGNAL for e in sent):
            values = {ind.name: (float(ind.values[i]) if math.isfinite(float(ind.values[i]))
                                 else None) for ind in indicators()}
            shown = ", ".join(f"{k} {_fmt(v) if v is not None else 'n/a'}"
                              for k, v in values.items())
            self.emit(EventKind.SIGNAL,
                      f"{side.value.capitalize()} signal at the close {_fmt(close)}"
                      + (f" ({shown})" if shown else "") + ".",
                      bar_at=bar_at, data={"side": side.value, "close": close,
                                           "indicators": values},
                      last_signal_at=bar_at, last_signal_side=side.value)
        if not current:
            self._skip(bar_at, "the bar arrived late (data was stale or the runner was down); "
                       "the next open its signal was meant for has passed")
            return
        if not self.in_session:
            if not self.crypto and self.tf in (Timeframe.DAY_1, Timeframe.WEEK_1):
                # a day bar closes with the session: its order goes out at the next open,
                # which is where the backtest fills it
                self.held = (series, i, kind, indicators)
                return
            self._skip(bar_at, "the market is closed (Alpaca's clock); the signal is recorded, "
                       "not queued")
            return
        if intent is None:
            if side is OrderSide.BUY and self.position > 0:
                self._skip(bar_at, f"already long {self.position} {self.symbol}; a buy while "
                           "long is ignored, as in the backtest")
                return
            if side is OrderSide.SELL and self.position <= 0:
                self._skip(bar_at, "flat; a sell while flat is ignored, as in the backtest")
                return
            request = self._size(side, close, cid, bar_at)
            if request is None:
                return
            row = self.fresh_row()
            self.emit(EventKind.ORDER_SENT,
                      f"Sending {request.describe()} (client order id {cid}).",
                      bar_at=bar_at,
                      data={"client_order_id": cid, "side": side.value,
                            "qty": str(request.qty), "reference_price": close},
                      orders_today=(row.orders_today or 0) + 1)
        else:
            request = OrderRequest(
                symbol=self.symbol, side=side, qty=Decimal(intent.data["qty"]),
                order_type=OrderType.MARKET, time_in_force=self._tif(),
                client_order_id=cid,
            )
        if self.fresh_row().desired_state != DesiredState.RUNNING.value:
            raise _Halted()
        self._submit(request, bar_at)

    def _tif(self) -> TimeInForce:
        return TimeInForce.GTC if self.crypto else TimeInForce.DAY

    def _skip(self, bar_at: datetime, reason: str) -> None:
        self.emit(EventKind.SKIP, f"Skipped: {reason}.", bar_at=bar_at, data={"reason": reason})

    def _size(self, side: OrderSide, close: float, cid: str,
              bar_at: datetime) -> OrderRequest | None:
        account = self.adapter.get_account()
        equity = account.equity
        self._check_loss(equity)
        row = self.fresh_row()
        if self.limits.max_orders_per_day is not None and (
            (row.orders_today or 0) >= self.limits.max_orders_per_day
        ):
            self.emit(EventKind.RISK_CHECK_FAILED,
                      f"Not sent: {row.orders_today} orders today reach the limit of "
                      f"{self.limits.max_orders_per_day} per day.", bar_at=bar_at,
                      data={"check": "max_orders_per_day"})
            return None
        if side is OrderSide.SELL:
            qty = self.position
        else:
            settings = BacktestSettings(
                initial_cash=max(float(equity), 1e-9),
                position_size_pct=float(self.portfolio.position_size_pct),
                whole_shares=self.whole_shares,
            )
            raw = entry_quantity(float(equity), close, settings)
            qty = self._quantity(raw)
            if qty <= 0:
                self._skip(bar_at, f"{self.portfolio.position_size_pct}% of equity {equity} "
                           f"buys less than one unit at {_fmt(close)}")
                return None
            if self.limits.max_position_pct is not None and equity > 0:
                pct = float(qty) * close / float(equity) * 100.0
                if pct > self.limits.max_position_pct + 1e-9:
                    self.emit(EventKind.RISK_CHECK_FAILED,
                              f"Not sent: buying {qty} {self.symbol} (about "
                              f"{_fmt(float(qty) * close)}) would be {pct:.1f}% of equity, "
                              f"above the limit of {self.limits.max_position_pct:g}%.",
                              bar_at=bar_at, data={"check": "max_position_pct", "pct": pct})
                    return None
        return OrderRequest(symbol=self.symbol, side=side, qty=qty,
                            order_type=OrderType.MARKET, time_in_force=self._tif(),
                            client_order_id=cid)

    def _quantity(self, raw: float) -> Decimal:
        if not math.isfinite(raw) or raw <= 0:
            return Decimal(0)
        if self.whole_shares:
            return Decimal(int(raw))
        step = self.asset.min_trade_increment if self.crypto else None
        step = step or Decimal("0.000000001")
        qty = (Decimal(repr(raw)) / step).to_integral_value(rounding=ROUND_DOWN) * step
        return qty.normalize() if qty else Decimal(0)

    def _submit(self, request: OrderRequest, bar_at: datetime) -> None:
        cid = request.client_order_id
        try:
            order = self.adapter.submit_order(request, confirm_live=self.live)
        except BrokerError as exc:
            if exc.outcome_unknown:
                self.pending[cid] = _Pending(cid, request.side.value, request.qty or Decimal(0),
                                             bar_at)
                self.emit(EventKind.BROKER_ERROR,
                          f"{exc} The order will be looked up by its client order id.",
                          bar_at=bar_at, data={"client_order_id": cid})
                return
            self._rejected(request, bar_at, exc)
            return
        except (TradingError, BrokerConnectionError) as exc:
            self._rejected(request, bar_at, exc)
            return
        self.emit(EventKind.BROKER_ANSWER,
                  f"Alpaca took the order: {order.status} (order id {order.id}).",
                  bar_at=bar_at, data={"client_order_id": cid, "order_id": order.id,
                                       "status": order.status})
        self.pending[cid] = _Pending(cid, request.side.value, request.qty or Decimal(0), bar_at)
        if order.status == "filled":
            self._check_orders()

    def _rejected(self, request: OrderRequest, bar_at: datetime, exc: Exception) -> None:
        self.emit(EventKind.BROKER_ANSWER, f"Rejected: {exc}", bar_at=bar_at,
                  data={"client_order_id": request.client_order_id, "status": "rejected",
                        "message": str(exc)})

    def _count_fill(self, side: str, qty: Decimal, price: Decimal) -> None:
        self.cash_flow += qty * price if side == "sell" else -(qty * price)

    def _check_orders(self) -> None:
        self._orders_checked = time.monotonic()
        by_cid = {o.client_order_id: o for o in self.adapter.get_orders("all")
                  if o.client_order_id in self.pending}
        changed = False
        for cid, pending in list(self.pending.items()):
            order = by_cid.get(cid)
            if order is None:
                continue
            if order.status in FINAL_STATUSES or order.status == "done_for_day":
                if order.filled_qty > 0:
                    price = order.filled_avg_price or Decimal(0)
                    self._count_fill(order.side.value, order.filled_qty, price)
                    self.emit(EventKind.FILL,
                              f"Filled: {order.side.value} {order.filled_qty} {order.symbol} at "
                              f"{price}.", bar_at=pending.bar_at,
                              data={"client_order_id": cid, "order_id": order.id,
                                    "side": order.side.value, "qty": str(order.filled_qty),
                                    "price": str(price),
                                    "filled_at": order.filled_at.isoformat()
                                    if order.filled_at else None})
                    changed = True
                if order.status != "filled":
                    self.emit(EventKind.BROKER_ANSWER,
                              f"The order {cid} ended {order.status} with {order.filled_qty} "
                              "filled.", bar_at=pending.bar_at,
                              data={"client_order_id": cid, "order_id": order.id,
                                    "status": order.status})
                del self.pending[cid]
        if changed:
            self.position = self._broker_qty()
            self._mark()
            self._check_loss()

    def _mark(self, **more: Any) -> None:
        """Store the position and the P&L (and ``more`` row fields) in one write."""
        fields: dict[str, Any] = {"position_qty": self.position, **more}
        if self.last_close is not None:
            fields["pnl"] = self.cash_flow + self.position * Decimal(repr(self.last_close))
        self.set(**fields)

    def _check_loss(self, equity: Decimal | None = None) -> None:
        limit = self.limits.daily_loss_limit_pct
        if limit is None:
            return
        if equity is None:
            equity = self.adapter.get_account().equity
        row = self.fresh_row()
        start = row.day_start_equity
        if start is None or start <= 0:
            return
        loss_pct = float((start - equity) / start * 100)
        if loss_pct >= limit:
            reason = (
                f"Daily loss limit reached: equity {equity} is {loss_pct:.2f}% below the "
                f"start-of-day {start} (limit {limit:g}%); halted until started again."
            )
            self.svc.self_halt(row, reason, self.adapter, on_event=self.on_event)
            raise _Halted()


def _slice(series: BarSeries, lo: int, hi: int) -> BarSeries:
    if lo == 0 and hi == len(series):
        return series
    return replace(series, timestamps=series.timestamps[lo:hi], open=series.open[lo:hi],
                   high=series.high[lo:hi], low=series.low[lo:hi], close=series.close[lo:hi],
                   volume=series.volume[lo:hi])
