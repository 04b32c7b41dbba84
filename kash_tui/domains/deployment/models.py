"""From stored rows to the public types (private)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from kash_tui.domains.deployment.entities import DeploymentEventRow, DeploymentRow
from kash_tui.domains.deployment.service import (
    DataHealth,
    DataMode,
    Deployment,
    DeploymentState,
    DesiredState,
    EventKind,
    JournalEntry,
    RiskLimits,
)
from kash_tui.domains.workspace import Portfolio


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def limits_of(row: DeploymentRow) -> RiskLimits:
    return RiskLimits(
        max_position_pct=_float(row.max_position_pct),
        max_orders_per_day=row.max_orders_per_day,
        daily_loss_limit_pct=_float(row.daily_loss_limit_pct),
    )


def params_of(row: DeploymentRow) -> dict[str, Any]:
    return dict(json.loads(row.params_json or "{}"))


def to_deployment(row: DeploymentRow, portfolio: Portfolio | None) -> Deployment:
    try:
        health = DataHealth(row.data_health)
    except ValueError:
        health = DataHealth.UNKNOWN
    return Deployment(
        id=row.id,
        name=row.name,
        portfolio_id=row.portfolio_id,
        portfolio_name=portfolio.name if portfolio else "?",
        workspace_name=portfolio.workspace_name if portfolio else "?",
        mode=portfolio.mode.value if portfolio else "?",
        connection_name=portfolio.connection_name if portfolio else None,
        strategy_id=row.strategy_id,
        params=params_of(row),
        symbol=row.symbol,
        timeframe=row.timeframe,
        limits=limits_of(row),
        desired_state=DesiredState(row.desired_state),
        state=DeploymentState(row.state),
        created_at=row.created_at,
        started_at=row.started_at,
        stopped_at=row.stopped_at,
        heartbeat_at=row.heartbeat_at,
        pid=row.pid,
        host=row.host,
        data_mode=DataMode(row.data_mode) if row.data_mode else None,
        data_health=health,
        last_bar_at=row.last_bar_at,
        last_signal_at=row.last_signal_at,
        last_signal_side=row.last_signal_side,
        position_qty=row.position_qty if row.position_qty is not None else Decimal(0),
        orders_today=row.orders_today or 0,
        start_equity=row.start_equity,
        pnl=row.pnl,
        message=row.message,
        log_path=row.log_path,
    )


def to_entry(row: DeploymentEventRow) -> JournalEntry:
    try:
        data = json.loads(row.data_json or "{}")
    except ValueError:
        data = {}
    return JournalEntry(
        id=row.id, deployment_id=row.deployment_id, at=row.at, kind=EventKind(row.kind),
        message=row.message, bar_at=row.bar_at, data=data,
    )
