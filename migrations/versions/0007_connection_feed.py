"""connection feed; order journal without 'failed'

A connection says which Alpaca stock data feed it uses (``feed``): ``iex`` (every account,
the default, and what every connection used so far) or ``sip`` (all US exchanges, for
subscribers). The order journal's status ``failed`` is dropped: nothing ever wrote it (a send
that did not reach the broker is ``rejected``, one that may have is ``unknown``); a row that
somehow holds it becomes ``rejected``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOURNAL_STATUSES = "status IN ('sending', 'sent', 'rejected', 'unknown')"
JOURNAL_STATUSES_0005 = "status IN ('sending', 'sent', 'rejected', 'failed', 'unknown')"


def upgrade() -> None:
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('feed', sa.String(length=8), nullable=False, server_default='iex')
        )
        batch_op.create_check_constraint(op.f('ck_connections_feed'), "feed IN ('iex', 'sip')")

    op.execute("UPDATE order_journal SET status = 'rejected' WHERE status = 'failed'")
    with op.batch_alter_table('order_journal', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_order_journal_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_order_journal_status'), JOURNAL_STATUSES)


def downgrade() -> None:
    with op.batch_alter_table('order_journal', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_order_journal_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_order_journal_status'), JOURNAL_STATUSES_0005)

    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_connections_feed'), type_='check')
        batch_op.drop_column('feed')
