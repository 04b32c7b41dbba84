"""Writing a backtest run without the ORM: its row (every array packed in a blob) and its end
position, on a :class:`~kash_tui.db.RawConnection` inside the caller's transaction. Reading runs
back goes through ``repo`` and the entities, which describe the same tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kash_tui.db import RawConnection


def insert_run(conn: RawConnection, values: dict[str, Any]) -> int:
    """The new run's id."""
    return conn.insert("backtest_runs", values)


def insert_position(conn: RawConnection, values: dict[str, Any]) -> None:
    conn.insert_row("backtest_positions", values)


def insert_universe(conn: RawConnection, values: dict[str, Any]) -> None:
    """The ``backtest_run_universes`` row that makes a run a universe run."""
    conn.insert_row("backtest_run_universes", values)
