"""Figures' replies: stored (linked to the broadcast they answer), media by file id, the daily cap, /balasan for
organizers within their scope (read, answer), forged presses, the digest, and /dataku and /hapusdata."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bot.app import build_application
from bot.delivery.reply_digest import send_digests
from bot.services import figures, roles
from bot.services.reply_digest import DIGEST_INTERVAL
from bot.views.replies import REPLIES
from models import AuditEvent, Broadcast, Delivery, Figure, Person, Reply, ReplyDigest, ReplyKind, Role, utcnow
from tests.conftest import ADMIN_ID, Harness, make_settings
from tests.faketg import FakeRequest
from tests.faketg.core import FakeMessage
from tests.test_broadcast import compose_invitation, make_figures, make_organizer, tap

ORGANIZER = 500  # Kota Banjarmasin (63.71)
OTHER_ORGANIZER = 501  # Kota Banjarbaru (63.72)
ACK = "pesan Anda kami teruskan kepada petugas KPU wilayah Anda"


async def _replies(harness: Harness) -> list[Reply]:
    async with harness.app.bot_data.sessions() as session:
        return list((await session.exec(select(Reply).order_by(col(Reply.id)))).all())


async def _sent_broadcast(harness: Harness, figure_ids: list[int]) -> tuple[int, dict[int, FakeMessage]]:
    """The organizer sends the socialization invitation to Kota Banjarmasin; the broadcast's id and the message
    each figure received."""
    await compose_invitation(harness, ORGANIZER, "63.71")
    await tap(harness, ORGANIZER, "📨 Kirim sekarang")
    await harness.deliver()
    async with harness.app.bot_data.sessions() as session:
        broadcast = (await session.exec(select(Broadcast))).one()
    received = {user_id: harness.last(user_id) for user_id in figure_ids}
    assert all("Aula Kantor Kelurahan Mawar" in message.shown for message in received.values())
    assert broadcast.id is not None
    return broadcast.id, received


def _values(data: object) -> list[object]:
    """Every scalar in a decoded JSON document."""
    if isinstance(data, dict):
        return [value for item in data.values() for value in _values(item)]
    if isinstance(data, list):
        return [value for item in data for value in _values(item)]
    return [data]


def _answers(harness: Harness, user_id: int) -> list[str]:
    """The texts of the alerts and toasts USER_ID was shown for their button presses."""
    return [
        call.get("text", "")
        for call in harness.fake.callback_answers
        if call.get("callback_query_id") and call.get("text")
    ]


async def test_a_reply_to_a_broadcast_is_linked_and_a_plain_message_is_not(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    [figure_user] = await make_figures(harness, 4000, 1)
    broadcast_id, received = await _sent_broadcast(harness, [figure_user])
    await harness.feed(harness.fake.reply_to(figure_user, received[figure_user].message_id, "Insya Allah kami hadir"))
    ack = harness.last(figure_user)
    assert ACK in ack.shown and "Bawaslu" in ack.shown
    [plain] = await harness.send(figure_user, "Kapan jadwal pemutakhiran data pemilih?")
    assert ACK in plain.shown
    linked, unlinked = await _replies(harness)
    assert (linked.broadcast_id, linked.kind, linked.text) == (broadcast_id, ReplyKind.TEXT, "Insya Allah kami hadir")
    assert (unlinked.broadcast_id, unlinked.text) == (None, "Kapan jadwal pemutakhiran data pemilih?")
    assert linked.telegram_message_id is not None and linked.read_at is None


async def test_a_reply_to_another_figures_broadcast_message_id_is_not_linked(harness: Harness) -> None:
    """Message ids are per chat: the link is made only through the figure's own delivery."""
    await make_organizer(harness, ORGANIZER, "63.71")
    first, second = await make_figures(harness, 4000, 2)
    await _sent_broadcast(harness, [first, second])
    # The second figure replies to one of their own earlier messages that is no broadcast.
    await harness.send(second, "halo")
    own = harness.fake.chat(second).history[-2]  # their own "halo"
    await harness.feed(harness.fake.reply_to(second, own.message_id, "ini bukan jawaban siaran"))
    replies = await _replies(harness)
    assert [reply.broadcast_id for reply in replies] == [None, None]


async def test_media_are_recorded_by_file_id_and_acknowledged(harness: Harness) -> None:
    [figure_user] = await make_figures(harness, 4000, 1)
    await harness.feed(harness.fake.send_photo(figure_user, caption="Spanduk sosialisasi di balai desa"))
    await harness.feed(harness.fake.send_voice(figure_user))
    await harness.feed(harness.fake.send_document_from_user(figure_user, "daftar_hadir.pdf", b"%PDF-1.4"))
    await harness.feed(harness.fake.send_sticker(figure_user))
    answers = harness.fake.sent_texts(figure_user)
    assert len(answers) == 4 and all(ACK in text for text in answers)
    photo, voice, document, sticker = await _replies(harness)
    assert (photo.kind, photo.text) == (ReplyKind.PHOTO, "Spanduk sosialisasi di balai desa")
    assert (voice.kind, voice.text, document.kind, sticker.kind) == (
        ReplyKind.VOICE,
        None,
        ReplyKind.DOCUMENT,
        ReplyKind.OTHER,
    )
    for reply in (photo, voice, document, sticker):
        assert reply.file_id and reply.file_id in harness.fake.files
    assert not harness.fake.calls("getFile")  # nothing was downloaded


async def test_someone_not_registered_is_told_to_register_and_nothing_is_stored(harness: Harness) -> None:
    harness.fake.user(77, "Tamu")
    [answer] = await harness.send(77, "Saya ingin bertanya soal TPS")
    await harness.feed(harness.fake.send_photo(77))
    assert "/daftar" in answer.shown and "Bawaslu" in answer.shown and ACK not in answer.shown
    assert "/daftar" in harness.last(77).shown
    assert await _replies(harness) == []


async def test_replies_are_capped_per_figure_per_day(harness: Harness, database_url: str) -> None:
    harness.use_settings(make_settings(database_url, replies={"per_figure_per_day": 3}))
    first, second = await make_figures(harness, 4000, 2)
    for number in range(3):
        [ack] = await harness.send(first, f"pesan {number}")
        assert ACK in ack.shown
    [capped] = await harness.send(first, "pesan ketiga")
    await harness.feed(harness.fake.send_photo(first))
    assert "3 pesan" in capped.shown and "besok" in capped.shown and ACK not in capped.shown
    assert "besok" in harness.last(first).shown
    [other] = await harness.send(second, "pesan tokoh lain")
    assert ACK in other.shown  # the cap is per figure
    replies = await _replies(harness)
    assert [reply.text for reply in replies] == ["pesan 0", "pesan 1", "pesan 2", "pesan tokoh lain"]
    # Yesterday's messages do not count against today.
    async with harness.app.bot_data.sessions() as session:
        for reply in (await session.exec(select(Reply).where(col(Reply.text).like("pesan _")))).all():
            reply.received_at = utcnow() - dt.timedelta(days=1, hours=1)
            session.add(reply)
        await session.commit()
    [again] = await harness.send(first, "pesan hari berikutnya")
    assert ACK in again.shown


async def test_organizer_sees_replies_in_scope_newest_first_with_names(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    await make_organizer(harness, OTHER_ORGANIZER, "63.72")
    [inside] = await make_figures(harness, 4000, 1, "63.71.05.1003")
    [outside] = await make_figures(harness, 2000, 1, "63.72.01.1001", category="tokoh_agama")
    broadcast_id, received = await _sent_broadcast(harness, [inside])
    await harness.feed(harness.fake.reply_to(inside, received[inside].message_id, "Kami akan datang"))
    await harness.feed(harness.fake.send_photo(inside))
    await harness.send(outside, "Pesan dari Banjarbaru")
    [listing] = await harness.send(ORGANIZER, "/balasan")
    shown = listing.shown
    assert "Kota Banjarmasin" in shown and "63.71" not in shown
    assert "Tokoh Nomor" in shown and "Tokoh pemuda" in shown
    assert f"siaran #{broadcast_id}" in shown and "Kami akan datang" in shown
    assert shown.index("[foto]") < shown.index("Kami akan datang")  # newest first
    assert "Pesan dari Banjarbaru" not in shown
    [other_listing] = await harness.send(OTHER_ORGANIZER, "/replies")
    assert "Pesan dari Banjarbaru" in other_listing.shown and "Kami akan datang" not in other_listing.shown
    [admin_listing] = await harness.send(ADMIN_ID, "/balasan")
    assert "Pesan dari Banjarbaru" in admin_listing.shown and "Kami akan datang" in admin_listing.shown
    [figure_try] = await harness.send(inside, "/balasan")
    assert "hanya penyelenggara pemilu" in figure_try.shown


async def test_pages_and_marking_read(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    figure_ids = await make_figures(harness, 4000, 7)
    for user_id in figure_ids:
        await harness.send(user_id, f"Salam dari {user_id}")
    [listing] = await harness.send(ORGANIZER, "/balasan")
    assert "Salam dari 4006" in listing.shown and "Salam dari 4001" not in listing.shown
    assert "halaman 1 dari 2" in listing.shown
    await harness.press(ORGANIZER, listing, "Lebih lama ›")
    page_two = harness.fake.chat(ORGANIZER).find(listing.message_id)
    assert page_two is not None and "Salam dari 4001" in page_two.shown and "Salam dari 4006" not in page_two.shown
    await harness.press(ORGANIZER, page_two, "✓ Tandai dibaca 1")
    replies = {reply.text: reply for reply in await _replies(harness)}
    assert replies["Salam dari 4001"].read_at is not None and replies["Salam dari 4000"].read_at is None
    [listing] = await harness.send(ORGANIZER, "/balasan")
    assert "Salam dari 4001" not in listing.shown and "Balasan yang belum dibaca: 6" in listing.shown


async def test_organizer_answers_a_reply_and_the_figure_receives_it_signed(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    [figure_user] = await make_figures(harness, 4000, 1)
    await harness.send(figure_user, "Apakah KTP lama masih bisa dipakai?")
    [listing] = await harness.send(ORGANIZER, "/balasan")
    await harness.press(ORGANIZER, listing, "✍️ Jawab 1")
    assert "Ketik jawaban Anda" in harness.last(ORGANIZER).shown
    before = len(harness.fake.sent_texts(figure_user))
    [done] = await harness.send(ORGANIZER, "Bisa, selama KTP-el Anda masih berlaku.")
    assert "sudah dikirim" in done.shown
    [answer] = harness.fake.sent_texts(figure_user)[before:]
    controller = harness.app.bot_data.settings.privacy.controller_name
    assert "Bisa, selama KTP-el Anda masih berlaku." in answer and controller in answer
    assert "Apakah KTP lama masih bisa dipakai?" in answer
    [reply] = await _replies(harness)
    assert reply.answer_text == "Bisa, selama KTP-el Anda masih berlaku."
    assert reply.answered_at is not None and reply.read_at is not None
    async with harness.app.bot_data.sessions() as session:
        [event] = (await session.exec(select(AuditEvent).where(AuditEvent.action == "reply.answer"))).all()
        figure = (await session.exec(select(Figure))).one()
    assert event.details == {"reply": reply.id, "figure": figure.id}
    assert reply.answered_by == event.actor_person_id
    assert "KTP" not in json.dumps(event.details)  # ids only, never the texts


async def test_answering_can_be_cancelled_and_nothing_is_sent(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    [figure_user] = await make_figures(harness, 4000, 1)
    await harness.send(figure_user, "Terima kasih infonya")
    [listing] = await harness.send(ORGANIZER, "/balasan")
    await harness.press(ORGANIZER, listing, "✍️ Jawab 1")
    [cancelled] = await harness.send(ORGANIZER, "/batal")
    assert "Dibatalkan" in cancelled.shown
    before = len(harness.fake.sent_texts(figure_user))
    await harness.send(ORGANIZER, "teks biasa setelah batal")
    assert len(harness.fake.sent_texts(figure_user)) == before
    [reply] = await _replies(harness)
    assert reply.answer_text is None


async def test_forged_and_out_of_scope_presses_are_refused(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    await make_organizer(harness, OTHER_ORGANIZER, "63.72")
    [figure_user] = await make_figures(harness, 4000, 1)
    [bystander] = await make_figures(harness, 3000, 1, "63.71.05.1003")
    await harness.send(figure_user, "Pesan rahasia untuk Banjarmasin")
    [reply] = await _replies(harness)
    [own_listing] = await harness.send(OTHER_ORGANIZER, "/balasan")
    assert "Pesan rahasia" not in own_listing.shown
    for data in (REPLIES.data("read", reply.id, 0), REPLIES.data("answer", reply.id)):
        await harness.press_data(OTHER_ORGANIZER, own_listing, data)
    # A figure pressing organizer buttons, and data that is no button of ours.
    await harness.send(bystander, "halo")
    await harness.press_data(bystander, harness.last(bystander), REPLIES.data("read", reply.id, 0))
    await harness.press_data(OTHER_ORGANIZER, own_listing, "rp:read:abc:0")
    await harness.press_data(OTHER_ORGANIZER, own_listing, "rp:answer:99999")
    await harness.press_data(OTHER_ORGANIZER, own_listing, "rp:delete:1")
    alerts = _answers(harness, OTHER_ORGANIZER)
    assert sum("tidak berada di wilayah Anda" in text for text in alerts) == 4
    # The figure's refusal is longer than an alert holds (200 characters): it comes as a message in their chat.
    assert "hanya penyelenggara pemilu" in harness.last(bystander).shown
    assert any("sudah tidak berlaku" in text for text in alerts)
    # The out-of-scope organizer never got to write an answer, and nothing changed.
    await harness.send(OTHER_ORGANIZER, "Jawaban palsu")
    after = next(r for r in await _replies(harness) if r.id == reply.id)
    assert after.read_at is None and after.answer_text is None
    assert "Jawaban palsu" not in [r.text for r in await _replies(harness)]  # an organizer's text is no reply
    assert all("Jawaban palsu" not in text for text in harness.fake.sent_texts(figure_user))


async def test_a_pending_answer_is_refused_when_the_scope_was_taken_away(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    [figure_user] = await make_figures(harness, 4000, 1)
    await harness.send(figure_user, "Mohon info jadwal")
    [listing] = await harness.send(ORGANIZER, "/balasan")
    await harness.press(ORGANIZER, listing, "✍️ Jawab 1")
    async with harness.app.bot_data.sessions() as session:
        person = (await session.exec(select(Person).where(Person.telegram_id == ORGANIZER))).one()
        await roles.revoke(session=session, actor=person, subject=person, role=Role.ORGANIZER)
        await session.commit()
    before = len(harness.fake.sent_texts(figure_user))
    await harness.send(ORGANIZER, "Jawaban setelah dicabut")
    assert len(harness.fake.sent_texts(figure_user)) == before
    [reply] = await _replies(harness)
    assert reply.answer_text is None


async def test_digest_once_per_interval_counts_right_and_survives_a_restart(
    harness: Harness, engine: AsyncEngine
) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    await make_organizer(harness, OTHER_ORGANIZER, "63.72")
    await harness.send(ADMIN_ID, "/start")  # a bootstrap admin known to the bot
    inside = await make_figures(harness, 4000, 3)
    [outside] = await make_figures(harness, 2000, 1, "63.72.01.1001")
    for user_id in inside:
        await harness.send(user_id, "halo petugas")
    bot, bot_data = harness.app.bot, harness.app.bot_data
    now = utcnow()

    def digests(user_id: int) -> list[FakeMessage]:
        return [m for m in harness.fake.chat(user_id).messages if "Balasan baru dari tokoh" in m.shown]

    assert await send_digests(bot, bot_data, now=now) == 2  # the organizer of 63.71 and the admin
    [first] = digests(ORGANIZER)
    assert "wilayah Anda: 3" in first.shown
    assert [b["text"] for b in first.buttons()] == ["Buka balasan"]
    assert digests(OTHER_ORGANIZER) == []
    assert "wilayah Anda: 3" in digests(ADMIN_ID)[0].shown
    # New replies within 15 minutes wait; nothing is sent again for the same replies.
    await harness.send(inside[0], "satu lagi")
    await harness.send(outside, "dari Banjarbaru")
    assert await send_digests(bot, bot_data, now=now + dt.timedelta(minutes=5)) == 1  # only the other organizer
    assert len(digests(ORGANIZER)) == 1
    # A restart: a new application on the same database does not resend.
    settings = bot_data.settings
    restarted = build_application(settings, harness.fake.token, engine, request=FakeRequest(harness.fake))
    await restarted.initialize()
    try:
        assert await send_digests(restarted.bot, restarted.bot_data, now=now + dt.timedelta(minutes=6)) == 0
        later = now + DIGEST_INTERVAL + dt.timedelta(seconds=1)
        assert await send_digests(restarted.bot, restarted.bot_data, now=later) == 2
        assert "wilayah Anda: 1" in digests(ORGANIZER)[-1].shown  # only the reply not yet counted
        assert await send_digests(restarted.bot, restarted.bot_data, now=later + DIGEST_INTERVAL * 2) == 0
    finally:
        await restarted.shutdown()
    # The button opens /balasan.
    await harness.press(ORGANIZER, digests(ORGANIZER)[-1], "Buka balasan")
    assert "satu lagi" in harness.last(ORGANIZER).shown
    async with bot_data.sessions() as session:
        marks = (await session.exec(select(ReplyDigest))).all()
    assert len(marks) == 3


async def test_a_digest_leaves_out_replies_already_read(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    [figure_user] = await make_figures(harness, 4000, 1)
    await harness.send(figure_user, "sudah dibaca nanti")
    [listing] = await harness.send(ORGANIZER, "/balasan")
    await harness.press(ORGANIZER, listing, "✓ Tandai dibaca 1")
    assert await send_digests(harness.app.bot, harness.app.bot_data) == 0


async def test_my_data_exports_and_delete_removes_the_replies(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    [figure_user] = await make_figures(harness, 4000, 1)
    broadcast_id, received = await _sent_broadcast(harness, [figure_user])
    await harness.feed(harness.fake.reply_to(figure_user, received[figure_user].message_id, "Nomor saya 0812"))
    await harness.send(figure_user, "/dataku")
    export = next(m for m in reversed(harness.fake.chat(figure_user).messages) if m.document is not None)
    assert export.document is not None
    data = json.loads(export.document.content)
    [exported] = data["replies"]
    assert exported["text"] == "Nomor saya 0812" and exported["answers_broadcast"] == broadcast_id
    [question] = await harness.send(figure_user, "/hapusdata")
    await harness.press(figure_user, question, "Ya, hapus data saya")
    assert await _replies(harness) == []
    async with harness.app.bot_data.sessions() as session:
        deliveries = (await session.exec(select(Delivery))).all()
    assert len(deliveries) == 1  # the broadcast's own record stays


async def test_my_data_holds_the_figures_own_delivery_outcomes_and_nobody_elses(harness: Harness) -> None:
    """The notice promises "whether each of our messages reached you (delivery outcomes)" among what is kept,
    and when the figure became unreachable: /dataku holds both, and nothing of another recipient's."""
    await make_organizer(harness, ORGANIZER, "63.71")
    reached, blocked = await make_figures(harness, 4000, 2)
    harness.fake.user(blocked).blocked = True  # the bot learns it only when the broadcast is sent
    broadcast_id, received = await _sent_broadcast(harness, [reached])
    await harness.send(reached, "/dataku")
    export = next(m for m in reversed(harness.fake.chat(reached).messages) if m.document is not None)
    assert export.document is not None
    data = json.loads(export.document.content)
    [outcome] = data["delivery_outcomes"]
    assert outcome["broadcast"] == broadcast_id and outcome["status"] == "sent"
    assert outcome["telegram_message_id"] == received[reached].message_id
    assert outcome["template"] and outcome["outcome_at"] and outcome["attempts"] == 1
    assert data["registration"]["unreachable_since"] is None
    assert data["registration"]["opted_out_at"] is None
    content = export.document.content.decode("utf-8")
    assert "Tokoh Nomor W" in content and reached in _values(data)  # their own name and id, not the other's
    assert "Tokoh Nomor X" not in content and f"Tokoh{blocked}" not in content and "blocked" not in content
    assert blocked not in _values(data)
    # The blocked figure's own copy (read straight from the service: the file could not reach them) shows
    # the failed delivery and since when they have been unreachable.
    async with harness.app.bot_data.sessions() as session:
        person = (await session.exec(select(Person).where(Person.telegram_id == blocked))).one()
        theirs = await figures.export_data(session=session, person=person)
    [failed] = theirs["delivery_outcomes"]
    assert (failed["broadcast"], failed["status"], failed["telegram_message_id"]) == (broadcast_id, "blocked", None)
    assert failed["error"] == "Forbidden: bot was blocked by the user"
    assert theirs["registration"]["unreachable_since"] is not None
    assert reached not in _values(theirs) and "Tokoh Nomor W" not in json.dumps(theirs)


async def test_a_location_is_not_stored_and_the_figure_is_told_what_can_be_passed_on(harness: Harness) -> None:
    [figure_user] = await make_figures(harness, 4000, 1)
    location = {"location": {"latitude": -3.3194, "longitude": 114.5908}}
    await harness.feed(harness.fake._user_message(figure_user, None, location))
    assert "tidak dapat kami teruskan" in harness.last(figure_user).shown
    assert await _replies(harness) == []


async def test_a_photo_while_writing_an_answer_is_not_sent_and_the_prompt_comes_again(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    [figure_user] = await make_figures(harness, 4000, 1)
    await harness.send(figure_user, "Apakah KTP lama masih bisa dipakai?")
    [listing] = await harness.send(ORGANIZER, "/balasan")
    await harness.press(ORGANIZER, listing, "✍️ Jawab 1")
    prompt = harness.last(ORGANIZER).shown
    before = len(harness.fake.sent_texts(figure_user))
    mine = len(harness.fake.chat(ORGANIZER).messages)
    await harness.feed(harness.fake.send_photo(ORGANIZER, caption="jadwal pelayanan"))
    refusal, again = harness.fake.chat(ORGANIZER).messages[mine:]
    assert "hanya dapat dijawab" in refusal.shown and "/batal" in refusal.shown
    assert again.shown == prompt
    assert len(harness.fake.sent_texts(figure_user)) == before
    [done] = await harness.send(ORGANIZER, "Bisa, selama KTP-el Anda masih berlaku.")
    assert "sudah dikirim" in done.shown
    [reply] = await _replies(harness)
    assert reply.answer_text == "Bisa, selama KTP-el Anda masih berlaku."


async def test_a_photo_while_answering_a_reply_that_is_gone_ends_the_answer(harness: Harness) -> None:
    """The reply's sender deleted their data while the organizer wrote: a photo was told "answer the question
    below", and no question came; the answer stayed open. Now it says the reply is gone and the answer ends."""
    await make_organizer(harness, ORGANIZER, "63.71")
    [figure_user] = await make_figures(harness, 4000, 1)
    await harness.send(figure_user, "Apakah KTP lama masih bisa dipakai?")
    [listing] = await harness.send(ORGANIZER, "/balasan")
    await harness.press(ORGANIZER, listing, "✍️ Jawab 1")
    [question] = await harness.send(figure_user, "/hapusdata")
    await harness.press(figure_user, question, "Ya, hapus data saya")
    mine = len(harness.fake.chat(ORGANIZER).messages)
    await harness.feed(harness.fake.send_photo(ORGANIZER, caption="jadwal pelayanan"))
    sent = [m.shown for m in harness.fake.chat(ORGANIZER).messages[mine:]]
    assert len(sent) == 2 and "tidak lagi berada di wilayah Anda" in sent[1], sent
    async with harness.app.bot_data.sessions() as session:
        assert not (await session.exec(select(Reply))).all()
    [after] = await harness.send(ORGANIZER, "Jawaban yang terlambat")
    assert "kami teruskan" not in after.shown  # no answer open any more, and an organizer's text is no reply
