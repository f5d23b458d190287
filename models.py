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
    # What the Telegram app says; never used to pick the language (many Indonesians run Telegram in English).
    language_code: str | None = Field(default=None, max_length=16)
    # The language the person chose with /bahasa; None = the office's default (settings locale.default).
    locale: str | None = Field(default=None, max_length=8)
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


class FigureCategory(enum.StrEnum):
    YOUTH = "tokoh_pemuda"
    COMMUNITY = "tokoh_masyarakat"
    RELIGIOUS = "tokoh_agama"
    WOMEN = "tokoh_perempuan"
    CUSTOMARY = "tokoh_adat"
    OTHER = "lainnya"


class AgeBracket(enum.StrEnum):
    # Split at 18, the age below which UU PDP asks for a parent's or guardian's consent.
    UNDER_18 = "<18"
    FROM_18_TO_25 = "18-25"
    FROM_26_TO_40 = "26-40"
    FROM_41_TO_60 = "41-60"
    OVER_60 = ">60"


class Invitation(SQLModel, table=True):
    """A deep link (and QR code) an organizer hands out: it pre-fills the region and records who invited."""

    __tablename__ = "invitation"

    id: int | None = Field(default=None, primary_key=True)
    # The /start payload: at most 64 characters of [A-Za-z0-9_-].
    code: str = Field(max_length=64, unique=True)
    region_code: str = Field(max_length=13)
    label: str = Field(default="", max_length=100)
    created_by: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: dt.datetime = _timestamp()


class Figure(SQLModel, table=True):
    """A registered community figure. Deleting their data blanks every personal column and keeps the rest."""

    __tablename__ = "figure"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", unique=True, ondelete="SET NULL")
    full_name: str | None = Field(default=None, max_length=100)
    category: str = Field(max_length=32, index=True)
    age_bracket: str = Field(max_length=8)
    guardian_name: str | None = Field(default=None, max_length=100)
    guardian_consent_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # Desa/kelurahan code, e.g. "63.71.01.1001"; kept after deletion so reports stay right.
    region_code: str = Field(max_length=13, index=True)
    phone: str | None = Field(default=None, max_length=16)
    organization: str | None = Field(default=None, max_length=120)
    # Proof of consent: when, and to which text (a hash of the privacy notice as shown, in its language).
    consent_at: dt.datetime = _timestamp()
    consent_version: str = Field(max_length=16)
    consent_locale: str = Field(default="id", max_length=8)
    # The privacy notice version this figure was last told about after the notice changed (told once per change).
    notice_told_version: str | None = Field(default=None, max_length=16)
    # The privacy.retention_until this figure was told their data would be deleted after (told once per date).
    retention_told_for: dt.date | None = Field(default=None)
    messages_opt_in: bool = Field(default=True)
    opted_out_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # Set when Telegram says the bot is blocked or the account is gone; cleared when the person writes again.
    unreachable_since: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    invitation_id: int | None = Field(default=None, foreign_key="invitation.id", ondelete="SET NULL")
    registered_at: dt.datetime = _timestamp()
    updated_at: dt.datetime = _timestamp()
    deleted_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


_CONVERSATION_VERSION = Column("version", sa.Integer, nullable=False, default=1)


class ConversationState(SQLModel, table=True):
    """A multi-step conversation in progress (registration, a profile edit), kept across restarts."""

    __tablename__ = "conversation_state"

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    flow: str = Field(max_length=32)
    step: str = Field(max_length=32)
    # Bumped on every step; buttons carry it, so a stale or doubled press is recognised. It is also the row's
    # compare-and-swap: every UPDATE or DELETE of a state says "WHERE version = <the version this answer read>",
    # so two answers to one step can never both be applied (the second raises StaleDataError).
    version: int = Field(default=1, sa_column=_CONVERSATION_VERSION)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(sa.JSON, nullable=False))
    updated_at: dt.datetime = _timestamp()

    __mapper_args__ = {"version_id_col": _CONVERSATION_VERSION, "version_id_generator": False}


class BroadcastStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    # Marked (and committed) just before the request goes out; left over after a crash it means "uncertain".
    SENDING = "sending"
    SENT = "sent"
    BLOCKED = "blocked"
    DEACTIVATED = "deactivated"
    CHAT_NOT_FOUND = "chat_not_found"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    SKIPPED = "skipped"


class Broadcast(SQLModel, table=True):
    """One socialization message to a segment of figures; its deliveries are written before the first send."""

    __tablename__ = "broadcast"

    id: int | None = Field(default=None, primary_key=True)
    created_by: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL", index=True)
    template: str = Field(max_length=64)
    template_version: str = Field(max_length=16)
    # The organizer's values, as text in ISO formats; parsed again when rendering.
    values: dict[str, Any] = Field(default_factory=dict, sa_column=Column(sa.JSON, nullable=False))
    # regions (Kemendagri codes), categories, age_brackets, registered_since (ISO date or null).
    segment: dict[str, Any] = Field(default_factory=dict, sa_column=Column(sa.JSON, nullable=False))
    # The commitment kinds its messages carry, fixed when composed: a press on an old message is checked against
    # what that message offered, whatever the template says today. None: composed before this was recorded.
    commitments: list[str] | None = Field(default=None, sa_column=Column(sa.JSON, nullable=True))
    status: str = Field(max_length=16, index=True)
    pause_reason: str | None = Field(default=None, max_length=32)
    # Who paused it (None: the system or nobody) and their rank then: only that rank or higher may resume.
    paused_by: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    paused_rank: str | None = Field(default=None, max_length=16)
    paid: bool = Field(default=False)
    recipient_count: int = Field(default=0)
    scheduled_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: dt.datetime = _timestamp()
    started_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    finished_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # The delivery engine working on it, and when it last said so (a lease: a silent engine has died).
    worker: str | None = Field(default=None, max_length=36)
    worker_seen_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # The organizer's self-updating status message.
    status_chat_id: int | None = Field(default=None, sa_column=Column(sa.BigInteger, nullable=True))
    status_message_id: int | None = Field(default=None, sa_column=Column(sa.BigInteger, nullable=True))


class Delivery(SQLModel, table=True):
    """One recipient of one broadcast, with the honest outcome of sending to them."""

    __tablename__ = "delivery"
    __table_args__ = (
        sa.UniqueConstraint("broadcast_id", "figure_id", name="uq_delivery_recipient"),
        sa.Index("ix_delivery_broadcast_status", "broadcast_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", ondelete="CASCADE")
    figure_id: int = Field(foreign_key="figure.id", ondelete="CASCADE")
    status: str = Field(default=DeliveryStatus.PENDING, max_length=16)
    attempts: int = Field(default=0)
    message_id: int | None = Field(default=None, sa_column=Column(sa.BigInteger, nullable=True))
    error: str | None = Field(default=None, max_length=200)
    updated_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class CommitmentKind(enum.StrEnum):
    """What a figure can promise with a tap (labels: bot/commitments.py). Never a vote choice, party or candidate."""

    VOTE = "tps"  # Saya akan datang ke TPS
    INVITE = "ajak"  # Saya akan mengajak … orang (with how many)
    NO_MONEY_POLITICS = "tolak_uang"  # Saya menolak politik uang
    FIGHT_HOAXES = "lawan_hoaks"  # Saya siap melawan hoaks
    VOLUNTEER = "relawan"  # Saya siap menjadi relawan demokrasi


class Commitment(SQLModel, table=True):
    """A figure's current commitment of one kind, prompted by one broadcast: at most one row per (figure,
    broadcast, kind); a withdrawal keeps the row with withdrawn_at set (a new tap clears it)."""

    __tablename__ = "commitment"
    __table_args__ = (
        sa.UniqueConstraint("figure_id", "broadcast_id", "kind", name="uq_commitment"),
        sa.Index("ix_commitment_broadcast_kind", "broadcast_id", "kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    figure_id: int = Field(foreign_key="figure.id", ondelete="CASCADE", index=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", ondelete="CASCADE")
    kind: str = Field(max_length=16)
    # For CommitmentKind.INVITE: how many people the figure promised to invite at least (a typed number, or the
    # lower end of the range chosen), and the range chosen ("6-10"; None when typed).
    invite_count: int | None = Field(default=None)
    invite_range: str | None = Field(default=None, max_length=8)
    template_version: str = Field(max_length=16)
    committed_at: dt.datetime = _timestamp()
    withdrawn_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class CommitmentEvent(SQLModel, table=True):
    """Append-only history of commitments: every commitment, change of count and withdrawal, with its time and
    the broadcast and template version that prompted it."""

    __tablename__ = "commitment_event"

    id: int | None = Field(default=None, primary_key=True)
    commitment_id: int = Field(foreign_key="commitment.id", ondelete="CASCADE", index=True)
    action: str = Field(max_length=16)  # commit | count | withdraw
    invite_count: int | None = Field(default=None)
    invite_range: str | None = Field(default=None, max_length=8)
    broadcast_id: int = Field(foreign_key="broadcast.id", ondelete="CASCADE")
    template_version: str = Field(max_length=16)
    occurred_at: dt.datetime = _timestamp()


class ReplyKind(enum.StrEnum):
    TEXT = "text"
    PHOTO = "photo"
    VOICE = "voice"
    VIDEO = "video"
    DOCUMENT = "document"
    OTHER = "other"


class Reply(SQLModel, table=True):
    """A figure's message to the office outside a conversation (a reply to a broadcast or a plain message); media
    are recorded by Telegram file id, not downloaded. Deleted with the figure's personal data."""

    __tablename__ = "reply"
    __table_args__ = (sa.Index("ix_reply_unread", "read_at", "received_at"),)

    id: int | None = Field(default=None, primary_key=True)
    figure_id: int = Field(foreign_key="figure.id", ondelete="CASCADE", index=True)
    # The broadcast it answers (the figure replied to that message), when it answers one.
    broadcast_id: int | None = Field(default=None, foreign_key="broadcast.id", ondelete="SET NULL", index=True)
    kind: str = Field(default=ReplyKind.TEXT, max_length=16)
    text: str | None = Field(default=None, max_length=4096)
    file_id: str | None = Field(default=None, max_length=256)
    telegram_message_id: int | None = Field(default=None, sa_column=Column(sa.BigInteger, nullable=True))
    received_at: dt.datetime = _timestamp()
    read_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    read_by: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    answer_text: str | None = Field(default=None, max_length=4096)
    answered_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    answered_by: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")


class ReplyDigest(SQLModel, table=True):
    """When an organizer was last told of new replies in their scope (at most once every 15 minutes)."""

    __tablename__ = "reply_digest"

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    last_sent_at: dt.datetime = _timestamp()
    # The newest reply id already counted in a digest: the next one counts only those after it.
    last_reply_id: int = Field(default=0)


class RetentionReminder(SQLModel, table=True):
    """A retention date (privacy.retention_until) the admins were reminded of: the primary key lets exactly one
    bot claim the reminder, however many run."""

    __tablename__ = "retention_reminder"

    retention_until: dt.date = Field(primary_key=True)
    reminded_at: dt.datetime = _timestamp()
