"""The strategy domain's indicators against TA-Lib, the reference implementation."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from kash_tui.domains.strategy.indicators import (
    bollinger_bands,
    ema,
    highest,
    lowest,
    macd,
    mfi,
    rsi,
    sma,
    stddev,
)

TOLERANCE = 1e-9
PERIODS = [2, 3, 5, 14, 30, 200]


def _bars(seed: int, size: int = 3000) -> dict[str, np.ndarray]:
    """Positive random-walk OHLCV with the awkward cases the rules are about.

    Flat stretches (high == low == close, so the typical price does not move), zero-volume
    stretches shorter than, equal to and longer than the periods under test, single unchanged
    bars, and moves inside TA-Lib's 1e-14 dead zone.
    """
    rng = np.random.default_rng(seed)
    full = 3000
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, full)))
    high = close * (1.0 + rng.random(full) * 0.01)
    low = close * (1.0 - rng.random(full) * 0.01)
    volume = rng.integers(0, 5000, full).astype(np.float64) * 100.0
    for start, stop in [(100, 400), (700, 703), (900, 914), (1200, 1215), (1500, 1530)]:
        high[start:stop] = low[start:stop] = close[start:stop] = close[start]
    for start, stop in [(450, 650), (1000, 1013), (1100, 1114), (1300, 1315), (1700, 1701)]:
        volume[start:stop] = 0.0
    for i in range(2000, 2100, 7):  # unchanged bars
        high[i], low[i], close[i] = high[i - 1], low[i - 1], close[i - 1]
    for i in range(2200, 2300, 5):  # moves of one ulp or so: inside the dead zone
        high[i], low[i], close[i] = np.nextafter([high[i - 1], low[i - 1], close[i - 1]], np.inf)
    columns = {"high": high, "low": low, "close": close, "volume": volume}
    return {name: values[:size].copy() for name, values in columns.items()}


def assert_matches(ours: np.ndarray, reference: np.ndarray) -> None:
    assert ours.dtype == np.float64
    assert ours.shape == reference.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference))
    defined = ~np.isnan(reference)
    np.testing.assert_allclose(ours[defined], reference[defined], rtol=0.0, atol=TOLERANCE)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("period", PERIODS)
def test_sma_and_ema_match_talib(seed: int, period: int) -> None:
    close = _bars(seed)["close"]
    assert_matches(sma(close, period), talib.SMA(close, period))
    assert_matches(ema(close, period), talib.EMA(close, period))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("period", PERIODS)
def test_rsi_matches_talib(seed: int, period: int) -> None:
    close = _bars(seed)["close"]
    assert_matches(rsi(close, period), talib.RSI(close, period))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("period", PERIODS)
def test_mfi_matches_talib(seed: int, period: int) -> None:
    b = _bars(seed)
    ours = mfi(b["high"], b["low"], b["close"], b["volume"], period)
    assert_matches(ours, talib.MFI(b["high"], b["low"], b["close"], b["volume"], period))


@pytest.mark.parametrize("size", [0, 1, 13, 14, 15, 16])
def test_short_series_are_nan_where_talib_is(size: int) -> None:
    b = _bars(3, size=40)
    h, low, c, v = (b[k][:size] for k in ("high", "low", "close", "volume"))
    assert_matches(sma(c, 14), talib.SMA(c, 14))
    assert_matches(ema(c, 14), talib.EMA(c, 14))
    assert_matches(rsi(c, 14), talib.RSI(c, 14))
    assert_matches(mfi(h, low, c, v, 14), talib.MFI(h, low, c, v, 14))


def test_first_defined_values() -> None:
    b = _bars(4, size=100)
    c = b["close"]
    assert np.isnan(sma(c, 10)[8]) and not np.isnan(sma(c, 10)[9])
    assert np.isnan(ema(c, 10)[8]) and not np.isnan(ema(c, 10)[9])
    assert np.isnan(rsi(c, 10)[9]) and not np.isnan(rsi(c, 10)[10])
    m = mfi(b["high"], b["low"], c, b["volume"], 10)
    assert np.isnan(m[9]) and not np.isnan(m[10])


def test_ema_is_seeded_with_the_sma() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    out = ema(x, 3)
    assert out[2] == 2.0
    assert out[3] == pytest.approx(2.0 + 0.5 * (4.0 - 2.0))
    assert out[4] == pytest.approx(3.0 + 0.5 * (10.0 - 3.0))


def test_mfi_reads_zero_without_money_flow() -> None:
    flat = np.full(30, 50.0)
    assert np.all(mfi(flat, flat, flat, np.full(30, 1000.0), 14)[14:] == 0.0)
    b = _bars(5, size=30)
    silent = mfi(b["high"], b["low"], b["close"], np.zeros(30), 14)
    assert np.all(silent[14:] == 0.0)


def test_mfi_small_volumes_are_not_zeroed() -> None:
    # TA-Lib 0.4 read 0 whenever pos + neg < 1; 0.8 (and Kash) only for a truly empty window.
    tp = np.array([10.0, 11.0, 12.0, 11.0, 13.0, 14.0, 13.0, 12.0])
    volume = np.full(8, 1e-6)
    ours = mfi(tp, tp, tp, volume, 3)
    assert ours[3] == pytest.approx(100.0 * (11 + 12) / (11 + 12 + 11))
    assert_matches(ours, talib.MFI(tp, tp, tp, volume, 3))


def test_mfi_by_hand() -> None:
    tp = np.array([10.0, 9.0, 8.0, 9.0, 10.0, 11.0, 10.0, 9.0])
    out = mfi(tp, tp, tp, np.ones(8), 2)
    expected = [np.nan, np.nan, 0.0, 100 * 9 / 17, 100.0, 100.0, 100 * 11 / 21, 0.0]
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)


def test_rsi_of_a_flat_start_is_zero_like_talib() -> None:
    x = np.concatenate([np.full(20, 7.0), [8.0, 7.5]])
    out = rsi(x, 14)
    assert np.all(out[14:20] == 0.0)
    assert_matches(out, talib.RSI(x, 14))


@pytest.mark.parametrize("period", [2, 14, 30])
def test_values_never_depend_on_later_bars(period: int) -> None:
    b = _bars(6, size=1200)
    full = {
        "sma": sma(b["close"], period),
        "ema": ema(b["close"], period),
        "rsi": rsi(b["close"], period),
        "mfi": mfi(b["high"], b["low"], b["close"], b["volume"], period),
    }
    for k in [1, period, period + 1, 101, 433, 460, 700, 1001, 1199]:
        cut = {key: v[:k] for key, v in b.items()}
        prefix = {
            "sma": sma(cut["close"], period),
            "ema": ema(cut["close"], period),
            "rsi": rsi(cut["close"], period),
            "mfi": mfi(cut["high"], cut["low"], cut["close"], cut["volume"], period),
        }
        for name, values in prefix.items():
            np.testing.assert_array_equal(values, full[name][:k], err_msg=f"{name} at k={k}")


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="period"):
        sma(np.ones(5), 0)
    with pytest.raises(ValueError, match="period"):
        ema(np.ones(5), 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one-dimensional"):
        sma(np.ones((2, 2)), 2)
    with pytest.raises(ValueError, match="same length"):
        mfi(np.ones(5), np.ones(5), np.ones(4), np.ones(5), 2)


# --- the indicators of the Bollinger, MACD and Donchian strategies ---------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("num_std", [1.0, 2.0, 2.7])
def test_bollinger_bands_match_talib(seed: int, period: int, num_std: float) -> None:
    close = _bars(seed)["close"]
    ours = bollinger_bands(close, period, num_std)
    reference = talib.BBANDS(close, period, num_std, num_std)
    for line, ref in zip(ours, reference, strict=True):
        assert_matches(line, ref)
    assert_matches(stddev(close, period), talib.STDDEV(close, period))


def test_stddev_is_exactly_zero_on_flat_prices_and_exact_on_tiny_moves() -> None:
    # A running sum of squares would read ~1e-5 here (1000**2 cancels); TA-Lib reads 0.
    flat = np.full(60, 1000.0)
    flat[40:] += np.tile([0.0, 1e-8], 10)
    ours, reference = stddev(flat, 20), talib.STDDEV(flat, 20)
    assert (ours[19:40] == 0.0).all()
    assert_matches(ours, reference)
    np.testing.assert_allclose(ours[59], 0.5e-8, rtol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (2, 3, 2), (5, 35, 5),
                                                      (3, 200, 30), (2, 14, 1)])
def test_macd_matches_talib(seed: int, fast: int, slow: int, signal: int) -> None:
    close = _bars(seed)["close"]
    ours = macd(close, fast, slow, signal)
    for line, ref in zip(ours, talib.MACD(close, fast, slow, signal), strict=True):
        assert_matches(line, ref)


def test_macd_fast_ema_is_seeded_where_the_slow_one_starts() -> None:
    # TA-Lib's MACD is not EMA(fast) - EMA(slow): its fast EMA starts at bar slow-1.
    close = _bars(4)["close"][:300]
    line, _, _ = macd(close, 5, 13, 4)
    plain = ema(close, 5) - ema(close, 13)
    first = 13 + 4 - 2
    assert np.abs(line[first] - plain[first]) > 1e-6
    assert_matches(line, talib.MACD(close, 5, 13, 4)[0])
    with pytest.raises(ValueError, match="fast must be less than slow"):
        macd(close, 13, 13, 4)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("period", [*PERIODS, 500])
def test_highest_and_lowest_match_talib_max_and_min(seed: int, period: int) -> None:
    b = _bars(seed)
    assert_matches(highest(b["high"], period), talib.MAX(b["high"], period))
    assert_matches(lowest(b["low"], period), talib.MIN(b["low"], period))


@pytest.mark.parametrize("size", [0, 1, 19, 20, 21, 33, 34, 35])
def test_short_series_of_the_band_and_channel_indicators(size: int) -> None:
    b = _bars(5, size=60)
    c, h = b["close"][:size], b["high"][:size]
    for line, ref in zip(bollinger_bands(c, 20, 2.0), talib.BBANDS(c, 20, 2.0, 2.0), strict=True):
        assert_matches(line, ref)
    for line, ref in zip(macd(c, 12, 26, 9), talib.MACD(c, 12, 26, 9), strict=True):
        assert_matches(line, ref)
    assert_matches(highest(h, 20), talib.MAX(h, 20))
    assert_matches(lowest(h, 20), talib.MIN(h, 20))


@pytest.mark.parametrize(
    "compute",
    [
        lambda c: bollinger_bands(c, 20, 2.0)[0],
        lambda c: stddev(c, 7),
        lambda c: macd(c, 12, 26, 9)[0],
        lambda c: macd(c, 12, 26, 9)[1],
        lambda c: highest(c, 20),
        lambda c: lowest(c, 13),
    ],
)
def test_new_indicators_are_the_same_bit_for_bit_on_a_prefix(compute) -> None:
    close = _bars(6)["close"]
    full = compute(close)
    for k in (1, 13, 20, 33, 34, 35, 101, 1000, 2999):
        np.testing.assert_array_equal(compute(close[:k]), full[:k], err_msg=f"first {k}")
