"""The delivery engine under real database faults: PostgreSQL refusing connections (idle and mid-broadcast) and
SQLite's write lock held by another connection; afterwards every recipient is served exactly once."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bot import db
from bot.delivery import DeliveryEngine
from bot.delivery.retry import Trouble
from models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus, Figure, Person
from tests.conftest import ADMIN_ID, TEST_DATABASE_ENV, Harness, _admin_connection
from tests.test_broadcast import _received, compose_invitation, make_figures, tap

ON_POSTGRES = bool(os.environ.get(TEST_DATABASE_ENV))
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason=f"needs PostgreSQL ({TEST_DATABASE_ENV})")
sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's write lock")
MARKER = "Aula"


def _engine(harness: Harness) -> DeliveryEngine:
    engine = harness.app.bot_data.delivery
    assert isinstance(engine, DeliveryEngine)
    engine.trouble = Trouble(first=0.2, most=1.0)  # retry quickly: the test waits for the recovery
    return engine


def _slow(harness: Harness, rate: float) -> None:
    data = harness.app.bot_data.settings.model_dump()
    data["broadcast"]["rate_per_second"] = rate
    harness.use_settings(type(harness.app.bot_data.settings).model_validate(data))


@asynccontextmanager
async def postgres_outage(database_url: str) -> AsyncIterator[None]:
    """The test's database refuses new connections and every open one is cut, until the block ends."""
    name = make_url(database_url).database
    admin = await _admin_connection(os.environ[TEST_DATABASE_ENV])
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        yield
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()


@asynccontextmanager
async def sqlite_write_lock(database_url: str) -> AsyncIterator[None]:
    """SQLite's write lock, taken by a connection of the test's own and held until the block ends.

    Taken in a worker thread. BEGIN IMMEDIATE waits for whichever write of the engine is under way, and that
    write commits only through the event loop (aiosqlite hands each statement's result back to the loop, and
    the loop sends the COMMIT). Waiting on the loop's own thread kept that commit from ever running: the
    engine's write, a millisecond long, held the lock for the whole 5 s timeout and BEGIN IMMEDIATE failed
    with "database is locked" whenever it came while an answer or a `sending` mark was being written.
    """
    path = make_url(database_url).database
    assert path is not None
    locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        await asyncio.to_thread(locker.execute, "BEGIN IMMEDIATE")
        try:
            yield
        finally:
            locker.execute("ROLLBACK")
    finally:
        locker.close()


async def _served_once(harness: Harness, recipients: list[int]) -> dict[str, int]:
    """Every recipient has a final outcome, at most one copy, and `sent` exactly when a copy arrived."""
    async with harness.app.bot_data.sessions() as session:
        [broadcast] = (await session.exec(select(Broadcast))).all()
        rows = (
            await session.exec(
                select(Person.telegram_id, Delivery.status)
                .join(Figure, col(Figure.id) == col(Delivery.figure_id))
                .join(Person, col(Person.id) == col(Figure.person_id))
            )
        ).all()
    copies = {user: sum(MARKER in text for text in harness.fake.sent_texts(user)) for user in recipients}
    assert max(copies.values()) == 1, copies  # nobody got two
    assert len(rows) == len(recipients) == broadcast.recipient_count
    for user, status in rows:
        assert status in (DeliveryStatus.SENT, DeliveryStatus.UNCERTAIN), (user, status)
        if status == DeliveryStatus.SENT:
            assert copies[int(user or 0)] == 1
    assert broadcast.status == BroadcastStatus.DONE
    counts: dict[str, int] = {}
    for _, status in rows:
        counts[status] = counts.get(status, 0) + 1
    return counts


async def _finished(harness: Harness) -> bool:
    async with harness.app.bot_data.sessions() as session:
        [broadcast] = (await session.exec(select(Broadcast))).all()
    done: bool = broadcast.status == BroadcastStatus.DONE
    return done


async def _until_finished(harness: Harness, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Give the engine up to TIMEOUT seconds to close the broadcast after its last message."""
    for _ in range(int(timeout * 10)):
        if await _finished(harness):
            return
        await asyncio.sleep(0.1)


def _copies_received(harness: Harness, recipients: list[int]) -> int:
    return sum(MARKER in " ".join(harness.fake.sent_texts(u)) for u in recipients)


def _tracebacks(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for r in caplog.records if r.name.startswith("bot.delivery") and r.exc_info)


@postgres_only
async def test_postgres_outage_while_idle_then_a_new_broadcast_is_sent(
    harness: Harness, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.delivery")
    recipients = await make_figures(harness, 3000, 5)
    engine = _engine(harness)
    stop = asyncio.Event()
    running = asyncio.create_task(engine.run(stop))
    await asyncio.sleep(0.5)
    async with postgres_outage(database_url):
        await asyncio.sleep(4)  # the engine keeps looking for work meanwhile, and fails
    assert not running.done(), "the engine died with the database"
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    await harness.fake.wait_for(lambda: all(MARKER in " ".join(harness.fake.sent_texts(u)) for u in recipients), 20)
    await harness.fake.wait_for(lambda: "working again" in caplog.text, 5)
    # The last answer arrives before the engine closes the broadcast: let it, as the mid-broadcast test does
    # (stopping the engine first left the broadcast "running" under load, for the next start to close).
    await _until_finished(harness)
    stop.set()
    await running
    assert await _served_once(harness, recipients) == {"sent": 5}
    assert _tracebacks(caplog) == 1  # one traceback for the outage, then one line per retry


@postgres_only
async def test_postgres_outage_mid_broadcast_serves_everyone_once(
    harness: Harness, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.delivery")
    recipients = await make_figures(harness, 3100, 40)
    _slow(harness, 10)
    engine = _engine(harness)
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    stop = asyncio.Event()
    running = asyncio.create_task(engine.run(stop))

    def received() -> int:
        return _copies_received(harness, recipients)

    await harness.fake.wait_for(lambda: received() >= 10, 20)
    async with postgres_outage(database_url):
        await asyncio.sleep(4)
        assert received() < 40  # nothing is sent while the database is gone
    assert not running.done(), "the engine died with the database"
    await harness.fake.wait_for(lambda: received() == 40, 30)

    await _until_finished(harness)
    stop.set()
    await running
    counts = await _served_once(harness, recipients)
    assert counts.get(DeliveryStatus.SENT, 0) + counts.get(DeliveryStatus.UNCERTAIN, 0) == 40
    assert _tracebacks(caplog) == 1


@sqlite_only
async def test_sqlite_write_lock_held_mid_broadcast_serves_everyone_once(
    harness: Harness, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.delivery")
    recipients = await make_figures(harness, 3200, 40)
    _slow(harness, 10)
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    # An engine whose writes give up after 0.3 s of waiting for the lock (production waits 30 s).
    impatient = db.create_engine(database_url, busy_timeout=0.3)
    shared = _engine(harness)
    engine = DeliveryEngine(
        settings=shared.settings,
        sessions=db.session_factory(impatient),
        sender=shared.sender,
        notifier=shared.notifier,
        renderer=shared.renderer,
    )
    engine.trouble = Trouble(first=0.2, most=1.0)
    stop = asyncio.Event()
    running = asyncio.create_task(engine.run(stop))

    def received() -> int:
        return _copies_received(harness, recipients)

    try:
        await harness.fake.wait_for(lambda: received() >= 10, 20)
        async with sqlite_write_lock(database_url):  # the write lock, for twenty busy timeouts
            await asyncio.sleep(6)
            assert received() < 40
        assert not running.done(), "the engine died behind the lock"
        # Said when the engine gets going again, not only when the broadcast is over.
        await harness.fake.wait_for(lambda: "answers again" in caplog.text, 10)
        assert received() < 40
        await harness.fake.wait_for(lambda: received() == 40, 30)

        await _until_finished(harness)
        stop.set()
        await running
    finally:
        stop.set()
        await impatient.dispose()
    counts = await _served_once(harness, recipients)
    assert counts.get(DeliveryStatus.SENT, 0) + counts.get(DeliveryStatus.UNCERTAIN, 0) == 40
    assert _tracebacks(caplog) == 1


@sqlite_only
async def test_the_write_lock_is_taken_while_a_write_of_the_bot_waits_for_the_event_loop(
    engine: AsyncEngine, database_url: str
) -> None:
    """The test's lock must not stall the loop that the write holding the lock needs in order to commit."""
    async with engine.connect() as connection:
        await connection.execute(sa.text("UPDATE alembic_version SET version_num = version_num"))
        probe = sqlite3.connect(make_url(database_url).database or "", timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                probe.execute("BEGIN IMMEDIATE")  # the engine holds the write lock now
        finally:
            probe.close()
        committing = asyncio.ensure_future(connection.commit())  # runs only when the loop is free
        started = time.monotonic()
        async with sqlite_write_lock(database_url):
            assert committing.done()
        await committing
    assert time.monotonic() - started < 2  # the lock came once the commit ran, not after a timeout


async def test_answers_are_on_disk_before_the_next_burst_goes_out(harness: Harness) -> None:
    """What a crash would leave uncertain, sampled all along a broadcast: rows still `sending` are only those
    whose answer has not come (or came a moment ago), never ones answered long before."""
    recipients = await make_figures(harness, 3300, 150)
    _slow(harness, 100)
    harness.fake.configure(latency_for={"sendMessage": 0.02})
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    sending = asyncio.create_task(harness.deliver())
    late: list[float] = []
    samples = 0
    while not sending.done():
        await asyncio.sleep(0.01)
        now = time.time()
        answered = {
            str(r.params.get("chat_id")): r.time + 0.02
            for r in harness.fake.requests
            if r.method == "sendMessage" and r.status is not None
        }
        async with harness.app.bot_data.sessions() as session:
            marked = (
                await session.exec(
                    select(Person.telegram_id)
                    .join(Figure, col(Figure.person_id) == col(Person.id))
                    .join(Delivery, col(Delivery.figure_id) == col(Figure.id))
                    .where(Delivery.status == DeliveryStatus.SENDING)
                )
            ).all()
        samples += 1
        # Still `sending` 0.1 s after its answer came: a crash now would call a delivered message uncertain.
        late.extend(now - answered[str(chat)] for chat in marked if now - answered.get(str(chat), now) > 0.1)
    await sending
    assert samples > 50
    assert late == []
    assert sum(_received(harness, recipients, MARKER)) == 150
