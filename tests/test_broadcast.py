"""Broadcasts through the fake Bot API: composing, scope, preview, scheduling, control, 429s, blocked
recipients, quiet periods and recovery after a crash."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlmodel import col, select

from bot import catalog, i18n, notice
from bot.config import Settings, bundled_templates_dir
from bot.delivery import DeliveryEngine
from bot.services import broadcasts as broadcast_service
from bot.services import roles
from bot.services.quiet import release_at
from models import (
    AuditEvent,
    Broadcast,
    BroadcastStatus,
    ConversationState,
    Delivery,
    DeliveryStatus,
    Figure,
    Person,
    Role,
    utcnow,
)
from tests.conftest import ADMIN_ID, Harness
from tests.faketg.core import FakeMessage

ORGANIZER = 500
OTHER_ORGANIZER = 501


async def make_figures(
    harness: Harness, first_id: int, count: int, region_code: str = "63.71.05.1003", **fields: Any
) -> list[int]:
    """COUNT registered figures (Telegram users FIRST_ID, FIRST_ID+1, ...) straight into the database."""
    ids = list(range(first_id, first_id + count))
    async with harness.app.bot_data.sessions() as session:
        for user_id in ids:
            harness.fake.user(user_id, f"Tokoh{user_id}")
            person = Person(telegram_id=user_id, first_name=f"Tokoh{user_id}", language_code="id")
            session.add(person)
            await session.flush()
            values = {"category": "tokoh_pemuda", "age_bracket": "26-40", **fields}
            session.add(
                Figure(
                    person_id=person.id,
                    full_name=f"Tokoh Nomor {chr(65 + user_id % 26)}",
                    region_code=region_code,
                    # Agreed to today's notice: a figure on an earlier one would first be told it changed.
                    consent_version=notice.current_version(harness.app.bot_data.settings, "id"),
                    **values,
                )
            )
        await session.commit()
    return ids


async def make_organizer(harness: Harness, user_id: int, *codes: str) -> None:
    harness.fake.user(user_id, "Petugas", username=f"petugas_{user_id}")
    async with harness.app.bot_data.sessions() as session:
        person = Person(telegram_id=user_id, first_name="Petugas", username=f"petugas_{user_id}", language_code="id")
        session.add(person)
        await session.flush()
        await roles.grant(session=session, actor=person, subject=person, role=Role.ORGANIZER, region_codes=codes)
        await session.commit()


def _buttons_message(harness: Harness, user_id: int) -> FakeMessage:
    return next(m for m in reversed(harness.fake.chat(user_id).messages) if m.buttons())


async def tap(harness: Harness, user_id: int, label: str) -> None:
    await harness.press(user_id, _buttons_message(harness, user_id), label)


ALL_REGIONS = ("Semua wilayah", "Seluruh wilayah saya")


async def compose_invitation(harness: Harness, user_id: int, region: str) -> None:
    """/siaran up to the preview: the socialization invitation, to REGION (a typed name or code, or the button
    for all regions), everyone in it."""
    await harness.send(user_id, "/siaran")
    await tap(harness, user_id, "Undangan sosialisasi")
    await harness.send(user_id, "Aula Kantor Kelurahan Mawar")
    await harness.send(user_id, "Senin, 21 Januari 2030")
    await harness.send(user_id, "09.00 WITA")
    if region in ALL_REGIONS:
        await tap(harness, user_id, region)
    else:
        await harness.send(user_id, region)
        await tap(harness, user_id, "Lanjut ›")
    await tap(harness, user_id, "Lanjut ›")
    await tap(harness, user_id, "Lanjut ›")
    await tap(harness, user_id, "Semua, kapan pun mendaftar")


async def _broadcasts(harness: Harness) -> list[Broadcast]:
    async with harness.app.bot_data.sessions() as session:
        return list((await session.exec(select(Broadcast).order_by(col(Broadcast.id)))).all())


async def _outcomes(harness: Harness, broadcast_id: int) -> dict[str, int]:
    async with harness.app.bot_data.sessions() as session:
        rows = (await session.exec(select(Delivery.status).where(Delivery.broadcast_id == broadcast_id))).all()
    counts: dict[str, int] = {}
    for status in rows:
        counts[status] = counts.get(status, 0) + 1
    return counts


def _received(harness: Harness, user_ids: list[int], needle: str) -> list[int]:
    """How many messages containing NEEDLE each user received."""
    return [sum(needle in text for text in harness.fake.sent_texts(user_id)) for user_id in user_ids]


async def test_organizer_composes_previews_and_sends_within_scope(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    inside = await make_figures(harness, 1000, 6, "63.71.05.1003")
    outside = await make_figures(harness, 2000, 3, "63.72.01.1001")
    await harness.send(ORGANIZER, "/siaran")
    await tap(harness, ORGANIZER, "Undangan sosialisasi")
    assert "Tempat kegiatan" in harness.last(ORGANIZER).shown
    await harness.send(ORGANIZER, "Aula Kantor Kelurahan Mawar")
    [problem] = await harness.send(ORGANIZER, "31-02-2030")
    assert "Tanggal itu tidak ada" in problem.shown
    await harness.send(ORGANIZER, "Senin, 21 Januari 2030")
    [problem] = await harness.send(ORGANIZER, "jam sembilan")
    assert "Jam tidak dikenali" in problem.shown
    await harness.send(ORGANIZER, "09.00 WITA")
    region_question = harness.last(ORGANIZER)
    # An organizer with one region starts inside it: all of it, or one of its kecamatan.
    labels = [b["text"] for b in region_question.buttons()]
    assert labels[:2] == ["➕ Seluruh Kota Banjarmasin", "Banjarmasin Selatan ›"]
    assert "Seluruh wilayah saya" in labels
    [problem] = await harness.send(ORGANIZER, "63.72")
    assert "di luar wilayah kewenangan Anda" in problem.shown
    await harness.send(ORGANIZER, "63.71.05")
    await tap(harness, ORGANIZER, "Lanjut ›")
    await tap(harness, ORGANIZER, "Tokoh pemuda")
    assert "✓ Tokoh pemuda" in [b["text"] for b in _buttons_message(harness, ORGANIZER).buttons()]
    await tap(harness, ORGANIZER, "Lanjut ›")
    await tap(harness, ORGANIZER, "Lanjut ›")
    await tap(harness, ORGANIZER, "Semua, kapan pun mendaftar")
    preview, header = harness.fake.chat(ORGANIZER).messages[-2:]
    assert "Aula Kantor Kelurahan Mawar" in preview.shown
    assert "Senin, 21 Januari 2030" in preview.shown
    assert "Tokoh Nomor" in preview.shown
    assert "Jumlah penerima: 6" in header.shown
    await tap(harness, ORGANIZER, "📨 Kirim sekarang")
    [broadcast] = await _broadcasts(harness)
    assert (broadcast.recipient_count, broadcast.status) == (6, BroadcastStatus.RUNNING)
    await harness.deliver()
    assert _received(harness, inside, "Aula Kantor Kelurahan Mawar") == [1] * 6
    assert _received(harness, outside, "Aula Kantor Kelurahan Mawar") == [0] * 3
    assert await _outcomes(harness, broadcast.id or 0) == {"sent": 6}
    status = harness.fake.chat(ORGANIZER).find(_status_message_id(await _broadcasts(harness)))
    assert status is not None
    assert "Terkirim: 6" in status.shown
    assert "selesai" in status.shown
    assert status.buttons() == []
    async with harness.app.bot_data.sessions() as session:
        actions = [e.action for e in (await session.exec(select(AuditEvent))).all()]
        create = (await session.exec(select(AuditEvent).where(AuditEvent.action == "broadcast.create"))).one()
    assert {"broadcast.create", "broadcast.start", "broadcast.finish"} <= set(actions)
    assert create.details["template_version"] == broadcast.template_version
    assert create.details["recipients"] == 6
    assert create.details["segment"]["regions"] == ["63.71.05"]


def _status_message_id(broadcasts: list[Broadcast]) -> int:
    message_id = broadcasts[-1].status_message_id
    assert message_id is not None
    return message_id


async def test_figures_cannot_broadcast_and_organizers_stay_in_scope(harness: Harness) -> None:
    await make_figures(harness, 1100, 1)
    [refused] = await harness.send(1100, "/siaran")
    assert "hanya penyelenggara pemilu" in refused.shown
    [refused] = await harness.send(1100, "/status")
    assert "hanya penyelenggara pemilu" in refused.shown
    await make_organizer(harness, ORGANIZER, "63.72")
    await make_figures(harness, 1200, 4, "63.71.05.1003")
    await harness.send(ORGANIZER, "/siaran")
    await tap(harness, ORGANIZER, "Undangan sosialisasi")
    await harness.send(ORGANIZER, "Balai Desa")
    await harness.send(ORGANIZER, "21-01-2030")
    await harness.send(ORGANIZER, "09.00")
    # A forged region button for Banjarmasin (outside the organizer's Banjarbaru scope).
    question = harness.last(ORGANIZER)
    version = question.buttons()[0]["callback_data"].split(":")[2]
    await harness.press_data(ORGANIZER, question, f"sx:pick:{version}:63.71")
    assert "di luar wilayah kewenangan Anda" in harness.last(ORGANIZER).shown
    await tap(harness, ORGANIZER, "Seluruh wilayah saya")
    await tap(harness, ORGANIZER, "Lanjut ›")
    await tap(harness, ORGANIZER, "Lanjut ›")
    await tap(harness, ORGANIZER, "Semua, kapan pun mendaftar")
    assert "Tidak ada tokoh terdaftar" in harness.last(ORGANIZER).shown
    assert await _broadcasts(harness) == []


async def test_scheduling_in_the_organizers_time_zone(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63")
    recipients = await make_figures(harness, 1300, 3)
    await compose_invitation(harness, ORGANIZER, "Kalimantan Selatan")
    await tap(harness, ORGANIZER, "🕒 Jadwalkan")
    [problem] = await harness.send(ORGANIZER, "01-01-2020 09.00")
    assert "sudah lewat" in problem.shown
    # (A time inside the masa tenang is accepted and held back until its release: tests/test_quiet_period.py.)
    [confirmation] = await harness.send(ORGANIZER, "20-01-2030 08.30")
    assert "Terjadwal: siaran #1 kepada 3 penerima pada Minggu, 20 Januari 2030 pukul 08.30 WITA" in confirmation.shown
    [broadcast] = await _broadcasts(harness)
    assert broadcast.scheduled_at == dt.datetime(2030, 1, 20, 0, 30, tzinfo=dt.UTC)
    await harness.deliver()
    assert _received(harness, recipients, "Aula") == [0, 0, 0]  # not due yet
    async with harness.app.bot_data.sessions() as session:
        stored = await session.get(Broadcast, broadcast.id)
        assert stored is not None
        stored.scheduled_at = utcnow() - dt.timedelta(seconds=1)
        session.add(stored)
        await session.commit()
    await harness.deliver()
    assert _received(harness, recipients, "Aula") == [1, 1, 1]


async def test_pause_resume_cancel_and_forged_control(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63")
    await make_organizer(harness, OTHER_ORGANIZER, "63")
    recipients = await make_figures(harness, 1400, 5)
    await compose_invitation(harness, ORGANIZER, "Kalimantan Selatan")
    await tap(harness, ORGANIZER, "📨 Kirim sekarang")
    [broadcast] = await _broadcasts(harness)
    # Another organizer forges the pause button of this broadcast.
    await harness.send(OTHER_ORGANIZER, "/bantuan")
    own = harness.last(OTHER_ORGANIZER)
    await harness.press_data(OTHER_ORGANIZER, own, "bc:²:pause")  # forged, not even a number
    assert "sudah tidak berlaku" in harness.fake.callback_answers[-1]["text"]
    await harness.press_data(OTHER_ORGANIZER, own, f"bc:{broadcast.id}:pause")
    assert "hanya dapat mengatur siaran Anda sendiri" in harness.fake.callback_answers[-1]["text"]
    # The owner pauses from /status; delivery then sends nothing.
    [status] = await harness.send(ORGANIZER, "/status")
    await harness.press(ORGANIZER, status, "Hentikan sementara")
    await harness.deliver()
    assert _received(harness, recipients, "Aula") == [0] * 5
    assert (await _broadcasts(harness))[0].status == BroadcastStatus.PAUSED
    [status] = await harness.send(ORGANIZER, "/status")
    assert "Dihentikan sementara oleh penyelenggara" in status.shown
    await harness.press(ORGANIZER, status, "Lanjutkan")
    await harness.deliver()
    assert _received(harness, recipients, "Aula") == [1] * 5
    # A second broadcast, cancelled before delivery: every recipient is accounted for as skipped.
    await compose_invitation(harness, ORGANIZER, "Kalimantan Selatan")
    await tap(harness, ORGANIZER, "📨 Kirim sekarang")
    status, _first = await harness.send(ORGANIZER, "/status")  # newest first
    assert status.shown.startswith("Siaran #2")
    cancel_data = next(b["callback_data"] for b in status.buttons() if b["text"] == "Batal")
    await harness.press(ORGANIZER, status, "Batal")
    await harness.deliver()
    second = (await _broadcasts(harness))[1]
    assert second.status == BroadcastStatus.CANCELLED
    assert await _outcomes(harness, second.id or 0) == {"skipped": 5}
    assert _received(harness, recipients, "Aula") == [1] * 5
    await harness.press_data(ORGANIZER, status, cancel_data)  # a stale button on a cancelled broadcast
    assert "tidak dapat dilakukan" in harness.fake.callback_answers[-1]["text"]


async def test_a_429_storm_is_waited_out_and_nothing_is_sent_twice(harness: Harness) -> None:
    recipients = await make_figures(harness, 1500, 8)
    harness.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, times=3)
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    await harness.deliver()
    assert _received(harness, recipients, "Aula") == [1] * 8
    [broadcast] = await _broadcasts(harness)
    assert await _outcomes(harness, broadcast.id or 0) == {"sent": 8}


async def test_blocked_recipients_are_reported_and_marked_unreachable(harness: Harness) -> None:
    recipients = await make_figures(harness, 1600, 40)
    blocked = recipients[::20]  # 5%
    for user_id in blocked:
        harness.fake.block(user_id)
    harness.fake.deactivate(recipients[7])
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    await harness.deliver()
    [broadcast] = await _broadcasts(harness)
    assert await _outcomes(harness, broadcast.id or 0) == {"sent": 37, "blocked": 2, "deactivated": 1}
    async with harness.app.bot_data.sessions() as session:
        unreachable = (
            await session.exec(
                select(Person.telegram_id)
                .join(Figure, col(Figure.person_id) == col(Person.id))
                .where(col(Figure.unreachable_since).is_not(None))
            )
        ).all()
    assert sorted(unreachable) == sorted([*blocked, recipients[7]])
    # The next broadcast does not count them.
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    assert "Jumlah penerima: 37" in harness.last(ADMIN_ID).shown


async def test_opted_out_after_composing_is_skipped(harness: Harness) -> None:
    recipients = await make_figures(harness, 1700, 3)
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    await harness.send(recipients[0], "/berhenti")
    await harness.deliver()
    [broadcast] = await _broadcasts(harness)
    assert await _outcomes(harness, broadcast.id or 0) == {"sent": 2, "skipped": 1}
    assert _received(harness, recipients, "Aula") == [0, 1, 1]


def _quiet_now(settings: Settings, *, starts_in: dt.timedelta = dt.timedelta(hours=-1)) -> Settings:
    data = settings.model_dump()
    now = utcnow()
    data["broadcast"]["quiet_periods"] = [
        {"name": "Masa tenang uji", "start": now + starts_in, "end": now + starts_in + dt.timedelta(hours=3)}
    ]
    return Settings.model_validate(data)


async def test_quiet_periods(harness: Harness) -> None:
    recipients = await make_figures(harness, 1800, 2)
    normal = harness.app.bot_data.settings
    quiet = _quiet_now(normal)
    # 1. Nothing can be confirmed inside a quiet period.
    harness.use_settings(quiet)
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    assert (
        "sesuai pengaturan Rangkul tidak ada siaran yang dikirim selama Masa tenang uji" in harness.last(ADMIN_ID).shown
    )
    assert await _broadcasts(harness) == []
    # 2. A running broadcast pauses itself when one begins, and says why.
    harness.use_settings(normal)
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    harness.use_settings(quiet)
    await harness.deliver()
    [running] = await _broadcasts(harness)
    assert (running.status, running.pause_reason) == (BroadcastStatus.PAUSED, "quiet")
    assert any("berhenti sementara dengan sendirinya: Masa tenang uji" in t for t in harness.fake.sent_texts(ADMIN_ID))
    assert _received(harness, recipients, "Aula") == [0, 0]
    [status] = await harness.send(ADMIN_ID, "/status")
    await harness.press(ADMIN_ID, status, "Lanjutkan")
    assert "Masa tenang uji" in harness.fake.callback_answers[-1]["text"]
    # 3. A scheduled one due inside it waits until the end, and the organizer is told.
    async with harness.app.bot_data.sessions() as session:
        stored = await session.get(Broadcast, running.id)
        assert stored is not None
        stored.status, stored.scheduled_at = BroadcastStatus.SCHEDULED, utcnow() - dt.timedelta(minutes=1)
        session.add(stored)
        await session.commit()
    await harness.deliver()
    [waiting] = await _broadcasts(harness)
    assert waiting.status == BroadcastStatus.SCHEDULED
    # Held back until the period's release: the first release hour (06.00 office time) at or after its end.
    release = release_at(quiet, quiet.broadcast.quiet_periods[0])
    assert waiting.scheduled_at == release
    told = f"akan dikirim pada {i18n.format_datetime(release, quiet.tz)}"
    assert any(told in t for t in harness.fake.sent_texts(ADMIN_ID))
    harness.use_settings(normal)


async def test_recovery_marks_in_flight_deliveries_uncertain_and_never_resends_them(harness: Harness) -> None:
    recipients = await make_figures(harness, 1900, 6)
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    [broadcast] = await _broadcasts(harness)
    async with harness.app.bot_data.sessions() as session:
        # As a crash leaves it: an engine that took the broadcast, marked two rows, and fell silent.
        stored = await session.get(Broadcast, broadcast.id)
        assert stored is not None
        stored.worker, stored.worker_seen_at = "dead-engine", utcnow() - dt.timedelta(seconds=5)
        session.add(stored)
        rows = (await session.exec(select(Delivery).order_by(col(Delivery.id)))).all()
        for row in rows[:2]:
            row.status = DeliveryStatus.SENDING
            session.add(row)
        await session.commit()
    await harness.deliver()
    assert _received(harness, recipients, "Aula") == [0] * 6  # its lease is not over yet: hands off
    async with harness.app.bot_data.sessions() as session:
        stored = await session.get(Broadcast, broadcast.id)
        assert stored is not None
        stored.worker_seen_at = utcnow() - dt.timedelta(seconds=60)
        session.add(stored)
        await session.commit()
    await harness.deliver()
    counts = await _outcomes(harness, broadcast.id or 0)
    assert counts == {"uncertain": 2, "sent": 4}
    assert sum(counts.values()) == broadcast.recipient_count
    assert _received(harness, recipients, "Aula") == [0, 0, 1, 1, 1, 1]
    [status] = await harness.send(ADMIN_ID, "/status")
    assert "Tidak pasti: 2" in status.shown


async def test_two_engines_never_send_twice(harness: Harness) -> None:
    recipients = await make_figures(harness, 2400, 40)
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    first = harness.app.bot_data.delivery
    assert isinstance(first, DeliveryEngine)
    second = DeliveryEngine(
        settings=first.settings,
        sessions=first.sessions,
        sender=first.sender,
        notifier=first.notifier,
        renderer=first.renderer,
    )
    stop = asyncio.Event()

    async def work(engine: DeliveryEngine) -> None:
        while (broadcast_id := await engine.next_due()) is not None:
            await engine.deliver(broadcast_id, stop)

    await asyncio.gather(work(first), work(second))
    assert _received(harness, recipients, "Aula") == [1] * 40
    [broadcast] = await _broadcasts(harness)
    assert await _outcomes(harness, broadcast.id or 0) == {"sent": 40}


async def test_cancel_while_sending_stops_and_adds_up(harness: Harness) -> None:
    recipients = await make_figures(harness, 2500, 60)
    harness.fake.configure(latency=0.02)
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    sending = asyncio.create_task(harness.deliver())
    await harness.fake.wait_for(lambda: sum(_received(harness, recipients, "Aula")) >= 10, timeout=10)
    [status] = await harness.send(ADMIN_ID, "/status")
    await harness.press(ADMIN_ID, status, "Batal")
    await sending
    [broadcast] = await _broadcasts(harness)
    counts = await _outcomes(harness, broadcast.id or 0)
    assert broadcast.status == BroadcastStatus.CANCELLED
    assert set(counts) == {"sent", "skipped"}
    assert sum(counts.values()) == 60
    assert counts["sent"] == sum(_received(harness, recipients, "Aula")) < 60
    async with harness.app.bot_data.sessions() as session:
        final = (await session.exec(select(AuditEvent).where(AuditEvent.action == "broadcast.finish"))).one()
    assert final.details["status"] == "cancelled"
    assert final.details["counts"] == counts


async def test_send_is_refused_before_the_preview(harness: Harness) -> None:
    await make_figures(harness, 2600, 2)
    await harness.send(ADMIN_ID, "/siaran")
    await tap(harness, ADMIN_ID, "Undangan sosialisasi")
    await harness.send(ADMIN_ID, "Balai Desa")
    await harness.send(ADMIN_ID, "21-01-2030")
    [past] = await harness.send(ADMIN_ID, "01-01-2001")  # no: the time question comes next
    assert "Jam tidak dikenali" in past.shown
    await harness.send(ADMIN_ID, "09.00")
    question = harness.last(ADMIN_ID)
    version = question.buttons()[0]["callback_data"].split(":")[2]
    await harness.press_data(ADMIN_ID, question, f"sx:send:{version}")
    assert "pilih salah satu tombol" in harness.last(ADMIN_ID).shown
    assert await _broadcasts(harness) == []


async def test_past_event_dates_are_refused(harness: Harness) -> None:
    await make_figures(harness, 2700, 1)
    await harness.send(ADMIN_ID, "/siaran")
    await tap(harness, ADMIN_ID, "Undangan sosialisasi")
    await harness.send(ADMIN_ID, "Balai Desa")
    [problem] = await harness.send(ADMIN_ID, "01-01-2001")
    assert "Tanggal itu sudah lewat" in problem.shown


async def test_paid_broadcasts_set_the_flag_on_every_message(harness: Harness) -> None:
    recipients = await make_figures(harness, 2100, 3)
    data = harness.app.bot_data.settings.model_dump()
    data["broadcast"]["allow_paid_broadcast"] = True
    harness.use_settings(Settings.model_validate(data))
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    await harness.deliver()
    sent = [c for c in harness.fake.calls("sendMessage") if c["chat_id"] in recipients]
    assert len(sent) == 3
    assert all(c["allow_paid_broadcast"] is True for c in sent)
    [broadcast] = await _broadcasts(harness)
    assert broadcast.paid


async def test_templates_list_and_preview(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63")
    [listing] = await harness.send(ORGANIZER, "/templat")
    for name in ("sambutan", "undangan_sosialisasi", "ayo_ke_tps", "tolak_politik_uang", "lawan_hoaks", "terima_kasih"):
        assert name in listing.shown
    await harness.press(ORGANIZER, listing, "Ayo ke TPS!")
    assert "TPS" in harness.last(ORGANIZER).shown
    title, preview = await harness.send(ORGANIZER, "/templates lawan_hoaks")
    assert "pratinjau dengan data contoh" in title.shown
    assert "hoaks" in preview.shown.lower()
    [missing] = await harness.send(ORGANIZER, "/templat tidak_ada")
    assert "Tidak ada templat bernama tidak_ada" in missing.shown
    await make_figures(harness, 2200, 1)
    [refused] = await harness.send(2200, "/templat")
    assert "hanya penyelenggara pemilu" in refused.shown


async def test_stale_and_typed_answers_in_the_composer(harness: Harness) -> None:
    await make_figures(harness, 2300, 2)
    await harness.send(ADMIN_ID, "/siaran")
    first = harness.last(ADMIN_ID)
    [again] = await harness.send(ADMIN_ID, "kirim saja")  # typed where a button is expected
    assert "pilih salah satu tombol" in again.shown
    await harness.send(ADMIN_ID, "/broadcast")  # starting over makes the first menu stale
    await harness.press(ADMIN_ID, first, "Undangan sosialisasi")
    assert harness.fake.callback_answers[-1]["text"].startswith("Tombol ini sudah tidak berlaku. Silakan lanjutkan")
    await tap(harness, ADMIN_ID, "Batal")
    assert "Siaran dibatalkan" in harness.last(ADMIN_ID).shown
    assert await _broadcasts(harness) == []


async def test_a_photo_in_the_composer_points_back_to_the_question(harness: Harness) -> None:
    await harness.send(ADMIN_ID, "/siaran")
    await tap(harness, ADMIN_ID, "Undangan sosialisasi")
    question = harness.last(ADMIN_ID).shown
    before = len(harness.fake.chat(ADMIN_ID).messages)
    await harness.feed(harness.fake.send_photo(ADMIN_ID, caption="poster kegiatan"))
    refusal, again = harness.fake.chat(ADMIN_ID).messages[before:]
    assert "hanya dapat dijawab" in refusal.shown and "/batal" in refusal.shown
    assert "tidak dapat kami proses" not in refusal.shown
    assert again.shown == question
    # The composer goes on where it was.
    await harness.send(ADMIN_ID, "Aula Kantor Kelurahan Mawar")
    async with harness.app.bot_data.sessions() as session:
        [state] = (await session.exec(select(ConversationState))).all()
    assert list(state.data["values"].values()) == ["Aula Kantor Kelurahan Mawar"]


async def _to_the_since_question(harness: Harness, user_id: int) -> None:
    """/siaran up to "registered since": the invitation, to all the caller's regions, everyone in them."""
    await harness.send(user_id, "/siaran")
    await tap(harness, user_id, "Undangan sosialisasi")
    await harness.send(user_id, "Aula Kantor Kelurahan Mawar")
    await harness.send(user_id, "Senin, 21 Januari 2030")
    await harness.send(user_id, "09.00 WITA")
    await tap(harness, user_id, "Seluruh wilayah saya")
    await tap(harness, user_id, "Lanjut ›")
    await tap(harness, user_id, "Lanjut ›")


async def test_a_registered_since_date_still_to_come_is_refused(harness: Harness) -> None:
    """01-01-2030 was taken, and left the broadcast with nobody to receive it."""
    await make_organizer(harness, ORGANIZER, "63.71")
    await make_figures(harness, 2400, 2)
    await _to_the_since_question(harness, ORGANIZER)
    today = utcnow().astimezone(harness.app.bot_data.settings.tz).date()
    example = f"{today.replace(day=1):%d-%m-%Y}"  # this month's first day: never a day still to come
    assert f"misalnya {example}" in harness.last(ORGANIZER).shown
    for later in (today + dt.timedelta(days=1), today + dt.timedelta(days=400)):
        [refused] = await harness.send(ORGANIZER, f"{later:%d-%m-%Y}")
        assert "Tanggal itu belum tiba" in refused.shown, refused.shown
        assert "tanggal hari ini atau tanggal sebelumnya" in refused.shown and f"misalnya {example}" in refused.shown
        assert "pilih Semua" in refused.shown
    async with harness.app.bot_data.sessions() as session:
        [state] = (await session.exec(select(ConversationState))).all()
    assert state.step == "since" and state.data["segment"].get("registered_since") is None
    await harness.send(ORGANIZER, example)  # the example itself is taken
    assert "Jumlah penerima: 2" in harness.last(ORGANIZER).shown


async def test_a_schedule_after_the_event_day_is_refused(harness: Harness) -> None:
    """An invitation to an event on 4 January 2027 could be scheduled for 12 February 2029, after the event."""
    await make_organizer(harness, ORGANIZER, "63")
    await make_figures(harness, 2500, 2)
    await compose_invitation(harness, ORGANIZER, "Kalimantan Selatan")  # the event: Senin, 21 Januari 2030
    await tap(harness, ORGANIZER, "🕒 Jadwalkan")
    for after in ("12-02-2031 09.00", "22-01-2030 00.00"):  # long after, and the first minute after its day
        [refused] = await harness.send(ORGANIZER, after)
        assert "kegiatannya berlangsung pada Senin, 21 Januari 2030 (Tanggal kegiatan)" in refused.shown, refused.shown
        assert "tanggal dan jam yang lebih awal" in refused.shown and "/siaran" in refused.shown
    assert await _broadcasts(harness) == []
    [confirmation] = await harness.send(ORGANIZER, "21-01-2030 23.59")  # the event's day is still fine
    assert "Terjadwal: siaran #1 kepada 2 penerima pada Senin, 21 Januari 2030 pukul 23.59 WITA" in confirmation.shown
    # A template without a date value has no event day to keep to.
    assert broadcast_service.event_date(_info("ayo_ke_tps"), {}) is None


def _info(name: str) -> catalog.TemplateInfo:
    info = catalog.get_template_info(bundled_templates_dir(), name)
    assert info is not None
    return info


async def _region_question(harness: Harness, user_id: int) -> str:
    await harness.send(user_id, "/siaran")
    await tap(harness, user_id, "Undangan sosialisasi")
    await harness.send(user_id, "Aula Kantor Kelurahan Mawar")
    await harness.send(user_id, "Senin, 21 Januari 2030")
    [question] = await harness.send(user_id, "09.00 WITA")
    return question.shown


async def test_the_region_question_gives_examples_the_caller_may_choose(harness: Harness) -> None:
    """An organizer of Kota Banjarmasin was told to type "Kalimantan Selatan", which was then refused."""
    await make_organizer(harness, ORGANIZER, "63.71")
    question = await _region_question(harness, ORGANIZER)
    assert "misalnya Kota Banjarmasin atau Banjarmasin Selatan) atau kode Kemendagri-nya (misalnya 63.71.01)" in (
        question
    ), question
    assert "misalnya Kalimantan Selatan" not in question
    [chosen] = await harness.send(ORGANIZER, "Banjarmasin Selatan")  # what the example says is accepted
    assert "Dipilih (1):" in chosen.shown and "di luar wilayah" not in chosen.shown
    # An organizer of one desa: its own name and code (nothing lies below it).
    await make_organizer(harness, OTHER_ORGANIZER, "63.71.05.1003")
    question = await _region_question(harness, OTHER_ORGANIZER)
    assert "misalnya Mawar) atau kode Kemendagri-nya (misalnya 63.71.05.1003)" in question, question
    # Admins keep the examples they had.
    question = await _region_question(harness, ADMIN_ID)
    assert "misalnya Kalimantan Selatan atau Kota Banjarmasin) atau kode Kemendagri-nya (misalnya 63.71.05)" in (
        question
    )


async def test_a_sticker_after_the_role_went_does_not_bring_the_composer_back(harness: Harness) -> None:
    """An organizer whose role was revoked during /siaran: typed text was refused and the composer closed, but a
    sticker asked the composer's question again."""
    await make_organizer(harness, ORGANIZER, "63.71")
    await make_figures(harness, 4000, 1)
    await harness.send(ORGANIZER, "/siaran")
    async with harness.app.bot_data.sessions() as session:
        person = (await session.exec(select(Person).where(Person.telegram_id == ORGANIZER))).one()
        await roles.revoke(session=session, actor=person, subject=person, role=Role.ORGANIZER)
        await session.commit()
    mine = len(harness.fake.chat(ORGANIZER).messages)
    await harness.feed(harness.fake.send_sticker(ORGANIZER))
    sent = [m.shown for m in harness.fake.chat(ORGANIZER).messages[mine:]]
    assert not [text for text in sent if "Pesan mana yang ingin Anda kirim" in text], sent
    assert any("hanya penyelenggara pemilu" in text for text in sent), sent
    async with harness.app.bot_data.sessions() as session:
        assert not (await session.exec(select(ConversationState))).all()
