"""CLI commands of backtests: ``kash backtest``, ``kash runs`` (strategies: ``cli/strategies.py``).

No Textual on this path: ``kash backtest`` on 10k bars must finish, whole process, in under 1 s.
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kash_tui.cli.common import (
    EXIT_OK,
    ProgressBar,
    UserError,
    build_provider,
    parse_date,
    print_json,
    print_table,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from kash_tui.domains.trading import BacktestReport, BacktestRun, SweepReport


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _num(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value


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


def exits_text(run: BacktestRun) -> list[str]:
    """The lines that describe a run's exits and how much it rests on the intrabar order
    (none for a run without exits)."""
    s = run.settings
    if not s.has_exits:
        return []
    parts = [f"{label} {value:g}%" for label, value in (
        ("stop loss", s.stop_loss_pct), ("take profit", s.take_profit_pct),
        ("trailing stop", s.trailing_stop_pct)) if value is not None]
    first = "stop" if s.intrabar.value == "pessimistic" else "target"
    count = run.ambiguous_bars
    lines = [f"Exits: {', '.join(parts)}",
             f"Intrabar: {s.intrabar.value} (a bar touching stop and target takes the {first}); "
             f"{count} ambiguous bar{'' if count == 1 else 's'}"]
    sens = run.sensitivity
    if sens is not None:
        lines.append(
            f"Sensitivity: {s.intrabar.value} {_fmt(run.metrics.total_return_pct, ' %')} in "
            f"{run.metrics.round_trips} round trips, {sens.intrabar.value} "
            f"{_fmt(sens.total_return_pct, ' %')} in {sens.round_trips}"
        )
    return lines


def exits_json(run: BacktestRun) -> dict[str, Any]:
    """The ambiguous bars and the other order's figures (``sensitivity``: null without both a
    stop and a target)."""
    sens = run.sensitivity
    return {
        "ambiguous_bars": run.ambiguous_bars,
        "sensitivity": None if sens is None else {
            "intrabar": run.settings.intrabar.value,
            "total_return_pct": _num(run.metrics.total_return_pct),
            "round_trips": run.metrics.round_trips,
            "other_intrabar": sens.intrabar.value,
            "other_total_return_pct": _num(sens.total_return_pct),
            "other_round_trips": sens.round_trips,
            "other_ambiguous_bars": sens.ambiguous_bars,
        },
    }


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


def settings_json(run: BacktestRun) -> dict[str, Any]:
    s = run.settings
    return {
        "symbol": run.symbol,
        "timeframe": run.timeframe,
        "strategy": run.strategy_id,
        "params": run.params,
        "start": iso(run.requested_start),
        "end": iso(run.requested_end),
        "first_bar": iso(run.first_bar),
        "last_bar": iso(run.last_bar),
        "bars": run.bar_count,
        "initial_cash": s.initial_cash,
        "commission": s.commission,
        "slippage": s.slippage,
        "position_size_pct": s.position_size_pct,
        "whole_shares": s.whole_shares,
        "fill_model": s.fill_model.value,
        "fill_model_optimistic": s.fill_model.optimistic,
        "periods_per_year": s.periods_per_year,
        "portfolio_id": run.portfolio_id,
        "stop_loss_pct": s.stop_loss_pct,
        "take_profit_pct": s.take_profit_pct,
        "trailing_stop_pct": s.trailing_stop_pct,
        "intrabar": s.intrabar.value,
        "universe": None if run.universe is None else {
            "name": run.universe.universe, "workspace": run.universe.workspace,
            "symbols": list(run.universe.symbols), "max_positions": run.universe.max_positions},
    }


def metrics_json(metrics: Any) -> dict[str, Any]:
    return {k: _num(v) for k, v in metrics.to_dict().items()}


def _iso_times(report: BacktestReport, indices: Any) -> list[str]:
    """ISO text (``...Z``, whole seconds) of the bars at ``indices``, formatted by numpy in one
    go: a million-bar run has tens of thousands of fills and signals."""
    import numpy as np

    at = np.asarray(indices, dtype=np.int64)
    if not at.size:
        return []
    stamps = np.asarray(report.timestamps, dtype=np.int64)[at] // 1_000_000_000
    return np.datetime_as_string(stamps.astype("datetime64[s]"), unit="s", timezone="UTC").tolist()


def _columns_of(report: BacktestReport) -> tuple[Any, Any, Any]:
    """The report's fills, round trips and signals as numpy columns (built from the objects for
    a report that has none)."""
    import numpy as np

    from kash_tui.domains.trading import FillColumns, RoundTripColumns, SignalColumns

    fills, trips, signals = report.fill_columns, report.round_trip_columns, report.signal_columns
    if fills is None:
        rows = list(report.fills)
        fills = FillColumns(
            bar_index=np.array([f.bar_index for f in rows], dtype=np.int64),
            is_buy=np.array([f.side == "buy" for f in rows], dtype=bool),
            qty=np.array([f.qty for f in rows], dtype=np.float64),
            price=np.array([f.price for f in rows], dtype=np.float64),
            commission=np.array([f.commission for f in rows], dtype=np.float64),
        )
    if trips is None:
        rows = list(report.round_trips)
        trips = RoundTripColumns(
            entry_index=np.array([r.entry_index for r in rows], dtype=np.int64),
            exit_index=np.array([-1 if r.exit_index is None else r.exit_index for r in rows],
                                dtype=np.int64),
            entry_price=np.array([r.entry_price for r in rows], dtype=np.float64),
            exit_price=np.array([np.nan if r.exit_price is None else r.exit_price
                                 for r in rows], dtype=np.float64),
            qty=np.array([r.qty for r in rows], dtype=np.float64),
            pnl=np.array([r.pnl for r in rows], dtype=np.float64),
            return_pct=np.array([r.return_pct for r in rows], dtype=np.float64),
            is_open=np.array([r.is_open for r in rows], dtype=bool),
        )
    if signals is None:
        rows = list(report.signals)
        signals = SignalColumns(
            index=np.array([p.index for p in rows], dtype=np.int64),
            kind=np.array([1 if p.type.value == "buy" else -1 for p in rows], dtype=np.int8),
            price=np.array([p.price for p in rows], dtype=np.float64),
            timestamps=report.timestamps,
        )
    return fills, trips, signals


def _finite(values: Any) -> list[float | None]:
    """A float column as JSON values: NaN and infinities as null."""
    import numpy as np

    arr = np.asarray(values, dtype=np.float64)
    out: list[float | None] = arr.tolist()
    for i in np.flatnonzero(~np.isfinite(arr)).tolist():
        out[i] = None
    return out


def report_json(report: BacktestReport) -> dict[str, Any]:
    """The whole run, every round trip, fill and signal: built column by column (a
    million-bar run has tens of thousands of each), the same fields as one object per row."""
    fills, trips, signals = _columns_of(report)
    open_ = trips.is_open.tolist()
    entry_at = _iso_times(report, trips.entry_index)
    exit_at = _iso_times(report, trips.exit_index[~trips.is_open])
    exits = iter(exit_at)
    exit_times = [None if o else next(exits) for o in open_]
    exit_prices = [None if o else p for o, p in zip(open_, trips.exit_price.tolist(),
                                                     strict=True)]
    trip_rows = [
        {"entry_time": et, "exit_time": xt, "entry_price": ep, "exit_price": xp, "qty": q,
         "pnl": pnl, "return_pct": ret, "open": o}
        for et, xt, ep, xp, q, pnl, ret, o in zip(
            entry_at, exit_times, trips.entry_price.tolist(), exit_prices, trips.qty.tolist(),
            trips.pnl.tolist(), trips.return_pct.tolist(), open_, strict=True)
    ]
    from kash_tui.domains.trading import FillReason

    reasons = [r.value for r in FillReason]
    fill_rows = [
        {"time": t, "side": "buy" if b else "sell", "qty": q, "price": p, "commission": c,
         "reason": reasons[r]}
        for t, b, q, p, c, r in zip(
            _iso_times(report, fills.bar_index), fills.is_buy.tolist(), fills.qty.tolist(),
            fills.price.tolist(), fills.commission.tolist(), fills.reason.tolist(), strict=True)
    ]
    signal_rows = [
        {"time": t, "type": "buy" if k > 0 else "sell", "price": p}
        for t, k, p in zip(_iso_times(report, signals.index), signals.kind.tolist(),
                           _finite(signals.price), strict=True)
    ]
    return {
        "run_id": report.run.id,
        "settings": settings_json(report.run),
        "metrics": metrics_json(report.run.metrics),
        "exits": exits_json(report.run),
        "round_trips": trip_rows,
        "fills": fill_rows,
        "signals": signal_rows,
    }


def _fmt(value: float | int | None, suffix: str = "", digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return f"{value}{suffix}"
    return f"{value:,.{digits}f}{suffix}"


METRIC_ROWS: tuple[tuple[str, str, str], ...] = (
    ("Final equity", "final_equity", ""),
    ("Total return", "total_return_pct", " %"),
    ("Buy & hold return", "buy_and_hold_return_pct", " %"),
    ("CAGR", "cagr_pct", " %"),
    ("Max drawdown", "max_drawdown_pct", " %"),
    ("Sharpe", "sharpe", ""),
    ("Sortino", "sortino", ""),
    ("Win rate", "win_rate_pct", " %"),
    ("Profit factor", "profit_factor", ""),
    ("Round trips", "round_trips", ""),
    ("Exposure", "exposure_pct", " %"),
)


def _local_formatter(tz: str, timeframe: str) -> Callable[[datetime], str]:
    """Times as the trader reads them: in the exchange's zone; daily bars as session dates."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    if timeframe in ("1Day", "1Week"):
        return lambda when: f"{when.astimezone(zone):%Y-%m-%d}"
    return lambda when: f"{when.astimezone(zone):%Y-%m-%d %H:%M}"


def print_report(
    report: BacktestReport, tz: str = "UTC", limit: int = 30, no_trades: str = ""
) -> None:
    run = report.run
    s = run.settings
    show_first = _local_formatter(tz, run.timeframe)(run.first_bar)
    show_last = _local_formatter(tz, run.timeframe)(run.last_bar)
    fill = "next bar's open" if not s.fill_model.optimistic else "same bar's close (OPTIMISTIC)"
    print(
        f"Run #{run.id}: {run.strategy_id} {json.dumps(run.params, sort_keys=True)} on "
        f"{run.symbol} {run.timeframe}, {run.bar_count} bars "
        f"{show_first} to {show_last}"
    )
    print(
        f"Cash {s.initial_cash:,.2f}, commission {s.commission:g}, slippage {s.slippage:g}, "
        f"size {s.position_size_pct:g}% {'whole shares' if s.whole_shares else 'fractional'}, "
        f"fills at {fill}"
    )
    for line in exits_text(run):
        print(line)
    print()
    m = run.metrics
    print_table(["METRIC", "VALUE"],
                [(label, _fmt(getattr(m, key), suffix)) for label, key, suffix in METRIC_ROWS], "")
    print()
    t = report.time
    show = _local_formatter(tz, run.timeframe)
    zone = "" if run.timeframe in ("1Day", "1Week") else f" ({tz})"
    trips = report.round_trips
    first = max(len(trips) - limit, 0)
    by = _exit_reasons(report, first) if s.has_exits else None
    print_table(
        [f"ENTRY{zone}", f"EXIT{zone}", "QTY", "ENTRY PRICE", "EXIT PRICE", "P&L", "RETURN %",
         *(["EXIT BY"] if by is not None else [])],
        [
            (show(t(r.entry_index)),
             "open" if r.exit_index is None else show(t(r.exit_index)),
             f"{r.qty:,.4f}", f"{r.entry_price:,.4f}",
             "-" if r.exit_price is None else f"{r.exit_price:,.4f}",
             f"{r.pnl:,.2f}", f"{r.return_pct:,.2f}",
             *([by[k]] if by is not None else []))
            for k, r in enumerate(trips[first:])
        ],
        no_trades or "No round trips: the strategy never entered a position.",
    )
    if len(trips) > limit:
        print(f"(the last {limit} of {len(trips)} round trips; use --json for all)")


def _exit_reasons(report: BacktestReport, first: int) -> list[str]:
    """Why each round trip from number ``first`` on ended ("-" while open): its exit is the
    fill after its entry (buys and sells alternate)."""
    from kash_tui.domains.trading import FillReason

    fills, _trips, _signals = _columns_of(report)
    names = [r.value for r in FillReason]
    codes = fills.reason[2 * first + 1 :: 2].tolist()
    count = len(report.round_trips) - first
    return [names[c] for c in codes] + ["-"] * (count - len(codes))


def print_sweep(report: SweepReport, limit: int = 20) -> None:
    names = list(report.grid)
    metric = report.metric
    ranked = f"the worst {metric} of each cell's neighbourhood" if report.robust else metric
    split = " in sample" if report.oos is not None else ""
    print(
        f"{len(report.rows)} combinations ranked by {ranked}{split} "
        f"({len(report.skipped)} invalid skipped)."
    )
    label = metric.upper().replace("_PCT", " %").replace("_", " ")
    print_table(
        [*(n.upper() for n in names), "RETURN %", "SHARPE", "MAX DD %", "TRIPS", "WIN %",
         f"WORST {label}", f"MEDIAN {label}", "NEAR"],
        [
            (*(row.params.get(n) for n in names), _fmt(row.metrics.total_return_pct),
             _fmt(row.metrics.sharpe), _fmt(row.metrics.max_drawdown_pct),
             row.metrics.round_trips, _fmt(row.metrics.win_rate_pct),
             _fmt(row.robust_worst), _fmt(row.robust_median), row.neighbours)
            for row in report.rows[:limit]
        ],
        "",
    )
    if len(report.rows) > limit:
        print(f"... and {len(report.rows) - limit} more (use --json for all).")
    best, robust = report.best_raw(), report.best_robust()
    if best is not None and robust is not None and best is not robust:
        print(f"Best {metric}: {json.dumps(best.params, sort_keys=True)}; best robust "
              f"(worst of its neighbours): {json.dumps(robust.params, sort_keys=True)}.")
    if report.oos is not None:
        print_oos(report.oos)


def print_oos(oos: Any) -> None:
    """The chosen cell in sample and out of sample, side by side."""
    day = "%Y-%m-%d"
    print(
        f"\nChosen on the in-sample bars only: {json.dumps(oos.params, sort_keys=True)}. "
        f"Out of sample it trades from a flat start; its indicators see the bars before."
    )
    print_table(
        ["METRIC",
         f"IN SAMPLE ({oos.in_sample_bars} bars {oos.in_sample_first:{day}}.."
         f"{oos.in_sample_last:{day}})",
         f"OUT OF SAMPLE ({oos.out_of_sample_bars} bars {oos.out_of_sample_first:{day}}.."
         f"{oos.out_of_sample_last:{day}})"],
        [(label, _fmt(getattr(oos.in_sample, key), suffix),
          _fmt(getattr(oos.out_of_sample, key), suffix)) for label, key, suffix in METRIC_ROWS],
        "",
    )


def sweep_row_json(row: Any, metric: str) -> dict[str, Any]:
    return {"params": row.params, "metrics": metrics_json(row.metrics),
            "robust": {"metric": metric, "worst": _num(row.robust_worst),
                       "median": _num(row.robust_median), "neighbours": row.neighbours}}


def oos_json(oos: Any) -> dict[str, Any] | None:
    if oos is None:
        return None
    return {
        "fraction": oos.fraction, "params": oos.params,
        "in_sample": {"bars": oos.in_sample_bars, "first_bar": iso(oos.in_sample_first),
                      "last_bar": iso(oos.in_sample_last),
                      "metrics": metrics_json(oos.in_sample)},
        "out_of_sample": {"bars": oos.out_of_sample_bars,
                          "first_bar": iso(oos.out_of_sample_first),
                          "last_bar": iso(oos.out_of_sample_last),
                          "metrics": metrics_json(oos.out_of_sample)},
    }


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


def _why_no_trades(provider: Any, report: BacktestReport) -> str:
    """When a run has no round trips because its indicators never got a value (too few bars
    for their lookback), the sentence that says so; else "" (the plain "never entered")."""
    if report.round_trips:
        return ""
    import numpy as np

    from kash_tui.domains.market import Timeframe

    run = report.run
    try:
        strategy = provider.strategy.create_with_params(run.strategy_id, run.params)
        bars = provider.market.load_bars(run.symbol, Timeframe.parse(run.timeframe),
                                         run.first_bar, run.last_bar)
        unready = [i.name for i in strategy.indicators(bars)
                   if len(i.values) and bool(np.isnan(i.values).all())]
    except Exception:  # noqa: BLE001 - only a hint; the run itself is stored and shown
        return ""
    if not unready:
        return ""
    return (
        f"No round trips: {run.bar_count} bars are too few for the strategy's lookback "
        f"({', '.join(unready)} never got a value); load more history, widen --start/--end "
        "or use shorter periods."
    )


def cmd_backtest(args: argparse.Namespace) -> int:
    if args.universe is not None or args.max_positions is not None:
        from kash_tui.cli.universe import cmd_backtest_universe

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
            print_json(
                {
                    "settings": {
                        "symbol": request.symbol, "timeframe": request.timeframe,
                        "strategy": request.strategy_id, "base_params": dict(request.params),
                        "start": iso(request.start), "end": iso(request.end),
                        **{k: v for k, v in sweep.request.settings.to_dict().items()},
                    },
                    "rank_by": sweep.rank_by,
                    "grid": sweep.grid,
                    "results": [sweep_row_json(r, sweep.metric) for r in sweep.rows],
                    "skipped": [{"params": p, "reason": why} for p, why in sweep.skipped],
                    "oos": oos_json(sweep.oos),
                }
            )
        else:
            print_sweep(sweep)
        return EXIT_OK
    with ProgressBar("Backtesting") as bar:
        report = trading.run_backtest(request, progress=bar if bar.enabled else None)
    if args.json:
        print_json(report_json(report))
    else:
        print_report(report, provider.market.get_instrument(report.run.symbol).exchange_tz,
                     no_trades=_why_no_trades(provider, report))
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
          r.bar_count, _fmt(r.metrics.total_return_pct), _fmt(r.metrics.sharpe)) for r in runs],
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
            print_walk_forward(walk, _exchange_tz(provider, walk.request.symbol))
        return EXIT_OK
    report = provider.trading.get_run(run_id)
    if report.run.universe is not None:
        from kash_tui.cli.universe import show_universe_report

        show_universe_report(report, json_output=args.json)
        return EXIT_OK
    if args.json:
        print_json(report_json(report))
    else:
        print_report(report, provider.market.get_instrument(report.run.symbol).exchange_tz,
                     no_trades=_why_no_trades(provider, report))
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


def _exchange_tz(provider: Any, symbol: str) -> str:
    try:
        return provider.market.get_instrument(symbol).exchange_tz
    except Exception:  # noqa: BLE001 - only for showing times
        return "UTC"


def parse_window_length(text: str, what: str) -> Any:
    from kash_tui.domains.trading import Span, TradingError

    try:
        return Span.parse(text, what)
    except TradingError as exc:
        raise UserError(str(exc)) from None


def walk_forward_summary_json(w: Any) -> dict[str, Any]:
    return {
        "run_id": f"wf{w.id}", "kind": "walkforward", "created_at": iso(w.created_at),
        "settings": {"symbol": w.symbol, "timeframe": w.timeframe, "strategy": w.strategy_id,
                     "train": w.train.spec, "test": w.test.spec, "anchored": w.anchored,
                     "rank_by": w.rank_by, "first_bar": iso(w.first_bar),
                     "last_bar": iso(w.last_bar), "portfolio_id": w.portfolio_id},
        "windows": w.window_count,
        "metrics": metrics_json(w.metrics),
        "in_sample_cagr_pct": _num(w.in_sample_cagr_pct),
        "efficiency": _num(w.efficiency),
    }


def walk_forward_json(w: Any) -> dict[str, Any]:
    """A walk-forward whole: settings, windows, stitched metrics and curve."""
    request = w.request
    return {
        "run_id": f"wf{w.id}",
        "kind": "walkforward",
        "created_at": iso(w.created_at),
        "settings": {
            "symbol": request.symbol, "timeframe": request.timeframe,
            "strategy": request.strategy_id, "base_params": dict(request.params),
            "start": iso(request.start), "end": iso(request.end),
            "first_bar": iso(w.first_bar), "last_bar": iso(w.last_bar), "bars": w.bar_count,
            "train": w.train.spec, "test": w.test.spec, "anchored": w.anchored,
            "rank_by": w.rank_by, "portfolio_id": w.portfolio_id,
            **request.settings.to_dict(),
        },
        "grid": w.grid,
        "skipped": w.skipped,
        "windows": [
            {"number": x.number,
             "train": {"first_bar": iso(x.train_first), "last_bar": iso(x.train_last),
                       "bars": x.train_end - x.train_start, "metrics": metrics_json(x.train)},
             "test": {"first_bar": iso(x.test_first), "last_bar": iso(x.test_last),
                      "bars": x.test_end - x.test_start, "metrics": metrics_json(x.test)},
             "params": x.params, "candidates": x.candidates, "efficiency": _num(x.efficiency)}
            for x in w.windows
        ],
        "metrics": metrics_json(w.metrics),
        "in_sample_cagr_pct": _num(w.in_sample_cagr_pct),
        "efficiency": _num(w.efficiency),
        "equity": {
            "times": _iso_of(w.timestamps),
            "values": _finite(w.equity),
        },
    }


def _iso_of(timestamps: Any) -> list[str]:
    import numpy as np

    stamps = np.asarray(timestamps, dtype=np.int64) // 1_000_000_000
    if not stamps.size:
        return []
    return np.datetime_as_string(stamps.astype("datetime64[s]"), unit="s", timezone="UTC").tolist()


def print_walk_forward(w: Any, tz: str = "UTC") -> None:
    request = w.request
    show = _local_formatter(tz, request.timeframe)
    kind = "anchored" if w.anchored else "rolling"
    print(
        f"Walk-forward wf{w.id}: {request.strategy_id} on {request.symbol} {request.timeframe}, "
        f"{len(w.windows)} {kind} windows of {w.train} training + {w.test} test, "
        f"ranked by {w.rank_by}; {w.bar_count} bars {show(w.first_bar)} to {show(w.last_bar)}"
    )
    names = list(w.grid)
    print_table(
        ["#", "TRAIN", "TEST", *(n.upper() for n in names), "IS RETURN %", "OOS RETURN %",
         "IS SHARPE", "OOS SHARPE", "WFE"],
        [(x.number, f"{show(x.train_first)}..{show(x.train_last)}",
          f"{show(x.test_first)}..{show(x.test_last)}", *(x.params.get(n) for n in names),
          _fmt(x.train.total_return_pct), _fmt(x.test.total_return_pct), _fmt(x.train.sharpe),
          _fmt(x.test.sharpe), _fmt(x.efficiency))
         for x in w.windows],
        "",
    )
    print("\nStitched out of sample (each test part starts with the equity the one before "
          "ended with):")
    print_table(["METRIC", "VALUE"],
                [(label, _fmt(getattr(w.metrics, key), suffix))
                 for label, key, suffix in METRIC_ROWS]
                + [("In-sample CAGR (mean)", _fmt(w.in_sample_cagr_pct, " %")),
                   ("Walk-forward efficiency", _fmt(w.efficiency))], "")


def print_walk_forward_list(walks: list[Any]) -> None:
    print("Walk-forward runs (kash runs show wfN):")
    print_table(
        ["RUN", "CREATED (UTC)", "STRATEGY", "SYMBOL", "TF", "WINDOWS", "TRAIN/TEST",
         "OOS RETURN %", "OOS SHARPE", "WFE"],
        [(f"wf{w.id}", f"{w.created_at:%Y-%m-%d %H:%M}", w.strategy_id, w.symbol, w.timeframe,
          w.window_count, f"{w.train}/{w.test}{' anchored' if w.anchored else ''}",
          _fmt(w.metrics.total_return_pct), _fmt(w.metrics.sharpe), _fmt(w.efficiency))
         for w in walks],
        "",
    )


def cmd_walkforward(args: argparse.Namespace) -> int:
    grid = parse_sweep(args.sweep)
    train = parse_window_length(args.train, "--train")
    test = parse_window_length(args.test, "--test")
    provider = build_provider(args)
    request = _request(args, provider)
    with ProgressBar("Walking forward", unit="jobs", delay=0.0) as bar:
        walk = provider.trading.walk_forward(
            request, grid, train=train, test=test, anchored=args.anchored,
            rank_by=args.rank_by or "sharpe", progress=bar if bar.enabled else None)
    if args.json:
        print_json(walk_forward_json(walk))
    else:
        print_walk_forward(walk, _exchange_tz(provider, request.symbol))
    return EXIT_OK
