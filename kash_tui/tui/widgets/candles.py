"""A candlestick chart that draws itself with the Line API.

``CandleChart`` renders OHLC candles, volume, price-panel overlays (e.g. an SMA or Bollinger
bands), lower panels (e.g. MFI with its 20/80 levels; MACD with its signal line, a histogram and
the zero line), buy/sell markers, a price axis on the right, a time axis in the
instrument's exchange zone and a crosshair readout. When the visible range holds more bars than
there are columns, bars are merged (first open, max high, min low, last close, summed volume) so
that every column is one candle.

Layering: this module imports only textual, rich, numpy and the standard library. The screen that
hosts the chart converts domain bars into a :class:`ChartData` and calls
:meth:`CandleChart.set_data`.

A frame is built once into a list of strips and cached by (size, visible range, data version,
cursor, theme); ``render_line`` only indexes that list.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from collections.abc import Callable
from typing import ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

__all__ = [
    "CandleChart",
    "ChartData",
    "LowerPanel",
    "Marker",
    "MergedBars",
    "Series",
    "column_groups",
    "merge_bars",
    "nice_ticks",
    "time_axis_labels",
]

# ---------------------------------------------------------------------------------------------
# data in
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Series:
    """A line drawn on the price panel (e.g. ``SMA 20``); one value per bar, NaN where undefined."""

    name: str
    values: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", np.asarray(self.values, dtype=np.float64))


@dataclass(frozen=True, eq=False)
class LowerPanel:
    """An indicator in its own panel under the volume (e.g. MFI with levels 20 and 80).

    ``lines`` are more lines in the same panel (MACD's signal line) and ``histogram`` bars
    drawn up and down from zero (MACD minus signal); all share the panel's scale. The scale is
    ``lo``..``hi``, or with ``fit_visible`` the range of what is on screen (and the levels),
    for indicators without fixed bounds.
    """

    name: str
    values: np.ndarray
    levels: tuple[float, ...] = ()
    lo: float = 0.0
    hi: float = 100.0
    lines: tuple[Series, ...] = ()
    histogram: Series | None = None
    fit_visible: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", np.asarray(self.values, dtype=np.float64))
        object.__setattr__(self, "lines", tuple(self.lines))
        if not self.hi > self.lo:
            raise ValueError(f"LowerPanel {self.name!r}: hi ({self.hi}) must be above lo ({self.lo}).")

    @property
    def series(self) -> tuple[Series, ...]:
        """Every line and the histogram, the panel's own values first."""
        own = Series(self.name, self.values)
        return (own, *self.lines, *((self.histogram,) if self.histogram is not None else ()))


EXIT_GLYPHS: dict[str, str] = {"signal": "", "stop": "×", "target": "◆", "trail": "↧"}
"""The glyph of a sell fill by its reason (a signal's sell keeps the triangle)."""
_EXIT_GLYPH_ARRAY = np.array(["▼", "×", "◆", "↧"])


@dataclass(frozen=True)
class Marker:
    """A buy or sell at a bar: a strategy ``signal`` (hollow triangle), a ``fill`` (solid), or
    a ``backtest`` fill shown beside live ones (small, one row further from the candle, so a
    live fill and the backtest's fill of the same bar are both seen)."""

    index: int
    kind: Literal["buy", "sell"]
    source: Literal["signal", "fill", "backtest"] = "signal"
    reason: Literal["signal", "stop", "target", "trail"] = "signal"
    """Why a fill happened: a sell by a stop (×), a target (◆) or a trailing stop (↧) is drawn
    with its own glyph instead of the solid triangle."""

    def __post_init__(self) -> None:
        if self.reason not in EXIT_GLYPHS:
            raise ValueError("Marker reason must be 'signal', 'stop', 'target' or 'trail', not "
                             f"{self.reason!r}.")
        if self.kind not in ("buy", "sell"):
            raise ValueError(f"Marker kind must be 'buy' or 'sell', not {self.kind!r}.")
        if self.source not in ("signal", "fill", "backtest"):
            raise ValueError("Marker source must be 'signal', 'fill' or 'backtest', not "
                             f"{self.source!r}.")


@dataclass(frozen=True, eq=False)
class ChartData:
    """Bars to chart: UTC nanosecond timestamps and float64 OHLCV arrays of equal length."""

    timestamps_ns: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    tz: str = "UTC"
    symbol: str = ""
    timeframe: str = ""
    overlays: tuple[Series, ...] = ()
    lower: tuple[LowerPanel, ...] = ()
    markers: tuple[Marker, ...] = ()

    def __post_init__(self) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "timestamps_ns", np.asarray(self.timestamps_ns, dtype=np.int64))
        for name in ("open", "high", "low", "close", "volume"):
            setattr_(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        n = len(self.timestamps_ns)
        for name in ("open", "high", "low", "close", "volume"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"ChartData.{name} has {len(getattr(self, name))} values for {n} bars.")
        for series in (*self.overlays, *(s for p in self.lower for s in p.series)):
            if len(series.values) != n:
                raise ValueError(f"{series.name!r} has {len(series.values)} values for {n} bars.")
        setattr_(self, "overlays", tuple(self.overlays))
        setattr_(self, "lower", tuple(self.lower))
        setattr_(self, "markers", tuple(self.markers))

    def __len__(self) -> int:
        return len(self.timestamps_ns)

    @classmethod
    def empty(cls, symbol: str = "", timeframe: str = "", tz: str = "UTC") -> ChartData:
        """No bars (the chart shows what to do to get some)."""
        z = np.zeros(0)
        return cls(np.zeros(0, np.int64), z, z, z, z, z, tz=tz, symbol=symbol, timeframe=timeframe)


# ---------------------------------------------------------------------------------------------
# pure functions: merging, ticks, time labels
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MergedBars:
    """One candle per column: the bars ``starts[i] ..= ends[i]`` merged."""

    starts: np.ndarray
    ends: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)


def column_groups(start: int, end: int, columns: int) -> np.ndarray:
    """First bar index of each column's group for bars ``[start, end)`` in ``columns`` columns.

    With room for every bar, each bar is its own group. Otherwise the groups hold ``r`` bars on
    average (``floor(r)`` or ``ceil(r)``), with boundaries at ``floor(j * r)`` for whole ``j``:
    aligned to absolute bar indices, so panning does not reshuffle the candles, and filling the
    columns. Never more groups than ``columns``.
    """
    n = end - start
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    columns = max(1, columns)
    if n <= columns:
        return np.arange(start, end, dtype=np.int64)
    if columns == 1:
        return np.array([start], dtype=np.int64)
    # boundaries b = floor(j * ratio) with start < b < end: j in [(start + 1) / ratio, end / ratio),
    # an interval shorter than columns - 1, so at most columns - 1 of them plus the first group
    ratio = n / (columns - 1)
    j = np.arange(math.ceil((start + 1) / ratio), math.ceil(end / ratio) + 1)
    bounds = np.floor(j * ratio).astype(np.int64)
    bounds = bounds[(bounds > start) & (bounds < end)]
    return np.concatenate(([start], bounds[: columns - 1])).astype(np.int64)


def merge_bars(data: ChartData, start: int, end: int, columns: int) -> MergedBars:
    """Merge bars ``[start, end)`` into at most ``columns`` candles (vectorised OHLCV aggregation)."""
    start, end = max(0, start), min(len(data), end)
    starts = column_groups(start, end, columns)
    if len(starts) == 0:
        z = np.zeros(0)
        return MergedBars(starts, starts.copy(), z, z, z, z, z)
    ends = np.append(starts[1:], end) - 1
    if len(starts) == end - start:  # one bar per column: no aggregation needed
        sl = slice(start, end)
        return MergedBars(starts, ends, data.open[sl], data.high[sl], data.low[sl],
                          data.close[sl], data.volume[sl])
    rel = starts - start
    sl = slice(start, end)
    volume = data.volume[sl]
    return MergedBars(
        starts=starts,
        ends=ends,
        open=data.open[starts],
        high=np.fmax.reduceat(data.high[sl], rel),
        low=np.fmin.reduceat(data.low[sl], rel),
        close=data.close[ends],
        volume=np.add.reduceat(np.where(np.isfinite(volume), volume, 0.0), rel),
    )


def nice_ticks(lo: float, hi: float, max_ticks: int, min_step: float = 0.0) -> np.ndarray:
    """Round-numbered ticks (steps of 1, 2, 2.5, 5 x 10^n) inside ``[lo, hi]``."""
    span = hi - lo
    if not (math.isfinite(span) and span > 0) or max_ticks < 1:
        return np.zeros(0)
    raw = span / max_ticks
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    step = max(step, min_step)
    first = math.ceil(lo / step) * step
    count = int(math.floor((hi - first) / step + 1e-9)) + 1
    return first + step * np.arange(max(count, 0))


_TF_RE = re.compile(r"^\s*(\d+)\s*(min|minute|m|t|h|hour|d|day|w|week|mo|month)s?\s*$", re.I)
_TF_UNIT = {"min": 60, "minute": 60, "m": 60, "t": 60, "h": 3600, "hour": 3600, "d": 86400,
            "day": 86400, "w": 604800, "week": 604800, "mo": 2592000, "month": 2592000}


def timeframe_seconds(timeframe: str, timestamps_ns: np.ndarray | None = None) -> int:
    """Seconds per bar from a timeframe like ``1Min``/``4Hour``/``1Day``; else from the data."""
    m = _TF_RE.match(timeframe or "")
    if m:
        return int(m.group(1)) * _TF_UNIT[m.group(2).lower()]
    if timestamps_ns is not None and len(timestamps_ns) > 1:
        diffs = np.diff(timestamps_ns[-200:])
        diffs = diffs[diffs > 0]
        if len(diffs):
            return max(1, int(np.median(diffs) // 1_000_000_000))
    return 86400


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name) if name else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def _local(ts_ns: int, zone: tzinfo) -> datetime:
    return datetime.fromtimestamp(int(ts_ns) // 1_000_000_000, zone)


_MINUTE_STEPS = (1, 5, 10, 15, 30, 60, 120, 180, 240, 360, 720)
# calendar levels, finest first: (key of the period a time falls in, label kind)
_CALENDAR_LEVELS: tuple[tuple[Callable[[datetime], object], str], ...] = (
    (lambda t: t.date(), "date"),
    (lambda t: t.isocalendar()[:2], "date"),
    (lambda t: (t.year, t.month), "month"),
    (lambda t: (t.year, (t.month - 1) // 3), "month"),
    (lambda t: (t.year, (t.month - 1) // 6), "month"),
    (lambda t: t.year, "year"),
    (lambda t: t.year // 2, "year"),
    (lambda t: t.year // 5, "year"),
    (lambda t: t.year // 10, "year"),
    (lambda t: t.year // 25, "year"),
)


def time_axis_labels(
    timestamps_ns: np.ndarray,
    positions: np.ndarray,
    tz: str,
    bar_seconds: int,
    width: int,
    bars_per_column: float = 1.0,
    gap: int = 3,
) -> list[tuple[int, str]]:
    """Labels ``(x, text)`` for a time axis, in the zone ``tz``.

    ``timestamps_ns[i]`` is the time of the first bar of the candle drawn at column
    ``positions[i]``; ``bar_seconds`` is the timeframe and ``bars_per_column`` how many bars a
    column merges. The finest step that fits is chosen from round intraday steps (1, 5, 15, 30
    minutes, 1, 2, 4 hours, ...) and calendar periods (day, week, month, quarter, year, ...).
    Intraday steps are labelled ``HH:MM`` with the date where the day changes; days and weeks
    as dates (``Jan 05``, ``2024-01-02`` where the year changes); months as ``Feb``; years as
    ``2024``. The leftmost column also gets a label (the full date) when there is room.
    """
    n = len(timestamps_ns)
    if n == 0 or width <= 0:
        return []
    zone = _zone(tz)
    times = [_local(t, zone) for t in timestamps_ns.tolist()]
    xs = [int(x) for x in positions.tolist()]
    intraday = bar_seconds < 86400
    # a day-change label carries the session's first time only when that time is exact
    dated_time = intraday and bars_per_column <= 1 and bar_seconds <= 1800
    minutes = [t.hour * 60 + t.minute for t in times]

    def minute_level(step: int) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        for i in range(1, n):
            p, t = times[i - 1], times[i]
            if t.date() != p.date():
                if t.year != p.year:
                    text = t.strftime("%Y-%m-%d")
                else:
                    text = t.strftime("%b %d %H:%M" if dated_time else "%b %d")
                out.append((xs[i], text))
            elif minutes[i - 1] // step != minutes[i] // step:
                m = minutes[i] // step * step
                # the round time may fall inside the previous column's span
                out.append((xs[i - 1] if m < minutes[i] else xs[i], f"{m // 60:02d}:{m % 60:02d}"))
        return out

    def calendar_level(key: Callable[[datetime], object], kind: str) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        keys = [key(t) for t in times]
        for i in range(1, n):
            if keys[i] == keys[i - 1]:
                continue
            t, new_year = times[i], times[i].year != times[i - 1].year
            if kind == "date":
                text = t.strftime("%Y-%m-%d" if new_year else "%b %d")
            elif kind == "month":
                text = t.strftime("%Y" if new_year else "%b")
            else:
                text = t.strftime("%Y")
            out.append((xs[i], text))
        return out

    def fits_all(labels: list[tuple[int, str]]) -> bool:
        end = -gap
        for x, text in labels:
            if x < end + gap:
                return False
            end = x + len(text)
        return end <= width

    levels: list[Callable[[], list[tuple[int, str]]]] = []
    if intraday:
        levels += [lambda s=s: minute_level(s) for s in _MINUTE_STEPS if s * 60 >= bar_seconds]
    levels += [lambda k=k, kind=kind: calendar_level(k, kind) for k, kind in _CALENDAR_LEVELS]
    placed: list[tuple[int, str]] = []
    for level in levels:
        labels = sorted(level())
        if fits_all(labels):
            placed = labels
            break

    def fits(x: int, text: str, taken: list[tuple[int, str]]) -> bool:
        return x + len(text) <= width and all(
            x + len(text) + gap <= px or px + len(pt) + gap <= x for px, pt in taken)

    # the leftmost column: the full date (and time) for context, when there is room
    t0 = times[0]
    choices = ["%b %d %H:%M", "%H:%M", "%b %d"] if intraday else ["%Y-%m-%d", "%b %Y", "%Y"]
    for pattern in choices:
        if fits(xs[0], t0.strftime(pattern), placed):
            placed.insert(0, (xs[0], t0.strftime(pattern)))
            break
    return placed


# ---------------------------------------------------------------------------------------------
# formatting helpers
# ---------------------------------------------------------------------------------------------


def _fmt_volume(v: float) -> str:
    if not math.isfinite(v):
        return "-"
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(v) >= div:
            return f"{v / div:.1f}{suffix}"
    return f"{v:.0f}" if abs(v) >= 10 else f"{v:.3g}"


def _price_decimals(close: np.ndarray) -> int:
    finite = close[np.isfinite(close)]
    if len(finite) == 0:
        return 2
    mag = float(np.median(np.abs(finite)))
    if mag >= 1:
        return 2
    if mag >= 0.01:
        return 4
    return 6


def _panel_scale(panel: LowerPanel, ends: np.ndarray) -> tuple[float, float]:
    """``(lo, hi)`` of a lower panel: its own, or the visible values' range with a margin."""
    if not panel.fit_visible:
        return panel.lo, panel.hi
    visible = [s.values[ends] for s in panel.series]
    points = np.concatenate([*visible, np.asarray(panel.levels, dtype=np.float64)])
    points = points[np.isfinite(points)]
    if not len(points):
        return panel.lo, panel.hi
    lo, hi = float(points.min()), float(points.max())
    pad = (hi - lo) * 0.05 or abs(hi) * 0.05 or 1.0
    return lo - pad, hi + pad


# candle glyph by (top half state, bottom half state); state 0 none, 1 wick, 2 body
_CANDLE = np.array([" ", "╷", "╻", "╵", "│", "╽", "╹", "╿", "┃"])
_BRAILLE_ROW = np.array(["⠉", "⠒", "⠤", "⣀"])  # a dot pair at quarter-cell heights
_BRAILLE_VERTICAL = "⡇"
_VOLUME = np.array([" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"])
_GRID = "┈"
_MIN_VISIBLE = 10
_ZOOM = 1.5

# style slots of a frame; a cell under the crosshair uses slot + _CURSOR
(_S_BASE, _S_UP, _S_DOWN, _S_VOL_UP, _S_VOL_DOWN, _S_AXIS, _S_GRID, _S_LOWER, _S_BUY, _S_SELL,
 _S_LAST, _S_LABEL, _S_CURSOR_LABEL, _S_OV0) = range(14)
_N_OVERLAY_STYLES = 4
_N_STYLES = _S_OV0 + _N_OVERLAY_STYLES
_CURSOR = 32


@dataclass
class _Prepared:
    """Per-data values computed once in ``set_data``."""

    zone: tzinfo
    zone_name: str
    bar_seconds: int
    decimals: int
    axis_width: int
    marker_index: np.ndarray
    marker_buy: np.ndarray
    marker_fill: np.ndarray
    marker_backtest: np.ndarray
    marker_reason: np.ndarray | None = None
    """int8 per marker: 0 signal, 1 stop, 2 target, 3 trail (``EXIT_GLYPHS`` order)."""


# ---------------------------------------------------------------------------------------------
# the widget
# ---------------------------------------------------------------------------------------------


class CandleChart(Widget, can_focus=True):
    """Candlestick chart with volume, overlays, lower panels, markers and a crosshair."""

    DEFAULT_CSS = """
    CandleChart {
        width: 1fr;
        height: 1fr;
        min-height: 5;
        background: $surface;
    }
    CandleChart > .candle--up { color: $success; }
    CandleChart > .candle--down { color: $error; }
    CandleChart > .volume--up { color: $success 45%; }
    CandleChart > .volume--down { color: $error 45%; }
    CandleChart > .chart--axis { color: $text-muted; }
    CandleChart > .chart--grid { color: $foreground 12%; }
    CandleChart > .chart--label { color: $text-muted; text-style: bold; }
    CandleChart > .chart--cursor { background: $foreground 10%; }
    CandleChart > .chart--cursor-label { color: $text; background: $foreground 25%; }
    CandleChart > .chart--last { color: $text; background: $primary 40%; }
    CandleChart > .chart--lower { color: $accent; }
    CandleChart > .chart--message { color: $text-muted; }
    CandleChart > .marker--buy { color: $success; text-style: bold; }
    CandleChart > .marker--sell { color: $error; text-style: bold; }
    CandleChart > .overlay--1 { color: $primary; }
    CandleChart > .overlay--2 { color: $warning; }
    CandleChart > .overlay--3 { color: $accent; }
    CandleChart > .overlay--4 { color: $secondary; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "candle--up", "candle--down", "volume--up", "volume--down", "chart--axis", "chart--grid",
        "chart--label", "chart--cursor", "chart--cursor-label", "chart--last", "chart--lower",
        "chart--message", "marker--buy", "marker--sell",
        "overlay--1", "overlay--2", "overlay--3", "overlay--4",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("plus,equals_sign", "zoom_in", "Zoom in", id="chart.zoom_in",
                tooltip="Show fewer bars, wider apart (+ or =)"),
        Binding("minus", "zoom_out", "Zoom out", id="chart.zoom_out",
                tooltip="Show more bars; merges bars when they outnumber the columns (-)"),
        Binding("left,h", "pan_left", "Earlier", id="chart.pan_left",
                tooltip="Pan towards older bars (left or h)"),
        Binding("right,l", "pan_right", "Later", id="chart.pan_right",
                tooltip="Pan towards newer bars (right or l)"),
        Binding("pageup", "page_left", "Page earlier", show=False, id="chart.page_left",
                tooltip="Pan one screen towards older bars"),
        Binding("pagedown", "page_right", "Page later", show=False, id="chart.page_right",
                tooltip="Pan one screen towards newer bars"),
        Binding("home", "go_start", "First bar", show=False, id="chart.start",
                tooltip="Jump to the oldest bars"),
        Binding("end", "go_end", "Latest bar", show=False, id="chart.end",
                tooltip="Jump to the newest bars and follow new ones"),
        # the crosshair keys stay out of the footer (it must fit 80 columns); the Keys panel
        # and the tooltips list them
        Binding("shift+left,comma", "cursor_left", "Cursor ◀", show=False, id="chart.cursor_left",
                tooltip="Move the crosshair one candle back (shift+left or ,)"),
        Binding("shift+right,full_stop", "cursor_right", "Cursor ▶", show=False,
                id="chart.cursor_right",
                tooltip="Move the crosshair one candle forward (shift+right or .)"),
        Binding("x", "clear_cursor", "Hide cursor", show=False, id="chart.clear_cursor",
                tooltip="Hide the crosshair; the readout follows the latest visible bar"),
    ]

    class ViewChanged(Message):
        """The visible bar range changed (``visible`` is ``(start, end)``, end exclusive)."""

        def __init__(self, chart: CandleChart, visible: tuple[int, int]) -> None:
            super().__init__()
            self.chart = chart
            self.visible = visible

        @property
        def control(self) -> CandleChart:
            return self.chart

    class CursorMoved(Message):
        """The crosshair moved to bar ``index`` (``None``: hidden)."""

        def __init__(self, chart: CandleChart, index: int | None) -> None:
            super().__init__()
            self.chart = chart
            self.index = index

        @property
        def control(self) -> CandleChart:
            return self.chart

    DEFAULT_EMPTY_HINT = "Import a CSV with `kash data import` or fetch bars from a broker."

    def __init__(
        self,
        data: ChartData | None = None,
        *,
        empty_hint: str = DEFAULT_EMPTY_HINT,
        name: str | None = None,
        id: str | None = None,  # noqa: A002
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.empty_hint = empty_hint
        self._data: ChartData | None = None
        self._prep: _Prepared | None = None
        self._visible: tuple[int, int] = (0, 0)
        self._cursor: int | None = None
        self._view_is_default = True
        self._version = 0
        self._loading_text: str | None = None
        self._cache_key: tuple | None = None
        self._rows: list[Strip] = []
        self._text_rows: list[str] = []
        self._merged: MergedBars | None = None
        self._positions = np.zeros(0, dtype=np.int64)
        self._plot_x0 = 0
        if data is not None:
            self.set_data(data, keep_view=False)

    # -- public state ------------------------------------------------------------------------

    @property
    def data(self) -> ChartData | None:
        return self._data

    @property
    def visible(self) -> tuple[int, int]:
        """``(start, end)`` bar indices on screen, end exclusive."""
        self._sync_default_view()
        return self._visible

    @visible.setter
    def visible(self, value: tuple[int, int]) -> None:
        self._view_is_default = False
        self._set_view(int(value[0]), int(value[1]))

    @property
    def cursor(self) -> int | None:
        """Bar index under the crosshair, or ``None`` when hidden."""
        return self._cursor

    @cursor.setter
    def cursor(self, index: int | None) -> None:
        self._set_cursor(index, follow=True)

    @property
    def merged(self) -> MergedBars | None:
        """The candles of the last rendered frame (one per column)."""
        return self._merged

    @property
    def plot_width(self) -> int:
        """Columns available for candles (the widget's width less the price axis)."""
        return self._plot_width()

    @property
    def pinned_right(self) -> bool:
        """The view shows the latest bar (and keeps following appended bars)."""
        return self._data is not None and len(self._data) > 0 and self._visible[1] == len(self._data)

    def set_loading(self, text: str | None = "Loading bars…") -> None:
        """Show a loading message (``None`` clears it; ``set_data`` clears it too)."""
        self._loading_text = text
        self._version += 1
        self.refresh()

    def set_data(self, data: ChartData | None, keep_view: bool = True) -> None:
        """Chart ``data``.

        With ``keep_view`` and the same symbol and timeframe, the visible range is kept by
        timestamp (a reload shows the same bars); a view showing the latest bar keeps showing
        the latest bar as bars are appended. Otherwise the view resets to the latest bars.
        """
        old, old_view, old_cursor = self._data, self._visible, self._cursor
        was_pinned = self.pinned_right
        self._data = data
        self._loading_text = None
        self._version += 1
        self._prep = self._prepare(data) if data is not None else None
        n = len(data) if data is not None else 0
        same_series = (
            old is not None and data is not None and len(old) > 0
            and old.symbol == data.symbol and old.timeframe == data.timeframe
        )
        if n == 0:
            self._visible = (0, 0)
            self._cursor = None
        elif keep_view and same_series and old_view[1] > old_view[0]:
            assert old is not None and data is not None
            count = old_view[1] - old_view[0]
            if was_pinned:
                start, end = n - count, n
            else:
                ts = data.timestamps_ns
                start = int(np.searchsorted(ts, old.timestamps_ns[old_view[0]], "left"))
                end = int(np.searchsorted(ts, old.timestamps_ns[old_view[1] - 1], "right"))
                if end <= start:  # the old range is not in the new data
                    start, end = n - count, n
            self._visible = self._clamp(start, end)
            if old_cursor is not None and old_cursor < len(old):
                c = int(np.searchsorted(data.timestamps_ns, old.timestamps_ns[old_cursor], "left"))
                self._cursor = min(max(c, self._visible[0]), self._visible[1] - 1)
            else:
                self._cursor = None
        else:
            self._view_is_default = True
            count = self._default_count()
            self._visible = self._clamp(n - count, n)
            self._cursor = None
        self.refresh()
        if self._visible != old_view:
            self.post_message(self.ViewChanged(self, self._visible))
        if self._cursor != old_cursor:
            self.post_message(self.CursorMoved(self, self._cursor))

    def text_lines(self) -> list[str]:
        """The current frame as plain text, one string per row (for tests and debugging)."""
        self._ensure_frame()
        return list(self._text_rows)

    # -- actions -----------------------------------------------------------------------------

    def action_zoom_in(self) -> None:
        self._zoom(1 / _ZOOM)

    def action_zoom_out(self) -> None:
        self._zoom(_ZOOM)

    def action_pan_left(self) -> None:
        self._pan(-self._pan_step())

    def action_pan_right(self) -> None:
        self._pan(self._pan_step())

    def action_page_left(self) -> None:
        self._pan(-(self._visible[1] - self._visible[0]))

    def action_page_right(self) -> None:
        self._pan(self._visible[1] - self._visible[0])

    def action_go_start(self) -> None:
        count = self._visible[1] - self._visible[0]
        self._view_is_default = False
        self._set_view(0, count)

    def action_go_end(self) -> None:
        n = self._n
        count = self._visible[1] - self._visible[0]
        self._set_view(n - count, n)

    def action_cursor_left(self) -> None:
        self._move_cursor(-1)

    def action_cursor_right(self) -> None:
        self._move_cursor(1)

    def action_clear_cursor(self) -> None:
        self._set_cursor(None, follow=False)

    # -- mouse -------------------------------------------------------------------------------

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.action_zoom_in()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.action_zoom_out()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or self._merged is None or len(self._positions) == 0:
            return
        column = int(np.argmin(np.abs(self._positions - offset.x)))
        self._set_cursor(int(self._merged.ends[column]), follow=False)

    def on_resize(self, event: events.Resize) -> None:
        self._sync_default_view()

    def _sync_default_view(self) -> None:
        """Until the user moves the view, show the latest bars sized to the current width."""
        if not (self._view_is_default and self._n and self.size.width):
            return
        count = self._default_count()
        old = self._visible
        self._visible = self._clamp(self._n - count, self._n)
        if self._visible != old:
            if self._cursor is not None and not (self._visible[0] <= self._cursor < self._visible[1]):
                self._cursor = None
                self.post_message(self.CursorMoved(self, None))
            self.post_message(self.ViewChanged(self, self._visible))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache_key = None

    # -- view logic --------------------------------------------------------------------------

    @property
    def _n(self) -> int:
        return len(self._data) if self._data is not None else 0

    def _plot_width(self) -> int:
        width = self.size.width
        if width <= 0:
            return 0
        return max(1, width - self._axis_width(width))

    def _axis_width(self, width: int) -> int:
        axis = self._prep.axis_width if self._prep else 8
        return min(axis, max(0, width - 10))

    def _default_count(self) -> int:
        plot = self._plot_width()
        if plot <= 0:
            return 120
        if plot < 120:
            return plot
        return max(60, min(120, plot // 2))

    def _clamp(self, start: int, end: int) -> tuple[int, int]:
        n = self._n
        if n == 0:
            return (0, 0)
        count = min(n, max(end - start, min(_MIN_VISIBLE, n)))
        start = min(max(0, start), n - count)
        return (start, start + count)

    def _set_view(self, start: int, end: int) -> None:
        new = self._clamp(start, end)
        if new == self._visible:
            return
        self._visible = new
        if self._cursor is not None and not (new[0] <= self._cursor < new[1]):
            self._cursor = min(max(self._cursor, new[0]), new[1] - 1)
            self.post_message(self.CursorMoved(self, self._cursor))
        self.refresh()
        self.post_message(self.ViewChanged(self, new))

    def _zoom(self, factor: float) -> None:
        n = self._n
        if n == 0:
            return
        self._view_is_default = False
        start, end = self._visible
        count = end - start
        new_count = int(round(count * factor))
        new_count = max(new_count, count + 1) if factor > 1 else min(new_count, count - 1)
        new_count = min(n, max(min(_MIN_VISIBLE, n), new_count))
        if self._cursor is not None and start <= self._cursor < end:
            left = int(round((self._cursor - start) * new_count / count))
            new_start = self._cursor - left
        else:  # anchor the right edge, like a trading chart
            new_start = end - new_count
        self._set_view(new_start, new_start + new_count)

    def _pan_step(self) -> int:
        return max(1, (self._visible[1] - self._visible[0]) // 8)

    def _pan(self, delta: int) -> None:
        if self._n == 0:
            return
        self._view_is_default = False
        start, end = self._visible
        self._set_view(start + delta, end + delta)

    def _set_cursor(self, index: int | None, *, follow: bool) -> None:
        n = self._n
        if index is not None:
            if n == 0:
                index = None
            else:
                index = min(max(0, int(index)), n - 1)
        if index is not None and follow:
            start, end = self._visible
            if index < start:
                self._pan(index - start)
            elif index >= end:
                self._pan(index - end + 1)
        if index != self._cursor:
            self._cursor = index
            self.refresh()
            self.post_message(self.CursorMoved(self, index))

    def _move_cursor(self, direction: int) -> None:
        if self._n == 0:
            return
        start, end = self._visible
        groups = column_groups(start, end, self._plot_width() or (end - start))
        ends = np.append(groups[1:], end) - 1
        if self._cursor is None:
            self._set_cursor(int(ends[-1]), follow=True)
            return
        column = int(np.searchsorted(groups, self._cursor, "right")) - 1
        target = column + direction
        if 0 <= target < len(groups):
            self._set_cursor(int(ends[target]), follow=True)
        else:  # step off the edge: pan by one column's worth of bars
            per_column = max(1, int(np.max(ends - groups + 1)))
            self._set_cursor(self._cursor + direction * per_column, follow=True)

    # -- data preparation --------------------------------------------------------------------

    @staticmethod
    def _prepare(data: ChartData) -> _Prepared:
        bar_seconds = timeframe_seconds(data.timeframe, data.timestamps_ns)
        zone_name = data.tz or "UTC"
        ts = data.timestamps_ns
        # daily+ bars stamped at midnight UTC are dates: do not shift them into the previous day
        if bar_seconds >= 86400 and len(ts) and not np.any(ts % (86400 * 1_000_000_000)):
            zone_name = "UTC"
        decimals = _price_decimals(data.close)
        widest = 0
        for arr in (data.high, data.low):
            finite = arr[np.isfinite(arr)]
            if len(finite):
                widest = max(widest, len(f"{finite.max():.{decimals}f}"),
                             len(f"{finite.min():.{decimals}f}"))
        axis_width = max(8, widest + 2)
        idx = np.array([m.index for m in data.markers], dtype=np.int64)
        buy = np.array([m.kind == "buy" for m in data.markers], dtype=bool)
        fill = np.array([m.source == "fill" for m in data.markers], dtype=bool)
        backtest = np.array([m.source == "backtest" for m in data.markers], dtype=bool)
        codes = list(EXIT_GLYPHS)
        reason = np.array([codes.index(m.reason) for m in data.markers], dtype=np.int8)
        order = np.argsort(idx, kind="stable")
        return _Prepared(_zone(zone_name), zone_name, bar_seconds, decimals, axis_width,
                         idx[order], buy[order], fill[order], backtest[order], reason[order])

    # -- rendering ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        self._ensure_frame()
        if 0 <= y < len(self._rows):
            return self._rows[y]
        return Strip.blank(self.size.width, self.rich_style)

    def _ensure_frame(self) -> None:
        self._sync_default_view()
        key = (self.size, self._visible, self._version, self._cursor, self.app.theme)
        if key != self._cache_key:
            self._build_frame()
            self._cache_key = key

    def _styles(self) -> list[Style]:
        get = self.get_component_rich_style
        base = self.rich_style
        names = ["", "candle--up", "candle--down", "volume--up", "volume--down", "chart--axis",
                 "chart--grid", "chart--lower", "marker--buy", "marker--sell", "chart--last",
                 "chart--label", "chart--cursor-label",
                 *(f"overlay--{i + 1}" for i in range(_N_OVERLAY_STYLES))]
        styles = [base if not nm else get(nm, default=base) for nm in names]
        cursor_bg = get("chart--cursor", default=base).bgcolor
        table = styles + [base] * (_CURSOR - len(styles))
        for st in styles:
            table.append(st + Style(bgcolor=cursor_bg) if cursor_bg is not None else st)
        return table

    def _build_frame(self) -> None:
        width, height = self.size
        data = self._data
        self._merged = None
        self._positions = np.zeros(0, dtype=np.int64)
        if width <= 0 or height <= 0:
            self._rows, self._text_rows = [], []
            return
        if data is None or len(data) == 0 or self._prep is None:
            self._message_frame(width, height)
            return
        if width < 16 or height < 3:
            self._message_frame(width, height, ["Chart too small"])
            return
        self._chart_frame(data, self._prep, width, height)

    def _message_frame(self, width: int, height: int, lines: list[str] | None = None) -> None:
        data = self._data
        if lines is None:
            what = f"{data.symbol} {data.timeframe}".strip() if data is not None else ""
            if self._loading_text:
                lines = [f"{self._loading_text} {what}".strip()]
            elif data is None:
                lines = ["No chart data yet.", "Choose a symbol to chart its bars."]
            else:
                lines = [f"No bars for {what}." if what else "No bars.", self.empty_hint]
        wrapped: list[str] = []
        for line in lines:
            while len(line) > width:
                cut = line.rfind(" ", 0, width)
                cut = cut if cut > 0 else width
                wrapped.append(line[:cut])
                line = line[cut:].lstrip()
            wrapped.append(line)
        base = self.rich_style
        msg = self.get_component_rich_style("chart--message", default=base)
        top = max(0, (height - len(wrapped)) // 2)
        rows: list[Strip] = []
        text_rows: list[str] = []
        for y in range(height):
            i = y - top
            text = wrapped[i] if 0 <= i < len(wrapped) else ""
            text = text[:width]
            pad = (width - len(text)) // 2
            line = " " * pad + text + " " * (width - pad - len(text))
            rows.append(Strip([Segment(" " * pad, base), Segment(text, msg),
                               Segment(" " * (width - pad - len(text)), base)], width))
            text_rows.append(line)
        self._rows, self._text_rows = rows, text_rows

    def _layout(self, height: int, n_lower: int) -> tuple[int, int, list[int]]:
        """Rows for the price panel, the volume panel and each lower panel that fits."""
        avail = height - 2  # readout line + time axis
        vol_h = max(2, round(avail * 0.15)) if avail >= 8 else 0
        low_h = max(3, round(avail * 0.18))
        shown = n_lower
        while shown and avail - vol_h - shown * low_h < max(4, int(avail * 0.45)):
            shown -= 1
        price_h = avail - vol_h - shown * low_h
        return price_h, vol_h, [low_h] * shown

    def _chart_frame(self, data: ChartData, prep: _Prepared, width: int, height: int) -> None:
        start, end = self._visible
        axis_w = self._axis_width(width)
        plot_w = width - axis_w
        merged = merge_bars(data, start, end, plot_w)
        self._merged = merged
        ncols = len(merged)
        xs = ((np.arange(ncols) + 0.5) * plot_w / ncols).astype(np.int64)
        self._positions = xs
        ends = merged.ends

        chars = np.full((height, width), " ", dtype="<U1")
        sty = np.zeros((height, width), dtype=np.int16)

        def put(y: int, x: int, text: str, style: int, limit: int = width) -> None:
            text = text[: max(0, limit - x)]
            if 0 <= y < height and x >= 0 and text:
                chars[y, x : x + len(text)] = list(text)
                sty[y, x : x + len(text)] = style

        price_h, vol_h, lower_hs = self._layout(height, len(data.lower))
        y_price = 1
        y_vol = y_price + price_h
        y_lower = y_vol + vol_h

        # -- price panel: scale ----------------------------------------------------------------
        overlay_vals = [s.values[ends] for s in data.overlays]
        lo_candidates = [merged.low, *overlay_vals]
        hi_candidates = [merged.high, *overlay_vals]
        lo = min((float(np.nanmin(a)) for a in lo_candidates if np.isfinite(a).any()), default=0.0)
        hi = max((float(np.nanmax(a)) for a in hi_candidates if np.isfinite(a).any()), default=1.0)
        if not hi > lo:
            pad = abs(hi) * 0.01 or 1.0
            lo, hi = lo - pad, hi + pad
        span = hi - lo
        lo, hi = lo - span * 0.04, hi + span * 0.04
        sub_n = 2 * price_h

        def to_sub(values: np.ndarray, per_row: int) -> np.ndarray:
            scaled = (hi - values) / (hi - lo) * (per_row * price_h - 1)
            return np.clip(np.nan_to_num(np.rint(scaled), nan=-1), -1, per_row * price_h)

        # grid lines at the price ticks (behind everything)
        step_min = 10.0 ** -prep.decimals
        ticks = nice_ticks(lo, hi, max(1, price_h // 3), step_min)
        tick_rows = (to_sub(ticks, 2) // 2).astype(np.int64)
        for t, r in zip(ticks.tolist(), tick_rows.tolist(), strict=True):
            if 0 <= r < price_h:
                chars[y_price + r, :plot_w] = _GRID
                sty[y_price + r, :plot_w] = _S_GRID
                put(y_price + r, plot_w, f" {t:.{prep.decimals}f}", _S_AXIS)

        # overlays: braille dot pairs at quarter-cell heights
        for i, vals in enumerate(overlay_vals):
            q = to_sub(vals, 4).astype(np.int64)
            ok = (q >= 0) & (q < 4 * price_h)
            chars[y_price + q[ok] // 4, xs[ok]] = _BRAILLE_ROW[q[ok] % 4]
            sty[y_price + q[ok] // 4, xs[ok]] = _S_OV0 + i % _N_OVERLAY_STYLES

        # candles at half-cell resolution
        yh, yl = to_sub(merged.high, 2), to_sub(merged.low, 2)
        yo, yc = to_sub(merged.open, 2), to_sub(merged.close, 2)
        valid = np.isfinite(merged.high) & np.isfinite(merged.low)
        yh = np.where(valid, yh, sub_n + 1)
        yl = np.where(valid, yl, sub_n + 1)
        yo = np.where(np.isfinite(merged.open), yo, yh)
        yc = np.where(np.isfinite(merged.close), yc, yl)
        body_top, body_bottom = np.minimum(yo, yc), np.maximum(yo, yc)
        sub = np.arange(sub_n)[:, None]
        wick = (sub >= yh) & (sub <= yl)
        body = wick & (sub >= body_top) & (sub <= body_bottom)
        state = np.where(body, 2, wick.astype(np.int8))
        code = state[0::2] * 3 + state[1::2]
        up = ~(merged.close < merged.open)
        drawn = code > 0
        block_chars = chars[y_price : y_price + price_h, xs]
        block_sty = sty[y_price : y_price + price_h, xs]
        chars[y_price : y_price + price_h, xs] = np.where(drawn, _CANDLE[code], block_chars)
        sty[y_price : y_price + price_h, xs] = np.where(
            drawn, np.where(up, _S_UP, _S_DOWN)[None, :], block_sty)

        # markers: buys under the low, sells above the high; fills (solid) over signals (hollow)
        if len(prep.marker_index):
            lo_i = int(np.searchsorted(prep.marker_index, start, "left"))
            hi_i = int(np.searchsorted(prep.marker_index, end, "left"))
            m_idx = prep.marker_index[lo_i:hi_i]
            m_buy = prep.marker_buy[lo_i:hi_i]
            m_fill = prep.marker_fill[lo_i:hi_i]
            m_back = prep.marker_backtest[lo_i:hi_i]
            m_reason = (prep.marker_reason[lo_i:hi_i] if prep.marker_reason is not None
                        else np.zeros(len(m_idx), dtype=np.int8))
            if len(m_idx):
                col = np.searchsorted(merged.starts, m_idx, "right") - 1
                # 0: signals, 1: fills, 2: a backtest's fills (one row further out)
                for fill_pass in (0, 2, 1):
                    kind = np.where(m_back, 2, np.where(m_fill, 1, 0))
                    for buy in (True, False):
                        sel = (kind == fill_pass) & (m_buy == buy)
                        c = col[sel]
                        if not len(c):
                            continue
                        out = 1 if fill_pass == 2 else 0
                        if buy:
                            rows = np.minimum(price_h - 1,
                                              yl[c].astype(np.int64) // 2 + 1 + out)
                            glyph = ("△", "▲", "▴")[fill_pass]
                        else:
                            rows = np.maximum(0, yh[c].astype(np.int64) // 2 - 1 - out)
                            glyph = ("▽", "▼", "▾")[fill_pass]
                        ok = (rows >= 0) & (rows < price_h)
                        if fill_pass == 1 and not buy and m_reason[sel].any():
                            # a stop, target or trailing stop: its own glyph (a signal: ▼)
                            chars[y_price + rows[ok], xs[c[ok]]] = (
                                _EXIT_GLYPH_ARRAY[m_reason[sel][ok]])
                        else:
                            chars[y_price + rows[ok], xs[c[ok]]] = glyph
                        sty[y_price + rows[ok], xs[c[ok]]] = _S_BUY if buy else _S_SELL

        # last close on the axis
        last_close = float(merged.close[-1])
        if math.isfinite(last_close):
            r = int(to_sub(np.array([last_close]), 2)[0]) // 2
            if 0 <= r < price_h:
                put(y_price + r, plot_w, " " * axis_w, _S_BASE)
                put(y_price + r, plot_w, f" {last_close:.{prep.decimals}f}"[:axis_w], _S_LAST)

        # -- volume --------------------------------------------------------------------------
        if vol_h:
            vol = merged.volume
            vmax = float(np.nanmax(vol)) if len(vol) else 0.0
            if vmax > 0:
                eighths = np.where(vol > 0, np.maximum(1, np.rint(vol / vmax * vol_h * 8)), 0)
                from_bottom = (vol_h - 1 - np.arange(vol_h))[:, None]
                level = np.clip(eighths[None, :] - from_bottom * 8, 0, 8).astype(np.int64)
                chars[y_vol : y_vol + vol_h, xs] = _VOLUME[level]
                sty[y_vol : y_vol + vol_h, xs] = np.where(up, _S_VOL_UP, _S_VOL_DOWN)[None, :]
                put(y_vol, plot_w, f" {_fmt_volume(vmax)}", _S_AXIS)
            if vol_h >= 2:
                put(y_vol + vol_h - 1, plot_w, " Vol", _S_LABEL)

        # -- lower panels --------------------------------------------------------------------
        y = y_lower
        for panel, h in zip(data.lower, lower_hs, strict=False):
            p_lo, p_hi = _panel_scale(panel, ends)
            n_sub = 4 * h

            def to_q(v: np.ndarray, lo: float = p_lo, hi: float = p_hi,
                     n_sub: int = n_sub) -> np.ndarray:
                scaled = (hi - v) / (hi - lo) * (n_sub - 1)
                return np.clip(np.nan_to_num(np.rint(scaled), nan=-1), -1, n_sub)

            for level_value in panel.levels:
                r = int(to_q(np.array([level_value]))[0]) // 4
                if 0 <= r < h:
                    chars[y + r, :plot_w] = _GRID
                    sty[y + r, :plot_w] = _S_GRID
                    put(y + r, plot_w, f" {level_value:g}", _S_AXIS)
            if panel.histogram is not None:
                self._draw_histogram(chars, sty, panel.histogram.values[ends], xs, y, h,
                                     p_lo, p_hi)

            def draw_line(vals: np.ndarray, style: int, y: int = y, h: int = h,
                          n_sub: int = n_sub, to_q: Callable[..., np.ndarray] = to_q) -> None:
                q = to_q(vals).astype(np.int64)
                ok = (q >= 0) & (q < n_sub)
                rows = q // 4
                # vertical connectors between neighbouring points so the line reads as a line
                if ncols > 1:
                    prev_rows = np.concatenate(([rows[0]], rows[:-1]))
                    both = ok & np.concatenate(([False], ok[:-1]))
                    r_idx = np.arange(h)[:, None]
                    lo_r, hi_r = np.minimum(rows, prev_rows), np.maximum(rows, prev_rows)
                    between = both[None, :] & (r_idx > lo_r[None, :]) & (r_idx < hi_r[None, :])
                    rr, cc = np.nonzero(between)
                    chars[y + rr, xs[cc]] = _BRAILLE_VERTICAL
                    sty[y + rr, xs[cc]] = style
                chars[y + rows[ok], xs[ok]] = _BRAILLE_ROW[q[ok] % 4]
                sty[y + rows[ok], xs[ok]] = style

            for i, line in enumerate(panel.lines):  # under the panel's own line
                draw_line(line.values[ends], _S_OV0 + i % _N_OVERLAY_STYLES)
            draw_line(panel.values[ends], _S_LOWER)
            put(y, plot_w, " " * axis_w, _S_BASE)
            label = f" {panel.name}"
            if len(label) > axis_w:  # "MACD(12,26,9)": the name without its parameters
                label = label.split("(")[0]
            put(y, plot_w, label[:axis_w], _S_LABEL)
            y += h

        # -- crosshair -----------------------------------------------------------------------
        cursor_col: int | None = None
        if self._cursor is not None and start <= self._cursor < end:
            cursor_col = int(np.searchsorted(merged.starts, self._cursor, "right")) - 1
            x = int(xs[cursor_col])
            sty[y_price:y, x] += _CURSOR

        # -- time axis -----------------------------------------------------------------------
        labels = time_axis_labels(data.timestamps_ns[merged.starts], xs, prep.zone_name,
                                  prep.bar_seconds, width, (end - start) / max(1, ncols))
        for x, text in labels:
            put(height - 1, x, text, _S_AXIS)
        if cursor_col is not None:
            t = _local(int(data.timestamps_ns[merged.starts[cursor_col]]), prep.zone)
            text = t.strftime("%b %d %H:%M") if prep.bar_seconds < 86400 else t.strftime("%Y-%m-%d")
            x = min(max(0, int(xs[cursor_col]) - len(text) // 2), max(0, width - len(text)))
            put(height - 1, x, text, _S_CURSOR_LABEL)

        # -- strips --------------------------------------------------------------------------
        styles = self._styles()
        rows_out: list[Strip] = [self._readout(data, prep, merged, cursor_col, width, styles)]
        text_rows = [rows_out[0].text]
        for yy in range(1, height):
            line = "".join(chars[yy].tolist())
            s_row = sty[yy]
            cuts = (np.flatnonzero(s_row[1:] != s_row[:-1]) + 1).tolist()
            bounds = [0, *cuts, width]
            segments = [Segment(line[a:b], styles[int(s_row[a])])
                        for a, b in zip(bounds, bounds[1:], strict=False)]
            rows_out.append(Strip(segments, width))
            text_rows.append(line)
        self._rows, self._text_rows = rows_out, text_rows

    @staticmethod
    def _draw_histogram(chars: np.ndarray, sty: np.ndarray, vals: np.ndarray, xs: np.ndarray,
                        y: int, h: int, lo: float, hi: float) -> None:
        """Bars from zero (or the panel's bottom when zero is off the scale) to each value, at
        half-cell heights; up in the up colour, down in the down colour."""
        n_half = 2 * h

        def to_half(v: np.ndarray) -> np.ndarray:
            # half-cell boundary under value v, 0 at the top of the panel, n_half at the bottom
            return np.clip(np.rint((hi - v) / (hi - lo) * n_half), 0, n_half)

        base = float(to_half(np.array([min(max(0.0, lo), hi)]))[0])
        ok = np.isfinite(vals)
        edge = to_half(np.where(ok, vals, 0.0))
        top, bottom = np.minimum(edge, base), np.maximum(edge, base)
        half = np.arange(n_half)[:, None] + 0.5
        filled = ok[None, :] & (half > top[None, :]) & (half < bottom[None, :])
        code = filled[0::2].astype(np.int8) * 2 + filled[1::2]  # (upper, lower) half of a row
        glyphs = np.array([" ", "▄", "▀", "█"])
        drawn = code > 0
        rows = slice(y, y + h)
        block_chars, block_sty = chars[rows, xs], sty[rows, xs]
        style = np.where(vals >= 0, _S_VOL_UP, _S_VOL_DOWN)[None, :]
        chars[rows, xs] = np.where(drawn, glyphs[code], block_chars)
        sty[rows, xs] = np.where(drawn, style, block_sty)

    def _readout(self, data: ChartData, prep: _Prepared, merged: MergedBars, cursor_col: int | None,
                 width: int, styles: list[Style]) -> Strip:
        """Symbol, time (exchange zone), OHLCV and indicator values at the cursor (or latest).

        When the full line does not fit, a compact one drops the year and the double spaces,
        then the volume, then whole values (indicators from the end, then open, high, low); the
        symbol, the time and the close are never dropped, and no value is cut in half.
        """
        col = cursor_col if cursor_col is not None else len(merged) - 1
        first, last = int(merged.starts[col]), int(merged.ends[col])
        d = prep.decimals
        t0 = _local(int(data.timestamps_ns[first]), prep.zone)
        t1 = _local(int(data.timestamps_ns[last]), prep.zone)
        o, h, lo, c, v = (float(merged.open[col]), float(merged.high[col]), float(merged.low[col]),
                          float(merged.close[col]), float(merged.volume[col]))
        move = styles[_S_DOWN] if c < o else styles[_S_UP]
        axis, label, base = styles[_S_AXIS], styles[_S_LABEL], styles[_S_BASE]

        def when(compact: bool) -> str:
            if prep.bar_seconds < 86400:
                text = t0.strftime("%m-%d %H:%M" if compact else "%Y-%m-%d %H:%M")
                if last > first:
                    text += "→" + (t1.strftime("%H:%M") if t1.date() == t0.date()
                                   else t1.strftime("%m-%d %H:%M"))
                return text + f" {t0.tzname() or prep.zone_name}"
            text = t0.strftime("%Y-%m-%d")
            if last > first:
                text += "→" + t1.strftime("%m-%d" if compact else "%Y-%m-%d")
            return text

        def build(compact: bool, keep_volume: bool = True) -> list[list[tuple[str, Style]]]:
            """The readout in groups; a group is shown whole or not at all."""
            sep = " " if compact else "  "
            head: list[tuple[str, Style]] = [
                (f"{data.symbol} {data.timeframe}".strip() + sep, label), (when(compact), base),
            ]
            if last > first:
                head.append((f" ({last - first + 1} bars)" if not compact
                             else f" ×{last - first + 1}", axis))
            groups = [head]
            for name, value in (("O", o), ("H", h), ("L", lo), ("C", c)):
                groups.append([(f"{sep}{name} ", axis), (f"{value:.{d}f}", move)])
            if keep_volume:
                groups.append([(f"{sep}V ", axis), (_fmt_volume(v), base)])
            for i, series in enumerate(data.overlays):
                value = float(series.values[last])
                text = f"{value:.{d}f}" if math.isfinite(value) else "-"
                groups.append([(f"{sep}{series.name} ", axis),
                               (text, styles[_S_OV0 + i % _N_OVERLAY_STYLES])])
            for panel in data.lower:
                digits = 1 if not panel.fit_visible else max(2, d)
                series_styles = [_S_LOWER, *(_S_OV0 + i % _N_OVERLAY_STYLES
                                             for i in range(len(panel.lines))), _S_AXIS]
                for series, style in zip(panel.series, series_styles, strict=False):
                    value = float(series.values[last])
                    text = f"{value:.{digits}f}" if math.isfinite(value) else "-"
                    groups.append([(f"{sep}{series.name} ", axis), (text, styles[style])])
            if self._loading_text:
                groups.append([(f"{sep}{self._loading_text}", axis)])
            return groups

        def length(groups: list[list[tuple[str, Style]]]) -> int:
            return sum(cell_len(text) for group in groups for text, _ in group)

        groups = build(False)
        if length(groups) > width:
            groups = build(True)
        if length(groups) > width:
            groups = build(True, keep_volume=False)
            # drop whole values until the line fits: indicators from the end, then O, H, L;
            # the symbol, the time, the close and the loading note stay
            order = [*range(len(groups) - (2 if self._loading_text else 1), 4, -1), 1, 2, 3]
            for index in order:
                if length(groups) <= width:
                    break
                groups[index] = []
        groups = [group for group in groups if group]
        parts = [part for group in groups for part in group]
        return Strip([Segment(text, style) for text, style in parts]).adjust_cell_length(width, base)
