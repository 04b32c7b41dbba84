"""Deterministic generated demo bars, so a newcomer can chart and backtest offline at once.

Every demo instrument is named "Generated demo data (not real prices)" and has source ``demo``;
the symbols start with DEMO so nobody mistakes them for a real listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from kash_tui.domains.market.service import AssetClass, Timeframe

DEMO_NAME = "Generated demo data (not real prices)"


@dataclass(frozen=True)
class DemoSeries:
    symbol: str
    asset_class: AssetClass
    tz: str
    timeframe: Timeframe
    ts: np.ndarray  # UTC epoch seconds
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


def _weekdays(start: date, end: date) -> list[date]:
    days, d = [], start
    while d <= end:
        if d.weekday() < 5:
            days.append(d)
        d += timedelta(days=1)
    return days


def _path(seed: int, n: int, start_price: float, vol: float) -> tuple[np.ndarray, ...]:
    """A random walk with slow regime changes in drift, so trend strategies have work to do."""
    rng = np.random.default_rng(seed)
    regime = np.repeat(rng.normal(0.0, vol * 0.25, size=n // 60 + 1), 60)[:n]
    rets = regime + rng.normal(0.0, vol, size=n)
    close = start_price * np.exp(np.cumsum(rets))
    gap = rng.normal(0.0, vol * 0.3, size=n)
    open_ = np.empty(n)
    open_[0] = start_price
    open_[1:] = close[:-1] * np.exp(gap[1:])
    spread = np.abs(rng.normal(0.0, vol * 0.6, size=(2, n)))
    high = np.maximum(open_, close) * (1 + spread[0])
    low = np.minimum(open_, close) * (1 - spread[1])
    volume = np.round(rng.lognormal(13.0, 0.4, size=n))
    return (np.round(open_, 4), np.round(high, 4), np.round(low, 4), np.round(close, 4), volume)


def _series(symbol, asset_class, tz, timeframe, ts, seed, price, vol) -> DemoSeries:  # noqa: ANN001
    o, h, low, c, v = _path(seed, len(ts), price, vol)
    return DemoSeries(symbol, asset_class, tz, timeframe, np.asarray(ts, dtype=np.int64),
                      o, h, low, c, v)


def demo_series() -> list[DemoSeries]:
    ny = ZoneInfo("America/New_York")
    daily_days = _weekdays(date(2015, 1, 2), date(2024, 12, 31))
    daily_ts = [int(datetime.combine(d, time(0, 0), ny).timestamp()) for d in daily_days]
    minute_ts: list[int] = []
    for d in _weekdays(date(2024, 12, 2), date(2024, 12, 27)):
        open_ = int(datetime.combine(d, time(9, 30), ny).timestamp())
        minute_ts.extend(range(open_, open_ + 390 * 60, 60))
    crypto_daily = [
        int(datetime(2022, 1, 1, tzinfo=UTC).timestamp()) + 86400 * i for i in range(1096)
    ]
    crypto_hourly = [
        int(datetime(2024, 10, 1, tzinfo=UTC).timestamp()) + 3600 * i for i in range(92 * 24)
    ]
    eq, cr, ny_tz = AssetClass.US_EQUITY, AssetClass.CRYPTO, "America/New_York"
    return [
        _series("DEMOA", eq, ny_tz, Timeframe.DAY_1, daily_ts, 11, 100.0, 0.015),
        _series("DEMOB", eq, ny_tz, Timeframe.DAY_1, daily_ts, 23, 40.0, 0.022),
        _series("DEMOA", eq, ny_tz, Timeframe.MIN_1, minute_ts, 37, 180.0, 0.0009),
        _series("DEMOCOIN/USD", cr, "UTC", Timeframe.DAY_1, crypto_daily, 41, 30000.0, 0.035),
        _series("DEMOCOIN/USD", cr, "UTC", Timeframe.HOUR_1, crypto_hourly, 53, 60000.0, 0.007),
    ]
