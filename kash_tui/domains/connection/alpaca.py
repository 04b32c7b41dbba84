"""How Kash talks to Alpaca: alpaca-py clients with a timeout, a shared rate budget and errors
turned into one sentence each.

Both the trading and the market domain build their clients here, so every HTTP call to Alpaca
goes through one :class:`GuardedSession` per client:

* **Timeout.** alpaca-py sets none; a hung server would freeze a screen forever. Every request
  gets ``timeout`` seconds (``http_timeout_seconds`` in the settings).
* **Rate budget.** Alpaca allows 200 requests a minute per account. All clients of one
  connection share a token bucket (:class:`RateBudget`), so the chart, the order screen and
  the account watcher cannot together exceed it. A 429 empties the bucket for ``Retry-After``
  seconds (or an exponential back-off) and the request is tried again: a 429 means the broker
  did not act on the request, so retrying cannot duplicate an order. alpaca-py's own retry
  (which also retries 504, where the order may have been accepted) is switched off.
* **Errors.** :func:`broker_call` turns alpaca-py's ``APIError``, requests' timeouts and
  connection errors, malformed JSON and replies with missing fields into :class:`BrokerError`
  with a sentence that says what happened and what to do. Secrets never appear in it.

Nothing outside the domains imports this module (the import contracts forbid ``alpaca`` above
them); screens and the CLI only see :class:`BrokerError`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests

from kash_tui.domains.connection.service import (
    BrokerError,
    ConnectionModel,
    Credentials,
    Environment,
)

log = logging.getLogger("kash.alpaca")

T = TypeVar("T")

REQUESTS_PER_MINUTE = 200
"""Alpaca's documented default limit for the trading API, per account."""

MAX_429_RETRIES = 4
MAX_BACKOFF_SECONDS = 30.0


class RateBudget:
    """A token bucket shared by every client of one connection (thread-safe).

    ``acquire`` waits for a token; after a 429 ``penalise`` makes every caller wait until the
    broker's ``Retry-After`` has passed.
    """

    def __init__(self, per_minute: int = REQUESTS_PER_MINUTE, clock: Callable[[], float] = time.monotonic) -> None:
        # a quarter-minute burst: with a full bucket the first minute stays near the limit
        self.capacity = max(1.0, per_minute / 4.0)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._tokens = self.capacity
        self._updated = clock()
        self._blocked_until = 0.0
        self._lock = threading.Lock()
        self.throttled = 0
        """How many 429s this connection has seen (shown in the status line)."""

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def reserve(self, max_wait: float = float("inf")) -> float:
        """Take a token and return how many seconds the caller must wait before using it.

        When that wait would exceed ``max_wait`` no token is taken (so refused callers do not
        run the budget into debt) and the wait is returned for the caller to report.
        """
        with self._lock:
            now = self._clock()
            self._refill(now)
            after = self._tokens - 1.0
            wait = max(0.0 if after >= 0 else -after / self.rate, self._blocked_until - now, 0.0)
            if wait <= max_wait:
                self._tokens = after
            return wait

    def acquire(self, max_wait: float) -> None:
        wait = self.reserve(max_wait)
        if wait > max_wait:
            raise BrokerError(
                f"Alpaca's rate limit is used up for the next {wait:.0f} s; wait a moment and "
                "try again.",
                kind="rate_limited",
                status=429,
            )
        if wait > 0:
            time.sleep(wait)

    def penalise(self, seconds: float) -> None:
        with self._lock:
            self.throttled += 1
            self._tokens = min(self._tokens, 0.0)
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)


_budgets: dict[str, RateBudget] = {}
_budgets_lock = threading.Lock()


def budget_for(key: str) -> RateBudget:
    """The one budget of a connection (keyed by connection name and key id prefix)."""
    with _budgets_lock:
        budget = _budgets.get(key)
        if budget is None:
            budget = _budgets[key] = RateBudget()
        return budget


def _retry_after(response: requests.Response, attempt: int) -> float:
    header = response.headers.get("Retry-After", "")
    try:
        seconds = float(header)
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        seconds = min(MAX_BACKOFF_SECONDS, 0.5 * 2**attempt)
    return min(seconds, MAX_BACKOFF_SECONDS)


class GuardedSession(requests.Session):
    """A requests session with a default timeout, the connection's rate budget and 429 back-off."""

    def __init__(self, timeout: float, budget: RateBudget, *, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__()
        self.timeout = timeout
        self.budget = budget
        self._sleep = sleep

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self.timeout)
        attempt = 0
        while True:
            self.budget.acquire(max_wait=max(self.timeout, 5.0))
            response = super().request(method, url, *args, **kwargs)
            if response.status_code != 429 or attempt >= MAX_429_RETRIES:
                return response
            pause = _retry_after(response, attempt)
            self.budget.penalise(pause)
            log.warning("Alpaca answered 429 to %s %s; backing off %.1f s", method, _path(url), pause)
            attempt += 1


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path


# -- building clients ---------------------------------------------------------------------------


def _ws(url: str) -> str:
    if url.startswith("https://"):
        return "wss://" + url[len("https://"):]
    if url.startswith("http://"):
        return "ws://" + url[len("http://"):]
    return url


@dataclass(frozen=True)
class AlpacaSession:
    """Everything needed to build alpaca-py clients for one connection.

    Build with :func:`open_session`; holds the credentials in memory only (``repr`` hides them).
    """

    connection: ConnectionModel
    credentials: Credentials
    timeout: float

    @property
    def paper(self) -> bool:
        return self.connection.environment is Environment.PAPER

    @property
    def feed(self):  # noqa: ANN201 - alpaca.data.enums.DataFeed
        """alpaca-py's stock data feed for this connection (IEX unless the user chose SIP)."""
        from alpaca.data.enums import DataFeed

        return DataFeed(self.connection.feed.value)

    @property
    def feed_label(self) -> str:
        """``IEX`` or ``SIP``, to show where a price or a bar came from."""
        return self.connection.feed.label

    @property
    def budget(self) -> RateBudget:
        return budget_for(f"{self.connection.name}:{self.credentials.key_id[:6]}")

    def __repr__(self) -> str:
        return f"AlpacaSession({self.connection.name!r}, paper={self.paper})"

    def _guard(self, client: T) -> T:
        client._session = GuardedSession(self.timeout, self.budget)  # type: ignore[attr-defined]  # noqa: SLF001
        client._retry = 0  # type: ignore[attr-defined]  # noqa: SLF001  (429 is retried by the session)
        return client

    def trading_client(self):  # noqa: ANN201
        from alpaca.trading.client import TradingClient

        return self._guard(
            TradingClient(
                api_key=self.credentials.key_id,
                secret_key=self.credentials.secret_key,
                paper=self.paper,
                url_override=self.connection.trading_url or None,
            )
        )

    def stock_data_client(self):  # noqa: ANN201
        from alpaca.data.historical.stock import StockHistoricalDataClient

        return self._guard(
            StockHistoricalDataClient(
                api_key=self.credentials.key_id,
                secret_key=self.credentials.secret_key,
                url_override=self.connection.data_url or None,
            )
        )

    def crypto_data_client(self):  # noqa: ANN201
        from alpaca.data.historical.crypto import CryptoHistoricalDataClient

        return self._guard(
            CryptoHistoricalDataClient(
                api_key=self.credentials.key_id,
                secret_key=self.credentials.secret_key,
                url_override=self.connection.data_url or None,
            )
        )

    def option_data_client(self):  # noqa: ANN201
        from alpaca.data.historical.option import OptionHistoricalDataClient

        return self._guard(
            OptionHistoricalDataClient(
                api_key=self.credentials.key_id,
                secret_key=self.credentials.secret_key,
                url_override=self.connection.data_url or None,
            )
        )

    @property
    def trading_stream_url(self) -> str | None:
        """The trade_updates stream: ``<trading url>/stream`` over ws(s) when overridden."""
        if not self.connection.trading_url:
            return None
        return _ws(self.connection.trading_url.rstrip("/")) + "/stream"

    def market_stream_url(self, path: str) -> str | None:
        """A market data stream (``/v2/iex``, ``/v1beta3/crypto/us``) on the data URL's host."""
        if not self.connection.data_url:
            return None
        return _ws(self.connection.data_url.rstrip("/")) + path


_import_lock = threading.Lock()
_imported = False


def _load_alpaca() -> None:
    """Import alpaca-py's client modules once, under a lock: two threads importing them lazily
    at the same time can see a partially initialised module."""
    global _imported
    if _imported:
        return
    with _import_lock:
        if _imported:
            return
        import alpaca.data.historical.crypto
        import alpaca.data.historical.option
        import alpaca.data.historical.stock
        import alpaca.data.live
        import alpaca.data.requests
        import alpaca.trading.client
        import alpaca.trading.requests
        import alpaca.trading.stream  # noqa: F401
        _imported = True


def open_session(connection: ConnectionModel, credentials: Credentials, timeout: float) -> AlpacaSession:
    """An :class:`AlpacaSession`; refuses a live connection that was not opted in, and one
    whose stored URL is Alpaca's host for the other environment (stored before Kash checked)."""
    if connection.environment is Environment.LIVE and not connection.live_enabled:
        raise BrokerError(
            f"Live trading is off for connection {connection.name!r}; turn it on with "
            f"`kash connection enable-live {connection.name}` (see docs/alpaca.md).",
            kind="forbidden",
        )
    from kash_tui.domains.connection.models import host_problem, is_alpaca_host

    for label, url in (("trading", connection.trading_url), ("data", connection.data_url)):
        # other hosts were accepted when the connection was added; Alpaca's must match
        problem = is_alpaca_host(url) and host_problem(
            label, url, connection.environment, name=connection.name, custom_host=True
        )
        if problem:
            raise BrokerError(
                f"{problem} Remove the connection and add it again with the right URL.",
                kind="config",
            )
    _load_alpaca()
    return AlpacaSession(connection, credentials, timeout)


# -- errors ---------------------------------------------------------------------------------------


def _scrub(text: str, credentials: Credentials | None) -> str:
    if credentials is not None:
        for secret in (credentials.secret_key, credentials.key_id):
            if secret:
                text = text.replace(secret, "***")
    return text


def _broker_text(body: str) -> str | None:
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        return None
    if isinstance(data, dict):
        message = data.get("message") or data.get("msg")
        if isinstance(message, str) and message.strip():
            return message.strip()
    return None


def translate(exc: BaseException, action: str, credentials: Credentials | None = None) -> BrokerError:
    """One :class:`BrokerError` for anything alpaca-py or requests raised while ``action``."""
    from alpaca.common.exceptions import APIError
    from pydantic import ValidationError

    if isinstance(exc, BrokerError):
        return exc
    if isinstance(exc, APIError):
        status = exc.status_code
        body = str(exc)
        said = _broker_text(body)
        said = _scrub(said, credentials) if said else said
        said_clause = f": {_scrub(said, credentials)}" if said else ""
        if status == 401:
            return BrokerError(
                f"Alpaca refused the API keys while {action} (401); check the connection's keys "
                "and that they are paper keys for a paper connection (see docs/alpaca.md).",
                kind="auth", status=status, broker_message=said,
            )
        if status == 403:
            return BrokerError(
                f"Alpaca refused {action} (403){said_clause}.",
                kind="forbidden", status=status, broker_message=said,
            )
        if status == 404:
            return BrokerError(
                f"Alpaca found nothing while {action} (404){said_clause}.",
                kind="not_found", status=status, broker_message=said,
            )
        if status == 422:
            return BrokerError(
                f"Alpaca rejected {action} (422){said_clause}.",
                kind="rejected", status=status, broker_message=said,
            )
        if status == 429:
            return BrokerError(
                f"Alpaca's rate limit was hit while {action}, even after backing off; wait a "
                "minute and try again.",
                kind="rate_limited", status=status, broker_message=said,
            )
        if status is not None and status >= 500:
            return BrokerError(
                f"Alpaca had a server error while {action} ({status}); try again in a moment.",
                kind="server", status=status, broker_message=said,
            )
        return BrokerError(
            f"Alpaca answered {status} while {action}{said_clause}.",
            kind="rejected", status=status, broker_message=said,
        )
    if isinstance(exc, (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL,
                        requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)):
        return BrokerError(
            f"The request to Alpaca could not be made while {action} ({type(exc).__name__}): "
            "check the connection's URLs and its keys (a stray space or line break?).",
            kind="config",
        )
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)) and _never_connected(exc):
        return BrokerError(
            f"Alpaca cannot be reached at {_where(exc)} while {action} ({_why(exc)}); check "
            "your network, and that the connection's URL points at a running server.",
            kind="unreachable",
        )
    if isinstance(exc, requests.Timeout):
        return BrokerError(
            f"Alpaca did not answer in time while {action}; check your network and try again.",
            kind="timeout",
        )
    if isinstance(exc, requests.ConnectionError):
        return BrokerError(
            f"Could not reach Alpaca while {action}; check your network connection and the "
            "connection's URLs.",
            kind="network",
        )
    if isinstance(exc, ValidationError):
        errors = exc.errors()
        where = ".".join(str(p) for p in errors[0].get("loc", ())) if errors else "?"
        return BrokerError(
            f"Alpaca sent a reply Kash could not read while {action} (field {where!r} is "
            "missing or invalid); try again, and report it if it persists.",
            kind="malformed",
        )
    if isinstance(exc, (ValueError, KeyError, TypeError)):
        # requests' JSONDecodeError is a ValueError; a missing key in a raw reply a KeyError.
        return BrokerError(
            f"Alpaca sent a reply Kash could not read while {action}; try again, and report it "
            "if it persists.",
            kind="malformed",
        )
    if isinstance(exc, requests.RequestException):
        return BrokerError(
            f"The request to Alpaca failed while {action} ({type(exc).__name__}); try again.",
            kind="network",
        )
    raise exc


def _reason(exc: BaseException) -> object:
    """urllib3's own reason inside requests' wrapper (``MaxRetryError.reason``)."""
    inner = exc.args[0] if exc.args else None
    return getattr(inner, "reason", inner)


def _never_connected(exc: BaseException) -> bool:
    """The TCP connection was never made (refused, no such host, connect timeout): the request
    never left, so nothing can have happened at the broker."""
    from urllib3.exceptions import ConnectTimeoutError

    return isinstance(exc, requests.ConnectTimeout) or isinstance(_reason(exc), ConnectTimeoutError)


def _why(exc: BaseException) -> str:
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    reason = _reason(exc)
    if isinstance(reason, NameResolutionError):
        return "no such host"
    if isinstance(reason, NewConnectionError):
        return "connection refused" if "refused" in str(reason).lower() else "no connection"
    return "no answer to the connection attempt"


def _where(exc: BaseException) -> str:
    """``host:port`` of the request (never a path or query, which could carry anything)."""
    from urllib.parse import urlsplit

    url = getattr(getattr(exc, "request", None), "url", None) or ""
    return urlsplit(url).netloc or "the connection's host"


def broker_call(action: str, fn: Callable[..., T], *args: Any, credentials: Credentials | None = None, **kwargs: Any) -> T:
    """Call ``fn`` and turn whatever the broker path raises into one :class:`BrokerError`."""
    try:
        return fn(*args, **kwargs)
    except BrokerError:
        raise
    except Exception as exc:  # noqa: BLE001  (translate re-raises what it does not know)
        error = translate(exc, action, credentials)
    # raised outside the except block, so the original exception (whose text may quote a
    # header, i.e. a key) is not even kept as __context__
    log.info("broker call failed while %s: %s", action, error)
    raise error


__all__ = [
    "AlpacaSession",
    "GuardedSession",
    "RateBudget",
    "broker_call",
    "budget_for",
    "open_session",
    "translate",
]
