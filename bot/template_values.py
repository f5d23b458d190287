"""The values an organizer types for a template (dates, times, numbers in Indonesian formats), parsed and checked.

Dates: "21-01-2030", "21/01/2030", "21 Januari 2030", "Senin, 21 Januari 2030" (a wrong weekday is refused);
times: "09.00", "9:00", "09.00 WITA"; numbers: "1.250" or "1250".
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, TypeAlias
from zoneinfo import ZoneInfo

from babel import dates

from bot import i18n

if TYPE_CHECKING:
    from bot.catalog import ValueSpec

# What parse_value returns: text, a number, a date, an aware time of day, or an aware datetime.
Value: TypeAlias = str | int | float | dt.date | dt.time | dt.datetime
Gettext = i18n.Gettext


_MONTHS = {
    **dict.fromkeys(("januari", "january", "jan"), 1),
    **dict.fromkeys(("februari", "pebruari", "february", "feb", "peb"), 2),
    **dict.fromkeys(("maret", "march", "mar"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    **dict.fromkeys(("mei", "may"), 5),
    **dict.fromkeys(("juni", "june", "jun"), 6),
    **dict.fromkeys(("juli", "july", "jul"), 7),
    **dict.fromkeys(("agustus", "august", "agu", "agt", "ags", "aug"), 8),
    **dict.fromkeys(("september", "sept", "sep"), 9),
    **dict.fromkeys(("oktober", "october", "okt", "oct"), 10),
    **dict.fromkeys(("november", "nopember", "nov", "nop"), 11),
    **dict.fromkeys(("desember", "december", "des", "dec"), 12),
}
_WEEKDAYS = {
    **dict.fromkeys(("senin",), 0),
    **dict.fromkeys(("selasa",), 1),
    **dict.fromkeys(("rabu",), 2),
    **dict.fromkeys(("kamis",), 3),
    **dict.fromkeys(("jumat", "jum'at"), 4),
    **dict.fromkeys(("sabtu",), 5),
    **dict.fromkeys(("minggu", "ahad"), 6),
}
_ZONES = {"wib": ZoneInfo("Asia/Jakarta"), "wita": ZoneInfo("Asia/Makassar"), "wit": ZoneInfo("Asia/Jayapura")}
_WEEKDAY_PREFIX = re.compile(r"^([a-z']+)\s*,?\s*(?=\d)")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{2,4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_WORD_DATE = re.compile(r"^(\d{1,2})[\s-]*([a-z]+)\.?[\s-]*(\d{2,4})$")
_TIME_PART = r"(?:(?:pukul|pkl|pk|jam)\.?\s*)?\d{1,2}[.:]\d{2}(?:\s*(?:wib|wita|wit))?"
_TIME = re.compile(r"^(?:(?:pukul|pkl|pk|jam)\.?\s*)?(\d{1,2})[.:](\d{2})(?:\s*(wib|wita|wit))?$")
_DATETIME = re.compile(rf"^(.+?)[\s,]+({_TIME_PART})$")
_GROUPED_NUMBER = re.compile(r"^-?\d{1,3}(?:\.\d{3})+(?:,\d+)?$")
_PLAIN_NUMBER = re.compile(r"^-?\d+(?:,\d+)?$")
MIN_YEAR, MAX_YEAR = 2000, 2099


def _normalize(text: str) -> str:
    text = " ".join(text.split()).lower().replace("’", "'").replace("`", "'")
    return re.sub(r"\s*([-/])\s*", r"\1", text)


def _parse_date(text: str, _: Gettext, locale: str = i18n.DEFAULT_LOCALE) -> dt.date | None:
    """A date from normalized TEXT; None when it does not look like a date; ValueError when it is wrong."""
    weekday: int | None = None
    prefix = _WEEKDAY_PREFIX.match(text)
    if prefix:
        if prefix.group(1) not in _WEEKDAYS:
            return None
        weekday, text = _WEEKDAYS[prefix.group(1)], text[prefix.end() :]
    if match := _ISO_DATE.match(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _NUMERIC_DATE.match(text):
        day, month, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
    elif (match := _WORD_DATE.match(text)) and match.group(2) in _MONTHS:
        day, month, year = int(match.group(1)), _MONTHS[match.group(2)], int(match.group(3))
    else:
        return None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(_("Please check the year and write it in full, like 2029."))
    try:
        date = dt.date(year, month, day)
    except ValueError:
        raise ValueError(_("That date does not exist. Please check the day and the month.")) from None
    if weekday is not None and weekday != date.weekday():
        message = _("The day does not match the date: {date} falls on a {weekday}. Please check again.")
        raise ValueError(
            message.format(
                date=dates.format_date(date, "d MMMM y", locale=locale),
                weekday=dates.format_date(date, "EEEE", locale=locale),
            )
        )
    return date


def _parse_time(text: str, tz: ZoneInfo) -> dt.time | None:
    match = _TIME.match(text)
    if match is None:
        return None
    hour, minute, zone = int(match.group(1)), int(match.group(2)), match.group(3)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute, tzinfo=_ZONES[zone] if zone else tz)


def _parse_number(text: str) -> int | float | None:
    compact = text.replace(" ", "")
    if not (_GROUPED_NUMBER.match(compact) or _PLAIN_NUMBER.match(compact)):
        return None
    number = compact.replace(".", "").replace(",", ".")
    return float(number) if "." in number else int(number)


def parse_value(
    spec: ValueSpec, text: str, tz: ZoneInfo, *, gettext: Gettext | None = None, locale: str = i18n.DEFAULT_LOCALE
) -> Value:
    """The value an organizer typed for SPEC, in TZ unless a WIB/WITA/WIT suffix says otherwise.

    Returns str (text), int or float (number), datetime.date, datetime.time with tzinfo, or an aware
    datetime.datetime; raises ValueError with a message for the organizer, translated with GETTEXT
    (default: Indonesian).
    """
    _ = gettext or i18n.gettext_for(i18n.DEFAULT_LOCALE)
    stripped = text.strip()
    if not stripped:
        raise ValueError(_("Please fill this in."))
    if len(stripped) > spec.max_length:
        raise ValueError(_("This is too long: please write at most {limit} characters.").format(limit=spec.max_length))
    if spec.type == "text":
        return stripped
    normalized = _normalize(stripped)
    if spec.type == "number":
        number = _parse_number(normalized)
        if number is None:
            raise ValueError(_("Number not recognized. Write it like 1250 or 1.250."))
        return number
    if spec.type == "date":
        date = _parse_date(normalized, _, locale)
        if date is None:
            raise ValueError(_("Date not recognized. Write it like 20-01-2029 or 20 January 2029."))
        return date
    if spec.type == "time":
        time = _parse_time(normalized, tz)
        if time is None:
            raise ValueError(_("Time not recognized. Write it like 09.00 or 09.00 WITA."))
        return time
    match = _DATETIME.match(normalized)
    date = _parse_date(match.group(1), _, locale) if match else None
    time = _parse_time(match.group(2), tz) if match else None
    if date is None or time is None:
        raise ValueError(
            _("Date and time not recognized. Write them like 20-01-2029 09.00 or 20 January 2029 09.00 WITA.")
        )
    return dt.datetime.combine(date, time.replace(tzinfo=None), tzinfo=time.tzinfo)
