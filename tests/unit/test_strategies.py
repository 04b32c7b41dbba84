"""Built-in strategies, their parameters and the strategy registry."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import talib

from kash_tui.domains.strategy import (
    BUY,
    SELL,
    TIMEFRAMES,
    CachedSignals,
    Indicator,
    IndicatorCache,
    Strategy,
    StrategyError,
    StrategyService,
    create_strategy_service,
)


@dataclass(frozen=True)
class Bars:
    """Satisfies the OHLCV Protocol structurally, as market's bar series does."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    @classmethod
    def from_close(cls, close: list[float], volume: float = 1.0) -> Bars:
        c = np.asarray(close, dtype=np.float64)
        return cls(c, c.copy(), c.copy(), c.copy(), np.full(len(c), volume))

    def __getitem__(self, s: slice) -> Bars:
        return Bars(self.open[s], self.high[s], self.low[s], self.close[s], self.volume[s])


def random_bars(seed: int, size: int = 1500) -> Bars:
    rng = np.random.default_rng(seed)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.015, size)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    high = np.maximum(open_, close) * (1.0 + rng.random(size) * 0.01)
    low = np.minimum(open_, close) * (1.0 - rng.random(size) * 0.01)
    volume = rng.integers(0, 10_000, size).astype(np.float64)
    close[300:340] = high[300:340] = low[300:340] = close[300]  # a flat stretch
    volume[600:640] = 0.0  # a silent stretch
    return Bars(open_, high, low, close, volume)


@pytest.fixture
def service() -> StrategyService:
    return create_strategy_service()


# --- SMA crossover -------------------------------------------------------------------------


def test_sma_crossover_fires_on_the_exact_crossing_bars(service: StrategyService) -> None:
    #        bar: 0  1  2  3  4  5  6  7  8  9 10 11 12 13
    close = [5, 5, 5, 5, 6, 7, 8, 7, 6, 5, 4, 4, 4, 5]
    # SMA(2) vs SMA(3): equal up to bar 3; bar 4 5.5 > 5.33 (buy); bar 7 7.5 > 7.33;
    # bar 8 6.5 < 7 (sell); bars 11-12 equal at 4; bar 13 4.5 > 4.33 (buy: from equal to above)
    strategy = service.create_with_params("sma_crossover", {"short_period": 2, "long_period": 3})
    signals = strategy.generate_signals(Bars.from_close(close))
    expected = np.zeros(len(close), dtype=np.int8)
    expected[[4, 13]] = BUY
    expected[8] = SELL
    np.testing.assert_array_equal(signals, expected)
    assert signals.dtype == np.int8


def test_sma_crossover_needs_both_averages_on_both_bars(service: StrategyService) -> None:
    # The short SMA is above from bar 1 on, but the long SMA(4) exists only from bar 3:
    # no signal can come before bar 4, and none comes since nothing crosses afterwards.
    close = [1, 2, 3, 4, 5, 6, 7, 8]
    strategy = service.create_with_params("sma_crossover", {"short_period": 2, "long_period": 4})
    assert not strategy.generate_signals(Bars.from_close(close)).any()
    # a dip that makes the SMAs cross down on the first bar where both exist on both bars
    close = [9, 9, 9, 9, 1, 1]
    signals = strategy.generate_signals(Bars.from_close(close))
    np.testing.assert_array_equal(signals, [0, 0, 0, 0, SELL, 0])


def test_sma_crossover_ignores_rounding_noise_on_flat_prices(service: StrategyService) -> None:
    # 0.1 does not add up exactly in binary; equal SMAs must not flicker into crossings
    close = [0.3, 0.1, 0.7, 0.2] * 5 + [0.1] * 200
    strategy = service.create_with_params("sma_crossover", {"short_period": 3, "long_period": 7})
    signals = strategy.generate_signals(Bars.from_close(close))
    assert not signals[30:].any()


def test_sma_crossover_indicators(service: StrategyService) -> None:
    bars = random_bars(1)
    indicators = service.get("sma_crossover").indicators(bars)
    assert [i.name for i in indicators] == ["SMA(10)", "SMA(30)"]
    assert all(i.panel == "price" and i.levels == () for i in indicators)
    np.testing.assert_allclose(indicators[0].values, talib.SMA(bars.close, 10), atol=1e-9)
    np.testing.assert_allclose(indicators[1].values, talib.SMA(bars.close, 30), atol=1e-9)


def test_crossover_helper_for_sweeps_matches_the_strategy(service: StrategyService) -> None:
    from kash_tui.domains.strategy.builtin.sma_crossover import crossover_signals
    from kash_tui.domains.strategy.indicators import sma

    bars = random_bars(7)
    fast, slow = sma(bars.close, 5), sma(bars.close, 20)
    kept = fast.copy(), slow.copy()
    signals = crossover_signals(fast, slow)
    np.testing.assert_array_equal(fast, kept[0])  # inputs untouched unless reuse=True
    np.testing.assert_array_equal(slow, kept[1])
    strategy = service.create_with_params("sma_crossover", {"short_period": 5, "long_period": 20})
    np.testing.assert_array_equal(signals, strategy.generate_signals(bars))
    np.testing.assert_array_equal(crossover_signals(fast, slow, reuse=True), signals)


# --- Money Flow Index ----------------------------------------------------------------------


def test_mfi_crossings_by_hand(service: StrategyService) -> None:
    # volume 1 and high == low == close, so money flow is the price itself.
    # MFI(2): bar 2: 0; bar 3: 100*9/17 = 52.9 (up through 20: buy); bars 4-5: 100;
    # bar 6: 100*11/21 = 52.4 (down through 80: sell); bar 7: 0 (down through 20: nothing)
    bars = Bars.from_close([10, 9, 8, 9, 10, 11, 10, 9])
    strategy = service.create_with_params("mfi", {"period": 2})
    np.testing.assert_array_equal(strategy.generate_signals(bars), [0, 0, 0, BUY, 0, 0, SELL, 0])
    (indicator,) = strategy.indicators(bars)
    assert indicator.panel == "lower"
    assert indicator.levels == (20.0, 80.0)
    np.testing.assert_allclose(indicator.values[3], 100 * 9 / 17)


def test_mfi_level_touch_rules(service: StrategyService) -> None:
    # Buy needs m[i-1] <= oversold < m[i]: reaching the level is no crossing, leaving it is.
    # Money flows: bar 1 down 8, bar 2 down 5*2 = 10, bar 3 up 10, bar 4 up 12.
    # MFI(2): bar 2: 0; bar 3: 100*10/20 = 50 (reaches 50); bar 4: 100 (leaves 50 upwards).
    tp = np.array([10.0, 8.0, 5.0, 10.0, 12.0])
    bars = Bars(tp, tp, tp, tp, np.array([1.0, 1.0, 2.0, 1.0, 1.0]))
    strategy = service.create_with_params("mfi", {"period": 2, "oversold": 50, "overbought": 90})
    m = strategy.indicators(bars)[0].values
    assert (m[2], m[3], m[4]) == (0.0, 50.0, 100.0)
    np.testing.assert_array_equal(strategy.generate_signals(bars), [0, 0, 0, 0, BUY])
    # Sell mirrors it: m[i-1] >= overbought > m[i]. Flows after bar 4: bar 5 down 10*2 = 20,
    # bar 6 up 20 -> MFI: bar 5: 100*12/32 = 37.5; bar 6: 50. Overbought 100: bar 5 sells.
    tp = np.append(tp, [10.0, 20.0])
    bars = Bars(tp, tp, tp, tp, np.array([1.0, 1.0, 2.0, 1.0, 1.0, 2.0, 1.0]))
    strategy = strategy.with_params({"oversold": 0, "overbought": 100})
    m = strategy.indicators(bars)[0].values
    assert (m[4], m[5], m[6]) == (100.0, 37.5, 50.0)
    np.testing.assert_array_equal(strategy.generate_signals(bars), [0, 0, 0, BUY, 0, SELL, 0])


@pytest.mark.parametrize("params", [{}, {"period": 5, "oversold": 30, "overbought": 70}])
def test_mfi_signals_follow_the_definition(service: StrategyService, params: dict) -> None:
    bars = random_bars(2)
    strategy = service.create_with_params("mfi", params)
    p = strategy.params
    m = talib.MFI(bars.high, bars.low, bars.close, bars.volume, p.period)
    prev, cur = m[:-1], m[1:]
    buy = np.concatenate([[False], (prev <= p.oversold) & (cur > p.oversold)])
    sell = np.concatenate([[False], (prev >= p.overbought) & (cur < p.overbought)])
    signals = strategy.generate_signals(bars)
    assert buy.any() and sell.any()
    np.testing.assert_array_equal(signals == BUY, buy)
    np.testing.assert_array_equal(signals == SELL, sell)


# --- no look-ahead -------------------------------------------------------------------------

LOOK_AHEAD_CASES = [
    ("sma_crossover", {}),
    ("sma_crossover", {"short_period": 2, "long_period": 3}),
    ("sma_crossover", {"short_period": 50, "long_period": 200}),
    ("mfi", {}),
    ("mfi", {"period": 3, "oversold": 35, "overbought": 65}),
    ("rsi_reversion", {}),
    ("rsi_reversion", {"period": 3, "oversold": 20, "overbought": 85}),
    ("bollinger_reversion", {}),
    ("bollinger_reversion", {"period": 5, "num_std": 1.2, "exit": "upper"}),
    ("macd", {}),
    ("macd", {"fast_period": 2, "slow_period": 3, "signal_period": 2, "above_zero_only": True}),
    ("donchian_breakout", {}),
    ("donchian_breakout", {"entry_period": 2, "exit_period": 55}),
]
BUILTIN_IDS = [
    "bollinger_reversion", "donchian_breakout", "macd", "mfi", "rsi_reversion", "sma_crossover",
]


@pytest.mark.parametrize(("strategy_id", "params"), LOOK_AHEAD_CASES)
def test_signals_use_no_later_bars(
    service: StrategyService, strategy_id: str, params: dict
) -> None:
    bars = random_bars(3)
    strategy = service.create_with_params(strategy_id, params)
    full = strategy.generate_signals(bars)
    assert full.any()
    for k in [0, 1, 2, 3, 4, 5, 14, 15, 31, 200, 201, *range(250, len(full), 41), len(full)]:
        np.testing.assert_array_equal(
            strategy.generate_signals(bars[:k]), full[:k], err_msg=f"first {k} bars"
        )


@pytest.mark.parametrize(("strategy_id", "params"), LOOK_AHEAD_CASES)
def test_changing_the_future_does_not_change_the_past(
    service: StrategyService, strategy_id: str, params: dict
) -> None:
    bars = random_bars(4)
    strategy = service.create_with_params(strategy_id, params)
    full = strategy.generate_signals(bars)
    k = 800
    future = Bars(
        *(np.concatenate([a[:k], a[k:][::-1] * 3.0]) for a in (bars.open, bars.high, bars.low,
                                                               bars.close, bars.volume))
    )
    np.testing.assert_array_equal(strategy.generate_signals(future)[:k], full[:k])
    for before, after in zip(strategy.indicators(bars), strategy.indicators(future), strict=True):
        np.testing.assert_array_equal(after.values[:k], before.values[:k])


@pytest.mark.parametrize("strategy_id", BUILTIN_IDS)
def test_signal_arrays_are_aligned_int8(service: StrategyService, strategy_id: str) -> None:
    strategy = service.get(strategy_id)
    for size in [0, 1, 5, 1500]:
        bars = random_bars(5)[:size]
        signals = strategy.generate_signals(bars)
        assert signals.dtype == np.int8 and signals.shape == (size,)
        assert set(np.unique(signals)) <= {SELL, 0, BUY}
        for indicator in strategy.indicators(bars):
            assert indicator.values.dtype == np.float64 and indicator.values.shape == (size,)


# --- parameters and schema -----------------------------------------------------------------


@pytest.mark.parametrize("strategy_id", BUILTIN_IDS)
def test_schema_describes_every_field(service: StrategyService, strategy_id: str) -> None:
    strategy = service.get(strategy_id)
    schema = strategy.params_schema()
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    # a strategy with a cross-field rule names it (Bollinger and Donchian have none)
    assert bool(schema.get("x-rules")) == (strategy_id not in ("bollinger_reversion",
                                                                "donchian_breakout"))
    defaults = strategy.params.model_dump()
    assert set(schema["properties"]) == set(defaults)
    for name, field in schema["properties"].items():
        assert field["title"] and field["description"], name
        assert field["default"] == defaults[name], name
        if field.get("type") in ("integer", "number"):
            assert "minimum" in field or "exclusiveMinimum" in field, name
            assert "maximum" in field or "exclusiveMaximum" in field, name


def test_sma_crossover_schema_values(service: StrategyService) -> None:
    props = service.get("sma_crossover").params_schema()["properties"]
    assert props["short_period"].items() >= {"default": 10, "minimum": 2, "maximum": 500}.items()
    assert (props["short_period"]["type"], props["long_period"]["type"]) == ("integer", "integer")
    assert (props["long_period"]["default"], props["long_period"]["minimum"]) == (30, 3)
    assert props["long_period"]["maximum"] == 1000
    rules = service.get("sma_crossover").params_schema()["x-rules"]
    assert rules == ["short_period < long_period"]


def test_mfi_schema_values(service: StrategyService) -> None:
    schema = service.get("mfi").params_schema()
    props = schema["properties"]
    assert (props["period"]["default"], props["period"]["minimum"], props["period"]["maximum"]) == (
        14,
        2,
        200,
    )
    assert (props["oversold"]["default"], props["overbought"]["default"]) == (20.0, 80.0)
    assert props["oversold"]["type"] == "number"
    assert schema["x-rules"] == ["oversold < overbought"]


@pytest.mark.parametrize(
    ("strategy_id", "params", "message"),
    [
        (
            "sma_crossover",
            {"short_period": 50, "long_period": 20},
            "short_period must be less than long_period (got 50 and 20).",
        ),
        (
            "sma_crossover",
            {"short_period": 0},
            "short_period: Input should be greater than or equal to 2 (got 0).",
        ),
        (
            "sma_crossover",
            {"long_period": 5000},
            "long_period: Input should be less than or equal to 1000 (got 5000).",
        ),
        (
            "sma_crossover",
            {"fast": 5},
            "Unknown parameter 'fast' for sma_crossover; "
            "valid parameters are short_period, long_period.",
        ),
        ("sma_crossover", {"short_period": "ten"}, "short_period: Input should be a valid integer"),
        ("sma_crossover", {"short_period": 10.5}, "short_period: Input should be a valid integer"),
        ("sma_crossover", {"short_period": True}, "short_period: Input should be a number"),
        ("mfi", {"oversold": 90}, "oversold must be less than overbought (got 90 and 80)."),
        ("mfi", {"overbought": 101}, "overbought: Input should be less than or equal to 100"),
        ("mfi", {"oversold": float("nan")}, "oversold: Input should be a finite number"),
        ("mfi", {"period": [14]}, "period: Input should be a valid integer"),
    ],
)
def test_invalid_params_name_the_field(
    service: StrategyService, strategy_id: str, params: dict, message: str
) -> None:
    with pytest.raises(StrategyError) as caught:
        service.create_with_params(strategy_id, params)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_params_are_validated_whole_not_only_the_changed_key(service: StrategyService) -> None:
    wide = service.create_with_params("sma_crossover", {"short_period": 100, "long_period": 200})
    with pytest.raises(StrategyError) as caught:
        wide.with_params({"long_period": 50})
    assert str(caught.value) == "short_period must be less than long_period (got 100 and 50)."


def test_with_params_returns_a_new_strategy(service: StrategyService) -> None:
    default = service.get("sma_crossover")
    tuned = default.with_params({"short_period": 5})
    assert tuned.params.model_dump() == {"short_period": 5, "long_period": 30}
    assert default.params.model_dump() == {"short_period": 10, "long_period": 30}
    assert tuned.with_params({"long_period": 60}).params.model_dump() == {
        "short_period": 5,
        "long_period": 60,
    }
    # strings, as the CLI passes them, are read as numbers
    assert default.with_params({"short_period": "7"}).params.short_period == 7
    with pytest.raises(Exception):  # noqa: B017 - frozen pydantic model, any error type
        tuned.params.short_period = 3  # type: ignore[misc]
    with pytest.raises(StrategyError, match="mapping"):
        default.with_params([("short_period", 5)])  # type: ignore[arg-type]


def test_invalid_params_raise_from_create_and_from_with_params(service: StrategyService) -> None:
    with pytest.raises(StrategyError):
        service.create_with_params("mfi", {"period": 1})
    with pytest.raises(StrategyError):
        service.get("mfi").with_params({"period": 1})


# --- registry ------------------------------------------------------------------------------


class HoldStrategy:
    """A test-only strategy written against the Protocol alone: it never trades."""

    id = "zz_hold"
    name = "Hold"
    description = "Never trades."
    default_timeframe = "1Hour"
    params: Any = None

    def params_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": {}, "additionalProperties": False}

    def with_params(self, params: Mapping[str, Any]) -> Strategy:
        if params:
            raise StrategyError(f"Unknown parameter '{next(iter(params))}' for zz_hold.")
        return self

    def generate_signals(self, bars: Any) -> np.ndarray:
        return np.zeros(len(bars.close), dtype=np.int8)

    def indicators(self, bars: Any) -> list[Indicator]:
        return []


def test_builtins_are_listed_sorted_by_id(service: StrategyService) -> None:
    infos = service.list()
    assert [i.id for i in infos] == BUILTIN_IDS
    by_id = {i.id: i for i in infos}
    assert by_id["sma_crossover"].name == "SMA crossover"
    assert by_id["mfi"].name == "Money Flow Index"
    assert all(i.default_timeframe in TIMEFRAMES and i.description for i in infos)
    assert by_id["mfi"].params_schema == service.get("mfi").params_schema()


def test_get_returns_defaults_that_satisfy_the_protocol(service: StrategyService) -> None:
    for strategy_id in BUILTIN_IDS:
        strategy = service.get(strategy_id)
        assert isinstance(strategy, Strategy)
        assert strategy.id == strategy_id
    assert service.get("mfi").params.model_dump() == {
        "period": 14,
        "oversold": 20.0,
        "overbought": 80.0,
    }


def test_unknown_strategy(service: StrategyService) -> None:
    with pytest.raises(StrategyError) as caught:
        service.get("foo")
    assert str(caught.value) == "Unknown strategy 'foo'; run `kash strategies` to list them."
    with pytest.raises(StrategyError, match="Unknown strategy 'foo'"):
        service.create_with_params("foo", {})


def test_duplicate_id_is_refused(service: StrategyService) -> None:
    factory = type(service.get("sma_crossover"))
    with pytest.raises(StrategyError, match="'sma_crossover' is already registered"):
        service.register(factory)
    assert [i.id for i in service.list()] == BUILTIN_IDS


def test_registering_on_one_registry_leaves_others_alone(service: StrategyService) -> None:
    service.register(HoldStrategy)
    assert [i.id for i in service.list()] == [*BUILTIN_IDS, "zz_hold"]
    hold = service.create_with_params("zz_hold", {})
    assert not hold.generate_signals(random_bars(6)).any()
    fresh = create_strategy_service()
    assert "zz_hold" not in [i.id for i in fresh.list()]
    with pytest.raises(StrategyError, match="Unknown strategy 'zz_hold'"):
        fresh.get("zz_hold")


def test_a_strategy_with_an_unknown_timeframe_is_refused(service: StrategyService) -> None:
    class Hourly(HoldStrategy):
        id = "hourly"
        default_timeframe = "1h"

    with pytest.raises(StrategyError, match="default_timeframe '1h'; use one of 1Min"):
        service.register(Hourly)


def test_indicator_panel_is_checked() -> None:
    with pytest.raises(ValueError, match="panel"):
        Indicator(name="x", values=np.zeros(3), panel="upper")


# --- indicators shared by the runs of a sweep ------------------------------------------------

SWEEPS = {
    "sma_crossover": [
        {"short_period": s, "long_period": lp}
        for s in range(5, 51, 5) for lp in range(20, 201, 20) if s < lp
    ],
    "mfi": [
        {"period": p, "oversold": lo, "overbought": hi}
        for p in (5, 14, 30) for lo in (10.0, 20.0, 30.0) for hi in (70.0, 80.0, 90.0)
    ],
    "rsi_reversion": [
        {"period": p, "oversold": lo, "overbought": hi}
        for p in (5, 14) for lo in (20.0, 30.0) for hi in (70.0, 80.0)
    ],
    "bollinger_reversion": [
        {"period": p, "num_std": k, "exit": e}
        for p in (10, 20) for k in (1.5, 2.0, 2.5) for e in ("middle", "upper")
    ],
    "macd": [
        {"fast_period": f, "slow_period": s, "above_zero_only": z}
        for f in (8, 12) for s in (26, 40) for z in (False, True)
    ],
    "donchian_breakout": [
        {"entry_period": n_in, "exit_period": n_out} for n_in in (20, 55) for n_out in (10, 20)
    ],
}
# SMA periods 5..50 and 20..200 (20, 40 in both); MACD: line and histogram per (fast, slow);
# Bollinger: SMA and deviation per period; Donchian: highs of 20, 55 and lows of 10, 20
DISTINCT_INDICATORS = {"sma_crossover": 18, "mfi": 3, "rsi_reversion": 2,
                       "bollinger_reversion": 4, "macd": 8, "donchian_breakout": 4}


@pytest.mark.parametrize("strategy_id", list(SWEEPS))
def test_cached_signals_equal_the_plain_ones_and_compute_each_indicator_once(
    service: StrategyService, strategy_id: str
) -> None:
    bars = random_bars(11, size=5_000)
    cache = IndicatorCache()
    base = service.get(strategy_id)
    assert isinstance(base, CachedSignals)
    for params in SWEEPS[strategy_id]:
        strategy = base.with_params(params)
        plain = strategy.generate_signals(bars)
        shared = strategy.generate_signals_cached(bars, cache)
        assert shared.dtype == plain.dtype == np.int8
        np.testing.assert_array_equal(shared, plain, err_msg=str(params))
    assert len(cache) == DISTINCT_INDICATORS[strategy_id]
    assert cache.nbytes == DISTINCT_INDICATORS[strategy_id] * 5_000 * 8
    # the shared arrays are left as they were computed (the strategy must not reuse them)
    if strategy_id == "sma_crossover":
        from kash_tui.domains.strategy.indicators import sma

        np.testing.assert_array_equal(cache.get(("sma", "close", 20), lambda: None), sma(bars.close, 20))


def test_a_strategy_without_cached_signals_still_satisfies_the_protocol() -> None:
    hold = HoldStrategy()
    assert isinstance(hold, Strategy) and not isinstance(hold, CachedSignals)


def test_cache_hands_out_read_only_arrays_computed_once() -> None:
    cache = IndicatorCache()
    calls: list[int] = []

    def compute() -> np.ndarray:
        calls.append(1)
        return np.arange(4.0)

    first = cache.get(("x", 1), compute)
    assert cache.get(("x", 1), compute) is first and len(calls) == 1
    with pytest.raises(ValueError, match="read-only"):
        first[0] = 9.0


def test_cache_keeps_no_more_than_its_budget_but_still_answers() -> None:
    cache = IndicatorCache(max_bytes=10 * 8)
    a = cache.get("a", lambda: np.zeros(8))
    b = cache.get("b", lambda: np.ones(8))  # over budget: computed, returned, not kept
    assert len(cache) == 1 and cache.nbytes == 64
    assert (b == 1).all() and cache.get("a", lambda: np.full(8, 5.0)) is a
    assert (cache.get("b", lambda: np.full(8, 2.0)) == 2).all()  # recomputed


def test_cache_pickles_empty_and_is_shared_safely_between_threads() -> None:
    cache = IndicatorCache(max_bytes=123)
    cache.get("a", lambda: np.zeros(2))
    copy = pickle.loads(pickle.dumps(cache))
    assert len(copy) == 0 and len(cache) == 1
    assert copy.get("big", lambda: np.zeros(100)) is not None and len(copy) == 0  # same budget

    shared = IndicatorCache()
    seen: list[np.ndarray] = []
    start = threading.Barrier(8)

    def ask() -> None:
        start.wait()
        for k in range(200):
            seen.append(shared.get(k % 10, lambda k=k: np.full(1000, float(k % 10))))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(shared) == 10 and shared.nbytes == 10 * 8000
    for k in range(10):
        assert (shared.get(k, lambda: np.zeros(1)) == k).all()
    assert all(float(a[0]) == float(a[-1]) for a in seen)


def test_each_listed_builtin_is_the_class_its_place_names() -> None:
    from kash_tui.domains.strategy.builtin import BUILTINS, builtin_factory

    for strategy_id in BUILTINS:
        assert builtin_factory(strategy_id)().id == strategy_id


def test_a_builtin_is_imported_only_when_asked_for() -> None:
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from kash_tui.domains.strategy import create_strategy_service\n"
        "service = create_strategy_service()\n"
        "service.create_with_params('sma_crossover', {'short_period': 5})\n"
        "prefix = 'kash_tui.domains.strategy.builtin.'\n"
        "print(sorted(m[len(prefix):] for m in sys.modules if m.startswith(prefix)))\n"
        "service.list()\n"
        "print(len([m for m in sys.modules if m.startswith(prefix)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] == "['sma_crossover']"
    from kash_tui.domains.strategy.builtin import BUILTINS

    assert int(out[1]) == len(BUILTINS)  # listing imports them all
