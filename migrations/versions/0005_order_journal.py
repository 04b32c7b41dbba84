"""order journal

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kash_tui.db


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('order_journal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('portfolio_id', sa.Integer(), nullable=True),
    sa.Column('client_order_id', sa.String(length=64), nullable=False),
    sa.Column('symbol', sa.String(length=64), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('live', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('broker_order_id', sa.String(length=64), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_at', kash_tui.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kash_tui.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('sending', 'sent', 'rejected', 'failed', 'unknown')", name=op.f('ck_order_journal_status')),
    sa.ForeignKeyConstraint(['portfolio_id'], ['portfolios.id'], name=op.f('fk_order_journal_portfolio_id_portfolios'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_journal')),
    sa.UniqueConstraint('client_order_id', name=op.f('uq_order_journal_client_order_id'))
    )
    with op.batch_alter_table('order_journal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_journal_portfolio_id'), ['portfolio_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('order_journal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_journal_portfolio_id'))

    op.drop_table('order_journal')
