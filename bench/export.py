"""Benchmark of the contact export: 100,000 figures to CSV and XLSX, against baselines measured in the same run.

    PYTHONPATH=. .venv/bin/python bench/export.py                     # 100,000 figures (and 1,000 for memory)
    PYTHONPATH=. .venv/bin/python bench/export.py --figures 20000

Seeds two SQLite databases (1,000 and --figures figures, each with a Telegram username, a phone number, an
organization for half, an invitation for a tenth, about one commitment per two figures, 2% deleted), then runs
every export --runs times, each in a fresh process of its own (the fastest run is shown; the machine is shared),
sampling the process's resident memory every 5 ms while it exports:

- rangkul's export (the code `rangkul export` runs: SQLAlchemy Core on aiosqlite in batches, region names,
  labels, phone formatting, neutralization) to CSV and to XLSX;
- baseline CSV: the same rows (figures with their person, invitation and active commitments per kind) read with
  plain `sqlite3` and written with the `csv` module, values as stored;
- baseline XLSX: the same rows written with `xlsxwriter` in constant-memory mode (`write_row`);
- for comparison, the same cells as rangkul's file (its layout and writers) from rows read with plain
  `sqlite3`: the difference to rangkul's time is its database layer.

Prints the measured times and peak memory only; it asserts nothing. The figures go into the README.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from bot import db, regions
from models import Commitment, CommitmentKind, Figure, FigureCategory, Invitation, Person, utcnow

PROVINCES = ("63", "64", "32")
MEMORY_MODES = ("baseline-csv", "rangkul-csv", "baseline-xlsx", "rangkul-xlsx")
MODES = (*MEMORY_MODES, "same-cells-csv", "same-cells-xlsx")
BATCH = 10_000

BASELINE_SQL = """
SELECT f.id, f.full_name, f.category, f.age_bracket, f.region_code, f.phone, p.username, f.organization,
       f.registered_at, f.messages_opt_in, f.unreachable_since, i.code, i.label,
       c.tps, c.ajak, c.tolak_uang, c.lawan_hoaks, c.relawan, c.invited
FROM figure f
LEFT JOIN person p ON p.id = f.person_id
LEFT JOIN invitation i ON i.id = f.invitation_id
LEFT JOIN (
    SELECT figure_id,
           SUM(kind = 'tps') AS tps, SUM(kind = 'ajak') AS ajak, SUM(kind = 'tolak_uang') AS tolak_uang,
           SUM(kind = 'lawan_hoaks') AS lawan_hoaks, SUM(kind = 'relawan') AS relawan,
           SUM(CASE WHEN kind = 'ajak' THEN invite_count ELSE 0 END) AS invited
    FROM commitment WHERE withdrawn_at IS NULL GROUP BY figure_id
) c ON c.figure_id = f.id
WHERE f.deleted_at IS NULL
ORDER BY f.id
"""
HEADERS = [
    "id", "name", "category", "age", "region", "phone", "username", "organization", "registered_at", "opt_in",
    "unreachable_since", "invitation", "invitation_label", "tps", "ajak", "tolak_uang", "lawan_hoaks", "relawan",
    "invited",
]  # fmt: skip


async def seed(path: Path, count: int) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    await db.upgrade(engine)
    rng = random.Random(9)
    desa = list(regions.codes_within(list(PROVINCES), regions.DESA))
    now = utcnow()
    categories = [c.value for c in FigureCategory]
    kinds = [k.value for k in CommitmentKind]
    async with engine.begin() as conn:
        await conn.execute(sa.insert(Invitation), [{"id": 1, "code": "sosialisasi", "region_code": "63",
                                                    "label": "Sosialisasi", "created_at": now}])  # fmt: skip
        await conn.execute(
            sa.text(
                'INSERT INTO broadcast (id, template, template_version, "values", segment, status, paid,'
                " recipient_count, created_at) VALUES (1, 'ayo_ke_tps', '1', '{}', '{}', 'done', 0, 0, :now)"
            ),
            {"now": now},
        )
        for start in range(0, count, BATCH):
            ids = range(start + 1, min(count, start + BATCH) + 1)
            people, figures, commitments = [], [], []
            for i in ids:
                deleted = rng.random() < 0.02
                people.append({"id": i, "telegram_id": 10_000_000 + i, "username": f"tokoh_{i}",
                               "first_name": "Tokoh", "created_at": now, "last_seen_at": now})  # fmt: skip
                figures.append(
                    {
                        "id": i,
                        "person_id": None if deleted else i,
                        "full_name": None if deleted else f"Tokoh Nomor {i}",
                        "category": rng.choice(categories),
                        "age_bracket": "26-40",
                        "region_code": rng.choice(desa),
                        "phone": None if deleted else f"+62812{i:08d}",
                        "organization": "Karang Taruna Maju" if i % 2 else None,
                        "invitation_id": 1 if i % 10 == 0 else None,
                        "consent_version": "1",
                        "consent_at": now,
                        "registered_at": now,
                        "updated_at": now,
                        "messages_opt_in": rng.random() > 0.05,
                        "deleted_at": now if deleted else None,
                    }
                )
                if rng.random() < 0.5:
                    kind = rng.choice(kinds)
                    commitments.append({"figure_id": i, "broadcast_id": 1, "kind": kind, "template_version": "1",
                                        "invite_count": 10 if kind == "ajak" else None, "committed_at": now,
                                        "withdrawn_at": now if rng.random() < 0.1 else None})  # fmt: skip
            await conn.execute(sa.insert(Person), people)
            await conn.execute(sa.insert(Figure), figures)
            if commitments:
                await conn.execute(sa.insert(Commitment), commitments)
    await engine.dispose()


# ----------------------------------------------------------------------------------------- in the child


def baseline_csv(database: Path, out: Path) -> int:
    connection = sqlite3.connect(database)
    rows = 0
    with out.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADERS)
        cursor = connection.execute(BASELINE_SQL)
        while batch := cursor.fetchmany(2_000):
            writer.writerows(batch)
            rows += len(batch)
    connection.close()
    return rows


def same_cells(database: Path, out: Path, fmt: str) -> int:
    """The same file as rangkul's (its layout and writers), the rows read with plain sqlite3 in one query: what is
    left between this and rangkul's own time is the database layer (SQLAlchemy, aiosqlite, the batches)."""
    from bot.services.exports import Batch, Format, Kind
    from bot.spreadsheet import CsvSheet, XlsxSheet
    from bot.views.export_table import Table

    table = Table(Kind.FIGURES, locale="id", tz=__import__("zoneinfo").ZoneInfo("Asia/Makassar"), masked=False)
    connection = sqlite3.connect(database)
    stream = None
    sheet: CsvSheet | XlsxSheet
    if fmt == Format.CSV:
        stream = out.open("w", encoding="utf-8", newline="")
        sheet = CsvSheet(stream, table.columns)
    else:
        sheet = XlsxSheet(out, table.columns, "Tokoh")
    rows = 0
    cursor = connection.execute(BASELINE_SQL)
    while batch := cursor.fetchmany(5_000):
        figures = [row[:13] for row in batch]
        # Counts as rangkul's grouped statement gives them: None where a figure made no commitment of a kind.
        commitments = {row[0]: tuple(value or None for value in row[13:]) for row in batch if row[13] is not None}
        laid = Batch(rows=figures, commitments=commitments)
        if isinstance(sheet, CsvSheet):
            sheet.write_lines(table.csv_lines(laid))
        else:
            sheet.write_rows(table.rows(laid))
        rows += len(batch)
    sheet.close()
    if stream is not None:
        stream.close()
    connection.close()
    return rows


def baseline_xlsx(database: Path, out: Path) -> int:
    import xlsxwriter

    connection = sqlite3.connect(database)
    book = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    sheet = book.add_worksheet("Tokoh")
    sheet.write_row(0, 0, HEADERS)
    rows = 0
    cursor = connection.execute(BASELINE_SQL)
    while batch := cursor.fetchmany(2_000):
        for row in batch:
            rows += 1
            sheet.write_row(rows, 0, row)
    book.close()
    connection.close()
    return rows


def rangkul(database: Path, out: Path, fmt: str) -> int:
    from bot import export_file
    from bot.config import Settings
    from bot.services import exports
    from bot.services.exports import Filters, Format, Kind

    async def run() -> int:
        engine = db.create_engine(f"sqlite+aiosqlite:///{database}")
        try:
            async with db.session_factory(engine)() as session:
                return await export_file.write(
                    session=session, kind=Kind.FIGURES, fmt=Format(fmt), filters=Filters(), viewer=exports.ADMIN,
                    settings=Settings(), locale="id", target=out,
                )  # fmt: skip
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


class PeakMemory:
    """The process's resident memory, sampled every 5 ms while an export runs: its peak, and where it started."""

    def __init__(self) -> None:
        self.start = self.peak = _resident_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _resident_bytes())

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _resident_bytes())


def child(mode: str, database: Path, out: Path) -> None:
    # Everything either side imports or loads once per process (the region table, the gettext catalog, which the
    # running bot has loaded long before) is loaded before the clock starts, so the times compare the work alone.
    import xlsxwriter  # noqa: F401

    from bot import export_file, i18n  # noqa: F401

    regions.get("63.71.01.1001")
    i18n.gettext_for("id")("Name")
    with PeakMemory() as memory:
        started = time.perf_counter()
        if mode == "baseline-csv":
            rows = baseline_csv(database, out)
        elif mode == "baseline-xlsx":
            rows = baseline_xlsx(database, out)
        elif mode.startswith("same-cells-"):
            rows = same_cells(database, out, mode.removeprefix("same-cells-"))
        else:
            rows = rangkul(database, out, mode.removeprefix("rangkul-"))
        seconds = time.perf_counter() - started
    print(json.dumps({"rows": rows, "seconds": seconds, "peak": memory.peak, "start": memory.start,
                      "bytes": out.stat().st_size}))  # fmt: skip


# ----------------------------------------------------------------------------------------- the parent


def measure(mode: str, database: Path, folder: Path) -> dict[str, float]:
    """One export in a fresh process: its time, peak memory and file size."""
    out = folder / f"{mode}-{database.stem}.{'csv' if mode.endswith('csv') else 'xlsx'}"
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--database", str(database), "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    measured: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    out.unlink()
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--figures", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of each export; the fastest is shown")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.database, args.out)
        return
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        small, large = folder / "small.db", folder / "large.db"
        started = time.perf_counter()
        asyncio.run(seed(small, 1_000))
        asyncio.run(seed(large, args.figures))
        print(f"seeded 1,000 and {args.figures:,} figures in {time.perf_counter() - started:.1f} s (SQLite)")
        results: dict[tuple[str, str], dict[str, float]] = {}
        for mode in MODES:
            for database in (small, large) if mode in MEMORY_MODES else (large,):
                runs = [measure(mode, database, folder) for _run in range(args.runs)]
                best = min(runs, key=lambda run: run["seconds"])
                best["peak"] = max(run["peak"] for run in runs)
                results[(mode, database.stem)] = best
        print(f"best of {args.runs} runs, each in a fresh process:")
        for fmt in ("csv", "xlsx"):
            base, ours = results[(f"baseline-{fmt}", "large")], results[(f"rangkul-{fmt}", "large")]
            print(
                f"{fmt.upper()}, {int(ours['rows']):,} rows: rangkul {ours['seconds']:.2f} s, "
                f"baseline {base['seconds']:.2f} s ({ours['seconds'] / base['seconds']:.2f}×); "
                f"file {ours['bytes'] / 2**20:.1f} MiB (baseline {base['bytes'] / 2**20:.1f} MiB)"
            )
            same = results[(f"same-cells-{fmt}", "large")]
            print(
                f"  the same cells with plain sqlite3 (rangkul's layout and writer): {same['seconds']:.2f} s; "
                f"rangkul is {ours['seconds'] / same['seconds']:.2f}× that"
            )
        mib = 2**20
        for mode in MEMORY_MODES:
            low, high = results[(mode, "small")], results[(mode, "large")]
            growth = (high["peak"] - low["peak"]) / mib
            print(
                f"peak memory {mode}: {low['peak'] / mib:.1f} MiB for {int(low['rows']):,} rows, "
                f"{high['peak'] / mib:.1f} MiB for {int(high['rows']):,} rows ({growth:+.1f} MiB; "
                f"{high['start'] / mib:.1f} MiB before exporting)"
            )


if __name__ == "__main__":
    main()
