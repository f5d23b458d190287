"""A crowd: updates of different chats run concurrently, one chat's in order; conversation steps are applied
once (compare-and-swap on the step's version) and abandoned conversations expire."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import pytest
from sqlmodel import select
from telegram import Update

from bot.services import conversations, registration
from bot.update_processor import PerChatUpdateProcessor
from models import ConversationState, utcnow
from tests.conftest import Harness
from tests.test_registration import _last_with_buttons


async def test_updates_of_different_chats_run_together_and_one_chats_in_order(harness: Harness) -> None:
    """Through the application's own update queue, as `rangkul run` feeds it."""
    app, fake = harness.app, harness.fake
    assert isinstance(app.update_processor, PerChatUpdateProcessor)
    fake.configure(latency_for={"sendMessage": 0.5})
    users = list(range(61, 71))
    for user_id in users:
        fake.user(user_id, f"Warga{user_id}")
    await app.start()
    try:
        started = time.monotonic()
        for user_id in users:
            await app.update_queue.put(Update.de_json(fake.send_text(user_id, "/start"), app.bot))
        # One person sends three commands in a row: answered in the order sent.
        for text in ("/bantuan", "/batal", "/bantuan"):
            await app.update_queue.put(Update.de_json(fake.send_text(users[0], text), app.bot))
        await fake.wait_for(lambda: all(fake.sent_texts(u) for u in users) and len(fake.sent_texts(users[0])) == 4)
        elapsed = time.monotonic() - started
    finally:
        await app.stop()
    # Ten replies of 0.5 s each one after another would take 5 s; together they take about one reply's time.
    assert elapsed < 2.5, elapsed
    texts = fake.sent_texts(users[0])
    assert texts[0].startswith("Selamat datang")
    assert "Perintah yang dapat Anda gunakan" in texts[1]
    assert "Tidak ada yang perlu dibatalkan" in texts[2]
    assert "Perintah yang dapat Anda gunakan" in texts[3]


async def test_a_chats_updates_never_overlap_and_keep_their_order() -> None:
    processor = PerChatUpdateProcessor(16)
    log: list[tuple[str, int, str]] = []

    async def work(chat: str, number: int, delay: float) -> None:
        log.append((chat, number, "start"))
        await asyncio.sleep(delay)
        log.append((chat, number, "end"))

    jobs = [processor.process_update(_private_update(1, n), work("a", n, 0.02 * (5 - n))) for n in range(5)]
    jobs += [processor.process_update(_private_update(2, 10 + n), work("b", n, 0.01)) for n in range(5)]
    await asyncio.gather(*(asyncio.ensure_future(job) for job in jobs))
    chat_a = [(number, event) for chat, number, event in log if chat == "a"]
    assert chat_a == [(n, event) for n in range(5) for event in ("start", "end")]
    # Chat b did not wait for chat a: its work is interleaved with a's.
    first_b_end = log.index(("b", 0, "end"))
    assert first_b_end < log.index(("a", 0, "end"))
    assert processor.busy_chats == 0  # no lock is kept for chats with nothing in hand


async def test_two_answers_to_one_step_are_applied_once(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two presses of one button handled at the same moment (as two processes would, or a chat's order lost):
    both have read the step and passed the button's version check before either is applied."""
    fake = harness.fake
    fake.user(80, "Sari")
    await harness.send(80, "/daftar")
    notice = _last_with_buttons(harness, 80)
    before = len(fake.chat(80).messages)
    both_read = asyncio.Barrier(2)
    apply_answer = registration.answer

    async def answer_when_both_have_read(**kwargs: Any) -> registration.Result:
        await kwargs["session"].commit()  # the sender's last_seen_at is written: no lock held while waiting
        await both_read.wait()
        return await apply_answer(**kwargs)

    monkeypatch.setattr(registration, "answer", answer_when_both_have_read)
    press = fake.press(80, notice.message_id, "Setuju")
    again = fake.press(80, notice.message_id, "Setuju")
    await asyncio.wait_for(asyncio.gather(harness.feed(press), harness.feed(again)), 10)
    new = fake.chat(80).messages[before:]
    questions = [m for m in new if "nama lengkap" in m.shown.lower()]
    assert len(questions) == 1, [m.shown for m in new]
    answers = [c for c in fake.calls("answerCallbackQuery") if c.get("text")]
    assert any("sudah kami terima" in c["text"] for c in answers)
    async with harness.app.bot_data.sessions() as session:
        [state] = (await session.exec(select(ConversationState))).all()
    assert state.step == registration.Step.NAME


async def test_abandoned_conversations_expire_with_their_contents(harness: Harness) -> None:
    fake = harness.fake
    fake.user(81, "Lama")
    fake.user(82, "Baru")
    for user_id in (81, 82):
        await harness.send(user_id, "/daftar")
        await harness.press(user_id, _last_with_buttons(harness, user_id), "Setuju")
        await harness.send(user_id, "Nama Yang Diketik")
    async with harness.app.bot_data.sessions() as session:
        old = await session.get(ConversationState, await _person_id(harness, 81))
        assert old is not None and old.data["name"] == "Nama Yang Diketik"
        old.updated_at = utcnow() - dt.timedelta(hours=25)
        session.add(old)
        await session.commit()
    # Coming back after a day: the old answers are gone and the text is not taken as an answer.
    [reply] = await harness.send(81, "Tokoh Pemuda")
    assert "/bantuan" in reply.shown
    async with harness.app.bot_data.sessions() as session:
        states = (await session.exec(select(ConversationState))).all()
        assert [s.person_id for s in states] == [await _person_id(harness, 82)]
        # The hourly purge removes what nobody came back to.
        states[0].updated_at = utcnow() - dt.timedelta(hours=24, minutes=1)
        session.add(states[0])
        await session.commit()
        expired = await conversations.expire_abandoned(session=session, expire_after=dt.timedelta(hours=24))
        await session.commit()
        assert expired == 1
        assert (await session.exec(select(ConversationState))).all() == []


async def _person_id(harness: Harness, telegram_id: int) -> int:
    from bot.services import people

    async with harness.app.bot_data.sessions() as session:
        person = await people.by_telegram_id(session=session, telegram_id=telegram_id)
    assert person is not None and person.id is not None
    return person.id


async def test_a_chat_with_many_updates_waiting_holds_up_no_other_chat() -> None:
    """Updates queued behind their own chat hold no running place (a busy group, a hundred forwards)."""
    processor = PerChatUpdateProcessor(4)
    finished: dict[str, float] = {}
    started = time.monotonic()

    async def work(name: str) -> None:
        await asyncio.sleep(0.2)
        finished[name] = time.monotonic() - started

    jobs = [processor.process_update(_private_update(1, n), work(f"a{n}")) for n in range(6)]
    jobs.append(processor.process_update(_private_update(2, 99), work("b")))
    await asyncio.gather(*(asyncio.ensure_future(job) for job in jobs))
    assert finished["b"] < 0.35, finished  # alongside chat a's first update, not after four of them
    assert finished["a5"] >= 1.2  # chat a's own updates still one after another


def _private_update(chat_id: int, update_id: int) -> Update:
    data: dict[str, Any] = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "X"},
            "text": "hai",
        },
    }
    return Update.de_json(data, None)
