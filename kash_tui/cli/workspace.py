"""``kash workspace ...`` and ``kash portfolio ...``: workspaces and their portfolios."""

from __future__ import annotations

import argparse

from kash_tui.cli.common import EXIT_OK, build_provider, print_json, print_table, when


def cmd_workspace_create(args: argparse.Namespace) -> int:
    ws = build_provider(args).workspace.create_workspace(args.name)
    print(f"Created workspace {ws.name!r}.")
    return EXIT_OK


def cmd_workspace_list(args: argparse.Namespace) -> int:
    spaces = build_provider(args, writes=False).workspace.list_workspaces()
    if args.json:
        print_json(spaces)
        return EXIT_OK
    print_table(
        ["NAME", "PORTFOLIOS", "CREATED"],
        [(w.name, w.portfolio_count, when(w.created_at)) for w in spaces],
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
    items = build_provider(args, writes=False).workspace.list_portfolios(args.workspace)
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
