"""Trading domain: backtests (engine, stored runs, sweeps) and the TradingAdapter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kash_tui.domains.trading.service import (
    RANKABLE_METRICS,
    Account,
    BacktestError,
    BacktestMetrics,
    BacktestReport,
    BacktestRequest,
    BacktestResult,
    BacktestRun,
    BacktestSettings,
    ConnectionInfo,
    Fill,
    FillColumns,
    FillModel,
    Order,
    OrderSide,
    Position,
    RoundTrip,
    RoundTripColumns,
    SignalPoint,
    SweepReport,
    SweepRow,
    Trade,
    TradingAdapter,
    TradingError,
    TradingService,
)

if TYPE_CHECKING:
    from kash_tui.db import Database
    from kash_tui.domains.market import MarketService
    from kash_tui.domains.strategy import StrategyService
    from kash_tui.domains.workspace import WorkspaceService

__all__ = [
    "RANKABLE_METRICS",
    "Account",
    "BacktestError",
    "BacktestMetrics",
    "BacktestReport",
    "BacktestRequest",
    "BacktestResult",
    "BacktestRun",
    "BacktestSettings",
    "ConnectionInfo",
    "Fill",
    "FillColumns",
    "FillModel",
    "Order",
    "OrderSide",
    "Position",
    "RoundTrip",
    "RoundTripColumns",
    "SignalPoint",
    "SweepReport",
    "SweepRow",
    "Trade",
    "TradingAdapter",
    "TradingError",
    "TradingService",
    "create_trading_service",
]


def create_trading_service(
    db: Database,
    market: MarketService,
    strategies: StrategyService,
    workspaces: WorkspaceService,
) -> TradingService:
    from kash_tui.domains.trading.service_impl import SqlTradingService

    return SqlTradingService(db, market, strategies, workspaces)
