"""People who have written to the bot: recorded on every update so roles can be granted by @username."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import i18n
from bot.services import audit
from models import Figure, Person, RoleGrant, utcnow

# last_seen_at is written again only when it is older than this: a person pressing five buttons in a minute
# costs one write, not five (each write queues for SQLite's one write lock behind everyone else's).
LAST_SEEN_PRECISION = dt.timedelta(minutes=1)


@dataclass(slots=True)
class Visitor:
    """Who wrote, as one read of the database found them: their registration and whether any role is granted."""

    person: Person
    figure: Figure | None
    has_grants: bool
    wrote: bool = False  # record_visit wrote the person (new, renamed, or last seen over a minute ago)


PERSON_TABLE: sa.Table = Person.__table__  # type: ignore[attr-defined]
# One statement for the person, their registration and whether they hold a role: every update starts with it.
_VISITOR = (
    select(Person, Figure, sa.exists().where(col(RoleGrant.person_id) == col(Person.id)).label("has_grants"))
    .outerjoin(Figure, col(Figure.person_id) == col(Person.id))
    .where(col(Person.telegram_id) == sa.bindparam("telegram_id"))
)


def normalize_username(username: str | None) -> str | None:
    if not username:
        return None
    return username.strip().lstrip("@").lower() or None


async def record_person(
    *,
    session: AsyncSession,
    telegram_id: int,
    username: str | None,
    first_name: str | None,
    language_code: str | None,
) -> Person:
    """Create or refresh the person behind a Telegram user id."""
    visitor = await record_visit(
        session=session,
        telegram_id=telegram_id,
        username=username,
        first_name=first_name,
        language_code=language_code,
    )
    return visitor.person


async def visitor(*, session: AsyncSession, telegram_id: int) -> Visitor | None:
    """The person behind a Telegram user id with their registration, read in one statement (None: never wrote)."""
    row = (await session.exec(_VISITOR, params={"telegram_id": telegram_id})).first()
    if row is None:
        return None
    person, figure, has_grants = row
    return Visitor(person=person, figure=figure, has_grants=bool(has_grants))


async def record_visit(
    *,
    session: AsyncSession,
    telegram_id: int,
    username: str | None,
    first_name: str | None,
    language_code: str | None,
) -> Visitor:
    """Create or refresh the person behind a Telegram user id (their name and app language as Telegram now
    gives them, and when they were last seen); with their registration and whether they hold a role."""
    found = await visitor(session=session, telegram_id=telegram_id)
    username = normalize_username(username)
    first_name = (first_name or "")[:64] or None
    language_code = (language_code or "")[:16] or None
    values: dict[str, object] = {"username": username, "first_name": first_name, "language_code": language_code}
    now = utcnow()
    if found is None:
        person = Person(
            telegram_id=telegram_id,
            username=username,
            first_name=first_name,
            language_code=language_code,
            last_seen_at=now,
        )
        await _take_username(session, person, username)
        session.add(person)
        await session.flush()
        return Visitor(person=person, figure=None, has_grants=False, wrote=True)
    person = found.person
    changed = {name: value for name, value in values.items() if getattr(person, name) != value}
    if not changed and now - person.last_seen_at < LAST_SEEN_PRECISION:
        return found
    if "username" in changed:
        await _take_username(session, person, username)
    # One UPDATE of the changed columns, not an ORM flush: every update of every person goes through here.
    changed["last_seen_at"] = now
    await (await session.connection()).execute(
        sa.update(PERSON_TABLE).where(PERSON_TABLE.c.id == person.id).values(**changed)
    )
    for name, value in changed.items():
        set_committed_value(person, name, value)
    found.wrote = True
    return found


async def _take_username(session: AsyncSession, person: Person, username: str | None) -> None:
    """A username moves with its owner: whoever held it before no longer does."""
    if not username:
        return
    previous = await by_username(session=session, username=username)
    if previous is not None and previous is not person and previous.telegram_id != person.telegram_id:
        previous.username = None
        session.add(previous)
        await session.flush()


async def by_telegram_id(*, session: AsyncSession, telegram_id: int) -> Person | None:
    result = await session.exec(select(Person).where(Person.telegram_id == telegram_id))
    return result.first()


async def by_username(*, session: AsyncSession, username: str) -> Person | None:
    name = normalize_username(username)
    if name is None:
        return None
    result = await session.exec(select(Person).where(Person.username == name))
    return result.first()


async def by_id(*, session: AsyncSession, person_id: int) -> Person | None:
    return await session.get(Person, person_id)


async def choose_locale(*, session: AsyncSession, person: Person, locale: str) -> bool:
    """Store the language PERSON chose (/bahasa); False when it was already theirs. Audited (no personal data)."""
    if locale not in i18n.AVAILABLE_LOCALES:
        raise ValueError(f"unknown locale {locale!r}")
    if person.locale == locale:
        return False
    previous = person.locale
    person.locale = locale
    session.add(person)
    await audit.record(
        session=session,
        action="person.language",
        actor_person_id=person.id,
        subject_person_id=person.id,
        previous=previous,
        locale=locale,
    )
    return True
