"""The workspace service. Each public call is one unit of work (one transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from kash_tui.db import Database, read_utc, utc_now
from kash_tui.domains.connection import BrokerConnectionError, ConnectionModel, ConnectionService
from kash_tui.domains.workspace.service import (
    DEMO_PORTFOLIO,
    DEMO_WORKSPACE,
    Portfolio,
    PortfolioMode,
    PortfolioNotFound,
    Universe,
    UniverseNotFound,
    Workspace,
    WorkspaceError,
    WorkspaceNotFound,
)

if TYPE_CHECKING:
    from sqlalchemy import exc as sa_exc

    from kash_tui.domains.workspace import entities, models, repo
    from kash_tui.domains.workspace.entities import PortfolioRow
else:  # the ORM side, imported when first used: a backtest's start needs none of it
    from kash_tui.lazy import lazy_module

    entities = lazy_module("kash_tui.domains.workspace.entities")
    models = lazy_module("kash_tui.domains.workspace.models")
    repo = lazy_module("kash_tui.domains.workspace.repo")
    sa_exc = lazy_module("sqlalchemy.exc")

DEMO_FLAG = "demo_workspace_seeded"


def _no_workspace(name: str) -> WorkspaceNotFound:
    return WorkspaceNotFound(
        f"There is no workspace named {name!r}; run `kash workspace list` to see them."
    )


def _no_portfolio(name: str, workspace: str | None) -> PortfolioNotFound:
    where = f" in workspace {workspace!r}" if workspace else ""
    return PortfolioNotFound(
        f"There is no portfolio named {name!r}{where}; run `kash portfolio list` to see them."
    )


class SqlWorkspaceService:
    def __init__(self, db: Database, connections: ConnectionService) -> None:
        self._db = db
        self._connections = connections

    # -- workspaces ---------------------------------------------------------------------------

    def list_workspaces(self) -> list[Workspace]:
        with self._db.unit_of_work() as s:
            return [models.to_workspace(r, n) for r, n in repo.workspaces_with_counts(s)]

    def get_workspace(self, name: str) -> Workspace:
        with self._db.unit_of_work() as s:
            row = repo.workspace_by_name(s, name.strip())
            if row is None:
                raise _no_workspace(name)
            return models.to_workspace(row, repo.portfolio_count(s, row.id))

    def create_workspace(self, name: str) -> Workspace:
        clean = models.clean_name("workspace", name)
        with self._unique("workspace", clean), self._db.unit_of_work() as s:
            if repo.workspace_by_name(s, clean) is not None:
                raise WorkspaceError(f"A workspace named {clean!r} already exists; choose another.")
            row = entities.WorkspaceRow(name=clean, created_at=utc_now())
            s.add(row)
            s.flush()
            return models.to_workspace(row, 0)

    def rename_workspace(self, name: str, new_name: str) -> Workspace:
        clean = models.clean_name("workspace", new_name)
        with self._unique("workspace", clean), self._db.unit_of_work() as s:
            row = repo.workspace_by_name(s, name.strip())
            if row is None:
                raise _no_workspace(name)
            other = repo.workspace_by_name(s, clean)
            if other is not None and other.id != row.id:
                raise WorkspaceError(f"A workspace named {clean!r} already exists; choose another.")
            row.name = clean
            s.flush()
            return models.to_workspace(row, repo.portfolio_count(s, row.id))

    def delete_workspace(self, name: str, *, force: bool = False) -> int:
        with self._db.unit_of_work() as s:
            row = repo.workspace_by_name(s, name.strip())
            if row is None:
                raise _no_workspace(name)
            held = repo.portfolio_count(s, row.id)
            if held and not force:
                raise WorkspaceError(
                    f"Workspace {row.name!r} still holds {held} portfolio(s); delete them first "
                    "or pass --force to delete them with it."
                )
            for portfolio, _ws in repo.portfolios(s, row.id):
                s.delete(portfolio)
            s.flush()
            s.delete(row)
            return held

    # -- portfolios ---------------------------------------------------------------------------

    def _connection_names(self) -> dict[int, str]:
        return {c.id: c.name for c in self._connections.list_connections() if c.id is not None}

    def list_portfolios(self, workspace: str | None = None) -> list[Portfolio]:
        names = self._connection_names()
        with self._db.unit_of_work() as s:
            ws_id = None
            if workspace is not None:
                ws = repo.workspace_by_name(s, workspace.strip())
                if ws is None:
                    raise _no_workspace(workspace)
                ws_id = ws.id
            return [
                models.to_portfolio(r, ws_name, names.get(r.connection_id or -1))
                for r, ws_name in repo.portfolios(s, ws_id)
            ]

    def get_portfolio(self, portfolio_id: int) -> Portfolio:
        names = self._connection_names()
        with self._db.unit_of_work() as s:
            found = repo.portfolio_by_id(s, portfolio_id)
            if found is None:
                raise _no_portfolio(f"#{portfolio_id}", None)
            row, ws_name = found
            return models.to_portfolio(row, ws_name, names.get(row.connection_id or -1))

    def _find_row(self, s, name: str, workspace: str | None) -> tuple[PortfolioRow, str]:  # noqa: ANN001
        name = name.strip()
        if workspace is not None:
            ws = repo.workspace_by_name(s, workspace.strip())
            if ws is None:
                raise _no_workspace(workspace)
            for row, ws_name in repo.portfolios(s, ws.id):
                if row.name == name:
                    return row, ws_name
            raise _no_portfolio(name, workspace)
        matches = repo.portfolios_named(s, name)
        if not matches:
            raise _no_portfolio(name, None)
        if len(matches) > 1:
            spaces = ", ".join(repr(ws) for _r, ws in matches)
            raise WorkspaceError(
                f"Portfolio {name!r} exists in several workspaces ({spaces}); "
                "say which with --workspace."
            )
        return matches[0]

    def find_portfolio(self, name: str, workspace: str | None = None) -> Portfolio:
        names = self._connection_names()
        with self._db.unit_of_work() as s:
            row, ws_name = self._find_row(s, name, workspace)
            return models.to_portfolio(row, ws_name, names.get(row.connection_id or -1))

    def _check_connection(self, mode: PortfolioMode, connection: str | None) -> ConnectionModel | None:
        if connection is None:
            if mode is PortfolioMode.PAPER:
                raise WorkspaceError(
                    "A PAPER portfolio needs a paper connection; add one with "
                    "`kash connection add NAME --broker alpaca --paper` and pass --connection NAME."
                )
            if mode is PortfolioMode.LIVE:
                raise WorkspaceError(
                    "A LIVE portfolio needs a live connection with live trading enabled; "
                    "pass --connection NAME."
                )
            return None
        try:
            conn = self._connections.get(connection)
        except BrokerConnectionError as exc:
            raise WorkspaceError(str(exc)) from None
        if mode is PortfolioMode.PAPER and not conn.cap_trading_paper:
            raise WorkspaceError(
                f"Connection {conn.name!r} is a live connection; a PAPER portfolio needs a "
                "paper one."
            )
        if mode is PortfolioMode.LIVE:
            if not conn.is_live:
                raise WorkspaceError(
                    f"Connection {conn.name!r} is a paper connection; a LIVE portfolio needs a "
                    "live one."
                )
            if not conn.cap_trading_live:
                raise WorkspaceError(
                    f"Live trading is not enabled for connection {conn.name!r}; run "
                    f"`kash connection enable-live {conn.name}` first."
                )
        return conn

    def create_portfolio(
        self,
        workspace: str,
        name: str,
        mode: PortfolioMode,
        *,
        position_size_pct: Decimal | float | str = Decimal(100),
        connection: str | None = None,
    ) -> Portfolio:
        clean = models.clean_name("portfolio", name)
        mode = PortfolioMode(mode)
        pct = models.clean_position_size(position_size_pct)
        conn = self._check_connection(mode, connection)
        with self._unique("portfolio", clean), self._db.unit_of_work() as s:
            ws = repo.workspace_by_name(s, workspace.strip())
            if ws is None:
                raise _no_workspace(workspace)
            if any(r.name == clean for r, _ in repo.portfolios(s, ws.id)):
                raise WorkspaceError(
                    f"Workspace {ws.name!r} already has a portfolio named {clean!r}; "
                    "choose another name."
                )
            row = entities.PortfolioRow(
                workspace_id=ws.id,
                name=clean,
                mode=mode.value,
                position_size_pct=pct,
                connection_id=conn.id if conn else None,
                created_at=utc_now(),
            )
            s.add(row)
            s.flush()
            return models.to_portfolio(row, ws.name, conn.name if conn else None)

    def update_portfolio(
        self,
        portfolio_id: int,
        *,
        name: str | None = None,
        mode: PortfolioMode | None = None,
        position_size_pct: Decimal | float | str | None = None,
        connection: str | None = None,
        clear_connection: bool = False,
    ) -> Portfolio:
        current = self.get_portfolio(portfolio_id)
        new_mode = PortfolioMode(mode) if mode is not None else current.mode
        conn_name = None if clear_connection else (connection or current.connection_name)
        conn = self._check_connection(new_mode, conn_name)
        clean = models.clean_name("portfolio", name) if name is not None else current.name
        pct = (
            models.clean_position_size(position_size_pct)
            if position_size_pct is not None
            else current.position_size_pct
        )
        with self._unique("portfolio", clean), self._db.unit_of_work() as s:
            found = repo.portfolio_by_id(s, portfolio_id)
            if found is None:
                raise _no_portfolio(f"#{portfolio_id}", None)
            row, ws_name = found
            if any(
                r.name == clean and r.id != row.id for r, _ in repo.portfolios(s, row.workspace_id)
            ):
                raise WorkspaceError(
                    f"Workspace {ws_name!r} already has a portfolio named {clean!r}; "
                    "choose another name."
                )
            row.name = clean
            row.mode = new_mode.value
            row.position_size_pct = pct
            row.connection_id = conn.id if conn else None
            s.flush()
            return models.to_portfolio(row, ws_name, conn.name if conn else None)

    def delete_portfolio(self, name: str, workspace: str | None = None) -> None:
        with self._db.unit_of_work() as s:
            row, _ws = self._find_row(s, name, workspace)
            s.delete(row)

    # -- universes ----------------------------------------------------------------------------

    def list_universes(self, workspace: str | None = None) -> list[Universe]:
        with self._db.unit_of_work() as s:
            ws_id = None
            if workspace is not None:
                ws = repo.workspace_by_name(s, workspace.strip())
                if ws is None:
                    raise _no_workspace(workspace)
                ws_id = ws.id
            return [models.to_universe(r, w, m) for r, w, m in repo.universes(s, ws_id)]

    def get_universe(self, name: str, workspace: str | None = None) -> Universe:
        # a raw read: a universe backtest needs no ORM (SQLAlchemy's import alone is most of
        # the start of `kash backtest --universe`); the rules are those of _find_universe
        name = (name or "").strip()
        with self._db.raw() as conn:
            ws_id = None
            if workspace is not None:
                ws_id = conn.scalar("SELECT id FROM workspaces WHERE name = ?",
                                    (workspace.strip(),))
                if ws_id is None:
                    raise _no_workspace(workspace)
            sql = ("SELECT u.id, u.workspace_id, u.name, u.created_at, w.name FROM universes u "
                   "JOIN workspaces w ON w.id = u.workspace_id WHERE u.name = ?")
            params: list[object] = [name]
            if ws_id is not None:
                sql += " AND u.workspace_id = ?"
                params.append(ws_id)
            found = conn.all(sql + " ORDER BY w.name", params)
            if not found:
                where = f" in workspace {workspace.strip()!r}" if workspace is not None else ""
                raise UniverseNotFound(
                    f"There is no universe named {name!r}{where}; run `kash universe list` to "
                    "see them or `kash universe create NAME SYM...` to make one."
                )
            if len(found) > 1:
                spaces = ", ".join(repr(row[4]) for row in found)
                raise WorkspaceError(
                    f"Universe {name!r} exists in several workspaces ({spaces}); say which "
                    "with --workspace."
                )
            universe_id, workspace_id, universe_name, created_at, ws_name = found[0]
            symbols = [r[0] for r in conn.all(
                "SELECT symbol FROM universe_members WHERE universe_id = ? ORDER BY position",
                (universe_id,))]
        created = read_utc(created_at)
        assert created is not None
        return Universe(id=universe_id, workspace_id=workspace_id, workspace_name=ws_name,
                        name=universe_name, symbols=tuple(symbols), created_at=created)

    def _find_universe(self, s, name: str, workspace: str | None):  # noqa: ANN001, ANN202
        name = (name or "").strip()
        ws_id = None
        if workspace is not None:
            ws = repo.workspace_by_name(s, workspace.strip())
            if ws is None:
                raise _no_workspace(workspace)
            ws_id = ws.id
        found = repo.universes(s, ws_id, name)
        if not found:
            where = f" in workspace {workspace.strip()!r}" if workspace is not None else ""
            raise UniverseNotFound(
                f"There is no universe named {name!r}{where}; run `kash universe list` to see "
                "them or `kash universe create NAME SYM...` to make one."
            )
        if len(found) > 1:
            spaces = ", ".join(repr(ws) for _r, ws, _m in found)
            raise WorkspaceError(
                f"Universe {name!r} exists in several workspaces ({spaces}); say which with "
                "--workspace."
            )
        return found[0]

    def create_universe(
        self, name: str, symbols: Sequence[str], workspace: str | None = None
    ) -> Universe:
        clean = models.clean_name("universe", name)
        members = models.clean_symbols(symbols)
        with self._unique("universe", clean), self._db.unit_of_work() as s:
            if workspace is not None:
                ws = repo.workspace_by_name(s, workspace.strip())
                if ws is None:
                    raise _no_workspace(workspace)
            else:
                spaces = [w for w, _n in repo.workspaces_with_counts(s)]
                if len(spaces) != 1:
                    raise WorkspaceError(
                        "Say which workspace the universe belongs to with --workspace W "
                        + ("(there is none yet: create one with `kash workspace create W`)."
                           if not spaces else
                           f"(there are {len(spaces)}: "
                           f"{', '.join(repr(w.name) for w in spaces[:5])})."))
                ws = spaces[0]
            if repo.universes(s, ws.id, clean):
                raise WorkspaceError(
                    f"Workspace {ws.name!r} already has a universe named {clean!r}; choose "
                    "another name or delete it first."
                )
            row = entities.UniverseRow(workspace_id=ws.id, name=clean, created_at=utc_now())
            s.add(row)
            s.flush()
            s.add_all(
                entities.UniverseMemberRow(universe_id=row.id, symbol=sym, position=k)
                for k, sym in enumerate(members)
            )
            s.flush()
            return models.to_universe(row, ws.name, members)

    def delete_universe(self, name: str, workspace: str | None = None) -> None:
        with self._db.unit_of_work() as s:
            row, _ws, _members = self._find_universe(s, name, workspace)
            s.delete(row)

    # -- first run ----------------------------------------------------------------------------

    def seed_demo(self) -> bool:
        with self._db.raw() as conn:  # the everyday start: one raw query
            if conn.scalar("SELECT 1 FROM app_flags WHERE name = ?", (DEMO_FLAG,)) is not None:
                return False
        try:
            with self._db.unit_of_work() as s:
                if repo.flag(s, DEMO_FLAG) is not None:
                    return False
                s.add(entities.AppFlagRow(name=DEMO_FLAG, set_at=utc_now()))
                if repo.workspace_by_name(s, DEMO_WORKSPACE) is not None:
                    return False
                ws = entities.WorkspaceRow(name=DEMO_WORKSPACE, created_at=utc_now())
                s.add(ws)
                s.flush()
                s.add(
                    entities.PortfolioRow(
                        workspace_id=ws.id,
                        name=DEMO_PORTFOLIO,
                        mode=PortfolioMode.BACKTEST.value,
                        position_size_pct=Decimal(100),
                        connection_id=None,
                        created_at=utc_now(),
                    )
                )
                return True
        except sa_exc.IntegrityError:
            return False  # another Kash process seeded at the same moment

    # -- helpers ------------------------------------------------------------------------------

    def _unique(self, kind: str, name: str) -> _UniqueGuard:
        return _UniqueGuard(kind, name)


class _UniqueGuard:
    """Turns a unique-constraint race (two writers, same name) into the user's sentence."""

    def __init__(self, kind: str, name: str) -> None:
        self._kind, self._name = kind, name

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:  # noqa: ANN001
        if exc_type is not None and issubclass(exc_type, sa_exc.IntegrityError):
            text = str(getattr(exc, "orig", exc)).lower()
            if "unique" in text or "duplicate" in text:
                raise WorkspaceError(
                    f"A {self._kind} named {self._name!r} already exists; choose another name."
                ) from None
            raise WorkspaceError(
                f"The database refused the {self._kind} {self._name!r} ({text.splitlines()[0]}); "
                "check its values."
            ) from None
        return False
