"""Generate a migration from the difference between the entities and a database at head.

    python scripts/new_migration.py "add bars table" [--rev-id 0002]

Read what it writes before committing: autogenerate misses renames and server defaults.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from alembic import command

from kash_tui.db import Database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("message")
    parser.add_argument("--rev-id")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'head.db'}")
        db.upgrade()
        cfg = db._alembic_config()
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.revision(cfg, message=args.message, autogenerate=True, rev_id=args.rev_id)
        db.dispose()


if __name__ == "__main__":
    main()
