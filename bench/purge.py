"""Benchmark of the retention purge on a large database: how long `rangkul purge` takes for N figures, and how
long another writer (the bot answering someone) waits for SQLite's write lock meanwhile.

    PYTHONPATH=. .venv/bin/python bench/purge.py                       # 100,000 figures, SQLite
    PYTHONPATH=. .venv/bin/python bench/purge.py --figures 20000 --url postgresql+asyncpg://postgres@127.0.0.1:5432/bench

Seeds a fresh database (SQLite in a temporary folder unless --url names an empty one) with N registered figures,
each with their Telegram person, a reply for one in ten and a commitment for one in five, then runs the purge
(retention.purge, as `rangkul purge` and the daily job do) while a second connection writes one small row every
20 ms, the way the bot's updates do, and records how long each of those writes took. It asserts nothing; the
figures go into the README.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from bot import db
from bot.config import Settings
from bot.services import retention
from models import AuditEvent, Broadcast, Commitment, Figure, Person, Reply, utcnow

BATCH = 10_000


async def seed(url: str, count: int) -> None:
    engine = db.create_engine(url)
    await db.upgrade(engine)
    now = utcnow()
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(Broadcast),
            [{"id": 1, "template": "ayo_ke_tps", "template_version": "1", "values": {}, "segment": {},
              "status": "done", "recipient_count": 0, "created_at": now, "paid": False}],
        )  # fmt: skip
        for start in range(0, count, BATCH):
            ids = range(start + 1, min(count, start + BATCH) + 1)
            await conn.execute(
                sa.insert(Person),
                [{"id": i, "telegram_id": 10_000_000 + i, "first_name": f"Tokoh {i}", "username": f"tokoh{i}",
                  "created_at": now, "last_seen_at": now} for i in ids],
            )  # fmt: skip
            await conn.execute(
                sa.insert(Figure),
                [{"id": i, "person_id": i, "full_name": f"Nama Tokoh {i}", "category": "tokoh_pemuda",
                  "age_bracket": "26-40", "region_code": "63.71.05.1003", "phone": "+6281234567890",
                  "organization": "Karang Taruna", "consent_at": now, "consent_version": "x", "consent_locale": "id",
                  "messages_opt_in": True, "registered_at": now, "updated_at": now} for i in ids],
            )  # fmt: skip
            await conn.execute(
                sa.insert(Reply),
                [
                    {"figure_id": i, "kind": "text", "text": "Pertanyaan", "received_at": now}
                    for i in ids
                    if i % 10 == 0
                ],
            )
            await conn.execute(
                sa.insert(Commitment),
                [{"figure_id": i, "broadcast_id": 1, "kind": "tps", "template_version": "1", "committed_at": now}
                 for i in ids if i % 5 == 0],
            )  # fmt: skip
    await engine.dispose()


async def other_writer(url: str, stop: asyncio.Event, waits: list[float]) -> None:
    """What the bot does meanwhile: short writes of its own (here: one audit row every 20 ms)."""
    engine = db.create_engine(url)
    sessions = db.session_factory(engine)
    try:
        while not stop.is_set():
            started = time.perf_counter()
            async with db.unit_of_work(sessions) as session:
                session.add(AuditEvent(action="bench.write", actor_person_id=None, details={}))
            waits.append(time.perf_counter() - started)
            await asyncio.sleep(0.02)
    finally:
        await engine.dispose()


async def run(url: str, count: int, batch: int) -> None:
    started = time.perf_counter()
    await seed(url, count)
    print(f"seeded {count:,} figures in {time.perf_counter() - started:.1f} s")
    settings = Settings.model_validate({"database": {"url": url}, "privacy": {"retention_until": "2029-12-31"}})
    engine = db.create_engine(url)
    sessions = db.session_factory(engine)
    stop, waits = asyncio.Event(), []
    writer = asyncio.create_task(other_writer(url, stop, waits))
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    outcome = await retention.purge(
        sessions=sessions, settings=settings, on=retention.today(settings).replace(year=2030), source="cli", batch=batch
    )
    elapsed = time.perf_counter() - started
    stop.set()
    await writer
    async with sessions() as session:
        left = await retention.count_holding_data(session=session)
    await engine.dispose()
    ordered = sorted(waits)
    print(
        f"purged {outcome.figures:,} figures in {elapsed:.1f} s ({outcome.figures / elapsed:,.0f} figures/s), "
        f"{batch} per transaction"
    )
    print(f"figures still holding data afterwards: {left}")
    print(
        f"other writer: {len(waits)} writes meanwhile, median {statistics.median(waits) * 1000:.1f} ms, "
        f"99th percentile {ordered[int(len(ordered) * 0.99) - 1] * 1000:.1f} ms, longest {ordered[-1] * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--figures", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=retention.PURGE_BATCH)
    parser.add_argument("--url", help="an empty database (default: SQLite in a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(run(url, args.figures, args.batch))


if __name__ == "__main__":
    main()
