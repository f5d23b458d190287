"""Shared fixtures: a fresh migrated database per test (SQLite, or PostgreSQL when asked), settings, a bot
driven through the in-process fake Telegram."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.ext import Application

from bot import db
from bot.app import attach_delivery, build_application
from bot.config import Settings, load_settings
from bot.delivery import BroadcastBot, DeliveryEngine
from tests.faketg import FakeRequest, FakeTelegram
from tests.faketg.core import FakeMessage

# Set to a postgresql+asyncpg:// URL of a server where the user may CREATE DATABASE to run every test on
# PostgreSQL; each test then gets a database of its own, dropped afterwards.
TEST_DATABASE_ENV = "RANGKUL_TEST_DATABASE_URL"
ROOT = Path(__file__).resolve().parent.parent
ADMIN_ID = 1000


async def _admin_connection(url: str) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, password=parsed.password, database=parsed.database
    )


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A URL to an empty database of this test's own, migrated by whoever uses it."""
    server = os.environ.get(TEST_DATABASE_ENV)
    if not server:
        yield f"sqlite+aiosqlite:///{tmp_path / 'rangkul.db'}"
        return
    name = f"rangkul_test_{uuid.uuid4().hex[:12]}"
    admin = await _admin_connection(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield make_url(server).set(database=name).render_as_string(hide_password=False)
    admin = await _admin_connection(server)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a freshly migrated database."""
    engine = db.create_engine(database_url)
    await db.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with db.session_factory(engine)() as session:
        yield session


def make_settings(database_url: str, **sections: dict[str, Any]) -> Settings:
    """Settings from the repository's settings.toml with the test database and a bootstrap admin."""
    base = load_settings(ROOT / "settings.toml", environ={})
    data = base.model_dump()
    data["database"]["url"] = database_url
    data["roles"]["bootstrap_admins"] = [ADMIN_ID]
    data["templates"]["dir"] = ROOT / "templates"
    for section, values in sections.items():
        data[section].update(values)
    return Settings.model_validate(data)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@dataclass
class Harness:
    """A bot Application wired to the in-process fake Telegram: act as a user, then read what the bot sent."""

    fake: FakeTelegram
    app: Application[Any, Any, Any, Any, Any, Any]

    async def feed(self, update: dict[str, Any]) -> None:
        await self.app.process_update(Update.de_json(update, self.app.bot))

    async def send(self, user_id: int, text: str, **kwargs: Any) -> list[FakeMessage]:
        """USER_ID sends TEXT; returns what the bot sent to that chat in response."""
        chat_id = kwargs.get("chat_id") or user_id
        before = len(self.fake.chat(chat_id).messages) if chat_id in self.fake.chats else 0
        await self.feed(self.fake.send_text(user_id, text, **kwargs))
        return self.fake.chat(chat_id).messages[before:]

    async def press(self, user_id: int, message: FakeMessage, button_text: str) -> None:
        await self.feed(self.fake.press(user_id, message.message_id, button_text))

    async def press_data(self, user_id: int, message: FakeMessage, data: str) -> None:
        await self.feed(self.fake.press_button(user_id, message.message_id, data))

    async def deliver(self) -> None:
        """Run the delivery engine until nothing is due (what `rangkul run` does in the background)."""
        engine = self.app.bot_data.delivery
        assert isinstance(engine, DeliveryEngine)
        stop = asyncio.Event()
        while (broadcast_id := await engine.next_due()) is not None:
            await engine.deliver(broadcast_id, stop)

    def use_settings(self, settings: Settings) -> None:
        """Swap the settings the bot and its delivery engine read (e.g. to put a quiet period around now)."""
        self.app.bot_data.settings = settings
        if isinstance(self.app.bot_data.delivery, DeliveryEngine):
            self.app.bot_data.delivery.settings = settings

    def last(self, chat_id: int) -> FakeMessage:
        message = self.fake.last_message(chat_id)
        assert message is not None, f"the bot sent nothing to {chat_id}"
        return message


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
async def harness(fake: FakeTelegram, settings: Settings, engine: AsyncEngine) -> AsyncIterator[Harness]:
    app = build_application(
        settings, fake.token, engine, request=FakeRequest(fake), get_updates_request=FakeRequest(fake)
    )
    sender = BroadcastBot(fake.token, request=FakeRequest(fake))
    attach_delivery(app, settings, sender)
    await app.initialize()
    await sender.initialize()
    fake.user(ADMIN_ID, "Admin", username="admin_kpu")
    yield Harness(fake=fake, app=app)
    await app.shutdown()
    await sender.shutdown()
