"""The composer's and /peran's views as pure functions: what they say for a given draft, and that their buttons
parse back through their codecs."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot import i18n
from bot.services.region_picker import Picker, Problem, Refusal
from bot.services.roles import Authority, RoleChange, RoleHolder
from bot.views import broadcast as views
from bot.views import broadcast_regions as region_views
from bot.views import roles as role_views
from models import ConversationState, FigureCategory, Person, Role

ID = i18n.gettext_for("id")
EN = i18n.gettext_for("en")
ADMIN = Authority(role=Role.ADMIN)
ORGANIZER = Authority(role=Role.ORGANIZER, scopes=("63.71",))


def _state(step: str, version: int = 7, **data: object) -> ConversationState:
    return ConversationState(person_id=1, flow="broadcast", step=step, version=version, data=dict(data))


def _buttons(markup: InlineKeyboardMarkup | None) -> list[tuple[str, str]]:
    assert markup is not None
    return [(str(b.text), str(b.callback_data)) for row in markup.inline_keyboard for b in row]


# ----------------------------------------------------------------------------------------- the composer


def test_the_preview_names_the_regions_and_counts_the_indonesian_way() -> None:
    line = region_views.preview_line(["63.71", "63.03"], ADMIN, ID)
    text, markup = views.preview(_state("preview"), name="Siti <b>", count=1234, regions_line=line, locale="id", _=ID)
    assert "<b>1.234</b>" in text and "1,234" not in text
    assert "Siti &lt;b&gt;" in text  # the recipient's name is escaped
    assert text.endswith("Wilayah: Kota Banjarmasin; Kabupaten Banjar")
    labels = [label for label, _data in _buttons(markup)]
    assert labels == ["📨 Kirim sekarang", "🕒 Jadwalkan", "Ubah penerima", "Batal"]
    # In English the same count reads 1,234.
    english, _markup = views.preview(_state("preview"), name="Siti", count=1234, regions_line="", locale="en", _=EN)
    assert "<b>1,234</b>" in english


def test_the_preview_buttons_carry_the_conversation_version() -> None:
    state = _state("preview", version=42)
    _text, markup = views.preview(state, name="Siti", count=1, regions_line="", locale="id", _=ID)
    pressed = [views.COMPOSER.parse(data) for _label, data in _buttons(markup)]
    assert [(p.action, p.args) for p in pressed if p is not None] == [
        ("send", ("42",)),
        ("schedule", ("42",)),
        ("resegment", ("42",)),
        ("cancel", ("42",)),
    ]


def test_no_regions_chosen_means_everything_the_caller_covers() -> None:
    assert region_views.preview_line([], ADMIN, ID) == "Wilayah: semua wilayah"
    assert region_views.preview_line([], ORGANIZER, ID) == "Wilayah: seluruh wilayah Anda (Kota Banjarmasin)"


def test_ticked_categories_are_marked_and_the_rest_are_not() -> None:
    _text, markup = views.choice_question(_state("category", category=[FigureCategory.YOUTH.value]), ID)
    buttons = _buttons(markup)
    ticked = [label for label, _data in buttons if label.startswith("✓ ")]
    assert ticked == ["✓ Tokoh pemuda"]
    assert len(buttons) == len(FigureCategory) + 2  # every category, Continue, Cancel
    toggle = views.COMPOSER.parse(buttons[0][1])
    assert toggle is not None and toggle.action == "toggle" and toggle.args == ("7", FigureCategory.YOUTH.value)


def test_the_region_question_shows_what_is_chosen() -> None:
    picker = Picker(picked=["63.71"], browse="63")
    text, markup = views.region_question(_state("region"), picker, ADMIN, "id", ID)
    assert "Kota Banjarmasin" in text and "(1)" in text
    actions = {p.action for _label, data in _buttons(markup) if (p := views.COMPOSER.parse(data)) is not None}
    assert {"review", "done", "cancel"} <= actions and "all" not in actions  # something is chosen: go on


def test_region_refusals_format_numbers_in_the_readers_language() -> None:
    problem = Problem(Refusal.TOO_MANY, count=1234)
    assert "1.234" in region_views.problem_text(problem, ADMIN, "id", ID)
    assert "1,234" in region_views.problem_text(problem, ADMIN, "en", EN)


def test_template_buttons_parse_back_to_their_template() -> None:
    assert views.pressed_template(views.TEMPLATES.data("show", "undangan_sosialisasi")) == "undangan_sosialisasi"
    assert views.pressed_template("tpl:undangan_sosialisasi") == "undangan_sosialisasi"  # before the codec
    assert views.pressed_template("tpl:show:a:b") == "" and views.pressed_template(None) == ""


# ----------------------------------------------------------------------------------------- /peran


def test_the_role_confirmation_buttons_parse_back_through_their_codec() -> None:
    target = Person(telegram_id=21, first_name="Lina", username="lina_kpu")
    text, markup = role_views.confirmation("grant", Role.ORGANIZER, ["63.71"], target, "n0nce", "id", ID)
    buttons = _buttons(markup)
    assert [label for label, _data in buttons] == ["Ya, simpan", "Batal"]
    assert [role_views.parse_confirmation(data) for _label, data in buttons] == [
        role_views.Confirmation(accepted=True, nonce="n0nce"),
        role_views.Confirmation(accepted=False, nonce="n0nce"),
    ]
    assert "Lina (@lina_kpu, ID 21)" in text and "<code>63.71</code>" in text
    # Data we did not make is refused, never raised on.
    for forged in ("peran:ok", "peran:ok:a:b", "sx:ok:1", None, 5):
        assert role_views.parse_confirmation(forged) is None


def test_the_role_list_pages_and_names_the_next_page() -> None:
    holders = [
        RoleHolder(person=Person(telegram_id=100 + n, first_name=f"Petugas {n}"), role=Role.ORGANIZER, scopes=("63",))
        for n in range(role_views.HOLDERS_PER_PAGE + 1)
    ]
    first = role_views.role_list(holders, 1, [], "id", ID)
    assert first.count("• ") == role_views.HOLDERS_PER_PAGE
    assert "Halaman 1 dari 2." in first and "/peran daftar 2" in first
    last = role_views.role_list(holders, 99, [], "id", ID)  # past the end: the last page
    assert last.count("• ") == 1 and "Halaman 2 dari 2." in last and "/peran daftar" not in last


def test_a_result_that_changed_nothing_says_so() -> None:
    subject = Person(telegram_id=21)
    unchanged = role_views.result("grant", Role.ADMIN, RoleChange(), subject, "id", ID)
    assert "ID 21" in unchanged and not unchanged.startswith("✅")
    done = role_views.result("grant", Role.ADMIN, RoleChange(changed=[""]), subject, "id", ID)
    assert done.startswith("✅ ")
