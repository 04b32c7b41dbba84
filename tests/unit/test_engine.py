"""The vectorised backtest engine: hand-computed cases, metrics, validation, and equality with an
independent bar-by-bar reference implementation (tests/unit/reference_backtest.py)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from kash_tui.domains.trading.service import (
    MAX_PRICE,
    MAX_STARTING_CASH,
    MIN_PRICE,
    BacktestError,
    BacktestMetrics,
    BacktestResult,
    BacktestSettings,
    Fill,
    FillModel,
    RoundTrip,
    RoundTripColumns,
)
from kash_tui.domains.trading.engine import compute_metrics, run_backtest
from tests.unit.reference_backtest import reference_backtest

DAY_NS = 86_400 * 1_000_000_000


def run(opens, closes, signals, **settings) -> BacktestResult:
    o = np.array(opens, dtype=np.float64)
    c = np.array(closes, dtype=np.float64)
    ts = np.arange(len(c), dtype=np.int64) * DAY_NS
    return run_backtest(
        o,
        np.maximum(o, c),
        np.minimum(o, c),
        c,
        ts,
        np.array(signals, dtype=np.int8),
        BacktestSettings(**settings),
    )


# --------------------------------------------------------------------------- hand-computed


def test_buy_on_bar_2_fills_at_bar_3_open_and_stays_open_marked_to_last_close() -> None:
    res = run(
        opens=[10, 11, 12, 13, 14],
        closes=[10.5, 11.5, 12.5, 13.5, 14.5],
        signals=[0, 0, 1, 0, 0],
        initial_cash=1000.0,
    )
    qty = 1000 / 13
    assert res.fills == (Fill(bar_index=3, side="buy", qty=pytest.approx(qty), price=13.0, commission=0.0),)
    np.testing.assert_allclose(res.position, [0, 0, 0, qty, qty])
    np.testing.assert_allclose(res.equity, [1000, 1000, 1000, qty * 13.5, qty * 14.5])
    (trip,) = res.round_trips
    assert trip.is_open and trip.exit_index is None and trip.exit_price is None
    assert trip.entry_index == 3 and trip.entry_price == 13.0
    assert trip.pnl == pytest.approx(qty * 14.5 - 1000)  # 115.3846...
    assert trip.return_pct == pytest.approx((14.5 / 13 - 1) * 100)
    assert res.metrics.round_trips == 1
    assert res.metrics.win_rate_pct is None  # no closed trip
    assert res.metrics.exposure_pct == pytest.approx(40.0)
    assert res.metrics.final_equity == pytest.approx(1115.3846153846)


def test_commission_and_slippage_on_two_whole_share_trades() -> None:
    # cash 10,000; commission 0.1 %; slippage 1 %; whole shares; next-open fills.
    res = run(
        opens=[100, 100, 105, 120, 118, 100, 90],
        closes=[100, 102, 110, 118, 115, 95, 92],
        signals=[1, 0, -1, 0, 1, -1, 0],
        initial_cash=10_000.0,
        commission=0.001,
        slippage=0.01,
        whole_shares=True,
    )
    # Trade 1: buy at bar 1 open 100 -> 101.00; floor(10000 / (101 * 1.001)) = 98 shares;
    #   notional 9898, commission 9.898, cash 92.102.
    # Sell at bar 3 open 120 -> 118.80; notional 11642.4, commission 11.6424, cash 11722.8596.
    # Trade 2: buy at bar 5 open 100 -> 101.00; floor(11722.8596 / 101.101) = 115 shares;
    #   notional 11615, commission 11.615, cash 96.2446.
    # Sell at bar 6 open 90 -> 89.10; notional 10246.5, commission 10.2465, cash 10332.4981.
    fills = res.fills
    assert [(f.bar_index, f.side, f.qty) for f in fills] == [
        (1, "buy", 98.0),
        (3, "sell", 98.0),
        (5, "buy", 115.0),
        (6, "sell", 115.0),
    ]
    np.testing.assert_allclose([f.price for f in fills], [101.0, 118.8, 101.0, 89.1])
    np.testing.assert_allclose([f.commission for f in fills], [9.898, 11.6424, 11.615, 10.2465])
    np.testing.assert_allclose(
        res.equity,
        [
            10_000.0,
            92.102 + 98 * 102,  # 10088.102
            92.102 + 98 * 110,  # 10872.102
            11_722.8596,
            11_722.8596,
            96.2446 + 115 * 95,  # 11021.2446
            10_332.4981,
        ],
        rtol=1e-12,
    )
    np.testing.assert_array_equal(res.position, [0, 98, 98, 0, 0, 115, 0])
    t1, t2 = res.round_trips
    assert t1.pnl == pytest.approx(1722.8596)  # 11630.7576 - 9907.898
    assert t1.return_pct == pytest.approx(1722.8596 / 9907.898 * 100)
    assert t2.pnl == pytest.approx(-1390.3615)  # 10236.2535 - 11626.615
    assert t2.return_pct == pytest.approx(-1390.3615 / 11626.615 * 100)
    assert not t1.is_open and not t2.is_open
    assert (t1.entry_index, t1.exit_index, t1.exit_price) == (1, 3, pytest.approx(118.8))
    m = res.metrics
    assert m.final_equity == pytest.approx(10_332.4981)
    assert m.total_return_pct == pytest.approx(3.324981)
    assert m.win_rate_pct == pytest.approx(50.0)
    assert m.profit_factor == pytest.approx(1722.8596 / 1390.3615)
    assert m.exposure_pct == pytest.approx(3 / 7 * 100)  # bars 1, 2 and 5


def test_fractional_commission_uses_the_whole_allocation() -> None:
    # 1000 / (100 * 1.01) = 9.90099 shares; notional 990.099 + commission 9.90099 = 1000.
    res = run(
        opens=[100, 100, 100], closes=[100, 100, 110], signals=[1, 0, 0], initial_cash=1000.0, commission=0.01
    )
    (fill,) = res.fills
    assert fill.qty == pytest.approx(1000 / 101)
    assert fill.commission == pytest.approx(9.900990099)
    assert res.equity[1] == pytest.approx(990.0990099, abs=1e-6)
    assert res.equity[2] == pytest.approx(1089.1089109, abs=1e-6)


def test_position_size_pct_keeps_the_rest_in_cash() -> None:
    res = run(
        opens=[50, 50, 60], closes=[50, 50, 60], signals=[1, 0, 0], initial_cash=1000.0, position_size_pct=25
    )
    # 250 buys 5 shares at 50; 750 stays in cash.
    np.testing.assert_allclose(res.position, [0, 5, 5])
    np.testing.assert_allclose(res.equity, [1000, 1000, 750 + 5 * 60])


def test_whole_shares_floor_and_leftover_cash() -> None:
    res = run(
        opens=[333, 333],
        closes=[333, 340],
        signals=[1, 0],
        initial_cash=1000.0,
        whole_shares=True,
        fill_model=FillModel.CLOSE,
    )
    (fill,) = res.fills
    assert (fill.bar_index, fill.qty, fill.price) == (0, 3.0, 333.0)  # floor(1000 / 333) = 3
    np.testing.assert_allclose(res.equity, [1 + 3 * 333, 1 + 3 * 340])  # 1 left in cash


def test_too_expensive_whole_share_buy_is_skipped_and_its_sell_ignored() -> None:
    res = run(
        opens=[150, 150, 40, 40],
        closes=[150, 150, 40, 45],
        signals=[1, -1, 1, 0],
        initial_cash=100.0,
        whole_shares=True,
        fill_model="close",
    )
    # Bar 0: one share costs 150 > 100 -> skipped; bar 1 sell ignored (flat);
    # bar 2: floor(100 / 40) = 2 shares, 20 left in cash.
    assert [(f.bar_index, f.side, f.qty) for f in res.fills] == [(2, "buy", 2.0)]
    np.testing.assert_allclose(res.equity, [100, 100, 100, 20 + 2 * 45])
    assert res.round_trips[0].is_open


def test_buy_after_a_skipped_buy_is_tried_even_without_a_sell_between() -> None:
    res = run(
        opens=[150, 150, 90, 95],
        closes=[150, 150, 90, 95],
        signals=[1, 0, 1, 0],
        initial_cash=100.0,
        whole_shares=True,
        fill_model="close",
    )
    assert [(f.bar_index, f.qty) for f in res.fills] == [(2, 1.0)]
    np.testing.assert_allclose(res.equity, [100, 100, 100, 10 + 95])


def test_buy_while_long_and_sell_while_flat_are_ignored() -> None:
    res = run(
        opens=[10, 10, 10, 10, 10, 10],
        closes=[10, 11, 12, 13, 14, 15],
        signals=[-1, 1, 1, -1, -1, 0],
        initial_cash=1100.0,
        fill_model="close",
    )
    assert [(f.bar_index, f.side) for f in res.fills] == [(1, "buy"), (3, "sell")]
    assert res.fills[0].qty == pytest.approx(100.0)
    np.testing.assert_allclose(res.equity, [1100, 1100, 1200, 1300, 1300, 1300])
    assert res.metrics.round_trips == 1


def test_close_fill_model_fills_at_the_same_bars_close() -> None:
    res = run(
        opens=[10, 20, 30, 40],
        closes=[11, 21, 31, 41],
        signals=[0, 1, -1, 0],
        initial_cash=2100.0,
        fill_model=FillModel.CLOSE,
    )
    assert [(f.bar_index, f.side, f.price) for f in res.fills] == [(1, "buy", 21.0), (2, "sell", 31.0)]
    np.testing.assert_allclose(res.equity, [2100, 2100, 3100, 3100])
    assert FillModel.CLOSE.optimistic and not FillModel.NEXT_OPEN.optimistic


def test_signal_on_the_last_bar_never_fills_under_next_open() -> None:
    res = run(opens=[10, 10, 10], closes=[10, 11, 12], signals=[0, 0, 1])
    assert res.fills == () and res.round_trips == ()
    np.testing.assert_array_equal(res.equity, [10_000, 10_000, 10_000])

    res = run(opens=[10, 10, 10], closes=[10, 11, 12], signals=[1, 0, -1], initial_cash=100.0)
    assert [(f.bar_index, f.side) for f in res.fills] == [(1, "buy")]
    (trip,) = res.round_trips
    assert trip.is_open and trip.pnl == pytest.approx(20.0)  # 10 shares from 10 to 12


def test_no_signals_keeps_cash() -> None:
    res = run(opens=[10, 10, 10], closes=[10, 12, 11], signals=[0, 0, 0], initial_cash=500.0)
    np.testing.assert_array_equal(res.equity, [500, 500, 500])
    m = res.metrics
    assert (m.total_return_pct, m.max_drawdown_pct, m.exposure_pct, m.round_trips) == (0.0, 0.0, 0.0, 0)
    assert m.sharpe is None and m.sortino is None and m.win_rate_pct is None and m.profit_factor is None
    assert m.buy_and_hold_return_pct == pytest.approx(10.0)


# --------------------------------------------------------------------------- metrics


def _trips(pnls: list[float], open_last: bool) -> RoundTripColumns:
    k = len(pnls)
    is_open = np.zeros(k, dtype=bool)
    is_open[-1] = open_last
    return RoundTripColumns(
        entry_index=np.arange(k, dtype=np.int64),
        exit_index=np.arange(k, dtype=np.int64),
        entry_price=np.ones(k),
        exit_price=np.ones(k),
        qty=np.ones(k),
        pnl=np.array(pnls, dtype=np.float64),
        return_pct=np.zeros(k),
        is_open=is_open,
    )


def test_metrics_on_a_tiny_equity_curve() -> None:
    equity = np.array([100.0, 110.0, 99.0, 121.0, 121.0])
    position = np.array([0.0, 1.0, 1.0, 1.0, 0.0])
    close = np.array([10.0, 11.0, 9.9, 12.1, 12.0])
    year_ns = 31_557_600_000_000_000  # 365.25 days
    ts = np.linspace(0, year_ns, 5).astype(np.int64)
    m = compute_metrics(
        equity,
        position,
        close,
        ts,
        _trips([10.0, -5.0, 20.0, 3.0], open_last=True),
        BacktestSettings(initial_cash=100.0),
    )
    assert m.total_return_pct == pytest.approx(21.0)
    assert m.cagr_pct == pytest.approx(21.0)  # exactly one year
    assert m.max_drawdown_pct == pytest.approx(-10.0)  # 110 -> 99
    # returns 0.1, -0.1, 2/9, 0: mean 1/18; downside mean square 0.01 / 4 -> sqrt 0.05
    assert m.sortino == pytest.approx((1 / 18) / 0.05 * math.sqrt(252))  # 17.638...
    var = ((0.1 - 1 / 18) ** 2 + (-0.1 - 1 / 18) ** 2 + (2 / 9 - 1 / 18) ** 2 + (1 / 18) ** 2) / 3
    assert m.sharpe == pytest.approx((1 / 18) / math.sqrt(var) * math.sqrt(252))  # 6.396...
    assert m.sharpe == pytest.approx(6.396, abs=0.001)
    assert m.win_rate_pct == pytest.approx(200 / 3)  # 2 of 3 closed trips won
    assert m.profit_factor == pytest.approx(6.0)  # 30 / 5
    assert m.round_trips == 4
    assert m.exposure_pct == pytest.approx(60.0)
    assert m.buy_and_hold_return_pct == pytest.approx(20.0)
    assert m.final_equity == 121.0
    d = m.to_dict()
    assert d["profit_factor"] == pytest.approx(6.0) and d["round_trips"] == 4
    assert set(d) == {f for f in BacktestMetrics.__dataclass_fields__}


def test_undefined_metrics_are_none() -> None:
    flat = np.array([100.0, 100.0, 100.0])
    m = compute_metrics(
        flat,
        np.zeros(3),
        np.array([1.0, 2.0, 3.0]),
        np.zeros(3, np.int64),
        _trips([4.0, 2.0], False),
        BacktestSettings(initial_cash=100.0),
    )
    assert m.sharpe is None and m.sortino is None  # zero variance
    assert m.cagr_pct is None  # zero time span
    assert m.profit_factor is None  # no losing trip
    assert m.win_rate_pct == 100.0
    assert m.max_drawdown_pct == 0.0


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"initial_cash": 0}, "Starting cash must be greater than 0"),
        ({"initial_cash": -5.0}, "Starting cash must be greater than 0"),
        ({"commission": -0.1}, "Commission must be"),
        ({"commission": 1.0}, "Commission must be a fraction of the notional from 0 up to"),
        ({"commission": 1e308}, "Commission must be"),
        ({"initial_cash": MAX_STARTING_CASH * 1.01}, "Starting cash is too large"),
        ({"initial_cash": 1e308}, "Starting cash is too large"),
        ({"slippage": 1.0}, "Slippage must be"),
        ({"position_size_pct": 0}, "Position size must be"),
        ({"position_size_pct": 150}, "Position size must be"),
        ({"periods_per_year": 0}, "Periods per year"),
        ({"fill_model": "tomorrow"}, "Unknown fill model"),
    ],
)
def test_invalid_settings_raise_a_readable_sentence(kwargs: dict, words: str) -> None:
    with pytest.raises(BacktestError) as err:
        BacktestSettings(**kwargs)
    msg = str(err.value)
    assert words in msg
    assert msg.endswith(".") and "\n" not in msg
    assert isinstance(err.value, ValueError)


def test_settings_at_their_bounds_are_accepted() -> None:
    BacktestSettings(initial_cash=MAX_STARTING_CASH, commission=0.999, slippage=0.999)


def test_settings_round_trip_through_a_dict() -> None:
    s = BacktestSettings(commission=0.001, fill_model="close", whole_shares=True)
    assert s.fill_model is FillModel.CLOSE
    assert s.to_dict()["fill_model"] == "close"
    assert BacktestSettings.from_dict(s.to_dict()) == s


def test_mismatched_arrays_and_empty_bars_are_readable_errors() -> None:
    with pytest.raises(BacktestError, match="one signal per bar"):
        run_backtest(np.ones(3), np.ones(3), np.ones(3), np.ones(3), None, np.zeros(2, np.int8))
    with pytest.raises(BacktestError, match="no bars"):
        e = np.empty(0)
        run_backtest(e, e, e, e, None, np.empty(0, np.int8))
    for whole in (False, True):
        with pytest.raises(BacktestError, match="Bar 1 has an invalid open price"):
            run_backtest(
                np.array([1.0, np.nan]),
                np.ones(2),
                np.ones(2),
                np.ones(2),
                None,
                np.array([1, 0], np.int8),
                BacktestSettings(whole_shares=whole),
            )


def test_cagr_accepts_datetime64_timestamps() -> None:
    ts = np.array(["2020-01-01T00:00", "2021-01-01T06:00"], dtype="datetime64[m]")  # 366.25 days
    m = run_backtest(
        np.ones(2), np.ones(2), np.ones(2), np.array([1.0, 2.0]), ts, np.array([1, 0], np.int8)
    ).metrics
    assert m.final_equity == 20_000.0  # 10,000 shares bought at bar 1's open 1.0, marked at 2.0
    assert m.cagr_pct == pytest.approx((2 ** (365.25 / 366.25) - 1) * 100)


# --------------------------------------------------------------------------- reference equality


def random_walk(n: int, seed: int, vol: float = 0.01) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, vol, n)))
    prev = np.concatenate(([100.0], close[:-1]))
    open_ = prev * np.exp(rng.normal(0.0, 0.003, n))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0.0, 0.002, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0.0, 0.002, n)))
    ts = (np.arange(n, dtype=np.int64) + 18_000) * DAY_NS
    signals = np.zeros(n, dtype=np.int8)
    hit = rng.random(n) < 0.05
    signals[hit] = rng.choice(np.array([-1, 1], dtype=np.int8), size=int(hit.sum()))
    return {"open": open_, "high": high, "low": low, "close": close, "ts": ts, "signals": signals}


def assert_same_as_reference(data: dict[str, np.ndarray], settings: BacktestSettings, min_trips: int) -> None:
    res = run_backtest(
        data["open"], data["high"], data["low"], data["close"], data["ts"], data["signals"], settings
    )
    ref = reference_backtest(
        data["open"].tolist(),
        data["close"].tolist(),
        data["ts"].tolist(),
        data["signals"].tolist(),
        initial_cash=settings.initial_cash,
        commission=settings.commission,
        slippage=settings.slippage,
        position_size_pct=settings.position_size_pct,
        whole_shares=settings.whole_shares,
        fill_model=settings.fill_model.value,
        periods_per_year=settings.periods_per_year,
    )
    assert len(ref.trips) >= min_trips

    fills = res.fills
    assert [(f.bar_index, f.side) for f in fills] == [(f.bar_index, f.side) for f in ref.fills]
    for attr in ("qty", "price", "commission"):
        np.testing.assert_allclose(
            [getattr(f, attr) for f in fills],
            [getattr(f, attr) for f in ref.fills],
            rtol=1e-9,
            atol=1e-9,
            err_msg=attr,
        )

    trips = res.round_trips
    assert [(t.entry_index, t.exit_index, t.is_open) for t in trips] == [
        (t.entry_index, t.exit_index, t.is_open) for t in ref.trips
    ]
    for attr in ("entry_price", "qty", "pnl", "return_pct"):
        np.testing.assert_allclose(
            [getattr(t, attr) for t in trips],
            [getattr(t, attr) for t in ref.trips],
            rtol=1e-9,
            atol=1e-7,
            err_msg=attr,
        )
    np.testing.assert_allclose(
        [t.exit_price for t in trips if not t.is_open],
        [t.exit_price for t in ref.trips if not t.is_open],
        rtol=1e-12,
    )

    assert res.equity.dtype == np.float64 and res.position.dtype == np.float64
    np.testing.assert_allclose(res.equity, ref.equity, rtol=1e-9)
    np.testing.assert_allclose(res.position, ref.position, rtol=1e-9)

    got = res.metrics.to_dict()
    assert got.keys() == ref.metrics.keys()
    for key, want in ref.metrics.items():
        if want is None or isinstance(want, int):
            assert got[key] == want, key
        else:
            assert got[key] == pytest.approx(want, rel=1e-9, abs=1e-9), key


@pytest.mark.parametrize("fill_model", list(FillModel))
@pytest.mark.parametrize("whole_shares", [False, True], ids=["fractional", "whole"])
def test_engine_matches_reference_with_costs(fill_model: FillModel, whole_shares: bool) -> None:
    data = random_walk(120_000, seed=7 if whole_shares else 11)
    settings = BacktestSettings(
        initial_cash=25_000.0,
        commission=0.0005,
        slippage=0.0002,
        position_size_pct=80.0,
        whole_shares=whole_shares,
        fill_model=fill_model,
    )
    assert_same_as_reference(data, settings, min_trips=1000)


@pytest.mark.parametrize("fill_model", list(FillModel))
def test_engine_matches_reference_all_in_without_costs(fill_model: FillModel) -> None:
    data = random_walk(60_000, seed=3)
    assert_same_as_reference(
        data, BacktestSettings(fill_model=fill_model, periods_per_year=365.0), min_trips=500
    )


@pytest.mark.parametrize("fill_model", list(FillModel))
def test_engine_matches_reference_when_whole_shares_are_often_unaffordable(fill_model: FillModel) -> None:
    # Cash around the price of one share: many buys are skipped, their sells ignored.
    data = random_walk(40_000, seed=5, vol=0.002)
    settings = BacktestSettings(
        initial_cash=170.0,
        commission=0.001,
        slippage=0.001,
        position_size_pct=90,
        whole_shares=True,
        fill_model=fill_model,
    )
    assert_same_as_reference(data, settings, min_trips=50)
    args = (data["open"], data["high"], data["low"], data["close"], data["ts"], data["signals"])
    whole = run_backtest(*args, settings)
    fractional = run_backtest(*args, BacktestSettings(initial_cash=170.0, fill_model=fill_model))
    skipped = set(fractional.round_trip_columns.entry_index.tolist()) - set(
        whole.round_trip_columns.entry_index.tolist()
    )
    assert len(skipped) > 100  # the case really exercises skipped buys


def test_engine_matches_reference_on_a_signal_at_the_last_bar() -> None:
    data = random_walk(5_000, seed=9)
    for last in (1, -1):
        data["signals"][-1] = last
        for model in FillModel:
            assert_same_as_reference(data, BacktestSettings(fill_model=model, commission=0.001), min_trips=10)


def test_result_columns_match_the_objects() -> None:
    data = random_walk(2_000, seed=1)
    res = run_backtest(data["open"], data["high"], data["low"], data["close"], data["ts"], data["signals"])
    assert len(res.fill_columns) == len(res.fills)
    assert len(res.round_trip_columns) == len(res.round_trips) == res.metrics.round_trips
    assert all(isinstance(t, RoundTrip) for t in res.round_trips)
    assert res.fills is res.fills  # built once
    assert res.settings == BacktestSettings()


# --------------------------------------------------------------------------- internals


@pytest.mark.parametrize("start", ["below", "at_first_bar", "above_everything", "inside"])
@pytest.mark.parametrize(
    "curve",
    [
        "random",
        "flat",
        "rising",
        "new_high_then_crash_inside_a_block",
        "sawtooth",
        "every_block_drops",
        "short",
    ],
)
def test_blocked_drawdown_equals_the_direct_formula_exactly(curve: str, start: str) -> None:
    from kash_tui.domains.trading.engine import _curve_pass, _min_ratio_to_peak

    rng = np.random.default_rng(4)
    n = 100_003  # not a multiple of the block size: exercises the tail
    if curve == "random":
        equity = 1e4 * np.exp(np.cumsum(rng.normal(0, 0.01, n) * (rng.random(n) < 0.5)))
    elif curve == "flat":
        equity = np.full(n, 1e4)
    elif curve == "rising":
        equity = np.linspace(1e4, 2e4, n)
    elif curve == "new_high_then_crash_inside_a_block":
        equity = np.linspace(1e4, 2e4, n)
        equity[50_100:50_300] = np.linspace(3e4, 1.5e4, 200)
    elif curve == "sawtooth":
        equity = 1e4 + (np.arange(n) % 700) * 10.0
    elif curve == "every_block_drops":  # every block is a candidate: falls back to the full scan
        equity = 1e4 + (511 - np.arange(n) % 512) * 10.0
    else:
        equity = np.array([5.0, 7.0, 3.0, 8.0])
    start_peak = {
        "below": float(equity.min()) / 2,
        "at_first_bar": float(equity[0]),
        "above_everything": float(equity.max()) * 1.5,
        "inside": float(np.median(equity)),
    }[start]
    direct = float((equity / np.maximum(np.maximum.accumulate(equity), start_peak)).min())
    sums = _curve_pass(equity)
    assert _min_ratio_to_peak(equity, sums.block_max, sums.block_min, start_peak) == direct


def test_missing_close_price_is_a_readable_error() -> None:
    closes = [10.0, np.nan, 12.0, 13.0]
    with pytest.raises(BacktestError, match=r"^Bar 1 has an invalid close price \(nan\)"):
        run(opens=[10, 10, 10, 10], closes=closes, signals=[1, 0, 0, 0])


# --------------------------------------------------------------------------- bad inputs


@pytest.fixture
def no_warnings():
    """Any floating-point (or other) warning fails the test: none may reach the user."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("whole_shares", [False, True], ids=["fractional", "whole"])
@pytest.mark.parametrize("fill_model", list(FillModel))
@pytest.mark.parametrize("bar", [0, 2])
def test_a_zero_close_is_a_sentence_not_a_zero_division(
    bar: int, fill_model: FillModel, whole_shares: bool, no_warnings: None
) -> None:
    closes = [10.0, 11.0, 12.0, 13.0]
    closes[bar] = 0.0
    with pytest.raises(BacktestError) as err:
        run([10, 10, 10, 10], closes, [0, 1, 0, 0], fill_model=fill_model, whole_shares=whole_shares)
    assert str(err.value) == (
        f"Bar {bar} has an invalid close price (0.0); prices must be numbers from 1e-12 to 1e12. "
        "Clean or re-import the bars before backtesting."
    )


@pytest.mark.parametrize("whole_shares", [False, True], ids=["fractional", "whole"])
@pytest.mark.parametrize("side", ["buy", "sell"])
def test_a_zero_open_where_a_fill_is_due_is_a_sentence(
    side: str, whole_shares: bool, no_warnings: None
) -> None:
    opens = [10.0, 10.0, 10.0, 10.0]
    opens[1 if side == "buy" else 3] = 0.0
    with pytest.raises(BacktestError) as err:
        run(opens, [10, 11, 12, 13], [1, 0, -1, 0], whole_shares=whole_shares)
    assert str(err.value).startswith(
        f"Bar {1 if side == 'buy' else 3} has an invalid open price (0.0) where a fill is due "
        "(prices must be numbers from 1e-12 to 1e12)"
    )
    # a zero open where nothing fills is harmless: the open is read only to fill
    opens = [10.0, 0.0, 10.0, 10.0]
    assert run(opens, [10, 11, 12, 13], [0, 1, 0, 0], whole_shares=whole_shares).fills[0].bar_index == 2


@pytest.mark.parametrize(
    ("signals", "words"),
    [
        (np.array([0.0, 1.0, np.nan, 0.0]), "The strategy returned the signal nan at bar 2"),
        (np.array([0.0, 1.0, np.inf, 0.0]), "The strategy returned the signal inf at bar 2"),
        (np.array([0.0, 0.5, 0.0, 0.0]), "The strategy returned the signal 0.5 at bar 1"),
        (np.array([0, 1, 0, 2], dtype=np.int64), "The strategy returned the signal 2 at bar 3"),
        (np.array([0, -128, 0, 0], dtype=np.int8), "The strategy returned the signal -128 at bar 1"),
        (np.array(["0", "1", "0", "0"]), "The strategy returned signals of type <U1"),
    ],
)
def test_a_signal_other_than_buy_sell_or_nothing_is_the_strategys_error(
    signals: np.ndarray, words: str, no_warnings: None
) -> None:
    o = np.full(4, 10.0)
    with pytest.raises(BacktestError) as err:
        run_backtest(o, o, o, o, None, signals)
    msg = str(err.value)
    assert msg.startswith(words) and msg.endswith(".")
    assert "1 (buy), -1 (sell) or 0 (nothing)" in msg


def test_a_nan_signal_is_not_taken_for_a_sell(no_warnings: None) -> None:
    # Before: NaN != 0 made it a signal and NaN > 0 is False, so it sold the position.
    o = np.full(5, 10.0)
    with pytest.raises(BacktestError, match="signal nan at bar 2"):
        run_backtest(o, o, o, o, None, np.array([1.0, 0.0, np.nan, 0.0, 0.0]))


def test_float_bool_and_wide_integer_signals_of_the_right_values_are_accepted() -> None:
    o = np.array([10.0, 10.0, 11.0, 12.0, 11.0])
    want = run_backtest(o, o, o, o, None, np.array([1, 0, -1, 1, 0], dtype=np.int8))
    for signals in (
        np.array([1.0, 0.0, -1.0, 1.0, 0.0]),
        np.array([1, 0, -1, 1, 0], dtype=np.int64),
        [1, 0, -1, 1, 0],
    ):
        got = run_backtest(o, o, o, o, None, signals)
        np.testing.assert_array_equal(got.equity, want.equity)
        assert got.fills == want.fills
    buys_only = run_backtest(o, o, o, o, None, np.array([True, False, False, False, False]))
    assert [(f.bar_index, f.side) for f in buys_only.fills] == [(1, "buy")]


@pytest.mark.parametrize("whole_shares", [False, True], ids=["fractional", "whole"])
def test_drawdown_counts_the_starting_cash_as_the_first_peak(whole_shares: bool) -> None:
    # A bar-0 fill at the close pays 1 % commission; prices only rise by less than that, so the
    # run never gets back to its starting cash: it was in a drawdown from bar 0.
    res = run(
        opens=[100, 100, 100.2, 100.4],
        closes=[100, 100.2, 100.4, 100.6],
        signals=[1, 0, 0, 0],
        initial_cash=10_100.0,
        commission=0.01,
        whole_shares=whole_shares,
        fill_model=FillModel.CLOSE,
    )
    assert res.fills[0].bar_index == 0 and res.fills[0].commission > 0
    assert res.equity[0] < 10_100.0 and (res.equity[1:] >= res.equity[:-1]).all()
    assert res.metrics.total_return_pct < 0
    assert res.metrics.max_drawdown_pct == pytest.approx((res.equity[0] / 10_100.0 - 1) * 100)
    assert res.metrics.max_drawdown_pct < -0.3  # was 0.0: the curve alone only rises


@pytest.mark.parametrize("price", [1e308, 1e-308, MAX_PRICE * 2, MIN_PRICE / 2, -1.0, np.inf])
def test_prices_out_of_bounds_are_refused_without_warnings(price: float, no_warnings: None) -> None:
    with pytest.raises(BacktestError, match=r"^Bar 1 has an invalid close price"):
        run([10, 10, 10], [10, price, 10], [1, 0, 0])
    with pytest.raises(BacktestError, match=r"^Bar 1 has an invalid open price"):
        run([10, price, 10], [10, 10, 10], [1, 0, 0])


def test_prices_at_their_bounds_are_accepted(no_warnings: None) -> None:
    res = run([MIN_PRICE, MIN_PRICE, MAX_PRICE], [MIN_PRICE, MIN_PRICE, MAX_PRICE], [1, 0, 0],
              initial_cash=1.0)
    assert res.metrics.final_equity == pytest.approx(1e24)


@pytest.mark.parametrize(
    ("direction", "whole_shares"),
    # whole shares cannot fall that far: once one share costs more than the cash, nothing trades
    [("up", False), ("up", True), ("down", False)],
)
def test_equity_leaving_the_float_range_is_a_sentence_without_warnings(
    direction: str, whole_shares: bool, no_warnings: None
) -> None:
    # Each round trip multiplies (or divides) the equity by 1e24: within 14 trips it passes
    # 1e308 (or falls below 1e-308) though every price is within bounds.
    low_high = [MIN_PRICE, MAX_PRICE] if direction == "up" else [MAX_PRICE, MIN_PRICE]
    closes = low_high * 20
    settings = {"initial_cash": MAX_STARTING_CASH, "fill_model": FillModel.CLOSE,
                "whole_shares": whole_shares}
    with pytest.raises(BacktestError) as err:
        run(closes, closes, [1, -1] * 20, **settings)
    where = "grows beyond the largest" if direction == "up" else "shrinks below the smallest"
    assert str(err.value).startswith(f"This backtest's equity {where} number a float64 can hold")


def test_metrics_of_a_curve_with_a_zero_close_are_refused_readably(no_warnings: None) -> None:
    with pytest.raises(BacktestError, match=r"^Bar 0 has an invalid close price \(0\.0\)"):
        compute_metrics(np.array([100.0, 100.0]), np.zeros(2), np.array([0.0, 1.0]), None,
                        _trips([1.0], False), BacktestSettings())
