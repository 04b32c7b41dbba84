"""Connection domain: broker connections, capabilities and where their keys are."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kash_tui.domains.connection.service import (
    DEFAULT_KEY_ENV,
    DEFAULT_SECRET_ENV,
    KEYRING_SERVICE,
    BacktestConnection,
    BrokerConnectionError,
    BrokerError,
    BrokerKind,
    ConnectionModel,
    ConnectionNotFound,
    ConnectionService,
    Credentials,
    Environment,
    MarketFeed,
    NewConnection,
)

if TYPE_CHECKING:
    from kash_tui.db import Database

__all__ = [
    "DEFAULT_KEY_ENV",
    "DEFAULT_SECRET_ENV",
    "KEYRING_SERVICE",
    "BacktestConnection",
    "BrokerConnectionError",
    "BrokerError",
    "BrokerKind",
    "ConnectionModel",
    "ConnectionNotFound",
    "ConnectionService",
    "Credentials",
    "Environment",
    "MarketFeed",
    "NewConnection",
    "create_connection_service",
]


def create_connection_service(db: Database) -> ConnectionService:
    from kash_tui.domains.connection.service_impl import SqlConnectionService

    return SqlConnectionService(db)
