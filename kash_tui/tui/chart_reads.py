"""What the chart place reads, in its worker: the bars of a series with the chosen strategy's
indicators and signals and the fills of the backtest on screen (:func:`load_chart`, returning a
ready :class:`ChartLoad`), the stored timeframes of a symbol, and a fetch of a missing series
from Alpaca. Nothing here touches a widget; the chart screen (``screens/chart.py``) shows the
result on the UI thread.

Importing this module is cheap (no numpy, no domain package): they are imported where used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kash_tui.tui.format import strategy_labels
from kash_tui.tui.state import StoredSeries, StrategyChoice

if TYPE_CHECKING:
    import numpy as np

    from kash_tui.domains.market import BarSeries, FetchReport
    from kash_tui.domains.strategy import Indicator
    from kash_tui.domains.trading import BacktestReport
    from kash_tui.provider import ServiceProviderProtocol
    from kash_tui.tui.widgets.candles import ChartData, LowerPanel

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


def _lower_panels(indicators: list[Indicator]) -> list[LowerPanel]:
    """One panel per lower indicator, or per ``group`` of them (MACD, its signal line and its
    histogram share one), in the strategy's order. Scaled 0-100 when every value and level fits
    (MFI, RSI), else to the range on screen."""
    import numpy as np

    from kash_tui.tui.widgets.candles import LowerPanel, Series

    groups: dict[object, list[Indicator]] = {}
    for k, indicator in enumerate(indicators):
        groups.setdefault(indicator.group or ("", k), []).append(indicator)
    panels = []
    for members in groups.values():
        lines = [i for i in members if i.style != "histogram"] or members[:1]
        bars = next((i for i in members if i.style == "histogram" and i not in lines), None)
        main, extra = lines[0], lines[1:]
        levels = tuple(dict.fromkeys(float(v) for i in members for v in i.levels))
        values = [np.asarray(i.values, dtype=np.float64) for i in members]
        finite = np.concatenate([v[np.isfinite(v)] for v in values])
        points = np.concatenate((finite, np.asarray(levels, dtype=np.float64)))
        fixed = len(points) == 0 or (points.min() >= 0 and points.max() <= 100)
        panels.append(LowerPanel(
            main.name, np.asarray(main.values, dtype=np.float64), levels=levels,
            lines=tuple(Series(i.name, i.values) for i in extra),
            histogram=Series(bars.name, bars.values) if bars is not None else None,
            fit_visible=not fixed,
        ))
    return panels


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
            below = []
            for indicator in strategy.indicators(bars):
                values = np.asarray(indicator.values, dtype=np.float64)
                if indicator.panel == "price":
                    overlays.append(Series(indicator.name, values))
                else:
                    below.append(indicator)
            lower.extend(_lower_panels(below))
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
                    markers.append(Marker(index, "buy" if fill.side == "buy" else "sell", "fill",
                                          getattr(fill, "reason", "signal")))
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
