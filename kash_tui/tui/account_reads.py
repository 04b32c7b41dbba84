"""What the Orders place reads of an account besides its live feed: the recent activity of a
PAPER or LIVE account, and the latest run of a BACKTEST portfolio. Plain functions of the
provider, run in a worker; they return frozen value objects for the widgets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kash_tui.domains.trading import Account, Order, Position, Trade
    from kash_tui.provider import ServiceProviderProtocol

RECENT_LIMIT = 50


@dataclass(frozen=True)
class Activity:
    """Recent (closed) orders and fills of a broker account."""

    orders: tuple[Order, ...]
    trades: tuple[Trade, ...]
    can_trade: bool = True


@dataclass(frozen=True)
class BacktestView:
    """The latest run of a BACKTEST portfolio seen through its adapter."""

    run_id: int | None
    run_label: str
    account: Account
    positions: tuple[Position, ...]
    orders: tuple[Order, ...]
    trades: tuple[Trade, ...]


def read_activity(provider: ServiceProviderProtocol, portfolio_id: int) -> Activity:
    adapter = provider.trading.resolve_trading_adapter(portfolio_id)
    orders = [o for o in adapter.get_orders("closed") if not o.is_open]
    orders.sort(key=lambda o: o.submitted_at, reverse=True)
    trades = sorted(adapter.get_trades(limit=RECENT_LIMIT), key=lambda t: t.time, reverse=True)
    capabilities = getattr(adapter, "capabilities", None)
    return Activity(
        tuple(orders[:RECENT_LIMIT]), tuple(trades[:RECENT_LIMIT]),
        can_trade=bool(getattr(capabilities, "can_trade", True)),
    )


def read_backtest(provider: ServiceProviderProtocol, portfolio_id: int) -> BacktestView:
    adapter = provider.trading.resolve_trading_adapter(portfolio_id)
    account = adapter.get_account()
    positions = tuple(adapter.get_positions())
    orders = tuple(sorted(adapter.get_orders("all"), key=lambda o: o.submitted_at, reverse=True))
    trades = tuple(sorted(adapter.get_trades(), key=lambda t: t.time, reverse=True))
    runs = provider.trading.list_runs(portfolio_id)
    latest = max(runs, key=lambda r: r.id) if runs else None
    label = (
        f"run #{latest.id}: {latest.symbol} {latest.timeframe}, {latest.strategy_id}"
        if latest else "latest run"
    )
    return BacktestView(latest.id if latest else None, label, account, positions,
                        orders[:RECENT_LIMIT], trades[:RECENT_LIMIT])


__all__ = ["RECENT_LIMIT", "Activity", "BacktestView", "read_activity", "read_backtest"]
