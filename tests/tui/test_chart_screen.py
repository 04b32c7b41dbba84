"""The chart place on a fresh demo database: loading, keeping the view, overlays, fills, symbol
search, the timeframe picker, the empty state, palette commands and how it looks."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pytest
from textual.pilot import Pilot

from kash_tui.config import Settings
from kash_tui.domains.market import Timeframe
from kash_tui.tui.app import KashApp, make_app
from kash_tui.tui.keymap import only_swallowed_keys
from kash_tui.tui.places import PLACES
from kash_tui.tui.modals import SymbolSearch, TimeframePicker
from kash_tui.tui.screens.chart import ChartScreen, chart_commands
from kash_tui.tui.state import stored_series, timeframe_to_show
from kash_tui.tui.widgets import ChartHeader
from kash_tui.tui.state import StrategyChoice, workbench
from kash_tui.tui.widgets.candles import CandleChart

DEMOA_DAILY_BARS = 2608

MakeApp = Callable[[], KashApp]


@pytest.fixture
def make_chart_app(sqlite_db_url: str) -> MakeApp:
    """The real app on a fresh demo database."""
    assert PLACES["chart"].load() is ChartScreen
    return lambda: make_app(Settings(database_url=sqlite_db_url))


async def settle(app: KashApp, pilot: Pilot) -> None:
    """Let workers finish and their results reach the UI (a result may start another load)."""
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


async def open_chart(app: KashApp, pilot: Pilot) -> ChartScreen:
    await settle(app, pilot)
    await pilot.press("2")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, ChartScreen)
    return screen


def chart_of(app: KashApp) -> CandleChart:
    return app.screen.query_one("#chart", CandleChart)


def visible_times(chart: CandleChart) -> tuple[int, int]:
    start, end = chart.visible
    assert chart.data is not None and end > start
    return int(chart.data.timestamps_ns[start]), int(chart.data.timestamps_ns[end - 1])


def screen_text(chart: CandleChart) -> str:
    return re.sub(r"\s+", " ", " ".join(chart.text_lines()))


def header_text(app: KashApp) -> str:
    return str(app.screen.query_one("#chart-header", ChartHeader).render())


# -- opening ----------------------------------------------------------------------------------


async def test_opens_on_demoa_daily(make_chart_app: MakeApp) -> None:
    app = make_chart_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chart(app, pilot)
        chart = chart_of(app)
        assert chart.data is not None
        assert (chart.data.symbol, chart.data.timeframe) == ("DEMOA", "1Day")
        assert len(chart.data) == DEMOA_DAILY_BARS
        start, end = chart.visible
        assert 0 <= start < end == DEMOA_DAILY_BARS
        assert app.focused is chart
        assert header_text(app).startswith("DEMOA 1Day · America/New_York · 2,608 bars")


async def test_minute_bars_are_labelled_in_new_york_time(make_chart_app: MakeApp) -> None:
    app = make_chart_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chart(app, pilot)
        workbench(app).show_market("DEMOA", "1Min")
        await settle(app, pilot)
        chart = chart_of(app)
        assert chart.data is not None and chart.data.timeframe == "1Min"
        await pilot.press("home")  # the first session: Dec 02 from 09:30 New York time
        axis = chart.text_lines()[-1]
        assert "09:30" in axis
        assert "14:30" not in axis  # what UTC would say
        assert "EST" in chart.text_lines()[0]


# -- keeping the view -------------------------------------------------------------------------


async def test_reload_keeps_the_visible_range(make_chart_app: MakeApp) -> None:
    app = make_chart_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chart(app, pilot)
        chart = chart_of(app)
        await pilot.press("plus", "plus", "h", "h")  # zoomed in, away from the latest bar
        before = visible_times(chart)
        old_data = chart.data
        await pilot.press("r")
        await settle(app, pilot)
        assert chart.data is not old_data  # read again
        assert visible_times(chart) == before


async def test_reload_keeps_a_view_pinned_to_the_latest_bar(make_chart_app: MakeApp) -> None:
    app = make_chart_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chart(app, pilot)
        chart = chart_of(app)
        await pilot.press("plus")
        before = visible_times(chart)
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert visible_times(chart) == before


async def test_a_backtest_from_another_place_keeps_the_view_and_marks_its_fills(
    make_chart_app: MakeApp,
) -> None:
    from kash_tui.domains.trading import BacktestRequest

    app = make_chart_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await open_chart(app, pilot)
        chart = chart_of(app)
        await pilot.press("plus", "h")
        before = visible_times(chart)
        # a run over a shorter window than the chart: its bar indices are not the chart's
        report = app.services.trading.run_backtest(BacktestRequest(
            symbol="DEMOA", strategy_id="sma_crossover", timeframe="1Day",
            start=datetime(2020, 1, 1, tzinfo=UTC),
        ))
        assert report.fills
        workbench(app).show_backtest(report)
        await settle(app, pilot)

        assert visible_times(chart) == before
        data = chart.data
        assert data is not None and len(data) == DEMOA_DAILY_BARS
        fills = {(int(data.timestamps_ns[m.index]), m.kind) for m in data.markers
                 if m.source == "fill"}
        expected = {(int(report.timestamps[f.bar_index]), f.side) for f in report.fills}
        assert fills == expected
        first_fill_bar = report.fills[0].bar_index
        first = min(m.index for m in data.markers if m.source == "fill")
        assert first != first_fill_bar  # mapped by time, not by index
        assert len(data.overlays) == 2  # the run's strategy is drawn too
        assert f"run #{report.run.id}: {len(report.fills)} fills" in header_text(app)


async def test_a_backtest_of_another_symbol_switches_the_chart(make_chart_app: MakeApp) -> None:
    from kash_tui.domains.trading import BacktestRequest

    app = make_chart_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chart(app, pilot)
        report = app.services.trading.run_backtest(
            BacktestRequest(symbol="DEMOB", strategy_id="mfi", timeframe="1Day"))
        workbench(app).show_backtest(report)
        await settle(app, pilot)
        data = chart_of(app).data
        assert data is not None and data.symbol == "DEMOB"
        assert sum(m.source == "fill" for m in data.markers) == len(report.fills)


# -- strategy lines ---------------------------------------------------------------------------


async def test_strategy_choice_draws_its_indicators_and_signals(make_chart_app: MakeApp) -> None:
    app = make_chart_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chart(app, pilot)
        chart = chart_of(app)
        await pilot.press("plus")
        before = visible_times(chart)

        workbench(app).choose_strategy(StrategyChoice("sma_crossover", {}))
        await settle(app, pilot)
        data = chart.data
        assert data is not None
        assert [s.name for s in data.overlays] == ["SMA(10)", "SMA(30)"]
        assert data.lower == ()
        assert any(m.source == "signal" for m in data.markers)
        assert visible_times(chart) == before  # same bars: the view stays
        assert "sma_crossover(10, 30)" in header_text(app)  # compact at 80 columns

        workbench(app).choose_strategy(StrategyChoice("mfi", {"period": 10}))
        await settle(app, pilot)
        data = chart.data
        assert data is not None
        assert data.overlays == ()
        assert len(data.lower) == 1
        panel = data.lower[0]
        assert panel.name == "MFI(10)"
        assert panel.levels == (20.0, 80.0)
        assert (panel.lo, panel.hi) == (0.0, 100.0)
        assert np.isfinite(panel.values[-100:]).all()


async def test_the_new_builtins_draw_bands_over_the_price_and_panels_below(
    make_chart_app: MakeApp,
) -> None:
    app = make_chart_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chart(app, pilot)
        chart = chart_of(app)

        workbench(app).choose_strategy(StrategyChoice("bollinger_reversion", {"num_std": 2.5}))
        await settle(app, pilot)
        data = chart.data
        assert data is not None and data.lower == ()
        assert [s.name for s in data.overlays] == ["BB up", "BB mid(20)", "BB low"]
        upper, middle, lower = (s.values[-100:] for s in data.overlays)
        assert (upper > middle).all() and (middle > lower).all()

        workbench(app).choose_strategy(
            StrategyChoice("rsi_reversion", {"oversold": 25, "overbought": 75}))
        await settle(app, pilot)
        (panel,) = chart.data.lower
        assert (panel.name, panel.levels, panel.lo, panel.hi) == ("RSI(14)", (25.0, 75.0), 0, 100)
        assert any(line.rstrip().endswith(" 25") for line in chart.text_lines())  # its level

        workbench(app).choose_strategy(StrategyChoice("macd", {}))
        await settle(app, pilot)
        data = chart.data
        assert data.overlays == ()
        (panel,) = data.lower  # one panel: the line, the signal line and the histogram
        assert panel.name == "MACD(12,26,9)" and panel.levels == (0.0,)
        assert [s.name for s in panel.lines] == ["Signal"]
        assert panel.histogram is not None and panel.histogram.name == "Hist"
        assert panel.fit_visible
        text = chart.text_lines()
        assert any(line.rstrip().endswith(" MACD") for line in text)
        assert any(line.rstrip().endswith(" 0") for line in text)  # the zero line
        assert any(set(line[: chart.plot_width]) & set("▀▄█") for line in text[-5:-1])

        workbench(app).choose_strategy(StrategyChoice("donchian_breakout", {}))
        await settle(app, pilot)
        data = chart.data
        assert [s.name for s in data.overlays] == ["Upper(20)", "Lower(10)"]
        assert any(m.source == "signal" for m in data.markers)


async def test_invalid_strategy_parameters_leave_the_bars_and_say_why(
    make_chart_app: MakeApp,
) -> None:
    app = make_chart_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chart(app, pilot)
        workbench(app).choose_strategy(
            StrategyChoice("sma_crossover", {"short_period": 50, "long_period": 20}))
        await settle(app, pilot)
        data = chart_of(app).data
        assert data is not None and len(data) == DEMOA_DAILY_BARS
        assert data.overlays == ()
        messages = [n.message for n in app._notifications]  # noqa: SLF001
        assert any("short_period must be less than long_period" in m for m in messages)


# -- symbol and timeframe ---------------------------------------------------------------------


async def test_symbol_search_as_you_type(make_chart_app: MakeApp) -> None:
    app = make_chart_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chart(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        search = app.screen
        assert isinstance(search, SymbolSearch)
        await pilot.press(*"demob")
        await settle(app, pilot)
        results = search.query_one("#symbol-results")
        assert [results.get_option_at_index(i).id for i in range(results.option_count)] == [
            "DEMOB"]
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ChartScreen)
        data = chart_of(app).data
        assert data is not None and (data.symbol, data.timeframe) == ("DEMOB", "1Day")
        assert workbench(app).state.market.symbol == "DEMOB"
        assert header_text(app).startswith("DEMOB 1Day")


async def test_enter_before_the_matches_arrive_picks_what_was_typed(
    make_chart_app: MakeApp,
) -> None:
    app = make_chart_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chart(app, pilot)
        await pilot.press("slash", *"democoin", "enter")
        await settle(app, pilot)
        data = chart_of(app).data
        # DEMOCOIN/USD has no 1Min bars; the chart keeps 1Day, which it has
        assert data is not None and data.symbol == "DEMOCOIN/USD"
        assert data.timeframe == "1Day"


async def test_escape_closes_the_search_without_change(make_chart_app: MakeApp) -> None:
    app = make_chart_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chart(app, pilot)
        await pilot.press("s", *"demob", "escape")
        await settle(app, pilot)
        assert isinstance(app.screen, ChartScreen)
        assert workbench(app).state.market.symbol == "DEMOA"


async def test_timeframe_picker_offers_only_stored_timeframes(make_chart_app: MakeApp) -> None:
    app = make_chart_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chart(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        picker = app.screen
        assert isinstance(picker, TimeframePicker)
        options = picker.query_one("#timeframes")
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == [
            "1Min", "1Day"]
        assert options.highlighted == 1  # the one on screen
        await pilot.press("up", "enter")
        await settle(app, pilot)
        data = chart_of(app).data
        assert data is not None and (data.symbol, data.timeframe) == ("DEMOA", "1Min")
        assert len(data) == 20 * 390  # the demo's December sessions, under the 10,000 cap


def test_timeframe_to_show_keeps_the_current_one_when_stored() -> None:
    assert timeframe_to_show(("1Min", "1Day"), "1Min") == "1Min"
    assert timeframe_to_show(("1Hour", "1Day"), "1Min") == "1Day"
    assert timeframe_to_show(("1Hour",), "1Day") == "1Hour"
    assert timeframe_to_show(None, "1Min") == "1Min"


# -- empty states -----------------------------------------------------------------------------


async def test_unknown_symbol_shows_the_sentence(make_chart_app: MakeApp) -> None:
    app = make_chart_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chart(app, pilot)
        workbench(app).show_market("NOPE")
        await settle(app, pilot)
        chart = chart_of(app)
        assert chart.data is not None and len(chart.data) == 0
        text = screen_text(chart)
        assert "No bars for NOPE 1Day." in text
        assert "There are no bars for NOPE; import a CSV with `kash data import FILE" in text
        assert "no bars" in header_text(app)
        # and back to a stored symbol: bars again
        workbench(app).show_market("DEMOA")
        await settle(app, pilot)
        assert chart.data is not None and len(chart.data) == DEMOA_DAILY_BARS


async def test_missing_timeframe_names_the_stored_ones(make_chart_app: MakeApp) -> None:
    app = make_chart_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_chart(app, pilot)
        workbench(app).show_market("DEMOB", "1Min")
        await settle(app, pilot)
        text = screen_text(chart_of(app))
        assert "There are no 1Min bars for DEMOB" in text
        assert "Stored for DEMOB: 1Day; press t to pick one." in text


async def test_only_the_latest_of_quick_changes_is_shown(make_chart_app: MakeApp) -> None:
    app = make_chart_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chart(app, pilot)
        bench = workbench(app)
        bench.show_market("DEMOB")
        bench.show_market("NOPE")
        bench.show_market("DEMOA", "1Min")
        await settle(app, pilot)
        data = chart_of(app).data
        assert data is not None and (data.symbol, data.timeframe) == ("DEMOA", "1Min")
        assert len(data) > 0


async def test_changes_while_away_are_shown_on_return(make_chart_app: MakeApp) -> None:
    app = make_chart_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chart(app, pilot)
        await pilot.press("1")
        await settle(app, pilot)
        workbench(app).show_market("DEMOB")
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        data = chart_of(app).data
        assert data is not None and data.symbol == "DEMOB"


# -- palette and keys -------------------------------------------------------------------------


async def test_palette_commands_come_from_what_the_chart_found(make_chart_app: MakeApp) -> None:
    app = make_chart_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert list(chart_commands(app)) == []  # the chart has not looked yet
        await open_chart(app, pilot)
        titles = [c.title for c in chart_commands(app)]
        assert titles == ["Chart: DEMOA", "Chart: DEMOB", "Chart: DEMOCOIN/USD",
                          "Timeframe: 1Min"]
        await pilot.press("1")
        await settle(app, pilot)
        command = next(c for c in chart_commands(app) if c.title == "Chart: DEMOCOIN/USD")
        command.run()
        await settle(app, pilot)
        assert isinstance(app.screen, ChartScreen)
        data = chart_of(app).data
        assert data is not None and (data.symbol, data.timeframe) == ("DEMOCOIN/USD", "1Day")
        assert "Timeframe: 1Hour" in [c.title for c in chart_commands(app)]


@pytest.mark.parametrize("screen", [ChartScreen, SymbolSearch, TimeframePicker])
def test_every_binding_has_an_id_a_tooltip_and_a_usable_key(screen: type) -> None:
    bindings = list(screen.__dict__["BINDINGS"])
    assert bindings
    for binding in bindings:
        assert binding.id and binding.id.startswith("chart."), binding
        assert binding.tooltip, binding
        assert not only_swallowed_keys(binding), binding
        assert "ctrl+enter" not in binding.key


# -- from Alpaca (the fake server) ------------------------------------------------------------

ALPACA_START = datetime(2025, 1, 2, tzinfo=UTC)


@pytest.fixture
def make_alpaca_app(sqlite_db_url: str, fake_alpaca, monkeypatch: pytest.MonkeyPatch) -> MakeApp:  # noqa: ANN001
    """The real app on a demo database with a paper Alpaca connection to the fake."""
    from kash_tui.domains.connection import NewConnection
    from kash_tui.provider import ServiceProvider
    from tests.broker_setup import connect_env

    connect_env(fake_alpaca, monkeypatch)
    settings = Settings(database_url=sqlite_db_url, http_timeout_seconds=2.0)
    setup = ServiceProvider(settings)
    setup.prepare()
    setup.connection.add(NewConnection(name="paper", trading_url=fake_alpaca.base_url,
                                       data_url=fake_alpaca.base_url))
    setup.close()
    fake_alpaca.add_asset("ACME", name="Acme Corporation Common Stock", price="50")
    fake_alpaca.generate_bars("ACME", "1Day", start=ALPACA_START, count=300, seed=7)
    return lambda: make_app(settings)


def notes(app: KashApp) -> list[str]:
    return [n.message for n in app._notifications]  # noqa: SLF001


def bar_requests(fake, path: str = "/v2/stocks/bars") -> list:  # noqa: ANN001
    return [r for r in fake.requests if r.path == path]


def kash_threads() -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if t.name.startswith("kash-bars")]


async def until(app: KashApp, pilot: Pilot, predicate: Callable[[], bool], timeout: float = 5) -> None:
    """Wait for something a background thread (the bar watch) brings about."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)
    await settle(app, pilot)


async def test_a_symbol_without_bars_is_fetched_from_alpaca(
    make_alpaca_app: MakeApp, fake_alpaca  # noqa: ANN001
) -> None:
    app = make_alpaca_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_chart(app, pilot)
        screen.show_symbol("acme")
        await settle(app, pilot)
        data = chart_of(app).data
        assert data is not None and (data.symbol, data.timeframe, len(data)) == ("ACME", "1Day", 300)
        assert header_text(app).startswith("ACME 1Day · America/New_York · 300 bars · IEX feed")
        assert "Fetching ACME 1Day bars from Alpaca…" in notes(app)
        assert "Fetched 300 1Day bars of ACME from Alpaca (IEX feed), 300 new." in notes(app)
        assert [r.query["symbols"] for r in bar_requests(fake_alpaca)][:1] == ["ACME"]
        assert app.services.market.get_instrument("ACME").source == "alpaca"
        assert "ACME" in (stored_series(app) or {})
    assert kash_threads() == []


async def test_a_failed_fetch_says_why_and_r_tries_again(
    make_alpaca_app: MakeApp, fake_alpaca  # noqa: ANN001
) -> None:
    app = make_alpaca_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await open_chart(app, pilot)
        fake_alpaca.fail("/v2/stocks/bars", 500)
        workbench(app).show_market("ACME")
        await settle(app, pilot)
        chart = chart_of(app)
        assert chart.data is not None and len(chart.data) == 0
        sentence = "Alpaca had a server error while fetching 1Day bars of ACME (500)"
        assert sentence in screen_text(chart) and "Press r to try again." in screen_text(chart)
        assert any(sentence in n for n in notes(app))
        assert "could not fetch" in header_text(app)
        assert len(bar_requests(fake_alpaca)) == 1  # not again by itself
        assert "ACME" not in {i.symbol for i in app.services.market.list_instruments()}
        await pilot.press("r")
        await settle(app, pilot)
        assert chart.data is not None and len(chart.data) == 300
    assert kash_threads() == []


async def test_search_offers_the_brokers_assets(make_alpaca_app: MakeApp, fake_alpaca) -> None:  # noqa: ANN001
    app = make_alpaca_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_chart(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        search = app.screen
        assert isinstance(search, SymbolSearch)
        await pilot.press(*"acm")
        await settle(app, pilot)
        results = search.query_one("#symbol-results")
        first = results.get_option_at_index(0)
        assert first.id == "ACME"
        assert "Acme Corporation" in str(first.prompt) and "Alpaca" in str(first.prompt)
        await pilot.press("enter")
        await settle(app, pilot)
        data = chart_of(app).data
        assert data is not None and (data.symbol, len(data)) == ("ACME", 300)
        listed = [r for r in fake_alpaca.requests if r.path == "/v2/assets"]
        await pilot.press("s", *"demo")
        await settle(app, pilot)
        assert [r for r in fake_alpaca.requests if r.path == "/v2/assets"] == listed  # cached


async def test_with_alpaca_every_timeframe_is_offered(make_alpaca_app: MakeApp) -> None:
    app = make_alpaca_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_chart(app, pilot)
        await pilot.press("t")  # DEMOA is demo data: Alpaca cannot fill its gaps
        await settle(app, pilot)
        picker = app.screen
        assert isinstance(picker, TimeframePicker)
        assert picker.timeframes == ["1Min", "1Day"]
        await pilot.press("escape")
        workbench(app).show_market("ACME")
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        picker = app.screen
        assert isinstance(picker, TimeframePicker)
        assert picker.timeframes == [tf.value for tf in Timeframe]
        assert "fetched from Alpaca" in picker.note


async def test_demo_data_is_never_fetched(make_alpaca_app: MakeApp, fake_alpaca) -> None:  # noqa: ANN001
    app = make_alpaca_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_chart(app, pilot)
        workbench(app).show_market("DEMOB", "1Min")
        await settle(app, pilot)
        assert "Stored for DEMOB: 1Day; press t to pick one." in screen_text(chart_of(app))
        assert bar_requests(fake_alpaca) == []


async def test_new_bars_appear_and_the_view_stays(make_alpaca_app: MakeApp, fake_alpaca) -> None:  # noqa: ANN001
    from datetime import timedelta

    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=200)
    fake_alpaca.add_bars("AAPL", "1Min", [
        (start + timedelta(minutes=i), 190 + i % 7, 191 + i % 7, 189 + i % 7, 190.5 + i % 7, 100)
        for i in range(150)
    ])
    app = make_alpaca_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_chart(app, pilot)
        screen.show_symbol("AAPL", "1Min")
        await settle(app, pilot)
        chart = chart_of(app)
        assert chart.data is not None and len(chart.data) == 150
        fake_alpaca.wait_for_subscription("AAPL", path="/v2/iex")
        await pilot.press("plus", "plus", "h", "h")  # zoomed in, away from the latest bar
        before = visible_times(chart)

        fake_alpaca.push_bar("AAPL", (start + timedelta(minutes=150), 1, 2, 0.5, 1.5, 10))
        await until(app, pilot, lambda: chart.data is not None and len(chart.data) == 151)
        assert visible_times(chart) == before
        assert header_text(app).startswith("AAPL 1Min · America/New_York · 151 bars")

        await pilot.press("end")  # following the latest bar: a new one scrolls into view
        fake_alpaca.push_bar("AAPL", (start + timedelta(minutes=151), 1, 2, 0.5, 1.5, 10))
        await until(app, pilot, lambda: chart.data is not None and len(chart.data) == 152)
        assert chart.visible[1] == 152

        workbench(app).show_market("DEMOA")  # another series: the watch ends
        await settle(app, pilot)
        await until(app, pilot, lambda: kash_threads() == [])
        await until(app, pilot, lambda: fake_alpaca.open_streams("/v2/iex") == 0)
    assert kash_threads() == []


async def test_an_option_contract_is_chartable(make_alpaca_app: MakeApp, fake_alpaca) -> None:  # noqa: ANN001
    from datetime import date, timedelta

    occ = "ACME250321C00050000"
    fake_alpaca.add_option_contract(occ, underlying="ACME", expiration=date(2025, 3, 21),
                                    strike="50", type="call")
    fake_alpaca.add_bars(occ, "1Day", [
        (ALPACA_START + timedelta(days=i), 2.0, 2.5, 1.5, 2.2, 10) for i in range(40)
    ])
    app = make_alpaca_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_chart(app, pilot)
        screen.show_symbol(occ, "1Day")
        await settle(app, pilot)
        data = chart_of(app).data
        assert data is not None and (data.symbol, len(data)) == (occ, 40)
        assert bar_requests(fake_alpaca, "/v1beta1/options/bars")
    assert kash_threads() == []


# -- how it looks -----------------------------------------------------------------------------


async def test_at_80x24_the_footer_and_the_hourly_readout_read_whole(
    make_chart_app: MakeApp,
) -> None:
    """The footer ended in "shift▏" (the crosshair keys ran under ^p Commands); the 1Hour
    readout of DEMOCOIN/USD dropped the symbol's name."""
    from textual.widgets import Footer
    from textual.widgets._footer import FooterKey

    from kash_tui.tui.navigation import show_symbol

    app = make_chart_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chart(app, pilot)
        footer = app.screen.query_one(Footer)
        keys = [k for k in footer.query(FooterKey) if k.display]
        commands = next(k for k in keys if "Commands" in str(k.render()))
        assert all(k.region.right <= commands.region.x for k in keys if k is not commands)
        assert not any("shift" in str(k.render()) for k in keys)
        show_symbol(app, "DEMOCOIN/USD", "1Hour")
        await settle(app, pilot)
        readout = chart_of(app).text_lines()[0]
        assert readout.startswith("DEMOCOIN/USD 1Hour "), readout
        assert " C " in readout


async def _show_chart(pilot: Pilot) -> None:
    await open_chart(pilot.app, pilot)  # type: ignore[arg-type]


def test_snapshot_80x24(make_chart_app: MakeApp, snap_compare) -> None:
    assert snap_compare(make_chart_app(), terminal_size=(80, 24), run_before=_show_chart)


def test_snapshot_160x48(make_chart_app: MakeApp, snap_compare) -> None:
    assert snap_compare(make_chart_app(), terminal_size=(160, 48), run_before=_show_chart)


def test_snapshot_160x48_with_a_backtest(make_chart_app: MakeApp, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        from kash_tui.domains.trading import BacktestRequest

        app: KashApp = pilot.app  # type: ignore[assignment]
        await open_chart(app, pilot)
        report = app.services.trading.run_backtest(BacktestRequest(
            symbol="DEMOA", strategy_id="sma_crossover", timeframe="1Day"))
        workbench(app).show_backtest(report)
        await settle(app, pilot)

    assert snap_compare(make_chart_app(), terminal_size=(160, 48), run_before=run_before)


async def test_the_chart_polls_while_another_holds_the_stream_and_says_so(
    make_alpaca_app: MakeApp, fake_alpaca  # noqa: ANN001
) -> None:
    """Alpaca allows one market-data stream per key: while another Kash process (a deployment,
    another app) holds the connection's stream lease, the chart opens no second stream; it polls,
    says who owns the stream, and new bars still appear."""
    from datetime import timedelta

    from kash_tui.domains.market import Timeframe

    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=200)
    fake_alpaca.add_bars("AAPL", "1Min", [
        (start + timedelta(minutes=i), 190 + i % 7, 191 + i % 7, 189 + i % 7, 190.5 + i % 7, 100)
        for i in range(150)
    ])
    app = make_alpaca_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_chart(app, pilot)
        holder = app.services.deployment.watch_bars("AAPL", Timeframe.MIN_1, lambda _n: None)
        try:
            assert holder.stream_use.stream  # the lease is taken by this other watcher
            fake_alpaca.wait_for_subscription("AAPL", path="/v2/iex")
            screen.show_symbol("AAPL", "1Min")
            await settle(app, pilot)
            await until(app, pilot, lambda: any("owns the market-data stream" in n
                                                for n in notes(app)))
            assert fake_alpaca.open_streams("/v2/iex") == 1  # still only the holder's
            chart = chart_of(app)
            fake_alpaca.push_bar("AAPL", (start + timedelta(minutes=150), 1, 2, 0.5, 1.5, 10))
            await until(app, pilot, lambda: chart.data is not None and len(chart.data) == 151,
                        timeout=20)
        finally:
            holder.stop()
        workbench(app).show_market("DEMOA")
        await settle(app, pilot)
        await until(app, pilot, lambda: kash_threads() == [])
