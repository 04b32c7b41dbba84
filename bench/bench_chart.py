"""Benchmark of the CandleChart widget's frame rendering against its target.

Run: ``python bench/bench_chart.py`` (from the repository root). One process: the app runs
headless (``App.run_test(size=(200, 50))``) with one ``CandleChart`` filling the screen; every
figure is the MEDIAN of several repetitions. 10,000 one-minute bars with an SMA overlay, an MFI
lower panel and 100 markers; all 10,000 bars visible (merged into the chart's columns) unless
said otherwise.

A "frame" is ``chart.render_lines(Region(0, 0, 200, 50))``: Textual's own path for painting the
widget (styles cache -> ``render_line`` for every row), which rebuilds the chart's cached rows.

  cold       set_data(new ChartData, keep_view=False) + visible = all bars + frame
  zoom       action_zoom_in() (the "+" key) from the full view + frame
  pan        action_pan_left() (the "h" key) on a 6,000-bar view + frame
  cursor     action_cursor_left() (the "," key) + frame
  cached     frame with nothing changed (the cache hit Textual sees on a plain repaint)

Target (PASS/FAIL printed, exit code 1 on a FAIL): every median < 50 ms per frame.
The screen compositor's own work (the same for any widget) is not included.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual.app import App, ComposeResult  # noqa: E402
from textual.geometry import Region  # noqa: E402

from kash_tui.tui.widgets.candles import (  # noqa: E402
    CandleChart,
    ChartData,
    LowerPanel,
    Marker,
    Series,
)

BARS = 10_000
SIZE = (200, 50)
REPEATS = 25
TARGET_MS = 50.0
MINUTE_NS = 60 * 1_000_000_000
START_NS = 1_704_205_800 * 1_000_000_000  # 2024-01-02 09:30 America/New_York


def make_data(n: int = BARS, seed: int = 42) -> ChartData:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    open_ = np.concatenate(([close[0]], close[:-1])) * np.exp(rng.normal(0.0, 0.0003, n))
    high = np.maximum(open_, close) * (1.0 + np.abs(rng.normal(0.0, 0.0005, n)))
    low = np.minimum(open_, close) * (1.0 - np.abs(rng.normal(0.0, 0.0005, n)))
    volume = rng.integers(1_000, 100_000, n).astype(np.float64)
    ts = START_NS + np.arange(n, dtype=np.int64) * MINUTE_NS
    csum = np.cumsum(close)
    sma = np.full(n, np.nan)
    sma[19:] = (csum[19:] - np.concatenate(([0.0], csum[:-20]))) / 20
    mfi = 50 + 30 * np.sin(np.arange(n) / 40) + rng.normal(0, 5, n)
    markers = tuple(Marker(int(i), "buy" if k % 2 == 0 else "sell", "fill" if k % 4 < 2 else "signal")
                    for k, i in enumerate(np.linspace(50, n - 50, 100).astype(int)))
    return ChartData(ts, open_, high, low, close, volume, tz="America/New_York", symbol="BENCH",
                     timeframe="1Min", overlays=(Series("SMA20", sma),),
                     lower=(LowerPanel("MFI", mfi, levels=(20, 80)),), markers=markers)


class ChartBenchApp(App[None]):
    def compose(self) -> ComposeResult:
        yield CandleChart()


def median_ms(step: Callable[[], None], setup: Callable[[], None] | None = None) -> float:
    samples = []
    for _ in range(REPEATS):
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        step()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


async def run() -> dict[str, float]:
    app = ChartBenchApp()
    results: dict[str, float] = {}
    async with app.run_test(size=SIZE) as pilot:
        chart = app.query_one(CandleChart)
        datasets = [make_data(seed=s) for s in range(REPEATS + 1)]
        chart.set_data(datasets[-1], keep_view=False)
        chart.visible = (0, BARS)
        await pilot.pause()
        region = Region(0, 0, *SIZE)

        def frame() -> None:
            strips = chart.render_lines(region)
            assert len(strips) == SIZE[1]

        fresh = iter(datasets)

        def cold() -> None:
            chart.set_data(next(fresh), keep_view=False)
            chart.visible = (0, BARS)
            frame()

        results["cold: new data, 10,000 bars visible"] = median_ms(cold)
        assert chart.merged is not None and len(chart.merged) <= chart.plot_width

        def full_view() -> None:
            chart.visible = (0, BARS)
            frame()

        def zoom() -> None:
            chart.action_zoom_in()
            frame()

        results["warm: zoom in (+) from 10,000 bars"] = median_ms(zoom, setup=full_view)

        def pan_view() -> None:
            chart.visible = (2_000, 8_000)
            frame()

        def pan() -> None:
            chart.action_pan_left()
            frame()

        results["warm: pan left (h) on 6,000 bars"] = median_ms(pan, setup=pan_view)

        def cursor() -> None:
            chart.action_cursor_left()
            frame()

        full_view()
        chart.action_cursor_left()
        results["warm: cursor left (,) on 10,000 bars"] = median_ms(cursor)

        frame()
        results["cached: repaint, nothing changed"] = median_ms(frame)
    return results


def main() -> int:
    results = asyncio.run(run())
    print(f"CandleChart frame, {BARS:,} bars into {SIZE[0]}x{SIZE[1]}, median of {REPEATS} "
          f"(target < {TARGET_MS:.0f} ms)")
    failed = False
    for name, ms in results.items():
        ok = ms < TARGET_MS
        failed |= not ok
        print(f"  {name:<40} {ms:8.2f} ms  {'PASS' if ok else 'FAIL'}")
    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
