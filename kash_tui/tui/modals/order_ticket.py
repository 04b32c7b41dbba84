"""The order ticket: one order for a PAPER or LIVE portfolio, checked twice before it is sent.

1. *Edit*: symbol, side, quantity or dollar amount, type and the prices that type needs, time in
   force, extended hours. Fields that do not apply to the type are hidden. What can be checked
   while typing (a number above 0, a price the type needs) shows at once; the broker's rules
   are the adapter's to check.
2. *Preview* (Enter): ``adapter.preview_order`` in a worker. The estimate against buying power,
   every rule problem (one sentence each: sending stays disabled while there is any) and the
   warnings.
3. *Send*: a PAPER order is sent with the Send button (Enter once the preview is shown). A LIVE
   order shows LIVE prominently and is sent only after the user types the symbol; only then is
   ``confirm_live=True`` passed.

A ticket is always in one of three cases, and says which (``#ticket-state``):

* **new**: never sent. Edit freely; Send sends it under the ticket's ``client_order_id``.
* **not placed**: Alpaca refused it (403, 422, ...) or it never left (a rule, missing keys).
  Nothing is at the broker, so the fields stay editable and the next Send goes under a *new*
  client order id: an id belongs to one order description for its whole life (the order
  journal refuses to reuse it for another).
* **outcome unknown** (a timeout, a dropped connection, a 5xx): the order may be at Alpaca. The
  fields are locked and only the very same order can be sent again, under the same id; the
  adapter first asks Alpaca for that id and Alpaca never places one id twice. Closing the ticket
  in this case asks first, and says how to check.

After a failed send the focus goes to what the message offers: Send again for an unknown
outcome or a rate limit, the amount to change after a refusal, Close when only the
connection can be fixed. Pressing Send twice sends once.

The number and money formats are :mod:`kash_tui.tui.format`'s; the question asked before
closing a ticket whose order may be at Alpaca is :class:`~kash_tui.tui.modals.trade_confirm.TradeConfirm`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select, Static

from kash_tui.tui.format import describe_contract, dollars, is_option_symbol, price, quantity
from kash_tui.tui.modals.trade_confirm import TradeConfirm

if TYPE_CHECKING:
    from kash_tui.domains.trading import Order, OrderPreview, OrderRequest
    from kash_tui.domains.workspace import Portfolio
    from kash_tui.provider import ServiceProviderProtocol
    from kash_tui.tui.app import KashApp

_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9./-]{0,20}$")


def parse_positive(text: str) -> Decimal | None:
    """A finite number above 0, else None."""
    try:
        value = Decimal(text.strip().replace(",", "").lstrip("$"))
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0:
        return None
    return value


# -- what the ticket asks ---------------------------------------------------------------------


@dataclass(frozen=True)
class TicketDefaults:
    """What a ticket opens with (the options place fills in a contract)."""

    symbol: str = ""
    side: str = "buy"
    qty: str = ""
    order_type: str = "market"
    limit_price: str = ""
    time_in_force: str = "day"


TYPE_CHOICES = (
    ("Market", "market"), ("Limit", "limit"), ("Stop", "stop"), ("Stop-limit", "stop_limit"),
    ("Trailing stop", "trailing_stop"),
)
TIF_CHOICES = (
    ("Day", "day"), ("GTC", "gtc"), ("IOC", "ioc"), ("FOK", "fok"), ("At open", "opg"),
    ("At close", "cls"),
)


NEW, NOT_PLACED, UNKNOWN = "new", "not placed", "unknown"
"""The three cases of a ticket; see the module docstring."""


def same_order(a: OrderRequest | None, b: OrderRequest | None) -> bool:
    """The same order whatever client order id each carries."""
    if a is None or b is None:
        return a is b
    from dataclasses import replace

    return replace(a, client_order_id="") == replace(b, client_order_id="")


@dataclass(frozen=True)
class _Outcome:
    """What a worker hands back: a value or the error (shown as its sentence)."""

    value: Any = None
    error: BaseException | None = None


def _attempt(call: Any) -> Any:
    def run(provider: ServiceProviderProtocol) -> _Outcome:
        try:
            return _Outcome(value=call(provider))
        except Exception as exc:  # noqa: BLE001 - the ticket shows its sentence
            return _Outcome(error=exc)

    return run


class OrderTicket(ModalScreen["Order | None"]):
    """Enter, preview and send one order for ``portfolio`` (PAPER or LIVE)."""

    DEFAULT_CSS = """
    OrderTicket { align: center middle; background: $background 60%; }
    OrderTicket > #ticket {
        width: 78;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 0 1;
        border: round $primary;
        background: $surface;
    }
    OrderTicket > #ticket.-live { border: heavy $error; }
    OrderTicket #ticket-head { height: 1; }
    OrderTicket #ticket-title { width: 1fr; text-style: bold; text-wrap: nowrap;
                                text-overflow: ellipsis; }
    OrderTicket #ticket-mode { width: auto; text-style: bold; background: $success;
                               color: auto 95%; }
    OrderTicket #ticket-mode.-live { background: $error; }
    OrderTicket #live-banner {
        width: 100%; height: 1; text-align: center; text-style: bold;
        background: $error; color: auto 95%;
    }
    OrderTicket #ticket-fields { height: auto; margin-top: 1; }
    OrderTicket .ticket-row { height: 1; }
    OrderTicket .pair { width: auto; height: 1; margin-right: 2; }
    OrderTicket .ticket-label { width: 8; color: $text-muted; }
    OrderTicket .pair .ticket-label { width: auto; margin-right: 1; }
    OrderTicket #symbol { width: 24; }
    OrderTicket #side { width: 10; }
    OrderTicket #amount-by { width: 14; margin-right: 1; }
    OrderTicket #qty, OrderTicket #notional { width: 14; }
    OrderTicket #type { width: 17; margin-right: 2; }
    OrderTicket #tif { width: 12; }
    OrderTicket #limit, OrderTicket #stop, OrderTicket #trail { width: 12; }
    OrderTicket #trail-by { width: 11; margin-right: 1; }
    OrderTicket #extended { width: auto; }
    OrderTicket #ticket-note { height: auto; color: $text-muted; }
    OrderTicket #ticket-check { height: auto; color: $text-error; margin-top: 1; }
    OrderTicket #ticket-preview { height: auto; margin-top: 1; }
    OrderTicket #confirm-row { height: 1; margin-top: 1; }
    OrderTicket #confirm-label { width: auto; margin-right: 1; text-style: bold;
                                 color: $text-error; }
    OrderTicket #confirm-symbol { width: 24; }
    OrderTicket #ticket-refusal { height: auto; color: $text-error; text-style: bold;
                                  margin-top: 1; }
    OrderTicket #ticket-state { height: auto; color: $text-warning; }
    OrderTicket .dialog-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    OrderTicket .dialog-buttons Button { margin-left: 2; }
    """

    BINDINGS: ClassVar = [
        Binding("escape", "close", "Close", id="ticket.close",
                tooltip="Close the ticket; nothing is sent"),
        Binding("enter", "preview", "Preview", id="ticket.preview",
                tooltip="Check the order against the broker's rules and the account; once it "
                        "is checked, Enter moves to Send"),
    ]

    def __init__(self, portfolio: Portfolio, defaults: TicketDefaults | None = None) -> None:
        from kash_tui.domains.trading import new_client_order_id

        super().__init__()
        self.portfolio = portfolio
        self.live = portfolio.mode.value == "LIVE"
        self.defaults = defaults or TicketDefaults()
        self.client_order_id = new_client_order_id()  # one per ticket: never two orders
        self._touched: set[str] = set()
        self._request: OrderRequest | None = None  # built from the fields when they are valid
        self._preview: OrderPreview | None = None
        self._busy: str | None = None  # "preview" | "send"
        self._sent: Order | None = None
        self._state = NEW  # NEW | NOT_PLACED | UNKNOWN (see the module docstring)
        self._refused = False  # NOT_PLACED because the broker said no (not: never sent)
        self._pending: OrderRequest | None = None  # the request whose outcome is unknown

    @property
    def kash(self) -> KashApp:
        return self.app  # type: ignore[return-value]

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        d = self.defaults
        mode = self.portfolio.mode.value
        with Vertical(id="ticket", classes="-live" if self.live else ""):
            with Horizontal(id="ticket-head"):
                yield Static(f"New order · {self.portfolio.name}", id="ticket-title",
                             markup=False)
                yield Static(f" {mode} ", id="ticket-mode", classes="-live" if self.live else "",
                             markup=False)
            if self.live:
                yield Static("LIVE ACCOUNT · REAL MONEY", id="live-banner", markup=False)
            with Vertical(id="ticket-fields"):
                with Horizontal(classes="ticket-row"):
                    yield Label("Symbol", classes="ticket-label")
                    with Horizontal(classes="pair"):
                        yield Input(d.symbol, placeholder="e.g. AAPL", id="symbol", compact=True)
                    with Horizontal(classes="pair"):
                        yield Label("Side", classes="ticket-label")
                        yield Select([("Buy", "buy"), ("Sell", "sell")], value=d.side,
                                     allow_blank=False, id="side", compact=True)
                with Horizontal(classes="ticket-row"):
                    yield Label("Amount", classes="ticket-label")
                    yield Select([("Quantity", "qty"), ("Dollars", "notional")], value="qty",
                                 allow_blank=False, id="amount-by", compact=True)
                    yield Input(d.qty, placeholder="shares", id="qty", compact=True)
                    yield Input(placeholder="e.g. 500", id="notional", compact=True)
                with Horizontal(classes="ticket-row"):
                    yield Label("Type", classes="ticket-label")
                    yield Select(TYPE_CHOICES, value=d.order_type, allow_blank=False, id="type",
                                 compact=True)
                    with Horizontal(classes="pair"):
                        yield Label("Time in force", classes="ticket-label")
                        yield Select(TIF_CHOICES, value=d.time_in_force, allow_blank=False,
                                     id="tif", compact=True)
                with Horizontal(classes="ticket-row", id="prices-row"):
                    yield Label("Price", classes="ticket-label")
                    with Horizontal(classes="pair", id="limit-pair"):
                        yield Label("Limit", classes="ticket-label")
                        yield Input(d.limit_price, placeholder="e.g. 189.50", id="limit",
                                    compact=True)
                    with Horizontal(classes="pair", id="stop-pair"):
                        yield Label("Stop", classes="ticket-label")
                        yield Input(placeholder="e.g. 180", id="stop", compact=True)
                    with Horizontal(classes="pair", id="trail-pair"):
                        yield Label("Trail by", classes="ticket-label")
                        yield Select([("Percent", "percent"), ("Dollars", "price")],
                                     value="percent", allow_blank=False, id="trail-by",
                                     compact=True)
                        yield Input(placeholder="e.g. 2", id="trail", compact=True)
                    yield Checkbox("Extended hours", id="extended", compact=True)
            yield Static("", id="ticket-note", markup=False)
            yield Static("", id="ticket-check", markup=False)
            yield Static("", id="ticket-preview")
            with Horizontal(id="confirm-row"):
                yield Label("", id="confirm-label")
                yield Input(placeholder="symbol", id="confirm-symbol", compact=True)
            yield Static("", id="ticket-refusal", markup=False)
            yield Static("", id="ticket-state", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Preview", id="preview", variant="primary", compact=True)
                yield Button("Send", id="send", variant="error" if self.live else "success",
                             compact=True)
                yield Button("Close", id="close", compact=True)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self._adjust_fields()
        self._refresh()
        first = "#qty" if self.defaults.symbol else "#symbol"
        self.query_one(first, Input).focus()

    # -- reading the fields -------------------------------------------------------------------

    def _value(self, widget_id: str) -> Any:
        widget = self.query_one(f"#{widget_id}")
        if isinstance(widget, Select):
            return None if widget.value is Select.NULL else widget.value
        if isinstance(widget, Checkbox):
            return widget.value
        return widget.value  # type: ignore[attr-defined]

    def _symbol(self) -> str:
        return str(self._value("symbol")).strip().upper()

    def _is_option(self) -> bool:
        return is_option_symbol(self._symbol())

    def _order_type(self) -> str:
        return str(self._value("type") or "market")

    def _by_notional(self) -> bool:
        return self._value("amount-by") == "notional" and not self._is_option()

    def _adjust_fields(self) -> None:
        """Show only the fields the order type (and an option symbol) uses."""
        kind = self._order_type()
        option = self._is_option()
        notional = self._by_notional()
        amount_by = self.query_one("#amount-by", Select)
        if option and amount_by.value != "qty":
            amount_by.value = "qty"
        amount_by.disabled = option
        self.query_one("#qty").display = not notional
        self.query_one("#notional").display = notional
        self.query_one("#qty", Input).placeholder = "contracts" if option else "shares"
        limit = kind in ("limit", "stop_limit")
        stop = kind in ("stop", "stop_limit")
        trail = kind == "trailing_stop"
        extended = kind == "limit" and not option
        self.query_one("#limit-pair").display = limit
        self.query_one("#stop-pair").display = stop
        self.query_one("#trail-pair").display = trail
        self.query_one("#extended").display = extended
        self.query_one("#prices-row").display = limit or stop or trail or extended
        tif = self.query_one("#tif", Select)
        if option and tif.value != "day":
            tif.value = "day"
        tif.disabled = option
        if option:
            note = f"{describe_contract(self._symbol())}: whole contracts, day orders only."
        elif extended and self._value("extended"):
            note = "Extended hours: a limit order, time in force Day."
        else:
            note = ""
        self._set_text("#ticket-note", note)

    def field_problems(self) -> dict[str, str]:
        """What is wrong with the fields now (field id -> one sentence)."""
        found: dict[str, str] = {}
        symbol = self._symbol()
        if not symbol:
            found["symbol"] = "Give a symbol, e.g. AAPL."
        elif not _SYMBOL.match(symbol):
            found["symbol"] = f"{symbol!r} is not a symbol: letters and digits, e.g. AAPL."
        option = self._is_option()
        if self._by_notional():
            if parse_positive(self._value("notional")) is None:
                found["notional"] = "Give a dollar amount above 0, e.g. 500."
        else:
            qty = parse_positive(self._value("qty"))
            if qty is None:
                found["qty"] = (
                    "Give a number of contracts, e.g. 1." if option
                    else "Give a quantity above 0, e.g. 10."
                )
            elif option and qty != qty.to_integral_value():
                found["qty"] = "Options trade in whole contracts."
        kind = self._order_type()
        if kind in ("limit", "stop_limit") and parse_positive(self._value("limit")) is None:
            found["limit"] = "Give the limit price, above 0."
        if kind in ("stop", "stop_limit") and parse_positive(self._value("stop")) is None:
            found["stop"] = "Give the stop price, above 0."
        if kind == "trailing_stop" and parse_positive(self._value("trail")) is None:
            found["trail"] = (
                "Give the trail in percent, above 0, e.g. 2."
                if self._value("trail-by") == "percent"
                else "Give the trail in dollars, above 0, e.g. 1.50."
            )
        return found

    def build_request(self) -> OrderRequest | None:
        """The order the fields describe (with this ticket's client_order_id), or None."""
        from kash_tui.domains.trading import OrderRequest, OrderSide, OrderType, TimeInForce

        if self.field_problems():
            return None
        kind = OrderType(self._order_type())
        notional = self._by_notional()
        limit = kind in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        stop = kind in (OrderType.STOP, OrderType.STOP_LIMIT)
        trail = kind is OrderType.TRAILING_STOP
        by_percent = self._value("trail-by") == "percent"
        return OrderRequest(
            symbol=self._symbol(),
            side=OrderSide(self._value("side")),
            qty=None if notional else parse_positive(self._value("qty")),
            notional=parse_positive(self._value("notional")) if notional else None,
            order_type=kind,
            limit_price=parse_positive(self._value("limit")) if limit else None,
            stop_price=parse_positive(self._value("stop")) if stop else None,
            trail_percent=parse_positive(self._value("trail")) if trail and by_percent else None,
            trail_price=parse_positive(self._value("trail")) if trail and not by_percent
            else None,
            time_in_force=TimeInForce(self._value("tif")),
            extended_hours=bool(self._value("extended")) and kind is OrderType.LIMIT
            and not self._is_option(),
            client_order_id=self.client_order_id,
        )

    # -- state on screen ----------------------------------------------------------------------

    def _set_text(self, selector: str, text: str | Text) -> None:
        widget = self.query_one(selector, Static)
        widget.update(text)
        widget.display = bool(text.plain if isinstance(text, Text) else text)

    @property
    def state(self) -> str:
        """NEW, NOT_PLACED or UNKNOWN."""
        return self._state

    @property
    def preview_current(self) -> bool:
        """A preview is on screen and the fields still describe the order it checked (the
        client order id may have changed since: a refused order goes again under a new one)."""
        return self._preview is not None and same_order(self._preview.request, self._request)

    def live_confirmed(self) -> bool:
        if not self.live or self._request is None:
            return False
        typed = self.query_one("#confirm-symbol", Input).value.strip().upper()
        return typed == self._request.symbol

    def can_send(self) -> bool:
        if self._busy is not None or (self.live and not self.live_confirmed()):
            return False
        if self._state == UNKNOWN:
            # the same order again: the adapter asks Alpaca for it first and adopts it if it
            # is there, so a preview problem (e.g. buying power already taken by this very
            # order) must not stop the question
            return self._pending is not None
        return self.preview_current and self._preview is not None and self._preview.ok

    def _refresh(self) -> None:
        problems = self.field_problems()
        shown = [text for field_id, text in problems.items() if field_id in self._touched]
        self._set_text("#ticket-check", " ".join(shown))
        self._request = self.build_request()
        self._render_preview()
        confirm_row = self.query_one("#confirm-row")
        confirm_row.display = self.live and (self._state == UNKNOWN or (
            self.preview_current and bool(self._preview and self._preview.ok)
        ))
        if confirm_row.display and self._request is not None:
            self.query_one("#confirm-label", Label).update(
                f"LIVE: type {self._request.symbol} to send"
            )
        preview = self.query_one("#preview", Button)
        preview.disabled = bool(problems) or self._busy is not None
        preview.label = "Checking…" if self._busy == "preview" else "Preview"
        send = self.query_one("#send", Button)
        send.disabled = not self.can_send()
        if self._busy == "send":
            send.label = "Sending…"
        elif self._state == UNKNOWN:
            send.label = "Send again (same order)"
        else:
            send.label = "Send LIVE order" if self.live else "Send to paper"
        self.query_one("#ticket-fields").disabled = self._state == UNKNOWN
        self._set_text("#ticket-state", self.state_sentence())
        self.refresh_bindings()

    def state_sentence(self) -> str:
        """Which of the three cases the ticket is in, and what may be done (empty when new)."""
        if self._state == UNKNOWN:
            return (
                f"Outcome unknown: this order may be at Alpaca (client order id "
                f"{self.client_order_id}). It can only be sent again unchanged, under the same "
                "id, which Alpaca never places twice; the fields are locked. Check it under "
                "open orders, or with `kash orders --status all`."
            )
        if self._state == NOT_PLACED:
            why = "Alpaca refused it" if self._refused else "it was not sent"
            return (
                f"Not placed: {why}. You may change the order and send it again; it goes as a "
                f"new order (client order id {self.client_order_id})."
            )
        return ""

    def _render_preview(self) -> None:
        preview = self._preview
        if preview is None:
            self._set_text("#ticket-preview", "")
            return
        if not self.preview_current:
            self._set_text(
                "#ticket-preview",
                Text("The order changed since the preview: press Enter to check it again.",
                     style="italic"),
            )
            return
        text = Text()
        text.append(preview.request.describe(), style="bold")
        cost = preview.estimated_cost
        text.append("\nEstimated cost ")
        over = cost is not None and cost > preview.buying_power and \
            preview.request.side.value == "buy"
        text.append(dollars(cost), style="bold red" if over else "bold")
        text.append(f" of {dollars(preview.buying_power)} buying power")
        if preview.reference_price is not None:
            source = f", {preview.price_source}" if preview.price_source else ""
            text.append(f" (at {price(preview.reference_price)}{source})")
        if preview.position_qty:
            text.append(f"\nYou hold {quantity(preview.position_qty)} {preview.request.symbol}.")
        for problem in preview.problems:
            text.append("\n✕ ", style="bold red")
            text.append(problem)
        for warning in preview.warnings:
            text.append("\n! ", style="bold yellow")
            text.append(warning)
        if preview.ok:
            if self.live:
                text.append(f"\nLIVE order with real money: type {preview.request.symbol} "
                            "below, then press Enter.", style="bold red")
            else:
                text.append("\nReady: Send places it on your paper account.", style="bold")
        else:
            text.append("\nFix the problems above to send this order.", style="italic")
        self._set_text("#ticket-preview", text)

    # -- events -------------------------------------------------------------------------------

    def _changed(self, widget: Widget) -> None:
        if widget.id == "confirm-symbol":
            self._refresh()
            return
        if widget.id:
            self._touched.add(widget.id)
        if widget.id in ("type", "amount-by", "symbol", "extended"):
            self._adjust_fields()
        self._set_text("#ticket-refusal", "")
        self._refresh()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._changed(event.input)

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._changed(event.select)

    @on(Checkbox.Changed)
    def _checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self._changed(event.checkbox)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "confirm-symbol":
            if self.can_send():
                self.action_send()
            elif self.live and not self.live_confirmed() and self._request is not None:
                self._set_text("#ticket-refusal",
                               f"Type {self._request.symbol} exactly to send this LIVE order.")
            return
        if self.preview_current and self._preview is not None and self._preview.ok:
            target = "#confirm-symbol" if self.live else "#send"
            self.query_one(target).focus()
            return
        self.action_preview()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "preview":
            self.action_preview()
        elif event.button.id == "send":
            self.action_send()
        else:
            self.action_close()

    # -- preview ------------------------------------------------------------------------------

    def action_preview(self) -> None:
        if self._busy is not None:
            return
        problems = self.field_problems()
        if problems:
            self._touched.update(problems)
            self._refresh()
            self.query_one(f"#{next(iter(problems))}").focus()
            return
        request = self._request
        if request is None:
            return
        self._busy = "preview"
        self._set_text("#ticket-refusal", "")
        self._refresh()
        portfolio_id = self.portfolio.id
        self.kash.call_latest(  # a newer preview replaces this one: its answer never shows
            self, "preview",
            _attempt(lambda provider: provider.trading.resolve_trading_adapter(portfolio_id)
                     .preview_order(request)),
            done=self._previewed,
        )

    def _previewed(self, outcome: _Outcome) -> None:
        if not self.is_attached:
            return
        self._busy = None
        if outcome.error is not None:
            self._preview = None
            self.kash.report_error(outcome.error, self._show_refusal)
            self._refresh()
            return
        self._preview = outcome.value
        self._refresh()
        if self.preview_current and self._preview is not None and self._preview.ok:
            self.query_one("#confirm-symbol" if self.live else "#send").focus()

    # -- send ---------------------------------------------------------------------------------

    def action_send(self) -> None:
        if not self.can_send():
            return
        if self._state == UNKNOWN:
            request = self._pending  # the very order whose outcome is unknown: same id
        else:
            request = self._request  # the order previewed, under the ticket's current id
        if request is None:
            return
        self._pending = request
        confirm = self.live and self.live_confirmed()
        self._busy = "send"
        self._set_text("#ticket-refusal", "")
        self._refresh()
        portfolio_id = self.portfolio.id
        self.kash.call_service(
            _attempt(lambda provider: provider.trading.resolve_trading_adapter(portfolio_id)
                     .submit_order(request, confirm_live=confirm)),
            done=self._send_done,
            refresh=False,
        )

    def _send_done(self, outcome: _Outcome) -> None:
        self._busy = None
        if outcome.error is None:
            self._sent = outcome.value
            if self.is_attached and self.app.screen is self:
                self.dismiss(outcome.value)
            else:
                order = outcome.value
                self.app.notify(f"Order sent: {order.side.value} {order.symbol} ({order.status}).",
                                timeout=6)
            return
        error = outcome.error
        self._settle_failure(error)
        if not self.is_attached or self.app.screen is not self:
            self.kash.report_error(error)
            return
        self.kash.report_error(error, self._show_refusal)
        self._refresh()
        self._focus_after_failure(error)

    def _settle_failure(self, error: BaseException) -> None:
        """Which case a failed send leaves the ticket in (see the module docstring)."""
        from kash_tui.domains.trading import new_client_order_id

        if getattr(error, "outcome_unknown", False):
            self._state = UNKNOWN  # keep the id and the request: only they may go again
            return
        self._state = NOT_PLACED
        self._refused = getattr(error, "status", None) is not None  # the broker answered no
        self._pending = None
        # nothing is at the broker: the next send is a new order under a new id (the old id
        # stays bound, in the order journal, to the order it described)
        self.client_order_id = new_client_order_id()
        self._request = self.build_request()

    def _focus_after_failure(self, error: BaseException) -> None:
        """Focus what the message offers, never Close by accident (Enter = "send again")."""
        kind = getattr(error, "kind", "")
        if self._state == UNKNOWN or kind in ("rate_limited", "unreachable"):
            target = "#confirm-symbol" if self.live and not self.live_confirmed() else "#send"
        elif kind in ("auth", "config") or type(error).__name__ == "BrokerConnectionError":
            target = "#close"  # only the connection can fix it, not this ticket
        else:
            target = "#notional" if self._by_notional() else "#qty"
        widget = self.query_one(target)
        if widget.focusable:
            widget.focus()

    def _show_refusal(self, sentence: str) -> None:
        self._set_text("#ticket-refusal", sentence)

    # -- closing ------------------------------------------------------------------------------

    def action_close(self) -> None:
        if self._busy == "send":
            self.app.notify("The order is on its way; the ticket closes when the broker answers.",
                            timeout=4)
            return
        if self._state != UNKNOWN:
            self.dismiss(None)
            return
        client_id = self.client_order_id

        def answered(close: bool | None) -> None:
            if close:
                self.dismiss(None)
                self.app.notify(
                    f"The order with client order id {client_id} may be at Alpaca; check the "
                    "open orders before placing it again.", severity="warning", timeout=10,
                )

        self.app.push_screen(TradeConfirm(
            "Close the ticket? This order may be at Alpaca.",
            f"Client order id {client_id}. Sending it again from this ticket is safe (Alpaca "
            "never places one id twice); a new ticket would be a second order. Check the open "
            "orders, or run `kash orders --status all`.",
            yes_label="Close anyway", no_label="Keep it open",
        ), answered)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "preview":
            return self._busy is None
        return True


__all__ = ["OrderTicket", "TicketDefaults", "parse_positive", "same_order"]
