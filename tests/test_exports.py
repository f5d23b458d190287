"""Contact exports: the XLSX (read back with openpyxl) and the CSV (read back with csv) hold exactly the database's
rows for each filter; formula injection is neutralized in both; organizers see only their scope, masked; deleted
figures never appear; each export is audited; `rangkul export` from another folder and to standard output."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, insert, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import export_file, regions
from bot.cli import main
from bot.config import Settings
from bot.services import exports
from bot.services.exports import Filters, Format, Kind, Viewer
from bot.services.roles import Authority
from bot.views.export_table import phone_text
from models import (
    AgeBracket,
    AuditEvent,
    Broadcast,
    Commitment,
    CommitmentKind,
    Figure,
    FigureCategory,
    Invitation,
    Person,
    Reply,
    Role,
)
from tests.conftest import ROOT

BANJAR = "63.03"  # Kabupaten Banjar
BANJARMASIN = "63.71"  # Kota Banjarmasin
KALTIM = "64"
UTC = dt.UTC
BASE = dt.datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
INJECTIONS = ('=HYPERLINK("http://contoh.invalid","klik")', "@SUM(1)", "-1+1", "\tTab di depan", "+1+1", "\rCR")


@dataclass
class Seeded:
    """What was inserted, read back as the test's own record of each figure."""

    figures: list[dict[str, Any]]
    commitments: list[dict[str, Any]]
    replies: list[dict[str, Any]]


def _desa(code: str, count: int) -> list[str]:
    return list(regions.codes_within([code], regions.DESA))[:count]


async def seed(session: AsyncSession, count: int = 120) -> Seeded:
    """COUNT figures over Kabupaten Banjar, Kota Banjarmasin and Kalimantan Timur, of every category, age and
    status, some deleted, some named like formulas; commitments (some withdrawn) and replies."""
    rng = random.Random(5)
    desa = _desa(BANJAR, 6) + _desa(BANJARMASIN, 6) + _desa(KALTIM, 4)
    invitation = Invitation(code="sosialisasi-banjar", region_code=BANJAR, label="Sosialisasi Pemilih Pemula")
    session.add(invitation)
    broadcast = Broadcast(template="ayo_ke_tps", template_version="1", status="done")
    session.add(broadcast)
    await session.flush()
    assert broadcast.id is not None
    figures: list[dict[str, Any]] = []
    for i in range(count):
        person = Person(telegram_id=50_000 + i, username=f"tokoh_{i}" if i % 3 else None, first_name="T")
        session.add(person)
        await session.flush()
        name = INJECTIONS[i % len(INJECTIONS)] if i % 11 == 0 else f"Tokoh {i} Ñoñó"
        deleted = i % 17 == 5
        figure = Figure(
            person_id=None if deleted else person.id,
            full_name=None if deleted else name,
            category=list(FigureCategory)[i % len(FigureCategory)].value,
            age_bracket=list(AgeBracket)[i % len(AgeBracket)].value,
            region_code=desa[i % len(desa)],
            phone=None if deleted or i % 7 == 0 else f"+62812{i:08d}"[:14],
            organization='Karang Taruna, "Maju"\nRT 3' if i % 5 == 0 else None,
            consent_version="1",
            messages_opt_in=i % 6 != 1,
            unreachable_since=BASE if i % 8 == 3 else None,
            invitation_id=invitation.id if i % 4 == 0 else None,
            registered_at=BASE + dt.timedelta(days=i % 30, hours=i % 24),
            deleted_at=BASE if deleted else None,
        )
        session.add(figure)
        await session.flush()
        figures.append(
            {
                "id": figure.id,
                "name": figure.full_name,
                "category": figure.category,
                "age": figure.age_bracket,
                "region": figure.region_code,
                "phone": figure.phone,
                "username": person.username,
                "organization": figure.organization,
                "registered_at": figure.registered_at,
                "opt_in": figure.messages_opt_in,
                "unreachable": figure.unreachable_since is not None,
                "invitation": invitation.code if figure.invitation_id else None,
                "deleted": deleted,
            }
        )
    commitments: list[dict[str, Any]] = []
    for figure_row in rng.sample(figures, count // 2):
        for kind in rng.sample(list(CommitmentKind), 2):
            withdrawn = rng.random() < 0.3
            row = Commitment(
                figure_id=figure_row["id"],
                broadcast_id=broadcast.id,
                kind=kind.value,
                invite_count=rng.choice((5, 10, 26)) if kind is CommitmentKind.INVITE else None,
                template_version="1",
                committed_at=BASE,
                withdrawn_at=BASE + dt.timedelta(days=1) if withdrawn else None,
            )
            session.add(row)
            commitments.append({"figure": figure_row["id"], "kind": kind.value, "count": row.invite_count,
                                "withdrawn": withdrawn})  # fmt: skip
    replies: list[dict[str, Any]] = []
    for figure_row in figures[::9]:
        if figure_row["deleted"]:
            continue
        text = "=1+2 siap datang" if figure_row["id"] % 2 else "Siap, terima kasih"
        session.add(Reply(figure_id=figure_row["id"], broadcast_id=broadcast.id, text=text, received_at=BASE))
        replies.append({"figure": figure_row["id"], "text": text})
    await session.commit()
    return Seeded(figures=figures, commitments=commitments, replies=replies)


# ----------------------------------------------------------------------------------------- reading files back


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "a CSV export starts with the UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def excel_text(value: Any) -> Any:
    """A cell's text as Excel shows it: the XML format escapes control characters as _x000D_ (xlsxwriter writes
    them so, Excel reads them back; openpyxl leaves inline strings escaped)."""
    return re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), value) if isinstance(value, str) else value


def read_xlsx(path: Path) -> list[list[Any]]:
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    return [[excel_text(cell.value) for cell in row] for row in sheet.iter_rows()]


def un_csv(cell: str) -> str:
    """The value a CSV cell stands for: the apostrophe put before a formula-like text taken off again."""
    return cell[1:] if cell.startswith("'") and cell[1:2] in ("=", "+", "-", "@", "\t", "\r") else cell


async def export(
    engine: AsyncEngine,
    settings: Settings,
    tmp_path: Path,
    fmt: Format,
    kind: Kind = Kind.FIGURES,
    filters: Filters | None = None,
    viewer: Viewer = exports.ADMIN,
) -> list[dict[str, Any]]:
    """Export through the same code as the bot and the command line (in batches of 7, so rows cross batch
    boundaries), and read the file back as one dict per row keyed by the header."""
    target = tmp_path / f"out.{fmt.value}"
    from bot import db

    async with db.session_factory(engine)() as session:
        await export_file.write(
            session=session, kind=kind, fmt=fmt, filters=filters or Filters(), viewer=viewer, settings=settings,
            locale="id", target=target, batch_size=7,
        )  # fmt: skip
    table = read_xlsx(target) if fmt is Format.XLSX else read_csv(target.read_bytes())
    header, *rows = table
    if fmt is Format.CSV:
        rows = [[un_csv(cell) or None for cell in row] for row in rows]
    return [dict(zip(header, row, strict=True)) for row in rows]


def expected(seeded: Seeded, filters: Filters, scopes: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The figures FILTERS select, decided here row by row from what was inserted."""
    tz = dt.timezone(dt.timedelta(hours=8))  # Asia/Makassar has no daylight saving time
    active = {(c["figure"], c["kind"]) for c in seeded.commitments if not c["withdrawn"]}
    chosen = []
    for figure in seeded.figures:
        status = "stopped" if not figure["opt_in"] else "unreachable" if figure["unreachable"] else "active"
        day = figure["registered_at"].astimezone(tz).date()
        has_commitment = any(key[0] == figure["id"] for key in active)
        if figure["deleted"]:
            continue
        if scopes and not regions.in_scope(figure["region"], scopes):
            continue
        if filters.regions and not regions.in_scope(figure["region"], filters.regions):
            continue
        if filters.categories and figure["category"] not in filters.categories:
            continue
        if filters.age_brackets and figure["age"] not in filters.age_brackets:
            continue
        if filters.statuses and status not in filters.statuses:
            continue
        if filters.registered_from and day < filters.registered_from:
            continue
        if filters.registered_to and day > filters.registered_to:
            continue
        if filters.with_commitments is not None and has_commitment != filters.with_commitments:
            continue
        chosen.append({**figure, "status": status, "local": figure["registered_at"].astimezone(tz)})
    return chosen


FILTERS = {
    "everything": Filters(),
    "kabupaten banjar": Filters(regions=[BANJAR]),
    "two regions": Filters(regions=[_desa(BANJARMASIN, 1)[0], KALTIM]),
    "category": Filters(categories=["tokoh_pemuda", "tokoh_adat"]),
    "age": Filters(age_brackets=["<18"]),
    "active": Filters(statuses=["active"]),
    "stopped": Filters(statuses=["stopped"]),
    "unreachable": Filters(statuses=["unreachable"]),
    "registered between": Filters(registered_from=dt.date(2026, 11, 5), registered_to=dt.date(2026, 11, 12)),
    "with commitments": Filters(with_commitments=True),
    "without commitments": Filters(with_commitments=False),
    "the README's example": Filters(regions=[BANJAR], categories=["tokoh_pemuda"], statuses=["active"]),
}
STATUS_TEXT = {"active": "aktif", "stopped": "berhenti menerima pesan", "unreachable": "tidak dapat dihubungi"}


@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize("name", list(FILTERS))
async def test_the_file_holds_exactly_the_filtered_figures(
    engine: AsyncEngine, session: AsyncSession, settings: Settings, tmp_path: Path, fmt: Format, name: str
) -> None:
    seeded = await seed(session)
    filters = FILTERS[name]
    rows = await export(engine, settings, tmp_path, fmt, filters=filters)
    want = expected(seeded, filters)
    assert want, "every filter selects somebody in the seed"
    assert [row["Nama"] for row in rows] == [figure["name"] for figure in want]
    active = [c for c in seeded.commitments if not c["withdrawn"]]
    for row, figure in zip(rows, want, strict=True):
        desa = regions.get(figure["region"])
        kabupaten = regions.get(figure["region"][:5])
        assert desa is not None and kabupaten is not None
        # One code column, the desa's full Kemendagri code: it holds every level's code.
        assert row["Kode wilayah"] == figure["region"]
        assert row["Desa/kelurahan"] == desa.name
        assert row["Kabupaten/kota"] == kabupaten.name
        assert row["Nomor HP"] == (phone_text(figure["phone"], masked=False) if figure["phone"] else None)
        assert row["Username Telegram"] == figure["username"]
        assert row["Organisasi"] == figure["organization"]
        assert row["Status"] == STATUS_TEXT[figure["status"]]
        assert row["Kode undangan"] == figure["invitation"]
        registered = row["Terdaftar pada (WITA)"]
        local = figure["local"].replace(tzinfo=None, second=0, microsecond=0)
        if fmt is Format.XLSX:
            assert isinstance(registered, dt.datetime) and registered == local, "a real date in the XLSX"
        else:
            assert registered == local.strftime("%Y-%m-%d %H:%M")
        tps = sum(1 for c in active if c["figure"] == figure["id"] and c["kind"] == "tps")
        invited = sum(c["count"] for c in active if c["figure"] == figure["id"] and c["kind"] == "ajak")
        # None made: an empty cell (spreadsheets sum it as 0), never a 0 to read past.
        assert row["Komitmen: datang ke TPS"] in ((None, "") if tps == 0 else (tps, str(tps)))
        assert row["Jumlah orang yang akan diajak"] in ((None, "") if invited == 0 else (invited, str(invited)))


async def test_formula_injection_is_neutralized_in_both_formats(
    engine: AsyncEngine, session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    await seed(session)
    csv_path, xlsx_path = tmp_path / "a.csv", tmp_path / "a.xlsx"
    from bot import db

    for path, fmt in ((csv_path, Format.CSV), (xlsx_path, Format.XLSX)):
        async with db.session_factory(engine)() as s:
            await export_file.write(
                session=s, kind=Kind.FIGURES, fmt=fmt, filters=Filters(), viewer=exports.ADMIN, settings=settings,
                locale="id", target=path,
            )  # fmt: skip
    raw = read_csv(csv_path.read_bytes())
    names = [row[0] for row in raw[1:]]
    for attack in INJECTIONS:
        assert "'" + attack in names, f"{attack!r} gets a leading apostrophe in the CSV"
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in raw for cell in row)
    phone_column = raw[0].index("Nomor HP")
    assert "'+62 812-0000-0001" in [row[phone_column] for row in raw], "phones too, as the apostrophe's rule says"

    book = openpyxl.load_workbook(xlsx_path)
    sheet = book.active
    assert sheet is not None
    checked = 0
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and excel_text(cell.value).startswith(("=", "+", "-", "@", "\t", "\r")):
                assert cell.data_type == "s", "text, never a formula"
                assert cell.quotePrefix, "with Excel's quote prefix, so editing it does not make it a formula"
                checked += 1
    assert checked >= len(INJECTIONS)
    xlsx_names = [excel_text(row[0].value) for row in sheet.iter_rows(min_row=2)]
    assert set(INJECTIONS) <= set(xlsx_names), "the XLSX keeps the value unchanged"
    phone_index = [cell.value for cell in sheet[1]].index("Nomor HP")
    phones = [row[phone_index].value for row in sheet.iter_rows(min_row=2)]
    assert "+62 812-0000-0001" in phones, "a phone number stays exactly what it is"
    # What Excel needs for a usable sheet.
    assert sheet.freeze_panes == "A2"
    last_column = get_column_letter(sheet.max_column)
    assert sheet.auto_filter.ref == f"A1:{last_column}{sheet.max_row}"
    assert sheet.column_dimensions["A"].width >= len("Tokoh 100 Ñoñó")


async def test_organizers_get_their_scope_with_masked_phones(
    engine: AsyncEngine, session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    seeded = await seed(session)
    viewer = Viewer(authority=Authority(role=Role.ORGANIZER, scopes=(BANJAR,)), masked=True)
    # A filter outside the scope widens nothing: the scope is in the SQL.
    rows = await export(engine, settings, tmp_path, Format.CSV, filters=Filters(), viewer=viewer)
    want = expected(seeded, Filters(), scopes=(BANJAR,))
    assert [row["Kode wilayah"] for row in rows] == [figure["region"] for figure in want]
    assert all(str(row["Kode wilayah"]).startswith(BANJAR + ".") for row in rows)
    phones = [row["Nomor HP"] for row in rows if row["Nomor HP"]]
    assert phones
    assert all(phone.startswith("+62 812-****-") and len(phone) == len("+62 812-****-7890") for phone in phones)
    for row, figure in zip(rows, want, strict=True):
        if figure["phone"]:
            assert row["Nomor HP"].endswith(figure["phone"][-4:])
    wider = await export(engine, settings, tmp_path, Format.XLSX, filters=Filters(regions=[BANJARMASIN]), viewer=viewer)
    assert wider == []


async def test_commitment_log_and_replies(
    engine: AsyncEngine, session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    seeded = await seed(session)
    deleted = {figure["id"] for figure in seeded.figures if figure["deleted"]}
    log = await export(engine, settings, tmp_path, Format.XLSX, kind=Kind.COMMITMENTS)
    kept = [c for c in seeded.commitments if c["figure"] not in deleted]
    assert len(log) == len(kept)
    assert sum(1 for row in log if row["Ditarik pada (WITA)"] is not None) == sum(c["withdrawn"] for c in kept)
    assert {row["Templat"] for row in log} == {"ayo_ke_tps"}
    banjar = await export(engine, settings, tmp_path, Format.CSV, kind=Kind.COMMITMENTS,
                          filters=Filters(regions=[BANJAR]))  # fmt: skip
    assert all(str(row["Kode wilayah"]).startswith(BANJAR + ".") for row in banjar) and banjar
    replies = await export(engine, settings, tmp_path, Format.CSV, kind=Kind.REPLIES)
    assert sorted(row["Pesan"] for row in replies) == sorted(r["text"] for r in seeded.replies)


async def test_figures_who_deleted_their_data_never_appear(
    engine: AsyncEngine, session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    seeded = await seed(session)
    gone = [figure for figure in seeded.figures if figure["deleted"]]
    assert gone
    for kind in Kind:
        rows = await export(engine, settings, tmp_path, Format.CSV, kind=kind)
        assert not any(row["Nama"] is None for row in rows), f"{kind}: a blank name is a deleted figure"
    count = await exports.count(
        session=session, kind=Kind.FIGURES, filters=Filters(), viewer=exports.ADMIN, tz=settings.tz
    )
    assert count == len(seeded.figures) - len(gone)


# ----------------------------------------------------------------------------------------- the command line


def _settings_file(tmp_path: Path, database_url: str) -> Path:
    """A copy of settings.toml beside the test's database; a SQLite file named relative to it, as an office
    would, so the export must read it from the settings file's folder, not the working directory."""
    config = tmp_path / "settings.toml"
    text = (ROOT / "settings.toml").read_text("utf-8")
    sqlite_here = f"sqlite+aiosqlite:///{tmp_path / 'rangkul.db'}"
    url = "sqlite+aiosqlite:///rangkul.db" if database_url == sqlite_here else database_url
    commented = '# url = "sqlite+aiosqlite:////var/lib/rangkul/rangkul.db"'
    assert commented in text
    config.write_text(text.replace(commented, f'url = "{url}"'), "utf-8")
    return config


async def test_cli_example_from_another_folder_and_audited(
    engine: AsyncEngine,
    session: AsyncSession,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
) -> None:
    seeded = await seed(session)
    config = _settings_file(tmp_path, database_url)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("RANGKUL_CONFIG", raising=False)
    out = elsewhere / "tokoh.xlsx"
    argv = ["export", "--format", "xlsx", "--region", BANJAR, "--category", "tokoh_pemuda", "--status", "active",
            "-o", str(out), "--config", str(config)]  # fmt: skip
    assert await _main(argv) == 0
    _header, *rows = read_xlsx(out)
    want = expected(seeded, FILTERS["the README's example"])
    assert [row[0] for row in rows] == [figure["name"] for figure in want]
    assert not list(elsewhere.glob("*.part"))
    events = await session.exec(select(AuditEvent).where(col(AuditEvent.action) == "export.figures"))
    event = events.one()
    assert event.details["format"] == "xlsx" and event.details["source"] == "cli"
    assert event.details["rows"] == len(want)
    assert event.details["filters"]["regions"] == [BANJAR]
    assert event.details["filters"]["categories"] == ["tokoh_pemuda"]
    assert "Tokoh" not in repr(event.details), "no personal data in the audit log"


async def test_cli_writes_csv_to_standard_output_and_reads_names(
    engine: AsyncEngine,
    session: AsyncSession,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfdbinary: pytest.CaptureFixture[bytes],
) -> None:
    seeded = await seed(session)
    config = _settings_file(tmp_path, database_url)
    monkeypatch.chdir(tmp_path)
    assert await _main(["export", "--region", "Kota Banjarmasin", "--without-commitments", "-o", "-",
                        "--config", str(config)]) == 0  # fmt: skip
    captured = capfdbinary.readouterr()
    header, *rows = read_csv(captured.out)
    want = expected(seeded, Filters(regions=[BANJARMASIN], with_commitments=False))
    assert [un_csv(row[0]) for row in rows] == [figure["name"] for figure in want]
    assert b"exported" in captured.err
    assert await _main(["export", "commitments", "-o", "-", "--config", str(config)]) == 0
    header, *rows = read_csv(capfdbinary.readouterr().out)
    assert header[-2:] == ["Berkomitmen pada (WITA)", "Ditarik pada (WITA)"]
    assert await _main(["export", "--region", "Banjar", "-o", "-", "--config", str(config)]) == 1
    assert "matches several regions" in capfdbinary.readouterr().err.decode()
    assert await _main(["export", "--region", "99.99", "--config", str(config)]) == 1
    assert await _main(["export", "--format", "xlsx", "-o", "-", "--config", str(config)]) == 1


async def _main(argv: list[str]) -> int:
    """The CLI runs its own event loop: run it off this test's loop."""
    import asyncio

    return await asyncio.to_thread(main, argv)


def test_listed_values_never_start_like_a_formula() -> None:
    """Region names and codes and Rangkul's labels are made safe once, not in every row (bot/views/export_table.py):
    none of them may start like a formula, in any language."""
    from bot.views.export_table import Table

    for level in (1, 2, 3, 4):
        for code in regions.codes_within([], level):
            region = regions.get(code)
            assert region is not None and not region.name.startswith(("=", "+", "-", "@", "\t", "\r")), code
    for locale in ("id", "en"):
        for kind in Kind:
            table = Table(kind, locale=locale, tz=ZoneInfo("Asia/Makassar"), masked=False)
            labels = [c.header for c in table.columns]
            labels += [*table._categories.values(), *table._ages.values(), *table._statuses.values()]
            labels += [*table._kinds.values(), *table._reply_kinds.values()]
            assert not [label for label in labels if label.startswith(("=", "+", "-", "@", "\t", "\r"))]


@pytest.mark.parametrize("e164", ["+6281234567890", "+628123456789", "+62812345678", "+62812345678901", "+6585551234"])
def test_phone_numbers_read_as_phonenumbers_writes_them(e164: str) -> None:
    import phonenumbers

    parsed = phonenumbers.parse(e164, None)
    assert phone_text(e164, masked=False) == phonenumbers.format_number(
        parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    masked = phone_text(e164, masked=True)
    assert masked is not None and "****" in masked and masked.endswith(e164[-4:])
    assert e164[-8:-4] not in masked.replace(" ", "").replace("-", "")[-8:]


async def test_cli_reader_closing_standard_output_early_is_audited(
    engine: AsyncEngine, session: AsyncSession, database_url: str, tmp_path: Path
) -> None:
    """`rangkul export -o - | head`: the export stops with one line and the audit log still says it happened."""
    import asyncio
    import subprocess
    import sys

    # Far more than a pipe holds (64 KiB), so the export is still writing when the reader goes.
    now = dt.datetime.now(UTC)
    figure = {"category": "tokoh_adat", "age_bracket": "26-40", "region_code": "63.03.01.2001", "consent_version": "1",
              "phone": "+6281234567890", "consent_at": now, "registered_at": now, "updated_at": now}  # fmt: skip
    connection = await session.connection()
    await connection.execute(insert(Figure), [{**figure, "full_name": f"Tokoh {i}"} for i in range(3_000)])
    await session.commit()
    config = _settings_file(tmp_path, database_url)

    def run() -> tuple[int, bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "export", "-o", "-", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
        )
        assert process.stdout is not None and process.stderr is not None
        process.stdout.read(10)
        process.stdout.close()
        error = process.stderr.read()
        return process.wait(timeout=60), error

    code, error = await asyncio.to_thread(run)
    assert code == 1 and b"closed before the export ended" in error
    events = await session.exec(select(AuditEvent).where(col(AuditEvent.action) == "export.figures"))
    assert events.one().details["source"] == "cli"


NASTY = [
    "", "biasa", "koma, di tengah", 'kutip "ganda"', "baris\nbaru", "CR\rdi tengah", "CRLF\r\nbaru", " spasi ",
    "=1+1", "+62 812", "-", "@x", "\tTab", "\rCR", "'=sudah", "Ñoñó ✅", '"', ",", "a\"b,c\nd",
]  # fmt: skip


@pytest.mark.parametrize("text", NASTY)
def test_a_csv_field_is_what_the_csv_module_writes_and_reads_back(text: str) -> None:
    """bot/spreadsheet.py quotes fields itself (so that repeated fields are made once): it must write exactly what
    the csv module writes (QUOTE_MINIMAL, CRLF lines) and read back, with the csv module, as the neutralized
    text."""
    from bot.spreadsheet import Cell, csv_line, neutralized_csv

    cells: list[Cell] = [text, 7, None, dt.datetime(2026, 12, 1, 9, 30), text]
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerow(
        [neutralized_csv(text), 7, None, "2026-12-01 09:30", neutralized_csv(text)]
    )
    assert csv_line(cells) == buffer.getvalue()
    [back] = list(csv.reader(io.StringIO(csv_line(cells), newline="")))
    assert back == [neutralized_csv(text), "7", "", "2026-12-01 09:30", neutralized_csv(text)]


@pytest.mark.parametrize("masked", [False, True])
async def test_the_figures_own_csv_loop_writes_what_their_cells_say(
    engine: AsyncEngine, session: AsyncSession, settings: Settings, masked: bool
) -> None:
    """A figures CSV is written by a loop of its own (bot/views/export_table.py, for speed): line for line it must
    be the generic CSV of the same rows' cells, the ones an XLSX holds, for formula-like names, quotes, commas
    and line breaks, masked or not, with and without commitments."""
    from bot import db
    from bot.spreadsheet import csv_line
    from bot.views.export_table import Table

    await seed(session)
    table = Table(Kind.FIGURES, locale="id", tz=settings.tz, masked=masked)
    compared = 0
    async with db.session_factory(engine)() as s:
        async for batch in exports.batches(
            session=s, kind=Kind.FIGURES, filters=Filters(), viewer=exports.ADMIN, tz=settings.tz, size=9
        ):
            assert table.csv_lines(batch) == [csv_line(cells) for cells in table.rows(batch)]
            compared += len(batch.rows)
    assert compared > 100


@pytest.mark.parametrize("zone", ["Asia/Makassar", "Asia/Jakarta", "Asia/Jayapura", "Asia/Kolkata", "Australia/Eucla"])
def test_a_csv_moment_is_the_local_time_whatever_the_stored_form(zone: str) -> None:
    """LocalTime.text() copies the minutes onto the local hour for SQLite's text: it must say what the datetime
    says, for whole-hour zones and for those that are not (India +05:30, Eucla +08:45), for text with and without
    microseconds or a zone, and for PostgreSQL's datetimes."""
    from bot.views.export_table import LocalTime

    local = LocalTime(ZoneInfo(zone))
    values: list[object] = [
        "2026-12-01 16:59:59.999999", "2026-12-01 17:00:00", "2029-02-13 23:30:05.000001", "2026-12-31 22:05:00",
        "2026-12-01 03:04:05+00:00", "2026-12-01 09:30+07:00", "2026-12-01 09:30:00.123+07", "2026-12-01 09:30:00Z",
        dt.datetime(2026, 12, 1, 16, 59, tzinfo=UTC), dt.datetime(2026, 12, 1, 16, 59),
    ]  # fmt: skip
    for value in values:
        stamp = local(value)
        assert stamp is not None
        assert local.text(value) == stamp.isoformat(" ", "minutes"), value
        assert local.text(value) == local.text(value)  # the second time from the cache
    assert local.text(None) == ""
    assert LocalTime(ZoneInfo("Asia/Makassar")).text("2026-12-01 16:59:59.999999") == "2026-12-02 00:59"
