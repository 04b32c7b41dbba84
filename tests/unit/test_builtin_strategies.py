"""The four classic built-ins added with issue 12: RSI mean reversion, Bollinger band reversion,
MACD crossover and Donchian breakout. Each rule's buy and sell on hand-built bars, the rules
against their definitions on TA-Lib's indicators, the schemas the form draws, and a backtest of
each through the CLI on stored bars. Look-ahead, alignment and sweep-cache tests for them live
with the other built-ins in test_strategies.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import talib

from kash_tui.domains.strategy import BUY, SELL, StrategyError, StrategyService
from kash_tui.domains.strategy import create_strategy_service
from tests.unit.test_strategies import Bars, random_bars

NEW_BUILTINS = ["rsi_reversion", "bollinger_reversion", "macd", "donchian_breakout"]


@pytest.fixture
def service() -> StrategyService:
    return create_strategy_service()


def _shift(x: np.ndarray) -> np.ndarray:
    return np.concatenate([[np.nan], x[:-1]])


# --- RSI mean reversion --------------------------------------------------------------------


def test_rsi_crossings_by_hand(service: StrategyService) -> None:
    # RSI(2) (TA-Lib): bars 2-3: 0 (only losses); 4: 50; 5: 75; 6: 87.5; 7: 93.75; 8: 96.9;
    # 9: 48.4; 10: 24.2; 11: 12.1; 12: 56.1
    close = [10, 9, 8, 7, 8, 9, 10, 11, 12, 11, 10, 9, 10]
    bars = Bars.from_close(close)
    strategy = service.create_with_params("rsi_reversion", {"period": 2})
    # 30/70: up through 30 at bars 4 and 12; down through 70 at bar 9; down through 30 at
    # bar 10 and up through 70 at bar 5 are no signals
    expected = np.zeros(len(close), dtype=np.int8)
    expected[[4, 12]] = BUY
    expected[9] = SELL
    np.testing.assert_array_equal(strategy.generate_signals(bars), expected)
    # a level reached is no crossing, a level left is: RSI 50 at bar 4 leaves 50 at bar 5;
    # 96.9 at bar 8 >= 96.5 > 48.4 at bar 9; 12.1 -> 56.1 at bar 12 crosses 50 again
    strategy = strategy.with_params({"oversold": 50, "overbought": 96.5})
    expected = np.zeros(len(close), dtype=np.int8)
    expected[[5, 12]] = BUY
    expected[9] = SELL
    np.testing.assert_array_equal(strategy.generate_signals(bars), expected)
    (indicator,) = strategy.indicators(bars)
    assert (indicator.name, indicator.panel, indicator.levels) == ("RSI(2)", "lower", (50, 96.5))


@pytest.mark.parametrize("params", [{}, {"period": 5, "oversold": 25, "overbought": 80}])
def test_rsi_signals_follow_the_definition(service: StrategyService, params: dict) -> None:
    bars = random_bars(2)
    strategy = service.create_with_params("rsi_reversion", params)
    p = strategy.params
    r = talib.RSI(bars.close, p.period)
    buy = (_shift(r) <= p.oversold) & (r > p.oversold)
    sell = (_shift(r) >= p.overbought) & (r < p.overbought)
    signals = strategy.generate_signals(bars)
    assert buy.any() and sell.any()
    np.testing.assert_array_equal(signals == BUY, buy)
    np.testing.assert_array_equal(signals == SELL, sell)


# --- Bollinger band reversion --------------------------------------------------------------

BOLLINGER_CLOSE = [10, 10, 10, 10, 7, 8, 8.2, 8.6, 9.4, 10.6, 12, 9, 7.5, 11]
# Bands(3, 1 sd), lower / middle / upper (TA-Lib):
#   4: 7.586 / 9 / 10.41      5: 7.086 / 8.333 / 9.581    6: 7.208 / 7.733 / 8.258
#   7: 8.017 / 8.267 / 8.516  12: 7.629 / 9.5 / 11.37     13: 7.733 / 9.167 / 10.6


def test_bollinger_buys_back_inside_and_sells_at_the_middle(service: StrategyService) -> None:
    strategy = service.create_with_params(
        "bollinger_reversion", {"period": 3, "num_std": 1.0, "exit": "middle"}
    )
    signals = strategy.generate_signals(Bars.from_close(BOLLINGER_CLOSE))
    # bar 5: 7 was below 7.586, 8 is back above 7.086 (and below the middle): buy;
    # bar 6: 8.2 reaches the middle 7.733 from below (8 < 8.333): sell;
    # bar 13: 7.5 was below 7.629 and 11 is back inside, but 11 is past the middle 9.167
    # already: that bar is a sell, not a buy
    expected = np.zeros(len(BOLLINGER_CLOSE), dtype=np.int8)
    expected[5] = BUY
    expected[[6, 13]] = SELL
    np.testing.assert_array_equal(signals, expected)


def test_bollinger_ignores_rounding_on_a_flat_stretch(service: StrategyService) -> None:
    # flat closes: the bands are the close, give or take rounding; nothing may fire, and the
    # first move up off the flat is not a crossing of the middle band "from below"
    close = [0.3, 0.1, 0.7, 0.2] * 5 + [0.1] * 200 + [0.2]
    strategy = service.create_with_params("bollinger_reversion", {"period": 7})
    assert not strategy.generate_signals(Bars.from_close(close))[30:].any()


def test_bollinger_sells_at_the_upper_band_when_asked(service: StrategyService) -> None:
    strategy = service.create_with_params(
        "bollinger_reversion", {"period": 3, "num_std": 1.0, "exit": "upper"}
    )
    signals = strategy.generate_signals(Bars.from_close(BOLLINGER_CLOSE))
    # bar 6: 8.2 is past the middle but under the upper band 8.258: hold;
    # bar 7: 8.6 reaches the upper band 8.516 from below (8.2 < 8.258): sell;
    # bars 8-9 close above the upper band but were above it already: nothing
    expected = np.zeros(len(BOLLINGER_CLOSE), dtype=np.int8)
    expected[5] = BUY
    expected[[7, 13]] = SELL
    np.testing.assert_array_equal(signals, expected)


@pytest.mark.parametrize("params", [{}, {"period": 10, "num_std": 1.5, "exit": "upper"}])
def test_bollinger_signals_follow_the_definition(service: StrategyService, params: dict) -> None:
    bars = random_bars(2)
    strategy = service.create_with_params("bollinger_reversion", params)
    p = strategy.params
    upper, middle, lower = talib.BBANDS(bars.close, p.period, p.num_std, p.num_std)
    target = middle if p.exit == "middle" else upper
    c = bars.close

    def below(band: np.ndarray) -> np.ndarray:  # within 1e-10 of a band is on it
        return c < band - 1e-10 * np.abs(band)

    def at_or_above(band: np.ndarray) -> np.ndarray:
        return c >= band - 1e-10 * np.abs(band)

    sell = (_shift(below(target)) == 1) & at_or_above(target)
    buy = (_shift(below(lower)) == 1) & at_or_above(lower) & below(target)
    signals = strategy.generate_signals(bars)
    assert buy.any() and sell.any()
    np.testing.assert_array_equal(signals == BUY, buy)
    np.testing.assert_array_equal(signals == SELL, sell)
    names = [i.name for i in strategy.indicators(bars)]
    assert names == ["BB up", f"BB mid({p.period})", "BB low"]
    for indicator, reference in zip(strategy.indicators(bars), (upper, middle, lower), strict=True):
        assert indicator.panel == "price"
        np.testing.assert_allclose(indicator.values, reference, atol=1e-9)


# --- MACD crossover ------------------------------------------------------------------------

MACD_CLOSE = [10.0] * 8 + [11.0] * 4 + [9.0] * 5 + [9.5, 9.8, 9.6]
# MACD(2, 3, 2) histogram: 0 on bars 3-7 (flat), +0.056 on bar 8, -0.014 on bar 10,
# +0.023 on bar 14 (the MACD line there is -0.169, below zero), -0.010 on bar 19


def test_macd_crossings_by_hand(service: StrategyService) -> None:
    params = {"fast_period": 2, "slow_period": 3, "signal_period": 2}
    strategy = service.create_with_params("macd", params)
    bars = Bars.from_close(MACD_CLOSE)
    expected = np.zeros(len(MACD_CLOSE), dtype=np.int8)
    expected[[8, 14]] = BUY
    expected[[10, 19]] = SELL
    np.testing.assert_array_equal(strategy.generate_signals(bars), expected)
    # above zero only: the buy of bar 14 (MACD -0.169) goes, the sells stay
    expected[14] = 0
    only_up = strategy.with_params({"above_zero_only": True})
    np.testing.assert_array_equal(only_up.generate_signals(bars), expected)


def test_macd_ignores_rounding_noise_on_flat_prices(service: StrategyService) -> None:
    close = [0.3, 0.1, 0.7, 0.2] * 10 + [0.1] * 400
    strategy = service.create_with_params("macd", {"fast_period": 3, "slow_period": 7})
    assert not strategy.generate_signals(Bars.from_close(close))[60:].any()


@pytest.mark.parametrize(
    "params",
    [{}, {"fast_period": 5, "slow_period": 35, "signal_period": 5, "above_zero_only": True}],
)
def test_macd_signals_follow_the_definition(service: StrategyService, params: dict) -> None:
    bars = random_bars(2)
    strategy = service.create_with_params("macd", params)
    p = strategy.params
    line, signal, hist = talib.MACD(bars.close, p.fast_period, p.slow_period, p.signal_period)
    up = (hist > 0) & (_shift(hist) <= 0)
    if p.above_zero_only:
        up &= line > 0
    down = (hist < 0) & (_shift(hist) >= 0)
    signals = strategy.generate_signals(bars)
    assert up.any() and down.any()
    np.testing.assert_array_equal(signals == BUY, up)
    np.testing.assert_array_equal(signals == SELL, down)
    indicators = strategy.indicators(bars)
    assert [(i.name, i.group, i.style) for i in indicators] == [
        (f"MACD({p.fast_period},{p.slow_period},{p.signal_period})", "macd", "line"),
        ("Signal", "macd", "line"),
        ("Hist", "macd", "histogram"),
    ]
    assert indicators[0].levels == (0.0,) and all(i.panel == "lower" for i in indicators)
    for indicator, reference in zip(indicators, (line, signal, hist), strict=True):
        np.testing.assert_allclose(indicator.values, reference, atol=1e-9)


# --- Donchian breakout ---------------------------------------------------------------------


def test_donchian_breakouts_by_hand(service: StrategyService) -> None:
    #         bar:    0     1    2    3     4     5   6    7    8
    high = np.array([10, 11, 10, 10, 12, 13, 12, 11, 9], dtype=float)
    low = np.array([9, 10, 9, 9, 11, 12, 10, 9, 8], dtype=float)
    close = np.array([9.5, 10.5, 9.5, 9.8, 11.5, 12.5, 11, 9.5, 8.5])
    bars = Bars(close, high, low, close, np.ones(9))
    strategy = service.create_with_params(
        "donchian_breakout", {"entry_period": 3, "exit_period": 2}
    )
    # bar 4: 11.5 > 11 = max high of bars 1-3 (its own high, 12, is not in the channel: with it
    #        no close could ever break out); bar 5: 12.5 > 12 (bars 2-4): buy again;
    # bar 6: 11 is not below 11 = min low of bars 4-5; bar 7: 9.5 < 10 (bars 5-6): sell;
    # bar 8: 8.5 < 9 (bars 6-7): sell again
    np.testing.assert_array_equal(
        strategy.generate_signals(bars), [0, 0, 0, 0, BUY, BUY, 0, SELL, SELL]
    )
    upper, lower = strategy.indicators(bars)
    assert (upper.name, lower.name) == ("Upper(3)", "Lower(2)")
    np.testing.assert_array_equal(upper.values[3:], [11, 11, 12, 13, 13, 13])
    np.testing.assert_array_equal(lower.values[2:], [9, 9, 9, 9, 11, 10, 9])
    assert np.isnan(upper.values[:3]).all() and np.isnan(lower.values[:2]).all()


@pytest.mark.parametrize("params", [{}, {"entry_period": 55, "exit_period": 20}])
def test_donchian_signals_follow_the_definition(service: StrategyService, params: dict) -> None:
    bars = random_bars(2)
    strategy = service.create_with_params("donchian_breakout", params)
    p = strategy.params
    upper = _shift(talib.MAX(bars.high, p.entry_period))
    lower = _shift(talib.MIN(bars.low, p.exit_period))
    signals = strategy.generate_signals(bars)
    assert (bars.close > upper).any() and (bars.close < lower).any()
    np.testing.assert_array_equal(signals == BUY, bars.close > upper)
    np.testing.assert_array_equal(signals == SELL, bars.close < lower)


# --- parameters and schemas ----------------------------------------------------------------


def test_the_schemas_hold_what_the_form_must_draw(service: StrategyService) -> None:
    bollinger = service.get("bollinger_reversion").params_schema()["properties"]
    assert bollinger["num_std"].items() >= {
        "type": "number", "minimum": 0.5, "maximum": 5.0, "multipleOf": 0.1, "default": 2.0,
    }.items()
    assert bollinger["exit"]["enum"] == ["middle", "upper"]
    assert bollinger["exit"]["default"] == "middle"
    macd = service.get("macd").params_schema()
    assert macd["properties"]["above_zero_only"].items() >= {
        "type": "boolean", "default": False}.items()
    assert macd["x-rules"] == ["fast_period < slow_period"]
    rsi = service.get("rsi_reversion").params_schema()
    assert rsi["x-rules"] == ["oversold < overbought"]
    assert (rsi["properties"]["oversold"]["default"], rsi["properties"]["overbought"]["default"]) \
        == (30.0, 70.0)
    donchian = service.get("donchian_breakout").params_schema()["properties"]
    assert (donchian["entry_period"]["default"], donchian["exit_period"]["default"]) == (20, 10)


@pytest.mark.parametrize(
    ("strategy_id", "params", "message"),
    [
        ("rsi_reversion", {"oversold": 70}, "oversold must be less than overbought (got 70 and 70)."),
        ("macd", {"fast_period": 30}, "fast_period must be less than slow_period (got 30 and 26)."),
        ("bollinger_reversion", {"num_std": 2.05}, "num_std: Input should be a multiple of 0.1"),
        ("bollinger_reversion", {"num_std": 0.2}, "num_std: Input should be greater than or equal"),
        ("bollinger_reversion", {"exit": "lower"}, "exit: Input should be 'middle' or 'upper'"),
        ("macd", {"above_zero_only": "maybe"}, "above_zero_only: Input should be a valid boolean"),
        ("donchian_breakout", {"entry_period": 1}, "entry_period: Input should be greater than"),
    ],
)
def test_invalid_params_are_one_sentence(
    service: StrategyService, strategy_id: str, params: dict, message: str
) -> None:
    with pytest.raises(StrategyError) as caught:
        service.create_with_params(strategy_id, params)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_params_as_the_cli_and_the_form_pass_them(service: StrategyService) -> None:
    assert service.create_with_params("bollinger_reversion", {"num_std": "2.5"}).params.num_std \
        == 2.5
    assert service.create_with_params("macd", {"above_zero_only": True}).params.above_zero_only
    assert service.create_with_params("bollinger_reversion", {"exit": "upper"}).params.exit \
        == "upper"
    assert service.create_with_params("bollinger_reversion", {"num_std": 2.3}).params.num_std \
        == 2.3  # 2.3 / 0.1 is not a whole number in binary; pydantic allows for that


# --- a backtest of each through the CLI on stored bars ---------------------------------------


def _import_sample(db: str, tmp_path: Path) -> None:
    from kash_tui.cli import main

    sample = Path(__file__).resolve().parents[2] / "docs" / "samples" / "sample-daily-SYNTHETIC.csv"
    assert main(["--db", db, "data", "import", str(sample), "--symbol", "SAMPLE"]) == 0


@pytest.mark.parametrize(
    ("strategy_id", "params"),
    [
        ("rsi_reversion", {}),
        ("bollinger_reversion", {"num_std": 1.5, "exit": "upper"}),
        ("macd", {"above_zero_only": True}),
        ("donchian_breakout", {"entry_period": 20, "exit_period": 10}),
    ],
)
def test_each_new_builtin_backtests_from_the_cli(
    strategy_id: str, params: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kash_tui.cli import main

    db = f"sqlite:///{tmp_path / 'kash.db'}"
    _import_sample(db, tmp_path)
    capsys.readouterr()
    code = main(["--db", db, "backtest", "--symbol", "SAMPLE", "--strategy", strategy_id,
                 "--params", json.dumps(params), "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    report = json.loads(out)
    text = json.dumps(report)
    assert strategy_id in text
    trades = report.get("round_trips") or report.get("trades") or report.get("fills")
    assert trades, f"{strategy_id} made no trades on the sample: {sorted(report)}"


def test_a_cross_field_error_on_the_cli_is_the_same_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kash_tui.cli import main

    db = f"sqlite:///{tmp_path / 'kash.db'}"
    _import_sample(db, tmp_path)
    capsys.readouterr()
    code = main(["--db", db, "backtest", "--symbol", "SAMPLE", "--strategy", "macd",
                 "--params", '{"fast_period": 30}'])
    captured = capsys.readouterr()
    assert code == 2
    assert "fast_period must be less than slow_period (got 30 and 26)." in captured.err
    assert "Traceback" not in captured.err
