"""/start, /bantuan, /batal and everything the bot does not understand, through the in-process fake Telegram."""

from __future__ import annotations

from sqlmodel import select

from models import Figure, Person, utcnow
from tests.conftest import ADMIN_ID, Harness


async def test_start_welcomes_in_indonesian_with_controller_and_election(harness: Harness) -> None:
    harness.fake.user(1, "Siti <b>Aminah</b>", username="SitiA")
    [reply] = await harness.send(1, "/start")
    assert "Selamat datang di Rangkul, Siti <b>Aminah</b>!" in reply.shown
    assert "Komisi Pemilihan Umum Provinsi Kalimantan Selatan" in reply.shown
    assert "Pemilihan Umum 2029" in reply.shown
    assert "Rabu, 14 Februari 2029" in reply.shown
    assert "/bantuan" in reply.shown
    # The name the person typed is escaped, not interpreted as HTML.
    assert "Siti &lt;b&gt;Aminah&lt;/b&gt;" in (reply.html or "")


async def test_start_is_indonesian_whatever_the_telegram_app_language(harness: Harness) -> None:
    # The app's language is not a choice of language for an official service (/bahasa is).
    harness.fake.user(2, "John", language_code="en-GB")
    harness.fake.user(3, "Jean", language_code="fr")
    [english_app] = await harness.send(2, "/start")
    [french_app] = await harness.send(3, "/start")
    assert english_app.shown.startswith("Selamat datang di Rangkul, John!")
    assert french_app.shown.startswith("Selamat datang di Rangkul, Jean!")


async def test_help_lists_only_the_callers_commands(harness: Harness) -> None:
    harness.fake.user(4, "Figur")
    [figure_help] = await harness.send(4, "/bantuan")
    [admin_help] = await harness.send(ADMIN_ID, "/help")
    assert "/start" in figure_help.shown and "/batal (/cancel)" in figure_help.shown
    assert "/peran" not in figure_help.shown
    assert "/peran (/role)" in admin_help.shown
    assert "admin" in admin_help.shown


async def test_unknown_command_text_and_media_get_a_hint(harness: Harness) -> None:
    harness.fake.user(5, "Rina")
    [unknown] = await harness.send(5, "/tidakada")
    [text] = await harness.send(5, "halo pak")
    await harness.feed(harness.fake.send_sticker(5))
    await harness.feed(harness.fake.send_photo(5))
    await harness.feed(harness.fake.send_voice(5))
    assert "tidak kami kenali" in unknown.shown and "/bantuan" in unknown.shown
    assert "/bantuan" in text.shown
    media_replies = harness.fake.sent_texts(5)[2:]
    assert len(media_replies) == 3
    # Someone not registered: their text and media reach no officer, and they are told to register first.
    assert "/daftar" in text.shown and "Bawaslu" in text.shown
    assert all("/daftar" in reply and "Bawaslu" in reply for reply in media_replies)


async def test_edited_command_is_not_acted_on_again(harness: Harness) -> None:
    harness.fake.user(6, "Andi")
    await harness.send(6, "/start")
    user_message_id = harness.fake.chat(6).history[0].message_id
    await harness.feed(harness.fake.edit_user_message(6, user_message_id, "/peran daftar"))
    assert "tidak kami proses" in harness.last(6).shown
    assert len(harness.fake.sent_texts(6)) == 2


async def test_oversized_text_is_answered_without_error(harness: Harness) -> None:
    harness.fake.user(7, "Dewi")
    [reply] = await harness.send(7, "x" * 4096)
    assert "/bantuan" in reply.shown


async def test_cancel_with_nothing_in_progress(harness: Harness) -> None:
    harness.fake.user(8, "Yusuf")
    [reply] = await harness.send(8, "/batal")
    assert "Tidak ada yang perlu dibatalkan" in reply.shown


async def test_group_gets_pointer_to_private_chat_and_no_chatter(harness: Harness) -> None:
    harness.fake.user(9, "Budi")
    group = harness.fake.group(-100, "Relawan Demokrasi")
    await harness.feed(harness.fake.send_text(9, "/start", chat_id=group.id))
    await harness.feed(harness.fake.send_text(9, "selamat pagi semua", chat_id=group.id))
    await harness.feed(harness.fake.send_text(9, "/tidakada", chat_id=group.id))
    await harness.feed(harness.fake.send_text(ADMIN_ID, "/peran daftar", chat_id=group.id))
    replies = harness.fake.sent_texts(group.id)
    assert len(replies) == 2
    assert "chat pribadi" in replies[0]
    assert "chat pribadi" in replies[1] and "Admin" not in replies[1]
    assert harness.fake.last_message(group.id) is not None
    button = harness.fake.chat(group.id).messages[0].buttons()[0]
    assert button["url"] == f"https://t.me/{harness.fake.bot_username}"


async def test_every_sender_is_recorded_for_username_lookup(harness: Harness) -> None:
    harness.fake.user(10, "Ahmad", username="Ahmad_Banjar")
    await harness.send(10, "/start")
    result = await harness_session_people(harness)
    assert ("ahmad_banjar", 10) in result


async def harness_session_people(harness: Harness) -> set[tuple[str | None, int | None]]:
    async with harness.app.bot_data.sessions() as session:
        rows = (await session.exec(select(Person))).all()
    return {(person.username, person.telegram_id) for person in rows}


async def test_group_updates_store_nobody_and_leave_private_chat_state_alone(harness: Harness) -> None:
    from tests.test_broadcast import make_figures

    group = harness.fake.group(-101, "Karang Taruna")
    harness.fake.user(11, "Bystander")
    await harness.feed(harness.fake.send_text(11, f"/start@{harness.fake.bot_username}", chat_id=group.id))
    assert all(telegram_id != 11 for _, telegram_id in await harness_session_people(harness))

    [figure_user] = await make_figures(harness, 12, 1, unreachable_since=utcnow())
    await harness.feed(harness.fake.send_text(figure_user, "/start", chat_id=group.id))
    async with harness.app.bot_data.sessions() as session:
        figure = (await session.exec(select(Figure))).one()
    assert figure.unreachable_since is not None  # the private chat is still blocked
    # Writing in the private chat does prove it is open again.
    await harness.send(figure_user, "/start")
    async with harness.app.bot_data.sessions() as session:
        figure = (await session.exec(select(Figure))).one()
    assert figure.unreachable_since is None
