"""The callback-data codec: round trips, the 64-byte limit, parsing that never raises; every keyboard the bot
builds is made by its feature's codec, garbage on every feature is answered politely, and old buttons still work."""

from __future__ import annotations

import logging
import re

import pytest

from bot.callbacks import MAX_BYTES, CallbackDataError, Codec, Pressed
from bot.delivery import status
from bot.handlers import broadcast, profile, registration
from bot.handlers import roles as roles_handlers
from bot.views import consent as consent_views
from bot.views import language as language_views
from models import BroadcastStatus
from tests.conftest import ADMIN_ID, Harness
from tests.test_broadcast import ORGANIZER, _broadcasts, compose_invitation, make_figures, make_organizer, tap
from tests.test_privacy_notice import _change_notice
from tests.test_registration import _figures, walk_to_summary
from tests.test_registration import tap as reg_tap


def test_round_trip_and_versions() -> None:
    codec = Codec("cm")
    data = codec.data("commit", 12, "tps")
    assert data == "cm:commit:12:tps"
    assert codec.parse(data) == Pressed("commit", ("12", "tps"))
    assert codec.parse(data).arg(5, "x") == "x"  # type: ignore[union-attr]
    newer = Codec("cm", version=2)
    assert newer.data("commit", 12) == "cm2:commit:12"
    assert newer.parse(data) is None and codec.parse(newer.data("commit", 12)) is None


@pytest.mark.parametrize(
    "data",
    [
        None,
        42,
        "",
        "cm",
        "cm:",
        "xx:commit:1",
        "cm:COMMIT:1",
        "cm:commit:1:a b",
        "cm:commit:" + "9" * 41,
        "cm:commit:" + "1:" * 40,
        "cm:commit:\u00e9",
        "cm:commit:1\n",
        "\udcff",
    ],
)
def test_parse_never_raises_and_refuses_what_it_did_not_make(data: object) -> None:
    assert Codec("cm").parse(data) is None


def test_data_that_cannot_be_a_button_is_refused_when_made() -> None:
    codec = Codec("cm")
    with pytest.raises(CallbackDataError):
        codec.data("commit", "a:b")
    with pytest.raises(CallbackDataError):
        codec.data("commit", *["1234567890"] * 7)  # over 64 bytes
    with pytest.raises(CallbackDataError):
        Codec("Bad-Prefix")
    assert len(codec.data("commit", *["123456789"] * 5).encode()) <= MAX_BYTES


def test_fields_reads_layouts_made_before_the_codec() -> None:
    codec = Codec("bc")
    assert codec.fields("bc:12:pause") == ("12", "pause") and codec.parse("bc:12:pause") is None
    assert codec.fields("bc:pause:12") == ("pause", "12")
    for data in (None, "", "bc", "bc:", "xx:12:pause", "bc:1 2:pause", "bc:²:pause", "bc:" + "1" * 100):
        assert codec.fields(data) is None


# ----------------------------------------------------------------------------------------- every keyboard


FEATURES = {
    codec.head: codec
    for codec in (
        registration.REGISTRATION,
        registration.PROFILE,
        profile.DELETE,
        consent_views.NOTICE,
        broadcast.COMPOSER,
        broadcast.TEMPLATES,
        status.CONTROL,
        roles_handlers.CONFIRM,
        language_views.LANGUAGE,
    )
}


def _all_button_data(harness: Harness) -> list[str]:
    """The callback data of every inline button the bot sent or edited in, in any chat."""
    found = []
    for request in harness.fake.requests:
        markup = request.params.get("reply_markup")
        if isinstance(markup, dict):
            found += [
                b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row if "callback_data" in b
            ]
    return found


async def test_every_keyboard_the_bot_builds_is_made_by_its_features_codec(harness: Harness) -> None:
    # A registration from /start's button to the end, then the figure's own keyboards.
    figure = 700
    harness.fake.user(figure, "Siti")
    [welcome] = await harness.send(figure, "/start")
    await harness.press(figure, welcome, "Daftar sekarang")
    await harness.send(figure, "/batal")
    await walk_to_summary(harness, figure)
    await reg_tap(harness, figure, "Ubah usia")
    await reg_tap(harness, figure, "Di bawah 18 tahun")
    await harness.send(figure, "Ibu Rahmah")
    await reg_tap(harness, figure, "Ya, saya setuju")
    await reg_tap(harness, figure, "✅ Simpan")
    await harness.send(figure, "/profil")
    await harness.send(figure, "/bahasa")
    [confirm] = await harness.send(figure, "/hapusdata")
    await harness.press(figure, confirm, "Batal")
    # A changed privacy notice, told after the figure's next message.
    await _change_notice(harness)
    await harness.send(figure, "/bantuan")
    # A /siaran composition, with the region drill-down and its pages, then /status and its control buttons.
    await make_figures(harness, 800, 2)
    await harness.send(ADMIN_ID, "/templat")
    await harness.send(ADMIN_ID, "/siaran")
    await tap(harness, ADMIN_ID, "Undangan sosialisasi")
    await harness.send(ADMIN_ID, "Aula Kantor Kelurahan Mawar")
    await harness.send(ADMIN_ID, "Senin, 21 Januari 2030")
    await harness.send(ADMIN_ID, "09.00 WITA")
    for label in ("Kalimantan Selatan ›", "Kota Banjarmasin ›", "Banjarmasin Tengah ›", "Mawar"):
        while label not in [button["text"] for button in harness.last(ADMIN_ID).buttons()]:
            await tap(harness, ADMIN_ID, "Berikutnya ›")
        await tap(harness, ADMIN_ID, label)
    await tap(harness, ADMIN_ID, "✖ Hapus wilayah")
    await tap(harness, ADMIN_ID, "✖ Mawar, Kota Banjarmasin")
    await harness.send(ADMIN_ID, "63.71")
    await tap(harness, ADMIN_ID, "Lanjut ›")
    await tap(harness, ADMIN_ID, "Tokoh pemuda")
    await tap(harness, ADMIN_ID, "Lanjut ›")
    await tap(harness, ADMIN_ID, "Lanjut ›")
    await tap(harness, ADMIN_ID, "Semua, kapan pun mendaftar")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    [status_view] = await harness.send(ADMIN_ID, "/status")
    await harness.press(ADMIN_ID, status_view, "Hentikan sementara")
    # /peran's confirmation.
    harness.fake.user(21, "Lina")
    await harness.send(ADMIN_ID, "/peran beri 21 penyelenggara 63.71")

    found = _all_button_data(harness)
    assert {data.split(":")[0] for data in found} == set(FEATURES)  # the walk reached every feature's buttons
    for data in found:
        codec = FEATURES[data.split(":")[0]]
        assert len(data.encode()) <= MAX_BYTES and re.match(codec.pattern, data), data
        assert codec.parse(data) is not None, data
        assert [head for head, other in FEATURES.items() if re.match(other.pattern, data)] == [codec.head]
    # The features' own readers accept what their keyboards carry.
    assert all(status.parse_control(d) for d in found if d.startswith("bc:"))
    assert all(broadcast.pressed_template(d) for d in found if d.startswith("tpl:"))
    assert all(language_views.parse_button(d) for d in found if d.startswith("bahasa:"))
    assert all(consent_views.parse_button(d) for d in found if d.startswith("pdp:"))
    assert "Mohon maaf" not in " ".join(
        m.shown for chat in (figure, ADMIN_ID) for m in harness.fake.chat(chat).messages
    )


# ----------------------------------------------------------------------------------------- garbage


GARBAGE = ("{head}:", "{head}:x:y", "{head}::", "{head}:" + "9" * 500, "{head}:pick:²", "{head}:" + "a" * 17)


async def _press_garbage(harness: Harness, user_id: int, head: str, caplog: pytest.LogCaptureFixture) -> None:
    """Every kind of GARBAGE pressed with HEAD: each is answered (the spinner stops), with a text or a message that
    says what to do, and nothing fails (no apology, no error logged)."""
    harness.fake.user(user_id, "Penekan")
    [menu] = await harness.send(user_id, "/bantuan")
    for pattern in GARBAGE:
        data = pattern.format(head=head)
        answers, messages = len(harness.fake.callback_answers), len(harness.fake.chat(user_id).messages)
        with caplog.at_level(logging.WARNING):
            await harness.press_data(user_id, menu, data)
        [answer] = harness.fake.callback_answers[answers:]
        told = [m.shown for m in harness.fake.chat(user_id).messages[messages:]]
        assert answer.get("text") or told, data
        said = " ".join([answer.get("text") or "", *told])
        assert "Mohon maaf" not in said and "/" in said, (data, said)
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], data


@pytest.mark.parametrize("head", ["reg", "prof", "hapus", "pdp", "bahasa"])
async def test_garbage_on_a_figures_buttons_is_answered_politely(
    harness: Harness, caplog: pytest.LogCaptureFixture, head: str
) -> None:
    [user] = await make_figures(harness, 900, 1)
    await _press_garbage(harness, user, head, caplog)
    # And in the middle of a registration (its version checked, then its answer).
    harness.fake.user(901, "Baru")
    await harness.send(901, "/daftar")
    await _press_garbage(harness, 901, head, caplog)
    assert len(await _figures(harness)) == 1  # nothing registered by the presses


@pytest.mark.parametrize("head", ["sx", "tpl", "bc", "peran"])
async def test_garbage_on_an_organizers_or_admins_buttons_is_answered_politely(
    harness: Harness, caplog: pytest.LogCaptureFixture, head: str
) -> None:
    await harness.send(ADMIN_ID, "/siaran")  # a composer open: the press is checked against its version
    harness.fake.user(21, "Lina")
    await harness.send(ADMIN_ID, "/peran beri 21 penyelenggara 63.71")  # a /peran request waiting
    await _press_garbage(harness, ADMIN_ID, head, caplog)
    assert await _broadcasts(harness) == []


# ----------------------------------------------------------------------------------------- old buttons


async def test_buttons_sent_before_the_codec_still_work(harness: Harness) -> None:
    """Formats without a conversation version keep working from messages already in people's chats."""
    [user] = await make_figures(harness, 950, 1)
    [menu] = await harness.send(user, "/bantuan")
    await harness.press_data(user, menu, "bahasa:en")
    assert "From now on Rangkul speaks English" in harness.last(user).shown
    await harness.press_data(user, menu, "bahasa:id")
    await harness.press_data(user, menu, "prof:name")
    assert "nama lengkap" in harness.last(user).shown
    await harness.send(user, "/batal")
    [templates] = await harness.send(ADMIN_ID, "/templat")
    await harness.press_data(ADMIN_ID, templates, "tpl:ayo_ke_tps")
    assert harness.last(ADMIN_ID).shown != templates.shown and "tidak berlaku" not in harness.last(ADMIN_ID).shown
    await make_organizer(harness, ORGANIZER, "63.71")
    await compose_invitation(harness, ORGANIZER, "63.71")
    await tap(harness, ORGANIZER, "📨 Kirim sekarang")
    [sent] = await _broadcasts(harness)
    [status_view] = await harness.send(ORGANIZER, "/status")
    await harness.press_data(ORGANIZER, status_view, f"bc:{sent.id}:pause")
    assert harness.fake.callback_answers[-1]["text"] == "Dihentikan sementara."
    assert (await _broadcasts(harness))[0].status == BroadcastStatus.PAUSED


def test_int_arg_gives_only_ids_a_database_column_can_hold() -> None:
    codec = Codec("zz")
    pressed = codec.parse(codec.data("go", "7", "0", "9" * 22, "2147483647", "2147483648", "1e3", "-1"))
    assert pressed is not None
    assert pressed.int_arg(0) == 7
    assert pressed.int_arg(1) is None and pressed.int_arg(1, minimum=0) == 0
    assert pressed.int_arg(2) is None  # 22 digits: no such row, never an overflow
    assert pressed.int_arg(3) == 2**31 - 1 and pressed.int_arg(4) is None
    assert pressed.int_arg(5) is None
    assert pressed.int_arg(6) is None and pressed.int_arg(7) is None


async def test_a_press_without_data_is_an_unknown_button_for_everyone(harness: Harness) -> None:
    """python-telegram-bot hands a press with empty data to any handler with a pattern: it reached /peran's
    confirmation, which told organizers and figures that only admins may do this."""
    [figure] = await make_figures(harness, 960, 1)
    await make_organizer(harness, ORGANIZER, "63.71")
    for user_id in (figure, ORGANIZER, ADMIN_ID):
        [menu] = await harness.send(user_id, "/bantuan")
        for data in ("", "zz"):
            answers, messages = len(harness.fake.callback_answers), len(harness.fake.chat(user_id).messages)
            await harness.press_data(user_id, menu, data)
            [answer] = harness.fake.callback_answers[answers:]
            assert answer["text"].startswith("Tombol ini sudah tidak berlaku. Ketik /bantuan"), (user_id, data, answer)
            assert "admin" not in answer["text"] and len(harness.fake.chat(user_id).messages) == messages
