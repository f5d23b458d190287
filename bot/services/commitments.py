"""Commitments: every press checked against the database, recorded once (the unique constraint decides between
two taps at the same moment), withdrawn and counted, each change written to the append-only history.

Nothing here trusts what a button carries: the broadcast must have been delivered to this figure, the kind must
be one the broadcast's template offers, and the figure must be registered and receiving messages.
"""

from __future__ import annotations

import datetime as dt
import enum
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import catalog, commitments
from models import Broadcast, Commitment, CommitmentEvent, CommitmentKind, Delivery, DeliveryStatus, Figure, utcnow

# A second tap this soon after the first is the same tap twice (a double tap, a slow network): it is answered
# as recorded, not with the offer to withdraw.
DOUBLE_TAP = dt.timedelta(seconds=5)
# Deliveries whose message may be under the figure's thumb: sent, or sent without a certain answer.
PRESSABLE = (DeliveryStatus.SENT, DeliveryStatus.UNCERTAIN)


@dataclass(frozen=True, slots=True)
class Held:
    """A commitment a figure holds now (not withdrawn), for the buttons: the invite's number and range if known."""

    invite_count: int | None = None
    invite_range: str | None = None


@dataclass(frozen=True, slots=True)
class Listed:
    """One commitment for /komitmen."""

    kind: str
    invite_count: int | None
    invite_range: str | None
    committed_at: dt.datetime
    template: str


class Refusal(enum.StrEnum):
    """Why a press changes nothing (each has its own polite answer)."""

    NOT_REGISTERED = "not_registered"  # no registration, or the figure deleted their data
    OPTED_OUT = "opted_out"  # stopped messages with /berhenti
    NOT_DELIVERED = "not_delivered"  # the broadcast was not sent to this figure (or to this message)
    NOT_OFFERED = "not_offered"  # the template does not carry this kind
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class Target:
    """A press that passed every check: whose, which broadcast and which kinds its message carries."""

    figure_id: int
    broadcast_id: int
    template: str
    template_version: str
    kinds: tuple[str, ...]
    message_id: int | None
    # What the figure held of this broadcast when the press was checked (a chat's updates are handled one at a
    # time: nothing else changes it meanwhile).
    held: Mapping[str, Held] = field(default_factory=dict)


# The statements every press runs, built once (a press must not pay for building and keying them again).
# A press reads the delivery, what its message carried, and what the figure holds of it now: one row per
# commitment held (one with NULLs when none is).
_PRESSED = (
    sa.select(
        col(Delivery.status),
        col(Delivery.message_id),
        col(Broadcast.template),
        col(Broadcast.template_version),
        col(Broadcast.commitments),
        col(Commitment.kind),
        col(Commitment.invite_count),
        col(Commitment.invite_range),
    )
    .join(Broadcast, col(Broadcast.id) == col(Delivery.broadcast_id))
    .outerjoin(
        Commitment,
        sa.and_(
            col(Commitment.figure_id) == col(Delivery.figure_id),
            col(Commitment.broadcast_id) == col(Delivery.broadcast_id),
            col(Commitment.withdrawn_at).is_(None),
        ),
    )
    .where(
        col(Delivery.broadcast_id) == sa.bindparam("broadcast_id"),
        col(Delivery.figure_id) == sa.bindparam("figure_id"),
    )
)
_HELD = sa.select(col(Commitment.kind), col(Commitment.invite_count), col(Commitment.invite_range)).where(
    col(Commitment.figure_id) == sa.bindparam("figure_id"),
    col(Commitment.broadcast_id) == sa.bindparam("broadcast_id"),
    col(Commitment.withdrawn_at).is_(None),
)
COMMITMENT_TABLE: sa.Table = Commitment.__table__  # type: ignore[attr-defined]
EVENT_TABLE: sa.Table = CommitmentEvent.__table__  # type: ignore[attr-defined]
_EVENT = sa.insert(EVENT_TABLE)
# Keyed by "is PostgreSQL": ON CONFLICT DO NOTHING is spelled by each dialect's insert.
_TAKE = {
    postgres: insert(COMMITMENT_TABLE)
    .on_conflict_do_nothing(index_elements=["figure_id", "broadcast_id", "kind"])
    .returning(col(Commitment.id))
    for postgres, insert in ((True, postgresql.insert), (False, sqlite.insert))
}

OFFERED_TTL = 30.0  # seconds a template's offered kinds are remembered (a press must not read and hash files)
_offered: dict[tuple[Path, str], tuple[float, tuple[str, ...] | None]] = {}


def offered(templates_dir: Path, template: str) -> tuple[str, ...] | None:
    """The commitment kinds TEMPLATE carries (None: no usable template), read again every OFFERED_TTL seconds."""
    key = (templates_dir, template)
    now = time.monotonic()
    cached = _offered.get(key)
    if cached is not None and now - cached[0] < OFFERED_TTL:
        return cached[1]
    info = catalog.get_template_info(templates_dir, template)
    kinds = info.commitments if info is not None else None
    if len(_offered) > 256:
        _offered.clear()
    _offered[key] = (now, kinds)
    return kinds


def check_figure(figure: Figure | None) -> Refusal | None:
    if figure is None or figure.id is None or figure.deleted_at is not None or figure.person_id is None:
        return Refusal.NOT_REGISTERED
    if not figure.messages_opt_in:
        return Refusal.OPTED_OUT
    return None


async def check_press(
    *,
    session: AsyncSession,
    templates_dir: Path,
    figure: Figure | None,
    broadcast_arg: int | None,
    kind: str | None,
    message_id: int | None,
    opted_out_may: bool = False,
) -> Target | Refusal:
    """The target of a press on a commitment button, or why it is refused. KIND None: a press that names no
    kind (keep, change the number). OPTED_OUT_MAY: a figure who stopped messages may do this (withdraw)."""
    refusal = check_figure(figure)
    if refusal is not None and not (refusal is Refusal.OPTED_OUT and opted_out_may):
        return refusal
    assert figure is not None and figure.id is not None
    broadcast_id = broadcast_arg
    if broadcast_id is None or (kind is not None and kind not in commitments.KINDS):
        return Refusal.MALFORMED
    connection = await session.connection()
    rows = (await connection.execute(_PRESSED, {"broadcast_id": broadcast_id, "figure_id": figure.id})).all()
    if not rows:
        return Refusal.NOT_DELIVERED
    status, delivered_message_id, template, template_version, recorded_kinds = rows[0][:5]
    if status not in PRESSABLE:
        return Refusal.NOT_DELIVERED
    if delivered_message_id is not None and message_id is not None and delivered_message_id != message_id:
        return Refusal.NOT_DELIVERED  # buttons of this broadcast under another message: not what was sent
    # What its messages carried when sent; the template's current metadata only for broadcasts composed before
    # that was recorded.
    kinds = tuple(recorded_kinds) if recorded_kinds is not None else offered(templates_dir, template)
    if kinds is None or (kind is not None and kind not in kinds):
        return Refusal.NOT_OFFERED
    return Target(
        figure_id=figure.id,
        broadcast_id=broadcast_id,
        template=template,
        template_version=template_version,
        kinds=kinds,
        message_id=delivered_message_id,
        held={row.kind: Held(row.invite_count, row.invite_range) for row in rows if row.kind is not None},
    )


async def held(*, session: AsyncSession, figure_id: int, broadcast_id: int) -> dict[str, Held]:
    """The figure's commitments for one broadcast that are not withdrawn, by kind."""
    connection = await session.connection()
    rows = await connection.execute(_HELD, {"figure_id": figure_id, "broadcast_id": broadcast_id})
    return {kind: Held(count, invite_range) for kind, count, invite_range in rows}


async def _current(session: AsyncSession, target: Target, kind: str) -> Commitment | None:
    return (
        await session.exec(
            select(Commitment)
            .where(
                Commitment.figure_id == target.figure_id,
                Commitment.broadcast_id == target.broadcast_id,
                Commitment.kind == kind,
            )
            .execution_options(populate_existing=True)
        )
    ).first()


async def _record_event(
    session: AsyncSession, commitment_id: int, action: str, target: Target, held: Held | None = None
) -> None:
    """One row of the append-only history (a plain INSERT: a tap must not pay for an ORM flush)."""
    values = {
        "commitment_id": commitment_id,
        "action": action,
        "invite_count": held.invite_count if held else None,
        "invite_range": held.invite_range if held else None,
        "broadcast_id": target.broadcast_id,
        "template_version": target.template_version,
        "occurred_at": utcnow(),
    }
    await (await session.connection()).execute(_EVENT, values)


class Tapped(enum.StrEnum):
    COMMITTED = "committed"  # recorded now
    REPEATED = "repeated"  # the same tap again within DOUBLE_TAP: already recorded
    HELD = "held"  # held for a while: the tap offers to withdraw it


async def tap(*, session: AsyncSession, target: Target, kind: str) -> tuple[Tapped, Held]:
    """Record KIND for the target once, and what the figure now holds of it. Two taps at the same moment insert
    the same row: ON CONFLICT DO NOTHING lets exactly one of them in; a withdrawn commitment is taken up again by
    a conditional UPDATE."""
    now = utcnow()
    values = {
        "figure_id": target.figure_id,
        "broadcast_id": target.broadcast_id,
        "kind": kind,
        "template_version": target.template_version,
        "committed_at": now,
    }
    connection = await session.connection()
    inserted = (await connection.execute(_TAKE[connection.dialect.name == "postgresql"], values)).scalar()
    if inserted is not None:
        await _record_event(session, inserted, "commit", target)
        return Tapped.COMMITTED, Held()
    commitment = await _current(session, target, kind)
    assert commitment is not None and commitment.id is not None
    if commitment.withdrawn_at is None:
        recent = commitment.committed_at >= now - DOUBLE_TAP
        return (Tapped.REPEATED if recent else Tapped.HELD), _held_of(commitment)
    taken = await session.exec(
        sa.update(Commitment)
        .where(col(Commitment.id) == commitment.id, col(Commitment.withdrawn_at).is_not(None))
        .values(
            withdrawn_at=None,
            committed_at=now,
            invite_count=None,
            invite_range=None,
            template_version=target.template_version,
        )
    )
    if taken.rowcount:
        await _record_event(session, commitment.id, "commit", target)
        return Tapped.COMMITTED, Held()  # taken up again without a number (the UPDATE above)
    commitment = await _current(session, target, kind)  # the other tap took it up a moment ago
    assert commitment is not None
    return Tapped.REPEATED, _held_of(commitment)


def _held_of(commitment: Commitment) -> Held:
    return Held(commitment.invite_count, commitment.invite_range)


def held_after_tap(target: Target, kind: str, now: Held) -> dict[str, Held]:
    """What the figure holds of the target's broadcast once KIND is held (as NOW): what the check read, and KIND."""
    return {**target.held, kind: now}


async def withdraw(*, session: AsyncSession, target: Target, kind: str) -> bool:
    """Withdraw KIND (the row stays, with withdrawn_at); False when it is not held (already withdrawn)."""
    commitment = await _current(session, target, kind)
    if commitment is None or commitment.id is None:
        return False
    done = await session.exec(
        sa.update(Commitment)
        .where(col(Commitment.id) == commitment.id, col(Commitment.withdrawn_at).is_(None))
        .values(withdrawn_at=utcnow())
    )
    if not done.rowcount:
        return False
    await _record_event(
        session, commitment.id, "withdraw", target, Held(commitment.invite_count, commitment.invite_range)
    )
    return True


async def set_invite_count(*, session: AsyncSession, target: Target, held: Held) -> bool:
    """How many people the figure will invite (a typed number, or a range and its lower end); False when the
    invite is not held (withdrawn, never made)."""
    count = held.invite_count
    if count is None or not 1 <= count <= commitments.MAX_INVITE:
        raise ValueError(f"invite count out of range: {count}")
    if held.invite_range is not None and commitments.INVITE_RANGES.get(held.invite_range, ("", -1))[1] != count:
        raise ValueError(f"invite range {held.invite_range!r} does not start at {count}")
    commitment = await _current(session, target, CommitmentKind.INVITE)
    if commitment is None or commitment.id is None or commitment.withdrawn_at is not None:
        return False
    if commitment.invite_count == count and commitment.invite_range == held.invite_range:
        return True
    done = await session.exec(
        sa.update(Commitment)
        .where(col(Commitment.id) == commitment.id, col(Commitment.withdrawn_at).is_(None))
        .values(invite_count=count, invite_range=held.invite_range)
    )
    if not done.rowcount:
        return False
    await _record_event(session, commitment.id, "count", target, held)
    return True


async def listed(*, session: AsyncSession, figure_id: int, limit: int = 30) -> tuple[list[Listed], int]:
    """The figure's newest LIMIT commitments not withdrawn, with the template of the message that prompted each,
    and how many the figure holds in all."""
    held_now = (Commitment.figure_id == figure_id, col(Commitment.withdrawn_at).is_(None))
    total = (await session.exec(select(sa.func.count()).select_from(Commitment).where(*held_now))).one()
    rows = await session.exec(
        select(Commitment, Broadcast)
        .join(Broadcast, col(Broadcast.id) == col(Commitment.broadcast_id))
        .where(*held_now)
        .order_by(col(Commitment.committed_at).desc(), col(Commitment.id).desc())
        .limit(limit)
    )
    listed = [
        Listed(
            kind=commitment.kind,
            invite_count=commitment.invite_count,
            invite_range=commitment.invite_range,
            committed_at=commitment.committed_at,
            template=broadcast.template,
        )
        for commitment, broadcast in rows
    ]
    return listed, int(total)


async def history_of(*, session: AsyncSession, figure_id: int) -> list[dict[str, object]]:
    """Every commitment of the figure with its history, for /dataku (withdrawn ones included)."""
    commitments_rows = (
        await session.exec(select(Commitment).where(Commitment.figure_id == figure_id).order_by(col(Commitment.id)))
    ).all()
    ids = [row.id for row in commitments_rows]
    events: dict[int, list[CommitmentEvent]] = {}
    if ids:
        found = await session.exec(
            select(CommitmentEvent).where(col(CommitmentEvent.commitment_id).in_(ids)).order_by(col(CommitmentEvent.id))
        )
        for event in found:
            events.setdefault(event.commitment_id, []).append(event)
    return [
        {
            "kind": row.kind,
            "invite_count": row.invite_count,
            "invite_range": row.invite_range,
            "broadcast": row.broadcast_id,
            "committed_at": row.committed_at.isoformat(),
            "withdrawn_at": row.withdrawn_at.isoformat() if row.withdrawn_at else None,
            "history": [
                {
                    "action": event.action,
                    "at": event.occurred_at.isoformat(),
                    "invite_count": event.invite_count,
                    "invite_range": event.invite_range,
                }
                for event in events.get(row.id or 0, [])
            ],
        }
        for row in commitments_rows
    ]


async def blur_times_of(
    *, session: AsyncSession, figure_ids: Sequence[int], to_day: Callable[[dt.datetime | None], dt.datetime | None]
) -> None:
    """Cut the times of these figures' commitments and their history to the day (TO_DAY), when their data is
    erased: the counts stay for reports, the minute that could single someone out does not."""
    if not figure_ids:
        return
    rows = (await session.exec(select(Commitment).where(col(Commitment.figure_id).in_(list(figure_ids))))).all()
    for row in rows:
        row.committed_at = to_day(row.committed_at) or row.committed_at
        row.withdrawn_at = to_day(row.withdrawn_at)
        session.add(row)
    ids = [row.id for row in rows if row.id is not None]
    for start in range(0, len(ids), 500):
        events = await session.exec(
            select(CommitmentEvent).where(col(CommitmentEvent.commitment_id).in_(ids[start : start + 500]))
        )
        for event in events:
            event.occurred_at = to_day(event.occurred_at) or event.occurred_at
            session.add(event)
    await session.flush()
