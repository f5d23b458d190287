"""The retention promise (privacy.retention_until): where today stands against the date, who is reminded before
it, and the purge that erases every figure's personal data once it has passed.

The purge erases exactly what /hapusdata erases (bot/services/figures.py's erase_figures and forget_people), in
batches committed one by one, so that 100,000 figures never hold one giant transaction or SQLite's write lock for
long. Sending the reminders is the delivery side's (bot/delivery/retention.py); this module reads and writes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import db
from bot.config import Settings
from bot.services import audit, figures, roles
from bot.services.registration import EDIT, REGISTER
from models import ConversationState, Figure, Person, RetentionReminder, Role, RoleGrant, utcnow

# The admins are reminded, and the figures start being told, this many days before the date.
REMINDER_DAYS = 14
# Figures erased per transaction: each batch is a handful of statements and a commit (tens of milliseconds).
PURGE_BATCH = 500
# Between batches the write lock is free for the bot's own updates and the delivery engine.
PURGE_PAUSE_SECONDS = 0.05
REMINDER_ACTION = "retention.reminder"
# The conversations that hold a figure's answers.
REGISTRATION_FLOWS = (REGISTER, EDIT)
PURGE_ACTION = "retention.purge"


class Phase(enum.StrEnum):
    NO_DATE = "no_date"  # privacy.retention_until is empty: nothing expires
    KEPT = "kept"  # more than REMINDER_DAYS before the date
    REMINDING = "reminding"  # within REMINDER_DAYS of the date, the date itself included
    PASSED = "passed"  # the date has passed: personal data goes


def today(settings: Settings, now: dt.datetime | None = None) -> dt.date:
    """Today in the office's zone (locale.timezone), the calendar the retention date is written in."""
    return (now or utcnow()).astimezone(settings.tz).date()


def phase(settings: Settings, on: dt.date) -> Phase:
    """Where ON stands against privacy.retention_until: data is kept through the date and deleted after it."""
    until = settings.privacy.retention_until
    if until is None:
        return Phase.NO_DATE
    if on > until:
        return Phase.PASSED
    if on >= until - dt.timedelta(days=REMINDER_DAYS):
        return Phase.REMINDING
    return Phase.KEPT


async def count_holding_data(*, session: AsyncSession) -> int:
    """Figures whose personal data is still stored (not deleted by /hapusdata or a purge)."""
    result = await session.exec(select(func.count()).select_from(Figure).where(col(Figure.deleted_at).is_(None)))
    return int(result.one())


async def _staff(*, session: AsyncSession, people: Collection[Person], bootstrap_admins: Collection[int]) -> set[int]:
    """Those of PEOPLE who hold a role: the office's own accounts, which the purge does not sign out."""
    ids = [person.id for person in people if person.id is not None]
    if not ids:
        return set()
    result = await session.exec(select(RoleGrant.person_id).where(col(RoleGrant.person_id).in_(ids)).distinct())
    staff = set(result.all())
    staff.update(p.id for p in people if p.id is not None and p.telegram_id in set(bootstrap_admins))
    return staff


async def _claim_figures(session: AsyncSession, limit: int) -> list[int]:
    """Take up to LIMIT figures still holding data for this batch: a conditional UPDATE, so that two purges at
    once (the job and `rangkul purge`) never erase, or count, the same figure twice."""
    pending = select(col(Figure.id)).where(col(Figure.deleted_at).is_(None)).order_by(col(Figure.id)).limit(limit)
    claimed = await session.exec(
        sa.update(Figure)
        .where(col(Figure.id).in_(pending.scalar_subquery()), col(Figure.deleted_at).is_(None))
        .values(deleted_at=utcnow())
        .returning(col(Figure.id))
        .execution_options(synchronize_session=False)
    )
    return sorted(int(figure_id) for figure_id in claimed.scalars().all())


async def purge_batch(*, session: AsyncSession, settings: Settings, limit: int = PURGE_BATCH) -> int:
    """Erase the personal data of up to LIMIT figures still holding it, as /hapusdata does; how many.

    A figure who is also an organizer or admin loses their registration like everyone else, but keeps their
    Telegram account and role: that is the office's access to Rangkul, not a figure's data (a registration or
    profile edit they have under way goes, with the answers it holds).
    """
    ids = await _claim_figures(session, limit)
    if not ids:
        return 0
    batch = list(
        (
            await session.exec(select(Figure).where(col(Figure.id).in_(ids)).execution_options(populate_existing=True))
        ).all()
    )
    person_ids = [figure.person_id for figure in batch if figure.person_id is not None]
    people = (
        list((await session.exec(select(Person).where(col(Person.id).in_(person_ids)))).all()) if person_ids else []
    )
    staff = await _staff(session=session, people=people, bootstrap_admins=settings.roles.bootstrap_admins)
    await figures.erase_figures(session=session, figures=batch, tz=settings.tz)
    await figures.forget_people(session=session, people=[p for p in people if p.id not in staff], tz=settings.tz)
    if staff:
        await session.exec(
            sa.delete(ConversationState).where(
                col(ConversationState.person_id).in_(list(staff)),
                col(ConversationState.flow).in_(REGISTRATION_FLOWS),
            )
        )
    return len(batch)


async def forget_batch(*, session: AsyncSession, settings: Settings, limit: int = PURGE_BATCH) -> int:
    """Forget the Telegram identity of up to LIMIT people with no registration left (they began /daftar, or
    only wrote to the bot), except the office's own accounts; how many."""
    staff = select(col(RoleGrant.person_id))
    found = await session.exec(
        select(Person)
        .where(
            col(Person.telegram_id).is_not(None),
            col(Person.id).not_in(staff),
            col(Person.telegram_id).not_in(list(settings.roles.bootstrap_admins) or [-1]),
            ~select(col(Figure.id))
            .where(col(Figure.person_id) == col(Person.id), col(Figure.deleted_at).is_(None))
            .exists(),
        )
        .order_by(col(Person.id))
        .limit(limit)
    )
    people = list(found.all())
    await figures.forget_people(session=session, people=people, tz=settings.tz)
    return len(people)


@dataclass(frozen=True, slots=True)
class PurgeOutcome:
    phase: Phase
    # Figures whose personal data was deleted (or, in a dry run or before the date, would be).
    figures: int
    dry_run: bool = False
    # People without a registration whose Telegram identity was forgotten.
    people: int = 0


async def purge(
    *,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    on: dt.date,
    source: str,
    dry_run: bool = False,
    batch: int = PURGE_BATCH,
    pause: float = PURGE_PAUSE_SECONDS,
) -> PurgeOutcome:
    """Once the date has passed (ON, in the office's zone), erase every figure's personal data, then forget the
    Telegram identity of everyone else who wrote to the bot, BATCH per transaction. Each batch writes its own
    retention.purge event (with its count and SOURCE: "cli" or "job") in its own transaction, so the audit log
    holds every erasure that happened, also when the purge is cut short. Before the date, without one, or with
    DRY_RUN, nothing is deleted and the count is of those who would be."""
    current = phase(settings, on)
    if current is not Phase.PASSED or dry_run:
        async with db.unit_of_work(sessions) as session:
            holding = await count_holding_data(session=session)
        return PurgeOutcome(current, holding if current is not Phase.NO_DATE else 0, dry_run=dry_run)
    totals = {"figures": 0, "people": 0}
    for kind, step in (("figures", purge_batch), ("people", forget_batch)):
        while True:
            async with db.unit_of_work(sessions) as session:
                done = await step(session=session, settings=settings, limit=batch)
                if done:
                    await record_purge(session=session, settings=settings, source=source, **{kind: done})
            totals[kind] += done
            if done < batch:
                break
            await asyncio.sleep(pause)
    return PurgeOutcome(current, totals["figures"], people=totals["people"])


async def record_purge(
    *, session: AsyncSession, settings: Settings, source: str, figures: int = 0, people: int = 0
) -> None:
    until = settings.privacy.retention_until
    await audit.record(
        session=session,
        action=PURGE_ACTION,
        actor_person_id=None,
        figures=figures,
        people=people,
        retention_until=until.isoformat() if until else None,
        source=source,
    )


# ------------------------------------------------------------------------------------------- the admins' reminder


@dataclass(frozen=True, slots=True)
class AdminChat:
    chat_id: int
    locale: str | None


async def admin_chats(*, session: AsyncSession, bootstrap_admins: Collection[int]) -> list[AdminChat]:
    """Every admin's private chat: admins in the database and the bootstrap admins (who may not have written yet)."""
    chats: dict[int, str | None] = {}
    for holder in await roles.role_holders(session=session):
        if holder.role is Role.ADMIN and holder.person.telegram_id is not None:
            chats[holder.person.telegram_id] = holder.person.locale
    if bootstrap_admins:
        known = await session.exec(select(Person).where(col(Person.telegram_id).in_(list(bootstrap_admins))))
        locales = {person.telegram_id: person.locale for person in known.all()}
        for chat_id in bootstrap_admins:
            chats.setdefault(chat_id, locales.get(chat_id))
    return [AdminChat(chat_id, locale) for chat_id, locale in chats.items()]


async def reminded_on(*, session: AsyncSession, settings: Settings, until: dt.date) -> dt.date | None:
    """The day (in the office's zone) the admins were reminded of UNTIL, if they were."""
    row = await session.get(RetentionReminder, until)
    return row.reminded_at.astimezone(settings.tz).date() if row is not None else None


async def claim_reminder(*, session: AsyncSession, settings: Settings, on: dt.date, admins: int) -> bool:
    """Record the reminder of the admins (before it is sent, so that a restart never sends it twice): due from
    REMINDER_DAYS before the date, and after it when nobody was reminded. The table's primary key lets exactly
    one bot claim it; False when it is not due or already claimed."""
    until = settings.privacy.retention_until
    if until is None or phase(settings, on) not in (Phase.REMINDING, Phase.PASSED):
        return False
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert(RetentionReminder) if dialect == "postgresql" else sqlite.insert(RetentionReminder)
    claimed = await session.exec(
        insert.values(retention_until=until, reminded_at=utcnow())  # type: ignore[call-overload]
        .on_conflict_do_nothing(index_elements=["retention_until"])
        .returning(RetentionReminder.retention_until)
    )
    if claimed.first() is None:
        return False
    holding = await count_holding_data(session=session)
    await audit.record(
        session=session,
        action=REMINDER_ACTION,
        actor_person_id=None,
        retention_until=until.isoformat(),
        admins=admins,
        figures=holding,
        overdue=on > until,
    )
    return True


async def purge_may_run(*, session: AsyncSession, settings: Settings, until: dt.date) -> bool:
    """Whether the bot's own job may purge: only when the admins were reminded before the date (and so the
    figures were told). A date that was already past when the bot first saw it (a typo, a date moved back)
    deletes nothing by itself; the admins are told, and `rangkul purge` remains the deliberate way."""
    day = await reminded_on(session=session, settings=settings, until=until)
    return day is not None and day <= until


# ---------------------------------------------------------------------------------------------- the figures' notice


@dataclass(frozen=True, slots=True)
class Notified:
    """What telling one figure that their data will be deleted needs, read in one query."""

    figure_id: int
    chat_id: int
    locale: str | None
    until: dt.date
    previous: dt.date | None  # the date they were told about before (restored when sending fails)


async def figures_to_tell(*, session: AsyncSession, settings: Settings, on: dt.date, limit: int) -> list[Notified]:
    """Up to LIMIT figures still holding data who can be reached and were not yet told about this date."""
    until = settings.privacy.retention_until
    if until is None or phase(settings, on) is not Phase.REMINDING:
        return []
    told = col(Figure.retention_told_for)
    result = await session.exec(
        select(col(Figure.id), col(Person.telegram_id), col(Person.locale), col(Figure.retention_told_for))
        .join(Person, col(Figure.person_id) == col(Person.id))
        .where(
            col(Figure.deleted_at).is_(None),
            col(Figure.unreachable_since).is_(None),
            col(Person.telegram_id).is_not(None),
            or_(told.is_(None), told != until),
        )
        .order_by(col(Figure.id))
        .limit(limit)
    )
    return [
        Notified(figure_id=figure_id, chat_id=chat_id, locale=locale, until=until, previous=previous)
        for figure_id, chat_id, locale, previous in result.all()
        if figure_id is not None and chat_id is not None
    ]


async def claim_notice(*, session: AsyncSession, notified: Notified) -> bool:
    """Mark the figure told (committed by the caller before sending); False when someone else did first, or they
    deleted their data meanwhile."""
    return await figures.tell_once(
        session=session, figure_id=notified.figure_id, told="retention_told_for", value=notified.until
    )


async def release_notice(*, session: AsyncSession, notified: Notified) -> None:
    """The message could not be sent: undo the mark, so that the figure is told later."""
    await session.exec(
        sa.update(Figure)
        .where(col(Figure.id) == notified.figure_id, col(Figure.retention_told_for) == notified.until)
        .values(retention_told_for=notified.previous)
        .execution_options(synchronize_session=False)
    )


async def mark_unreachable(*, session: AsyncSession, figure_id: int) -> None:
    """Telegram says the figure blocked the bot: no message reaches them until they write again."""
    await session.exec(
        sa.update(Figure)
        .where(col(Figure.id) == figure_id, col(Figure.unreachable_since).is_(None))
        .values(unreachable_since=utcnow())
        .execution_options(synchronize_session=False)
    )
