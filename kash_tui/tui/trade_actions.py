"""Closing a position and cancelling an order, each only after the trader confirms.

The flows of any place that lists positions or open orders: ask with
:class:`~kash_tui.tui.modals.trade_confirm.TradeConfirm` (a LIVE close asks for the symbol to be
typed), then call the portfolio's trading adapter in a worker and hand the outcome, as a
sentence, to ``then``. A refusal is reported by the app as one sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kash_tui.tui.format import describe_order
from kash_tui.tui.modals.trade_confirm import TradeConfirm

if TYPE_CHECKING:
    from kash_tui.domains.workspace import Portfolio
    from kash_tui.tui.app import KashApp


def close_position(
    app: KashApp, portfolio: Portfolio, symbol: str, qty: str, *, then: Callable[[str], object]
) -> None:
    """Ask to close all ``qty`` (as shown) of ``symbol`` with a market order; on yes send it."""
    live = portfolio.mode.value == "LIVE"
    portfolio_id = portfolio.id

    def answer(yes: bool | None) -> None:
        if not yes:
            return
        app.notify(f"Closing {symbol}…", timeout=3)
        app.call_service(
            lambda provider: provider.trading.resolve_trading_adapter(portfolio_id)
            .close_position(symbol, confirm_live=live),
            done=lambda order: then(
                f"Closing {symbol}: {describe_order(order)} ({order.status})."),
            refresh=False,
        )

    app.push_screen(
        TradeConfirm(
            f"Close your {symbol} position?",
            f"Sends a market order for all {qty} {symbol} on {portfolio.name} "
            f"({portfolio.mode.value}).",
            yes_label="Close position", no_label="Keep it", live=live, typed=symbol,
        ),
        answer,
    )


def cancel_order(
    app: KashApp, portfolio: Portfolio, order_id: str, description: str, *,
    then: Callable[[str], object],
) -> None:
    """Ask to cancel the open order ``order_id`` (``description``: ``buy 5 AAPL limit
    150.00``); on yes ask the broker to cancel it."""
    portfolio_id = portfolio.id

    def answer(yes: bool | None) -> None:
        if not yes:
            return
        app.call_service(
            lambda provider: provider.trading.resolve_trading_adapter(portfolio_id)
            .cancel_order(order_id),
            done=lambda _result: then(f"Asked to cancel {description}."),
            refresh=False,
        )

    app.push_screen(
        TradeConfirm(
            f"Cancel the order {description}?",
            f"On {portfolio.name} ({portfolio.mode.value}). A part already filled stays "
            "filled.",
            yes_label="Cancel order", no_label="Keep it",
        ),
        answer,
    )


__all__ = ["cancel_order", "close_position"]
