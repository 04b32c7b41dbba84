"""walk-forward of a universe

A walk-forward may run over a universe rather than one symbol: ``walkforward_runs`` gains
``universe_json`` (the universe's name, workspace, symbols in order and max positions; NULL for
one symbol, whose ``symbol`` column then names the symbol, else the universe).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 22:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('walkforward_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('universe_json', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('walkforward_runs', schema=None) as batch_op:
        batch_op.drop_column('universe_json')
