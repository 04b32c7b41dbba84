"""Market domain, public face: instruments, bars and where they come from.

Bars are stored in UTC, keyed by (symbol, timeframe, timestamp), and handed out as numpy arrays
(``BarSeries``), never as per-row objects. Each instrument knows its exchange's time zone, used
only for display and for reading date-only CSV rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import numpy as np

NS_PER_SECOND = 1_000_000_000


class MarketError(Exception):
    """A user-facing market data problem; the message says what to do."""


class NoBarsError(MarketError):
    pass


class AssetClass(StrEnum):
    US_EQUITY = "us_equity"
    CRYPTO = "crypto"
    US_OPTION = "us_option"

    @property
    def default_tz(self) -> str:
        return "UTC" if self is AssetClass.CRYPTO else "America/New_York"


class Timeframe(StrEnum):
    MIN_1 = "1Min"
    MIN_5 = "5Min"
    MIN_15 = "15Min"
    MIN_30 = "30Min"
    HOUR_1 = "1Hour"
    HOUR_4 = "4Hour"
    DAY_1 = "1Day"
    WEEK_1 = "1Week"

    @classmethod
    def parse(cls, text: str) -> Timeframe:
        for tf in cls:
            if tf.value.lower() == text.strip().lower():
                return tf
        choices = ", ".join(tf.value for tf in cls)
        raise MarketError(f"Unknown timeframe {text!r}; use one of {choices}.")

    @property
    def seconds(self) -> int:
        return {
            "1Min": 60, "5Min": 300, "15Min": 900, "30Min": 1800, "1Hour": 3600,
            "4Hour": 14400, "1Day": 86400, "1Week": 604800,
        }[self.value]

    def periods_per_year(self, asset_class: AssetClass) -> float:
        """Bars in a year, used to annualise Sharpe and Sortino.

        US equities trade 252 sessions of 6.5 hours (390 minutes); crypto trades all the time.
        """
        if self is Timeframe.WEEK_1:
            return 52.0
        if asset_class is AssetClass.CRYPTO:
            return 365.0 * 86400 / self.seconds
        if self is Timeframe.DAY_1:
            return 252.0
        per_session = {3600: 7.0, 14400: 2.0}.get(self.seconds, 390 * 60 / self.seconds)
        return 252.0 * per_session


@dataclass(frozen=True)
class Instrument:
    symbol: str
    asset_class: AssetClass
    exchange_tz: str
    name: str = ""
    source: str = "csv"  # csv | demo | alpaca


@dataclass(frozen=True, eq=False)
class BarSeries:
    """Bars of one symbol and timeframe as numpy arrays, oldest first.

    ``timestamps`` are int64 nanoseconds since the epoch, UTC; prices and volume are float64.
    """

    symbol: str
    timeframe: Timeframe
    asset_class: AssetClass
    tz: str
    timestamps: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return int(self.timestamps.shape[0])

    def time(self, index: int) -> datetime:
        return datetime.fromtimestamp(int(self.timestamps[index]) / NS_PER_SECOND, tz=UTC)

    @property
    def first(self) -> datetime | None:
        return self.time(0) if len(self) else None

    @property
    def last(self) -> datetime | None:
        return self.time(len(self) - 1) if len(self) else None


@dataclass(frozen=True)
class DataSummary:
    symbol: str
    timeframe: Timeframe
    asset_class: AssetClass
    exchange_tz: str
    source: str
    first: datetime
    last: datetime
    count: int


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str


@dataclass(frozen=True)
class ImportReport:
    symbol: str
    timeframe: Timeframe
    rows_read: int
    stored: int
    new: int
    first: datetime | None
    last: datetime | None
    skipped: tuple[RowProblem, ...] = field(default_factory=tuple)


class CsvRejected(MarketError):
    """The CSV has bad rows and the import was all-or-nothing: nothing was stored."""

    def __init__(self, message: str, problems: tuple[RowProblem, ...]) -> None:
        super().__init__(message)
        self.problems = problems


ProgressCallback = Callable[[int, int], None]
"""Called with (done, total) while a long operation runs."""


@dataclass(frozen=True)
class FetchReport:
    """What ``fetch_bars`` downloaded from the broker into the bars cache."""

    symbol: str
    timeframe: Timeframe
    asset_class: AssetClass
    connection: str
    received: int
    """Bars the broker sent (over all pages)."""
    stored: int
    new: int
    """Bars that were not in the cache before."""
    pages: int
    first: datetime | None
    last: datetime | None
    feed: str = ""
    """The stock data feed the bars came from (``iex`` or ``sip``); empty for crypto and
    options, which have one feed each."""


@dataclass(frozen=True)
class AssetHit:
    """One tradable asset from the broker's asset list (cached locally)."""

    symbol: str
    name: str
    asset_class: AssetClass
    exchange: str
    tradable: bool
    fractionable: bool
    has_bars: bool = False
    """True when bars for it are already in the local cache."""


class OptionType(StrEnum):
    CALL = "call"
    PUT = "put"


@dataclass(frozen=True)
class OptionQuote:
    """One option contract with its latest market data; any number may be unknown (None)."""

    symbol: str
    """OCC symbol, e.g. AAPL261218C00190000."""
    underlying: str
    expiration: date
    strike: Decimal
    type: OptionType
    bid: Decimal | None = None
    ask: Decimal | None = None
    last: Decimal | None = None
    implied_volatility: float | None = None
    delta: float | None = None
    open_interest: int | None = None


@dataclass(frozen=True)
class OptionChainRow:
    strike: Decimal
    call: OptionQuote | None
    put: OptionQuote | None


@dataclass(frozen=True)
class OptionChain:
    underlying: str
    expiration: date
    underlying_price: Decimal | None
    """Last trade of the underlying; the strikes are centred on it."""
    rows: tuple[OptionChainRow, ...]
    """Ascending by strike."""


class BarWatch(Protocol):
    def stop(self) -> None: ...

    @property
    def streaming(self) -> bool:
        """The market-data stream is connected and subscribed (False when polling)."""
        ...

    @property
    def stream_connects(self) -> int:
        """Times the stream has connected (0 without one); each one above 1 is a reconnect
        after a drop (alpaca-py reconnects by itself)."""
        ...


class MarketService(Protocol):
    def list_data(self) -> list[DataSummary]: ...

    def list_instruments(self) -> list[Instrument]: ...

    def get_instrument(self, symbol: str) -> Instrument: ...

    def search_symbols(self, text: str, limit: int = 20) -> list[Instrument]:
        """Symbols with bars in the database whose symbol or name contains ``text``."""
        ...

    def timeframes_for(self, symbol: str) -> list[Timeframe]: ...

    def load_bars(
        self,
        symbol: str,
        timeframe: Timeframe,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        last: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> BarSeries:
        """Bars with start <= time <= end (UTC), or only the ``last`` N. Raises NoBarsError."""
        ...

    def import_csv(
        self,
        path: Path,
        symbol: str,
        *,
        timeframe: Timeframe = Timeframe.DAY_1,
        tz: str | None = None,
        asset_class: AssetClass = AssetClass.US_EQUITY,
        skip_bad_rows: bool = False,
        progress: ProgressCallback | None = None,
    ) -> ImportReport: ...

    def store_bars(self, series: BarSeries, *, source: str, name: str = "") -> int:
        """Upsert bars (e.g. fetched from a broker) into the cache. Returns rows written."""
        ...

    def seed_demo_data(self) -> bool:
        """Store the generated demo symbols once. Returns True if it stored them."""
        ...

    # -- from the broker (Alpaca) ------------------------------------------------------------
    # ``connection`` names an Alpaca connection; None picks the first paper connection, else
    # the first Alpaca one. Broker failures raise the connection domain's BrokerError.

    def data_feed(self, symbol: str, *, connection: str | None = None) -> str:
        """The feed ``fetch_bars`` and ``watch_bars`` would use for ``symbol``: ``iex`` or
        ``sip`` for a stock, empty for crypto and options (one feed each) or without an Alpaca
        connection. Reads settings only; no request."""
        ...

    def fetch_bars(
        self,
        symbol: str,
        timeframe: Timeframe,
        start: datetime,
        end: datetime | None = None,
        *,
        connection: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> FetchReport:
        """Download bars (all pages; IEX feed for stocks) into the cache, all or nothing."""
        ...

    def search_assets(
        self, text: str, *, connection: str | None = None, limit: int = 20
    ) -> list[AssetHit]:
        """Broker assets (equities and crypto) whose symbol or name contains ``text``.

        The asset list is downloaded once and cached in the database; without a connection
        (or when the broker is unreachable and nothing is cached) only local symbols match.
        """
        ...

    def option_expirations(
        self,
        underlying: str,
        *,
        start: date | None = None,
        end: date | None = None,
        connection: str | None = None,
    ) -> list[date]: ...

    def option_chain(
        self,
        underlying: str,
        expiration: date,
        *,
        width: int = 10,
        connection: str | None = None,
    ) -> OptionChain:
        """Calls and puts of one expiration, ``width`` strikes either side of the money."""
        ...

    def watch_bars(
        self,
        symbol: str,
        timeframe: Timeframe,
        on_bars: Callable[[int], None],
        *,
        connection: str | None = None,
        poll_interval: float = 5.0,
        stream: bool = True,
    ) -> BarWatch:
        """Keep the cached bars of ``symbol`` growing while the market trades: new bars are
        stored and ``on_bars(new_count)`` is called on a background thread whenever the stored
        bars changed (``new_count`` is 0 when only the latest bar grew). Minute bars streamed
        by Alpaca trigger a REST catch-up of ``timeframe``; without the stream it polls every
        ``poll_interval`` seconds. ``stream=False`` never opens the market-data stream (Alpaca
        allows one per key: another process may own it). ``stop()`` returns once its threads
        have ended."""
        ...
