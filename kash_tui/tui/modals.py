"""Questions Kash asks: forms that check what you type, and a confirmation before deleting.

A form checks its fields as you type (the Save button stays disabled while a field is wrong and
the reason shows under the field). On save it calls the service in a thread worker through
``app.call_service``; if the service refuses, its sentence shows in the form and the form stays
open. The form dismisses with the service's result (or ``None`` when cancelled).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, DataTable, Footer, Input, Label, Select, Static

from kash_tui.domains.connection import (
    DEFAULT_KEY_ENV,
    DEFAULT_SECRET_ENV,
    BrokerKind,
    ConnectionModel,
    Environment,
    MarketFeed,
    NewConnection,
)
from kash_tui.domains.workspace import Portfolio, PortfolioMode
from kash_tui.domains.workspace.service import NAME_MAX_LENGTH
from kash_tui.tui.screens import percent

if TYPE_CHECKING:
    from kash_tui.provider import ServiceProviderProtocol
    from kash_tui.tui.app import KashApp

T = TypeVar("T")
ServiceCall = Callable[["ServiceProviderProtocol"], Any]
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# -- field rules (what can be checked while typing; the service stays the authority) ----------


def name_problem(kind: str, text: str) -> str | None:
    clean = text.strip()
    if not clean:
        return f"Give the {kind} a name."
    if len(clean) > NAME_MAX_LENGTH:
        return f"At most {NAME_MAX_LENGTH} characters ({len(clean)} now)."
    if not clean.isprintable():
        return "Use printable characters only."
    return None


def position_size_problem(text: str) -> str | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return "Give a percentage of equity, e.g. 25."
    if not value.is_finite() or value <= 0 or value > 100:
        return "Must be more than 0 and at most 100."
    return None


def env_name_problem(text: str) -> str | None:
    if not _ENV_NAME.match(text.strip()):
        return "An environment variable name: letters, digits and _, e.g. APCA_API_KEY_ID."
    return None


# -- confirmation ----------------------------------------------------------------------------


class ConfirmModal(ModalScreen[bool]):
    """Asks before something is deleted. Cancel has the focus, so Enter alone deletes nothing."""

    BINDINGS: ClassVar = [
        Binding("y", "answer(True)", "Yes", id="confirm_yes", tooltip="Yes, do it"),
        Binding("n,escape", "answer(False)", "No", id="confirm_no", tooltip="No, keep it"),
    ]

    def __init__(self, question: str, detail: str = "", confirm_label: str = "Delete") -> None:
        super().__init__(classes="kash-modal")
        self.question = question
        self.detail = detail
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -danger"):
            yield Static(self.question, classes="dialog-title", markup=False)
            if self.detail:
                yield Static(self.detail, classes="dialog-detail", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.confirm_label} (y)", id="confirm", variant="error",
                             compact=True)
                yield Button("Cancel (n)", id="cancel", compact=True)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


# -- forms -----------------------------------------------------------------------------------


class FormModal(ModalScreen["T | None"], Generic[T]):
    """Base of Kash's forms. Subclasses compose fields with :meth:`field`, list per-field
    problems in :meth:`problems`, and say which service call saves in :meth:`service_call`."""

    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Cancel", id="form_cancel",
                tooltip="Close the form without saving"),
    ]
    SAVE_LABEL: ClassVar[str] = "Save"

    def __init__(self, title: str) -> None:
        super().__init__(classes="kash-modal")
        self.form_title = title
        self._touched: set[str] = set()
        self._busy = False

    @property
    def kash(self) -> KashApp:
        return self.app  # type: ignore[return-value]

    # what subclasses provide
    def compose_fields(self) -> Iterator[Widget]:
        yield from ()

    def problems(self) -> dict[str, str]:
        """Field id -> what is wrong with it, for the fields that are wrong now."""
        return {}

    def service_call(self) -> ServiceCall:
        """Every form subclass must say which service call saves it (abstract)."""
        raise NotImplementedError(f"{type(self).__name__} does not say how it saves")

    def fields_changed(self, widget_id: str | None) -> None:
        """A field changed (``None``: on mount); adjust dependent fields here."""

    # layout helpers
    def field(self, label: str, widget: Widget, note: str = "") -> ComposeResult:
        """A labelled field with a note line (hidden when empty) and an error line under it."""
        with Vertical(classes="field", id=f"{widget.id}-field"):
            with Horizontal(classes="field-row"):
                yield Label(label, classes="field-label")
                yield widget
            note_widget = Static(note, classes="field-note", id=f"{widget.id}-note", markup=False)
            note_widget.display = bool(note)
            yield note_widget
            yield Static("", classes="field-error", id=f"{widget.id}-error", markup=False)

    def set_note(self, widget_id: str, text: str) -> None:
        note = self.query_one(f"#{widget_id}-note", Static)
        note.update(text)
        note.display = bool(text)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form"):
            yield Static(self.form_title, classes="dialog-title", markup=False)
            yield from self.compose_fields()
            refusal = Static("", id="form-error", classes="form-error", markup=False)
            refusal.display = False
            yield refusal
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.SAVE_LABEL, id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.fields_changed(None)
        self.refresh_form()
        first = next(iter(self.query("Input, Select").results()), None)
        if first is not None:
            first.focus()

    # checking as you type
    def refresh_form(self) -> None:
        problems = self.problems()
        for error in self.query(".field-error").results(Static):
            field_id = (error.id or "").removesuffix("-error")
            text = problems.get(field_id, "") if field_id in self._touched else ""
            error.update(text)
            error.display = bool(text)
        save = self.query_one("#save", Button)
        save.disabled = bool(problems) or self._busy
        save.label = "Saving…" if self._busy else self.SAVE_LABEL

    def _show_refusal(self, sentence: str) -> None:
        refusal = self.query_one("#form-error", Static)
        refusal.update(sentence)
        refusal.display = bool(sentence)

    def _changed(self, widget: Widget) -> None:
        if widget.has_focus or widget.id in self._touched:
            self._touched.add(widget.id or "")
        self.fields_changed(widget.id)
        self._show_refusal("")
        self.refresh_form()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._changed(event.input)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._touched.add(event.select.id or "")
        self._changed(event.select)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    # saving
    def action_save(self) -> None:
        if self._busy:
            return
        problems = self.problems()
        self._touched.update(problems)
        self.refresh_form()
        if problems:
            first = next(iter(problems))
            self.query_one(f"#{first}").focus()
            return
        self._busy = True
        self.refresh_form()
        self.kash.call_service(self.service_call(), done=self._saved, failed=self._refused)

    def _saved(self, result: T) -> None:
        if self.is_current:  # not cancelled while the service worked
            self.dismiss(result)

    def _refused(self, sentence: str) -> None:
        if not self.is_current:
            self.app.notify(sentence, severity="error", timeout=10)
            return
        self._busy = False
        self._show_refusal(sentence)
        self.refresh_form()

    def action_cancel(self) -> None:
        self.dismiss(None)

    # values
    def text(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def choice(self, widget_id: str) -> Any:
        value = self.query_one(f"#{widget_id}", Select).value
        return None if value is Select.NULL else value


class NameForm(FormModal[T]):
    """One name: create or rename a workspace."""

    def __init__(
        self,
        title: str,
        *,
        kind: str,
        save: Callable[[ServiceProviderProtocol, str], T],
        initial: str = "",
        save_label: str = "Save",
    ) -> None:
        super().__init__(title)
        self.kind = kind
        self.initial = initial
        self._save = save
        self.SAVE_LABEL = save_label  # type: ignore[misc]

    def compose_fields(self) -> ComposeResult:
        yield from self.field(
            "Name", Input(self.initial, placeholder=f"{self.kind} name", id="name", compact=True)
        )

    def problems(self) -> dict[str, str]:
        problem = name_problem(self.kind, self.text("name"))
        return {"name": problem} if problem else {}

    def service_call(self) -> ServiceCall:
        name, save = self.text("name").strip(), self._save
        return lambda provider: save(provider, name)


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


class ConnectionForm(FormModal[ConnectionModel]):
    """Add an Alpaca connection. It records where the keys are, never the keys."""

    SAVE_LABEL = "Add"

    def __init__(self) -> None:
        super().__init__("Add an Alpaca connection")

    def compose_fields(self) -> ComposeResult:
        yield from self.field(
            "Name", Input(placeholder="e.g. alpaca-paper", id="name", compact=True)
        )
        yield from self.field(
            "Account",
            Select(
                [("Paper trading", Environment.PAPER), ("Live: real money", Environment.LIVE)],
                value=Environment.PAPER, allow_blank=False, id="environment", compact=True,
            ),
        )
        yield from self.field(
            "Stock data",
            Select(
                [("IEX (every account)", MarketFeed.IEX),
                 ("SIP (subscription)", MarketFeed.SIP)],
                value=MarketFeed.IEX, allow_blank=False, id="feed", compact=True,
            ),
        )
        yield from self.field(
            "Keys from",
            Select(
                [("Environment variables", "env"), ("OS keyring entry", "keyring")],
                value="env", allow_blank=False, id="source", compact=True,
            ),
            note="Kash stores where the keys are, never the keys.",
        )
        yield from self.field("Key id var", Input(DEFAULT_KEY_ENV, id="key_env", compact=True))
        yield from self.field(
            "Secret var", Input(DEFAULT_SECRET_ENV, id="secret_env", compact=True)
        )
        yield from self.field(
            "Keyring entry", Input(placeholder="entry name", id="keyring", compact=True)
        )

    def fields_changed(self, widget_id: str | None) -> None:
        keyring = self.choice("source") == "keyring"
        self.query_one("#key_env-field").display = not keyring
        self.query_one("#secret_env-field").display = not keyring
        self.query_one("#keyring-field").display = keyring
        live = self.choice("environment") is Environment.LIVE
        self.set_note(
            "environment",
            "Live trading stays off until you enable it: kash connection enable-live NAME"
            if live
            else "",
        )

    def problems(self) -> dict[str, str]:
        found: dict[str, str] = {}
        if problem := name_problem("connection", self.text("name")):
            found["name"] = problem
        if self.choice("source") == "keyring":
            if not self.text("keyring").strip():
                found["keyring"] = "Give the name of the keyring entry that holds both keys."
        else:
            for field_id in ("key_env", "secret_env"):
                if problem := env_name_problem(self.text(field_id)):
                    found[field_id] = problem
        return found

    def service_call(self) -> ServiceCall:
        keyring = self.choice("source") == "keyring"
        new = NewConnection(
            name=self.text("name").strip(),
            broker=BrokerKind.ALPACA,
            environment=self.choice("environment"),
            key_env=None if keyring else self.text("key_env").strip(),
            secret_env=None if keyring else self.text("secret_env").strip(),
            keyring_entry=self.text("keyring").strip() if keyring else None,
            feed=self.choice("feed") or MarketFeed.IEX,
        )
        return lambda provider: provider.connection.add(new)


# -- keymap help -----------------------------------------------------------------------------


class KeymapScreen(ModalScreen[None]):
    """The action ids a user can remap in the config file's ``[keymap]`` table."""

    BINDINGS: ClassVar = [
        Binding("escape,q", "close", "Close", id="keymap_close", tooltip="Close this list"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="kash-modal")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static("Keys you can remap", classes="dialog-title")
            yield Static(
                'In the config file: [keymap] then one line per action, e.g. go_chart = "c".',
                classes="dialog-detail", markup=False,
            )
            yield DataTable(id="keymap-table", cursor_type="row", zebra_stripes=True)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        from kash_tui.tui.keymap import all_bindings
        from kash_tui.tui.screens import PLACES

        for place in PLACES.values():  # every place's bindings, also those not opened yet
            place.load()
        overrides = getattr(self.app, "_keymap_overrides", {})
        table = self.query_one(DataTable)
        rows = [
            (binding_id, overrides.get(binding_id, binding.key),
             binding.tooltip or binding.description)
            for binding_id, binding in sorted(all_bindings().items())
        ]
        # "What it does" gets the width that is left and wraps in it (cut at 80 columns before)
        id_w = max(cell_len(r[0]) for r in rows) if rows else 10
        keys_w = min(16, max(cell_len(r[1]) for r in rows)) if rows else 6
        room = self.app.size.width - 4 - 2 - 2 * 3  # dialog border+padding, scrollbar, cells
        text_w = max(24, room - id_w - keys_w)
        table.add_column("Action id", width=id_w)
        table.add_column("Keys", width=keys_w)
        table.add_column("What it does", width=text_w)
        for binding_id, keys, what in rows:
            table.add_row(binding_id, Text(keys, overflow="fold"), Text(what), height=None)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
