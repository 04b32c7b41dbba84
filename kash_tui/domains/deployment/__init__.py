"""Deployment domain: strategies that trade a PAPER or LIVE portfolio, their journal, risk
limits, kill switch and parity report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kash_tui.domains.deployment.service import (
    DataHealth,
    DataMode,
    Deployment,
    DeploymentError,
    DeploymentNotFound,
    DeploymentService,
    DeploymentState,
    DesiredState,
    EventCallback,
    EventKind,
    FillComparison,
    HaltReport,
    JournalEntry,
    LiveRefused,
    NewDeployment,
    ParityReport,
    RiskLimits,
    RunOptions,
    SignalComparison,
    SignalMatch,
    StreamUse,
    event_line,
)

if TYPE_CHECKING:
    from kash_tui.db import Database
    from kash_tui.domains.connection import ConnectionService
    from kash_tui.domains.market import MarketService
    from kash_tui.domains.strategy import StrategyService
    from kash_tui.domains.trading import TradingService
    from kash_tui.domains.workspace import WorkspaceService

__all__ = [
    "DataHealth",
    "DataMode",
    "Deployment",
    "DeploymentError",
    "DeploymentNotFound",
    "DeploymentService",
    "DeploymentState",
    "DesiredState",
    "EventCallback",
    "EventKind",
    "FillComparison",
    "HaltReport",
    "JournalEntry",
    "LiveRefused",
    "NewDeployment",
    "ParityReport",
    "RiskLimits",
    "RunOptions",
    "SignalComparison",
    "SignalMatch",
    "StreamUse",
    "create_deployment_service",
    "event_line",
]


def create_deployment_service(
    db: Database,
    workspaces: WorkspaceService,
    connections: ConnectionService,
    market: MarketService,
    strategies: StrategyService,
    trading: TradingService,
    *,
    database_url: str | None = None,
) -> DeploymentService:
    """The deployment service over ``db``. ``database_url`` is handed to a detached runner
    (``launch``) so it opens the same database."""
    from kash_tui.domains.deployment.service_impl import SqlDeploymentService

    return SqlDeploymentService(
        db, workspaces, connections, market, strategies, trading, database_url=database_url
    )
