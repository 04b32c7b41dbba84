"""``kash`` with no command: the Textual app."""

from __future__ import annotations

import argparse


def cmd_app(args: argparse.Namespace) -> int:
    # Settings are loaded by the app's start-up worker, after the first paint (pydantic-settings
    # alone costs more than the first-paint budget); config warnings become notifications.
    from kash_tui.tui.app import run_app

    return run_app(database_url=args.db)
