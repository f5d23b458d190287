"""commitments (with their history), figures' replies, and the organizers' reply digests

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 15:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "commitment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("figure_id", sa.Integer(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("invite_count", sa.Integer(), nullable=True),
        sa.Column("template_version", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("committed_at", models.UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["figure_id"], ["figure.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["broadcast_id"], ["broadcast.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("figure_id", "broadcast_id", "kind", name="uq_commitment"),
    )
    with op.batch_alter_table("commitment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commitment_figure_id"), ["figure_id"], unique=False)
        batch_op.create_index("ix_commitment_broadcast_kind", ["broadcast_id", "kind"], unique=False)

    op.create_table(
        "commitment_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("invite_count", sa.Integer(), nullable=True),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("template_version", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("occurred_at", models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["commitment_id"], ["commitment.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["broadcast_id"], ["broadcast.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("commitment_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commitment_event_commitment_id"), ["commitment_id"], unique=False)

    op.create_table(
        "reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("figure_id", sa.Integer(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=True),
        sa.Column("file_id", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=True),
        sa.Column("received_at", models.UTCDateTime(), nullable=False),
        sa.Column("read_at", models.UTCDateTime(), nullable=True),
        sa.Column("read_by", sa.Integer(), nullable=True),
        sa.Column("answer_text", sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=True),
        sa.Column("answered_at", models.UTCDateTime(), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["figure_id"], ["figure.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["broadcast_id"], ["broadcast.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["read_by"], ["person.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["answered_by"], ["person.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reply_figure_id"), ["figure_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reply_broadcast_id"), ["broadcast_id"], unique=False)
        batch_op.create_index("ix_reply_unread", ["read_at", "received_at"], unique=False)

    op.create_table(
        "reply_digest",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("last_sent_at", models.UTCDateTime(), nullable=False),
        sa.Column("last_reply_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("person_id"),
    )


def downgrade() -> None:
    op.drop_table("reply_digest")
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.drop_index("ix_reply_unread")
        batch_op.drop_index(batch_op.f("ix_reply_broadcast_id"))
        batch_op.drop_index(batch_op.f("ix_reply_figure_id"))
    op.drop_table("reply")
    with op.batch_alter_table("commitment_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commitment_event_commitment_id"))
    op.drop_table("commitment_event")
    with op.batch_alter_table("commitment", schema=None) as batch_op:
        batch_op.drop_index("ix_commitment_broadcast_kind")
        batch_op.drop_index(batch_op.f("ix_commitment_figure_id"))
    op.drop_table("commitment")
