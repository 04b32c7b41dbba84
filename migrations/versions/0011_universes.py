"""universes of symbols and universe backtest runs

A universe is a named, ordered list of symbols in a workspace (``universes``,
``universe_members``). A universe backtest is stored as a ``backtest_runs`` row (its portfolio
equity, every fill, its settings and metrics) plus one ``backtest_run_universes`` row: the
symbols in order, which symbol each fill and signal belongs to, each symbol's last close and the
per-symbol breakdown.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kash_tui.db


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('universes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('created_at', kash_tui.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_universes_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_universes')),
    sa.UniqueConstraint('workspace_id', 'name', name='uq_universes_workspace_name')
    )
    with op.batch_alter_table('universes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_universes_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('universe_members',
    sa.Column('universe_id', sa.Integer(), nullable=False),
    sa.Column('symbol', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['universe_id'], ['universes.id'], name=op.f('fk_universe_members_universe_id_universes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('universe_id', 'symbol', name=op.f('pk_universe_members'))
    )

    op.create_table('backtest_run_universes',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('universe_name', sa.String(length=64), nullable=False),
    sa.Column('workspace_name', sa.String(length=64), nullable=False),
    sa.Column('max_positions', sa.Integer(), nullable=False),
    sa.Column('symbols_json', sa.Text(), nullable=False),
    sa.Column('breakdown_json', sa.Text(), nullable=False),
    sa.Column('fill_symbols_blob', sa.LargeBinary(), nullable=False),
    sa.Column('signal_symbols_blob', sa.LargeBinary(), nullable=False),
    sa.Column('last_closes_blob', sa.LargeBinary(), nullable=False),
    sa.CheckConstraint('max_positions > 0', name=op.f('ck_backtest_run_universes_max_positions')),
    sa.ForeignKeyConstraint(['run_id'], ['backtest_runs.id'], name=op.f('fk_backtest_run_universes_run_id_backtest_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', name=op.f('pk_backtest_run_universes'))
    )


def downgrade() -> None:
    op.drop_table('backtest_run_universes')
    op.drop_table('universe_members')
    with op.batch_alter_table('universes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_universes_workspace_id'))
    op.drop_table('universes')
