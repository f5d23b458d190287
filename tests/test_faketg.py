"""Tests of the fake Telegram Bot API, driven through real python-telegram-bot objects."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageOriginUser,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes

from tests.faketg import FakeBotApiServer, FakeRequest, FakeTelegram
from tests.faketg.client import ControlClient
from tests.faketg.htmlparse import HtmlParseError, parse_html
from tests.faketg.server import WEBHOOK_ATTEMPTS

USER = 4242


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    """One-row inline keyboard of (text, callback_data) buttons."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data) for text, data in buttons]])


def retry_seconds(error: RetryAfter) -> float:
    """RetryAfter.retry_after as seconds, whether PTB hands out an int or a timedelta."""
    value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


@pytest.fixture
def fake() -> FakeTelegram:
    fake = FakeTelegram()
    fake.user(USER, "Budi", username="budi_s")
    return fake


@pytest_asyncio.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, request=FakeRequest(fake), get_updates_request=FakeRequest(fake)) as bot:
        yield bot


@pytest_asyncio.fixture
async def server(fake: FakeTelegram) -> AsyncIterator[FakeBotApiServer]:
    async with FakeBotApiServer(fake) as server:
        yield server


# --------------------------------------------------------------------------- HTML parser


def test_html_parser_text_and_entities() -> None:
    text, entities = parse_html('😀 <b>Halo</b> &amp; <a href="https://x.id/?a=1&amp;b=2">tautan</a>')
    assert text == "😀 Halo & tautan"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 4},
        {"type": "text_link", "offset": 10, "length": 6, "url": "https://x.id/?a=1&b=2"},
    ]
    text, entities = parse_html(
        '<pre><code class="language-python">x&lt;1</code></pre><blockquote expandable>q</blockquote>'
    )
    assert text == "x<1q"
    assert entities == [
        {"type": "pre", "offset": 0, "length": 3, "language": "python"},
        {"type": "expandable_blockquote", "offset": 3, "length": 1},
    ]


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("é</i>", "Unexpected end tag at byte offset 2"),
        ("a < b", "Unsupported start tag"),
        ("Tom & Jerry", "Unsupported HTML entity at byte offset 4"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("<a>x</a>", 'Tag "a" must have attribute "href"'),
    ],
)
def test_html_parser_rejects(html: str, reason: str) -> None:
    with pytest.raises(HtmlParseError, match=reason):
        parse_html(html)


# --------------------------------------------------------------------------- in-process Bot API


@pytest.mark.asyncio
async def test_send_edit_delete_through_ptb(fake: FakeTelegram, bot: Bot) -> None:
    assert bot.username == "rangkul_test_bot"
    sent = await bot.send_message(
        USER,
        "<b>Halo</b> Budi",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard(("Ya", "yes"), ("Tidak", "no")),
    )
    stored = fake.last_message(USER)
    assert stored is not None
    assert stored.message_id == sent.message_id
    assert (stored.text, stored.html, stored.parse_mode) == ("Halo Budi", "<b>Halo</b> Budi", "HTML")
    assert sent.entities[0].type == "bold"
    assert sent.reply_markup is not None

    edited = await bot.edit_message_text("Terima kasih", chat_id=USER, message_id=sent.message_id)
    assert isinstance(edited, type(sent))
    assert edited.edit_date is not None
    assert stored.text == "Terima kasih"
    assert stored.reply_markup is None
    assert len(stored.edits) == 1
    with pytest.raises(BadRequest, match=r"(?i)Message is not modified"):
        await bot.edit_message_text("Terima kasih", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)Message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)

    assert await bot.delete_message(USER, sent.message_id)
    assert stored.deleted
    with pytest.raises(BadRequest, match=r"(?i)Message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    assert fake.sent_texts(USER) == ["Terima kasih"]
    assert [c["text"] for c in fake.calls("sendmessage")] == ["<b>Halo</b> Budi"]


@pytest.mark.asyncio
async def test_html_errors_surface_as_bad_request(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r'(?i)Can\'t parse entities: unsupported start tag "div" at byte offset 0'):
        await bot.send_message(USER, "<div>x</div>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r'(?i)find end tag corresponding to start tag "b"'):
        await bot.send_message(USER, "<b>tebal", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)Message text is empty"):
        await bot.send_message(USER, "<b></b>", parse_mode=ParseMode.HTML)


@pytest.mark.asyncio
async def test_text_limit_counts_after_entity_parsing(bot: Bot) -> None:
    await bot.send_message(USER, "a" * 4096)
    await bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)Message is too long"):
        await bot.send_message(USER, "a" * 4097)


@pytest.mark.asyncio
async def test_callback_data_limit_and_button_validation(bot: Bot) -> None:
    await bot.send_message(USER, "ok", reply_markup=keyboard(("x", "d" * 64)))
    with pytest.raises(BadRequest, match=r"(?i)Button_data_invalid"):
        await bot.send_message(USER, "too long", reply_markup=keyboard(("x", "é" * 33)))
    with pytest.raises(BadRequest, match=r"(?i)Text buttons are unallowed"):
        await bot.send_message(USER, "no action", api_kwargs={"reply_markup": {"inline_keyboard": [[{"text": "x"}]]}})


@pytest.mark.asyncio
async def test_chat_errors(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)Chat not found"):
        await bot.send_message(777, "hai")
    fake.block(USER)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(USER, "hai")
    fake.unblock(USER)
    await bot.send_message(USER, "hai")
    fake.deactivate(USER)
    with pytest.raises(Forbidden, match=r"(?i)user is deactivated"):
        await bot.send_chat_action(USER, "typing")
    updates = await bot.get_updates()
    assert [u.my_chat_member.new_chat_member.status for u in updates if u.my_chat_member] == [
        "kicked",
        "member",
    ]


@pytest.mark.asyncio
async def test_rate_limits_and_fault_injection(fake: FakeTelegram, bot: Bot) -> None:
    fake.configure(rate_limit=2)
    await bot.send_message(USER, "1")
    await bot.send_message(USER, "2")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "3")
    assert retry_seconds(caught.value) == 1
    assert fake.stats.too_many_requests == 1
    await bot.send_message(USER, "paid", allow_paid_broadcast=True)

    fake.configure(rate_limit=None, per_chat_rate_limit=1)
    fake.user(1)
    await bot.send_message(1, "other chat is not limited")
    with pytest.raises(RetryAfter):
        await bot.send_message(1, "but the same chat is")

    fake.configure(per_chat_rate_limit=None)
    fake.fail_next("sendMessage", 429, retry_after=7, chat_id=USER)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "x")
    assert retry_seconds(caught.value) == 7
    fake.fail_next("getMe", 401, "Unauthorized")
    with pytest.raises(InvalidToken):
        await bot.get_me()
    await bot.send_message(USER, "ok again")


@pytest.mark.asyncio
async def test_latency_and_read_timeout(fake: FakeTelegram, bot: Bot) -> None:
    fake.configure(latency_for={"sendMessage": 0.3})
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "slow", read_timeout=0.05)
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started < 0.2


@pytest.mark.asyncio
async def test_long_poll_returns_update_sent_while_waiting(fake: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    fake.send_command(USER, "start", "ref123")
    updates = await poll
    assert time.monotonic() - started < 1
    assert len(updates) == 1
    assert updates[0].message is not None
    assert updates[0].message.text == "/start ref123"
    assert updates[0].message.entities[0].type == "bot_command"
    assert updates[0].message.entities[0].length == 6


@pytest.mark.asyncio
async def test_offset_confirmation(fake: FakeTelegram, bot: Bot) -> None:
    first = fake.send_text(USER, "satu")
    fake.send_text(USER, "dua")
    assert [u.update_id for u in await bot.get_updates()] == [first["update_id"], first["update_id"] + 1]
    again = await bot.get_updates(offset=first["update_id"] + 1)
    assert [u.message.text for u in again if u.message] == ["dua"]
    assert len(fake.pending_updates()) == 1
    assert await bot.get_updates(offset=first["update_id"] + 2, timeout=0) == ()
    assert fake.pending_updates() == []
    assert fake.highest_confirmed_update_id == first["update_id"] + 1


@pytest.mark.asyncio
async def test_webhook_blocks_get_updates(bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="rahasia")
    with pytest.raises(Conflict, match=r"(?i)webhook is active"):
        await bot.get_updates()
    assert (await bot.get_webhook_info()).url == "http://127.0.0.1:9/hook"
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


@pytest.mark.asyncio
async def test_user_actions_parse_as_ptb_objects(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Pilih", reply_markup=keyboard(("Ya", "pick:yes")))
    fake.press(USER, sent.message_id, "Ya")
    fake.press_button(USER, sent.message_id, "forged")
    fake.share_contact(USER, "+628123456789")
    fake.forward_from(USER, 99, "pesan asli")
    forwarded = fake.pending_updates()[-1]["message"]["message_id"]
    fake.reply_to(USER, forwarded, "ini tokoh masyarakat")
    fake.send_sticker(USER)
    fake.send_voice(USER)
    updates = await bot.get_updates()
    query = updates[0].callback_query
    assert query is not None
    assert query.data == "pick:yes"
    assert query.message is not None
    assert query.message.message_id == sent.message_id
    assert updates[1].callback_query is not None
    assert updates[1].callback_query.data == "forged"
    contact = updates[2].message.contact if updates[2].message else None
    assert contact is not None
    assert contact.user_id == USER
    reply = updates[4].message
    assert reply is not None
    assert reply.reply_to_message is not None
    origin = reply.reply_to_message.forward_origin
    assert isinstance(origin, MessageOriginUser)
    assert origin.sender_user.id == 99
    assert updates[5].message is not None
    assert updates[5].message.sticker is not None
    assert updates[6].message is not None
    assert updates[6].message.voice is not None

    assert await bot.answer_callback_query(query.id, "Tersimpan")
    with pytest.raises(BadRequest, match=r"(?i)Query is too old"):
        await bot.answer_callback_query(query.id)
    assert fake.callback_answers[0]["text"] == "Tersimpan"
    with pytest.raises(LookupError):
        fake.press(USER, sent.message_id, "Tidak")


@pytest.mark.asyncio
async def test_commands_documents_and_unknown_methods(fake: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Mulai")], language_code="id")
    await bot.set_my_commands([BotCommand("admin", "Admin")], scope=BotCommandScopeChat(USER))
    assert fake.commands[("default", "id")] == [{"command": "start", "description": "Mulai"}]
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(USER))] == ["admin"]
    with pytest.raises(BadRequest, match=r"(?i)Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])

    doc = await bot.send_document(
        USER, b"nama,telepon\n", filename="kontak.csv", caption="<i>Data</i>", parse_mode=ParseMode.HTML
    )
    stored = fake.last_message(USER)
    assert stored is not None
    assert stored.document is not None
    assert stored.caption == "Data"
    assert (stored.document.filename, stored.document.content) == ("kontak.csv", b"nama,telepon\n")
    assert doc.document is not None
    file = await bot.get_file(doc.document.file_id)
    assert await file.download_as_bytearray() == bytearray(b"nama,telepon\n")
    await bot.send_photo(USER, doc.document.file_id)

    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendNothing", api_kwargs={"chat_id": USER})
    assert fake.requests[-1].status == 404


@pytest.mark.asyncio
async def test_application_polling_with_fake_request(fake: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, f"Halo {context.args}")

    app: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder().token(fake.token).request(FakeRequest(fake)).get_updates_request(FakeRequest(fake)).build()
    )
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        fake.send_command(USER, "start", "abc")
        messages = await fake.wait_for_message(USER)
        await app.updater.stop()
        await app.stop()
    assert messages[0].text == "Halo ['abc']"


# --------------------------------------------------------------------------- HTTP server


@pytest.mark.asyncio
async def test_http_round_trip_with_real_bot(fake: FakeTelegram, server: FakeBotApiServer) -> None:
    async with Bot(fake.token, base_url=server.base_url, base_file_url=server.base_file_url) as bot:
        sent = await bot.send_message(
            USER, "<b>Halo</b>", parse_mode=ParseMode.HTML, reply_markup=keyboard(("Ya", "yes"))
        )
        assert sent.text == "Halo"
        assert fake.last_message(USER) is not None
        assert fake.calls("sendMessage")[0]["chat_id"] == USER
        assert fake.calls("sendMessage")[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"

        doc = await bot.send_document(USER, b"\x00\x01biner", filename="a.bin")
        assert doc.document is not None
        file = await bot.get_file(doc.document.file_id)
        assert await file.download_as_bytearray() == bytearray(b"\x00\x01biner")

        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.05)
        fake.send_text(USER, "halo bot")
        updates = await poll
        assert updates[0].message is not None
        assert updates[0].message.text == "halo bot"

        with pytest.raises(BadRequest, match=r"(?i)Can't parse entities"):
            await bot.send_message(USER, "<b>x", parse_mode=ParseMode.HTML)
        fake.block(USER)
        with pytest.raises(Forbidden):
            await bot.send_message(USER, "x")
    with pytest.raises(InvalidToken):
        async with Bot("123456:WRONG-token-abcdefghijklmnopqrstuvwxyz", base_url=server.base_url):
            pass


@pytest.mark.asyncio
async def test_control_client_drives_a_user(fake: FakeTelegram, server: FakeBotApiServer) -> None:
    async with ControlClient(server.control_url) as control, Bot(fake.token, base_url=server.base_url) as bot:
        await control.user(5151, "Siti", username="siti")
        update = await control.send_text(5151, "/start")
        assert update["message"]["entities"][0]["type"] == "bot_command"
        (received,) = await bot.get_updates(timeout=1)
        assert received.message is not None
        assert received.message.from_user is not None
        assert received.message.from_user.first_name == "Siti"

        sent = await bot.send_message(5151, "Pilih peran", reply_markup=keyboard(("Relawan", "role:vol")))
        messages = await control.wait_for_message(5151, timeout=2)
        assert messages[0]["text"] == "Pilih peran"
        assert messages[0]["reply_markup"] is not None
        await control.press(5151, sent.message_id, "Relawan")
        updates = await bot.get_updates(offset=received.update_id + 1, timeout=1)
        assert updates[0].callback_query is not None
        assert updates[0].callback_query.data == "role:vol"

        await control.share_contact(5151, "+62811", contact_user_id=None)
        await control.block(5151)
        with pytest.raises(Forbidden):
            await bot.send_message(5151, "x")
        await control.configure(rate_limit=1)
        await control.unblock(5151)
        await bot.send_message(5151, "1")
        with pytest.raises(RetryAfter):
            await bot.send_message(5151, "2")
        await control.fail_next("sendMessage", 400, "Bad Request: chat not found")

        stats = await control.stats()
        assert stats["too_many_requests"] == 1
        assert stats["by_method"]["sendMessage"] == 4
        assert stats["highest_confirmed_update_id"] == received.update_id
        assert [r["params"]["text"] for r in await control.requests("sendMessage")][:2] == [
            "Pilih peran",
            "x",
        ]
        assert await control.sent_texts(5151) == ["Pilih peran", "1"]
        await control.reset()
        assert fake.users == {}


@pytest.mark.asyncio
async def test_webhook_delivery_with_secret(fake: FakeTelegram, server: FakeBotApiServer) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(text="ok")

    receiver = web.Application()
    receiver.router.add_post("/hook", hook)
    runner = web.AppRunner(receiver)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        async with Bot(fake.token, base_url=server.base_url) as bot:
            await bot.set_webhook(url, secret_token="rahasia-123")
            fake.send_text(USER, "satu")
            fake.send_text(USER, "dua")
            await fake.wait_for(lambda: len(received) == 2, timeout=3)
            assert [secret for secret, _ in received] == ["rahasia-123", "rahasia-123"]
            assert [body["message"]["text"] for _, body in received] == ["satu", "dua"]
            assert [d.status for d in fake.webhook_deliveries] == [200, 200]
            info = await bot.get_webhook_info()
            assert info.pending_update_count == 0
            assert info.url == url
    finally:
        await runner.cleanup()

    fake.send_text(USER, "receiver is gone")
    await fake.wait_for(lambda: len(fake.webhook_deliveries) == 2 + WEBHOOK_ATTEMPTS, timeout=3)
    assert all(d.status is None and d.error for d in fake.webhook_deliveries[2:])
    async with Bot(fake.token, base_url=server.base_url) as bot:
        info = await bot.get_webhook_info()
    assert info.last_error_message is not None
    assert info.last_error_message.startswith("Connection failed")


@pytest.mark.asyncio
async def test_http_accepts_json_bodies_and_wrong_tokens(fake: FakeTelegram, server: FakeBotApiServer) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{server.base_url}{fake.token}/SENDMESSAGE"
        async with session.post(url, json={"chat_id": USER, "text": "json"}) as response:
            body = await response.json()
            assert response.status == 200
            assert body["result"]["text"] == "json"
        wrong = f"{server.base_url}999:{'x' * 35}/getMe"
        async with session.get(wrong) as response:
            assert response.status == 401
            assert (await response.json())["description"] == "Unauthorized"
        async with session.get(f"{server.base_url}{fake.token}/noSuchMethod") as response:
            assert response.status == 404
