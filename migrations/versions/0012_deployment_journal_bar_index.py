"""deployment journal: index by bar

A running deployment looks up the journal entries of one bar (was its signal journaled, its
order sent, answered?) on every signal; with this index that read stays a few rows however long
the journal grows (a deployment on minute bars writes 100,000 rows in a few months).

Revision ID: 0012
Revises: the newest revision before it (0011 once the session's 0009 to 0011 land)
Create Date: 2026-12-04 22:10:00
"""

from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = '0012'
# 0009 to 0011 are written at the same time as this one: chain onto the newest revision that
# exists before it, so the history stays one line whichever lands first.
down_revision: str | None = max(
    p.name[:4] for p in Path(__file__).parent.glob('00[0-9][0-9]_*.py') if p.name[:4] < '0012'
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('deployment_journal', schema=None) as batch_op:
        batch_op.create_index('ix_deployment_journal_deployment_id_bar_at',
                              ['deployment_id', 'bar_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('deployment_journal', schema=None) as batch_op:
        batch_op.drop_index('ix_deployment_journal_deployment_id_bar_at')
