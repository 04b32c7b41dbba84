"""The deployments of the current workspace, one row each, with the columns of
``kash deploy list``: state, mode, market, strategy, last bar and signal, position, orders
today, P&L, heartbeat age and data health (stream owner or poller)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from rich.text import Text

from kash_tui.domains.deployment import Deployment, DeploymentState
from kash_tui.tui.widgets.kash_table import KashTable

COLUMNS = ("Name", "State", "Mode", "Market", "Strategy", "Last bar", "Last signal",
           "Position", "Orders today", "P&L", "Heartbeat", "Data")

STALE_HEARTBEAT_SECONDS = 120
"""A running deployment whose heartbeat is older than this shows ``running?``."""


def _when(value: datetime | None) -> str:
    return value.strftime("%m-%d %H:%M") if value else ""


def _qty(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _age(d: Deployment, now: datetime) -> str:
    age = d.heartbeat_age(now)
    if age is None or d.state is not DeploymentState.RUNNING:
        return ""
    seconds = max(0, int(age.total_seconds()))
    return f"{seconds}s" if seconds < 120 else f"{seconds // 60}m"


def deployment_cells(d: Deployment, now: datetime) -> tuple[str, ...]:
    """The row of ``d`` as ``kash deploy list`` prints it."""
    running = d.state is DeploymentState.RUNNING
    state = d.state.value
    age = d.heartbeat_age(now)
    if running and age is not None and age.total_seconds() > STALE_HEARTBEAT_SECONDS:
        state = "running?"
    signal = f"{d.last_signal_side} {_when(d.last_signal_at)}" if d.last_signal_side else ""
    data = d.data_health.value if running else ""
    if running and d.data_mode is not None:
        data += f" ({'stream owner' if d.data_mode.value == 'stream' else 'poll'})"
    return (
        d.name, state, d.mode, f"{d.symbol} {d.timeframe}", d.strategy_id,
        _when(d.last_bar_at), signal, _qty(d.position_qty), str(d.orders_today),
        "" if d.pnl is None else f"{d.pnl:,.2f}", _age(d, now), data,
    )


_STATE_STYLE = {"running": "bold green", "running?": "bold yellow", "halted": "bold red",
                "failed": "bold red", "stopped": "dim"}


class DeploymentsTable(KashTable):
    """One row per deployment, keyed by its name; the cursor stays on it across refreshes."""

    COLUMNS: ClassVar[tuple[str, ...]] = COLUMNS

    def show(self, deployments: list[Deployment], now: datetime) -> None:
        rows: list[tuple[str, tuple[object, ...]]] = []
        for d in deployments:
            cells: list[object] = list(deployment_cells(d, now))
            cells[1] = Text(str(cells[1]), style=_STATE_STYLE.get(str(cells[1]), ""))
            if d.mode == "LIVE":
                cells[2] = Text("LIVE", style="bold red")
            cells[7] = Text(str(cells[7]), justify="right")
            cells[8] = Text(str(cells[8]), justify="right")
            cells[9] = Text(str(cells[9]), justify="right")
            rows.append((d.name, tuple(cells)))
        keep = self.highlighted_key
        current = [(key, tuple(str(c) for c in cells)) for key, cells in rows]
        if current == getattr(self, "_shown", None):
            return  # nothing changed: no flicker, the cursor and scroll stay
        self._shown = current
        self.reload(rows, keep)


__all__ = ["COLUMNS", "STALE_HEARTBEAT_SECONDS", "DeploymentsTable", "deployment_cells"]
