"""retention_reminder: one row per retention date the admins were reminded of (two bots cannot both claim it);
audit_log refuses TRUNCATE on PostgreSQL as it refuses UPDATE and DELETE

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 17:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retention_reminder",
        sa.Column("retention_until", sa.Date(), nullable=False),
        sa.Column("reminded_at", models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("retention_until"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # SQLite has no TRUNCATE (its DELETE without WHERE goes through the delete trigger).
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    op.drop_table("retention_reminder")
