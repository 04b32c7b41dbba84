"""A strategy across a universe of symbols with shared cash (private to the trading domain).

Each symbol's signals come from the strategy run on that symbol's own bars (the same code as a
single backtest, one job per symbol through the ``GridExecutor``). Then one pass over the fills,
in time order, shares the cash.

Rules
-----
1. Time line. The bars of all symbols are aligned on their timestamps: the run's time line is
   the sorted union of every symbol's bar times. A symbol without a bar at a time (not listed
   yet, a halt, a holiday of its exchange) has no signal and no fill there; an open position of
   it is marked at its last close until its next bar (forward fill).
2. Fills. As in a single backtest (same ``FillModel``): a signal at the close of a symbol's bar
   fills at the open of that symbol's next bar (``next_open``), or at that close (``close``).
   Slippage and commission as in the engine. Long only, one position per symbol.
3. Order of the fills of one time: sells first (they free cash and slots), then buys, ranked by
   the time of their signal (earlier first: the order of arrival), ties broken by the symbol's
   place in the universe (its order as listed).
4. At most ``max_positions`` positions are open at once. A buy with no free slot is skipped and
   counted per symbol (the sell that would have closed it is then ignored, as in the engine).
5. Equal weight: an entry is sized to ``min(cash, equity / max_positions)`` times
   ``position_size_pct`` / 100, through the engine's own ``entry_quantity`` (so whole shares are
   floored the same way). ``equity`` is the cash plus every open position marked at its last
   close before the fill (at the fill's close with ``close`` fills). Every slot is thus worth
   1/N of the portfolio when it is taken; a slot taken when the others have grown gets what cash
   is left, so cash never goes negative. An entry that buys nothing (no cash, or less than one
   whole share) is skipped and counted.
6. Equity at a time = cash + each open position x its symbol's last close at or before it.
   Metrics are the engine's ``compute_metrics`` over that curve; exposure counts the times with
   any position open; buy and hold is the mean of the symbols' own buy-and-hold returns (equal
   weight, each from its first bar to its last).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kash_tui.domains.trading.engine import checked_signals, compute_metrics
from kash_tui.domains.trading.service import (
    MAX_PRICE,
    MIN_PRICE,
    BacktestError,
    BacktestMetrics,
    BacktestSettings,
    FillColumns,
    FillModel,
    RoundTripColumns,
    UniverseSymbolResult,
    entry_quantity,
)

__all__ = ["SymbolBars", "UniverseResult", "simulate_universe", "symbol_signals", "union_times"]


@dataclass(frozen=True, eq=False)
class SymbolBars:
    """One symbol's bars as the universe job needs them (picklable, for any executor)."""

    symbol: str
    timestamps: np.ndarray
    """int64 ns UTC."""
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return int(self.close.shape[0])


def symbol_signals(strategy, bars: SymbolBars) -> np.ndarray:  # noqa: ANN001
    """The job of a universe run: the strategy's checked signals on one symbol's bars."""
    return checked_signals(strategy.generate_signals(bars), len(bars))


@dataclass(frozen=True, eq=False)
class UniverseResult:
    timestamps: np.ndarray
    """int64 ns UTC: the union of the symbols' bar times."""
    equity: np.ndarray
    cash: np.ndarray
    """Cash at each time's close (never negative)."""
    open_positions: np.ndarray
    """int32: positions open at each time's close (never above max_positions)."""
    metrics: BacktestMetrics
    fills: FillColumns
    """bar_index: index into ``timestamps``."""
    fill_symbols: np.ndarray
    """int32 index into the symbols of each fill."""
    fill_signal_index: np.ndarray
    """int64 time index of the signal behind each fill."""
    trips: RoundTripColumns
    trip_symbols: np.ndarray
    signal_index: np.ndarray
    signal_kind: np.ndarray
    signal_price: np.ndarray
    signal_symbols: np.ndarray
    last_closes: np.ndarray
    """float64 last close of each symbol (open trips are marked to it)."""
    open_qty: np.ndarray
    """float64 quantity each symbol holds at the end."""
    breakdown: tuple[UniverseSymbolResult, ...]


# Forward-filled closes kept for marking held symbols during the fill pass: at most this many
# float64 values (128 MB) per simulation; beyond it marks are found by binary search.
_DENSE_MARKS_BUDGET = 16_000_000


def _bad_price(symbol: str, ts: int, value: float, source: str) -> BacktestError:
    when = np.datetime_as_string(np.datetime64(ts // 1_000_000_000, "s"), unit="s")
    return BacktestError(
        f"{symbol} has an invalid {source} price ({value!r}) at {when}Z where a fill is due "
        f"(prices must be numbers from {MIN_PRICE:.0e} to {MAX_PRICE:.0e}); clean or "
        "re-import its bars before backtesting.".replace("e+", "e")
    )


def union_times(bars: list[SymbolBars]) -> np.ndarray:
    """The sorted union of the symbols' bar times (int64 ns). Each symbol's times are sorted,
    so a stable sort (a merge of sorted runs) and a mask of the changes is all it takes."""
    if not bars:
        return np.empty(0, dtype=np.int64)
    times = np.sort(np.concatenate([np.asarray(b.timestamps, dtype=np.int64) for b in bars]),
                    kind="stable")
    keep = np.empty(times.shape[0], dtype=bool)
    keep[:1] = True
    np.not_equal(times[1:], times[:-1], out=keep[1:])
    return times[keep]


def simulate_universe(
    bars: list[SymbolBars],
    signals: list[np.ndarray],
    settings: BacktestSettings,
    max_positions: int,
    union: np.ndarray | None = None,
) -> UniverseResult:
    """Run the shared-cash simulation (rules in the module docstring). ``union``: the bars'
    ``union_times`` when the caller has them already (a grid of runs over the same bars)."""
    with np.errstate(all="ignore"):
        return _simulate(bars, signals, settings, max_positions, union)


def _simulate(
    bars: list[SymbolBars],
    signals: list[np.ndarray],
    settings: BacktestSettings,
    max_positions: int,
    union: np.ndarray | None = None,
) -> UniverseResult:
    if not bars:
        raise BacktestError("The universe has no symbols with bars; fetch or import bars first.")
    if max_positions < 1:
        raise BacktestError(f"--max-positions must be 1 or more (got {max_positions}).")
    k_count = len(bars)
    if union is None:
        union = union_times(bars)
    u_len = int(union.shape[0])
    next_open = settings.fill_model is FillModel.NEXT_OPEN
    shift = 1 if next_open else 0
    own_to_u = [np.searchsorted(union, b.timestamps) for b in bars]

    # Every candidate fill: (fill time, side, signal time, symbol, own fill bar).
    ev_fill, ev_buy, ev_sig, ev_sym, ev_bar = [], [], [], [], []
    sig_idx, sig_kind, sig_price, sig_sym = [], [], [], []
    for k, (b, sig) in enumerate(zip(bars, signals, strict=True)):
        nz = np.flatnonzero(sig)
        sig_idx.append(own_to_u[k][nz])
        sig_kind.append(sig[nz].astype(np.int8))
        sig_price.append(b.close[nz])
        sig_sym.append(np.full(nz.shape[0], k, dtype=np.int32))
        j = nz + shift
        keep = j < len(b)
        nz, j = nz[keep], j[keep]
        ev_fill.append(own_to_u[k][j])
        ev_buy.append(sig[nz] > 0)
        ev_sig.append(own_to_u[k][nz])
        ev_sym.append(np.full(nz.shape[0], k, dtype=np.int32))
        ev_bar.append(j)
    e_fill = np.concatenate(ev_fill)
    e_buy = np.concatenate(ev_buy)
    e_sig = np.concatenate(ev_sig)
    e_sym = np.concatenate(ev_sym)
    e_bar = np.concatenate(ev_bar)
    # sort keys, last is primary: fill time, sells before buys, signal time, universe order
    order = np.lexsort((e_sym, e_sig, e_buy, e_fill))

    c = settings.commission
    up, down = 1.0 + settings.slippage, 1.0 - settings.slippage
    fill_src = [b.open if next_open else b.close for b in bars]
    source = "open" if next_open else "close"
    cash = float(settings.initial_cash)
    qty = [0.0] * k_count
    entry_at: list[int] = [-1] * k_count  # index of the open trip of each symbol
    held: list[int] = []
    skipped_slots = [0] * k_count
    skipped_cash = [0] * k_count
    # fills
    f_u, f_buy, f_qty, f_price, f_comm, f_sym, f_sig = [], [], [], [], [], [], []
    # trips
    t_entry, t_exit, t_pe, t_px, t_qty, t_cost, t_pnl, t_sym = [], [], [], [], [], [], [], []
    cash_u, cash_v = [], []
    side = "right" if not next_open else "left"

    # Marks: a held symbol's last close before a fill (at or before it with ``close`` fills).
    # A symbol's closes forward-filled over the time line are built once, the first time it is
    # held (the same array values the equity curve uses below); past a memory budget the
    # remaining symbols are looked up by binary search instead. Same values either way.
    dense: dict[int, np.ndarray] = {}
    dense_left = [_DENSE_MARKS_BUDGET]
    back = 1 if next_open else 0
    first_u = [int(o[0]) for o in own_to_u]

    def forward_closes(h: int) -> np.ndarray:
        runs = np.diff(np.append(own_to_u[h], u_len))
        return np.repeat(bars[h].close, runs)  # index t - own_to_u[h][0]: last close at/before t

    def mark(h: int, u: int) -> float:
        found = dense.get(h)
        if found is None and dense_left[0] >= u_len:
            dense_left[0] -= u_len
            found = dense[h] = forward_closes(h)
        if found is not None:
            return float(found[u - back - first_u[h]])
        j = int(np.searchsorted(own_to_u[h], u, side)) - 1
        return float(bars[h].close[j])

    # every candidate fill's values as Python scalars, in the order of the pass
    o_sym = e_sym[order].tolist()
    o_fill = e_fill[order].tolist()
    o_buy = e_buy[order].tolist()
    o_sig = e_sig[order].tolist()
    raw_price = np.empty(e_bar.shape[0], dtype=np.float64)
    at = 0
    for k, part in enumerate(ev_bar):
        raw_price[at:at + part.shape[0]] = fill_src[k][part]
        at += part.shape[0]
    o_raw = raw_price[order].tolist()

    for i in range(len(o_sym)):
        k = o_sym[i]
        u = o_fill[i]
        raw = o_raw[i]
        if o_buy[i]:
            if qty[k] > 0.0:
                continue
            if len(held) >= max_positions:
                skipped_slots[k] += 1
                continue
            if not MIN_PRICE <= raw <= MAX_PRICE:
                raise _bad_price(bars[k].symbol, int(union[u]), raw, source)
            equity = cash + sum(qty[h] * mark(h, u) for h in held)
            budget = min(cash, equity / max_positions)
            price = raw * up
            q = float(entry_quantity(budget, price, settings))
            if not math.isfinite(q) or q <= 0.0:
                skipped_cash[k] += 1
                continue
            comm = q * price * c
            cost = q * price + comm
            if cost > cash:  # float rounding of budget / (p (1 + c)) * p (1 + c)
                if cost - cash > 1e-9 * cash:
                    raise BacktestError("internal error: an entry would cost more than the cash")
                cost = cash
            cash -= cost
            qty[k] = q
            held.append(k)
            entry_at[k] = len(t_entry)
            t_entry.append(u)
            t_exit.append(-1)
            t_pe.append(price)
            t_px.append(math.nan)
            t_qty.append(q)
            t_cost.append(cost)
            t_pnl.append(0.0)
            t_sym.append(k)
        else:
            q = qty[k]
            if q <= 0.0:
                continue
            if not MIN_PRICE <= raw <= MAX_PRICE:
                raise _bad_price(bars[k].symbol, int(union[u]), raw, source)
            price = raw * down
            comm = q * price * c
            cash += q * price - comm
            qty[k] = 0.0
            held.remove(k)
            t = entry_at[k]
            t_exit[t] = u
            t_px[t] = price
            t_pnl[t] = (q * price - comm) - t_cost[t]
        f_u.append(u)
        f_buy.append(o_buy[i])
        f_qty.append(q)
        f_price.append(price)
        f_comm.append(comm)
        f_sym.append(k)
        f_sig.append(o_sig[i])
        if cash_u and cash_u[-1] == u:
            cash_v[-1] = cash
        else:
            cash_u.append(u)
            cash_v.append(cash)

    # cash at each time's close: the value after the last fill at or before it
    bounds = np.concatenate(([0], np.asarray(cash_u, dtype=np.int64), [u_len]))
    cash_curve = np.repeat(np.concatenate(([settings.initial_cash], cash_v)), np.diff(bounds))
    equity = cash_curve.astype(np.float64, copy=True)
    open_count = np.zeros(u_len, dtype=np.int32)
    last_closes = np.array([float(b.close[-1]) for b in bars])
    trip_exit = np.asarray(t_exit, dtype=np.int64)
    trip_entry = np.asarray(t_entry, dtype=np.int64)
    trip_sym = np.asarray(t_sym, dtype=np.int32)
    held_bars = np.zeros(k_count, dtype=np.int64)
    for k in np.unique(trip_sym).tolist():
        mine = np.flatnonzero(trip_sym == k)
        pos = np.zeros(u_len)
        for t in mine.tolist():
            end = trip_exit[t] if trip_exit[t] >= 0 else u_len
            pos[trip_entry[t]:end] = t_qty[t]
            open_count[trip_entry[t]:end] += 1
            held_bars[k] += end - trip_entry[t]
        first = int(own_to_u[k][0])
        marks = dense.get(k)
        if marks is None:
            marks = forward_closes(k)  # last close at or before each time
        equity[first:] += pos[first:] * marks
    for t in np.flatnonzero(trip_exit < 0).tolist():  # open trips: marked at the last close
        t_pnl[t] = t_qty[t] * float(last_closes[trip_sym[t]]) - t_cost[t]
    pnl = np.asarray(t_pnl, dtype=np.float64)
    cost = np.asarray(t_cost, dtype=np.float64)
    trips = RoundTripColumns(
        entry_index=trip_entry,
        exit_index=trip_exit,
        entry_price=np.asarray(t_pe, dtype=np.float64),
        exit_price=np.asarray(t_px, dtype=np.float64),
        qty=np.asarray(t_qty, dtype=np.float64),
        pnl=pnl,
        return_pct=np.where(cost != 0, pnl / np.where(cost != 0, cost, 1.0) * 100.0, 0.0),
        is_open=trip_exit < 0,
    )
    fills = FillColumns(
        bar_index=np.asarray(f_u, dtype=np.int64),
        is_buy=np.asarray(f_buy, dtype=bool),
        qty=np.asarray(f_qty, dtype=np.float64),
        price=np.asarray(f_price, dtype=np.float64),
        commission=np.asarray(f_comm, dtype=np.float64),
    )
    hold_returns = [float(b.close[-1]) / float(b.close[0]) for b in bars]
    bench = np.ones(u_len)
    bench[-1] = float(np.mean(hold_returns)) if u_len > 1 else 1.0
    metrics = compute_metrics(equity, open_count, bench, union, trips, settings)
    if not np.isfinite(equity).all():
        raise BacktestError(
            "This universe's equity leaves the range of a float64; check the bars for bad prices."
        )

    sig_counts = [int(a.shape[0]) for a in sig_idx]
    breakdown = []
    for k, b in enumerate(bars):
        mine = trip_sym == k
        closed = mine & (trip_exit >= 0)
        wins = int(np.count_nonzero(pnl[closed] > 0))
        n_closed = int(np.count_nonzero(closed))
        sym_pnl = float(pnl[mine].sum())
        breakdown.append(UniverseSymbolResult(
            symbol=b.symbol,
            bars=len(b),
            signals=sig_counts[k],
            round_trips=int(np.count_nonzero(mine)),
            skipped_no_slot=skipped_slots[k],
            skipped_no_cash=skipped_cash[k],
            pnl=sym_pnl,
            contribution_pct=sym_pnl / settings.initial_cash * 100.0,
            win_rate_pct=wins / n_closed * 100.0 if n_closed else None,
            exposure_pct=float(held_bars[k]) / u_len * 100.0,
            buy_and_hold_return_pct=(hold_returns[k] - 1.0) * 100.0,
            open_qty=qty[k],
        ))
    return UniverseResult(
        timestamps=union,
        equity=equity,
        cash=cash_curve,
        open_positions=open_count,
        metrics=metrics,
        fills=fills,
        fill_symbols=np.asarray(f_sym, dtype=np.int32),
        fill_signal_index=np.asarray(f_sig, dtype=np.int64),
        trips=trips,
        trip_symbols=trip_sym,
        signal_index=np.concatenate(sig_idx).astype(np.int64),
        signal_kind=np.concatenate(sig_kind),
        signal_price=np.concatenate(sig_price).astype(np.float64),
        signal_symbols=np.concatenate(sig_sym),
        last_closes=last_closes,
        open_qty=np.asarray(qty, dtype=np.float64),
        breakdown=tuple(breakdown),
    )
