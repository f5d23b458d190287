"""Conversations in progress (registration, profile edit, broadcast composer, export, an answer to a reply, the
number of people to invite): one row per person, kept across
restarts, each step a compare-and-swap on its version, abandoned ones expired with what they gathered."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from models import ConversationState, Person, utcnow


def new_version() -> int:
    """A random first step number, so buttons from an earlier conversation do not match this one."""
    return secrets.randbelow(900_000) + 100_000


def mark_changed(state: ConversationState) -> None:
    """Mark DATA as modified (changes inside a JSON value are invisible to the ORM otherwise); the conversation
    is in use, so its expiry starts again."""
    flag_modified(state, "data")
    state.updated_at = utcnow()


async def current(
    *, session: AsyncSession, person: Person, expire_after: dt.timedelta | None = None
) -> ConversationState | None:
    """The person's conversation in progress; one untouched for longer than EXPIRE_AFTER is abandoned: it is
    deleted with everything it gathered, and there is none."""
    assert person.id is not None
    state = await session.get(ConversationState, person.id)
    if state is not None and expire_after is not None and state.updated_at < utcnow() - expire_after:
        await session.delete(state)
        await session.flush()
        return None
    return state


async def expire_abandoned(*, session: AsyncSession, expire_after: dt.timedelta) -> int:
    """Delete every conversation untouched for longer than EXPIRE_AFTER (answers gathered, composer drafts and
    their previews); how many went."""
    result = await session.exec(
        delete(ConversationState).where(col(ConversationState.updated_at) < utcnow() - expire_after)
    )
    return int(result.rowcount or 0)


async def start(
    *, session: AsyncSession, person: Person, flow: str, step: str, data: dict[str, Any]
) -> ConversationState:
    """Begin FLOW at STEP for PERSON, in place of any conversation they had under way (its answers go)."""
    assert person.id is not None
    await cancel(session=session, person=person)
    state = ConversationState(person_id=person.id, flow=flow, step=step, version=new_version(), data=data)
    session.add(state)
    await session.flush()
    return state


async def cancel(*, session: AsyncSession, person: Person) -> bool:
    """Drop a conversation in progress; nothing it gathered is kept."""
    state = await current(session=session, person=person)
    if state is None:
        return False
    await session.delete(state)
    await session.flush()
    return True
