"""The append-only audit log: the one place that writes to it."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from models import AuditEvent


async def record(
    *,
    session: AsyncSession,
    action: str,
    actor_person_id: int | None,
    subject_person_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    """Append one event; DETAILS must hold no personal data (ids, roles, region codes, counts)."""
    event = AuditEvent(
        action=action, actor_person_id=actor_person_id, subject_person_id=subject_person_id, details=details
    )
    session.add(event)
    await session.flush()
    return event
