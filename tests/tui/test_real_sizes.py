"""The app at real size: a million one-minute bars, backtested from the Strategies place without
freezing the screen, then charted on their last 10,000 bars with the run's fills marked."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from textual.pilot import Pilot

from kash_tui.config import Settings
from kash_tui.domains.market import Timeframe
from kash_tui.provider import ServiceProvider
from kash_tui.tui.app import KashApp, make_app
from kash_tui.tui.screens.chart import ChartScreen
from kash_tui.tui.screens.strategies import StrategiesScreen
from kash_tui.tui.state import workbench
from kash_tui.tui.widgets import ChartHeader
from kash_tui.tui.widgets.candles import CandleChart
from kash_tui.tui.widgets.results import MAX_TABLE_ROWS, RoundTripsTable

BARS = 1_000_000
pytestmark = pytest.mark.slow


def _write_minutes(path: Path, n: int) -> None:
    """``n`` New York session minutes (390 a weekday) of a random walk, as a vendor exports
    them."""
    rng = np.random.default_rng(11)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    open_ = np.r_[100.0, close[:-1]]
    high, low = np.maximum(open_, close) * 1.0005, np.minimum(open_, close) * 0.9995
    days = np.arange(np.datetime64("2012-01-02"), np.datetime64("2030-01-01"))
    days = days[((days.astype(np.int64) - 4) % 7) < 5][: n // 390 + 1]
    minutes = (days[:, None].astype("datetime64[m]") + np.timedelta64(570, "m")
               + np.arange(390).astype("timedelta64[m]")).ravel()[:n]
    stamps = np.datetime_as_string(minutes, unit="s").tolist()
    with path.open("w") as fh:
        fh.write("Datetime,Open,High,Low,Close,Volume\n")
        fh.writelines(
            f"{t},{o:.4f},{h:.4f},{lo:.4f},{c:.4f},1000\n"
            for t, o, h, lo, c in zip(stamps, open_.tolist(), high.tolist(), low.tolist(),
                                      close.tolist(), strict=True)
        )


async def _settle(pilot: Pilot) -> None:
    for _ in range(6):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def test_a_million_bars_backtest_without_freezing_then_chart_the_last_10000(
    tmp_path: Path, sqlite_db_url: str
) -> None:
    csv = tmp_path / "m1m.csv"
    _write_minutes(csv, BARS)
    provider = ServiceProvider(Settings(database_url=sqlite_db_url))
    provider.prepare()
    report = provider.market.import_csv(csv, "M1M", timeframe=Timeframe.parse("1Min"))
    assert report.stored == BARS
    provider.close()

    app: KashApp = make_app(Settings(database_url=sqlite_db_url))
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(200):
            if app.status == "ready":
                break
            await pilot.pause(0.05)
        await _settle(pilot)
        workbench(app).show_market("M1M", "1Min")
        await pilot.press("3")
        await _settle(pilot)
        screen = app.screen
        assert isinstance(screen, StrategiesScreen)
        listing = screen.strategy_list
        listing.focus()
        await pilot.pause()
        target = listing.get_option_index("sma_crossover")
        while listing.highlighted != target:
            await pilot.press("down" if (listing.highlighted or 0) < target else "up")
        await pilot.press("enter")
        await _settle(pilot)

        # the screen keeps answering while a million bars load, run and get stored
        beats: list[float] = []
        timer = app.set_interval(0.05, lambda: beats.append(time.monotonic()))
        started = time.monotonic()
        await pilot.press("f9")
        await _settle(pilot)
        timer.stop()
        runs = app.services.trading.list_runs()
        assert len(runs) == 1 and runs[0].bar_count == BARS
        gaps = np.diff([started, *beats])
        assert beats and gaps.max() < 1.5, f"the screen froze for {gaps.max():.2f} s"

        trips = screen.query_one("#trips", RoundTripsTable)
        assert runs[0].metrics.round_trips > MAX_TABLE_ROWS
        assert trips.total == runs[0].metrics.round_trips
        assert trips.shown == MAX_TABLE_ROWS  # a capped table, not 10,000+ rows in a widget

        # the chart opens on the last 10,000 bars, with the run's fills among them
        await pilot.press("2")
        await _settle(pilot)
        assert isinstance(app.screen, ChartScreen)
        chart = app.screen.query_one("#chart", CandleChart)
        assert chart.data is not None and len(chart.data.timestamps_ns) == 10_000
        header = str(app.screen.query_one("#chart-header", ChartHeader).render())
        assert "last 10,000 bars" in header
        assert any(m.source == "fill" for m in chart.data.markers)
