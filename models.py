"""Rangkul's database tables (SQLModel); behaviour lives in bot/services."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores no offset, so it is restored on read)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _timestamp(*, nullable: bool = False) -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=nullable))


class Role(enum.StrEnum):
    FIGURE = "figure"
    ORGANIZER = "organizer"
    ADMIN = "admin"


class Person(SQLModel, table=True):
    """Anyone who has written to the bot: the Telegram identity that roles and (later) a profile hang on."""

    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int | None = Field(default=None, sa_column=Column(sa.BigInteger, unique=True, nullable=True))
    # Lower-cased, without "@", so "/peran beri @Budi" finds "budi".
    username: str | None = Field(default=None, max_length=32, index=True)
    first_name: str | None = Field(default=None, max_length=64)
    language_code: str | None = Field(default=None, max_length=16)
    created_at: dt.datetime = _timestamp()
    last_seen_at: dt.datetime = _timestamp()


class RoleGrant(SQLModel, table=True):
    """One role for one person: an organizer has one row per region code in scope, an admin one row with ''."""

    __tablename__ = "role_grant"
    __table_args__ = (sa.UniqueConstraint("person_id", "role", "region_code", name="uq_role_grant"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=16)
    # Kemendagri code ("63", "63.71", ...); "" for admins, whose scope is every region.
    region_code: str = Field(default="", max_length=13)
    granted_by: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    granted_at: dt.datetime = _timestamp()


class AuditEvent(SQLModel, table=True):
    """Append-only record of who did what and when; rows are never updated or deleted (a trigger enforces it)."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: dt.datetime = _timestamp()
    # Internal person ids, not Telegram identities, so the log itself holds no personal data.
    actor_person_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=64, index=True)
    subject_person_id: int | None = Field(default=None, index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(sa.JSON, nullable=False))
