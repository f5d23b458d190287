"""/ekspor through the fake Bot API: an admin chooses with buttons and typed names and gets a document whose rows
are the database's; organizers are refused unless the settings allow them, and then see their scope, masked;
figures are refused; stale and forged buttons change nothing; the export is audited and leaves no file behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.services import roles
from bot.services.exports import Filters
from models import AuditEvent, ConversationState, Person, Role
from tests.conftest import ADMIN_ID, Harness, make_settings
from tests.faketg.core import FakeMessage
from tests.test_broadcast import make_organizer
from tests.test_exports import BANJAR, BANJARMASIN, expected, read_csv, read_xlsx, seed, un_csv

ORGANIZER = 7001
FIGURE_USER = 7002


def _with_buttons(harness: Harness, user_id: int) -> FakeMessage:
    return next(m for m in reversed(harness.fake.chat(user_id).messages) if m.buttons())


async def tap(harness: Harness, user_id: int, label: str) -> None:
    await harness.press(user_id, _with_buttons(harness, user_id), label)


def _document(harness: Harness, user_id: int) -> FakeMessage:
    message = next(m for m in reversed(harness.fake.chat(user_id).messages) if m.document is not None)
    assert message.document is not None
    return message


def _alerts(harness: Harness) -> list[str]:
    return [call.get("text", "") for call in harness.fake.callback_answers if call.get("text")]


def _leftovers() -> list[Path]:
    """Export files and folders in the temporary folder: this process's in the exports' private folder."""
    from bot import scratch

    root = scratch.root()
    assert root is not None
    return [*Path(tempfile.gettempdir()).glob("rangkul-export-*"), *root.glob(f"{os.getpid()}-*")]


async def test_admin_exports_with_buttons_and_gets_the_rows_as_a_document(
    harness: Harness, engine: AsyncEngine, session: AsyncSession, settings: Settings
) -> None:
    seeded = await seed(session)
    before = set(_leftovers())
    [menu] = await harness.send(ADMIN_ID, "/ekspor")
    assert "Ekspor data kontak" in menu.shown and "Wilayah: semua wilayah" in menu.shown
    await tap(harness, ADMIN_ID, "📍 Wilayah")
    assert "Wilayah yang mana?" in harness.last(ADMIN_ID).shown
    [question] = await harness.send(ADMIN_ID, "Kabupaten Banjar")
    assert "Kabupaten Banjar" in question.shown
    await tap(harness, ADMIN_ID, "✔ Selesai")
    await tap(harness, ADMIN_ID, "Kategori")
    await tap(harness, ADMIN_ID, "Tokoh pemuda")
    await tap(harness, ADMIN_ID, "✅ Tokoh pemuda")  # off again
    await tap(harness, ADMIN_ID, "Tokoh adat")
    await tap(harness, ADMIN_ID, "« Selesai")
    await tap(harness, ADMIN_ID, "Status")
    await tap(harness, ADMIN_ID, "Aktif")
    await tap(harness, ADMIN_ID, "« Selesai")
    await tap(harness, ADMIN_ID, "CSV")
    shown = _with_buttons(harness, ADMIN_ID).shown
    assert "Kategori: Tokoh adat" in shown and "Status: Aktif" in shown and "Format: CSV" in shown
    await tap(harness, ADMIN_ID, "📤 Buat berkas")

    sent = _document(harness, ADMIN_ID)
    assert sent.document is not None
    assert sent.document.filename.startswith(f"rangkul-tokoh-{BANJAR}-") and sent.document.filename.endswith(".csv")
    assert "Berkas sudah siap" in sent.shown and "data pribadi" in sent.shown
    header, *rows = read_csv(sent.document.content)
    want = expected(seeded, Filters(regions=[BANJAR], categories=["tokoh_adat"], statuses=["active"]))
    assert want
    assert [un_csv(row[0]) for row in rows] == [figure["name"] for figure in want]
    assert header[header.index("Nomor HP")] and all("****" not in row[header.index("Nomor HP")] for row in rows)
    progress = [m for m in harness.fake.chat(ADMIN_ID).messages if m.shown.startswith("Menyiapkan berkas")]
    assert progress and progress[-1].shown == f"Menyiapkan berkas… {len(want)} dari {len(want)}"
    assert set(_leftovers()) == before, "no export file is left on disk"

    events = (await session.exec(select(AuditEvent).where(col(AuditEvent.action) == "export.figures"))).all()
    [event] = events
    assert event.details["source"] == "chat" and event.details["format"] == "csv"
    assert event.details["rows"] == len(want) and event.details["filters"]["regions"] == [BANJAR]
    assert event.actor_person_id is not None
    # The draft is used up: pressing "Buat berkas" again makes nothing.
    documents = sum(1 for m in harness.fake.chat(ADMIN_ID).messages if m.document is not None)
    await harness.press_data(ADMIN_ID, menu, menu.buttons()[-2]["callback_data"])
    assert sum(1 for m in harness.fake.chat(ADMIN_ID).messages if m.document is not None) == documents
    assert any("sudah tidak berlaku" in text for text in _alerts(harness))


async def test_xlsx_with_date_range_and_commitments(harness: Harness, session: AsyncSession) -> None:
    seeded = await seed(session)
    await harness.send(ADMIN_ID, "/export")
    await tap(harness, ADMIN_ID, "Tanggal pendaftaran")
    [refused] = await harness.send(ADMIN_ID, "30-11-2026 - 01-11-2026")
    assert "lebih awal" in refused.shown
    await harness.send(ADMIN_ID, "05-11-2026 s.d. 12-11-2026")
    await tap(harness, ADMIN_ID, "« Selesai")
    await tap(harness, ADMIN_ID, "Komitmen: dengan atau tanpa")
    await tap(harness, ADMIN_ID, "Komitmen: dengan komitmen")
    assert "Komitmen: tanpa komitmen" in _with_buttons(harness, ADMIN_ID).shown
    await tap(harness, ADMIN_ID, "📤 Buat berkas")
    sent = _document(harness, ADMIN_ID)
    assert sent.document is not None and sent.document.filename.endswith(".xlsx")
    path = Path(tempfile.mkdtemp()) / "back.xlsx"
    path.write_bytes(sent.document.content)
    _header, *rows = read_xlsx(path)
    import datetime as dt

    filters = Filters(registered_from=dt.date(2026, 11, 5), registered_to=dt.date(2026, 11, 12), with_commitments=False)
    assert [row[0] for row in rows] == [figure["name"] for figure in expected(seeded, filters)]


async def test_organizers_are_refused_unless_the_settings_allow_them(
    harness: Harness, session: AsyncSession, database_url: str
) -> None:
    seeded = await seed(session)
    await make_organizer(harness, ORGANIZER, BANJARMASIN)
    [refusal] = await harness.send(ORGANIZER, "/ekspor")
    assert "hanya admin Rangkul" in refusal.shown and "/laporan" in refusal.shown
    assert not await session.get(ConversationState, 1)
    [help_text] = await harness.send(ORGANIZER, "/bantuan")
    assert "/ekspor" not in help_text.shown and f"ID pengguna Telegram Anda: {ORGANIZER}" in help_text.shown

    harness.use_settings(make_settings(database_url, export={"organizers_allowed": True}))
    # Allowed: /bantuan and the chat's command menu offer it (they did not).
    [help_text] = await harness.send(ORGANIZER, "/bantuan")
    assert "/ekspor (/export)" in help_text.shown
    await harness.send(ORGANIZER, "/start")
    assert "ekspor" in [c["command"] for c in harness.fake.commands[(f"chat:{ORGANIZER}", "")]]
    [menu] = await harness.send(ORGANIZER, "/ekspor")
    assert "disamarkan sebagian" in menu.shown and "Kota Banjarmasin" in menu.shown
    await tap(harness, ORGANIZER, "📍 Wilayah")
    [outside] = await harness.send(ORGANIZER, "63.03")
    assert "di luar wilayah tugas Anda" in outside.shown
    # A forged region button outside the scope changes nothing either.
    question = _with_buttons(harness, ORGANIZER)
    version = question.buttons()[0]["callback_data"].split(":")[2]
    await harness.press_data(ORGANIZER, question, f"ek:rpick:{version}:{BANJAR}")
    # Longer than an alert holds (200 characters), so it comes as a message in the chat.
    assert "di luar wilayah tugas Anda" in harness.last(ORGANIZER).shown
    await tap(harness, ORGANIZER, "✔ Selesai")
    await tap(harness, ORGANIZER, "CSV")
    await tap(harness, ORGANIZER, "📤 Buat berkas")
    sent = _document(harness, ORGANIZER)
    assert sent.document is not None and sent.document.filename.startswith(f"rangkul-tokoh-{BANJARMASIN}-")
    header, *rows = read_csv(sent.document.content)
    want = expected(seeded, Filters(), scopes=(BANJARMASIN,))
    assert [un_csv(row[0]) for row in rows] == [figure["name"] for figure in want]
    phones = [un_csv(row[header.index("Nomor HP")]) for row in rows if row[header.index("Nomor HP")]]
    assert phones and all("-****-" in phone for phone in phones)

    # The setting turned off again while a menu is open: the next press is refused on the server.
    await harness.send(ORGANIZER, "/ekspor")
    harness.use_settings(make_settings(database_url))
    await tap(harness, ORGANIZER, "📤 Buat berkas")
    # Longer than an alert holds (200 characters): it comes as a message in the chat.
    assert "hanya admin Rangkul" in harness.last(ORGANIZER).shown
    assert sum(1 for m in harness.fake.chat(ORGANIZER).messages if m.document is not None) == 1


@pytest.mark.parametrize("text", ["/ekspor", "/export"])
async def test_figures_and_strangers_are_refused(harness: Harness, text: str) -> None:
    harness.fake.user(FIGURE_USER, "Budi")
    [refusal] = await harness.send(FIGURE_USER, text)
    assert "Mohon maaf, hanya admin Rangkul" in refusal.shown and "/bantuan" in refusal.shown
    assert not any(m.document for m in harness.fake.chat(FIGURE_USER).messages)


async def test_nothing_to_export_sends_no_file(harness: Harness, session: AsyncSession) -> None:
    await harness.send(ADMIN_ID, "/ekspor")
    await tap(harness, ADMIN_ID, "📤 Buat berkas")
    assert "tidak ada berkas" in harness.last(ADMIN_ID).shown
    assert not any(m.document for m in harness.fake.chat(ADMIN_ID).messages)


async def test_the_commitment_log_and_the_replies_come_the_same_way(harness: Harness, session: AsyncSession) -> None:
    seeded = await seed(session)
    deleted = {figure["id"] for figure in seeded.figures if figure["deleted"]}
    for label, prefix, count in (
        ("Komitmen", "rangkul-komitmen-semua-", sum(c["figure"] not in deleted for c in seeded.commitments)),
        ("Balasan", "rangkul-balasan-semua-", len(seeded.replies)),
    ):
        await harness.send(ADMIN_ID, "/ekspor")
        await tap(harness, ADMIN_ID, label)
        await tap(harness, ADMIN_ID, "CSV")
        await tap(harness, ADMIN_ID, "📤 Buat berkas")
        sent = _document(harness, ADMIN_ID)
        assert sent.document is not None and sent.document.filename.startswith(prefix)
        _header, *rows = read_csv(sent.document.content)
        assert len(rows) == count
    actions = (await session.exec(select(AuditEvent.action).where(col(AuditEvent.action).like("export.%")))).all()
    assert sorted(actions) == ["export.commitments", "export.replies"]


async def test_regions_chosen_before_the_scope_shrank_are_refused_at_export(
    harness: Harness, session: AsyncSession, database_url: str
) -> None:
    await seed(session)
    await make_organizer(harness, ORGANIZER, BANJARMASIN, BANJAR)
    harness.use_settings(make_settings(database_url, export={"organizers_allowed": True}))
    await harness.send(ORGANIZER, "/ekspor")
    await tap(harness, ORGANIZER, "📍 Wilayah")
    await harness.send(ORGANIZER, BANJAR)
    await tap(harness, ORGANIZER, "✔ Selesai")
    async with harness.app.bot_data.sessions() as other:
        person = (await other.exec(select(Person).where(col(Person.telegram_id) == ORGANIZER))).one()
        await roles.revoke(session=other, actor=person, subject=person, role=Role.ORGANIZER, region_codes=[BANJAR])
        await other.commit()
    await tap(harness, ORGANIZER, "📤 Buat berkas")
    assert any("di luar wilayah tugas Anda" in m.shown for m in harness.fake.chat(ORGANIZER).messages)
    assert not any(m.document for m in harness.fake.chat(ORGANIZER).messages)


async def test_a_photo_or_another_language_in_the_middle_of_an_export_shows_its_screen_again(
    harness: Harness,
) -> None:
    [menu] = await harness.send(ADMIN_ID, "/ekspor")
    before = len(harness.fake.chat(ADMIN_ID).messages)
    await harness.feed(harness.fake.send_photo(ADMIN_ID, caption="daftar hadir"))
    refusal, again = harness.fake.chat(ADMIN_ID).messages[before:]
    assert "hanya dapat dijawab" in refusal.shown and "/batal" in refusal.shown
    assert again.shown == menu.shown
    # /bahasa asks the conversation's question again in the new language: the export's menu, too.
    await harness.send(ADMIN_ID, "/bahasa English")
    assert "Export" in harness.last(ADMIN_ID).shown
    await tap(harness, ADMIN_ID, "📍 Regions")
    async with harness.app.bot_data.sessions() as session:
        [state] = (await session.exec(select(ConversationState))).all()
    assert state.flow == "export"
