"""bar chunks and packed runs

Placeholder so that later revisions can chain onto '0006'; the conversion of bars into
columnar chunks and of stored runs' orders/fills into packed arrays lands here next.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
