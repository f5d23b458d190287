"""A registered figure's rights: opting out and back in, reachability, a copy of their data, deletion."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import and_, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import regions
from bot.services import audit, commitments, replies
from bot.services.registration import figure_of
from models import Broadcast, ConversationState, Delivery, Figure, Invitation, Person, RoleGrant, utcnow


def broadcast_eligible() -> ColumnElement[bool]:
    """Figures a broadcast may reach: not deleted, not opted out, not known to have blocked the bot."""
    return and_(
        col(Figure.deleted_at).is_(None),
        col(Figure.person_id).is_not(None),
        col(Figure.messages_opt_in).is_(True),
        col(Figure.unreachable_since).is_(None),
    )


async def set_messages_opt_in(*, session: AsyncSession, person: Person, opt_in: bool) -> Figure | None:
    """Withdraw or give back consent to receive messages; the data itself stays until deleted."""
    figure = await figure_of(session=session, person=person)
    if figure is None or figure.messages_opt_in == opt_in:
        return figure
    figure.messages_opt_in = opt_in
    figure.opted_out_at = None if opt_in else utcnow()
    figure.updated_at = utcnow()
    session.add(figure)
    await audit.record(
        session=session,
        action="figure.opt_in" if opt_in else "figure.opt_out",
        actor_person_id=person.id,
        subject_person_id=person.id,
    )
    await session.flush()
    return figure


async def mark_reachable(*, session: AsyncSession, person: Person) -> Figure | None:
    """The person wrote to (or unblocked) the bot: messages can reach them again. Their registration, if any."""
    figure = await figure_of(session=session, person=person)
    if figure is not None:
        await reachable_again(session=session, figure=figure)
    return figure


async def reachable_again(*, session: AsyncSession, figure: Figure) -> bool:
    """FIGURE's person wrote to (or unblocked) the bot: messages can reach them again. False: nothing to write."""
    if figure.unreachable_since is None:
        return False
    figure.unreachable_since = None
    session.add(figure)
    await session.flush()
    return True


async def mark_unreachable(*, session: AsyncSession, person: Person) -> None:
    figure = await figure_of(session=session, person=person)
    if figure is not None and figure.unreachable_since is None:
        figure.unreachable_since = utcnow()
        session.add(figure)
        await session.flush()


async def export_data(*, session: AsyncSession, person: Person) -> dict[str, Any]:
    """Everything Rangkul holds about the person, for /dataku (UU PDP's right of access and portability)."""
    figure = await figure_of(session=session, person=person)
    data: dict[str, Any] = {
        "telegram": {
            "user_id": person.telegram_id,
            "username": person.username,
            "first_name": person.first_name,
            "language_code": person.language_code,
            "chosen_language": person.locale,
            "first_seen_at": person.created_at.isoformat(),
            "last_seen_at": person.last_seen_at.isoformat(),
        },
        "registration": None,
    }
    if figure is None:
        return data
    region = regions.get(figure.region_code)
    invitation = await session.get(Invitation, figure.invitation_id) if figure.invitation_id else None
    data["registration"] = {
        "full_name": figure.full_name,
        "category": figure.category,
        "age_bracket": figure.age_bracket,
        "guardian_name": figure.guardian_name,
        "guardian_consent_at": figure.guardian_consent_at.isoformat() if figure.guardian_consent_at else None,
        "region_code": figure.region_code,
        "region": region.path if region else None,
        "phone": figure.phone,
        "organization": figure.organization,
        "consent_at": figure.consent_at.isoformat(),
        "consent_notice_version": figure.consent_version,
        "consent_language": figure.consent_locale,
        "changed_notice_told": figure.notice_told_version,
        "told_data_deleted_after": figure.retention_told_for.isoformat() if figure.retention_told_for else None,
        "receives_messages": figure.messages_opt_in,
        "opted_out_at": figure.opted_out_at.isoformat() if figure.opted_out_at else None,
        "unreachable_since": figure.unreachable_since.isoformat() if figure.unreachable_since else None,
        "invited_through": (
            {"code": invitation.code, "region_code": invitation.region_code, "event": invitation.label}
            if invitation
            else None
        ),
        "registered_at": figure.registered_at.isoformat(),
        "updated_at": figure.updated_at.isoformat(),
    }
    data["replies"] = [
        {
            "received_at": reply.received_at.isoformat(),
            "kind": reply.kind,
            "text": reply.text,
            "file_id": reply.file_id,
            "answers_broadcast": reply.broadcast_id,
            "read_at": reply.read_at.isoformat() if reply.read_at else None,
            "answer": reply.answer_text,
            "answered_at": reply.answered_at.isoformat() if reply.answered_at else None,
        }
        for reply in await replies.of_figure(session=session, figure=figure)
    ]
    assert figure.id is not None
    data["delivery_outcomes"] = await _delivery_outcomes(session=session, figure_id=figure.id)
    data["commitments"] = await commitments.history_of(session=session, figure_id=figure.id)
    return data


async def _delivery_outcomes(*, session: AsyncSession, figure_id: int) -> list[dict[str, Any]]:
    """Whether each broadcast reached the figure, for /dataku: only their own delivery rows, oldest broadcast
    first, with the template it was written from (nothing of the broadcast's other recipients or its author)."""
    rows = await session.exec(
        select(Delivery, Broadcast.template)
        .join(Broadcast, col(Broadcast.id) == col(Delivery.broadcast_id))
        .where(col(Delivery.figure_id) == figure_id)
        .order_by(col(Delivery.broadcast_id))
    )
    return [
        {
            "broadcast": delivery.broadcast_id,
            "template": template,
            "status": delivery.status,
            "attempts": delivery.attempts,
            "telegram_message_id": delivery.message_id,
            "error": delivery.error,
            "outcome_at": delivery.updated_at.isoformat() if delivery.updated_at else None,
        }
        for delivery, template in rows
    ]


def _day(value: dt.datetime | None, tz: dt.tzinfo) -> dt.datetime | None:
    """VALUE cut to the start of its day in TZ: the date stays for reports, the moment that could single
    someone out (the minute they registered at an event) does not."""
    if value is None:
        return None
    local = value.astimezone(tz)
    return dt.datetime.combine(local.date(), dt.time(), tzinfo=tz).astimezone(dt.UTC)


async def delete_personal_data(*, session: AsyncSession, person: Person, tz: dt.tzinfo = dt.UTC) -> bool:
    """/hapusdata: erase the person's personal data (their registration and their Telegram identity); keep only
    what anonymous reports need, aggregated so that nobody can be singled out. Audited with internal ids only.
    False when they had no registration (their Telegram identity is erased all the same)."""
    assert person.id is not None
    figure = await figure_of(session=session, person=person)
    if figure is not None:
        await erase_figures(session=session, figures=[figure], tz=tz)
    await forget_people(session=session, people=[person], tz=tz)
    await audit.record(
        session=session,
        action="figure.delete",
        actor_person_id=person.id,
        subject_person_id=person.id,
        figure=figure.id if figure else None,
    )
    await session.flush()
    return figure is not None


async def tell_once(*, session: AsyncSession, figure_id: int, told: str, value: object) -> bool:
    """Mark a figure still holding data as told VALUE (column TOLD: the notice version, the retention date) unless
    it already holds it; True for the one caller that did. A compare-and-swap, so a paced job and the figure's own
    next message can never both tell them; the caller's unit of work commits it before the message goes out."""
    column = col(getattr(Figure, told))
    claimed = await session.exec(
        sa.update(Figure)
        .where(
            col(Figure.id) == figure_id,
            col(Figure.deleted_at).is_(None),
            sa.or_(column.is_(None), column != value),
        )
        .values({told: value})
        .execution_options(synchronize_session=False)
    )
    return isinstance(claimed, CursorResult) and claimed.rowcount == 1


async def erase_figures(*, session: AsyncSession, figures: Sequence[Figure], tz: dt.tzinfo) -> None:
    """Erase the personal data of FIGURES' registrations, the one erasure /hapusdata and the retention purge
    (bot/services/retention.py) share: category, age bracket, the kecamatan (not the desa) and the dates without
    the time of day (in TZ) stay for anonymous reports.

    Each figure row loses its name, phone, organization, guardian, the invitation it came through (whose region
    and event could point at one desa) and its link to the person; what they wrote to the officers (and the
    answers) goes too. Set-based where it can be, so that the purge erases hundreds of figures in one statement
    per table.
    """
    deleted_at = _day(utcnow(), tz)
    for figure in figures:
        figure.full_name = None
        figure.phone = None
        figure.organization = None
        figure.guardian_name = None
        figure.person_id = None
        figure.invitation_id = None
        figure.region_code = regions.up_to(figure.region_code, regions.KECAMATAN)  # not the desa
        figure.messages_opt_in = False
        for field in (
            "registered_at",
            "updated_at",
            "consent_at",
            "guardian_consent_at",
            "opted_out_at",
            "unreachable_since",
        ):
            setattr(figure, field, _day(getattr(figure, field), tz))
        figure.deleted_at = deleted_at
        session.add(figure)
    # What they wrote to the officers (and the answers) is personal data too.
    erased = [f.id for f in figures if f.id is not None]
    await replies.delete_of_figures(session=session, figure_ids=erased)
    # Commitments stay for the counts, at the day they were made.
    await commitments.blur_times_of(session=session, figure_ids=erased, to_day=lambda value: _day(value, tz))
    await session.flush()


async def forget_people(*, session: AsyncSession, people: Sequence[Person], tz: dt.tzinfo) -> None:
    """Erase PEOPLE's Telegram identity (id, username, name, language) and exact times; their conversations and
    roles go, and a broadcast's status message that points at their chat forgets it."""
    ids = [person.id for person in people if person.id is not None]
    if not ids:
        return
    await session.exec(delete(ConversationState).where(col(ConversationState.person_id).in_(ids)))
    grants = (await session.exec(select(RoleGrant).where(col(RoleGrant.person_id).in_(ids)))).all()
    held: dict[tuple[int, str], list[str]] = {}
    for grant in grants:
        held.setdefault((grant.person_id, grant.role), []).append(grant.region_code)
    for (person_id, role), codes in held.items():
        # The role goes with the account: /audit's "Peran" shows it, as any revocation.
        await audit.record(
            session=session,
            action="role.revoke",
            actor_person_id=person_id,
            subject_person_id=person_id,
            role=role,
            regions=[code for code in codes if code],
            reason="hapusdata",
        )
    await session.exec(delete(RoleGrant).where(col(RoleGrant.person_id).in_(ids)))
    chats = [person.telegram_id for person in people if person.telegram_id is not None]
    if chats:
        # An organizer's chat id stays on each broadcast's status message; without it the status is not updated.
        await session.exec(
            sa.update(Broadcast)
            .where(col(Broadcast.status_chat_id).in_(chats))
            .values(status_chat_id=None, status_message_id=None)
        )
    for person in people:
        person.telegram_id = None
        person.username = None
        person.first_name = None
        person.language_code = None
        person.locale = None
        person.created_at = _day(person.created_at, tz) or person.created_at
        person.last_seen_at = _day(person.last_seen_at, tz) or person.last_seen_at
        session.add(person)
    await session.flush()


async def count_eligible(*, session: AsyncSession) -> int:
    result = await session.exec(select(Figure.id).where(broadcast_eligible()))
    return len(result.all())
