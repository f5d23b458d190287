"""The registration's and the profile's views as pure functions: what a question, a profile or a problem says and
which buttons it carries, in Indonesian and in English, without a bot or a database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from telegram import InlineKeyboardMarkup, ReplyKeyboardRemove

from bot import i18n, notice
from bot.config import Settings
from bot.services import registration
from bot.services.figure_input import Problem
from bot.services.registration_steps import FIELDS, Step
from bot.views import profile as profile_views
from bot.views import registration as views
from models import AgeBracket, ConversationState, Figure, FigureCategory
from tests.conftest import make_settings

MAWAR = "63.71.05.1003"  # Mawar, Banjarmasin Tengah, Kota Banjarmasin, Kalimantan Selatan


@pytest.fixture
def settings() -> Settings:
    return make_settings("sqlite+aiosqlite:///never-opened.db")


def _state(step: Step, version: int = 7, **data: Any) -> ConversationState:
    return ConversationState(person_id=1, flow=registration.REGISTER, step=step, version=version, data=data)


def _buttons(markup: object) -> list[tuple[str, str]]:
    assert isinstance(markup, InlineKeyboardMarkup)
    return [(button.text, str(button.callback_data)) for row in markup.inline_keyboard for button in row]


def _figure(**values: Any) -> Figure:
    when = dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC)
    fields: dict[str, Any] = {
        "person_id": 1,
        "full_name": "Siti Aminah",
        "category": FigureCategory.RELIGIOUS,
        "age_bracket": AgeBracket.FROM_26_TO_40,
        "region_code": MAWAR,
        "consent_at": when,
        "consent_version": "abc123",
        "registered_at": when,
        "updated_at": when,
    }
    return Figure(**(fields | values))


@pytest.mark.parametrize(
    ("locale", "asked", "labels", "back"),
    [
        (
            "id",
            "Anda termasuk kategori tokoh yang mana?",
            ["Tokoh pemuda", "Tokoh masyarakat", "Tokoh agama", "Tokoh perempuan", "Tokoh adat", "Lainnya"],
            "« Kembali",
        ),
        (
            "en",
            "Which kind of community figure are you?",
            [
                "Youth figure (tokoh pemuda)",
                "Community figure (tokoh masyarakat)",
                "Religious figure (tokoh agama)",
                "Women's figure (tokoh perempuan)",
                "Customary figure (tokoh adat)",
                "Other",
            ],
            "« Back",
        ),
    ],
)
def test_the_category_question_offers_every_category_in_the_readers_language(
    settings: Settings, locale: str, asked: str, labels: list[str], back: str
) -> None:
    text, markup = views.question(_state(Step.CATEGORY, name="Siti Aminah"), settings, locale)
    assert text == asked
    buttons = _buttons(markup)
    # Each button names this conversation's version and the category's stored value: the wire format old
    # buttons on phones still carry.
    assert buttons == [
        *((label, f"reg:pick:7:{category.value}") for label, category in zip(labels, FigureCategory, strict=True)),
        (back, "reg:back:7"),
    ]


def test_the_consent_question_carries_the_notice_it_shows_and_reads_its_answers_back(settings: Settings) -> None:
    text, markup = views.question(_state(Step.CONSENT), settings, "en")
    assert notice.privacy_notice(settings, "en") in text
    version = notice.current_version(settings, "en")
    assert _buttons(markup) == [("I agree", f"reg:pick:7:yes:en:{version}"), ("I do not agree", "reg:pick:7:no")]
    assert views.consent_answer(("yes", "en", version), settings, "en") == registration.Agreed("en", version)
    assert views.consent_answer(("no",), settings, "en") == registration.Pressed("pick", "no")
    # Agreeing under a notice in another language, or an older text, is not agreeing to the one shown now.
    assert views.consent_answer(("yes", "en", version), settings, "id") is None
    assert views.consent_answer(("yes", "en", "0" * len(version)), settings, "en") is None
    assert views.consent_answer(("yes", "en"), settings, "en") is None


def test_the_profile_escapes_what_the_person_typed_and_offers_a_change_button_per_field() -> None:
    figure = _figure(full_name="<b>Siti</b> & Aminah", organization="Majelis <Taklim>", phone="+6281234567890")
    text, markup = profile_views.profile(figure, "id")
    assert "Nama: &lt;b&gt;Siti&lt;/b&gt; &amp; Aminah" in text
    assert "Organisasi/peran: Majelis &lt;Taklim&gt;" in text
    assert "<b>Siti</b>" not in text and "<Taklim>" not in text
    assert "Wilayah: Mawar, Banjarmasin Tengah, Kota Banjarmasin, Kalimantan Selatan" in text
    assert "Kategori: Tokoh agama" in text
    assert "14 Maret 2026" in text
    fields = [data for _, data in _buttons(markup)]
    assert fields == [f"prof:{field}" for field in ("name", "category", "age", "region", "phone", "organization")]
    assert all(profile_views.edited_field(data) in FIELDS for data in fields)


def test_a_minors_profile_names_the_guardian_and_can_change_them() -> None:
    figure = _figure(age_bracket=AgeBracket.UNDER_18, guardian_name="Ahmad <Wali>")
    text, markup = profile_views.profile(figure, "en", intro="Saved. This is your data now:")
    assert text.startswith("Saved. This is your data now:\n")
    assert "Parent/guardian: Ahmad &lt;Wali&gt;" in text
    assert "Mobile number: <i>not filled in</i>" in text
    assert ("Change guardian", "prof:guardian") in _buttons(markup)


def test_a_region_not_found_names_where_it_was_looked_for() -> None:
    _ = i18n.gettext_for("id")
    state = _state(Step.DISTRICT, region_codes=["63", "63.71"])
    text = views.problem_text(Problem.REGION_NOT_FOUND, _, state)
    assert "Kota Banjarmasin" in text
    assert views.problem_text(Problem.REGION_NOT_FOUND, _) != text  # no region known: the general sentence


def test_the_summary_shows_the_answers_with_save_and_change_buttons(settings: Settings) -> None:
    state = _state(
        Step.SUMMARY,
        version=3,
        name="Budi <script>",
        category=FigureCategory.YOUTH,
        age=AgeBracket.FROM_18_TO_25,
        region_codes=["63", "63.71", "63.71.05", MAWAR],
    )
    text, markup = views.question(state, settings, "en")
    assert "Name: Budi &lt;script&gt;" in text and "Category: Youth figure (tokoh pemuda)" in text
    buttons = _buttons(markup)
    assert ("✅ Save", "reg:save:3") in buttons and ("Cancel", "reg:cancel:3") in buttons
    assert ("Change region", "reg:edit:3:region") in buttons
    assert not any(data == "reg:edit:3:guardian" for _, data in buttons)  # an adult has no guardian to change


def test_the_phone_keyboard_is_taken_away_saying_what_was_noted() -> None:
    _ = i18n.gettext_for("en")
    text, markup = views.phone_closed("+62 812<3>", _, went_back=False)
    assert text == "Number noted: +62 812&lt;3&gt;" and isinstance(markup, ReplyKeyboardRemove)
    assert views.phone_closed(None, _, went_back=False)[0] == "Mobile number skipped."
    assert views.phone_closed("+6281234567890", _, went_back=True)[0] == "Going back."


def test_a_delete_button_counts_only_for_the_person_it_was_shown_to() -> None:
    _ = i18n.gettext_for("id")
    text, markup = profile_views.delete_question(5, _)
    assert "Tindakan ini tidak dapat dibatalkan." in text
    [(yes, yes_data), (no, no_data)] = _buttons(markup)
    assert (yes, no) == ("Ya, hapus data saya", "Batal")
    assert (yes_data, no_data) == ("hapus:yes:5", "hapus:no:5")
    assert profile_views.delete_answer(yes_data, 5) is True
    assert profile_views.delete_answer(no_data, 5) is False
    assert profile_views.delete_answer(yes_data, 6) is None  # someone else's confirmation
    assert profile_views.delete_answer("hapus:yes", 5) is None
    assert profile_views.delete_answer(None, 5) is None


def test_how_a_conversation_ended_is_said_per_flow() -> None:
    _ = i18n.gettext_for("en")
    declined = registration.Finished.GUARDIAN_DECLINED
    assert views.ended(declined, registration.EDIT, _) == (
        "Without a parent's or guardian's consent the change was not saved."
    )
    assert "/daftar" in (views.ended(declined, registration.REGISTER, _) or "")
    assert views.ended(registration.Finished.SAVED, registration.REGISTER, _) is None  # the welcome follows
