"""deployments, their journal and market-data stream leases

A deployment is a strategy trading a PAPER or LIVE portfolio (``kash deploy``): its settings,
risk limits and desired state, and what its runner last reported. ``deployment_journal`` holds
every event of it; ``market_stream_leases`` says which process owns a connection's
market-data stream (Alpaca allows one per key).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kash_tui.db


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(38, 16)


def upgrade() -> None:
    op.create_table('deployments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('portfolio_id', sa.Integer(), nullable=False),
    sa.Column('strategy_id', sa.String(length=64), nullable=False),
    sa.Column('params_json', sa.Text(), nullable=False),
    sa.Column('symbol', sa.String(length=64), nullable=False),
    sa.Column('timeframe', sa.String(length=16), nullable=False),
    sa.Column('max_position_pct', sa.Numeric(12, 6), nullable=True),
    sa.Column('max_orders_per_day', sa.Integer(), nullable=True),
    sa.Column('daily_loss_limit_pct', sa.Numeric(12, 6), nullable=True),
    sa.Column('order_tag', sa.String(length=16), nullable=False),
    sa.Column('desired_state', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('flatten_requested', sa.Boolean(), nullable=False),
    sa.Column('created_at', kash_tui.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('started_at', kash_tui.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('stopped_at', kash_tui.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', kash_tui.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.Column('data_mode', sa.String(length=8), nullable=True),
    sa.Column('data_health', sa.String(length=16), nullable=False),
    sa.Column('warmup_start', kash_tui.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('first_live_bar', kash_tui.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_bar_at', kash_tui.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('done_bar_at', kash_tui.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_signal_at', kash_tui.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_signal_side', sa.String(length=4), nullable=True),
    sa.Column('position_qty', MONEY, nullable=False),
    sa.Column('orders_today', sa.Integer(), nullable=False),
    sa.Column('trading_day', sa.String(length=10), nullable=True),
    sa.Column('start_equity', MONEY, nullable=True),
    sa.Column('day_start_equity', MONEY, nullable=True),
    sa.Column('pnl', MONEY, nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('log_path', sa.Text(), nullable=True),
    sa.CheckConstraint("state IN ('running', 'stopped', 'halted', 'failed')", name=op.f('ck_deployments_state')),
    sa.CheckConstraint("desired_state IN ('running', 'stopped', 'halted')", name=op.f('ck_deployments_desired_state')),
    sa.CheckConstraint("data_mode IS NULL OR data_mode IN ('stream', 'poll')", name=op.f('ck_deployments_data_mode')),
    sa.ForeignKeyConstraint(['portfolio_id'], ['portfolios.id'], name=op.f('fk_deployments_portfolio_id_portfolios'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deployments')),
    sa.UniqueConstraint('name', name=op.f('uq_deployments_name'))
    )
    with op.batch_alter_table('deployments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deployments_portfolio_id'), ['portfolio_id'], unique=False)

    op.create_table('deployment_journal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('at', kash_tui.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('bar_at', kash_tui.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('data_json', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployments.id'], name=op.f('fk_deployment_journal_deployment_id_deployments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deployment_journal'))
    )
    with op.batch_alter_table('deployment_journal', schema=None) as batch_op:
        batch_op.create_index('ix_deployment_journal_deployment_id_id', ['deployment_id', 'id'], unique=False)

    op.create_table('market_stream_leases',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=128), nullable=False),
    sa.Column('heartbeat_at', kash_tui.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_market_stream_leases_connection_id_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', name=op.f('pk_market_stream_leases'))
    )


def downgrade() -> None:
    op.drop_table('market_stream_leases')
    with op.batch_alter_table('deployment_journal', schema=None) as batch_op:
        batch_op.drop_index('ix_deployment_journal_deployment_id_id')
    op.drop_table('deployment_journal')
    with op.batch_alter_table('deployments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deployments_portfolio_id'))
    op.drop_table('deployments')
