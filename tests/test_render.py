"""Message templates: autoescaped Telegram HTML, StrictUndefined, Babel filters, language fallback."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from jinja2 import UndefinedError
from jinja2.exceptions import SecurityError

from bot import catalog
from bot.render import Renderer
from tests.conftest import ROOT
from tests.faketg.htmlparse import parse_html

WITA = ZoneInfo("Asia/Makassar")


@pytest.fixture
def renderer(tmp_path: Path) -> Renderer:
    (tmp_path / "id").mkdir()
    (tmp_path / "en").mkdir()
    (tmp_path / "id" / "acara.html").write_text(
        "Halo {{ name }}! Acara {{ when | datetime }} ({{ when | time('Asia/Jayapura') }}), "
        "{{ count | number }} peserta, {{ left | duration }} lagi, {{ day | date }}.",
        encoding="utf-8",
    )
    (tmp_path / "en" / "acara.html").write_text("Hello {{ name }}!", encoding="utf-8")
    (tmp_path / "id" / "jahat.html").write_text("{{ name.__class__.__mro__ }}", encoding="utf-8")
    return Renderer(tmp_path, default_tz=WITA)


def test_filters_autoescape_and_time_zone(renderer: Renderer) -> None:
    text = renderer.render(
        "acara.html",
        {
            "name": "<b>Budi</b> & co",
            "when": dt.datetime(2029, 2, 10, 1, 30, tzinfo=dt.UTC),
            "count": 1250,
            "left": dt.timedelta(days=4),
            "day": dt.date(2029, 2, 14),
        },
    )
    assert text == (
        "Halo &lt;b&gt;Budi&lt;/b&gt; &amp; co! Acara Sabtu, 10 Februari 2029 pukul 09.30 WITA (10.30 WIT), "
        "1.250 peserta, 4 hari lagi, Rabu, 14 Februari 2029."
    )
    parse_html(text)


def test_missing_variable_is_an_error_not_a_blank(renderer: Renderer) -> None:
    with pytest.raises(UndefinedError):
        renderer.render("acara.html", {"name": "Budi"})


def test_language_fallback_to_indonesian(renderer: Renderer) -> None:
    assert renderer.render("acara.html", {"name": "Ann"}, locale="en") == "Hello Ann!"
    values = {
        "name": "Ann",
        "when": dt.datetime.now(dt.UTC),
        "count": 1,
        "left": dt.timedelta(hours=1),
        "day": dt.date.today(),
    }
    assert renderer.render("acara.html", values, locale="jv").startswith("Halo Ann!")


def test_sandbox_refuses_unsafe_attributes(renderer: Renderer) -> None:
    with pytest.raises(SecurityError):
        renderer.render("jahat.html", {"name": "x"})


def test_shipped_welcome_template_renders_valid_telegram_html() -> None:
    renderer = Renderer(ROOT / "templates", default_tz=WITA)
    text = renderer.render(
        "sambutan.html",
        {
            "figure": {"name": "Siti & <Rahmah>"},
            "election": {"name": "Pemilihan Umum 2029", "date": dt.date(2029, 2, 14), "days_left": 30},
        },
    )
    plain, _ = parse_html(text)
    assert "Terima kasih, Siti & <Rahmah>, Anda sudah terdaftar" in plain
    assert "Hari pemungutan suara Pemilihan Umum 2029: Rabu, 14 Februari 2029" in plain
    assert len(plain) <= 4096


@pytest.fixture
def countdown(tmp_path: Path) -> Renderer:
    (tmp_path / "id").mkdir()
    (tmp_path / "id" / "hitung.html").write_text(
        '{#---\ntitle = "Hitung"\n---#}\n\n{{ day | countdown }} ({{ figure.timezone }})', encoding="utf-8"
    )
    return Renderer(tmp_path, default_tz=WITA)


@pytest.mark.parametrize(
    ("days", "label"),
    [(30, "H-30"), (7, "H-7"), (1, "H-1"), (0, "hari ini"), (-1, "sudah lewat"), (-30, "sudah lewat")],
)
def test_countdown_labels(countdown: Renderer, days: int, label: str) -> None:
    day = dt.date(2029, 2, 14)
    now = dt.datetime.combine(day - dt.timedelta(days=days), dt.time(12), tzinfo=WITA)
    values = {"day": day, "now": now, "figure": {"name": "Siti"}}
    assert countdown.render("hitung.html", values) == f"{label} (WITA)"


def test_countdown_counts_in_the_readers_zone(countdown: Renderer) -> None:
    # 16.30 UTC on the 13th is already the 14th in Papua (WIT) but still the 13th in Jakarta (WIB).
    now = dt.datetime(2029, 2, 13, 16, 30, tzinfo=dt.UTC)
    values = {"day": dt.date(2029, 2, 14), "now": now, "figure": {"name": "Siti"}}
    assert countdown.render("hitung.html", values, tz=ZoneInfo("Asia/Jayapura")) == "hari ini (WIT)"
    assert countdown.render("hitung.html", values, tz=ZoneInfo("Asia/Jakarta")) == "H-1 (WIB)"
    # Without `now` in the context it counts from the clock.
    today = dt.datetime.now(WITA).date()
    assert countdown.render("hitung.html", {"day": today, "figure": {"name": "x"}}) == "hari ini (WITA)"


def test_time_of_day_keeps_its_zone_and_datetime_follows_the_reader(tmp_path: Path) -> None:
    (tmp_path / "id").mkdir()
    (tmp_path / "id" / "jam.html").write_text("{{ t | time }} / {{ when | time }} / {{ when | date }}")
    renderer = Renderer(tmp_path, default_tz=WITA)
    values = {"t": dt.time(9, 0, tzinfo=WITA), "when": dt.datetime(2029, 2, 13, 16, 30, tzinfo=dt.UTC)}
    assert renderer.render("jam.html", values, tz=ZoneInfo("Asia/Jayapura")) == (
        "09.00 WITA / 01.30 WIT / Rabu, 14 Februari 2029"
    )


def test_compiled_templates_are_cached_until_the_file_changes(tmp_path: Path) -> None:
    (tmp_path / "id").mkdir()
    path = tmp_path / "id" / "a.html"
    path.write_text("satu")
    renderer = Renderer(tmp_path, default_tz=WITA)
    assert renderer.render("a.html", {}) == "satu"
    compiled = renderer.env.get_template("id/a.html")
    assert renderer.env.get_template("id/a.html") is compiled  # compiled once, not per message
    path.write_text("dua")
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))
    # An edited template is what the preview and the delivery engine (after its version check) use.
    assert renderer.render("a.html", {}) == "dua"


def test_metadata_leaves_no_blank_lines() -> None:
    renderer = Renderer(ROOT / "templates", default_tz=WITA)
    for name in ("sambutan.html", "tolak_politik_uang.html"):
        source = (ROOT / "templates" / "id" / name).read_text(encoding="utf-8")
        assert source.startswith("{#---")
        text = renderer.render(name, catalog.template_context())
        assert text == text.strip() and "---" not in text and "title =" not in text
