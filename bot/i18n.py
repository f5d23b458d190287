"""Gettext catalogs (Indonesian first) and Babel formatting for dates, numbers and time zones."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

DOMAIN = "rangkul"
LOCALE_DIR = Path(__file__).parent / "locale"
AVAILABLE_LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"
# Each language by its own name (an endonym is what a reader looks for), in the order /bahasa offers them.
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}
# What people may type after /bahasa for each language, besides its code.
LANGUAGE_ALIASES = {
    "id": ("indonesia", "bahasa indonesia", "indonesian", "bahasa"),
    "en": ("english", "inggris", "bahasa inggris"),
}
DATE_FORMAT = "EEEE, d MMMM y"  # CLDR's "full" zero-pads the day ("Kamis, 01 Februari 2024").
# The time of day and how a date and a time are joined, per language; the zone follows as WIB, WITA or WIT
# (CLDR names no Indonesian zone in English, which would print a raw "+0800").
TIME_FORMATS = {"id": "HH.mm", "en": "HH:mm"}
DATETIME_JOINERS = {"id": "'pukul'", "en": "'at'"}
# Indonesia's official zone abbreviations, used in every language.
ZONE_LABELS = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}

Gettext = Callable[[str], str]


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> NullTranslations:
    """The catalog for LOCALE, compiled in memory from its .po file so no stale .mo can ship."""
    path = po_path(locale)
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def chosen_locale(chosen: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The language to speak to someone in: the one they chose with /bahasa (Person.locale), else the office's
    DEFAULT. The Telegram app's language_code is deliberately not consulted: many Indonesians run Telegram in
    English, which is not a choice of language for an official service."""
    if chosen in AVAILABLE_LOCALES:
        return chosen
    return default


def locale_named(text: str) -> str | None:
    """The locale a person means by TEXT ("en", "English", "bahasa inggris"), or None."""
    wanted = " ".join(text.casefold().split())
    for locale in AVAILABLE_LOCALES:
        if (
            wanted == locale
            or wanted in LANGUAGE_ALIASES.get(locale, ())
            or wanted == LANGUAGE_NAMES[locale].casefold()
        ):
            return locale
    return None


def gettext_for(locale: str) -> Gettext:
    return translations(locale).gettext


def ngettext_for(locale: str) -> Callable[[str, str, int], str]:
    return translations(locale).ngettext


@cache
def babel_locale(code: str) -> Locale:
    """Babel's Locale for CODE, parsed once (each format call would parse it again)."""
    return Locale.parse(code)


def format_date(value: dt.date, locale: str = DEFAULT_LOCALE) -> str:
    """'Rabu, 14 Februari 2024'."""
    return dates.format_date(value, DATE_FORMAT, locale=babel_locale(locale))


def zone_label(tz: dt.tzinfo) -> str:
    """'WIB', 'WITA' or 'WIT' for Indonesian zones; the zone's key or name otherwise."""
    key = getattr(tz, "key", None)
    if isinstance(key, str):
        return ZONE_LABELS.get(key, key)
    return tz.tzname(None) or str(tz)


def format_datetime(value: dt.datetime, tz: ZoneInfo, locale: str = DEFAULT_LOCALE) -> str:
    """'Rabu, 14 Februari 2024 pukul 15.00 WITA' in the reader's time zone ('Wednesday, 14 February 2024 at
    15:00 WITA' in English)."""
    time_format = TIME_FORMATS.get(locale, TIME_FORMATS[DEFAULT_LOCALE])
    joiner = DATETIME_JOINERS.get(locale, DATETIME_JOINERS[DEFAULT_LOCALE])
    pattern = f"{DATE_FORMAT} {joiner} {time_format}"
    text = dates.format_datetime(value, pattern, tzinfo=tz, locale=babel_locale(locale))
    return f"{text} {zone_label(tz)}"


def format_time(value: dt.datetime, tz: ZoneInfo, locale: str = DEFAULT_LOCALE) -> str:
    """'15.00 WITA' ('15:00 WITA' in English)."""
    time_format = TIME_FORMATS.get(locale, TIME_FORMATS[DEFAULT_LOCALE])
    return f"{dates.format_time(value, time_format, tzinfo=tz, locale=babel_locale(locale))} {zone_label(tz)}"


def format_number(value: float, locale: str = DEFAULT_LOCALE) -> str:
    """'1.234.567,5'."""
    return numbers.format_decimal(value, locale=babel_locale(locale))


def format_timedelta(value: dt.timedelta, locale: str = DEFAULT_LOCALE) -> str:
    """'3 hari'."""
    return dates.format_timedelta(value, locale=babel_locale(locale))
