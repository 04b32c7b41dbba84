"""The ``kash`` command: thin. Parses arguments, builds settings and the provider, calls services.

Every user error ends in one sentence on stderr and exit code 2; listing commands take ``--json``.
Heavy modules (Textual, SQLAlchemy, numpy) are imported only by the commands that need them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from kash_tui.provider import ServiceProvider

EXIT_OK = 0
EXIT_USER_ERROR = 2


class UserError(Exception):
    """An error the user caused and can fix; printed as one sentence, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one sentence (and exit code 2)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"kash: {message}; run `{self.prog} --help` for usage.\n")
        raise SystemExit(EXIT_USER_ERROR)


# -- output helpers --------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def print_json(value: Any) -> None:
    json.dump(_plain(value), sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], empty: str) -> None:
    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    if not cells:
        print(empty)
        return
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


# -- provider --------------------------------------------------------------------------------


def build_provider(args: argparse.Namespace) -> ServiceProvider:
    from kash_tui.config import load_settings
    from kash_tui.provider import ServiceProvider

    settings, warnings = load_settings(getattr(args, "db", None))
    _warn(warnings)
    provider = ServiceProvider(settings)
    provider.prepare()
    return provider


def _warn(warnings: Iterable[str]) -> None:
    for warning in warnings:
        sys.stderr.write(f"kash: warning: {warning}\n")


# -- db --------------------------------------------------------------------------------------


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from kash_tui.config import load_settings
    from kash_tui.provider import ServiceProvider

    settings, warnings = load_settings(args.db)
    _warn(warnings)
    provider = ServiceProvider(settings)
    provider.prepare()
    db = provider.db
    print(f"{db.display_url} is at schema {db.current_revision()} (latest: {db.head_revision()}).")
    return EXIT_OK


def cmd_db_current(args: argparse.Namespace) -> int:
    from kash_tui.config import load_settings
    from kash_tui.db import Database

    settings, warnings = load_settings(args.db)
    _warn(warnings)
    db = Database(settings.resolved_database_url)
    if db.is_sqlite and not os.path.exists(db.url.database or ""):
        current = None
    else:
        current = db.current_revision()
    head = db.head_revision()
    if args.json:
        print_json({"database": db.display_url, "current": current, "head": head,
                    "up_to_date": current == head})
        return EXIT_OK
    state = "up to date" if current == head else "behind: run `kash db upgrade`"
    print(f"{db.display_url}: schema {current or 'empty'} (latest {head}, {state}).")
    return EXIT_OK


# -- workspaces ------------------------------------------------------------------------------


def cmd_workspace_create(args: argparse.Namespace) -> int:
    ws = build_provider(args).workspace.create_workspace(args.name)
    print(f"Created workspace {ws.name!r}.")
    return EXIT_OK


def cmd_workspace_list(args: argparse.Namespace) -> int:
    spaces = build_provider(args).workspace.list_workspaces()
    if args.json:
        print_json(spaces)
        return EXIT_OK
    print_table(
        ["NAME", "PORTFOLIOS", "CREATED"],
        [(w.name, w.portfolio_count, _when(w.created_at)) for w in spaces],
        "No workspaces; create one with `kash workspace create NAME`.",
    )
    return EXIT_OK


def cmd_workspace_rename(args: argparse.Namespace) -> int:
    ws = build_provider(args).workspace.rename_workspace(args.name, args.new_name)
    print(f"Renamed workspace {args.name!r} to {ws.name!r}.")
    return EXIT_OK


def cmd_workspace_delete(args: argparse.Namespace) -> int:
    removed = build_provider(args).workspace.delete_workspace(args.name, force=args.force)
    extra = f" and its {removed} portfolio(s)" if removed else ""
    print(f"Deleted workspace {args.name!r}{extra}.")
    return EXIT_OK


# -- connections -----------------------------------------------------------------------------


def cmd_connection_add(args: argparse.Namespace) -> int:
    from kash_tui.domains.connection import BrokerKind, Environment, NewConnection

    if (args.key_env is None) != (args.secret_env is None):
        raise UserError("Give --key-env and --secret-env together, or neither.")
    new = NewConnection(
        name=args.name,
        broker=BrokerKind(args.broker),
        environment=Environment.LIVE if args.live else Environment.PAPER,
        trading_url=args.trading_url,
        data_url=args.data_url,
        key_env=args.key_env,
        secret_env=args.secret_env,
        keyring_entry=args.keyring,
    )
    conn = build_provider(args).connection.add(new)
    note = " Live trading stays off until `kash connection enable-live`." if conn.is_live else ""
    print(f"Added {conn.environment.value} connection {conn.name!r} ({conn.key_source}).{note}")
    return EXIT_OK


def cmd_connection_list(args: argparse.Namespace) -> int:
    conns = build_provider(args).connection.list_connections()
    if args.json:
        print_json(
            [
                {
                    "name": c.name,
                    "broker": c.broker.value,
                    "environment": c.environment.value,
                    "rfqdn": c.rfqdn,
                    "trading_url": c.trading_url,
                    "data_url": c.data_url,
                    "key_source": c.key_source,
                    "live_enabled": c.live_enabled,
                    "cap_data_stream_live": c.cap_data_stream_live,
                    "cap_data_stream_historic": c.cap_data_stream_historic,
                    "cap_trading_paper": c.cap_trading_paper,
                    "cap_trading_live": c.cap_trading_live,
                    "created_at": c.created_at,
                }
                for c in conns
            ]
        )
        return EXIT_OK
    print_table(
        ["NAME", "BROKER", "ENV", "LIVE ENABLED", "KEYS", "TRADING URL"],
        [
            (c.name, c.broker.value, c.environment.value, "yes" if c.live_enabled else "no",
             c.key_source, c.trading_url or "(default)")
            for c in conns
        ],
        "No connections; add one with `kash connection add NAME --broker alpaca --paper`.",
    )
    return EXIT_OK


def cmd_connection_enable_live(args: argparse.Namespace) -> int:
    provider = build_provider(args)
    conn = provider.connection.get(args.name)
    if args.yes_i_understand:
        typed = conn.name
    else:
        if not sys.stdin.isatty():
            raise UserError(
                "Enabling live trading needs a terminal to confirm; run it in a terminal "
                "or add --yes-i-understand."
            )
        print(
            f"Live trading with {conn.name!r} sends real orders with real money.\n"
            f"Type the connection's name ({conn.name}) to enable it: ",
            end="",
            flush=True,
        )
        try:
            typed = sys.stdin.readline().rstrip("\n")
        except KeyboardInterrupt:
            typed = ""
    provider.connection.enable_live(conn.name, typed)
    print(f"Live trading is enabled for {conn.name!r}; every live order still asks to confirm.")
    return EXIT_OK


def cmd_connection_remove(args: argparse.Namespace) -> int:
    build_provider(args).connection.remove(args.name)
    print(f"Removed connection {args.name!r}.")
    return EXIT_OK


# -- portfolios ------------------------------------------------------------------------------


def cmd_portfolio_create(args: argparse.Namespace) -> int:
    from kash_tui.domains.workspace import PortfolioMode

    provider = build_provider(args)
    p = provider.workspace.create_portfolio(
        args.workspace,
        args.name,
        PortfolioMode.parse(args.mode),
        position_size_pct=args.position_size_pct,
        connection=args.connection,
    )
    via = f" on {p.connection_name!r}" if p.connection_name else ""
    print(
        f"Created {p.mode.value} portfolio {p.name!r} in {p.workspace_name!r}{via} "
        f"({p.position_size_pct}% per position)."
    )
    return EXIT_OK


def cmd_portfolio_list(args: argparse.Namespace) -> int:
    items = build_provider(args).workspace.list_portfolios(args.workspace)
    if args.json:
        print_json(items)
        return EXIT_OK
    print_table(
        ["WORKSPACE", "NAME", "MODE", "SIZE %", "CONNECTION"],
        [(p.workspace_name, p.name, p.mode.value, p.position_size_pct, p.connection_name or "-")
         for p in items],
        "No portfolios; create one with `kash portfolio create NAME --workspace W --mode backtest`.",
    )
    return EXIT_OK


def cmd_portfolio_delete(args: argparse.Namespace) -> int:
    build_provider(args).workspace.delete_portfolio(args.name, args.workspace)
    print(f"Deleted portfolio {args.name!r}.")
    return EXIT_OK


# -- the app ---------------------------------------------------------------------------------


def cmd_app(args: argparse.Namespace) -> int:
    # Settings are loaded by the app's start-up worker, after the first paint (pydantic-settings
    # alone costs more than the first-paint budget); config warnings become notifications.
    from kash_tui.tui.app import run_app

    return run_app(database_url=args.db)


# -- parser ----------------------------------------------------------------------------------


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="database URL or SQLite path (default: $KASH_DATABASE_URL or the embedded SQLite)",
    )


def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON for scripts")


def build_parser() -> argparse.ArgumentParser:
    from kash_tui import __version__

    parser = _Parser(prog="kash", description="Kash: a trading workstation for the terminal.")
    parser.add_argument("--version", action="version", version=f"kash {__version__}")
    parser.add_argument("--db", metavar="URL", help="database URL or SQLite path")
    parser.set_defaults(func=cmd_app)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    def command(parent, name: str, func: Callable[[argparse.Namespace], int], help: str):  # noqa: ANN001, A002
        p = parent.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        _add_db(p)
        return p

    def group(name: str, help: str):  # noqa: A002
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=lambda _a, p=p: _missing_subcommand(p))
        _add_db(p)
        return p.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    db = group("db", "database schema")
    command(db, "upgrade", cmd_db_upgrade, "apply pending migrations")
    _add_json(command(db, "current", cmd_db_current, "show the database's schema revision"))

    ws = group("workspace", "workspaces")
    command(ws, "create", cmd_workspace_create, "create a workspace").add_argument("name")
    _add_json(command(ws, "list", cmd_workspace_list, "list workspaces"))
    p = command(ws, "rename", cmd_workspace_rename, "rename a workspace")
    p.add_argument("name")
    p.add_argument("new_name")
    p = command(ws, "delete", cmd_workspace_delete, "delete a workspace")
    p.add_argument("name")
    p.add_argument("--force", action="store_true", help="also delete its portfolios")

    conn = group("connection", "broker connections")
    p = command(conn, "add", cmd_connection_add, "add a broker connection (stores no secret)")
    p.add_argument("name")
    p.add_argument("--broker", choices=["alpaca"], required=True)
    env = p.add_mutually_exclusive_group(required=True)
    env.add_argument("--paper", action="store_true", help="paper trading account")
    env.add_argument("--live", action="store_true", help="live account (needs enable-live)")
    p.add_argument("--trading-url", metavar="URL", help="trading API base URL (proxy, tests)")
    p.add_argument("--data-url", metavar="URL", help="market data API base URL")
    keys = p.add_argument_group("keys (default: $APCA_API_KEY_ID and $APCA_API_SECRET_KEY)")
    keys.add_argument("--key-env", metavar="VAR", help="environment variable with the key id")
    keys.add_argument("--secret-env", metavar="VAR", help="environment variable with the secret")
    keys.add_argument("--keyring", metavar="ENTRY", help="OS keyring entry holding both keys")
    _add_json(command(conn, "list", cmd_connection_list, "list connections"))
    p = command(conn, "enable-live", cmd_connection_enable_live, "opt in to live trading")
    p.add_argument("name")
    p.add_argument("--yes-i-understand", action="store_true",
                   help="skip typing the name (for scripts)")
    command(conn, "remove", cmd_connection_remove, "remove a connection").add_argument("name")

    pf = group("portfolio", "portfolios")
    p = command(pf, "create", cmd_portfolio_create, "create a portfolio")
    p.add_argument("name")
    p.add_argument("--workspace", required=True)
    p.add_argument("--mode", required=True, choices=["backtest", "paper", "live"],
                   type=str.lower)
    p.add_argument("--connection", metavar="NAME")
    p.add_argument("--position-size-pct", metavar="P", default="100",
                   help="percent of equity per position, 0 < P <= 100 (default 100)")
    p = command(pf, "list", cmd_portfolio_list, "list portfolios")
    p.add_argument("--workspace")
    _add_json(p)
    p = command(pf, "delete", cmd_portfolio_delete, "delete a portfolio")
    p.add_argument("name")
    p.add_argument("--workspace")

    _register_more(sub, command, group)
    from kash_tui import cli_trading

    cli_trading.register(sub, command, group)
    return parser


def _register_more(sub, command, group) -> None:  # noqa: ANN001
    """Commands of the market, strategy and trading domains (see cli_backtest)."""
    from kash_tui import cli_market, cli_options

    cli_market.register(sub, command, group)
    cli_options.register(sub, command, group)


def _missing_subcommand(p: argparse.ArgumentParser) -> int:
    raise UserError(f"`{p.prog}` needs a command; run `{p.prog} --help` to list them.")


def _user_error_types() -> tuple[type[BaseException], ...]:
    from kash_tui.config import ConfigError
    from kash_tui.db import DatabaseError
    from kash_tui.domains.connection import BrokerConnectionError
    from kash_tui.domains.workspace import WorkspaceError

    extra: tuple[type[BaseException], ...] = ()
    try:
        from kash_tui import cli_market

        extra = cli_market.user_error_types()
    except ImportError:
        pass
    from kash_tui import cli_trading

    extra = (*extra, *cli_trading.user_error_types())
    return (UserError, ConfigError, DatabaseError, WorkspaceError, BrokerConnectionError, *extra)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.func is not cmd_app:  # the app sets up its own logging after the first paint
        from kash_tui.logs import setup_logging

        setup_logging()
    try:
        return int(args.func(args) or EXIT_OK)
    except KeyboardInterrupt:
        sys.stderr.write("kash: interrupted; nothing was saved half-way.\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001
        if isinstance(exc, _user_error_types()):
            sys.stderr.write(f"kash: {exc}\n")
            return EXIT_USER_ERROR
        return _report_bug(exc)


def _report_bug(exc: BaseException) -> int:
    """An error Kash did not expect: a short message, the traceback in the log file."""
    import traceback

    from kash_tui.config import log_file

    path = log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"--- {datetime.now().isoformat()} kash {' '.join(sys.argv[1:2])}\n")
            from kash_tui.logs import redact

            fh.write(redact("".join(traceback.format_exception(exc))))
        where = f"; details are in {path}"
    except OSError:
        where = ""
    sys.stderr.write(
        f"kash: unexpected error ({type(exc).__name__}){where}. Please report it.\n"
    )
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
