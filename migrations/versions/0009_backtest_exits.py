"""backtest exits: stop loss, take profit, trailing stop and the intrabar order

A run stores the exits it was run with (``stop_loss_pct``, ``take_profit_pct``,
``trailing_stop_pct``, NULL when not set; ``intrabar``: which exit a bar touching both the stop
and the target took), how many bars were so ambiguous (``ambiguous_bars``), and the same run
under the other intrabar order (``other_total_return_pct``, ``other_round_trips``,
``other_ambiguous_bars``; NULL when the run has no stop and target to be ambiguous between).

Fills gain a reason (signal, stop, target, trail) inside ``fills_blob``: its ``.npy`` dtype
carries an ``i1`` field ``reason`` from now on. Blobs stored before have no such field and are
read as all-signal fills, so no row is rewritten here either way (code before this revision
reads its fields by name and ignores the new one).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ('stop_loss_pct', sa.Double(), None),
    ('take_profit_pct', sa.Double(), None),
    ('trailing_stop_pct', sa.Double(), None),
    ('intrabar', sa.String(length=16), "'pessimistic'"),
    ('ambiguous_bars', sa.Integer(), '0'),
    ('other_total_return_pct', sa.Double(), None),
    ('other_round_trips', sa.Integer(), None),
    ('other_ambiguous_bars', sa.Integer(), None),
)


def upgrade() -> None:
    # plain ALTER TABLE ADD COLUMN: a batch (copy-and-rename) on SQLite would drop the old table
    # and take each run's end position with it (ON DELETE CASCADE), and copy every blob
    for name, type_, default in _COLUMNS:
        op.add_column('backtest_runs', sa.Column(
            name, type_, nullable=default is None,
            server_default=sa.text(default) if default is not None else None,
        ))


def downgrade() -> None:
    # ALTER TABLE DROP COLUMN (SQLite 3.35 and later), for the same reason
    for name, _type, _default in reversed(_COLUMNS):
        op.drop_column('backtest_runs', name)
