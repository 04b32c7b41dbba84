"""An independent, deliberately plain bar-by-bar backtest used to check the vectorised engine.

It follows the rules written in the docstring of ``kash_tui/domains/trading/engine.py`` one bar
at a time, with Python floats and lists only (no numpy, no engine types), so that the two
implementations share nothing but the written rules. Slow on purpose: for tests only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

NS_PER_DAY = 86_400 * 1_000_000_000


@dataclass
class RefFill:
    bar_index: int
    side: str
    qty: float
    price: float
    commission: float
    reason: str = "signal"


@dataclass
class RefTrip:
    entry_index: int
    exit_index: int | None
    entry_price: float
    exit_price: float | None
    qty: float
    pnl: float
    return_pct: float
    is_open: bool


@dataclass
class RefResult:
    fills: list[RefFill] = field(default_factory=list)
    trips: list[RefTrip] = field(default_factory=list)
    equity: list[float] = field(default_factory=list)
    position: list[float] = field(default_factory=list)
    metrics: dict[str, float | int | None] = field(default_factory=dict)
    ambiguous_bars: int = 0


def reference_backtest(
    open_: list[float],
    close: list[float],
    timestamps_ns: list[int] | None,
    signals: list[int],
    *,
    high: list[float] | None = None,
    low: list[float] | None = None,
    stop_loss_pct: float | None = None,
    take_profit_pct: float | None = None,
    trailing_stop_pct: float | None = None,
    intrabar: str = "pessimistic",
    **settings: object,
) -> RefResult:
    """The backtest of the engine's rules 1-11, one bar at a time. Exits (rules 8-11) need
    ``high`` and ``low``."""
    return _reference(open_, close, timestamps_ns, signals, high=high, low=low,
                      stop_loss_pct=stop_loss_pct, take_profit_pct=take_profit_pct,
                      trailing_stop_pct=trailing_stop_pct, intrabar=intrabar, **settings)


def _reference(
    open_: list[float],
    close: list[float],
    timestamps_ns: list[int] | None,
    signals: list[int],
    *,
    initial_cash: float = 10_000.0,
    commission: float = 0.0,
    slippage: float = 0.0,
    position_size_pct: float = 100.0,
    whole_shares: bool = False,
    fill_model: str = "next_open",
    periods_per_year: float = 252.0,
    high: list[float] | None,
    low: list[float] | None,
    stop_loss_pct: float | None,
    take_profit_pct: float | None,
    trailing_stop_pct: float | None,
    intrabar: str,
) -> RefResult:
    has_exits = (stop_loss_pct, take_profit_pct, trailing_stop_pct) != (None, None, None)
    if has_exits:
        assert high is not None and low is not None
        high = [float(x) for x in high]
        low = [float(x) for x in low]
    peak = 0.0  # highest of the entry price and the highs of the checked bars so far
    open_ = [float(x) for x in open_]
    close = [float(x) for x in close]
    signals = [int(s) for s in signals]
    n = len(close)
    res = RefResult()

    cash = float(initial_cash)
    qty = 0.0
    pending: str | None = None  # "buy" / "sell" waiting for the next open
    entry: tuple[int, float, float, float] | None = None  # bar, price, qty, commission

    def buy(bar: int, raw_price: float) -> None:
        nonlocal cash, qty, entry
        price = raw_price * (1.0 + slippage)
        allocation = cash * position_size_pct / 100.0
        q = allocation / (price * (1.0 + commission))
        if whole_shares:
            q = float(math.floor(q))
        if q == 0:
            return  # cannot afford one share: stay flat
        fee = q * price * commission
        cash -= q * price + fee
        qty = q
        entry = (bar, price, q, fee)
        res.fills.append(RefFill(bar, "buy", q, price, fee))

    def sell(bar: int, raw_price: float, reason: str = "signal") -> None:
        nonlocal cash, qty, entry
        price = raw_price * (1.0 - slippage)
        fee = qty * price * commission
        cash += qty * price - fee
        res.fills.append(RefFill(bar, "sell", qty, price, fee, reason))
        assert entry is not None
        e_bar, e_price, e_qty, e_fee = entry
        cost = e_qty * e_price + e_fee
        pnl = (e_qty * price - fee) - cost
        res.trips.append(RefTrip(e_bar, bar, e_price, price, e_qty, pnl, pnl / cost * 100.0, False))
        qty = 0.0
        entry = None

    for i in range(n):
        # 1. At the open: execute what the previous close decided (next-open model).
        if pending == "buy":
            buy(i, open_[i])
        elif pending == "sell":
            sell(i, open_[i])
        pending = None

        # 2. Inside the bar: the exits of the position held (from its fill on: with the
        # next-open model the entry bar's range counts, with the close model it came before).
        if has_exits and entry is not None and (fill_model != "close" or entry[0] < i):
            e_price = entry[1]
            if entry[0] == i or (fill_model == "close" and entry[0] == i - 1):
                peak = e_price  # the first bar checked for this position
            stop = e_price * (1.0 - stop_loss_pct / 100.0) if stop_loss_pct is not None else -math.inf
            target = (
                e_price * (1.0 + take_profit_pct / 100.0) if take_profit_pct is not None else math.inf
            )
            level, why = stop, "stop"
            if trailing_stop_pct is not None:
                trail = peak * (1.0 - trailing_stop_pct / 100.0)
                if trail > stop:
                    level, why = trail, "trail"
            down_hit = low[i] <= level
            up_hit = high[i] >= target
            if down_hit and open_[i] <= level:
                sell(i, open_[i], why)  # gapped through the stop: the open
            elif up_hit and open_[i] >= target:
                sell(i, open_[i], "target")  # gapped through the target
            elif down_hit and up_hit:
                res.ambiguous_bars += 1
                if intrabar == "pessimistic":
                    sell(i, level, why)
                else:
                    sell(i, target, "target")
            elif down_hit:
                sell(i, level, why)
            elif up_hit:
                sell(i, target, "target")
            else:
                peak = max(peak, high[i])  # raises the trail from the next bar on

        # 3. At the close: read the signal.
        s = signals[i]
        is_long = qty > 0
        if s > 0 and not is_long:
            if fill_model == "close":
                buy(i, close[i])
            else:
                pending = "buy"  # on the last bar this never fills
        elif s < 0 and is_long:
            if fill_model == "close":
                sell(i, close[i])
            else:
                pending = "sell"

        # 4. Mark to this bar's close.
        res.equity.append(cash + qty * close[i])
        res.position.append(qty)

    if entry is not None:
        e_bar, e_price, e_qty, e_fee = entry
        cost = e_qty * e_price + e_fee
        pnl = e_qty * close[-1] - cost
        res.trips.append(RefTrip(e_bar, None, e_price, None, e_qty, pnl, pnl / cost * 100.0, True))

    res.metrics = reference_metrics(
        res.equity, res.position, close, timestamps_ns, res.trips, initial_cash, periods_per_year
    )
    return res


def reference_metrics(
    equity: list[float],
    position: list[float],
    close: list[float],
    timestamps_ns: list[int] | None,
    trips: list[RefTrip],
    initial_cash: float,
    periods_per_year: float,
) -> dict[str, float | int | None]:
    n = len(equity)
    final = equity[-1]

    cagr = None
    if timestamps_ns is not None:
        years = (int(timestamps_ns[-1]) - int(timestamps_ns[0])) / (365.25 * NS_PER_DAY)
        if years > 0:
            try:
                cagr = ((final / initial_cash) ** (1.0 / years) - 1.0) * 100.0
            except OverflowError:
                cagr = None

    peak = initial_cash  # the starting cash is the first peak
    worst = 0.0
    for e in equity:
        peak = max(peak, e)
        worst = min(worst, (e / peak - 1.0) * 100.0)

    returns = [equity[k] / equity[k - 1] - 1.0 for k in range(1, n)]
    sharpe = sortino = None
    if returns:
        mean = sum(returns) / len(returns)
        downside = sum(min(r, 0.0) ** 2 for r in returns) / len(returns)
        if downside > 0:
            sortino = mean / math.sqrt(downside) * math.sqrt(periods_per_year)
        if len(returns) >= 2:
            var = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
            if var > 0:
                sharpe = mean / math.sqrt(var) * math.sqrt(periods_per_year)

    closed = [t.pnl for t in trips if not t.is_open]
    win_rate = profit_factor = None
    if closed:
        win_rate = sum(1 for p in closed if p > 0) / len(closed) * 100.0
        gains = sum(p for p in closed if p > 0)
        losses = sum(p for p in closed if p < 0)
        if losses < 0:
            profit_factor = gains / abs(losses)

    return {
        "total_return_pct": (final / initial_cash - 1.0) * 100.0,
        "cagr_pct": cagr,
        "max_drawdown_pct": worst,
        "sharpe": sharpe,
        "sortino": sortino,
        "win_rate_pct": win_rate,
        "profit_factor": profit_factor,
        "round_trips": len(trips),
        "exposure_pct": sum(1 for q in position if q > 0) / n * 100.0,
        "buy_and_hold_return_pct": (close[-1] / close[0] - 1.0) * 100.0,
        "final_equity": final,
    }
