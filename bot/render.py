"""Message templates: Jinja2, sandboxed, autoescaped for Telegram HTML, StrictUndefined, with Babel filters.

Every template sees the same variables (see bot.catalog.template_context for the full set); the renderer adds
`figure.timezone` (WIB, WITA or WIT) from the time zone it renders in. Filters:

- `date`      a date (or datetime, in the reader's zone) as "Rabu, 14 Februari 2029"
- `datetime`  an aware datetime in the reader's zone (or the zone named as argument), "... pukul 09.00 WITA"
- `time`      an aware datetime in the reader's zone as "09.00 WITA"; a time of day keeps its own zone
- `number`    "1.234.567,5"
- `duration`  a timedelta as "3 hari"
- `countdown` a date as "H-7", "H-1", "hari ini" or "sudah lewat", counted from today in the reader's zone
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context as JinjaContext
from jinja2.sandbox import SandboxedEnvironment

from bot import i18n

# Names the renderer itself puts into every template's context.
LOCALE_VAR = "_locale"
TZ_VAR = "_tz"
# The context variable holding the current time; the countdown filter counts from it when it is present.
NOW_VAR = "now"

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
WIT = ZoneInfo("Asia/Jayapura")
# Province codes (Kemendagri) by time zone: Sumatra, Java, Banten, Kalimantan Barat and Kalimantan Tengah are WIB;
# Bali, Nusa Tenggara, the other Kalimantan provinces and Sulawesi WITA; Maluku and Papua WIT. 97 is kept free for
# a future Papua province.
_ZONE_BY_PROVINCE: dict[str, ZoneInfo] = {
    **{str(code): WIB for code in (*range(11, 20), 21, *range(31, 37), 61, 62)},
    **{str(code): WITA for code in (51, 52, 53, 63, 64, 65, *range(71, 77))},
    **{str(code): WIT for code in (81, 82, *range(91, 98))},
}

# The countdown to an event ("H-7" is how Indonesian notices count days), per language.
COUNTDOWN_LABELS = {
    "id": {"days": "H-{days}", "today": "hari ini", "past": "sudah lewat"},
    "en": {"days": "D-{days}", "today": "today", "past": "already past"},
}


def timezone_for_region(code: str) -> ZoneInfo:
    """The time zone of a region by its Kemendagri code ("63", "63.71.04.1001"): WIB, WITA or WIT.

    Raises ValueError for a code that does not start with a known province number.
    """
    code = code.strip()
    zone = _ZONE_BY_PROVINCE.get(code[:2])
    if zone is None or code[2:3] not in ("", "."):
        raise ValueError(f"no time zone for region code {code!r}")
    return zone


def countdown_label(days: int, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """Countdown for an event DAYS away: 'H-7', 'H-1', 'hari ini' (0) or 'sudah lewat' (past) in Indonesian."""
    labels = COUNTDOWN_LABELS.get(locale, COUNTDOWN_LABELS[i18n.DEFAULT_LOCALE])
    if days < 0:
        return labels["past"]
    if days == 0:
        return labels["today"]
    return labels["days"].format(days=days)


def _locale(ctx: JinjaContext) -> str:
    return str(ctx.get(LOCALE_VAR, i18n.DEFAULT_LOCALE))


def _reader_tz(ctx: JinjaContext) -> ZoneInfo:
    tz = ctx.get(TZ_VAR)
    return tz if isinstance(tz, ZoneInfo) else WIB


def _tz(ctx: JinjaContext, tz: str | None) -> ZoneInfo:
    return ZoneInfo(tz) if tz else _reader_tz(ctx)


def _today(ctx: JinjaContext) -> dt.date:
    tz = _reader_tz(ctx)
    now = ctx.get(NOW_VAR)
    if not isinstance(now, dt.datetime):
        return dt.datetime.now(tz).date()
    if now.tzinfo is None:
        now = now.replace(tzinfo=tz)
    return now.astimezone(tz).date()


@pass_context
def _date(ctx: JinjaContext, value: dt.date) -> str:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(_reader_tz(ctx))
    return i18n.format_date(value, _locale(ctx))


@pass_context
def _datetime(ctx: JinjaContext, value: dt.datetime, tz: str | None = None) -> str:
    return i18n.format_datetime(value, _tz(ctx, tz), _locale(ctx))


@pass_context
def _time(ctx: JinjaContext, value: dt.datetime | dt.time, tz: str | None = None) -> str:
    if isinstance(value, dt.time):
        # A time of day (an organizer's "09.00 WITA") has no date to convert with: show it in its own zone.
        zone = value.tzinfo if isinstance(value.tzinfo, ZoneInfo) else _tz(ctx, tz)
        value = dt.datetime.combine(dt.date(2000, 1, 1), value.replace(tzinfo=zone))
        return i18n.format_time(value, zone, _locale(ctx))
    return i18n.format_time(value, _tz(ctx, tz), _locale(ctx))


@pass_context
def _number(ctx: JinjaContext, value: float) -> str:
    return i18n.format_number(value, _locale(ctx))


@pass_context
def _duration(ctx: JinjaContext, value: dt.timedelta) -> str:
    return i18n.format_timedelta(value, _locale(ctx))


@pass_context
def _countdown(ctx: JinjaContext, value: dt.date) -> str:
    if isinstance(value, dt.datetime):
        tz = _reader_tz(ctx)
        value = (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(tz).date()
    return countdown_label((value - _today(ctx)).days, _locale(ctx))


class Renderer:
    """Renders templates/<lang>/<name>, falling back to templates/id/<name>; compiled templates are cached and
    compiled again when their file changes."""

    def __init__(self, templates_dir: Path, *, default_tz: ZoneInfo) -> None:
        self.templates_dir = templates_dir
        self.default_tz = default_tz
        self.env = SandboxedEnvironment(
            loader=FileSystemLoader(templates_dir),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=True,
        )
        self.env.filters.update(
            date=_date, datetime=_datetime, time=_time, number=_number, duration=_duration, countdown=_countdown
        )
        self._names: dict[tuple[str, str], str] = {}

    def template_name(self, name: str, locale: str) -> str:
        """The file that serves NAME in LOCALE: the locale's own when it exists, else Indonesian."""
        key = (name, locale)
        found = self._names.get(key)
        if found is None:
            if (self.templates_dir / locale / name).is_file():
                found = f"{locale}/{name}"
            else:
                found = f"{i18n.DEFAULT_LOCALE}/{name}"
            self._names[key] = found
        return found

    def message_locale(self, name: str, locale: str) -> str:
        """The language a message from template NAME is written in for a reader of LOCALE: its buttons are in
        that language too (an English reader of an Indonesian-only template gets Indonesian buttons)."""
        return self.template_name(name, locale).split("/", 1)[0]

    def clear_cache(self) -> None:
        """Forget compiled templates and file lookups, e.g. after templates were edited on disk."""
        self._names.clear()
        if self.env.cache is not None:
            self.env.cache.clear()

    def render(
        self, name: str, values: Mapping[str, Any], *, locale: str = i18n.DEFAULT_LOCALE, tz: ZoneInfo | None = None
    ) -> str:
        """Telegram-HTML text of template NAME with VALUES; a missing variable raises jinja2.UndefinedError.

        LOCALE picks templates/<locale>/NAME when it exists, else templates/id/NAME; dates and numbers follow
        the language of the file used, so one message never mixes two languages.

        TZ is the reader's time zone (by province, see timezone_for_region); it also fills `figure.timezone`.
        """
        tz = tz or self.default_tz
        file_name = self.template_name(name, locale)
        # A language without its own template gets the Indonesian one, formatted the Indonesian way too: never
        # "Saturday, 20 January 2029" inside an Indonesian text.
        file_locale = self.message_locale(name, locale)
        template = self.env.get_template(file_name)
        context = {**values, LOCALE_VAR: file_locale, TZ_VAR: tz}
        figure = values.get("figure")
        if isinstance(figure, Mapping) and "timezone" not in figure:
            context["figure"] = {**figure, "timezone": i18n.zone_label(tz)}
        return template.render(context).strip()
