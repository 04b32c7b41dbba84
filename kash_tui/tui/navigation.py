"""Going from one place to another: what a place calls instead of importing another place.

* :func:`open_ticket`: the order ticket for the trading portfolio; a sent order is announced
  on :func:`order_sent` (the Orders place subscribes and refreshes).
* :func:`show_symbol` / :func:`show_chart`: a symbol on the workbench, and the Chart place.
* :func:`show_chain`: the Options place with an underlying's chain.
* :func:`open_import`: the CSV import form; the imported series then shows in the Chart place.
* :func:`trading_portfolio`: the portfolio a new order goes to.

Places never import each other (an import-linter contract in ``pyproject.toml``); they meet
here, in the app's shared state (:mod:`kash_tui.tui.state`) and in messages. This module imports
no place: it reaches a place's screen through the app (``app.screen`` after switching to it).
Cheap to import; what it opens is imported when it is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.signal import Signal

from kash_tui.tui.format import describe_order
from kash_tui.tui.state import stored_series, timeframe_to_show, workbench

if TYPE_CHECKING:
    from textual.app import App

    from kash_tui.domains.trading import Order
    from kash_tui.domains.workspace import Portfolio
    from kash_tui.tui.app import KashApp
    from kash_tui.tui.modals.order_ticket import TicketDefaults

TRADING_MODES = ("PAPER", "LIVE")
"""The portfolio modes an order ticket trades in."""


# -- orders ----------------------------------------------------------------------------------


def trading_portfolio(app: KashApp) -> Portfolio | None:
    """The portfolio a new order goes to: the current one when it is PAPER or LIVE, else the
    first PAPER portfolio (never a LIVE one the user did not choose)."""
    current = app.current_portfolio
    if current is not None and current.mode.value in TRADING_MODES:
        return current
    return next((p for p in app.catalog.portfolios if p.mode.value == "PAPER"), None)


def order_sent(app: App) -> Signal[Order]:
    """Published (on the UI thread) with each order a ticket opened by :func:`open_ticket`
    sent. Subscribe with ``immediate=True`` to act before the next message is handled."""
    found = getattr(app, "_kash_order_sent", None)
    if found is None:
        found = Signal(app, "order-sent")
        app._kash_order_sent = found  # type: ignore[attr-defined]  # noqa: SLF001
    return found


def open_ticket(
    app: KashApp, portfolio: Portfolio | None = None, defaults: TicketDefaults | None = None
) -> None:
    """Open the order ticket; when an order is sent, say so and announce it on
    :func:`order_sent` (the Orders place refreshes)."""
    from kash_tui.tui.modals.order_ticket import OrderTicket

    portfolio = portfolio or trading_portfolio(app)
    if portfolio is None:
        app.notify(
            "No paper or live portfolio: add an Alpaca connection and a PAPER portfolio under "
            "Workspaces (1) first.",
            severity="warning", timeout=8,
        )
        return

    def sent(order: Order | None) -> None:
        if order is None:
            return
        app.notify(
            f"Order sent to {portfolio.name} ({portfolio.mode.value}): "
            f"{describe_order(order)}, {order.status}.",
            timeout=6,
        )
        order_sent(app).publish(order)

    app.push_screen(OrderTicket(portfolio, defaults), sent)


# -- the chart -------------------------------------------------------------------------------


def show_symbol(app: App, symbol: str, timeframe: str | None = None) -> None:
    """Put ``symbol`` on the workbench, in a timeframe stored for it when the chart knows one
    (the Chart place follows the workbench)."""
    bench = workbench(app)
    clean = symbol.strip().upper()
    if timeframe is None:
        known = (stored_series(app) or {}).get(clean)
        timeframe = timeframe_to_show(known, bench.state.market.timeframe)
    bench.show_market(clean, timeframe)


def show_chart(app: KashApp, symbol: str, timeframe: str | None = None) -> None:
    """Show ``symbol`` (a stock, a crypto pair or an OCC option contract) in the Chart place
    and go there."""
    app.action_switch_place("chart")
    show_symbol(app, symbol, timeframe)


def open_import(app: KashApp) -> None:
    """The form that imports bars from a CSV file; when it has stored them, say what was stored
    and chart them."""
    from kash_tui.tui.modals.import_form import ImportCsvForm, import_summary

    market = workbench(app).state.market

    def imported(report: object) -> None:
        if report is None:
            return
        app.notify(import_summary(report), timeout=8)  # type: ignore[arg-type]
        show_chart(app, report.symbol, report.timeframe.value)  # type: ignore[attr-defined]

    app.push_screen(ImportCsvForm(timeframe=market.timeframe), imported)


# -- option chains ---------------------------------------------------------------------------


def show_chain(app: KashApp, underlying: str) -> None:
    """Go to the Options place and load the chain of ``underlying``."""
    app.action_switch_place("options")
    screen = app.screen
    load = getattr(screen, "show_underlying", None)
    if getattr(screen, "PLACE", "") == "options" and callable(load):
        load(underlying)


__all__ = [
    "TRADING_MODES",
    "open_ticket",
    "order_sent",
    "show_chain",
    "show_chart",
    "show_symbol",
    "trading_portfolio",
]
