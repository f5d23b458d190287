"""Commitments: every press checked against the database, recorded once (the unique constraint decides between
two taps at the same moment), withdrawn and counted, each change written to the append-only history.

Nothing here trusts what a button carries: the broadcast must have been delivered to this figure, the kind must
be one the broadcast's template offers, and the figure must be registered and receiving messages.
"""

from __future__ import annotations

import datetime as dt
import enum
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
    delivery = (
        await session.exec(
            select(Delivery).where(Delivery.broadcast_id == broadcast_id, Delivery.figure_id == figure.id)
        )
    ).first()
    if delivery is None or delivery.status not in PRESSABLE:
        return Refusal.NOT_DELIVERED
    if delivery.message_id is not None and message_id is not None and delivery.message_id != message_id:
        return Refusal.NOT_DELIVERED  # buttons of this broadcast under another message: not what was sent
    broadcast = await session.get(Broadcast, broadcast_id)
    kinds: tuple[str, ...] | None = None
    if broadcast is not None:
        # What its messages carried when sent; the template's current metadata only for broadcasts composed
        # before that was recorded.
        kinds = (
            tuple(broadcast.commitments)
            if broadcast.commitments is not None
            else offered(templates_dir, broadcast.template)
        )
    if broadcast is None or kinds is None:
        return Refusal.NOT_OFFERED
    if kind is not None and kind not in kinds:
        return Refusal.NOT_OFFERED
    return Target(
        figure_id=figure.id,
        broadcast_id=broadcast_id,
        template=broadcast.template,
        template_version=broadcast.template_version,
        kinds=kinds,
        message_id=delivery.message_id,
    )


async def held(*, session: AsyncSession, figure_id: int, broadcast_id: int) -> dict[str, Held]:
    """The figure's commitments for one broadcast that are not withdrawn, by kind."""
    rows = await session.exec(
        select(Commitment).where(
            Commitment.figure_id == figure_id,
            Commitment.broadcast_id == broadcast_id,
            col(Commitment.withdrawn_at).is_(None),
        )
    )
    return {row.kind: Held(row.invite_count, row.invite_range) for row in rows}


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


def _event(commitment_id: int, action: str, target: Target, held: Held | None = None) -> CommitmentEvent:
    return CommitmentEvent(
        commitment_id=commitment_id,
        action=action,
        invite_count=held.invite_count if held else None,
        invite_range=held.invite_range if held else None,
        broadcast_id=target.broadcast_id,
        template_version=target.template_version,
    )


class Tapped(enum.StrEnum):
    COMMITTED = "committed"  # recorded now
    REPEATED = "repeated"  # the same tap again within DOUBLE_TAP: already recorded
    HELD = "held"  # held for a while: the tap offers to withdraw it


async def tap(*, session: AsyncSession, target: Target, kind: str) -> tuple[Tapped, Commitment]:
    """Record KIND for the target once. Two taps at the same moment insert the same row: ON CONFLICT DO NOTHING
    lets exactly one of them in; a withdrawn commitment is taken up again by a conditional UPDATE."""
    now = utcnow()
    values = {
        "figure_id": target.figure_id,
        "broadcast_id": target.broadcast_id,
        "kind": kind,
        "template_version": target.template_version,
        "committed_at": now,
    }
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert(Commitment) if dialect == "postgresql" else sqlite.insert(Commitment)
    result = await session.exec(
        insert.values(**values)  # type: ignore[call-overload]
        .on_conflict_do_nothing(index_elements=["figure_id", "broadcast_id", "kind"])
        .returning(Commitment.id)
    )
    inserted = result.first()
    if inserted is not None:
        session.add(_event(int(inserted[0]), "commit", target))
        await session.flush()
        made = Commitment(
            id=int(inserted[0]),
            figure_id=target.figure_id,
            broadcast_id=target.broadcast_id,
            kind=kind,
            template_version=target.template_version,
            committed_at=now,
        )
        return Tapped.COMMITTED, made
    commitment = await _current(session, target, kind)
    assert commitment is not None and commitment.id is not None
    if commitment.withdrawn_at is None:
        recent = commitment.committed_at >= now - DOUBLE_TAP
        return (Tapped.REPEATED if recent else Tapped.HELD), commitment
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
        session.add(_event(commitment.id, "commit", target))
        await session.flush()
        commitment = await _current(session, target, kind)
        assert commitment is not None
        return Tapped.COMMITTED, commitment
    commitment = await _current(session, target, kind)  # the other tap took it up a moment ago
    assert commitment is not None
    return Tapped.REPEATED, commitment


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
    session.add(_event(commitment.id, "withdraw", target, Held(commitment.invite_count, commitment.invite_range)))
    await session.flush()
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
    session.add(_event(commitment.id, "count", target, held))
    await session.flush()
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
