"""Edges of the retention purge and its notices found by an independent review; each test reproduced a defect
before its fix (a purge cut short left no audit trail, a mistyped past date erased everyone at once, two bots
reminded the admins twice, two purges counted the same figures twice, a handful of unknown chats held up every
other figure's notice, …)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from telegram.error import TimedOut

from bot import notice
from bot.delivery import retention as jobs
from bot.services import retention, roles
from models import AuditEvent, ConversationState, Figure, Person, Role, RoleGrant
from tests.conftest import ADMIN_ID, Harness, make_settings
from tests.test_broadcast import make_figures, make_organizer
from tests.test_registration import register, tap, walk_to_summary
from tests.test_retention import _restarted

TODAY = dt.date(2029, 12, 20)
NOW = dt.datetime(2029, 12, 20, 2, 0, tzinfo=dt.UTC)


def _until(harness: Harness, until: dt.date | None, database_url: str) -> None:
    harness.use_settings(make_settings(database_url, privacy={"retention_until": until}))


async def _events(harness: Harness, action: str) -> list[AuditEvent]:
    async with harness.app.bot_data.sessions() as session:
        return list((await session.exec(select(AuditEvent).where(AuditEvent.action == action))).all())


async def _purge(harness: Harness, *, sessions: object = None, source: str = "job") -> retention.PurgeOutcome:
    return await retention.purge(
        sessions=sessions or harness.app.bot_data.sessions,  # type: ignore[arg-type]
        settings=harness.app.bot_data.settings,
        on=TODAY,
        source=source,
        batch=3,
        pause=0,
    )


async def _reminded_then_passed(harness: Harness) -> None:
    """The job as it runs over the last days: the reminder before the date, the purge after it."""
    await jobs.run_daily(harness.app.bot, harness.app.bot_data, now=NOW - dt.timedelta(days=3))
    await jobs.run_daily(harness.app.bot, harness.app.bot_data, now=NOW)


async def test_a_purge_cut_short_is_audited_as_far_as_it_went(
    harness: Harness, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_figures(harness, 4000, 7)
    _until(harness, TODAY - dt.timedelta(days=1), database_url)
    real = retention.purge_batch
    calls = {"n": 0}

    async def crashing(**kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the process is killed during the second batch")
        return await real(**kwargs)

    monkeypatch.setattr(retention, "purge_batch", crashing)
    with pytest.raises(RuntimeError):
        await _purge(harness)
    monkeypatch.setattr(retention, "purge_batch", real)
    assert [e.details["figures"] for e in await _events(harness, "retention.purge")] == [3]
    outcome = await _purge(harness)  # the next run erases the rest, and audits that too
    assert outcome.figures == 4
    assert sum(e.details["figures"] for e in await _events(harness, "retention.purge")) == 7


async def test_the_purge_forgets_people_who_never_finished_registering(harness: Harness, database_url: str) -> None:
    await make_figures(harness, 4000, 1)
    harness.fake.user(300, "Calon", username="calon_tokoh")
    await walk_to_summary(harness, 300, name="Calon Tokoh Lengkap")
    harness.fake.user(301, "Tamu", username="tamu_saja")
    await harness.send(301, "/bantuan")
    await make_organizer(harness, 500, "63.71")
    _until(harness, TODAY - dt.timedelta(days=1), database_url)
    await _reminded_then_passed(harness)
    async with harness.app.bot_data.sessions() as session:
        people = (await session.exec(select(Person).where(col(Person.telegram_id).in_([300, 301, 500])))).all()
        states = (await session.exec(select(ConversationState))).all()
    assert [p.telegram_id for p in people] == [500]  # the office's own account stays
    assert states == []
    assert sum(e.details["people"] for e in await _events(harness, "retention.purge")) >= 2


async def test_a_registration_begun_before_the_date_is_not_saved_after_it(harness: Harness, database_url: str) -> None:
    _until(harness, dt.date(2099, 12, 31), database_url)
    harness.fake.user(300, "Siti", username="siti_300")
    await walk_to_summary(harness, 300)
    _until(harness, dt.date(2020, 12, 31), database_url)  # the date passes while the summary is on screen
    await tap(harness, 300, "✅ Simpan")
    async with harness.app.bot_data.sessions() as session:
        saved = (await session.exec(select(Figure).where(col(Figure.deleted_at).is_(None)))).all()
    assert saved == []
    assert "pendaftaran sudah ditutup" in harness.fake.sent_texts(300)[-1]


async def test_two_bots_remind_the_admins_once(harness: Harness, database_url: str, engine: AsyncEngine) -> None:
    await make_figures(harness, 4000, 1)
    _until(harness, dt.date(2029, 12, 31), database_url)
    async with _restarted(harness, engine) as (bot2, data2):
        data2.settings = harness.app.bot_data.settings
        await asyncio.gather(
            jobs.remind_admins(harness.app.bot, harness.app.bot_data, now=NOW),
            jobs.remind_admins(bot2, data2, now=NOW),
            return_exceptions=True,
        )
    assert len(harness.fake.sent_texts(ADMIN_ID)) == 1
    assert len(await _events(harness, "retention.reminder")) == 1


async def test_two_purges_at_once_erase_and_count_each_figure_once(
    harness: Harness, database_url: str, engine: AsyncEngine
) -> None:
    await make_figures(harness, 4000, 6)
    _until(harness, TODAY - dt.timedelta(days=1), database_url)
    async with _restarted(harness, engine) as (_bot2, data2):
        await asyncio.gather(
            _purge(harness), _purge(harness, sessions=data2.sessions, source="cli"), return_exceptions=True
        )
    events = await _events(harness, "retention.purge")
    assert sum(e.details["figures"] for e in events) == 6


async def test_a_date_already_past_deletes_nothing_by_itself(harness: Harness, database_url: str) -> None:
    """A mistyped date (2024 for 2029): the job erases nobody, tells the admins once, and `rangkul purge`
    remains the deliberate way."""
    await make_figures(harness, 4000, 1)
    _until(harness, dt.date(2024, 12, 31), database_url)
    for hours in (0, 1, 25):
        await jobs.run_daily(harness.app.bot, harness.app.bot_data, now=NOW + dt.timedelta(hours=hours))
    async with harness.app.bot_data.sessions() as session:
        left = (await session.exec(select(Figure).where(col(Figure.deleted_at).is_(None)))).all()
    assert len(left) == 1
    [told] = harness.fake.sent_texts(ADMIN_ID)
    assert "tidak ada yang dihapus secara otomatis" in told and "rangkul purge" in told
    [event] = await _events(harness, "retention.reminder")
    assert event.details["overdue"] is True
    assert (await _purge(harness, source="cli")).figures == 1


async def test_a_unknown_chat_does_not_hold_up_the_other_figures_notice(harness: Harness, database_url: str) -> None:
    async with harness.app.bot_data.sessions() as session:
        for user_id in range(9000, 9030):  # chats Telegram does not know ("chat not found": a BadRequest)
            person = Person(telegram_id=user_id, first_name="X")
            session.add(person)
            await session.flush()
            session.add(
                Figure(
                    person_id=person.id,
                    full_name="X",
                    category="tokoh_pemuda",
                    age_bracket="26-40",
                    region_code="63.71.05.1003",
                    consent_version=notice.current_version(harness.app.bot_data.settings, "id"),
                )
            )
        await session.commit()
    [reachable] = await make_figures(harness, 4000, 1)
    _until(harness, dt.date(2029, 12, 31), database_url)
    for minute in range(3):
        await jobs.tell_figures(harness.app.bot, harness.app.bot_data, now=NOW + dt.timedelta(minutes=minute), pause=0)
    assert any("akan dihapus setelah" in t for t in harness.fake.sent_texts(reachable))
    async with harness.app.bot_data.sessions() as session:
        unknown = (await session.exec(select(Figure).where(col(Figure.full_name) == "X"))).all()
    assert all(f.unreachable_since is not None for f in unknown)


async def test_a_notice_that_may_have_arrived_is_not_sent_again(harness: Harness, database_url: str) -> None:
    [figure] = await make_figures(harness, 4000, 1)
    _until(harness, dt.date(2029, 12, 31), database_url)
    sent: list[int] = []

    class LossyBot:
        async def send_message(self, chat_id: int, text: str, **kwargs: object) -> None:
            sent.append(chat_id)
            if len(sent) == 1:
                raise TimedOut()  # the request went out; its answer was lost

    for minute in (0, 1):
        await jobs.tell_figures(LossyBot(), harness.app.bot_data, now=NOW + dt.timedelta(minutes=minute), pause=0)  # type: ignore[arg-type]
    assert sent == [figure]


async def test_an_officers_own_registration_draft_goes_with_the_purge(harness: Harness, database_url: str) -> None:
    await register(harness, 500, name="Petugas Tokoh")
    async with harness.app.bot_data.sessions() as session:
        person = (await session.exec(select(Person).where(Person.telegram_id == 500))).one()
        await roles.grant(session=session, actor=person, subject=person, role=Role.ORGANIZER, region_codes=["63.71"])
        await session.commit()
    [profile] = await harness.send(500, "/profil")
    await harness.press(500, profile, "Ubah nama")
    _until(harness, TODAY - dt.timedelta(days=1), database_url)
    await _reminded_then_passed(harness)
    async with harness.app.bot_data.sessions() as session:
        states = (await session.exec(select(ConversationState))).all()
        grants = (await session.exec(select(RoleGrant))).all()
    assert states == [] and [g.role for g in grants] == [Role.ORGANIZER]


async def test_hapusdata_by_an_organizer_records_the_role_revoked(harness: Harness) -> None:
    await make_organizer(harness, 500, "63.71")
    [question] = await harness.send(500, "/hapusdata")
    await harness.press(500, question, "Ya, hapus data saya")
    async with harness.app.bot_data.sessions() as session:
        grants = (await session.exec(select(RoleGrant))).all()
    [revoke] = await _events(harness, "role.revoke")
    assert grants == [] and revoke.details["reason"] == "hapusdata" and revoke.details["role"] == Role.ORGANIZER
