"""Connection domain, public face: broker connections, their capabilities and credentials.

Secrets never enter the database, the config file or a log: a connection stores only *where*
its keys are (environment variable names or an OS keyring entry) and they are read at use time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

DEFAULT_KEY_ENV = "APCA_API_KEY_ID"
DEFAULT_SECRET_ENV = "APCA_API_SECRET_KEY"
KEYRING_SERVICE = "kash"


class BrokerConnectionError(Exception):
    """A user-facing connection problem; the message says what to do."""


class ConnectionNotFound(BrokerConnectionError):
    pass


class BrokerError(BrokerConnectionError):
    """A broker call failed; ``str()`` is one sentence for the user (never holds a secret).

    ``kind`` says what went wrong, so callers can react without parsing text: ``auth`` (401),
    ``forbidden`` (403, e.g. insufficient buying power or pattern day trader), ``rejected``
    (422), ``not_found`` (404), ``rate_limited`` (429 after backing off), ``server`` (5xx),
    ``timeout``, ``network``, ``unreachable`` (no connection could be made: refused, no such
    host, connect timeout; the request never left), ``malformed`` (a reply Kash could not
    read) or ``config`` (the request could not even be made: a bad URL or key).
    ``broker_message`` is the broker's own text, when it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        status: int | None = None,
        broker_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.broker_message = broker_message

    @property
    def outcome_unknown(self) -> bool:
        """True when the request may have reached the broker (timeout, network drop, 5xx)."""
        return self.kind in ("timeout", "network", "server", "malformed")


class BrokerKind(StrEnum):
    ALPACA = "alpaca"
    INTERNAL = "internal"


class Environment(StrEnum):
    PAPER = "paper"
    LIVE = "live"


class MarketFeed(StrEnum):
    """Alpaca's stock data feed of a connection (crypto and options have one feed each)."""

    IEX = "iex"
    """The IEX exchange only: free with every account (the default)."""
    SIP = "sip"
    """All US exchanges (the consolidated tape): needs a market data subscription."""

    @property
    def label(self) -> str:
        return self.value.upper()


@dataclass(frozen=True)
class ConnectionModel:
    """A broker connection as the rest of Kash sees it. Holds no secret."""

    id: int | None
    name: str
    broker: BrokerKind
    environment: Environment
    trading_url: str | None = None
    data_url: str | None = None
    key_env: str | None = None
    secret_env: str | None = None
    keyring_entry: str | None = None
    live_enabled: bool = False
    created_at: datetime | None = None
    feed: MarketFeed = MarketFeed.IEX
    """The stock data feed its bars, last prices and bar stream come from."""

    @property
    def rfqdn(self) -> str:
        """Reverse-FQDN of what this connection is, e.g. ``markets.alpaca.paper``."""
        return f"markets.{self.broker.value}.{self.environment.value}"

    @property
    def is_live(self) -> bool:
        return self.environment is Environment.LIVE

    @property
    def cap_data_stream_live(self) -> bool:
        return self.broker is BrokerKind.ALPACA

    @property
    def cap_data_stream_historic(self) -> bool:
        return self.broker is BrokerKind.ALPACA

    @property
    def cap_trading_paper(self) -> bool:
        return self.broker is BrokerKind.ALPACA and self.environment is Environment.PAPER

    @property
    def cap_trade_stream(self) -> bool:
        """Account events arrive over a stream (Alpaca's trade_updates) instead of polling."""
        return self.broker is BrokerKind.ALPACA

    @property
    def cap_trading_live(self) -> bool:
        return (
            self.broker is BrokerKind.ALPACA
            and self.environment is Environment.LIVE
            and self.live_enabled
        )

    @property
    def key_source(self) -> str:
        """Where the keys come from, for display (never the keys themselves)."""
        if self.keyring_entry:
            return f"keyring:{self.keyring_entry}"
        return f"env:{self.key_env},{self.secret_env}"


@dataclass(frozen=True)
class BacktestConnection(ConnectionModel):
    """The null connection of backtests: no broker, every capability false."""

    id: int | None = None
    name: str = "backtest"
    broker: BrokerKind = BrokerKind.INTERNAL
    environment: Environment = Environment.PAPER

    @property
    def rfqdn(self) -> str:
        return "internal.backtest"

    @property
    def cap_data_stream_live(self) -> bool:
        return False

    @property
    def cap_data_stream_historic(self) -> bool:
        return False

    @property
    def cap_trading_paper(self) -> bool:
        return False

    @property
    def cap_trading_live(self) -> bool:
        return False

    @property
    def cap_trade_stream(self) -> bool:
        return False

    @property
    def key_source(self) -> str:
        return "none"


@dataclass(frozen=True)
class Credentials:
    """API keys read at use time. ``repr`` and ``str`` never show the secret."""

    key_id: str
    secret_key: str

    def __repr__(self) -> str:
        return f"Credentials(key_id='{self.key_id[:4]}…', secret_key='***')"

    __str__ = __repr__


@dataclass(frozen=True)
class NewConnection:
    name: str
    broker: BrokerKind = BrokerKind.ALPACA
    environment: Environment = Environment.PAPER
    trading_url: str | None = None
    data_url: str | None = None
    key_env: str | None = None
    secret_env: str | None = None
    keyring_entry: str | None = None
    custom_host: bool = False
    """The URLs may point at a host that is neither Alpaca's nor this machine's (a proxy of
    the user's own, over https); it receives the keys."""
    feed: MarketFeed = MarketFeed.IEX


class ConnectionService(Protocol):
    def list_connections(self) -> list[ConnectionModel]: ...

    def get(self, name: str) -> ConnectionModel: ...

    def get_by_id(self, connection_id: int) -> ConnectionModel: ...

    def add(self, new: NewConnection) -> ConnectionModel: ...

    def remove(self, name: str) -> None: ...

    def enable_live(self, name: str, typed_name: str) -> ConnectionModel:
        """Opt in to live trading; ``typed_name`` must repeat the connection's name exactly."""
        ...

    def disable_live(self, name: str) -> ConnectionModel: ...

    def set_feed(self, name: str, feed: MarketFeed | str) -> ConnectionModel:
        """Switch the stock data feed (SIP needs Alpaca's market data subscription)."""
        ...

    def credentials(self, name: str) -> Credentials: ...
