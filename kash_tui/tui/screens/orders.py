"""Orders: the account of the current portfolio, its positions, open orders and recent activity.

A PAPER or LIVE portfolio is followed live: while this place is on screen the trading service's
``watch_account`` keeps the account, positions and open orders fresh (the broker's stream, or
polling) and the status line under the tables says how fresh, ticking each second. Leaving the
place, choosing another portfolio or quitting stops the watch. Its callbacks arrive on a
background thread and are handed to the screen with ``post_message`` (thread-safe, never
blocks the watch's thread).

A BACKTEST portfolio shows its latest run through the same ``TradingAdapter``, read-only.

Keys: ``n`` new order (the ticket, :mod:`kash_tui.tui.ticket`), ``p`` another portfolio, ``r``
refresh, ``t`` recent orders / fills; on the positions ``c`` closes one, on the open orders
``x`` cancels one, each after a confirmation.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar
from weakref import WeakKeyDictionary

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import App
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Label, Select, Static

from kash_tui.tui.commands import PaletteCommand, palette_command
from kash_tui.tui.screens import PlaceScreen
from kash_tui.tui.screens.workspaces import KashTable
from kash_tui.tui.ticket import (
    OrderTicket,
    TicketDefaults,
    TradeConfirm,
    money,
    price,
    quantity,
)

if TYPE_CHECKING:
    from kash_tui.domains.trading import (
        Account,
        AccountSnapshot,
        AccountWatch,
        FeedStatus,
        Order,
        Position,
        Trade,
    )
    from kash_tui.domains.workspace import Portfolio
    from kash_tui.provider import ServiceProviderProtocol
    from kash_tui.tui.app import KashApp

TRADING_MODES = ("PAPER", "LIVE")
RECENT_LIMIT = 50
STALE_AFTER_SECONDS = 30.0
"""Data older than this is marked as stale on the status line."""

# The Orders screen of each app, so a ticket opened elsewhere can ask it to refresh.
_SCREENS: WeakKeyDictionary[App, OrdersScreen] = WeakKeyDictionary()


def now() -> datetime:
    """The clock of the status line (tests replace it)."""
    return datetime.now(UTC)


def when(moment: datetime | None) -> str:
    """A time in the local zone: ``14:03:12`` today, ``03-14 14:03`` before."""
    if moment is None:
        return "–"
    local = moment.astimezone()
    if local.date() == datetime.now().astimezone().date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%m-%d %H:%M")


def age_text(seconds: float) -> str:
    if seconds < 1.5:
        return "updated just now"
    if seconds < 60:
        return f"updated {int(seconds)} s ago"
    if seconds < 3600:
        minutes, rest = divmod(int(seconds), 60)
        return f"updated {minutes} min {rest} s ago"
    return f"updated {int(seconds // 3600)} h ago"


QTY_DECIMALS = 6
"""Quantities show at most this many decimals (a backtest's float quantities have 15 digits)."""


def qty_text(value: Decimal | float | int | None) -> str:
    """``0.392209881788748`` -> ``0.39221``; ``10`` -> ``10``; ``None`` -> ``–``."""
    if value is None:
        return "–"
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return quantity(number.quantize(Decimal(1).scaleb(-QTY_DECIMALS), ROUND_HALF_EVEN))


def price_text(value: Decimal | float | None) -> str:
    """Cents from a dollar up (``100.7634999999999934`` -> ``100.76``), four decimals below
    (``0.0125``); ``None`` -> ``–``."""
    if value is None:
        return "–"
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    places = Decimal("0.01") if abs(number) >= 1 else Decimal("0.0001")
    return price(number.quantize(places, ROUND_HALF_EVEN))


def money_text(value: Decimal | float | None, *, sign: bool = False) -> str:
    """Money in cents, never ``-0.00`` (a backtest's cash of -1e-12 is 0.00)."""
    if value is None:
        return "–"
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    number = number.quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    return money(number.copy_abs() if number.is_zero() else number, sign=sign)


def order_price_text(order: Order) -> str:
    parts = []
    if order.limit_price is not None:
        parts.append(price_text(order.limit_price))
    if order.stop_price is not None:
        parts.append(f"stop {price_text(order.stop_price)}")
    if order.trail_percent is not None:
        parts.append(f"trail {quantity(order.trail_percent)}%")
    if order.trail_price is not None:
        parts.append(f"trail ${price_text(order.trail_price)}")
    return " ".join(parts) or "market"


def order_amount(order: Order) -> str:
    if order.qty is not None:
        return qty_text(order.qty)
    if order.notional is not None:
        return f"${money_text(order.notional)}"
    return "–"


def describe_order(order: Order) -> str:
    """``buy 10 AAPL limit 150.00 day``."""
    words = [order.side.value, order_amount(order), order.symbol,
             order.order_type.replace("_", "-")]
    if order.limit_price is not None or order.stop_price is not None or \
            order.trail_percent is not None or order.trail_price is not None:
        words.append(order_price_text(order))
    words.append(order.time_in_force)
    return " ".join(words)


def _signed(value: Any, text: str) -> Text:
    style = "green" if value and value > 0 else "red" if value and value < 0 else ""
    return Text(text, style=style, justify="right")


def _right(text: str) -> Text:
    return Text(text, justify="right")


# -- what the workers read -------------------------------------------------------------------


@dataclass(frozen=True)
class Activity:
    """Recent (closed) orders and fills of a broker account."""

    orders: tuple[Order, ...]
    trades: tuple[Trade, ...]
    can_trade: bool = True


@dataclass(frozen=True)
class BacktestView:
    """The latest run of a BACKTEST portfolio seen through its adapter."""

    run_id: int | None
    run_label: str
    account: Account
    positions: tuple[Position, ...]
    orders: tuple[Order, ...]
    trades: tuple[Trade, ...]


def read_activity(provider: ServiceProviderProtocol, portfolio_id: int) -> Activity:
    adapter = provider.trading.resolve_trading_adapter(portfolio_id)
    orders = [o for o in adapter.get_orders("closed") if not o.is_open]
    orders.sort(key=lambda o: o.submitted_at, reverse=True)
    trades = sorted(adapter.get_trades(limit=RECENT_LIMIT), key=lambda t: t.time, reverse=True)
    capabilities = getattr(adapter, "capabilities", None)
    return Activity(
        tuple(orders[:RECENT_LIMIT]), tuple(trades[:RECENT_LIMIT]),
        can_trade=bool(getattr(capabilities, "can_trade", True)),
    )


def read_backtest(provider: ServiceProviderProtocol, portfolio_id: int) -> BacktestView:
    adapter = provider.trading.resolve_trading_adapter(portfolio_id)
    account = adapter.get_account()
    positions = tuple(adapter.get_positions())
    orders = tuple(sorted(adapter.get_orders("all"), key=lambda o: o.submitted_at, reverse=True))
    trades = tuple(sorted(adapter.get_trades(), key=lambda t: t.time, reverse=True))
    runs = provider.trading.list_runs(portfolio_id)
    latest = max(runs, key=lambda r: r.id) if runs else None
    label = (
        f"run #{latest.id}: {latest.symbol} {latest.timeframe}, {latest.strategy_id}"
        if latest else "latest run"
    )
    return BacktestView(latest.id if latest else None, label, account, positions,
                        orders[:RECENT_LIMIT], trades[:RECENT_LIMIT])


# -- messages from the watch's thread --------------------------------------------------------


class SnapshotArrived(Message):
    def __init__(self, generation: int, snapshot: AccountSnapshot) -> None:
        super().__init__()
        self.generation = generation
        self.snapshot = snapshot


class FeedChanged(Message):
    def __init__(self, generation: int, status: FeedStatus) -> None:
        super().__init__()
        self.generation = generation
        self.status = status


def _stop_quietly(watch: AccountWatch) -> None:
    try:
        watch.stop()
    except Exception:  # noqa: BLE001 - a watch that fails to stop is gone anyway
        pass


# -- tables ----------------------------------------------------------------------------------


def _columns(*labels: str) -> tuple[Any, ...]:
    """Column labels; a label ending in ``>`` is a number column, its label right-aligned."""
    return tuple(
        Text(label[:-1], justify="right") if label.endswith(">") else label for label in labels
    )


class MeasuredTable(KashTable):
    """A table that sizes its columns to the rows as they are loaded, not on the next idle: a
    reload (many per minute while watching) never shows columns cut to their labels."""

    def reload(self, rows: list[tuple[str, tuple[object, ...]]], keep: str | None) -> None:
        super().reload(rows, keep)
        columns = list(self.columns.values())
        for _key, cells in rows:
            for column, cell in zip(columns, cells, strict=False):
                width = cell.cell_len if isinstance(cell, Text) else cell_len(str(cell))
                if width > column.content_width:
                    column.content_width = width
        self.refresh(layout=True)


class PositionsTable(MeasuredTable):
    COLUMNS = _columns("Symbol", "Qty>", "Avg entry>", "Price>", "Value>", "Unrealized P/L>")
    BINDINGS: ClassVar = [
        Binding("c", "screen.close_position", "Close", id="orders.close_position",
                tooltip="Close the highlighted position with a market order (asks first)"),
    ]


class OpenOrdersTable(MeasuredTable):
    COLUMNS = _columns("Time", "Symbol", "Side", "Qty>", "Type", "Price", "TIF", "Status")
    BINDINGS: ClassVar = [
        Binding("x,delete", "screen.cancel_order", "Cancel order", id="orders.cancel_order",
                tooltip="Cancel the highlighted open order (asks first)"),
    ]


class ActivityTable(MeasuredTable):
    COLUMNS = _columns("Time", "Symbol", "Side", "Qty>", "Type", "Status", "Filled>",
                       "Avg price>")
    FILL_COLUMNS = _columns("Time", "Symbol", "Side", "Qty>", "Price>", "Commission>")

    def show_columns(self, columns: tuple[Any, ...]) -> None:
        if tuple(str(c.label) for c in self.columns.values()) != tuple(str(c) for c in columns):
            self.clear(columns=True)
            self.add_columns(*columns)


# -- the place -------------------------------------------------------------------------------


class OrdersScreen(PlaceScreen):
    PLACE = "orders"

    DEFAULT_CSS = """
    OrdersScreen #orders-bar { height: 1; }
    OrdersScreen #orders-bar Label { width: auto; margin: 0 1; color: $text-muted; }
    OrdersScreen #orders-portfolio { width: 42; max-width: 60%; }
    OrdersScreen #orders-mode { width: auto; margin-left: 1; text-style: bold;
                                background: $secondary; color: auto 95%; }
    OrdersScreen #orders-mode.-paper { background: $success; }
    OrdersScreen #orders-mode.-live { background: $error; }
    OrdersScreen #orders-via { width: 1fr; margin-left: 1; color: $text-muted;
                               text-wrap: nowrap; text-overflow: ellipsis; }
    OrdersScreen #account { height: auto; max-height: 3; padding: 0 1; }
    OrdersScreen #orders-tables { height: 1fr; }
    OrdersScreen #orders-tables KashTable { height: 1fr; }
    OrdersScreen #orders-empty { height: 1fr; padding: 1 1; }
    OrdersScreen #feed-status { height: auto; max-height: 3; padding: 0 1;
                                color: $text-muted; }
    OrdersScreen #feed-status.-ok { color: $text-success; }
    OrdersScreen #feed-status.-warn { color: $text-warning; }
    OrdersScreen #feed-status.-down { color: $text-error; text-style: bold; }
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
        self._generation = 0
        self._watch: AccountWatch | None = None
        self._shown: tuple[int, str] | None = None  # (portfolio id, mode) on screen
        self._feed: FeedStatus | None = None
        self._feed_problem = ""  # why the watch could not start
        self._backtest_label = ""
        self._show_fills = False
        self._activity: Activity | None = None
        self._activity_loading = False
        self._activity_again = False
        self._last_signature: tuple[Any, ...] | None = None
        self._subscribed = False
        self.stopping: list[threading.Thread] = []
        """Threads stopping old watches (tests join them)."""

    # -- layout -------------------------------------------------------------------------------

    def compose_body(self) -> Iterator[Widget]:
        with Horizontal(id="orders-bar"):
            yield Label("Portfolio")
            yield Select([], prompt="Choose a portfolio", id="orders-portfolio", compact=True)
            yield Static("", id="orders-mode", markup=False)
            yield Static("", id="orders-via", markup=False)
        yield Static("", id="account")
        empty = Static("", id="orders-empty", markup=False)  # names and broker replies
        empty.display = False
        yield empty
        with Vertical(id="orders-tables"):
            yield PositionsTable(id="positions", title="Positions")
            yield OpenOrdersTable(id="open-orders", title="Open orders")
            yield ActivityTable(id="activity", title="Recent orders")
        yield Static("", id="feed-status", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        _SCREENS[self.app] = self
        self.set_interval(1.0, self._tick)

    def on_services_ready(self) -> None:
        if not self._subscribed:
            self._subscribed = True
            self.watch(self.app, "catalog", self._catalog_changed)
            self.watch(self.app, "selection", self._catalog_changed)
            self.app.mode_change_signal.subscribe(self, self._mode_changed)
        self._follow()
        if self.focused is None:
            self._focus_first()

    def on_unmount(self) -> None:
        self._stop_watch()

    # -- which portfolio ----------------------------------------------------------------------

    @property
    def portfolio(self) -> Portfolio | None:
        return self.kash.current_portfolio

    def _active(self) -> bool:
        return (
            self.kash.status == "ready" and self.app.current_mode == self.PLACE
            and bool(self.query("#positions"))
        )

    def _mode_changed(self, mode: str) -> None:
        if mode == self.PLACE:
            if self.kash.status == "ready" and self.query("#positions"):
                self._follow()
        else:
            self._leave()

    def _catalog_changed(self, _value: object = None) -> None:
        if self.query("#orders-portfolio"):
            self._fill_selector()
        if self._active():
            self._follow()

    def _fill_selector(self) -> None:
        catalog = self.kash.catalog
        ordered = sorted(
            catalog.portfolios,
            key=lambda p: (p.mode.value not in TRADING_MODES, p.workspace_name, p.name),
        )
        select = self.query_one("#orders-portfolio", Select)
        options = [(f"{p.workspace_name} › {p.name} ({p.mode.value})", p.id) for p in ordered]
        # "Choose a portfolio" is a prompt, not a choice: once there is something to choose,
        # the list holds only portfolios (picking the prompt left header and body disagreeing)
        current = self.kash.selection.portfolio_id
        chosen = current is not None and any(p.id == current for p in ordered)
        with self.prevent(Select.Changed):  # filling the list chooses nothing
            select._allow_blank = not chosen  # noqa: SLF001 - Select has no setter for it
            select.set_options(options)
            if chosen:
                select.value = current

    @on(Select.Changed, "#orders-portfolio")
    def _portfolio_chosen(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is Select.NULL:
            return
        if event.value != self.kash.selection.portfolio_id:
            self.kash.use_portfolio(int(event.value))  # type: ignore[arg-type]

    def _follow(self) -> None:
        """Show the current portfolio: start its watch, or load its backtest, or say how."""
        portfolio = self.portfolio
        key = (portfolio.id, portfolio.mode.value) if portfolio else None
        if key is not None and key == self._shown:
            return
        self._leave()
        self._shown = key
        self._fill_selector()
        self._show_mode(portfolio)
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
        self._stop_watch()
        self._shown = None

    def _has_trading_portfolio(self) -> bool:
        return any(p.mode.value in TRADING_MODES for p in self.kash.catalog.portfolios)

    def _how_to_trade(self, headline: str) -> Text:
        text = Text()
        text.append(headline + "\n\n", style="bold")
        if self._has_trading_portfolio():
            key = self.kash.key_label("orders.portfolio", "p")
            text.append(f"Orders go through a paper or live portfolio: press {key} to choose one.")
            return text
        workspace = self.kash.current_workspace
        ws = workspace.name if workspace else "Demo"
        ws_arg = f"'{ws}'" if " " in ws else ws
        text.append("No paper or live portfolio yet. ", style="bold")
        text.append("Kash trades through an Alpaca account. Add a connection (it stores where "
                    "the keys are, never the keys) and a portfolio on it:\n\n")
        text.append("  kash connection add paper --broker alpaca --paper\n", style="bold")
        text.append(f"  kash portfolio create Paper --workspace {ws_arg} --mode paper "
                    "--connection paper\n\n", style="bold")
        text.append("The keys are read from $APCA_API_KEY_ID and $APCA_API_SECRET_KEY. Or do "
                    "both under Workspaces (1): n in Broker connections, then n in Portfolios.")
        return text

    # -- what is shown ------------------------------------------------------------------------

    def _show_mode(self, portfolio: Portfolio | None) -> None:
        badge = self.query_one("#orders-mode", Static)
        badge.remove_class("-paper", "-live", "-backtest")
        via = self.query_one("#orders-via", Static)
        if portfolio is None:
            badge.display = False
            via.update("")
            return
        mode = portfolio.mode.value
        badge.display = True
        badge.update(f" {mode} " if mode != "LIVE" else " LIVE · REAL MONEY ")
        badge.add_class(f"-{mode.lower()}")
        via.update(f"on {portfolio.connection_name}" if portfolio.connection_name
                   else "read-only")

    def _show_empty(self, message: str | Text) -> None:
        empty = self.query_one("#orders-empty", Static)
        shown = bool(message.plain if isinstance(message, Text) else message)
        empty.update(message)
        empty.display = shown
        self.query_one("#orders-tables").display = not shown
        self.query_one("#account").display = not shown
        self.query_one("#feed-status").display = not shown

    def _clear_tables(self) -> None:
        self._activity = None
        self._last_signature = None
        self._feed = None
        self._feed_problem = ""
        self._backtest_label = ""
        for table in self.query(KashTable).results(KashTable):
            table.clear()
        self.query_one("#account", Static).update("")
        self._render_status()

    def _focus_first(self) -> None:
        if self.query_one("#orders-tables").display:
            self.query_one("#positions", PositionsTable).focus()
        else:
            self.query_one("#orders-portfolio", Select).focus()

    def _render_account(self, account: Account, note: str = "") -> None:
        """``Cash 99,580.00 · Equity 103,160.00 · Buying power 201,840.00 USD``, then the
        account's state (or ``note``). Each field is whole: the line wraps between fields."""
        fields = [("Cash", money_text(account.cash)), ("Equity", money_text(account.equity)),
                  ("Buying power", f"{money_text(account.buying_power)} {account.currency}")]
        text = Text()
        for n, (label, value) in enumerate(fields):
            if n:
                text.append(" · ", style="dim")
            text.append(f"{label}\u00a0", style="dim")
            text.append(value.replace(" ", "\u00a0"), style="bold")
        extra = Text()
        if note:
            extra.append(note, style="dim")
        else:
            if account.status:
                extra.append("Account ", style="dim")
                extra.append(account.status)
            if account.trading_blocked:
                extra.append(" · " if extra else "", style="dim")
                extra.append("TRADING BLOCKED", style="bold red")
        if extra:
            text.append("\n")
            text.append_text(extra)
        self.query_one("#account", Static).update(text)

    def _render_positions(self, positions: tuple[Position, ...] | list[Position]) -> None:
        table = self.query_one("#positions", PositionsTable)
        table.reload(
            [
                (
                    p.symbol,
                    (
                        Text(p.symbol, style="bold"),
                        _right(qty_text(p.qty)),
                        _right(price_text(p.avg_entry_price)),
                        _right(price_text(p.current_price)),
                        _right(money_text(p.market_value)),
                        _signed(p.unrealized_pl, money_text(p.unrealized_pl, sign=True)),
                    ),
                )
                for p in sorted(positions, key=lambda p: p.symbol)
            ],
            table.highlighted_key,
        )
        table.border_title = f"Positions ({len(positions)})"

    def _render_open_orders(self, orders: tuple[Order, ...] | list[Order]) -> None:
        table = self.query_one("#open-orders", OpenOrdersTable)
        rows = sorted(orders, key=lambda o: o.submitted_at, reverse=True)
        table.reload(
            [
                (
                    o.id,
                    (
                        when(o.submitted_at), Text(o.symbol, style="bold"), o.side.value,
                        _right(order_amount(o)), o.order_type.replace("_", "-"),
                        order_price_text(o), o.time_in_force, o.status,
                    ),
                )
                for o in rows
            ],
            table.highlighted_key,
        )
        table.border_title = f"Open orders ({len(rows)})"

    def _render_activity(
        self, orders: tuple[Order, ...], trades: tuple[Trade, ...]
    ) -> None:
        table = self.query_one("#activity", ActivityTable)
        keep = table.highlighted_key
        if self._show_fills:
            table.show_columns(ActivityTable.FILL_COLUMNS)
            table.reload(
                [
                    (
                        t.id,
                        (when(t.time), Text(t.symbol, style="bold"), t.side.value,
                         _right(qty_text(t.qty)), _right(price_text(t.price)),
                         _right(money_text(t.commission))),
                    )
                    for t in trades
                ],
                keep,
            )
            table.border_title = f"Fills ({len(trades)})"
        else:
            table.show_columns(ActivityTable.COLUMNS)
            table.reload(
                [
                    (
                        o.id,
                        (when(o.submitted_at), Text(o.symbol, style="bold"), o.side.value,
                         _right(order_amount(o)), o.order_type.replace("_", "-"), o.status,
                         _right(qty_text(o.filled_qty)),
                         _right(price_text(o.filled_avg_price))),
                    )
                    for o in orders
                ],
                keep,
            )
            table.border_title = f"Recent orders ({len(orders)})"
        table.border_subtitle = "t: fills" if not self._show_fills else "t: orders"

    # -- the status line ----------------------------------------------------------------------

    def _tick(self) -> None:
        if self._active() and self._watch is not None:
            self._render_status()

    def status_text(self) -> tuple[str, str]:
        """The status line and its class (-ok, -warn, -down or '')."""
        if self._backtest_label:
            return (f"Backtest {self._backtest_label} · read-only: orders go through a paper "
                    "or live portfolio", "")
        if self._feed_problem:
            return f"✕ Not connected · {self._feed_problem} Press r to try again.", "-down"
        status = self._feed
        if status is None:
            return ("Connecting to the broker…", "-warn") if self._shown else ("", "")
        state = status.state.value
        label = {
            "connecting": "Connecting…",
            "streaming": "● Live (stream)",
            "polling": "● Live (polling)",
            "reconnecting": "⟳ Reconnecting",
            "down": "✕ Down",
            "stopped": "Stopped",
        }.get(state, state)
        parts = [label]
        level = {"streaming": "-ok", "polling": "-ok", "connecting": "-warn",
                 "reconnecting": "-warn", "down": "-down"}.get(state, "")
        if status.updated_at is not None:
            seconds = max(0.0, (now() - status.updated_at).total_seconds())
            parts.append(age_text(seconds))
            if seconds > STALE_AFTER_SECONDS and level == "-ok":
                level = "-warn"
        else:
            parts.append("no data yet")
        if status.attempts:
            parts.append(f"attempt {status.attempts}")
        if status.message:
            parts.append(status.message)
        return " · ".join(parts), level

    def _render_status(self) -> None:
        if not self.query("#feed-status"):
            return
        line = self.query_one("#feed-status", Static)
        text, level = self.status_text()
        line.update(text)
        line.remove_class("-ok", "-warn", "-down")
        if level:
            line.add_class(level)

    # -- a PAPER or LIVE account: the watch ---------------------------------------------------

    def _start_watch(self, portfolio: Portfolio) -> None:
        self._generation += 1
        generation = self._generation
        portfolio_id = portfolio.id
        self._render_account_placeholder(portfolio)

        def on_snapshot(snapshot: AccountSnapshot) -> None:
            self._post(SnapshotArrived(generation, snapshot))

        def on_status(status: FeedStatus) -> None:
            self._post(FeedChanged(generation, status))

        self.kash.call_service(
            lambda provider: provider.trading.watch_account(portfolio_id, on_snapshot, on_status),
            done=partial(self._watch_started, generation),
            failed=partial(self._watch_failed, generation),
            refresh=False,
        )
        self._load_activity()
        self._render_status()

    def _render_account_placeholder(self, portfolio: Portfolio) -> None:
        self.query_one("#account", Static).update(
            Text(f"Reading the {portfolio.mode.value} account on {portfolio.connection_name}…",
                 style="dim")
        )

    def _post(self, message: Message) -> None:
        try:
            self.post_message(message)
        except RuntimeError:  # the app's loop is closed: nothing to show it on
            pass

    def _watch_started(self, generation: int, watch: AccountWatch) -> None:
        if generation != self._generation:
            self._stop_in_background(watch)  # the user moved on while it started
            return
        self._watch = watch
        try:
            status = watch.status
        except Exception:  # noqa: BLE001 - the status callback will tell
            status = None
        if status is not None and self._feed is None:
            self._feed = status
        self._render_status()
        self.refresh_bindings()

    def _watch_failed(self, generation: int, sentence: str) -> None:
        if generation != self._generation:
            return
        self._feed_problem = sentence
        self.query_one("#account", Static).update(Text(sentence, style="bold red"))
        self._render_status()

    def _stop_watch(self) -> None:
        self._generation += 1  # callbacks of the old watch are ignored from now on
        watch, self._watch = self._watch, None
        if watch is not None:
            self._stop_in_background(watch)

    def _stop_in_background(self, watch: AccountWatch) -> None:
        # stop() may wait for the watch's thread; never on the UI thread
        thread = threading.Thread(target=_stop_quietly, args=(watch,), daemon=True,
                                  name="kash-stop-account-watch")
        thread.start()
        self.stopping = [t for t in self.stopping if t.is_alive()] + [thread]

    @on(SnapshotArrived)
    def _snapshot(self, message: SnapshotArrived) -> None:
        message.stop()
        if message.generation != self._generation or not self.query("#account"):
            return
        snapshot = message.snapshot
        self._feed_problem = ""
        self._render_account(snapshot.account)
        self._render_positions(snapshot.positions)
        self._render_open_orders(snapshot.orders)
        signature = (
            tuple(sorted((o.id, o.status, str(o.filled_qty)) for o in snapshot.orders)),
            tuple(sorted((p.symbol, str(p.qty)) for p in snapshot.positions)),
        )
        if self._last_signature is not None and signature != self._last_signature:
            self._load_activity()  # something filled or was cancelled
        self._last_signature = signature
        self._render_status()
        self.refresh_bindings()

    @on(FeedChanged)
    def _feed_changed(self, message: FeedChanged) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self._feed = message.status
        if message.status.state.value == "down" and message.status.updated_at is None:
            # never read yet: say so where "Reading the account…" was, at once
            self.query_one("#account", Static).update(Text(
                f"{message.status.message or 'The broker cannot be reached.'} Kash keeps "
                f"trying; press {self.kash.key_label('orders.refresh', 'r')} to try again now.",
                style="bold red",
            ))
        self._render_status()

    def _load_activity(self) -> None:
        portfolio = self.portfolio
        if portfolio is None or portfolio.mode.value not in TRADING_MODES:
            return
        if self._activity_loading:
            self._activity_again = True
            return
        self._activity_loading = True
        generation = self._generation
        portfolio_id = portfolio.id
        self.kash.call_service(
            lambda provider: read_activity(provider, portfolio_id),
            done=partial(self._activity_read, generation),
            failed=partial(self._activity_failed, generation),
            refresh=False,
        )

    def _activity_read(self, generation: int, activity: Activity) -> None:
        self._activity_loading = False
        if generation == self._generation and self.query("#activity"):
            self._activity = activity
            self._render_activity(activity.orders, activity.trades)
            self.refresh_bindings()
        if self._activity_again:
            self._activity_again = False
            self._load_activity()

    def _activity_failed(self, generation: int, sentence: str) -> None:
        self._activity_loading = False
        if generation == self._generation and self.query("#activity"):
            table = self.query_one("#activity", ActivityTable)
            table.border_subtitle = sentence
        self._activity_again = False

    # -- a BACKTEST portfolio: its latest run, read-only --------------------------------------

    def _load_backtest(self, portfolio: Portfolio) -> None:
        self._generation += 1
        generation = self._generation
        portfolio_id = portfolio.id
        self.query_one("#account", Static).update(Text("Reading the latest run…", style="dim"))
        self.kash.call_service(
            lambda provider: read_backtest(provider, portfolio_id),
            done=partial(self._backtest_read, generation),
            failed=partial(self._backtest_failed, generation),
            refresh=False,
        )

    def _backtest_read(self, generation: int, view: BacktestView) -> None:
        if generation != self._generation or not self.query("#account"):
            return
        self._backtest_label = view.run_label
        self._render_account(view.account, note=f"Backtest {view.run_label}")
        self._render_positions(view.positions)
        self._render_open_orders(())
        self._activity = Activity(view.orders, view.trades, can_trade=False)
        self._render_activity(view.orders, view.trades)
        self._render_status()
        self.refresh_bindings()

    def _backtest_failed(self, generation: int, sentence: str) -> None:
        if generation != self._generation or not self.query("#account"):
            return
        self._show_empty(self._how_to_trade(sentence))
        self._focus_first()

    # -- actions ------------------------------------------------------------------------------

    def _trading(self) -> Portfolio | None:
        portfolio = self.portfolio
        if portfolio is None or portfolio.mode.value not in TRADING_MODES:
            return None
        return portfolio

    def action_new_order(self, defaults: TicketDefaults | None = None) -> None:
        portfolio = self._trading()
        if portfolio is None:
            key = self.kash.key_label("orders.portfolio", "p")
            self.notify(f"Orders go through a paper or live portfolio: press {key} to choose one.",
                        severity="warning", timeout=5)
            return
        open_ticket(self.kash, portfolio, defaults)

    def action_choose_portfolio(self) -> None:
        select = self.query_one("#orders-portfolio", Select)
        select.focus()
        select.expanded = True

    def action_refresh(self) -> None:
        portfolio = self.portfolio
        if portfolio is None:
            return
        if portfolio.mode.value not in TRADING_MODES:
            self._shown = None
            self._follow()
            return
        if self._watch is None:  # it could not start: try again
            self._shown = None
            self._follow()
            return
        self.poke()

    def poke(self) -> None:
        """Ask the watch for a fresh snapshot and re-read the recent activity."""
        watch = self._watch
        if watch is not None:
            self.kash.call_service(lambda _provider: watch.refresh(), refresh=False)
        self._load_activity()

    def action_toggle_activity(self) -> None:
        self._show_fills = not self._show_fills
        activity = self._activity
        if activity is not None:
            self._render_activity(activity.orders, activity.trades)
        else:
            table = self.query_one("#activity", ActivityTable)
            table.show_columns(ActivityTable.FILL_COLUMNS if self._show_fills
                               else ActivityTable.COLUMNS)
            table.border_title = "Fills" if self._show_fills else "Recent orders"

    def highlighted_position(self) -> str | None:
        return self.query_one("#positions", PositionsTable).highlighted_key

    def highlighted_order(self) -> str | None:
        return self.query_one("#open-orders", OpenOrdersTable).highlighted_key

    def action_close_position(self) -> None:
        portfolio = self._trading()
        symbol = self.highlighted_position()
        if portfolio is None or symbol is None:
            return
        live = portfolio.mode.value == "LIVE"
        row = self.query_one("#positions", PositionsTable).get_row(symbol)
        qty = str(row[1]).strip()
        portfolio_id = portfolio.id

        def answer(yes: bool | None) -> None:
            if not yes:
                return
            self.notify(f"Closing {symbol}…", timeout=3)
            self.kash.call_service(
                lambda provider: provider.trading.resolve_trading_adapter(portfolio_id)
                .close_position(symbol, confirm_live=live),
                done=lambda order: self._acted(
                    f"Closing {symbol}: {describe_order(order)} ({order.status})."),
                refresh=False,
            )

        self.app.push_screen(
            TradeConfirm(
                f"Close your {symbol} position?",
                f"Sends a market order for all {qty} {symbol} on {portfolio.name} "
                f"({portfolio.mode.value}).",
                yes_label="Close position", no_label="Keep it", live=live, typed=symbol,
            ),
            answer,
        )

    def action_cancel_order(self) -> None:
        portfolio = self._trading()
        order_id = self.highlighted_order()
        if portfolio is None or order_id is None:
            return
        row = self.query_one("#open-orders", OpenOrdersTable).get_row(order_id)
        symbol, side, amount, kind, order_price = (str(c) for c in row[1:6])
        text = f"{side} {amount} {symbol} {kind}" + (
            f" {order_price}" if order_price != "market" else "")
        portfolio_id = portfolio.id

        def answer(yes: bool | None) -> None:
            if not yes:
                return
            self.kash.call_service(
                lambda provider: provider.trading.resolve_trading_adapter(portfolio_id)
                .cancel_order(order_id),
                done=lambda _r: self._acted(f"Asked to cancel {text}."),
                refresh=False,
            )

        self.app.push_screen(
            TradeConfirm(
                f"Cancel the order {text}?",
                f"On {portfolio.name} ({portfolio.mode.value}). A part already filled stays "
                "filled.",
                yes_label="Cancel order", no_label="Keep it",
            ),
            answer,
        )

    def _acted(self, message: str) -> None:
        self.notify(message, timeout=5)
        self.poke()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("new_order", "close_position", "cancel_order"):
            # None: shown greyed out; False: hidden (nothing to act on in this portfolio)
            try:
                if self._trading() is None:
                    return None if action == "new_order" else False
                if self._activity is not None and not self._activity.can_trade:
                    return False
                if action == "close_position":
                    return self.highlighted_position() is not None or None
                if action == "cancel_order":
                    return self.highlighted_order() is not None or None
            except Exception:  # noqa: BLE001 - before the body is mounted
                return None
            return True
        if action in ("choose_portfolio", "refresh", "toggle_activity"):
            return self.kash.status == "ready"
        return True

    @on(DataTable.RowHighlighted)
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()


# -- the ticket, from anywhere ---------------------------------------------------------------


def trading_portfolio(app: KashApp) -> Portfolio | None:
    """The portfolio a new order goes to: the current one when it is PAPER or LIVE, else the
    first PAPER portfolio (never a LIVE one the user did not choose)."""
    current = app.current_portfolio
    if current is not None and current.mode.value in TRADING_MODES:
        return current
    return next((p for p in app.catalog.portfolios if p.mode.value == "PAPER"), None)


def open_ticket(
    app: KashApp, portfolio: Portfolio | None = None, defaults: TicketDefaults | None = None
) -> None:
    """Open the order ticket; when an order is sent, say so and refresh the Orders place."""
    portfolio = portfolio or trading_portfolio(app)
    if portfolio is None:
        app.notify(
            "No paper or live portfolio: add an Alpaca connection and a PAPER portfolio under "
            "Workspaces (1) first.",
            severity="warning", timeout=8,
        )
        return

    def sent(order: Order | None) -> None:
        if order is None:
            return
        app.notify(
            f"Order sent to {portfolio.name} ({portfolio.mode.value}): "
            f"{describe_order(order)}, {order.status}.",
            timeout=6,
        )
        screen = _SCREENS.get(app)
        if screen is not None and screen._watch is not None:  # noqa: SLF001
            screen.poke()

    app.push_screen(OrderTicket(portfolio, defaults), sent)


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


__all__ = [
    "Activity",
    "BacktestView",
    "OrdersScreen",
    "age_text",
    "describe_order",
    "open_ticket",
    "read_activity",
    "read_backtest",
    "trading_portfolio",
]
