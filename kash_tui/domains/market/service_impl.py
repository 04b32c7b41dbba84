"""The market service: instruments, the bars cache, CSV import and demo data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

from kash_tui.domains.connection import ConnectionService
from kash_tui.db import Database, utc_now
from kash_tui.domains.market import models, repo
from kash_tui.domains.market.csv_import import parse_csv
from kash_tui.domains.market.entities import InstrumentRow
from kash_tui.domains.market.service import (
    NS_PER_SECOND,
    AssetClass,
    BarSeries,
    CsvRejected,
    DataSummary,
    ImportReport,
    Instrument,
    MarketError,
    NoBarsError,
    ProgressCallback,
    Timeframe,
)

_SHOW_PROBLEMS = 5


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
        with self._db.unit_of_work() as s:
            row = repo.instrument(s, clean)
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
        with self._db.unit_of_work() as s:
            row = repo.instrument(s, clean)
            if row is None:
                raise _unknown(clean)
            data = repo.load(
                s,
                row.id,
                timeframe.value,
                models.to_epoch_seconds(start) if start else None,
                models.to_epoch_seconds(end) if end else None,
                last,
                progress,
            )
            if data.shape[0] == 0:
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
            row = InstrumentRow(
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
        parsed = parse_csv(Path(path), zone, progress)
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
