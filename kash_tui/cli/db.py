"""``kash db upgrade | current``: the database schema."""

from __future__ import annotations

import argparse
import os

from kash_tui.cli.common import EXIT_OK, print_json, warn


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from kash_tui.config import load_settings
    from kash_tui.provider import ServiceProvider

    settings, warnings = load_settings(args.db)
    warn(warnings)
    provider = ServiceProvider(settings)
    provider.prepare()
    db = provider.db
    print(f"{db.display_url} is at schema {db.current_revision()} (latest: {db.head_revision()}).")
    return EXIT_OK


def cmd_db_current(args: argparse.Namespace) -> int:
    from kash_tui.config import load_settings
    from kash_tui.db import Database

    settings, warnings = load_settings(args.db)
    warn(warnings)
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
