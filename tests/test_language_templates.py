"""A template with an English version reaches those who chose English in English, dates included; everyone else
gets the Indonesian file, formatted the Indonesian way."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import Settings
from tests.conftest import ROOT, Harness, make_settings
from tests.test_broadcast import _broadcasts, compose_invitation, make_figures, make_organizer, tap

ORGANIZER = 81

ENGLISH_INVITATION = """{#---
title = "Socialization invitation"
description = "Invites figures to a socialization event"

[values.place]
label = "Venue"
type = "text"
example = "KPU hall"

[values.date]
label = "Date"
type = "date"
example = "20-01-2029"

[values.time]
label = "Starting time"
type = "time"
example = "09.00 WITA"
---#}
Dear <b>{{ figure.name }}</b>, you are invited to a socialization event of the {{ election.name }}.

Date: {{ values.date | date }}, from {{ values.time | time }}, at {{ values.place }}.
Voting day: {{ election.date | date }}.
"""


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    (templates / "en").mkdir()
    (templates / "en" / "undangan_sosialisasi.html").write_text(ENGLISH_INVITATION, encoding="utf-8")
    return make_settings(database_url, templates={"dir": templates})


async def test_each_figure_reads_the_template_in_the_language_they_chose(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    [chose_english, default] = await make_figures(harness, 8000, 2, "63.71.05.1003")
    await harness.send(chose_english, "/bahasa english")
    await compose_invitation(harness, ORGANIZER, "Seluruh wilayah saya")
    await tap(harness, ORGANIZER, "📨 Kirim sekarang")
    await harness.deliver()

    [english] = [t for t in harness.fake.sent_texts(chose_english) if "Aula Kantor Kelurahan Mawar" in t]
    assert english.startswith("Dear Tokoh Nomor")
    assert "Date: Monday, January 21, 2030" in english or "Date: Monday, 21 January 2030" in english
    assert "09.00 WITA" in english or "09:00 WITA" in english
    assert "Senin" not in english and "Januari" not in english
    [indonesian] = [t for t in harness.fake.sent_texts(default) if "Aula Kantor Kelurahan Mawar" in t]
    assert "Senin, 21 Januari 2030" in indonesian and "Monday" not in indonesian
    # Nothing paused it: the version the composer recorded is the one the engine checks.
    [broadcast] = await _broadcasts(harness)
    assert broadcast.status == "done" and broadcast.pause_reason is None


async def test_editing_the_english_file_after_composing_pauses_the_broadcast(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    await make_figures(harness, 8100, 2, "63.71.05.1003")
    await compose_invitation(harness, ORGANIZER, "Seluruh wilayah saya")
    await tap(harness, ORGANIZER, "📨 Kirim sekarang")
    english_file = Path(harness.app.bot_data.settings.templates.dir) / "en" / "undangan_sosialisasi.html"
    english_file.write_text(ENGLISH_INVITATION.replace("Dear", "Hello"), encoding="utf-8")
    await harness.deliver()
    [broadcast] = await _broadcasts(harness)
    assert broadcast.status == "paused" and broadcast.pause_reason == "template_changed"
