"""Benchmark of /laporan on a large database: the report's SQL aggregates, its text and its chart.

    PYTHONPATH=. .venv/bin/python bench/report.py                      # 100,000 figures, SQLite
    PYTHONPATH=. .venv/bin/python bench/report.py --figures 20000 --url postgresql+asyncpg://postgres@127.0.0.1:5432/bench

Seeds a fresh database (SQLite in a temporary folder unless --url names an empty one) with N registered
figures spread over every desa of three provinces (Kalimantan Selatan, Kalimantan Timur, Jawa Barat) and all
categories, three broadcasts with a delivery to 60% of the figures each, about one commitment per two figures
(some withdrawn, invite counts on the INVITE ones) and a reply per twenty. Then times what /laporan does for an
admin (all of Indonesia) and for the organizer of one kabupaten (Kota Banjarmasin): reports.build, the text and
the PNG chart, each run --runs times; the first run includes loading the region tree into memory. It asserts
nothing; the figures go into the README.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from bot import charts, db, regions
from bot.config import bundled_templates_dir
from bot.services import reports
from bot.services.roles import Authority
from bot.views import report as report_views
from models import (
    Broadcast,
    Commitment,
    CommitmentKind,
    Delivery,
    DeliveryStatus,
    Figure,
    FigureCategory,
    Reply,
    Role,
    utcnow,
)

PROVINCES = ("63", "64", "32")
KABUPATEN = "63.71"
BATCH = 10_000
TZ = __import__("zoneinfo").ZoneInfo("Asia/Makassar")


async def seed(url: str, count: int) -> None:
    engine = db.create_engine(url)
    await db.upgrade(engine)
    rng = random.Random(9)
    desa = list(regions.codes_within(list(PROVINCES), regions.DESA))
    banjarmasin = list(regions.codes_within([KABUPATEN], regions.DESA))
    now = utcnow()
    categories = [c.value for c in FigureCategory]
    statuses = [s.value for s in DeliveryStatus]
    kinds = [k.value for k in CommitmentKind]
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(Broadcast),
            [
                {
                    "id": b,
                    "template": t,
                    "template_version": "1",
                    "values": {},
                    "segment": {},
                    "status": "done",
                    "recipient_count": 0,
                    "created_at": now,
                    "paid": False,
                }
                for b, t in ((1, "ayo_ke_tps"), (2, "tolak_politik_uang"), (3, "lawan_hoaks"))
            ],
        )
        for start in range(0, count, BATCH):
            ids = range(start + 1, min(count, start + BATCH) + 1)
            figures, deliveries, commitments, replies = [], [], [], []
            for i in ids:
                figures.append(
                    {
                        "id": i,
                        "full_name": f"Tokoh {i}",
                        "category": rng.choice(categories),
                        "age_bracket": "26-40",
                        # A tenth in Banjarmasin, so the kabupaten organizer has a real share.
                        "region_code": rng.choice(banjarmasin if i % 10 == 0 else desa),
                        "consent_version": "1",
                        "consent_at": now,
                        "registered_at": now,
                        "updated_at": now,
                        "messages_opt_in": rng.random() > 0.05,
                        "deleted_at": now if rng.random() < 0.02 else None,
                    }
                )
                for b in (1, 2, 3):
                    if rng.random() < 0.6:
                        deliveries.append(
                            {"broadcast_id": b, "figure_id": i, "status": rng.choice(statuses), "attempts": 1}
                        )
                if rng.random() < 0.5:
                    kind = rng.choice(kinds)
                    commitments.append(
                        {
                            "figure_id": i,
                            "broadcast_id": rng.choice((1, 2, 3)),
                            "kind": kind,
                            "template_version": "1",
                            "invite_count": rng.choice((5, 10, 25)) if kind == CommitmentKind.INVITE else None,
                            "committed_at": now,
                            "withdrawn_at": now if rng.random() < 0.1 else None,
                        }
                    )
                if rng.random() < 0.05:
                    replies.append(
                        {
                            "figure_id": i,
                            "broadcast_id": rng.choice((None, 1, 2, 3)),
                            "kind": "text",
                            "text": "Siap",
                            "received_at": now,
                        }
                    )
            for table, rows in ((Figure, figures), (Delivery, deliveries), (Commitment, commitments), (Reply, replies)):
                if rows:
                    await conn.execute(sa.insert(table), rows)
    await engine.dispose()


async def timed(url: str, authority: Authority, runs: int) -> tuple[list[float], reports.Report, int, int]:
    engine = db.create_engine(url)
    factory = db.session_factory(engine)
    times: list[float] = []
    for _run in range(runs):
        started = time.perf_counter()
        async with factory() as session:
            report = await reports.build(session=session, authority=authority)
        text = report_views.text(report, templates_dir=bundled_templates_dir(), tz=TZ, locale="id")
        png = charts.render(report_views.chart(report, tz=TZ, locale="id"))
        times.append(time.perf_counter() - started)
    await engine.dispose()
    return times, report, len(text), len(png)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--figures", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--url", help="an empty database to seed (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        started = time.perf_counter()
        await seed(url, args.figures)
        print(f"seeded {args.figures:,} figures in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})")
        for name, authority in (
            ("admin (all of Indonesia)", Authority(role=Role.ADMIN)),
            (f"organizer of {KABUPATEN}", Authority(role=Role.ORGANIZER, scopes=(KABUPATEN,))),
        ):
            times, report, text_len, png_len = await timed(url, authority, args.runs)
            print(
                f"/laporan {name}: first {times[0]:.2f} s, then median {statistics.median(times[1:] or times):.2f} s,"
                f" max {max(times[1:] or times):.2f} s — {report.figures:,} figures, {report.commitments:,}"
                f" commitments, text {text_len:,} chars, PNG {png_len // 1024:,} KiB"
            )


if __name__ == "__main__":
    asyncio.run(main())
