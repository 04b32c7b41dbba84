"""deployment journal: index by bar

A running deployment looks up the journal entries of one bar (was its signal journaled, its
order sent, answered?) on every signal; with this index that read stays a few rows however long
the journal grows (a deployment on minute bars writes 100,000 rows in a few months).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 22:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('deployment_journal', schema=None) as batch_op:
        batch_op.create_index('ix_deployment_journal_deployment_id_bar_at',
                              ['deployment_id', 'bar_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('deployment_journal', schema=None) as batch_op:
        batch_op.drop_index('ix_deployment_journal_deployment_id_bar_at')
