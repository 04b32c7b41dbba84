"""The market service: instruments, the bars cache, CSV import, demo data, and what comes from
the broker (bars, the asset list, option chains, streamed bars).

Broker calls live in :mod:`alpaca_data`; this module decides what to ask for, stores it (all or
nothing, in one unit of work) and turns the answers into the public types.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from kash_tui.db import Database, utc_now
from kash_tui.domains.connection import (
    BrokerConnectionError,
    BrokerError,
    BrokerKind,
    ConnectionModel,
    ConnectionService,
    Environment,
)
from kash_tui.domains.market import chunks, models
from kash_tui.domains.market.csv_import import parse_csv
from kash_tui.domains.market.service import (
    NS_PER_SECOND,
    AssetClass,
    AssetHit,
    BarSeries,
    BarWatch,
    CsvRejected,
    DataSummary,
    FetchReport,
    ImportReport,
    Instrument,
    MarketError,
    NoBarsError,
    OptionChain,
    OptionChainRow,
    OptionQuote,
    OptionType,
    ProgressCallback,
    Timeframe,
)

if TYPE_CHECKING:
    from kash_tui.domains.market import entities, repo
    from kash_tui.domains.market.alpaca_data import AlpacaMarketData, FetchedBars
    from kash_tui.domains.market.entities import InstrumentRow
else:  # the ORM side, imported when first used: loading bars needs neither
    from kash_tui.lazy import lazy_module

    entities = lazy_module("kash_tui.domains.market.entities")
    repo = lazy_module("kash_tui.domains.market.repo")

log = logging.getLogger("kash.market")

_SHOW_PROBLEMS = 5

NO_CONNECTION = (
    "No Alpaca connection is set up; add one with `kash connection add paper --broker alpaca "
    "--paper` (see docs/alpaca.md)."
)
ASSET_LIST_MAX_AGE = timedelta(days=1)
"""The broker's asset list changes slowly (listings, delistings): refreshed once a day."""
ASSET_RETRY_SECONDS = 60.0
"""After a failed asset-list download, searches use what is cached for this long instead of
trying again on every keystroke."""
SEARCHED_CLASSES = (AssetClass.US_EQUITY, AssetClass.CRYPTO)
OPTION_HORIZON = timedelta(days=3 * 365)
"""Default end of ``option_expirations``: LEAPS run up to about three years out."""
PROGRESS_STEPS = 1000
NEW_YORK = ZoneInfo("America/New_York")


def _unknown(symbol: str) -> NoBarsError:
    return NoBarsError(
        f"There are no bars for {symbol}; import a CSV with `kash data import FILE --symbol "
        f"{symbol}` or run `kash data list` to see what is stored."
    )


class SqlMarketService:
    def __init__(
        self,
        db: Database,
        connections: ConnectionService | None = None,
        *,
        http_timeout: float = 10.0,
    ) -> None:
        self._db = db
        self._connections = connections
        self._http_timeout = http_timeout
        self._assets_lock = threading.Lock()
        self._assets_retry_at = 0.0

    def list_data(self) -> list[DataSummary]:
        with self._db.unit_of_work() as s:
            return [
                DataSummary(
                    symbol=row.symbol,
                    timeframe=Timeframe(tf),
                    asset_class=AssetClass(row.asset_class),
                    exchange_tz=row.exchange_tz,
                    source=row.source,
                    first=models.epoch_to_datetime(first),
                    last=models.epoch_to_datetime(last),
                    count=n,
                )
                for row, tf, first, last, n in repo.summaries(s)
            ]

    def list_instruments(self) -> list[Instrument]:
        with self._db.unit_of_work() as s:
            return [models.to_instrument(r) for r in repo.instruments(s)]

    def get_instrument(self, symbol: str) -> Instrument:
        clean = models.clean_symbol(symbol)
        with self._db.raw() as conn:
            row = chunks.instrument(conn, clean)
        if row is None:
            raise _unknown(clean)
        return models.to_instrument(row)

    def search_symbols(self, text: str, limit: int = 20) -> list[Instrument]:
        needle = text.strip().upper()
        found = [
            i for i in self.list_instruments()
            if needle in i.symbol or needle in i.name.upper()
        ]
        found.sort(key=lambda i: (not i.symbol.startswith(needle), i.symbol))
        return found[:limit]

    def timeframes_for(self, symbol: str) -> list[Timeframe]:
        clean = models.clean_symbol(symbol)
        with self._db.unit_of_work() as s:
            row = repo.instrument(s, clean)
            if row is None:
                raise _unknown(clean)
            present = set(repo.timeframes(s, row.id))
        return [tf for tf in Timeframe if tf.value in present]

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
        clean = models.clean_symbol(symbol)
        timeframe = Timeframe(timeframe)
        if start is not None and end is not None and start > end:
            raise MarketError(
                f"The start {start:%Y-%m-%d} is after the end {end:%Y-%m-%d}; swap them."
            )
        if last is not None and last <= 0:
            raise MarketError("The number of bars to load must be positive.")
        with self._db.raw() as conn:  # no ORM: a million bars load in tens of milliseconds
            row = chunks.instrument(conn, clean)
            if row is None:
                raise _unknown(clean)
            data = chunks.load(
                conn,
                row.id,
                timeframe.value,
                models.to_epoch_seconds(start) if start else None,
                models.to_epoch_seconds(end) if end else None,
                last,
                progress,
            )
            if len(data) == 0:
                if start is None and end is None:
                    raise NoBarsError(
                        f"There are no {timeframe.value} bars for {clean}; run `kash data list` "
                        "to see the timeframes stored."
                    )
                raise NoBarsError(
                    f"There are no {timeframe.value} bars for {clean} in that period; run "
                    "`kash data list` to see the range stored."
                )
            return models.to_series(row, timeframe, data)

    def _instrument_for_write(
        self, s, symbol: str, asset_class: AssetClass, tz: str, source: str, name: str  # noqa: ANN001
    ) -> InstrumentRow:
        row = repo.instrument(s, symbol)
        if row is None:
            row = entities.InstrumentRow(
                symbol=symbol, asset_class=asset_class.value, exchange_tz=tz, name=name,
                source=source, created_at=utc_now(),
            )
            s.add(row)
            s.flush()
            return row
        if row.asset_class != asset_class.value or row.exchange_tz != tz:
            raise MarketError(
                f"{symbol} is stored as {row.asset_class} in {row.exchange_tz}; import it with "
                f"--asset-class {row.asset_class} --tz {row.exchange_tz}."
            )
        return row

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
    ) -> ImportReport:
        clean = models.clean_symbol(symbol)
        asset_class = AssetClass(asset_class)
        timeframe = Timeframe(timeframe)
        zone = models.check_tz(tz or asset_class.default_tz)
        parsed = parse_csv(Path(path), zone, progress, timeframe)
        if parsed.problems and not skip_bad_rows:
            shown = "; ".join(f"line {p.line}: {p.reason}" for p in parsed.problems[:_SHOW_PROBLEMS])
            more = len(parsed.problems) - _SHOW_PROBLEMS
            tail = f" (and {more} more)" if more > 0 else ""
            raise CsvRejected(
                f"{Path(path).name} has {len(parsed.problems)} bad row(s), so nothing was "
                f"imported: {shown}{tail}; fix them or pass --skip-bad-rows.",
                parsed.problems,
            )
        if parsed.ts.shape[0] == 0:
            raise MarketError(f"{Path(path).name} has no usable rows; nothing was imported.")
        rows = models.to_rows(parsed.ts, parsed.open, parsed.high, parsed.low, parsed.close,
                              parsed.volume)
        with self._db.unit_of_work() as s:
            inst = self._instrument_for_write(s, clean, asset_class, zone, "csv", "")
            before = repo.count_bars(s, inst.id, timeframe.value)
            repo.upsert(s, inst.id, timeframe.value, rows, progress)
            after = repo.count_bars(s, inst.id, timeframe.value)
        return ImportReport(
            symbol=clean,
            timeframe=timeframe,
            rows_read=parsed.rows_read,
            stored=int(rows.shape[0]),
            new=after - before,
            first=models.epoch_to_datetime(int(parsed.ts[0])),
            last=models.epoch_to_datetime(int(parsed.ts[-1])),
            skipped=parsed.problems,
        )

    def store_bars(self, series: BarSeries, *, source: str, name: str = "") -> int:
        rows = models.to_rows(
            np.asarray(series.timestamps, dtype=np.int64) // NS_PER_SECOND,
            series.open, series.high, series.low, series.close, series.volume,
        )
        with self._db.unit_of_work() as s:
            inst = self._instrument_for_write(
                s, models.clean_symbol(series.symbol), series.asset_class,
                models.check_tz(series.tz), source, name,
            )
            repo.upsert(s, inst.id, series.timeframe.value, rows)
        return int(rows.shape[0])

    def seed_demo_data(self) -> bool:
        from kash_tui.domains.market.demo import DEMO_NAME, demo_series

        with self._db.raw() as conn:  # the everyday start: one raw query
            if chunks.has_demo(conn):
                return False
        with self._db.unit_of_work() as s:
            if repo.has_demo(s):
                return False
            for d in demo_series():
                if (existing := repo.instrument(s, d.symbol)) is not None and existing.source != "demo":
                    continue  # a user's own data under that name: never touch it
                inst = self._instrument_for_write(s, d.symbol, d.asset_class, d.tz, "demo", DEMO_NAME)
                repo.upsert(s, inst.id, d.timeframe.value,
                            models.to_rows(d.ts, d.open, d.high, d.low, d.close, d.volume))
            return True

    # -- from the broker ----------------------------------------------------------------------

    def _alpaca_connection(self, name: str | None) -> ConnectionModel:
        """The named connection, else the first paper Alpaca one, else the first Alpaca one."""
        if self._connections is None:
            raise MarketError(NO_CONNECTION)
        if name:
            conn = self._connections.get(name)
            if conn.broker is not BrokerKind.ALPACA:
                raise MarketError(
                    f"Connection {conn.name!r} is not an Alpaca connection; market data comes "
                    "from Alpaca (see `kash connection list`)."
                )
            return conn
        alpaca = [c for c in self._connections.list_connections()
                  if c.broker is BrokerKind.ALPACA]
        if not alpaca:
            raise MarketError(NO_CONNECTION)
        paper = [c for c in alpaca if c.environment is Environment.PAPER]
        return (paper or alpaca)[0]

    def data_feed(self, symbol: str, *, connection: str | None = None) -> str:
        if self._asset_class_for(models.clean_symbol(symbol)) is not AssetClass.US_EQUITY:
            return ""
        try:
            return self._alpaca_connection(connection).feed.value
        except MarketError:
            return ""

    def _market_data(self, connection: str | None) -> AlpacaMarketData:
        from kash_tui.domains.connection.alpaca import open_session
        from kash_tui.domains.market.alpaca_data import AlpacaMarketData

        conn = self._alpaca_connection(connection)
        assert self._connections is not None
        credentials = self._connections.credentials(conn.name)
        return AlpacaMarketData(open_session(conn, credentials, self._http_timeout))

    def _asset_class_for(self, symbol: str) -> AssetClass:
        """A stored instrument's class, else the broker list's, else guessed from the symbol."""
        with self._db.unit_of_work() as s:
            row = repo.instrument(s, symbol)
            if row is not None:
                return AssetClass(row.asset_class)
            listed = repo.asset(s, symbol)
            return models.guess_asset_class(symbol, listed.asset_class if listed else None)

    def _name_for(self, symbol: str, asset_class: AssetClass) -> str:
        if asset_class is AssetClass.US_OPTION:
            occ = models.parse_occ(symbol)
            return occ.label if occ is not None else ""
        with self._db.unit_of_work() as s:
            listed = repo.asset(s, symbol)
            return listed.name if listed is not None else ""

    def _store_fetched(
        self, symbol: str, asset_class: AssetClass, timeframe: Timeframe, bars: FetchedBars
    ) -> tuple[int, int, bool]:
        """Upsert fetched bars in one transaction: (stored, new, changed anything)."""
        rows = models.to_rows(bars.ts, bars.open, bars.high, bars.low, bars.close, bars.volume)
        name = self._name_for(symbol, asset_class)
        with self._db.unit_of_work() as s:
            inst = repo.instrument(s, symbol)
            if inst is None:
                inst = entities.InstrumentRow(
                    symbol=symbol, asset_class=asset_class.value,
                    exchange_tz=asset_class.default_tz, name=name, source="alpaca",
                    created_at=utc_now(),
                )
                s.add(inst)
                s.flush()
            elif inst.asset_class != asset_class.value:
                raise MarketError(
                    f"{symbol} is stored as {inst.asset_class}, but Alpaca lists it as "
                    f"{asset_class.value}; nothing was stored."
                )
            last = repo.load(s, inst.id, timeframe.value, None, None, 1)
            before = repo.count_bars(s, inst.id, timeframe.value)
            repo.upsert(s, inst.id, timeframe.value, rows)
            after = repo.count_bars(s, inst.id, timeframe.value)
        new = after - before
        changed = new > 0
        if not changed and len(last):
            at = np.flatnonzero(rows["ts"] == last.ts[0])
            was = [int(last.ts[0]), *last.values[:, 0].tolist()]
            changed = bool(at.shape[0]) and rows[at[-1]].tolist() != tuple(was)
        return int(rows.shape[0]), new, changed

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
        clean = models.clean_symbol(symbol)
        timeframe = Timeframe(timeframe)
        start = _utc(start)
        end = _utc(end) if end is not None else None
        now = datetime.now(UTC)
        if end is not None and start > end:
            raise MarketError(
                f"The start {start:%Y-%m-%d} is after the end {end:%Y-%m-%d}; swap them."
            )
        if start > now:
            raise MarketError(f"The start {start:%Y-%m-%d} is in the future; pick an earlier one.")
        data = self._market_data(connection)
        asset_class = self._asset_class_for(clean)
        span = max(((end or now) - start).total_seconds(), 1.0)

        def on_page(_pages: int, _bars: int, last: datetime | None) -> None:
            if progress is not None and last is not None:
                done = min(max((last - start).total_seconds() / span, 0.0), 1.0)
                progress(int(done * (PROGRESS_STEPS - 1)), PROGRESS_STEPS)

        fetched = data.bars(clean, asset_class, timeframe, start, end, on_page=on_page)
        if not len(fetched):
            until = f"{end:%Y-%m-%d}" if end is not None else "now"
            raise NoBarsError(
                f"Alpaca has no {timeframe.value} bars for {clean} from {start:%Y-%m-%d} to "
                f"{until}; check the symbol and the dates."
            )
        stored, new, _changed = self._store_fetched(clean, asset_class, timeframe, fetched)
        if progress is not None:
            progress(PROGRESS_STEPS, PROGRESS_STEPS)
        return FetchReport(
            symbol=clean,
            timeframe=timeframe,
            asset_class=asset_class,
            connection=data.connection_name,
            feed=data.session.feed.value if asset_class is AssetClass.US_EQUITY else "",
            received=len(fetched),
            stored=stored,
            new=new,
            pages=fetched.pages,
            first=models.epoch_to_datetime(int(fetched.ts[0])),
            last=models.epoch_to_datetime(int(fetched.ts[-1])),
        )

    # -- the asset list -----------------------------------------------------------------------

    def _refresh_assets(self, connection: str | None) -> None:
        """Download the asset lists that are missing or older than a day; on failure keep what
        is cached (search is not a broker action: it never fails because of the broker)."""
        with self._assets_lock:
            cutoff = utc_now() - ASSET_LIST_MAX_AGE
            with self._db.unit_of_work() as s:
                stale = [
                    c for c in SEARCHED_CLASSES
                    if (at := repo.asset_list_fetched_at(s, c.value)) is None or at < cutoff
                ]
            if not stale or time.monotonic() < self._assets_retry_at:
                return
            try:
                data = self._market_data(connection)
            except (MarketError, BrokerConnectionError) as exc:
                if connection:
                    raise
                log.debug("no asset list download: %s", exc)
                return
            for asset_class in stale:
                try:
                    records = data.assets(asset_class)
                except BrokerError as exc:
                    self._assets_retry_at = time.monotonic() + ASSET_RETRY_SECONDS
                    log.warning("asset list not refreshed: %s", exc)
                    return
                rows = [
                    {"symbol": r.symbol, "asset_class": r.asset_class.value, "name": r.name,
                     "exchange": r.exchange, "tradable": r.tradable,
                     "fractionable": r.fractionable}
                    for r in records if r.asset_class is asset_class
                ]
                with self._db.unit_of_work() as s:
                    repo.replace_assets(s, asset_class.value, _unique(rows), utc_now())

    def search_assets(
        self, text: str, *, connection: str | None = None, limit: int = 20
    ) -> list[AssetHit]:
        needle = text.strip().upper()
        if limit <= 0:
            return []
        local = self.list_instruments()
        if not needle:  # nothing typed: what is stored, as search_symbols lists it
            return [models.local_hit(i) for i in local[:limit]]
        self._refresh_assets(connection)
        stored = {i.symbol for i in local}
        with self._db.unit_of_work() as s:
            hits = [models.to_hit(r, r.symbol in stored) for r in repo.search_assets(s, needle, limit)]
        listed = {h.symbol for h in hits}
        hits += [
            models.local_hit(i) for i in local
            if i.symbol not in listed and (needle in i.symbol or needle in i.name.upper())
        ]

        def rank(hit: AssetHit) -> tuple[int, bool, int, str]:
            if hit.symbol == needle:
                group = 0
            elif hit.symbol.startswith(needle):
                group = 1
            elif needle in hit.symbol:
                group = 2
            else:
                group = 3
            return group, not hit.has_bars, len(hit.symbol), hit.symbol

        hits.sort(key=rank)
        return hits[:limit]

    # -- options ------------------------------------------------------------------------------

    @staticmethod
    def _underlying(symbol: str) -> str:
        clean = models.clean_symbol(symbol)
        if models.guess_asset_class(clean) is not AssetClass.US_EQUITY:
            raise MarketError(
                f"{clean} is not a stock or ETF; options are listed by their underlying, "
                "e.g. AAPL."
            )
        return clean

    def option_expirations(
        self,
        underlying: str,
        *,
        start: date | None = None,
        end: date | None = None,
        connection: str | None = None,
    ) -> list[date]:
        clean = self._underlying(underlying)
        start = start or datetime.now(NEW_YORK).date()
        end = end or start + OPTION_HORIZON
        if start > end:
            raise MarketError(f"The start {start} is after the end {end}; swap them.")
        data = self._market_data(connection)
        contracts = data.option_contracts(clean, start=start, end=end)
        return sorted({c.expiration for c in contracts if start <= c.expiration <= end})

    def option_chain(
        self,
        underlying: str,
        expiration: date,
        *,
        width: int = 10,
        connection: str | None = None,
    ) -> OptionChain:
        clean = self._underlying(underlying)
        if width < 1:
            raise MarketError("The chain width must be at least 1 strike either side.")
        data = self._market_data(connection)
        contracts = [c for c in data.option_contracts(clean, expiration=expiration)
                     if c.expiration == expiration]
        if not contracts:
            raise MarketError(
                f"Alpaca lists no {clean} options expiring {expiration}; run `kash options "
                f"expirations {clean}` to see the dates."
            )
        price = data.latest_price(clean)
        strikes = sorted({c.strike for c in contracts})
        if price is None:
            centre = len(strikes) // 2
        else:
            centre = min(range(len(strikes)), key=lambda i: (abs(strikes[i] - price), i))
        kept = strikes[max(0, centre - width) : centre + width + 1]
        snapshots = data.option_snapshots(
            clean, expiration, strike_low=kept[0], strike_high=kept[-1]
        )
        by_key = {(c.strike, c.type): c for c in contracts}

        def quote(strike: Decimal, kind: OptionType) -> OptionQuote | None:
            contract = by_key.get((strike, kind))
            if contract is None:
                return None
            snap = snapshots.get(contract.symbol)
            return OptionQuote(
                symbol=contract.symbol,
                underlying=clean,
                expiration=contract.expiration,
                strike=contract.strike,
                type=kind,
                bid=snap.bid if snap else None,
                ask=snap.ask if snap else None,
                last=snap.last if snap else None,
                implied_volatility=snap.implied_volatility if snap else None,
                delta=snap.delta if snap else None,
                open_interest=contract.open_interest,
            )

        rows = tuple(
            OptionChainRow(strike, quote(strike, OptionType.CALL), quote(strike, OptionType.PUT))
            for strike in kept
        )
        return OptionChain(clean, expiration, price, rows)

    # -- watching -----------------------------------------------------------------------------

    def _catch_up(
        self, data: AlpacaMarketData, symbol: str, asset_class: AssetClass, timeframe: Timeframe
    ) -> tuple[int, bool, int | None]:
        """Fetch from the last stored bar (itself included: it may have grown) to now and
        store it. Returns (new bars, anything changed, the last stored bar's time before)."""
        with self._db.unit_of_work() as s:
            inst = repo.instrument(s, symbol)
            last = repo.last_ts(s, inst.id, timeframe.value) if inst is not None else None
        if last is not None:
            start = models.epoch_to_datetime(last)
        else:
            start = datetime.now(UTC) - timedelta(seconds=timeframe.seconds * 500)
        fetched = data.bars(symbol, asset_class, timeframe, start, None)
        if not len(fetched):
            return 0, False, last
        _stored, new, changed = self._store_fetched(symbol, asset_class, timeframe, fetched)
        return new, changed, last

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
        clean = models.clean_symbol(symbol)
        timeframe = Timeframe(timeframe)
        if poll_interval <= 0:
            raise MarketError("The poll interval must be positive.")
        data = self._market_data(connection)
        watch = _BarWatch(
            self, data, clean, self._asset_class_for(clean), timeframe, on_bars, poll_interval,
            stream=stream,
        )
        watch.start()
        return watch


class _BarWatch:
    """Keeps one symbol's bars growing: a streamed minute bar (or, while the stream is not
    connected, every ``poll_interval`` seconds) triggers a REST catch-up of the watched
    timeframe, then ``on_bars(new)`` when anything changed.

    REST does the storing even when the stream delivers a bar, so every timeframe (not only
    1Min) grows, and a bar missed while disconnected is fetched all the same.
    """

    def __init__(
        self,
        service: SqlMarketService,
        data: AlpacaMarketData,
        symbol: str,
        asset_class: AssetClass,
        timeframe: Timeframe,
        on_bars: Callable[[int], None],
        poll_interval: float,
        *,
        stream: bool = True,
    ) -> None:
        self.symbol = symbol
        self.timeframe = timeframe
        self._service = service
        self._data = data
        self._asset_class = asset_class
        self._on_bars = on_bars
        self._poll_interval = poll_interval
        self._stopped = threading.Event()
        self._wake = threading.Event()
        self._stored_last: int | None = None
        self._stream = data.bar_stream(symbol, asset_class, self._wake.set) if stream else None
        self._thread = threading.Thread(
            target=self._run, name=f"kash-bars-watch-{symbol}-{timeframe.value}", daemon=True
        )

    def start(self) -> None:
        if self._stream is not None:
            self._stream.start()
        self._thread.start()

    @property
    def streaming(self) -> bool:
        return self._stream is not None and self._stream.connected

    @property
    def stream_connects(self) -> int:
        return self._stream.connects if self._stream is not None else 0

    def _run(self) -> None:
        self._refresh()  # catch up on what happened since the bars were stored
        while not self._stopped.is_set():
            woken = self._wake.wait(self._poll_interval)
            if self._stopped.is_set():
                break
            self._wake.clear()
            if woken or self._stream is None or not self._stream.connected:
                self._refresh()

    def _refresh(self) -> None:
        try:
            new, changed, before = self._service._catch_up(  # noqa: SLF001
                self._data, self.symbol, self._asset_class, self.timeframe
            )
            # bars another process stored (the stream's owner, when this watch polls) are
            # news too, though this fetch found nothing to store
            if changed:
                self._stored_last = None
            elif before is not None:
                if self._stored_last is not None and before > self._stored_last:
                    changed, new = True, 1
                self._stored_last = before
        except (BrokerConnectionError, MarketError) as exc:
            log.info("bars of %s %s not refreshed: %s", self.symbol, self.timeframe, exc)
            return
        except Exception:  # noqa: BLE001 - a watcher thread must survive anything
            log.exception("bars of %s %s not refreshed", self.symbol, self.timeframe)
            return
        if changed and not self._stopped.is_set():
            try:
                self._on_bars(new)
            except Exception:  # noqa: BLE001
                log.exception("on_bars failed for %s %s", self.symbol, self.timeframe)

    def stop(self) -> None:
        """Stop the stream and the refresher; returns when both threads have ended."""
        self._stopped.set()
        self._wake.set()
        if self._stream is not None:
            self._stream.stop()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(max(self._service._http_timeout, 1.0) + 2.0)  # noqa: SLF001


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _unique(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    seen: dict[object, dict[str, object]] = {}
    for row in rows:
        seen[row["symbol"]] = row
    return list(seen.values())
