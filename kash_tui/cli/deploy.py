"""``kash deploy start | list | stop | halt | log | parity``: strategies that trade.

A deployment runs one strategy on one symbol and timeframe against a PAPER or LIVE portfolio.
``start`` runs it in the foreground (one line per event, Ctrl-C stops it cleanly), meant for
tmux or a service manager; ``--detach`` runs the same in a background process with its own log.
Everything meets in the database: ``list``, ``stop``, ``halt``, ``log`` and ``parity`` work on
deployments started by any process (the app included).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kash_tui.cli.common import EXIT_OK, UserError, build_provider, print_json, print_table

if TYPE_CHECKING:
    from kash_tui.domains.deployment import Deployment, JournalEntry, ParityReport


def _params(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    import json

    try:
        value = json.loads(text)
    except ValueError:
        raise UserError(
            f"--params is not valid JSON ({text!r}); pass an object like "
            "'{\"short_period\": 10, \"long_period\": 30}'."
        ) from None
    if not isinstance(value, dict):
        raise UserError(
            "--params must be a JSON object like '{\"short_period\": 10}', not "
            f"{type(value).__name__}."
        )
    return value


def _positive_float(text: str) -> float:
    """An argparse type: a number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a number above 0")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("it must be at least 1")
    return value


LOG_TAIL = 50
"""Events `kash deploy log` shows without --tail or --all."""


def _print_event(entry: JournalEntry) -> None:
    from kash_tui.domains.deployment import event_line

    print(event_line(entry), flush=True)


def _confirm_live(kash: Any, name: str, given: str | None) -> str | None:
    """The typed confirmation of a LIVE deployment: ``--confirm-live NAME``, else asked at a
    terminal. Non-interactive without the flag: None (the service refuses with a sentence)."""
    d = kash.deployment.get(name)
    if d.mode != "LIVE" or given is not None:
        return given
    if not sys.stdin.isatty():
        return None
    sys.stderr.write(
        f"Deployment {name!r} will trade REAL MONEY on the LIVE portfolio {d.portfolio_name!r} "
        f"({d.strategy_id} on {d.symbol} {d.timeframe}).\nType its name to confirm: "
    )
    sys.stderr.flush()
    return sys.stdin.readline().strip()


def cmd_deploy_start(args: argparse.Namespace) -> int:
    from kash_tui.domains.deployment import (
        DeploymentNotFound,
        NewDeployment,
        RiskLimits,
        RunOptions,
    )

    kash = build_provider(args)
    service = kash.deployment
    params = _params(args.params)
    settings_given = any(v is not None for v in (
        args.portfolio, args.strategy, args.symbol, args.timeframe, params,
        args.max_position_pct, args.max_orders_per_day, args.daily_loss_limit_pct,
    ))
    try:
        existing = service.get(args.name)
    except DeploymentNotFound:
        existing = None
    if existing is None or settings_given:
        base: dict[str, Any] = {}
        if existing is not None:
            base = dict(portfolio=existing.portfolio_name, strategy_id=existing.strategy_id,
                        symbol=existing.symbol, timeframe=existing.timeframe,
                        params=existing.params, workspace=existing.workspace_name)
            old = existing.limits
        else:
            old = RiskLimits()
            missing = [flag for flag, value in (
                ("--portfolio", args.portfolio), ("--strategy", args.strategy),
                ("--symbol", args.symbol), ("--timeframe", args.timeframe)) if value is None]
            if missing:
                raise UserError(
                    f"There is no deployment {args.name!r} yet; to create it give "
                    f"{', '.join(missing)} (see `kash deploy start --help`)."
                )
        limits = RiskLimits(
            max_position_pct=args.max_position_pct if args.max_position_pct is not None
            else old.max_position_pct,
            max_orders_per_day=args.max_orders_per_day if args.max_orders_per_day is not None
            else old.max_orders_per_day,
            daily_loss_limit_pct=args.daily_loss_limit_pct
            if args.daily_loss_limit_pct is not None else old.daily_loss_limit_pct,
        )
        new = NewDeployment(
            name=args.name,
            portfolio=args.portfolio or base.get("portfolio", ""),
            strategy_id=args.strategy or base.get("strategy_id", ""),
            symbol=args.symbol or base.get("symbol", ""),
            timeframe=args.timeframe or base.get("timeframe", ""),
            params=params if params is not None else base.get("params", {}),
            limits=limits,
            workspace=args.workspace or (base.get("workspace") if not args.portfolio else None),
        )
        if existing is None:
            service.create(new)  # a later refusal leaves it stored, stopped, to start again
        else:
            service.update(new)
    confirm = _confirm_live(kash, args.name, args.confirm_live)
    service.check_start(args.name, confirm_live=confirm)
    if args.detach:
        d = service.launch(args.name, confirm_live=confirm, tick_seconds=args.tick,
                           stream=not args.no_stream)
        print(f"Deployment {d.name!r} started in the background; its log: {d.log_path}")
        print(f"Watch it with `kash deploy list`, stop it with `kash deploy stop {d.name}`.")
        return EXIT_OK
    options = RunOptions(stream=not args.no_stream) if args.tick is None else RunOptions(
        tick_seconds=args.tick, clock_refresh_seconds=args.tick, stream=not args.no_stream)
    print(f"Deployment {args.name!r} is starting; Ctrl-C stops it (open orders stay).",
          flush=True)
    d = service.run(args.name, confirm_live=confirm, on_event=_print_event, options=options)
    print(f"Deployment {d.name!r} is {d.state.value}.", flush=True)
    return EXIT_OK


# -- list ----------------------------------------------------------------------------------


def _age(d: Deployment, now: datetime) -> str:
    age = d.heartbeat_age(now)
    if age is None or d.state.value != "running":
        return ""
    seconds = max(0, int(age.total_seconds()))
    return f"{seconds}s" if seconds < 120 else f"{seconds // 60}m"


def _qty(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _when(value: datetime | None) -> str:
    return value.strftime("%m-%d %H:%M") if value else ""


def cmd_deploy_list(args: argparse.Namespace) -> int:
    kash = build_provider(args, writes=False)
    rows = kash.deployment.list(args.workspace)
    now = datetime.now(UTC)
    if args.json:
        out = []
        for d in rows:
            item = d.to_dict()
            age = d.heartbeat_age(now)
            item["heartbeat_age_seconds"] = age.total_seconds() if age is not None else None
            out.append(item)
        print_json(out)
        return EXIT_OK
    table = []
    for d in rows:
        state = d.state.value
        if d.state.value == "running" and d.heartbeat_age(now) is not None and (
            d.heartbeat_age(now).total_seconds() > 120  # type: ignore[union-attr]
        ):
            state = "running?"
        signal = f"{d.last_signal_side} {_when(d.last_signal_at)}" if d.last_signal_side else ""
        data = d.data_health.value if d.state.value == "running" else ""
        if d.data_mode is not None and d.state.value == "running":
            data += f" ({'stream owner' if d.data_mode.value == 'stream' else 'poll'})"
        table.append((
            d.name, state, d.mode, f"{d.symbol} {d.timeframe}", d.strategy_id,
            _when(d.last_bar_at), signal, _qty(d.position_qty), d.orders_today,
            _money(d.pnl), _age(d, now), data,
        ))
    print_table(
        ("NAME", "STATE", "MODE", "MARKET", "STRATEGY", "LAST BAR", "LAST SIGNAL", "POSITION",
         "ORDERS TODAY", "P&L", "HEARTBEAT", "DATA"),
        table,
        "No deployments yet; start one with `kash deploy start NAME --portfolio P --strategy "
        "ID --symbol SYM --timeframe TF`.",
    )
    for d in rows:
        if d.state.value in ("halted", "failed") and d.message:
            print(f"{d.name}: {d.message}")
    return EXIT_OK


# -- stop, halt --------------------------------------------------------------------------


def cmd_deploy_stop(args: argparse.Namespace) -> int:
    kash = build_provider(args)
    d = kash.deployment.stop(args.name)
    if d.state.value == "running":
        print(f"Deployment {d.name!r} was asked to stop; its runner stops within seconds "
              "(open orders stay; `kash deploy halt` cancels them).")
    else:
        print(f"Deployment {d.name!r} is {d.state.value}.")
    return EXIT_OK


def cmd_deploy_halt(args: argparse.Namespace) -> int:
    if bool(args.name) == bool(args.all):
        raise UserError("Name one deployment to halt, or pass --all to halt every one.")
    kash = build_provider(args)
    if args.all:
        reports = kash.deployment.halt_all(flatten=args.flatten)
    else:
        reports = [kash.deployment.halt(args.name, flatten=args.flatten)]
    if args.json:
        print_json(reports)
        return EXIT_OK
    if not reports:
        print("There are no deployments to halt.")
    for r in reports:
        cancelled = f"{len(r.cancelled_orders)} open order(s) cancelled"
        flat = f"; closing order {r.flatten_order_id}" if r.flatten_order_id else ""
        print(f"Halted {r.name!r}: {cancelled}{flat}.")
        for problem in r.problems:
            sys.stderr.write(f"kash: {r.name}: {problem}\n")
    return EXIT_OK if not any(r.problems for r in reports) else 1


# -- log, parity ------------------------------------------------------------------------


def cmd_deploy_log(args: argparse.Namespace) -> int:
    kash = build_provider(args, writes=False)
    tail = None if args.all else (args.tail or LOG_TAIL)
    # one more than shown says whether older entries were left out
    entries = kash.deployment.journal(args.name, limit=tail + 1 if tail else None)
    more = tail is not None and len(entries) > tail
    if more:
        entries = entries[1:]
    if args.json:
        print_json([e.to_dict() for e in entries])
        return EXIT_OK
    if not entries:
        print(f"Deployment {args.name!r} has no journal yet; start it first.")
        return EXIT_OK
    if more:
        print(f"(the newest {tail} events; --tail N for more, --all for every one)")
    from kash_tui.domains.deployment import event_line

    sys.stdout.write("".join(event_line(e) + "\n" for e in entries))
    return EXIT_OK


def _price(value: float | Decimal | None) -> str:
    return "" if value is None else f"{float(value):,.4f}".rstrip("0").rstrip(".")


def print_parity(r: ParityReport) -> None:
    print(f"Parity of {r.name!r}: {r.strategy_id} {r.params} on {r.symbol} {r.timeframe}")
    first = f"{r.first_live_bar:%Y-%m-%d %H:%M}" if r.first_live_bar else "-"
    last = f"{r.last_bar:%Y-%m-%d %H:%M}" if r.last_bar else "-"
    print(f"Bars: {r.bars} replayed ({r.live_bars} followed live, {first} to {last} UTC)")
    print(f"Signals: {r.matched} matched, {r.missed} missed, {r.extra} extra")
    print()
    print_table(
        ("BAR (UTC)", "SIDE", "RESULT", "LIVE"),
        [(f"{s.bar_at:%Y-%m-%d %H:%M}", s.side, s.status.value.upper(), s.live_action)
         for s in r.signals],
        "No signals while it ran.",
    )
    print()
    print_table(
        ("SIGNAL BAR", "SIDE", "LIVE QTY", "LIVE PRICE", "BACKTEST QTY", "BACKTEST PRICE",
         "SLIPPAGE/UNIT", "SLIPPAGE"),
        [(f"{f.signal_bar_at:%Y-%m-%d %H:%M}", f.side,
          _qty(f.live_qty) if f.live_qty is not None else "-", _price(f.live_price) or "-",
          _price(f.backtest_qty) or "-", _price(f.backtest_price) or "-",
          _price(f.slippage_per_unit) or "-",
          f"{f.slippage_cost:,.2f}" if f.slippage_cost is not None else "-")
         for f in r.fills],
        "No fills to compare.",
    )
    print()
    live = f"{r.live_pnl:,.2f}" if r.live_pnl is not None else "-"
    back = f"{r.backtest_pnl:,.2f}" if r.backtest_pnl is not None else "-"
    print(f"Slippage in total: {r.total_slippage:,.2f} (positive: live fills were worse)")
    print(f"P&L: live {live}, backtest {back}")
    if r.notes:
        print()
        print("What to look at:")
        for note in r.notes:
            print(f"- {note}")


def cmd_deploy_parity(args: argparse.Namespace) -> int:
    kash = build_provider(args, writes=False)
    report = kash.deployment.parity(args.name)
    if args.json:
        print_json(report)
        return EXIT_OK
    print_parity(report)
    return EXIT_OK


def add_deploy_commands(sub: Any, command: Any) -> None:
    """Register ``kash deploy ...`` (called by ``arguments.build_parser``)."""
    p = sub.add_parser("deploy", help="strategies that trade a PAPER or LIVE portfolio",
                       description="Strategies that trade a PAPER or LIVE portfolio, with risk "
                                   "limits, a kill switch and a parity report.")
    from kash_tui.cli.common import add_db, add_json

    add_db(p)
    p.set_defaults(func=lambda _a, p=p: _needs_command(p))
    g = p.add_subparsers(title="commands", metavar="COMMAND", parser_class=type(p))

    s = command(g, "start", cmd_deploy_start,
                "create (or change) a deployment and run it until stopped")
    s.add_argument("name")
    s.add_argument("--portfolio", metavar="P", help="PAPER or LIVE portfolio")
    s.add_argument("--workspace", metavar="NAME", help="workspace of the portfolio")
    s.add_argument("--strategy", metavar="ID", help="strategy id (see `kash strategies`)")
    s.add_argument("--symbol", metavar="SYM")
    s.add_argument("--timeframe", metavar="TF", help="1Min 5Min 15Min 30Min 1Hour 4Hour 1Day")
    s.add_argument("--params", metavar="JSON", help="strategy parameters as a JSON object")
    s.add_argument("--max-position-pct", type=_positive_float, metavar="X",
                   help="largest position as a percent of equity")
    s.add_argument("--max-orders-per-day", type=_count, metavar="N",
                   help="orders per trading day")
    s.add_argument("--daily-loss-limit-pct", type=_positive_float, metavar="X",
                   help="halt when equity falls X%% below the start of the day (LIVE needs it)")
    s.add_argument("--detach", action="store_true",
                   help="run in a background process that outlives the shell (own log file)")
    s.add_argument("--confirm-live", metavar="NAME",
                   help="confirm a LIVE deployment without the prompt by repeating its name")
    s.add_argument("--tick", type=_positive_float, metavar="SECONDS", default=None,
                   help="how often the runner checks for bars, fills and stop requests, and "
                        "reads the broker's clock (default 2; the clock every 15)")
    s.add_argument("--no-stream", action="store_true",
                   help="never own the connection's market-data stream; poll over REST")

    add_json(command(g, "list", cmd_deploy_list, "deployments and how they are doing"))
    g.choices["list"].add_argument("--workspace", metavar="NAME")
    command(g, "stop", cmd_deploy_stop,
            "stop trading (cancels nothing)").add_argument("name")
    h = command(g, "halt", cmd_deploy_halt,
                "kill switch: stop, cancel the open orders (and --flatten the position)")
    h.add_argument("name", nargs="?")
    h.add_argument("--all", action="store_true", help="halt every deployment")
    h.add_argument("--flatten", action="store_true", help="also close the position at market")
    add_json(h)
    lg = command(g, "log", cmd_deploy_log, "the journal of a deployment")
    lg.add_argument("name")
    shown = lg.add_mutually_exclusive_group()
    shown.add_argument("--tail", "--limit", dest="tail", type=_count, metavar="N",
                       help=f"the newest N events (default {LOG_TAIL})")
    shown.add_argument("--all", action="store_true", help="every event, oldest first")
    add_json(lg)
    pa = command(g, "parity", cmd_deploy_parity,
                 "compare a deployment with the backtest of the bars it saw")
    pa.add_argument("name")
    add_json(pa)


def _needs_command(p: argparse.ArgumentParser) -> int:
    raise UserError(f"`{p.prog}` needs a command; run `{p.prog} --help` to list them.")
