"""``kash connection ...``: broker connections (no secret is ever stored)."""

from __future__ import annotations

import argparse
import sys

from kash_tui.cli.common import EXIT_OK, UserError, build_provider, print_json, print_table


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
        custom_host=args.custom_host,
        feed=args.feed,
    )
    conn = build_provider(args).connection.add(new)
    note = " Live trading stays off until `kash connection enable-live`." if conn.is_live else ""
    print(f"Added {conn.environment.value} connection {conn.name!r} ({conn.key_source}).{note}")
    return EXIT_OK


def cmd_connection_list(args: argparse.Namespace) -> int:
    conns = build_provider(args, writes=False).connection.list_connections()
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
                    "feed": c.feed.value,
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
        ["NAME", "BROKER", "ENV", "LIVE ENABLED", "KEYS", "FEED", "TRADING URL"],
        [
            (c.name, c.broker.value, c.environment.value, "yes" if c.live_enabled else "no",
             c.key_source, c.feed.label, c.trading_url or "(default)")
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
