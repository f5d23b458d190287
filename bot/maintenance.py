"""`rangkul audit` (print or export the audit log) and `rangkul purge` (delete every figure's personal data once
privacy.retention_until has passed): the command line's side of the audit trail and the retention promise."""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO, TypeVar

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import db
from bot.config import Settings, SettingsError
from bot.services import audit_trail, retention
from bot.services.retention import Phase
from models import AuditEvent

T = TypeVar("T")
Sessions = async_sessionmaker[AsyncSession]
FORMATS = ("text", "csv", "jsonl")
CSV_COLUMNS = ("id", "occurred_at", "action", "actor_person_id", "subject_person_id", "details")


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """The `audit` and `purge` subcommands, on the `rangkul` parser's subparsers COMMANDS."""
    audit = commands.add_parser(
        "audit", parents=[common], help="print or export the audit log (newest first)", description=AUDIT_HELP
    )
    audit.add_argument("--action", metavar="PREFIX", help="only actions starting with PREFIX (role., broadcast.pause)")
    audit.add_argument("--since", metavar="DATE", type=_date, help="from this day on (YYYY-MM-DD, office time zone)")
    audit.add_argument("--until", metavar="DATE", type=_date, help="up to and including this day (YYYY-MM-DD)")
    audit.add_argument("--limit", metavar="N", type=_limit, default=50, help="at most N entries (default 50; 0: all)")
    audit.add_argument("--format", choices=FORMATS, default="text", help="text (default), csv or jsonl")
    audit.add_argument("-o", "--output", metavar="FILE", default="-", help="write to FILE (default: standard output)")
    purge = commands.add_parser(
        "purge",
        parents=[common],
        help="delete every figure's personal data once privacy.retention_until has passed",
        description=PURGE_HELP,
    )
    purge.add_argument("--dry-run", action="store_true", help="only say how many figures' data would be deleted")


AUDIT_HELP = (
    "Print the latest entries of the append-only audit log, newest first. Times are in locale.timezone; people "
    "appear by their internal id (the log holds no personal data)."
)
PURGE_HELP = (
    "Once privacy.retention_until has passed (in locale.timezone), erase the personal data of every figure as "
    "/hapusdata does, in batches, and record it in the audit log (retention.purge). Before the date, or without "
    "one, nothing is deleted."
)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD") from exc


def _limit(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (0 for all entries)")
    return int(text)


def _with_database(settings: Settings, work: Callable[[Sessions], Awaitable[T]]) -> T:
    """Run WORK with a session factory on the settings' database, which must be migrated."""

    async def main() -> T:
        engine = db.create_engine(settings.database.url, busy_timeout=settings.database.busy_timeout_seconds)
        try:
            pending = await db.pending_revisions(engine)
            if pending:
                raise SettingsError(
                    f"the database is not up to date ({len(pending)} migration(s) pending): run `rangkul db upgrade`"
                )
            return await work(db.session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(main())


# ------------------------------------------------------------------------------------------------------ audit


def _row(event: AuditEvent, settings: Settings) -> dict[str, Any]:
    return {
        "id": event.id,
        "occurred_at": event.occurred_at.astimezone(settings.tz).isoformat(),
        "action": event.action,
        "actor_person_id": event.actor_person_id,
        "subject_person_id": event.subject_person_id,
        "details": event.details or {},
    }


def _text_line(event: AuditEvent, settings: Settings) -> str:
    from bot.i18n import zone_label

    local = event.occurred_at.astimezone(settings.tz)
    actor = "system" if event.actor_person_id is None else f"person #{event.actor_person_id}"
    parts = [f"{local:%Y-%m-%d %H:%M:%S} {zone_label(settings.tz)}", f"#{event.id}", event.action, f"by {actor}"]
    if event.subject_person_id is not None and event.subject_person_id != event.actor_person_id:
        parts.append(f"about person #{event.subject_person_id}")
    details = " ".join(
        f"{key}={json.dumps(value, ensure_ascii=False, separators=(',', ':'))}"
        for key, value in (event.details or {}).items()
        if value is not None
    )
    return "  ".join(parts) + (f"  {details}" if details else "")


def _bounds(settings: Settings, since: dt.date | None, until: dt.date | None) -> tuple[dt.datetime | None, ...]:
    """SINCE and UNTIL as moments: the start of SINCE and the end of UNTIL (its next midnight), in the office zone."""
    tz = settings.tz
    start = dt.datetime.combine(since, dt.time(), tzinfo=tz) if since else None
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=tz) if until else None
    return start, end


def audit_command(settings: Settings, args: argparse.Namespace) -> int:
    """Print (or write to -o FILE) the latest audit entries in the chosen format; when writing to a file, how many
    were written goes to standard error."""
    if args.output == "-":
        _with_database(settings, lambda sessions: _write_entries(sessions, sys.stdout, settings, args))
        return 0
    path = Path(args.output)
    # Written beside it and moved into place at the end: a failed run leaves no half-written file, and an
    # existing file of that name stays as it was.
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            written = _with_database(settings, lambda sessions: _write_entries(sessions, out, settings, args))
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    print(f"wrote {written} audit entr{'y' if written == 1 else 'ies'} to {path}", file=sys.stderr)
    return 0


async def _write_entries(sessions: Sessions, out: TextIO, settings: Settings, args: argparse.Namespace) -> int:
    since, until = _bounds(settings, args.since, args.until)
    writer = csv.writer(out) if args.format == "csv" else None
    if writer is not None:
        writer.writerow(CSV_COLUMNS)
    count = 0
    async with sessions() as session:
        async for event in audit_trail.entries(
            session=session, action_prefix=args.action, since=since, until=until, limit=args.limit or None
        ):
            row = _row(event, settings)
            if writer is not None:
                cells = ["" if row[column] is None else row[column] for column in CSV_COLUMNS[:-1]]
                writer.writerow([*cells, json.dumps(row["details"], ensure_ascii=False)])
            elif args.format == "jsonl":
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                out.write(_text_line(event, settings) + "\n")
            count += 1
    if count == 0 and args.format == "text":
        out.write("no audit entries match\n")
    return count


# ------------------------------------------------------------------------------------------------------ purge


def purge_command(settings: Settings, args: argparse.Namespace, *, today: dt.date | None = None) -> int:
    """Apply privacy.retention_until now (TODAY, in the office's zone, for tests); one line says what happened."""
    on = today or retention.today(settings)
    until = settings.privacy.retention_until

    async def work(sessions: Sessions) -> retention.PurgeOutcome:
        return await retention.purge(sessions=sessions, settings=settings, on=on, source="cli", dry_run=args.dry_run)

    outcome = _with_database(settings, work)
    figures = f"{outcome.figures} figure{'' if outcome.figures == 1 else 's'}"
    if outcome.phase is Phase.NO_DATE:
        print("privacy.retention_until is not set: personal data does not expire; nothing was deleted")
    elif outcome.phase is not Phase.PASSED:
        assert until is not None
        print(
            f"privacy.retention_until is {until.isoformat()} and has not passed (today is {on.isoformat()} in "
            f"{settings.locale.timezone}): nothing was deleted; {figures} hold personal data"
        )
    elif args.dry_run:
        assert until is not None
        print(
            f"dry run: the personal data of {figures} would be deleted (privacy.retention_until "
            f"{until.isoformat()} has passed); nothing was deleted"
        )
    else:
        assert until is not None
        print(
            f"deleted the personal data of {figures} (privacy.retention_until {until.isoformat()} has passed); "
            + ("recorded in the audit log as retention.purge" if outcome.figures else "nothing was left to delete")
        )
    return 0
