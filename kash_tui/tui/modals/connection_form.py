"""Add an Alpaca connection: where its keys are, never the keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Select

from kash_tui.domains.connection import (
    DEFAULT_KEY_ENV,
    DEFAULT_SECRET_ENV,
    BrokerKind,
    ConnectionModel,
    Environment,
    MarketFeed,
    NewConnection,
)
from kash_tui.tui.modals.form import FormModal, ServiceCall, env_name_problem, name_problem


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


__all__ = ["ConnectionForm"]
