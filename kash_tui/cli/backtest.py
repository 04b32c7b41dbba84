"""CLI commands of backtests: ``kash backtest`` (one symbol or a universe, a sweep),
``kash walkforward`` and ``kash runs``; how runs are shown lives in ``cli/reports.py``
(strategies: ``cli/strategies.py``).

No Textual on this path: ``kash backtest`` on 10k bars must finish, whole process, in under 1 s.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from kash_tui.cli.common import (
    EXIT_OK,
    ProgressBar,
    UserError,
    build_provider,
    parse_date,
    print_json,
    print_table,
)
from kash_tui.cli.reports import (
    exchange_tz,
    fmt,
    iso,
    metrics_json,
    oos_json,
    print_report,
    print_sweep,
    print_walk_forward,
    print_walk_forward_list,
    report_json,
    settings_json,
    show_universe_report,
    sweep_row_json,
    walk_forward_json,
    walk_forward_summary_json,
    why_no_trades,
)


# -- backtest --------------------------------------------------------------------------------


def _params(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"--params is not valid JSON ({exc.msg} at position {exc.pos}); give an object like "
            "'{\"short_period\": 10, \"long_period\": 30}'."
        ) from None
    if not isinstance(value, dict):
        raise UserError(
            "--params must be a JSON object like '{\"short_period\": 10, \"long_period\": 30}'."
        )
    return value


def parse_sweep(text: str) -> dict[str, list[Any]]:
    """``short_period=5:50:5,long_period=20:200:20`` (inclusive ranges) or ``x=1|2|3``."""
    grid: dict[str, list[Any]] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, spec = part.partition("=")
        name, spec = name.strip(), spec.strip()
        if not sep or not name or not spec:
            raise UserError(
                f"Sweep part {part!r} is not NAME=START:STOP:STEP; write e.g. "
                "'short_period=5:50:5,long_period=20:200:20'."
            )
        if name in grid:
            raise UserError(
                f"--sweep names {name} twice; give each parameter once, e.g. "
                f"'{name}=5:50:5' or '{name}=5|10|20'."
            )
        grid[name] = _sweep_values(name, spec)
    if not grid:
        raise UserError("--sweep is empty; write e.g. 'short_period=5:50:5,long_period=20:200:20'.")
    return grid


def _number(name: str, text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            raise UserError(f"Sweep value {text!r} for {name} is not a number.") from None
        if not math.isfinite(value):
            raise UserError(f"Sweep value {text!r} for {name} is not a finite number.")
        return value


def _sweep_values(name: str, spec: str) -> list[Any]:
    if "|" in spec:
        return [_number(name, v.strip()) for v in spec.split("|")]
    pieces = spec.split(":")
    if len(pieces) == 1:
        return [_number(name, pieces[0])]
    if len(pieces) not in (2, 3):
        raise UserError(f"Sweep range {spec!r} for {name} must be START:STOP or START:STOP:STEP.")
    start, stop = _number(name, pieces[0]), _number(name, pieces[1])
    step = _number(name, pieces[2]) if len(pieces) == 3 else 1
    if step <= 0:
        raise UserError(f"Sweep step for {name} must be positive (got {step}).")
    if stop < start:
        raise UserError(f"Sweep range for {name} runs backwards ({start} to {stop}); swap them.")
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    if count > 10_000:
        raise UserError(f"Sweep range for {name} has {count} values; use a larger step.")
    if all(isinstance(v, int) for v in (start, stop, step)):
        return [start + i * step for i in range(count)]
    return [round(start + i * step, 10) for i in range(count)]


def percent(text: str) -> float:
    """An argparse type: ``5`` or ``5%`` -> 5.0 (the range is the settings' to check)."""
    try:
        return float(text.strip().rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a percent; give a number such as 5 or 5%"
        ) from None


def _exit_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The exits of ``--stop-loss``, ``--take-profit``, ``--trailing-stop`` and ``--intrabar``
    (commands without those options get none)."""
    exits = {
        "stop_loss_pct": getattr(args, "stop_loss", None),
        "take_profit_pct": getattr(args, "take_profit", None),
        "trailing_stop_pct": getattr(args, "trailing_stop", None),
    }
    intrabar = getattr(args, "intrabar", None)
    if intrabar is not None:
        if all(v is None for v in exits.values()):
            raise UserError(
                "--intrabar goes with --stop-loss, --take-profit or --trailing-stop: it says "
                "which exit a bar touching both takes."
            )
        exits["intrabar"] = intrabar
    return {k: v for k, v in exits.items() if v is not None}


def _request(args: argparse.Namespace, provider) -> Any:  # noqa: ANN001
    from kash_tui.domains.trading import BacktestRequest, BacktestSettings, FillModel

    spec = getattr(args, "executor", None)
    if spec is not None:  # checked before any work: a missing extra is one sentence
        from kash_tui.domains.trading import create_executor

        create_executor(spec, require=True)
        provider.executor_spec = spec

    portfolio = None
    if args.portfolio:
        portfolio = provider.workspace.find_portfolio(args.portfolio, args.workspace)
    size = args.position_size_pct
    if size is None:
        size = float(portfolio.position_size_pct) if portfolio else 100.0
    settings = BacktestSettings(
        initial_cash=args.cash,
        commission=args.commission,
        slippage=args.slippage,
        position_size_pct=size,
        whole_shares=args.whole_shares,
        fill_model=FillModel(args.fill),
        **_exit_settings(args),
    )
    start = parse_date(args.start)
    end = parse_date(args.end, end=True)
    if start and end and start > end:
        raise UserError(f"--start {args.start} is after --end {args.end}; swap them.")
    return BacktestRequest(
        symbol=args.symbol,
        strategy_id=args.strategy,
        timeframe=args.timeframe,
        params=_params(args.params),
        start=start,
        end=end,
        settings=settings,
        portfolio_id=portfolio.id if portfolio else None,
    )


def parse_oos(text: str | None) -> float | None:
    """``30%``, ``30`` or ``0.3`` -> 0.3; None when not given."""
    if text is None:
        return None
    raw = text.strip()
    try:
        value = float(raw.rstrip("%").strip())
    except ValueError:
        value = float("nan")
    if raw.endswith("%") or value >= 1:
        value /= 100.0
    if not (math.isfinite(value) and 0 < value < 1):
        raise UserError(
            f"--oos {text!r} is not a share of the bars above 0 % and below 100 %; "
            "give for example --oos 30%."
        )
    return value


def cmd_backtest(args: argparse.Namespace) -> int:
    if args.universe is not None or args.max_positions is not None:
        return cmd_backtest_universe(args)
    if args.symbol is None:
        raise UserError("Say what to backtest: --symbol SYM, or --universe NAME.")
    if args.sweep is None and args.rank_by is not None:
        raise UserError("--rank-by goes with --sweep.")
    _exit_settings(args)  # --intrabar without an exit is refused before anything loads
    if args.sweep is None and getattr(args, "oos", None) is not None:
        raise UserError("--oos goes with --sweep: it holds out the last bars of a sweep.")
    oos = parse_oos(getattr(args, "oos", None))
    grid = parse_sweep(args.sweep) if args.sweep is not None else None
    provider = build_provider(args)
    request = _request(args, provider)
    trading = provider.trading
    if grid is not None:
        with ProgressBar("Sweeping", unit="combinations", delay=0.0) as bar:
            sweep = trading.sweep(request, grid, rank_by=args.rank_by or "sharpe",
                                  progress=bar if bar.enabled else None, oos=oos)
        if args.json:
            print_json(sweep_json(sweep))
        else:
            print_sweep(sweep)
        return EXIT_OK
    with ProgressBar("Backtesting") as bar:
        report = trading.run_backtest(request, progress=bar if bar.enabled else None)
    if args.json:
        print_json(report_json(report))
    else:
        print_report(report, provider.market.get_instrument(report.run.symbol).exchange_tz,
                     no_trades=why_no_trades(provider, report))
    return EXIT_OK


def cmd_runs(args: argparse.Namespace) -> int:
    provider = build_provider(args, writes=False)
    portfolio_id = None
    if args.portfolio:
        portfolio_id = provider.workspace.find_portfolio(args.portfolio, args.workspace).id
    runs = provider.trading.list_runs(portfolio_id)
    walks = provider.trading.list_walk_forwards(portfolio_id)
    if args.json:
        print_json([
            {"run_id": r.id, "created_at": iso(r.created_at), "settings": settings_json(r),
             "metrics": metrics_json(r.metrics)}
            for r in runs
        ] + [walk_forward_summary_json(w) for w in walks])
        return EXIT_OK
    if walks:
        print_walk_forward_list(walks)
        if not runs:
            return EXIT_OK
        print("\nBacktest runs:")
    print_table(
        ["RUN", "CREATED (UTC)", "STRATEGY", "SYMBOL", "TF", "BARS", "RETURN %", "SHARPE"],
        [(r.id, f"{r.created_at:%Y-%m-%d %H:%M}", r.strategy_id,
          r.symbol if r.universe is None else f"{r.symbol} ({len(r.universe.symbols)} sym)",
          r.timeframe,
          r.bar_count, fmt(r.metrics.total_return_pct), fmt(r.metrics.sharpe)) for r in runs],
        "No backtest runs yet; run one with `kash backtest --symbol DEMOA --strategy sma_crossover`.",
    )
    return EXIT_OK


def cmd_run_show(args: argparse.Namespace) -> int:
    kind, run_id = parse_run_id(str(args.run_id))
    provider = build_provider(args, writes=False)
    if kind == "walkforward":
        walk = provider.trading.get_walk_forward(run_id)
        if args.json:
            print_json(walk_forward_json(walk))
        else:
            print_walk_forward(walk, "UTC" if walk.universe is not None
                               else exchange_tz(provider, walk.request.symbol))
        return EXIT_OK
    report = provider.trading.get_run(run_id)
    if report.run.universe is not None:
        show_universe_report(report, json_output=args.json)
        return EXIT_OK
    if args.json:
        print_json(report_json(report))
    else:
        print_report(report, provider.market.get_instrument(report.run.symbol).exchange_tz,
                     no_trades=why_no_trades(provider, report))
    return EXIT_OK


# -- walk-forward ----------------------------------------------------------------------------


def parse_run_id(text: str) -> tuple[str, int]:
    """``12`` or ``#12`` -> a backtest run; ``wf3`` -> walk-forward run 3."""
    raw = text.strip().lower().lstrip("#")
    kind = "backtest"
    if raw.startswith("wf"):
        kind, raw = "walkforward", raw[2:]
    if not raw.isdigit():
        raise UserError(
            f"{text!r} is not a run id; give a backtest run's number (e.g. 12) or a "
            "walk-forward's (e.g. wf3), as `kash runs list` shows them."
        )
    return kind, int(raw)


def parse_window_length(text: str, what: str) -> Any:
    from kash_tui.domains.trading import Span, TradingError

    try:
        return Span.parse(text, what)
    except TradingError as exc:
        raise UserError(str(exc)) from None


def cmd_walkforward(args: argparse.Namespace) -> int:
    if (args.symbol is None) == (args.universe is None):
        raise UserError("Say what to walk forward: --symbol SYM or --universe NAME (one of them).")
    if args.universe is None and args.max_positions is not None:
        raise UserError("--max-positions goes with --universe.")
    _check_max_positions(args)
    grid = parse_sweep(args.sweep)
    train = parse_window_length(args.train, "--train")
    test = parse_window_length(args.test, "--test")
    provider = build_provider(args)
    with ProgressBar("Walking forward", unit="jobs", delay=0.0) as bar:
        tick = bar if bar.enabled else None
        if args.universe is not None:
            request = _universe_request(args, provider)
            walk = provider.trading.walk_forward_universe(
                request, grid, train=train, test=test, anchored=args.anchored,
                rank_by=args.rank_by or "sharpe", progress=tick)
        else:
            request = _request(args, provider)
            walk = provider.trading.walk_forward(
                request, grid, train=train, test=test, anchored=args.anchored,
                rank_by=args.rank_by or "sharpe", progress=tick)
    request = walk.request
    if args.json:
        print_json(walk_forward_json(walk))
    else:
        print_walk_forward(walk, "UTC" if walk.universe is not None
                           else exchange_tz(provider, request.symbol))
    return EXIT_OK


# -- a universe ---------------------------------------------------------------------------


def _check_max_positions(args: argparse.Namespace) -> None:
    if args.max_positions is not None and args.max_positions < 1:
        raise UserError(
            f"--max-positions must be 1 or more (got {args.max_positions}); give e.g. "
            "--max-positions 5."
        )


def _universe_request(args: argparse.Namespace, provider) -> Any:  # noqa: ANN001
    from kash_tui.domains.trading import UniverseBacktestRequest

    single = _request(args, provider)  # the same settings and checks as one symbol
    return UniverseBacktestRequest(
        universe=args.universe, workspace=args.workspace, strategy_id=single.strategy_id,
        timeframe=single.timeframe, params=single.params, start=single.start, end=single.end,
        settings=single.settings, max_positions=args.max_positions,
        portfolio_id=single.portfolio_id,
    )


def sweep_json(sweep: Any) -> dict[str, Any]:  # noqa: ANN401
    """A sweep's JSON (one symbol, or a universe with ``"universe"`` in its settings)."""
    request = sweep.request
    settings: dict[str, Any] = {
        "symbol": request.symbol, "timeframe": request.timeframe,
        "strategy": request.strategy_id, "base_params": dict(request.params),
        "start": iso(request.start), "end": iso(request.end),
        **{k: v for k, v in sweep.request.settings.to_dict().items()},
    }
    if sweep.universe is not None:
        u = sweep.universe
        settings["universe"] = {"name": u.universe, "workspace": u.workspace,
                                "symbols": list(u.symbols), "max_positions": u.max_positions}
    return {
        "settings": settings,
        "rank_by": sweep.rank_by,
        "grid": sweep.grid,
        "results": [sweep_row_json(r, sweep.metric) for r in sweep.rows],
        "skipped": [{"params": p, "reason": why} for p, why in sweep.skipped],
        "oos": oos_json(sweep.oos),
    }


def cmd_backtest_universe(args: argparse.Namespace) -> int:
    if args.universe is None:
        raise UserError("--max-positions goes with --universe.")
    if args.symbol is not None:
        raise UserError("Give --symbol or --universe, not both.")
    if args.sweep is None and args.rank_by is not None:
        raise UserError("--rank-by goes with --sweep.")
    if args.sweep is None and getattr(args, "oos", None) is not None:
        raise UserError("--oos goes with --sweep: it holds out the last bars of a sweep.")
    oos = parse_oos(getattr(args, "oos", None))
    grid = parse_sweep(args.sweep) if args.sweep is not None else None
    _check_max_positions(args)
    provider = build_provider(args)
    request = _universe_request(args, provider)
    if grid is not None:
        with ProgressBar("Sweeping universe", unit="combinations", delay=0.0) as bar:
            sweep = provider.trading.sweep_universe(
                request, grid, rank_by=args.rank_by or "sharpe",
                progress=bar if bar.enabled else None, oos=oos)
        if args.json:
            print_json(sweep_json(sweep))
        else:
            u = sweep.universe
            print(f"Universe {u.universe} ({len(u.symbols)} symbols), at most "
                  f"{u.max_positions} positions; each cell is a whole universe run with shared "
                  "cash.")
            print_sweep(sweep)
        return EXIT_OK
    with ProgressBar("Backtesting universe") as bar:
        report = provider.trading.run_universe_backtest(
            request, progress=bar if bar.enabled else None)
    show_universe_report(report, json_output=args.json)
    return EXIT_OK
