"""Contact exports: who may export what, the filters, and the rows streamed from the database in batches.

Rows are read with Core selects in keyset order (`id > last id seen`, a batch at a time), so memory stays the same
for a thousand figures or a hundred thousand, and a commit between batches (the chat export edits its progress
message, which commits the update's work) does not lose the place. Figures who deleted their data never appear;
an organizer's scope is a condition in every statement, whatever the filters say.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.callbacks import Codec
from bot.commitments import KINDS
from bot.config import Settings
from bot.services import audit
from bot.services.replies import scope_condition
from bot.services.roles import Authority
from models import Broadcast, Commitment, CommitmentKind, Figure, Invitation, Person, Reply, Role

BATCH = 5_000
# /ekspor's buttons: ek:<action>:<conversation version>[:<argument>] (bot/views/exports.py).
EXPORT = Codec("ek")


class Kind(enum.StrEnum):
    FIGURES = "figures"
    COMMITMENTS = "commitments"
    REPLIES = "replies"


class Format(enum.StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


class Status(enum.StrEnum):
    """Every figure has exactly one: stopping messages is their own choice and wins over being unreachable."""

    ACTIVE = "active"
    STOPPED = "stopped"
    UNREACHABLE = "unreachable"


def status_of(messages_opt_in: bool, unreachable_since: object) -> Status:
    if not messages_opt_in:
        return Status.STOPPED
    return Status.UNREACHABLE if unreachable_since is not None else Status.ACTIVE


@dataclass
class Filters:
    """What to export; empty lists and None mean no restriction (within the caller's scope)."""

    regions: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    age_brackets: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    registered_from: dt.date | None = None
    registered_to: dt.date | None = None
    # True: only figures with an active commitment; False: only those without; None: both.
    with_commitments: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """For the conversation draft and the audit log: codes, categories, brackets and dates only."""
        return {
            "regions": self.regions,
            "categories": self.categories,
            "age_brackets": self.age_brackets,
            "statuses": self.statuses,
            "registered_from": self.registered_from.isoformat() if self.registered_from else None,
            "registered_to": self.registered_to.isoformat() if self.registered_to else None,
            "with_commitments": self.with_commitments,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Filters:
        data = data or {}

        def day(key: str) -> dt.date | None:
            try:
                return dt.date.fromisoformat(str(data[key])) if data.get(key) else None
            except ValueError:
                return None

        with_commitments = data.get("with_commitments")
        return cls(
            regions=[str(code) for code in data.get("regions") or []],
            categories=[str(value) for value in data.get("categories") or []],
            age_brackets=[str(value) for value in data.get("age_brackets") or []],
            statuses=[str(value) for value in data.get("statuses") or []],
            registered_from=day("registered_from"),
            registered_to=day("registered_to"),
            with_commitments=with_commitments if isinstance(with_commitments, bool) else None,
        )


class Refusal(enum.StrEnum):
    NOT_ORGANIZER = "not_organizer"
    ORGANIZERS_NOT_ALLOWED = "organizers_not_allowed"


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who an export is for, as checked at the moment of exporting: an admin sees everything; an organizer only
    their scope, with phone numbers partly masked."""

    authority: Authority
    masked: bool

    @property
    def scopes(self) -> tuple[str, ...]:
        return () if self.authority.role is Role.ADMIN else self.authority.scopes


ADMIN = Viewer(authority=Authority(role=Role.ADMIN), masked=False)


def viewer_for(authority: Authority, settings: Settings) -> Viewer | Refusal:
    """The viewer AUTHORITY (read from the database for this update) makes, or why they may not export."""
    if authority.role is Role.ADMIN:
        return Viewer(authority=authority, masked=False)
    if authority.role is Role.ORGANIZER and authority.scopes:
        if not settings.export.organizers_allowed:
            return Refusal.ORGANIZERS_NOT_ALLOWED
        return Viewer(authority=authority, masked=True)
    return Refusal.NOT_ORGANIZER


def outside_scope(filters: Filters, viewer: Viewer) -> list[str]:
    """Region filters the viewer may not ask for (refused rather than silently narrowed)."""
    return [code for code in filters.regions if not viewer.authority.covers(code)]


# ----------------------------------------------------------------------------------------- conditions


def _within(codes: Sequence[str]) -> ColumnElement[bool]:
    region = col(Figure.region_code)
    return sa.or_(*(sa.or_(region == code, region.like(code + ".%")) for code in codes))


def _active_commitment() -> sa.Exists:
    return (
        sa.select(sa.literal(1))
        .select_from(Commitment)
        .where(col(Commitment.figure_id) == col(Figure.id), col(Commitment.withdrawn_at).is_(None))
        .exists()
    )


def _status_condition(status: str) -> ColumnElement[bool]:
    opt_in, unreachable = col(Figure.messages_opt_in), col(Figure.unreachable_since)
    if status == Status.STOPPED:
        return opt_in.is_(False)
    if status == Status.UNREACHABLE:
        return sa.and_(opt_in.is_(True), unreachable.is_not(None))
    if status == Status.ACTIVE:
        return sa.and_(opt_in.is_(True), unreachable.is_(None))
    return sa.false()


def figure_condition(filters: Filters, viewer: Viewer, tz: ZoneInfo) -> ColumnElement[bool]:
    """Figures the export holds: not deleted, within the viewer's scope (always), and matching FILTERS."""
    conditions: list[ColumnElement[bool]] = [col(Figure.deleted_at).is_(None), scope_condition(viewer.authority)]
    if filters.regions:
        conditions.append(_within(filters.regions))
    if filters.categories:
        conditions.append(col(Figure.category).in_(filters.categories))
    if filters.age_brackets:
        conditions.append(col(Figure.age_bracket).in_(filters.age_brackets))
    if filters.statuses:
        conditions.append(sa.or_(*(_status_condition(status) for status in filters.statuses)))
    if filters.registered_from is not None:
        start = dt.datetime.combine(filters.registered_from, dt.time(), tzinfo=tz)
        conditions.append(col(Figure.registered_at) >= start)
    if filters.registered_to is not None:
        end = dt.datetime.combine(filters.registered_to + dt.timedelta(days=1), dt.time(), tzinfo=tz)
        conditions.append(col(Figure.registered_at) < end)
    if filters.with_commitments is True:
        conditions.append(_active_commitment())
    elif filters.with_commitments is False:
        conditions.append(sa.not_(_active_commitment()))
    return sa.and_(*conditions)


# ----------------------------------------------------------------------------------------- the rows

# The figure's columns every kind of export carries. Timestamps are read as stored (text on SQLite, where
# SQLAlchemy's own parsing of each value would cost more than the rest of the row) and made datetimes by
# `moment` below.
_FIGURE_COLUMNS: tuple[sa.Label[Any], ...] = (
    col(Figure.full_name).label("name"),
    col(Figure.category).label("category"),
    col(Figure.age_bracket).label("age_bracket"),
    col(Figure.region_code).label("region_code"),
)


def _raw(column: Any, name: str) -> sa.Label[Any]:
    return sa.type_coerce(column, sa.String).label(name)


def moment(value: object) -> dt.datetime | None:
    """A timestamp as the driver gave it (a datetime, or SQLite's text), as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed


def _figures_select(condition: ColumnElement[bool]) -> sa.Select[Any]:
    return (
        sa.select(
            col(Figure.id).label("id"),
            *_FIGURE_COLUMNS,
            col(Figure.phone).label("phone"),
            col(Person.username).label("username"),
            col(Figure.organization).label("organization"),
            _raw(Figure.registered_at, "registered_at"),
            col(Figure.messages_opt_in).label("messages_opt_in"),
            _raw(Figure.unreachable_since, "unreachable_since"),
            col(Invitation.code).label("invitation_code"),
            col(Invitation.label).label("invitation_label"),
        )
        .select_from(Figure)
        .outerjoin(Person, col(Person.id) == col(Figure.person_id))
        .outerjoin(Invitation, col(Invitation.id) == col(Figure.invitation_id))
        .where(condition)
    )


def _commitments_select(condition: ColumnElement[bool]) -> sa.Select[Any]:
    return (
        sa.select(
            col(Commitment.id).label("id"),
            *_FIGURE_COLUMNS,
            col(Commitment.kind).label("kind"),
            col(Commitment.invite_count).label("invite_count"),
            col(Commitment.broadcast_id).label("broadcast_id"),
            col(Broadcast.template).label("template"),
            _raw(Commitment.committed_at, "committed_at"),
            _raw(Commitment.withdrawn_at, "withdrawn_at"),
        )
        .select_from(Commitment)
        .join(Figure, col(Figure.id) == col(Commitment.figure_id))
        .outerjoin(Broadcast, col(Broadcast.id) == col(Commitment.broadcast_id))
        .where(condition)
    )


def _replies_select(condition: ColumnElement[bool]) -> sa.Select[Any]:
    return (
        sa.select(
            col(Reply.id).label("id"),
            *_FIGURE_COLUMNS,
            _raw(Reply.received_at, "received_at"),
            col(Reply.kind).label("kind"),
            col(Reply.text).label("text"),
            col(Reply.broadcast_id).label("broadcast_id"),
            col(Broadcast.template).label("template"),
            _raw(Reply.read_at, "read_at"),
            _raw(Reply.answered_at, "answered_at"),
            col(Reply.answer_text).label("answer_text"),
        )
        .select_from(Reply)
        .join(Figure, col(Figure.id) == col(Reply.figure_id))
        .outerjoin(Broadcast, col(Broadcast.id) == col(Reply.broadcast_id))
        .where(condition)
    )


_SELECTS = {Kind.FIGURES: _figures_select, Kind.COMMITMENTS: _commitments_select, Kind.REPLIES: _replies_select}
_KEYS = {Kind.FIGURES: Figure.id, Kind.COMMITMENTS: Commitment.id, Kind.REPLIES: Reply.id}


# The commitment kinds in the order an export's columns show them (bot/commitments.py's order).
COMMITMENT_KINDS: tuple[str, ...] = tuple(KINDS)
# A figure's active commitments: how many of each kind (in COMMITMENT_KINDS' order), then how many people they
# promised to invite (the sum of their active invite commitments' counts). None where they made none: an empty
# cell, which spreadsheets sum as 0, and a sheet of mostly empty cells shows at a glance who committed to what.
Committed = tuple[int | None, ...]
NO_COMMITMENTS: Committed = (None,) * (len(COMMITMENT_KINDS) + 1)


# One exported row: the values of its select's columns in their order (id first), as the driver returned them.
Line = Sequence[Any]


@dataclass(frozen=True, slots=True)
class Batch:
    rows: Sequence[Line]
    # For figures: their active commitments, by figure id (absent: none).
    commitments: dict[int, Committed]


async def count(*, session: AsyncSession, kind: Kind, filters: Filters, viewer: Viewer, tz: ZoneInfo) -> int:
    """How many rows the export will hold (for the progress shown while it is written)."""
    inner = _SELECTS[kind](figure_condition(filters, viewer, tz)).subquery()
    connection = await session.connection()
    result = await connection.execute(sa.select(sa.func.count()).select_from(inner))
    return int(result.scalar_one())


async def batches(
    *, session: AsyncSession, kind: Kind, filters: Filters, viewer: Viewer, tz: ZoneInfo, size: int = BATCH
) -> AsyncGenerator[Batch, None]:
    """The export's rows in id order, SIZE at a time; one statement per batch, nothing kept between them."""
    condition = figure_condition(filters, viewer, tz)
    key = col(_KEYS[kind])
    after = 0
    while True:
        statement = _SELECTS[kind](sa.and_(condition, key > after)).order_by(key).limit(size)
        rows = await _plain_rows(session, statement)
        if not rows:
            return
        after = int(rows[-1][0])
        commitments = await _commitments_of(session, rows) if kind is Kind.FIGURES else {}
        yield Batch(rows=rows, commitments=commitments)
        if len(rows) < size:
            return


async def _plain_rows(session: AsyncSession, statement: sa.Executable) -> Sequence[Line]:
    """STATEMENT's rows on the session's connection, as the driver returned them (tuples from SQLite, records
    from asyncpg): SQLAlchemy binds the parameters, but no Row is made for each of a hundred thousand rows. The
    export's selects are made for this: text, numbers and flags come as they are, timestamps as SQLite's text
    or asyncpg's datetimes (`moment`)."""
    result = await (await session.connection()).execute(statement)
    try:
        # Both async drivers' adapters have every row of the statement in hand once it has run.
        return list(result.cursor.fetchall())
    finally:
        result.close()


async def _commitments_of(session: AsyncSession, rows: Sequence[Line]) -> dict[int, Committed]:
    """Active commitments of the figures in ROWS, by kind: one grouped statement over their id range."""
    first, last = int(rows[0][0]), int(rows[-1][0])
    figure_id, kind = col(Commitment.figure_id), col(Commitment.kind)
    # One row per figure, a column per kind (NULL where none: no 0 to turn back into an empty cell).
    per_kind = [sa.func.sum(sa.case((kind == value, 1), else_=None)) for value in COMMITMENT_KINDS]
    invited = sa.func.sum(sa.case((kind == CommitmentKind.INVITE.value, col(Commitment.invite_count)), else_=None))
    grouped = await _plain_rows(
        session,
        sa.select(figure_id, *per_kind, invited)
        .where(figure_id >= first, figure_id <= last, col(Commitment.withdrawn_at).is_(None))
        .group_by(figure_id),
    )
    return {int(row[0]): tuple(row[1:]) for row in grouped}


# ----------------------------------------------------------------------------------------- around the file

KIND_FILE_NAMES = {Kind.FIGURES: "tokoh", Kind.COMMITMENTS: "komitmen", Kind.REPLIES: "balasan"}


def file_name(kind: Kind, fmt: Format, filters: Filters, viewer: Viewer, today: dt.date) -> str:
    """`rangkul-tokoh-63.03-2026-12-01.xlsx`: what, for which regions (the filter, else the viewer's scope, else
    "semua"), and when."""
    codes = filters.regions or list(viewer.scopes)
    if not codes:
        scope = "semua"
    else:
        shown = sorted(codes)[:3]
        scope = "_".join(shown) + (f"_dan{len(codes) - len(shown)}lainnya" if len(codes) > len(shown) else "")
    return f"rangkul-{KIND_FILE_NAMES[kind]}-{scope}-{today.isoformat()}.{fmt.value}"


async def record(
    *,
    session: AsyncSession,
    kind: Kind,
    fmt: Format,
    filters: Filters,
    viewer: Viewer,
    rows: int,
    source: str,
    actor_person_id: int | None,
) -> None:
    """The audit entry of an export: what, in which format, with which filters, how many rows, from where —
    internal ids, codes and counts only, no personal data."""
    await audit.record(
        session=session,
        action=f"export.{kind.value}",
        actor_person_id=actor_person_id,
        format=fmt.value,
        filters=filters.to_dict(),
        rows=rows,
        source=source,
        role=str(viewer.authority.role),
        scope=list(viewer.scopes),
        masked=viewer.masked,
    )
