"""``kash universe ...``: named lists of symbols in a workspace (universes)."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from kash_tui.cli.common import EXIT_OK, UserError, build_provider, print_json, print_table, when

_SEPARATORS = re.compile(r"[\s,;]+")


def symbols_from_file(path: str) -> list[str]:
    """Symbols of a text or CSV file: separated by line breaks, commas, semicolons or spaces;
    ``#`` starts a comment; a first field ``symbol`` (a CSV header) is skipped."""
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"There is no file {path!r}; give the path of a file of symbols.") from None
    except IsADirectoryError:
        raise UserError(f"{path!r} is a folder; give the path of a file of symbols.") from None
    except UnicodeDecodeError:
        raise UserError(
            f"{path!r} is not a UTF-8 text file; give a text or CSV file of symbols."
        ) from None
    except OSError as exc:
        raise UserError(f"Cannot read {path!r} ({exc.strerror}); check the path.") from None
    found: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        found.extend(t.strip("\"'") for t in _SEPARATORS.split(line) if t.strip("\"'"))
    if found and found[0].lower() in ("symbol", "symbols", "ticker"):
        found = found[1:]
    if not found:
        raise UserError(f"{path!r} lists no symbols; write one per line, e.g. AAPL.")
    return found


def cmd_universe_create(args: argparse.Namespace) -> int:
    symbols = list(args.symbols)
    if args.from_file:
        symbols += symbols_from_file(args.from_file)
    if not symbols:
        raise UserError(
            "A universe needs symbols; list them (kash universe create NAME AAPL MSFT) or pass "
            "--from-file PATH."
        )
    u = build_provider(args).workspace.create_universe(args.name, symbols, args.workspace)
    shown = ", ".join(u.symbols[:8]) + (f", ... ({len(u.symbols)} in all)"
                                        if len(u.symbols) > 8 else "")
    print(f"Created universe {u.name!r} in {u.workspace_name!r} with {len(u.symbols)} "
          f"symbol(s): {shown}.")
    return EXIT_OK


def cmd_universe_list(args: argparse.Namespace) -> int:
    items = build_provider(args, writes=False).workspace.list_universes(args.workspace)
    if args.json:
        print_json([
            {"name": u.name, "workspace": u.workspace_name, "symbols": list(u.symbols),
             "created_at": u.created_at}
            for u in items
        ])
        return EXIT_OK
    print_table(
        ["WORKSPACE", "NAME", "SYMBOLS", "FIRST SYMBOLS", "CREATED"],
        [(u.workspace_name, u.name, len(u.symbols),
          " ".join(u.symbols[:5]) + (" ..." if len(u.symbols) > 5 else ""), when(u.created_at))
         for u in items],
        "No universes; create one with `kash universe create NAME AAPL MSFT ...`.",
    )
    return EXIT_OK


def cmd_universe_show(args: argparse.Namespace) -> int:
    u = build_provider(args, writes=False).workspace.get_universe(args.name, args.workspace)
    if args.json:
        print_json({"name": u.name, "workspace": u.workspace_name, "symbols": list(u.symbols),
                    "created_at": u.created_at})
        return EXIT_OK
    print(f"Universe {u.name!r} in {u.workspace_name!r}: {len(u.symbols)} symbol(s), "
          f"created {when(u.created_at)}")
    for k in range(0, len(u.symbols), 10):
        print("  " + " ".join(u.symbols[k:k + 10]))
    return EXIT_OK


def cmd_universe_delete(args: argparse.Namespace) -> int:
    provider = build_provider(args)
    u = provider.workspace.get_universe(args.name, args.workspace)
    provider.workspace.delete_universe(u.name, u.workspace_name)
    print(f"Deleted universe {u.name!r} from {u.workspace_name!r}.")
    return EXIT_OK


# -- universe backtests (``kash backtest --universe``, ``kash runs show`` of one) --------------


def cmd_backtest_universe(args: argparse.Namespace) -> int:
    from kash_tui.cli import backtest
    from kash_tui.cli.common import ProgressBar
    from kash_tui.domains.trading import UniverseBacktestRequest

    if args.universe is None:
        raise UserError("--max-positions goes with --universe.")
    if args.symbol is not None:
        raise UserError("Give --symbol or --universe, not both.")
    if args.sweep is not None or args.rank_by is not None:
        raise UserError(
            "Sweeps over a universe are not supported yet; sweep one symbol with --symbol."
        )
    if args.max_positions is not None and args.max_positions < 1:
        raise UserError(
            f"--max-positions must be 1 or more (got {args.max_positions}); give e.g. "
            "--max-positions 5."
        )
    provider = build_provider(args)
    single = backtest._request(args, provider)  # noqa: SLF001 - the same settings and checks
    request = UniverseBacktestRequest(
        universe=args.universe, workspace=args.workspace, strategy_id=single.strategy_id,
        timeframe=single.timeframe, params=single.params, start=single.start, end=single.end,
        settings=single.settings, max_positions=args.max_positions,
        portfolio_id=single.portfolio_id,
    )
    with ProgressBar("Backtesting universe") as bar:
        report = provider.trading.run_universe_backtest(
            request, progress=bar if bar.enabled else None)
    show_universe_report(report, json_output=args.json)
    return EXIT_OK


def show_universe_report(report, *, json_output: bool) -> None:  # noqa: ANN001
    if json_output:
        print_json(universe_report_json(report))
    else:
        print_universe_report(report)


def universe_json(run) -> dict:  # noqa: ANN001
    u = run.universe
    return {"name": u.universe, "workspace": u.workspace, "symbols": list(u.symbols),
            "max_positions": u.max_positions}


def universe_report_json(report) -> dict:  # noqa: ANN001
    """``report_json`` of a universe run, with the symbol of every fill, trip and signal and
    the per-symbol breakdown."""
    from dataclasses import asdict

    from kash_tui.cli.backtest import _num, report_json

    data = report_json(report)
    symbols = report.run.universe.symbols
    for key, which in (("fills", report.fill_symbols), ("round_trips", report.round_trip_symbols),
                       ("signals", report.signal_symbols)):
        for row, k in zip(data[key], which.tolist(), strict=True):
            row["symbol"] = symbols[k]
    data["universe"] = universe_json(report.run)
    data["breakdown"] = [{k: _num(v) if isinstance(v, float) else v for k, v in asdict(b).items()}
                         for b in report.run.universe.breakdown]
    return data


def print_universe_report(report, limit: int = 30) -> None:  # noqa: ANN001
    from kash_tui.cli.backtest import METRIC_ROWS, _fmt

    run = report.run
    u = run.universe
    s = run.settings
    fill = "next bar's open" if not s.fill_model.optimistic else "same bar's close (OPTIMISTIC)"
    print(
        f"Run #{run.id}: {run.strategy_id} {json.dumps(run.params, sort_keys=True)} on universe "
        f"{u.universe} ({len(u.symbols)} symbols) {run.timeframe}, {run.bar_count} times "
        f"{run.first_bar:%Y-%m-%d} to {run.last_bar:%Y-%m-%d} (UTC)"
    )
    print(
        f"Cash {s.initial_cash:,.2f} shared, at most {u.max_positions} positions, each entry "
        f"min(cash, equity/{u.max_positions}) x {s.position_size_pct:g}%, commission "
        f"{s.commission:g}, slippage {s.slippage:g}, "
        f"{'whole shares' if s.whole_shares else 'fractional'}, fills at {fill}; same-bar "
        "entries ranked by signal time, then universe order\n"
    )
    m = run.metrics
    print_table(["METRIC", "VALUE"],
                [(label, _fmt(getattr(m, key), suffix)) for label, key, suffix in METRIC_ROWS], "")
    print()
    rows = sorted(u.breakdown, key=lambda b: -b.pnl)
    print_table(
        ["SYMBOL", "BARS", "TRIPS", "SKIPPED", "P&L", "CONTRIB %", "WIN %", "EXPOSURE %",
         "B&H %"],
        [(b.symbol, b.bars, b.round_trips, b.skipped_no_slot + b.skipped_no_cash,
          _fmt(b.pnl), _fmt(b.contribution_pct), _fmt(b.win_rate_pct), _fmt(b.exposure_pct),
          _fmt(b.buy_and_hold_return_pct)) for b in rows[:limit]],
        "",
    )
    if len(rows) > limit:
        print(f"(the {limit} symbols with the largest P&L of {len(rows)}; use --json for all)")
    print()
    trips = report.round_trips
    n = len(trips)
    which = report.round_trip_symbols
    t = report.time
    print_table(
        ["SYMBOL", "ENTRY (UTC)", "EXIT (UTC)", "QTY", "ENTRY PRICE", "EXIT PRICE", "P&L",
         "RETURN %"],
        [
            (u.symbols[int(which[n - len(trips[-limit:]) + i])],
             f"{t(r.entry_index):%Y-%m-%d %H:%M}",
             "open" if r.exit_index is None else f"{t(r.exit_index):%Y-%m-%d %H:%M}",
             f"{r.qty:,.4f}", f"{r.entry_price:,.4f}",
             "-" if r.exit_price is None else f"{r.exit_price:,.4f}",
             f"{r.pnl:,.2f}", f"{r.return_pct:,.2f}")
            for i, r in enumerate(trips[-limit:])
        ],
        "No round trips: the strategy never entered a position.",
    )
    if n > limit:
        print(f"(the last {limit} of {n} round trips; use --json for all)")

