"""The person's Figure: read it, give its values in a conversation's shape, and write a finished registration or
profile edit into it, with its audit record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import regions
from bot.services import audit
from bot.services.registration_steps import region_codes, region_path
from models import AgeBracket, Figure, Person, utcnow


async def figure_of(*, session: AsyncSession, person: Person) -> Figure | None:
    """The person's registration, if they have one (a deleted one no longer belongs to anyone)."""
    if person.id is None:
        return None
    result = await session.exec(select(Figure).where(Figure.person_id == person.id))
    return result.first()


def figure_values(figure: Figure) -> dict[str, Any]:
    """A saved profile in the shape a conversation keeps its answers in."""
    return {
        "name": figure.full_name,
        "category": figure.category,
        "age": figure.age_bracket,
        "guardian_name": figure.guardian_name,
        "region_codes": region_path(figure.region_code),
        "phone": figure.phone,
        "organization": figure.organization,
    }


async def create_figure(*, session: AsyncSession, person: Person, data: dict[str, Any]) -> Figure:
    """Save a completed registration's answers (DATA, checked complete) as the person's Figure."""
    assert person.id is not None
    now = utcnow()
    figure = Figure(
        person_id=person.id,
        full_name=data["name"],
        category=data["category"],
        age_bracket=data["age"],
        guardian_name=data.get("guardian_name"),
        guardian_consent_at=dt.datetime.fromisoformat(data["guardian_at"]) if data.get("guardian_at") else None,
        region_code=region_codes(data)[-1],
        phone=data.get("phone"),
        organization=data.get("organization"),
        consent_at=dt.datetime.fromisoformat(data["consent_at"]),
        consent_version=data["notice_version"],
        consent_locale=data.get("locale", "id"),
        invitation_id=data.get("invitation_id"),
        registered_at=now,
        updated_at=now,
    )
    session.add(figure)
    await session.flush()
    await audit.record(
        session=session,
        action="figure.register",
        actor_person_id=person.id,
        subject_person_id=person.id,
        category=figure.category,
        # The audit log outlives /hapusdata (it is append-only): only the kecamatan, which singles nobody out,
        # and not the invitation (its region and event could point at one desa).
        region=regions.up_to(figure.region_code, regions.KECAMATAN),
        consent_version=figure.consent_version,
    )
    return figure


async def update_figure(*, session: AsyncSession, person: Person, figure: Figure, data: dict[str, Any]) -> Figure:
    """Write a profile edit's answers (DATA, checked complete) into the person's FIGURE."""
    figure.full_name = data["name"]
    figure.category = data["category"]
    figure.age_bracket = data["age"]
    figure.guardian_name = data.get("guardian_name")
    if data.get("guardian_at"):
        figure.guardian_consent_at = dt.datetime.fromisoformat(data["guardian_at"])
    elif figure.age_bracket != AgeBracket.UNDER_18:
        figure.guardian_consent_at = None
    figure.region_code = region_codes(data)[-1]
    figure.phone = data.get("phone")
    figure.organization = data.get("organization")
    figure.updated_at = utcnow()
    session.add(figure)
    await audit.record(
        session=session,
        action="figure.edit",
        actor_person_id=person.id,
        subject_person_id=person.id,
        field=data.get("editing"),
    )
    await session.flush()
    return figure
