"""Tests of bot.request.AiohttpRequest against the fake Bot API served over real HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import io
import json
import socket
import time
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import ApplicationBuilder

from bot.request import AiohttpRequest, NotSent
from tests.faketg import FakeBotApiServer, FakeTelegram

USER = 4242


def retry_seconds(error: RetryAfter) -> float:
    """RetryAfter.retry_after as seconds, whether PTB hands out an int or a timedelta."""
    value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def formatted(error: BaseException) -> str:
    """Everything a logger would print for `error`, chained exceptions included."""
    return "".join(traceback.format_exception(error))


def free_port() -> int:
    """A local TCP port that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def fake() -> FakeTelegram:
    fake = FakeTelegram()
    fake.user(USER, "Budi", username="budi_s")
    return fake


@pytest.fixture
async def server(fake: FakeTelegram) -> AsyncIterator[FakeBotApiServer]:
    async with FakeBotApiServer(fake) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram, server: FakeBotApiServer) -> AsyncIterator[Bot]:
    async with Bot(
        fake.token, base_url=server.base_url, base_file_url=server.base_file_url, request=AiohttpRequest()
    ) as bot:
        yield bot


# --------------------------------------------------------------------------- round trips


async def test_get_me_and_html_message_with_keyboard(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == fake.bot_username

    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ya", callback_data="yes")]])
    sent = await bot.send_message(USER, "<b>Halo</b> &amp; selamat 😀", parse_mode=ParseMode.HTML, reply_markup=markup)

    assert sent.text == "Halo & selamat 😀"
    assert [entity.type for entity in sent.entities] == ["bold"]
    assert sent.reply_markup == markup
    assert fake.sent_texts(USER) == ["Halo & selamat 😀"]
    call = fake.calls("sendMessage")[0]
    assert call["chat_id"] == USER
    assert call["parse_mode"] == "HTML"
    assert call["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"


async def test_uploads_are_multipart(fake: FakeTelegram, bot: Bot) -> None:
    small = b"\x00\x01biner"
    doc = await bot.send_document(USER, small, filename="laporan.bin", caption="<i>Laporan</i>", parse_mode="HTML")
    assert doc.document is not None
    assert doc.document.file_name == "laporan.bin"
    assert doc.caption == "Laporan"
    file = await bot.get_file(doc.document.file_id)
    assert await file.download_as_bytearray() == bytearray(small)

    # Larger than one 64 KiB chunk, with a non-ASCII file name.
    big = bytes(range(256)) * 2000
    doc = await bot.send_document(USER, big, filename="data_ß.bin")
    assert doc.document is not None
    assert doc.document.file_name == "data_ß.bin"
    assert fake.files[doc.document.file_id].content == big

    photo = await bot.send_photo(USER, b"\xff\xd8fake-jpeg", caption="Foto")
    assert photo.photo
    assert photo.caption == "Foto"
    assert fake.files[photo.photo[-1].file_id].content == b"\xff\xd8fake-jpeg"


async def test_upload_from_an_unread_file_handle(fake: FakeTelegram, bot: Bot) -> None:
    handle = io.BytesIO(b"isi berkas")
    doc = await bot.send_document(USER, InputFile(handle, filename="isi.txt", read_file_handle=False))
    assert doc.document is not None
    assert fake.files[doc.document.file_id].content == b"isi berkas"


async def test_telegram_errors_are_mapped_by_ptb(fake: FakeTelegram, server: FakeBotApiServer, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER, "<b>tidak ditutup", parse_mode=ParseMode.HTML)

    fake.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "x")
    assert retry_seconds(caught.value) == 7

    fake.block(USER)
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(USER, "x")

    with pytest.raises(InvalidToken):
        async with Bot(
            "123456:WRONG-token-abcdefghijklmnopqrstuvwxyz", base_url=server.base_url, request=AiohttpRequest()
        ):
            pass


# --------------------------------------------------------------------------- timeouts and network errors


async def test_read_timeout_default_and_per_call(fake: FakeTelegram, server: FakeBotApiServer) -> None:
    fake.configure(latency_for={"sendMessage": 0.4})
    request = AiohttpRequest(read_timeout=0.1)
    assert request.read_timeout == 0.1
    async with Bot(fake.token, base_url=server.base_url, request=request) as bot:
        started = time.monotonic()
        with pytest.raises(TimedOut, match="Read timeout") as caught:
            await bot.send_message(USER, "lambat")
        assert time.monotonic() - started < 0.35
        assert fake.token not in formatted(caught.value)

        # A per-call timeout overrides the default in both directions; None waits as long as it takes.
        await bot.send_message(USER, "sabar", read_timeout=2)
        await bot.send_message(USER, "sabar sekali", read_timeout=None)
        # The connection that timed out was dropped; the pool still works.
        assert (await bot.get_me()).id == fake.bot_id

    async with Bot(fake.token, base_url=server.base_url, request=AiohttpRequest()) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "lambat", read_timeout=0.1)


async def test_pool_timeout_does_not_leak_the_token(fake: FakeTelegram, server: FakeBotApiServer) -> None:
    fake.configure(latency_for={"sendMessage": 0.5})
    request = AiohttpRequest(connection_pool_size=1, pool_timeout=0.1, connect_timeout=0.1)
    async with Bot(fake.token, base_url=server.base_url, request=request) as bot:
        first = asyncio.create_task(bot.send_message(USER, "satu"))
        await asyncio.sleep(0.05)
        with pytest.raises(TimedOut, match="connection") as caught:
            await bot.send_message(USER, "dua")
        await first
    # aiohttp's own message for this error contains the URL, and so the token.
    assert fake.token not in formatted(caught.value)
    assert fake.sent_texts(USER) == ["satu"]


async def test_network_error_when_nobody_listens(fake: FakeTelegram) -> None:
    base_url = f"http://127.0.0.1:{free_port()}/bot"
    async with asyncio.timeout(10):
        bot = Bot(fake.token, base_url=base_url, request=AiohttpRequest(connect_timeout=2))
        with pytest.raises(NetworkError) as caught:
            await bot.get_me()
        await bot.request.shutdown()  # the bot never initialized, so its shutdown() would skip this
    assert not isinstance(caught.value, TimedOut)
    # Provably never sent: the delivery engine may retry it without risking a second copy.
    assert isinstance(caught.value, NotSent)
    assert "Cannot connect" in str(caught.value)
    assert fake.token not in formatted(caught.value)


@asynccontextmanager
async def stingy_server(fake: FakeTelegram, read_per_tick: int) -> AsyncIterator[str]:
    """A Bot API stand-in with a tiny receive buffer that answers getMe (Bot.initialize needs it) and reads
    any other request's body `read_per_tick` bytes every 10 ms (0: never) before answering with a message.
    Yields the base_url."""
    connections: list[asyncio.StreamWriter] = []

    def respond(writer: asyncio.StreamWriter, result: dict[str, Any]) -> None:
        body = json.dumps({"ok": True, "result": result}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if b"/getMe " in head.split(b"\r\n", 1)[0]:
                respond(writer, fake.bot_user)
                continue
            if not read_per_tick:
                return
            length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:])
            while length > 0:
                length -= len(await reader.read(min(read_per_tick, length)))
                await asyncio.sleep(0.01)
            respond(writer, {"message_id": 1, "date": 0, "chat": {"id": USER, "type": "private"}})

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    listener.bind(("127.0.0.1", 0))
    server = await asyncio.start_server(handle, sock=listener)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/bot"
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_write_timeout_when_the_server_stops_reading(fake: FakeTelegram) -> None:
    request = AiohttpRequest(media_write_timeout=0.3, read_timeout=None)
    async with (
        stingy_server(fake, read_per_tick=0) as base_url,
        Bot(fake.token, base_url=base_url, request=request) as b,
    ):
        started = time.monotonic()
        # Far more than the kernel's socket buffers on both ends can hold.
        with pytest.raises(TimedOut, match="Write timeout") as caught:
            async with asyncio.timeout(10):
                await b.send_document(USER, b"\x00" * (64 * 1024 * 1024), filename="besar.bin")
        assert time.monotonic() - started < 5
    assert fake.token not in formatted(caught.value)


async def test_slow_upload_that_keeps_moving_is_not_a_write_timeout(fake: FakeTelegram) -> None:
    # About 12.8 MB/s: the whole upload takes far longer than write_timeout, but every chunk moves in time.
    request = AiohttpRequest(media_write_timeout=0.2, read_timeout=None)
    async with (
        stingy_server(fake, read_per_tick=128 * 1024) as base_url,
        Bot(fake.token, base_url=base_url, request=request) as b,
    ):
        started = time.monotonic()
        async with asyncio.timeout(20):
            await b.send_document(USER, b"\x00" * (16 * 1024 * 1024), filename="besar.bin")
        assert time.monotonic() - started > 0.4


# --------------------------------------------------------------------------- lifecycle and integration


async def test_lifecycle(fake: FakeTelegram, server: FakeBotApiServer) -> None:
    request = AiohttpRequest()
    url = f"{server.base_url}{fake.token}/getMe"

    async def bot_id() -> Any:
        result = await request.post(url)
        assert isinstance(result, dict)
        return result["id"]

    # Used without initialize(): the session is created on first use.
    assert await bot_id() == fake.bot_id
    await request.shutdown()
    with pytest.raises(NetworkError, match="shut down"):
        await bot_id()
    await request.shutdown()  # twice is fine
    async with request:
        assert await bot_id() == fake.bot_id


async def test_drop_in_for_application_builder(fake: FakeTelegram, server: FakeBotApiServer) -> None:
    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(server.base_url)
        .request(AiohttpRequest(connection_pool_size=64))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .build()
    )
    async with app:
        assert app.bot.username == fake.bot_username
        await app.bot.send_message(USER, "dari aplikasi")
    assert fake.sent_texts(USER) == ["dari aplikasi"]


def test_constructor_validation() -> None:
    with pytest.raises(ValueError, match="connection_pool_size"):
        AiohttpRequest(connection_pool_size=0)
    with pytest.raises(ValueError, match="proxies"):
        AiohttpRequest(proxy="socks5://127.0.0.1:1080")
    request = AiohttpRequest(connection_pool_size=512, read_timeout=None, proxy="http://127.0.0.1:3128")
    assert request.connection_pool_size == 512
    assert request.read_timeout is None


async def test_hundreds_of_requests_run_concurrently(fake: FakeTelegram, server: FakeBotApiServer) -> None:
    users = range(10_000, 10_300)
    for user_id in users:
        fake.user(user_id, f"Pemilih {user_id}")
    fake.configure(latency=0.3)
    async with Bot(fake.token, base_url=server.base_url, request=AiohttpRequest(connection_pool_size=512)) as bot:
        started = time.monotonic()
        sent = await asyncio.gather(*(bot.send_message(user_id, f"Halo {user_id}") for user_id in users))
        elapsed = time.monotonic() - started
    assert elapsed < 5, f"300 requests of 0.3 s each took {elapsed:.2f} s: they did not run concurrently"
    assert [message.chat.id for message in sent] == list(users)
    assert all(fake.sent_texts(user_id) == [f"Halo {user_id}"] for user_id in users)
