"""Stops, targets and trailing stops (engine rules 8-11): hand-computed bars, the intrabar order
on bars that touch both, gaps through a level, and exact agreement with the bar-by-bar
reference (tests/unit/reference_backtest.py) on random series full of gaps and wide bars."""

from __future__ import annotations

import numpy as np
import pytest

from kash_tui.domains.trading.engine import run_backtest
from kash_tui.domains.trading.service import (
    BacktestError,
    BacktestResult,
    BacktestSettings,
    FillModel,
    IntrabarOrder,
)
from tests.unit.reference_backtest import reference_backtest

DAY_NS = 86_400 * 1_000_000_000


def bars(rows: list[tuple[float, float, float, float]]) -> dict[str, np.ndarray]:
    o, h, lo, c = (np.array(col, dtype=np.float64) for col in zip(*rows, strict=True))
    return {"open": o, "high": h, "low": lo, "close": c,
            "ts": np.arange(len(rows), dtype=np.int64) * DAY_NS}


def run(data: dict[str, np.ndarray], signals: list[int], **settings: object) -> BacktestResult:
    return run_backtest(
        data["open"], data["high"], data["low"], data["close"], data["ts"],
        np.array(signals, dtype=np.int8), BacktestSettings(**settings),
    )


def exits(res: BacktestResult) -> list[tuple[int, float, str]]:
    return [(f.bar_index, f.price, f.reason) for f in res.fills if f.side == "sell"]


# --------------------------------------------------------------------------- hand-computed

# Buy signal on bar 0: the entry fills at bar 1's open of 100.
FLAT = (100.0, 101.0, 99.0, 100.0)


def test_stop_fills_at_its_level_inside_the_bar_and_on_the_entry_bar_itself() -> None:
    data = bars([FLAT, (100.0, 101.0, 94.0, 96.0), FLAT])
    res = run(data, [1, 0, 0], stop_loss_pct=5)
    assert exits(res) == [(1, 95.0, "stop")]  # the entry bar's range is after the fill
    assert res.round_trips[0].pnl == pytest.approx(-500.0)
    assert res.position.tolist() == [0.0, 0.0, 0.0]
    assert res.ambiguous_bars == 0


def test_close_fill_model_checks_from_the_bar_after_the_entry() -> None:
    data = bars([(100.0, 101.0, 90.0, 100.0), (100.0, 101.0, 94.0, 96.0)])
    res = run(data, [1, 0], stop_loss_pct=5, fill_model=FillModel.CLOSE)
    assert exits(res) == [(1, 95.0, "stop")]  # bar 0's low of 90 came before the close fill


def test_a_gap_through_the_stop_fills_at_the_open() -> None:
    data = bars([FLAT, FLAT, (90.0, 92.0, 88.0, 91.0)])
    res = run(data, [1, 0, 0], stop_loss_pct=5)
    assert exits(res) == [(2, 90.0, "stop")]


def test_target_at_its_level_and_a_gap_through_it_at_the_open() -> None:
    data = bars([FLAT, FLAT, (105.0, 111.0, 104.0, 106.0)])
    assert exits(run(data, [1, 0, 0], take_profit_pct=10)) == [(2, pytest.approx(110.0), "target")]
    gapped = bars([FLAT, FLAT, (115.0, 118.0, 114.0, 116.0)])
    assert exits(run(gapped, [1, 0, 0], take_profit_pct=10)) == [(2, 115.0, "target")]


def test_a_bar_touching_both_takes_the_stop_unless_optimistic_and_is_counted() -> None:
    data = bars([FLAT, FLAT, (100.0, 112.0, 94.0, 100.0), FLAT])
    pess = run(data, [1, 0, 0, 0], stop_loss_pct=5, take_profit_pct=10)
    assert exits(pess) == [(2, 95.0, "stop")] and pess.ambiguous_bars == 1
    opt = run(data, [1, 0, 0, 0], stop_loss_pct=5, take_profit_pct=10,
              intrabar=IntrabarOrder.OPTIMISTIC)
    assert exits(opt) == [(2, pytest.approx(110.0), "target")] and opt.ambiguous_bars == 1
    assert opt.metrics.total_return_pct == pytest.approx(10.0)
    assert pess.metrics.total_return_pct == pytest.approx(-5.0)


def test_an_open_beyond_one_level_is_not_ambiguous() -> None:
    data = bars([FLAT, FLAT, (94.0, 112.0, 93.0, 100.0)])  # opens through the stop
    res = run(data, [1, 0, 0], stop_loss_pct=5, take_profit_pct=10, intrabar="optimistic")
    assert exits(res) == [(2, 94.0, "stop")] and res.ambiguous_bars == 0


def test_trailing_stop_trails_the_highs_of_earlier_bars_only() -> None:
    data = bars([
        FLAT,
        (100.0, 110.0, 99.0, 108.0),  # entry bar: the high of 110 raises the trail from bar 2
        (108.0, 120.0, 100.5, 118.0),  # trail 110*0.9 = 99: not hit though 120 -> 100.5 is 16 %
        (118.0, 119.0, 107.0, 110.0),  # trail 120*0.9 = 108: hit
        FLAT,
    ])
    res = run(data, [1, 0, 0, 0, 0], trailing_stop_pct=10)
    assert exits(res) == [(3, pytest.approx(108.0), "trail")]


def test_the_fixed_stop_names_the_exit_while_it_is_above_the_trail() -> None:
    data = bars([FLAT, (100.0, 100.5, 96.0, 97.0)])
    res = run(data, [1, 0], stop_loss_pct=3, trailing_stop_pct=5)
    assert exits(res) == [(1, 97.0, "stop")]


def test_a_buy_signal_on_the_bar_of_a_stop_reenters_and_a_later_sell_is_ignored() -> None:
    data = bars([FLAT, (100.0, 101.0, 94.0, 96.0), FLAT, FLAT, FLAT])
    res = run(data, [1, 1, 0, -1, 0], stop_loss_pct=5)
    assert [(f.bar_index, f.side, f.reason) for f in res.fills] == [
        (1, "buy", "signal"), (1, "sell", "stop"), (2, "buy", "signal"), (4, "sell", "signal"),
    ]


def test_without_exits_high_and_low_may_be_missing_but_not_with_them() -> None:
    data = bars([FLAT, FLAT])
    sig = np.array([1, 0], dtype=np.int8)
    run_backtest(data["open"], None, None, data["close"], None, sig)
    with pytest.raises(BacktestError, match="high and low"):
        run_backtest(data["open"], None, None, data["close"], None, sig,
                     BacktestSettings(stop_loss_pct=5))


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"stop_loss_pct": 0}, "Stop loss must be a percent above 0 and below 100"),
    ({"stop_loss_pct": 100}, "--stop-loss 5"),
    ({"trailing_stop_pct": float("nan")}, "Trailing stop must be"),
    ({"take_profit_pct": -1}, "Take profit must be a percent above 0"),
    ({"intrabar": "lucky"}, "Unknown intrabar order 'lucky'; choose one of: pessimistic, optimistic"),
])
def test_bad_exit_settings_are_one_sentence(kwargs: dict, words: str) -> None:
    with pytest.raises(BacktestError, match=words.replace("(", r"\(")):
        BacktestSettings(**kwargs)


def test_exit_settings_round_trip_through_a_dict() -> None:
    s = BacktestSettings(stop_loss_pct=2, take_profit_pct=4.5, trailing_stop_pct=3,
                         intrabar="optimistic")
    assert s.to_dict()["intrabar"] == "optimistic"
    assert BacktestSettings.from_dict(s.to_dict()) == s
    assert BacktestSettings.from_dict({}).has_exits is False


# --------------------------------------------------------------------------- reference equality


def rough_series(n: int, seed: int) -> dict[str, np.ndarray]:
    """A random walk with wide bars (many touch a stop and a target at once), gaps of several
    percent at the open, and frequent signals (repeated buys included)."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.015, n)))
    prev = np.concatenate(([100.0], close[:-1]))
    gap = np.where(rng.random(n) < 0.05, rng.normal(0.0, 0.06, n), rng.normal(0.0, 0.002, n))
    open_ = prev * np.exp(gap)
    wide = np.where(rng.random(n) < 0.1, 0.06, 0.006)
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0.0, wide, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0.0, wide, n)))
    signals = np.zeros(n, dtype=np.int8)
    hit = rng.random(n) < 0.08
    signals[hit] = rng.choice(np.array([-1, 1, 1], dtype=np.int8), size=int(hit.sum()))
    ts = (np.arange(n, dtype=np.int64) + 18_000) * DAY_NS
    return {"open": open_, "high": high, "low": low, "close": close, "ts": ts, "signals": signals}


def assert_exactly_as_reference(data: dict[str, np.ndarray], settings: BacktestSettings) -> int:
    res = run_backtest(data["open"], data["high"], data["low"], data["close"], data["ts"],
                       data["signals"], settings)
    ref = reference_backtest(
        data["open"].tolist(), data["close"].tolist(), data["ts"].tolist(),
        data["signals"].tolist(), high=data["high"].tolist(), low=data["low"].tolist(),
        initial_cash=settings.initial_cash, commission=settings.commission,
        slippage=settings.slippage, position_size_pct=settings.position_size_pct,
        whole_shares=settings.whole_shares, fill_model=settings.fill_model.value,
        periods_per_year=settings.periods_per_year, stop_loss_pct=settings.stop_loss_pct,
        take_profit_pct=settings.take_profit_pct, trailing_stop_pct=settings.trailing_stop_pct,
        intrabar=settings.intrabar.value,
    )
    # the same trades, one float operation for one: bit for bit
    got = [(f.bar_index, f.side, f.reason, f.qty, f.price, f.commission) for f in res.fills]
    want = [(f.bar_index, f.side, f.reason, f.qty, f.price, f.commission) for f in ref.fills]
    assert got == want
    assert res.ambiguous_bars == ref.ambiguous_bars
    assert [(t.entry_index, t.exit_index, t.is_open) for t in res.round_trips] == [
        (t.entry_index, t.exit_index, t.is_open) for t in ref.trips
    ]
    assert res.position.tolist() == ref.position
    np.testing.assert_allclose(res.equity, ref.equity, rtol=1e-12)
    for key, value in ref.metrics.items():
        if value is None or isinstance(value, int):
            assert getattr(res.metrics, key) == value, key
        else:
            assert getattr(res.metrics, key) == pytest.approx(value, rel=1e-9, abs=1e-9), key
    return len(ref.trips)


EXIT_SETS = {
    "stop": {"stop_loss_pct": 3.0},
    "target": {"take_profit_pct": 4.0},
    "stop+target": {"stop_loss_pct": 2.5, "take_profit_pct": 3.0},
    "trail": {"trailing_stop_pct": 4.0},
    "all": {"stop_loss_pct": 2.0, "take_profit_pct": 5.0, "trailing_stop_pct": 4.0},
}


@pytest.mark.parametrize("exit_set", list(EXIT_SETS))
@pytest.mark.parametrize("fill_model", list(FillModel))
@pytest.mark.parametrize("whole_shares", [False, True], ids=["fractional", "whole"])
@pytest.mark.parametrize("intrabar", list(IntrabarOrder))
@pytest.mark.parametrize("seed", [1, 2])
def test_engine_exits_equal_the_reference_exactly(
    exit_set: str, fill_model: FillModel, whole_shares: bool, intrabar: IntrabarOrder,
    seed: int,
) -> None:
    data = rough_series(6_000, seed=seed)
    settings = BacktestSettings(
        initial_cash=30_000.0, commission=0.0005, slippage=0.0003, position_size_pct=90.0,
        whole_shares=whole_shares, fill_model=fill_model, intrabar=intrabar,
        **EXIT_SETS[exit_set],
    )
    assert assert_exactly_as_reference(data, settings) > 100


def test_the_series_really_has_ambiguous_bars_gaps_and_every_reason() -> None:
    data = rough_series(6_000, seed=1)
    settings = BacktestSettings(**EXIT_SETS["all"])
    res = run_backtest(data["open"], data["high"], data["low"], data["close"], data["ts"],
                       data["signals"], settings)
    assert res.ambiguous_bars > 20
    reasons = {f.reason for f in res.fills}
    assert reasons == {"signal", "stop", "target", "trail"}
    gaps = [f for f in res.fills if f.reason != "signal" and f.side == "sell"
            and f.price == data["open"][f.bar_index]]
    assert len(gaps) > 5


@pytest.mark.parametrize("seed", range(3, 11))
def test_random_settings_equal_the_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    data = rough_series(int(rng.integers(50, 3_000)), seed=seed)
    choice = {k: float(rng.uniform(0.5, 12)) for k in ("stop_loss_pct", "take_profit_pct",
                                                       "trailing_stop_pct") if rng.random() < 0.7}
    choice = choice or {"stop_loss_pct": 1.0}
    settings = BacktestSettings(
        initial_cash=float(rng.uniform(50, 50_000)), commission=float(rng.uniform(0, 0.01)),
        slippage=float(rng.uniform(0, 0.01)), position_size_pct=float(rng.uniform(10, 100)),
        whole_shares=bool(rng.random() < 0.5), fill_model=list(FillModel)[int(rng.integers(2))],
        intrabar=list(IntrabarOrder)[int(rng.integers(2))], **choice,
    )
    assert_exactly_as_reference(data, settings)


def test_without_exits_fills_carry_the_signal_reason() -> None:
    data = rough_series(500, seed=4)
    res = run_backtest(data["open"], data["high"], data["low"], data["close"], data["ts"],
                       data["signals"])
    assert res.fill_columns.reason.tolist() == [0] * len(res.fill_columns)
    assert res.ambiguous_bars == 0
