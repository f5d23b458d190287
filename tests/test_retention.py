"""The retention promise: privacy.retention_until validated; `rangkul purge` (and its dry run) and the bot's daily
job erase every figure's personal data once the date has passed, exactly as /hapusdata does, in batches, audited;
the admins are reminded once, and each figure is told once, before it happens."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot

from bot.app import build_application
from bot.cli import main
from bot.config import SettingsError, load_settings
from bot.context import BotData
from bot.delivery import retention as jobs
from bot.services import retention
from bot.services.retention import Phase
from models import AuditEvent, Broadcast, Commitment, Figure, Person, Reply, Role, RoleGrant, utcnow
from tests.conftest import ADMIN_ID, ROOT, Harness, make_settings
from tests.faketg import FakeRequest
from tests.test_broadcast import make_figures, make_organizer

TODAY = dt.date(2029, 12, 20)
# 10.00 WITA on TODAY.
NOW = dt.datetime(2029, 12, 20, 2, 0, tzinfo=dt.UTC)


def _until(harness: Harness, until: dt.date | None, database_url: str) -> None:
    harness.use_settings(make_settings(database_url, privacy={"retention_until": until}))


async def _figures(harness: Harness) -> list[Figure]:
    async with harness.app.bot_data.sessions() as session:
        return list((await session.exec(select(Figure).order_by(col(Figure.id)))).all())


async def _events(harness: Harness, action: str) -> list[AuditEvent]:
    async with harness.app.bot_data.sessions() as session:
        return list((await session.exec(select(AuditEvent).where(AuditEvent.action == action))).all())


# ----------------------------------------------------------------------------------------------------- settings


def test_the_retention_date_is_validated(tmp_path: Path) -> None:
    def load(value: str) -> dt.date | None:
        config = tmp_path / "settings.toml"
        config.write_text(f"[privacy]\nretention_until = {value}\n", encoding="utf-8")
        return load_settings(config, environ={}).privacy.retention_until

    assert load("2030-06-30") == dt.date(2030, 6, 30)
    assert load('""') is None  # empty: no date, nothing expires
    assert load('"2030-06-30"') == dt.date(2030, 6, 30)
    for bad in ('"30-06-2030"', "2030-06-30T10:00:00", '"besok"', "2030"):
        with pytest.raises(SettingsError, match=r"privacy\.retention_until"):
            load(bad)
    environ = {"RANGKUL_PRIVACY__RETENTION_UNTIL": ""}
    assert load_settings(ROOT / "settings.toml", environ=environ).privacy.retention_until is None
    assert load_settings(ROOT / "settings.toml", environ={}).privacy.retention_until == dt.date(2029, 12, 31)


def test_phases_follow_the_office_calendar(database_url: str) -> None:
    settings = make_settings(database_url, privacy={"retention_until": dt.date(2029, 12, 31)})
    assert retention.phase(settings, dt.date(2029, 12, 16)) is Phase.KEPT
    assert retention.phase(settings, dt.date(2029, 12, 17)) is Phase.REMINDING  # 14 days before
    assert retention.phase(settings, dt.date(2029, 12, 31)) is Phase.REMINDING  # kept through the day itself
    assert retention.phase(settings, dt.date(2030, 1, 1)) is Phase.PASSED
    # 16.30 UTC on 31 December is already 1 January in WITA (the office's zone).
    assert retention.today(settings, dt.datetime(2029, 12, 31, 16, 30, tzinfo=dt.UTC)) == dt.date(2030, 1, 1)
    no_date = make_settings(database_url, privacy={"retention_until": None})
    assert retention.phase(no_date, dt.date(2100, 1, 1)) is Phase.NO_DATE


async def test_without_a_date_the_notice_and_berhenti_promise_no_date(harness: Harness, database_url: str) -> None:
    _until(harness, None, database_url)
    harness.fake.user(300, "Tamu")
    await harness.send(300, "/daftar")
    notice = harness.last(300).shown
    assert "selama kantor kami memerlukannya" in notice and "sampai Anda menghapusnya dengan /hapusdata" in notice
    [figure] = await make_figures(harness, 4000, 1)
    [stopped] = await harness.send(figure, "/berhenti")
    assert "paling lama" not in stopped.shown and "/hapusdata" in stopped.shown


# -------------------------------------------------------------------------------------------------------- purge


async def _population(harness: Harness) -> dict[str, int]:
    """Three figures with replies and a commitment, one who already deleted their data, and an organizer who is
    also registered as a figure."""
    figures = await make_figures(harness, 4000, 3, region_code="63.71.05.1003", phone="+6281234567890")
    for user_id in figures:
        await harness.send(user_id, f"Pertanyaan dari {user_id}")
    [gone] = await make_figures(harness, 4100, 1)
    [question] = await harness.send(gone, "/hapusdata")
    await harness.press(gone, question, "Ya, hapus data saya")
    await make_organizer(harness, 500, "63.71")
    async with harness.app.bot_data.sessions() as session:
        organizer = (await session.exec(select(Person).where(Person.telegram_id == 500))).one()
        session.add(
            Figure(
                person_id=organizer.id,
                full_name="Petugas Sekaligus Tokoh",
                category="tokoh_masyarakat",
                age_bracket="41-60",
                region_code="63.71.01.1001",
                consent_version="x",
            )
        )
        first = (await session.exec(select(Figure).order_by(col(Figure.id)))).first()
        assert first is not None and first.id is not None
        session.add(
            Commitment(figure_id=first.id, broadcast_id=await _a_broadcast(session), kind="tps", template_version="v")
        )
        await session.commit()
    return {"figures": 4, "replies": 3}


async def _a_broadcast(session: AsyncSession) -> int:
    broadcast = Broadcast(template="ayo_ke_tps.html", template_version="v", status="done")
    session.add(broadcast)
    await session.flush()
    assert broadcast.id is not None
    return broadcast.id


def _config(tmp_path: Path, database_url: str, until: str) -> str:
    config = tmp_path / "purge.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n\n[privacy]\nretention_until = {until}\n\n'
        f"[roles]\nbootstrap_admins = [{ADMIN_ID}]\n",
        encoding="utf-8",
    )
    return str(config)


async def test_rangkul_purge_dry_run_then_real_run(
    harness: Harness, tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await _population(harness)
    before = await _figures(harness)
    already_gone = next(f for f in before if f.deleted_at is not None)
    yesterday = (utcnow().astimezone(harness.app.bot_data.settings.tz) - dt.timedelta(days=1)).date()
    config = _config(tmp_path, database_url, yesterday.isoformat())
    # Dry run: the count, nothing deleted.
    assert await asyncio.to_thread(main, ["purge", "--dry-run", "--config", config]) == 0
    assert capsys.readouterr().out == (
        f"dry run: the personal data of 4 figures would be deleted (privacy.retention_until {yesterday.isoformat()} "
        "has passed); nothing was deleted\n"
    )
    assert [f.full_name for f in await _figures(harness)] == [f.full_name for f in before]
    assert await _events(harness, "retention.purge") == []
    # The real run.
    assert await asyncio.to_thread(main, ["purge", "--config", config]) == 0
    assert capsys.readouterr().out == (
        f"deleted the personal data of 4 figures (privacy.retention_until {yesterday.isoformat()} has passed); "
        "recorded in the audit log as retention.purge\n"
    )
    after = await _figures(harness)
    for figure, was in zip(after, before, strict=True):
        # Nothing that names anyone; what anonymous reports need is kept (the kecamatan, not the desa; dates).
        assert (figure.full_name, figure.phone, figure.organization, figure.person_id) == (None, None, None, None)
        assert figure.deleted_at is not None and figure.messages_opt_in is False
        assert (figure.category, figure.age_bracket) == (was.category, was.age_bracket)
        assert figure.region_code == was.region_code[:8]
        assert figure.registered_at.astimezone(harness.app.bot_data.settings.tz).time() == dt.time(0)
    assert next(f for f in after if f.id == already_gone.id).model_dump() == already_gone.model_dump()  # untouched
    async with harness.app.bot_data.sessions() as session:
        assert (await session.exec(select(Reply))).all() == []
        assert len((await session.exec(select(Commitment))).all()) == 1  # counted in reports, names nobody
        people = {p.id: p for p in (await session.exec(select(Person))).all()}
        organizer = next(p for p in people.values() if p.telegram_id == 500)
        grants = (await session.exec(select(RoleGrant).where(RoleGrant.person_id == organizer.id))).all()
    figure_people = [p for p in people.values() if p.telegram_id not in (500, ADMIN_ID)]
    assert all((p.telegram_id, p.first_name, p.username, p.locale) == (None, None, None, None) for p in figure_people)
    # The organizer keeps their account and role: the office's access, not a figure's data.
    assert organizer.first_name == "Petugas" and [g.role for g in grants] == [Role.ORGANIZER]
    [event] = await _events(harness, "retention.purge")
    assert event.actor_person_id is None
    assert event.details == {"figures": 4, "people": 0, "retention_until": yesterday.isoformat(), "source": "cli"}
    # Again: nothing left, nothing recorded.
    assert await asyncio.to_thread(main, ["purge", "--config", config]) == 0
    assert "deleted the personal data of 0 figures" in capsys.readouterr().out
    assert len(await _events(harness, "retention.purge")) == 1


async def test_rangkul_purge_before_the_date_or_without_one_deletes_nothing(
    harness: Harness, tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_figures(harness, 4000, 2)
    config = _config(tmp_path, database_url, "2099-12-31")
    for args in (["purge"], ["purge", "--dry-run"]):
        assert await asyncio.to_thread(main, [*args, "--config", config]) == 0
        line = capsys.readouterr().out
        assert line.startswith("privacy.retention_until is 2099-12-31 and has not passed (today is ")
        assert line.endswith("in Asia/Makassar): nothing was deleted; 2 figures hold personal data\n")
    config = _config(tmp_path, database_url, '""')
    assert await asyncio.to_thread(main, ["purge", "--config", config]) == 0
    assert capsys.readouterr().out == (
        "privacy.retention_until is not set: personal data does not expire; nothing was deleted\n"
    )
    assert all(f.full_name for f in await _figures(harness))
    assert await _events(harness, "retention.purge") == []


async def test_the_purge_goes_in_batches_and_counts_them_all_once(harness: Harness, database_url: str) -> None:
    await make_figures(harness, 4000, 7)
    _until(harness, TODAY - dt.timedelta(days=1), database_url)
    outcome = await retention.purge(
        sessions=harness.app.bot_data.sessions,
        settings=harness.app.bot_data.settings,
        on=TODAY,
        source="job",
        batch=3,
        pause=0,
    )
    assert (outcome.phase, outcome.figures) == (Phase.PASSED, 7)
    assert all(f.deleted_at is not None for f in await _figures(harness))
    # One event per batch, each in the transaction of its erasures: a purge cut short is audited as far as it went.
    events = await _events(harness, "retention.purge")
    assert [event.details["figures"] for event in events] == [3, 3, 1]


async def test_a_purged_figure_who_writes_again_is_a_stranger(harness: Harness, database_url: str) -> None:
    [figure] = await make_figures(harness, 4000, 1)
    _until(harness, TODAY - dt.timedelta(days=1), database_url)
    # Reminded before the date (as the job does fourteen days ahead), then purged by the job after it.
    reminding = NOW - dt.timedelta(days=3)
    await jobs.run_daily(harness.app.bot, harness.app.bot_data, now=reminding)
    await jobs.run_daily(harness.app.bot, harness.app.bot_data, now=NOW)
    [answer] = await harness.send(figure, "/profil")
    assert "/daftar" in answer.shown


# ------------------------------------------------------------------------------------------ the daily job, reminders


@contextlib.asynccontextmanager
async def _restarted(harness: Harness, engine: AsyncEngine) -> AsyncIterator[tuple[Bot, BotData]]:
    """A new application on the same database and fake Telegram, as after `rangkul run` is started again."""
    app = build_application(
        harness.app.bot_data.settings,
        harness.fake.token,
        engine,
        request=FakeRequest(harness.fake),
        get_updates_request=FakeRequest(harness.fake),
    )
    await app.initialize()
    try:
        yield app.bot, app.bot_data
    finally:
        await app.shutdown()


async def test_the_daily_job_reminds_admins_once_then_purges_after_the_date(
    harness: Harness, database_url: str, engine: AsyncEngine
) -> None:
    await make_figures(harness, 4000, 2)
    await make_organizer(harness, 500, "63.71")
    async with harness.app.bot_data.sessions() as session:
        admin = Person(telegram_id=600, first_name="Admin Kedua", locale="en")
        session.add(admin)
        await session.flush()
        assert admin.id is not None
        session.add(RoleGrant(person_id=admin.id, role=Role.ADMIN))
        await session.commit()
    harness.fake.user(600, "Admin Kedua")
    bot, bot_data = harness.app.bot, harness.app.bot_data
    _until(harness, dt.date(2029, 12, 31), database_url)
    # More than 14 days before: nothing.
    await jobs.run_daily(bot, bot_data, now=NOW - dt.timedelta(days=10))
    assert harness.fake.sent_texts(ADMIN_ID) == []
    # Within 14 days: every admin once (the bootstrap admin, who never wrote, too), in their own language.
    await jobs.run_daily(bot, bot_data, now=NOW)
    [reminder] = harness.fake.sent_texts(ADMIN_ID)
    assert "masa penyimpanan data pribadi segera berakhir" in reminder
    assert "Senin, 31 Desember 2029" in reminder and "12 hari lagi" in reminder and "2 tokoh" in reminder
    assert "/dataku" in reminder and "/hapusdata" in reminder
    [english] = harness.fake.sent_texts(600)
    assert "Monday, 31 December 2029" in english
    assert harness.fake.sent_texts(500) == []  # organizers are not admins
    # The next hour, the next day, after a restart (a new application on the same database): not again.
    await jobs.run_daily(bot, bot_data, now=NOW + dt.timedelta(hours=1))
    async with _restarted(harness, engine) as (bot, bot_data):
        await jobs.run_daily(bot, bot_data, now=NOW + dt.timedelta(days=1))
    bot, bot_data = harness.app.bot, harness.app.bot_data
    assert len(harness.fake.sent_texts(ADMIN_ID)) == 1 and len(harness.fake.sent_texts(600)) == 1
    [event] = await _events(harness, "retention.reminder")
    assert event.details == {"retention_until": "2029-12-31", "admins": 2, "figures": 2, "overdue": False}
    # A new date is a new reminder.
    _until(harness, dt.date(2030, 1, 2), database_url)
    await jobs.run_daily(bot, harness.app.bot_data, now=NOW + dt.timedelta(days=1))
    assert len(harness.fake.sent_texts(ADMIN_ID)) == 2
    # After the date (00.30 WITA on 3 January): the purge, audited as the job's.
    outcome = await jobs.run_daily(bot, harness.app.bot_data, now=dt.datetime(2030, 1, 2, 16, 30, tzinfo=dt.UTC))
    assert outcome is not None and outcome.figures == 2
    assert [f.full_name for f in await _figures(harness)] == [None, None]
    [purge] = await _events(harness, "retention.purge")
    assert purge.details == {"figures": 2, "people": 0, "retention_until": "2030-01-02", "source": "job"}


async def test_each_figure_is_told_once_before_the_deletion(
    harness: Harness, database_url: str, engine: AsyncEngine
) -> None:
    told, stopped, blocked, gone = await make_figures(harness, 4000, 4)
    await harness.send(stopped, "/berhenti")
    [question] = await harness.send(gone, "/hapusdata")
    await harness.press(gone, question, "Ya, hapus data saya")
    harness.fake.block(blocked)
    bot = harness.app.bot
    _until(harness, dt.date(2029, 12, 31), database_url)
    before = {user: len(harness.fake.sent_texts(user)) for user in (told, stopped, blocked, gone)}
    assert await jobs.tell_figures(bot, harness.app.bot_data, now=NOW - dt.timedelta(days=15), pause=0) == 0
    assert await jobs.tell_figures(bot, harness.app.bot_data, now=NOW, pause=0) == 2
    for user in (told, stopped):  # a figure who stopped the messages still holds data: told about it too
        [notice] = harness.fake.sent_texts(user)[before[user] :]
        assert notice.startswith("Data pribadi Anda akan dihapus setelah Senin, 31 Desember 2029")
        assert "Komisi Pemilihan Umum Provinsi Kalimantan Selatan" in notice
        assert "kecamatan (bukan desa)" in notice and "/dataku" in notice and "/hapusdata" in notice
        assert "Komitmen yang pernah Anda buat tetap ada dalam laporan tersebut hanya" in notice
    assert len(harness.fake.sent_texts(gone)) == before[gone]
    figures = {f.id: f for f in await _figures(harness)}
    told_for = sorted(str(f.retention_told_for) for f in figures.values())
    assert told_for == ["2029-12-31", "2029-12-31", "None", "None"]  # not the blocked one, not the deleted one
    assert sum(f.unreachable_since is not None for f in figures.values()) == 1  # the blocked one, marked
    # Another run, a restart: nobody is told twice; the blocked figure is left until they write again.
    assert await jobs.tell_figures(bot, harness.app.bot_data, now=NOW + dt.timedelta(minutes=1), pause=0) == 0
    async with _restarted(harness, engine) as (new_bot, new_data):
        assert await jobs.tell_figures(new_bot, new_data, now=NOW + dt.timedelta(minutes=1), pause=0) == 0
    harness.fake.unblock(blocked)
    await harness.send(blocked, "/bantuan")  # writing again makes them reachable
    assert await jobs.tell_figures(bot, harness.app.bot_data, now=NOW + dt.timedelta(minutes=2), pause=0) == 1
    assert "akan dihapus setelah" in harness.fake.sent_texts(blocked)[-1]
    assert await jobs.tell_figures(bot, harness.app.bot_data, now=NOW + dt.timedelta(minutes=3), pause=0) == 0


async def test_the_figures_notice_waits_out_a_quiet_period(harness: Harness, database_url: str) -> None:
    await make_figures(harness, 4000, 1)
    settings = make_settings(database_url, privacy={"retention_until": dt.date(2029, 2, 20)})
    harness.use_settings(settings)
    # 12 February 2029 lies in the default masa tenang (11-13 February).
    quiet = dt.datetime(2029, 2, 12, 3, 0, tzinfo=dt.UTC)
    assert await jobs.tell_figures(harness.app.bot, harness.app.bot_data, now=quiet, pause=0) == 0
    assert (
        await jobs.tell_figures(harness.app.bot, harness.app.bot_data, now=quiet + dt.timedelta(days=4), pause=0) == 1
    )


async def test_a_failing_job_is_logged_and_does_not_stop_the_bot(
    harness: Harness, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        bot = harness.app.bot

        @property
        def bot_data(self) -> object:
            raise RuntimeError("database away")

    await jobs.retention_job(Broken())  # type: ignore[arg-type]
    await jobs.notice_job(Broken())  # type: ignore[arg-type]
    assert "the retention job failed" in caplog.text and "the next run tries again" in caplog.text


async def test_registration_is_closed_once_the_date_has_passed(harness: Harness, database_url: str) -> None:
    """The notice would promise to keep the data until a day gone by, and the purge would erase it within the hour."""
    _until(harness, dt.date(2020, 12, 31), database_url)
    harness.fake.user(300, "Tamu")
    [closed] = await harness.send(300, "/daftar")
    assert "pendaftaran sudah ditutup" in closed.shown and "Kamis, 31 Desember 2020" in closed.shown
    assert "/bantuan" in closed.shown
    _until(harness, dt.date(2099, 12, 31), database_url)
    await harness.send(300, "/daftar")
    assert "Sebelum mendaftar" in harness.last(300).shown
