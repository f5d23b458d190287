"""The template catalog: metadata, organizer-typed values, sample context, the template checker, Telegram HTML."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import catalog, telegram_html
from bot.catalog import ValueSpec, get_template_info, load_catalog, parse_value
from bot.config import Settings
from bot.render import Renderer, timezone_for_region
from bot.template_check import check_templates, main_check
from tests.conftest import ROOT
from tests.faketg.htmlparse import parse_html

TEMPLATES = ROOT / "templates"
WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
WIT = ZoneInfo("Asia/Jayapura")
SHIPPED = {
    "ayo_ke_tps.html",
    "lawan_hoaks.html",
    "sambutan.html",
    "terima_kasih.html",
    "tolak_politik_uang.html",
    "undangan_sosialisasi.html",
}
METADATA = '{#---\ntitle = "Uji"\ndescription = "Templat uji"\n---#}\n'


def english(message: str) -> str:
    return message


def write(folder: Path, name: str, text: str, locale: str = "id") -> Path:
    (folder / locale).mkdir(parents=True, exist_ok=True)
    path = folder / locale / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_for(tmp_path: Path, body: str, metadata: str = METADATA) -> list[str]:
    write(tmp_path, "uji.html", metadata + body)
    return check_templates(tmp_path)


# --- the shipped templates -----------------------------------------------------------------------------------


def test_shipped_templates_pass_the_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_templates(TEMPLATES) == []
    assert main_check(TEMPLATES) == 0
    assert capsys.readouterr().out.strip() == f"{len(SHIPPED)} templates OK"


def test_shipped_catalog_metadata() -> None:
    infos = load_catalog(TEMPLATES)
    assert {info.name for info in infos} >= SHIPPED
    assert [info.name for info in infos] == sorted(info.name for info in infos)
    invitation = next(info for info in infos if info.name == "undangan_sosialisasi.html")
    assert invitation.title == "Undangan sosialisasi"
    assert [(spec.key, spec.type) for spec in invitation.values] == [
        ("place", "text"),
        ("date", "date"),
        ("time", "time"),
    ]
    assert len(invitation.version) == 16 and int(invitation.version, 16) >= 0
    assert invitation.locale == "id" and invitation.path == TEMPLATES / "id" / "undangan_sosialisasi.html"
    assert all(info.title and info.description for info in infos)


def test_shipped_invitation_renders_values_in_the_event_zone() -> None:
    info = get_template_info(TEMPLATES, "undangan_sosialisasi")
    assert info is not None
    values = catalog.sample_values(info)
    figure = catalog.figure_context("Ujang & <Kawan>", "tokoh_pemuda", "61.71.01.1002")
    renderer = Renderer(TEMPLATES, default_tz=WITA)
    html = renderer.render(info.name, catalog.template_context(figure=figure, values=values, tz=WIB), tz=WIB)
    plain, _ = parse_html(html)
    assert not html.startswith(("\n", " ", "{#"))
    assert "Ujang & <Kawan>" in plain
    assert "Sabtu, 20 Januari 2029" in plain
    # The event is in Banjarmasin: a reader in Pontianak still sees the time of the place.
    assert "09.00 WITA" in plain
    assert "Aula KPU Kota Banjarmasin" in plain


@pytest.mark.parametrize(
    ("days", "expected"),
    [(30, "H-30"), (7, "H-7"), (1, "H-1"), (0, "Hari ini pemungutan suara"), (-1, "telah dilaksanakan")],
)
def test_ayo_ke_tps_counts_down(days: int, expected: str) -> None:
    renderer = Renderer(TEMPLATES, default_tz=WITA)
    now = dt.datetime.combine(catalog.SAMPLE_ELECTION_DATE - dt.timedelta(days=days), dt.time(10), tzinfo=WITA)
    html = renderer.render("ayo_ke_tps.html", catalog.template_context(now=now, tz=WITA), tz=WITA)
    plain, _ = parse_html(html)
    assert expected in plain
    assert "Rabu, 14 Februari 2029" in plain


# --- the checker finds what would fail -----------------------------------------------------------------------


def test_unknown_variable_is_reported(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "Halo {{ nama_tokoh }}")
    assert any("id/uji.html" in p and "nama_tokoh" in p for p in problems), problems


def test_unknown_attribute_is_reported(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "Halo {{ figure.nama }}")
    assert any("id/uji.html" in p and "figure.nama" in p for p in problems), problems
    # Also when only a render would reach it.
    problems = problems_for(tmp_path, "{% set f = figure %}Halo {{ f.nama }}")
    assert any("id/uji.html" in p and "nama" in p for p in problems), problems


def test_undeclared_value_is_reported(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "Di {{ values.tempat }}")
    assert any("values.tempat" in p for p in problems), problems


def test_unsupported_tag_is_reported(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "<div>Halo {{ figure.name }}</div>")
    assert any("id/uji.html" in p and "div" in p for p in problems), problems


def test_too_long_render_is_reported(tmp_path: Path) -> None:
    body = "{% for i in range(90) %}Halo {{ figure.name }}, ini kalimat yang cukup panjang untuk diuji.\n{% endfor %}"
    problems = problems_for(tmp_path, body)
    assert any("id/uji.html" in p and "4096" in p for p in problems), problems
    assert problems_for(tmp_path, body.replace("90", "10")) == []


def test_broken_metadata_is_reported(tmp_path: Path) -> None:
    cases = {
        "tanpa.html": "Halo {{ figure.name }}",
        "toml.html": '{#---\ntitle = "Uji\n---#}\nHalo',
        "jenis.html": METADATA.replace("---#}", '[values.x]\nlabel = "X"\ntype = "warna"\nexample = "merah"\n---#}')
        + "{{ values.x }}",
        "contoh.html": METADATA.replace("---#}", '[values.x]\nlabel = "X"\ntype = "date"\n---#}') + "{{ values.x }}",
        "salah.html": METADATA.replace("---#}", '[values.x]\nlabel = "X"\ntype = "date"\nexample = "kemarin"\n---#}')
        + "{{ values.x | date }}",
        "judul.html": '{#---\ndescription = "tanpa judul"\n---#}\nHalo',
    }
    for name, text in cases.items():
        write(tmp_path, name, text)
    problems = check_templates(tmp_path)
    expected = {
        "tanpa.html": "no metadata",
        "toml.html": "not valid TOML",
        "jenis.html": "unknown value type 'warna'",
        "contoh.html": "missing example",
        "salah.html": "example 'kemarin'",
        "judul.html": "title",
    }
    for name, fragment in expected.items():
        assert any(p.startswith(f"id/{name}:") and fragment in p for p in problems), (name, problems)
    assert load_catalog(tmp_path) == []  # an unusable template is left out (and logged)


def test_escaping_and_sandbox_problems_are_reported(tmp_path: Path) -> None:
    assert any("safe" in p for p in problems_for(tmp_path, "Halo {{ figure.name | safe }}"))
    assert any(
        "autoescap" in p for p in problems_for(tmp_path, "{% autoescape false %}{{ figure.name }}{% endautoescape %}")
    )
    assert any("sandbox" in p for p in problems_for(tmp_path, "{{ figure.name.__class__.__mro__ }}"))
    assert any("include" in p for p in problems_for(tmp_path, "{% include 'id/sambutan.html' %}"))


def test_syntax_error_is_reported_with_its_line(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "Halo\n{% if figure.name %}tanpa penutup")
    assert any(p.startswith("id/uji.html: line ") for p in problems), problems


def test_main_check_prints_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "uji.html", METADATA + "<div>x</div>")
    assert main_check(tmp_path) == 1
    assert "id/uji.html" in capsys.readouterr().out


# --- metadata ------------------------------------------------------------------------------------------------


def test_metadata_extra_keys_and_value_order(tmp_path: Path) -> None:
    write(
        tmp_path,
        "acara.html",
        "{#---\n"
        'title = "Acara"\n'
        'description = "Uji"\n'
        'buttons = ["Hadir", "Tidak hadir"]\n'
        "[values.when]\n"
        'label = "Waktu"\ntype = "datetime"\nexample = "20-01-2029 09.00"\n'
        "[values.count]\n"
        'label = "Jumlah"\ntype = "number"\nexample = "1.250"\nmax_length = 12\n'
        "---#}\n\n\n"
        "{{ values.when | datetime }}, {{ values.count | number }} orang\n",
    )
    info = get_template_info(tmp_path, "acara.html")
    assert info is not None
    assert info.extra == {"buttons": ["Hadir", "Tidak hadir"]}
    assert [spec.key for spec in info.values] == ["when", "count"]
    assert info.values[1] == ValueSpec("count", "Jumlah", "number", "1.250", 12)
    values = catalog.sample_values(info)
    text = Renderer(tmp_path, default_tz=WITA).render("acara.html", {"values": values}, tz=WIT)
    assert text == "Sabtu, 20 Januari 2029 pukul 10.00 WIT, 1.250 orang"
    assert check_templates(tmp_path) == []


def test_locale_falls_back_to_indonesian_per_template(tmp_path: Path) -> None:
    write(tmp_path, "a.html", METADATA.replace("Uji", "A id") + "Halo")
    write(tmp_path, "b.html", METADATA.replace("Uji", "B id") + "Halo")
    write(tmp_path, "a.html", METADATA.replace("Uji", "A jv") + "Sugeng", locale="jv")
    found = {info.name: (info.title, info.locale) for info in load_catalog(tmp_path, "jv")}
    assert found == {"a.html": ("A jv", "jv"), "b.html": ("B id", "id")}
    info = get_template_info(tmp_path, "b", "jv")
    assert info is not None and info.locale == "id"
    assert get_template_info(tmp_path, "c.html", "jv") is None
    assert get_template_info(tmp_path, "../id/a.html") is None
    assert Renderer(tmp_path, default_tz=WITA).render("a.html", {}, locale="jv") == "Sugeng"
    assert check_templates(tmp_path) == []


# --- organizer-typed values ----------------------------------------------------------------------------------

DATE = ValueSpec("date", "Tanggal", "date", "20-01-2029")
TIME = ValueSpec("time", "Jam", "time", "09.00")
WHEN = ValueSpec("when", "Waktu", "datetime", "20-01-2029 09.00")
COUNT = ValueSpec("count", "Jumlah", "number", "1.250")
PLACE = ValueSpec("place", "Tempat", "text", "Aula", max_length=20)


@pytest.mark.parametrize(
    "text",
    [
        "20-01-2029",
        "20/01/2029",
        "20.01.2029",
        "20 Januari 2029",
        "20 januari 2029",
        "20 Jan 2029",
        "20 Jan. 2029",
        "2029-01-20",
        "Sabtu, 20 Januari 2029",
        "sabtu 20-01-2029",
        " 20 - 01 - 2029 ",
    ],
)
def test_dates_in_indonesian_formats(text: str) -> None:
    assert parse_value(DATE, text, WITA) == dt.date(2029, 1, 20)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("besok", "Date not recognized"),
        ("20 Janu 2029", "Date not recognized"),
        ("31-02-2029", "does not exist"),
        ("20-01-29", "year"),
        ("Senin, 20 Januari 2029", "falls on a Sabtu"),
        ("", "fill this in"),
    ],
)
def test_bad_dates_are_refused_with_a_reason(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_value(DATE, text, WITA, gettext=english)


def test_messages_default_to_indonesian() -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_value(DATE, "besok", WITA)
    assert str(excinfo.value) != "" and "20-01-2029" in str(excinfo.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09.00", dt.time(9, 0, tzinfo=WITA)),
        ("9:00", dt.time(9, 0, tzinfo=WITA)),
        ("09.00 WITA", dt.time(9, 0, tzinfo=WITA)),
        ("09.00 WIB", dt.time(9, 0, tzinfo=WIB)),
        ("pukul 13.30 wit", dt.time(13, 30, tzinfo=WIT)),
    ],
)
def test_times(text: str, expected: dt.time) -> None:
    value = parse_value(TIME, text, WITA)
    assert value == expected and isinstance(value, dt.time) and value.tzinfo == expected.tzinfo


@pytest.mark.parametrize("text", ["25.00", "09.75", "9", "jam sembilan", "09.00 GMT"])
def test_bad_times(text: str) -> None:
    with pytest.raises(ValueError, match="Time not recognized"):
        parse_value(TIME, text, WITA, gettext=english)


def test_datetimes_are_aware() -> None:
    assert parse_value(WHEN, "20-01-2029 09.00", WITA) == dt.datetime(2029, 1, 20, 9, tzinfo=WITA)
    value = parse_value(WHEN, "Sabtu, 20 Januari 2029 pukul 09.00 WIB", WITA)
    assert isinstance(value, dt.datetime) and value.tzinfo == WIB and value.hour == 9
    with pytest.raises(ValueError, match="Date and time not recognized"):
        parse_value(WHEN, "20 Januari 2029", WITA, gettext=english)
    with pytest.raises(ValueError, match="does not exist"):
        parse_value(WHEN, "30-02-2029 09.00", WITA, gettext=english)


def test_numbers_and_text() -> None:
    assert parse_value(COUNT, "1.250", WITA) == 1250
    assert parse_value(COUNT, "1250", WITA) == 1250
    assert parse_value(COUNT, "2,5", WITA) == 2.5
    for bad in ("1.5", "dua", "1,2,3"):
        with pytest.raises(ValueError, match="Number not recognized"):
            parse_value(COUNT, bad, WITA, gettext=english)
    assert parse_value(PLACE, "  Aula KPU  ", WITA) == "Aula KPU"
    with pytest.raises(ValueError, match="at most 20 characters"):
        parse_value(PLACE, "x" * 21, WITA, gettext=english)


# --- context, time zones, countdown --------------------------------------------------------------------------


def test_time_zone_by_province() -> None:
    assert timezone_for_region("63") == WITA
    assert timezone_for_region("63.71.04.1001") == WITA
    assert timezone_for_region("61") == WIB
    assert timezone_for_region("62.01") == WIB
    assert timezone_for_region("81") == WIT
    assert timezone_for_region("96") == WIT
    assert timezone_for_region("31") == WIB
    assert timezone_for_region("52") == WITA
    for bad in ("99", "6", "", "631", "x"):
        with pytest.raises(ValueError):
            timezone_for_region(bad)


def test_every_province_has_a_time_zone() -> None:
    from bot import regions

    provinces = regions.children(None)
    assert len(provinces) == 38
    assert all(timezone_for_region(province.code) in (WIB, WITA, WIT) for province in provinces)


def test_sample_context_from_settings_has_the_whole_contract() -> None:
    context = catalog.template_context(Settings())
    assert set(context) == set(catalog.CONTEXT_VARIABLES)
    assert set(context["figure"]) == catalog.FIGURE_KEYS
    assert set(context["election"]) == catalog.ELECTION_KEYS
    assert set(context["office"]) == catalog.OFFICE_KEYS
    assert context["election"]["days_left"] == 30
    assert context["now"].tzinfo is not None
    assert context["figure"]["province"] == "Kalimantan Selatan"
    assert context["figure"]["timezone"] == "WITA"
    assert context["figure"]["category"] == "tokoh perempuan"


def test_sample_figures_cover_hard_names() -> None:
    names = [name for name, _, _ in catalog.SAMPLE_FIGURES]
    assert any("<" in name and "&" in name for name in names)
    assert any(len(name) == 100 for name in names)
    assert {timezone_for_region(code) for _, _, code in catalog.SAMPLE_FIGURES} == {WIB, WITA, WIT}


# --- the Telegram HTML validator -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        "<b>tebal</b> &amp; <i>miring</i> &lt;3 &#128512;",
        '<a href="https://kpu.go.id">KPU</a> <span class="tg-spoiler">x</span> <tg-spoiler>y</tg-spoiler>',
        '<pre><code class="language-python">x = 1</code></pre> <blockquote expandable>kutipan</blockquote>',
        "<b>a <i>b <u>c</u></i></b> <s>d</s> <del>e</del> <strike>f</strike> <ins>g</ins> <em>h</em>",
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
    ],
)
def test_validator_accepts_what_telegram_accepts(html: str) -> None:
    assert telegram_html.parse(html) == parse_html(html)[0]


@pytest.mark.parametrize(
    "html",
    [
        "<div>x</div>",
        "<b>x",
        "<b>x</i>",
        "x</b>",
        "a & b",
        "&nbsp;",
        "a < b",
        "<span>x</span>",
        "<a>x</a>",
        '<a href="javascript:alert(1)">x</a>',
        "<pre><b>x</b></pre>",
        "<blockquote><blockquote>x</blockquote></blockquote>",
        '<tg-emoji emoji-id="x">y</tg-emoji>',
        "<br>",
    ],
)
def test_validator_refuses_what_telegram_refuses(html: str) -> None:
    with pytest.raises(telegram_html.TelegramHtmlError):
        telegram_html.parse(html)


def test_validator_counts_length_after_entities() -> None:
    assert telegram_html.text_length("<b>&lt;ab&gt;</b>") == 4
    assert telegram_html.text_length("😀") == 2  # outside the BMP: two UTF-16 units, as Telegram counts
    assert telegram_html.problems("<b>" + "x" * 4096 + "</b>") == []
    assert "4097" in telegram_html.problems("x" * 4097)[0]
    assert telegram_html.problems("  \n ") == ["the message is empty"]


@pytest.mark.parametrize(
    "html",
    [
        "a > b",
        "a &amp;amp; b",
        "<b>x</b><i>y",
        "<B>x</B>",
        "<b >x</b >",
        "<a href='https://x.id'>x</a>",
        "<a href=https://x.id>x</a>",
        "<code>x</code>",
        "&#x1F600; &#0;",
        "<tg-spoiler>x</tg-spoiler>",
        "<b><i>x</b></i>",
        "<span class=tg-spoiler>x</span>",
    ],
)
def test_validator_agrees_with_the_fake_telegram(html: str) -> None:
    try:
        expected: str | None = parse_html(html)[0]
    except ValueError:
        expected = None
    try:
        found: str | None = telegram_html.parse(html)
    except telegram_html.TelegramHtmlError:
        found = None
    assert found == expected


def test_a_template_name_too_long_for_a_button_is_a_problem_and_never_offered(tmp_path: Path) -> None:
    (tmp_path / "id").mkdir()
    source = (TEMPLATES / "id" / "terima_kasih.html").read_text(encoding="utf-8")
    (tmp_path / "id" / "terima_kasih.html").write_text(source, encoding="utf-8")
    long_name = "t" * 41 + ".html"
    (tmp_path / "id" / long_name).write_text(source, encoding="utf-8")
    assert check_templates(tmp_path) == [f"id/{long_name}: a template name may have at most 40 characters before .html"]
    assert [info.name for info in load_catalog(tmp_path)] == ["terima_kasih.html"]
