"""The Workspaces place's connection form sets the connection's stock data feed."""

from __future__ import annotations

from textual.widgets import Select

from kash_tui.config import Settings
from kash_tui.domains.connection import MarketFeed
from kash_tui.tui.app import make_app
from kash_tui.tui.modals import ConnectionForm
from tests.tui.broker_app import SIZE, settle, type_text


async def test_a_connection_added_in_the_form_can_use_the_sip_feed(sqlite_db_url: str) -> None:
    app = make_app(Settings(database_url=sqlite_db_url))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab", "tab", "n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ConnectionForm)
        feed = form.query_one("#feed", Select)
        assert feed.value is MarketFeed.IEX  # the default every account has
        await type_text(pilot, "alpaca-sip")
        feed.value = MarketFeed.SIP
        await pilot.pause()
        form.query_one("#name").focus()
        await pilot.press("enter")
        await settle(pilot)
        [added] = app.services.connection.list_connections()
        assert (added.name, added.feed) == ("alpaca-sip", MarketFeed.SIP)
