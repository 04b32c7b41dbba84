"""Create or edit a portfolio: name, mode, position size and, for Paper/Live, a connection."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.widgets import Input, Select

from kash_tui.domains.connection import ConnectionModel
from kash_tui.domains.workspace import Portfolio, PortfolioMode
from kash_tui.tui.format import percent
from kash_tui.tui.modals.form import (
    FormModal,
    ServiceCall,
    name_problem,
    position_size_problem,
)


class PortfolioForm(FormModal[Portfolio]):
    """Create or edit a portfolio: name, mode, position size and, for Paper/Live, a connection."""

    def __init__(
        self,
        workspace: str,
        connections: Sequence[ConnectionModel],
        portfolio: Portfolio | None = None,
    ) -> None:
        verb = f"Edit portfolio {portfolio.name}" if portfolio else "New portfolio"
        super().__init__(f"{verb} in {workspace}")
        self.SAVE_LABEL = "Save" if portfolio else "Create"  # type: ignore[misc]
        self.workspace = workspace
        self.connections = list(connections)
        self.portfolio = portfolio

    def compose_fields(self) -> ComposeResult:
        p = self.portfolio
        yield from self.field(
            "Name", Input(p.name if p else "", placeholder="portfolio name", id="name",
                          compact=True)
        )
        yield from self.field(
            "Mode",
            Select(
                [(m.value, m) for m in PortfolioMode],
                value=p.mode if p else PortfolioMode.BACKTEST,
                allow_blank=False,
                id="mode",
                compact=True,
            ),
        )
        yield from self.field(
            "Position size %",
            Input(percent(p.position_size_pct) if p else "100", id="size", compact=True),
            note="Percent of equity put into each position.",
        )
        yield from self.field(
            "Connection", Select([], prompt="None", id="connection", compact=True)
        )

    def _mode(self) -> PortfolioMode:
        return PortfolioMode(self.query_one("#mode", Select).value)

    def fitting_connections(self, mode: PortfolioMode) -> list[ConnectionModel]:
        if mode is PortfolioMode.PAPER:
            return [c for c in self.connections if c.cap_trading_paper]
        if mode is PortfolioMode.LIVE:
            return [c for c in self.connections if c.cap_trading_live]
        return []

    def fields_changed(self, widget_id: str | None) -> None:
        if widget_id not in (None, "mode"):
            return
        mode = self._mode()
        select = self.query_one("#connection", Select)
        fitting = self.fitting_connections(mode)
        keep = self.choice("connection") if widget_id else (
            self.portfolio.connection_name if self.portfolio else None
        )
        select.set_options([(f"{c.name} ({c.environment.value})", c.name) for c in fitting])
        if keep in {c.name for c in fitting}:
            select.value = keep
        elif len(fitting) == 1:
            select.value = fitting[0].name
        backtest = mode is PortfolioMode.BACKTEST
        select.disabled = backtest
        select.prompt = "None: a backtest needs no broker" if backtest else "Choose…"
        if not backtest:
            self._touched.add("connection")  # say at once when no connection fits

    def problems(self) -> dict[str, str]:
        found: dict[str, str] = {}
        if problem := name_problem("portfolio", self.text("name")):
            found["name"] = problem
        if problem := position_size_problem(self.text("size")):
            found["size"] = problem
        mode = self._mode()
        if mode is not PortfolioMode.BACKTEST and self.choice("connection") is None:
            if not self.fitting_connections(mode):
                found["connection"] = (
                    "No paper connection yet: add one under Connections first."
                    if mode is PortfolioMode.PAPER
                    else "No connection has live trading enabled: add a live connection, then "
                    "run `kash connection enable-live NAME`."
                )
            else:
                found["connection"] = f"A {mode.value} portfolio trades through a connection."
        return found

    def service_call(self) -> ServiceCall:
        name = self.text("name").strip()
        size = self.text("size").strip()
        mode = self._mode()
        connection = None if mode is PortfolioMode.BACKTEST else self.choice("connection")
        workspace, existing = self.workspace, self.portfolio
        if existing is None:
            return lambda provider: provider.workspace.create_portfolio(
                workspace, name, mode, position_size_pct=size, connection=connection
            )
        return lambda provider: provider.workspace.update_portfolio(
            existing.id,
            name=name,
            mode=mode,
            position_size_pct=size,
            connection=connection,
            clear_connection=connection is None,
        )


__all__ = ["PortfolioForm"]
