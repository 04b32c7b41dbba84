"""The deployments of the current workspace, one row each. Wide enough, it has the columns of
``kash deploy list``: state, mode, market, strategy, last bar and signal, position, orders
today, P&L, heartbeat age and data health (stream owner or poller). Narrower (80 columns) it
keeps what a trader watches, so nothing needs scrolling sideways: name, state, market,
position, P&L and health (data health with the heartbeat's age), then whichever of mode, last
signal, last bar, orders today and strategy still fit; the screen's details line says the
rest for the highlighted deployment."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from rich.text import Text
from textual import events

from kash_tui.domains.deployment import DataHealth, Deployment, DeploymentState
from kash_tui.tui.widgets.kash_table import KashTable

COLUMNS = ("Name", "State", "Mode", "Market", "Strategy", "Last bar", "Last signal",
           "Position", "Orders today", "P&L", "Heartbeat", "Data")
"""The wide table: the columns of ``kash deploy list``."""
NARROW_COLUMNS = ("Name", "State", "Market", "Position", "P&L", "Health")
"""Always shown when the wide table does not fit."""
OPTIONAL_COLUMNS = ("Mode", "Last signal", "Last bar", "Orders today", "Strategy")
"""Added to the narrow table in this order while they fit."""
NAME_MAX_NARROW = 14
"""A longer name is cut with an ellipsis in the narrow table (the details line has it whole)."""
CELL_PADDING = 2

STALE_HEARTBEAT_SECONDS = 120
"""A running deployment whose heartbeat is older than this shows ``running?``."""

_SHORT_HEALTH = {DataHealth.WARMING_UP: "warm-up", DataHealth.MARKET_CLOSED: "closed",
                 DataHealth.UNKNOWN: "?"}
_RIGHT = {"Position", "Orders today", "P&L"}
_STATE_STYLE = {"running": "bold green", "running?": "bold yellow", "halted": "bold red",
                "failed": "bold red", "stopped": "dim"}


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


def deployment_cells(d: Deployment, now: datetime) -> dict[str, str]:
    """Every column's text for ``d`` (the wide ones as ``kash deploy list`` prints them)."""
    running = d.state is DeploymentState.RUNNING
    state = d.state.value
    age = d.heartbeat_age(now)
    if running and age is not None and age.total_seconds() > STALE_HEARTBEAT_SECONDS:
        state = "running?"
    signal = f"{d.last_signal_side} {_when(d.last_signal_at)}" if d.last_signal_side else ""
    data = d.data_health.value if running else ""
    if running and d.data_mode is not None:
        data += f" ({'stream owner' if d.data_mode.value == 'stream' else 'poll'})"
    beat = _age(d, now)
    health = f"{_SHORT_HEALTH.get(d.data_health, d.data_health.value)} {beat}".strip() \
        if running else ""
    return {
        "Name": d.name, "State": state, "Mode": d.mode, "Market": f"{d.symbol} {d.timeframe}",
        "Strategy": d.strategy_id, "Last bar": _when(d.last_bar_at), "Last signal": signal,
        "Position": _qty(d.position_qty), "Orders today": str(d.orders_today),
        "P&L": "" if d.pnl is None else f"{d.pnl:,.2f}", "Heartbeat": beat, "Data": data,
        "Health": health,
    }


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def choose_columns(cells: list[dict[str, str]], width: int) -> tuple[str, ...]:
    """The columns that fit ``width`` cells without scrolling sideways: all of ``kash deploy
    list``'s when they fit, else the narrow ones plus the optional ones that still fit."""

    def need(column: str) -> int:
        texts = [c[column] for c in cells]
        if column == "Name":
            texts = [_cut(t, NAME_MAX_NARROW) for t in texts]
        return max([len(column), *(len(t) for t in texts)]) + CELL_PADDING

    wide = sum(max([len(col), *(len(c[col]) for c in cells)]) + CELL_PADDING for col in COLUMNS)
    if wide <= width:
        return COLUMNS
    chosen = list(NARROW_COLUMNS)
    used = sum(need(col) for col in chosen)
    for col in OPTIONAL_COLUMNS:
        if used + need(col) <= width:
            chosen.append(col)
            used += need(col)
    order = ("Name", "State", "Mode", "Market", "Strategy", "Last bar", "Last signal",
             "Position", "Orders today", "P&L", "Health")
    return tuple(col for col in order if col in chosen)


class DeploymentsTable(KashTable):
    """One row per deployment, keyed by its name; the cursor stays on it across refreshes.
    The columns follow the table's width (:func:`choose_columns`)."""

    COLUMNS: ClassVar[tuple[str, ...]] = COLUMNS

    def __init__(self, *, id: str, title: str) -> None:  # noqa: A002
        super().__init__(id=id, title=title)
        self.columns_shown: tuple[str, ...] = COLUMNS
        self._deployments: list[Deployment] = []
        self._now: datetime | None = None
        self._shown: object = None

    def _width(self) -> int:
        width = self.scrollable_content_region.width
        if width <= 0:  # not laid out yet: the screen's width inside the border
            width = self.app.size.width - 4
        return width

    def show(self, deployments: list[Deployment], now: datetime) -> None:
        self._deployments, self._now = list(deployments), now
        all_cells = [deployment_cells(d, now) for d in deployments]
        columns = choose_columns(all_cells, self._width())
        narrow = columns != COLUMNS
        rows: list[tuple[str, tuple[object, ...]]] = []
        for d, cells in zip(deployments, all_cells, strict=True):
            row: list[object] = []
            for col in columns:
                text = cells[col]
                if col == "Name" and narrow:
                    text = _cut(text, NAME_MAX_NARROW)
                if col == "State":
                    row.append(Text(text, style=_STATE_STYLE.get(text, "")))
                elif col == "Mode" and text == "LIVE":
                    row.append(Text("LIVE", style="bold red"))
                elif col in _RIGHT:
                    row.append(Text(text, justify="right"))
                elif col == "Health" and d.data_health is DataHealth.STALE:
                    row.append(Text(text, style="bold yellow"))
                else:
                    row.append(text)
            rows.append((d.name, tuple(row)))
        keep = self.highlighted_key
        current = (columns, [(key, tuple(str(c) for c in cells)) for key, cells in rows])
        if current == self._shown:
            return  # nothing changed: no flicker, the cursor and scroll stay
        self._shown = current
        if columns != self.columns_shown:
            self.clear(columns=True)
            self.add_columns(*columns)
            self.columns_shown = columns
        self.reload(rows, keep)

    def on_resize(self, event: events.Resize) -> None:
        if self._now is not None:
            self.call_after_refresh(self.show, self._deployments, self._now)


__all__ = ["COLUMNS", "NARROW_COLUMNS", "STALE_HEARTBEAT_SECONDS", "DeploymentsTable",
           "choose_columns", "deployment_cells"]
