"""``kash db upgrade | current``: the database schema."""

from __future__ import annotations

import argparse

from kash_tui.cli.common import EXIT_OK, build_provider, print_json, warn


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    db = build_provider(args).db
    print(f"{db.display_url} is at schema {db.current_revision()} (latest: {db.head_revision()}).")
    return EXIT_OK


def cmd_db_current(args: argparse.Namespace) -> int:
    from kash_tui.config import load_settings
    from kash_tui.db import SCHEMA_HEAD, Database

    settings, warnings = load_settings(args.db)
    warn(warnings)
    db = Database(settings.resolved_database_url)
    try:
        current, state = db.schema_state()
    finally:
        db.dispose()
    head = SCHEMA_HEAD
    if args.json:
        print_json({"database": db.display_url, "current": current, "head": head,
                    "up_to_date": current == head, "state": state})
        return EXIT_OK
    advice = {
        "up to date": "up to date",
        "empty": "empty: `kash db upgrade` creates the schema",
        "behind": "behind: run `kash db upgrade`",
        "newer": "newer than this Kash knows: upgrade Kash (pip install -U kash-tui); "
                 "`kash db upgrade` cannot downgrade it",
    }[state]
    print(f"{db.display_url}: schema {current or 'empty'} (latest {head}, {advice}).")
    return EXIT_OK
