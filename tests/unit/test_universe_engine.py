"""The shared-cash universe simulation: a hand-checked case and invariants on random ones."""

from __future__ import annotations

import numpy as np
import pytest

from kash_tui.domains.trading import BacktestSettings, FillModel
from kash_tui.domains.trading.universe import SymbolBars, simulate_universe

DAY = 86_400 * 1_000_000_000


def _bars(symbol: str, days: list[int], prices: list[float]) -> SymbolBars:
    p = np.asarray(prices, dtype=np.float64)
    return SymbolBars(symbol, np.asarray(days, dtype=np.int64) * DAY, p, p, p, p, np.ones_like(p))


def test_hand_checked_equal_weights_slots_ties_and_missing_bars() -> None:
    # A and B trade every day 0..5; C has no bar on day 2.
    a = _bars("A", [0, 1, 2, 3, 4, 5], [10, 10, 12, 12, 12, 12])
    b = _bars("B", [0, 1, 2, 3, 4, 5], [20, 20, 22, 22, 22, 22])
    c = _bars("C", [0, 1, 3, 4, 5], [50, 50, 50, 50, 50])
    signals = [
        np.array([1, -1, 0, 0, 0, 0], dtype=np.int8),  # buy fills day 1 at 10, sell day 2 at 12
        np.array([1, 0, 1, 0, 0, 0], dtype=np.int8),  # buy day 1 at 20; the 2nd buy: already long
        np.array([1, 1, 0, 0, 0], dtype=np.int8),  # day 1: no free slot; day 3 (its next bar)
    ]
    r = simulate_universe([a, b, c], signals, BacktestSettings(initial_cash=10_000),
                          max_positions=2)
    # day 1: A then B (same signal time: universe order), each min(cash, 10,000 / 2) = 5,000;
    # C finds both slots taken. Day 2: A sold at 12. Day 3: C gets min(6,000, (6,000 + 250 x 22
    # marked at B's last close) / 2) = 5,750 -> 115 shares.
    fills = r.fills
    assert [("ABC"[k], bool(buy), q, p) for k, buy, q, p in zip(
        r.fill_symbols, fills.is_buy, fills.qty, fills.price, strict=True)] == [
        ("A", True, 500.0, 10.0), ("B", True, 250.0, 20.0), ("A", False, 500.0, 12.0),
        ("C", True, 115.0, 50.0)]
    assert fills.bar_index.tolist() == [1, 1, 2, 3]
    assert r.cash.tolist() == [10_000, 0, 6_000, 250, 250, 250]
    assert r.equity.tolist() == [10_000, 10_000, 11_500, 11_500, 11_500, 11_500]
    assert r.open_positions.tolist() == [0, 2, 1, 2, 2, 2]
    by = {x.symbol: x for x in r.breakdown}
    assert (by["A"].pnl, by["B"].pnl, by["C"].pnl) == (1_000.0, 500.0, 0.0)
    assert (by["C"].skipped_no_slot, by["C"].round_trips, by["B"].open_qty) == (1, 1, 250.0)
    assert r.metrics.final_equity == 11_500
    assert r.metrics.total_return_pct == pytest.approx(15.0)
    assert r.metrics.round_trips == 3
    assert r.trips.is_open.tolist() == [False, True, True]


def test_earlier_signal_wins_a_slot_over_universe_order() -> None:
    # B's signal is a bar older (A has no bar on day 1), so B fills first though A is listed first
    a = _bars("A", [0, 2, 3], [10, 10, 10])
    b = _bars("B", [0, 1, 2, 3], [10, 10, 10, 10])
    signals = [np.array([1, 0, 0], dtype=np.int8), np.array([0, 1, 0, 0], dtype=np.int8)]
    # both fill on day 2: A's signal was on day 0, B's on day 1 -> A first
    r = simulate_universe([a, b], signals, BacktestSettings(), max_positions=1)
    assert r.fill_symbols.tolist() == [0]
    signals = [np.array([0, 1, 0], dtype=np.int8), np.array([0, 1, 0, 0], dtype=np.int8)]
    # A's signal on day 2 fills day 3; B's on day 1 fills day 2 -> B holds the only slot
    r = simulate_universe([a, b], signals, BacktestSettings(), max_positions=1)
    assert r.fill_symbols.tolist() == [1]
    assert r.breakdown[0].skipped_no_slot == 1


@pytest.mark.parametrize("whole", [False, True])
@pytest.mark.parametrize("fill", [FillModel.NEXT_OPEN, FillModel.CLOSE])
def test_cash_never_negative_and_entries_never_above_one_slot(whole: bool, fill: FillModel) -> None:
    rng = np.random.default_rng(7)
    bars, signals = [], []
    for k in range(12):
        days = np.sort(rng.choice(400, size=300, replace=False))
        close = 50 * np.exp(np.cumsum(rng.normal(0, 0.03, size=300)))
        opens = close * np.exp(rng.normal(0, 0.01, size=300))
        bars.append(SymbolBars(f"S{k}", days * DAY, opens, close, close, close, close))
        signals.append(rng.choice([-1, 0, 0, 0, 1], size=300).astype(np.int8))
    settings = BacktestSettings(initial_cash=25_000, commission=0.002, slippage=0.001,
                                whole_shares=whole, fill_model=fill)
    n_max = 4
    r = simulate_universe(bars, signals, settings, max_positions=n_max)
    assert (r.cash >= 0).all()
    assert r.open_positions.max() == n_max  # the slots fill up, never beyond
    assert (r.open_positions <= n_max).all()
    # every entry costs at most the equity of the time before it / N (marked at last closes)
    fc = r.fills
    buys = np.flatnonzero(fc.is_buy)
    cost = fc.qty[buys] * fc.price[buys] * (1 + settings.commission)
    before = np.maximum(fc.bar_index[buys] - (1 if fill is FillModel.NEXT_OPEN else 0), 0)
    assert (cost <= r.equity[before] / n_max * 1.2 + 1e-6).all()
    total_pnl = sum(b.pnl for b in r.breakdown)
    assert total_pnl == pytest.approx(r.metrics.final_equity - settings.initial_cash)
    if whole:
        assert (fc.qty == np.floor(fc.qty)).all()
