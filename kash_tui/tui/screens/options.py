"""Options: the chain of an underlying, one expiration at a time.

Type an underlying and press Enter: its expirations (between From and To) fill the Expiration
list and the first one's chain loads, ``width`` strikes either side of the money. Calls on the
left, puts on the right (bid, ask, last, implied volatility, delta, open interest), the strike
in the middle; the row at the money is highlighted and in-the-money cells are shaded.

The cursor picks a contract: left of the strike a call, right of it a put. ``c`` charts it
(the Chart place), ``n`` or Enter opens the order ticket filled in with it (whole contracts,
Day); ``[`` and ``]`` step through the expirations.

Everything from the broker comes through the market service in a thread worker; a failure is
one sentence on the status line and nothing else changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Select, Static

from kash_tui.tui.commands import PaletteCommand, palette_command
from kash_tui.tui.format import describe_contract, is_option_symbol, price, px
from kash_tui.tui.modals.order_ticket import TicketDefaults
from kash_tui.tui.navigation import open_ticket, show_chain, show_chart
from kash_tui.tui.places import PlaceScreen
from kash_tui.tui.state import workbench
from kash_tui.tui.widgets.chain_table import SIDE_WIDTHS, STRIKE_WIDTH, ChainTable

if TYPE_CHECKING:
    from kash_tui.domains.market import OptionChain
    from kash_tui.tui.app import KashApp

DEFAULT_WIDTH = 10
MAX_WIDTH = 50
_UNDERLYING = re.compile(r"^[A-Z][A-Z0-9.]{0,9}$")

def today() -> date:
    """The date the From filter starts at and days to expiry count from (tests replace it)."""
    return datetime.now().date()


def parse_date(text: str) -> tuple[date | None, str | None]:
    clean = text.strip()
    if not clean:
        return None, None
    try:
        return date.fromisoformat(clean), None
    except ValueError:
        return None, f"{clean!r} is not a date: write it as YYYY-MM-DD."


def parse_width(text: str) -> tuple[int | None, str | None]:
    clean = text.strip()
    if not clean:
        return DEFAULT_WIDTH, None
    if not clean.isdigit() or not 1 <= int(clean) <= MAX_WIDTH:
        return None, f"Width is a number of strikes either side, 1 to {MAX_WIDTH}."
    return int(clean), None


# -- the place -------------------------------------------------------------------------------


class UnderlyingInput(Input):
    """The underlying's field. ``/`` is never typed into it (no symbol has one): it stays the
    key that jumps to the field and selects it, as the footer says."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        if character == "/":
            return False
        return super().check_consume_key(key, character)

    async def _on_key(self, event: events.Key) -> None:
        if event.character == "/":
            event.prevent_default()  # not typed; the key goes on to the place's binding
            return
        await super()._on_key(event)


class OptionsScreen(PlaceScreen):
    PLACE = "options"

    DEFAULT_CSS = """
    OptionsScreen .options-bar { height: 1; }
    OptionsScreen .options-bar Label { width: auto; margin: 0 1; color: $text-muted; }
    OptionsScreen #underlying { width: 10; }
    OptionsScreen #exp-from, OptionsScreen #exp-to { width: 12; }
    OptionsScreen #width { width: 5; }
    OptionsScreen #expiration { width: 24; }
    OptionsScreen #options-info { width: 1fr; margin-left: 1; text-wrap: nowrap;
                                  text-overflow: ellipsis; }
    OptionsScreen #chain-head { height: 1; color: $text-muted; text-style: bold; }
    OptionsScreen #options-status { height: auto; max-height: 3; padding: 0 1;
                                    color: $text-muted; }
    OptionsScreen #options-status.-problem { color: $text-error; text-style: bold; }
    """

    BINDINGS: ClassVar = [
        Binding("slash,u", "edit_underlying", "Underlying", id="options.underlying",
                tooltip="Type another underlying (/ or u)"),
        Binding("left_square_bracket", "step_expiration(-1)", "Prev expiry",
                id="options.prev_expiration", tooltip="The previous expiration ([)"),
        Binding("right_square_bracket", "step_expiration(1)", "Next expiry",
                id="options.next_expiration", tooltip="The next expiration (])"),
        Binding("r", "reload", "Reload", id="options.reload",
                tooltip="Read the expirations and the chain again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._underlying = ""  # the underlying whose expirations are listed
        self._expirations: list[date] = []
        self._requested: date | None = None  # the expiration whose chain was last asked for
        self._problem = ""
        self._busy = ""
        self._pending = ""  # an underlying asked for before the body was mounted

    # -- layout -------------------------------------------------------------------------------

    def compose_body(self) -> Iterator[Widget]:
        with Horizontal(classes="options-bar"):
            yield Label("Underlying")
            yield UnderlyingInput(placeholder="e.g. AAPL", id="underlying", compact=True)
            yield Label("From")
            yield Input(today().isoformat(), placeholder="YYYY-MM-DD", id="exp-from",
                        compact=True)
            yield Label("To")
            yield Input(placeholder="YYYY-MM-DD", id="exp-to", compact=True)
            yield Label("Width")
            yield Input(str(DEFAULT_WIDTH), id="width", compact=True)
        with Horizontal(classes="options-bar"):
            yield Label("Expiration")
            yield Select([], prompt="none yet", id="expiration", compact=True)
            yield Static("", id="options-info", markup=False)
        yield Static(self._chain_head(), id="chain-head")
        yield ChainTable()
        yield Static("", id="options-status", markup=False)

    @staticmethod
    def _chain_head() -> Text:
        side = sum(SIDE_WIDTHS)
        text = Text(no_wrap=True)
        text.append("Calls".center(side, "─"))
        text.append("".center(STRIKE_WIDTH))
        text.append("Puts".center(side, "─"))
        return text

    def on_services_ready(self) -> None:
        if self._pending:
            self.show_underlying(self._pending)
            return
        if not self._underlying:
            self._say("Type an underlying, e.g. AAPL, and press Enter.")
        if self.focused is None:
            self.query_one("#underlying", Input).focus()

    def show_underlying(self, symbol: str) -> None:
        """Load the chain of ``symbol`` (now, or once the place's body is there)."""
        if not self.query("#underlying"):
            self._pending = symbol
            return
        self._pending = ""
        field = self.query_one("#underlying", Input)
        field.value = symbol.strip().upper()
        if self.field_problem() is None:
            self.load_expirations()

    @property
    def chain_table(self) -> ChainTable:
        return self.query_one("#chain", ChainTable)

    # -- the fields ---------------------------------------------------------------------------

    def _text(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def field_problem(self) -> str | None:
        underlying = self._text("underlying").strip().upper()
        if underlying and not _UNDERLYING.match(underlying):
            return f"{underlying!r} is not a stock symbol, e.g. AAPL."
        start, problem = parse_date(self._text("exp-from"))
        if problem:
            return f"From: {problem}"
        end, problem = parse_date(self._text("exp-to"))
        if problem:
            return f"To: {problem}"
        if start and end and end < start:
            return "To comes before From: widen the dates."
        _width, problem = parse_width(self._text("width"))
        return problem

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        problem = self.field_problem()
        if problem:
            self._say(problem, problem=True)
        elif self._problem and not self._busy:
            self._say_picked()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.field_problem():
            return
        underlying = self._text("underlying").strip().upper()
        if not underlying:
            # the placeholder is a hint, not a value: say so (the same words as before the
            # Enter would look like nothing happened)
            self._say("The Underlying field is empty: type a symbol, e.g. AAPL, then Enter.",
                      problem=True)
            return
        if event.input.id == "width" and underlying == self._underlying and self._expiration():
            self.load_chain()
        else:
            self.load_expirations()

    # -- loading ------------------------------------------------------------------------------

    def load_expirations(self, *, keep: date | None = None) -> None:
        underlying = self._text("underlying").strip().upper()
        start, _p = parse_date(self._text("exp-from"))
        end, _p = parse_date(self._text("exp-to"))
        self._busy = "expirations"
        self._say(f"Reading the expirations of {underlying}…")
        # one key for expirations and chains: whichever was asked last is what shows
        self.call_service(
            lambda provider: provider.market.option_expirations(underlying, start=start, end=end),
            key="chain",
            done=partial(self._expirations_read, underlying, keep),
            failed=self._failed,
        )

    def _expirations_read(
        self, underlying: str, keep: date | None, expirations: list[date]
    ) -> None:
        self._busy = ""
        self._underlying = underlying
        self._expirations = sorted(expirations)
        self._requested = None
        select = self.query_one("#expiration", Select)
        now = today()
        select.set_options(
            [(f"{d.isoformat()}  {(d - now).days}d", d) for d in self._expirations]
        )
        if self._expirations:
            select.value = keep if keep in self._expirations else self._expirations[0]
        if not self._expirations:
            self.chain_table.show(None)
            self._info(f"{underlying}: no expirations in these dates")
            self._say(f"No {underlying} options expire between the From and To dates; widen "
                      "them or try another underlying.", problem=True)
            return
        self.load_chain()

    def _expiration(self) -> date | None:
        value = self.query_one("#expiration", Select).value
        return None if value is Select.NULL else value  # type: ignore[return-value]

    def load_chain(self) -> None:
        underlying, expiration = self._underlying, self._expiration()
        width, _p = parse_width(self._text("width"))
        if not underlying or expiration is None or width is None:
            return
        self._requested = expiration
        self._busy = "chain"
        self._say(f"Reading the {underlying} {expiration.isoformat()} chain…")
        self.call_service(
            lambda provider: provider.market.option_chain(underlying, expiration, width=width),
            key="chain",
            done=self._chain_read,
            failed=self._failed,
        )

    def _chain_read(self, chain: OptionChain) -> None:
        self._busy = ""
        table = self.chain_table
        table.show(chain)
        spot = f" {price(chain.underlying_price)}" if chain.underlying_price is not None else ""
        count = len(self._expirations)
        self._info(
            f"{chain.underlying}{spot} · {len(chain.rows)} strikes · "
            f"{count} expiration{'s' if count != 1 else ''}"
        )
        if not chain.rows:
            self._say(f"No {chain.underlying} contracts expire on "
                      f"{chain.expiration.isoformat()}.", problem=True)
        else:
            table.focus()
            self._say_picked()
        self.refresh_bindings()

    def _failed(self, sentence: str) -> None:
        self._busy = ""
        self._say(sentence, problem=True)

    @on(Select.Changed, "#expiration")
    def _expiration_chosen(self, event: Select.Changed) -> None:
        event.stop()
        # set by the user, by [ and ], or with the list (then its chain is already asked for)
        if event.value is not Select.NULL and event.value != self._requested:
            self.load_chain()

    # -- the status line ----------------------------------------------------------------------

    def _info(self, text: str) -> None:
        self.query_one("#options-info", Static).update(text)

    def _say(self, text: str, *, problem: bool = False) -> None:
        self._problem = text if problem else ""
        line = self.query_one("#options-status", Static)
        line.update(text)
        line.set_class(problem, "-problem")

    def _say_picked(self) -> None:
        picked = self.chain_table.picked()
        if picked is None:
            if self.chain_table.chain is not None and self.chain_table.chain.rows:
                self._say("← a call · a put →: move the cursor off the strike to pick one.")
            else:
                self._say("")
            return
        q = picked.quote
        self._say(f"{describe_contract(q.symbol)} · {q.symbol} · bid {px(q.bid)} ask "
                  f"{px(q.ask)}")

    @on(DataTable.CellHighlighted, "#chain")
    def _cell_moved(self, event: DataTable.CellHighlighted) -> None:
        event.stop()
        if not self._busy and not self._problem:
            self._say_picked()
        self.refresh_bindings()

    # -- actions ------------------------------------------------------------------------------

    def action_edit_underlying(self) -> None:
        field = self.query_one("#underlying", Input)
        field.focus()
        field.select_all()

    def action_step_expiration(self, step: int) -> None:
        current = self._expiration()
        if current is None or not self._expirations:
            return
        index = self._expirations.index(current) + step
        if 0 <= index < len(self._expirations):
            self.query_one("#expiration", Select).value = self._expirations[index]

    def action_reload(self) -> None:
        if self._underlying:
            self.load_expirations(keep=self._expiration())

    def action_chart_contract(self) -> None:
        picked = self.chain_table.picked()
        if picked is not None:
            show_chart(self.kash, picked.quote.symbol)

    def action_order_contract(self) -> None:
        picked = self.chain_table.picked()
        if picked is None:
            return
        q = picked.quote
        limit = q.ask if q.ask is not None and q.ask > 0 else None
        open_ticket(
            self.kash,
            defaults=TicketDefaults(
                symbol=q.symbol, side="buy", qty="1",
                order_type="limit" if limit is not None else "market",
                limit_price=str(limit) if limit is not None else "",
                time_in_force="day",
            ),
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("chart_contract", "order_contract"):
            try:
                return self.chain_table.picked() is not None or None
            except Exception:  # noqa: BLE001 - before the body is mounted
                return None
        if action == "step_expiration":
            return bool(self._expirations) or None
        if action == "reload":
            return bool(self._underlying) or None
        if action == "edit_underlying":
            return self.kash.status == "ready"
        return True


@palette_command
def options_commands(app: KashApp) -> Iterator[PaletteCommand]:
    """``Option chain: SYMBOL`` for the stock on the chart."""
    if app.status != "ready":
        return
    symbol = workbench(app).state.market.symbol
    if _UNDERLYING.match(symbol) and not is_option_symbol(symbol):
        yield PaletteCommand(
            f"Option chain: {symbol}", partial(show_chain, app, symbol),
            f"Expirations and strikes of {symbol} (Options place)",
        )


__all__ = ["OptionsScreen", "options_commands"]
