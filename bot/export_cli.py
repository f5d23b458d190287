"""`rangkul export [figures|commitments|replies]`: the contact export on the server, with the filters as options.

Whoever runs it holds the server and its database, so it exports as an admin (full contact data) and is audited
with source "cli". Regions are resolved the way /siaran resolves typed ones (bot/services/region_picker.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from bot import db, i18n, scratch
from bot.config import Settings, SettingsError
from bot.services import exports, region_picker
from bot.services.exports import Filters, Format, Kind, Status
from bot.services.region_picker import Picker, Refusal
from bot.services.roles import Authority
from models import AgeBracket, FigureCategory, Role

if TYPE_CHECKING:
    from bot.export_file import Progress

STDOUT = "-"
MAX_REGIONS = 50


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """`rangkul export`'s options, under the `rangkul` parser's subcommands."""
    export = commands.add_parser(
        "export",
        parents=[common],
        help="export figures, the commitment log or the replies as XLSX or CSV",
        description="Export figures (default), the commitment log or the replies. Figures who deleted their data "
        "never appear. Every export is written to the audit log.",
    )
    export.add_argument("kind", nargs="?", choices=[kind.value for kind in Kind], default=Kind.FIGURES.value)
    export.add_argument(
        "--format",
        choices=[fmt.value for fmt in Format],
        help="file format (default: from the -o file's extension, else xlsx; always csv with -o -)",
    )
    export.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="CODE_OR_NAME",
        help='a Kemendagri code (63.03) or a name ("Kabupaten Banjar") at any level; repeatable',
    )
    export.add_argument("--category", action="append", default=[], choices=[c.value for c in FigureCategory])
    export.add_argument("--age", action="append", default=[], choices=[a.value for a in AgeBracket])
    export.add_argument("--status", action="append", default=[], choices=[s.value for s in Status])
    export.add_argument("--registered-from", metavar="DATE", type=_date, help="YYYY-MM-DD (or DD-MM-YYYY)")
    export.add_argument("--registered-to", metavar="DATE", type=_date, help="YYYY-MM-DD (or DD-MM-YYYY), inclusive")
    commitments = export.add_mutually_exclusive_group()
    commitments.add_argument(
        "--with-commitments", dest="with_commitments", action="store_const", const=True, default=None
    )
    commitments.add_argument("--without-commitments", dest="with_commitments", action="store_const", const=False)
    export.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="where to write (default: rangkul-<kind>-<scope>-<date>.<format> here); - writes CSV to standard output",
    )


def _date(text: str) -> dt.date:
    for pattern in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)")


def resolve_regions(typed: list[str]) -> list[str]:
    """Each --region as /siaran reads a typed region: a code, or a name that names one region (SettingsError
    with what to type otherwise)."""
    picker = Picker()
    admin = Authority(role=Role.ADMIN)
    for text in typed:
        problem = region_picker.type_in(text, picker, admin, limit=MAX_REGIONS)
        if problem is not None:
            if problem.refusal is Refusal.UNKNOWN_CODE:
                raise SettingsError(f"--region {text}: {problem.subject} is not a Kemendagri region code")
            if problem.refusal in (Refusal.TOO_MANY, Refusal.TOO_MANY_TYPED):
                raise SettingsError(f"at most {MAX_REGIONS} regions in one export")
            raise SettingsError(f"--region {text}: no region of that name; give its Kemendagri code")
        if picker.matches:
            options = "; ".join(f"{code} {region_picker.label(code)}" for code in picker.matches[:10])
            raise SettingsError(f"--region {text} matches several regions; give the code of one: {options}")
    return picker.picked


def _format(args: argparse.Namespace) -> Format:
    output = args.output
    if output == STDOUT:
        if args.format == Format.XLSX:
            raise SettingsError("-o - writes CSV only; give a file name for XLSX")
        return Format.CSV
    if args.format:
        return Format(args.format)
    return Format.CSV if output and output.lower().endswith(".csv") else Format.XLSX


def run(settings: Settings, args: argparse.Namespace) -> int:
    kind = Kind(args.kind)
    fmt = _format(args)
    filters = Filters(
        regions=resolve_regions(args.region),
        categories=list(dict.fromkeys(args.category)),
        age_brackets=list(dict.fromkeys(args.age)),
        statuses=list(dict.fromkeys(args.status)),
        registered_from=args.registered_from,
        registered_to=args.registered_to,
        with_commitments=args.with_commitments,
    )
    if filters.registered_from and filters.registered_to and filters.registered_from > filters.registered_to:
        raise SettingsError("--registered-from is after --registered-to")
    return asyncio.run(_export(settings, kind, fmt, filters, args.output))


async def _export(settings: Settings, kind: Kind, fmt: Format, filters: Filters, output: str | None) -> int:
    scratch.clear_leftovers()
    engine = db.create_engine(settings.database.url, busy_timeout=settings.database.busy_timeout_seconds)
    try:
        pending = await db.pending_revisions(engine)
        if pending:
            raise SettingsError("the database has pending migrations: run `rangkul db upgrade` first")
        today = dt.datetime.now(settings.tz).date()
        viewer = exports.ADMIN
        target = None if output == STDOUT else Path(output or exports.file_name(kind, fmt, filters, viewer, today))
        async with db.session_factory(engine)() as session:
            total = await exports.count(session=session, kind=kind, filters=filters, viewer=viewer, tz=settings.tz)
            bar = _progress_bar(total, kind) if target is not None and sys.stderr.isatty() else None

            done = 0

            async def progress(written: int) -> None:
                nonlocal done
                done = written
                if bar is not None:
                    bar.update(written - bar.n)

            locale = settings.locale.default
            closed_early = False
            try:
                if target is None:
                    rows, closed_early = await _to_stdout(session, kind, fmt, filters, settings, locale, progress)
                    # The reader took part of a batch at most; the audit names the upper bound of what left.
                    rows = min(total, done + exports.BATCH) if closed_early else rows
                else:
                    rows = await _to_file(session, kind, fmt, filters, settings, locale, target, progress)
            finally:
                if bar is not None:
                    bar.close()
            # Recorded also when the reader stopped early (`| head`): what was written has left the database.
            await exports.record(
                session=session, kind=kind, fmt=fmt, filters=filters, viewer=viewer, rows=rows, source="cli",
                actor_person_id=None,
            )  # fmt: skip
            await session.commit()
    finally:
        await engine.dispose()
    if closed_early:
        print("rangkul: standard output was closed before the export ended", file=sys.stderr)
        return 1
    where = "standard output" if target is None else str(target)
    print(f"exported {i18n.format_number(rows, 'en')} {kind.value} to {where}", file=sys.stderr)
    return 0


async def _to_stdout(
    session: Any, kind: Kind, fmt: Format, filters: Filters, settings: Settings, locale: str, progress: Progress
) -> tuple[int, bool]:
    """CSV to standard output: the rows written, and whether the reader closed it before the end."""
    from bot import export_file

    stream = export_file.text_stream(sys.stdout.buffer)
    try:
        rows = await export_file.write(
            session=session, kind=kind, fmt=fmt, filters=filters, viewer=exports.ADMIN, settings=settings,
            locale=locale, target=stream, progress=progress,
        )  # fmt: skip
        stream.flush()
    except BrokenPipeError:
        # Nothing more can reach the reader; point standard output at /dev/null so Python's own flush at exit
        # does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0, True
    finally:
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.detach()
    return rows, False


async def _to_file(
    session: Any,
    kind: Kind,
    fmt: Format,
    filters: Filters,
    settings: Settings,
    locale: str,
    target: Path,
    progress: Progress,
) -> int:
    """Written beside TARGET and renamed at the end, so a failed export never leaves half a file under its name."""
    from bot import export_file

    partial = target.with_name(target.name + ".part")
    try:
        rows = await export_file.write(
            session=session, kind=kind, fmt=fmt, filters=filters, viewer=exports.ADMIN, settings=settings,
            locale=locale, target=partial, progress=progress,
        )  # fmt: skip
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return rows


def _progress_bar(total: int, kind: Kind) -> Any:
    from tqdm import tqdm

    stream: IO[str] = sys.stderr
    return tqdm(total=total, unit=" rows", desc=f"export {kind.value}", file=stream, unit_scale=True)
