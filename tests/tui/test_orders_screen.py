"""The Orders place against the fake Alpaca, through the real services: the account, positions
and orders of a PAPER portfolio kept fresh without a key press, cancelling and closing with a
confirmation, the status line of the feed, faults, a backtest portfolio read-only, the empty
state, and snapshots (which must never show the keys).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import DataTable

from kash_tui.config import Settings
from kash_tui.domains.trading import BacktestRequest
from kash_tui.domains.workspace import PortfolioMode
from kash_tui.provider import ServiceProvider
from kash_tui.tui.app import make_app
from kash_tui.tui.modals import OrderTicket, TradeConfirm
from kash_tui.tui.screens.orders import OrdersScreen
from kash_tui.tui.widgets.orders import clock as orders_module
from tests.tui.broker_app import (  # noqa: F401 - broker is a fixture
    SIZE,
    BrokerSetup,
    assert_no_secrets,
    broker,
    notices,
    screen_text,
    settle,
    start,
    static_text,
    wait_for,
)


def rows(app, table_id: str) -> list[list[str]]:  # noqa: ANN001
    table = app.screen.query_one(f"#{table_id}", DataTable)
    return [[str(c).strip() for c in table.get_row_at(i)] for i in range(table.row_count)]


def symbols(app, table_id: str) -> list[str]:  # noqa: ANN001
    return [r[0] if table_id == "positions" else r[1] for r in rows(app, table_id)]


def status_line(app) -> str:  # noqa: ANN001
    return static_text(app, "#feed-status")


def orders_screen(app) -> OrdersScreen:  # noqa: ANN001
    screen = app.screen
    assert isinstance(screen, OrdersScreen)
    return screen


async def open_orders_place(pilot, *, wait_data: bool = True) -> OrdersScreen:  # noqa: ANN001
    await start(pilot)
    await pilot.press("4")
    await settle(pilot)
    screen = orders_screen(pilot.app)
    if wait_data:
        await wait_for(pilot, lambda: "Cash" in static_text(pilot.app, "#account"),
                       what="the account")
    return screen


# -- a paper account, live ---------------------------------------------------------------------


async def test_paper_account_positions_and_orders(broker: BrokerSetup) -> None:
    broker.fake.add_position("AAPL", 10, 180)
    broker.place_order("MSFT", "2", limit="300")  # rests: below the market
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        await open_orders_place(pilot)
        await wait_for(pilot, lambda: symbols(app, "open-orders") == ["MSFT"], what="MSFT")
        account = static_text(app, "#account")
        assert "Cash" in account and "Equity" in account and "Buying power" in account
        assert "Pattern day trader" not in account  # Alpaca no longer reports it
        [aapl] = rows(app, "positions")
        assert aapl[:4] == ["AAPL", "10", "180.00", "190.00"]
        assert aapl[5] == "+100.00"
        [msft] = rows(app, "open-orders")
        assert msft[1:6] == ["MSFT", "buy", "2", "limit", "300.00"]
        assert "PAPER" in static_text(app, "#orders-mode")
        await wait_for(pilot, lambda: "Live" in status_line(app), what="a live status")
        assert "updated" in status_line(app)
        assert_no_secrets(screen_text(app), broker.fake)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "polling"])
async def test_an_order_placed_elsewhere_shows_up_without_a_key_press(
    broker: BrokerSetup, stream: bool
) -> None:
    app = broker.app(stream_account_updates=stream, poll_interval_seconds=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await open_orders_place(pilot)
        state = "stream" if stream else "polling"
        await wait_for(pilot, lambda: f"Live ({state})" in status_line(app), what=state)
        assert rows(app, "positions") == []
        broker.place_order("AAPL", "3")  # a market order: fills at once
        broker.place_order("SPY", "1", limit="400")  # rests
        await wait_for(pilot, lambda: symbols(app, "positions") == ["AAPL"],
                       what="the new position")
        await wait_for(pilot, lambda: symbols(app, "open-orders") == ["SPY"],
                       what="the new open order")
        await wait_for(pilot, lambda: any(r[1] == "AAPL" for r in rows(app, "activity")),
                       what="the filled order under recent orders")
        [filled] = [r for r in rows(app, "activity") if r[1] == "AAPL"]
        assert filled[5] == "filled" and filled[6] == "3" and filled[7] == "190.00"


async def test_the_age_of_the_data_ticks(broker: BrokerSetup) -> None:
    app = broker.app(stream_account_updates=False, poll_interval_seconds=600.0)
    async with app.run_test(size=SIZE) as pilot:
        await open_orders_place(pilot)
        screen = orders_screen(app)
        await wait_for(pilot, lambda: screen._feed is not None  # noqa: SLF001
                       and screen._feed.updated_at is not None, what="a snapshot")  # noqa: SLF001
        taken = screen._feed.updated_at  # noqa: SLF001
        clock = [taken]
        orig = orders_module.now
        orders_module.now = lambda: clock[0]
        try:
            clock[0] = taken + timedelta(seconds=7.2)
            await wait_for(pilot, lambda: "updated 7 s ago" in status_line(app), timeout=3,
                           what="the age to tick")
            clock[0] = taken + timedelta(minutes=2, seconds=5)
            await wait_for(pilot, lambda: "updated 2 min 5 s ago" in status_line(app),
                           timeout=3, what="minutes")
            assert "-warn" in app.screen.query_one("#feed-status").classes  # stale
        finally:
            orders_module.now = orig


# -- acting on orders and positions ----------------------------------------------------------


async def test_cancel_an_open_limit_order(broker: BrokerSetup) -> None:
    order = broker.place_order("AAPL", "5", limit="150")
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        await open_orders_place(pilot)
        await wait_for(pilot, lambda: symbols(app, "open-orders") == ["AAPL"], what="the order")
        await pilot.press("tab")  # positions -> open orders
        assert app.focused is app.screen.query_one("#open-orders")
        await pilot.press("x")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, TradeConfirm)
        assert "Cancel the order buy 5 AAPL limit 150.00?" in screen_text(app)
        await pilot.press("n")  # keep it
        await settle(pilot)
        assert broker.fake.orders[0]["status"] in ("new", "accepted")
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await wait_for(pilot, lambda: symbols(app, "open-orders") == [], what="the cancel")
        [at_fake] = [o for o in broker.fake.orders if o["id"] == order.id]
        assert at_fake["status"] == "canceled"
        assert any("cancel" in n for n in notices(app))
        await wait_for(pilot, lambda: any(r[5] == "canceled" for r in rows(app, "activity")),
                       what="the canceled order under recent orders")


async def test_close_a_position(broker: BrokerSetup) -> None:
    broker.fake.add_position("AAPL", 10, 180)
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        await open_orders_place(pilot)
        await wait_for(pilot, lambda: symbols(app, "positions") == ["AAPL"], what="AAPL")
        assert app.focused is app.screen.query_one("#positions")
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, TradeConfirm)
        text = screen_text(app)
        assert "Close your AAPL position?" in text
        assert "market order for all 10 AAPL" in text
        await pilot.press("y")
        await settle(pilot)
        await wait_for(pilot, lambda: symbols(app, "positions") == [], what="the close")
        assert broker.fake.positions == []
        sells = [o for o in broker.fake.orders if o["side"] == "sell"]
        assert len(sells) == 1 and sells[0]["symbol"] == "AAPL"


async def test_new_order_key_opens_the_ticket_for_this_portfolio(broker: BrokerSetup) -> None:
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        await open_orders_place(pilot)
        await pilot.press("n")
        await settle(pilot)
        ticket = app.screen
        assert isinstance(ticket, OrderTicket)
        assert ticket.portfolio.id == broker.portfolio.id
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, OrdersScreen)


# -- the feed's health and faults -------------------------------------------------------------


async def test_status_line_shows_a_dropped_stream_and_the_recovery(broker: BrokerSetup) -> None:
    app = broker.app(poll_interval_seconds=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await open_orders_place(pilot)
        await wait_for(pilot, lambda: "Live (stream)" in status_line(app), what="streaming")
        seen: list[str] = []
        screen = orders_screen(app)
        original = screen._render_status  # noqa: SLF001

        def spy() -> None:
            original()
            seen.append(status_line(app))

        screen._render_status = spy  # type: ignore[method-assign]  # noqa: SLF001
        broker.fake.fail("/stream", "reset", times=2)  # the next reconnects fail too
        broker.fake.drop_streams()
        await wait_for(pilot, lambda: any("dropped" in s or "Reconnecting" in s for s in seen),
                       what="the drop on the status line")
        await wait_for(pilot, lambda: "Live (stream)" in status_line(app), timeout=30,
                       what="the stream back")
        assert app.is_running


async def test_account_errors_show_on_the_status_line_and_clear(broker: BrokerSetup) -> None:
    app = broker.app(stream_account_updates=False, poll_interval_seconds=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await open_orders_place(pilot)
        await wait_for(pilot, lambda: "Live (polling)" in status_line(app), what="polling")
        broker.fake.fail("/v2/account", 500, times=None)
        await wait_for(pilot, lambda: "Down" in status_line(app), what="down")
        line = status_line(app)
        assert "Alpaca" in line  # the broker's failure as a sentence
        assert "-down" in app.screen.query_one("#feed-status").classes
        # what was shown stays on screen, marked by the status line
        assert "Cash" in static_text(app, "#account")
        broker.fake.clear_faults()
        await wait_for(pilot, lambda: "Live (polling)" in status_line(app), timeout=20,
                       what="recovery")
        assert app.is_running


@pytest.mark.parametrize("fault", [403, 422, 429, 500, "hang", "malformed"])
async def test_a_failing_cancel_is_one_sentence_and_the_app_goes_on(
    broker: BrokerSetup, fault: int | str
) -> None:
    order = broker.place_order("AAPL", "5", limit="150")
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        await open_orders_place(pilot)
        await wait_for(pilot, lambda: symbols(app, "open-orders") == ["AAPL"], what="the order")
        broker.fake.fail(f"/v2/orders/{order.id}", fault, times=None, method="DELETE",
                         retry_after=0.05 if fault == 429 else None)
        await pilot.press("tab", "x")
        await settle(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: any(
            n for n in notices(app) if "Asked to cancel" not in n and "Using" not in n
        ), timeout=20, what="the error notification")
        [message] = [n for n in notices(app) if "Asked to cancel" not in n and "Using" not in n]
        assert "unexpected" not in message
        assert message.endswith(".")
        assert_no_secrets(message, broker.fake)
        assert app.is_running
        broker.fake.clear_faults()
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, OrdersScreen)


async def test_bad_keys_say_so_and_the_app_goes_on(
    broker: BrokerSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-the-secret")
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        await open_orders_place(pilot, wait_data=False)
        await wait_for(pilot, lambda: "Down" in status_line(app)
                       or "Not connected" in status_line(app), what="the refusal")
        assert "not-the-secret" not in screen_text(app)
        assert app.is_running


# -- leaving stops the watch -----------------------------------------------------------------


async def test_the_watch_stops_when_leaving_and_on_exit(broker: BrokerSetup) -> None:
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_orders_place(pilot)
        await wait_for(pilot, lambda: broker.fake.open_streams() == 1, what="the stream")
        await pilot.press("1")
        await settle(pilot)
        assert screen._watch is None  # noqa: SLF001
        for thread in screen.stopping:
            thread.join(timeout=15)
        broker.fake.wait_until(lambda: broker.fake.open_streams() == 0, what="stream closed")
        await pilot.press("4")
        await settle(pilot)
        await wait_for(pilot, lambda: broker.fake.open_streams() == 1, what="watching again")
        # another portfolio: the watch of this one stops
        app.use_portfolio(next(
            p.id for p in app.catalog.portfolios if p.mode is PortfolioMode.BACKTEST))
        await settle(pilot)
        for thread in screen.stopping:
            thread.join(timeout=15)
        broker.fake.wait_until(lambda: broker.fake.open_streams() == 0, what="stopped again")
        app.use_portfolio(broker.portfolio.id)
        await settle(pilot)
        await wait_for(pilot, lambda: broker.fake.open_streams() == 1, what="and again")
    for thread in screen.stopping:
        thread.join(timeout=15)
    broker.fake.wait_until(lambda: broker.fake.open_streams() == 0, what="stopped on exit")


# -- backtest portfolios and the empty state -------------------------------------------------


async def test_a_backtest_portfolio_shows_its_latest_run_read_only(sqlite_db_url: str) -> None:
    settings = Settings(database_url=sqlite_db_url)
    provider = ServiceProvider(settings)
    provider.prepare()
    demo = next(p for p in provider.workspace.list_portfolios() if p.name == "Demo backtest")
    report = provider.trading.run_backtest(BacktestRequest(
        symbol="DEMOA", strategy_id="sma_crossover", portfolio_id=demo.id))
    provider.close()
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert f"run #{report.run.id}" in status_line(app)
        assert "read-only" in status_line(app)
        assert "Equity" in static_text(app, "#account")
        assert len(rows(app, "activity")) == min(len(report.fills), 50)
        assert rows(app, "open-orders") == []
        screen = orders_screen(app)
        assert not screen.check_action("new_order", ())
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(app.screen, OrderTicket)
        await pilot.press("t")  # the fills instead of the orders
        assert app.screen.query_one("#activity", DataTable).border_title.startswith("Fills")


async def test_without_a_paper_portfolio_it_says_how_to_create_one(sqlite_db_url: str) -> None:
    app = make_app(Settings(database_url=sqlite_db_url))
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        await pilot.press("4")
        await settle(pilot)
        text = static_text(app, "#orders-empty")
        assert "no backtest runs yet" in text  # the Demo backtest portfolio
        assert "No paper or live portfolio yet" in text
        assert "kash connection add paper --broker alpaca --paper" in text
        assert "kash portfolio create Paper --workspace Demo --mode paper" in text
        assert app.focused is app.screen.query_one("#orders-portfolio")


# -- snapshots --------------------------------------------------------------------------------


def _fixed_times(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(orders_module, "when", lambda _moment: "10:31:07")
    monkeypatch.setattr(orders_module, "age_text", lambda _seconds: "updated 2 s ago")


def _seed_account(broker: BrokerSetup) -> None:
    broker.fake.add_position("AAPL", 10, 180)
    broker.fake.add_position("MSFT", 3, 400)
    broker.place_order("SPY", "2", limit="450")
    broker.place_order("AAPL", "5", side="sell", limit="250")
    broker.place_order("MSFT", "1")


async def _orders_with_data(pilot) -> None:  # noqa: ANN001
    await open_orders_place(pilot)
    app = pilot.app
    await wait_for(pilot, lambda: len(rows(app, "open-orders")) == 2
                   and len(rows(app, "positions")) == 2
                   and len(rows(app, "activity")) == 1
                   and "Live (polling)" in status_line(app), what="the data")
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_orders_with_data(
    snap_compare, broker: BrokerSetup, monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
    size: tuple[int, int], tmp_path: Path,
) -> None:
    _fixed_times(monkeypatch)
    _seed_account(broker)
    app = broker.app(stream_account_updates=False, poll_interval_seconds=600.0)
    assert snap_compare(app, terminal_size=size, run_before=_orders_with_data)
    svg = next(Path(__file__).parent.glob(
        f"__snapshots__/test_orders_screen/test_snapshot_orders_with_data*{size[0]}x{size[1]}*"))
    assert_no_secrets(svg.read_text(encoding="utf-8"), broker.fake)


def test_snapshot_orders_empty_state(snap_compare, sqlite_db_url: str) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        await start(pilot)
        await pilot.press("4")
        await settle(pilot)

    app = make_app(Settings(database_url=sqlite_db_url))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


# -- choosing the portfolio, the palette, the keys -------------------------------------------


async def test_choose_another_portfolio_with_the_keyboard(broker: BrokerSetup) -> None:
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_orders_place(pilot)
        await wait_for(pilot, lambda: broker.fake.open_streams() == 1, what="the stream")
        await pilot.press("p")
        await pilot.pause()
        await pilot.press("down", "enter")  # PAPER/LIVE first, then the Demo backtest
        await settle(pilot)
        current = app.current_portfolio
        assert current is not None and current.mode is PortfolioMode.BACKTEST
        assert "no backtest runs yet" in static_text(app, "#orders-empty")
        for thread in screen.stopping:
            thread.join(timeout=15)
        broker.fake.wait_until(lambda: broker.fake.open_streams() == 0, what="stopped")


async def test_new_order_from_the_palette(broker: BrokerSetup) -> None:
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        for ch in "New order":
            await pilot.press("space" if ch == " " else ch)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OrderTicket)
        assert app.screen.portfolio.id == broker.portfolio.id


async def test_f5_opens_options_once_started(broker: BrokerSetup) -> None:
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        await pilot.press("f5")
        await settle(pilot)
        assert app.current_mode == "options"


# -- reading whole at 80x24 --------------------------------------------------------------------


def footer_fits(app) -> bool:  # noqa: ANN001
    """Every footer key is whole on screen (none runs under "^p Commands" or off the edge)."""
    from textual.widgets import Footer
    from textual.widgets._footer import FooterKey

    footer = app.screen.query_one(Footer)
    keys = [k for k in footer.query(FooterKey) if k.display]
    commands = [k for k in keys if "Commands" in str(k.render())]
    edge = min((k.region.x for k in commands), default=footer.region.right)
    return all(k.region.right <= edge for k in keys if k not in commands)


async def test_a_backtest_run_reads_in_trader_precision(sqlite_db_url: str) -> None:
    """Quantities of a backtest were shown with 15 digits, prices with 16, cash as -0.00, and
    its filled orders as Filled 0."""
    settings = Settings(database_url=sqlite_db_url)
    provider = ServiceProvider(settings)
    provider.prepare()
    demo = next(p for p in provider.workspace.list_portfolios() if p.name == "Demo backtest")
    provider.trading.run_backtest(BacktestRequest(
        symbol="DEMOA", strategy_id="sma_crossover", portfolio_id=demo.id))
    provider.close()
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        await pilot.press("4")
        await settle(pilot)
        account = static_text(app, "#account")
        assert "-0.00" not in account and "Pattern day trader" not in account
        assert "Cash" in account and " · Equity" in account
        position = rows(app, "positions")[0]
        qty, entry, last = position[1], position[2], position[3]
        assert len(qty.split(".")[-1]) <= 6 if "." in qty else True
        for money_cell in (entry, last):
            assert len(money_cell.split(".")[-1]) == 2, position
        orders = rows(app, "activity")
        assert orders
        for row in orders:  # Time Symbol Side Qty Type Status Filled Avg price
            assert row[5] == "filled" and row[6] == row[3] != "0", row
            assert "." not in row[3] or len(row[3].split(".")[-1]) <= 6, row
            assert len(row[7].split(".")[-1]) == 2, row
        await pilot.press("t")
        await settle(pilot)
        for row in rows(app, "activity"):  # Time Symbol Side Qty Price Commission
            assert "." not in row[3] or len(row[3].split(".")[-1]) <= 6, row
            assert len(row[4].split(".")[-1]) == 2, row
        assert footer_fits(app)


async def test_the_account_line_separates_its_fields_and_drops_what_alpaca_dropped(
    broker: BrokerSetup, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fixed_times(monkeypatch)
    _seed_account(broker)
    app = broker.app(stream_account_updates=False, poll_interval_seconds=600.0)
    async with app.run_test(size=SIZE) as pilot:
        await _orders_with_data(pilot)
        account = static_text(app, "#account")
        assert "Cash\u00a099,580.00 · Equity\u00a0" in account
        assert " · Buying power\u00a0" in account
        assert "n/a" not in account and "Pattern day trader" not in account
        assert "Day trades" not in account
        app.screen.query_one("#positions").focus()
        await settle(pilot)
        from tests.tui.broker_app import screen_text as text_of
        assert footer_fits(app), text_of(app).splitlines()[-1]


async def test_the_portfolio_list_offers_only_portfolios(broker: BrokerSetup) -> None:
    """The prompt "Choose a portfolio" was a choice: picking it left the header on one
    portfolio and the body on none."""
    from textual.widgets import Select
    from textual.widgets._select import SelectOverlay

    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        await open_orders_place(pilot)
        before = app.selection
        await pilot.press("p")
        await settle(pilot)
        select = app.screen.query_one("#orders-portfolio", Select)
        assert select.expanded
        overlay = select.query_one(SelectOverlay)
        prompts = [str(overlay.get_option_at_index(i).prompt)
                   for i in range(overlay.option_count)]
        assert "Choose a portfolio" not in prompts and all("›" in p for p in prompts)
        await pilot.press("home", "enter")  # the first entry is a portfolio, not a blank
        await settle(pilot)
        assert select.value is not Select.NULL
        assert app.selection.portfolio_id == select.value
        assert app.current_portfolio is not None
        header = " ".join(str(s.render()) for s in app.screen.query("#kash-header Static"))
        assert app.current_portfolio.name in header
        assert before.portfolio_id is not None
