"""Live account watching: keeps a broker portfolio's account, positions and open orders fresh.

One background thread per watch takes snapshots over REST (account, positions, open orders)
and hands them to ``on_snapshot``. What triggers a snapshot:

* with a stream (Alpaca's ``trade_updates`` websocket, through alpaca-py's ``TradingStream``):
  every trade update, plus a resync after every (re)connect and once a minute, because events
  sent while the socket was down are lost;
* without one, or while the stream is reconnecting: polling every ``poll_interval`` seconds;
* a laptop sleep: when the wall clock jumps ahead of the monotonic clock the stream is
  restarted at once and a snapshot taken, rather than waiting for a ping timeout.

Failed snapshots back off exponentially (up to a minute). ``on_status`` gets a
:class:`FeedStatus` on every change: state, the time of the last good snapshot, reconnect
attempts and the last error sentence. A failed snapshot is reported DOWN at once (a broker
that cannot be reached answers in milliseconds) and stays DOWN, with its sentence, until a
snapshot succeeds; stream reconnect attempts only count up meanwhile. Callbacks run on the
watch's thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kash_tui.domains.connection import BrokerConnectionError
from kash_tui.domains.trading.service import (
    AccountSnapshot,
    FeedState,
    FeedStatus,
    TradingError,
)

log = logging.getLogger("kash.watch")

RESYNC_SECONDS = 60.0
MAX_BACKOFF = 60.0
SLEEP_JUMP_SECONDS = 10.0


def _make_stream(session: Any, watcher: AccountWatcher) -> Any:
    """A TradingStream that tells ``watcher`` when it connects, drops and receives."""
    from alpaca.trading.stream import TradingStream

    class _Stream(TradingStream):
        async def _start_ws(self) -> None:
            watcher._stream_attempt()  # noqa: SLF001
            await super()._start_ws()
            watcher._stream_connected()  # noqa: SLF001

        async def close(self) -> None:
            await super().close()
            watcher._stream_dropped()  # noqa: SLF001

        async def interrupt(self) -> None:
            await self.stop_ws()
            if self._ws is not None:
                await self._ws.close()

    stream = _Stream(
        session.credentials.key_id,
        session.credentials.secret_key,
        paper=session.paper,
        raw_data=True,
        url_override=session.trading_stream_url,
    )
    stream._reconnect_max_backoff = 15.0  # noqa: SLF001

    async def on_update(_msg: Any) -> None:
        watcher._event()  # noqa: SLF001

    stream.subscribe_trade_updates(on_update)
    return stream


class AccountWatcher:
    """See the module docstring. Build, then :meth:`start`; :meth:`stop` when done."""

    def __init__(
        self,
        adapter: Any,
        portfolio_id: int,
        on_snapshot: Callable[[AccountSnapshot], None],
        on_status: Callable[[FeedStatus], None],
        *,
        poll_interval: float,
        use_stream: bool,
    ) -> None:
        self._adapter = adapter
        self._portfolio_id = portfolio_id
        self._on_snapshot = on_snapshot
        self._on_status = on_status
        self._poll = max(0.2, poll_interval)
        self._use_stream = use_stream
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._dirty = True
        self._lock = threading.Lock()
        self._stream: Any = None
        self._stream_thread: threading.Thread | None = None
        self._stream_up = False
        self._ever_connected = False
        self._stream_dropped_once = False
        self._status_dirty = False
        self._stream_lock = threading.Lock()
        self._stream_attempts = 0
        self._failures = 0
        self._last_error = ""
        self._updated_at: datetime | None = None
        self._status = FeedStatus(FeedState.CONNECTING, None)
        self._thread = threading.Thread(
            target=self._run, name=f"kash-account-watch-{portfolio_id}", daemon=True
        )

    # -- public -----------------------------------------------------------------------------

    @property
    def status(self) -> FeedStatus:
        return self._status

    def start(self) -> AccountWatcher:
        self._thread.start()
        return self

    def refresh(self) -> None:
        self._event()

    def stop(self) -> None:
        """Stop watching. Returns at once: no callback runs after this call; the watch thread
        closes the stream and ends by itself (``join`` waits for that)."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._wake.set()
        self._status = FeedStatus(FeedState.STOPPED, self._updated_at)
        try:
            self._on_status(self._status)
        except Exception:  # noqa: BLE001
            log.exception("on_status callback failed")

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the watch's threads to end; True when they did."""
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- stream callbacks (stream thread) ----------------------------------------------------

    def _event(self) -> None:
        with self._lock:
            self._dirty = True
        self._wake.set()

    def _stream_attempt(self) -> None:
        with self._lock:
            self._stream_attempts += 1
            if self._stream_attempts > 1 or self._ever_connected:
                self._status_dirty = True
        self._wake.set()

    def _stream_connected(self) -> None:
        with self._lock:
            self._stream_up = True
            self._ever_connected = True
            self._stream_dropped_once = False
            self._stream_attempts = 0
            self._dirty = True  # resync: events while down were lost
        self._wake.set()

    def _stream_dropped(self) -> None:
        with self._lock:
            if self._stream_up:
                self._stream_dropped_once = True
                self._status_dirty = True
            self._stream_up = False
        self._wake.set()

    # -- the loop ---------------------------------------------------------------------------

    def _start_stream(self) -> None:
        """Only ever called on the watch thread, which alone owns the stream."""
        if self._stopped.is_set():
            return
        try:
            stream = _make_stream(self._adapter.session, self)
        except Exception as exc:  # noqa: BLE001 - a stream is optional; polling goes on
            log.warning("account stream unavailable: %s", type(exc).__name__)
            self._use_stream = False
            return
        self._stream = stream
        self._stream_thread = threading.Thread(
            target=stream.run, name=f"kash-trade-stream-{self._portfolio_id}", daemon=True
        )
        self._stream_thread.start()

    def _stop_stream(self) -> None:
        stream, thread = self._stream, self._stream_thread
        self._stream = self._stream_thread = None
        self._stream_up = False
        if stream is None:
            return
        deadline = time.monotonic() + 3
        while stream._loop is None and thread is not None and thread.is_alive():  # noqa: SLF001
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        loop = stream._loop  # noqa: SLF001
        if loop is not None and loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(stream.interrupt(), loop).result(timeout=5)
            except Exception:  # noqa: BLE001 - the loop may be closing already
                pass
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self._stop_stream()

    def _loop(self) -> None:
        if self._use_stream:
            self._start_stream()
        last_snapshot = 0.0
        wall, mono = time.time(), time.monotonic()
        while not self._stopped.is_set():
            now_wall, now_mono = time.time(), time.monotonic()
            if (now_wall - wall) - (now_mono - mono) > SLEEP_JUMP_SECONDS:
                log.info("clock jumped (sleep or suspend); reconnecting the account stream")
                self._dirty = True
                if self._use_stream:
                    self._stop_stream()
                    self._start_stream()
            wall, mono = now_wall, now_mono

            with self._lock:
                dirty, self._dirty = self._dirty, False
                streaming = self._stream_up
                status_dirty, self._status_dirty = self._status_dirty, False
            if status_dirty:
                self._publish()
            interval = RESYNC_SECONDS if streaming else self._poll
            if self._failures:
                interval = min(MAX_BACKOFF, self._poll * 2 ** min(self._failures, 8))
            due = dirty or (now_mono - last_snapshot) >= interval
            if due:
                self._snapshot()
                last_snapshot = time.monotonic()
            self._wake.wait(timeout=min(0.25, interval))
            self._wake.clear()

    def _snapshot(self) -> None:
        try:
            account = self._adapter.get_account()
            positions = tuple(self._adapter.get_positions())
            orders = tuple(self._adapter.get_orders("open"))
        except (BrokerConnectionError, TradingError) as exc:
            self._failures += 1
            self._last_error = str(exc)
            self._publish(down=True)
            return
        except Exception as exc:  # noqa: BLE001 - the watch must survive anything
            log.exception("account snapshot failed")
            self._failures += 1
            self._last_error = f"Refreshing the account failed ({type(exc).__name__})."
            self._publish(down=True)
            return
        self._failures = 0
        self._last_error = ""
        self._updated_at = datetime.now(UTC)
        if self._stopped.is_set():
            return
        snap = AccountSnapshot(
            portfolio_id=self._portfolio_id, account=account, positions=positions,
            orders=orders, taken_at=self._updated_at,
        )
        try:
            self._on_snapshot(snap)
        except Exception:  # noqa: BLE001 - a UI callback must not kill the watch
            log.exception("on_snapshot callback failed")
        self._publish()

    def _publish(self, *, down: bool = False) -> None:
        # a stream (re)connect attempt must not hide that the last snapshot failed: the
        # status stays DOWN, with its sentence, until a snapshot succeeds
        down = down or self._failures > 0
        with self._lock:
            streaming = self._stream_up
            attempts = self._stream_attempts
            if not self._ever_connected:
                attempts = max(0, attempts - 1)  # the first try is a connect, not a reconnect
        if down:
            state = FeedState.DOWN
            attempts = max(attempts, self._failures)
        elif streaming:
            state = FeedState.STREAMING
        elif self._use_stream and (attempts > 0 or self._stream_dropped_once) and (
            self._updated_at is not None
        ):
            state = FeedState.RECONNECTING
        elif self._updated_at is None:
            state = FeedState.CONNECTING
        else:
            state = FeedState.POLLING
        self._set_status(state, attempts=attempts)

    def _set_status(self, state: FeedState, *, attempts: int = 0) -> None:
        if self._stopped.is_set():
            return  # stop() published STOPPED; nothing comes after it
        if state is FeedState.DOWN:
            message = self._last_error
        elif state is FeedState.RECONNECTING:
            message = "The account stream is down; reconnecting (polling meanwhile)."
        else:
            message = ""
        status = FeedStatus(
            state=state, updated_at=self._updated_at, attempts=attempts, message=message
        )
        if status == self._status:
            return
        self._status = status
        try:
            self._on_status(status)
        except Exception:  # noqa: BLE001
            log.exception("on_status callback failed")
