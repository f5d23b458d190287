"""person: the language they chose; figure: the privacy notice version they were last told about

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 14:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models  # noqa: F401


revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        # NULL: not chosen, so the office's default language (Indonesian) applies, whatever the Telegram app says.
        batch_op.add_column(sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
    with op.batch_alter_table("figure", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notice_told_version", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("figure", schema=None) as batch_op:
        batch_op.drop_column("notice_told_version")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("locale")
