"""Delivery rows and broadcast leases: every SQL statement the delivery engine runs, as data functions."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import catalog
from bot.config import Settings
from bot.services import audit, broadcasts, quiet, roles
from bot.services.figures import broadcast_eligible
from models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus, Figure, Person, Role, utcnow

logger = logging.getLogger(__name__)

# Core table for the batched executemany update (the ORM's bulk update wants primary keys by name).
DELIVERY_TABLE: sa.Table = Delivery.__table__  # type: ignore[attr-defined]
LEASE_SECONDS = 10.0  # an engine silent this long has died: another may take its broadcast over


@dataclass(frozen=True, slots=True)
class Recipient:
    """One pending delivery with what rendering and sending need; `eligible` comes from broadcast_eligible()."""

    delivery_id: int
    attempts: int
    figure_id: int
    chat_id: int | None
    name: str | None
    category: str
    region_code: str
    # The language the figure chose (None: the office default).
    locale: str | None
    eligible: bool


@dataclass(slots=True)
class Outcome:
    """The answer to one delivery, kept in memory until it is written."""

    delivery_id: int
    status: DeliveryStatus
    attempts: int
    message_id: int | None = None
    error: str | None = None
    unreachable_figure: int | None = None


# ----------------------------------------------------------------------------------------- the lease


def free(worker: str, now: dt.datetime) -> ColumnElement[bool]:
    """Broadcasts nobody else is working on: no worker, WORKER itself, or a worker silent for too long."""
    return sa.or_(
        col(Broadcast.worker).is_(None),
        col(Broadcast.worker) == worker,
        col(Broadcast.worker_seen_at) < now - dt.timedelta(seconds=LEASE_SECONDS),
    )


async def next_running(*, session: AsyncSession, worker: str, now: dt.datetime) -> Broadcast | None:
    """The oldest running broadcast WORKER may take."""
    query = (
        select(Broadcast)
        .where(Broadcast.status == BroadcastStatus.RUNNING, free(worker, now))
        .order_by(col(Broadcast.id))
    )
    return (await session.exec(query)).first()


async def next_scheduled(*, session: AsyncSession, worker: str, now: dt.datetime) -> Broadcast | None:
    """The scheduled broadcast due first that WORKER may take."""
    query = (
        select(Broadcast)
        .where(Broadcast.status == BroadcastStatus.SCHEDULED, col(Broadcast.scheduled_at) <= now, free(worker, now))
        .order_by(col(Broadcast.scheduled_at))
    )
    return (await session.exec(query)).first()


async def take(*, session: AsyncSession, broadcast: Broadcast, worker: str) -> bool:
    """Take BROADCAST for WORKER (committed); a previous worker's rows still `sending` become uncertain."""
    now = utcnow()
    previous = broadcast.worker
    # End the read first: in SQLite a read transaction cannot become a write once others have written.
    await session.commit()
    connection = await session.connection()
    taken = await connection.execute(
        sa.update(Broadcast)
        .where(col(Broadcast.id) == broadcast.id, free(worker, now))
        .values(worker=worker, worker_seen_at=now)
    )
    if taken.rowcount != 1:
        await session.rollback()
        return False
    if previous != worker:
        # Whoever marked these died before recording an outcome: the message may or may not have gone.
        recovered = await connection.execute(
            sa.update(Delivery)
            .where(col(Delivery.broadcast_id) == broadcast.id, col(Delivery.status) == DeliveryStatus.SENDING)
            .values(status=DeliveryStatus.UNCERTAIN, error="outcome unknown after a restart", updated_at=now)
        )
        if recovered.rowcount:
            logger.warning(
                "broadcast %s: %d deliveries were in flight when the bot stopped: marked uncertain",
                broadcast.id,
                recovered.rowcount,
            )
    await session.commit()
    await session.refresh(broadcast)
    return True


async def renew_lease(*, session: AsyncSession, broadcast_id: int, worker: str) -> Broadcast | None:
    """Renew WORKER's lease and read the broadcast; None when another engine holds it now."""
    connection = await session.connection()
    renewed = await connection.execute(
        sa.update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, col(Broadcast.worker) == worker)
        .values(worker_seen_at=utcnow())
    )
    broadcast = await session.get(Broadcast, broadcast_id, populate_existing=True)
    return broadcast if renewed.rowcount == 1 else None


async def release(*, session: AsyncSession, broadcast_id: int, worker: str) -> None:
    connection = await session.connection()
    await connection.execute(
        sa.update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, col(Broadcast.worker) == worker)
        .values(worker=None, worker_seen_at=None)
    )


async def pause(*, session: AsyncSession, broadcast: Broadcast, reason: str) -> bool:
    """Pause for a reason of the engine's own (quiet period, changed template or role): the system paused it.

    Only a broadcast still running is paused: a cancel or a person's pause that came meanwhile stands (and
    keeps who paused it). False when it was no longer running; BROADCAST then holds its current state.
    """
    paused = await session.exec(
        sa.update(Broadcast)
        .where(col(Broadcast.id) == broadcast.id, col(Broadcast.status) == BroadcastStatus.RUNNING)
        .values(
            status=BroadcastStatus.PAUSED,
            pause_reason=reason,
            paused_by=None,
            paused_rank=broadcasts.SYSTEM_RANK,
            worker=None,
            worker_seen_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if paused.rowcount == 1:
        await audit.record(
            session=session, action="broadcast.pause", actor_person_id=None, broadcast=broadcast.id, reason=reason
        )
    await session.flush()
    await session.refresh(broadcast)
    return bool(paused.rowcount == 1)


async def start_scheduled(*, session: AsyncSession, broadcast: Broadcast, postpone_to: dt.datetime | None) -> bool:
    """A due scheduled broadcast starts running, or (in a quiet period) waits until POSTPONE_TO (the period's
    release); only while it is still scheduled, so that a cancel or a pause that came meanwhile stands. False
    when it was not."""
    values: dict[str, Any] = (
        {"scheduled_at": postpone_to, "worker": None, "worker_seen_at": None}
        if postpone_to is not None
        else {"status": BroadcastStatus.RUNNING}
    )
    changed = await session.exec(
        sa.update(Broadcast)
        .where(col(Broadcast.id) == broadcast.id, col(Broadcast.status) == BroadcastStatus.SCHEDULED)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    await session.refresh(broadcast)
    return bool(changed.rowcount == 1)


async def reason_to_pause(*, session: AsyncSession, broadcast: Broadcast, settings: Settings) -> str | None:
    """Why BROADCAST may not go on now: a quiet period, its template edited since composing, or its owner no
    longer holding the role and regions it was composed under (checked when a pass starts and every second)."""
    if quiet.period_at(settings, utcnow()) is not None:
        return "quiet"
    info = catalog.get_template_info(settings.templates.dir, broadcast.template)
    if info is None or info.version != broadcast.template_version:
        return "template_changed"
    owner = await session.get(Person, broadcast.created_by) if broadcast.created_by else None
    if owner is None:
        return "role_changed"
    authority = await roles.authority_of(
        session=session, person=owner, bootstrap_admins=settings.roles.bootstrap_admins
    )
    scope = broadcast.segment.get("scope", [])
    if scope == ["*"]:
        allowed = authority.role is Role.ADMIN
    else:
        allowed = authority.at_least(Role.ORGANIZER) and all(authority.covers(code) for code in scope)
    return None if allowed else "role_changed"


# ----------------------------------------------------------------------------------------- delivery rows


async def pending(*, session: AsyncSession, broadcast_id: int, after: int, limit: int) -> list[Recipient]:
    """Up to LIMIT pending deliveries of BROADCAST_ID after delivery id AFTER, in order."""
    result = await session.exec(
        select(  # type: ignore[call-overload, misc]
            Delivery.id,
            Delivery.attempts,
            Figure.id,
            Person.telegram_id,
            Figure.full_name,
            Figure.category,
            Figure.region_code,
            Person.locale,
            # The same rule that counted the recipients when composing: whoever stopped messages, deleted
            # their data or blocked the bot since then is skipped.
            broadcast_eligible().label("eligible"),
        )
        .join(Figure, col(Figure.id) == col(Delivery.figure_id))
        .outerjoin(Person, col(Person.id) == col(Figure.person_id))
        .where(
            col(Delivery.broadcast_id) == broadcast_id,
            col(Delivery.status) == DeliveryStatus.PENDING,
            col(Delivery.id) > after,
        )
        .order_by(col(Delivery.id))
        .limit(limit)
    )
    return [
        Recipient(
            delivery_id=row[0],
            attempts=row[1],
            figure_id=row[2],
            chat_id=row[3],
            name=row[4],
            category=row[5],
            region_code=row[6],
            locale=row[7],
            eligible=bool(row[8]),
        )
        for row in result.all()
    ]


async def skip(*, session: AsyncSession, delivery_ids: Collection[int]) -> None:
    """Recipients who stopped messages or deleted their data after the broadcast was composed."""
    if not delivery_ids:
        return
    connection = await session.connection()
    await connection.execute(
        sa.update(Delivery)
        .where(col(Delivery.id).in_(list(delivery_ids)), col(Delivery.status) == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SKIPPED, error="opted out or deleted before sending", updated_at=utcnow())
    )


async def mark_sending(
    *, session: AsyncSession, delivery_ids: Collection[int], outcomes: Sequence[Outcome] = ()
) -> set[int]:
    """Write OUTCOMES, then mark DELIVERY_IDS `sending` (only rows still pending); the ids marked.

    One transaction for both: whatever was answered before this burst is on disk before the burst can be
    in flight, so after a crash only requests truly in flight are uncertain.
    """
    await record_outcomes(session=session, outcomes=outcomes)
    connection = await session.connection()
    result = await connection.execute(
        sa.update(Delivery)
        .where(col(Delivery.id).in_(list(delivery_ids)), col(Delivery.status) == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SENDING, attempts=col(Delivery.attempts) + 1, updated_at=utcnow())
        .returning(col(Delivery.id))
    )
    return {row[0] for row in result.all() if row[0] is not None}


async def unmark_sending(*, session: AsyncSession, delivery_ids: Collection[int]) -> None:
    """Rows marked `sending` whose requests provably never went out (the mark's commit failed): pending again."""
    if not delivery_ids:
        return
    connection = await session.connection()
    await connection.execute(
        sa.update(Delivery)
        .where(col(Delivery.id).in_(list(delivery_ids)), col(Delivery.status) == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.PENDING, attempts=col(Delivery.attempts) - 1, updated_at=utcnow())
    )


async def record_outcomes(*, session: AsyncSession, outcomes: Sequence[Outcome]) -> None:
    """Write OUTCOMES in one batched statement; figures that blocked the bot become unreachable."""
    if not outcomes:
        return
    now = utcnow()
    connection = await session.connection()
    await connection.execute(
        sa.update(DELIVERY_TABLE)
        .where(DELIVERY_TABLE.c.id == sa.bindparam("delivery_id"))
        .values(
            status=sa.bindparam("new_status"),
            attempts=sa.bindparam("new_attempts"),
            message_id=sa.bindparam("new_message_id"),
            error=sa.bindparam("new_error"),
            updated_at=now,
        ),
        [
            {
                "delivery_id": o.delivery_id,
                "new_status": o.status.value,
                "new_attempts": o.attempts,
                "new_message_id": o.message_id,
                "new_error": o.error,
            }
            for o in outcomes
        ],
    )
    unreachable = [o.unreachable_figure for o in outcomes if o.unreachable_figure is not None]
    if unreachable:
        await connection.execute(
            sa.update(Figure)
            .where(col(Figure.id).in_(unreachable), col(Figure.unreachable_since).is_(None))
            .values(unreachable_since=now)
        )


async def finish(*, session: AsyncSession, broadcast_id: int) -> dict[str, int] | None:
    """Close a running broadcast with nothing left open; its counts, or None while deliveries are still open."""
    counts = await broadcasts.outcome_counts(session=session, broadcast_id=broadcast_id)
    if counts[DeliveryStatus.PENDING] or counts[DeliveryStatus.SENDING]:
        return None
    connection = await session.connection()
    # Only a broadcast still running becomes done: a cancel or pause that came meanwhile stands.
    closed = await connection.execute(
        sa.update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, col(Broadcast.status) == BroadcastStatus.RUNNING)
        .values(status=BroadcastStatus.DONE, finished_at=utcnow())
    )
    if closed.rowcount == 1:
        await audit.record(
            session=session,
            action="broadcast.finish",
            actor_person_id=None,
            broadcast=broadcast_id,
            counts={k: v for k, v in counts.items() if v},
        )
    return counts


async def close_cancelled(*, session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    """A cancelled broadcast: what was still pending is skipped; the final counts are audited and returned."""
    connection = await session.connection()
    await connection.execute(
        sa.update(Delivery)
        .where(col(Delivery.broadcast_id) == broadcast_id, col(Delivery.status) == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SKIPPED, error="cancelled", updated_at=utcnow())
    )
    counts = await broadcasts.outcome_counts(session=session, broadcast_id=broadcast_id)
    await audit.record(
        session=session,
        action="broadcast.finish",
        actor_person_id=None,
        broadcast=broadcast_id,
        status=BroadcastStatus.CANCELLED.value,
        counts={k: v for k, v in counts.items() if v},
    )
    return counts
