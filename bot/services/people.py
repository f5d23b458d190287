"""People who have written to the bot: recorded on every update so roles can be granted by @username."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import i18n
from bot.services import audit
from models import Person, utcnow


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
    person = await by_telegram_id(session=session, telegram_id=telegram_id)
    username = normalize_username(username)
    if person is None:
        person = Person(telegram_id=telegram_id)
    if username and username != person.username:
        # A username moves with its owner: whoever held it before no longer does.
        previous = await by_username(session=session, username=username)
        if previous is not None and previous.telegram_id != telegram_id:
            previous.username = None
            session.add(previous)
    person.username = username
    person.first_name = (first_name or "")[:64] or None
    person.language_code = (language_code or "")[:16] or None
    person.last_seen_at = utcnow()
    session.add(person)
    await session.flush()
    return person


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
