"""Figures' replies: storing what a figure writes outside a conversation (capped per day), listing the unread
ones in an organizer's scope, marking them read and storing an organizer's answer. Every query that reads or
changes a reply for an organizer carries the scope condition in its SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit
from bot.services.roles import Authority
from models import Broadcast, Delivery, Figure, Person, Reply, ReplyKind, Role, utcnow

PAGE_SIZE = 5


@dataclass(frozen=True, slots=True)
class Incoming:
    """What a figure sent, as the handler read it from the message."""

    kind: ReplyKind
    text: str | None
    file_id: str | None
    telegram_message_id: int | None
    reply_to_message_id: int | None


@dataclass(frozen=True, slots=True)
class Listed:
    """One unread reply with what the organizer needs to see about its sender."""

    reply: Reply
    figure: Figure
    broadcast: Broadcast | None


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Listed]
    page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def scope_condition(authority: Authority) -> ColumnElement[bool]:
    """Figures whose region AUTHORITY covers: everyone for an admin, nobody for someone without a role."""
    if authority.role is Role.ADMIN:
        return sa.true()
    if authority.role is not Role.ORGANIZER or not authority.scopes:
        return sa.false()
    region = col(Figure.region_code)
    return sa.or_(*(sa.or_(region == code, region.like(code + ".%")) for code in authority.scopes))


def day_start(now: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """Midnight of NOW's day in TZ (the figure's own zone), in UTC: the daily cap starts again then."""
    local = now.astimezone(tz)
    return dt.datetime.combine(local.date(), dt.time(), tzinfo=tz).astimezone(dt.UTC)


async def count_today(*, session: AsyncSession, figure: Figure, tz: dt.tzinfo, now: dt.datetime | None = None) -> int:
    since = day_start(now or utcnow(), tz)
    result = await session.exec(
        select(func.count()).select_from(Reply).where(Reply.figure_id == figure.id, col(Reply.received_at) >= since)
    )
    return int(result.one())


async def broadcast_answered(*, session: AsyncSession, figure: Figure, message_id: int | None) -> int | None:
    """The broadcast whose message (MESSAGE_ID in the figure's chat) the figure replied to, if it was one."""
    if message_id is None:
        return None
    result = await session.exec(
        select(Delivery.broadcast_id).where(Delivery.figure_id == figure.id, Delivery.message_id == message_id)
    )
    return result.first()


async def store(
    *, session: AsyncSession, figure: Figure, incoming: Incoming, per_day: int, tz: dt.tzinfo
) -> Reply | None:
    """Store what the figure sent as a reply; None (nothing stored) when they reached today's cap. The updates of
    one chat are handled one after another, so counting and then adding cannot overshoot the cap."""
    assert figure.id is not None
    if await count_today(session=session, figure=figure, tz=tz) >= per_day:
        return None
    reply = Reply(
        figure_id=figure.id,
        broadcast_id=await broadcast_answered(session=session, figure=figure, message_id=incoming.reply_to_message_id),
        kind=incoming.kind,
        text=incoming.text[:4096] if incoming.text else None,
        file_id=incoming.file_id[:256] if incoming.file_id else None,
        telegram_message_id=incoming.telegram_message_id,
    )
    session.add(reply)
    await session.flush()
    return reply


def _unread_in(authority: Authority) -> ColumnElement[bool]:
    return sa.and_(col(Reply.read_at).is_(None), col(Figure.deleted_at).is_(None), scope_condition(authority))


async def unread_page(*, session: AsyncSession, authority: Authority, page: int) -> Page:
    """Unread replies in AUTHORITY's scope, newest first, PAGE (0-based) of them; a page past the end shows the
    last one."""
    joined = select(func.count()).select_from(Reply).join(Figure, col(Figure.id) == col(Reply.figure_id))
    total = int((await session.exec(joined.where(_unread_in(authority)))).one())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    result = await session.exec(
        select(Reply, Figure, Broadcast)
        .join(Figure, col(Figure.id) == col(Reply.figure_id))
        .outerjoin(Broadcast, col(Broadcast.id) == col(Reply.broadcast_id))
        .where(_unread_in(authority))
        .order_by(col(Reply.received_at).desc(), col(Reply.id).desc())
        .offset(page * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    items = [Listed(reply=reply, figure=figure, broadcast=broadcast) for reply, figure, broadcast in result.all()]
    return Page(items=items, page=page, total=total)


async def in_scope(*, session: AsyncSession, authority: Authority, reply_id: int) -> Listed | None:
    """The reply REPLY_ID when AUTHORITY may see it (its figure is in scope and has not deleted their data)."""
    result = await session.exec(
        select(Reply, Figure, Broadcast)
        .join(Figure, col(Figure.id) == col(Reply.figure_id))
        .outerjoin(Broadcast, col(Broadcast.id) == col(Reply.broadcast_id))
        .where(col(Reply.id) == reply_id, col(Figure.deleted_at).is_(None), scope_condition(authority))
    )
    row = result.first()
    return Listed(reply=row[0], figure=row[1], broadcast=row[2]) if row else None


async def mark_read(*, session: AsyncSession, authority: Authority, actor: Person, reply_id: int) -> bool:
    """Mark REPLY_ID read, when it is in AUTHORITY's scope and still unread; whether it changed."""
    in_scope_ids = (
        select(Reply.id)
        .join(Figure, col(Figure.id) == col(Reply.figure_id))
        .where(col(Reply.id) == reply_id, scope_condition(authority))
    )
    result = await session.exec(
        sa.update(Reply)
        .where(col(Reply.id).in_(in_scope_ids), col(Reply.read_at).is_(None))
        .values(read_at=utcnow(), read_by=actor.id)
    )
    return bool(result.rowcount)


async def save_answer(*, session: AsyncSession, reply: Reply, actor: Person, text: str) -> None:
    """Store the organizer's answer (already sent to the figure) with the reply, mark it read, audit it."""
    now = utcnow()
    reply.answer_text = text
    reply.answered_at = now
    reply.answered_by = actor.id
    if reply.read_at is None:
        reply.read_at = now
        reply.read_by = actor.id
    session.add(reply)
    figure = await session.get(Figure, reply.figure_id)
    await audit.record(
        session=session,
        action="reply.answer",
        actor_person_id=actor.id,
        subject_person_id=figure.person_id if figure else None,
        reply=reply.id,
        figure=reply.figure_id,
    )
    await session.flush()


async def of_figure(*, session: AsyncSession, figure: Figure) -> list[Reply]:
    result = await session.exec(select(Reply).where(Reply.figure_id == figure.id).order_by(col(Reply.id)))
    return list(result.all())


async def delete_of_figures(*, session: AsyncSession, figure_ids: Sequence[int]) -> int:
    """Delete every reply of these figures (with the officers' answers): part of erasing their personal data."""
    if not figure_ids:
        return 0
    result = await session.exec(sa.delete(Reply).where(col(Reply.figure_id).in_(list(figure_ids))))
    return int(result.rowcount or 0)
