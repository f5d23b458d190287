"""End to end: fifty people register at the same time with `rangkul run` against the fake Bot API server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot import db
from models import Figure, Person
from tests.botprocess import BotProcess
from tests.faketg import FakeBotApiServer, FakeTelegram

pytestmark = pytest.mark.e2e

FIRST = ["Ahmad", "Siti", "Budi", "Dewi", "Rahmat", "Nurul", "Hasan", "Aisyah", "Yusuf", "Fitri"]
LAST = ["Saputra", "Lestari", "Hidayat", "Rahmawati", "Gunawan"]
VILLAGES = ["Kertak Baru Ilir", "Kertak Baru Ulu", "Mawar", "Teluk Dalam", "Antasan Besar", "Pasar Lama"]
CATEGORIES = ["Tokoh pemuda", "Tokoh masyarakat", "Tokoh agama", "Tokoh perempuan", "Tokoh adat", "Lainnya"]


@pytest.fixture
async def server() -> AsyncIterator[FakeBotApiServer]:
    async with FakeBotApiServer(FakeTelegram()) as server:
        yield server


class Applicant:
    """One person going through /daftar by hand: act, then wait for the bot's answer."""

    def __init__(self, fake: FakeTelegram, index: int) -> None:
        self.fake = fake
        self.index = index
        self.user_id = 7000 + index
        self.name = f"{FIRST[index % 10]} {LAST[index // 10]}"
        fake.user(self.user_id, FIRST[index % 10])

    def _count(self) -> int:
        return len(self.fake.chat(self.user_id).messages)

    async def say(self, text: str, replies: int = 1) -> None:
        before = self._count()
        self.fake.send_text(self.user_id, text)
        await self.fake.wait_for_message(self.user_id, count=before + replies, timeout=60)

    async def tap(self, label: str, replies: int = 1) -> None:
        before = self._count()
        message = next(m for m in reversed(self.fake.chat(self.user_id).messages) if m.buttons())
        self.fake.press(self.user_id, message.message_id, label)
        await self.fake.wait_for_message(self.user_id, count=before + replies, timeout=60)

    async def register(self) -> None:
        await self.say("/daftar")
        await self.tap("Setuju")
        await self.say(self.name)
        await self.tap(CATEGORIES[self.index % len(CATEGORIES)])
        await self.tap("26–40 tahun")
        await self.say("kalimantan selatan")
        await self.say("banjarmasin")
        await self.say("banjarmasin tengah")
        await self.tap(VILLAGES[self.index % len(VILLAGES)])
        await self.say(f"08125000{self.index:04d}", replies=2)  # "number noted", then the next question
        await self.say(f"Forum Pemuda {FIRST[self.index % 10]}")
        await self.tap("✅ Simpan", replies=2)  # "registration complete", then the welcome message


async def test_fifty_people_register_concurrently(server: FakeBotApiServer, tmp_path: Path, database_url: str) -> None:
    fake = server.fake
    people = [Applicant(fake, index) for index in range(50)]
    bot = BotProcess(server, tmp_path, database_url)
    async with bot:
        await bot.wait_polling()
        await asyncio.gather(*(person.register() for person in people))
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log()
    engine = db.create_engine(database_url)
    try:
        async with db.session_factory(engine)() as session:
            rows = (await session.exec(select(Figure, Person).where(Figure.person_id == Person.id))).all()
    finally:
        await engine.dispose()
    assert len(rows) == 50
    by_user = {person.telegram_id: figure for figure, person in rows}
    for expected in people:
        figure = by_user[expected.user_id]
        assert figure.full_name == expected.name
        assert figure.phone == f"+628125000{expected.index:04d}"
        assert figure.organization == f"Forum Pemuda {FIRST[expected.index % 10]}"
        assert figure.region_code == f"63.71.05.{1001 + expected.index % len(VILLAGES)}"
        assert figure.age_bracket == "26-40"
        assert figure.messages_opt_in
    assert all(text.startswith("Terima kasih,") for p in people for text in fake.sent_texts(p.user_id)[-1:])
