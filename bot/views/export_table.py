"""The layout of an exported file: one header row (in the reader's language, Indonesian by default), then one row
per figure, commitment or reply, with regions by name and code, labels instead of internal values, and moments
in the office's time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import phonenumbers

from bot import i18n, regions
from bot.commitments import KINDS
from bot.labels import age_label, category_label
from bot.services.exports import (
    COMMITMENT_KINDS,
    NO_COMMITMENTS,
    Batch,
    Committed,
    Kind,
    Line,
    Status,
    moment,
    status_of,
)
from bot.spreadsheet import CSV_LINE_END, Cell, Column, csv_cell, csv_line, csv_text, neutralized_csv
from models import AgeBracket, FigureCategory, ReplyKind

LEVELS = (1, 2, 3, 4)
# Kept apart from regions' own cache: an export may touch every desa of a province, and each row asks for four.
_PATHS: dict[str, tuple[str, ...]] = {}
_PATHS_LIMIT = 100_000
# The names of the levels above, which thousands of desa share (a few hundred kecamatan, a few dozen kabupaten).
_NAMES: dict[str, str] = {}
# A region's five cells as one run of CSV fields, by code.
_CSV_PATHS: dict[str, str] = {}
# A figure without commitments: an empty field for each commitment column.
_NONE_COMMITTED = ",".join(map(csv_cell, NO_COMMITMENTS))


def _region_cells(code: str) -> tuple[str, ...]:
    """The names of CODE's province, kabupaten/kota, kecamatan and desa/kelurahan, then CODE itself: the full
    Kemendagri code holds every level's (63.71.05.1003 is in 63.71.05, in 63.71, in 63), and sorting by it sorts
    by province, kabupaten/kota, kecamatan and desa at once."""
    cells = _PATHS.get(code)
    if cells is None:
        parts = code.split(".")
        found: list[str] = []
        for level in LEVELS:
            sub = ".".join(parts[:level]) if len(parts) >= level else ""
            name = _NAMES.get(sub)
            if name is None:
                known = regions.name_of(sub) if sub else None
                name = listed(known) if known else ""
                if level < len(LEVELS):  # the desa's own name is kept with its row in _PATHS
                    _NAMES[sub] = name
            found.append(name)
        cells = (*found, code)
        if len(_PATHS) < _PATHS_LIMIT:
            _PATHS[code] = cells
    return cells


def listed(value: str) -> str:
    """A value from one of Rangkul's own lists (a Kemendagri name, a label), made safe once when it is first used
    rather than in every row: none starts like a formula (tests/test_exports.py checks every region and label),
    and one that ever did would carry the CSV's apostrophe in both formats."""
    return neutralized_csv(value)


def phone_text(e164: str | None, *, masked: bool) -> str | None:
    """ "+62 812-3456-7890" (phonenumbers' international format, done by hand for Indonesian mobiles, which is a
    twentieth of the time); masked: "+62 812-****-7890"."""
    if not e164:
        return None
    national = e164[3:]
    if e164.startswith("+628") and 9 <= len(national) <= 12 and national.isdigit():
        if masked:
            return f"+62 {national[:3]}-****-{national[-4:]}"
        split = 6 if len(national) == 9 else 7
        return f"+62 {national[:3]}-{national[3:split]}-{national[split:]}"
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "****" if masked else e164
    if masked:
        return f"+{parsed.country_code} ****-{str(parsed.national_number)[-4:]}"
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _naive_text(value: str) -> bool:
    """Whether VALUE is SQLite's text of a naive UTC time, "2026-12-01 03:04:05" or with six digits of
    microseconds, and nothing after it (no offset)."""
    if len(value) not in (19, 26) or value[10] != " " or value[13] != ":" or value[16] != ":":
        return False
    return len(value) == 19 or (value[19] == "." and value[20:].isdigit())


class LocalTime:
    """Stored UTC timestamps as naive wall-clock times in one zone (spreadsheets know no zones; the header names
    it). The zone's offset is worked out once per hour of UTC time, not for every value: zones change their
    offset on the hour, and an export holds a hundred thousand of these."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._offsets: dict[object, dt.timedelta] = {}
        # For text(): the local "YYYY-MM-DD HH" of each UTC hour seen ("" where the offset is not whole hours).
        self._hours: dict[str, str] = {}

    def __call__(self, value: object) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            # SQLite's text, "2026-12-01 03:04:05.000000", is UTC (models.UTCDateTime): its first 13 characters
            # name the hour.
            naive = dt.datetime.fromisoformat(value)
            hour: str | None = value[:13]
            if naive.tzinfo is not None:
                naive, hour = naive.astimezone(dt.UTC).replace(tzinfo=None), None
        else:
            stamp = moment(value)
            assert stamp is not None
            naive = stamp.astimezone(dt.UTC).replace(tzinfo=None)
            hour = None
        return naive + self._offset(naive, hour or (naive.date(), naive.hour))

    def _offset(self, naive: dt.datetime, key: object) -> dt.timedelta:
        offset = self._offsets.get(key)
        if offset is None:
            offset = naive.replace(tzinfo=dt.UTC).astimezone(self.tz).utcoffset() or dt.timedelta()
            self._offsets[key] = offset
        return offset

    def text(self, value: object) -> str:
        """VALUE as a CSV shows it, "2026-12-01 14:05" (empty for None). SQLite's text by the hour: the local hour
        of each UTC hour is worked out once and the minutes are copied, every offset in Indonesia being a whole
        number of hours; anything else through the datetime."""
        if isinstance(value, str) and _naive_text(value):
            local_hour = self._hours.get(value[:13])
            if local_hour is None:
                naive = dt.datetime.fromisoformat(value[:13] + ":00:00")
                offset = self._offset(naive, value[:13])
                whole = offset % dt.timedelta(hours=1) == dt.timedelta()
                local_hour = self._hours[value[:13]] = (naive + offset).isoformat(" ")[:13] if whole else ""
            if local_hour:
                return local_hour + value[13:16]
        stamp = self(value)
        return stamp.isoformat(" ", "minutes") if stamp is not None else ""


class Table:
    """Headers and rows of one kind of export, in one language and time zone; MASKED for organizers."""

    def __init__(self, kind: Kind, *, locale: str, tz: ZoneInfo, masked: bool) -> None:
        _ = i18n.gettext_for(locale)
        self.kind, self.tz, self.masked = kind, tz, masked
        self._local = LocalTime(tz)
        self._categories = {value.value: listed(category_label(value, _)) for value in FigureCategory}
        self._ages = {value.value: listed(age_label(value, _)) for value in AgeBracket}
        self._statuses = {
            Status.ACTIVE: listed(_("active")),
            Status.STOPPED: listed(_("stopped messages")),
            Status.UNREACHABLE: listed(_("unreachable")),
        }
        self._kinds = {key: listed(_(spec.short)) for key, spec in KINDS.items()}
        self._reply_kinds = {
            ReplyKind.TEXT: listed(_("text")),
            ReplyKind.PHOTO: listed(_("photo")),
            ReplyKind.VOICE: listed(_("voice note")),
            ReplyKind.VIDEO: listed(_("video")),
            ReplyKind.DOCUMENT: listed(_("document")),
            ReplyKind.OTHER: listed(_("other")),
        }
        # The same labels as CSV fields, for csv_lines().
        self._csv_categories = {key: csv_text(value) for key, value in self._categories.items()}
        self._csv_ages = {key: csv_text(value) for key, value in self._ages.items()}
        self._csv_statuses = {key: csv_text(value) for key, value in self._statuses.items()}
        self._csv_committed: dict[Committed, str] = {}
        zone = i18n.ZONE_LABELS.get(tz.key, tz.key)
        figure = [
            Column(_("Name")),
            Column(_("Category"), "listed"),
            Column(_("Age bracket"), "listed"),
            Column(_("Province"), "listed"),
            Column(_("Kabupaten/kota"), "listed"),
            Column(_("Kecamatan"), "listed"),
            Column(_("Desa/kelurahan"), "listed"),
            Column(_("Region code"), "listed"),
        ]

        def when(header: str) -> Column:
            return Column(f"{header} ({zone})", "moment")

        if kind is Kind.FIGURES:
            self.columns = [
                *figure,
                Column(_("Mobile number")),
                Column(_("Telegram username")),
                Column(_("Organization")),
                when(_("Registered at")),
                Column(_("Status"), "listed"),
                Column(_("Invitation code")),
                Column(_("Invitation event")),
                *(
                    Column(_("Commitment: {kind}").format(kind=self._kinds[kind]), "number")
                    for kind in COMMITMENT_KINDS
                ),
                Column(_("People they will invite"), "number"),
            ]
            self._convert: Callable[[Line, Batch], list[Cell]] = self._commitment  # unused: see rows()
        elif kind is Kind.COMMITMENTS:
            self.columns = [
                *figure,
                Column(_("Commitment"), "listed"),
                Column(_("People they will invite"), "number"),
                Column(_("Broadcast"), "number"),
                Column(_("Template")),
                when(_("Committed at")),
                when(_("Withdrawn at")),
            ]
            self._convert = self._commitment
        else:
            self.columns = [
                *figure,
                when(_("Received at")),
                Column(_("Kind"), "listed"),
                Column(_("Message")),
                Column(_("Broadcast"), "number"),
                Column(_("Template")),
                when(_("Read at")),
                when(_("Answered at")),
                Column(_("Answer")),
            ]
            self._convert = self._reply

    def rows(self, batch: Batch) -> list[list[Cell]]:
        if self.kind is Kind.FIGURES:
            return self._figures(batch)
        convert = self._convert
        return [convert(row, batch) for row in batch.rows]

    def _figure_cells(self, row: Line) -> list[Cell]:
        # Every select starts with the row's id, then the figure's name, category, age bracket and region.
        _id, name, category, age, region = row[:5]
        return [
            name,
            self._categories.get(category) or listed(category),
            self._ages.get(age) or listed(age),
            *_region_cells(region),
        ]

    def csv_lines(self, batch: Batch) -> list[str]:
        """The batch as CSV lines: exactly `csv_line` of each of `rows()`'s rows (tests/test_exports.py checks),
        but figures, a hundred thousand at a time, by a loop of their own that makes each field which repeats
        from row to row (a desa's five region cells, a label, a set of commitment counts) once."""
        if self.kind is not Kind.FIGURES:
            return [csv_line(cells) for cells in self.rows(batch)]
        categories, ages, statuses = self._csv_categories, self._csv_ages, self._csv_statuses
        paths, committed_fields, local, masked = _CSV_PATHS, self._csv_committed, self._local, self.masked
        commitments, none_committed = batch.commitments, _NONE_COMMITTED
        lines: list[str] = []
        for row in batch.rows:
            (figure_id, name, category, age, region, phone, username, organization, registered_at, opt_in,
             unreachable_since, invitation_code, invitation_label) = row  # fmt: skip
            where = paths.get(region)
            if where is None:
                where = ",".join(map(csv_text, _region_cells(region)))
                if len(paths) < _PATHS_LIMIT:
                    paths[region] = where
            committed = commitments.get(figure_id)
            promised = none_committed if committed is None else committed_fields.get(committed)
            if promised is None and committed is not None:
                promised = committed_fields[committed] = ",".join(map(csv_cell, committed))
            lines.append(
                f"{csv_text(name) if name else ''},"
                f"{categories.get(category) or csv_text(category)},{ages.get(age) or csv_text(age)},{where},"
                f"{csv_text(phone_text(phone, masked=masked) or '') if phone else ''},"
                f"{csv_text(username) if username else ''},{csv_text(organization) if organization else ''},"
                f"{local.text(registered_at)},"
                f"{statuses[status_of(opt_in, unreachable_since)]},"
                f"{csv_text(invitation_code) if invitation_code else ''},"
                f"{csv_text(invitation_label) if invitation_label else ''},{promised}{CSV_LINE_END}"
            )
        return lines

    def _figures(self, batch: Batch) -> list[list[Cell]]:
        # One loop with everything it needs in local names, and each row unpacked by position (the order of
        # exports._figures_select): this runs for every figure an XLSX export holds.
        categories, ages, paths, local, masked = self._categories, self._ages, _PATHS, self._local, self.masked
        statuses = self._statuses
        commitments = batch.commitments
        lines: list[list[Cell]] = []
        for row in batch.rows:
            (figure_id, name, category, age, region, phone, username, organization, registered_at, opt_in,
             unreachable_since, invitation_code, invitation_label) = row  # fmt: skip
            lines.append(
                [
                    name,
                    categories.get(category) or listed(category),
                    ages.get(age) or listed(age),
                    *(paths.get(region) or _region_cells(region)),
                    phone_text(phone, masked=masked) if phone else None,
                    username,
                    organization,
                    local(registered_at),
                    statuses[status_of(opt_in, unreachable_since)],
                    invitation_code,
                    invitation_label or None,
                    *commitments.get(figure_id, NO_COMMITMENTS),
                ]
            )
        return lines

    def _commitment(self, row: Line, batch: Batch) -> list[Cell]:
        # exports._commitments_select's columns after the figure's.
        kind, invite_count, broadcast_id, template, committed_at, withdrawn_at = row[5:]
        return [
            *self._figure_cells(row),
            self._kinds.get(kind) or listed(kind),
            invite_count,
            broadcast_id,
            template,
            self._local(committed_at),
            self._local(withdrawn_at),
        ]

    def _reply(self, row: Line, batch: Batch) -> list[Cell]:
        # exports._replies_select's columns after the figure's.
        received_at, kind, text, broadcast_id, template, read_at, answered_at, answer_text = row[5:]
        return [
            *self._figure_cells(row),
            self._local(received_at),
            self._reply_kinds.get(kind) or listed(kind),
            text,
            broadcast_id,
            template,
            self._local(read_at),
            self._local(answered_at),
            answer_text,
        ]
