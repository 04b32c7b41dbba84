"""The form that starts a deployment (the Deployments place): its name, the PAPER or LIVE
portfolio it trades, the strategy with its parameters (a :class:`SchemaForm` from the
strategy's JSON Schema, as under Strategies), symbol, timeframe and risk limits. A LIVE
portfolio asks for the deployment's name typed again, and a daily loss limit.

Start stores the deployment (or changes a stopped one), asks the deployment service whether it
may start (``check_start``: live trading enabled on the connection, ...) and launches it in a
background process that outlives the app. A refusal is the service's sentence in the form; a
deployment the form created is removed again, so nothing is left half-way. The form answers
the launched :class:`Deployment` (or ``None`` when cancelled).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Select, Static

from kash_tui.domains.deployment import (
    Deployment,
    DeploymentError,
    DeploymentNotFound,
    NewDeployment,
    RiskLimits,
)
from kash_tui.domains.strategy import StrategyError
from kash_tui.tui.modals.form import FormModal, ServiceCall, name_problem
from kash_tui.tui.widgets.schema_form import SchemaForm

if TYPE_CHECKING:
    from kash_tui.domains.strategy import StrategyInfo
    from kash_tui.domains.workspace import Portfolio
    from kash_tui.provider import ServiceProviderProtocol

TIMEFRAMES = ("1Min", "5Min", "15Min", "30Min", "1Hour", "4Hour", "1Day")


@dataclass(frozen=True)
class DeployDefaults:
    """What the form starts with: the workspace's trading portfolios and the strategies, the
    chart's symbol and timeframe, the strategy chosen under Strategies; or a stored
    deployment to start again (``existing``: its settings, its name fixed)."""

    workspace: str
    portfolios: Sequence[Portfolio]
    strategies: Sequence[StrategyInfo]
    symbol: str = ""
    timeframe: str = "1Day"
    strategy_id: str | None = None
    params: dict[str, Any] | None = None
    existing: Deployment | None = None


def percent_problem(text: str, *, required: bool = False, what: str = "a percent") -> str | None:
    clean = text.strip()
    if not clean:
        return f"Give {what}, e.g. 2." if required else None
    try:
        value = Decimal(clean)
    except InvalidOperation:
        return f"Give {what} above 0 and at most 100, e.g. 2, or leave it empty."
    if not value.is_finite() or value <= 0 or value > 100:
        return "Must be above 0 and at most 100 (percent)."
    return None


def count_problem(text: str) -> str | None:
    clean = text.strip()
    if not clean:
        return None
    if not clean.isdigit() or int(clean) < 1:
        return "A whole number of at least 1, or empty for no limit."
    return None


class DeployForm(FormModal[Deployment]):
    """Start a deployment; answers the launched deployment."""

    SAVE_LABEL = "Start (F9)"
    BINDINGS: ClassVar = [
        *FormModal.BINDINGS,
        Binding("f9", "save", "Start", id="deployments.form_start",
                tooltip="Start the deployment in the background (Enter in a field does too)"),
    ]
    DEFAULT_CSS = """
    DeployForm #deploy-dialog { width: 78; }
    DeployForm #deploy-fields { height: auto; max-height: 70vh; }  /* the buttons stay on screen */
    DeployForm #dp-params { height: auto; padding-left: 1; border-left: tall $border-blurred; }
    DeployForm #dp-params-title { color: $text-muted; }
    """

    def __init__(self, defaults: DeployDefaults) -> None:
        existing = defaults.existing
        title = (f"Start deployment {existing.name}" if existing is not None
                 else f"New deployment in {defaults.workspace}")
        super().__init__(title)
        self.defaults = defaults
        self.params: dict[str, Any] = dict(
            existing.params if existing is not None else defaults.params or {})
        self.params_valid = False
        self._shown_strategy: str | None = None

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form", id="deploy-dialog"):
            yield Static(self.form_title, classes="dialog-title", markup=False)
            with VerticalScroll(id="deploy-fields"):
                yield from self.compose_fields()
            refusal = Static("", id="form-error", classes="form-error", markup=False)
            refusal.display = False
            yield refusal
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.SAVE_LABEL, id="save", variant="primary",
                             compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer(show_command_palette=False)

    def compose_fields(self) -> Iterator[Widget]:
        d, existing = self.defaults, self.defaults.existing
        name = Input(existing.name if existing else "", id="dp-name", compact=True,
                     placeholder="e.g. sma-aapl", disabled=existing is not None)
        yield from self.field("Name", name)
        options = [(f"{p.name} ({p.mode.value})", p.id) for p in d.portfolios]
        chosen = next((p.id for p in d.portfolios
                       if existing is not None and p.id == existing.portfolio_id), None)
        if chosen is None and existing is None:
            chosen = next((p.id for p in d.portfolios if p.mode.value == "PAPER"), None)
        yield from self.field("Portfolio", Select(
            options, value=chosen if chosen is not None else Select.NULL, id="dp-portfolio",
            compact=True, prompt="a PAPER or LIVE portfolio"))
        confirm = Input("", id="dp-confirm", compact=True, placeholder="the name again")
        yield from self.field("Confirm LIVE", confirm)
        strategy = existing.strategy_id if existing else d.strategy_id
        ids = [s.id for s in d.strategies]
        yield from self.field("Strategy", Select(
            [(s.name, s.id) for s in d.strategies],
            value=strategy if strategy in ids else Select.NULL, id="dp-strategy",
            compact=True, prompt="a strategy"))
        yield from self.field("Symbol", Input(
            existing.symbol if existing else d.symbol, id="dp-symbol", compact=True,
            placeholder="e.g. AAPL or BTC/USD"))
        timeframe = existing.timeframe if existing else d.timeframe
        yield from self.field("Timeframe", Select(
            [(tf, tf) for tf in TIMEFRAMES],
            value=timeframe if timeframe in TIMEFRAMES else "1Day", allow_blank=False,
            id="dp-timeframe", compact=True))
        with Vertical(id="dp-params"):
            yield Static("Parameters: choose a strategy first.", id="dp-params-title",
                         markup=False)
        limits = existing.limits if existing else RiskLimits()

        def text(value: float | int | None) -> str:
            return "" if value is None else f"{value:g}"

        yield from self.field("Max position %", Input(
            text(limits.max_position_pct), id="dp-max-position", compact=True,
            placeholder="no limit"), "largest position, % of the account's equity")
        yield from self.field("Orders per day", Input(
            text(limits.max_orders_per_day), id="dp-max-orders", compact=True,
            placeholder="no limit"), "orders it may send per trading day")
        yield from self.field("Daily loss %", Input(
            text(limits.daily_loss_limit_pct), id="dp-loss-limit", compact=True,
            placeholder="no limit (LIVE needs one)"),
            "halts it when equity falls this % below the day's start")

    async def on_mount(self) -> None:  # FormModal.on_mount runs after this one (Textual's MRO)
        await self._show_params()

    # -- what the fields say ------------------------------------------------------------------

    @property
    def portfolio(self) -> Portfolio | None:
        chosen = self.choice("dp-portfolio")
        return next((p for p in self.defaults.portfolios if p.id == chosen), None)

    @property
    def live(self) -> bool:
        portfolio = self.portfolio
        return portfolio is not None and portfolio.mode.value == "LIVE"

    @property
    def deployment_name(self) -> str:
        return self.text("dp-name").strip()

    def fields_changed(self, widget_id: str | None) -> None:
        live = self.live
        self.query_one("#dp-confirm-field").display = live
        portfolio = self.portfolio
        self.set_note("dp-confirm", (
            f"{portfolio.name} trades REAL MONEY: type the deployment's name to confirm."
            if live and portfolio is not None else ""))
        if widget_id == "dp-strategy":
            self.call_later(self._show_params)

    def problems(self) -> dict[str, str]:
        problems: dict[str, str] = {}
        if self.defaults.existing is None and (p := name_problem("deployment", self.deployment_name)):
            problems["dp-name"] = p
        if self.portfolio is None:
            problems["dp-portfolio"] = (
                "Choose a PAPER or LIVE portfolio (add one under Workspaces)."
                if self.defaults.portfolios else
                "This workspace has no PAPER or LIVE portfolio: add one under Workspaces (1).")
        if self.live and self.text("dp-confirm").strip() != self.deployment_name:
            problems["dp-confirm"] = (f"Type {self.deployment_name!r} to confirm it trades real money."
                                      if self.deployment_name else "Name the deployment, then type it here.")
        if self.choice("dp-strategy") is None:
            problems["dp-strategy"] = "Choose a strategy."
        if not self.text("dp-symbol").strip():
            problems["dp-symbol"] = "Give a symbol, e.g. AAPL or BTC/USD."
        if (p := percent_problem(self.text("dp-max-position"))):
            problems["dp-max-position"] = p
        if (p := count_problem(self.text("dp-max-orders"))):
            problems["dp-max-orders"] = p
        if (p := percent_problem(self.text("dp-loss-limit"), required=self.live,
                                 what="a daily loss limit (a LIVE deployment needs one)")):
            problems["dp-loss-limit"] = p
        if self.choice("dp-strategy") is not None and not self.params_valid:
            problems["dp-params"] = "Fix the strategy's parameters."
        return problems

    # -- the strategy's parameters ------------------------------------------------------------

    @property
    def schema_form(self) -> SchemaForm | None:
        return next(iter(self.query("#dp-params SchemaForm").results(SchemaForm)), None)

    async def _show_params(self) -> None:
        strategy_id = self.choice("dp-strategy")
        if strategy_id == self._shown_strategy:
            return
        box = self.query_one("#dp-params", Vertical)
        old = self.schema_form
        if old is not None:
            await old.remove()
        self._shown_strategy = strategy_id
        info = next((s for s in self.defaults.strategies if s.id == strategy_id), None)
        title = self.query_one("#dp-params-title", Static)
        if info is None:
            title.update("Parameters: choose a strategy first.")
            self.params, self.params_valid = {}, False
            self.refresh_form()
            return
        title.update(f"Parameters of {info.name}")
        keep = self.params if self.params else None
        service = self.kash.services.strategy
        sid = info.id
        await box.mount(SchemaForm(
            info.params_schema, values=keep, refusals=(StrategyError,),
            validator=lambda params: service.create_with_params(sid, params),
            id=f"dp-form-{info.id}"))

    @on(SchemaForm.Changed)
    def _params_changed(self, event: SchemaForm.Changed) -> None:
        event.stop()
        if event.form is not self.schema_form:
            return
        self.params, self.params_valid = dict(event.values), event.valid
        self.refresh_form()

    def action_save(self) -> None:
        problems = self.problems()
        if "dp-params" in problems and len(problems) == 1 and self.schema_form is not None:
            self.schema_form.focus_first()
        super().action_save()

    # -- starting -----------------------------------------------------------------------------

    def _new(self) -> NewDeployment:
        def number(widget_id: str) -> float | None:
            clean = self.text(widget_id).strip()
            return float(clean) if clean else None

        orders = self.text("dp-max-orders").strip()
        portfolio = self.portfolio
        return NewDeployment(
            name=self.defaults.existing.name if self.defaults.existing else self.deployment_name,
            portfolio=portfolio.name if portfolio else "",
            workspace=portfolio.workspace_name if portfolio else None,
            strategy_id=str(self.choice("dp-strategy") or ""),
            symbol=self.text("dp-symbol").strip().upper(),
            timeframe=str(self.choice("dp-timeframe") or ""),
            params=dict(self.params),
            limits=RiskLimits(max_position_pct=number("dp-max-position"),
                              max_orders_per_day=int(orders) if orders else None,
                              daily_loss_limit_pct=number("dp-loss-limit")),
        )

    def service_call(self) -> ServiceCall:
        try:
            new = self._new()
        except DeploymentError as exc:  # a limit the form let through: the domain's word
            message = str(exc)

            def refuse(_p: ServiceProviderProtocol) -> Deployment:
                raise DeploymentError(message)

            return refuse
        confirm = self.text("dp-confirm").strip() if self.live else None
        return lambda p: start_deployment(p, new, confirm)


def start_deployment(
    provider: ServiceProviderProtocol, new: NewDeployment, confirm: str | None
) -> Deployment:
    """Store ``new`` (or change the stopped deployment of that name), check it may start and
    launch it in the background. On a refusal, a deployment created here is removed and a
    changed one gets its settings back. Worker thread only."""
    service = provider.deployment
    try:
        old = service.get(new.name)
    except DeploymentNotFound:
        old = None
    if old is None:
        service.create(new)
    else:
        service.update(new)
    try:
        service.check_start(new.name, confirm_live=confirm)
        return service.launch(new.name, confirm_live=confirm)
    except Exception:
        if old is None:
            service.delete(new.name)
        else:
            service.update(NewDeployment(
                name=old.name, portfolio=old.portfolio_name, workspace=old.workspace_name,
                strategy_id=old.strategy_id, symbol=old.symbol, timeframe=old.timeframe,
                params=old.params, limits=old.limits))
        raise


__all__ = ["TIMEFRAMES", "DeployDefaults", "DeployForm", "count_problem", "percent_problem",
           "start_deployment"]
