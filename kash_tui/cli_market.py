"""CLI commands of the market, strategy and trading domains: data, strategies, backtest.

Kept apart from ``cli.py`` so the import path of ``kash backtest`` stays light: no Textual.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kash_tui.cli import EXIT_OK, UserError, build_provider, print_json, print_table

if TYPE_CHECKING:
    from collections.abc import Callable


class ProgressBar:
    """A progress bar on stderr, shown only on a terminal and only once work takes a while."""

    def __init__(self, label: str, *, delay: float = 0.4, stream=None) -> None:  # noqa: ANN001
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self._start = time.monotonic()
        self._delay = delay
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self._start < self._delay:
            return
        total = max(total, 1)
        frac = min(max(done / total, 0.0), 1.0)
        width = 30
        filled = int(frac * width)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {frac * 100:5.1f}%")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\r" + " " * (len(self.label) + 42) + "\r")
            self.stream.flush()


# -- data ------------------------------------------------------------------------------------


def cmd_data_import(args: argparse.Namespace) -> int:
    from kash_tui.domains.market import AssetClass, MarketError, Timeframe

    try:
        asset_class = AssetClass(args.asset_class)
    except ValueError:
        raise MarketError(
            f"Unknown asset class {args.asset_class!r}; use us_equity, crypto or us_option."
        ) from None
    timeframe = Timeframe.parse(args.timeframe)
    provider = build_provider(args)
    bar = ProgressBar(f"Importing {Path(args.file).name}")
    try:
        report = provider.market.import_csv(
            Path(args.file),
            args.symbol,
            timeframe=timeframe,
            tz=args.tz,
            asset_class=asset_class,
            skip_bad_rows=args.skip_bad_rows,
            progress=bar,
        )
    finally:
        bar.close()
    if args.json:
        print_json(report)
        return EXIT_OK
    print(
        f"Stored {report.stored} {report.timeframe.value} bars for {report.symbol} "
        f"({report.new} new, {report.stored - report.new} updated), "
        f"{report.first:%Y-%m-%d %H:%M} to {report.last:%Y-%m-%d %H:%M} UTC."
    )
    for problem in report.skipped:
        print(f"  skipped line {problem.line}: {problem.reason}")
    return EXIT_OK


def cmd_data_list(args: argparse.Namespace) -> int:
    items = build_provider(args).market.list_data()
    if args.json:
        print_json(items)
        return EXIT_OK
    print_table(
        ["SYMBOL", "TIMEFRAME", "CLASS", "FIRST (UTC)", "LAST (UTC)", "BARS", "SOURCE"],
        [
            (d.symbol, d.timeframe.value, d.asset_class.value, f"{d.first:%Y-%m-%d %H:%M}",
             f"{d.last:%Y-%m-%d %H:%M}", d.count, d.source)
            for d in items
        ],
        "No bars stored; import a CSV with `kash data import FILE --symbol SYM`.",
    )
    return EXIT_OK


def cmd_data_fetch(args: argparse.Namespace) -> int:
    from kash_tui.domains.market import Timeframe

    timeframe = Timeframe.parse(args.timeframe)
    start = parse_date(args.start)
    end = parse_date(args.end, end=True)
    assert start is not None  # --start is required
    provider = build_provider(args)
    bar = ProgressBar(f"Fetching {args.symbol.strip().upper()} {timeframe.value}")
    try:
        report = provider.market.fetch_bars(
            args.symbol, timeframe, start, end, connection=args.connection, progress=bar,
        )
    finally:
        bar.close()
    if args.json:
        print_json(report)
        return EXIT_OK
    pages = f" in {report.pages} pages" if report.pages > 1 else ""
    print(
        f"Fetched {report.received} {report.timeframe.value} bars of {report.symbol} from "
        f"Alpaca ({report.connection}){pages}: {report.new} new, "
        f"{report.stored - report.new} updated, {report.first:%Y-%m-%d %H:%M} to "
        f"{report.last:%Y-%m-%d %H:%M} UTC."
    )
    return EXIT_OK


def parse_date(text: str | None, *, end: bool = False) -> datetime | None:
    """``2024-01-31`` or an ISO date-time; a date-only end means the whole of that day (UTC)."""
    if text is None:
        return None
    t = text.strip()
    try:
        value = datetime.fromisoformat(t.replace("Z", "+00:00") if t.endswith("Z") else t)
    except ValueError:
        raise UserError(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2024-01-31.") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if end and len(t) == 10:
        value = value.replace(hour=23, minute=59, second=59)
    return value


def register(sub, command: Callable, group: Callable) -> None:  # noqa: ANN001
    data = group("data", "market data: import, fetch and list bars")
    p = command(data, "import", cmd_data_import, "import OHLCV bars from a CSV file")
    p.add_argument("file")
    p.add_argument("--symbol", required=True)
    p.add_argument("--timeframe", default="1Day",
                   help="1Min 5Min 15Min 30Min 1Hour 4Hour 1Day 1Week (default 1Day)")
    p.add_argument("--tz", help="zone of dates without an offset (default: America/New_York; "
                   "UTC for crypto)")
    p.add_argument("--asset-class", default="us_equity",
                   help="us_equity, crypto or us_option (default us_equity)")
    p.add_argument("--skip-bad-rows", action="store_true",
                   help="import the good rows and list the bad ones instead of refusing")
    p.add_argument("--json", action="store_true")
    p = command(data, "list", cmd_data_list, "list stored bars per symbol and timeframe")
    p.add_argument("--json", action="store_true")
    p = command(data, "fetch", cmd_data_fetch,
                "download bars from Alpaca into the local cache (IEX feed for stocks)")
    p.add_argument("symbol", help="AAPL, BTC/USD or an OCC option symbol")
    p.add_argument("--timeframe", default="1Day",
                   help="1Min 5Min 15Min 30Min 1Hour 4Hour 1Day 1Week (default 1Day)")
    p.add_argument("--start", required=True, metavar="DATE", help="YYYY-MM-DD (UTC)")
    p.add_argument("--end", metavar="DATE", help="YYYY-MM-DD, inclusive (default: now)")
    p.add_argument("--connection", metavar="NAME",
                   help="Alpaca connection (default: the first paper one)")
    p.add_argument("--json", action="store_true")

    try:
        from kash_tui import cli_backtest
    except ImportError:
        return
    cli_backtest.register(sub, command, group)


def user_error_types() -> tuple[type[BaseException], ...]:
    from kash_tui.domains.market import MarketError

    types: list[type[BaseException]] = [MarketError]
    try:
        from kash_tui import cli_backtest

        types.extend(cli_backtest.user_error_types())
    except ImportError:
        pass
    return tuple(types)
