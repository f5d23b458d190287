"""broadcast: who paused it and their rank

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 11:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models  # noqa: F401


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("paused_rank", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.create_foreign_key("fk_broadcast_paused_by_person", "person", ["paused_by"], ["id"], ondelete="SET NULL")
    # Pauses from before this revision: a person's pause counts as an organizer's, the engine's as the system's.
    op.execute(
        "UPDATE broadcast SET paused_rank = CASE WHEN pause_reason = 'organizer' THEN 'organizer' ELSE 'system' END "
        "WHERE status = 'paused'"
    )


def downgrade() -> None:
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.drop_constraint("fk_broadcast_paused_by_person", type_="foreignkey")
        batch_op.drop_column("paused_rank")
        batch_op.drop_column("paused_by")
