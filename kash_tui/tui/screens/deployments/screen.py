"""The Deployments place's screen: the deployments of the current workspace (the columns of
``kash deploy list``), refreshed about every second by a worker, and the chosen one's journal,
chart and parity report in tabs. Keys start, stop and halt one, or halt them all (after a
question). Everything goes through the deployment service; the database is where the app, the
CLI and the background runners meet, so deployments started anywhere show here, and leaving
Kash leaves a background deployment running."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.containers import Vertical
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from kash_tui.domains.deployment import Deployment, DeploymentState, HaltReport
from kash_tui.tui.format import params_text
from kash_tui.tui.modals.halt_confirm import HaltChoice
from kash_tui.tui.places import PlaceScreen
from kash_tui.tui.screens.deployments.reads import (
    Detail,
    View,
    detail_signature,
    read_detail,
    read_view,
)
from kash_tui.tui.state import workbench
from kash_tui.tui.widgets.candles import CandleChart
from kash_tui.tui.widgets.deployments import (
    DeploymentsTable,
    JournalView,
    ParityPanel,
    journal_header,
)

if TYPE_CHECKING:
    from kash_tui.domains.workspace import Portfolio
    from kash_tui.provider import ServiceProviderProtocol

STATUS_LINES = 3
"""Lines of the details line under the list."""
POLL_SECONDS = 1.0
"""How often the place reads the deployments and the chosen one's new journal entries."""
TRADING_MODES = ("PAPER", "LIVE")


class DeploymentsScreen(PlaceScreen):
    PLACE = "deployments"

    BINDINGS: ClassVar = [
        Binding("n", "new_deployment", "New", id="deployments.new",
                tooltip="Start a new deployment: a strategy trading a PAPER or LIVE portfolio"),
        Binding("s", "start_deployment", "Start", id="deployments.start",
                tooltip="Start the chosen deployment again (its settings can be changed)"),
        Binding("t", "stop_deployment", "Stop", id="deployments.stop",
                tooltip="Stop the chosen deployment trading; its open orders stay"),
        Binding("k", "halt_deployment", "Halt", id="deployments.halt",
                tooltip="Kill switch: halt the chosen deployment and cancel its open orders; "
                        "asks whether to close its position too"),
        Binding("K", "halt_all", "Halt all", id="deployments.halt_all",
                tooltip="Kill switch for every deployment of the workspace (asks first, and "
                        "whether to close their positions too)"),
        Binding("x,delete", "delete_deployment", "Delete", id="deployments.delete",
                tooltip="Delete the chosen deployment with its journal (stopped or halted "
                        "ones; asks first)"),
        Binding("j", "show_tab('dp-journal')", "Journal", id="deployments.journal",
                show=False, tooltip="Show the journal of the chosen deployment"),
        Binding("c", "show_tab('dp-chart')", "Chart", id="deployments.chart", show=False,
                tooltip="Chart its symbol: its signals, live fills and the backtest's fills"),
        Binding("p", "show_tab('dp-parity')", "Parity", id="deployments.parity", show=False,
                tooltip="Compare it with the backtest of the bars it saw"),
        Binding("d", "focus_list", "Deployments", id="deployments.focus_list", show=False,
                tooltip="Move to the list of deployments"),
        Binding("r,f7", "refresh", "Refresh", id="deployments.refresh", show=False,
                tooltip="Read the deployments, the journal and the parity report now"),
    ]

    DEFAULT_CSS = """
    DeploymentsScreen #dp-table { height: auto; min-height: 5; max-height: 8; }
    DeploymentsScreen.-roomy #dp-table { max-height: 16; }
    DeploymentsScreen #dp-status {
        height: auto;
        max-height: 3;  /* STATUS_LINES */
        padding: 0 1;
        color: $text-muted;
    }
    DeploymentsScreen #dp-status.-alert { color: $text-error; text-style: bold; }
    DeploymentsScreen #dp-tabs { height: 1fr; }
    DeploymentsScreen TabPane { padding: 0; }
    DeploymentsScreen #dp-journal-header { height: 1; background: $surface; }
    DeploymentsScreen #dp-chart-note {
        height: 1;
        color: $text-muted;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.view: View | None = None
        self.detail: Detail | None = None
        self._ready = False
        self._polling = False
        self._detail_loading: tuple[object, ...] | None = None
        self._timer: Timer | None = None

    # -- layout -------------------------------------------------------------------------------

    def compose_body(self) -> Iterator[Widget]:
        with Vertical(id="dp-body"):
            table = DeploymentsTable(id="dp-table", title="Deployments")
            table.styles.height = "auto"  # as many rows as there are (app.tcss says 1fr)
            yield table
            yield Static("", id="dp-status", markup=False)
            with TabbedContent(id="dp-tabs", initial="dp-journal"):
                with TabPane("Journal", id="dp-journal"):
                    yield Static(journal_header(), id="dp-journal-header")
                    yield JournalView(id="dp-journal-log")
                with TabPane("Chart", id="dp-chart"):
                    yield Static("", id="dp-chart-note", markup=False)
                    yield CandleChart(id="dp-candles",
                                      empty_hint="No bars of this symbol are stored yet.")
                with TabPane("Parity", id="dp-parity"):
                    yield ParityPanel(id="dp-parity-panel")

    @property
    def table(self) -> DeploymentsTable:
        return self.query_one(DeploymentsTable)

    @property
    def journal(self) -> JournalView:
        return self.query_one(JournalView)

    @property
    def chart(self) -> CandleChart:
        return self.query_one("#dp-candles", CandleChart)

    @property
    def parity_panel(self) -> ParityPanel:
        return self.query_one(ParityPanel)

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#dp-tabs", TabbedContent)

    @property
    def status_line(self) -> Static:
        return self.query_one("#dp-status", Static)

    def on_services_ready(self) -> None:
        if not self._ready:
            self._ready = True
            self.watch(self.app, "selection", self._workspace_changed, init=False)
            self._timer = self.set_interval(POLL_SECONDS, self._tick)
        self.action_refresh()
        if self.focused is None:
            self.table.focus()

    def on_screen_resume(self) -> None:
        if self._ready:
            self.action_refresh()

    # -- reading ------------------------------------------------------------------------------

    @property
    def workspace_name(self) -> str | None:
        workspace = self.kash.current_workspace
        return workspace.name if workspace is not None else None

    @property
    def chosen(self) -> Deployment | None:
        """The deployment under the table's cursor."""
        key = self.table.highlighted_key if self._body_mounted else None
        if key is None or self.view is None:
            return None
        return next((d for d in self.view.deployments if d.name == key), None)

    def _workspace_changed(self, _value: object = None) -> None:
        if self.view is not None and self.view.workspace != self.workspace_name:
            self.journal.start(None)
            self.action_refresh()

    def _tick(self) -> None:
        if self.is_current and not self._polling:
            self._poll()

    def action_refresh(self) -> None:
        self._poll()
        self._load_detail(force=True)

    def _poll(self) -> None:
        if not self._ready or not self._body_mounted:
            return
        self._polling = True
        workspace = self.workspace_name
        name = self.journal.deployment or self.table.highlighted_key
        after = self.journal.last_id if name == self.journal.deployment else None
        self.call_service(lambda p: read_view(p, workspace, name, after), key="view",
                          done=self._view_read, failed=self._poll_failed)

    def _poll_failed(self, sentence: str) -> None:
        self._polling = False
        self._say(sentence, alert=True)

    def _view_read(self, view: View) -> None:
        self._polling = False
        if view.workspace != self.workspace_name:
            return  # the user changed workspace meanwhile; the next poll reads that one
        self.view = view
        assert view.now is not None
        self.table.show(list(view.deployments), view.now)
        chosen = self.chosen
        if chosen is None and view.deployments:
            chosen = view.deployments[0]
        name = chosen.name if chosen is not None else None
        if name != self.journal.deployment:
            self.journal.start(name)
            if name is not None:
                self.call_later(self._poll)  # its journal, from the newest entries
        elif view.name == name and view.after_id == self.journal.last_id:
            self.journal.add(view.entries)
        self._describe(chosen)
        self._load_detail()
        self.refresh_bindings()

    def _describe(self, d: Deployment | None) -> None:
        if d is None:
            self._say(self._empty_hint())
            return
        alert = d.state in (DeploymentState.HALTED, DeploymentState.FAILED)
        if d.state is DeploymentState.RUNNING:
            lead = f"{d.name}:"
        elif alert and d.message:
            lead = f"{d.name} is {d.state.value}: {d.message.rstrip('.')}."
        else:
            key = self.kash.key_label("deployments.start", "s")
            lead = (f"{d.name} is {d.state.value}; {key} starts it again."
                    + (f" {d.message}" if d.message else ""))
        # the line holds STATUS_LINES lines: the least needed details go first when it is full
        width = self.status_line.content_region.width or max(20, self.size.width - 2)
        parts = self._details(d)
        while True:
            text = f"{lead} {'; '.join(parts)}." if parts else lead
            if not parts or len(Text(text).wrap(self.app.console, width)) <= STATUS_LINES:
                break
            parts.pop()
        self._say(text, alert=alert)

    def _details(self, d: Deployment) -> list[str]:
        """The highlighted deployment, most needed first: what the narrow table leaves out
        (strategy, mode and portfolio, last bar and signal, orders today; while running, how
        it follows bars and its process)."""
        info = next((s for s in self.kash.catalog.strategies if s.id == d.strategy_id), None)
        order = list(info.params_schema.get("properties", {})) if info else []
        parts = [f"{d.strategy_id}({params_text(d.params, order)}) on {d.symbol} "
                 f"{d.timeframe}, {d.mode} {d.portfolio_name}"]
        if d.last_bar_at is not None:
            parts.append(f"last bar {d.last_bar_at:%m-%d %H:%M} UTC")
        if d.last_signal_side and d.last_signal_at is not None:
            parts.append(f"last signal {d.last_signal_side} {d.last_signal_at:%m-%d %H:%M}")
        parts.append(f"{d.orders_today} order{'s' if d.orders_today != 1 else ''} today")
        running = d.state is DeploymentState.RUNNING
        if running and d.data_mode is not None:
            parts.append("owns the market-data stream" if d.data_mode.value == "stream"
                         else "polls bars")
        if running and d.pid:
            parts.append(f"process {d.pid} on {d.host}")
        return parts

    def _empty_hint(self) -> str:
        where = self.workspace_name or "this workspace"
        if not self._trading_portfolios():
            return (f"No deployments in {where}: add a PAPER portfolio under Workspaces, then "
                    f"press {self.kash.key_label('deployments.new', 'n')} to start one.")
        return (f"No deployments in {where} yet: press "
                f"{self.kash.key_label('deployments.new', 'n')} to start a strategy trading.")

    def _say(self, text: str, *, alert: bool = False) -> None:
        self.status_line.update(text)
        self.status_line.set_class(alert, "-alert")

    @on(DataTable.RowHighlighted, "#dp-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        name = event.row_key.value if event.row_key is not None else None
        if name is not None and name != self.journal.deployment:
            self.journal.start(name)
            self.detail = None
            self._describe(self.chosen)
            self._poll()
            self._load_detail(force=True)
            self.refresh_bindings()

    # -- the chart and the parity report ------------------------------------------------------

    def _load_detail(self, *, force: bool = False) -> None:
        """Read the chosen deployment's chart and parity when one of them is on screen and the
        deployment has news since they were read."""
        if not self._body_mounted or self.tabs.active not in ("dp-chart", "dp-parity"):
            return
        d = self.chosen
        if d is None:
            self.chart.set_data(None)
            self.parity_panel.show(None, self._empty_hint())
            return
        signature = detail_signature(d)
        shown = self.detail.signature if self.detail is not None else None
        if not force and signature in (shown, self._detail_loading):
            return
        self._detail_loading = signature
        previous = self.detail if self.detail is not None and self.detail.name == d.name \
            else None
        if previous is None:
            self.chart.set_loading(f"Loading {d.symbol} {d.timeframe}…")
            self.parity_panel.show(None, f"Comparing {d.name} with its backtest…")
        self.call_service(lambda p: read_detail(p, d, previous, force=force), key="detail",
                          done=self._detail_read, failed=self._detail_failed)

    def _detail_failed(self, sentence: str) -> None:
        self._detail_loading = None
        self.parity_panel.show(None, sentence)
        self.chart.set_loading(None)

    def _detail_read(self, detail: Detail) -> None:
        self._detail_loading = None
        chosen = self.chosen
        if chosen is None or chosen.name != detail.name:
            return
        self.detail = detail
        self.chart.set_data(detail.data)
        note = (f"{detail.data.symbol} {detail.data.timeframe}: {detail.signals} signals △▽, "
                f"{detail.live_fills} live fills ▲▼, {detail.backtest_fills} backtest fills ▴▾")
        if detail.chart_problem:
            note = detail.chart_problem
        self.query_one("#dp-chart-note", Static).update(note)
        if detail.parity is not self.parity_panel.report or detail.parity is None:
            self.parity_panel.show(detail.parity, detail.parity_problem)

    @on(TabbedContent.TabActivated, "#dp-tabs")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        event.stop()
        self._load_detail()

    def action_show_tab(self, tab_id: str) -> None:
        self.tabs.active = tab_id
        self._load_detail()

    def action_focus_list(self) -> None:
        self.table.focus()

    # -- acting -------------------------------------------------------------------------------

    def _trading_portfolios(self) -> list[Portfolio]:
        workspace = self.kash.current_workspace
        return [p for p in self.kash.catalog.portfolios_of(workspace.id if workspace else None)
                if p.mode.value in TRADING_MODES]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self._ready or not self._body_mounted:
            return None if action not in ("show_tab", "focus_list", "refresh") else True
        d = self.chosen
        running = d is not None and d.state is DeploymentState.RUNNING
        if action == "start_deployment":
            return True if d is not None and not running else None
        if action == "stop_deployment":
            return True if running else None
        if action == "halt_deployment":
            return True if d is not None and d.state is not DeploymentState.HALTED else None
        if action == "halt_all":
            return True if self.view is not None and self.view.deployments else None
        if action == "delete_deployment":
            return True if d is not None else None
        return True

    def action_new_deployment(self) -> None:
        self._open_form(None)

    def action_start_deployment(self) -> None:
        d = self.chosen
        if d is None:
            self.notify("Choose a deployment first (↑↓ in the list).", severity="warning")
            return
        if d.state is DeploymentState.RUNNING:
            self.notify(f"{d.name} is already running.", timeout=4)
            return
        self._open_form(d)

    def _open_form(self, existing: Deployment | None) -> None:
        from kash_tui.tui.modals.deploy_form import DeployDefaults, DeployForm

        workspace = self.kash.current_workspace
        if workspace is None:
            self.notify("Create a workspace under Workspaces first.", severity="warning")
            return
        bench = workbench(self.app).state
        choice = bench.strategy
        defaults = DeployDefaults(
            workspace=workspace.name, portfolios=self._trading_portfolios(),
            strategies=self.kash.catalog.strategies, symbol=bench.market.symbol,
            timeframe=bench.market.timeframe,
            strategy_id=choice.strategy_id if choice else None,
            params=dict(choice.params) if choice else None, existing=existing,
        )
        self.app.push_screen(DeployForm(defaults), self._launched)

    def _launched(self, d: Deployment | None) -> None:
        if d is None:
            return
        self.notify(f"Deployment {d.name} started in the background (it keeps running when "
                    f"Kash quits); its log: {d.log_path}", timeout=8)
        self.journal.start(d.name)
        self.table.point_at(d.name)
        self.action_refresh()

    def action_stop_deployment(self) -> None:
        d = self.chosen
        if d is None:
            return
        name = d.name
        self.kash.call_service(lambda p: p.deployment.stop(name), done=self._stopped,
                               refresh=False)

    def _stopped(self, d: Deployment) -> None:
        if d.state is DeploymentState.RUNNING:
            self.notify(f"{d.name} was asked to stop; its runner stops within seconds (open "
                        "orders stay; k halts and cancels them).", timeout=6)
        else:
            self.notify(f"{d.name} is {d.state.value}.", timeout=4)
        self._poll()

    def action_halt_deployment(self) -> None:
        from kash_tui.tui.modals.halt_confirm import HaltModal

        d = self.chosen
        if d is None:
            return
        self.app.push_screen(HaltModal(
            f"Halt {d.name}?",
            f"It stops trading at once and its open orders are cancelled at the broker; it "
            f"stays halted until you start it again. {_position_text(d)}",
        ), partial(self._halt_answered, d.name))

    def _halt_answered(self, name: str, choice: HaltChoice | None) -> None:
        if choice is None:
            return
        flatten = choice is HaltChoice.FLATTEN
        self._say(f"Halting {name}: cancelling its open orders"
                  + (" and closing its position…" if flatten else "…"), alert=True)
        self.kash.call_service(lambda p: [p.deployment.halt(name, flatten=flatten)],
                               done=self._halted, refresh=False)

    def action_halt_all(self) -> None:
        from kash_tui.tui.modals.halt_confirm import HaltModal

        if self.view is None or not self.view.deployments:
            self.notify("There are no deployments to halt.", timeout=4)
            return
        where = self.workspace_name or "this workspace"
        running = sum(1 for d in self.view.deployments if d.state is DeploymentState.RUNNING)
        holding = sum(1 for d in self.view.deployments if d.position_qty)
        self.app.push_screen(HaltModal(
            f"Halt every deployment of {where}?",
            f"{running} running now, {holding} holding a position. Each stops trading at once "
            "and its open orders are cancelled at the broker; halted deployments stay halted "
            "until you start them again. Flatten also closes their positions at market.",
            halt_label="Halt all", flatten_label="Halt all and flatten",
        ), self._halt_all_answered)

    def _halt_all_answered(self, choice: HaltChoice | None) -> None:
        if choice is None:
            return
        workspace = self.workspace_name
        flatten = choice is HaltChoice.FLATTEN
        self._say("Halting every deployment" + (" and closing their positions…"
                                                 if flatten else "…"), alert=True)
        self.kash.call_service(partial(_halt_all, workspace=workspace, flatten=flatten),
                               done=self._halted, refresh=False)

    def action_delete_deployment(self) -> None:
        from kash_tui.tui.modals.confirm import ConfirmModal

        d = self.chosen
        if d is None:
            return
        if d.state is DeploymentState.RUNNING:
            stop = self.kash.key_label("deployments.stop", "t")
            halt = self.kash.key_label("deployments.halt", "k")
            self.notify(f"{d.name} is running; stop it ({stop}) or halt it ({halt}) before "
                        "deleting it.", severity="warning", timeout=6)
            return
        self.app.push_screen(ConfirmModal(
            f"Delete deployment {d.name}?",
            f"It is {d.state.value}. Its settings and its whole journal are removed; orders "
            "and positions at the broker stay as they are.",
        ), partial(self._delete_answered, d.name))

    def _delete_answered(self, name: str, yes: bool | None) -> None:
        if not yes:
            return
        self.kash.call_service(lambda p: p.deployment.delete(name),
                               done=lambda _: self._deleted(name), refresh=False)

    def _deleted(self, name: str) -> None:
        self.notify(f"Deleted deployment {name} and its journal.", timeout=5)
        if self.journal.deployment == name:
            self.journal.start(None)
        self.detail = None
        self._poll()

    def _halted(self, reports: list[HaltReport]) -> None:
        if not reports:
            self.notify("There were no deployments to halt.", timeout=4)
        for r in reports:
            cancelled = len(r.cancelled_orders)
            flat = f"; closing order {r.flatten_order_id}" if r.flatten_order_id else ""
            self.notify(f"Halted {r.name}: {cancelled} open order"
                        f"{'s' if cancelled != 1 else ''} cancelled{flat}."
                        + ("".join(f" {p}" for p in r.problems)),
                        severity="warning" if r.problems else "information", timeout=8)
        self._poll()


def _halt_all(provider: ServiceProviderProtocol, *, workspace: str | None,
              flatten: bool = False) -> list[HaltReport]:
    return provider.deployment.halt_all(workspace=workspace, flatten=flatten)


def _position_text(d: Deployment) -> str:
    if not d.position_qty:
        return "It holds no position (flatten closes nothing)."
    qty = f"{d.position_qty.normalize():f}"
    return f"It holds {qty} {d.symbol}: flatten also closes that at market; halt keeps it."


__all__ = ["POLL_SECONDS", "DeploymentsScreen"]
