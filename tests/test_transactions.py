"""No database transaction stays open while a reply waits for Telegram."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update

from bot import db
from bot.app import build_application
from bot.config import Settings
from tests.conftest import Harness
from tests.faketg import FakeRequest, FakeTelegram


async def _write_lock_free(database_url: str) -> bool:
    """Whether another connection can take the write lock now (SQLite) / no session sits idle in a
    transaction (PostgreSQL)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database or "", timeout=0.2)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.rollback()
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            connection.close()
    admin = await asyncpg.connect(host=url.host, port=url.port, user=url.username, database=url.database)
    try:
        idle = await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state = 'idle in transaction'",
            url.database,
        )
        return int(idle) == 0
    finally:
        await admin.close()


async def test_a_reply_in_flight_holds_no_transaction(harness: Harness, database_url: str) -> None:
    fake = harness.fake
    fake.user(41, "Rina")
    fake.configure(latency_for={"sendMessage": 1.0})
    # /start records the person (a write) and then replies: the reply waits a second for "Telegram".
    update = asyncio.create_task(harness.send(41, "/start"))
    await fake.wait_for(lambda: any(r.method == "sendMessage" and r.status is None for r in fake.requests))
    assert await _write_lock_free(database_url)
    await update
    assert fake.sent_texts(41)[0].startswith("Selamat datang")


async def test_a_button_answer_in_flight_holds_no_transaction(harness: Harness, database_url: str) -> None:
    fake = harness.fake
    fake.user(42, "Budi")
    [welcome] = await harness.send(42, "/start")
    fake.configure(latency_for={"answerCallbackQuery": 1.0, "sendMessage": 1.0, "editMessageText": 1.0})
    press = asyncio.create_task(harness.press(42, welcome, "Daftar sekarang"))
    await fake.wait_for(lambda: any(r.status is None for r in fake.requests))
    assert await _write_lock_free(database_url)
    await press


async def test_a_database_outage_gets_one_apology_and_nothing_else(
    fake: FakeTelegram, settings: Settings, engine: AsyncEngine, database_url: str
) -> None:
    """The database refuses the sender's first write (SQLite's lock held past the busy timeout, or PostgreSQL
    refusing connections): one apology, and no handler runs without knowing who is asking."""
    impatient = db.create_engine(database_url, busy_timeout=0.2)
    app = build_application(settings, fake.token, impatient, request=FakeRequest(fake))
    await app.initialize()
    fake.user(43, "Rudi")
    try:
        async with _database_refusing(database_url):
            for text in ("/start", "/bantuan"):
                await app.process_update(Update.de_json(fake.send_text(43, text), app.bot))
    finally:
        await app.shutdown()
        await impatient.dispose()
    texts = fake.sent_texts(43)
    assert len(texts) == 2, texts
    assert all(text.startswith("Mohon maaf") for text in texts), texts


@asynccontextmanager
async def _database_refusing(database_url: str) -> AsyncIterator[None]:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        locker = sqlite3.connect(url.database or "", isolation_level=None)
        try:
            locker.execute("BEGIN IMMEDIATE")
            yield
            locker.execute("ROLLBACK")
        finally:
            locker.close()
        return
    from tests.test_delivery_faults import postgres_outage

    async with postgres_outage(database_url):
        yield
