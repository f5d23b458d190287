"""The privacy notice (UU No. 27/2022, issue 8): what it names, the controller's contact, what /hapusdata keeps,
and a changed notice told once to each figure, with its Setuju / Berhenti menerima pesan buttons."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bot import i18n, notice
from bot.app import build_application
from bot.config import Settings, SettingsError, load_settings
from bot.delivery.changed_notice import tell_batch
from bot.services import consent
from models import AgeBracket, AuditEvent, Figure, Invitation, Person, utcnow
from tests.conftest import ROOT, Harness
from tests.faketg import FakeRequest
from tests.faketg.core import FakeMessage
from tests.test_broadcast import make_figures
from tests.test_registration import tap

CONTACT = "ppid@kalsel.kpu.go.id"
CHANGED = "telah diperbarui"


def _with(settings: Settings, **privacy: Any) -> Settings:
    return settings.model_copy(update={"privacy": settings.privacy.model_copy(update=privacy)})


async def _figure_of(harness: Harness, user_id: int) -> Figure:
    async with harness.app.bot_data.sessions() as session:
        person = (await session.exec(select(Person).where(Person.telegram_id == user_id))).one()
        figure: Figure = (await session.exec(select(Figure).where(Figure.person_id == person.id))).one()
        return figure


def _notices(harness: Harness, user_id: int) -> list[FakeMessage]:
    return [m for m in harness.fake.chat(user_id).messages if CHANGED in (m.text or "")]


async def _change_notice(harness: Harness, year: int = 2030) -> Settings:
    """The office edits its settings (here the retention date): the notice reads differently from now on."""
    changed = _with(harness.app.bot_data.settings, retention_until=dt.date(year, 6, 30))
    harness.use_settings(changed)
    return changed


# ----------------------------------------------------------------------------------------- what it names


async def test_the_notice_names_every_item_and_matches_berhenti_and_hapusdata(
    harness: Harness, settings: Settings
) -> None:
    harness.use_settings(_with(settings, controller_contact=CONTACT))
    harness.fake.user(100, "Siti")
    [shown] = await harness.send(100, "/daftar")
    text = shown.shown
    expected = [
        "Pemberitahuan Pelindungan Data Pribadi",
        # who, and a contact that reaches someone
        "Pengendali data: Komisi Pemilihan Umum Provinsi Kalimantan Selatan",
        f"Kontak: {CONTACT}",
        # the legal basis
        "persetujuan yang sah dan eksplisit",
        "Pasal 20 ayat (2) huruf a",
        # every right
        "melihat dan memperbaiki data: /profil",
        "mendapatkan salinan data: /dataku",
        "membatasi pemrosesan",
        "menarik persetujuan",
        "menghapus data: /hapusdata",
        f"mengajukan pengaduan: kepada {CONTACT}",
        "lembaga pelindungan data pribadi",
        # who sees it, who never does
        "penyelenggara pemilu (KPU, Bawaslu, dan badan ad hoc-nya) yang bertugas di wilayah Anda sendiri",
        "Partai politik, peserta pemilu (calon), dan tim kampanye tidak pernah melihatnya",
        # the carrier
        "dikirim melalui Telegram",
        # every kind of data kept
        "ID Telegram",
        "nama pengguna (username)",
        "bahasa aplikasi Telegram Anda dan bahasa yang Anda pilih",
        "aktivitas terakhir",
        "tautan undangan",
        "hasil pengiriman",
        "pesan yang Anda kirimkan kepada kami beserta jawaban petugas",
        "komitmen yang Anda buat",
        "sampai desa/kelurahan",
        "nama orang tua atau wali",
        # retention, and what /berhenti and /hapusdata do
        "sampai Senin, 31 Desember 2029; setelah itu data dihapus",
        "Dengan /berhenti, pengiriman pesan dihentikan, tetapi data Anda tetap tersimpan sampai Anda menghapusnya "
        "dengan /hapusdata atau sampai Senin, 31 Desember 2029",
        "kecamatan (bukan desa), dan tanggal tanpa jam",
    ]
    for item in expected:
        assert item in text, item
    assert len(text) < 4096
    # /berhenti and /hapusdata say the same as the notice.
    await tap(harness, 100, "Tidak setuju")
    await make_figures(harness, 200, 1)
    [stop] = await harness.send(200, "/berhenti")
    assert "tetap tersimpan sampai Anda menghapusnya dengan /hapusdata" in stop.shown
    assert "paling lama sampai Senin, 31 Desember 2029" in stop.shown
    [delete] = await harness.send(200, "/hapusdata")
    for kept in (
        "nama, nomor HP, organisasi, nama wali, tautan undangan yang Anda gunakan untuk mendaftar, "
        "pesan yang Anda kirimkan kepada kami, dan data akun Telegram",
        "kecamatan (bukan desa)",
        # What stays of the commitments: the notice said nothing of it, /hapusdata did.
        "Komitmen yang pernah Anda buat tetap ada dalam laporan tersebut hanya",
    ):
        assert kept in delete.shown
        assert kept in text


def test_the_notice_reads_well_without_a_contact_and_fits_a_message(settings: Settings) -> None:
    for locale in i18n.AVAILABLE_LOCALES:
        text = notice.privacy_notice(_with(settings, controller_contact=""), locale)
        assert "()" not in text and "Kontak:" not in text and "Contact:" not in text
        assert len(text) < 3600  # room for the "has changed" intro and a guardian's name
    text = notice.privacy_notice(_with(settings, controller_contact=""), "id")
    assert "Pejabat Pengelola Informasi dan Dokumentasi (PPID) kami dapat dihubungi di kantor kami" in text
    assert "mengajukan pengaduan: kepada PPID kami di kantor kami" in text


async def test_the_organization_question_asks_for_no_party_or_campaign_position(harness: Harness) -> None:
    harness.fake.user(101, "Budi")
    await harness.send(101, "/daftar")
    await tap(harness, 101, "Setuju")
    await harness.send(101, "Budi Santoso")
    await tap(harness, 101, "Tokoh pemuda")
    await tap(harness, 101, "26–40 tahun")
    for typed in ("kalimantan selatan", "banjarmasin", "banjarmasin tengah"):
        await harness.send(101, typed)
    await tap(harness, 101, "Mawar")
    [_, question] = await harness.send(101, "0812-3456-7890")
    assert "organisasi atau peran Anda" in question.shown
    assert "Mohon tidak menuliskan jabatan di partai politik atau tim kampanye" in question.shown


# ----------------------------------------------------------------------------------------- the contact


@pytest.mark.parametrize(
    "contact",
    [
        "ppid@kalsel.kpu.go.id",
        "PPID KPU Provinsi Kalimantan Selatan, (0511) 1234567",
        "+62 811-5000-123",
        "PPID, Jl. Contoh No. 1, Banjarmasin",
        "Kantor KPU Provinsi Kalimantan Selatan, Banjarmasin 70000",
    ],
)
def test_a_contact_that_reaches_someone_is_accepted(contact: str) -> None:
    settings = load_settings(ROOT / "settings.toml", environ={"RANGKUL_PRIVACY__CONTROLLER_CONTACT": contact})
    assert settings.privacy.controller_contact == contact


@pytest.mark.parametrize("contact", ["PPID KPU Provinsi Kalimantan Selatan", "KPU Kalsel 2029"])
def test_a_name_alone_is_not_a_contact(contact: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(ROOT / "settings.toml", environ={"RANGKUL_PRIVACY__CONTROLLER_CONTACT": contact})
    message = str(refused.value)
    assert "RANGKUL_PRIVACY__CONTROLLER_CONTACT" in message and "privacy.controller_contact" in message
    assert "e-mail address, a phone number or a postal address" in message
    assert "\n" not in message


def test_the_shipped_settings_leave_the_contact_empty() -> None:
    assert load_settings(ROOT / "settings.toml", environ={}).privacy.controller_contact == ""


@pytest.mark.parametrize(("contact", "warned"), [("", True), (CONTACT, False)])
def test_run_warns_at_start_while_the_contact_is_unset(
    contact: str, warned: bool, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    from bot import app, cli

    started: list[Settings] = []

    async def serve(settings: Settings, token: str, *, webhook: bool = False) -> None:
        started.append(settings)

    monkeypatch.setattr(app, "serve", serve)
    monkeypatch.setattr(cli, "configure_logging", lambda *args, **kwargs: None)
    monkeypatch.setenv("RANGKUL_BOT_TOKEN", "123456:TEST-fake-token-abcdefghijklmnopqrstuv")
    monkeypatch.setenv("RANGKUL_PRIVACY__CONTROLLER_CONTACT", contact)
    monkeypatch.setenv("RANGKUL_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'run.db'}")
    with caplog.at_level(logging.WARNING):
        assert cli.main(["run", "--config", str(ROOT / "settings.toml")]) == 0
    assert started
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("privacy.controller_contact is not set" in w for w in warnings) is warned


# ----------------------------------------------------------------------------------------- /hapusdata


async def test_delete_keeps_the_kecamatan_and_dates_only(harness: Harness) -> None:
    tz = harness.app.bot_data.settings.tz
    registered = dt.datetime(2029, 1, 5, 1, 37, 12, tzinfo=dt.UTC)  # 09.37 WITA on 5 January
    [user] = await make_figures(
        harness,
        300,
        1,
        "63.71.05.1003",
        age_bracket=AgeBracket.UNDER_18,
        guardian_name="Ibu Rahmah",
        guardian_consent_at=registered,
        registered_at=registered,
        consent_at=registered,
    )
    async with harness.app.bot_data.sessions() as session:
        invitation = Invitation(code="pengajian-mawar", region_code="63.71.05.1003", label="Pengajian RT 05")
        session.add(invitation)
        await session.flush()
        figure = (await session.exec(select(Figure))).one()
        figure.invitation_id = invitation.id
        person = (await session.exec(select(Person).where(Person.telegram_id == user))).one()
        person.locale = "en"
        session.add_all([figure, person])
        await session.commit()
        person_id = person.id
    [question] = await harness.send(user, "/hapusdata")
    await harness.press(user, question, "Yes, delete my data")
    async with harness.app.bot_data.sessions() as session:
        kept = (await session.exec(select(Figure))).one()
        person = await session.get(Person, person_id)
        events = (await session.exec(select(AuditEvent).where(col(AuditEvent.subject_person_id) == person_id))).all()
    assert kept.region_code == "63.71.05"  # the kecamatan, not the desa 63.71.05.1003
    assert (kept.category, kept.age_bracket) == ("tokoh_pemuda", AgeBracket.UNDER_18)
    midnight = dt.datetime(2029, 1, 5, tzinfo=tz)
    assert kept.registered_at == kept.consent_at == kept.guardian_consent_at == midnight
    assert kept.deleted_at is not None and kept.deleted_at.astimezone(tz).time() == dt.time()
    assert kept.updated_at.astimezone(tz).time() == dt.time()
    assert kept.invitation_id is None  # its region and event could point at one desa
    assert person is not None and person.locale is None
    assert person.created_at.astimezone(tz).time() == person.last_seen_at.astimezone(tz).time() == dt.time()
    assert all("63.71.05.1003" not in str(event.details) for event in events)


async def test_the_audit_of_a_registration_holds_the_kecamatan_only(harness: Harness) -> None:
    from tests.test_registration import register

    await register(harness, 301, name="Rina Marlina")
    async with harness.app.bot_data.sessions() as session:
        [event] = (await session.exec(select(AuditEvent).where(AuditEvent.action == "figure.register"))).all()
    assert event.details["region"] == "63.71.05"
    assert "invitation" not in event.details


# ----------------------------------------------------------------------------------------- a changed notice


async def test_a_changed_notice_is_told_once_then_agreed_or_stopped(harness: Harness, engine: AsyncEngine) -> None:
    agreeing, stopping = await make_figures(harness, 400, 2)
    # Nothing changed yet: nobody is told anything.
    assert await tell_batch(harness.app.bot, harness.app.bot_data, pause=0) == 0
    changed = await _change_notice(harness)
    assert await tell_batch(harness.app.bot, harness.app.bot_data, pause=0) == 2
    [told] = _notices(harness, agreeing)
    assert notice.privacy_notice(changed, "id") in (told.html or "")
    assert "sampai Minggu, 30 Juni 2030" in told.shown
    assert [b["text"] for b in told.buttons()] == ["Setuju", "Berhenti menerima pesan"]
    # A second run, a restart (a new application on the same database) and the figure's next message tell
    # nobody again.
    assert await tell_batch(harness.app.bot, harness.app.bot_data, pause=0) == 0
    restarted = build_application(changed, harness.fake.token, engine, request=FakeRequest(harness.fake))
    await restarted.initialize()
    try:
        assert await tell_batch(restarted.bot, restarted.bot_data, pause=0) == 0
    finally:
        await restarted.shutdown()
    await harness.send(agreeing, "/bantuan")
    assert len(_notices(harness, agreeing)) == len(_notices(harness, stopping)) == 1
    # Setuju records the new consent.
    before = await _figure_of(harness, agreeing)
    await harness.press(agreeing, told, "Setuju")
    after = await _figure_of(harness, agreeing)
    assert after.consent_version == notice.current_version(changed, "id") != before.consent_version
    assert after.consent_locale == "id" and after.consent_at > before.consent_at
    assert "Persetujuan Anda atas pemberitahuan pelindungan data pribadi yang baru telah kami catat" in (
        harness.last(agreeing).shown
    )
    assert told.reply_markup is None or not told.buttons()  # the buttons are taken away
    async with harness.app.bot_data.sessions() as session:
        consents = (await session.exec(select(AuditEvent).where(AuditEvent.action == "figure.consent"))).all()
    assert [event.details["consent_version"] for event in consents] == [after.consent_version]
    # Berhenti menerima pesan works as /berhenti.
    [other] = _notices(harness, stopping)
    await harness.press(stopping, other, "Berhenti menerima pesan")
    stopped = await _figure_of(harness, stopping)
    assert not stopped.messages_opt_in and stopped.opted_out_at is not None
    assert stopped.consent_version == before.consent_version  # no consent to the new notice was recorded
    assert "Anda tidak akan lagi menerima pesan sosialisasi" in harness.last(stopping).shown
    # Neither is told again.
    assert await tell_batch(harness.app.bot, harness.app.bot_data, pause=0) == 0


async def test_a_figure_not_yet_told_is_told_after_their_next_message(harness: Harness) -> None:
    [user] = await make_figures(harness, 410, 1)
    await _change_notice(harness)
    [answer, told] = await harness.send(user, "/bantuan")
    assert "/profil" in answer.shown  # their question is answered first
    assert CHANGED in told.shown and told.buttons()
    assert len(await harness.send(user, "/bantuan")) == 1  # once
    assert await tell_batch(harness.app.bot, harness.app.bot_data, pause=0) == 0


async def test_choosing_another_language_is_not_a_change_of_the_notice(harness: Harness) -> None:
    [user] = await make_figures(harness, 415, 1)  # agreed to today's notice, in Indonesian
    async with harness.app.bot_data.sessions() as session:
        person = (await session.exec(select(Person).where(Person.telegram_id == user))).one()
        person.locale = "en"
        session.add(person)
        await session.commit()
    assert len(await harness.send(user, "/help")) == 1
    assert await tell_batch(harness.app.bot, harness.app.bot_data, pause=0) == 0
    # A real change is told in the language they chose, and agreeing records that language.
    await _change_notice(harness)
    [_, told] = await harness.send(user, "/help")
    assert "Our personal data notice has changed" in told.shown
    await harness.press(user, told, "Agree")
    figure = await _figure_of(harness, user)
    assert figure.consent_locale == "en"
    assert figure.consent_version == notice.current_version(harness.app.bot_data.settings, "en")


async def test_a_minor_is_asked_to_agree_with_their_guardian(harness: Harness) -> None:
    [user] = await make_figures(harness, 420, 1, age_bracket=AgeBracket.UNDER_18, guardian_name="Ibu Rahmah")
    await _change_notice(harness)
    await tell_batch(harness.app.bot, harness.app.bot_data, pause=0)
    [told] = _notices(harness, user)
    assert "orang tua atau wali Anda, Ibu Rahmah, membaca pemberitahuan ini" in told.shown
    assert len(told.text or "") < 4096
    await harness.press(user, told, "Setuju")
    figure = await _figure_of(harness, user)
    assert figure.guardian_consent_at is not None and figure.guardian_consent_at > utcnow() - dt.timedelta(minutes=1)


async def test_a_button_from_an_older_notice_gets_a_clear_answer(harness: Harness) -> None:
    [user] = await make_figures(harness, 430, 1)
    await _change_notice(harness, 2030)
    await tell_batch(harness.app.bot, harness.app.bot_data, pause=0)
    [older] = _notices(harness, user)
    latest = await _change_notice(harness, 2031)
    assert await tell_batch(harness.app.bot, harness.app.bot_data, pause=0) == 1  # a new change: told again
    first_version = (await _figure_of(harness, user)).consent_version
    await harness.press(user, older, "Setuju")
    assert "sudah diganti dengan versi yang lebih baru" in harness.fake.callback_answers[-1]["text"]
    assert harness.fake.callback_answers[-1].get("show_alert") is True
    assert (await _figure_of(harness, user)).consent_version == first_version  # nothing recorded
    current = _notices(harness, user)[-1]
    assert "sampai Senin, 30 Juni 2031" in current.shown  # and today's notice is shown again
    await harness.press(user, current, "Setuju")
    assert (await _figure_of(harness, user)).consent_version == notice.current_version(latest, "id")
    # A button carrying someone else's id is refused, whatever it says.
    [other] = await make_figures(harness, 431, 1)
    [answer] = await harness.send(other, "/bantuan")
    figure_person = (await _figure_of(harness, user)).person_id
    await harness.press_data(other, answer, f"pdp:yes:{figure_person}:id:{notice.current_version(latest, 'id')}")
    assert "sudah tidak berlaku" in harness.fake.callback_answers[-1]["text"]


async def test_the_job_and_the_figures_own_message_never_both_tell_them(harness: Harness) -> None:
    """Both read 'not told yet'; the compare-and-swap lets only one of them mark (and send)."""
    await make_figures(harness, 450, 1)
    settings = await _change_notice(harness)
    async with harness.app.bot_data.sessions() as session:
        [seen_by_job] = await consent.to_tell(session=session, settings=settings, limit=10)
        [seen_by_update] = await consent.to_tell(session=session, settings=settings, limit=10)
        assert await consent.claim(session=session, recipient=seen_by_job)
        assert not await consent.claim(session=session, recipient=seen_by_update)
        await session.commit()
        assert await consent.to_tell(session=session, settings=settings, limit=10) == []


async def test_a_blocked_figure_is_not_counted_as_told(harness: Harness) -> None:
    [user] = await make_figures(harness, 440, 1)
    await _change_notice(harness)
    harness.fake.user(user).blocked = True
    assert await tell_batch(harness.app.bot, harness.app.bot_data, pause=0) == 0
    figure = await _figure_of(harness, user)
    assert figure.notice_told_version is None and figure.unreachable_since is not None
    # Back: writing again makes them reachable and tells them then.
    harness.fake.user(user).blocked = False
    replies = await harness.send(user, "/bantuan")
    assert any(CHANGED in m.shown for m in replies)
