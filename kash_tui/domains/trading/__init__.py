"""Trading domain: backtests (engine, stored runs, sweeps) and the TradingAdapter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kash_tui.domains.trading.service import (
    MAX_PRICE,
    MAX_STARTING_CASH,
    MAX_SWEEP_COMBINATIONS,
    MIN_PRICE,
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
    FillReason,
    FillSensitivity,
    GridExecutor,
    IntrabarOrder,
    Order,
    OrderSide,
    Position,
    RoundTrip,
    RoundTripColumns,
    Rows,
    SignalColumns,
    SignalPoint,
    SweepReport,
    SweepRow,
    OutOfSample,
    ROBUST_PREFIX,
    Span,
    WalkForwardReport,
    WalkForwardRun,
    WalkForwardWindow,
    best_row,
    efficiency,
    parse_rank_by,
    rank_key,
    Trade,
    TradingAdapter,
    TradingError,
    TradingService,
    AccountSnapshot,
    AccountWatch,
    AssetInfo,
    Capabilities,
    FeedState,
    FeedStatus,
    LiveConfirmationRequired,
    MarketClock,
    OPEN_ORDER_STATUSES,
    OrderPreview,
    UnresolvedTicket,
    OrderRequest,
    OrderRuleError,
    OrderStatusFilter,
    OrderType,
    TimeInForce,
    UniverseBacktestRequest,
    UniverseRunInfo,
    UniverseSymbolResult,
    entry_quantity,
    new_client_order_id,
)

if TYPE_CHECKING:
    from kash_tui.db import Database
    from kash_tui.domains.connection import ConnectionService
    from kash_tui.domains.market import MarketService
    from kash_tui.domains.strategy import StrategyService
    from kash_tui.domains.workspace import WorkspaceService

__all__ = [
    "MAX_PRICE",
    "MAX_STARTING_CASH",
    "MAX_SWEEP_COMBINATIONS",
    "MIN_PRICE",
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
    "FillReason",
    "FillSensitivity",
    "GridExecutor",
    "IntrabarOrder",
    "Order",
    "OrderSide",
    "Position",
    "RoundTrip",
    "RoundTripColumns",
    "Rows",
    "SignalColumns",
    "SignalPoint",
    "SweepReport",
    "SweepRow",
    "OutOfSample",
    "ROBUST_PREFIX",
    "Span",
    "WalkForwardReport",
    "WalkForwardRun",
    "WalkForwardWindow",
    "best_row",
    "efficiency",
    "parse_rank_by",
    "rank_key",
    "Trade",
    "TradingAdapter",
    "TradingError",
    "TradingService",
    "AccountSnapshot",
    "AccountWatch",
    "AssetInfo",
    "Capabilities",
    "FeedState",
    "FeedStatus",
    "LiveConfirmationRequired",
    "MarketClock",
    "OPEN_ORDER_STATUSES",
    "OrderPreview",
    "UnresolvedTicket",
    "OrderRequest",
    "OrderRuleError",
    "OrderStatusFilter",
    "OrderType",
    "TimeInForce",
    "UniverseBacktestRequest",
    "UniverseRunInfo",
    "UniverseSymbolResult",
    "entry_quantity",
    "new_client_order_id",
    "create_executor",
    "create_trading_service",
]


def create_executor(spec: str | None, *, require: bool = False) -> GridExecutor | None:
    """The grid executor a setting names: ``""`` or ``"local"``: None (the service's default,
    this machine's cores); ``"dask://HOST:PORT"``: a Dask distributed cluster (the optional
    extra ``kash-tui[dask]``; without it, a ``TradingError`` saying how to install it, at once
    with ``require`` or else when a grid first runs there)."""
    text = (spec or "").strip()
    if not text or text.lower() == "local":
        return None
    from kash_tui.domains.trading.dask_executor import DaskExecutor

    executor = DaskExecutor(text)
    if require:
        executor.check_installed()
    return executor


def create_trading_service(
    db: Database,
    market: MarketService,
    strategies: StrategyService,
    workspaces: WorkspaceService,
    connections: ConnectionService | None = None,
    *,
    http_timeout: float = 10.0,
    poll_interval: float = 5.0,
    stream_account: bool = True,
    executor: GridExecutor | None = None,
) -> TradingService:
    """The trading service. ``executor`` runs grids of jobs (sweeps); default: this machine's
    cores (``LocalExecutor``)."""
    from kash_tui.domains.trading.service_impl import SqlTradingService

    return SqlTradingService(
        db, market, strategies, workspaces, connections,
        http_timeout=http_timeout, poll_interval=poll_interval, stream_account=stream_account,
        executor=executor,
    )
