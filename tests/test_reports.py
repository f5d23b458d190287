"""/laporan: every number against the database (counted here independently, row by row), scope, the chart and
who may ask."""

from __future__ import annotations

import datetime as dt
import io
import random
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image
from sqlmodel import select

from bot import charts, i18n, notice, regions
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
from tests.conftest import ADMIN_ID, Harness
from tests.test_broadcast import make_figures, make_organizer

KABUPATEN = "63.71"  # Kota Banjarmasin
OTHER = "63.03"  # Kabupaten Banjar
ORGANIZER = 700
FIGURE_COUNT = 3_000
NOW = utcnow()


def _desa_pools() -> tuple[list[str], list[str]]:
    """Desa of each kabupaten, leaving one kecamatan of Banjarmasin and two of Kabupaten Banjar without figures."""
    pools = []
    for kabupaten, empty in ((KABUPATEN, 1), (OTHER, 2)):
        kept = regions.codes_within([kabupaten], regions.KECAMATAN)[empty:]
        pools.append([code for kec in kept for code in regions.codes_within([kec], regions.DESA)])
    return pools[0], pools[1]


async def _seed(harness: Harness) -> dict[str, list[dict[str, Any]]]:
    """A few thousand figures with deliveries, commitments and replies for three broadcasts, inserted directly."""
    rng = random.Random(9)
    banjarmasin, banjar = _desa_pools()
    version = notice.current_version(harness.app.bot_data.settings, "id")
    categories = list(FigureCategory)
    figures = []
    for i in range(FIGURE_COUNT):
        figures.append(
            {
                "id": i + 1,
                "full_name": f"Tokoh {i}",
                "category": rng.choice(categories).value,
                "age_bracket": "26-40",
                "region_code": rng.choice(banjarmasin if i % 2 else banjar),
                "consent_version": version,
                "consent_at": NOW,
                "registered_at": NOW - dt.timedelta(days=rng.randint(0, 30), hours=rng.randint(0, 23)),
                "updated_at": NOW,
                "messages_opt_in": rng.random() > 0.06,
                "opted_out_at": None,
                "unreachable_since": NOW if rng.random() < 0.04 else None,
                "deleted_at": NOW if rng.random() < 0.03 else None,
            }
        )
    broadcasts = [
        {
            "id": b,
            "template": name,
            "template_version": "1",
            "values": {},
            "segment": {},
            "status": "done",
            "recipient_count": 0,
            "created_at": NOW - dt.timedelta(days=5 - b),
            "paid": False,
        }
        for b, name in ((1, "ayo_ke_tps"), (2, "tolak_politik_uang"), (3, "lawan_hoaks"))
    ]
    statuses = [s.value for s in DeliveryStatus]
    deliveries = []
    for broadcast in broadcasts:
        for figure in rng.sample(figures, 1_200):
            deliveries.append(
                {
                    "broadcast_id": broadcast["id"],
                    "figure_id": figure["id"],
                    "status": rng.choice(statuses),
                    "attempts": 1,
                }
            )
    kinds = [k.value for k in CommitmentKind]
    commitments = []
    seen: set[tuple[Any, Any, str]] = set()
    for delivery in rng.sample(deliveries, 1_500):
        kind = rng.choice(kinds)
        key = (delivery["figure_id"], delivery["broadcast_id"], kind)
        if key in seen:
            continue
        seen.add(key)
        commitments.append(
            {
                "figure_id": key[0],
                "broadcast_id": key[1],
                "kind": kind,
                "template_version": "1",
                "invite_count": rng.choice((5, 10, 25, 40)) if kind == CommitmentKind.INVITE else None,
                "committed_at": NOW,
                "withdrawn_at": NOW if rng.random() < 0.15 else None,
            }
        )
    replies = [
        {
            "figure_id": rng.choice(figures)["id"],
            "broadcast_id": rng.choice((None, 1, 2, 3)),
            "kind": "text",
            "text": "Terima kasih",
            "received_at": NOW,
        }
        for _i in range(400)
    ]
    async with harness.app.bot_data.sessions() as session:
        await session.exec(sa.insert(Figure), params=figures)
        await session.exec(sa.insert(Broadcast), params=broadcasts)
        await session.exec(sa.insert(Delivery), params=deliveries)
        await session.exec(sa.insert(Commitment), params=commitments)
        await session.exec(sa.insert(Reply), params=replies)
        if (await session.connection()).dialect.name == "postgresql":
            for table in ("figure", "broadcast"):
                await session.exec(sa.text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
        await session.commit()
    return {"figures": figures, "deliveries": deliveries, "commitments": commitments, "replies": replies}


async def _db_rows(harness: Harness, table: str) -> list[dict[str, Any]]:
    """Every row of TABLE as the database has it, read with plain SQL (not through the service)."""
    async with harness.app.bot_data.sessions() as session:
        result = await session.exec(sa.text(f"SELECT * FROM {table}"))
        return [dict(row._mapping) for row in result.all()]


def _in(code: str, scope: tuple[str, ...]) -> bool:
    return not scope or any(code == s or code.startswith(s + ".") for s in scope)


async def _expected(harness: Harness, scope: tuple[str, ...], level: int) -> dict[str, Any]:
    """The report recomputed in Python from the raw rows."""
    figures = {f["id"]: f for f in await _db_rows(harness, "figure") if _in(f["region_code"], scope)}
    alive = [f for f in figures.values() if f["deleted_at"] is None]
    week_ago = NOW - dt.timedelta(days=7)

    def when(value: Any) -> dt.datetime:
        stamp: dt.datetime = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp

    active = [
        c for c in await _db_rows(harness, "commitment") if c["figure_id"] in figures and c["withdrawn_at"] is None
    ]
    replies = [r for r in await _db_rows(harness, "reply") if r["figure_id"] in figures]
    deliveries = [d for d in await _db_rows(harness, "delivery") if d["figure_id"] in figures]
    cut = {2: 5, 3: 8, 4: 13}[level]
    by_region_kind: dict[str, Counter[str]] = {}
    for c in active:
        by_region_kind.setdefault(figures[c["figure_id"]]["region_code"][:cut], Counter())[c["kind"]] += 1
    kecamatan = regions.codes_within(list(scope), regions.KECAMATAN)
    desa = regions.codes_within(list(scope), regions.DESA)
    alive_kec = {f["region_code"][:8] for f in alive}
    alive_desa = {f["region_code"] for f in alive}
    return {
        "figures": len(alive),
        "deleted": len(figures) - len(alive),
        "new": sum(1 for f in alive if when(f["registered_at"]) >= week_ago),
        "opted_out": sum(1 for f in alive if not f["messages_opt_in"]),
        "unreachable": sum(1 for f in alive if f["unreachable_since"] is not None),
        "by_category": Counter(f["category"] for f in alive),
        "by_region": Counter(f["region_code"][:cut] for f in alive),
        "by_kind": Counter(c["kind"] for c in active),
        "by_region_kind": by_region_kind,
        "invited": sum(c["invite_count"] for c in active if c["kind"] == CommitmentKind.INVITE),
        "replies": len(replies),
        "deliveries": deliveries,
        "active": active,
        "reply_rows": replies,
        "kecamatan": (len(kecamatan), len(alive_kec & set(kecamatan))),
        "desa": (len(desa), len(alive_desa & set(desa))),
        "missing": [k for k in kecamatan if k not in alive_kec][:10],
    }


def _check(report: reports.Report, expected: dict[str, Any]) -> None:
    assert report.figures == expected["figures"]
    assert report.deleted == expected["deleted"]
    assert report.new_this_week == expected["new"]
    assert report.opted_out == expected["opted_out"]
    assert report.unreachable == expected["unreachable"]
    assert report.by_category == dict(expected["by_category"])
    assert report.by_region == dict(expected["by_region"])
    assert sum(report.by_region.values()) == sum(report.by_category.values()) == report.figures
    assert report.commitments_by_kind == dict(expected["by_kind"])
    assert report.commitments_by_region == {k: dict(v) for k, v in expected["by_region_kind"].items()}
    assert report.commitments == len(expected["active"])
    assert report.invited_people == expected["invited"]
    assert report.replies == expected["replies"]
    assert report.coverage is not None
    assert (report.coverage.kecamatan_total, report.coverage.kecamatan_covered) == expected["kecamatan"]
    assert (report.coverage.desa_total, report.coverage.desa_covered) == expected["desa"]
    assert report.coverage.missing == expected["missing"]
    assert [b.id for b in report.broadcasts] == [3, 2, 1]
    for item in report.broadcasts:
        statuses = Counter(d["status"] for d in expected["deliveries"] if d["broadcast_id"] == item.id)
        assert item.recipients == sum(statuses.values())
        assert item.outcomes["sent"] == statuses["sent"]
        assert item.outcomes["blocked"] == statuses["blocked"] + statuses["deactivated"]
        assert item.outcomes["failed"] == statuses["failed"] + statuses["chat_not_found"]
        assert item.outcomes["uncertain"] == statuses["uncertain"]
        assert item.outcomes["skipped"] == statuses["skipped"]
        assert item.outcomes["waiting"] == statuses["pending"] + statuses["sending"]
        kinds = Counter(c["kind"] for c in expected["active"] if c["broadcast_id"] == item.id)
        assert item.commitments == dict(kinds)
        assert item.replies == sum(1 for r in expected["reply_rows"] if r["broadcast_id"] == item.id)


async def _report(harness: Harness, authority: Authority) -> reports.Report:
    async with harness.app.bot_data.sessions() as session:
        return await reports.build(session=session, authority=authority, now=NOW)


async def test_every_number_adds_up_for_admins_and_a_kabupaten_organizer(harness: Harness) -> None:
    await _seed(harness)
    admin = await _report(harness, Authority(role=Role.ADMIN))
    assert admin.scope.level == 2
    _check(admin, await _expected(harness, (), 2))
    assert admin.figures > 2_500 and set(admin.by_region) == {KABUPATEN, OTHER}
    assert admin.coverage is not None and admin.coverage.kecamatan_total > 7_000

    organizer = await _report(harness, Authority(role=Role.ORGANIZER, scopes=(KABUPATEN,)))
    assert organizer.scope.level == 3
    _check(organizer, await _expected(harness, (KABUPATEN,), 3))
    # Scope: only Banjarmasin's figures, broken down by its kecamatan.
    assert organizer.figures < admin.figures
    assert organizer.by_region and all(code.startswith(KABUPATEN + ".") for code in organizer.by_region)
    assert organizer.coverage is not None
    assert organizer.coverage.missing == [regions.codes_within([KABUPATEN], regions.KECAMATAN)[0]]

    kecamatan = regions.codes_within([KABUPATEN], regions.KECAMATAN)[1]
    by_desa = await _report(harness, Authority(role=Role.ORGANIZER, scopes=(kecamatan,)))
    assert by_desa.scope.level == 4
    _check(by_desa, await _expected(harness, (kecamatan,), 4))


async def test_the_command_sends_indonesian_text_and_a_chart(harness: Harness) -> None:
    await _seed(harness)
    await make_organizer(harness, ORGANIZER, KABUPATEN)
    sent = await harness.send(ORGANIZER, "/laporan")
    assert len(sent) == 2
    text, photo = sent
    expected = await _expected(harness, (KABUPATEN,), 3)
    assert len(text.shown) < 4096
    assert "Laporan Rangkul" in text.shown and "Kota Banjarmasin" in text.shown
    count = i18n.format_number(expected["figures"], "id")
    assert "." in count  # more than a thousand: Indonesian grouping, 1.250
    assert f"Tokoh terdaftar: {count}" in text.shown
    assert i18n.format_number(expected["invited"], "id") in text.shown
    # Another kabupaten's names do not appear in a Banjarmasin organizer's report.
    assert "Martapura" not in text.shown
    assert photo.photo is not None
    image = Image.open(io.BytesIO(photo.photo.content))
    assert image.format == "PNG" and image.size[0] == charts.WIDTH_PX and 600 < image.size[1] < 3_000
    # The English msgid stays behind: the chart's caption is Indonesian.
    assert photo.caption and photo.caption.startswith("Grafik")

    sent = await harness.send(ADMIN_ID, "/report")
    assert len(sent) == 2 and "Seluruh Indonesia" in sent[0].shown and len(sent[0].shown) < 4096


async def test_figures_without_a_role_are_refused_politely(harness: Harness) -> None:
    [figure] = await make_figures(harness, 800, 1)
    [answer] = await harness.send(figure, "/laporan")
    assert answer.photo is None
    assert "Mohon maaf" in answer.shown and "/bantuan" in answer.shown


def test_chart_rows_keep_their_totals_and_numbers_are_indonesian() -> None:
    rows = [(f"Wilayah {i}", [1_000 + i, i]) for i in range(20)]
    kept = charts.top_rows(rows, "Lainnya")
    assert len(kept) == charts.TOP_ROWS + 1 and kept[-1][0] == "Lainnya"
    assert sum(v[0] for _l, v in kept) == sum(v[0] for _l, v in rows)
    chart = charts.BarChart(
        title="Tokoh dan komitmen",
        subtitle="1 Desember 2026",
        labels=[label for label, _v in kept],
        series=[("Tokoh", [v[0] for _l, v in kept]), ("Komitmen", [v[1] for _l, v in kept])],
    )
    png = charts.render(chart)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(png)).size[0] == 1080
    assert i18n.format_number(1_250, "id") == "1.250"


@pytest.mark.parametrize("locale", ["id", "en"])
def test_an_empty_report_reads_well(locale: str) -> None:
    report = reports.Report(scope=reports.Scope(codes=(KABUPATEN,), level=3), generated_at=NOW)
    text = report_views.text(report, templates_dir=_templates_dir(), tz=dt.UTC, locale=locale)
    assert "0" in text and len(text) < 4096
    assert charts.render(report_views.chart(report, tz=dt.UTC, locale=locale)).startswith(b"\x89PNG")


def _templates_dir() -> Any:
    from bot.config import bundled_templates_dir

    return bundled_templates_dir()


def test_scope_levels() -> None:
    assert reports.scope_of(Authority(role=Role.ADMIN)).level == 2
    assert reports.scope_of(Authority(role=Role.ORGANIZER, scopes=("63",))).level == 2
    assert reports.scope_of(Authority(role=Role.ORGANIZER, scopes=("63.71",))).level == 3
    assert reports.scope_of(Authority(role=Role.ORGANIZER, scopes=("63.71.01", "64"))).level == 2
    assert reports.scope_of(Authority(role=Role.ORGANIZER, scopes=("63.71.01.1001",))).level == 4


def test_a_mixed_scope_names_each_region_with_its_kabupaten() -> None:
    """An organizer of Kota Banjarmasin and of Kecamatan Aluh Aluh (in Kabupaten Banjar): the title read
    "Aluh Aluh, Kota Banjarmasin", as if Aluh Aluh were in Banjarmasin."""
    from bot.services.reports import Scope
    from bot.views.report import scope_name

    _ = i18n.gettext_for("id")
    assert scope_name(Scope(codes=("63.71", "63.03.01"), level=3), _, "id") == (
        "Kota Banjarmasin; Aluh Aluh, Kabupaten Banjar"
    )


async def test_commitments_by_region_have_a_heading_of_their_own(harness: Harness) -> None:
    """Under "Orang yang akan diajak para tokoh: 12", the line "Kota Banjarmasin: 3" read as 3 people invited."""
    await make_figures(harness, 900, 3, "63.71.05.1003")
    async with harness.app.bot_data.sessions() as session:
        figures = [figure.id for figure in (await session.exec(select(Figure))).all()]
        broadcast = Broadcast(template="ayo_ke_tps", template_version="1", status="done", recipient_count=3)
        session.add(broadcast)
        await session.flush()
        assert broadcast.id is not None
        for figure_id, kind, count in zip(
            figures, (CommitmentKind.INVITE, CommitmentKind.VOTE, CommitmentKind.VOTE), (12, None, None), strict=True
        ):
            session.add(
                Delivery(broadcast_id=broadcast.id, figure_id=figure_id, status=DeliveryStatus.SENT, attempts=1)
            )
            session.add(
                Commitment(
                    figure_id=figure_id, broadcast_id=broadcast.id, kind=kind, template_version="1", invite_count=count
                )
            )
        await session.commit()
    [text, _chart] = await harness.send(ADMIN_ID, "/laporan")
    lines = text.shown.splitlines()
    invited = lines.index("Orang yang akan diajak para tokoh: 12")
    assert lines[invited + 1 : invited + 3] == ["", "Komitmen per wilayah"], lines
    assert lines[invited + 3].startswith("• Kota Banjarmasin: 3 (")  # the region's commitments, under their heading
    assert lines[invited + 4 : invited + 6] == ["", "Balasan dari tokoh: 0"]
