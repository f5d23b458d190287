"""Invitation links: an organizer's deep link (and QR code) that pre-fills the region and records attribution."""

from __future__ import annotations

import io
import re
import secrets

import segno
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit
from models import Figure, Invitation, Person

PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LABEL_MAX = 100


async def create(*, session: AsyncSession, organizer: Person, region_code: str, label: str) -> Invitation:
    """A new invitation for REGION_CODE; the caller has checked the organizer's scope."""
    invitation = Invitation(
        code=secrets.token_urlsafe(9),
        region_code=region_code,
        label=" ".join(label.split())[:LABEL_MAX],
        created_by=organizer.id,
    )
    session.add(invitation)
    await session.flush()
    await audit.record(
        session=session,
        action="invitation.create",
        actor_person_id=organizer.id,
        invitation=invitation.id,
        region=region_code,
    )
    return invitation


async def find(*, session: AsyncSession, payload: str) -> Invitation | None:
    """The invitation behind a /start payload; None for anything malformed, unknown or tampered with."""
    if not PAYLOAD.match(payload):
        return None
    result = await session.exec(select(Invitation).where(Invitation.code == payload))
    return result.first()


async def created_by(*, session: AsyncSession, organizer: Person, limit: int = 20) -> list[tuple[Invitation, int]]:
    """The organizer's latest invitations with how many people registered through each."""
    registrations = func.count(col(Figure.id))
    result = await session.exec(
        select(Invitation, registrations)
        .outerjoin(Figure, col(Figure.invitation_id) == col(Invitation.id))
        .where(Invitation.created_by == organizer.id)
        .group_by(col(Invitation.id))
        .order_by(col(Invitation.id).desc())
        .limit(limit)
    )
    return [(invitation, int(count)) for invitation, count in result.all()]


def link(bot_username: str, invitation: Invitation) -> str:
    return f"https://t.me/{bot_username}?start={invitation.code}"


def qr_png(url: str) -> bytes:
    """A QR code of URL as PNG, large enough to print on a poster."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=12, border=4)
    return buffer.getvalue()
