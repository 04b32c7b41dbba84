"""The composition root: builds every service in dependency order and hands them out.

connection -> workspace -> market -> strategy -> trading. Tests build a provider with their own
settings (database URL) or pass their own services; there is no DI framework and no global.
Constructing a provider touches nothing; :meth:`ServiceProvider.prepare` opens the database,
applies migrations and seeds the Demo workspace on first run.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # each domain is imported when its service is first asked for
    from kash_tui.config import Settings
    from kash_tui.db import Database
    from kash_tui.domains.connection import ConnectionService
    from kash_tui.domains.deployment import DeploymentService
    from kash_tui.domains.market import MarketService
    from kash_tui.domains.strategy import StrategyService
    from kash_tui.domains.trading import TradingService
    from kash_tui.domains.workspace import WorkspaceService


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

    @property
    def deployment(self) -> DeploymentService: ...

    def prepare(self) -> None: ...

    def close(self) -> None: ...


class ServiceProvider:
    """Wires the real services over one database.

    Each service is built (and its domain imported) the first time it is asked for, in
    dependency order, so a command imports only the domains it uses: ``kash strategies`` never
    loads the trading engine, ``kash workspace list`` never loads alpaca-py. Thread-safe."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._db: Database | None = None
        self._lock = threading.RLock()
        self._connection: ConnectionService | None = None
        self._workspace: WorkspaceService | None = None
        self._market: MarketService | None = None
        self._strategy: StrategyService | None = None
        self._trading: TradingService | None = None
        self._deployment: DeploymentService | None = None
        self._prepared = False
        self.executor_spec: str | None = None
        """Overrides ``settings.executor`` (``--executor``) when set before ``trading`` is
        first used."""

    @property
    def db(self) -> Database:
        """The database (SQLAlchemy is imported when it is first asked for: listing the
        strategies needs none)."""
        if self._db is None:
            with self._lock:
                if self._db is None:
                    from kash_tui.db import Database

                    self._db = Database(self.settings.resolved_database_url)
        return self._db

    @property
    def database_description(self) -> str:
        return self.db.display_url

    @property
    def connection(self) -> ConnectionService:
        if self._connection is None:
            with self._lock:
                if self._connection is None:
                    from kash_tui.domains.connection import create_connection_service

                    self._connection = create_connection_service(self.db)
        return self._connection

    @property
    def workspace(self) -> WorkspaceService:
        if self._workspace is None:
            with self._lock:
                if self._workspace is None:
                    from kash_tui.domains.workspace import create_workspace_service

                    self._workspace = create_workspace_service(self.db, self.connection)
        return self._workspace

    @property
    def market(self) -> MarketService:
        if self._market is None:
            with self._lock:
                if self._market is None:
                    from kash_tui.domains.market import create_market_service

                    self._market = create_market_service(
                        self.db, self.connection,
                        http_timeout=self.settings.http_timeout_seconds,
                    )
        return self._market

    @property
    def strategy(self) -> StrategyService:
        if self._strategy is None:
            with self._lock:
                if self._strategy is None:
                    from kash_tui.config import strategy_folders
                    from kash_tui.domains.strategy import create_strategy_service

                    self._strategy = create_strategy_service(
                        strategy_folders(self.settings), entry_points=True)
        return self._strategy

    @property
    def trading(self) -> TradingService:
        if self._trading is None:
            with self._lock:
                if self._trading is None:
                    from kash_tui.domains.trading import create_executor, create_trading_service

                    settings = self.settings
                    spec = self.executor_spec
                    executor = create_executor(settings.executor if spec is None else spec)
                    self._trading = create_trading_service(
                        self.db, self.market, self.strategy, self.workspace, self.connection,
                        http_timeout=settings.http_timeout_seconds,
                        poll_interval=settings.poll_interval_seconds,
                        stream_account=settings.stream_account_updates,
                        executor=executor,
                    )
        return self._trading

    @property
    def deployment(self) -> DeploymentService:
        """Deployments (strategies trading PAPER/LIVE portfolios); built on first use, so the
        app's first paint does not pay for it."""
        if self._deployment is None:
            with self._lock:
                if self._deployment is None:
                    from kash_tui.domains.deployment import create_deployment_service

                    self._deployment = create_deployment_service(
                        self.db, self.workspace, self.connection, self.market, self.strategy,
                        self.trading, database_url=self.settings.resolved_database_url,
                    )
        return self._deployment

    def prepare(self, *, writes: bool = True, eager: bool = True) -> None:
        """Open the database, upgrade its schema and seed first-run data. Idempotent.

        ``writes=False`` (a caller that only reads, e.g. a listing command): a SQLite file that
        cannot be written is opened read-only, as it is, with nothing written beside it.
        ``eager`` builds every service now (the app prepares in a worker, so no domain is
        imported later on its UI thread); the CLI passes False and builds only what it uses."""
        if self._prepared:
            return
        if eager:
            self.trading  # noqa: B018 - builds connection, workspace, market, strategy, trading
        if not writes and self.db.use_read_only_if_unwritable():
            self.db.prepare()  # checks the schema; never migrates a read-only file
            self._prepared = True
            return
        if self.settings.uses_default_database:  # (its URL was checked in Database.__init__)
            from kash_tui.config import default_database_path

            default_database_path().parent.mkdir(parents=True, exist_ok=True)
        self.db.prepare()
        if self.settings.demo_data:
            self.workspace.seed_demo()
            self.market.seed_demo_data()
        self._prepared = True

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
