"""a broadcast's commitment kinds fixed when composed; the invite range a figure chose

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 17:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.add_column(sa.Column("commitments", sa.JSON(), nullable=True))
    for table in ("commitment", "commitment_event"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("invite_range", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
    # Rows written before this revision keep their number as it is (ranges were stored as their upper end, and
    # cannot be told apart from typed numbers): they show and count as that number.


def downgrade() -> None:
    for table in ("commitment_event", "commitment"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("invite_range")
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.drop_column("commitments")
