"""The facts of election law the shipped templates state, rendered as a figure receives them (issue 8).

Each message is rendered the way `rangkul templates check` renders it: the catalog's sample values and figures,
every countdown case, for a Pemilu (UU 7/2017) and a Pilkada (UU 10/2016). The sources are cited in Jinja
comments inside the templates, which must never reach the message.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from bot import catalog, i18n, template_check
from bot.config import ElectionKind, Settings, SettingsError, load_settings
from bot.render import WITA, Renderer, timezone_for_region
from tests.conftest import ROOT, Harness, make_settings
from tests.faketg.htmlparse import parse_html

TEMPLATES = ROOT / "templates"
SHIPPED = sorted(path.name for path in (TEMPLATES / "id").glob("*.html"))
KINDS: tuple[ElectionKind, ...] = ("pemilu", "pilkada")
REPORTING_TO = "Bawaslu Kabupaten/Kota, Panwaslu Kecamatan, atau Panwaslu Kelurahan/Desa"
OFFICE = "Komisi Pemilihan Umum Kabupaten Banjar"
RENDERER = Renderer(TEMPLATES, default_tz=WITA)


def office_settings(kind: ElectionKind = "pemilu", **election: Any) -> Settings:
    """Settings of an office with its own name, election and voting day (nothing like the samples)."""
    return Settings.model_validate(
        {
            "election": {"name": "Pemilihan Umum 2029", "date": dt.date(2029, 2, 14), "kind": kind, **election},
            "privacy": {"controller_name": OFFICE},
        }
    )


def render(
    name: str,
    kind: ElectionKind = "pemilu",
    *,
    days: int = 30,
    settings: Settings | None = None,
    figure: tuple[str, str, str] = catalog.SAMPLE_FIGURES[0],
) -> str:
    """The plain text a figure sees of template NAME, DAYS before voting day (negative: after)."""
    info = catalog.get_template_info(TEMPLATES, name)
    assert info is not None, name
    figure_name, category, code = figure
    tz = timezone_for_region(code)
    election_date = settings.election.date if settings else catalog.SAMPLE_ELECTION_DATE
    now = dt.datetime.combine(election_date - dt.timedelta(days=days), dt.time(8), tzinfo=tz)
    context = catalog.template_context(
        settings,
        figure=catalog.figure_context(figure_name, category, code),
        values=catalog.sample_values(info),
        now=now,
        tz=tz,
        kind=kind,
    )
    html = RENDERER.render(info.name, context, locale=info.locale, tz=tz)
    plain, _ = parse_html(html)
    return plain


# --- voting day ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("days", [30, 7, 1, 0])
def test_ayo_ke_tps_states_hours_list_and_identity_card(kind: ElectionKind, days: int) -> None:
    text = render("ayo_ke_tps.html", kind, days=days)
    assert "TPS buka pukul 07.00–13.00 waktu setempat (WITA)" in text
    assert "Daftar Pemilih Tetap (DPT)" in text
    assert "cekdptonline.kpu.go.id" in text
    # A voter on the DPT needs the KTP-el only; the notification letter is not a requirement.
    assert "Jika nama Anda ada di DPT, KTP-el saja sudah cukup untuk memilih" in text
    assert "Bawa KTP elektronik dan surat pemberitahuan" not in text
    html = RENDERER.render("ayo_ke_tps.html", catalog.template_context(kind=kind), tz=WITA)
    assert '<a href="https://cekdptonline.kpu.go.id">cekdptonline.kpu.go.id</a>' in html


def test_local_time_follows_the_figures_province() -> None:
    papua = render("ayo_ke_tps.html", figure=catalog.SAMPLE_FIGURES[2])  # Maluku: WIT
    assert "07.00–13.00 waktu setempat (WIT)" in papua


# --- money politics ------------------------------------------------------------------------------------------


def test_pemilu_money_politics_punishes_the_giver_not_the_receiver() -> None:
    text = render("tolak_politik_uang.html", "pemilu")
    assert "Dalam Pemilu, yang dipidana adalah pemberinya" in text
    # Pasal 523 ayat 1-2: campaign actors during the campaign and the masa tenang.
    assert (
        "pelaksana, peserta, dan tim kampanye yang menjanjikan atau memberikan uang atau materi lain selama masa "
        "kampanye dan masa tenang" in text
    )
    # Pasal 515, 523 ayat 3: anyone on voting day.
    assert (
        "setiap orang yang menjanjikan atau memberikan uang atau materi lain kepada pemilih pada hari pemungutan suara"
        in text
    )
    assert "Undang-Undang Pemilu tidak memidana pemilih yang menerimanya" in text
    # The old text said the receiver is punished "in a Pilkada" inside a Pemilu message; nothing of it is left.
    assert "penerima" not in text.replace("tidak memidana pemilih yang menerimanya", "")
    assert "juga dapat dipidana" not in text


def test_pilkada_money_politics_punishes_giver_and_receiver() -> None:
    text = render("tolak_politik_uang.html", "pilkada")
    assert "pemberi dan penerima sama-sama dapat dipidana" in text
    assert "pemilih yang dengan sengaja menerima pemberian atau janji itu" in text
    assert "tidak memidana" not in text
    assert "pasangan calon tertentu" in text and "peserta pemilu" not in text


def test_ayo_ke_tps_money_politics_line_follows_the_election_kind() -> None:
    pemilu = render("ayo_ke_tps.html", "pemilu", days=1)
    pilkada = render("ayo_ke_tps.html", "pilkada", days=1)
    assert "pada hari pemungutan suara, setiap orang yang menjanjikan atau memberikannya dapat dipidana" in pemilu
    assert "penerima" not in pemilu
    assert "dalam Pilkada, pemberi dan penerimanya sama-sama dapat dipidana" in pilkada


# --- reporting to Bawaslu ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tolak_politik_uang.html", "lawan_hoaks.html", "terima_kasih.html"])
def test_reporting_deadline_is_seven_working_days_in_a_pemilu(name: str) -> None:
    text = render(name, "pemilu", days=-1 if name == "terima_kasih.html" else 30)
    assert f"{REPORTING_TO}, paling lambat 7 hari kerja sejak Anda mengetahuinya" in text


@pytest.mark.parametrize("name", ["tolak_politik_uang.html", "lawan_hoaks.html", "terima_kasih.html"])
def test_reporting_deadline_is_seven_days_in_a_pilkada(name: str) -> None:
    text = render(name, "pilkada", days=-1 if name == "terima_kasih.html" else 30)
    assert f"{REPORTING_TO}, paling lambat 7 hari sejak Anda mengetahuinya" in text
    assert "hari kerja" not in text


def test_stale_reporting_deadline_is_gone() -> None:
    for kind in KINDS:
        assert "7 hari sejak kejadian diketahui" not in render("tolak_politik_uang.html", kind)
        assert "Bawaslu atau Panwaslu terdekat" not in render("lawan_hoaks.html", kind)


# --- after voting day ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_after_voting_day_each_complaint_has_its_own_place(kind: ElectionKind) -> None:
    text = render("terima_kasih.html", kind, days=-1)
    assert "Keberatan atas hasil penghitungan suara disampaikan dalam rapat rekapitulasi" in text
    assert "Dugaan pelanggaran" in text and REPORTING_TO in text
    assert "diselesaikan di Mahkamah Konstitusi" in text
    # Objections to counts do not go to Bawaslu.
    assert "Keberatan atau dugaan pelanggaran dapat disampaikan kepada Bawaslu" not in text
    assert not re.search(r"[Kk]eberatan[^.\n]*Bawaslu", text)


def test_thanks_close_with_hormat_kami_and_the_office() -> None:
    text = render("terima_kasih.html", days=-1, settings=office_settings())
    assert text.endswith(f"\n\nHormat kami,\n{OFFICE}")
    assert "Salam hormat" not in text


# --- the invitation ------------------------------------------------------------------------------------------


def test_invitation_has_the_official_format() -> None:
    text = render("undangan_sosialisasi.html", settings=office_settings())
    assert "\nHari/tanggal: Sabtu, 20 Januari 2029\n" in text
    assert "Hari, tanggal" not in text
    assert "\nWaktu: 09.00 WITA sampai dengan selesai\nTempat: Aula KPU Kota Banjarmasin\n" in text
    assert "\n\nDengan hormat,\n" in text
    assert text.endswith(f"\n\nHormat kami,\n{OFFICE}")


# --- the election date: a setting, always labelled -----------------------------------------------------------


def labelled_dates(text: str, settings: Settings) -> tuple[int, int]:
    """(times the voting day is printed, times it is printed with its label) in TEXT."""
    date = i18n.format_date(settings.election.date)
    label = f"pemungutan suara {settings.election.name}: {date}"
    return text.count(date), text.count(label)


@pytest.mark.parametrize("kind", KINDS)
def test_the_voting_day_comes_from_the_setting_and_is_always_labelled(kind: ElectionKind) -> None:
    settings = office_settings(kind, name="Pemilihan Bupati dan Wakil Bupati Banjar", date=dt.date(2031, 11, 26))
    for name in SHIPPED:
        for days in template_check.COUNTDOWN_CASES:
            text = render(name, kind, days=days, settings=settings)
            printed, labelled = labelled_dates(text, settings)
            assert printed == labelled, (name, days, text)
            assert "14 Februari 2029" not in text  # no sample or default date written into a template
            if name in ("ayo_ke_tps.html", "sambutan.html") and days >= 0:
                assert labelled >= 1, (name, days, text)
            if labelled:
                assert "Hari pemungutan suara Pemilihan Bupati dan Wakil Bupati Banjar: Rabu, 26 November 2031" in text


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The harness of this module runs an office whose voting day is not the default one.
    return make_settings(
        database_url, election={"name": "Pemilihan Bupati dan Wakil Bupati Banjar", "date": dt.date(2031, 11, 26)}
    )


async def test_start_welcome_labels_the_voting_day(harness: Harness) -> None:
    harness.fake.user(7, "Siti")
    [reply] = await harness.send(7, "/start")
    assert "Hari pemungutan suara Pemilihan Bupati dan Wakil Bupati Banjar: Rabu, 26 November 2031" in reply.shown
    assert "ke TPS pada" not in reply.shown
    assert reply.shown.count("26 November 2031") == 1


# --- citations live in comments, and no text assumes what is elected on the same day -------------------------


CITATIONS = {
    "tolak_politik_uang.html": ["Pasal 523 ayat 1", "Pasal 523 ayat 2", "Pasal 515", "Pasal 187A", "Pasal 454 ayat 6"],
    "ayo_ke_tps.html": ["PKPU 25/2023", "PKPU 17/2024", "Pasal 348", "Pasal 515", "Pasal 187A"],
    "lawan_hoaks.html": ["Pasal 454 ayat 6", "Pasal 134"],
    "terima_kasih.html": ["Pasal 454 ayat 6", "Pasal 474", "Pasal 157"],
    "undangan_sosialisasi.html": ["Pasal 278"],
    "sambutan.html": ["135/PUU-XXII/2024"],
}


@pytest.mark.parametrize("name", SHIPPED)
def test_each_template_cites_its_sources_in_a_comment_that_never_reaches_the_message(name: str) -> None:
    source = (TEMPLATES / "id" / name).read_text(encoding="utf-8")
    _, body = catalog.split_metadata(source)
    comments = re.sub(r"\s+", " ", " ".join(re.findall(r"\{#(.*?)#\}", body, flags=re.DOTALL)))
    for citation in CITATIONS[name]:
        assert citation in comments, citation
    for kind in KINDS:
        for days in template_check.COUNTDOWN_CASES:
            for figure in catalog.SAMPLE_FIGURES:
                text = render(name, kind, days=days, figure=figure)
                for leak in ("Pasal", "ayat", "PKPU", "UU ", "/PUU-", "{#", "#}", "Facts in this message"):
                    assert leak not in text, (leak, kind, days, text)
                # MK decision 135/PUU-XXII/2024 holds national and local elections apart: no text assumes DPRD
                # or a Pilkada on the same day as another election.
                assert "DPRD" not in text and "daerah dan bangsa" not in text


# --- the election kind setting -------------------------------------------------------------------------------


def test_election_kind_is_a_documented_setting() -> None:
    assert load_settings(ROOT / "settings.toml", environ={}).election.kind == "pemilu"
    pilkada = load_settings(ROOT / "settings.toml", environ={"RANGKUL_ELECTION__KIND": "pilkada"})
    assert pilkada.election.kind == "pilkada"
    with pytest.raises(SettingsError, match=r"election\.kind"):
        load_settings(ROOT / "settings.toml", environ={"RANGKUL_ELECTION__KIND": "pilpres"})
    assert "`election.kind`" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_messages_follow_the_configured_kind() -> None:
    info = catalog.get_template_info(TEMPLATES, "tolak_politik_uang")
    assert info is not None
    context = catalog.template_context(office_settings("pilkada"))
    assert context["election"]["kind"] == "pilkada"
    plain, _ = parse_html(RENDERER.render(info.name, context, tz=WITA))
    assert "pemberi dan penerima" in plain


def test_the_checker_renders_every_election_kind(tmp_path: Path) -> None:
    folder = tmp_path / "id"
    folder.mkdir()
    (folder / "uji.html").write_text(
        '{#---\ntitle = "Uji"\n---#}\n'
        '{% if election.kind == "pilkada" %}{% set f = figure %}{{ f.nama }}{% endif %}Halo',
        encoding="utf-8",
    )
    problems = template_check.check_templates(tmp_path)
    # Only a Pilkada rendering reaches the mistake.
    assert any("pilkada" in problem and "nama" in problem for problem in problems), problems
