"""Who wrote: one read for the person, their registration and their roles; last_seen_at written sparingly."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.ext import CommandHandler

from bot import db
from bot.context import Context
from bot.services import people, roles
from models import Figure, Person, Role, utcnow
from tests.conftest import Harness
from tests.test_broadcast import make_figures


async def _visit(engine: AsyncEngine, telegram_id: int, first_name: str = "Budi") -> people.Visitor:
    async with db.unit_of_work(db.session_factory(engine)) as session:
        return await people.record_visit(
            session=session, telegram_id=telegram_id, username="budi", first_name=first_name, language_code="id"
        )


async def _stored(engine: AsyncEngine, telegram_id: int) -> Person:
    async with db.session_factory(engine)() as session:
        return (await session.exec(select(Person).where(Person.telegram_id == telegram_id))).one()


async def _last_seen_ago(engine: AsyncEngine, telegram_id: int, ago: dt.timedelta) -> dt.datetime:
    when = utcnow() - ago
    async with engine.begin() as connection:
        await connection.execute(
            sa.update(Person).where(col(Person.telegram_id) == telegram_id).values(last_seen_at=when)
        )
    return when


async def test_last_seen_is_written_at_most_once_a_minute_but_a_new_name_at_once(engine: AsyncEngine) -> None:
    first = await _visit(engine, 7)
    assert first.figure is None and not first.has_grants
    assert abs((await _stored(engine, 7)).last_seen_at - utcnow()) < dt.timedelta(seconds=5)

    recent = await _last_seen_ago(engine, 7, dt.timedelta(seconds=30))
    await _visit(engine, 7)
    assert (await _stored(engine, 7)).last_seen_at == recent  # seen half a minute ago: not written again

    await _visit(engine, 7, first_name="Budi Santoso")
    renamed = await _stored(engine, 7)
    assert renamed.first_name == "Budi Santoso"  # a changed name is written whenever it changes
    assert renamed.last_seen_at > recent

    old = await _last_seen_ago(engine, 7, dt.timedelta(minutes=2))
    visitor = await _visit(engine, 7, first_name="Budi Santoso")
    stored = await _stored(engine, 7)
    assert stored.last_seen_at > old + dt.timedelta(minutes=1)
    assert visitor.person.last_seen_at == stored.last_seen_at  # the object in hand says what the row says


async def test_one_read_finds_the_registration_and_whether_a_role_is_held(session: AsyncSession) -> None:
    figure_person = Person(telegram_id=11, first_name="Tokoh")
    organizer = Person(telegram_id=12, first_name="Petugas")
    session.add_all([figure_person, organizer])
    await session.flush()
    session.add(
        Figure(
            person_id=figure_person.id,
            full_name="Tokoh Banua",
            category="tokoh_pemuda",
            age_bracket="26-40",
            region_code="63.71.05.1003",
            consent_version="v1",
        )
    )
    await roles.grant(session=session, actor=organizer, subject=organizer, role=Role.ORGANIZER, region_codes=["63"])
    await session.commit()
    session.expunge_all()

    found = await people.visitor(session=session, telegram_id=11)
    assert found is not None and found.figure is not None
    assert found.figure.full_name == "Tokoh Banua" and not found.has_grants
    authority = await roles.authority_of(
        session=session, person=found.person, bootstrap_admins=(), has_grants=found.has_grants
    )
    assert authority.role is Role.FIGURE

    officer = await people.visitor(session=session, telegram_id=12)
    assert officer is not None and officer.figure is None and officer.has_grants
    authority = await roles.authority_of(
        session=session, person=officer.person, bootstrap_admins=(), has_grants=officer.has_grants
    )
    assert authority.role is Role.ORGANIZER and authority.scopes == ("63",)
    assert await people.visitor(session=session, telegram_id=13) is None


async def test_what_identify_wrote_is_on_disk_before_the_handler_runs(
    harness: Harness, engine: AsyncEngine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A handler that reads for a while (a /laporan) must not hold the write lock of identify's last_seen_at:
    another connection writes the same row meanwhile, without waiting."""
    [user] = await make_figures(harness, 720, 1)
    await _last_seen_ago(engine, user, dt.timedelta(minutes=5))  # identify will write it
    other = db.create_engine(database_url, busy_timeout=0)
    written: list[bool] = []

    async def help_that_meanwhile_writes(update: Update, context: Context) -> None:
        assert context.person is not None
        async with other.begin() as connection:
            if other.dialect.name == "postgresql":
                await connection.execute(sa.text("SET LOCAL lock_timeout = '200ms'"))
            await connection.execute(sa.update(Person).where(col(Person.id) == context.person.id).values(locale="id"))
        written.append(True)

    [handler] = [h for h in harness.app.handlers[0] if isinstance(h, CommandHandler) and "bantuan" in h.commands]
    monkeypatch.setattr(handler, "callback", help_that_meanwhile_writes)
    try:
        await harness.send(user, "/bantuan")
    finally:
        await other.dispose()
    assert written == [True]  # neither "database is locked" nor a lock timeout
    assert abs((await _stored(engine, user)).last_seen_at - utcnow()) < dt.timedelta(seconds=5)


async def test_a_username_moves_between_people_already_known_within_the_minute(
    harness: Harness, engine: AsyncEngine
) -> None:
    """The UPDATE of a changed username frees it from whoever held it, however recently either was seen."""
    harness.fake.user(501, "A", username="budi")
    harness.fake.user(502, "B", username="other")
    await harness.send(501, "/bantuan")
    await harness.send(502, "/bantuan")
    assert (await _stored(engine, 501)).username == "budi"
    harness.fake.users[502].username = "Budi"  # A gave it up on Telegram, B took it
    await harness.send(502, "/bantuan")
    assert (await _stored(engine, 501)).username is None
    assert (await _stored(engine, 502)).username == "budi"
    harness.fake.users[501].username = "budi"  # and back
    harness.fake.users[502].username = None
    await harness.send(501, "/bantuan")
    assert (await _stored(engine, 502)).username is None
    assert (await _stored(engine, 501)).username == "budi"


async def test_a_person_changed_through_the_orm_after_identify_wrote_is_stored_as_changed(
    engine: AsyncEngine,
) -> None:
    """identify's UPDATE leaves the object in hand agreeing with the row, so a later ORM change is flushed."""
    await _visit(engine, 9, first_name="Old")
    async with db.unit_of_work(db.session_factory(engine)) as session:
        visitor = await people.record_visit(
            session=session, telegram_id=9, username="budi", first_name="New", language_code="id"
        )
        visitor.person.first_name = "Old"
        session.add(visitor.person)
    assert (await _stored(engine, 9)).first_name == "Old"
