"""CLI commands for option data from Alpaca: ``kash options expirations`` and ``kash options
chain``. Small on purpose: for scripts (``--json``) and a quick look from the shell; the TUI has
the full options place.
"""

from __future__ import annotations

import argparse
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from kash_tui.cli.common import EXIT_OK, UserError, build_provider, print_json, print_table

if TYPE_CHECKING:
    from kash_tui.domains.market import OptionQuote


def _day(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"{text!r} is not a date for {what}; use YYYY-MM-DD, e.g. 2026-12-18.") from None


def cmd_options_expirations(args: argparse.Namespace) -> int:
    start, end = _day(args.start, "--from"), _day(args.end, "--to")
    dates = build_provider(args).market.option_expirations(
        args.underlying, start=start, end=end, connection=args.connection
    )
    underlying = args.underlying.strip().upper()
    if args.json:
        print_json({"underlying": underlying, "expirations": dates})
        return EXIT_OK
    if not dates:
        print(f"Alpaca lists no {underlying} options expiring in that period.")
        return EXIT_OK
    for day in dates:
        print(f"{day:%Y-%m-%d}  {day:%a}")
    return EXIT_OK


def _num(value: Decimal | float | int | None, fmt: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return f"{value:.2f}" if not fmt else format(value, fmt)
    return format(value, fmt) if fmt else str(value)


def _side(q: OptionQuote | None) -> list[str]:
    if q is None:
        return ["", "", "", "", "", ""]
    iv = f"{q.implied_volatility * 100:.1f}%" if q.implied_volatility is not None else "-"
    delta = f"{q.delta:+.2f}" if q.delta is not None else "-"
    return [_num(q.bid), _num(q.ask), _num(q.last), iv, delta, _num(q.open_interest)]


def cmd_options_chain(args: argparse.Namespace) -> int:
    expiration = _day(args.expiration, "--expiration")
    assert expiration is not None  # required
    chain = build_provider(args).market.option_chain(
        args.underlying, expiration, width=args.width, connection=args.connection
    )
    if args.json:
        print_json(chain)
        return EXIT_OK
    price = f"{chain.underlying_price:.2f}" if chain.underlying_price is not None else "unknown"
    print(f"{chain.underlying} options expiring {chain.expiration:%Y-%m-%d} "
          f"(last trade {price})")
    headers = ["CALL BID", "ASK", "LAST", "IV", "DELTA", "OI", "STRIKE",
               "PUT BID", "ASK", "LAST", "IV", "DELTA", "OI"]
    rows = [[*_side(r.call), f"{r.strike:f}", *_side(r.put)] for r in chain.rows]
    print_table(headers, rows, "No contracts.")
    return EXIT_OK
