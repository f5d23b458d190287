"""Reading the audit log (bot/services/audit.py writes it): /audit's pages, filtered by a group of actions, with
who acted, and `rangkul audit`'s entries by action prefix and dates, streamed in batches."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import and_, col, func, or_, select, true
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import roles
from models import AuditEvent, Person, Role

PER_PAGE = 8
# The filters /audit offers, each a group of action prefixes (the exports write "export.figures", "export.…").
GROUPS: dict[str, tuple[str, ...]] = {
    "role": ("role.",),
    "bc": ("broadcast.",),
    "exp": ("export.",),
    "reply": ("reply.",),
    "fig": ("figure.", "person."),
    "ret": ("retention.",),
    "inv": ("invitation.",),
}
ALL = "all"
STREAM_BATCH = 1000


def group_condition(group: str) -> ColumnElement[bool]:
    """SQL for the actions of GROUP (ALL, or an unknown group: every action)."""
    prefixes = GROUPS.get(group)
    if not prefixes:
        return true()
    return or_(*(col(AuditEvent.action).startswith(prefix, autoescape=True) for prefix in prefixes))


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted (or whom it was about), as the admin reading /audit sees them now."""

    person_id: int
    # The Telegram name; None once the person deleted their data (or a purge did).
    name: str | None
    role: Role


@dataclass(frozen=True, slots=True)
class Entry:
    event: AuditEvent
    actor: Actor | None  # None: the system (the delivery engine, a job, the command line)
    subject: Actor | None


@dataclass(frozen=True, slots=True)
class Page:
    entries: list[Entry]
    group: str
    page: int
    pages: int
    total: int
    per_page: int = PER_PAGE


async def _actors(
    *, session: AsyncSession, ids: Collection[int], bootstrap_admins: Collection[int]
) -> dict[int, Actor]:
    if not ids:
        return {}
    result = await session.exec(select(Person).where(col(Person.id).in_(list(ids))))
    actors = {}
    for person in result.all():
        assert person.id is not None
        authority = await roles.authority_of(session=session, person=person, bootstrap_admins=bootstrap_admins)
        actors[person.id] = Actor(person.id, person.first_name or person.username, authority.role)
    return actors


async def page(
    *,
    session: AsyncSession,
    group: str = ALL,
    number: int = 0,
    bootstrap_admins: Collection[int] = (),
    per_page: int = PER_PAGE,
) -> Page:
    """Page NUMBER (0 = the newest) of the entries of GROUP, newest first; a page past the end gives the last."""
    group = group if group in GROUPS else ALL
    condition = group_condition(group)
    total = int((await session.exec(select(func.count()).select_from(AuditEvent).where(condition))).one())
    pages = max(1, -(-total // per_page))
    number = min(max(number, 0), pages - 1)
    result = await session.exec(
        select(AuditEvent)
        .where(condition)
        .order_by(col(AuditEvent.id).desc())
        .offset(number * per_page)
        .limit(per_page)
    )
    events = list(result.all())
    ids = {i for e in events for i in (e.actor_person_id, e.subject_person_id) if i is not None}
    actors = await _actors(session=session, ids=ids, bootstrap_admins=bootstrap_admins)
    entries = [
        Entry(
            event,
            actors.get(event.actor_person_id) if event.actor_person_id is not None else None,
            actors.get(event.subject_person_id) if event.subject_person_id is not None else None,
        )
        for event in events
    ]
    return Page(entries=entries, group=group, page=number, pages=pages, total=total, per_page=per_page)


async def entries(
    *,
    session: AsyncSession,
    action_prefix: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int | None = None,
) -> AsyncIterator[AuditEvent]:
    """The entries newest first: of actions starting with ACTION_PREFIX, at or after SINCE and before UNTIL, at
    most LIMIT (None: all), read STREAM_BATCH at a time so that a long log never sits in memory whole."""
    conditions = []
    if action_prefix:
        conditions.append(col(AuditEvent.action).startswith(action_prefix, autoescape=True))
    if since is not None:
        conditions.append(col(AuditEvent.occurred_at) >= since)
    if until is not None:
        conditions.append(col(AuditEvent.occurred_at) < until)
    before: int | None = None
    left = limit
    while left is None or left > 0:
        query = select(AuditEvent).where(and_(true(), *conditions))
        if before is not None:
            query = query.where(col(AuditEvent.id) < before)
        size = STREAM_BATCH if left is None else min(STREAM_BATCH, left)
        batch = list((await session.exec(query.order_by(col(AuditEvent.id).desc()).limit(size))).all())
        for event in batch:
            yield event
        session.expunge_all()  # written out by now: a long log does not pile up in the session
        if len(batch) < size:
            return
        before = batch[-1].id
        if left is not None:
            left -= len(batch)
