"""Vectorised long-only backtest engine (private to the trading domain).

Inputs are float64 numpy arrays aligned by bar (open, high, low, close), int64 UTC timestamps in
nanoseconds and a signal array (+1 buy, -1 sell, 0 nothing; any other value, NaN included, is a
mistake of the strategy and refused: see ``checked_signals``). ``tests/unit/reference_backtest.py``
implements the same rules independently as a plain bar-by-bar loop; the two must agree.

Rules
-----
1. Long only, one position at a time. A buy signal while long (or while a buy is pending) is
   ignored; a sell signal while flat is ignored.
2. Fill timing. ``FillModel.NEXT_OPEN`` (default): a signal at the close of bar i fills at the
   open of bar j = i+1; a signal on the last bar never fills (a last-bar sell leaves the position
   open). ``FillModel.CLOSE`` (optimistic): j = i, at close[i].
3. Buy: execution price p = fill_price * (1 + slippage). We are flat, so equity = cash.
   Allocation A = cash * position_size_pct / 100; qty = A / (p * (1 + commission)), floored to a
   whole number with ``whole_shares``. If qty == 0 the buy is skipped and we stay flat (so the
   following sell is ignored and the next buy signal is tried). Commission = qty * p * commission;
   cash -= qty * p + commission.
4. Sell (the whole position): p = fill_price * (1 - slippage); commission = qty * p * commission;
   cash += qty * p - commission; flat.
5. Equity at bar k = cash + qty * close[k], after any fill on bar k (a fill on bar k happens
   before that bar's close). ``position[k]`` is the quantity held at that close.
6. Round trip: pnl = (qty * p_exit - exit commission) - (qty * p_entry + entry commission);
   return_pct = pnl / (qty * p_entry + entry commission) * 100. A position still open after the
   last bar is marked to the last close without exit commission or slippage (``is_open``).
7. Metrics (risk-free rate 0):
   total_return_pct = (final / initial - 1) * 100;
   cagr_pct = ((final / initial) ** (1 / years) - 1) * 100 with years = (last - first timestamp)
   / 365.25 days (None when the span is 0 or the figure overflows a float);
   max_drawdown_pct = min_k (equity[k] / max(initial_cash, max(equity[:k+1])) - 1) * 100 (<= 0):
   the starting cash is the first peak, so costs paid on bar 0 count as a drawdown;
   r = equity[1:] / equity[:-1] - 1; sharpe = mean(r) / std(r, ddof=1) * sqrt(periods_per_year)
   (None with fewer than 2 returns or zero variance); sortino = mean(r) / sqrt(mean(min(r, 0)^2))
   * sqrt(periods_per_year) (None when that denominator is 0);
   win_rate_pct = closed trips with pnl > 0 / closed trips * 100 (None without closed trips);
   profit_factor = sum of winning pnl / |sum of losing pnl| over closed trips (None without a
   losing trip); round_trips counts closed and open trips; exposure_pct = bars with position > 0
   / bars * 100; buy_and_hold_return_pct = (close[-1] / close[0] - 1) * 100;
   final_equity = equity[-1].

Exits (``stop_loss_pct``, ``take_profit_pct``, ``trailing_stop_pct``)
----------------------------------------------------------------------
8. Levels of a position, from its entry execution price ``pe`` (slippage included):
   stop = pe * (1 - stop_loss_pct / 100); target = pe * (1 + take_profit_pct / 100);
   trailing level on bar k = peak_k * (1 - trailing_stop_pct / 100) where peak_k is the largest
   of pe and the highs of the checked bars *before* k. The current bar's high raises the trail
   only from the next bar on: a bar does not say whether its high came before its low, so the
   trail is never assumed to have been raised and then hit within one bar (conservative).
   The stop side of a bar is max(stop, trailing level); its reason is "trail" when the trailing
   level is strictly above the fixed stop, "stop" otherwise.
9. Which bars are checked: every bar after the fill. With ``NEXT_OPEN`` the entry fills at bar
   j's open, so bar j's own high and low (all after the open) are checked too: the stop is live
   from the fill. With ``CLOSE`` the entry fills at bar j's close and checks start at bar j+1.
   A signal exit filling at bar x's open comes first (checks stop at bar x-1); with ``CLOSE`` a
   stop hit inside bar x comes before that bar's closing signal.
10. A bar touches the stop side when low <= level, the target when high >= target. If the open
   is already through the touched level (a gap), the exit fills at the open; otherwise at the
   level. A bar touching both with its open between them is *ambiguous*: ``IntrabarOrder``
   decides (``PESSIMISTIC``, the default: the stop; ``OPTIMISTIC``: the target), and the run
   counts it (``BacktestResult.ambiguous_bars``). The exit price is the raw price times
   (1 - slippage), with commission as for any sell (rule 4).
11. After an exit the position is flat: the next buy signal read at or after that bar's close
   opens a new position (a buy signal on the bar of a stop is acted on), a sell signal while
   flat is ignored as ever.

How it is fast
--------------
The long-only state machine is solved on the compressed (non-zero) signals only: a buy is
acted on when the previous non-zero signal was not a buy, a sell when it was. With fractional
shares cash compounds multiplicatively per closed trade, so every trade's cash and quantity come
from one ``cumprod``. Whole shares need the floor of each allocation, so that case loops over
trades (never over bars). With exits the position's end depends on prices, so that case loops
over trades too, and finds each trade's exit bar with numpy over windows of bars that grow
fourfold (work proportional to the bars held, never a Python step per bar). Without exits none
of that code runs. Per-bar position and equity are built with ``np.repeat`` of the
per-fill state over the runs between fills; then one chunked pass (``_curve_pass``) completes the
equity and, while each chunk is in cache, sums the returns and takes block extremes, with small
reused buffers instead of bar-sized temporaries (at a million bars fresh pages cost more than the
arithmetic). The drawdown avoids a full running max (see ``_min_ratio_to_peak``). Results
are exact up to float rounding, checked against the reference.

Errors
------
``BacktestError`` (a ``ValueError`` with one sentence saying what to do) for arrays of different
lengths, no bars, a signal other than +1, -1 or 0, a close (on any bar) or a fill price that is
not a number in ``[MIN_PRICE, MAX_PRICE]``, or an equity curve that leaves the range of a float64
(prices compounding over too many orders of magnitude). Settings are validated by
``BacktestSettings`` itself (cash up to ``MAX_STARTING_CASH``, commission and slippage below 1).
Floating-point warnings never escape: the arithmetic runs under ``np.errstate(all="ignore")`` and
its results are checked instead.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from kash_tui.domains.trading.service import (
    FILL_REASON_CODES,
    MAX_PRICE,
    MIN_PRICE,
    BacktestError,
    BacktestMetrics,
    BacktestResult,
    BacktestSettings,
    FillColumns,
    FillModel,
    FillReason,
    IntrabarOrder,
    RoundTripColumns,
    entry_quantity,
)

__all__ = ["checked_signals", "compute_metrics", "run_backtest"]

_NS_PER_YEAR = 365.25 * 86_400 * 1_000_000_000


def _float_array(values: np.ndarray, name: str, n: int | None) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise BacktestError(f"The {name} prices must be a one-dimensional array of bars.")
    if n is not None and arr.shape[0] != n:
        raise BacktestError(
            f"The {name} prices have {arr.shape[0]} bars but the close prices have {n}; "
            "pass arrays of the same bars."
        )
    return arr


_PRICE_RULE = (
    f"prices must be numbers from {MIN_PRICE:.0e} to {MAX_PRICE:.0e}".replace("e+", "e")
)


def _check_fill_prices(prices: np.ndarray, bars: np.ndarray, source: str) -> None:
    """``prices`` are raw bar prices at the fill bars ``bars`` (slippage not yet applied)."""
    bad = ~((prices >= MIN_PRICE) & (prices <= MAX_PRICE))  # NaN is bad too
    if bad.any():
        k = int(np.argmax(bad))
        raise BacktestError(
            f"Bar {int(bars[k])} has an invalid {source} price ({float(prices[k])!r}) where a fill "
            f"is due ({_PRICE_RULE}); clean or re-import the bars before backtesting."
        )


def _check_close(close: np.ndarray) -> None:
    """Every close marks the equity, so every close must be a valid price."""
    lo, hi = float(close.min()), float(close.max())  # NaN propagates into both
    if lo >= MIN_PRICE and hi <= MAX_PRICE:
        return
    bad = ~((close >= MIN_PRICE) & (close <= MAX_PRICE))
    k = int(np.argmax(bad))
    raise BacktestError(
        f"Bar {k} has an invalid close price ({float(close[k])!r}); {_PRICE_RULE}. Clean or "
        "re-import the bars before backtesting."
    )


def checked_signals(signals: object, n: int) -> np.ndarray:
    """The strategy's signals as int8, after checking there is one per bar and each is +1, -1
    or 0 (in any integer, boolean or float dtype). Anything else is a bug in the strategy (a NaN
    would otherwise pass for a sell, and 2 or 0.5 mean nothing), so it is refused with a sentence
    naming the first bad bar rather than guessed at."""
    sig = np.asarray(signals)
    if sig.shape != (n,):
        raise BacktestError(
            f"There are {sig.shape[0] if sig.ndim == 1 else sig.shape} signals for {n} bars; "
            "the strategy must return one signal per bar."
        )
    kind = sig.dtype.kind
    if kind in "iu":
        if n == 0 or (int(sig.min()) >= -1 and int(sig.max()) <= 1):
            return sig.astype(np.int8, copy=False)
    elif kind == "b":
        return sig.view(np.int8)
    elif kind != "f":
        raise BacktestError(
            f"The strategy returned signals of type {sig.dtype}; signals must be numbers: "
            "1 (buy), -1 (sell) or 0 (nothing)."
        )
    bad = (sig != 0) & (sig != 1) & (sig != -1)  # NaN is unequal to all three
    if not bad.any():
        return sig.astype(np.int8)
    k = int(np.argmax(bad))
    value = sig[k].item()
    raise BacktestError(
        f"The strategy returned the signal {value!r} at bar {k}; signals must be 1 (buy), "
        "-1 (sell) or 0 (nothing). Fix the strategy."
    )


def run_backtest(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    timestamps_ns: np.ndarray | None,
    signals: np.ndarray,
    settings: BacktestSettings | None = None,
) -> BacktestResult:
    """Run a long-only backtest of ``signals`` over the bars (rules in the module docstring).

    ``high`` and ``low`` are read only when the settings have exits (rules 8-11); otherwise
    they are checked for length and may be None. ``timestamps_ns`` is only used for CAGR (may
    be None).
    """
    with np.errstate(all="ignore"):
        return _run(open_, high, low, close, timestamps_ns, signals, settings)


def _run(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    timestamps_ns: np.ndarray | None,
    signals: np.ndarray,
    settings: BacktestSettings | None,
) -> BacktestResult:
    if settings is None:
        settings = BacktestSettings()
    close = _float_array(close, "close", None)
    n = int(close.shape[0])
    if n == 0:
        raise BacktestError(
            "There are no bars to backtest; load or import bars for this symbol and timeframe first."
        )
    open_ = _float_array(open_, "open", n)
    for arr, name in ((high, "high"), (low, "low")):
        if arr is not None and np.shape(arr) != (n,):
            raise BacktestError(
                f"The {name} prices have {np.shape(arr)} bars but the close prices have {n}; "
                "pass arrays of the same bars."
            )
    sig = checked_signals(signals, n)
    _check_close(close)
    if timestamps_ns is not None and np.shape(timestamps_ns) != (n,):
        raise BacktestError(f"There are {np.shape(timestamps_ns)} timestamps for {n} bars; pass one per bar.")

    next_open = settings.fill_model is FillModel.NEXT_OPEN
    shift = 1 if next_open else 0
    fill_src = open_ if next_open else close
    source = "open" if next_open else "close"

    # Compressed signals: bar of every non-zero signal and whether it is a buy.
    nz = np.flatnonzero(sig != 0)
    is_buy_sig = sig[nz] > 0

    reason_x: np.ndarray | None = None
    ambiguous = 0
    if settings.has_exits:
        if high is None or low is None:
            raise BacktestError(
                "Stops and targets need each bar's high and low; load bars with all four prices."
            )
        trades, reason_x, ambiguous = _trades_with_exits(
            nz, is_buy_sig, open_, _float_array(high, "high", n), _float_array(low, "low", n),
            fill_src, n, shift, settings, source,
        )
    elif settings.whole_shares:
        trades = _trades_whole_shares(nz, is_buy_sig, fill_src, n, shift, settings, source)
    else:
        trades = _trades_fractional(nz, is_buy_sig, fill_src, n, shift, settings, source)
    e_bar, pe, qty, comm_e, cash_ae, x_bar, px, comm_x, cash_ax = trades
    k_all = int(e_bar.shape[0])
    k_closed = int(x_bar.shape[0])

    # Fills interleaved in time order: entry 0, exit 0, entry 1, ...
    n_fills = k_all + k_closed
    fill_bar = np.empty(n_fills, dtype=np.int64)
    fill_bar[0::2] = e_bar
    fill_bar[1::2] = x_bar
    fill_is_buy = np.zeros(n_fills, dtype=bool)
    fill_is_buy[0::2] = True
    fill_qty = np.empty(n_fills)
    fill_qty[0::2] = qty
    fill_qty[1::2] = qty[:k_closed]
    fill_price = np.empty(n_fills)
    fill_price[0::2] = pe
    fill_price[1::2] = px
    fill_comm = np.empty(n_fills)
    fill_comm[0::2] = comm_e
    fill_comm[1::2] = comm_x
    fill_reason = np.zeros(n_fills, dtype=np.int8)
    if reason_x is not None:
        fill_reason[1::2] = reason_x

    # State after each fill, held over the run of bars until the next fill.
    cash_vals = np.empty(n_fills + 1)
    cash_vals[0] = settings.initial_cash
    cash_vals[1::2] = cash_ae
    cash_vals[2::2] = cash_ax
    qty_vals = np.zeros(n_fills + 1)
    qty_vals[1::2] = qty
    bounds = np.empty(n_fills + 2, dtype=np.int64)
    bounds[0] = 0
    bounds[1:-1] = fill_bar
    bounds[-1] = n
    run_lengths = np.diff(bounds)
    position = np.repeat(qty_vals, run_lengths)
    equity = np.repeat(cash_vals, run_lengths)
    sums = _curve_pass(equity, position, close)  # completes the equity in place
    _check_equity_range(equity, sums)

    # Round trips (the last one may be open, marked to the last close).
    last_close = float(close[-1])
    cost = qty * pe + comm_e
    pnl = np.empty(k_all)
    pnl[:k_closed] = (qty[:k_closed] * px - comm_x) - cost[:k_closed]
    pnl[k_closed:] = qty[k_closed:] * last_close - cost[k_closed:]
    exit_index = np.full(k_all, -1, dtype=np.int64)
    exit_index[:k_closed] = x_bar
    exit_price = np.full(k_all, np.nan)
    exit_price[:k_closed] = px
    is_open = np.zeros(k_all, dtype=bool)
    is_open[k_closed:] = True
    trips = RoundTripColumns(
        entry_index=e_bar.astype(np.int64, copy=False),
        exit_index=exit_index,
        entry_price=pe,
        exit_price=exit_price,
        qty=qty,
        pnl=pnl,
        return_pct=pnl / cost * 100.0,
        is_open=is_open,
    )
    fills = FillColumns(
        bar_index=fill_bar,
        is_buy=fill_is_buy,
        qty=fill_qty,
        price=fill_price,
        commission=fill_comm,
        reason=fill_reason,
    )

    exposure_bars = int((x_bar - e_bar[:k_closed]).sum()) + (n - int(e_bar[-1]) if k_all > k_closed else 0)
    metrics = _metrics(
        equity,
        close,
        timestamps_ns,
        pnl,
        is_open,
        initial_cash=settings.initial_cash,
        periods_per_year=settings.periods_per_year,
        exposure_bars=exposure_bars,
        sums=sums,
    )
    return BacktestResult(
        equity=equity,
        position=position,
        metrics=metrics,
        fill_columns=fills,
        round_trip_columns=trips,
        settings=settings,
        ambiguous_bars=ambiguous,
    )


_Trades = tuple[
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
]


def _trades_fractional(
    nz: np.ndarray,
    is_buy_sig: np.ndarray,
    fill_src: np.ndarray,
    n: int,
    shift: int,
    settings: BacktestSettings,
    source: str,
) -> _Trades:
    """All trades at once: fractional sizing compounds by a constant factor per closed trade."""
    prev_buy = np.empty_like(is_buy_sig)
    if prev_buy.shape[0]:
        prev_buy[0] = False
        prev_buy[1:] = is_buy_sig[:-1]
    e_bar = nz[is_buy_sig & ~prev_buy] + shift
    x_bar = nz[~is_buy_sig & prev_buy] + shift
    # Only the last signal can sit on the last bar: a last entry then never fills, a last exit
    # leaves its trade open.
    if e_bar.shape[0] and e_bar[-1] >= n:
        e_bar = e_bar[:-1]
    if x_bar.shape[0] and x_bar[-1] >= n:
        x_bar = x_bar[:-1]
    k_all = e_bar.shape[0]
    k_closed = x_bar.shape[0]

    c = settings.commission
    raw_e, raw_x = fill_src[e_bar], fill_src[x_bar]
    _check_fill_prices(raw_e, e_bar, source)
    _check_fill_prices(raw_x, x_bar, source)
    pe = raw_e * (1.0 + settings.slippage)
    px = raw_x * (1.0 - settings.slippage)

    # Cash before entry k: C_k = C_0 * prod_{i<k} (1 - f + f * px_i (1 - c) / (pe_i (1 + c))).
    f = settings.position_size_pct / 100.0
    cash_before = np.empty(k_all)
    if k_all:
        growth = 1.0 - f + f * (px * (1.0 - c)) / (pe[:k_closed] * (1.0 + c))
        cash_before[0] = settings.initial_cash
        np.cumprod(growth[: k_all - 1], out=cash_before[1:])
        cash_before[1:] *= settings.initial_cash
    qty = entry_quantity(cash_before, pe, settings)  # fractional here: never floored
    comm_e = qty * pe * c
    cash_ae = cash_before - (qty * pe + comm_e)
    qty_x = qty[:k_closed]
    comm_x = qty_x * px * c
    cash_ax = cash_ae[:k_closed] + (qty_x * px - comm_x)
    return e_bar, pe, qty, comm_e, cash_ae, x_bar, px, comm_x, cash_ax


def _next_true(mask: np.ndarray) -> np.ndarray:
    """For each position p (and one past the end), the first index >= p where mask is True."""
    m = mask.shape[0]
    out = np.full(m + 1, m, dtype=np.int64)
    out[:m] = np.where(mask, np.arange(m), m)
    return np.minimum.accumulate(out[::-1])[::-1]


def _trades_whole_shares(
    nz: np.ndarray,
    is_buy_sig: np.ndarray,
    fill_src: np.ndarray,
    n: int,
    shift: int,
    settings: BacktestSettings,
    source: str,
) -> _Trades:
    """Trade by trade (never bar by bar): each allocation is floored to whole shares."""
    m = nz.shape[0]
    fill_bar_all = nz + shift
    # A signal past the last bar is never priced: the loop stops there first.
    raw = fill_src[np.minimum(fill_bar_all, n - 1)]
    next_buy = _next_true(is_buy_sig).tolist()
    next_sell = _next_true(~is_buy_sig).tolist()
    bars = fill_bar_all.tolist()
    prices = raw.tolist()

    cash = float(settings.initial_cash)
    c = settings.commission
    up = 1.0 + settings.slippage
    down = 1.0 - settings.slippage
    e_bar, pe, qty_l, comm_e, cash_ae = [], [], [], [], []
    x_bar, px, comm_x, cash_ax = [], [], [], []
    p = next_buy[0]
    while p < m:
        j = bars[p]
        if j >= n:
            break
        price = prices[p] * up
        if not MIN_PRICE <= prices[p] <= MAX_PRICE:
            _check_fill_prices(np.array([prices[p]]), np.array([j]), source)
        q = entry_quantity(cash, price, settings)  # floored: whole shares
        if not math.isfinite(q):
            raise _equity_overflow()
        if q <= 0.0:
            p = next_buy[p + 1]  # too expensive: stay flat, the next sell is ignored
            continue
        commission = q * price * c
        cash -= q * price + commission
        e_bar.append(j)
        pe.append(price)
        qty_l.append(q)
        comm_e.append(commission)
        cash_ae.append(cash)
        s = next_sell[p + 1]
        if s >= m or bars[s] >= n:
            break  # open at the end
        price = prices[s] * down
        if not MIN_PRICE <= prices[s] <= MAX_PRICE:
            _check_fill_prices(np.array([prices[s]]), np.array([bars[s]]), source)
        commission = q * price * c
        cash += q * price - commission
        x_bar.append(bars[s])
        px.append(price)
        comm_x.append(commission)
        cash_ax.append(cash)
        p = next_buy[s + 1]
    return (
        np.array(e_bar, dtype=np.int64),
        np.array(pe, dtype=np.float64),
        np.array(qty_l, dtype=np.float64),
        np.array(comm_e, dtype=np.float64),
        np.array(cash_ae, dtype=np.float64),
        np.array(x_bar, dtype=np.int64),
        np.array(px, dtype=np.float64),
        np.array(comm_x, dtype=np.float64),
        np.array(cash_ax, dtype=np.float64),
    )


_STOP, _TARGET, _TRAIL = (
    FILL_REASON_CODES.index(r) for r in (FillReason.STOP, FillReason.TARGET, FillReason.TRAIL)
)
_FIRST_WINDOW = 64


class _Exit(NamedTuple):
    bar: int
    raw_price: float
    """The open (a gap through the level) or the level, before slippage."""
    reason: int
    ambiguous: bool


def _find_exit(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    start: int,
    end: int,
    entry_price: float,
    settings: BacktestSettings,
) -> _Exit | None:
    """The first bar in [start, end) that exits a position entered at ``entry_price`` (rules
    8-10), or None. Scans windows of bars growing fourfold, so a trade costs numpy work in
    proportion to the bars it is held and a few Python steps."""
    sl, tp, tr = settings.stop_loss_pct, settings.take_profit_pct, settings.trailing_stop_pct
    stop = entry_price * (1.0 - sl / 100.0) if sl is not None else -math.inf
    target = entry_price * (1.0 + tp / 100.0) if tp is not None else math.inf
    keep = 1.0 - tr / 100.0 if tr is not None else 0.0
    peak = entry_price
    a, width = start, _FIRST_WINDOW
    while a < end:
        b = min(a + width, end)
        lo, hi = low[a:b], high[a:b]
        if tr is not None:
            peaks = np.empty(b - a)
            peaks[0] = peak
            if b - a > 1:
                np.maximum.accumulate(hi[:-1], out=peaks[1:])
                np.maximum(peaks[1:], peak, out=peaks[1:])
            trail = peaks * keep
            floor = np.maximum(trail, stop)
            down = lo <= floor
        else:
            down = lo <= stop
        up = hi >= target
        hit = down | up
        i = int(np.argmax(hit))
        if hit[i]:
            k = a + i
            level = float(floor[i]) if tr is not None else stop
            down_reason = _TRAIL if tr is not None and float(trail[i]) > stop else _STOP
            o = float(open_[k])
            if down[i] and o <= level:
                return _Exit(k, o, down_reason, False)
            if up[i] and o >= target:
                return _Exit(k, o, _TARGET, False)
            if down[i] and up[i]:
                if settings.intrabar is IntrabarOrder.PESSIMISTIC:
                    return _Exit(k, level, down_reason, True)
                return _Exit(k, target, _TARGET, True)
            if down[i]:
                return _Exit(k, level, down_reason, False)
            return _Exit(k, target, _TARGET, False)
        if tr is not None:
            peak = max(peak, float(hi.max()))
        a, width = b, width * 4
    return None


def _trades_with_exits(
    nz: np.ndarray,
    is_buy_sig: np.ndarray,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    fill_src: np.ndarray,
    n: int,
    shift: int,
    settings: BacktestSettings,
    source: str,
) -> tuple[_Trades, np.ndarray, int]:
    """Trade by trade, each ending at its signal exit or at the first bar that hits a stop or
    target (rules 8-11); whole or fractional shares. Also the exit reasons (int8 codes) and the
    number of ambiguous bars."""
    m = nz.shape[0]
    empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0)
    if m == 0:
        return (empty_i, empty_f, empty_f, empty_f, empty_f, empty_i, empty_f, empty_f,
                empty_f), np.zeros(0, dtype=np.int8), 0
    fill_bar_all = nz + shift
    raw = fill_src[np.minimum(fill_bar_all, n - 1)]
    next_buy = _next_true(is_buy_sig).tolist()
    next_sell = _next_true(~is_buy_sig).tolist()
    bars = fill_bar_all.tolist()
    prices = raw.tolist()
    after = 1 - shift  # NEXT_OPEN checks the entry bar itself; CLOSE starts at the next bar

    cash = float(settings.initial_cash)
    c = settings.commission
    up = 1.0 + settings.slippage
    down = 1.0 - settings.slippage
    e_bar, pe, qty_l, comm_e, cash_ae = [], [], [], [], []
    x_bar, px, comm_x, cash_ax, reasons = [], [], [], [], []
    ambiguous = 0
    p = next_buy[0]
    while p < m:
        j = bars[p]
        if j >= n:
            break
        price = prices[p] * up
        if not MIN_PRICE <= prices[p] <= MAX_PRICE:
            _check_fill_prices(np.array([prices[p]]), np.array([j]), source)
        q = entry_quantity(cash, price, settings)
        if not math.isfinite(q):
            raise _equity_overflow()
        if q <= 0.0:
            p = next_buy[p + 1]  # too expensive: stay flat, the next sell is ignored
            continue
        commission = q * price * c
        cash -= q * price + commission
        e_bar.append(j)
        pe.append(price)
        qty_l.append(q)
        comm_e.append(commission)
        cash_ae.append(cash)
        s = next_sell[p + 1]
        signal_exit = bars[s] if s < m and bars[s] < n else n
        hit = _find_exit(open_, high, low, j + after, min(signal_exit + after, n), price,
                         settings)
        if hit is not None:
            x, raw_x, reason = hit.bar, hit.raw_price, hit.reason
            ambiguous += hit.ambiguous
            if not MIN_PRICE <= raw_x <= MAX_PRICE:
                _check_fill_prices(np.array([raw_x]), np.array([x]), "open")
            # flat from this bar on: the next buy signal read at or after its close
            p = next_buy[int(np.searchsorted(nz, x, side="left"))]
        elif signal_exit < n:
            x, raw_x, reason = signal_exit, prices[s], 0
            if not MIN_PRICE <= raw_x <= MAX_PRICE:
                _check_fill_prices(np.array([raw_x]), np.array([x]), source)
            p = next_buy[s + 1]
        else:
            break  # open at the end
        price = raw_x * down
        commission = q * price * c
        cash += q * price - commission
        x_bar.append(x)
        px.append(price)
        comm_x.append(commission)
        cash_ax.append(cash)
        reasons.append(reason)
    trades = (
        np.array(e_bar, dtype=np.int64),
        np.array(pe, dtype=np.float64),
        np.array(qty_l, dtype=np.float64),
        np.array(comm_e, dtype=np.float64),
        np.array(cash_ae, dtype=np.float64),
        np.array(x_bar, dtype=np.int64),
        np.array(px, dtype=np.float64),
        np.array(comm_x, dtype=np.float64),
        np.array(cash_ax, dtype=np.float64),
    )
    return trades, np.array(reasons, dtype=np.int8), ambiguous


def compute_metrics(
    equity: np.ndarray,
    position: np.ndarray,
    close: np.ndarray,
    timestamps_ns: np.ndarray | None,
    round_trips: RoundTripColumns,
    settings: BacktestSettings,
) -> BacktestMetrics:
    """Metrics of an equity curve (rules in the module docstring), usable on its own."""
    equity = np.asarray(equity, dtype=np.float64)
    if equity.shape[0] == 0:
        raise BacktestError("There are no bars to measure; run the backtest on at least one bar.")
    close = np.asarray(close, dtype=np.float64)
    _check_close(close)
    with np.errstate(all="ignore"):
        return _metrics(
            equity,
            close,
            timestamps_ns,
            np.asarray(round_trips.pnl, dtype=np.float64),
            np.asarray(round_trips.is_open, dtype=bool),
            initial_cash=settings.initial_cash,
            periods_per_year=settings.periods_per_year,
            exposure_bars=int(np.count_nonzero(np.asarray(position) > 0)),
        )


# Per-bar work runs over chunks of this many bars through small buffers: the data stay in the
# CPU cache and no bar-sized temporary is allocated (fresh pages cost more than the maths).
_CHUNK = 32_768
# Drawdown block (see _min_ratio_to_peak); _CHUNK is a multiple of it.
_DD_BLOCK = 512


class _CurveSums(NamedTuple):
    total: float
    """sum of r, r = equity[1:] / equity[:-1] - 1"""
    total_sq: float
    """sum of r^2"""
    down_sq: float
    """sum of min(r, 0)^2"""
    block_max: np.ndarray
    """max of each whole _DD_BLOCK of the equity"""
    block_min: np.ndarray


def _curve_pass(
    equity: np.ndarray, position: np.ndarray | None = None, close: np.ndarray | None = None
) -> _CurveSums:
    """One streaming pass over the equity, chunk by chunk while it is in cache.

    With ``position`` and ``close`` it first completes the equity in place (equity holds the
    cash; ``equity += position * close``). Then it sums the returns for Sharpe and Sortino and
    takes the block extremes for the drawdown.

    Sums of squares use ``einsum``, not ``np.dot``: OpenBLAS runs a dot product of more than
    10,000 elements on its own threads, whose spinning made a backtest up to ten times slower on
    a busy machine or beside other backtests running in threads (a sweep).
    """
    n = equity.shape[0]
    size = min(n, _CHUNK)
    prod = np.empty(size)
    ret = np.empty(size)
    neg = np.empty(size)
    nb = n // _DD_BLOCK
    block_max = np.empty(nb)
    block_min = np.empty(nb)
    total = total_sq = down_sq4 = 0.0
    for lo in range(0, n, _CHUNK):
        hi = min(lo + _CHUNK, n)
        if position is not None and close is not None:
            t = prod[: hi - lo]
            np.multiply(position[lo:hi], close[lo:hi], out=t)
            equity[lo:hi] += t
        first = max(lo, 1)  # returns ending at bars first..hi-1
        if hi > first:
            r = ret[: hi - first]
            d = neg[: hi - first]
            np.divide(equity[first:hi], equity[first - 1 : hi - 1], out=r)
            r -= 1.0
            total += float(r.sum())
            total_sq += float(np.einsum("i,i->", r, r))
            # r - |r| is exactly 2r where r < 0 and 0 elsewhere (faster than np.minimum).
            np.abs(r, out=d)
            np.subtract(r, d, out=d)
            down_sq4 += float(np.einsum("i,i->", d, d))
        b0, b1 = lo // _DD_BLOCK, min(hi // _DD_BLOCK, nb)
        if b1 > b0:
            blocks = equity[b0 * _DD_BLOCK : b1 * _DD_BLOCK].reshape(b1 - b0, _DD_BLOCK)
            blocks.max(axis=1, out=block_max[b0:b1])
            blocks.min(axis=1, out=block_min[b0:b1])
    return _CurveSums(total, total_sq, down_sq4 / 4.0, block_max, block_min)


def _equity_overflow(too_small: bool = False) -> BacktestError:
    where = "shrinks below the smallest" if too_small else "grows beyond the largest"
    return BacktestError(
        f"This backtest's equity {where} number a float64 can hold: the prices compound over "
        "too many orders of magnitude; backtest fewer bars or check the bars for bad prices."
    )


def _check_equity_range(equity: np.ndarray, sums: _CurveSums) -> None:
    """Equity is positive and finite by construction unless the arithmetic over- or underflowed.
    Checked with the block extremes ``_curve_pass`` took, plus the few bars after the last block."""
    tail = equity[sums.block_max.shape[0] * _DD_BLOCK :]
    # numpy's max and min propagate NaN (Python's do not)
    hi = float(np.concatenate((sums.block_max, tail)).max())
    lo = float(np.concatenate((sums.block_min, tail)).min())
    if not hi < math.inf:  # inf or NaN
        raise _equity_overflow()
    if not lo > 0.0:
        raise _equity_overflow(too_small=True)


def _span_ns(timestamps: np.ndarray) -> int:
    """Nanoseconds from the first to the last timestamp (int64 ns, or numpy datetime64)."""
    ends = np.asarray(timestamps)[[0, -1]]
    if ends.dtype.kind == "M":
        ends = ends.astype("datetime64[ns]").astype(np.int64)
    return int(ends[1]) - int(ends[0])


def _min_ratio_to_peak(
    equity: np.ndarray, block_max: np.ndarray, block_min: np.ndarray, start_peak: float
) -> float:
    """min over k of equity[k] / max(start_peak, max(equity[:k+1])), exactly, without a full
    running max. ``start_peak`` is the starting cash: the peak before the first bar.

    ``np.maximum.accumulate`` is a scalar loop (the slowest pass of a backtest). Instead, with
    the maxima and minima of whole blocks of ``_DD_BLOCK`` bars (from ``_curve_pass``): the peak
    before each block is a cumulative max over the few block maxima. The ratio at each block's
    first bar is exact and bounds the answer from above; a block can hold a lower ratio only if
    its minimum over max(peak before it, its own maximum) is below that bound, and only those
    candidate blocks get an exact running max. The values compared are the same floats as in
    the direct formula, so the result is identical.
    """
    n = equity.shape[0]
    size = _DD_BLOCK
    nb = block_max.shape[0]

    def direct() -> float:
        peak = np.maximum.accumulate(equity)
        np.maximum(peak, start_peak, out=peak)
        return float((equity / peak).min())

    if nb < 8:
        return direct()
    main = equity[: nb * size].reshape(nb, size)
    prefix = np.empty(nb)
    prefix[0] = start_peak
    np.maximum.accumulate(block_max[:-1], out=prefix[1:])
    np.maximum(prefix, start_peak, out=prefix)
    starts = main[:, 0]
    best = float((starts / np.maximum(prefix, starts)).min())
    lower = block_min / np.maximum(prefix, block_max)
    cand = np.flatnonzero(lower < best)
    if cand.shape[0] > nb // 4:
        return direct()
    if cand.shape[0]:
        blocks = main[cand]
        peak = np.maximum.accumulate(blocks, axis=1)
        np.maximum(peak, prefix[cand, None], out=peak)
        best = min(best, float((blocks / peak).min()))
    if n > nb * size:
        tail = equity[nb * size :]
        peak = np.maximum(np.maximum.accumulate(tail), max(float(block_max.max()), start_peak))
        best = min(best, float((tail / peak).min()))
    return best


def _metrics(
    equity: np.ndarray,
    close: np.ndarray,
    timestamps_ns: np.ndarray | None,
    pnl: np.ndarray,
    is_open: np.ndarray,
    *,
    initial_cash: float,
    periods_per_year: float,
    exposure_bars: int,
    sums: _CurveSums | None = None,
) -> BacktestMetrics:
    n = int(equity.shape[0])
    if sums is None:
        sums = _curve_pass(equity)
    final = float(equity[-1])
    ratio = final / initial_cash

    cagr: float | None = None
    if timestamps_ns is not None:
        span_ns = _span_ns(timestamps_ns)
        if span_ns > 0 and ratio > 0:
            try:
                cagr = (ratio ** (_NS_PER_YEAR / span_ns) - 1.0) * 100.0
            except OverflowError:
                cagr = None
            if cagr is not None and not math.isfinite(cagr):
                cagr = None

    sharpe: float | None = None
    sortino: float | None = None
    m = n - 1
    if m >= 1:
        total, total_sq, down_sq = sums.total, sums.total_sq, sums.down_sq
        if not math.isfinite(total + total_sq):
            raise BacktestError(
                "The equity curve is not a finite number on every bar (a close price is missing, "
                "infinite or not positive); clean or re-import the bars before backtesting."
            )
        mean = total / m
        down_var = down_sq / m
        annual = math.sqrt(periods_per_year)
        if down_var > 0:
            sortino = mean / math.sqrt(down_var) * annual
        if m >= 2:
            # One-pass variance: it loses precision only when the returns are nearly constant
            # (variance tiny next to mean^2), never the case for a traded curve; a flat curve
            # gives exactly 0.
            var = max(total_sq - m * mean * mean, 0.0) / (m - 1)
            if var > 0:
                sharpe = mean / math.sqrt(var) * annual

    # min over k of (x_k - 1) == min(x_k) - 1 exactly.
    max_dd = (
        _min_ratio_to_peak(equity, sums.block_max, sums.block_min, initial_cash) - 1.0
    ) * 100.0

    closed = pnl[~is_open]
    win_rate: float | None = None
    profit_factor: float | None = None
    if closed.shape[0]:
        wins = closed[closed > 0]
        win_rate = wins.shape[0] / closed.shape[0] * 100.0
        gross_loss = -float(closed[closed < 0].sum())
        if gross_loss > 0:
            profit_factor = float(wins.sum()) / gross_loss

    return BacktestMetrics(
        total_return_pct=(ratio - 1.0) * 100.0,
        cagr_pct=cagr,
        max_drawdown_pct=max_dd,
        sharpe=sharpe,
        sortino=sortino,
        win_rate_pct=win_rate,
        profit_factor=profit_factor,
        round_trips=int(pnl.shape[0]),
        exposure_pct=exposure_bars / n * 100.0,
        buy_and_hold_return_pct=(float(close[-1]) / float(close[0]) - 1.0) * 100.0,
        final_equity=final,
    )
