"""The parity report: a deployment against the backtest of exactly the bars it saw (private).

The bars are the deployment's history from its first warm-up bar to the last bar it saw, with
the values it journaled for every bar it received (so a later revision of the cache does not
change what is compared). The backtest runs the same strategy and parameters, trading from the
first bar the deployment followed live (earlier signals are warm-up), starting with the equity
the deployment started with, the portfolio's position size and the same whole-share rule, and
the next-open fill model the live market order mirrors.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from kash_tui.domains.deployment import models
from kash_tui.domains.deployment.entities import DeploymentRow
from kash_tui.domains.deployment.service import (
    DeploymentError,
    EventKind,
    FillComparison,
    JournalEntry,
    ParityReport,
    SignalComparison,
    SignalMatch,
)
from kash_tui.domains.market import MarketService, NoBarsError, Timeframe
from kash_tui.domains.strategy import StrategyService
from kash_tui.domains.trading import BacktestSettings, TradingService
from kash_tui.domains.workspace import Portfolio

NS = 1_000_000_000


def _time(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / NS, tz=UTC)


def _ns(when: datetime) -> int:
    return int(round(when.timestamp() * NS))


def build_report(
    row: DeploymentRow,
    portfolio: Portfolio,
    entries: list[JournalEntry],
    *,
    market: MarketService,
    strategies: StrategyService,
    trading: TradingService,
) -> ParityReport:
    if row.warmup_start is None or row.last_bar_at is None:
        raise DeploymentError(
            f"Deployment {row.name!r} has not seen any bar yet; start it and let it trade first."
        )
    tf = Timeframe.parse(row.timeframe)
    try:
        series = market.load_bars(row.symbol, tf, row.warmup_start, row.last_bar_at)
    except NoBarsError:
        raise DeploymentError(
            f"The bars of {row.symbol} {tf.value} the deployment saw are no longer stored; "
            "parity needs them."
        ) from None
    notes: list[str] = []

    # the values the deployment journaled for each bar it received win over the cache
    seen = {_ns(e.bar_at): e.data for e in entries if e.kind is EventKind.BAR and e.bar_at}
    ts = series.timestamps.astype(np.int64)
    cols = {k: getattr(series, k).astype(np.float64).copy()
            for k in ("open", "high", "low", "close", "volume")}
    index = {int(t): i for i, t in enumerate(ts.tolist())}
    differ = 0
    missing = [t for t in seen if t not in index]
    for t, data in seen.items():
        i = index.get(t)
        if i is None:
            continue
        for key, col in (("o", "open"), ("h", "high"), ("l", "low"), ("c", "close"),
                         ("v", "volume")):
            if key in data and cols[col][i] != float(data[key]):
                cols[col][i] = float(data[key])
                differ += 1 if key == "c" else 0
    if missing:
        extra_ts = np.array(sorted(missing), dtype=np.int64)
        ts = np.concatenate([ts, extra_ts])
        for col, key in (("open", "o"), ("high", "h"), ("low", "l"), ("close", "c"),
                         ("volume", "v")):
            cols[col] = np.concatenate([cols[col], [float(seen[t].get(key, np.nan))
                                                    for t in extra_ts.tolist()]])
        order = np.argsort(ts, kind="stable")
        ts = ts[order]
        cols = {k: v[order] for k, v in cols.items()}
        notes.append(f"{len(missing)} bar(s) the deployment saw are no longer in the bar cache; "
                     "parity uses the journaled values.")
    if differ:
        notes.append(f"{differ} bar(s) in the cache now differ from what the deployment saw "
                     "(revised by the broker); parity uses what it saw.")
    bars = replace(series, timestamps=ts, **cols)

    strategy = strategies.create_with_params(row.strategy_id, models.params_of(row))
    signals = np.asarray(strategy.generate_signals(bars)).astype(np.int8)
    n = len(ts)
    first_live = row.first_live_bar
    live_from = int(np.searchsorted(ts, _ns(first_live))) if first_live else n
    bt_signals = signals.copy()
    bt_signals[:live_from] = 0

    start = next((e for e in reversed(entries) if e.kind is EventKind.START), None)
    info: dict[str, Any] = start.data if start is not None else {}
    initial = float(row.start_equity) if row.start_equity else 10_000.0
    settings = BacktestSettings(
        initial_cash=initial,
        position_size_pct=float(info.get("position_size_pct", portfolio.position_size_pct)),
        whole_shares=bool(info.get("whole_shares", False)),
        periods_per_year=tf.periods_per_year(series.asset_class),
    )
    result = trading.simulate(bars, bt_signals, settings)
    fc = result.fill_columns
    bt_trades: dict[int, tuple[str, float, float]] = {}
    for j, buy, q, p in zip(fc.bar_index.tolist(), fc.is_buy.tolist(), fc.qty.tolist(),
                            fc.price.tolist(), strict=True):
        bt_trades[int(ts[j - 1])] = ("buy" if buy else "sell", q, p)

    live_signals = {_ns(e.bar_at): e.data.get("side", "") for e in entries
                    if e.kind is EventKind.SIGNAL and e.bar_at}
    orders = {_ns(e.bar_at): e.data for e in entries
              if e.kind is EventKind.ORDER_SENT and e.bar_at and not e.data.get("flatten")}
    fills_by_cid: dict[str, dict[str, Any]] = {}
    for e in entries:
        if e.kind is EventKind.FILL:
            fills_by_cid[e.data.get("client_order_id", "")] = e.data
    reasons: dict[int, str] = {}
    for e in entries:
        if e.bar_at is None:
            continue
        if e.kind is EventKind.SKIP:
            reasons[_ns(e.bar_at)] = f"skipped: {e.data.get('reason', e.message)}"
        elif e.kind is EventKind.RISK_CHECK_FAILED:
            reasons[_ns(e.bar_at)] = f"risk check: {e.message}"
        elif e.kind is EventKind.BROKER_ANSWER and e.data.get("status") == "rejected":
            reasons[_ns(e.bar_at)] = f"rejected: {e.data.get('message', '')}"
            # sent but refused by the broker: not traded live
            orders.pop(_ns(e.bar_at), None)

    last_ns = int(ts[-1]) if n else 0
    live_range = set(int(t) for t in ts[live_from:].tolist())
    keys = sorted({int(ts[i]) for i in np.flatnonzero(bt_signals).tolist()}
                  | {t for t in live_signals if t in live_range or t >= _ns(first_live or
                                                                               _time(0))})
    comparisons: list[SignalComparison] = []
    for t in keys:
        i = index_of(ts, t)
        bt_side = ("buy" if bt_signals[i] > 0 else "sell") if i is not None and bt_signals[i] else None
        live_side = live_signals.get(t)
        bt_traded = t in bt_trades
        live_traded = t in orders
        if t == last_ns:
            bt_traded = live_traded  # the backtest cannot fill a signal on the last bar yet
        action = "order" if live_traded else reasons.get(
            t, "" if live_side else "not seen live (the runner was down or the bar came late)")
        if bt_side and live_side == bt_side:
            if bt_traded == live_traded:
                status = SignalMatch.MATCHED
            else:
                status = SignalMatch.MISSED if bt_traded else SignalMatch.EXTRA
        elif bt_side:
            if not bt_traded:
                continue  # a signal the backtest ignored too (already long, flat)
            status = SignalMatch.MISSED
        else:
            status = SignalMatch.EXTRA
        comparisons.append(SignalComparison(bar_at=_time(t), side=live_side or bt_side or "",
                                            status=status, live_action=action))

    fills: list[FillComparison] = []
    total = 0.0
    qty_differs = 0
    for t in sorted(set(bt_trades) | set(orders)):
        order = orders.get(t)
        live = fills_by_cid.get(order.get("client_order_id", "")) if order else None
        bt = bt_trades.get(t)
        if live is None and bt is None:
            continue
        side = (live or {}).get("side") or (order or {}).get("side") or (bt[0] if bt else "")
        live_price = Decimal(str(live["price"])) if live else None
        live_qty = Decimal(str(live["qty"])) if live else None
        bt_price = bt[2] if bt else None
        bt_qty = bt[1] if bt else None
        per_unit = cost = None
        if live_price is not None and bt_price is not None:
            diff = float(live_price) - bt_price
            per_unit = diff if side == "buy" else -diff
            cost = per_unit * float(live_qty or 0)
            total += cost
            if bt_qty is not None and abs(float(live_qty or 0) - bt_qty) > 1e-9:
                qty_differs += 1
        fills.append(FillComparison(
            signal_bar_at=_time(t), side=side, live_price=live_price, live_qty=live_qty,
            backtest_price=bt_price, backtest_qty=bt_qty, slippage_per_unit=per_unit,
            slippage_cost=cost,
        ))

    missed = [c for c in comparisons if c.status is SignalMatch.MISSED]
    extra = [c for c in comparisons if c.status is SignalMatch.EXTRA]
    if missed:
        notes.append(
            f"{len(missed)} signal(s) the backtest traded were not traded live: "
            + "; ".join(f"{c.bar_at:%Y-%m-%d %H:%M} {c.side} ({c.live_action})" for c in missed[:5])
            + ("." if len(missed) <= 5 else "; ...")
        )
    if extra:
        notes.append(f"{len(extra)} live trade(s) the backtest did not make; check whether the "
                     "deployment adopted a position from the broker or its bars differ.")
    compared = [f for f in fills if f.slippage_cost is not None]
    if compared and abs(total) > 1e-9:
        worst = max(compared, key=lambda f: f.slippage_cost or 0.0)
        notes.append(
            f"Live fills {'cost' if total > 0 else 'saved'} {abs(total):,.2f} against the "
            f"backtest's next-open prices over {len(compared)} fill(s) (worst "
            f"{worst.slippage_cost:,.2f} on the {worst.side} after "
            f"{worst.signal_bar_at:%Y-%m-%d %H:%M}); set the backtest's --slippage to about "
            f"{_slippage_fraction(compared):.5f} to model it."
        )
    if qty_differs:
        notes.append(f"{qty_differs} fill(s) differ in quantity: a live order is sized at the "
                     "signal bar's close, the backtest at the next open it fills at.")
    live_pnl = float(row.pnl) if row.pnl is not None else None
    backtest_pnl = float(result.metrics.final_equity - settings.initial_cash)
    return ParityReport(
        name=row.name, strategy_id=row.strategy_id, params=models.params_of(row),
        symbol=row.symbol, timeframe=tf.value, bars=n, live_bars=n - live_from,
        first_live_bar=first_live, last_bar=_time(last_ns) if n else None,
        signals=tuple(comparisons), fills=tuple(fills), total_slippage=total,
        live_pnl=live_pnl, backtest_pnl=backtest_pnl, notes=tuple(notes),
    )


def index_of(ts: np.ndarray, t: int) -> int | None:
    i = int(np.searchsorted(ts, t))
    return i if i < len(ts) and int(ts[i]) == t else None


def _slippage_fraction(fills: list[FillComparison]) -> float:
    fractions = [f.slippage_per_unit / f.backtest_price for f in fills
                 if f.slippage_per_unit is not None and f.backtest_price]
    return max(0.0, sum(fractions) / len(fractions)) if fractions else 0.0
