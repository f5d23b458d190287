"""Indonesian by default whatever the Telegram app says; /bahasa (alias /language) chooses, stores and drives
every text, the command menu and the templates."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot import catalog, i18n
from bot.app import set_menus
from bot.config import Settings
from bot.delivery.status import status_message
from bot.views.limits import listed
from models import AuditEvent, Broadcast, Person
from tests.conftest import Harness
from tests.test_broadcast import compose_invitation, make_figures, make_organizer, tap

ENGLISH_APP = 70
ORGANIZER = 71


async def _person(harness: Harness, user_id: int) -> Person:
    async with harness.app.bot_data.sessions() as session:
        person: Person = (await session.exec(select(Person).where(Person.telegram_id == user_id))).one()
        return person


async def test_an_english_app_gets_indonesian_until_bahasa_changes_it(harness: Harness) -> None:
    harness.fake.user(ENGLISH_APP, "John", language_code="en")
    [welcome] = await harness.send(ENGLISH_APP, "/start")
    [help_text] = await harness.send(ENGLISH_APP, "/help")
    assert welcome.shown.startswith("Selamat datang di Rangkul, John!")
    assert "Perintah yang dapat Anda gunakan" in help_text.shown
    assert "/bahasa (/language)" in help_text.shown

    [menu] = await harness.send(ENGLISH_APP, "/bahasa")
    assert "Saat ini kami berkomunikasi dengan Anda dalam Bahasa Indonesia." in menu.shown
    assert [button["text"] for button in menu.buttons()] == ["✅ Bahasa Indonesia", "English"]
    await harness.press(ENGLISH_APP, menu, "English")
    assert (await _person(harness, ENGLISH_APP)).locale == "en"
    confirmation = harness.last(ENGLISH_APP)
    assert confirmation.shown.startswith("From now on Rangkul speaks English with you.")
    assert "Bahasa Indonesia" in confirmation.shown  # the fallback for messages without an English version
    assert "Mulai" not in confirmation.shown and "kami" not in confirmation.shown  # one language per message

    [help_text] = await harness.send(ENGLISH_APP, "/bantuan")
    assert "Commands you can use" in help_text.shown
    [register] = await harness.send(ENGLISH_APP, "/daftar")
    assert "Perlindungan" not in register.shown and "data" in register.shown.lower()
    # The chat gets the command menu in the language chosen; the default menu stays Indonesian.
    assert harness.fake.commands[("chat:70", "")][0]["description"] == "Start and learn what Rangkul is"

    # Back to Indonesian, typed this time, through the English alias.
    # (Registration is under way, so its question follows, in Indonesian again.)
    back, question = await harness.send(ENGLISH_APP, "/language indonesia")
    assert "Pelindungan Data Pribadi" in question.shown
    assert back.shown.startswith("Mulai sekarang kami berkomunikasi dengan Anda dalam Bahasa Indonesia.")
    assert (await _person(harness, ENGLISH_APP)).locale == "id"
    assert ("chat:70", "") not in harness.fake.commands  # the Indonesian default menu again
    async with harness.app.bot_data.sessions() as session:
        events = (
            await session.exec(
                select(AuditEvent).where(AuditEvent.action == "person.language").order_by(col(AuditEvent.id))
            )
        ).all()
    assert [(e.details["previous"], e.details["locale"]) for e in events] == [(None, "en"), ("en", "id")]


async def test_bad_language_choices_change_nothing(harness: Harness) -> None:
    harness.fake.user(ENGLISH_APP, "John", language_code="en")
    [answer] = await harness.send(ENGLISH_APP, "/bahasa klingon <b>x</b>")
    assert "Mohon maaf, Rangkul belum tersedia dalam bahasa “klingon &lt;b&gt;x&lt;/b&gt;”." in (answer.html or "")
    assert answer.buttons()  # and what to do instead: the buttons
    assert (await _person(harness, ENGLISH_APP)).locale is None
    await harness.press_data(ENGLISH_APP, answer, "bahasa:fr")
    assert (await _person(harness, ENGLISH_APP)).locale is None
    harness.fake.group(-100, "Karang Taruna")
    [group_answer] = await harness.send(ENGLISH_APP, "/bahasa english", chat_id=-100)
    assert "chat pribadi" in group_answer.shown
    assert (await _person(harness, ENGLISH_APP)).locale is None


async def test_menus_at_start_are_indonesian_for_every_app_language(harness: Harness) -> None:
    await set_menus(harness.app)
    assert harness.fake.commands[("default", "")][0]["description"] == "Mulai dan kenali Rangkul"
    assert ("default", "en") not in harness.fake.commands


async def test_a_broadcast_comes_in_indonesian_with_indonesian_dates_when_there_is_no_english_template(
    harness: Harness,
) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    [chose_english, default] = await make_figures(harness, 7000, 2, "63.71.05.1003")
    await harness.send(chose_english, "/bahasa english")
    await compose_invitation(harness, ORGANIZER, "Seluruh wilayah saya")
    await tap(harness, ORGANIZER, "📨 Kirim sekarang")
    await harness.deliver()
    for user_id in (chose_english, default):
        [text] = [t for t in harness.fake.sent_texts(user_id) if "Aula Kantor Kelurahan Mawar" in t]
        assert "Senin, 21 Januari 2030" in text and "09.00 WITA" in text
        assert "Monday" not in text and "January" not in text and "+08" not in text


def test_counts_are_written_the_way_the_reader_writes_numbers(settings: Settings) -> None:
    broadcast = Broadcast(id=7, template="undangan_sosialisasi.html", template_version="x", status="running")
    broadcast.recipient_count = 12_500
    counts = {"sent": 1_250, "failed": 1_001, "blocked": 3, "skipped": 0, "uncertain": 2_000, "pending": 8_246}
    indonesian, _markup = status_message(broadcast, counts, settings, "id")
    assert "4.254/12.500" in indonesian
    assert "Terkirim: 1.250 · Gagal: 1.001 · Diblokir: 3 · Dilewati: 0 · Tidak pasti: 2.000" in indonesian
    english, _markup = status_message(broadcast, counts, settings, "en")
    assert "4,254/12,500" in english and "Sent: 1,250" in english
    many = [f"63.{n}" for n in range(1_300)]
    assert listed(many, i18n.gettext_for("id"), limit=20).endswith("… dan 1.280 lainnya")
    assert listed(many, i18n.gettext_for("en"), limit=20, locale="en").endswith("… and 1,280 more")


def test_a_wrong_weekday_is_named_in_the_readers_language() -> None:
    spec = catalog.ValueSpec(key="date", label="Tanggal", type="date", example="20-01-2029")
    wita = ZoneInfo("Asia/Makassar")
    with pytest.raises(ValueError) as indonesian:
        catalog.parse_value(spec, "Selasa, 21 Januari 2030", wita, gettext=i18n.gettext_for("id"))
    assert "21 Januari 2030 jatuh pada hari Senin" in str(indonesian.value)
    with pytest.raises(ValueError) as english:
        catalog.parse_value(spec, "Selasa, 21 Januari 2030", wita, gettext=i18n.gettext_for("en"), locale="en")
    assert "21 January 2030 falls on a Monday" in str(english.value)


async def test_choosing_a_language_mid_registration_asks_the_question_again_in_it(harness: Harness) -> None:
    harness.fake.user(ENGLISH_APP, "John", language_code="en")
    await harness.send(ENGLISH_APP, "/daftar")
    await tap(harness, ENGLISH_APP, "Setuju")
    question = [m for m in await harness.send(ENGLISH_APP, "John Doe") if m.buttons()][-1]
    assert "kategori" in question.shown.lower()
    replies = await harness.send(ENGLISH_APP, "/bahasa english")
    assert replies[0].shown.startswith("From now on Rangkul speaks English with you.")
    assert "Which kind of community figure are you?" in replies[-1].shown
    assert replies[-1].buttons()[0]["text"] == "Youth figure (tokoh pemuda)"


async def test_an_indonesian_only_message_has_indonesian_buttons_for_an_english_reader(harness: Harness) -> None:
    """A reader who chose English gets the Indonesian template where there is no English one, and then its
    buttons in Indonesian too, when it is sent and when a tap redraws them: never two languages in one message."""
    await make_organizer(harness, ORGANIZER, "63.71")
    [chose_english, _default] = await make_figures(harness, 7000, 2, "63.71.05.1003")
    await harness.send(chose_english, "/bahasa english")
    await harness.send(ORGANIZER, "/siaran")
    await tap(harness, ORGANIZER, "Tolak politik uang")
    await tap(harness, ORGANIZER, "Seluruh wilayah saya")
    await tap(harness, ORGANIZER, "Lanjut ›")
    await tap(harness, ORGANIZER, "Lanjut ›")
    await tap(harness, ORGANIZER, "Semua, kapan pun mendaftar")
    await tap(harness, ORGANIZER, "📨 Kirim sekarang")
    await harness.deliver()
    [message] = [m for m in harness.fake.chat(chose_english).messages if "politik uang" in (m.text or "")]
    assert "Dalam Pemilu, yang dipidana" in message.shown  # the Indonesian body: no English template
    labels = [b["text"] for b in message.buttons()]
    assert labels == ["Saya menolak politik uang", "Saya akan mengajak … orang"], labels
    await harness.press(chose_english, message, "Saya menolak politik uang")
    labels = [b["text"] for b in message.buttons()]
    assert labels == ["✅ Saya menolak politik uang", "Saya akan mengajak … orang"], labels
