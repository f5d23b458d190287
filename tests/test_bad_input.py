"""Bad input gets a clear answer: huge typed lists, blank-looking names, and text that would make a reply longer
than Telegram's 4,096 characters (the fake Bot API refuses such a reply, as Telegram does)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot import regions
from bot.services import broadcasts, roles
from bot.services.figure_input import InputProblem, Problem, clean_name, clean_organization
from models import ConversationState, Figure, Person, Role
from tests.conftest import ADMIN_ID, Harness
from tests.test_broadcast import make_figures, make_organizer, tap
from tests.test_registration import register

ORGANIZER = 500
LIMIT = 4096


def _regency_codes() -> list[str]:
    return [regency.code for province in regions.children() for regency in regions.children(province.code)]


async def _to_region_step(harness: Harness, user_id: int) -> None:
    await harness.send(user_id, "/siaran")
    await tap(harness, user_id, "Ayo ke TPS!")


# ----------------------------------------------------------------------------------------- typed lists


async def test_hundreds_of_typed_region_codes_get_a_clear_limit(harness: Harness) -> None:
    await make_figures(harness, 1000, 2, "63.71.05.1003")
    await _to_region_step(harness, ADMIN_ID)
    codes = _regency_codes()
    typed = ",".join((codes + codes)[:650])
    assert len(typed) < LIMIT
    [answer] = await harness.send(ADMIN_ID, typed)
    assert "514 kode wilayah" in answer.shown and "paling banyak 50" in answer.shown
    # Still at the same question: a shorter list goes on.
    await harness.send(ADMIN_ID, "63.71, 63.72")
    await tap(harness, ADMIN_ID, "Lanjut ›")
    assert "kategori" in harness.last(ADMIN_ID).shown.lower()


async def test_repeated_codes_count_once_and_the_preview_still_works(harness: Harness) -> None:
    await make_figures(harness, 1000, 2, "63.71.05.1003")
    await _to_region_step(harness, ADMIN_ID)
    await harness.send(ADMIN_ID, ",".join(["63.71"] * 650))
    await tap(harness, ADMIN_ID, "Lanjut ›")
    await tap(harness, ADMIN_ID, "Lanjut ›")
    await tap(harness, ADMIN_ID, "Lanjut ›")
    await tap(harness, ADMIN_ID, "Semua, kapan pun mendaftar")
    assert "Jumlah penerima: 2 " in harness.last(ADMIN_ID).shown
    async with harness.app.bot_data.sessions() as session:
        [state] = (await session.exec(select(ConversationState))).all()
    assert state.data["segment"]["regions"] == ["63.71"]


async def test_peran_refuses_more_codes_than_the_limit(harness: Harness) -> None:
    codes = " ".join(_regency_codes()[:60])
    [answer] = await harness.send(ADMIN_ID, f"/peran beri 77 penyelenggara {codes}")
    assert "60 kode wilayah" in answer.shown and "paling banyak 50" in answer.shown


async def test_an_organizer_cannot_collect_more_regions_than_a_broadcast_can_query(harness: Harness) -> None:
    districts = [d.code for regency in regions.children("63") for d in regions.children(regency.code)]
    async with harness.app.bot_data.sessions() as session:
        person = Person(telegram_id=77)
        session.add(person)
        await session.flush()
        await roles.grant(
            session=session, actor=person, subject=person, role=Role.ORGANIZER, region_codes=districts[:60]
        )
        await session.commit()
    [refused] = await harness.send(ADMIN_ID, "/peran beri 77 penyelenggara " + " ".join(districts[60:105]))
    assert "105 wilayah" in refused.shown and "paling banyak 100" in refused.shown
    [summary] = await harness.send(ADMIN_ID, "/peran beri 77 penyelenggara " + " ".join(districts[60:100]))
    await harness.press(ADMIN_ID, summary, "Ya, simpan")
    assert "✅" in harness.last(ADMIN_ID).shown


async def test_a_long_list_of_regions_in_a_role_summary_is_shortened(harness: Harness) -> None:
    # 50 kecamatan with long names: one line each would pass 4,096 characters.
    districts = [d.code for regency in regions.children("63") for d in regions.children(regency.code)][:50]
    [summary] = await harness.send(ADMIN_ID, "/peran beri 77 penyelenggara " + " ".join(districts))
    assert "dan 30 lainnya" in summary.shown
    await harness.press(ADMIN_ID, summary, "Ya, simpan")
    assert "✅" in harness.last(ADMIN_ID).shown


# ----------------------------------------------------------------------------------------- the apology


async def test_an_error_after_a_button_was_answered_is_apologised_for_in_the_chat(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_figures(harness, 1000, 2, "63.71.05.1003")
    await _to_region_step(harness, ADMIN_ID)
    await harness.send(ADMIN_ID, "63.71")
    await tap(harness, ADMIN_ID, "Lanjut ›")
    await tap(harness, ADMIN_ID, "Lanjut ›")
    await tap(harness, ADMIN_ID, "Lanjut ›")

    async def broken(**_: object) -> int:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(broadcasts, "count_recipients", broken)
    await tap(harness, ADMIN_ID, "Semua, kapan pun mendaftar")
    assert "Mohon maaf, terjadi gangguan" in harness.last(ADMIN_ID).shown


# ----------------------------------------------------------------------------------------- names

BLANK_NAMES = [
    "\u3164\u3164",  # Hangul filler, a "letter" that draws nothing
    "\u3164 \u3164 \u3164",
    "\u115f\u1160\uffa0",
    "\u2800\u2800\u2800",  # braille blank
    "\u200b\u200b\u200d",  # zero-width space and joiner
    "A\u200b",
    "Z\u0351\u0352\u0353\u0354\u0355alia",  # stacked combining marks
    "\u0301\u0301Budi",  # marks with no letter under them
]


@pytest.mark.parametrize("name", BLANK_NAMES)
def test_names_that_show_as_blank_are_refused(name: str) -> None:
    with pytest.raises(InputProblem) as refused:
        clean_name(name)
    assert refused.value.problem in (Problem.INVISIBLE, Problem.NAME_LENGTH)


def test_real_names_still_pass_and_lose_invisible_characters() -> None:
    assert clean_name("Siti\u200b Rahmah") == "Siti Rahmah"
    assert clean_name("Nguyễn Thị Hồng") == "Nguyễn Thị Hồng"
    assert clean_name("Ni Made Sri Ayu") == "Ni Made Sri Ayu"
    assert clean_name("e\u0301\u0302 Budi").endswith(" Budi")  # two accents on one letter are fine
    assert clean_organization("Karang\u200b Taruna") == "Karang Taruna"
    with pytest.raises(InputProblem):
        clean_organization("\u3164\u3164")


async def test_a_blank_name_gets_a_clear_answer_at_registration_and_in_the_profile(harness: Harness) -> None:
    harness.fake.user(130, "Budi")
    await harness.send(130, "/daftar")
    await tap(harness, 130, "Setuju")
    for name in ("\u3164\u3164", "Z\u0351\u0352\u0353\u0354alia"):
        [answer] = await harness.send(130, name)
        assert "tidak dapat kami baca" in answer.shown
    await harness.send(130, "/batal")
    await register(harness, 131, name="Lina Marlina")
    [profile] = await harness.send(131, "/profil")
    await harness.press(131, profile, "Ubah nama")
    [answer] = await harness.send(131, "\u3164\u3164")
    assert "tidak dapat kami baca" in answer.shown
    async with harness.app.bot_data.sessions() as session:
        [figure] = (await session.exec(select(Figure))).all()
    assert figure.full_name == "Lina Marlina"


# ----------------------------------------------------------------------------------------- long replies


async def test_peran_daftar_pages_many_role_holders(harness: Harness) -> None:
    codes = [r.code for r in regions.children("63")]
    async with harness.app.bot_data.sessions() as session:
        admin = Person(telegram_id=ADMIN_ID)
        session.add(admin)
        await session.flush()
        for number in range(40):
            person = Person(
                telegram_id=900_000_000_000 + number,
                first_name=("Petugas Pemilu Kabupaten & Kota " * 3)[:64],
                username=f"petugas_kabupaten_kota_{number:04d}_x"[:32],
            )
            session.add(person)
            await session.flush()
            await roles.grant(session=session, actor=admin, subject=person, role=Role.ORGANIZER, region_codes=codes)
        await session.commit()
    seen: set[str] = set()
    for command in ("/peran daftar", "/peran", "/peran daftar 2", "/peran daftar 4", "/peran daftar 99"):
        [listing] = await harness.send(ADMIN_ID, command)
        assert len(listing.shown) <= LIMIT
        assert "Pemegang peran di Rangkul" in listing.shown, listing.shown[:200]
        seen.update(line for line in listing.shown.splitlines() if "ID 9000000000" in line)
    assert "Halaman 1 dari 4" in harness.fake.sent_texts(ADMIN_ID)[0]
    assert "/peran daftar 2" in harness.fake.sent_texts(ADMIN_ID)[0]
    assert "dan 8 lainnya" in harness.fake.sent_texts(ADMIN_ID)[0]
    assert len(seen) == 28  # pages 1, 2 and 4 (the last, with 4 holders; 99 shows it again)


async def test_echoed_input_is_shortened(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    long_word = "x" * 4080
    replies = {
        "/peran beri @" + long_word: (ADMIN_ID, "bukan username Telegram yang sah"),
        "/peran beri 77 penyelenggara " + long_word: (ADMIN_ID, "tidak terdapat dalam kode Kemendagri"),
        "/templat " + long_word: (ORGANIZER, "Tidak ada templat"),
        "/undangan " + long_word: (ORGANIZER, "tidak terdapat dalam kode Kemendagri"),
    }
    for text, (user_id, expected) in replies.items():
        [answer] = await harness.send(user_id, text[:LIMIT])
        assert expected in answer.shown, (text[:30], answer.shown[:200])
        assert len(answer.shown) < 1000
    await _to_region_step(harness, ORGANIZER)
    [answer] = await harness.send(ORGANIZER, long_word)  # a name, since names are searched too
    assert "tidak menemukan wilayah bernama" in answer.shown and len(answer.shown) < 200
    [answer] = await harness.send(ORGANIZER, "6" * 4080)
    assert "tidak terdapat dalam kode Kemendagri" in answer.shown and len(answer.shown) < 200


def test_echo_shortens_and_escapes() -> None:
    from bot.views import limits

    assert limits.echo("<b>" + "x" * 100, 10) == "&lt;b&gt;xxxxxx…"
    assert limits.echo("  a \n b ") == "a b"
    assert limits.unique(["63", "63.71", "63"]) == ["63", "63.71"]


@pytest.mark.parametrize("data", ["sx:pick:1:63.71", "bc:1:pause", "rp:read:1", "ek:fmt:1:csv", "tpl:show:sambutan"])
async def test_a_figure_pressing_an_organizers_button_hears_the_whole_refusal(harness: Harness, data: str) -> None:
    """The refusal (what to do next included) is 239 characters in Indonesian; Telegram takes at most 200 in an
    alert, answered Message_too_long, and the figure heard only the generic apology. A longer answer now comes as
    a message in the chat, and the press is answered."""
    [figure] = await make_figures(harness, 9100, 1)
    [welcome] = await harness.send(figure, "/start")
    before = len(harness.fake.chat(figure).messages)
    await harness.press_data(figure, welcome, data)
    sent = harness.fake.chat(figure).messages[before:]
    [refusal] = sent
    assert refusal.shown.startswith("Mohon maaf, hanya") and "terjadi gangguan" not in refusal.shown, refusal.shown
    assert len(refusal.shown) > 200 and "Ketik /bantuan" in refusal.shown
    assert harness.fake.callback_answers[-1].get("text") in (None, "")
