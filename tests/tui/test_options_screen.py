"""The Options place against the fake Alpaca, through the market service: expirations with a
date filter, the chain around the money, charting a contract and the ticket filled in with it,
problems as one sentence, and a snapshot at 80x24 (without the keys).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Select

from kash_tui.config import Settings
from kash_tui.tui.app import KashApp, make_app
from kash_tui.tui.screens import options as options_module
from kash_tui.tui.screens.options import OptionsScreen
from kash_tui.tui.state import workbench
from kash_tui.tui.modals import OrderTicket
from kash_tui.tui.widgets import ChainTable
from tests.fakes.alpaca import occ_symbol
from tests.tui.broker_app import (  # noqa: F401 - broker is a fixture
    SIZE,
    BrokerSetup,
    assert_no_secrets,
    broker,
    screen_text,
    settle,
    start,
    static_text,
    type_text,
    wait_for,
)

TODAY = date(2026, 3, 2)
EXPIRATIONS = [date(2026, 3, 6), date(2026, 3, 13), date(2026, 3, 20), date(2026, 4, 17)]
STRIKES = [Decimal(170) + Decimal("2.5") * i for i in range(17)]  # 170 .. 210


@pytest.fixture
def chain(broker: BrokerSetup, monkeypatch: pytest.MonkeyPatch) -> BrokerSetup:
    """AAPL at 190 with four expirations of 17 strikes, on a fixed day."""
    broker.fake.set_clock(now=datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    broker.fake.generate_option_chain("AAPL", EXPIRATIONS, STRIKES)
    monkeypatch.setattr(options_module, "today", lambda: TODAY)
    return broker


def status(app: KashApp) -> str:
    return static_text(app, "#options-status")


def table(app: KashApp) -> ChainTable:
    return app.screen.query_one("#chain", ChainTable)


def strikes(app: KashApp) -> list[str]:
    t = table(app)
    return [str(t.get_row_at(i)[6]).strip() for i in range(t.row_count)]


def expirations(app: KashApp) -> list[date]:
    select = app.screen.query_one("#expiration", Select)
    return [value for _label, value in select._options if value is not Select.NULL]  # noqa: SLF001


async def browse(pilot, underlying: str = "AAPL") -> OptionsScreen:  # noqa: ANN001
    await start(pilot)
    await pilot.press("5")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, OptionsScreen)
    assert pilot.app.focused is screen.query_one("#underlying")
    await type_text(pilot, underlying)
    await pilot.press("enter")
    await settle(pilot)
    return screen


async def test_expirations_and_the_chain_around_the_money(chain: BrokerSetup) -> None:
    app = chain.app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await browse(pilot)
        assert expirations(app) == EXPIRATIONS
        assert screen.query_one("#expiration", Select).value == EXPIRATIONS[0]
        assert strikes(app) == [format(s.normalize(), "f") for s in STRIKES]
        t = table(app)
        assert app.focused is t
        atm = strikes(app).index("190")
        assert t.atm == atm and t.cursor_coordinate.row == atm
        # the call at the money, as the fake priced it
        row = [str(c).strip() for c in t.get_row_at(atm)]
        quote = t.chain.rows[atm].call
        assert row[0] == f"{quote.bid:.2f}" and row[1] == f"{quote.ask:.2f}"
        assert row[3] == "30%" and row[5] == "250"
        assert quote.symbol == occ_symbol("AAPL", EXPIRATIONS[0], "call", 190)
        info = static_text(app, "#options-info")
        assert "AAPL 190.00" in info and "17 strikes" in info and "4 expirations" in info
        assert f"{quote.symbol}" in status(app) and "190 call" in status(app)
        await pilot.press("right", "right", "right", "right", "right", "right")
        assert "190 put" in status(app)
        assert chain.fake.orders == []  # browsing orders nothing
        chains_read = [r for r in chain.fake.requests
                       if r.path.startswith("/v1beta1/options/snapshots")]
        assert len(chains_read) == 1  # the chain is read once, not again for the list
        assert_no_secrets(screen_text(app), chain.fake)


async def test_step_through_expirations_and_narrow_the_width(chain: BrokerSetup) -> None:
    app = chain.app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await browse(pilot)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.query_one("#expiration", Select).value == EXPIRATIONS[1]
        assert table(app).chain.expiration == EXPIRATIONS[1]
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert table(app).chain.expiration == EXPIRATIONS[0]
        width = screen.query_one("#width", Input)
        width.focus()
        width.value = "3"
        await pilot.press("enter")
        await settle(pilot)
        assert strikes(app) == ["182.5", "185", "187.5", "190", "192.5", "195", "197.5"]


async def test_the_date_filter_limits_the_expirations(chain: BrokerSetup) -> None:
    app = chain.app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await browse(pilot)
        to = screen.query_one("#exp-to", Input)
        to.focus()
        await type_text(pilot, "2026-03-1")  # not a date yet: said at once
        assert "not a date" in status(app)
        await type_text(pilot, "5")
        await pilot.press("enter")
        await settle(pilot)
        assert expirations(app) == EXPIRATIONS[:2]
        start_field = screen.query_one("#exp-from", Input)
        start_field.value = "2026-03-10"
        start_field.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert expirations(app) == [EXPIRATIONS[1]]
        start_field.value = "2026-03-20"
        await pilot.pause()
        assert "To comes before From" in status(app)


async def test_chart_the_highlighted_contract(chain: BrokerSetup) -> None:
    app = chain.app()
    async with app.run_test(size=SIZE) as pilot:
        await browse(pilot)
        contract = table(app).picked().quote.symbol
        # the contract traded for the last 20 sessions
        chain.fake.generate_bars(contract, "1Day", count=20, seed=3,
                                 end=datetime(2026, 3, 2, tzinfo=UTC), end_price="2.40")
        await pilot.press("c")
        await settle(pilot)
        assert app.current_mode == "chart"
        assert workbench(app).state.market.symbol == contract
        from kash_tui.tui.widgets.candles import CandleChart

        def drawn() -> bool:
            data = app.screen.query_one("#chart", CandleChart).data
            return data is not None and len(data) == 20

        await wait_for(pilot, drawn, what="the contract's 20 daily bars on the chart")


async def test_order_the_highlighted_put_from_a_prefilled_ticket(chain: BrokerSetup) -> None:
    app = chain.app()
    async with app.run_test(size=SIZE) as pilot:
        await browse(pilot)
        for _ in range(7):
            await pilot.press("right")
        picked = table(app).picked()
        assert picked is not None and picked.side == "put"
        await pilot.press("n")
        await settle(pilot)
        ticket = app.screen
        assert isinstance(ticket, OrderTicket)
        assert ticket.portfolio.id == chain.portfolio.id
        assert ticket.query_one("#symbol", Input).value == picked.quote.symbol
        assert ticket.query_one("#qty", Input).value == "1"
        assert ticket.query_one("#type", Select).value == "limit"
        assert ticket.query_one("#limit", Input).value == str(picked.quote.ask)
        assert ticket.query_one("#tif", Select).value == "day"
        assert ticket.query_one("#tif", Select).disabled
        assert "190 put: whole contracts" in static_text(app, "#ticket-note")
        await pilot.press("enter")  # preview
        await settle(pilot)
        assert not ticket.query_one("#send", Button).disabled, static_text(app, "#ticket-preview")
        await pilot.press("enter")  # send
        await settle(pilot)
        [order] = [o for o in chain.fake.orders
                   if o["client_order_id"] == ticket.client_order_id]
        assert order["symbol"] == picked.quote.symbol and order["qty"] == "1"


async def test_problems_are_one_sentence_and_nothing_breaks(chain: BrokerSetup) -> None:
    app = chain.app()
    async with app.run_test(size=SIZE) as pilot:
        await browse(pilot, "NOPE")
        assert "NOPE" in status(app)
        assert "-problem" in app.screen.query_one("#options-status").classes
        underlying = app.screen.query_one("#underlying", Input)
        underlying.value = "AAPL"
        underlying.focus()
        chain.fake.fail("/v2/options/contracts", 500, times=None)
        await pilot.press("enter")
        await settle(pilot)
        assert "server error" in status(app)
        assert app.is_running
        chain.fake.clear_faults()
        await pilot.press("enter")
        await settle(pilot)
        assert expirations(app) == EXPIRATIONS
        chain.fake.fail("/v1beta1/options/snapshots", "hang", times=None)
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: "in time" in status(app), timeout=20, what="timeout")
        assert app.is_running


async def test_without_a_connection_it_says_what_to_do(sqlite_db_url: str) -> None:
    app = make_app(Settings(database_url=sqlite_db_url))
    async with app.run_test(size=SIZE) as pilot:
        await browse(pilot)
        text = status(app)
        assert "connection" in text.lower()
        assert "unexpected" not in text


async def test_slash_goes_to_the_field_and_an_empty_enter_says_so(chain: BrokerSetup) -> None:
    """The footer offers "/ Underlying": in the field, / used to type a slash ('/AAPL' is no
    symbol); Enter on the empty field (its placeholder looked like AAPL) showed nothing new."""
    app = chain.app()
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        await pilot.press("5")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OptionsScreen)
        field = screen.query_one("#underlying")
        assert app.focused is field
        before = status(app)
        await pilot.press("enter")
        await settle(pilot)
        assert status(app) != before and "empty" in status(app)
        await pilot.press("slash")
        await type_text(pilot, "AAPL")
        assert field.value == "AAPL"
        await pilot.press("enter")
        await settle(pilot)
        assert expirations(app) == EXPIRATIONS
        assert app.focused is table(app)
        await pilot.press("slash")  # from the chain: back to the field, all selected
        await pilot.pause()
        assert app.focused is field
        await type_text(pilot, "MSFT")
        assert field.value == "MSFT"


# -- snapshot --------------------------------------------------------------------------------


async def _chain_shown(pilot) -> None:  # noqa: ANN001
    await browse(pilot)
    await settle(pilot)


def test_snapshot_options_80x24(snap_compare, chain: BrokerSetup) -> None:  # noqa: ANN001
    app = chain.app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=_chain_shown)
    svg = (Path(__file__).parent / "__snapshots__" / "test_options_screen"
           / "test_snapshot_options_80x24.svg")
    assert_no_secrets(svg.read_text(encoding="utf-8"), chain.fake)


async def test_option_chain_of_the_charted_stock_from_the_palette(chain: BrokerSetup) -> None:
    app = chain.app()
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        workbench(app).show_market("AAPL", "1Day")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "Option chain")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OptionsScreen)
        assert app.screen.query_one("#underlying", Input).value == "AAPL"
        assert expirations(app) == EXPIRATIONS
        assert table(app).chain is not None and table(app).chain.underlying == "AAPL"
