"""Consent after the privacy notice changed: who must be told, marking each figure told once, recording the answer.

A figure agreed to one exact notice (Figure.consent_version, the hash of the text shown, in the language it was
shown in: Figure.consent_locale). When today's notice in that same language hashes differently, the notice
changed and the figure is told once: Figure.notice_told_version records the version they were told about, set
(and committed) before the message goes out, so neither a second run nor a restart tells anyone twice.
Comparing in the language of the consent means choosing another language with /bahasa is not a change.
Sending the message is the delivery side's (bot/delivery/changed_notice.py); this module only reads and writes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import and_, col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import i18n, notice
from bot.config import Settings
from bot.services import audit, figures
from bot.services.registration import figure_of
from models import AgeBracket, Figure, Person, utcnow


class Agreement(enum.StrEnum):
    RECORDED = "recorded"
    ALREADY = "already"
    STALE = "stale"
    NOT_REGISTERED = "not_registered"


@dataclass(frozen=True)
class Recipient:
    """What telling one figure needs, read in one query."""

    figure_id: int
    person_id: int
    chat_id: int
    # The language to speak in (the person's choice, else the office's) and the version they are told about.
    locale: str
    version: str
    previous_told: str | None
    guardian_name: str | None
    # Whether they receive our messages (an opted-out figure is told that they do not, and how to again).
    receives_messages: bool


def due_version(settings: Settings, figure: Figure) -> str | None:
    """Today's notice version FIGURE has not agreed to (in the language they agreed in), or None."""
    if figure.deleted_at is not None:
        return None
    version = notice.current_version(settings, notice.agreed_locale(settings, figure.consent_locale))
    return None if figure.consent_version == version else version


def _outdated(settings: Settings) -> ColumnElement[bool]:
    """SQL for "agreed to an earlier notice and not yet told about today's": per language of consent, a
    different version (as due_version) and not told about it (as recipient_of)."""
    versions = notice.current_versions(settings)
    default = settings.locale.default
    locale = col(Figure.consent_locale)
    told = col(Figure.notice_told_version)
    clauses = []
    for code, version in versions.items():
        in_language = locale == code
        if code == default:
            in_language = or_(in_language, locale.not_in(list(versions)))
        clauses.append(and_(in_language, col(Figure.consent_version) != version, or_(told.is_(None), told != version)))
    return or_(*clauses)


async def to_tell(*, session: AsyncSession, settings: Settings, limit: int) -> list[Recipient]:
    """Up to LIMIT figures for the job to tell about the changed notice: registered, reachable, receiving our
    messages (one who opted out is told when they next write, not sent anything unasked), not yet told."""
    result = await session.exec(
        select(Figure, Person)
        .join(Person, col(Person.id) == col(Figure.person_id))
        .where(
            col(Figure.deleted_at).is_(None),
            col(Figure.unreachable_since).is_(None),
            col(Figure.messages_opt_in).is_(True),
            col(Person.telegram_id).is_not(None),
            _outdated(settings),
        )
        .order_by(col(Figure.id))
        .limit(limit)
    )
    found = (recipient_of(settings, figure, person) for figure, person in result.all())
    return [recipient for recipient in found if recipient is not None]


def recipient_of(settings: Settings, figure: Figure, person: Person, *, told_too: bool = False) -> Recipient | None:
    """FIGURE as a Recipient when they are still to be told (TOLD_TOO: or told but not agreed); else None."""
    version = due_version(settings, figure)
    if version is None or person.telegram_id is None or (figure.notice_told_version == version and not told_too):
        return None
    assert figure.id is not None and person.id is not None
    return Recipient(
        figure_id=figure.id,
        person_id=person.id,
        chat_id=person.telegram_id,
        locale=i18n.chosen_locale(person.locale, settings.locale.default),
        version=version,
        previous_told=figure.notice_told_version,
        guardian_name=figure.guardian_name if figure.age_bracket == AgeBracket.UNDER_18 else None,
        receives_messages=figure.messages_opt_in,
    )


async def claim(*, session: AsyncSession, recipient: Recipient) -> bool:
    """Mark RECIPIENT told about its version; False when someone else (another run, an update) already did
    (figures.tell_once: the job and the figure's own next message can never both tell them, and a restart never
    tells them again)."""
    return await figures.tell_once(
        session=session, figure_id=recipient.figure_id, told="notice_told_version", value=recipient.version
    )


async def release(*, session: AsyncSession, recipient: Recipient) -> None:
    """The message could not be sent: leave the figure to be told later (by the job, or when they write)."""
    await session.exec(
        sa.update(Figure)
        .where(col(Figure.id) == recipient.figure_id, col(Figure.notice_told_version) == recipient.version)
        .values(notice_told_version=recipient.previous_told)
    )


async def agree(*, session: AsyncSession, settings: Settings, person: Person, locale: str, version: str) -> Agreement:
    """Record PERSON's consent to the notice VERSION shown in LOCALE, if that is still today's notice.

    LOCALE comes from the button, so it is taken only when it is a language the figure can have been shown the
    notice in: the one they speak with us now, or the one they last agreed in (told before choosing another).
    """
    figure = await figure_of(session=session, person=person)
    if figure is None:
        return Agreement.NOT_REGISTERED
    shown_in = {i18n.chosen_locale(person.locale, settings.locale.default), figure.consent_locale}
    if locale not in shown_in or not notice.is_current(settings, version=version, locale=locale):
        return Agreement.STALE
    if figure.consent_version == version and figure.consent_locale == locale:
        return Agreement.ALREADY
    now = utcnow()
    figure.consent_version = version
    figure.consent_locale = locale
    figure.consent_at = now
    figure.notice_told_version = version
    if figure.age_bracket == AgeBracket.UNDER_18:
        # The notice asked the parent or guardian to read it and agree together with the figure.
        figure.guardian_consent_at = now
    figure.updated_at = now
    session.add(figure)
    await audit.record(
        session=session,
        action="figure.consent",
        actor_person_id=person.id,
        subject_person_id=person.id,
        consent_version=version,
        locale=locale,
    )
    await session.flush()
    return Agreement.RECORDED
