"""CandleChart: what a user sees and does (zoom, pan, reload, time axis, merging, empty state)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from textual.app import App, ComposeResult

from kash_tui.tui.widgets.candles import (
    CandleChart,
    ChartData,
    LowerPanel,
    Marker,
    Series,
    column_groups,
    merge_bars,
    nice_ticks,
    time_axis_labels,
)

NY = ZoneInfo("America/New_York")
NS = 1_000_000_000


def make_bars(
    n: int,
    *,
    symbol: str = "AAPL",
    timeframe: str = "1Min",
    start: datetime = datetime(2024, 1, 2, 9, 30, tzinfo=NY),
    step_seconds: int = 60,
    tz: str = "America/New_York",
    seed: int = 7,
    indicators: bool = False,
) -> ChartData:
    """A deterministic random walk of ``n`` bars."""
    rng = np.random.default_rng(seed)
    t0 = int(start.timestamp()) * NS
    ts = t0 + np.arange(n, dtype=np.int64) * step_seconds * NS
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate(([close[0]], close[:-1]))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.004, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.004, n))
    volume = rng.uniform(1e5, 1e6, n).round()
    overlays: tuple[Series, ...] = ()
    lower: tuple[LowerPanel, ...] = ()
    markers: tuple[Marker, ...] = ()
    if indicators:
        sma = np.full(n, np.nan)
        csum = np.cumsum(close)
        sma[9:] = (csum[9:] - np.concatenate(([0.0], csum[:-10]))) / 10
        overlays = (Series("SMA10", sma),)
        lower = (LowerPanel("MFI", 50 + 35 * np.sin(np.arange(n) / 5), levels=(20, 80)),)
        markers = (Marker(n - 20, "buy", "signal"), Marker(n - 19, "buy", "fill"),
                   Marker(n - 8, "sell", "signal"), Marker(n - 7, "sell", "fill"))
    return ChartData(ts, open_, high, low, close, volume, tz=tz, symbol=symbol,
                     timeframe=timeframe, overlays=overlays, lower=lower, markers=markers)


def sliced(data: ChartData, start: int, end: int) -> ChartData:
    return ChartData(data.timestamps_ns[start:end], data.open[start:end], data.high[start:end],
                     data.low[start:end], data.close[start:end], data.volume[start:end],
                     tz=data.tz, symbol=data.symbol, timeframe=data.timeframe)


class ChartApp(App[None]):
    def __init__(self, data: ChartData | None = None) -> None:
        super().__init__()
        self.data = data
        self.views: list[tuple[int, int]] = []
        self.cursors: list[int | None] = []

    def compose(self) -> ComposeResult:
        yield CandleChart(id="chart")

    def on_mount(self) -> None:
        chart = self.query_one(CandleChart)
        chart.focus()
        if self.data is not None:
            chart.set_data(self.data)

    def on_candle_chart_view_changed(self, event: CandleChart.ViewChanged) -> None:
        self.views.append(event.visible)

    def on_candle_chart_cursor_moved(self, event: CandleChart.CursorMoved) -> None:
        self.cursors.append(event.index)


def run_async(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """Run an async Pilot test with asyncio (the suite has no async pytest plugin)."""

    def run() -> None:
        asyncio.run(test())

    run.__name__, run.__doc__ = test.__name__, test.__doc__
    return run


def count(view: tuple[int, int]) -> int:
    return view[1] - view[0]


# ---------------------------------------------------------------------------------------------
# pure functions
# ---------------------------------------------------------------------------------------------


def test_merging_10000_bars_into_100_columns_keeps_ohlcv_honest() -> None:
    data = make_bars(10_000)
    merged = merge_bars(data, 0, 10_000, 100)
    assert 0 < len(merged) <= 100
    assert merged.starts[0] == 0 and merged.ends[-1] == 9_999
    assert np.array_equal(merged.starts[1:], merged.ends[:-1] + 1)  # no bar lost or doubled
    for i in range(len(merged)):
        bars = slice(merged.starts[i], merged.ends[i] + 1)
        assert merged.high[i] == data.high[bars].max()
        assert merged.low[i] == data.low[bars].min()
        assert merged.open[i] == data.open[merged.starts[i]]
        assert merged.close[i] == data.close[merged.ends[i]]
        assert merged.volume[i] == pytest.approx(data.volume[bars].sum())
    assert merged.high.max() == data.high.max()


def test_column_groups_stay_put_when_panning() -> None:
    before = set(column_groups(1_000, 6_000, 190).tolist())
    after = set(column_groups(1_100, 6_100, 190).tolist())
    overlap = {b for b in before if 1_200 <= b < 5_900}
    assert overlap <= after
    assert len(column_groups(0, 50, 100)) == 50  # room for every bar: no merging


def test_nice_ticks_are_round_numbers_inside_the_range() -> None:
    ticks = nice_ticks(97.3, 104.9, 4)
    assert list(ticks) == [98.0, 100.0, 102.0, 104.0]


def test_time_axis_labels_use_the_exchange_zone() -> None:
    t0 = int(datetime(2024, 1, 2, 9, 30, tzinfo=NY).timestamp()) * NS
    ts = t0 + np.arange(60, dtype=np.int64) * 60 * NS
    labels = time_axis_labels(ts, np.arange(60), "America/New_York", 60, 70)
    texts = " ".join(text for _, text in labels)
    assert "09:30" in texts
    assert "14:30" not in texts
    assert "10:00" in texts


def test_daily_time_axis_shows_dates() -> None:
    days = [datetime(2024, 1, 2, tzinfo=NY), datetime(2024, 1, 3, tzinfo=NY)]
    ts = np.array([int(d.timestamp()) * NS for d in days], dtype=np.int64)
    labels = time_axis_labels(ts, np.array([0, 20]), "America/New_York", 86400, 40)
    assert labels[0] == (0, "2024-01-02")


def test_chart_data_rejects_arrays_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="high"):
        ChartData(np.arange(3), np.ones(3), np.ones(2), np.ones(3), np.ones(3), np.ones(3))


# ---------------------------------------------------------------------------------------------
# the widget in an app
# ---------------------------------------------------------------------------------------------


@run_async
async def test_zoom_in_and_out_change_the_number_of_visible_bars() -> None:
    app = ChartApp(make_bars(1_000))
    async with app.run_test(size=(100, 30)) as pilot:
        chart = app.query_one(CandleChart)
        start = chart.visible
        assert start[1] == 1_000
        await pilot.press("plus")
        zoomed_in = chart.visible
        assert count(zoomed_in) < count(start)
        await pilot.press("equals_sign")
        assert count(chart.visible) < count(zoomed_in)
        await pilot.press("minus", "minus", "minus")
        assert count(chart.visible) > count(start)
        await pilot.pause()
        assert app.views[-1] == chart.visible  # ViewChanged went up


@run_async
async def test_pan_home_and_end() -> None:
    app = ChartApp(make_bars(1_000))
    async with app.run_test(size=(100, 30)) as pilot:
        chart = app.query_one(CandleChart)
        first = chart.visible
        await pilot.press("left")
        panned = chart.visible
        assert panned[0] < first[0] and count(panned) == count(first)
        await pilot.press("h", "h")
        assert chart.visible[0] < panned[0]
        await pilot.press("l")
        assert chart.visible[0] > app.views[-2][0]
        await pilot.press("home")
        assert chart.visible == (0, count(first))
        await pilot.press("right")
        assert chart.visible[0] > 0
        await pilot.press("end")
        assert chart.visible == (1_000 - count(first), 1_000)


@run_async
async def test_reload_keeps_the_same_bars_on_screen_by_timestamp() -> None:
    data = make_bars(2_000)
    app = ChartApp(data)
    async with app.run_test(size=(100, 30)) as pilot:
        chart = app.query_one(CandleChart)
        await pilot.press("plus", "plus", "left", "left")
        start, end = chart.visible
        assert end < 2_000  # not pinned to the latest bar
        first_ts, last_ts = data.timestamps_ns[start], data.timestamps_ns[end - 1]

        chart.set_data(make_bars(2_000), keep_view=True)  # the same bars, reloaded
        assert chart.visible == (start, end)

        chart.set_data(sliced(data, 300, 2_000), keep_view=True)  # older history dropped
        s, e = chart.visible
        shown = chart.data.timestamps_ns
        assert (shown[s], shown[e - 1]) == (first_ts, last_ts)

        chart.set_data(data, keep_view=True)  # history back: indices move, timestamps don't
        s, e = chart.visible
        assert (data.timestamps_ns[s], data.timestamps_ns[e - 1]) == (first_ts, last_ts)


@run_async
async def test_appended_bar_stays_visible_when_pinned_to_the_latest_bar() -> None:
    data = make_bars(1_001)
    app = ChartApp(sliced(data, 0, 1_000))
    async with app.run_test(size=(100, 30)) as pilot:
        chart = app.query_one(CandleChart)
        await pilot.press("plus")
        before = chart.visible
        assert before[1] == 1_000 and chart.pinned_right
        chart.set_data(data, keep_view=True)
        assert chart.visible == (before[0] + 1, 1_001)
        await pilot.pause()
        readout = chart.text_lines()[0]
        assert f"{data.close[-1]:.2f}" in readout  # the new bar is the one read out


@run_async
async def test_a_different_symbol_resets_the_view() -> None:
    app = ChartApp(make_bars(1_000))
    async with app.run_test(size=(100, 30)) as pilot:
        chart = app.query_one(CandleChart)
        default = chart.visible
        await pilot.press("minus", "minus", "home")
        assert chart.visible != default
        chart.set_data(make_bars(1_000, symbol="MSFT"), keep_view=True)
        assert chart.visible == default
        await pilot.press("home")
        chart.set_data(make_bars(1_000, timeframe="5Min", step_seconds=300), keep_view=True)
        assert chart.visible == default


@run_async
async def test_us_equity_open_shows_as_0930_not_utc() -> None:
    app = ChartApp(make_bars(40))  # 1Min bars from 09:30 New York time (14:30 UTC)
    async with app.run_test(size=(100, 24)):
        chart = app.query_one(CandleChart)
        lines = chart.text_lines()
        assert "09:30" in lines[-1]
        assert not any("14:30" in line for line in lines)
        assert "EST" in lines[0] and "UTC" not in lines[0]


@run_async
async def test_next_session_open_is_labelled_0930_with_its_date() -> None:
    day1 = make_bars(390)  # Jan 02 09:30-15:59 New York
    day2 = make_bars(100, start=datetime(2024, 1, 3, 9, 30, tzinfo=NY), seed=8)
    both = ChartData(np.concatenate((day1.timestamps_ns, day2.timestamps_ns)),
                     *(np.concatenate((getattr(day1, f), getattr(day2, f)))
                       for f in ("open", "high", "low", "close", "volume")),
                     tz="America/New_York", symbol="AAPL", timeframe="1Min")
    app = ChartApp(both)
    async with app.run_test(size=(100, 24)):
        chart = app.query_one(CandleChart)
        chart.visible = (350, 430)  # 40 bars either side of the open on Jan 03
        axis = chart.text_lines()[-1]
        assert "Jan 03 09:30" in axis
        assert "14:30" not in axis


@run_async
async def test_summer_bars_read_out_in_daylight_time() -> None:
    app = ChartApp(make_bars(40, start=datetime(2024, 7, 1, 9, 30, tzinfo=NY)))
    async with app.run_test(size=(100, 24)) as pilot:
        chart = app.query_one(CandleChart)
        await pilot.press("comma")
        assert "EDT" in chart.text_lines()[0]


@run_async
async def test_10000_bars_in_100_columns_draw_at_most_100_candles() -> None:
    data = make_bars(10_000)
    app = ChartApp(data)
    async with app.run_test(size=(108, 30)):
        chart = app.query_one(CandleChart)
        assert chart.plot_width == 100
        chart.visible = (0, 10_000)
        lines = chart.text_lines()
        merged = chart.merged
        assert merged is not None and len(merged) <= 100
        assert merged.high.max() == data.high.max()
        i = int(np.argmax(merged.high))
        assert merged.high[i] == data.high[merged.starts[i] : merged.ends[i] + 1].max()
        candle_glyphs = set("┃│╽╿╻╹╷╵")
        columns = {x for line in lines[1:-1] for x, ch in enumerate(line[:100]) if ch in candle_glyphs}
        assert 90 <= len(columns) <= 100


@run_async
async def test_cursor_moves_and_reads_out_the_bar() -> None:
    data = make_bars(200)
    app = ChartApp(data)
    async with app.run_test(size=(100, 30)) as pilot:
        chart = app.query_one(CandleChart)
        await pilot.press("full_stop")
        assert chart.cursor == 199
        await pilot.press("comma", "shift+left")
        assert chart.cursor == 197
        await pilot.pause()
        assert app.cursors[-1] == 197
        readout = chart.text_lines()[0]
        assert f"C {data.close[197]:.2f}" in readout
        assert "12:47" in readout  # 09:30 + 197 minutes, exchange time


@run_async
async def test_empty_and_loading_states_say_what_to_do() -> None:
    app = ChartApp(ChartData.empty("AAPL", "1Day", "America/New_York"))
    async with app.run_test(size=(80, 24)):
        chart = app.query_one(CandleChart)
        text = "\n".join(chart.text_lines())
        assert "No bars for AAPL 1Day" in text
        assert "kash data import" in text
        chart.set_loading("Loading")
        assert "Loading AAPL 1Day" in "\n".join(chart.text_lines())


@run_async
async def test_legible_in_a_small_terminal() -> None:
    app = ChartApp(make_bars(500, indicators=True))
    async with app.run_test(size=(78, 14)):
        chart = app.query_one(CandleChart)
        lines = chart.text_lines()
        assert len(lines) == 14
        assert "EST" in lines[0] and " C " in lines[0] and "MFI" in lines[0]  # compact readout
        assert any(set(line) & set("┃│╽╿") for line in lines[1:8])  # candles
        assert ":" in lines[-1]  # a time axis
        assert any("MFI" in line for line in lines)


@run_async
async def test_the_readout_keeps_the_symbol_and_never_cuts_a_value() -> None:
    """A long crypto symbol with five-digit prices at 80 columns: the readout names the series
    and drops whole values from its end instead (the symbol used to be dropped)."""
    data = make_bars(500, symbol="DEMOCOIN/USD", timeframe="1Hour", step_seconds=3600,
                     tz="UTC", indicators=True)
    scale = 77363.25 / float(data.close[-1])
    big = ChartData(data.timestamps_ns, data.open * scale, data.high * scale, data.low * scale,
                    data.close * scale, data.volume, tz="UTC", symbol="DEMOCOIN/USD",
                    timeframe="1Hour", overlays=(Series("SMA10", data.overlays[0].values * scale),),
                    lower=data.lower)
    for width in (80, 60, 44):
        app = ChartApp(big)
        async with app.run_test(size=(width, 20)):
            line = app.query_one(CandleChart).text_lines()[0]
            assert line.startswith("DEMOCOIN/USD 1Hour "), (width, line)
            assert " C " in line, (width, line)
            # every shown value is whole: the line ends in a number or padding, never a cut
            words = line.split()
            assert words[-1][-1].isdigit() or words[-1].endswith(("K", "M")), (width, line)


def test_snapshot_80x24(snap_compare) -> None:
    data = make_bars(300, indicators=True)
    assert snap_compare(ChartApp(data), terminal_size=(80, 24))


# ---------------------------------------------------------------------------------------------
# a lower panel with several lines and a histogram (MACD)
# ---------------------------------------------------------------------------------------------


def macd_like(n: int) -> ChartData:
    data = make_bars(n)
    t = np.arange(n, dtype=np.float64)
    line = np.sin(t / 6.0)
    signal = np.sin((t - 3.0) / 6.0)
    line[:30] = signal[:30] = np.nan  # warm-up: nothing drawn there
    panel = LowerPanel("MACD(12,26,9)", line, levels=(0.0,), lines=(Series("Signal", signal),),
                       histogram=Series("Hist", line - signal), fit_visible=True)
    return ChartData(data.timestamps_ns, data.open, data.high, data.low, data.close,
                     data.volume, tz=data.tz, symbol=data.symbol, timeframe=data.timeframe,
                     lower=(panel,))


@run_async
async def test_a_lower_panel_draws_its_lines_a_histogram_and_the_zero_line() -> None:
    app = ChartApp(macd_like(60))
    async with app.run_test(size=(130, 30)):
        chart = app.query_one(CandleChart)
        lines = chart.text_lines()
        label_row = next(i for i, line in enumerate(lines) if line.rstrip().endswith(" MACD"))
        zero_row = next(i for i, line in enumerate(lines) if line.rstrip().endswith(" 0"))
        panel = lines[label_row:zero_row + 3]
        plot = [line[:chart.plot_width] for line in panel]
        # bars above and below the zero line (half-cell blocks), only after the warm-up
        assert any(set(row) & set("▄█") for row in plot[: zero_row - label_row + 1])
        assert any(set(row) & set("▀█") for row in plot[zero_row - label_row:])
        assert not any(set(row[:25]) & set("▄▀█") for row in plot)
        # two lines of braille: the MACD's style and the signal's are not the same
        styles = {seg.style for y in range(label_row, zero_row + 3)
                  for seg in chart.render_line(y)
                  if seg.text.strip() and seg.text.strip()[0] in "⠉⠒⠤⣀⡇"}
        assert len(styles) >= 2
        # the readout names every series of the panel at the latest bar, with two decimals
        readout = lines[0]
        assert "MACD(12,26,9) " in readout and " Signal " in readout and " Hist " in readout
        value = readout.split("MACD(12,26,9) ")[1].split()[0]
        assert value == f"{np.sin(59 / 6.0):.2f}"


def test_a_lower_panel_checks_the_length_of_every_series() -> None:
    data = make_bars(10)
    panel = LowerPanel("MACD", np.zeros(10), lines=(Series("Signal", np.zeros(9)),))
    with pytest.raises(ValueError, match="'Signal' has 9 values for 10 bars"):
        ChartData(data.timestamps_ns, data.open, data.high, data.low, data.close, data.volume,
                  lower=(panel,))
