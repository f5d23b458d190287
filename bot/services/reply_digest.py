"""Which organizers (and admins) are due a digest of new replies in their scope: at most one every
DIGEST_INTERVAL per person, each reply counted in one digest only. The mark (ReplyDigest) is written and
committed before the digest goes out, so neither a second run nor a restart sends it twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import roles
from bot.services.replies import scope_condition
from bot.services.roles import Authority
from models import Figure, Person, Reply, ReplyDigest, Role, utcnow

DIGEST_INTERVAL = dt.timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Reader:
    """Someone who reads replies: their person row and what they cover."""

    person: Person
    authority: Authority


@dataclass(frozen=True, slots=True)
class Due:
    person_id: int
    chat_id: int
    locale: str | None
    count: int


async def readers(*, session: AsyncSession, bootstrap_admins: Collection[int]) -> list[Reader]:
    """Everyone with a role (in the database or as a bootstrap admin who has written to the bot)."""
    found = {
        holder.person.id: Reader(holder.person, Authority(role=holder.role, scopes=holder.scopes))
        for holder in await roles.role_holders(session=session)
    }
    if bootstrap_admins:
        result = await session.exec(select(Person).where(col(Person.telegram_id).in_(list(bootstrap_admins))))
        for person in result.all():
            found[person.id] = Reader(person, Authority(role=Role.ADMIN, bootstrap=True))
    return [reader for reader in found.values() if reader.person.telegram_id is not None]


async def claim(*, session: AsyncSession, reader: Reader, now: dt.datetime | None = None) -> Due | None:
    """Mark READER told of the new unread replies in their scope and say how many, when they are due a digest:
    there are replies newer than the last one counted, and the last digest is at least DIGEST_INTERVAL old."""
    person = reader.person
    assert person.id is not None and person.telegram_id is not None
    now = now or utcnow()
    mark = await session.get(ReplyDigest, person.id)
    if mark is not None and mark.last_sent_at > now - DIGEST_INTERVAL:
        return None
    after = mark.last_reply_id if mark is not None else 0
    result = await session.exec(
        select(func.count(), func.max(Reply.id))
        .select_from(Reply)
        .join(Figure, col(Figure.id) == col(Reply.figure_id))
        .where(
            col(Reply.id) > after,
            col(Reply.read_at).is_(None),
            col(Figure.deleted_at).is_(None),
            scope_condition(reader.authority),
        )
    )
    count, newest = result.one()
    if not count or newest is None:
        return None
    if mark is None:
        try:
            async with session.begin_nested():
                session.add(ReplyDigest(person_id=person.id, last_sent_at=now, last_reply_id=int(newest)))
        except IntegrityError:
            return None  # another run marked them first
    else:
        # Compare-and-swap on what was read: a concurrent run that marked them first wins.
        changed = await session.exec(
            sa.update(ReplyDigest)
            .where(col(ReplyDigest.person_id) == person.id, col(ReplyDigest.last_reply_id) == after)
            .values(last_sent_at=now, last_reply_id=int(newest))
        )
        if not changed.rowcount:
            return None
    await session.flush()
    return Due(person_id=person.id, chat_id=person.telegram_id, locale=person.locale, count=int(count))
