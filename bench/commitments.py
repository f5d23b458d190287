"""1,000 commitment taps arriving at once, against `rangkul run` and the fake Bot API in another process.

    PYTHONPATH=. .venv/bin/python bench/commitments.py                  # 1,000 figures, 150 ms per request
    PYTHONPATH=. .venv/bin/python bench/commitments.py --twice          # each figure taps twice at once
    PYTHONPATH=. .venv/bin/python bench/commitments.py --database-url postgresql+asyncpg://postgres@127.0.0.1/bench

Seeds a fresh database (SQLite in a scratch folder unless --database-url names an empty PostgreSQL database)
with N registered figures and one `ayo_ke_tps` broadcast to all of them, delivers it with the delivery engine
(no latency, no pacing: the buttons must be on the fake server's messages), then starts `rangkul run` as a real
subprocess, sets the fake server's latency (Telegram seen from Indonesia) and presses "Saya akan datang ke TPS"
under every figure's message at the same moment. Prints the time until every press was answered and until
every message's buttons showed the ✅, and what the database holds: commitments lost (a figure with none),
doubled (more than one row or commit event for one figure). Target: all answered within 10 s, none lost, none
doubled. It asserts nothing; figures go into the README.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import col
from telegram import Bot

from bot import catalog, db, notice
from bot.app import sender_bot
from bot.config import Settings, load_settings
from bot.delivery import DeliveryEngine
from bot.render import Renderer
from bot.services import broadcasts
from bot.services import people as people_service
from bot.services.broadcasts import Segment
from bot.services.roles import Authority
from models import Commitment, CommitmentEvent, Figure, Person, Role, utcnow
from tests.faketg.client import ControlClient
from tests.faketg.core import DEFAULT_TOKEN
from tests.faketg.process import spawn

ROOT = Path(__file__).resolve().parent.parent
FIRST_USER = 3_000_000
ADMIN = 2_999_999
LABEL = "Saya akan datang ke TPS"


async def seed(url: str, count: int, settings: Settings) -> int:
    """COUNT figures (agreed to today's privacy notice) and one ayo_ke_tps broadcast to all of them."""
    engine = db.create_engine(url)
    await db.upgrade(engine)
    now = utcnow()
    # Last seen yesterday, as after a real broadcast: every tap writes last_seen_at (people.LAST_SEEN_PRECISION).
    stamps = {"created_at": now - dt.timedelta(days=30), "last_seen_at": now - dt.timedelta(days=1)}
    ids = range(FIRST_USER, FIRST_USER + count)
    async with engine.begin() as connection:
        await connection.execute(sa.insert(Person), [{"telegram_id": ADMIN, "first_name": "Admin", **stamps}])
        await connection.execute(
            sa.insert(Person), [{"telegram_id": i, "first_name": "Tokoh", "language_code": "id", **stamps} for i in ids]
        )
        people = await connection.execute(sa.select(col(Person.id)).where(col(Person.telegram_id) >= FIRST_USER))
        version = notice.current_version(settings, "id")
        await connection.execute(
            sa.insert(Figure),
            [
                {
                    "person_id": person_id,
                    "full_name": "Tokoh Banua",
                    "category": "tokoh_pemuda",
                    "age_bracket": "26-40",
                    "region_code": "63.71.05.1003",
                    "consent_version": version,
                    "consent_at": now,
                    "registered_at": now,
                    "updated_at": now,
                }
                for person_id in people.scalars()
            ],
        )
    async with db.session_factory(engine)() as session:
        admin = await people_service.by_telegram_id(session=session, telegram_id=ADMIN)
        info = catalog.get_template_info(ROOT / "templates", "ayo_ke_tps")
        assert admin is not None and info is not None
        broadcast = await broadcasts.create(
            session=session,
            actor=admin,
            authority=Authority(role=Role.ADMIN),
            settings=settings,
            info=info,
            raw_values={},
            segment=Segment(),
        )
        await session.commit()
        assert broadcast.id is not None
        broadcast_id = broadcast.id
    await engine.dispose()
    return broadcast_id


async def deliver(url: str, settings: Settings) -> None:
    engine = db.create_engine(url)
    sender = sender_bot(settings, DEFAULT_TOKEN)
    notifier = Bot(DEFAULT_TOKEN, base_url=settings.telegram.base_url)
    await sender.initialize()
    await notifier.initialize()
    unlimited = {"rate_per_second": 1e9, "paid_rate_per_second": 1e9}
    delivery = DeliveryEngine(
        settings=settings.model_copy(update={"broadcast": settings.broadcast.model_copy(update=unlimited)}),
        sessions=db.session_factory(engine),
        sender=sender,
        notifier=notifier,
        renderer=Renderer(ROOT / "templates", default_tz=settings.tz),
    )
    stop = asyncio.Event()
    while (due := await delivery.next_due()) is not None:
        await delivery.deliver(due, stop)
    await sender.shutdown()
    await notifier.shutdown()
    await engine.dispose()


async def tap_all(base: str, bot: subprocess.Popen[bytes], count: int, taps: int, latency: float) -> dict[str, float]:
    async with ControlClient(base) as client:
        while not (await client.stats()).get("by_method", {}).get("getUpdates"):
            if bot.poll() is not None:
                raise SystemExit(f"rangkul run exited with {bot.returncode}")
            await asyncio.sleep(0.1)
        users = range(FIRST_USER, FIRST_USER + count)
        messages = await asyncio.gather(*(client.messages(user) for user in users))
        targets = [
            (user, next(m for m in found if m["reply_markup"])["message_id"])
            for user, found in zip(users, messages, strict=True)
        ]
        answered_before = len(await client.callback_answers())
        edits_before = (await client.stats()).get("by_method", {}).get("editMessageReplyMarkup", 0)
        await client.configure(latency=latency)
        started = time.monotonic()
        await asyncio.gather(*(client.press(user, mid, LABEL) for user, mid in targets for _ in range(taps)))
        pressed = time.monotonic() - started
        answered = edited = None
        while time.monotonic() - started < 120 and (answered is None or edited is None):
            await asyncio.sleep(0.05)
            stats = (await client.stats()).get("by_method", {})
            now = time.monotonic() - started
            if answered is None and stats.get("answerCallbackQuery", 0) - answered_before >= count * taps:
                answered = now
            if edited is None and stats.get("editMessageReplyMarkup", 0) - edits_before >= count:
                edited = now
        await client.configure(latency=0)
        ticked = 0
        for found in await asyncio.gather(*(client.messages(user) for user in users)):
            markup = next(m for m in found if m["reply_markup"])["reply_markup"]
            ticked += any(b["text"] == f"✅ {LABEL}" for row in markup["inline_keyboard"] for b in row)
    return {
        "pressed": pressed,
        "answered": answered or float("nan"),
        "edited": edited or float("nan"),
        "ticked": ticked,
    }


async def count_rows(url: str) -> tuple[int, int, int, int, int]:
    """Figures with a commitment, commitment rows, commit events, figures with more than one commit event, and
    people whose last_seen_at the taps wrote."""
    engine = db.create_engine(url)
    async with engine.connect() as connection:
        figures = await connection.scalar(sa.select(sa.func.count(sa.distinct(col(Commitment.figure_id)))))
        rows = await connection.scalar(sa.select(sa.func.count()).select_from(Commitment))
        events = await connection.scalar(
            sa.select(sa.func.count()).select_from(CommitmentEvent).where(col(CommitmentEvent.action) == "commit")
        )
        per_figure = (
            sa.select(col(Commitment.figure_id))
            .join(CommitmentEvent, col(CommitmentEvent.commitment_id) == col(Commitment.id))
            .group_by(col(Commitment.figure_id))
            .having(sa.func.count() > 1)
            .subquery()
        )
        doubled = await connection.scalar(sa.select(sa.func.count()).select_from(per_figure))
        seen = await connection.scalar(
            sa.select(sa.func.count())
            .select_from(Person)
            .where(col(Person.telegram_id) >= FIRST_USER, col(Person.last_seen_at) > utcnow() - dt.timedelta(hours=1))
        )
    await engine.dispose()
    return int(figures or 0), int(rows or 0), int(events or 0), int(doubled or 0), int(seen or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--figures", type=int, default=1000, help="figures tapping at the same moment")
    parser.add_argument("--twice", action="store_true", help="every figure taps twice at the same moment")
    parser.add_argument("--latency", type=float, default=0.15, help="seconds added to every Bot API request")
    parser.add_argument("--database-url", default=None, help="an empty database (default: SQLite, scratch)")
    parser.add_argument("--concurrent-updates", type=int, default=None, help="telegram.concurrent_updates")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="rangkul-commit-bench-"))
    (scratch / "etc").mkdir()
    (scratch / "run").mkdir()
    shutil.copyfile(ROOT / "settings.toml", scratch / "etc" / "settings.toml")
    url = args.database_url or f"sqlite+aiosqlite:///{scratch / 'rangkul.db'}"
    server, base = spawn("--port", "0", "--auto-users", "--paid-rate-limit", "0")
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        "RANGKUL_BOT_TOKEN": DEFAULT_TOKEN,
        "RANGKUL_TELEGRAM__BASE_URL": f"{base}/bot",
        "RANGKUL_TELEGRAM__BASE_FILE_URL": f"{base}/file/bot",
        "RANGKUL_DATABASE__URL": url,
        "RANGKUL_LOGGING__LEVEL": "WARNING",
        "RANGKUL_ROLES__BOOTSTRAP_ADMINS": f"[{ADMIN}]",  # the broadcast is composed by an admin
    }
    if args.concurrent_updates is not None:
        env["RANGKUL_TELEGRAM__CONCURRENT_UPDATES"] = str(args.concurrent_updates)
    settings = load_settings(scratch / "etc" / "settings.toml", environ=env)
    taps = 2 if args.twice else 1
    bot: subprocess.Popen[bytes] | None = None
    try:
        seeded = time.perf_counter()
        asyncio.run(seed(url, args.figures, settings))
        asyncio.run(deliver(url, settings))
        print(f"seeded and delivered {args.figures:,} messages in {time.perf_counter() - seeded:.1f} s")
        with (scratch / "bot.log").open("wb") as log:
            bot = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--config", str(scratch / "etc" / "settings.toml")],
                cwd=scratch / "run",
                env=env,
                stdout=log,
                stderr=log,
            )
        measured = asyncio.run(tap_all(base, bot, args.figures, taps, args.latency))
        figures, rows, events, doubled, seen = asyncio.run(count_rows(url))
    finally:
        if bot is not None:
            bot.terminate()
            bot.wait(timeout=30)
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(scratch, ignore_errors=True)
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(
        f"{backend}; latency {args.latency * 1000:.0f} ms per request; telegram.concurrent_updates = "
        f"{settings.telegram.concurrent_updates}; {args.figures:,} figures x {taps} tap(s) at once"
    )
    print(f"all presses handed to the fake server in {measured['pressed']:.2f} s")
    print(f"all {args.figures * taps:,} presses answered after {measured['answered']:.2f} s (target: within 10 s)")
    print(f"all buttons edited (✅) after {measured['edited']:.2f} s; messages showing ✅: {measured['ticked']:,}")
    print(
        f"database: {rows:,} commitment rows for {figures:,} figures, {events:,} commit events; "
        f"lost {args.figures - figures:,}, doubled {doubled + max(rows - figures, 0):,}; "
        f"last_seen_at written for {seen:,} figures"
    )


if __name__ == "__main__":
    main()
