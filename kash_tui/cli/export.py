"""``kash runs export ID --format csv|html [--out FILE]``: a stored run as CSV files (its fills
and its round trips) or as one self-contained HTML report (metrics, equity and drawdown as inline
SVG, round trips, settings, the fill-assumption sensitivity, and a universe run's per-symbol
breakdown). The HTML needs no network: no script, no font, no stylesheet from elsewhere.
A walk-forward (``wfN``) exports its windows (CSV: one row per window, and the stitched equity)
or one page with the stitched equity and drawdown, the windows and the efficiency.

Numbers in the CSV files are written with ``repr`` (every digit of the float64 the run holds);
the HTML shows them rounded and keeps the exact value in each cell's ``data-value``.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kash_tui.cli.common import EXIT_OK, UserError, build_provider

# The HTML lists at most this many round trips (the newest); the CSV has them all.
HTML_MAX_TRIPS = 5_000
# Points of the equity and drawdown curves: each of this many buckets keeps its first, lowest
# and highest point, so a million-bar curve keeps its shape in a page of a few hundred kB.
CURVE_BUCKETS = 1_000


def _run_number(text: str) -> tuple[str, int]:
    """``12`` -> ("run", 12); ``wf3`` -> ("wf", 3)."""
    raw = str(text).strip().lower().lstrip("#")
    kind = "run"
    if raw.startswith("wf"):
        kind, raw = "wf", raw[2:]
    if not raw.isdigit():
        raise UserError(
            f"{text!r} is not a run id; give a backtest run's number (e.g. 12) or a "
            "walk-forward's (e.g. wf3) as `kash runs list` shows them."
        )
    return kind, int(raw)


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns // 1_000_000_000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _num(value: float | None) -> str:
    """Exact text of a float for CSV: ``repr`` (NaN and None as empty)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return repr(float(value)) if isinstance(value, float) else str(value)


def _columns(report: Any) -> tuple[Any, Any]:  # noqa: ANN401
    from kash_tui.cli.reports import columns_of

    fills, trips, _signals = columns_of(report)
    return fills, trips


def _symbols(report: Any, which: Any, n: int) -> list[str]:  # noqa: ANN401
    u = report.run.universe
    if u is None or which is None:
        return [report.run.symbol] * n
    return [u.symbols[k] for k in which.tolist()]


def fill_rows(report: Any) -> list[list[str]]:  # noqa: ANN401
    fills, _trips = _columns(report)
    ts = report.timestamps
    reasons = getattr(fills, "reason", None)
    names = ["signal", "stop", "target", "trail"]
    symbols = _symbols(report, report.fill_symbols, len(fills))
    rows = []
    for i, (b, buy, q, p, c) in enumerate(zip(
            fills.bar_index.tolist(), fills.is_buy.tolist(), fills.qty.tolist(),
            fills.price.tolist(), fills.commission.tolist(), strict=True)):
        reason = names[int(reasons[i])] if reasons is not None else "signal"
        rows.append([_iso(int(ts[b])), symbols[i], "buy" if buy else "sell", _num(q), _num(p),
                     _num(c), reason])
    return rows


FILL_HEADER = ["time", "symbol", "side", "qty", "price", "commission", "reason"]
TRIP_HEADER = ["symbol", "entry_time", "exit_time", "qty", "entry_price", "exit_price", "pnl",
               "return_pct", "open"]


def trip_rows(report: Any) -> list[list[str]]:  # noqa: ANN401
    _fills, trips = _columns(report)
    ts = report.timestamps
    symbols = _symbols(report, report.round_trip_symbols, len(trips))
    rows = []
    for i, (e, x, q, ep, xp, pnl, ret, is_open) in enumerate(zip(
            trips.entry_index.tolist(), trips.exit_index.tolist(), trips.qty.tolist(),
            trips.entry_price.tolist(), trips.exit_price.tolist(), trips.pnl.tolist(),
            trips.return_pct.tolist(), trips.is_open.tolist(), strict=True)):
        rows.append([symbols[i], _iso(int(ts[e])), "" if is_open else _iso(int(ts[x])), _num(q),
                     _num(ep), "" if is_open else _num(xp), _num(pnl), _num(ret),
                     "true" if is_open else "false"])
    return rows


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


# -- HTML ------------------------------------------------------------------------------------


def _curve_points(values: Any) -> Any:  # noqa: ANN401
    """Indices of the points drawn: all of them for a short curve, else per bucket its first,
    lowest and highest point (and the last point of the curve)."""
    import numpy as np

    n = int(values.shape[0])
    if n <= 3 * CURVE_BUCKETS:
        return np.arange(n)
    edges = np.linspace(0, n, CURVE_BUCKETS + 1).astype(np.int64)
    keep = [edges[:-1], [n - 1]]
    for lo, hi in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        part = values[lo:hi]
        keep.append([lo + int(np.argmin(part)), lo + int(np.argmax(part))])
    return np.unique(np.concatenate([np.asarray(k, dtype=np.int64) for k in keep]))


def _svg(values: Any, *, title: str, css_class: str, fmt: str, fill_to_zero: bool = False) -> str:  # noqa: ANN401
    import numpy as np

    width, height, pad = 900.0, 240.0, 40.0
    idx = _curve_points(values)
    y = values[idx].astype(np.float64)
    n = max(int(values.shape[0]) - 1, 1)
    lo, hi = float(np.nanmin(y)), float(np.nanmax(y))
    if fill_to_zero:
        hi = max(hi, 0.0)
    if hi == lo:
        hi, lo = hi + 1.0, lo - 1.0
    xs = pad + idx / n * (width - 2 * pad)
    ys = pad / 2 + (hi - y) / (hi - lo) * (height - pad)
    pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs.tolist(), ys.tolist(), strict=True))
    area = ""
    if fill_to_zero:
        zero = pad / 2 + hi / (hi - lo) * (height - pad)
        area = (f'<polygon class="area" points="{xs[0]:.1f},{zero:.1f} {pts} '
                f'{xs[-1]:.1f},{zero:.1f}"/>')
    return (
        f'<svg class="{css_class}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{html.escape(title)}" data-min="{lo!r}" data-max="{hi!r}">'
        f'<title>{html.escape(title)}</title>'
        f'<line class="axis" x1="{pad}" y1="{height - pad / 2}" x2="{width - pad}" '
        f'y2="{height - pad / 2}"/>'
        f'<text x="2" y="{pad / 2 + 4:.0f}">{html.escape(format(hi, fmt))}</text>'
        f'<text x="2" y="{height - pad / 2:.0f}">{html.escape(format(lo, fmt))}</text>'
        f'{area}<polyline points="{pts}"/></svg>'
    )


def _cell(value: Any, text: str | None = None) -> str:  # noqa: ANN401
    """A table cell; numbers keep their exact value in ``data-value``."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        shown = "n/a" if value is None else str(value)
        return f"<td>{html.escape(text if text is not None else shown)}</td>"
    if isinstance(value, float) and not math.isfinite(value):
        return "<td>n/a</td>"
    shown = text if text is not None else (f"{value:,.2f}" if isinstance(value, float)
                                           else f"{value:,}")
    return f'<td class="num" data-value="{value!r}">{html.escape(shown)}</td>'


def _table(table_id: str, header: list[str], rows: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(f"<tr>{r}</tr>" for r in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1000px;
color:#1d2433;background:#fff}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em;border-bottom:1px solid #ccd}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 10px;border-bottom:1px solid #eef}
th{text-align:left;background:#f4f5f9}td.num{text-align:right;font-variant-numeric:tabular-nums}
svg{width:100%;height:auto;background:#fafbfe;border:1px solid #e3e5ee}
svg polyline{fill:none;stroke-width:1.2}svg.equity polyline{stroke:#2457c5}
svg.drawdown polyline{stroke:#c0392b}svg.drawdown .area{fill:#c0392b22;stroke:none}
svg .axis{stroke:#aab}svg text{font-size:11px;fill:#667}
.note{color:#667}
@media (prefers-color-scheme:dark){body{background:#14161c;color:#dde}th{background:#23262f}
svg{background:#1a1d24;border-color:#333}}
"""


def html_report(report: Any) -> str:  # noqa: ANN401
    import numpy as np

    from kash_tui.cli.reports import METRIC_ROWS, settings_json

    run = report.run
    m = run.metrics
    equity = np.asarray(report.equity, dtype=np.float64)
    peak = np.maximum(np.maximum.accumulate(equity), run.settings.initial_cash)
    drawdown = (equity / peak - 1.0) * 100.0
    what = (f"universe {run.universe.universe} ({len(run.universe.symbols)} symbols)"
            if run.universe is not None else run.symbol)
    title = f"Kash run #{run.id}: {run.strategy_id} on {what} {run.timeframe}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="note">{html.escape(json.dumps(run.params, sort_keys=True))}; '
        f"{run.bar_count:,} bars from {run.first_bar:%Y-%m-%d %H:%M} to "
        f"{run.last_bar:%Y-%m-%d %H:%M} UTC; stored {run.created_at:%Y-%m-%d %H:%M} UTC.</p>",
        "<h2>Metrics</h2>",
        _table("metrics", ["Metric", "Value"], [
            f"<th>{html.escape(label)}</th>" + _cell(
                getattr(m, key),
                None if getattr(m, key) is None else
                (f"{getattr(m, key):,}" if isinstance(getattr(m, key), int)
                 else f"{getattr(m, key):,.2f}{suffix}"))
            for label, key, suffix in METRIC_ROWS
        ]),
    ]
    sensitivity = getattr(run, "sensitivity", None)
    ambiguous = getattr(run, "ambiguous_bars", 0)
    if sensitivity is not None or ambiguous:
        rows = [f"<th>Ambiguous bars (stop and target in one bar)</th>{_cell(int(ambiguous))}"]
        if sensitivity is not None:
            rows += [
                f"<th>Total return, {html.escape(str(sensitivity.intrabar))} order</th>"
                + _cell(sensitivity.total_return_pct,
                        f"{sensitivity.total_return_pct:,.2f} %"),
                f"<th>Round trips, {html.escape(str(sensitivity.intrabar))} order</th>"
                + _cell(sensitivity.round_trips),
            ]
        parts += ["<h2>Fill-assumption sensitivity</h2>", _table("sensitivity", ["", ""], rows)]
    parts += [
        "<h2>Equity</h2>",
        _svg(equity, title="Equity", css_class="equity", fmt=",.0f"),
        "<h2>Drawdown (%)</h2>",
        _svg(drawdown, title="Drawdown %", css_class="drawdown", fmt=".1f", fill_to_zero=True),
    ]
    if run.universe is not None:
        rows = [
            _cell(b.symbol) + _cell(b.bars) + _cell(b.round_trips)
            + _cell(b.skipped_no_slot + b.skipped_no_cash) + _cell(b.pnl)
            + _cell(b.contribution_pct) + _cell(b.win_rate_pct) + _cell(b.exposure_pct)
            + _cell(b.buy_and_hold_return_pct)
            for b in sorted(run.universe.breakdown, key=lambda b: -b.pnl)
        ]
        parts += ["<h2>Symbols</h2>", _table("symbols", [
            "Symbol", "Bars", "Round trips", "Skipped", "P&L", "Contribution %", "Win %",
            "Exposure %", "Buy & hold %"], rows)]
    trips = trip_rows(report)
    shown = trips[-HTML_MAX_TRIPS:]
    trip_html = []
    for sym, et, xt, q, ep, xp, pnl, ret, is_open in shown:
        trip_html.append(
            _cell(sym) + _cell(et) + _cell(xt or "open") + _cell(float(q), f"{float(q):,.4f}")
            + _cell(float(ep), f"{float(ep):,.4f}")
            + (_cell(float(xp), f"{float(xp):,.4f}") if xp else _cell("-"))
            + _cell(float(pnl)) + _cell(float(ret))
        )
    parts.append(f"<h2>Round trips ({len(trips):,})</h2>")
    if len(trips) > len(shown):
        parts.append(f'<p class="note">The last {len(shown):,} of {len(trips):,}; the CSV '
                     "export has them all.</p>")
    parts.append(_table("round-trips", ["Symbol", "Entry (UTC)", "Exit (UTC)", "Qty",
                                        "Entry price", "Exit price", "P&L", "Return %"],
                        trip_html))
    settings = settings_json(run)
    parts += ["<h2>Settings</h2>", _table("settings", ["Setting", "Value"], [
        f"<th>{html.escape(k)}</th>" + (
            _cell(v) if isinstance(v, int | float) and not isinstance(v, bool)
            else _cell(json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else
                       ("n/a" if v is None else str(v))))
        for k, v in settings.items()
    ])]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def cmd_runs_export(args: argparse.Namespace) -> int:
    kind, run_id = _run_number(args.run_id)
    fmt = args.format
    name = f"run-{run_id}" if kind == "run" else f"wf-{run_id}"
    base = Path(args.out).expanduser() if args.out else Path(f"{name}.{fmt}")
    if base.is_dir():
        base = base / f"{name}.{fmt}"
    if not base.parent.is_dir():
        raise UserError(f"There is no folder {str(base.parent)!r}; create it or pass another --out.")
    if kind == "wf":
        walk = build_provider(args, writes=False).trading.get_walk_forward(run_id)
        return _export_walk_forward(walk, fmt, base)
    report = build_provider(args, writes=False).trading.get_run(run_id)
    if fmt == "html":
        paths = [base]
        text = html_report(report)
        _write(base, lambda p: p.write_text(text, encoding="utf-8"))
    else:
        stem = base.with_suffix("") if base.suffix.lower() == ".csv" else base
        fills_path = stem.with_name(stem.name + "-fills.csv")
        trips_path = stem.with_name(stem.name + "-round-trips.csv")
        paths = [fills_path, trips_path]
        fills, trips = fill_rows(report), trip_rows(report)
        _write(fills_path, lambda p: _write_csv(p, FILL_HEADER, fills))
        _write(trips_path, lambda p: _write_csv(p, TRIP_HEADER, trips))
    print("Wrote " + " and ".join(str(p) for p in paths) + ".")
    return EXIT_OK


def _write(path: Path, write: Any) -> None:  # noqa: ANN401
    """Write through a temporary file renamed into place: a failed export leaves no half file."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"Cannot write {str(path)!r} ({exc.strerror}); check the path.") from None


# -- walk-forwards ---------------------------------------------------------------------------

# Metrics of each window's training (is_) and test (oos_) part in the windows CSV.
WINDOW_METRICS = ("total_return_pct", "cagr_pct", "sharpe", "max_drawdown_pct", "round_trips",
                  "win_rate_pct", "final_equity")


def _window_header(walk: Any) -> list[str]:  # noqa: ANN401
    return (["window", "train_first", "train_last", "train_bars", "test_first", "test_last",
             "test_bars"] + [f"param_{name}" for name in walk.grid]
            + [f"is_{m}" for m in WINDOW_METRICS] + [f"oos_{m}" for m in WINDOW_METRICS]
            + ["efficiency"])


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def window_rows(walk: Any) -> list[list[str]]:  # noqa: ANN401
    """One row per window: its spans, the chosen parameters, in- and out-of-sample metrics."""
    rows = []
    for w in walk.windows:
        rows.append(
            [str(w.number), _stamp(w.train_first), _stamp(w.train_last),
             str(w.train_end - w.train_start), _stamp(w.test_first), _stamp(w.test_last),
             str(w.test_end - w.test_start)]
            + [_num(w.params.get(name)) for name in walk.grid]
            + [_num(getattr(w.train, m)) for m in WINDOW_METRICS]
            + [_num(getattr(w.test, m)) for m in WINDOW_METRICS]
            + [_num(w.efficiency)]
        )
    return rows


EQUITY_HEADER = ["time", "equity", "drawdown_pct"]


def _drawdown(walk: Any) -> Any:  # noqa: ANN401
    import numpy as np

    equity = np.asarray(walk.equity, dtype=np.float64)
    peak = np.maximum(np.maximum.accumulate(equity), walk.request.settings.initial_cash)
    return (equity / peak - 1.0) * 100.0


def equity_rows(walk: Any) -> list[list[str]]:  # noqa: ANN401
    """The stitched out-of-sample equity, one row per bar (time), with its drawdown."""
    drawdown = _drawdown(walk)
    return [[_iso(int(t)), _num(e), _num(d)] for t, e, d in zip(
        walk.timestamps.tolist(), walk.equity.tolist(), drawdown.tolist(), strict=True)]


def walk_forward_html(walk: Any) -> str:  # noqa: ANN401
    """A walk-forward as one self-contained page: stitched metrics and efficiency, the stitched
    equity and drawdown, the windows, the settings."""
    import numpy as np

    from kash_tui.cli.reports import METRIC_ROWS

    request = walk.request
    u = walk.universe
    what = (f"universe {u.universe} ({len(u.symbols)} symbols, at most {u.max_positions} open)"
            if u is not None else request.symbol)
    kind = "anchored" if walk.anchored else "rolling"
    title = f"Kash walk-forward wf{walk.id}: {request.strategy_id} on {what} {request.timeframe}"
    m = walk.metrics
    metric_rows = [
        f"<th>{html.escape(label)}</th>" + _cell(
            getattr(m, key),
            None if getattr(m, key) is None else
            (f"{getattr(m, key):,}" if isinstance(getattr(m, key), int)
             else f"{getattr(m, key):,.2f}{suffix}"))
        for label, key, suffix in METRIC_ROWS
    ]
    is_cagr, eff = walk.in_sample_cagr_pct, walk.efficiency
    metric_rows += [
        "<th>In-sample CAGR (mean)</th>" + _cell(
            is_cagr, None if is_cagr is None else f"{is_cagr:,.2f} %"),
        "<th>Walk-forward efficiency</th>" + _cell(eff, None if eff is None else f"{eff:,.2f}"),
    ]
    names = list(walk.grid)
    window_html = []
    for w in walk.windows:
        window_html.append(
            _cell(w.number)
            + _cell(f"{w.train_first:%Y-%m-%d}..{w.train_last:%Y-%m-%d}")
            + _cell(f"{w.test_first:%Y-%m-%d}..{w.test_last:%Y-%m-%d}")
            + "".join(_cell(w.params.get(n)) for n in names)
            + _cell(w.train.total_return_pct) + _cell(w.test.total_return_pct)
            + _cell(w.train.sharpe) + _cell(w.test.sharpe) + _cell(w.efficiency)
        )
    equity = np.asarray(walk.equity, dtype=np.float64)
    settings = {
        "strategy": request.strategy_id, "symbol": request.symbol,
        "timeframe": request.timeframe, "base_params": dict(request.params),
        "grid": walk.grid, "rank_by": walk.rank_by, "train": walk.train.spec,
        "test": walk.test.spec, "anchored": walk.anchored, "skipped": walk.skipped,
        **({"universe_symbols": list(u.symbols), "max_positions": u.max_positions}
           if u is not None else {}),
        **request.settings.to_dict(),
    }
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="note">{len(walk.windows)} {kind} windows of {html.escape(str(walk.train))} '
        f"training + {html.escape(str(walk.test))} test, ranked by "
        f"{html.escape(walk.rank_by)}; {walk.bar_count:,} "
        f"{'times' if u is not None else 'bars'} from {walk.first_bar:%Y-%m-%d %H:%M} to "
        f"{walk.last_bar:%Y-%m-%d %H:%M} UTC; stored {walk.created_at:%Y-%m-%d %H:%M} UTC. "
        "Each test part starts with the equity the one before ended with.</p>",
        "<h2>Stitched out of sample</h2>",
        _table("metrics", ["Metric", "Value"], metric_rows),
        "<h2>Stitched equity</h2>",
        _svg(equity, title="Stitched equity", css_class="equity", fmt=",.0f"),
        "<h2>Drawdown (%)</h2>",
        _svg(_drawdown(walk), title="Drawdown %", css_class="drawdown", fmt=".1f",
             fill_to_zero=True),
        f"<h2>Windows ({len(walk.windows)})</h2>",
        _table("windows", ["#", "Train (UTC)", "Test (UTC)", *names, "IS return %",
                           "OOS return %", "IS Sharpe", "OOS Sharpe", "WFE"], window_html),
        "<h2>Settings</h2>",
        _table("settings", ["Setting", "Value"], [
            f"<th>{html.escape(k)}</th>" + (
                _cell(v) if isinstance(v, int | float) and not isinstance(v, bool)
                else _cell(json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else
                           ("n/a" if v is None else str(v))))
            for k, v in settings.items()
        ]),
        "</body></html>\n",
    ]
    return "\n".join(parts)


def _export_walk_forward(walk: Any, fmt: str, base: Path) -> int:  # noqa: ANN401
    if fmt == "html":
        paths = [base]
        text = walk_forward_html(walk)
        _write(base, lambda p: p.write_text(text, encoding="utf-8"))
    else:
        stem = base.with_suffix("") if base.suffix.lower() == ".csv" else base
        windows_path = stem.with_name(stem.name + "-windows.csv")
        equity_path = stem.with_name(stem.name + "-equity.csv")
        paths = [windows_path, equity_path]
        header, windows, equity = _window_header(walk), window_rows(walk), equity_rows(walk)
        _write(windows_path, lambda p: _write_csv(p, header, windows))
        _write(equity_path, lambda p: _write_csv(p, EQUITY_HEADER, equity))
    print("Wrote " + " and ".join(str(p) for p in paths) + ".")
    return EXIT_OK
