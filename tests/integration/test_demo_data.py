"""Demo data: every timeframe of a demo symbol tells the same story (a day's bar is the
aggregate of its minutes or hours), as stored and loaded back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from kash_tui.config import Settings
from kash_tui.domains.market import Timeframe
from kash_tui.provider import ServiceProvider


@pytest.fixture
def kash(db_url: str) -> Iterator[ServiceProvider]:
    provider = ServiceProvider(Settings(database_url=db_url))  # demo data on: the first start
    provider.prepare()
    yield provider
    provider.close()


@pytest.mark.parametrize(
    ("symbol", "finer", "zone"),
    [("DEMOA", Timeframe.MIN_1, "America/New_York"), ("DEMOCOIN/USD", Timeframe.HOUR_1, "UTC")],
)
def test_daily_bars_are_the_aggregate_of_the_finer_ones(
    kash: ServiceProvider, symbol: str, finer: Timeframe, zone: str
) -> None:
    daily = kash.market.load_bars(symbol, Timeframe.DAY_1)
    fine = kash.market.load_bars(symbol, finer)
    tz = ZoneInfo(zone)

    def day_of(ns: int) -> object:
        return datetime.fromtimestamp(ns / 1e9, tz=UTC).astimezone(tz).date()

    fine_days = np.array([day_of(int(t)) for t in fine.timestamps])
    daily_index = {day_of(int(t)): i for i, t in enumerate(daily.timestamps)}
    checked = 0
    for day in sorted(set(fine_days.tolist())):
        rows = np.flatnonzero(fine_days == day)
        i = daily_index[day]
        assert daily.open[i] == pytest.approx(fine.open[rows[0]]), day
        assert daily.close[i] == pytest.approx(fine.close[rows[-1]]), day
        assert daily.high[i] == pytest.approx(fine.high[rows].max()), day
        assert daily.low[i] == pytest.approx(fine.low[rows].min()), day
        assert daily.volume[i] == pytest.approx(fine.volume[rows].sum()), day
        checked += 1
    assert checked >= 20
    # bars are well formed
    assert (fine.high >= np.maximum(fine.open, fine.close)).all()
    assert (fine.low <= np.minimum(fine.open, fine.close)).all()


def test_the_last_crypto_close_is_the_same_in_every_timeframe(kash: ServiceProvider) -> None:
    daily = kash.market.load_bars("DEMOCOIN/USD", Timeframe.DAY_1)
    hourly = kash.market.load_bars("DEMOCOIN/USD", Timeframe.HOUR_1)
    assert datetime.fromtimestamp(int(hourly.timestamps[-1]) / 1e9, tz=UTC).hour == 23
    assert float(hourly.close[-1]) == pytest.approx(float(daily.close[-1]))
