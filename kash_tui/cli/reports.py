"""How the CLI shows stored runs: the text report, the JSON of ``--json``, sweeps, out-of-sample
results, walk-forwards and universe runs. Shared by ``kash backtest``, ``kash runs``,
``kash walkforward`` and ``kash runs export`` (like ``common``, it imports no command module).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kash_tui.cli.common import print_json, print_table

if TYPE_CHECKING:
    from collections.abc import Callable

    from kash_tui.domains.trading import BacktestReport, BacktestRun, SweepReport


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def num(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value


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
            f"Sensitivity: {s.intrabar.value} {fmt(run.metrics.total_return_pct, ' %')} in "
            f"{run.metrics.round_trips} round trips, {sens.intrabar.value} "
            f"{fmt(sens.total_return_pct, ' %')} in {sens.round_trips}"
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
            "total_return_pct": num(run.metrics.total_return_pct),
            "round_trips": run.metrics.round_trips,
            "other_intrabar": sens.intrabar.value,
            "other_total_return_pct": num(sens.total_return_pct),
            "other_round_trips": sens.round_trips,
            "other_ambiguous_bars": sens.ambiguous_bars,
        },
    }


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
    return {k: num(v) for k, v in metrics.to_dict().items()}


def _iso_times(report: BacktestReport, indices: Any) -> list[str]:
    """ISO text (``...Z``, whole seconds) of the bars at ``indices``, formatted by numpy in one
    go: a million-bar run has tens of thousands of fills and signals."""
    import numpy as np

    at = np.asarray(indices, dtype=np.int64)
    if not at.size:
        return []
    stamps = np.asarray(report.timestamps, dtype=np.int64)[at] // 1_000_000_000
    return np.datetime_as_string(stamps.astype("datetime64[s]"), unit="s", timezone="UTC").tolist()


def columns_of(report: BacktestReport) -> tuple[Any, Any, Any]:
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
    fills, trips, signals = columns_of(report)
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


def fmt(value: float | int | None, suffix: str = "", digits: int = 2) -> str:
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
                [(label, fmt(getattr(m, key), suffix)) for label, key, suffix in METRIC_ROWS], "")
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

    fills, _trips, _signals = columns_of(report)
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
            (*(row.params.get(n) for n in names), fmt(row.metrics.total_return_pct),
             fmt(row.metrics.sharpe), fmt(row.metrics.max_drawdown_pct),
             row.metrics.round_trips, fmt(row.metrics.win_rate_pct),
             fmt(row.robust_worst), fmt(row.robust_median), row.neighbours)
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
        [(label, fmt(getattr(oos.in_sample, key), suffix),
          fmt(getattr(oos.out_of_sample, key), suffix)) for label, key, suffix in METRIC_ROWS],
        "",
    )


def sweep_row_json(row: Any, metric: str) -> dict[str, Any]:
    return {"params": row.params, "metrics": metrics_json(row.metrics),
            "robust": {"metric": metric, "worst": num(row.robust_worst),
                       "median": num(row.robust_median), "neighbours": row.neighbours}}


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


def why_no_trades(provider: Any, report: BacktestReport) -> str:
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


def exchange_tz(provider: Any, symbol: str) -> str:
    try:
        return provider.market.get_instrument(symbol).exchange_tz
    except Exception:  # noqa: BLE001 - only for showing times
        return "UTC"


def walk_forward_summary_json(w: Any) -> dict[str, Any]:
    return {
        "run_id": f"wf{w.id}", "kind": "walkforward", "created_at": iso(w.created_at),
        "settings": {"symbol": w.symbol, "timeframe": w.timeframe, "strategy": w.strategy_id,
                     "train": w.train.spec, "test": w.test.spec, "anchored": w.anchored,
                     "rank_by": w.rank_by, "first_bar": iso(w.first_bar),
                     "last_bar": iso(w.last_bar), "portfolio_id": w.portfolio_id,
                     "universe": _universe_of(w)},
        "windows": w.window_count,
        "metrics": metrics_json(w.metrics),
        "in_sample_cagr_pct": num(w.in_sample_cagr_pct),
        "efficiency": num(w.efficiency),
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
            "universe": _universe_of(w),
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
             "params": x.params, "candidates": x.candidates, "efficiency": num(x.efficiency)}
            for x in w.windows
        ],
        "metrics": metrics_json(w.metrics),
        "in_sample_cagr_pct": num(w.in_sample_cagr_pct),
        "efficiency": num(w.efficiency),
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


def _walked(w: Any, symbol: str) -> str:  # noqa: ANN401
    """What a walk-forward ran on: the symbol, or ``universe NAME (N symbols, at most M)``."""
    u = getattr(w, "universe", None)
    if u is None:
        return symbol
    return f"universe {u.universe} ({len(u.symbols)} symbols, at most {u.max_positions} open)"


def _universe_of(w: Any) -> dict[str, Any] | None:  # noqa: ANN401
    u = getattr(w, "universe", None)
    if u is None:
        return None
    return {"name": u.universe, "workspace": u.workspace, "symbols": list(u.symbols),
            "max_positions": u.max_positions}


def print_walk_forward(w: Any, tz: str = "UTC") -> None:
    request = w.request
    show = _local_formatter(tz, request.timeframe)
    kind = "anchored" if w.anchored else "rolling"
    print(
        f"Walk-forward wf{w.id}: {request.strategy_id} on {_walked(w, request.symbol)} "
        f"{request.timeframe}, {len(w.windows)} {kind} windows of {w.train} training + "
        f"{w.test} test, ranked by {w.rank_by}; {w.bar_count} "
        f"{'times' if w.universe is not None else 'bars'} {show(w.first_bar)} to "
        f"{show(w.last_bar)}"
    )
    names = list(w.grid)
    print_table(
        ["#", "TRAIN", "TEST", *(n.upper() for n in names), "IS RETURN %", "OOS RETURN %",
         "IS SHARPE", "OOS SHARPE", "WFE"],
        [(x.number, f"{show(x.train_first)}..{show(x.train_last)}",
          f"{show(x.test_first)}..{show(x.test_last)}", *(x.params.get(n) for n in names),
          fmt(x.train.total_return_pct), fmt(x.test.total_return_pct), fmt(x.train.sharpe),
          fmt(x.test.sharpe), fmt(x.efficiency))
         for x in w.windows],
        "",
    )
    print("\nStitched out of sample (each test part starts with the equity the one before "
          "ended with):")
    print_table(["METRIC", "VALUE"],
                [(label, fmt(getattr(w.metrics, key), suffix))
                 for label, key, suffix in METRIC_ROWS]
                + [("In-sample CAGR (mean)", fmt(w.in_sample_cagr_pct, " %")),
                   ("Walk-forward efficiency", fmt(w.efficiency))], "")


def print_walk_forward_list(walks: list[Any]) -> None:
    print("Walk-forward runs (kash runs show wfN):")
    print_table(
        ["RUN", "CREATED (UTC)", "STRATEGY", "SYMBOL", "TF", "WINDOWS", "TRAIN/TEST",
         "OOS RETURN %", "OOS SHARPE", "WFE"],
        [(f"wf{w.id}", f"{w.created_at:%Y-%m-%d %H:%M}", w.strategy_id,
          w.symbol if w.universe is None else f"{w.symbol} ({len(w.universe.symbols)} sym)",
          w.timeframe,
          w.window_count, f"{w.train}/{w.test}{' anchored' if w.anchored else ''}",
          fmt(w.metrics.total_return_pct), fmt(w.metrics.sharpe), fmt(w.efficiency))
         for w in walks],
        "",
    )


# -- universe runs -------------------------------------------------------------------------


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

    data = report_json(report)
    symbols = report.run.universe.symbols
    for key, which in (("fills", report.fill_symbols), ("round_trips", report.round_trip_symbols),
                       ("signals", report.signal_symbols)):
        for row, k in zip(data[key], which.tolist(), strict=True):
            row["symbol"] = symbols[k]
    data["universe"] = universe_json(report.run)
    data["breakdown"] = [{k: num(v) if isinstance(v, float) else v for k, v in asdict(b).items()}
                         for b in report.run.universe.breakdown]
    return data


def print_universe_report(report, limit: int = 30) -> None:  # noqa: ANN001
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
                [(label, fmt(getattr(m, key), suffix)) for label, key, suffix in METRIC_ROWS], "")
    print()
    rows = sorted(u.breakdown, key=lambda b: -b.pnl)
    print_table(
        ["SYMBOL", "BARS", "TRIPS", "SKIPPED", "P&L", "CONTRIB %", "WIN %", "EXPOSURE %",
         "B&H %"],
        [(b.symbol, b.bars, b.round_trips, b.skipped_no_slot + b.skipped_no_cash,
          fmt(b.pnl), fmt(b.contribution_pct), fmt(b.win_rate_pct), fmt(b.exposure_pct),
          fmt(b.buy_and_hold_return_pct)) for b in rows[:limit]],
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
