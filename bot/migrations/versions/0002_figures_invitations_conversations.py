"""figures invitations conversations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 00:47:42.532082
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models  # noqa: F401


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_state",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("flow", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("person_id"),
    )
    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("region_code", sqlmodel.sql.sqltypes.AutoString(length=13), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["person.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("full_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("age_bracket", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("guardian_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("guardian_consent_at", models.UTCDateTime(), nullable=True),
        sa.Column("region_code", sqlmodel.sql.sqltypes.AutoString(length=13), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("organization", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("consent_at", models.UTCDateTime(), nullable=False),
        sa.Column("consent_version", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("consent_locale", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("messages_opt_in", sa.Boolean(), nullable=False),
        sa.Column("opted_out_at", models.UTCDateTime(), nullable=True),
        sa.Column("unreachable_since", models.UTCDateTime(), nullable=True),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("registered_at", models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.UTCDateTime(), nullable=False),
        sa.Column("deleted_at", models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitation.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id"),
    )
    with op.batch_alter_table("figure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_figure_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_figure_region_code"), ["region_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("figure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_figure_region_code"))
        batch_op.drop_index(batch_op.f("ix_figure_category"))

    op.drop_table("figure")
    op.drop_table("invitation")
    op.drop_table("conversation_state")
