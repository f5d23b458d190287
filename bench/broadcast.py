"""End-to-end benchmark of the delivery engine against the fake Bot API running in another process.

    PYTHONPATH=. .venv/bin/python bench/broadcast.py --recipients 2000                        # default limit
    PYTHONPATH=. .venv/bin/python bench/broadcast.py --recipients 2000 --rate 29 --server-rate-limit 30 \\
        --latency 0.3                                                                           # 29/s under 30/s
    PYTHONPATH=. .venv/bin/python bench/broadcast.py --recipients 10000 --paid --latency 0.3 \\
        --server-rate-limit 0                                                                   # 1,000/s goal
    PYTHONPATH=. .venv/bin/python bench/broadcast.py --recipients 100000 --paid --memory --server-rate-limit 0

Seeds a fresh SQLite database with N registered figures and one broadcast to all of them (the same service
the /siaran composer uses), starts `python -m tests.faketg` in a separate process (so the engine and the
server each get a core), runs `DeliveryEngine` until the broadcast is done, and prints what it measured:
achieved messages per second against the configured rate, 429 answers from the server's own limiter (a strict
sliding one-second window on arrivals), the most arrivals in any sliding second and the gaps between them
(how evenly they came; up to 20,000 recipients), the engine's CPU time per message, and (with --memory) the
peak Python memory while delivering. It asserts nothing; figures go into the README.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import col
from telegram import Bot

from bot import catalog, db
from bot.app import sender_bot
from bot.config import Settings, load_settings
from bot.delivery import DeliveryEngine
from bot.render import Renderer
from bot.services import broadcasts
from bot.services import people as people_service
from bot.services.broadcasts import Segment
from bot.services.roles import Authority
from models import Broadcast, BroadcastStatus, Figure, Person, Role, utcnow
from tests.faketg.client import ControlClient
from tests.faketg.core import DEFAULT_TOKEN, most_in_any_second
from tests.faketg.process import spawn

ROOT = Path(__file__).resolve().parent.parent
FIRST_USER = 2_000_000
ORGANIZER = 1_999_999
BATCH = 5_000
GAP_QUANTILES = (("min", 0.0), ("p1", 0.01), ("median", 0.5), ("p99", 0.99), ("max", 1.0))


async def seed(url: str, recipients: int, settings: Settings) -> int:
    """N figures in batches (nothing held in memory), and one broadcast to all of them."""
    engine = db.create_engine(url)
    await db.upgrade(engine)
    now = utcnow()
    stamps = {"created_at": now, "last_seen_at": now}
    async with engine.begin() as connection:
        await connection.execute(sa.insert(Person), [{"telegram_id": ORGANIZER, "first_name": "Petugas", **stamps}])
        for start in range(0, recipients, BATCH):
            ids = range(FIRST_USER + start, FIRST_USER + min(recipients, start + BATCH))
            await connection.execute(
                sa.insert(Person),
                [{"telegram_id": i, "first_name": "Tokoh", "language_code": "id", **stamps} for i in ids],
            )
            people = await connection.execute(
                sa.select(col(Person.id)).where(col(Person.telegram_id).between(ids[0], ids[-1]))
            )
            await connection.execute(
                sa.insert(Figure),
                [
                    {
                        "person_id": person_id,
                        "full_name": "Tokoh Banua",
                        "category": "tokoh_pemuda",
                        "age_bracket": "26-40",
                        "region_code": "63.71.05.1003",
                        "consent_version": "bench",
                        "consent_at": now,
                        "registered_at": now,
                        "updated_at": now,
                    }
                    for person_id in people.scalars()
                ],
            )
    async with db.session_factory(engine)() as session:
        organizer = await people_service.by_telegram_id(session=session, telegram_id=ORGANIZER)
        assert organizer is not None
        info = catalog.get_template_info(ROOT / "templates", "undangan_sosialisasi")
        assert info is not None
        broadcast = await broadcasts.create(
            session=session,
            actor=organizer,
            authority=Authority(role=Role.ADMIN),
            settings=settings,
            info=info,
            raw_values={"place": "Aula KPU Kota Banjarmasin", "date": "21-01-2030", "time": "09.00"},
            segment=Segment(),
        )
        await session.commit()
        assert broadcast.id is not None
        broadcast_id = broadcast.id
    await engine.dispose()
    return broadcast_id


async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="rangkul-bench-"))
    url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    data = load_settings(ROOT / "settings.toml", environ={}).model_dump()
    data["database"]["url"] = url
    data["roles"]["bootstrap_admins"] = [ORGANIZER]  # the broadcast is composed by an admin
    data["broadcast"].update(
        rate_per_second=args.rate or 25,
        allow_paid_broadcast=args.paid,
        max_in_flight=args.in_flight,
        quiet_periods=[],
        status_interval_seconds=5,
    )
    limits = ["--rate-limit", str(args.server_rate_limit)] if args.server_rate_limit else ["--paid-rate-limit", "0"]
    server, base = spawn("--port", "0", "--latency", str(args.latency), "--auto-users", *limits)
    data["telegram"]["base_url"] = f"{base}/bot"
    settings = Settings.model_validate(data)
    if not args.rate:
        # "Limits off": no pacing at all (beyond what the validated settings allow), to measure the ceiling.
        unlimited = {"rate_per_second": 1e9, "paid_rate_per_second": 1e9}
        settings = settings.model_copy(update={"broadcast": settings.broadcast.model_copy(update=unlimited)})
    try:
        seeded = time.perf_counter()
        broadcast_id = await seed(url, args.recipients, settings)
        print(f"seeded {args.recipients:,} figures and the broadcast in {time.perf_counter() - seeded:.1f} s")
        engine = db.create_engine(url)
        sender = sender_bot(settings, DEFAULT_TOKEN)
        notifier = Bot(DEFAULT_TOKEN, base_url=settings.telegram.base_url)
        await sender.initialize()
        await notifier.initialize()
        delivery = DeliveryEngine(
            settings=settings,
            sessions=db.session_factory(engine),
            sender=sender,
            notifier=notifier,
            renderer=Renderer(ROOT / "templates", default_tz=settings.tz),
        )
        if args.memory:
            tracemalloc.start()
        cpu, wall = time.process_time(), time.perf_counter()
        stop = asyncio.Event()
        while (due := await delivery.next_due()) is not None:
            await delivery.deliver(due, stop)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1] if args.memory else None
        tracemalloc.stop()
        async with db.session_factory(engine)() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            counts = await broadcasts.outcome_counts(session=session, broadcast_id=broadcast_id)
            statuses = Counter({status: count for status, count in counts.items() if count})
        async with ControlClient(base) as control:
            stats = await control.stats()
            arrivals = (
                sorted(
                    r["time"]
                    for r in await control.requests("sendMessage")
                    if int(r["params"].get("chat_id", 0)) >= FIRST_USER
                )
                if args.recipients <= 20_000
                else []
            )
        await sender.shutdown()
        await notifier.shutdown()
        await engine.dispose()
    finally:
        server.terminate()
        server.wait()
    assert broadcast is not None
    rate = settings.broadcast.paid_rate_per_second if args.paid else settings.broadcast.rate_per_second
    rate = min(rate, 1e9)
    sent = statuses.get("sent", 0)
    print(f"broadcast: {broadcast.status}, outcomes {dict(statuses)}")
    configured = f"{rate:,.0f}/s" if rate < 1e9 else "no pacing"
    print(f"configured rate: {configured}  (paid broadcasts: {'on' if args.paid else 'off'})")
    limiter = f"{args.server_rate_limit}/s, paid 1,000/s" if args.server_rate_limit else "off"
    print(f"server: latency {args.latency * 1000:.0f} ms, limiter {limiter} (a sliding 1 s window on arrivals)")
    share = f" = {100 * sent / wall / rate:.1f}% of configured" if rate < 1e9 else ""
    print(f"achieved overall: {sent / wall:,.1f} messages/s over {wall:.1f} s{share} (start to report)")
    if len(arrivals) > 1:
        steady = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
        share = f" = {100 * steady / rate:.1f}% of configured" if rate < 1e9 else ""
        print(f"achieved while sending: {steady:,.1f} requests/s{share} (first to last arrival at the server)")
    print(f"429 answers from the server's limiter: {stats.get('too_many_requests')}")
    if arrivals:
        print(f"most arrivals in any sliding 1 s window: {most_in_any_second(arrivals)} (broadcast requests, 429s too)")
        gaps = sorted(1000 * (b - a) for a, b in itertools.pairwise(arrivals))
        if gaps:
            quantiles = "  ".join(f"{name} {gaps[int(q * (len(gaps) - 1))]:.1f}" for name, q in GAP_QUANTILES)
            print(f"gaps between arrivals, ms: {quantiles}")
    print(f"engine CPU: {cpu:.1f} s = {1e6 * cpu / max(sent, 1):.0f} µs per message")
    if peak is not None:
        print(f"peak Python memory while delivering: {peak / 2**20:.1f} MiB (tracemalloc)")
    print(f"process peak RSS (includes seeding): {peak_rss()}")
    if broadcast.status != BroadcastStatus.DONE:
        print("WARNING: the broadcast did not finish")


def peak_rss() -> str:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return line.split(":")[1].strip()
    return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25.0, help="broadcast.rate_per_second; 0 = no pacing")
    parser.add_argument("--paid", action="store_true", help="allow_paid_broadcast: paid_rate_per_second (1000)")
    parser.add_argument("--in-flight", type=int, default=1024, help="broadcast.max_in_flight")
    parser.add_argument("--latency", type=float, default=0.0, help="server delay per request, seconds")
    parser.add_argument("--server-rate-limit", type=int, default=30, help="server limiter per second, 0 = off")
    parser.add_argument("--memory", action="store_true", help="measure peak Python memory (slows the run)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
