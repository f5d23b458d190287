"""figure: the retention date a figure was last told their data would be deleted after

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 17:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models  # noqa: F401


revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("figure", schema=None) as batch_op:
        # NULL: not told yet. A date: told once that their data goes after it (a new date is told again).
        batch_op.add_column(sa.Column("retention_told_for", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("figure", schema=None) as batch_op:
        batch_op.drop_column("retention_told_for")
