"""The live account of one PAPER or LIVE portfolio, for the place that shows it.

:meth:`AccountFeed.start` asks the trading service to ``watch_account`` (the broker's stream, or
polling); the watch calls back on its own thread and the feed hands each snapshot and each
change of the feed's health to its owner (a screen) with ``post_message``, which is thread-safe
and never blocks the watch's thread. :meth:`AccountFeed.stop` stops the watch on a thread of
its own (``AccountWatch.stop`` may wait) and quietly: a watch that fails to stop is gone anyway.

Messages of a watch that was stopped, or replaced by a newer one, may still be on their way;
the owner drops them with :meth:`AccountFeed.is_current`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    from kash_tui.domains.trading import AccountSnapshot, AccountWatch, FeedStatus
    from kash_tui.tui.app import KashApp


@dataclass
class FeedMessage(Message):
    generation: int
    """Which start of the feed posted it (see :meth:`AccountFeed.is_current`)."""


@dataclass
class SnapshotArrived(FeedMessage):
    """The account, positions and open orders as the broker has them now."""

    snapshot: AccountSnapshot
    orders_changed: bool = False
    """An order or a position differs from the watch's previous snapshot (something filled
    or was cancelled)."""


@dataclass
class FeedChanged(FeedMessage):
    """The health of the feed changed: streaming, polling, reconnecting, down..."""

    status: FeedStatus


@dataclass
class FeedStarted(FeedMessage):
    """The watch runs; ``status`` is its health as it started (None when it could not say)."""

    status: FeedStatus | None


@dataclass
class FeedFailed(FeedMessage):
    """The watch could not start; ``sentence`` says why and what to do."""

    sentence: str


def stop_quietly(watch: AccountWatch) -> None:
    try:
        watch.stop()
    except Exception:  # noqa: BLE001 - a watch that fails to stop is gone anyway
        pass


class AccountFeed:
    """Starts, refreshes and stops the account watch of one portfolio at a time for ``owner``,
    which receives :class:`SnapshotArrived`, :class:`FeedChanged`, :class:`FeedStarted` and
    :class:`FeedFailed`."""

    def __init__(self, owner: MessagePump) -> None:
        self._owner = owner
        self._generation = 0
        self.watch: AccountWatch | None = None
        """The running watch, None until it has started and once stopped."""
        self.stopping: list[threading.Thread] = []
        """Threads stopping old watches (tests join them)."""

    @property
    def _kash(self) -> KashApp:
        return self._owner.app  # type: ignore[return-value]

    def is_current(self, message: FeedMessage) -> bool:
        """False for a message of a watch that was stopped or replaced since it was posted."""
        return message.generation == self._generation

    def start(self, portfolio_id: int) -> None:
        """Stop the watch running, if any, and start one on ``portfolio_id``."""
        self.stop()
        generation = self._generation
        post = self._post
        last: list[tuple[object, ...]] = []  # the previous snapshot's orders and positions

        def on_snapshot(snapshot: AccountSnapshot) -> None:  # the watch's thread
            signature = (
                tuple(sorted((o.id, o.status, str(o.filled_qty)) for o in snapshot.orders)),
                tuple(sorted((p.symbol, str(p.qty)) for p in snapshot.positions)),
            )
            changed = bool(last) and signature != last[-1]
            last[:] = [signature]
            post(SnapshotArrived(generation, snapshot, changed))

        def on_status(status: FeedStatus) -> None:  # the watch's thread
            post(FeedChanged(generation, status))

        self._kash.call_service(
            lambda provider: provider.trading.watch_account(portfolio_id, on_snapshot, on_status),
            done=partial(self._started, generation),
            failed=partial(self._failed, generation),
            refresh=False,
        )

    def refresh(self) -> None:
        """Ask the running watch for a fresh snapshot now (it arrives as a message)."""
        watch = self.watch
        if watch is not None:
            self._kash.call_service(lambda _provider: watch.refresh(), refresh=False)

    def stop(self) -> None:
        """Stop the watch in the background; what it still posts is no longer current."""
        self._generation += 1
        watch, self.watch = self.watch, None
        if watch is not None:
            self._stop_in_background(watch)

    def _post(self, message: Message) -> None:
        try:
            self._owner.post_message(message)
        except RuntimeError:  # the app's loop is closed: nothing to show it on
            pass

    def _started(self, generation: int, watch: AccountWatch) -> None:
        if generation != self._generation:
            self._stop_in_background(watch)  # stopped or replaced while it started
            return
        self.watch = watch
        try:
            status = watch.status
        except Exception:  # noqa: BLE001 - the status callback will tell
            status = None
        self._post(FeedStarted(generation, status))

    def _failed(self, generation: int, sentence: str) -> None:
        if generation == self._generation:
            self._post(FeedFailed(generation, sentence))

    def _stop_in_background(self, watch: AccountWatch) -> None:
        # stop() may wait for the watch's thread; never on the UI thread
        thread = threading.Thread(target=stop_quietly, args=(watch,), daemon=True,
                                  name="kash-stop-account-watch")
        thread.start()
        self.stopping = [t for t in self.stopping if t.is_alive()] + [thread]


__all__ = [
    "AccountFeed",
    "FeedChanged",
    "FeedFailed",
    "FeedMessage",
    "FeedStarted",
    "SnapshotArrived",
]
