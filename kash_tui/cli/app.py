"""``kash`` with no command: the Textual app."""

from __future__ import annotations

import argparse
import sys

from kash_tui.cli.common import UserError


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # a closed stream
        return False


def cmd_app(args: argparse.Namespace) -> int:
    # The app draws with escape codes and reads keys: in a pipe it would write those codes into
    # the pipe and wait for keys that never come.
    if not (_is_terminal(sys.stdin) and _is_terminal(sys.stdout)):
        which = "input" if not _is_terminal(sys.stdin) else "output"
        raise UserError(
            f"The Kash app needs a terminal, but its {which} is not one; run `kash` in a "
            "terminal, or use a command (`kash --help` lists them) in scripts and pipes."
        )
    # Settings are loaded by the app's start-up worker, after the first paint (loading them
    # costs more than the first-paint budget); config warnings become notifications.
    from kash_tui.tui.app import run_app

    return run_app(database_url=args.db)
