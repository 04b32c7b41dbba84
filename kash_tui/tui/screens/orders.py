"""Orders: the account of the current portfolio, its positions, open orders and recent activity.

A PAPER or LIVE portfolio is followed live: while this place is on screen an
:class:`~kash_tui.tui.account_feed.AccountFeed` keeps the account, positions and open orders
fresh (the trading service's ``watch_account``: the broker's stream, or polling) and the status
line under the tables says how fresh, ticking each second. Leaving the place, choosing another
portfolio or quitting stops the watch.

A BACKTEST portfolio shows its latest run through the same ``TradingAdapter``, read-only.

The screen coordinates: each panel is a widget of :mod:`kash_tui.tui.widgets.orders` that is
given data and posts what the user asks for; the screen reads the services and acts.

Keys: ``n`` new order (the ticket, :func:`kash_tui.tui.navigation.open_ticket`), ``p`` another
portfolio, ``r`` refresh, ``t`` recent orders / fills; on the positions ``c`` closes one, on the
open orders ``x`` cancels one, each after a confirmation.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import DataTable

from kash_tui.tui.account_reads import Activity, BacktestView, read_activity, read_backtest
from kash_tui.tui.account_feed import (
    AccountFeed,
    FeedChanged,
    FeedFailed,
    FeedStarted,
    SnapshotArrived,
)
from kash_tui.tui.commands import PaletteCommand, palette_command
from kash_tui.tui.navigation import TRADING_MODES, open_ticket, order_sent, trading_portfolio
from kash_tui.tui.places import PlaceScreen
from kash_tui.tui.trade_actions import cancel_order, close_position
from kash_tui.tui.widgets.orders import (
    AccountPanel,
    ActivityTable,
    EmptyNotice,
    FeedStatusLine,
    OpenOrdersTable,
    PortfolioBar,
    PositionsTable,
    how_to_trade,
)

if TYPE_CHECKING:
    import threading

    from kash_tui.domains.trading import AccountWatch, FeedStatus, Order
    from kash_tui.domains.workspace import Portfolio
    from kash_tui.tui.app import KashApp
    from kash_tui.tui.modals.order_ticket import TicketDefaults

BODY_READ = "orders.body"
"""The key of the reads of what the tables show (recent activity, a backtest's run): a newer
read replaces one still running, and leaving the portfolio cancels it."""


# -- the place -------------------------------------------------------------------------------


class OrdersScreen(PlaceScreen):
    PLACE = "orders"

    DEFAULT_CSS = """
    OrdersScreen #orders-tables { height: 1fr; }
    OrdersScreen #orders-tables KashTable { height: 1fr; }
    """

    BINDINGS: ClassVar = [
        Binding("n", "new_order", "New order", id="orders.new",
                tooltip="Open the order ticket for the current paper or live portfolio"),
        Binding("p", "choose_portfolio", "Portfolio", id="orders.portfolio",
                tooltip="Choose the portfolio this place shows (it becomes the current one)"),
        # the watch keeps things fresh: r stays in the Keys panel, out of the 80-column footer
        Binding("r", "refresh", "Refresh", show=False, id="orders.refresh",
                tooltip="Read the account, positions and orders again now"),
        Binding("t", "toggle_activity", "Fills/orders", id="orders.activity",
                tooltip="Show recent orders or fills in the lowest table"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.account_feed = AccountFeed(self)
        self._shown: tuple[int, str] | None = None  # (portfolio id, mode) on screen
        self._feed: FeedStatus | None = None
        self._feed_problem = ""  # why the watch could not start
        self._backtest_label = ""
        self._activity: Activity | None = None
        self._subscribed = False

    # -- layout and the children it talks to --------------------------------------------------

    def compose_body(self) -> Iterator[Widget]:
        yield PortfolioBar(id="orders-bar")
        yield AccountPanel("", id="account")
        yield EmptyNotice(id="orders-empty")
        with Vertical(id="orders-tables"):
            yield PositionsTable(id="positions", title="Positions")
            yield OpenOrdersTable(id="open-orders", title="Open orders")
            yield ActivityTable(id="activity", title="Recent orders")
        yield FeedStatusLine(id="feed-status")

    @property
    def portfolio_bar(self) -> PortfolioBar:
        return self.query_one(PortfolioBar)

    @property
    def account_panel(self) -> AccountPanel:
        return self.query_one(AccountPanel)

    @property
    def empty_notice(self) -> EmptyNotice:
        return self.query_one(EmptyNotice)

    @property
    def positions(self) -> PositionsTable:
        return self.query_one(PositionsTable)

    @property
    def open_orders(self) -> OpenOrdersTable:
        return self.query_one(OpenOrdersTable)

    @property
    def activity_table(self) -> ActivityTable:
        return self.query_one(ActivityTable)

    @property
    def feed_line(self) -> FeedStatusLine:
        return self.query_one(FeedStatusLine)

    def _body_ready(self) -> bool:
        """The body is mounted (it is, once the services are ready)."""
        return bool(self.query(PositionsTable))

    @property
    def _watch(self) -> AccountWatch | None:
        """The running account watch (None when stopped)."""
        return self.account_feed.watch

    @property
    def stopping(self) -> list[threading.Thread]:
        """Threads stopping old watches (tests join them)."""
        return self.account_feed.stopping

    # -- its life -----------------------------------------------------------------------------

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(1.0, self._tick)

    def on_services_ready(self) -> None:
        if not self._subscribed:
            self._subscribed = True
            self.watch(self.app, "catalog", self._catalog_changed)
            self.watch(self.app, "selection", self._catalog_changed)
            self.app.mode_change_signal.subscribe(self, self._mode_changed)
            order_sent(self.app).subscribe(self, self._order_sent, immediate=True)
        self._follow()
        if self.focused is None:
            self._focus_first()

    def on_unmount(self) -> None:
        self.account_feed.stop()

    # -- which portfolio ----------------------------------------------------------------------

    @property
    def portfolio(self) -> Portfolio | None:
        return self.kash.current_portfolio

    def _active(self) -> bool:
        return (
            self.kash.status == "ready" and self.app.current_mode == self.PLACE
            and self._body_ready()
        )

    def _mode_changed(self, mode: str) -> None:
        if mode == self.PLACE:
            if self.kash.status == "ready" and self._body_ready():
                self._follow()
        else:
            self._leave()

    def _catalog_changed(self, _value: object = None) -> None:
        if self._body_ready():
            self._fill_selector()
        if self._active():
            self._follow()

    def _fill_selector(self) -> None:
        ordered = sorted(
            self.kash.catalog.portfolios,
            key=lambda p: (p.mode.value not in TRADING_MODES, p.workspace_name, p.name),
        )
        self.portfolio_bar.fill(ordered, self.kash.selection.portfolio_id)

    @on(PortfolioBar.PortfolioChosen)
    def _portfolio_chosen(self, message: PortfolioBar.PortfolioChosen) -> None:
        message.stop()
        if message.portfolio_id != self.kash.selection.portfolio_id:
            self.kash.use_portfolio(message.portfolio_id)

    def _follow(self) -> None:
        """Show the current portfolio: start its watch, or load its backtest, or say how."""
        portfolio = self.portfolio
        key = (portfolio.id, portfolio.mode.value) if portfolio else None
        if key is not None and key == self._shown:
            return
        self._leave()
        self._shown = key
        self._fill_selector()
        self.portfolio_bar.show_mode(portfolio)
        self._clear_tables()
        if portfolio is None:
            self._show_empty(self._how_to_trade("No portfolio is chosen."))
        elif portfolio.mode.value in TRADING_MODES:
            self._show_empty("")
            self._start_watch(portfolio)
        else:
            self._show_empty("")
            self._load_backtest(portfolio)
        self.refresh_bindings()

    def _leave(self) -> None:
        self.account_feed.stop()
        self.workers.cancel_group(self, f"service:{BODY_READ}")  # its answer is for no one now
        self._shown = None

    def _how_to_trade(self, headline: str) -> Text:
        workspace = self.kash.current_workspace
        return how_to_trade(
            headline,
            has_trading_portfolio=any(
                p.mode.value in TRADING_MODES for p in self.kash.catalog.portfolios),
            workspace=workspace.name if workspace else None,
            portfolio_key=self.kash.key_label("orders.portfolio", "p"),
        )

    # -- what is shown ------------------------------------------------------------------------

    def _show_empty(self, message: str | Text) -> None:
        shown = self.empty_notice.show(message)
        self.query_one("#orders-tables").display = not shown
        self.account_panel.display = not shown
        self.feed_line.display = not shown

    def _clear_tables(self) -> None:
        self._activity = None
        self._feed = None
        self._feed_problem = ""
        self._backtest_label = ""
        self.positions.clear()
        self.open_orders.clear()
        self.activity_table.forget()
        self.account_panel.forget()
        self._render_status()

    def _focus_first(self) -> None:
        if self.query_one("#orders-tables").display:
            self.positions.focus()
        else:
            self.portfolio_bar.select.focus()

    def _tick(self) -> None:
        if self._active() and self.account_feed.watch is not None:
            self._render_status()

    def _render_status(self) -> None:
        if self._body_ready():
            self.feed_line.show(self._feed, problem=self._feed_problem,
                                backtest_label=self._backtest_label,
                                connecting=self._shown is not None)

    # -- a PAPER or LIVE account: its feed ----------------------------------------------------

    def _start_watch(self, portfolio: Portfolio) -> None:
        self.account_panel.show_waiting(
            f"Reading the {portfolio.mode.value} account on {portfolio.connection_name}…")
        self.account_feed.start(portfolio.id)
        self._load_activity()
        self._render_status()

    @on(FeedStarted)
    def _feed_started(self, message: FeedStarted) -> None:
        message.stop()
        if not self.account_feed.is_current(message):
            return
        if message.status is not None and self._feed is None:
            self._feed = message.status
        self._render_status()
        self.refresh_bindings()

    @on(FeedFailed)
    def _feed_failed(self, message: FeedFailed) -> None:
        message.stop()
        if not self.account_feed.is_current(message) or not self._body_ready():
            return
        self._feed_problem = message.sentence
        self.account_panel.show_problem(message.sentence)
        self._render_status()

    @on(SnapshotArrived)
    def _snapshot(self, message: SnapshotArrived) -> None:
        message.stop()
        if not self.account_feed.is_current(message) or not self._body_ready():
            return
        snapshot = message.snapshot
        self._feed_problem = ""
        self.account_panel.show_account(snapshot.account)
        self.positions.show(snapshot.positions)
        self.open_orders.show(snapshot.orders)
        if message.orders_changed:
            self._load_activity()  # something filled or was cancelled
        self._render_status()
        self.refresh_bindings()

    @on(FeedChanged)
    def _feed_changed(self, message: FeedChanged) -> None:
        message.stop()
        if not self.account_feed.is_current(message):
            return
        self._feed = message.status
        if message.status.state.value == "down" and message.status.updated_at is None:
            # never read yet: say so where "Reading the account…" was, at once
            self.account_panel.show_problem(
                f"{message.status.message or 'The broker cannot be reached.'} Kash keeps "
                f"trying; press {self.kash.key_label('orders.refresh', 'r')} to try again now.")
        self._render_status()

    def _load_activity(self) -> None:
        portfolio = self._trading()
        if portfolio is None:
            return
        portfolio_id = portfolio.id
        self.call_service(
            lambda provider: read_activity(provider, portfolio_id),
            key=BODY_READ, done=self._activity_read, failed=self._activity_failed,
        )

    def _activity_read(self, activity: Activity) -> None:
        if self._body_ready():
            self._activity = activity
            self.activity_table.show(activity.orders, activity.trades)
            self.refresh_bindings()

    def _activity_failed(self, sentence: str) -> None:
        if self._body_ready():
            self.activity_table.show_problem(sentence)

    # -- a BACKTEST portfolio: its latest run, read-only --------------------------------------

    def _load_backtest(self, portfolio: Portfolio) -> None:
        portfolio_id = portfolio.id
        self.account_panel.show_waiting("Reading the latest run…")
        self.call_service(
            lambda provider: read_backtest(provider, portfolio_id),
            key=BODY_READ, done=self._backtest_read, failed=self._backtest_failed,
        )

    def _backtest_read(self, view: BacktestView) -> None:
        if not self._body_ready():
            return
        self._backtest_label = view.run_label
        self.account_panel.show_account(view.account, note=f"Backtest {view.run_label}")
        self.positions.show(view.positions)
        self.open_orders.show(())
        self._activity = Activity(view.orders, view.trades, can_trade=False)
        self.activity_table.show(view.orders, view.trades)
        self._render_status()
        self.refresh_bindings()

    def _backtest_failed(self, sentence: str) -> None:
        if self._body_ready():
            self._show_empty(self._how_to_trade(sentence))
            self._focus_first()

    # -- actions ------------------------------------------------------------------------------

    def _trading(self) -> Portfolio | None:
        portfolio = self.portfolio
        if portfolio is None or portfolio.mode.value not in TRADING_MODES:
            return None
        return portfolio

    def _can_trade(self) -> bool:
        """The tables' keys act: a PAPER or LIVE portfolio whose adapter can trade."""
        return self._trading() is not None and (self._activity is None
                                                or self._activity.can_trade)

    def action_new_order(self, defaults: TicketDefaults | None = None) -> None:
        portfolio = self._trading()
        if portfolio is None:
            key = self.kash.key_label("orders.portfolio", "p")
            self.notify(f"Orders go through a paper or live portfolio: press {key} to choose one.",
                        severity="warning", timeout=5)
            return
        open_ticket(self.kash, portfolio, defaults)

    def action_choose_portfolio(self) -> None:
        self.portfolio_bar.open()

    def action_refresh(self) -> None:
        portfolio = self.portfolio
        if portfolio is None:
            return
        if portfolio.mode.value not in TRADING_MODES or self.account_feed.watch is None:
            self._shown = None  # a backtest, or a watch that could not start: start again
            self._follow()
            return
        self.poke()

    def poke(self) -> None:
        """Ask the watch for a fresh snapshot and re-read the recent activity."""
        self.account_feed.refresh()
        self._load_activity()

    def _order_sent(self, _order: Order) -> None:
        if self.account_feed.watch is not None:
            self.poke()

    def action_toggle_activity(self) -> None:
        self.activity_table.toggle()

    @on(PositionsTable.CloseRequested)
    def _close_position(self, message: PositionsTable.CloseRequested) -> None:
        message.stop()
        portfolio = self._trading()
        if portfolio is not None:
            close_position(self.kash, portfolio, message.symbol, message.qty, then=self._acted)

    @on(OpenOrdersTable.CancelRequested)
    def _cancel_order(self, message: OpenOrdersTable.CancelRequested) -> None:
        message.stop()
        portfolio = self._trading()
        if portfolio is not None:
            cancel_order(self.kash, portfolio, message.order_id, message.description,
                         then=self._acted)

    def _acted(self, message: str) -> None:
        self.notify(message, timeout=5)
        self.poke()

    def refresh_bindings(self) -> None:
        """Tell the tables whether their keys act here (attributes down), then redraw the
        footer."""
        if self._body_ready():
            self.positions.can_act = self.open_orders.can_act = self._can_trade()
        super().refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new_order":
            # None: shown greyed out; False: hidden (nothing to act on in this portfolio)
            if self._trading() is None:
                return None
            return self._can_trade() or False
        if action in ("choose_portfolio", "refresh", "toggle_activity"):
            return self.kash.status == "ready"
        return True

    @on(DataTable.RowHighlighted)
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()


@palette_command
def order_commands(app: KashApp) -> Iterator[PaletteCommand]:
    if app.status != "ready":
        return
    portfolio = trading_portfolio(app)
    if portfolio is not None:
        yield PaletteCommand(
            "New order…", partial(open_ticket, app, portfolio),
            f"Order ticket for {portfolio.name} ({portfolio.mode.value})",
        )


__all__ = ["OrdersScreen"]
