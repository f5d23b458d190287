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
DATE_FORMAT = "EEEE, d MMMM y"  # CLDR's "full" zero-pads the day ("Kamis, 01 Februari 2024").
DATETIME_FORMAT = "EEEE, d MMMM y 'pukul' HH.mm zzz"

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


def format_datetime(value: dt.datetime, tz: ZoneInfo, locale: str = DEFAULT_LOCALE) -> str:
    """'Rabu, 14 Februari 2024 pukul 15.00 WITA' in the reader's time zone."""
    return dates.format_datetime(value, DATETIME_FORMAT, tzinfo=tz, locale=babel_locale(locale))


def format_time(value: dt.datetime, tz: ZoneInfo, locale: str = DEFAULT_LOCALE) -> str:
    """'15.00 WITA'."""
    return dates.format_time(value, "HH.mm zzz", tzinfo=tz, locale=babel_locale(locale))


def format_number(value: float, locale: str = DEFAULT_LOCALE) -> str:
    """'1.234.567,5'."""
    return numbers.format_decimal(value, locale=babel_locale(locale))


def format_timedelta(value: dt.timedelta, locale: str = DEFAULT_LOCALE) -> str:
    """'3 hari'."""
    return dates.format_timedelta(value, locale=babel_locale(locale))
