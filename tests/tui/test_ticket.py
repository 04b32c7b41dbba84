"""The order ticket against the fake Alpaca: preview, confirmation, one order per ticket
whatever happens (double sends, timeouts), the broker's rejections in the ticket, rule problems
before sending, fields by order type, and a LIVE order that needs the symbol typed.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from textual.widgets import Button, Checkbox, Input, Select

from kash_tui.tui.app import KashApp
from kash_tui.tui.screens.orders import OrdersScreen
from kash_tui.tui.format import describe_contract, dollars, is_option_symbol, price, quantity
from kash_tui.tui.modals import OrderTicket, TicketDefaults, TradeConfirm
from kash_tui.tui.modals.order_ticket import parse_positive
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
    type_text,
    wait_for,
)


async def open_ticket(pilot) -> OrderTicket:  # noqa: ANN001
    await start(pilot)
    await pilot.press("4")
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    ticket = pilot.app.screen
    assert isinstance(ticket, OrderTicket)
    return ticket


def preview_text(app: KashApp) -> str:
    return static_text(app, "#ticket-preview")


def refusal(app: KashApp) -> str:
    return static_text(app, "#ticket-refusal")


def send_enabled(ticket: OrderTicket) -> bool:
    return not ticket.query_one("#send", Button).disabled


def kash_orders(fake, client_order_id: str) -> list[dict]:  # noqa: ANN001
    return [o for o in fake.orders if o["client_order_id"] == client_order_id]


async def fill_in(pilot, symbol: str, qty: str) -> None:  # noqa: ANN001
    await type_text(pilot, symbol)
    ticket: OrderTicket = pilot.app.screen
    ticket.query_one("#qty", Input).focus()
    await type_text(pilot, qty)
    await pilot.pause()


# -- the happy path --------------------------------------------------------------------------


async def test_paper_order_preview_then_send_reaches_the_broker_once(broker: BrokerSetup) -> None:
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        ticket = await open_ticket(pilot)
        assert not send_enabled(ticket)
        await fill_in(pilot, "msft", "5")
        await pilot.press("enter")  # preview
        await settle(pilot)
        text = preview_text(app)
        assert "buy 5 MSFT" in text
        assert "Estimated cost $2,100.00 of $200,000.00 buying power" in text
        assert "Ready" in text
        assert send_enabled(ticket)
        assert app.focused is ticket.query_one("#send")
        assert broker.fake.orders == []  # a preview sends nothing
        client_id = ticket.client_order_id
        await pilot.press("enter")  # send
        await settle(pilot)
        assert isinstance(app.screen, OrdersScreen)
        [order] = kash_orders(broker.fake, client_id)
        assert (order["symbol"], order["qty"], order["side"]) == ("MSFT", "5", "buy")
        assert len(broker.fake.orders) == 1
        assert any("Order sent to Alpaca paper" in n for n in notices(app))
        await wait_for(pilot, lambda: "MSFT" in screen_text(app), what="the position")


async def test_send_pressed_twice_makes_one_order(broker: BrokerSetup) -> None:
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        ticket = await open_ticket(pilot)
        await fill_in(pilot, "AAPL", "1")
        await pilot.press("enter")
        await settle(pilot)
        ticket.action_send()
        ticket.action_send()  # the second is ignored while the first is on its way
        await settle(pilot)
        assert len(kash_orders(broker.fake, ticket.client_order_id)) == 1
        assert len(broker.fake.orders) == 1


async def test_editing_after_the_preview_asks_for_a_new_one(broker: BrokerSetup) -> None:
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        ticket = await open_ticket(pilot)
        await fill_in(pilot, "AAPL", "1")
        await pilot.press("enter")
        await settle(pilot)
        assert send_enabled(ticket)
        ticket.query_one("#qty", Input).focus()
        await pilot.press("end")  # focusing selects the text
        await type_text(pilot, "0")  # 10 now
        assert not send_enabled(ticket)
        assert "changed since the preview" in preview_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert "buy 10 AAPL" in preview_text(app)
        assert send_enabled(ticket)


# -- one order per ticket, whatever happens --------------------------------------------------


async def test_a_timeout_then_send_again_places_the_order_once(broker: BrokerSetup) -> None:
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        ticket = await open_ticket(pilot)
        await fill_in(pilot, "AAPL", "2")
        await pilot.press("enter")
        await settle(pilot)
        broker.fake.fail("/v2/orders", "hang", times=1, method="POST")  # never arrives
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is ticket  # stays open
        assert "did not answer in time" in refusal(app)  # and what Kash knows of the order
        assert str(ticket.query_one("#send", Button).label) == "Send again (same order)"
        assert kash_orders(broker.fake, ticket.client_order_id) == []
        ticket.query_one("#send").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is not ticket
        assert len(kash_orders(broker.fake, ticket.client_order_id)) == 1


async def test_an_answer_lost_after_the_broker_acted_is_still_one_order(
    broker: BrokerSetup,
) -> None:
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        ticket = await open_ticket(pilot)
        await fill_in(pilot, "AAPL", "2")
        await pilot.press("enter")
        await settle(pilot)
        broker.fake.fail("/v2/orders", "hang_after", times=1, method="POST")  # placed, no answer
        await pilot.press("enter")
        await settle(pilot)
        if app.screen is ticket:  # the answer was lost: the same ticket is sent again
            ticket.query_one("#send").focus()
            await pilot.press("enter")
            await settle(pilot)
        assert app.screen is not ticket
        assert len(kash_orders(broker.fake, ticket.client_order_id)) == 1
        assert len(broker.fake.orders) == 1


@pytest.mark.parametrize(
    "fault, words",
    [
        (403, "refused"),
        (422, "rejected"),
        (429, "rate limit"),
        (500, "server error"),
        ("hang", "did not answer"),
    ],
)
async def test_a_broker_failure_shows_in_the_ticket_which_stays_open(
    broker: BrokerSetup, fault: int | str, words: str
) -> None:
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        ticket = await open_ticket(pilot)
        await fill_in(pilot, "AAPL", "1")
        await pilot.press("enter")
        await settle(pilot)
        broker.fake.fail("/v2/orders", fault, times=None, method="POST",
                         retry_after=0.05 if fault == 429 else None)
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(refusal(app)), timeout=30, what="the refusal")
        sentence = refusal(app)
        assert words in sentence
        assert "unexpected" not in sentence
        assert_no_secrets(screen_text(app), broker.fake)
        assert app.screen is ticket and app.is_running
        assert send_enabled(ticket)  # it can be tried again, as the same order
        assert kash_orders(broker.fake, ticket.client_order_id) == []


async def test_an_unreadable_answer_is_checked_with_the_broker(broker: BrokerSetup) -> None:
    """The broker placed the order but its answer is cut: Kash asks by the ticket's id and
    finds it, so the ticket closes with the one order."""
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        ticket = await open_ticket(pilot)
        await fill_in(pilot, "AAPL", "1")
        await pilot.press("enter")
        await settle(pilot)
        broker.fake.fail("/v2/orders", "malformed", times=1, method="POST")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is not ticket and app.is_running
        assert len(kash_orders(broker.fake, ticket.client_order_id)) == 1


async def test_the_brokers_own_rejection_is_shown(broker: BrokerSetup) -> None:
    broker.fake.set_account(multiplier=1)
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        ticket = await open_ticket(pilot)
        await fill_in(pilot, "AAPL", "1")
        await pilot.press("enter")
        await settle(pilot)
        broker.fake.fail("/v2/orders", 403, method="POST",
                         message="insufficient buying power")
        await pilot.press("enter")
        await settle(pilot)
        assert "insufficient buying power" in refusal(app)
        assert app.screen is ticket


async def test_a_refused_order_can_be_changed_and_sent_as_a_new_order(broker: BrokerSetup) -> None:
    """403 insufficient buying power, then a smaller quantity: sent under a new client order id
    (the refused one stays bound to the refused order), and the ticket says it was not placed."""
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        ticket = await open_ticket(pilot)
        await fill_in(pilot, "AAPL", "10")
        await pilot.press("enter")
        await settle(pilot)
        refused_id = ticket.client_order_id
        broker.fake.fail("/v2/orders", 403, times=1, method="POST",
                         message="insufficient buying power")
        await pilot.press("enter")
        await settle(pilot)
        assert "insufficient buying power" in refusal(app)
        state = static_text(app, "#ticket-state")
        assert "Not placed: Alpaca refused it" in state and "new order" in state
        assert ticket.client_order_id != refused_id
        assert app.focused is ticket.query_one("#qty")  # the message offers a change
        await type_text(pilot, "5")  # focusing selected the old quantity
        await pilot.press("enter")  # preview
        await settle(pilot)
        assert "buy 5 AAPL" in preview_text(app)
        assert app.focused is ticket.query_one("#send")
        await pilot.press("enter")  # send
        await settle(pilot)
        assert app.screen is not ticket, refusal(app)
        [order] = broker.fake.orders
        assert (order["qty"], order["client_order_id"]) == ("5", ticket.client_order_id)
        assert kash_orders(broker.fake, refused_id) == []


async def test_an_unknown_outcome_locks_the_order_and_enter_sends_it_again(
    broker: BrokerSetup,
) -> None:
    """A timeout: the ticket says the order may be at Alpaca, locks the fields, puts the focus
    on "Send again" (not on Close), and warns before closing."""
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        ticket = await open_ticket(pilot)
        await fill_in(pilot, "AAPL", "2")
        await pilot.press("enter")
        await settle(pilot)
        client_id = ticket.client_order_id
        broker.fake.fail("/v2/orders", "hang", times=1, method="POST")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is ticket
        state = static_text(app, "#ticket-state")
        assert "Outcome unknown" in state and client_id in state
        assert ticket.query_one("#qty", Input).is_disabled  # only the same order may go again
        assert app.focused is ticket.query_one("#send")
        assert str(ticket.query_one("#send", Button).label) == "Send again (same order)"
        await pilot.press("escape")  # closing asks first
        await settle(pilot)
        assert isinstance(app.screen, TradeConfirm)
        assert "may be at Alpaca" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is ticket
        assert app.focused is ticket.query_one("#send")
        await pilot.press("enter")  # "send again": asks Alpaca, which has nothing, so sends
        await settle(pilot)
        assert app.screen is not ticket, refusal(app)
        [order] = broker.fake.orders
        assert (order["qty"], order["client_order_id"]) == ("2", client_id)


async def test_closing_a_ticket_whose_outcome_is_unknown_names_the_order(
    broker: BrokerSetup,
) -> None:
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        ticket = await open_ticket(pilot)
        await fill_in(pilot, "AAPL", "2")
        await pilot.press("enter")
        await settle(pilot)
        broker.fake.fail("/v2/orders", "hang_after", times=1, method="POST")
        broker.fake.fail("/v2/orders:by_client_order_id", 500, times=None)
        await pilot.press("enter")
        await settle(pilot)
        assert ticket.state == "unknown"
        ticket.query_one("#close", Button).press()
        await settle(pilot)
        assert isinstance(app.screen, TradeConfirm)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, OrdersScreen)
        assert any(ticket.client_order_id in n for n in notices(app))


async def test_a_broker_that_cannot_be_reached_is_said_at_once_and_the_screen_stays_usable(
    sqlite_db_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A paper connection on a closed port: the Orders place says so instead of "Reading the
    account…", and the ticket still opens, says the same, and closes."""
    import socket

    from kash_tui.config import Settings
    from kash_tui.domains.connection import NewConnection
    from kash_tui.domains.workspace import PortfolioMode
    from kash_tui.provider import ServiceProvider
    from kash_tui.tui.app import make_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("APCA_API_KEY_ID", "made-up-key-id-for-test")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "made-up-secret-for-test")
    kash = ServiceProvider(Settings(database_url=sqlite_db_url))
    kash.prepare()
    kash.connection.add(NewConnection("local", trading_url=nowhere, data_url=nowhere))
    folio = kash.workspace.create_portfolio("Demo", "P", PortfolioMode.PAPER, connection="local")
    kash.close()
    app = make_app(Settings(database_url=sqlite_db_url, http_timeout_seconds=2.0))
    app._test_select = folio.id  # noqa: SLF001 - read by start()
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        await pilot.press("4")
        await wait_for(pilot, lambda: "cannot be reached" in static_text(app, "#account"),
                       timeout=5, what="the account area to say the broker cannot be reached")
        assert "Reading the PAPER account" not in screen_text(app)
        assert "Down" in static_text(app, "#feed-status")
        await pilot.press("n")
        await settle(pilot)
        ticket = app.screen
        assert isinstance(ticket, OrderTicket)
        await fill_in(pilot, "AAPL", "1")
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(refusal(app)), timeout=10, what="the refusal")
        assert "cannot be reached" in refusal(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, OrdersScreen)
        await wait_for(pilot, lambda: "cannot be reached" in static_text(app, "#account"),
                       timeout=5, what="the message to stay")


# -- rules and fields ------------------------------------------------------------------------


async def test_notional_on_a_non_fractionable_asset_is_a_problem_and_blocks_send(
    broker: BrokerSetup,
) -> None:
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        ticket = await open_ticket(pilot)
        await type_text(pilot, "BRK.A")
        ticket.query_one("#amount-by", Select).value = "notional"
        await pilot.pause()
        assert not ticket.query_one("#qty").display and ticket.query_one("#notional").display
        ticket.query_one("#notional", Input).focus()
        await type_text(pilot, "500")
        await pilot.press("enter")
        await settle(pilot)
        text = preview_text(app)
        assert "✕" in text and "fractionable" in text
        assert "Fix the problems above" in text
        assert not send_enabled(ticket)
        ticket.action_send()
        await settle(pilot)
        assert broker.fake.orders == []


async def test_buying_more_than_the_buying_power_is_a_problem(broker: BrokerSetup) -> None:
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        ticket = await open_ticket(pilot)
        await fill_in(pilot, "AAPL", "5000")
        await pilot.press("enter")
        await settle(pilot)
        assert "buying power" in preview_text(app).split("\n", 2)[2]
        assert not send_enabled(ticket)


async def test_fields_follow_the_order_type(broker: BrokerSetup) -> None:
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        ticket = await open_ticket(pilot)

        def shown() -> set[str]:
            return {i for i in ("limit-pair", "stop-pair", "trail-pair", "extended",
                                "prices-row") if ticket.query_one(f"#{i}").display}

        kind = ticket.query_one("#type", Select)
        assert shown() == set()  # market
        for value, expected in [
            ("limit", {"limit-pair", "extended", "prices-row"}),
            ("stop", {"stop-pair", "prices-row"}),
            ("stop_limit", {"limit-pair", "stop-pair", "prices-row"}),
            ("trailing_stop", {"trail-pair", "prices-row"}),
            ("market", set()),
        ]:
            kind.value = value
            await pilot.pause()
            assert shown() == expected, value
        await type_text(pilot, "AAPL")
        ticket.query_one("#qty", Input).focus()
        await type_text(pilot, "3")
        kind.value = "stop_limit"
        await pilot.pause()
        ticket.action_preview()
        await pilot.pause()
        assert "Give the limit price" in static_text(app, "#ticket-check")
        assert "Give the stop price" in static_text(app, "#ticket-check")
        ticket.query_one("#limit", Input).value = "185"
        ticket.query_one("#stop", Input).value = "186"
        await pilot.pause()
        request = ticket.build_request()
        assert request is not None
        assert (request.limit_price, request.stop_price) == (Decimal(185), Decimal(186))
        assert request.client_order_id == ticket.client_order_id
        kind.value = "limit"
        ticket.query_one("#extended", Checkbox).value = True
        await pilot.pause()
        request = ticket.build_request()
        assert request is not None and request.extended_hours and request.stop_price is None
        kind.value = "trailing_stop"
        ticket.query_one("#trail", Input).value = "2"
        await pilot.pause()
        request = ticket.build_request()
        assert request is not None and request.trail_percent == Decimal(2)
        assert request.limit_price is None and not request.extended_hours


async def test_a_trailing_stop_sell_reaches_the_broker(broker: BrokerSetup) -> None:
    broker.fake.add_position("AAPL", 10, 180)
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        ticket = await open_ticket(pilot)
        await type_text(pilot, "AAPL")
        ticket.query_one("#side", Select).value = "sell"
        ticket.query_one("#type", Select).value = "trailing_stop"
        ticket.query_one("#tif", Select).value = "gtc"
        await pilot.pause()
        ticket.query_one("#qty", Input).value = "4"
        ticket.query_one("#trail", Input).value = "3"
        ticket.query_one("#trail", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert "You hold 10 AAPL" in preview_text(app)
        await pilot.press("enter")
        await settle(pilot)
        [order] = kash_orders(broker.fake, ticket.client_order_id)
        assert (order["type"], order["side"], order["trail_percent"], order["time_in_force"]) \
            == ("trailing_stop", "sell", "3", "gtc")


async def test_an_option_contract_trades_whole_contracts_for_the_day(broker: BrokerSetup) -> None:
    app = broker.app()
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        app.push_screen(OrderTicket(broker.portfolio, TicketDefaults(
            symbol="AAPL261218C00190000", qty="1", order_type="limit", limit_price="2.10")))
        await settle(pilot)
        ticket = app.screen
        assert isinstance(ticket, OrderTicket)
        assert ticket.query_one("#amount-by", Select).disabled
        assert ticket.query_one("#tif", Select).disabled
        assert not ticket.query_one("#extended").display
        assert "AAPL 2026-12-18 190 call: whole contracts" in static_text(app, "#ticket-note")
        ticket.query_one("#qty", Input).value = "1.5"
        await pilot.pause()
        ticket.action_preview()
        await pilot.pause()
        assert "whole contracts" in static_text(app, "#ticket-check")


# -- LIVE ------------------------------------------------------------------------------------


async def test_a_live_order_needs_the_symbol_typed(broker: BrokerSetup) -> None:
    live = broker.live_portfolio()
    app = broker.app(select=False)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        app.use_portfolio(live.id)
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert "LIVE" in static_text(app, "#orders-mode")
        await pilot.press("n")
        await settle(pilot)
        ticket = app.screen
        assert isinstance(ticket, OrderTicket) and ticket.live
        assert "LIVE ACCOUNT · REAL MONEY" in screen_text(app)
        await fill_in(pilot, "AAPL", "1")
        await pilot.press("enter")
        await settle(pilot)
        assert "LIVE order with real money" in preview_text(app)
        assert app.focused is ticket.query_one("#confirm-symbol")
        assert not send_enabled(ticket)
        await pilot.press("enter")  # nothing typed: not sent
        await settle(pilot)
        assert "Type AAPL exactly" in refusal(app)
        await type_text(pilot, "MSFT")
        assert not send_enabled(ticket)
        confirm = ticket.query_one("#confirm-symbol", Input)
        confirm.value = ""
        await type_text(pilot, "aapl")
        assert send_enabled(ticket)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is not ticket
        assert len(kash_orders(broker.fake, ticket.client_order_id)) == 1


async def test_closing_a_live_position_needs_the_symbol_typed(broker: BrokerSetup) -> None:
    live = broker.live_portfolio()
    broker.fake.add_position("AAPL", 2, 180)
    app = broker.app(select=False)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        app.use_portfolio(live.id)
        await pilot.press("4")
        await settle(pilot)
        await wait_for(pilot, lambda: "AAPL" in screen_text(app), what="the position")
        await pilot.press("c")
        await settle(pilot)
        assert "LIVE ACCOUNT · REAL MONEY" in screen_text(app)
        await pilot.press("y")  # typed into the field, not an answer
        await settle(pilot)
        assert broker.fake.orders == []
        field = app.screen.query_one("#confirm-typed", Input)
        field.value = ""
        await type_text(pilot, "AAPL")
        await pilot.press("enter")
        await settle(pilot)
        await wait_for(pilot, lambda: broker.fake.positions == [], what="closed")


# -- formats ---------------------------------------------------------------------------------


def test_formats() -> None:
    assert dollars(Decimal("1234.5")) == "$1,234.50"
    assert dollars(Decimal("-3")) == "-$3.00"
    assert quantity(Decimal("10.000")) == "10"
    assert quantity(Decimal("0.50")) == "0.5"
    assert price(Decimal("189.5")) == "189.50"
    assert price(Decimal("0.0125")) == "0.0125"
    assert parse_positive("1,000") == Decimal(1000)
    assert parse_positive("-1") is None and parse_positive("nan") is None
    assert parse_positive("x") is None
    assert is_option_symbol("AAPL261218C00190000") and not is_option_symbol("AAPL")
    assert describe_contract("SPY260116P00512500") == "SPY 2026-01-16 512.5 put"
