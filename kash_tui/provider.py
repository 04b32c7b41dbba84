"""The composition root: builds every service in dependency order and hands them out.

connection -> workspace -> market -> strategy -> trading. Tests build a provider with their own
settings (database URL) or pass their own services; there is no DI framework and no global.
Constructing a provider touches nothing; :meth:`ServiceProvider.prepare` opens the database,
applies migrations and seeds the Demo workspace on first run.
"""

from __future__ import annotations

from typing import Protocol

from kash_tui.config import Settings
from kash_tui.db import Database
from kash_tui.domains.connection import ConnectionService, create_connection_service
from kash_tui.domains.market import MarketService, create_market_service
from kash_tui.domains.strategy import StrategyService, create_strategy_service
from kash_tui.domains.trading import TradingService, create_trading_service
from kash_tui.domains.workspace import WorkspaceService, create_workspace_service


class ServiceProviderProtocol(Protocol):
    settings: Settings

    @property
    def database_description(self) -> str: ...

    @property
    def connection(self) -> ConnectionService: ...

    @property
    def workspace(self) -> WorkspaceService: ...

    @property
    def market(self) -> MarketService: ...

    @property
    def strategy(self) -> StrategyService: ...

    @property
    def trading(self) -> TradingService: ...

    def prepare(self) -> None: ...

    def close(self) -> None: ...


class ServiceProvider:
    """Wires the real services over one database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.resolved_database_url)
        self._connection = create_connection_service(self.db)
        self._workspace = create_workspace_service(self.db, self._connection)
        self._market = create_market_service(
            self.db, self._connection, http_timeout=settings.http_timeout_seconds
        )
        self._strategy = create_strategy_service()
        self._trading = create_trading_service(
            self.db, self._market, self._strategy, self._workspace, self._connection,
            http_timeout=settings.http_timeout_seconds,
            poll_interval=settings.poll_interval_seconds,
            stream_account=settings.stream_account_updates,
        )
        self._prepared = False

    @property
    def database_description(self) -> str:
        return self.db.display_url

    @property
    def connection(self) -> ConnectionService:
        return self._connection

    @property
    def workspace(self) -> WorkspaceService:
        return self._workspace

    @property
    def market(self) -> MarketService:
        return self._market

    @property
    def strategy(self) -> StrategyService:
        return self._strategy

    @property
    def trading(self) -> TradingService:
        return self._trading

    def prepare(self) -> None:
        """Open the database, upgrade its schema and seed first-run data. Idempotent."""
        if self._prepared:
            return
        if self.settings.uses_default_database:
            self.db.url  # noqa: B018  (validated in Database.__init__)
            from kash_tui.config import default_database_path

            default_database_path().parent.mkdir(parents=True, exist_ok=True)
        self.db.prepare()
        if self.settings.demo_data:
            self._workspace.seed_demo()
            self._market.seed_demo_data()
        self._prepared = True

    def close(self) -> None:
        self.db.dispose()
