"""The deployment service: stored deployments, their journal, the kill switch, and the entry to
the runner and the parity report (private)."""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import secrets
import socket
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError

from kash_tui.db import Database, utc_now
from kash_tui.domains.connection import BrokerConnectionError, ConnectionService
from kash_tui.domains.deployment import models, repo
from kash_tui.domains.deployment.entities import DeploymentRow
from kash_tui.domains.deployment.service import (
    DataHealth,
    Deployment,
    DeploymentError,
    DeploymentNotFound,
    DeploymentState,
    DesiredState,
    EventCallback,
    EventKind,
    HaltReport,
    JournalEntry,
    LiveRefused,
    NewDeployment,
    ParityReport,
    RunOptions,
    StreamUse,
)
from kash_tui.domains.market import MarketError, MarketService, Timeframe
from kash_tui.domains.strategy import StrategyError, StrategyService
from kash_tui.domains.trading import TradingAdapter, TradingError, TradingService
from kash_tui.domains.workspace import Portfolio, PortfolioMode, WorkspaceError, WorkspaceService
from kash_tui.names import unprintable

log = logging.getLogger("kash.deployment")

NAME_MAX = 64
HEARTBEAT_STALE = timedelta(seconds=60)
"""A running deployment whose heartbeat is older than this (and whose process cannot be seen)
is taken for dead: it may be started again, and its stream lease goes to another."""

_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9./-]{0,31}$")


def order_prefix(tag: str) -> str:
    """Every client order id of a deployment starts with this."""
    return f"kash-d-{tag}-"


def process_alive(host: str | None, pid: int | None) -> bool | None:
    """True/False for a process on this host; None when it runs elsewhere (unknown)."""
    if pid is None:
        return False
    if host is not None and host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


class SqlDeploymentService:
    def __init__(
        self,
        db: Database,
        workspaces: WorkspaceService,
        connections: ConnectionService,
        market: MarketService,
        strategies: StrategyService,
        trading: TradingService,
        *,
        database_url: str | None = None,
    ) -> None:
        self._db = db
        self._workspaces = workspaces
        self._connections = connections
        self._market = market
        self._strategies = strategies
        self._trading = trading
        self._database_url = database_url

    # -- reading ------------------------------------------------------------------------------

    def _portfolios(self) -> dict[int, Portfolio]:
        return {p.id: p for p in self._workspaces.list_portfolios()}

    def _row(self, name: str) -> DeploymentRow:
        with self._db.unit_of_work() as s:
            row = repo.by_name(s, name.strip())
            if row is None:
                raise DeploymentNotFound(
                    f"There is no deployment {name!r}; list them with `kash deploy list`."
                )
            s.expunge(row)
            return row

    def _to_public(self, row: DeploymentRow) -> Deployment:
        try:
            portfolio = self._workspaces.get_portfolio(row.portfolio_id)
        except WorkspaceError:
            portfolio = None
        return models.to_deployment(row, portfolio)

    def get(self, name: str) -> Deployment:
        return self._to_public(self._row(name))

    def list(self, workspace: str | None = None) -> list[Deployment]:  # noqa: A003
        portfolios = self._portfolios()
        with self._db.unit_of_work() as s:
            rows = repo.all_rows(s)
            out = [models.to_deployment(r, portfolios.get(r.portfolio_id)) for r in rows]
        if workspace is not None:
            out = [d for d in out if d.workspace_name == workspace]
        return out

    def journal(
        self, name: str, *, after_id: int | None = None, limit: int | None = None,
        kinds: tuple[EventKind, ...] | None = None,
    ) -> list[JournalEntry]:
        row = self._row(name)
        with self._db.unit_of_work() as s:
            return [models.to_entry(e) for e in repo.events(
                s, row.id, after_id=after_id, limit=limit,
                kinds=tuple(EventKind(k).value for k in kinds) if kinds else None)]

    # -- creating -----------------------------------------------------------------------------

    def _checked(self, new: NewDeployment) -> tuple[str, Portfolio, str, str, dict[str, Any]]:
        name = (new.name or "").strip()
        if not name:
            raise DeploymentError("Give the deployment a name, e.g. `kash deploy start sma-aapl ...`.")
        if len(name) > NAME_MAX:
            raise DeploymentError(
                f"A deployment name may have at most {NAME_MAX} characters (got {len(name)})."
            )
        bad = unprintable(name)
        if bad is not None:
            raise DeploymentError(f"A deployment name cannot contain {bad}; type another name.")
        try:
            portfolio = self._workspaces.find_portfolio(new.portfolio, new.workspace)
        except WorkspaceError as exc:
            raise DeploymentError(str(exc)) from None
        if portfolio.mode is PortfolioMode.BACKTEST:
            raise DeploymentError(
                f"Portfolio {portfolio.name!r} is a BACKTEST portfolio; a deployment trades a "
                "PAPER or LIVE portfolio (create one with `kash portfolio create NAME --mode "
                "paper --connection CONN --workspace WS`)."
            )
        if portfolio.connection_name is None:
            raise DeploymentError(
                f"Portfolio {portfolio.name!r} has no broker connection; attach one first."
            )
        symbol = (new.symbol or "").strip().upper()
        if not _SYMBOL.match(symbol):
            raise DeploymentError(
                f"{new.symbol!r} is not a valid symbol; use e.g. AAPL or BTC/USD."
            )
        try:
            timeframe = Timeframe.parse(new.timeframe or "")
        except MarketError as exc:
            raise DeploymentError(str(exc)) from None
        if not isinstance(new.params, Mapping):
            raise DeploymentError("The parameters must be a JSON object, e.g. '{\"short_period\": 10}'.")
        try:
            strategy = self._strategies.create_with_params(new.strategy_id, dict(new.params))
        except StrategyError as exc:
            raise DeploymentError(str(exc)) from None
        params = strategy.params.model_dump(mode="json")
        return name, portfolio, symbol, timeframe.value, params

    def create(self, new: NewDeployment) -> Deployment:
        name, portfolio, symbol, timeframe, params = self._checked(new)
        now = utc_now()
        row = DeploymentRow(
            name=name, portfolio_id=portfolio.id, strategy_id=new.strategy_id,
            params_json=json.dumps(params, sort_keys=True), symbol=symbol, timeframe=timeframe,
            order_tag=secrets.token_hex(4), desired_state=DesiredState.STOPPED.value,
            state=DeploymentState.STOPPED.value, flatten_requested=False, created_at=now,
            data_health=DataHealth.UNKNOWN.value, position_qty=Decimal(0), orders_today=0,
            **_limit_columns(new),
        )
        try:
            with self._db.unit_of_work() as s:
                if repo.by_name(s, name) is not None:
                    raise DeploymentError(
                        f"There is already a deployment {name!r}; start it with `kash deploy "
                        f"start {name}` or pick another name."
                    )
                s.add(row)
                s.flush()
                s.expunge(row)
        except IntegrityError:
            raise DeploymentError(
                f"There is already a deployment {name!r}; pick another name."
            ) from None
        return self._to_public(row)

    def update(self, new: NewDeployment) -> Deployment:
        current = self._row(new.name)
        if current.state == DeploymentState.RUNNING.value and self._alive(current):
            raise DeploymentError(
                f"Deployment {current.name!r} is running; stop it before changing it."
            )
        name, portfolio, symbol, timeframe, params = self._checked(new)
        changed_market = (
            portfolio.id != current.portfolio_id or symbol != current.symbol
            or timeframe != current.timeframe
        )
        fields: dict[str, Any] = dict(
            portfolio_id=portfolio.id, strategy_id=new.strategy_id,
            params_json=json.dumps(params, sort_keys=True), symbol=symbol, timeframe=timeframe,
            **_limit_columns(new),
        )
        if changed_market or params != models.params_of(current) or (
            new.strategy_id != current.strategy_id
        ):
            # another strategy, symbol or timeframe is another history: start afresh
            fields.update(warmup_start=None, first_live_bar=None, last_bar_at=None,
                          done_bar_at=None, start_equity=None, pnl=None)
        with self._db.unit_of_work() as s:
            repo.set_fields(s, current.id, **fields)
        return self.get(name)

    def delete(self, name: str) -> None:
        row = self._row(name)
        if row.state == DeploymentState.RUNNING.value and self._alive(row):
            raise DeploymentError(f"Deployment {name!r} is running; stop or halt it first.")
        with self._db.unit_of_work() as s:
            repo.delete_deployment(s, row.id)

    # -- starting -----------------------------------------------------------------------------

    def _alive(self, row: DeploymentRow) -> bool:
        """Whether the row's runner is still there: its process (on this host), else a fresh
        heartbeat."""
        seen = process_alive(row.host, row.pid)
        if seen is not None:
            return seen
        return row.heartbeat_at is not None and utc_now() - row.heartbeat_at < HEARTBEAT_STALE

    def check_start(self, name: str, *, confirm_live: str | None = None) -> Deployment:
        row = self._row(name)
        if row.state == DeploymentState.RUNNING.value and self._alive(row):
            where = f" (process {row.pid} on {row.host})" if row.pid else ""
            raise DeploymentError(
                f"Deployment {row.name!r} is already running{where}; stop it first with "
                f"`kash deploy stop {row.name}`."
            )
        deployment = self._to_public(row)
        portfolio = self._workspaces.get_portfolio(row.portfolio_id)
        self._check_alone_on_symbol(row, portfolio)
        if portfolio.mode is PortfolioMode.LIVE:
            self._check_live(row, portfolio, confirm_live)
        return deployment

    def _check_alone_on_symbol(self, row: DeploymentRow, portfolio: Portfolio) -> None:
        """Refuse a second running deployment of one symbol on one broker account: each adopts
        the account's whole position in the symbol as its own (the broker is the truth), so two
        would both sell it and take the account short."""
        with self._db.unit_of_work() as s:
            others = [r for r in repo.all_rows(s)
                      if r.id != row.id and r.symbol == row.symbol
                      and r.state == DeploymentState.RUNNING.value]
            for other in others:
                s.expunge(other)
        for other in others:
            if not self._alive(other):
                continue
            theirs = self._workspaces.get_portfolio(other.portfolio_id)
            same_account = theirs.id == portfolio.id or (
                portfolio.connection_name is not None
                and theirs.connection_name == portfolio.connection_name)
            if same_account:
                raise DeploymentError(
                    f"Deployment {other.name!r} already trades {row.symbol} on this account "
                    f"({theirs.name!r}); stop it first, or deploy {row.name!r} on another "
                    "symbol or account: two deployments of one symbol would each take the "
                    "whole position as theirs."
                )

    def _check_live(self, row: DeploymentRow, portfolio: Portfolio, confirm: str | None) -> None:
        conn_name = portfolio.connection_name or ""
        try:
            conn = self._connections.get(conn_name)
        except BrokerConnectionError as exc:
            raise LiveRefused(str(exc)) from None
        if not conn.cap_trading_live:
            raise LiveRefused(
                f"Deployment {row.name!r} trades the LIVE portfolio {portfolio.name!r}, but live "
                f"trading is not enabled on connection {conn_name!r}; opt in first with "
                f"`kash connection enable-live {conn_name}`."
            )
        if row.daily_loss_limit_pct is None:
            raise LiveRefused(
                f"A LIVE deployment needs a daily loss limit; start {row.name!r} with "
                "--daily-loss-limit-pct X (for example 2)."
            )
        if confirm is None or confirm.strip() != row.name:
            raise LiveRefused(
                f"Deployment {row.name!r} trades real money on {portfolio.name!r}; confirm by "
                f"typing its name when asked, or pass --confirm-live {row.name}."
            )

    def run(
        self,
        name: str,
        *,
        confirm_live: str | None = None,
        stop: Any = None,
        on_event: EventCallback | None = None,
        options: RunOptions | None = None,
    ) -> Deployment:
        from kash_tui.domains.deployment.runner import Runner

        self.check_start(name, confirm_live=confirm_live)
        row = self._row(name)
        portfolio = self._workspaces.get_portfolio(row.portfolio_id)
        runner = Runner(
            self, row, portfolio, options or RunOptions(), stop=stop, on_event=on_event,
        )
        runner.run()
        return self.get(name)

    def launch(
        self, name: str, *, confirm_live: str | None = None, tick_seconds: float | None = None,
        stream: bool = True,
    ) -> Deployment:
        import subprocess
        import sys

        from kash_tui.config import data_dir

        self.check_start(name, confirm_live=confirm_live)
        row = self._row(name)
        folder = data_dir() / "deployments"
        folder.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", row.name)
        log_path = folder / f"{safe}.log"
        env = dict(os.environ)
        if self._database_url:
            env["KASH_DATABASE_URL"] = self._database_url
        command = [sys.executable, "-m", "kash_tui.runner", row.name]
        if confirm_live is not None:
            env["KASH_RUNNER_CONFIRM_LIVE"] = confirm_live
        if tick_seconds is not None:
            env["KASH_RUNNER_TICK"] = repr(float(tick_seconds))
        if not stream:
            env["KASH_RUNNER_NO_STREAM"] = "1"
        with open(log_path, "ab") as out:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env=env, start_new_session=True, close_fds=True,
            )
        with self._db.unit_of_work() as s:
            repo.set_fields(s, row.id, log_path=str(log_path))
        log.info("deployment %s launched as process %s", row.name, process.pid)
        return self.get(name)

    # -- stopping and halting -----------------------------------------------------------------

    def record(
        self, deployment_id: int, kind: EventKind, message: str, *,
        bar_at: datetime | None = None, data: dict[str, Any] | None = None,
        fields: dict[str, Any] | None = None,
    ) -> JournalEntry:
        """Write one journal entry (and row fields) in one transaction."""
        with self._db.unit_of_work() as s:
            if fields:
                repo.set_fields(s, deployment_id, **fields)
            event = repo.add_event(s, deployment_id, at=utc_now(), kind=kind.value,
                                   message=message, bar_at=bar_at, data=data)
            return models.to_entry(event)

    def stop(self, name: str) -> Deployment:
        row = self._row(name)
        running = row.state == DeploymentState.RUNNING.value
        fields: dict[str, Any] = {"desired_state": DesiredState.STOPPED.value}
        if not running or not self._alive(row):
            fields.update(state=DeploymentState.STOPPED.value if running else row.state,
                          stopped_at=utc_now() if running else row.stopped_at, pid=None,
                          data_mode=None)
            if running:
                self.record(row.id, EventKind.STOP,
                            "Stopped (its runner was no longer running).", fields=fields)
                return self.get(name)
        with self._db.unit_of_work() as s:
            repo.set_fields(s, row.id, **fields)
        return self.get(name)

    def halt(self, name: str, *, flatten: bool = False,
             reason: str | None = None) -> HaltReport:
        row = self._row(name)
        return self._halt(row, flatten=flatten, reason=reason)

    def halt_all(self, *, flatten: bool = False, workspace: str | None = None) -> list[HaltReport]:
        names = {d.name for d in self.list(workspace)}
        with self._db.unit_of_work() as s:
            rows = [r for r in repo.all_rows(s) if r.name in names]
            for r in rows:
                s.expunge(r)
        open_by_portfolio: dict[int, list[str]] = {}
        reports = []
        for row in rows:
            if row.state != DeploymentState.RUNNING.value:
                # not running: halted only when it still has open orders at the broker
                if row.portfolio_id not in open_by_portfolio:
                    try:
                        adapter = self._trading.resolve_trading_adapter(row.portfolio_id)
                        open_by_portfolio[row.portfolio_id] = [
                            o.client_order_id for o in adapter.get_orders("open")]
                    except (TradingError, BrokerConnectionError):
                        open_by_portfolio[row.portfolio_id] = []
                prefix = order_prefix(row.order_tag)
                if not any(c.startswith(prefix) for c in open_by_portfolio[row.portfolio_id]):
                    continue
            reports.append(self._halt(row, flatten=flatten, reason=None))
        return reports

    def _halt(
        self, row: DeploymentRow, *, flatten: bool, reason: str | None,
        adapter: TradingAdapter | None = None, on_event: EventCallback | None = None,
    ) -> HaltReport:
        """Mark halted first (the runner sends nothing more), then cancel at the broker."""
        why = reason or "Halted by the user."
        record = self.record
        if on_event is not None:
            def record(*args: Any, **kwargs: Any) -> JournalEntry:  # noqa: ANN202
                entry = self.record(*args, **kwargs)
                on_event(entry)
                return entry
        with self._db.unit_of_work() as s:
            repo.set_fields(s, row.id, desired_state=DesiredState.HALTED.value,
                            state=DeploymentState.HALTED.value, message=why,
                            stopped_at=utc_now(), flatten_requested=flatten)
        record(row.id, EventKind.HALT, why + (" Closing its position." if flatten else ""))
        problems: list[str] = []
        cancelled: list[str] = []
        flat_id: str | None = None
        try:
            if adapter is None:
                adapter = self._trading.resolve_trading_adapter(row.portfolio_id)
            prefix = order_prefix(row.order_tag)
            for order in adapter.get_orders("open"):
                if not order.client_order_id.startswith(prefix):
                    continue
                try:
                    adapter.cancel_order(order.id)
                    cancelled.append(order.id)
                    record(row.id, EventKind.CANCEL,
                                f"Cancelled open order {order.client_order_id} "
                                f"({order.side.value} {order.qty or ''} {order.symbol}).",
                                data={"order_id": order.id,
                                      "client_order_id": order.client_order_id})
                except (TradingError, BrokerConnectionError) as exc:
                    problems.append(f"Order {order.client_order_id} was not cancelled: {exc}")
            if flatten:
                positions = [p for p in adapter.get_positions()
                             if p.symbol.replace("/", "") == row.symbol.replace("/", "")
                             and p.qty != 0]
                if positions:
                    placed = adapter.close_position(row.symbol, confirm_live=True)
                    flat_id = placed.id
                    record(row.id, EventKind.ORDER_SENT,
                                f"Closing the {row.symbol} position ({positions[0].qty}) at "
                                "market (halt --flatten).",
                                data={"order_id": placed.id, "flatten": True})
        except (TradingError, BrokerConnectionError) as exc:
            problems.append(str(exc))
        for problem in problems:
            record(row.id, EventKind.BROKER_ERROR, problem)
        return HaltReport(name=row.name, cancelled_orders=tuple(cancelled),
                          flatten_order_id=flat_id, problems=tuple(problems))

    # -- parity -------------------------------------------------------------------------------

    def parity(self, name: str) -> ParityReport:
        from kash_tui.domains.deployment.parity import build_report

        row = self._row(name)
        portfolio = self._workspaces.get_portfolio(row.portfolio_id)
        with self._db.unit_of_work() as s:
            entries = [models.to_entry(e) for e in repo.events(s, row.id)]
        return build_report(
            row, portfolio, entries, market=self._market, strategies=self._strategies,
            trading=self._trading,
        )

    # -- the stream lease for viewers ---------------------------------------------------------

    def watch_bars(
        self, symbol: str, timeframe: Any, on_bars: Callable[[int], None], *,
        connection: str | None = None, poll_interval: float = 5.0,
    ) -> Any:
        from kash_tui.domains.connection import BrokerKind, Environment

        if connection:
            conn = self._connections.get(connection)
        else:
            alpaca = [c for c in self._connections.list_connections()
                      if c.broker is BrokerKind.ALPACA]
            paper = [c for c in alpaca if c.environment is Environment.PAPER]
            conn = (paper or alpaca)[0] if alpaca else None
        if conn is None:  # the market says what is missing
            return self._market.watch_bars(symbol, timeframe, on_bars, connection=connection,
                                           poll_interval=poll_interval)
        holder = (f"{APP_HOLDER} {next(_watch_numbers)})@{socket.gethostname()[:40]}:"
                  f"{os.getpid()}")
        use = StreamUse(stream=False, connection=conn.name)
        if conn.cap_data_stream_live and conn.id is not None:
            if claim_stream_lease(self._db, conn.id, holder):
                use = StreamUse(stream=True, connection=conn.name)
            else:
                owner = self._stream_owner(conn.id)
                use = StreamUse(
                    stream=False, connection=conn.name, owner=owner,
                    note=f"{owner} owns the market-data stream of {conn.name!r} (Alpaca allows "
                         f"one per key); new bars are polled every {poll_interval:g} s.",
                )
        try:
            watch = self._market.watch_bars(symbol, timeframe, on_bars, connection=conn.name,
                                            poll_interval=poll_interval, stream=use.stream)
        except BaseException:
            if use.stream:
                with self._db.unit_of_work() as s:
                    repo.release_lease(s, conn.id, holder)
            raise
        return _ViewerWatch(watch, self._db, conn.id, holder, use)

    def _stream_owner(self, connection_id: int) -> str:
        """Who holds the lease, in words: the deployment's name, else the app."""
        with self._db.unit_of_work() as s:
            lease = repo.lease(s, connection_id)
            holder = lease.holder if lease is not None else ""
        name, _, where = holder.rpartition("@")
        pid = where.partition(":")[2]
        if name.startswith(APP_HOLDER):
            return f"the app (process {pid})" if pid else "the app"
        return f"deployment {name!r}" if name else "another process"

    # -- for the runner -----------------------------------------------------------------------

    @property
    def db(self) -> Database:
        return self._db

    @property
    def market(self) -> MarketService:
        return self._market

    @property
    def strategies(self) -> StrategyService:
        return self._strategies

    @property
    def trading(self) -> TradingService:
        return self._trading

    @property
    def connections(self) -> ConnectionService:
        return self._connections

    def self_halt(
        self, row: DeploymentRow, reason: str, adapter: TradingAdapter,
        on_event: EventCallback | None = None,
    ) -> HaltReport:
        return self._halt(row, flatten=False, reason=reason, adapter=adapter, on_event=on_event)


def claim_stream_lease(db: Database, connection_id: int, holder: str) -> bool:
    """Take the connection's market-data stream lease for ``holder`` (``name@host:pid``): free,
    already ours, or held by a process that is gone or whose heartbeat is stale. True when
    ``holder`` has it."""
    now = utc_now()
    try:
        with db.unit_of_work() as s:
            repo.insert_lease(s, connection_id, holder, now)
        return True
    except IntegrityError:
        pass
    with db.unit_of_work() as s:
        current = repo.lease(s, connection_id)
        if current is None:
            return False  # released a moment ago: poll this time
        was, beat = current.holder, current.heartbeat_at
        if was == holder:
            return True
        host, _, pid = was.rpartition("@")[2].partition(":")
        dead = process_alive(host, int(pid) if pid.isdigit() else None) is False
        stale = now - beat > HEARTBEAT_STALE
        if dead or stale:
            return repo.take_lease(s, connection_id, holder, now, was=was,
                                   stale_before=None if dead else now - HEARTBEAT_STALE)
    return False


APP_HOLDER = "(app"
"""How the lease holder name of a viewer's bar watch starts: ``(app N)``, N counting the
watches of the process (a deployment's is its name)."""
_watch_numbers = itertools.count(1)


class _ViewerWatch:
    """A market bar watch with its :class:`StreamUse`; when it streams, it holds the
    connection's lease: renews its heartbeat while it runs and releases it on ``stop()``."""

    RENEW_SECONDS = 15.0

    def __init__(self, watch: Any, db: Database, connection_id: int, holder: str,
                 use: StreamUse) -> None:
        import threading

        self._watch = watch
        self._db = db
        self._connection_id = connection_id
        self._holder = holder
        self.stream_use = use
        self._stopped = threading.Event()
        if use.stream:
            threading.Thread(target=self._renew, name="kash-stream-lease", daemon=True).start()

    def _renew(self) -> None:
        while not self._stopped.wait(self.RENEW_SECONDS):
            try:
                with self._db.unit_of_work() as s:
                    if not repo.renew_lease(s, self._connection_id, self._holder, utc_now()):
                        log.warning("the stream lease of connection %s was taken over",
                                    self._connection_id)
            except Exception:  # noqa: BLE001 - a renewal must not kill the watch
                log.exception("renewing the stream lease")

    @property
    def streaming(self) -> bool:
        return bool(self._watch.streaming)

    @property
    def stream_connects(self) -> int:
        return int(self._watch.stream_connects)

    def stop(self) -> None:
        self._stopped.set()
        try:
            self._watch.stop()
        finally:
            if self.stream_use.stream:
                self._release()

    def _release(self) -> None:
        try:
            with self._db.unit_of_work() as s:
                repo.release_lease(s, self._connection_id, self._holder)
        except Exception:  # noqa: BLE001
            log.exception("releasing the stream lease")


def _limit_columns(new: NewDeployment) -> dict[str, Any]:
    lim = new.limits
    return dict(
        max_position_pct=Decimal(str(lim.max_position_pct)) if lim.max_position_pct else None,
        max_orders_per_day=lim.max_orders_per_day,
        daily_loss_limit_pct=(
            Decimal(str(lim.daily_loss_limit_pct)) if lim.daily_loss_limit_pct else None
        ),
    )


def ny_date(when: datetime) -> str:
    from zoneinfo import ZoneInfo

    return when.astimezone(ZoneInfo("America/New_York")).date().isoformat()


Clock = Callable[[], datetime]


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
