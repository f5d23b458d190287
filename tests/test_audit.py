"""The audit trail: every sensitive action leaves an entry with its actor (and no personal data), the database
refuses to change or delete one, /audit shows them to admins only (paged, filtered, in Indonesian), and
`rangkul audit` prints or exports them."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cli import main
from bot.services import audit, roles
from bot.services.audit_trail import PER_PAGE
from models import AuditEvent, Broadcast, BroadcastStatus, Person, Role
from tests.conftest import ADMIN_ID, Harness
from tests.test_broadcast import _quiet_now, compose_invitation, make_figures, make_organizer, tap
from tests.test_registration import register

ORGANIZER = 500  # Kota Banjarmasin (63.71)


async def _events(harness: Harness) -> list[AuditEvent]:
    async with harness.app.bot_data.sessions() as session:
        return list((await session.exec(select(AuditEvent).order_by(col(AuditEvent.id)))).all())


async def _person_id(harness: Harness, telegram_id: int) -> int:
    async with harness.app.bot_data.sessions() as session:
        person = (await session.exec(select(Person).where(col(Person.telegram_id) == telegram_id))).one()
    assert isinstance(person.id, int)
    return person.id


def _actions(events: list[AuditEvent], since: int = 0) -> list[tuple[str, int | None]]:
    return [(event.action, event.actor_person_id) for event in events[since:]]


async def test_broadcast_actions_are_audited_with_their_actor(harness: Harness) -> None:
    """Compose and confirm, the engine's start and finish, the organizer's pause, resume and cancel from the
    status buttons, and the engine's own pause in a quiet period: each an entry, a person's with their id."""
    await make_organizer(harness, ORGANIZER, "63.71")
    organizer = await _person_id(harness, ORGANIZER)
    await make_figures(harness, 4000, 3)
    before = len(await _events(harness))
    # 1. Sent now and delivered: create (the organizer), start and finish (the system).
    await compose_invitation(harness, ORGANIZER, "63.71")
    await tap(harness, ORGANIZER, "📨 Kirim sekarang")
    await harness.deliver()
    # 2. Paused, resumed and cancelled by the organizer from /status.
    await compose_invitation(harness, ORGANIZER, "63.71")
    await tap(harness, ORGANIZER, "📨 Kirim sekarang")
    [status, _] = await harness.send(ORGANIZER, "/status")
    await harness.press(ORGANIZER, status, "Hentikan sementara")
    [status, _] = await harness.send(ORGANIZER, "/status")
    await harness.press(ORGANIZER, status, "Lanjutkan")
    [status, _] = await harness.send(ORGANIZER, "/status")
    await harness.press(ORGANIZER, status, "Batal")
    await harness.deliver()
    # 3. Running when a quiet period begins: the engine pauses it itself.
    await compose_invitation(harness, ORGANIZER, "63.71")
    await tap(harness, ORGANIZER, "📨 Kirim sekarang")
    harness.use_settings(_quiet_now(harness.app.bot_data.settings))
    await harness.deliver()
    events = await _events(harness)
    assert _actions(events, before) == [
        ("broadcast.compose", organizer),  # the preview, which shows one recipient's data
        ("broadcast.create", organizer),
        ("broadcast.start", None),
        ("broadcast.finish", None),
        ("broadcast.compose", organizer),
        ("broadcast.create", organizer),
        ("broadcast.pause", organizer),
        ("broadcast.resume", organizer),
        ("broadcast.cancel", organizer),  # closes it: nothing was sending, every recipient is skipped
        ("broadcast.compose", organizer),
        ("broadcast.create", organizer),
        ("broadcast.pause", None),
    ]
    first, *_rest = (e for e in events[before:] if e.action == "broadcast.create")
    assert first.details["recipients"] == 3 and first.details["template"] == "undangan_sosialisasi.html"
    composed = next(e for e in events[before:] if e.action == "broadcast.compose")
    assert composed.details["recipients"] == 3 and composed.details["template"] == "undangan_sosialisasi.html"
    assert isinstance(composed.details["figure"], int)  # whose data the preview showed: an id, not a name
    assert events[-1].details["reason"] == "quiet"
    assert events[before + 8].details == {"broadcast": 2}
    async with harness.app.bot_data.sessions() as session:
        states = [b.status for b in (await session.exec(select(Broadcast).order_by(col(Broadcast.id)))).all()]
    assert states == [BroadcastStatus.DONE, BroadcastStatus.CANCELLED, BroadcastStatus.PAUSED]


async def test_figures_rights_roles_invitations_and_answers_are_audited(harness: Harness) -> None:
    """Registration, language, consent to messages withdrawn and given back, an organizer's answer, an
    invitation, a role granted and revoked, and the deletion of personal data; no entry holds personal data."""
    await make_organizer(harness, ORGANIZER, "63.71")
    organizer = await _person_id(harness, ORGANIZER)
    await register(harness, 4100, name="Siti Rahmawati", phone="081234567890")
    figure = await _person_id(harness, 4100)
    before = len(await _events(harness)) - 1  # the registration's own
    await harness.send(4100, "/bahasa english")
    await harness.send(4100, "/bahasa indonesia")
    await harness.send(4100, "/berhenti")
    await harness.send(4100, "/lanjut")
    await harness.send(4100, "Kapan jadwal kampanye dimulai?")
    [listing] = await harness.send(ORGANIZER, "/balasan")
    await harness.press(ORGANIZER, listing, "✍️ Jawab 1")
    await harness.send(ORGANIZER, "Mohon cek jadwal resmi di situs KPU.")
    await harness.send(ORGANIZER, "/undangan 63.71.05 Sosialisasi Pemilih Pemula")
    async with harness.app.bot_data.sessions() as session:
        admin = Person(telegram_id=ADMIN_ID, first_name="Admin")
        session.add(admin)
        subject = await session.get(Person, organizer)
        assert subject is not None
        await session.flush()
        await roles.grant(session=session, actor=admin, subject=subject, role=Role.ADMIN)
        await roles.revoke(session=session, actor=admin, subject=subject, role=Role.ADMIN)
        await session.commit()
        admin_id = admin.id
    [question] = await harness.send(4100, "/hapusdata")
    await harness.press(4100, question, "Ya, hapus data saya")
    events = await _events(harness)
    assert _actions(events, before) == [
        ("figure.register", figure),
        ("person.language", figure),
        ("person.language", figure),
        ("figure.opt_out", figure),
        ("figure.opt_in", figure),
        ("reply.answer", organizer),
        ("invitation.create", organizer),
        ("role.grant", admin_id),
        ("role.revoke", admin_id),
        ("figure.delete", figure),
    ]
    assert events[before + 5].subject_person_id == figure
    assert events[before + 7].subject_person_id == organizer
    logged = json.dumps([e.details for e in events], ensure_ascii=False)
    for personal in ("Siti", "Rahmawati", "0812", "6281234567890", "kampanye", "Mohon cek", "Pemilih Pemula", "4100"):
        assert personal not in logged


@pytest.mark.parametrize("change", ["update", "delete"])
async def test_the_database_refuses_to_change_or_delete_an_entry(session: AsyncSession, change: str) -> None:
    """Through the ORM as through SQL (test_db.py), on SQLite and on PostgreSQL: the trigger says no."""
    event = await audit.record(session=session, action="role.grant", actor_person_id=1, role="admin")
    await session.commit()
    if change == "update":
        event.action = "role.revoke"
        session.add(event)
    else:
        await session.delete(event)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        await session.commit()
    await session.rollback()
    rows = (await session.exec(select(AuditEvent.action))).all()
    assert rows == ["role.grant"]
    connection = await session.connection()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        await connection.execute(sa.text("UPDATE audit_log SET details = '{}' WHERE action = 'role.grant'"))


async def test_the_database_refuses_to_empty_the_log_at_once(session: AsyncSession) -> None:
    """Emptying the whole table skips row triggers where the database can: PostgreSQL's TRUNCATE (refused by a
    statement trigger) and SQLite's truncate optimization of a DELETE without WHERE (which SQLite itself turns
    off for a table with a delete trigger)."""
    await audit.record(session=session, action="role.grant", actor_person_id=1, role="admin")
    await session.commit()
    connection = await session.connection()
    postgresql = session.bind is not None and session.bind.dialect.name == "postgresql"
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        await connection.execute(sa.text("TRUNCATE audit_log" if postgresql else "DELETE FROM audit_log"))
    await session.rollback()
    assert (await session.exec(select(AuditEvent.action))).all() == ["role.grant"]


# ------------------------------------------------------------------------------------------------------ /audit


async def _seed(harness: Harness) -> int:
    """An admin and an organizer who acted, and entries of every group: 20 in all, the export last."""
    async with harness.app.bot_data.sessions() as session:
        admin = Person(telegram_id=ADMIN_ID, first_name="Admin")
        organizer = Person(telegram_id=ORGANIZER, first_name="Budi Petugas")
        session.add_all([admin, organizer])
        await session.flush()
        await roles.grant(session=session, actor=admin, subject=organizer, role=Role.ORGANIZER, region_codes=["63.71"])
        for number in range(14):
            await audit.record(session=session, action="broadcast.pause", actor_person_id=None, broadcast=number + 1)
        await audit.record(session=session, action="figure.opt_out", actor_person_id=organizer.id)
        await audit.record(session=session, action="invitation.create", actor_person_id=organizer.id, region="63.71.05")
        await audit.record(session=session, action="retention.purge", actor_person_id=None, figures=1250, source="cli")
        await audit.record(session=session, action="unknown.thing", actor_person_id=None, count=3)
        await audit.record(
            session=session,
            action="export.figures",
            actor_person_id=admin.id,
            format="xlsx",
            rows=1250,
            source="chat",
            # What exports.record writes (Filters.to_dict(), the viewer's scope and masking).
            filters={
                "regions": ["63.03"], "categories": ["tokoh_pemuda"], "age_brackets": [], "statuses": ["active"],
                "registered_from": "2026-11-01", "registered_to": None, "with_commitments": True,
            },
            role="organizer",
            scope=["63"],
            masked=True,
        )  # fmt: skip
        await session.commit()
        assert admin.id is not None
        return admin.id


def _button(message_buttons: list[dict[str, str]], text: str) -> str:
    return next(b["callback_data"] for b in message_buttons if b["text"] == text)


async def test_admins_page_and_filter_the_log_in_plain_indonesian(harness: Harness) -> None:
    await _seed(harness)
    [first] = await harness.send(ADMIN_ID, "/audit")
    text = first.shown
    assert text.startswith("Jejak audit — Semua: 20 catatan (halaman 1 dari 3), yang terbaru di atas.")
    # Newest first: the export, by the admin with their role, in the office's zone, with its details.
    assert text.index("Daftar kontak tokoh diekspor") < text.index("Masa penyimpanan berakhir")
    assert "oleh Admin (admin)" in text and "WITA" in text
    # The filters, the scope and the masking in words, not as the log's keys.
    assert (
        "format XLSX · 1.250 baris · lewat obrolan · filter: wilayah 63.03, Tokoh pemuda, aktif, "
        "terdaftar sejak Minggu, 1 November 2026, dengan komitmen · peran: penyelenggara · wilayah tugasnya 63 · "
        "nomor ponsel disamarkan"
    ) in text, text
    assert "masked" not in text and "scope" not in text
    assert "oleh sistem" in text and "1.250 tokoh · lewat baris perintah" in text
    assert "unknown.thing" in text and "count: 3" in text  # an action without a label is still shown
    assert "Berhenti menerima pesan (/berhenti)" in text and "oleh Budi Petugas (penyelenggara)" in text
    assert "Peran diberikan" not in text  # on the last page
    assert text.count("\n\n") == PER_PAGE + 1
    # Older: the edit shows the second page in the same message.
    await harness.press(ADMIN_ID, first, "Lebih lama ›")
    assert "halaman 2 dari 3" in first.shown and "9. Siaran dihentikan sementara" in first.shown
    assert "Daftar kontak" not in first.shown
    await harness.press(ADMIN_ID, first, "Lebih lama ›")
    assert "halaman 3 dari 3" in first.shown
    assert "Peran diberikan" in first.shown and "mengenai Budi Petugas (penyelenggara)" in first.shown
    assert "peran: penyelenggara · wilayah 63.71" in first.shown
    assert "Lebih lama ›" not in [b["text"] for b in first.buttons()]
    # Filters: one group at a time, marked, from its first page.
    await harness.press(ADMIN_ID, first, "Ekspor")
    assert first.shown.startswith("Jejak audit — Ekspor: 1 catatan (halaman 1 dari 1)")
    assert "• Ekspor" in [b["text"] for b in first.buttons()]
    await harness.press(ADMIN_ID, first, "Siaran")
    assert "Siaran: 14 catatan (halaman 1 dari 2)" in first.shown and "siaran #14" in first.shown
    await harness.press(ADMIN_ID, first, "Undangan")
    assert "Tautan undangan dibuat" in first.shown and "wilayah 63.71.05 (Banjarmasin Tengah)" in first.shown
    await harness.press(ADMIN_ID, first, "Jawaban")
    assert first.shown.startswith("Jejak audit — Jawaban: belum ada catatan.")
    await harness.press(ADMIN_ID, first, "• Jawaban")  # the same page again: nothing new is sent
    assert harness.last(ADMIN_ID) is first
    # Forged and stale buttons are refused politely.
    for forged in ("au:page:nope:0", "au:page:all:x", "au:drop:all:0", "au:page:all"):
        await harness.press_data(ADMIN_ID, first, forged)
        assert "Tombol ini sudah tidak berlaku. Ketik /audit" in harness.fake.callback_answers[-1]["text"]
    await harness.press_data(ADMIN_ID, first, "au:page:all:999")  # past the end: the last page
    assert "halaman 3 dari 3" in first.shown


async def test_organizers_and_figures_are_refused(harness: Harness) -> None:
    await _seed(harness)
    harness.fake.user(ORGANIZER, "Budi Petugas")
    [refusal] = await harness.send(ORGANIZER, "/audit")
    assert "hanya admin Rangkul" in refusal.shown and "/bantuan" in refusal.shown
    [figure] = await make_figures(harness, 4000, 1)
    [refusal] = await harness.send(figure, "/audit")
    assert "hanya admin Rangkul" in refusal.shown
    # A button copied from an admin's /audit is checked on the server: no page for an organizer.
    [own] = await harness.send(ORGANIZER, "/bantuan")
    await harness.press_data(ORGANIZER, own, "au:page:exp:0")
    assert "hanya admin Rangkul" in harness.fake.callback_answers[-1]["text"]
    assert "Jejak audit" not in "".join(harness.fake.sent_texts(ORGANIZER))


async def test_the_audit_command_is_in_the_admins_help_only(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    [admin_help] = await harness.send(ADMIN_ID, "/bantuan")
    [organizer_help] = await harness.send(ORGANIZER, "/bantuan")
    assert "/audit" in admin_help.shown and "/audit" not in organizer_help.shown


# ----------------------------------------------------------------------------------------------- rangkul audit


async def cli(args: list[str]) -> int:
    """`rangkul ARGS`, in a thread of its own: the command runs its own event loop, as it does from a shell."""
    return await asyncio.to_thread(main, args)


def _config(tmp_path: Path, database_url: str) -> Path:
    config = tmp_path / "settings.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n\n[locale]\ntimezone = "Asia/Makassar"\n')
    return config


async def _seed_for_cli(session: AsyncSession) -> None:
    moments = [dt.datetime(2029, 1, day, 2, 30, tzinfo=dt.UTC) for day in (1, 2, 3, 4)]
    rows: list[tuple[str, int | None, dict[str, Any]]] = [
        ("role.grant", 7, {"role": "organizer", "regions": ["63.71"]}),
        ("broadcast.pause", None, {"broadcast": 3, "reason": "quiet"}),
        ("export.figures", 7, {"format": "csv", "rows": 12, "filters": {"status": "active"}, "source": "cli"}),
        ("figure.opt_out", 9, {}),
    ]
    for moment, (action, actor, details) in zip(moments, rows, strict=True):
        session.add(AuditEvent(occurred_at=moment, action=action, actor_person_id=actor, details=details))
    await session.commit()


async def test_rangkul_audit_prints_and_exports(
    session: AsyncSession, tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await _seed_for_cli(session)
    config = str(_config(tmp_path, database_url))
    assert await cli(["audit", "--config", config]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("2029-01-04 10:30:00 WITA  #4  figure.opt_out  by person #9")
    assert lines[2] == ('2029-01-02 10:30:00 WITA  #2  broadcast.pause  by system  broadcast=3 reason="quiet"')
    assert await cli(["audit", "--config", config, "--action", "role.", "--limit", "5"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert 'role.grant  by person #7  role="organizer" regions=["63.71"]' in line
    # Dates are whole days in the office's zone: 01.00 WITA on 3 January is the 2nd's 17.00 UTC.
    assert await cli(["audit", "--config", config, "--since", "2029-01-02", "--until", "2029-01-03"]) == 0
    assert [line.split("  ")[2] for line in capsys.readouterr().out.splitlines()] == [
        "export.figures",
        "broadcast.pause",
    ]
    assert await cli(["audit", "--config", config, "--limit", "2", "--format", "jsonl"]) == 0
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [entry["action"] for entry in entries] == ["figure.opt_out", "export.figures"]
    assert entries[1] == {
        "id": 3,
        "occurred_at": "2029-01-03T10:30:00+08:00",
        "action": "export.figures",
        "actor_person_id": 7,
        "subject_person_id": None,
        "details": {"format": "csv", "rows": 12, "filters": {"status": "active"}, "source": "cli"},
    }
    out = tmp_path / "audit.csv"
    assert await cli(["audit", "--config", config, "--format", "csv", "-o", str(out), "--limit", "0"]) == 0
    assert "wrote 4 audit entries to" in capsys.readouterr().err
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["id", "occurred_at", "action", "actor_person_id", "subject_person_id", "details"]
    assert rows[4] == [
        "1",
        "2029-01-01T10:30:00+08:00",
        "role.grant",
        "7",
        "",
        '{"role": "organizer", "regions": ["63.71"]}',
    ]
    assert [row[2] for row in rows[1:]] == ["figure.opt_out", "export.figures", "broadcast.pause", "role.grant"]
    assert await cli(["audit", "--config", config, "--action", "nothing."]) == 0
    assert capsys.readouterr().out == "no audit entries match\n"


async def test_rangkul_audit_refuses_bad_options(tmp_path: Path, database_url: str) -> None:
    config = str(_config(tmp_path, database_url))
    for bad in (["--since", "31-12-2029"], ["--limit", "-3"], ["--format", "xml"]):
        with pytest.raises(SystemExit) as exit_info:
            await cli(["audit", "--config", config, *bad])
        assert exit_info.value.code == 2


async def test_rangkul_audit_streams_a_long_log(session: AsyncSession, tmp_path: Path, database_url: str) -> None:
    """More entries than one read holds (audit_trail.STREAM_BATCH): every one written once, newest first."""
    session.add_all(AuditEvent(action="figure.opt_in", actor_person_id=n, details={}) for n in range(2500))
    await session.commit()
    out = tmp_path / "all.jsonl"
    assert (
        await cli(
            [
                "audit",
                "--config",
                str(_config(tmp_path, database_url)),
                "--format",
                "jsonl",
                "--limit",
                "0",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    actors = [json.loads(line)["actor_person_id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert actors == list(range(2499, -1, -1))


async def test_an_unknown_filter_word_is_answered_with_the_filters(harness: Harness) -> None:
    """'/audit xyz' showed every entry, as if the word meant something."""
    await _seed(harness)
    [answer] = await harness.send(ADMIN_ID, "/audit xyz")
    assert "filter jejak audit xyz tidak kami kenali" in answer.shown, answer.shown
    filters = "Semua, Peran, Siaran, Ekspor, Jawaban, Data tokoh, Masa simpan, Undangan"  # the buttons' names
    assert f"Filter yang tersedia: {filters}." in answer.shown and "/audit Siaran" in answer.shown
    assert answer.buttons() == [] and "catatan (halaman" not in answer.shown
    # A filter's name (any case, its English name or key too) opens that filter.
    for typed in ("Siaran", "siaran", "broadcasts", "bc"):
        [page] = await harness.send(ADMIN_ID, f"/audit {typed}")
        assert page.shown.startswith("Jejak audit — Siaran: 14 catatan (halaman 1 dari 2)"), typed
        assert "• Siaran" in [b["text"] for b in page.buttons()]
    [page] = await harness.send(ADMIN_ID, "/audit data  TOKOH")
    assert page.shown.startswith("Jejak audit — Data tokoh:")
