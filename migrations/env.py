"""Alembic environment for Kash.

Kash runs migrations itself (``kash db upgrade`` and on every start) and hands Alembic an open
connection through ``config.attributes["connection"]``. Run by hand (``alembic -c ...``) it falls
back to ``sqlalchemy.url`` or Kash's own settings.
"""

from __future__ import annotations

from alembic import context

import kash_tui.domains.connection.entities  # noqa: F401  (registers tables on Base.metadata)
import kash_tui.domains.deployment.entities  # noqa: F401
import kash_tui.domains.market.entities  # noqa: F401
import kash_tui.domains.strategy.entities  # noqa: F401
import kash_tui.domains.trading.entities  # noqa: F401
import kash_tui.domains.workspace.entities  # noqa: F401
from kash_tui.db import VERSION_TABLE, Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        version_table=VERSION_TABLE,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from kash_tui.config import load_settings
    from kash_tui.db import Database

    url = config.get_main_option("sqlalchemy.url") or load_settings()[0].resolved_database_url
    with Database(url).engine.begin() as conn:
        _run(conn)


if context.is_offline_mode():
    raise SystemExit("Kash migrations run online only: use `kash db upgrade`.")
run_migrations_online()
