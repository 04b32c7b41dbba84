"""Kash's TUI wired to the fake Alpaca through the real services, for the trading places' tests.

    setup = broker_setup_for(sqlite_db_url, fake_alpaca, monkeypatch)   # paper connection
    app = setup.app(poll_interval_seconds=1.0)                           # its own provider
    async with app.run_test(size=SIZE) as pilot: ...

``setup.kash`` is a second ServiceProvider on the same SQLite file: what a test does through it
happens "behind the app's back" (another client of the same account).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from kash_tui.config import Settings
from kash_tui.domains.connection import Environment, NewConnection
from kash_tui.domains.trading import OrderRequest, OrderSide, OrderType, TimeInForce
from kash_tui.domains.workspace import Portfolio, PortfolioMode
from kash_tui.provider import ServiceProvider
from kash_tui.tui.app import KashApp, make_app
from tests.broker_setup import paper_kash

SIZE = (80, 24)


@dataclass
class BrokerSetup:
    db_url: str
    fake: Any
    kash: ServiceProvider
    portfolio: Portfolio

    def settings(self, **values: Any) -> Settings:
        values.setdefault("http_timeout_seconds", 2.0)
        return Settings(database_url=self.db_url, **values)

    def app(self, *, select: bool = True, **values: Any) -> KashApp:
        """The app on the same database; with ``select`` its portfolio is made current."""
        app = make_app(self.settings(**values))
        if select:
            app._test_select = self.portfolio.id  # noqa: SLF001 - read by start()
        return app

    def place_order(self, symbol: str = "AAPL", qty: str = "1", *, side: str = "buy",
                    limit: str | None = None) -> Any:
        """An order sent through another client of the same account."""
        adapter = self.kash.trading.resolve_trading_adapter(self.portfolio.id)
        request = OrderRequest(
            symbol=symbol, side=OrderSide(side), qty=Decimal(qty),
            order_type=OrderType.LIMIT if limit else OrderType.MARKET,
            limit_price=Decimal(limit) if limit else None, time_in_force=TimeInForce.DAY,
        )
        return adapter.submit_order(request)

    def live_portfolio(self) -> Portfolio:
        """A LIVE connection (enabled) and a LIVE portfolio, both on the fake."""
        self.kash.connection.add(NewConnection(
            name="live", environment=Environment.LIVE, trading_url=self.fake.base_url,
            data_url=self.fake.base_url,
        ))
        self.kash.connection.enable_live("live", "live")
        return self.kash.workspace.create_portfolio(
            "Demo", "Real money", PortfolioMode.LIVE, connection="live"
        )


def broker_setup_for(db_url: str, fake: Any, monkeypatch: pytest.MonkeyPatch) -> BrokerSetup:
    kash, portfolio = paper_kash(db_url, fake, monkeypatch)
    return BrokerSetup(db_url, fake, kash, portfolio)


async def settle(pilot: Pilot, rounds: int = 4) -> None:
    """Let the workers finish and the UI take their results."""
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def start(pilot: Pilot) -> None:
    """Wait for the services; make the test's portfolio current when the app was told to."""
    await settle(pilot)
    app: KashApp = pilot.app  # type: ignore[assignment]
    assert app.status == "ready", app.startup_problem
    chosen = getattr(app, "_test_select", None)
    if chosen is not None:
        app.use_portfolio(chosen)
        await settle(pilot)
        app.clear_notifications()  # "Using ...": the test's doing, not the user's
        await pilot.pause()


async def wait_for(
    pilot: Pilot, predicate: Callable[[], bool], *, timeout: float = 10.0, what: str = ""
) -> None:
    """Keep the app running until ``predicate()`` holds (background threads feed it)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}\n"
                                 f"{screen_text(pilot.app)}")  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        await pilot.pause()


async def type_text(pilot: Pilot, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


def screen_text(app: KashApp) -> str:
    """What the terminal shows now, one line per row."""
    strips = app.screen._compositor.render_strips()  # noqa: SLF001 - read only
    return "\n".join(strip.text for strip in strips)


def static_text(app: KashApp, selector: str) -> str:
    widget = app.screen.query_one(selector, Static)
    return str(widget.render()) if widget.display else ""


def notices(app: KashApp) -> list[str]:
    return [str(n.message) for n in app._notifications]  # noqa: SLF001


def assert_no_secrets(svg_or_text: str, fake: Any) -> None:
    assert fake.key_id not in svg_or_text
    assert fake.secret_key not in svg_or_text


@pytest.fixture
def broker(sqlite_db_url: str, fake_alpaca: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A paper connection and PAPER portfolio on the fake; import it into a test module."""
    setup = broker_setup_for(sqlite_db_url, fake_alpaca, monkeypatch)
    yield setup
    setup.kash.close()
