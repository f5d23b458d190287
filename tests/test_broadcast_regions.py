"""Choosing the recipients' regions in /siaran: typed names searched within the caller's scope, ambiguity offered
as buttons, the drill-down province → kabupaten/kota → kecamatan → desa, several regions combined, codes, and
every region button checked again on the server."""

from __future__ import annotations

from sqlmodel import select

from bot import regions
from bot.services import roles
from bot.views import keyboards
from models import Broadcast, ConversationState, Person, Role
from tests.conftest import ADMIN_ID, Harness
from tests.faketg.core import FakeMessage
from tests.test_broadcast import _buttons_message, _received, make_figures, make_organizer, tap

ORGANIZER = 500


async def _to_region_step(harness: Harness, user_id: int) -> FakeMessage:
    await harness.send(user_id, "/siaran")
    await tap(harness, user_id, "Ayo ke TPS!")
    return harness.last(user_id)


async def _to_preview(harness: Harness, user_id: int) -> FakeMessage:
    """From a region question with regions chosen: continue, all categories, all ages, whenever registered."""
    await tap(harness, user_id, "Lanjut ›")
    await tap(harness, user_id, "Lanjut ›")
    await tap(harness, user_id, "Lanjut ›")
    await tap(harness, user_id, "Semua, kapan pun mendaftar")
    return harness.last(user_id)


def _labels(message: FakeMessage) -> list[str]:
    return [button["text"] for button in message.buttons()]


def _rows(message: FakeMessage) -> list[list[str]]:
    assert message.inline_markup is not None
    return [[button["text"] for button in row] for row in message.inline_markup["inline_keyboard"]]


def _version(message: FakeMessage) -> str:
    return str(message.buttons()[0]["callback_data"].split(":")[2])


async def _picked(harness: Harness, user_id: int) -> list[str]:
    async with harness.app.bot_data.sessions() as session:
        person = (await session.exec(select(Person).where(Person.telegram_id == user_id))).one()
        state = await session.get(ConversationState, person.id)
    assert state is not None
    return list(state.data.get("picker", {}).get("picked", []))


def _all_callback_data_fits(message: FakeMessage) -> bool:
    return all(len(button["callback_data"].encode()) <= 64 for button in message.buttons())


async def test_an_admin_typing_a_province_name_reaches_exactly_that_province(harness: Harness) -> None:
    kalsel = await make_figures(harness, 4000, 3, "63.71.05.1003") + await make_figures(
        harness, 1010, 2, "63.03.05.2001"
    )
    kaltim = await make_figures(harness, 2000, 2, "64.72.01.1001")
    kalteng = await make_figures(harness, 3000, 2, "62.71.01.1001")
    await _to_region_step(harness, ADMIN_ID)
    [question] = await harness.send(ADMIN_ID, "Kalimantan Selatan")
    assert "tidak terdapat dalam kode Kemendagri" not in question.shown
    assert "Dipilih (1): Kalimantan Selatan" in question.shown
    assert await _picked(harness, ADMIN_ID) == ["63"]
    header = await _to_preview(harness, ADMIN_ID)
    assert "Jumlah penerima: 5 " in header.shown
    assert "Wilayah: Kalimantan Selatan" in header.shown
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    await harness.deliver()
    assert _received(harness, kalsel, "TPS") == [1] * 5
    assert _received(harness, kaltim + kalteng, "TPS") == [0] * 4
    async with harness.app.bot_data.sessions() as session:
        [broadcast] = (await session.exec(select(Broadcast))).all()
    assert broadcast.segment["regions"] == ["63"]


async def test_ambiguous_names_offer_buttons_within_the_scope(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63")
    await _to_region_step(harness, ORGANIZER)
    [choices] = await harness.send(ORGANIZER, "banjar")
    labels = _labels(choices)
    assert "Ada beberapa wilayah yang cocok dengan “banjar”" in choices.shown
    assert labels[:3] == [
        "Kabupaten Banjar, Kalimantan Selatan",
        "Kota Banjarmasin, Kalimantan Selatan",
        "Kota Banjarbaru, Kalimantan Selatan",
    ]
    assert not any("Jawa Barat" in label for label in labels)  # Kota Banjar is outside the scope
    assert await _picked(harness, ORGANIZER) == []
    await harness.press(ORGANIZER, choices, "Kabupaten Banjar, Kalimantan Selatan")
    edited = harness.fake.chat(ORGANIZER).find(choices.message_id)
    assert edited is not None and "Dipilih (1): Kabupaten Banjar" in edited.shown
    assert await _picked(harness, ORGANIZER) == ["63.03"]


async def test_a_name_in_several_provinces_offers_buttons_to_an_admin_paged(harness: Harness) -> None:
    await _to_region_step(harness, ADMIN_ID)
    [choices] = await harness.send(ADMIN_ID, "martapura")
    labels = _labels(choices)
    assert "Martapura, Kabupaten Ogan Komering Ulu Timur, Sumatera Selatan" in labels
    assert "Martapura, Kabupaten Banjar, Kalimantan Selatan" in labels
    # Kota Banjar (Jawa Barat), Kabupaten Banjar and three kecamatan are all named "Banjar": 30 matches, 3 pages.
    [choices] = await harness.send(ADMIN_ID, "banjar")
    labels = _labels(choices)
    assert labels[:2] == ["Kota Banjar, Jawa Barat", "Kabupaten Banjar, Kalimantan Selatan"]
    assert len([label for label in labels if "," in label]) == keyboards.PAGE_SIZE
    assert "Halaman 1 dari 3" in choices.shown
    await harness.press(ADMIN_ID, choices, "Berikutnya ›")
    page_two = harness.fake.chat(ADMIN_ID).find(choices.message_id)
    assert page_two is not None and "Halaman 2 dari 3" in page_two.shown
    # Saying which kind is meant is enough: the kabupaten, not Kota Banjar (DOMAIN.md's Banjar trap).
    [question] = await harness.send(ADMIN_ID, "kab. banjar")
    assert "Dipilih (1): Kabupaten Banjar" in question.shown
    assert await _picked(harness, ADMIN_ID) == ["63.03"]


async def test_drilling_down_to_a_desa(harness: Harness) -> None:
    gadang = await make_figures(harness, 4000, 2, "63.71.05.1008")
    mawar = await make_figures(harness, 1100, 2, "63.71.05.1003")
    question = await _to_region_step(harness, ADMIN_ID)
    assert "Aceh ›" in _labels(question) and "Halaman 1 dari 4" in question.shown
    await tap(harness, ADMIN_ID, "Berikutnya ›")
    await tap(harness, ADMIN_ID, "Berikutnya ›")
    await tap(harness, ADMIN_ID, "Kalimantan Selatan ›")
    province = _buttons_message(harness, ADMIN_ID)
    assert "📍 Kalimantan Selatan" in province.shown
    assert _labels(province)[0] == "➕ Seluruh Kalimantan Selatan"
    # Long names one per row: a phone would cut "Kabupaten Hulu Sungai Selatan" and "… Tengah" alike.
    assert ["Kabupaten Hulu Sungai Selatan ›"] in _rows(province)
    assert ["Kabupaten Hulu Sungai Tengah ›"] in _rows(province)
    await tap(harness, ADMIN_ID, "Berikutnya ›")
    await tap(harness, ADMIN_ID, "Kota Banjarmasin ›")
    await tap(harness, ADMIN_ID, "Banjarmasin Tengah ›")
    district = _buttons_message(harness, ADMIN_ID)
    assert "📍 Banjarmasin Tengah, Kota Banjarmasin, Kalimantan Selatan" in district.shown
    assert ["Kertak Baru Ilir", "Kertak Baru Ulu"] in _rows(district)  # short names two to a row
    await tap(harness, ADMIN_ID, "Gadang")  # a desa has nothing below it: the press chooses it
    district = _buttons_message(harness, ADMIN_ID)
    assert "✅ Gadang" in _labels(district)
    assert "Dipilih (1): Gadang, Kota Banjarmasin" in district.shown
    assert _all_callback_data_fits(district)
    await tap(harness, ADMIN_ID, "« Kembali")
    assert "📍 Kota Banjarmasin, Kalimantan Selatan" in _buttons_message(harness, ADMIN_ID).shown
    assert await _picked(harness, ADMIN_ID) == ["63.71.05.1008"]
    header = await _to_preview(harness, ADMIN_ID)
    assert "Jumlah penerima: 2 " in header.shown
    assert "Wilayah: Gadang, Kota Banjarmasin" in header.shown
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    await harness.deliver()
    assert _received(harness, gadang + mawar, "TPS") == [1, 1, 0, 0]


async def test_regions_combine_and_can_be_removed(harness: Harness) -> None:
    banjarmasin = await make_figures(harness, 4000, 2, "63.71.05.1003")
    banjarbaru = await make_figures(harness, 1100, 1, "63.72.01.1001")
    banjar = await make_figures(harness, 1200, 1, "63.03.05.2001")
    elsewhere = await make_figures(harness, 1300, 1, "64.72.01.1001")
    await _to_region_step(harness, ADMIN_ID)
    await harness.send(ADMIN_ID, "Kota Banjarmasin")
    [question] = await harness.send(ADMIN_ID, "63.72")  # codes still work, and add to the names
    assert "Dipilih (2): Kota Banjarmasin; Kota Banjarbaru" in question.shown
    [question] = await harness.send(ADMIN_ID, "Kabupaten Banjar, 63.71.05")  # inside Banjarmasin: adds nothing
    assert "Dipilih (3): Kota Banjarmasin; Kota Banjarbaru; Kabupaten Banjar" in question.shown
    await tap(harness, ADMIN_ID, "✖ Hapus wilayah")
    await tap(harness, ADMIN_ID, "✖ Kabupaten Banjar")
    assert await _picked(harness, ADMIN_ID) == ["63.71", "63.72"]
    await tap(harness, ADMIN_ID, "« Kembali")
    header = await _to_preview(harness, ADMIN_ID)
    assert "Jumlah penerima: 3 " in header.shown
    assert "Wilayah: Kota Banjarmasin; Kota Banjarbaru" in header.shown
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    await harness.deliver()
    assert _received(harness, banjarmasin + banjarbaru + banjar + elsewhere, "TPS") == [1, 1, 1, 0, 0]


async def test_a_long_choice_is_named_shortly_and_capped(harness: Harness) -> None:
    await make_figures(harness, 4000, 1, "63.01.01.2001")
    districts = [d.code for regency in regions.children("63") for d in regions.children(regency.code)]
    await _to_region_step(harness, ADMIN_ID)
    await harness.send(ADMIN_ID, ", ".join(districts[:45]))
    [refused] = await harness.send(ADMIN_ID, ", ".join(districts[45:55]))
    assert "menjadi 55 wilayah" in refused.shown and "paling banyak 50" in refused.shown
    assert len(await _picked(harness, ADMIN_ID)) == 45
    header = await _to_preview(harness, ADMIN_ID)
    assert "… dan 35 lainnya" in header.shown
    assert "Jumlah penerima: 1 " in header.shown


async def test_an_organizer_typing_a_region_outside_the_scope_is_told_what_to_choose(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    await _to_region_step(harness, ORGANIZER)
    # "Kabupaten Banjar" says what it means: not the kecamatan of Banjarmasin whose names start with "Banjar".
    for typed in ("Kalimantan Timur", "Kota Banjarbaru", "64.72", "Kabupaten Banjar", "kab. banjar"):
        [refused] = await harness.send(ORGANIZER, typed)
        assert "di luar wilayah kewenangan Anda" in refused.shown, typed
        assert "Anda hanya dapat memilih wilayah di Kota Banjarmasin" in refused.shown
    [refused] = await harness.send(ORGANIZER, "Kalimantan Selatan")  # the province around the scope
    assert "Kalimantan Selatan berada di luar wilayah kewenangan Anda" in refused.shown
    [unknown] = await harness.send(ORGANIZER, "Atlantis")
    assert "tidak menemukan wilayah bernama Atlantis di wilayah Anda (Kota Banjarmasin)" in unknown.shown
    assert await _picked(harness, ORGANIZER) == []
    [question] = await harness.send(ORGANIZER, "banjarmasin tengah")
    assert "Dipilih (1): Banjarmasin Tengah, Kota Banjarmasin" in question.shown


async def test_an_organizer_of_several_regions_finds_a_desa_by_name(harness: Harness) -> None:
    """Desa were searched by name only within a single scope: an organizer of Kabupaten Tanah Laut and Kota
    Banjarmasin typing "Mawar" (a kelurahan in Banjarmasin Tengah) was told no such region is in their regions."""
    await make_organizer(harness, ORGANIZER, "63.01", "63.71")
    await _to_region_step(harness, ORGANIZER)
    [question] = await harness.send(ORGANIZER, "Mawar")
    assert "Dipilih (1): Mawar, Kota Banjarmasin" in question.shown, question.shown
    assert await _picked(harness, ORGANIZER) == ["63.71.05.1003"]


async def test_forged_and_stale_region_buttons_are_refused(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71", "63.72")
    question = await _to_region_step(harness, ORGANIZER)
    assert _labels(question)[:2] == ["Kota Banjarmasin ›", "Kota Banjarbaru ›"]
    version = _version(question)
    for forged in ("pick:64.72", "open:63", "pick:63", "open:63.03", "pick:99.99", "open:63.71.05.1003"):
        action, code = forged.split(":")
        await harness.press_data(ORGANIZER, question, f"sx:{action}:{version}:{code}")
        assert await _picked(harness, ORGANIZER) == []
    assert "di luar wilayah kewenangan Anda" in harness.fake.chat(ORGANIZER).messages[-3].shown  # open:63.03
    # The scope is read from the database for every press: a region taken away meanwhile cannot be chosen.
    async with harness.app.bot_data.sessions() as session:
        person = (await session.exec(select(Person).where(Person.telegram_id == ORGANIZER))).one()
        await roles.revoke(session=session, actor=person, subject=person, role=Role.ORGANIZER, region_codes=["63.72"])
        await session.commit()
    await harness.press_data(ORGANIZER, question, f"sx:pick:{version}:63.72")
    assert "Kota Banjarbaru berada di luar wilayah kewenangan Anda" in harness.last(ORGANIZER).shown
    assert await _picked(harness, ORGANIZER) == []
    # A press on an earlier version of the question.
    await harness.press(ORGANIZER, question, "Kota Banjarmasin ›")
    await harness.press_data(ORGANIZER, question, f"sx:pick:{version}:63.71")
    assert harness.fake.callback_answers[-1]["text"].startswith("Tombol ini sudah tidak berlaku.")
    assert await _picked(harness, ORGANIZER) == []
    # The stale press leaves the current question answerable: it is asked again, with its buttons.
    assert "Kota Banjarmasin" in harness.last(ORGANIZER).shown and harness.last(ORGANIZER).buttons()


async def test_a_region_taken_away_after_it_was_chosen_is_refused_at_continue(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71", "63.72")
    await make_figures(harness, 4000, 2, "63.72.01.1001")
    await _to_region_step(harness, ORGANIZER)
    await harness.send(ORGANIZER, "Kota Banjarbaru")
    async with harness.app.bot_data.sessions() as session:
        person = (await session.exec(select(Person).where(Person.telegram_id == ORGANIZER))).one()
        await roles.revoke(session=session, actor=person, subject=person, role=Role.ORGANIZER, region_codes=["63.72"])
        await session.commit()
    await tap(harness, ORGANIZER, "Lanjut ›")
    assert "Kota Banjarbaru berada di luar wilayah kewenangan Anda" in harness.last(ORGANIZER).shown


async def test_registration_puts_long_region_names_one_per_row(harness: Harness) -> None:
    harness.fake.user(102, "Ani")
    await harness.send(102, "/daftar")
    await tap(harness, 102, "Setuju")
    await harness.send(102, "Ani Lestari")
    await tap(harness, 102, "Tokoh perempuan")
    await tap(harness, 102, "18–25 tahun")
    [regencies] = await harness.send(102, "Kalimantan Selatan")
    rows = _rows(regencies)
    assert ["Kabupaten Hulu Sungai Selatan"] in rows and ["Kabupaten Hulu Sungai Tengah"] in rows
    assert all(len(row) == 1 for row in rows if any(len(label) > keyboards.LONG_LABEL for label in row))


def test_rows_pair_short_labels_and_keep_long_ones_alone() -> None:
    from telegram import InlineKeyboardButton

    labels = ["Tapin", "Balangan", "Kabupaten Hulu Sungai Selatan", "Tabalong", "Kota Banjarbaru", "Kotabaru"]
    laid_out = keyboards.rows([InlineKeyboardButton(label, callback_data=label) for label in labels])
    assert [[button.text for button in row] for row in laid_out] == [
        ["Tapin", "Balangan"],
        ["Kabupaten Hulu Sungai Selatan"],
        ["Tabalong", "Kota Banjarbaru"],
        ["Kotabaru"],
    ]


def test_the_picker_without_telegram() -> None:
    from bot.services import region_picker
    from bot.services.region_picker import Refusal
    from bot.services.roles import Authority

    admin = Authority(role=Role.ADMIN)
    picker = region_picker.start(admin)
    # Two unclear names at once: nothing is chosen, and the second is named.
    problem = region_picker.type_in("banjar, martapura", picker, admin, limit=50)
    assert problem is not None and (problem.refusal, problem.subject) == (Refusal.CHOOSE, "martapura")
    assert picker.picked == [] and picker.matches == []
    # A clear name with an unclear one: the clear one is chosen, the unclear one offered.
    assert region_picker.type_in("Kota Banjarmasin, martapura", picker, admin, limit=50) is None
    assert picker.picked == ["63.71"] and picker.matches[:2] == ["16.08.01", "63.03.05"]
    # A region inside one chosen is already included; one around chosen ones replaces them.
    problem = region_picker.toggle(picker, "63.71.05", admin, limit=50)
    assert problem is not None and (problem.refusal, problem.within) == (Refusal.INCLUDED, "Kota Banjarmasin")
    assert region_picker.type_in("63", picker, admin, limit=50) is None
    assert picker.picked == ["63"]
    organizer = Authority(role=Role.ORGANIZER, scopes=("63.71",))
    picker = region_picker.start(organizer)
    assert picker.browse == "63.71"
    region_picker.go_up(picker, organizer)
    assert picker.browse == "63.71"  # never above the scope
    assert region_picker.open_region(picker, "63.71.05", organizer) is None
    region_picker.go_up(picker, organizer)
    assert picker.browse == "63.71"


def test_provinces_by_their_usual_short_names() -> None:
    for typed, name in (
        ("DKI Jakarta", "Daerah Khusus Ibukota Jakarta"),
        ("kalsel", "Kalimantan Selatan"),
        ("NTB", "Nusa Tenggara Barat"),
    ):
        assert [region.name for region in regions.find(typed, within=[None]).exact] == [name], typed
