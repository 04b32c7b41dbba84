"""walk-forward runs and their windows

A walk-forward (``kash walkforward``) is one ``walkforward_runs`` row: what was asked (strategy,
base parameters, grid, rank, train and test lengths, anchored or rolling, settings), the
stitched out-of-sample metrics, and the stitched curve's bar times and equity as blobs; and one
``walkforward_windows`` row per window: its bar ranges and times, the chosen parameters, and the
chosen cell's training and test metrics.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kash_tui.db


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('walkforward_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('portfolio_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kash_tui.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('strategy_id', sa.String(length=64), nullable=False),
    sa.Column('params_json', sa.Text(), nullable=False),
    sa.Column('grid_json', sa.Text(), nullable=False),
    sa.Column('rank_by', sa.String(length=64), nullable=False),
    sa.Column('train', sa.String(length=16), nullable=False),
    sa.Column('test', sa.String(length=16), nullable=False),
    sa.Column('anchored', sa.Boolean(), nullable=False),
    sa.Column('symbol', sa.String(length=64), nullable=False),
    sa.Column('timeframe', sa.String(length=8), nullable=False),
    sa.Column('requested_start', kash_tui.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('requested_end', kash_tui.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('first_bar_ts', sa.BigInteger(), nullable=False),
    sa.Column('last_bar_ts', sa.BigInteger(), nullable=False),
    sa.Column('bar_count', sa.Integer(), nullable=False),
    sa.Column('settings_json', sa.Text(), nullable=False),
    sa.Column('metrics_json', sa.Text(), nullable=False),
    sa.Column('in_sample_cagr_pct', sa.Double(), nullable=True),
    sa.Column('window_count', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('timestamps_blob', sa.LargeBinary(), nullable=False),
    sa.Column('equity_blob', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['portfolio_id'], ['portfolios.id'], name=op.f('fk_walkforward_runs_portfolio_id_portfolios'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_walkforward_runs'))
    )
    with op.batch_alter_table('walkforward_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_walkforward_runs_portfolio_id'), ['portfolio_id'], unique=False)

    op.create_table('walkforward_windows',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('train_start', sa.Integer(), nullable=False),
    sa.Column('train_end', sa.Integer(), nullable=False),
    sa.Column('test_start', sa.Integer(), nullable=False),
    sa.Column('test_end', sa.Integer(), nullable=False),
    sa.Column('train_first_ts', sa.BigInteger(), nullable=False),
    sa.Column('train_last_ts', sa.BigInteger(), nullable=False),
    sa.Column('test_first_ts', sa.BigInteger(), nullable=False),
    sa.Column('test_last_ts', sa.BigInteger(), nullable=False),
    sa.Column('params_json', sa.Text(), nullable=False),
    sa.Column('train_metrics_json', sa.Text(), nullable=False),
    sa.Column('test_metrics_json', sa.Text(), nullable=False),
    sa.Column('candidates', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['walkforward_runs.id'], name=op.f('fk_walkforward_windows_run_id_walkforward_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'number', name=op.f('pk_walkforward_windows'))
    )


def downgrade() -> None:
    op.drop_table('walkforward_windows')
    with op.batch_alter_table('walkforward_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_walkforward_runs_portfolio_id'))
    op.drop_table('walkforward_runs')
