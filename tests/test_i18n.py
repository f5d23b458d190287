"""Catalogs and formats: every text in the code has an Indonesian translation with the same placeholders."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot import i18n
from tests.conftest import ROOT
from tests.faketg.htmlparse import parse_html

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _extracted_messages() -> set[str]:
    return {message for _, _, message, _, _ in extract_from_dir(str(ROOT / "bot")) if isinstance(message, str)}


def _catalog(locale: str) -> dict[str, str]:
    with i18n.po_path(locale).open("rb") as po_file:
        return {str(m.id): str(m.string) for m in read_po(po_file, locale=locale) if m.id and not m.fuzzy}


def test_indonesian_catalog_is_complete_and_keeps_placeholders() -> None:
    catalog = _catalog("id")
    extracted = _extracted_messages()
    missing = sorted(m for m in extracted if not catalog.get(m))
    assert missing == [], "run the catalog update from the README and translate these"
    for msgid, msgstr in catalog.items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid


def test_every_translation_is_valid_telegram_html() -> None:
    for locale in i18n.AVAILABLE_LOCALES:
        for msgid, msgstr in _catalog(locale).items():
            for text in (msgid, msgstr):
                if text:
                    parse_html(text.replace("{", "").replace("}", ""))  # raises on what Telegram refuses


def test_english_catalog_exists_and_falls_back_to_source_text() -> None:
    assert Path(i18n.po_path("en")).exists()
    assert i18n.gettext_for("en")("Cancel") == "Cancel"
    assert i18n.gettext_for("id")("Cancel") == "Batal"


def test_the_chosen_language_wins_and_nothing_else() -> None:
    assert i18n.chosen_locale("en") == "en"
    assert i18n.chosen_locale("id", default="en") == "id"
    assert i18n.chosen_locale(None) == "id"
    assert i18n.chosen_locale(None, default="en") == "en"
    assert i18n.chosen_locale("xx") == "id"  # a language no longer offered


def test_babel_formats_in_indonesian() -> None:
    assert i18n.format_date(dt.date(2024, 2, 1)) == "Kamis, 1 Februari 2024"
    moment = dt.datetime(2024, 2, 14, 7, 0, tzinfo=dt.UTC)
    assert i18n.format_datetime(moment, ZoneInfo("Asia/Makassar")) == "Rabu, 14 Februari 2024 pukul 15.00 WITA"
    assert i18n.format_datetime(moment, ZoneInfo("Asia/Jakarta")).endswith("14.00 WIB")
    assert i18n.format_time(moment, ZoneInfo("Asia/Jayapura")) == "16.00 WIT"
    assert i18n.format_number(1234567.5) == "1.234.567,5"
    assert i18n.format_timedelta(dt.timedelta(days=3)) == "3 hari"


def test_times_name_the_indonesian_zone_in_every_language() -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    moment = dt.datetime(2029, 1, 20, 1, 0, tzinfo=dt.UTC)
    wita = ZoneInfo("Asia/Makassar")
    assert i18n.format_datetime(moment, wita, "id") == "Sabtu, 20 Januari 2029 pukul 09.00 WITA"
    assert i18n.format_datetime(moment, wita, "en") == "Saturday, 20 January 2029 at 09:00 WITA"
    assert i18n.format_time(moment, ZoneInfo("Asia/Jayapura"), "en") == "10:00 WIT"
    assert i18n.format_time(moment, ZoneInfo("Asia/Jakarta"), "id") == "08.00 WIB"
