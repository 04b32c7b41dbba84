"""The chart place: candles of the workbench's symbol and timeframe, the chosen strategy's
indicators and signals, and the fills of the backtest on screen.

With an Alpaca connection the chart also reaches the broker: the symbol search offers the
broker's assets (cached), a symbol or timeframe without stored bars is fetched from Alpaca in a
worker (once per series; ``r`` tries again), and a series that came from Alpaca is watched
(``MarketService.watch_bars``): new bars are stored as they trade and the chart redraws them,
keeping the user's zoom and pan.

Everything that reads the database or computes with numpy runs in a thread worker
(:func:`load_chart`), which hands back a ready :class:`ChartLoad`; the UI thread only calls
``CandleChart.set_data``. The screen keeps the bars it last loaded, so a new strategy or backtest
redraws without reading the bars again, and a list of the stored symbols for the palette
commands (``Chart: SYMBOL``, ``Timeframe: X``), which never call a service themselves.

A load goes through the place's keyed ``call_service(key="load")``: a newer load cancels the
older one, whose result never reaches the chart. The header line is
:class:`~kash_tui.tui.widgets.chart_header.ChartHeader`; the questions (which symbol, which
timeframe) are :mod:`kash_tui.tui.modals`' ``SymbolSearch`` and ``TimeframePicker``.

Importing this module is cheap (no numpy, no domain package): the chart widget and the domains
are imported where they are used. Import it at start-up so its palette commands register.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding
from textual.widget import Widget

from kash_tui.tui.commands import PaletteCommand, palette_command
from kash_tui.tui.format import count_text, strategy_labels
from kash_tui.tui.modals.symbol_search import SymbolSearch
from kash_tui.tui.modals.timeframe_picker import TimeframePicker
from kash_tui.tui.navigation import show_symbol
from kash_tui.tui.places import PlaceScreen
from kash_tui.tui.state import (
    StoredSeries,
    StrategyChoice,
    WorkbenchState,
    remember_stored_series,
    stored_series,
    workbench,
)
from kash_tui.tui.widgets.chart_header import ChartHeader

if TYPE_CHECKING:
    import numpy as np

    from kash_tui.domains.market import BarSeries, BarWatch, FetchReport
    from kash_tui.domains.trading import BacktestReport
    from kash_tui.provider import ServiceProviderProtocol
    from kash_tui.tui.app import KashApp
    from kash_tui.tui.widgets.candles import CandleChart, ChartData, LowerPanel

MAX_BARS = 10_000
"""The chart loads at most the latest this many bars."""

FETCH_LOOKBACK_DAYS: dict[str, int] = {
    "1Min": 7, "5Min": 30, "15Min": 60, "30Min": 120, "1Hour": 365, "4Hour": 730,
    "1Day": 3650, "1Week": 7300,
}
"""How far back the chart fetches a series it does not have: a few thousand bars each."""

# -- the worker's side -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ChartRequest:
    """What to chart, read from the workbench when the load starts."""

    symbol: str
    timeframe: str
    strategy: StrategyChoice | None = None
    backtest: BacktestReport | None = None
    fresh: bool = False
    """Read the bars again even when the screen holds them (the reload key)."""
    list_stored: bool = False
    """Read which symbols and timeframes are stored (for the palette and symbol changes)."""


@dataclass(frozen=True, eq=False)
class ChartLoad:
    """A load's outcome, ready to show: ``data`` is empty when there are no bars."""

    request: ChartRequest
    data: ChartData
    bars: BarSeries | None = None
    problem: str = ""
    """Why there are no bars, as a sentence that says what to do (the chart shows it)."""
    strategy_label: str = ""
    """``sma_crossover(short_period=10, long_period=30)``."""
    strategy_short: str = ""
    """``sma_crossover(10, 30)``: for narrow terminals."""
    strategy_problem: str = ""
    run_id: int | None = None
    """The backtest whose fills are marked (None: no backtest matches the chart)."""
    fills_marked: int = 0
    stored: StoredSeries | None = None
    fetchable: bool = False
    """No bars are stored for this symbol and timeframe, and Alpaca could send them."""
    watchable: bool = False
    """The bars came from Alpaca and a connection exists: new ones can be watched for."""
    feed: str = ""
    """The stock feed Alpaca bars of this symbol come from (``iex``/``sip``), else empty."""


def has_alpaca(provider: ServiceProviderProtocol) -> bool:
    """An Alpaca connection is set up (the chart may fetch and watch). Worker only."""
    from kash_tui.domains.connection import BrokerKind

    return any(c.broker is BrokerKind.ALPACA for c in provider.connection.list_connections())


def can_fetch(provider: ServiceProviderProtocol, symbol: str) -> bool:
    """Missing bars of ``symbol`` may come from Alpaca: there is a connection and the symbol
    is not generated demo data (which Alpaca has never heard of). Worker only."""
    from kash_tui.domains.market import MarketError

    try:
        if provider.market.get_instrument(symbol).source == "demo":
            return False
    except MarketError:
        pass  # not stored at all: Alpaca may well have it
    return has_alpaca(provider)


def read_stored_series(provider: ServiceProviderProtocol) -> StoredSeries:
    """Every stored symbol with its timeframes (shortest first). Call from a worker only."""
    from kash_tui.domains.market import Timeframe

    order = {tf.value: i for i, tf in enumerate(Timeframe)}
    found: dict[str, set[str]] = {}
    for summary in provider.market.list_data():
        found.setdefault(summary.symbol, set()).add(Timeframe(summary.timeframe).value)
    return {
        symbol: tuple(sorted(tfs, key=lambda tf: order.get(tf, len(order))))
        for symbol, tfs in sorted(found.items())
    }


def _lower_panel(name: str, values: np.ndarray, levels: tuple[float, ...]) -> LowerPanel:
    """A lower panel scaled 0-100 when the indicator and its levels fit (MFI, RSI), else to
    the indicator's own range."""
    import numpy as np

    from kash_tui.tui.widgets.candles import LowerPanel

    finite = values[np.isfinite(values)]
    points = np.concatenate((finite, np.asarray(levels, dtype=np.float64)))
    if len(points) == 0 or (points.min() >= 0 and points.max() <= 100):
        return LowerPanel(name, values, levels=levels)
    lo, hi = float(points.min()), float(points.max())
    pad = (hi - lo) * 0.05 or abs(hi) * 0.05 or 1.0
    return LowerPanel(name, values, levels=levels, lo=lo - pad, hi=hi + pad)


def load_chart(
    provider: ServiceProviderProtocol, request: ChartRequest, held: BarSeries | None = None
) -> ChartLoad:
    """Load the bars and build everything the chart draws. Runs in a thread worker.

    ``held`` is the series the screen already shows; it is reused when it is the one asked for
    and ``request.fresh`` is false. No widget is touched here.
    """
    import numpy as np

    from kash_tui.domains.market import MarketError, NoBarsError, Timeframe
    from kash_tui.domains.strategy import StrategyError
    from kash_tui.tui.widgets.candles import ChartData, Marker, Series

    stored = read_stored_series(provider) if request.list_stored else None
    symbol = request.symbol.strip().upper()
    try:
        timeframe = Timeframe.parse(request.timeframe)
        if (
            held is not None and not request.fresh
            and held.symbol == symbol and held.timeframe == timeframe
        ):
            bars = held
        else:
            bars = provider.market.load_bars(symbol, timeframe, last=MAX_BARS)
    except MarketError as exc:
        problem = str(exc)
        try:
            others = [tf.value for tf in provider.market.timeframes_for(symbol)]
        except MarketError:
            others = []
        fetchable = isinstance(exc, NoBarsError) and can_fetch(provider, symbol)
        if others and request.timeframe not in others and not fetchable:
            problem += f" Stored for {symbol}: {', '.join(others)}; press t to pick one."
        empty = ChartData.empty(symbol, request.timeframe)
        return ChartLoad(request, empty, problem=problem, stored=stored, fetchable=fetchable)

    overlays: list[Series] = []
    lower: list[LowerPanel] = []
    markers: list[Marker] = []
    label = short = strategy_problem = ""
    choice = request.strategy
    if choice is not None:
        try:
            strategy = provider.strategy.create_with_params(choice.strategy_id, choice.params)
        except StrategyError as exc:
            strategy_problem = f"The chart shows no {choice.strategy_id} indicators: {exc}"
        else:
            for indicator in strategy.indicators(bars):
                values = np.asarray(indicator.values, dtype=np.float64)
                if indicator.panel == "price":
                    overlays.append(Series(indicator.name, values))
                else:
                    levels = tuple(float(v) for v in indicator.levels)
                    lower.append(_lower_panel(indicator.name, values, levels))
            signals = np.asarray(strategy.generate_signals(bars))
            for index in np.flatnonzero(signals).tolist():
                markers.append(Marker(index, "buy" if signals[index] > 0 else "sell", "signal"))
            dump = getattr(strategy.params, "model_dump", None)
            params = dump() if callable(dump) else dict(choice.params)
            label, short = strategy_labels(strategy.id, params)

    run_id: int | None = None
    fills_marked = 0
    report = request.backtest
    if (
        report is not None
        and report.run.symbol.upper() == bars.symbol
        and report.run.timeframe == timeframe.value
    ):
        # the run may cover another window than the chart: match fills by bar time
        run_id = report.run.id
        run_times = np.asarray(report.timestamps, dtype=np.int64)
        fills = [f for f in report.fills if 0 <= f.bar_index < len(run_times)]
        if fills and len(bars):
            times = run_times[np.array([f.bar_index for f in fills], dtype=np.int64)]
            where = np.searchsorted(bars.timestamps, times)
            inside = where < len(bars)
            hit = np.zeros(len(fills), dtype=bool)
            hit[inside] = bars.timestamps[where[inside]] == times[inside]
            for fill, index, ok in zip(fills, where.tolist(), hit.tolist(), strict=True):
                if ok:
                    markers.append(Marker(index, "buy" if fill.side == "buy" else "sell", "fill"))
                    fills_marked += 1

    data = ChartData(
        bars.timestamps, bars.open, bars.high, bars.low, bars.close, bars.volume,
        tz=bars.tz, symbol=bars.symbol, timeframe=timeframe.value,
        overlays=tuple(overlays), lower=tuple(lower), markers=tuple(markers),
    )
    watchable, feed = False, ""
    try:
        instrument = provider.market.get_instrument(bars.symbol)
        watchable = instrument.source == "alpaca" and has_alpaca(provider)
        if instrument.source == "alpaca":
            feed = provider.market.data_feed(bars.symbol)
    except MarketError:
        pass
    return ChartLoad(
        request, data, bars, strategy_label=label, strategy_short=short,
        strategy_problem=strategy_problem, run_id=run_id, fills_marked=fills_marked,
        stored=stored, watchable=watchable, feed=feed,
    )


def fetch_series(provider: ServiceProviderProtocol, symbol: str, timeframe: str) -> FetchReport:
    """Fetch a series the chart does not have from Alpaca (``FETCH_LOOKBACK_DAYS`` back).
    Worker only; raises the broker's sentence."""
    from datetime import UTC, datetime, timedelta

    from kash_tui.domains.market import Timeframe

    tf = Timeframe.parse(timeframe)
    start = datetime.now(UTC) - timedelta(days=FETCH_LOOKBACK_DAYS.get(tf.value, 365))
    return provider.market.fetch_bars(symbol, tf, start)


def stored_timeframes(
    provider: ServiceProviderProtocol, symbol: str
) -> tuple[list[str], str, bool]:
    """The timeframes to offer for ``symbol``, the sentence why there are none, and whether
    the missing ones come from Alpaca. Worker only.

    Those stored; every timeframe when Alpaca can send the missing ones (:func:`can_fetch`).
    """
    from kash_tui.domains.market import MarketError, Timeframe

    if can_fetch(provider, symbol):
        return [tf.value for tf in Timeframe], "", True
    try:
        return [tf.value for tf in provider.market.timeframes_for(symbol)], "", False
    except MarketError as exc:
        return [], str(exc), False


# -- the place -------------------------------------------------------------------------------


class ChartScreen(PlaceScreen):
    """Candles of the workbench's market view with the strategy's lines and the run's fills."""

    PLACE = "chart"

    DEFAULT_CSS = """
    ChartScreen #chart {
        height: 1fr;
    }
    """

    BINDINGS: ClassVar = [
        # s, t and r show in the chart's header line (ChartHeader.hints), not in the footer,
        # which must fit 80 columns with the chart's own keys
        Binding("s,slash", "search", "Symbol", show=False, id="chart.search",
                tooltip="Chart another symbol: type to search the stored ones (s or /)"),
        Binding("t", "timeframe", "Timeframe", show=False, id="chart.timeframe",
                tooltip="Pick one of the timeframes stored for this symbol (t)"),
        Binding("r,ctrl+r", "reload", "Reload", show=False, id="chart.reload",
                tooltip="Read the bars again; the visible range stays (r or Ctrl+R)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._bars: BarSeries | None = None  # the series on screen, reused for overlays
        self._state_seen: WorkbenchState | None = None
        self._subscribed = False
        self._asking = False
        self._fetch_tried: set[tuple[str, str]] = set()
        """Series fetched (or tried) from Alpaca: not fetched again by themselves."""
        self._watch: BarWatch | None = None
        self._watch_key: tuple[str, str] | None = None
        """The series being watched (or whose watch is starting)."""
        self._closed = False

    def compose_body(self) -> Iterator[Widget]:
        from kash_tui.tui.widgets.candles import CandleChart

        header = ChartHeader(id="chart-header")
        header.hints = [
            (self.kash.key_label(binding.id, binding.key), binding.description.lower())
            for binding in self.BINDINGS if binding.id
        ]
        yield header
        yield CandleChart(id="chart")

    @property
    def chart(self) -> CandleChart:
        from kash_tui.tui.widgets.candles import CandleChart

        return self.query_one("#chart", CandleChart)

    @property
    def header(self) -> ChartHeader:
        return self.query_one("#chart-header", ChartHeader)

    def _body_ready(self) -> bool:
        return self.kash.status == "ready" and bool(self.query("#chart"))

    # -- following the workbench --------------------------------------------------------------

    def on_services_ready(self) -> None:
        bench = workbench(self.app)
        if not self._subscribed:
            self._subscribed = True
            bench.changed.subscribe(self, self._workbench_changed)
        self.chart.focus()
        self.load(fresh=self._state_seen is not None)

    def _workbench_changed(self, _state: WorkbenchState) -> None:
        if self._body_ready():
            self.load()

    def on_screen_resume(self) -> None:
        # a change published while this place was away is never missed
        if self._body_ready() and workbench(self.app).state is not self._state_seen:
            self.load()

    # -- loading ------------------------------------------------------------------------------

    def show_symbol(self, symbol: str, timeframe: str | None = None) -> None:
        """Chart ``symbol`` (a stock, a crypto pair or an OCC option contract) in ``timeframe``
        (None: a stored one, else the current one). Bars missing locally are fetched from
        Alpaca when a connection exists. Call on the UI thread."""
        show_symbol(self.app, symbol, timeframe)

    def load(self, *, fresh: bool = False, quiet: bool = False) -> None:
        """Chart the workbench's view; keeps the visible range when the series stays the same.

        ``quiet`` (new bars from the watch) redraws without the loading state and without
        re-reading the list of stored series.
        """
        from kash_tui.tui.widgets.candles import ChartData

        state = workbench(self.app).state
        self._state_seen = state
        market = state.market
        stored = stored_series(self.app)
        request = ChartRequest(
            market.symbol, market.timeframe, state.strategy, state.backtest, fresh=fresh,
            list_stored=(fresh and not quiet) or stored is None or market.symbol not in stored,
        )
        chart = self.chart
        shown = chart.data
        if not quiet:
            if not self._shows(shown, market.symbol, market.timeframe):
                chart.set_data(ChartData.empty(market.symbol, market.timeframe), keep_view=False)
            chart.set_loading()
            self.header.show(f"{market.symbol} {market.timeframe}", ["loading…"])
        held = self._bars
        self.call_service(  # a newer load replaces this one: its result never shows
            lambda provider: load_chart(provider, request, held),
            key="load",
            done=self._loaded,
            failed=partial(self._failed, request),
        )

    @staticmethod
    def _shows(data: ChartData | None, symbol: str, timeframe: str) -> bool:
        return (
            data is not None and len(data) > 0
            and data.symbol == symbol and data.timeframe == timeframe
        )

    def _loaded(self, result: ChartLoad) -> None:
        if not self._body_ready():
            return
        if result.stored is not None:
            remember_stored_series(self.app, result.stored)
        chart = self.chart
        data = result.data
        keep = self._shows(chart.data, data.symbol, data.timeframe)
        if result.problem:
            chart.empty_hint = result.problem
        chart.set_data(data, keep_view=keep)
        self._bars = result.bars
        title = f"{data.symbol} {data.timeframe}"
        if result.bars is None:
            self.header.show(title, problem="no bars")
        else:
            count = len(data)
            bars = f"last {count:,} bars" if count >= MAX_BARS else count_text(count, "bar")
            tail = []
            if result.run_id is not None:
                tail.append(f"run #{result.run_id}: {count_text(result.fills_marked, 'fill')}")
            parts = [result.bars.tz, bars]
            if result.feed:
                parts.append(f"{result.feed.upper()} feed")
            self.header.show(
                title, parts,
                strategy=(result.strategy_label, result.strategy_short), tail=tail,
            )
        if result.strategy_problem:
            self.notify(result.strategy_problem, severity="warning", timeout=8)
        self.refresh_bindings()
        key = (data.symbol, data.timeframe)
        if result.watchable:
            self._start_watch(*key)
        elif self._watch_key != key:
            self._stop_watch()
        if result.fetchable and key not in self._fetch_tried:
            self._fetch(*key)

    # -- from Alpaca --------------------------------------------------------------------------

    def _fetch(self, symbol: str, timeframe: str) -> None:
        """Fetch a series that has no stored bars; the chart says so while it runs."""
        self._fetch_tried.add((symbol, timeframe))
        self.notify(f"Fetching {symbol} {timeframe} bars from Alpaca…", timeout=4)
        self.chart.set_loading(f"Fetching {symbol} {timeframe} bars from Alpaca…")
        self.header.show(f"{symbol} {timeframe}", ["fetching from Alpaca…"])
        self.kash.call_service(
            lambda provider: fetch_series(provider, symbol, timeframe),
            done=partial(self._fetched, symbol, timeframe),
            failed=partial(self._fetch_failed, symbol, timeframe),
            refresh=False,
        )

    def _showing(self, symbol: str, timeframe: str) -> bool:
        market = workbench(self.app).state.market
        return self._body_ready() and (market.symbol, market.timeframe) == (symbol, timeframe)

    def _fetched(self, symbol: str, timeframe: str, report: FetchReport) -> None:
        self.notify(
            f"Fetched {report.received:,} {timeframe} bars of {symbol} from Alpaca"
            f"{f' ({report.feed.upper()} feed)' if report.feed else ''}, {report.new:,} new.",
            timeout=5,
        )
        if self._showing(symbol, timeframe):
            self.load(fresh=True)

    def _fetch_failed(self, symbol: str, timeframe: str, sentence: str) -> None:
        from kash_tui.tui.widgets.candles import ChartData

        self.notify(sentence, severity="error", timeout=10)
        if not self._showing(symbol, timeframe):
            return
        self._bars = None
        self.chart.empty_hint = f"{sentence} Press r to try again."
        self.chart.set_data(ChartData.empty(symbol, timeframe), keep_view=False)
        self.header.show(f"{symbol} {timeframe}", problem="could not fetch")

    def _start_watch(self, symbol: str, timeframe: str) -> None:
        """Watch the series on screen for new bars (one watch at a time)."""
        key = (symbol, timeframe)
        if self._watch_key == key:
            return
        self._stop_watch()
        self._watch_key = key
        app = self.app

        def arrived(new: int) -> None:  # on the watch's thread
            app.call_from_thread(self._bars_arrived, symbol, timeframe, new)

        def start(provider: ServiceProviderProtocol) -> BarWatch:
            from kash_tui.domains.market import Timeframe

            watch = provider.market.watch_bars(symbol, Timeframe.parse(timeframe), arrived)
            if self._closed:  # the screen went away while the watch started
                watch.stop()
            return watch

        def started(watch: BarWatch) -> None:
            if self._watch_key == key and self.is_mounted:
                self._watch = watch
            else:  # the chart moved on meanwhile
                self._stop_in_background(watch)

        def failed(sentence: str) -> None:
            if self._watch_key == key:
                self._watch_key = None
            self.notify(f"New bars of {symbol} will not appear by themselves: {sentence}",
                        severity="warning", timeout=8)

        self.kash.call_service(start, done=started, failed=failed, refresh=False)

    def _stop_in_background(self, watch: BarWatch) -> None:
        self.app.run_worker(watch.stop, thread=True, group="chart-watch", exit_on_error=False)

    def _stop_watch(self) -> None:
        watch, self._watch, self._watch_key = self._watch, None, None
        if watch is not None:
            self._stop_in_background(watch)

    def _bars_arrived(self, symbol: str, timeframe: str, _new: int) -> None:
        if self._watch_key == (symbol, timeframe) and self._showing(symbol, timeframe):
            self.load(fresh=True, quiet=True)

    def on_unmount(self) -> None:
        self._closed = True
        watch, self._watch, self._watch_key = self._watch, None, None
        if watch is not None:
            watch.stop()  # the app is closing: its threads end with it

    def _failed(self, request: ChartRequest, sentence: str) -> None:
        if not self._body_ready():
            return
        from kash_tui.tui.widgets.candles import ChartData

        self._bars = None
        self.chart.empty_hint = sentence
        self.chart.set_data(ChartData.empty(request.symbol, request.timeframe), keep_view=False)
        self.header.show(f"{request.symbol} {request.timeframe}", problem="could not load")

    # -- actions ------------------------------------------------------------------------------

    def action_search(self) -> None:
        def picked(symbol: str | None) -> None:
            if symbol:
                show_symbol(self.app, symbol)

        self.app.push_screen(SymbolSearch(workbench(self.app).state.market.symbol), picked)

    def action_timeframe(self) -> None:
        if self._asking:
            return
        self._asking = True
        market = workbench(self.app).state.market

        def picked(timeframe: str | None) -> None:
            if timeframe:
                workbench(self.app).show_timeframe(timeframe)

        def offer(answer: tuple[list[str], str, bool]) -> None:
            self._asking = False
            timeframes, problem, from_alpaca = answer
            if not timeframes:
                self.notify(problem or f"No bars are stored for {market.symbol}.",
                            severity="warning", timeout=6)
                return
            picker = (
                TimeframePicker(market.symbol, timeframes, market.timeframe,
                                note="Timeframes not stored yet are fetched from Alpaca.")
                if from_alpaca
                else TimeframePicker(market.symbol, timeframes, market.timeframe)
            )
            self.app.push_screen(picker, picked)

        def failed(sentence: str) -> None:
            self._asking = False
            self.notify(sentence, severity="error", timeout=8)

        self.kash.call_service(
            lambda provider: stored_timeframes(provider, market.symbol),
            done=offer, failed=failed, refresh=False,
        )

    def action_reload(self) -> None:
        market = workbench(self.app).state.market
        self._fetch_tried.discard((market.symbol, market.timeframe))  # r tries Alpaca again
        self.load(fresh=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("search", "timeframe", "reload"):
            return self.kash.status == "ready"
        return True


# -- palette commands ------------------------------------------------------------------------


def _go_chart(app: KashApp, symbol: str, timeframe: str | None) -> None:
    show_symbol(app, symbol, timeframe)
    app.action_switch_place("chart")


@palette_command
def chart_commands(app: KashApp) -> Iterator[PaletteCommand]:
    """``Chart: SYMBOL`` for each stored symbol and ``Timeframe: X`` for the current one's
    other timeframes, from what the chart last found stored (nothing before its first load)."""
    stored = stored_series(app)
    if not stored:
        return
    market = workbench(app).state.market
    for symbol, timeframes in stored.items():
        yield PaletteCommand(
            f"Chart: {symbol}", partial(_go_chart, app, symbol, None),
            f"Stored: {', '.join(timeframes)}",
        )
    for timeframe in stored.get(market.symbol, ()):
        if timeframe != market.timeframe:
            yield PaletteCommand(
                f"Timeframe: {timeframe}", partial(_go_chart, app, market.symbol, timeframe),
                f"Chart {market.symbol} in {timeframe} bars",
            )


__all__ = [
    "MAX_BARS",
    "ChartLoad",
    "ChartRequest",
    "ChartScreen",
    "chart_commands",
    "load_chart",
    "read_stored_series",
]
