"""Commitments: buttons under broadcast messages, recorded once per (figure, broadcast, kind), withdrawn, counted,
every press checked against the database, and /komitmen."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bot import catalog
from bot.app import build_application
from bot.config import Settings
from bot.services import broadcasts, people
from bot.services.roles import Authority
from models import Commitment, CommitmentEvent, Delivery, Figure, Reply, Role, utcnow
from tests.conftest import ADMIN_ID, Harness
from tests.faketg import FakeRequest
from tests.faketg.core import FakeMessage
from tests.test_broadcast import make_figures

VOTE = "Saya akan datang ke TPS"
INVITE = "Saya akan mengajak … orang"
INVALID = "tidak berlaku untuk Anda"


async def send_broadcast(harness: Harness, template: str = "ayo_ke_tps", region: str | None = None) -> int:
    """An admin's broadcast of TEMPLATE to every figure (or those in REGION), delivered through the engine."""
    harness.fake.user(ADMIN_ID, "Admin", username="admin_kpu")
    async with harness.app.bot_data.sessions() as session:
        admin = await people.record_person(
            session=session, telegram_id=ADMIN_ID, username="admin_kpu", first_name="Admin", language_code="id"
        )
        settings = harness.app.bot_data.settings
        info = catalog.get_template_info(settings.templates.dir, template)
        assert info is not None
        broadcast = await broadcasts.create(
            session=session,
            actor=admin,
            authority=Authority(role=Role.ADMIN),
            settings=settings,
            info=info,
            raw_values={},
            segment=broadcasts.Segment(regions=[region] if region else []),
        )
        await session.commit()
        assert broadcast.id is not None
        broadcast_id = broadcast.id
    await harness.deliver()
    return broadcast_id


def broadcast_message(harness: Harness, user_id: int) -> FakeMessage:
    message = next(
        (
            m
            for m in harness.fake.chat(user_id).messages
            if any(b["text"] == VOTE or b["text"].endswith(VOTE) for b in m.buttons())
        ),
        None,
    )
    assert message is not None, "no broadcast message with commitment buttons"
    return message


def labels(message: FakeMessage) -> list[str]:
    return [b["text"] for b in message.buttons()]


def answered(harness: Harness) -> str:
    return str(harness.fake.callback_answers[-1].get("text") or "")


async def rows(harness: Harness) -> tuple[list[Commitment], list[CommitmentEvent]]:
    async with harness.app.bot_data.sessions() as session:
        commitments = list((await session.exec(select(Commitment).order_by(col(Commitment.id)))).all())
        events = list((await session.exec(select(CommitmentEvent).order_by(col(CommitmentEvent.id)))).all())
    return commitments, events


async def age_commitments(harness: Harness, seconds: int = 60) -> None:
    """Make the commitments older than a double tap, so that the next tap offers to withdraw."""
    async with harness.app.bot_data.sessions() as session:
        for row in (await session.exec(select(Commitment))).all():
            row.committed_at = utcnow() - dt.timedelta(seconds=seconds)
            session.add(row)
        await session.commit()


async def test_the_template_buttons_go_out_and_a_tap_records_once(harness: Harness) -> None:
    [figure] = await make_figures(harness, 3000, 1)
    broadcast_id = await send_broadcast(harness)
    message = broadcast_message(harness, figure)
    assert labels(message) == [VOTE, INVITE]
    assert all(len(b["callback_data"].encode()) <= 64 for b in message.buttons())
    await harness.press(figure, message, VOTE)
    assert answered(harness).startswith("Tercatat: Saya akan datang ke TPS")
    assert labels(message) == [f"✅ {VOTE}", INVITE]
    await harness.press(figure, message, f"✅ {VOTE}")  # a double tap
    assert answered(harness).startswith("Sudah tercatat")
    commitments, events = await rows(harness)
    assert [(c.kind, c.broadcast_id, c.withdrawn_at) for c in commitments] == [("tps", broadcast_id, None)]
    async with harness.app.bot_data.sessions() as session:
        delivery = (await session.exec(select(Delivery))).one()
        from models import Broadcast

        broadcast = await session.get(Broadcast, broadcast_id)
        assert broadcast is not None
    assert commitments[0].template_version == broadcast.template_version
    assert [(e.action, e.broadcast_id, e.template_version) for e in events] == [
        ("commit", broadcast_id, broadcast.template_version)
    ]
    assert delivery.message_id == message.message_id


async def test_each_shipped_template_carries_its_buttons(harness: Harness) -> None:
    first, *_others = await make_figures(harness, 3050, 3)
    await send_broadcast(harness, "tolak_politik_uang")
    await send_broadcast(harness, "lawan_hoaks")
    await send_broadcast(harness, "terima_kasih")
    texts = [labels(m) for m in harness.fake.chat(first).messages]
    assert ["Saya menolak politik uang", INVITE] in texts
    assert ["Saya siap melawan hoaks", "Saya siap menjadi relawan demokrasi"] in texts
    assert any(not buttons for buttons in texts)  # the thank-you carries no commitment buttons


async def test_two_taps_at_the_same_moment_record_one_commitment(harness: Harness) -> None:
    figures = await make_figures(harness, 3100, 3)
    await send_broadcast(harness)
    for figure in figures:
        message = broadcast_message(harness, figure)
        press = harness.fake.press(figure, message.message_id, VOTE)
        again = harness.fake.press(figure, message.message_id, VOTE)
        from telegram import Update

        await asyncio.gather(
            harness.app.process_update(Update.de_json(press, harness.app.bot)),
            harness.app.process_update(Update.de_json(again, harness.app.bot)),
        )
    commitments, events = await rows(harness)
    assert len(commitments) == 3 and {c.kind for c in commitments} == {"tps"}
    assert [e.action for e in events] == ["commit"] * 3
    assert len(harness.fake.callback_answers) == 6  # both presses answered


async def test_a_tap_on_a_chosen_one_offers_to_withdraw_and_withdrawing_is_kept(harness: Harness) -> None:
    [figure] = await make_figures(harness, 3200, 1)
    await send_broadcast(harness)
    message = broadcast_message(harness, figure)
    await harness.press(figure, message, VOTE)
    await age_commitments(harness)
    await harness.press(figure, message, f"✅ {VOTE}")
    assert "ingin menariknya" in answered(harness)
    assert labels(message) == [f"↩️ Tarik “{VOTE}”", "Tetap pada komitmen saya"]
    await harness.press(figure, message, "Tetap pada komitmen saya")
    assert labels(message) == [f"✅ {VOTE}", INVITE]
    await harness.press(figure, message, f"✅ {VOTE}")
    withdraw = next(b["callback_data"] for b in message.buttons() if b["text"].startswith("↩️"))
    await harness.press(figure, message, f"↩️ Tarik “{VOTE}”")
    assert answered(harness) == f"Ditarik: {VOTE}."
    assert labels(message) == [VOTE, INVITE]
    commitments, events = await rows(harness)
    assert commitments[0].withdrawn_at is not None
    assert [e.action for e in events] == ["commit", "withdraw"]
    # A stale confirmation (pressed again from an old copy of the keyboard) changes nothing.
    await harness.press_data(figure, message, withdraw)
    assert "sudah ditarik" in answered(harness)
    assert [e.action for e in (await rows(harness))[1]] == ["commit", "withdraw"]
    # Made again: the same row, a new event.
    await harness.press(figure, message, VOTE)
    commitments, events = await rows(harness)
    assert len(commitments) == 1 and commitments[0].withdrawn_at is None
    assert [e.action for e in events] == ["commit", "withdraw", "commit"]
    [listing] = await harness.send(figure, "/komitmen")
    assert VOTE in listing.shown and "Ayo ke TPS!" in listing.shown


async def test_the_invite_count_by_button_and_typed(harness: Harness) -> None:
    [figure] = await make_figures(harness, 3300, 1)
    await send_broadcast(harness)
    message = broadcast_message(harness, figure)
    await harness.press(figure, message, INVITE)
    question = harness.last(figure)
    assert "berapa orang" in question.shown
    assert labels(question) == ["1–5 orang", "6–10 orang", "11–25 orang", "lebih dari 25"]
    more = next(b["callback_data"] for b in question.buttons() if b["text"] == "lebih dari 25")
    await harness.press(figure, question, "6–10 orang")
    # The range chosen is shown back as chosen; the count kept is the least it promises.
    assert labels(message) == [VOTE, "✅ Saya akan mengajak 6–10 orang"]
    assert "Saya akan mengajak 6–10 orang" in answered(harness)
    commitments, events = await rows(harness)
    assert (commitments[0].invite_count, commitments[0].invite_range) == (6, "6-10")
    assert [(e.action, e.invite_count, e.invite_range) for e in events] == [
        ("commit", None, None),
        ("count", 6, "6-10"),
    ]
    # The question answered, a typed number is ordinary text again (no conversation left behind).
    [reply] = await harness.send(figure, "40")
    assert "Tercatat" not in reply.shown
    # Changed by typing: the withdraw offer has "Ubah jumlahnya".
    await age_commitments(harness)
    await harness.press(figure, message, "✅ Saya akan mengajak 6–10 orang")
    await harness.press(figure, message, "Ubah jumlahnya")
    [refused] = await harness.send(figure, "10001")
    assert "bilangan bulat dari 1 sampai 10.000" in refused.shown
    # Words, not a number: a message for the office. The question ends and the text is passed on as a reply,
    # not swallowed while the question waits.
    [passed_on] = await harness.send(figure, "Insya Allah keluarga besar kami ikut")
    assert "kami teruskan" in passed_on.shown
    async with harness.app.bot_data.sessions() as session:
        stored = (await session.exec(select(Reply))).all()
    assert [r.text for r in stored] == ["40", "Insya Allah keluarga besar kami ikut"]
    await harness.press(figure, message, "✅ Saya akan mengajak 6–10 orang")
    await harness.press(figure, message, "Ubah jumlahnya")
    [done] = await harness.send(figure, "1.200 orang")
    assert "Saya akan mengajak 1.200 orang" in done.shown
    assert labels(message) == [VOTE, "✅ Saya akan mengajak 1.200 orang"]
    commitments, events = await rows(harness)
    assert len(commitments) == 1 and commitments[0].invite_count == 1200
    assert [e.action for e in events] == ["commit", "count", "count"]
    # A range button of an invite since withdrawn is stale: nothing is counted.
    await harness.press(figure, message, "✅ Saya akan mengajak 1.200 orang")
    await harness.press(figure, message, "↩️ Tarik “Saya akan mengajak 1.200 orang”")
    assert question.buttons() == []  # answered: the question shows what was noted
    await harness.press_data(figure, question, more)
    assert "ketuk dahulu" in answered(harness)
    commitments, events = await rows(harness)
    assert commitments[0].invite_count == 1200 and commitments[0].withdrawn_at is not None
    assert [e.action for e in events] == ["commit", "count", "count", "withdraw"]


async def test_forged_and_garbage_presses_change_nothing(harness: Harness) -> None:
    figure, other = await make_figures(harness, 3400, 2)
    first = await send_broadcast(harness)
    message = broadcast_message(harness, figure)
    for data in (
        f"cm:c:{first}:relawan",  # a kind this template does not offer
        f"cm:c:{first}:partai",  # no such kind
        "cm:c:abc:tps",
        "cm:c",
        f"cm:c:{first}",
        f"cm:n:{first}:999",
        f"cm:c:{first + 1}:tps",  # a broadcast that does not exist
        f"cm:c:{first}:tps:extra",
    ):
        await harness.press_data(figure, message, data)
        assert INVALID in answered(harness), data
    # Another broadcast, not delivered to this figure (only to the other one, in another region).
    async with harness.app.bot_data.sessions() as session:
        row = (await session.exec(select(Figure).where(Figure.full_name != None).offset(1))).first()  # noqa: E711
        assert row is not None
        row.region_code = "63.72.01.1001"
        session.add(row)
        await session.commit()
    second = await send_broadcast(harness, region="63.72")
    assert labels(broadcast_message(harness, other))
    await harness.press_data(figure, message, f"cm:c:{second}:tps")
    assert INVALID in answered(harness)
    # The other figure's real broadcast data, pressed on a message of the first broadcast: not that message.
    await harness.press_data(other, harness.fake.chat(other).messages[0], f"cm:c:{second}:tps")
    assert INVALID in answered(harness)
    assert await rows(harness) == ([], [])
    assert all(len(a.get("text") or "") <= 200 for a in harness.fake.callback_answers)


async def test_a_press_by_someone_who_did_not_receive_the_broadcast(harness: Harness) -> None:
    figure, outsider = await make_figures(harness, 3500, 2)
    async with harness.app.bot_data.sessions() as session:
        late = (await session.exec(select(Figure).order_by(col(Figure.id).desc()))).first()
        assert late is not None
        late.messages_opt_in = False  # not a recipient when the broadcast was made
        session.add(late)
        await session.commit()
    broadcast_id = await send_broadcast(harness)
    await harness.send(outsider, "/lanjut")
    [reply] = await harness.send(outsider, "/komitmen")
    assert "belum memiliki komitmen" in reply.shown
    await harness.press_data(outsider, reply, f"cm:c:{broadcast_id}:tps")
    assert INVALID in answered(harness)
    # Someone never registered.
    harness.fake.user(3599, "Tamu")
    [hello] = await harness.send(3599, "/komitmen")
    assert "/daftar" in hello.shown
    await harness.press_data(3599, hello, f"cm:c:{broadcast_id}:tps")
    assert "/daftar" in answered(harness)
    assert await rows(harness) == ([], [])
    assert broadcast_message(harness, figure)


async def test_stopped_or_deleted_figures_cannot_commit_until_they_come_back(harness: Harness) -> None:
    figure, deleted = await make_figures(harness, 3600, 2)
    await send_broadcast(harness)
    message = broadcast_message(harness, figure)
    await harness.send(figure, "/berhenti")
    await harness.press(figure, message, VOTE)
    assert "/lanjut" in answered(harness)
    assert await rows(harness) == ([], [])
    await harness.send(figure, "/lanjut")
    await harness.press(figure, message, VOTE)
    assert answered(harness).startswith("Tercatat")
    gone = broadcast_message(harness, deleted)
    async with harness.app.bot_data.sessions() as session:
        row = (await session.exec(select(Figure).order_by(col(Figure.id).desc()))).first()
        assert row is not None
        row.person_id, row.full_name, row.deleted_at = None, None, utcnow()  # what /hapusdata leaves
        session.add(row)
        await session.commit()
    await harness.press(deleted, gone, VOTE)
    assert "/daftar" in answered(harness)
    commitments, _events = await rows(harness)
    assert len(commitments) == 1


async def test_presses_after_a_restart_work(harness: Harness, settings: Settings, engine: AsyncEngine) -> None:
    [figure] = await make_figures(harness, 3700, 1)
    await send_broadcast(harness)
    message = broadcast_message(harness, figure)
    await harness.press(figure, message, INVITE)
    question = harness.last(figure)
    await harness.app.shutdown()
    fake = harness.fake
    restarted = build_application(
        settings, fake.token, engine, request=FakeRequest(fake), get_updates_request=FakeRequest(fake)
    )
    await restarted.initialize()
    try:
        again = Harness(fake=fake, app=restarted)
        await again.press(figure, question, "11–25 orang")
        await again.press(figure, message, VOTE)
    finally:
        await restarted.shutdown()
        await harness.app.initialize()  # the fixture shuts it down again
    commitments, events = await rows(harness)
    assert sorted((c.kind, c.invite_count, c.invite_range) for c in commitments) == [
        ("ajak", 11, "11-25"),
        ("tps", None, None),
    ]
    assert labels(message) == [f"✅ {VOTE}", "✅ Saya akan mengajak 11–25 orang"]
    assert [e.action for e in events] == ["commit", "count", "commit"]


def test_templates_check_reports_unknown_kinds(tmp_path: Path) -> None:
    from bot.template_check import check_templates

    folder = tmp_path / "id"
    folder.mkdir()
    source = (Path(__file__).resolve().parent.parent / "templates" / "id" / "sambutan.html").read_text()
    (folder / "sambutan.html").write_text(source)
    (folder / "ajakan.html").write_text(
        '{#---\ntitle = "Ajakan"\ncommitments = ["tps", "pilih_partai", "tps"]\n---#}\nHalo {{ figure.name }}'
    )
    problems = check_templates(tmp_path)
    assert any("unknown kind 'pilih_partai'" in p for p in problems)
    assert any("'tps' is listed twice" in p for p in problems)
    info = catalog.get_template_info(tmp_path, "ajakan")
    assert info is not None and info.commitments == ("tps",)
    assert check_templates(Path(__file__).resolve().parent.parent / "templates") == []


async def test_a_photo_at_the_count_question_is_no_reply_and_the_question_comes_again(harness: Harness) -> None:
    [figure] = await make_figures(harness, 3310, 1)
    await send_broadcast(harness)
    await harness.press(figure, broadcast_message(harness, figure), INVITE)
    question = harness.last(figure)
    before = len(harness.fake.chat(figure).messages)
    await harness.feed(harness.fake.send_photo(figure, caption="foto kegiatan"))
    refusal, again = harness.fake.chat(figure).messages[before:]
    assert "hanya dapat dijawab" in refusal.shown and "/batal" in refusal.shown
    assert again.shown == question.shown and labels(again) == labels(question)
    async with harness.app.bot_data.sessions() as session:
        assert (await session.exec(select(Reply))).all() == []
    [done] = await harness.send(figure, "12")
    assert "Saya akan mengajak 12 orang" in done.shown
