"""The chart place: candles of the workbench's symbol and timeframe, the chosen strategy's
indicators and signals, and the fills of the backtest on screen.

With an Alpaca connection the chart also reaches the broker: the symbol search offers the
broker's assets (cached), a symbol or timeframe without stored bars is fetched from Alpaca in a
worker (once per series; ``r`` tries again), and a series that came from Alpaca is watched
(``DeploymentService.watch_bars``, the market's watch under the stream lease): new bars are
stored as they trade and the chart redraws them, keeping the user's zoom and pan. While a
deployment owns the connection's one market-data stream, the chart polls instead and says so.

Everything that reads the database or computes with numpy runs in a thread worker
(:func:`~kash_tui.tui.chart_reads.load_chart`, in ``tui/chart_reads.py``), which hands back a
ready ``ChartLoad``; the UI thread only calls
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
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding
from textual.widget import Widget

from kash_tui.tui.chart_reads import (
    ChartLoad,
    ChartRequest,
    fetch_series,
    load_chart,
    MAX_BARS,
    read_stored_series,
    stored_timeframes,
)
from kash_tui.tui.commands import PaletteCommand, palette_command
from kash_tui.tui.format import count_text
from kash_tui.tui.modals.symbol_search import SymbolSearch
from kash_tui.tui.modals.timeframe_picker import TimeframePicker
from kash_tui.tui.navigation import open_import, show_symbol
from kash_tui.tui.places import PlaceScreen
from kash_tui.tui.state import (
    WorkbenchState,
    remember_stored_series,
    stored_series,
    workbench,
)
from kash_tui.tui.widgets.chart_header import ChartHeader

if TYPE_CHECKING:
    from kash_tui.domains.market import BarSeries, BarWatch, FetchReport
    from kash_tui.provider import ServiceProviderProtocol
    from kash_tui.tui.app import KashApp
    from kash_tui.tui.widgets.candles import CandleChart, ChartData

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
        Binding("i", "import_csv", "Import", show=False, id="chart.import",
                tooltip="Import bars from a CSV file, then chart them (i)"),
    ]
    HEADER_HINTS: ClassVar = ("chart.search", "chart.timeframe", "chart.reload")
    """The keys the header names (at 80 columns there is room for these three; i for import
    is in the help and the palette)."""

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

    def action_import_csv(self) -> None:
        open_import(self.kash)

    def compose_body(self) -> Iterator[Widget]:
        from kash_tui.tui.widgets.candles import CandleChart

        header = ChartHeader(id="chart-header")
        header.hints = [
            (self.kash.key_label(binding.id, binding.key), binding.description.lower())
            for binding in self.BINDINGS if binding.id in self.HEADER_HINTS
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

            # through the deployments' stream lease: Alpaca allows one market-data stream per
            # key, so while a deployment owns it the chart polls and reads what it stores
            watch = provider.deployment.watch_bars(symbol, Timeframe.parse(timeframe), arrived)
            if self._closed:  # the screen went away while the watch started
                watch.stop()
            return watch

        def started(watch: BarWatch) -> None:
            if self._watch_key == key and self.is_mounted:
                self._watch = watch
                note = getattr(getattr(watch, "stream_use", None), "note", "")
                if note:
                    self.notify(note, timeout=8)
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
