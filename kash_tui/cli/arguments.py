"""Every ``kash`` subcommand, registered in one place.

The command modules are imported here, and each of them imports only ``kash_tui.cli.common`` at
import time (their domains come in lazily inside the command), so building the parser stays
cheap: standard library only.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from kash_tui.cli import (
    app,
    backtest,
    connection,
    data,
    db,
    deploy,
    options,
    trading,
    universe,
    workspace,
)
from kash_tui.cli.common import (
    Parser,
    UserError,
    add_connection,
    add_db,
    add_json,
    add_target,
    add_timeframe,
    chain_width,
)

Command = Callable[[argparse.Namespace], int]


def _strategies(name: str) -> Command:
    """A command of ``cli/strategies.py``, imported when it runs (``kash --help`` stays as
    cheap as before that module existed)."""

    def run(args: argparse.Namespace) -> int:
        from kash_tui.cli import strategies

        return getattr(strategies, name)(args)

    return run


def _export(args: argparse.Namespace) -> int:
    """``kash runs export``, imported when it runs."""
    from kash_tui.cli.export import cmd_runs_export

    return cmd_runs_export(args)


def _missing_subcommand(p: argparse.ArgumentParser) -> int:
    raise UserError(f"`{p.prog}` needs a command; run `{p.prog} --help` to list them.")


def add_run_settings(p: argparse.ArgumentParser, *, params_help: str) -> None:
    """What a backtest run is made of, shared by ``kash backtest`` and ``kash walkforward``:
    timeframe, parameters, period, cash, costs, sizing and the fill model (``_request`` in
    ``cli/backtest.py`` reads them)."""
    p.add_argument("--timeframe", default="1Day")
    p.add_argument("--params", metavar="JSON", help=params_help)
    p.add_argument("--start", metavar="DATE", help="first day (UTC), e.g. 2020-01-01")
    p.add_argument("--end", metavar="DATE", help="last day (UTC), inclusive")
    p.add_argument("--cash", type=float, default=10_000.0, help="starting cash (default 10000)")
    p.add_argument("--commission", type=float, default=0.0,
                   help="fraction of notional per fill, e.g. 0.001 (default 0)")
    p.add_argument("--slippage", type=float, default=0.0,
                   help="fraction of price against you per fill, e.g. 0.0005 (default 0)")
    p.add_argument("--position-size-pct", type=float, default=None,
                   help="percent of equity per entry (default: the portfolio's, else 100)")
    p.add_argument("--whole-shares", action="store_true", help="buy whole shares only")
    p.add_argument("--fill", choices=["next_open", "close"], default="next_open",
                   help="next_open (default, no look-ahead) or close (optimistic)")


def add_exits(p: argparse.ArgumentParser) -> None:
    """Stop loss, take profit, trailing stop and the intrabar order of a backtest."""
    p.add_argument("--stop-loss", type=backtest.percent, metavar="PCT",
                   help="sell when the price falls PCT %% below the entry price, e.g. 5")
    p.add_argument("--take-profit", type=backtest.percent, metavar="PCT",
                   help="sell when the price rises PCT %% above the entry price, e.g. 10")
    p.add_argument("--trailing-stop", type=backtest.percent, metavar="PCT",
                   help="sell when the price falls PCT %% below the highest high since entry")
    p.add_argument("--intrabar", choices=["pessimistic", "optimistic"], default=None,
                   help="a bar touching both stop and target takes the stop (pessimistic, "
                        "default) or the target (optimistic)")


def build_parser() -> argparse.ArgumentParser:
    from kash_tui import __version__

    parser = Parser(prog="kash", description="Kash: a trading workstation for the terminal.")
    parser.add_argument("--version", action="version", version=f"kash {__version__}")
    parser.add_argument("--db", metavar="URL", help="database URL or SQLite path")
    parser.set_defaults(func=app.cmd_app)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)

    def command(parent: Any, name: str, func: Command, help: str) -> argparse.ArgumentParser:  # noqa: A002
        p = parent.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        add_db(p)
        return p

    def group(name: str, help: str) -> Any:  # noqa: A002
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=lambda _a, p=p: _missing_subcommand(p))
        add_db(p)
        return p.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)

    # -- db ------------------------------------------------------------------------------------
    g = group("db", "database schema")
    command(g, "upgrade", db.cmd_db_upgrade, "apply pending migrations")
    add_json(command(g, "current", db.cmd_db_current, "show the database's schema revision"))

    # -- workspaces ----------------------------------------------------------------------------
    g = group("workspace", "workspaces")
    command(g, "create", workspace.cmd_workspace_create, "create a workspace").add_argument("name")
    add_json(command(g, "list", workspace.cmd_workspace_list, "list workspaces"))
    p = command(g, "rename", workspace.cmd_workspace_rename, "rename a workspace")
    p.add_argument("name")
    p.add_argument("new_name")
    p = command(g, "delete", workspace.cmd_workspace_delete, "delete a workspace")
    p.add_argument("name")
    p.add_argument("--force", action="store_true", help="also delete its portfolios")

    # -- connections ---------------------------------------------------------------------------
    g = group("connection", "broker connections")
    p = command(g, "add", connection.cmd_connection_add,
                "add a broker connection (stores no secret)")
    p.add_argument("name")
    p.add_argument("--broker", choices=["alpaca"], required=True)
    env = p.add_mutually_exclusive_group(required=True)
    env.add_argument("--paper", action="store_true", help="paper trading account")
    env.add_argument("--live", action="store_true", help="live account (needs enable-live)")
    p.add_argument("--trading-url", metavar="URL", help="trading API base URL (proxy, tests)")
    p.add_argument("--data-url", metavar="URL", help="market data API base URL")
    p.add_argument("--custom-host", action="store_true",
                   help="the URLs point at a proxy of your own (https), which gets the keys")
    p.add_argument("--feed", choices=["iex", "sip"], default="iex", type=str.lower,
                   help="stock data feed: iex (every account, default) or sip (subscription)")
    keys = p.add_argument_group("keys (default: $APCA_API_KEY_ID and $APCA_API_SECRET_KEY)")
    keys.add_argument("--key-env", metavar="VAR", help="environment variable with the key id")
    keys.add_argument("--secret-env", metavar="VAR", help="environment variable with the secret")
    keys.add_argument("--keyring", metavar="ENTRY", help="OS keyring entry holding both keys")
    add_json(command(g, "list", connection.cmd_connection_list, "list connections"))
    p = command(g, "enable-live", connection.cmd_connection_enable_live, "opt in to live trading")
    p.add_argument("name")
    p.add_argument("--yes-i-understand", action="store_true",
                   help="skip typing the name (for scripts)")
    command(g, "remove", connection.cmd_connection_remove,
            "remove a connection").add_argument("name")

    # -- portfolios ----------------------------------------------------------------------------
    g = group("portfolio", "portfolios")
    p = command(g, "create", workspace.cmd_portfolio_create, "create a portfolio")
    p.add_argument("name")
    p.add_argument("--workspace", required=True)
    p.add_argument("--mode", required=True, choices=["backtest", "paper", "live"],
                   type=str.lower)
    p.add_argument("--connection", metavar="NAME")
    p.add_argument("--position-size-pct", metavar="P", default="100",
                   help="percent of equity per position, 0 < P <= 100 (default 100)")
    p = command(g, "list", workspace.cmd_portfolio_list, "list portfolios")
    p.add_argument("--workspace")
    add_json(p)
    p = command(g, "delete", workspace.cmd_portfolio_delete, "delete a portfolio")
    p.add_argument("name")
    p.add_argument("--workspace")

    # -- universes -----------------------------------------------------------------------------
    g = group("universe", "universes: named lists of symbols in a workspace")
    p = command(g, "create", universe.cmd_universe_create, "create a universe of symbols")
    p.add_argument("name")
    p.add_argument("symbols", nargs="*", metavar="SYM", help="symbols, e.g. AAPL MSFT BRK.B")
    p.add_argument("--from-file", metavar="PATH",
                   help="also read symbols from a file (one per line, or comma separated)")
    p.add_argument("--workspace", metavar="NAME",
                   help="workspace of the universe (default: the only one there is)")
    p = command(g, "list", universe.cmd_universe_list, "list universes")
    p.add_argument("--workspace", metavar="NAME")
    add_json(p)
    p = command(g, "show", universe.cmd_universe_show, "show a universe's symbols")
    p.add_argument("name")
    p.add_argument("--workspace", metavar="NAME")
    add_json(p)
    p = command(g, "delete", universe.cmd_universe_delete, "delete a universe")
    p.add_argument("name")
    p.add_argument("--workspace", metavar="NAME")

    # -- market data ---------------------------------------------------------------------------
    g = group("data", "market data: import, fetch and list bars")
    p = command(g, "import", data.cmd_data_import, "import OHLCV bars from a CSV file")
    p.add_argument("file")
    p.add_argument("--symbol", required=True)
    add_timeframe(p)
    p.add_argument("--tz", help="zone of dates without an offset (default: America/New_York; "
                   "UTC for crypto)")
    p.add_argument("--asset-class", default="us_equity",
                   help="us_equity, crypto or us_option (default us_equity)")
    p.add_argument("--skip-bad-rows", action="store_true",
                   help="import the good rows and list the bad ones instead of refusing")
    add_json(p)
    add_json(command(g, "list", data.cmd_data_list, "list stored bars per symbol and timeframe"))
    p = command(g, "fetch", data.cmd_data_fetch,
                "download bars from Alpaca into the local cache (IEX feed for stocks)")
    p.add_argument("symbol", nargs="?", help="AAPL, BTC/USD or an OCC option symbol")
    p.add_argument("--universe", metavar="NAME",
                   help="fetch every symbol of a universe (one progress bar, within the "
                        "connection's rate budget)")
    p.add_argument("--workspace", metavar="NAME", help="workspace of --universe if ambiguous")
    add_timeframe(p)
    p.add_argument("--start", required=True, metavar="DATE", help="YYYY-MM-DD (UTC)")
    p.add_argument("--end", metavar="DATE", help="YYYY-MM-DD, inclusive (default: now)")
    add_connection(p)
    add_json(p)

    # -- options -------------------------------------------------------------------------------
    g = group("options", "option data from Alpaca: expirations and chains")
    p = command(g, "expirations", options.cmd_options_expirations,
                "list the expiration dates of an underlying's options")
    p.add_argument("underlying", help="e.g. AAPL")
    p.add_argument("--from", dest="start", metavar="DATE", help="YYYY-MM-DD (default: today)")
    p.add_argument("--to", dest="end", metavar="DATE",
                   help="YYYY-MM-DD (default: three years out)")
    add_connection(p)
    add_json(p)
    p = command(g, "chain", options.cmd_options_chain,
                "calls and puts of one expiration around the money")
    p.add_argument("underlying", help="e.g. AAPL")
    p.add_argument("--expiration", required=True, metavar="DATE", help="YYYY-MM-DD")
    p.add_argument("--width", type=chain_width, default=10, metavar="N",
                   help="strikes either side of the money (default 10)")
    add_connection(p)
    add_json(p)

    # -- strategies and backtests --------------------------------------------------------------
    p = command(sub, "strategies", _strategies("cmd_strategies"),
                "list strategies (and the ones that failed to load); write and check your own")
    p.description = (
        "List the strategies: built-ins, those of installed packages (entry points "
        "kash.strategies) and the files of your strategies folder, with the ones that failed "
        "to load (their reason and file:line).")
    reload_help = ("read the strategies folder and entry points again (each command is a new "
                   "process that imports the files afresh anyway; the app reloads from its "
                   "palette)")
    p.add_argument("--reload", action="store_true", help=reload_help)
    add_json(p)
    g = p.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)
    q = command(g, "new", _strategies("cmd_strategies_new"),
                "write a commented strategy template into the strategies folder")
    q.add_argument("name", help="the new strategy's id: lower-case letters, digits and _")
    q = command(g, "check", _strategies("cmd_strategies_check"),
                "check a strategy for look-ahead, determinism, shape, schema and speed")
    q.description = (
        "Check a strategy: look-ahead (signals on the series cut at many points equal the full "
        "series' up to each cut), determinism, shape, schema and speed. Without --symbol the "
        "checks run on a synthetic random walk of 100,000 bars. Exit code 1 when a check fails.")
    q.add_argument("strategy_id", metavar="ID", help="strategy id (see `kash strategies`)")
    q.add_argument("--symbol", help="check on this symbol's stored bars instead")
    q.add_argument("--timeframe", help="timeframe of --symbol (default: the strategy's)")
    q.add_argument("--params", metavar="JSON", help="parameters as a JSON object")
    q.add_argument("--reload", action="store_true", help=reload_help)
    add_json(q)

    p = command(sub, "backtest", backtest.cmd_backtest, "backtest a strategy on stored bars")
    p.description = "Backtest a strategy on stored bars; every run is stored."
    p.add_argument("--symbol", help="the symbol to backtest (or --universe)")
    p.add_argument("--universe", metavar="NAME",
                   help="backtest every symbol of a universe with shared cash (see `kash "
                        "universe`): equal weight, at most --max-positions open at once")
    p.add_argument("--max-positions", type=int, metavar="N",
                   help="with --universe: positions open at once, each sized equity/N "
                        "(default: one per symbol)")
    p.add_argument("--executor", metavar="URL",
                   help="where a sweep's or universe's jobs run: local (this machine's cores, "
                        "default) or dask://HOST:PORT (a Dask cluster; needs kash-tui[dask])")
    p.add_argument("--strategy", required=True, help="strategy id (see `kash strategies`)")
    add_run_settings(p, params_help="strategy parameters as a JSON object")
    add_exits(p)
    p.add_argument("--portfolio", metavar="NAME", help="BACKTEST portfolio to file the run under")
    p.add_argument("--workspace", metavar="NAME", help="workspace of --portfolio if ambiguous")
    p.add_argument("--sweep", metavar="GRID",
                   help="parameter grid, e.g. 'short_period=5:50:5,long_period=20:200:20'")
    p.add_argument("--rank-by", metavar="METRIC", default=None,
                   help="metric to rank a sweep by (default sharpe), or robust:METRIC for the "
                        "worst of each cell's grid neighbours")
    p.add_argument("--oos", metavar="SHARE", default=None,
                   help="with --sweep: hold out the last SHARE of the bars (e.g. 30%%), choose "
                        "on the rest and report the chosen cell out of sample")
    add_json(p)

    p = command(sub, "walkforward", backtest.cmd_walkforward,
                "walk-forward: the best cell on each training part, then the test part after")
    p.description = (
        "Walk forward: for each window, sweep the grid on its training part, take the best "
        "cell and run it on the test part that follows; the test parts are stitched into one "
        "out-of-sample curve. Stored; see `kash runs list`.")
    p.add_argument("--symbol", help="the symbol to walk forward (or --universe)")
    p.add_argument("--universe", metavar="NAME",
                   help="walk a universe forward: each cell a whole universe run with shared "
                        "cash, windows on the union of the symbols' bar times")
    p.add_argument("--max-positions", type=int, metavar="N",
                   help="with --universe: positions open at once (default: one per symbol)")
    p.add_argument("--executor", metavar="URL",
                   help="where the jobs run: local (this machine's cores, default) or "
                        "dask://HOST:PORT (a Dask cluster; needs kash-tui[dask])")
    p.add_argument("--strategy", required=True, help="strategy id (see `kash strategies`)")
    p.add_argument("--sweep", metavar="GRID", required=True,
                   help="parameter grid, e.g. 'short_period=5:50:5,long_period=20:200:20'")
    p.add_argument("--train", metavar="LENGTH", required=True,
                   help="training part: bars (5000) or a duration (90d, 12w, 6m, 2y)")
    p.add_argument("--test", metavar="LENGTH", required=True,
                   help="test part after it: bars or a duration")
    p.add_argument("--anchored", action="store_true",
                   help="every training part starts at the first bar (default: rolling)")
    p.add_argument("--rank-by", metavar="METRIC", default=None,
                   help="metric that picks each window's cell (default sharpe; robust:METRIC "
                        "for the worst of its grid neighbours)")
    add_run_settings(p, params_help="fixed strategy parameters as JSON")
    p.add_argument("--portfolio", metavar="NAME", help="BACKTEST portfolio to file it under")
    p.add_argument("--workspace", metavar="NAME", help="workspace of --portfolio if ambiguous")
    add_json(p)

    g = group("runs", "stored backtest runs")
    p = command(g, "list", backtest.cmd_runs, "list stored backtest runs")
    p.add_argument("--portfolio", metavar="NAME")
    p.add_argument("--workspace", metavar="NAME")
    add_json(p)
    p = command(g, "show", backtest.cmd_run_show, "show a stored run")
    p.add_argument("run_id", metavar="ID", help="a backtest run (12) or a walk-forward (wf3)")
    add_json(p)

    p = command(g, "export", _export, "export a stored run as CSV or a self-contained HTML report")
    p.add_argument("run_id", metavar="ID",
                   help="a backtest run's number or a walk-forward's (wf3), see `kash runs list`")
    p.add_argument("--format", choices=["csv", "html"], default="html", type=str.lower,
                   help="html (default): one page with metrics, equity, drawdown, round trips "
                        "(a walk-forward: its windows) and settings, no network needed; csv: "
                        "FILE-fills.csv and FILE-round-trips.csv (a walk-forward: "
                        "FILE-windows.csv and FILE-equity.csv)")
    p.add_argument("--out", metavar="FILE", help="where to write (default: run-ID.html or "
                   "run-ID-fills.csv and run-ID-round-trips.csv here)")

    # -- trading -------------------------------------------------------------------------------
    add_target(command(sub, "account", trading.cmd_account,
                       "cash, equity and buying power of a portfolio"))
    add_target(command(sub, "positions", trading.cmd_positions, "open positions of a portfolio"))
    p = command(sub, "orders", trading.cmd_orders, "orders of a portfolio")
    p.add_argument("--status", choices=["open", "closed", "all"], default="open", type=str.lower)
    add_target(p)
    p = command(sub, "fills", trading.cmd_fills, "executions (fills) of a portfolio")
    p.add_argument("--limit", type=int, default=500, metavar="N",
                   help="the newest N fills (default 500; 0 for all, a few minutes per "
                        "100,000 within Alpaca's rate limit)")
    add_target(p)

    g = group("order", "submit and cancel orders")
    p = command(g, "submit", trading.cmd_order_submit, "preview, confirm and send one order")
    p.add_argument("--symbol", required=True)
    p.add_argument("--side", required=True, choices=["buy", "sell"], type=str.lower)
    amount = p.add_mutually_exclusive_group(required=True)
    amount.add_argument("--qty", metavar="Q", help="shares, coins or contracts")
    amount.add_argument("--notional", metavar="N", help="dollar amount (fractionable assets)")
    p.add_argument("--type", default="market", type=str.lower,
                   choices=["market", "limit", "stop", "stop_limit", "trailing_stop"])
    p.add_argument("--limit-price", metavar="P")
    p.add_argument("--stop-price", metavar="P")
    trail = p.add_mutually_exclusive_group()
    trail.add_argument("--trail-percent", metavar="X")
    trail.add_argument("--trail-price", metavar="P")
    p.add_argument("--tif", default="day", type=str.lower,
                   choices=["day", "gtc", "ioc", "fok", "opg", "cls"], help="time in force")
    p.add_argument("--extended-hours", action="store_true", help="limit DAY orders only")
    ids = p.add_mutually_exclusive_group()
    ids.add_argument("--client-order-id", metavar="ID",
                     help="your id for the order; resending the same id never trades twice")
    ids.add_argument("--new-order", action="store_true",
                     help="a new order even if an earlier run of the same one was interrupted "
                          "(by default that one is checked with Alpaca and sent at most once)")
    p.add_argument("--yes", action="store_true", help="send without the prompt")
    p.add_argument("--confirm-live", action="store_true", help="required to send a LIVE order")
    add_target(p)
    p = command(g, "cancel", trading.cmd_order_cancel, "cancel an open order")
    p.add_argument("id", help="order id (see `kash orders`)")
    add_target(p)

    g = group("position", "close positions")
    p = command(g, "close", trading.cmd_position_close, "close a whole position at market")
    p.add_argument("symbol")
    p.add_argument("--yes", action="store_true", help="close without the prompt")
    p.add_argument("--confirm-live", action="store_true", help="required on a LIVE portfolio")
    add_target(p)

    # -- deployments ---------------------------------------------------------------------------
    deploy.add_deploy_commands(sub, command)
    return parser
