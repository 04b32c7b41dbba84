"""The Strategies place's screen, the coordinator of :mod:`kash_tui.tui.widgets.strategies`:
data down to them, their messages handled here with ``@on``. Services run in thread workers
(a load keyed: only the latest of a kind reaches the screen); a refusal's sentence (the app's
one list of user errors, :mod:`kash_tui.errors`) reaches the status line."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.widget import Widget
from textual.widgets import TabbedContent

from kash_tui.domains.market import MarketError
from kash_tui.domains.strategy import CheckReport, StrategyFailure, StrategyInfo
from kash_tui.domains.trading import (
    BacktestReport,
    BacktestRequest,
    BacktestRun,
    SweepReport,
    WalkForwardReport,
    WalkForwardRun,
)
from kash_tui.domains.workspace import PortfolioMode
from kash_tui.tui.format import format_metric, params_text
from kash_tui.tui.modals.sweep_form import SweepForm, SweepPlan
from kash_tui.tui.modals.walkforward_form import WalkForwardForm, WalkForwardPlan
from kash_tui.tui.places import PlaceScreen
from kash_tui.tui.state import StrategyChoice, WorkbenchState, workbench
from kash_tui.tui.widgets.schema_form import SchemaForm
from kash_tui.tui.widgets.strategies import (
    BacktestSettingsForm,
    HistoryTab,
    ResultsTab,
    RunBar,
    SetupTab,
    StrategyList,
    SweepTab,
    WalkForwardTab,
    size_of,
)

if TYPE_CHECKING:
    from kash_tui.domains.workspace import Portfolio
    from kash_tui.provider import ServiceProviderProtocol

WIDE = 120
"""From this many columns the screen has the class ``-wide``: the setup, results and sweep lay
their parts side by side."""


def in_exchange_tz(provider: ServiceProviderProtocol, report: BacktestReport
                   ) -> tuple[BacktestReport, str]:
    """``report`` and the time zone of its symbol's exchange (UTC when unknown)."""
    try:
        return report, provider.market.get_instrument(report.run.symbol).exchange_tz
    except MarketError:
        return report, "UTC"


def walk_in_exchange_tz(provider: ServiceProviderProtocol, report: WalkForwardReport
                        ) -> tuple[WalkForwardReport, str]:
    """``report`` and the time zone of its symbol's exchange (UTC when unknown)."""
    try:
        return report, provider.market.get_instrument(report.request.symbol).exchange_tz
    except MarketError:
        return report, "UTC"


class JobCancelled(Exception):
    """Raised in a sweep's or walk-forward's worker at its next progress step once the user
    cancelled it: the grid stops and nothing is stored."""


class StrategiesScreen(PlaceScreen):
    PLACE = "strategies"

    BINDINGS: ClassVar = [
        Binding("r,f9", "run_backtest", "Run", id="strategies.run_backtest",
                tooltip="Run the backtest of the strategy with these parameters and settings"),
        Binding("w,f8", "sweep", "Sweep", id="strategies.sweep",
                tooltip="Sweep parameter ranges and rank the combinations"),
        Binding("f,f11", "walk_forward", "Walk-forward", id="strategies.walk_forward",
                tooltip="Walk forward: rank parameter ranges on each training part, run the "
                        "best on the test part after it, stitch the test parts"),
        Binding("escape", "cancel_job", "Cancel", id="strategies.cancel_job",
                tooltip="Stop the running sweep or walk-forward (nothing is stored)"),
        Binding("f7,ctrl+r", "reload", "Reload", id="strategies.reload", show=False,
                tooltip="Reload the list of strategies and past runs"),
        Binding("c,f12", "check_strategy", "Check", id="strategies.check",
                tooltip="Check the chosen strategy: look-ahead, determinism, shape, schema "
                        "and speed, on 100,000 synthetic bars"),
        Binding("p", "show_tab('tab-setup')", "Setup", id="strategies.tab_setup", show=False,
                tooltip="Show the strategy's parameters and the backtest settings"),
        Binding("o", "show_tab('tab-results')", "Results", id="strategies.tab_results",
                show=False, tooltip="Show the results of the run on screen"),
        Binding("h", "show_tab('tab-history')", "History", id="strategies.tab_history",
                show=False, tooltip="Show past runs of the current portfolio"),
        Binding("g", "show_tab('tab-sweep')", "Sweep results", id="strategies.tab_sweep",
                show=False, tooltip="Show the ranked sweep and its heatmap"),
        Binding("F", "show_tab('tab-walkforward')", "Walk-forward results",
                id="strategies.tab_walkforward", show=False,
                tooltip="Show the last walk-forward: windows, stitched equity, chosen parameters"),
        Binding("s", "focus_strategies", "Strategies", id="strategies.focus_list", show=False,
                tooltip="Move to the list of strategies"),
    ]

    DEFAULT_CSS = """
    StrategiesScreen #st-columns { height: 1fr; }
    StrategiesScreen #st-left { width: 26; }
    StrategiesScreen.-wide #st-left { width: 36; }
    StrategiesScreen #st-right { width: 1fr; }
    StrategiesScreen #st-tabs { height: 1fr; }
    StrategiesScreen TabPane { padding: 0; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.report: BacktestReport | None = None
        self.report_tz = "UTC"
        self.sweep_report: SweepReport | None = None
        self.walk_report: WalkForwardReport | None = None
        self._cancel: threading.Event | None = None  # set to stop the running sweep or walk
        self._ready = False
        self._queued: list[str] = []

    # -- layout -------------------------------------------------------------------------------

    def compose_body(self) -> Iterator[Widget]:
        market = workbench(self.app).state.market
        with Horizontal(id="st-columns"):
            with Vertical(id="st-left"):
                yield StrategyList(id="strategy-list")
            with Vertical(id="st-right"):
                with TabbedContent(id="st-tabs", initial="tab-setup"):
                    yield SetupTab(symbol=market.symbol, timeframe=market.timeframe,
                                   size_pct=size_of(self._backtest_portfolio()))
                    yield ResultsTab(run_key=self._key("strategies.run_backtest", "r"))
                    yield HistoryTab(run_key=self._key("strategies.run_backtest", "r"))
                    yield SweepTab(sweep_key=self._key("strategies.sweep", "w"))
                    yield WalkForwardTab(walk_key=self._key("strategies.walk_forward", "f"))
                yield RunBar(run_key=self._key("strategies.run_backtest", "r"),
                             sweep_key=self._key("strategies.sweep", "w"),
                             walk_key=self._key("strategies.walk_forward", "f"), id="run-bar")

    # the children this screen talks to

    @property
    def strategy_list(self) -> StrategyList:
        return self.query_one(StrategyList)

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#st-tabs", TabbedContent)

    @property
    def setup_tab(self) -> SetupTab:
        return self.query_one(SetupTab)

    @property
    def form(self) -> SchemaForm | None:
        """The chosen strategy's parameters form, or None."""
        return self.setup_tab.form

    @property
    def infos(self) -> list[StrategyInfo]:
        """The strategies listed on the left."""
        return self.strategy_list.infos

    @property
    def strategy_id(self) -> str | None:
        """The chosen strategy (its form is on the Setup tab)."""
        return self.setup_tab.strategy_id

    @property
    def results_tab(self) -> ResultsTab:
        return self.query_one(ResultsTab)

    @property
    def history_tab(self) -> HistoryTab:
        return self.query_one(HistoryTab)

    @property
    def sweep_tab(self) -> SweepTab:
        return self.query_one(SweepTab)

    @property
    def walkforward_tab(self) -> WalkForwardTab:
        return self.query_one(WalkForwardTab)

    @property
    def run_bar(self) -> RunBar:
        return self.query_one(RunBar)

    def _key(self, binding_id: str, keys: str) -> str:
        """The key to name for an action: one that works here even from a text field."""
        return self.kash.key_label(binding_id, keys)

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width >= WIDE, "-wide")

    def on_mount(self) -> None:
        super().on_mount()
        self.set_class(self.app.size.width >= WIDE, "-wide")

    def on_services_ready(self) -> None:
        if not self._ready:
            self._ready = True
            wb = workbench(self.app)
            wb.changed.subscribe(self, self._workbench_changed)
            self.watch(self.app, "selection", self._portfolio_changed, init=False)
            self.watch(self.app, "catalog", self._portfolio_changed, init=False)
            self._portfolio_changed()
        else:
            self.action_reload()
        self._load_strategies()
        self._refresh_run_state()
        if self.focused is None:
            self.strategy_list.focus()

    def on_screen_resume(self) -> None:
        if self._ready:
            self.action_reload()

    # -- the current portfolio ----------------------------------------------------------------

    def _backtest_portfolio(self) -> Portfolio | None:
        """The current portfolio when it is a BACKTEST one: runs are filed under it."""
        portfolio = self.kash.current_portfolio
        if portfolio is not None and portfolio.mode is PortfolioMode.BACKTEST:
            return portfolio
        return None

    def _portfolio_changed(self, _value: object = None) -> None:
        settings = self.setup_tab.settings
        settings.show_owner(self._backtest_portfolio(), self.kash.current_portfolio)
        self._load_runs()

    # -- strategies ---------------------------------------------------------------------------

    def action_reload(self) -> None:
        self._load_strategies()
        self._load_runs()

    def _load_strategies(self) -> None:
        # refresh: the catalog (and so the palette) learns of newly registered strategies too
        self.call_service(lambda p: (p.strategy.list(), p.strategy.failures()),
                          key="strategies", done=self._strategies_loaded, refresh=True)

    def action_reload_strategies(self) -> None:
        """Read the strategies folders and entry points again (the palette's command)."""
        self.run_bar.say("Reloading the strategies…")

        def reload(p: ServiceProviderProtocol) -> tuple[list[StrategyInfo],
                                                         list[StrategyFailure]]:
            p.strategy.reload()
            return p.strategy.list(), p.strategy.failures()

        def done(result: tuple[list[StrategyInfo], list[StrategyFailure]]) -> None:
            infos, failures = result
            self._strategies_loaded(result)
            failed = f"; {len(failures)} failed (greyed in the list)" if failures else ""
            message = f"Reloaded: {len(infos)} strategies{failed}."
            self.run_bar.say(message)
            self.notify(message, severity="warning" if failures else "information", timeout=6)

        self.call_service(reload, key="strategies", done=done, refresh=True)

    def _strategies_loaded(
        self, result: tuple[list[StrategyInfo], list[StrategyFailure]]
    ) -> None:
        infos, failures = result
        listing = self.strategy_list
        listing.show(infos, keep=self.strategy_id, failures=failures)
        if self.strategy_id is not None and listing.info(self.strategy_id) is None:
            self.setup_tab.strategy_id = None
            self.call_next(self._show_form, None)
        choice = workbench(self.app).state.strategy
        if self.strategy_id is None and choice is not None and listing.info(choice.strategy_id):
            self.call_next(self._show_form, choice.strategy_id, dict(choice.params))
        queued, self._queued = self._queued, []
        for action in queued:
            self.call_after_refresh(self.run_action, action)

    @on(StrategyList.StrategyChosen)
    async def _strategy_chosen(self, event: StrategyList.StrategyChosen) -> None:
        event.stop()
        if event.strategy_id != self.strategy_id:
            await self._show_form(event.strategy_id)
        self.action_show_tab("tab-setup")
        if (form := self.form) is not None:
            form.focus_first()

    async def _show_form(self, strategy_id: str | None, values: dict[str, Any] | None = None
                         ) -> None:
        """Recompose the parameters for ``strategy_id`` (``None``: no strategy)."""
        info = self.strategy_list.info(strategy_id)
        if info is None:
            await self.setup_tab.show_strategy(None)
        else:
            service, sid = self.kash.services.strategy, info.id
            await self.setup_tab.show_strategy(
                info, values, lambda params: service.create_with_params(sid, params))
            self.strategy_list.highlight(sid)
        self._refresh_run_state()

    @on(SchemaForm.Changed)  # after the Setup tab took the values
    def _form_changed(self, event: SchemaForm.Changed) -> None:
        event.stop()
        if event.valid and self.strategy_id is not None:
            # while the user types, the chart redraws once the typing pauses
            workbench(self.app).choose_strategy(
                StrategyChoice(self.strategy_id, dict(event.values)),
                settle=0.3 if event.form.typing else 0.0)
        self._refresh_run_state()

    @on(BacktestSettingsForm.Changed)  # after the Setup tab took the settings
    def _settings_changed(self, event: BacktestSettingsForm.Changed) -> None:
        event.stop()
        self._refresh_run_state()

    async def _workbench_changed(self, state: WorkbenchState) -> None:
        if not self.is_attached:
            return
        self.setup_tab.settings.follow_market(state.market.symbol, state.market.timeframe)
        choice = state.strategy
        if choice is None or self.strategy_list.info(choice.strategy_id) is None:
            return
        if choice.strategy_id != self.strategy_id:
            await self._show_form(choice.strategy_id, dict(choice.params))
        else:
            self.setup_tab.follow_params(choice.params)

    # -- running ------------------------------------------------------------------------------

    def _problem(self) -> str | None:
        """Why nothing can run now, or None."""
        if not self._ready:
            return "Kash is still opening the database."
        if self.run_bar.busy is not None:
            return f"The {self.run_bar.busy} is running…"
        return self.setup_tab.problem()

    def _refresh_run_state(self) -> None:
        if not self._body_mounted:
            return
        self.run_bar.show_state(self._problem())
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "check_strategy":
            try:
                return True if self._check_problem() is None else None
            except Exception:  # noqa: BLE001 - before compose
                return None
        if action == "cancel_job":
            try:
                return self.run_bar.busy in ("sweep", "walk-forward") and self._cancel is not None \
                    and not self._cancel.is_set()
            except Exception:  # noqa: BLE001 - before compose
                return False
        if action in ("run_backtest", "sweep", "walk_forward"):
            try:
                return True if self._problem() is None else None
            except Exception:  # noqa: BLE001 - before compose
                return None
        return True

    def request(self, action: str) -> None:
        """Run ``action`` now, or once the strategies are listed (from the palette)."""
        if self._ready and self.infos:
            self.call_later(self.run_action, action)
        else:
            self._queued.append(action)

    def _request(self) -> BacktestRequest | None:
        if self._problem() is not None:
            return None
        portfolio = self._backtest_portfolio()
        return self.setup_tab.request(portfolio.id if portfolio is not None else None)

    def _start(self, busy: str, message: str) -> Callable[[int, int], None]:
        """``busy`` starts; ``progress(done, total)`` may be called from the worker thread."""
        progress = self.run_bar.start(busy)
        self._refresh_run_state()
        self.run_bar.say(message)
        return progress

    def _finish(self, error: str = "") -> None:
        self._cancel = None
        self.run_bar.finish(error)
        self._refresh_run_state()

    def _failed(self, sentence: str) -> None:
        self._finish(sentence)
        self.notify(sentence, severity="error", timeout=8)

    def action_run_backtest(self) -> None:
        request = self._request()
        if request is None:
            self.notify(self._problem() or "Nothing to run yet.", severity="warning", timeout=4)
            return
        progress = self._start("backtest", f"Running {request.strategy_id} on "
                               f"{request.symbol} {request.timeframe}…")
        self.kash.call_service(
            lambda p: in_exchange_tz(p, p.trading.run_backtest(request, progress=progress)),
            done=self._backtest_done, failed=self._failed, refresh=False)

    def _backtest_done(self, result: tuple[BacktestReport, str]) -> None:
        report, tz = result
        self._finish()
        self.show_report(report, tz)
        portfolio = self.kash.catalog.portfolio(report.run.portfolio_id)
        where = f" under {portfolio.name}" if portfolio else ""
        self.run_bar.say(f"Run #{report.run.id} stored{where}: total return "
                         f"{format_metric(report.run.metrics.total_return_pct, ' %')}.")
        self._load_runs()
        self._focus_results()

    def show_report(self, report: BacktestReport, tz: str) -> None:
        """Results on screen and in the workbench (the chart marks the fills)."""
        self.report, self.report_tz = report, tz
        order = self.strategy_list.param_order(report.run.strategy_id)
        self.results_tab.show(report, tz, order)
        workbench(self.app).show_backtest(report)

    def _focus_results(self) -> None:
        self.action_show_tab("tab-results")
        self.results_tab.take_focus()

    # -- checks -------------------------------------------------------------------------------

    def _check_problem(self) -> str | None:
        """Why the chosen strategy cannot be checked now, or None."""
        if not self._ready:
            return "Kash is still opening the database."
        if self.run_bar.busy is not None:
            return f"The {self.run_bar.busy} is running…"
        if self.strategy_id is None:
            return "Choose a strategy to check."
        if self.form is not None and not self.form.valid:
            return "Fix the strategy's parameters first."
        return None

    def action_check_strategy(self) -> None:
        problem, info = self._check_problem(), self.strategy_list.info(self.strategy_id)
        if problem is not None or info is None:
            self.notify(problem or "Choose a strategy to check.", severity="warning", timeout=4)
            return
        params = dict(self.setup_tab.values)
        progress = self._start("check", f"Checking {info.name} on 100,000 synthetic bars…")
        sid = info.id
        self.kash.call_service(
            lambda p: p.strategy.check(sid, params, progress=progress),
            done=partial(self._check_done, info.name), failed=self._failed, refresh=False)

    def _check_done(self, name: str, report: CheckReport) -> None:
        from kash_tui.tui.modals.check_report import CheckReportScreen

        self._finish()
        failed = [r.name for r in report.results if r.verdict.value == "fail"]
        self.run_bar.say(f"{name}: failed {', '.join(failed)}." if failed
                         else f"{name} passed its checks.")
        self.app.push_screen(CheckReportScreen(name, report))

    # -- past runs ----------------------------------------------------------------------------

    def _load_runs(self) -> None:
        if not self._ready:
            return
        portfolio = self._backtest_portfolio()
        portfolio_id = portfolio.id if portfolio is not None else None
        self.history_tab.show_owner(portfolio)
        self.call_service(lambda p: (p.trading.list_runs(portfolio_id),
                                     p.trading.list_walk_forwards(portfolio_id)), key="runs",
                          done=self._runs_loaded,
                          failed=partial(self.notify, severity="error", timeout=8))

    def _runs_loaded(self, result: tuple[list[BacktestRun], list[WalkForwardRun]]) -> None:
        runs, walks = result
        self.history_tab.show(list(runs), self.strategy_list.param_order, list(walks))

    @on(HistoryTab.RunChosen)
    def _run_chosen(self, event: HistoryTab.RunChosen) -> None:
        event.stop()
        self.run_bar.say(f"Opening run #{event.run_id}…")
        run_id = event.run_id
        self.call_service(lambda p: in_exchange_tz(p, p.trading.get_run(run_id)), key="reopen",
                          done=self._run_reopened, failed=self._failed)

    def _run_reopened(self, result: tuple[BacktestReport, str]) -> None:
        report, tz = result
        self.run_bar.error = ""
        self.setup_tab.settings.load_run(report.run)
        self.show_report(report, tz)  # the workbench sets the form to the run's parameters
        self._refresh_run_state()
        self.run_bar.say(
            f"Run #{report.run.id} reopened; {self._key('strategies.run_backtest', 'r')} runs "
            "it again.")
        self._focus_results()

    # -- sweeps -------------------------------------------------------------------------------

    def action_sweep(self) -> None:
        form, info = self.form, self.strategy_list.info(self.strategy_id)
        if self._request() is None or form is None or info is None:
            self.notify(self._problem() or "Nothing to sweep yet.", severity="warning", timeout=4)
            return
        numeric = [s for s in form.specs if s.numeric]
        if not numeric:
            self.notify(f"{info.name} has no numeric parameter to sweep.", timeout=4)
            return
        self.app.push_screen(SweepForm(info.name, numeric, dict(self.setup_tab.values)),
                             self._sweep_planned)

    def _sweep_planned(self, plan: SweepPlan | None) -> None:
        request = self._request()
        if plan is None or request is None:
            return
        count = math.prod(len(v) for v in plan.grid.values())
        split = f", {plan.oos * 100:g} % held out" if plan.oos else ""
        progress = self._cancellable(self._start(
            "sweep", f"Sweeping {count:,} combinations{split}… Esc cancels."))

        def sweep(p: ServiceProviderProtocol) -> SweepReport | None:
            try:
                return p.trading.sweep(request, plan.grid, rank_by=plan.rank_by,
                                       progress=progress, oos=plan.oos)
            except JobCancelled:
                return None

        self.kash.call_service(sweep, done=self._sweep_done, failed=self._failed, refresh=False)

    def _cancellable(self, progress: Callable[[int, int], None]) -> Callable[[int, int], None]:
        """``progress`` that raises :class:`JobCancelled` once Escape was pressed (the grid
        executor stops at its next step and the job returns None)."""
        cancelled = self._cancel = threading.Event()

        def step(done: int, total: int) -> None:  # in the worker thread
            if cancelled.is_set():
                raise JobCancelled
            progress(done, total)

        return step

    def action_cancel_job(self) -> None:
        if self._cancel is None or self.run_bar.busy not in ("sweep", "walk-forward"):
            return
        self._cancel.set()
        self.run_bar.say(f"Cancelling the {self.run_bar.busy}…")
        self.refresh_bindings()

    def _cancelled(self, what: str) -> None:
        self._finish()
        self.run_bar.say(f"The {what} was cancelled; nothing was stored.")
        self.notify(f"The {what} was cancelled.", timeout=4)

    def _sweep_done(self, report: SweepReport | None) -> None:
        if report is None:
            self._cancelled("sweep")
            return
        self._finish()
        self.sweep_report = report
        oos = report.oos
        held = (f" Out of sample the chosen cell returned "
                f"{format_metric(oos.out_of_sample.total_return_pct, ' %')} (in sample "
                f"{format_metric(oos.in_sample.total_return_pct, ' %')})." if oos else "")
        self.run_bar.say(f"Swept {len(report.rows) + len(report.skipped)} combinations; "
                         f"{len(report.rows)} valid.{held}")
        self.sweep_tab.show(report)
        self.action_show_tab("tab-sweep")
        self.sweep_tab.table.focus()

    @on(SweepTab.RowChosen)
    def _sweep_row_chosen(self, event: SweepTab.RowChosen) -> None:
        event.stop()
        if (form := self.form) is None:
            return
        form.set_values(event.params)
        self.action_show_tab("tab-setup")
        form.focus_first()
        order = self.strategy_list.param_order(self.strategy_id or "")
        run_key = self._key("strategies.run_backtest", "r")  # the focus is in a field now
        self.notify(f"Loaded {params_text(event.params, order)}; {run_key} runs it.", timeout=4)

    # -- walk-forward -------------------------------------------------------------------------

    def action_walk_forward(self) -> None:
        form, info = self.form, self.strategy_list.info(self.strategy_id)
        request = self._request()
        if request is None or form is None or info is None:
            self.notify(self._problem() or "Nothing to walk forward yet.", severity="warning",
                        timeout=4)
            return
        numeric = [s for s in form.specs if s.numeric]
        if not numeric:
            self.notify(f"{info.name} has no numeric parameter to sweep.", timeout=4)
            return
        self.app.push_screen(
            WalkForwardForm(info.name, numeric, dict(self.setup_tab.values), request.timeframe),
            self._walk_planned)

    def _walk_planned(self, plan: WalkForwardPlan | None) -> None:
        request = self._request()
        if plan is None or request is None:
            return
        count = math.prod(len(v) for v in plan.grid.values())
        progress = self._cancellable(self._start(
            "walk-forward", f"Walking forward, {count:,} combinations a window… Esc cancels."))

        def walk(p: ServiceProviderProtocol) -> tuple[WalkForwardReport, str] | None:
            try:
                report = p.trading.walk_forward(
                    request, plan.grid, train=plan.train, test=plan.test,
                    anchored=plan.anchored, rank_by=plan.rank_by, progress=progress)
            except JobCancelled:
                return None
            return walk_in_exchange_tz(p, report)

        self.kash.call_service(walk, done=self._walk_done, failed=self._failed, refresh=False)

    def _walk_done(self, result: tuple[WalkForwardReport, str] | None) -> None:
        if result is None:
            self._cancelled("walk-forward")
            return
        self._finish()
        report, tz = result
        self.show_walk_forward(report, tz)
        eff = report.efficiency
        self.run_bar.say(f"wf{report.id} stored: {len(report.windows)} windows, efficiency "
                         f"{'n/a' if eff is None else f'{eff:.2f}'}.")
        self._load_runs()

    def show_walk_forward(self, report: WalkForwardReport, tz: str) -> None:
        self.walk_report = report
        order = self.strategy_list.param_order(report.request.strategy_id)
        self.walkforward_tab.show(report, tz, order)
        self.action_show_tab("tab-walkforward")

    @on(HistoryTab.WalkForwardChosen)
    def _walk_chosen(self, event: HistoryTab.WalkForwardChosen) -> None:
        event.stop()
        self.run_bar.say(f"Opening walk-forward wf{event.run_id}…")
        run_id = event.run_id
        self.call_service(lambda p: walk_in_exchange_tz(p, p.trading.get_walk_forward(run_id)),
                          key="reopen", done=self._walk_reopened, failed=self._failed)

    def _walk_reopened(self, result: tuple[WalkForwardReport, str]) -> None:
        report, tz = result
        self.run_bar.error = ""
        self._refresh_run_state()
        self.show_walk_forward(report, tz)
        self.run_bar.say(f"Walk-forward wf{report.id} reopened.")

    # -- moving around ------------------------------------------------------------------------

    def action_show_tab(self, tab_id: str) -> None:
        self.tabs.active = tab_id
        if tab_id == "tab-history":  # "Enter reopens one" works at once
            self.history_tab.table.focus()
        elif tab_id == "tab-walkforward":
            self.walkforward_tab.take_focus()

    def action_focus_strategies(self) -> None:
        self.strategy_list.focus()


__all__ = ["WIDE", "StrategiesScreen"]
