"""``kash data import | list | fetch``: bars in the local database."""

from __future__ import annotations

import argparse
from pathlib import Path

from kash_tui.cli.common import (
    EXIT_OK,
    ProgressBar,
    build_provider,
    parse_date,
    print_json,
    print_table,
)


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
    with ProgressBar(f"Importing {Path(args.file).name}", unit=("bytes", "bars")) as bar:
        report = provider.market.import_csv(
            Path(args.file),
            args.symbol,
            timeframe=timeframe,
            tz=args.tz,
            asset_class=asset_class,
            skip_bad_rows=args.skip_bad_rows,
            progress=bar if bar.enabled else None,
        )
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
    items = build_provider(args, writes=False).market.list_data()
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

    if args.universe is not None:
        from kash_tui.cli.universe import cmd_data_fetch_universe

        return cmd_data_fetch_universe(args)
    if args.symbol is None:
        from kash_tui.cli.common import UserError

        raise UserError("Say what to fetch: a symbol (kash data fetch AAPL ...) or --universe NAME.")

    timeframe = Timeframe.parse(args.timeframe)
    start = parse_date(args.start)
    end = parse_date(args.end, end=True)
    assert start is not None  # --start is required
    provider = build_provider(args)
    with ProgressBar(f"Fetching {args.symbol.strip().upper()} {timeframe.value}") as bar:
        report = provider.market.fetch_bars(
            args.symbol, timeframe, start, end, connection=args.connection,
            progress=bar if bar.enabled else None,
        )
    if args.json:
        print_json(report)
        return EXIT_OK
    pages = f" in {report.pages} pages" if report.pages > 1 else ""
    feed = f", {report.feed.upper()} feed" if report.feed else ""
    print(
        f"Fetched {report.received} {report.timeframe.value} bars of {report.symbol} from "
        f"Alpaca ({report.connection}{feed}){pages}: {report.new} new, "
        f"{report.stored - report.new} updated, {report.first:%Y-%m-%d %H:%M} to "
        f"{report.last:%Y-%m-%d %H:%M} UTC."
    )
    return EXIT_OK
