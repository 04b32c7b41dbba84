"""Deterministic generated demo bars, so a newcomer can chart and backtest offline at once.

Every demo instrument is named "Generated demo data (not real prices)" and has source ``demo``;
the symbols start with DEMO so nobody mistakes them for a real listing.

Each symbol has one price path. The daily walk gives every day its open and close; where a
finer timeframe exists (DEMOA's minutes in December 2024, DEMOCOIN/USD's hours from October
2024) its bars walk from that day's open to its close, and the day's bar is the aggregate of
them (open, highest high, lowest low, close, summed volume). So every timeframe agrees: a
day's close is the close of its last minute or hour.
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


def _finer(
    daily: DemoSeries, timeframe: Timeframe, sessions: list[tuple[int, list[int]]], seed: int
) -> tuple[DemoSeries, DemoSeries]:
    """Bars of ``timeframe`` inside the given days, and the daily series re-aggregated from them.

    ``sessions`` holds, per day, the daily bar's timestamp and the finer bars' timestamps. Each
    day's finer bars are a random walk pinned to the daily open and close (a Brownian bridge in
    log price), with that day's volume spread over them; the daily high, low and volume become
    the aggregate of the finer bars, its open and close stay.
    """
    rng = np.random.default_rng(seed)
    index = {int(t): i for i, t in enumerate(daily.ts.tolist())}
    high, low, volume = daily.high.copy(), daily.low.copy(), daily.volume.copy()
    ts_out: list[np.ndarray] = []
    cols: list[list[np.ndarray]] = [[], [], [], [], []]
    for day_ts, stamps in sessions:
        i = index[day_ts]
        n = len(stamps)
        first, last = np.log(daily.open[i]), np.log(daily.close[i])
        day_vol = abs(last - first) + float(np.log(daily.high[i] / daily.low[i])) / 2 or 0.01
        steps = rng.normal(0.0, day_vol / np.sqrt(n), size=n)
        walk = np.concatenate(([0.0], np.cumsum(steps)))
        k = np.arange(n + 1) / n
        path = np.exp(first + k * (last - first) + walk - k * walk[-1])
        opens, closes = path[:-1], path[1:]
        wick = np.abs(rng.normal(0.0, day_vol / np.sqrt(n) * 0.4, size=(2, n)))
        highs = np.maximum(opens, closes) * (1 + wick[0])
        lows = np.minimum(opens, closes) * (1 - wick[1])
        weights = rng.lognormal(0.0, 0.5, size=n)
        vols = np.floor(daily.volume[i] * weights / weights.sum())
        vols[-1] += daily.volume[i] - vols.sum()  # the day's volume, exactly
        o, h, lo, c = (np.round(a, 4) for a in (opens, highs, lows, closes))
        o[0], c[-1] = daily.open[i], daily.close[i]
        h = np.maximum(h, np.maximum(o, c))
        lo = np.minimum(lo, np.minimum(o, c))
        high[i], low[i], volume[i] = h.max(), lo.min(), vols.sum()
        ts_out.append(np.asarray(stamps, dtype=np.int64))
        for col, values in zip(cols, (o, h, lo, c, vols), strict=True):
            col.append(values)
    finer = DemoSeries(daily.symbol, daily.asset_class, daily.tz, timeframe,
                       np.concatenate(ts_out), *(np.concatenate(c) for c in cols))
    agreed = DemoSeries(daily.symbol, daily.asset_class, daily.tz, daily.timeframe, daily.ts,
                        daily.open, high, low, daily.close, volume)
    return agreed, finer


def demo_series() -> list[DemoSeries]:
    ny = ZoneInfo("America/New_York")
    daily_days = _weekdays(date(2015, 1, 2), date(2024, 12, 31))
    daily_ts = [int(datetime.combine(d, time(0, 0), ny).timestamp()) for d in daily_days]
    minute_sessions: list[tuple[int, list[int]]] = []
    for d in _weekdays(date(2024, 12, 2), date(2024, 12, 27)):
        open_ = int(datetime.combine(d, time(9, 30), ny).timestamp())
        day = int(datetime.combine(d, time(0, 0), ny).timestamp())
        minute_sessions.append((day, list(range(open_, open_ + 390 * 60, 60))))
    first_day = int(datetime(2022, 1, 1, tzinfo=UTC).timestamp())
    crypto_daily = [first_day + 86400 * i for i in range(1096)]
    first_hour = int(datetime(2024, 10, 1, tzinfo=UTC).timestamp())
    hour_sessions = [
        (first_hour + 86400 * d, [first_hour + 86400 * d + 3600 * h for h in range(24)])
        for d in range(92)
    ]
    eq, cr, ny_tz = AssetClass.US_EQUITY, AssetClass.CRYPTO, "America/New_York"
    demoa, demoa_minutes = _finer(
        _series("DEMOA", eq, ny_tz, Timeframe.DAY_1, daily_ts, 11, 100.0, 0.015),
        Timeframe.MIN_1, minute_sessions, 37,
    )
    coin, coin_hours = _finer(
        _series("DEMOCOIN/USD", cr, "UTC", Timeframe.DAY_1, crypto_daily, 41, 30000.0, 0.035),
        Timeframe.HOUR_1, hour_sessions, 53,
    )
    return [
        demoa,
        _series("DEMOB", eq, ny_tz, Timeframe.DAY_1, daily_ts, 23, 40.0, 0.022),
        demoa_minutes,
        coin,
        coin_hours,
    ]
