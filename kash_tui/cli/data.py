"""``kash data import | list | fetch``: bars in the local database."""

from __future__ import annotations

import argparse
from pathlib import Path

from kash_tui.cli.common import (
    EXIT_OK,
    ProgressBar,
    UserError,
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
        return _fetch_universe(args)
    if args.symbol is None:
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


# -- kash data fetch --universe ---------------------------------------------------------------


def _fetch_universe(args: argparse.Namespace) -> int:
    """Fetch every symbol of a universe, one after the other, with one progress bar. Every
    request goes through the connection's one rate budget (Alpaca's 200 a minute), so a large
    universe slows down to the budget instead of being refused. A symbol the broker has no bars
    for is listed and the others are still fetched (exit code 2 when any failed); a problem of
    the connection itself (keys, network) stops at once."""
    from kash_tui.domains.connection import BrokerError
    from kash_tui.domains.market import MarketError, Timeframe

    if args.symbol is not None:
        raise UserError("Give a symbol or --universe, not both.")
    timeframe = Timeframe.parse(args.timeframe)
    start = parse_date(args.start)
    end = parse_date(args.end, end=True)
    provider = build_provider(args)
    u = provider.workspace.get_universe(args.universe, args.workspace)
    steps = 1000
    count = len(u.symbols)
    reports, failed = [], []
    with ProgressBar(f"Fetching {count} symbols of {u.name} {timeframe.value}") as bar:
        for k, symbol in enumerate(u.symbols):
            def one(done: int, total: int, k: int = k) -> None:
                bar(k * steps + int(done / max(total, 1) * steps), count * steps)

            try:
                reports.append(provider.market.fetch_bars(
                    symbol, timeframe, start, end, connection=args.connection,
                    progress=one if bar.enabled else None))
            except MarketError as exc:
                failed.append((symbol, str(exc)))
            except BrokerError as exc:
                if exc.kind not in ("not_found", "rejected"):
                    raise
                failed.append((symbol, str(exc)))
            if bar.enabled:
                bar((k + 1) * steps, count * steps)
    if args.json:
        print_json({"universe": u.name, "fetched": reports,
                    "failed": [{"symbol": s, "reason": r} for s, r in failed]})
    else:
        print_table(
            ["SYMBOL", "BARS", "NEW", "UPDATED", "FIRST (UTC)", "LAST (UTC)"],
            [(r.symbol, r.received, r.new, r.stored - r.new, f"{r.first:%Y-%m-%d %H:%M}",
              f"{r.last:%Y-%m-%d %H:%M}") for r in reports],
            "",
        )
        for symbol, reason in failed:
            print(f"{symbol}: {reason}")
        total = sum(r.received for r in reports)
        print(f"Fetched {total:,} {timeframe.value} bars of {len(reports)} of the {count} "
              f"symbols of universe {u.name!r}.")
    if failed:
        names = ", ".join(s for s, _r in failed[:5]) + (
            f" and {len(failed) - 5} more" if len(failed) > 5 else "")
        raise UserError(
            f"{len(failed)} of the {count} symbols could not be fetched ({names}); check them "
            "and run the fetch again (the others are stored)."
        )
    return EXIT_OK
