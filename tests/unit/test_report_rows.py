"""A run's fills, round trips and signals are built only as they are read (``Rows``), and the
round trips of a stored run are rebuilt from its packed fills exactly as the engine made them."""

from __future__ import annotations

import numpy as np
import pytest

from kash_tui.domains.trading import BacktestSettings, FillColumns, RoundTrip, SignalColumns
from kash_tui.domains.trading.engine import run_backtest
from kash_tui.domains.trading.service import Rows


def _built() -> tuple[Rows, list[tuple[int, int]]]:
    calls: list[tuple[int, int]] = []

    def build(start: int, stop: int) -> list[int]:
        calls.append((start, stop))
        return [i * 10 for i in range(start, stop)]

    return Rows(1000, build), calls


def test_slices_and_indexes_build_only_the_rows_asked_for() -> None:
    rows, calls = _built()
    assert len(rows) == 1000 and calls == []
    assert rows[-3:] == (9970, 9980, 9990)
    assert rows[5] == 50 and rows[-1] == 9990
    assert rows[990:2000] == tuple(range(9900, 10000, 10))
    assert rows[10:5] == ()
    assert calls == [(997, 1000), (5, 6), (999, 1000), (990, 1000)]
    with pytest.raises(IndexError):
        rows[1000]
    with pytest.raises(IndexError):
        rows[-1001]


def test_iteration_builds_everything_once_and_compares_like_a_tuple() -> None:
    rows, calls = _built()
    assert list(rows)[:2] == [0, 10]
    assert sum(rows) == sum(range(0, 10000, 10))
    assert calls == [(0, 1000)]
    assert rows[::100] == tuple(range(0, 10000, 1000))
    assert rows == tuple(range(0, 10000, 10))
    assert rows != tuple(range(0, 9990, 10))
    assert Rows(0, lambda a, b: []) == ()
    assert calls == [(0, 1000)]


def _python_round_trips(fills, last_close: float) -> tuple[RoundTrip, ...]:  # noqa: ANN001
    """The pairing as it was written before the columns: one object at a time."""
    trips, entry = [], None
    for f in fills:
        if f.side == "buy":
            entry = f
            continue
        cost = entry.qty * entry.price + entry.commission
        pnl = (f.qty * f.price - f.commission) - cost
        trips.append(RoundTrip(entry.bar_index, f.bar_index, entry.price, f.price, entry.qty,
                               pnl, pnl / cost * 100.0 if cost else 0.0, False))
        entry = None
    if entry is not None:
        cost = entry.qty * entry.price + entry.commission
        pnl = entry.qty * last_close - cost
        trips.append(RoundTrip(entry.bar_index, None, entry.price, None, entry.qty, pnl,
                               pnl / cost * 100.0 if cost else 0.0, True))
    return tuple(trips)


@pytest.mark.parametrize("ends_open", [False, True])
def test_round_trips_from_stored_fills_equal_the_engines(ends_open: bool) -> None:
    rng = np.random.default_rng(7)
    n = 200_000
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, n)))
    open_ = np.r_[100.0, close[:-1]]
    high, low = np.maximum(open_, close) * 1.001, np.minimum(open_, close) * 0.999
    signals = rng.choice(np.array([-1, 0, 1], dtype=np.int8), n, p=[0.02, 0.96, 0.02])
    signals[-10:] = 0
    signals[-8], signals[-3] = (-1, 1) if ends_open else (1, -1)
    ts = np.arange(n, dtype=np.int64) * 60_000_000_000
    result = run_backtest(open_, high, low, close, ts, signals,
                          BacktestSettings(commission=0.0001, whole_shares=True))
    fc = result.fill_columns
    assert len(fc) > 3_000
    rebuilt = fc.round_trips(float(close[-1]))
    assert rebuilt.rows() == result.round_trips
    assert rebuilt.rows() == _python_round_trips(result.fills, float(close[-1]))
    assert bool(rebuilt.is_open[-1]) is ends_open


def test_fills_that_do_not_alternate_are_refused() -> None:
    two_buys = FillColumns(
        bar_index=np.array([1, 2]), is_buy=np.array([True, True]), qty=np.ones(2),
        price=np.ones(2), commission=np.zeros(2),
    )
    with pytest.raises(ValueError, match="alternate"):
        two_buys.round_trips(1.0)


def test_signal_rows_carry_bar_time_side_and_price() -> None:
    ts = np.array([0, 86_400, 172_800], dtype=np.int64) * 1_000_000_000
    cols = SignalColumns(index=np.array([0, 2]), kind=np.array([1, -1], dtype=np.int8),
                         price=np.array([10.0, np.nan]), timestamps=ts)
    first, last = cols.rows()
    assert (first.index, first.type.value, first.price) == (0, "buy", 10.0)
    assert (last.index, last.type.value) == (2, "sell")
    assert last.time.isoformat() == "1970-01-03T00:00:00+00:00"
    assert np.isnan(last.price)
