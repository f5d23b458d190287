"""A changed privacy notice, told once: never lost to a failed send, never in the way of /berhenti, /hapusdata
or a conversation, not sent in a masa tenang, agreed to only as shown; registration records what it showed."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from telegram import Update
from telegram.ext import CommandHandler

from bot import notice
from bot.config import QuietPeriod, Settings
from bot.context import Context
from bot.delivery.changed_notice import tell_batch
from models import ConversationState, Person, utcnow
from tests.conftest import Harness
from tests.test_broadcast import make_figures
from tests.test_privacy_notice import CHANGED, _change_notice, _figure_of, _notices
from tests.test_registration import tap

APOLOGY = "Mohon maaf, terjadi gangguan"


async def _tell_batch(harness: Harness) -> int:
    return await tell_batch(harness.app.bot, harness.app.bot_data, pause=0)


async def _state(harness: Harness, user_id: int) -> ConversationState:
    async with harness.app.bot_data.sessions() as session:
        person = (await session.exec(select(Person).where(Person.telegram_id == user_id))).one()
        state: ConversationState | None = await session.get(ConversationState, person.id)
        assert state is not None
        return state


# ----------------------------------------------------------------------------------------- one way to tell


async def test_a_notice_that_could_not_be_sent_is_told_later_without_an_apology(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    [user] = await make_figures(harness, 600, 1)
    [menu] = await harness.send(user, "/bahasa")
    await _change_notice(harness)
    # The language button is answered by editing its message; the notice that follows cannot be sent.
    harness.fake.fail_next("sendMessage", 400, "Bad Request: chat not found")
    with caplog.at_level(logging.WARNING):
        await harness.press(user, menu, "✅ Bahasa Indonesia")
    assert not any(APOLOGY in m.shown for m in harness.fake.chat(user).messages)  # their own step went through
    assert (await _figure_of(harness, user)).notice_told_version is None  # not counted as told
    assert "could not tell" in caplog.text and str(user) not in caplog.text
    # So their next message (or the job) tells them.
    [_, told] = await harness.send(user, "/bantuan")
    assert CHANGED in told.shown


# ----------------------------------------------------------------------------------------- not in the way


@pytest.mark.parametrize("command", ["/berhenti", "/stop", "/lanjut", "/hapusdata", "/dataku", "/batal"])
async def test_no_notice_after_a_command_about_ones_data_or_messages(harness: Harness, command: str) -> None:
    [user] = await make_figures(harness, 610, 1)
    await _change_notice(harness)
    replies = await harness.send(user, command)
    assert replies and not _notices(harness, user)
    if command == "/hapusdata":
        # Its confirmation stays the last message, and cancelling it is not followed by the notice either.
        await harness.press(user, replies[-1], "Batal")
        assert not _notices(harness, user)
    assert (await _figure_of(harness, user)).notice_told_version is None


async def test_no_notice_in_the_middle_of_a_conversation(harness: Harness) -> None:
    [user] = await make_figures(harness, 620, 1)
    [profile] = await harness.send(user, "/profil")
    await harness.press(user, profile, "Ubah wilayah")
    await _change_notice(harness)
    replies = await harness.send(user, "kalimantan selatan")
    assert "Kabupaten/kota mana?" in replies[-1].shown
    assert not _notices(harness, user)
    await harness.send(user, "/batal")
    [_, told] = await harness.send(user, "/bantuan")  # the conversation is over: now they are told
    assert CHANGED in told.shown


async def test_a_figure_who_opted_out_is_told_on_their_next_message_that_they_receive_none(harness: Harness) -> None:
    [stopped, receiving] = await make_figures(harness, 630, 2)
    await harness.send(stopped, "/berhenti")
    await _change_notice(harness)
    assert await _tell_batch(harness) == 1  # the job tells only the one who receives messages
    assert not _notices(harness, stopped)
    [told_receiving] = _notices(harness, receiving)
    assert "Anda tetap menerima pesan dari kami" in told_receiving.shown
    [_, told] = await harness.send(stopped, "/bantuan")
    assert CHANGED in told.shown
    assert "tetap menerima pesan" not in told.shown
    assert "Saat ini Anda tidak menerima pesan dari kami. Ketik /lanjut untuk menerimanya kembali." in told.shown
    assert [b["text"] for b in told.buttons()] == ["Setuju"]  # no "stop" to someone who already stopped


# ----------------------------------------------------------------------------------------- what was shown


async def test_registration_records_the_notice_shown_in_the_language_it_was_shown_in(harness: Harness) -> None:
    harness.fake.user(640, "Siti")
    [indonesian] = await harness.send(640, "/daftar")
    await harness.send(640, "/bahasa english")
    [_, english] = await harness.send(640, "/daftar")
    assert "Personal data notice" in english.shown
    # "Setuju" under the Indonesian notice, now that they read English: not taken as consent to either.
    await harness.press(640, indonesian, "Setuju")
    assert (await _state(harness, 640)).step == "consent"
    assert "Please read the notice below" in harness.fake.callback_answers[-1]["text"]
    [again] = [m for m in harness.fake.chat(640).messages[-1:] if m.buttons()]
    assert "Personal data notice" in again.shown
    await harness.press(640, again, "I agree")
    state = await _state(harness, 640)
    assert state.step == "name"
    settings = harness.app.bot_data.settings
    assert (state.data["locale"], state.data["notice_version"]) == ("en", notice.current_version(settings, "en"))


async def test_a_notice_that_changed_during_registration_is_shown_again_before_consent(harness: Harness) -> None:
    harness.fake.user(645, "Budi")
    await harness.send(645, "/daftar")
    changed = await _change_notice(harness)
    await tap(harness, 645, "Setuju")
    assert (await _state(harness, 645)).step == "consent"
    current = harness.last(645)
    assert "sampai Minggu, 30 Juni 2030" in current.shown
    await harness.press(645, current, "Setuju")
    state = await _state(harness, 645)
    assert (state.data["locale"], state.data["notice_version"]) == ("id", notice.current_version(changed, "id"))


async def test_agreeing_counts_only_in_a_language_the_figure_was_shown(harness: Harness) -> None:
    [user, other] = await make_figures(harness, 650, 2)
    settings = await _change_notice(harness)
    [_, told] = await harness.send(user, "/bantuan")
    person_id = (await _figure_of(harness, user)).person_id
    # A forged English answer under the Indonesian notice they read: refused, and the notice is shown again.
    await harness.press_data(user, told, f"pdp:yes:{person_id}:en:{notice.current_version(settings, 'en')}")
    figure = await _figure_of(harness, user)
    assert figure.consent_locale == "id" and figure.consent_version != notice.current_version(settings, "en")
    assert "sudah diganti dengan versi yang lebih baru" in harness.fake.callback_answers[-1]["text"]
    assert len(_notices(harness, user)) == 2
    # Told in Indonesian, then choosing English: the Indonesian notice they read may still be agreed to.
    [_, read] = await harness.send(other, "/bantuan")
    await harness.send(other, "/bahasa english")
    await harness.press(other, read, "Setuju")
    agreed = await _figure_of(harness, other)
    assert (agreed.consent_locale, agreed.consent_version) == ("id", notice.current_version(settings, "id"))


async def test_the_changed_notice_does_not_ask_to_read_it_before_registering(harness: Harness) -> None:
    [user] = await make_figures(harness, 660, 1)
    await _change_notice(harness)
    [_, told] = await harness.send(user, "/bantuan")
    assert "Sebelum mendaftar" not in told.shown
    harness.fake.user(661, "Ani")
    [registering] = await harness.send(661, "/daftar")
    assert "Sebelum mendaftar, mohon baca cara kami mengelola data Anda." in registering.shown


async def test_a_notice_button_for_someone_else_says_what_to_do(harness: Harness) -> None:
    [user, other] = await make_figures(harness, 670, 2)
    settings = await _change_notice(harness)
    await _tell_batch(harness)
    person_id = (await _figure_of(harness, user)).person_id
    [told_other] = _notices(harness, other)
    await harness.press_data(other, told_other, f"pdp:yes:{person_id}:id:{notice.current_version(settings, 'id')}")
    answer = harness.fake.callback_answers[-1]["text"]
    assert "sudah tidak berlaku" in answer and "/profil" in answer


# ----------------------------------------------------------------------------------------- after an error


async def test_no_notice_after_an_apology(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    [user] = await make_figures(harness, 680, 1)
    await _change_notice(harness)

    async def failing_help(update: Update, context: Context) -> None:
        # A first part of the answer went out (committing the update's work so far), then it failed: the
        # rollback has nothing left to undo, and the person has an apology as their last message.
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "Perintah yang dapat Anda gunakan:")
        raise RuntimeError("the rest of the help text could not be built")

    [handler] = [h for h in harness.app.handlers[0] if isinstance(h, CommandHandler) and "bantuan" in h.commands]
    monkeypatch.setattr(handler, "callback", failing_help)
    replies = await harness.send(user, "/bantuan")
    assert APOLOGY in replies[-1].shown  # the apology is the last word
    assert not _notices(harness, user)
    assert (await _figure_of(harness, user)).notice_told_version is None
    monkeypatch.undo()
    [_, told] = await harness.send(user, "/bantuan")
    assert CHANGED in told.shown


# ----------------------------------------------------------------------------------------- masa tenang


def _quiet_now(settings: Settings) -> Settings:
    now = utcnow()
    period = QuietPeriod(name="Masa tenang", start=now - dt.timedelta(hours=1), end=now + dt.timedelta(days=1))
    return settings.model_copy(update={"broadcast": settings.broadcast.model_copy(update={"quiet_periods": [period]})})


async def test_the_job_tells_nobody_in_a_masa_tenang(harness: Harness) -> None:
    [user] = await make_figures(harness, 690, 1)
    changed = await _change_notice(harness)
    harness.use_settings(_quiet_now(changed))
    assert await _tell_batch(harness) == 0
    assert not _notices(harness, user)
    [_, told] = await harness.send(user, "/bantuan")  # answering them is not a broadcast
    assert CHANGED in told.shown


async def test_the_job_tells_nobody_on_voting_day(harness: Harness) -> None:
    [user] = await make_figures(harness, 695, 1)
    changed = await _change_notice(harness)
    today = utcnow().astimezone(changed.tz).date()
    election = changed.election.model_copy(update={"date": today})
    harness.use_settings(changed.model_copy(update={"election": election}))
    assert await _tell_batch(harness) == 0
    harness.use_settings(changed)
    assert await _tell_batch(harness) == 1
    assert len(_notices(harness, user)) == 1


# ----------------------------------------------------------------------------------------- cost


async def test_an_update_with_nothing_to_tell_reads_the_figure_once(harness: Harness, engine: AsyncEngine) -> None:
    [user] = await make_figures(harness, 700, 1)
    await harness.send(user, "/bantuan")
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await harness.send(user, "/bantuan")
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", record)
    # Identify reads the person with their registration (FROM person LEFT OUTER JOIN figure): nothing reads it again.
    assert sum(re.search(r"\b(FROM|JOIN) figure\b", statement) is not None for statement in statements) == 1
