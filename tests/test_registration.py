"""Registration, profile edits and the figure's rights, driven through the fake Bot API."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from bot.app import build_application
from bot.services import figures
from models import AuditEvent, ConversationState, Figure, Invitation, Person, Reply
from tests.conftest import ADMIN_ID, Harness
from tests.faketg import FakeRequest
from tests.faketg.core import FakeMessage


async def _figures(harness: Harness) -> list[Figure]:
    async with harness.app.bot_data.sessions() as session:
        return list((await session.exec(select(Figure))).all())


async def _states(harness: Harness) -> list[ConversationState]:
    async with harness.app.bot_data.sessions() as session:
        return list((await session.exec(select(ConversationState))).all())


def _last_with_buttons(harness: Harness, user_id: int) -> FakeMessage:
    for message in reversed(harness.fake.chat(user_id).messages):
        if message.buttons():
            return message
    raise AssertionError("no message with buttons")


async def tap(harness: Harness, user_id: int, label: str) -> None:
    """Press the button labelled LABEL on the latest message that has buttons."""
    await harness.press(user_id, _last_with_buttons(harness, user_id), label)


async def walk_to_summary(
    harness: Harness,
    user_id: int,
    *,
    name: str = "Siti Rahmah",
    category: str = "Tokoh pemuda",
    age: str = "26–40 tahun",
    phone: str = "0812-3456-7890",
    organization: str = "Karang Taruna Kelurahan Mawar",
) -> None:
    await harness.send(user_id, "/daftar")
    await tap(harness, user_id, "Setuju")
    await harness.send(user_id, name)
    await tap(harness, user_id, category)
    await tap(harness, user_id, age)
    await harness.send(user_id, "kalimantan selatan")
    await harness.send(user_id, "banjarmasin")
    await harness.send(user_id, "banjarmasin tengah")
    await tap(harness, user_id, "Mawar")
    await harness.send(user_id, phone)
    await harness.send(user_id, organization)


async def register(harness: Harness, user_id: int, **answers: Any) -> Figure:
    harness.fake.user(user_id, "Siti", username=f"siti_{user_id}")
    await walk_to_summary(harness, user_id, **answers)
    await tap(harness, user_id, "✅ Simpan")
    [figure] = [f for f in await _figures(harness) if f.phone == "+6281234567890" or f.full_name == answers.get("name")]
    return figure


async def test_happy_path_stores_a_correct_figure_with_provable_consent(harness: Harness) -> None:
    harness.fake.user(100, "Siti")
    [notice] = await harness.send(100, "/daftar")
    assert "Pemberitahuan Pelindungan Data Pribadi" in notice.shown
    assert "Komisi Pemilihan Umum Provinsi Kalimantan Selatan" in notice.shown
    assert "sampai Senin, 31 Desember 2029" in notice.shown
    for command in ("/profil", "/berhenti", "/dataku", "/hapusdata"):
        assert command in notice.shown
    await tap(harness, 100, "Setuju")
    assert "nama lengkap" in harness.last(100).shown
    await harness.send(100, "  Siti   Rahmah  ")
    await tap(harness, 100, "Tokoh pemuda")
    await tap(harness, 100, "26–40 tahun")
    await harness.send(100, "kalimantan selatan")
    assert "Kabupaten/kota mana?" in harness.last(100).shown
    await harness.send(100, "banjarmasin")
    await harness.send(100, "banjarmasin tengah")
    assert "Desa/kelurahan mana?" in harness.last(100).shown
    await tap(harness, 100, "Mawar")
    phone_question = harness.last(100)
    assert phone_question.reply_markup is not None
    assert phone_question.reply_markup["keyboard"][0][0]["request_contact"] is True
    await harness.send(100, "0812-3456-7890")
    await harness.send(100, "Ketua <b>Karang Taruna</b>")
    summary = harness.last(100)
    assert "Nama: Siti Rahmah" in summary.shown
    assert "Wilayah: Mawar, Banjarmasin Tengah, Kota Banjarmasin, Kalimantan Selatan" in summary.shown
    assert "Nomor HP: +6281234567890" in summary.shown
    assert "Ketua &lt;b&gt;Karang Taruna&lt;/b&gt;" in (summary.html or "")
    await tap(harness, 100, "✅ Simpan")
    [figure] = await _figures(harness)
    assert (figure.full_name, figure.category, figure.age_bracket) == ("Siti Rahmah", "tokoh_pemuda", "26-40")
    assert (figure.region_code, figure.phone) == ("63.71.05.1003", "+6281234567890")
    assert figure.organization == "Ketua <b>Karang Taruna</b>"
    assert len(figure.consent_version) == 16
    assert figure.consent_at is not None
    assert figure.messages_opt_in
    assert await _states(harness) == []
    texts = harness.fake.sent_texts(100)
    assert "Pendaftaran berhasil" in texts[-2]
    assert texts[-1].startswith("Terima kasih, Siti Rahmah, Anda sudah terdaftar di Rangkul.")
    async with harness.app.bot_data.sessions() as session:
        events = (await session.exec(select(AuditEvent).where(AuditEvent.action == "figure.register"))).all()
    # Only the kecamatan: the audit log is append-only and outlives /hapusdata (issue 8).
    assert [event.details["region"] for event in events] == ["63.71.05"]
    assert "Siti" not in json.dumps([event.details for event in events])


async def test_every_validation_error_gets_a_specific_hint(harness: Harness) -> None:
    harness.fake.user(101, "Budi")
    await harness.send(101, "/daftar")
    await tap(harness, 101, "Setuju")
    name_cases = {
        "B": "2 sampai 100 karakter",
        "x" * 101: "2 sampai 100 karakter",
        "/namasaya": "Sepertinya itu perintah",
        "Budi https://spam.example": "tidak boleh berisi tautan",
        "Budi @budi": "tidak boleh berisi tautan",
        "Budi 123": "hanya boleh berisi huruf",
        "<script>alert(1)</script>": "hanya boleh berisi huruf",
        "   ": "Mohon tuliskan nama lengkap",
    }
    for text, hint in name_cases.items():
        replies = await harness.send(101, text)
        assert hint in replies[0].shown, (text, replies[0].shown)
    await harness.send(101, "Budi Santoso")
    [again, question] = await harness.send(101, "tokoh pemuda")  # typed where a button is expected
    assert "pilih salah satu tombol" in again.shown
    assert "Anda termasuk kategori tokoh yang mana?" in question.shown
    await tap(harness, 101, "Tokoh masyarakat")
    await tap(harness, 101, "41–60 tahun")
    replies = await harness.send(101, "kalimantan")
    assert "beberapa wilayah yang cocok" in replies[0].shown
    await tap(harness, 101, "Kalimantan Selatan")
    replies = await harness.send(101, "xyzzy")
    assert "tidak kami temukan di Kalimantan Selatan" in replies[0].shown
    await harness.send(101, "banjarmasin")
    await harness.send(101, "banjarmasin tengah")
    await tap(harness, 101, "Mawar")
    phone_cases = {
        "12345": "tidak dapat kami kenali",
        "bukan nomor": "tidak dapat kami kenali",
        "0511-3252000": "Sepertinya itu nomor telepon rumah",
    }
    for text, hint in phone_cases.items():
        replies = await harness.send(101, text)
        assert hint in replies[0].shown, (text, replies[0].shown)
    await harness.feed(harness.fake.share_contact(101, "6281299998888", contact_user_id=999))
    assert "bukan milik Anda sendiri" in harness.fake.sent_texts(101)[-2]
    await harness.feed(harness.fake.share_contact(101, "6281299998888"))  # own contact, without "+"
    replies = await harness.send(101, "o" * 121)
    assert "paling banyak 120 karakter" in replies[0].shown
    await tap(harness, 101, "Lewati")
    assert "Nomor HP: +6281299998888" in harness.last(101).shown
    assert "Organisasi/peran: belum diisi" in harness.last(101).shown
    assert await _figures(harness) == []  # nothing until Simpan


async def test_region_search_is_scoped_and_ambiguous_names_offer_choices(harness: Harness) -> None:
    harness.fake.user(102, "Ani")
    await harness.send(102, "/daftar")
    await tap(harness, 102, "Setuju")
    await harness.send(102, "Ani Lestari")
    await tap(harness, 102, "Tokoh perempuan")
    await tap(harness, 102, "18–25 tahun")
    await harness.send(102, "Kalimantan Selatan")
    [choices] = await harness.send(102, "banjar")
    labels = [button["text"] for button in choices.buttons()]
    assert labels[:3] == ["Kabupaten Banjar", "Kota Banjarmasin", "Kota Banjarbaru"]
    assert "Kota Banjar" not in labels  # the one in Jawa Barat
    # A forged press for Kota Banjar (Jawa Barat) at the Kalimantan Selatan step is refused.
    version = choices.buttons()[0]["callback_data"].split(":")[2]
    await harness.press_data(102, choices, f"reg:pick:{version}:32.79")
    assert "pilih salah satu tombol" in harness.fake.callback_answers[-1]["text"]
    await harness.press(102, choices, "Kabupaten Banjar")
    assert "Kabupaten Banjar, Kalimantan Selatan" in harness.last(102).shown
    # Kabupaten Banjar has 20 kecamatan: the list is paginated.
    page_one = harness.last(102)
    assert "Halaman 1 dari 2" in page_one.shown
    await harness.press(102, page_one, "Berikutnya ›")
    assert "Halaman 2 dari 2" in harness.fake.chat(102).find(page_one.message_id).shown  # type: ignore[union-attr]


async def test_back_and_edit_from_the_summary(harness: Harness) -> None:
    harness.fake.user(103, "Rudi")
    await harness.send(103, "/daftar")
    await tap(harness, 103, "Setuju")
    await harness.send(103, "Rudi")
    await tap(harness, 103, "« Kembali")
    assert "nama lengkap" in harness.last(103).shown
    await harness.send(103, "Rudi Hartono")
    await tap(harness, 103, "Tokoh agama")
    await tap(harness, 103, "41–60 tahun")
    await harness.send(103, "kalimantan selatan")
    await harness.send(103, "banjarmasin")
    await harness.send(103, "banjarmasin tengah")
    await tap(harness, 103, "Gadang")
    await harness.send(103, "Kembali")  # the reply keyboard's back button at the phone question
    assert "Desa/kelurahan mana?" in harness.last(103).shown
    await tap(harness, 103, "Gadang")
    await harness.send(103, "Lewati")
    await harness.send(103, "Majelis Taklim")
    await tap(harness, 103, "Ubah nama")
    await harness.send(103, "Rudi Hartono Saputra")
    assert "Nama: Rudi Hartono Saputra" in harness.last(103).shown
    await tap(harness, 103, "Ubah wilayah")
    await harness.send(103, "kalimantan selatan")
    await harness.send(103, "banjar")
    await tap(harness, 103, "Kota Banjarbaru")
    await harness.send(103, "landasan ulin")
    await tap(harness, 103, _first_region_button(harness, 103))
    summary = harness.last(103)
    assert "Kota Banjarbaru" in summary.shown
    await tap(harness, 103, "✅ Simpan")
    [figure] = await _figures(harness)
    assert figure.full_name == "Rudi Hartono Saputra"
    assert figure.region_code.startswith("63.72.")
    assert figure.phone is None


def _first_region_button(harness: Harness, user_id: int) -> str:
    return str(_last_with_buttons(harness, user_id).buttons()[0]["text"])


async def test_consent_declined_stores_nothing(harness: Harness) -> None:
    harness.fake.user(104, "Dedi")
    await harness.send(104, "/daftar")
    await tap(harness, 104, "Tidak setuju")
    assert "Jawaban Anda tidak disimpan" in harness.last(104).shown
    assert await _figures(harness) == []
    assert await _states(harness) == []


async def test_minor_needs_a_guardian_and_is_not_stored_without_one(harness: Harness) -> None:
    for user_id, guardian_answer in ((105, "Ya, saya setuju"), (106, "Tidak")):
        harness.fake.user(user_id, "Putri")
        await harness.send(user_id, "/daftar")
        await tap(harness, user_id, "Setuju")
        await harness.send(user_id, f"Putri Ayu {'A' if user_id == 105 else 'B'}")
        await tap(harness, user_id, "Tokoh pemuda")
        await tap(harness, user_id, "Di bawah 18 tahun")
        assert "persetujuan orang tua atau wali" in harness.last(user_id).shown
        await harness.send(user_id, "Hj. Aminah")
        assert "Saya, Hj. Aminah, orang tua/wali dari Putri Ayu" in harness.last(user_id).shown
        await tap(harness, user_id, guardian_answer)
    assert "kami belum dapat mendaftarkan Anda" in harness.last(106).shown
    assert "Provinsi" in harness.last(105).shown or "provinsi" in harness.last(105).shown
    await harness.send(105, "kalimantan selatan")
    await harness.send(105, "banjarmasin")
    await harness.send(105, "banjarmasin tengah")
    await tap(harness, 105, "Mawar")
    await harness.send(105, "Lewati")
    await tap(harness, 105, "Lewati")
    assert "Orang tua/wali: Hj. Aminah" in harness.last(105).shown
    await tap(harness, 105, "✅ Simpan")
    [figure] = await _figures(harness)
    assert (figure.full_name, figure.age_bracket, figure.guardian_name) == ("Putri Ayu A", "<18", "Hj. Aminah")
    assert figure.guardian_consent_at is not None
    assert [s.person_id for s in await _states(harness)] == []


async def test_cancel_at_every_step_saves_nothing(harness: Harness) -> None:
    steps = [
        ["/daftar"],
        ["/daftar", "tap:Setuju"],
        ["/daftar", "tap:Setuju", "Nama Lengkap"],
        ["/daftar", "tap:Setuju", "Nama Lengkap", "tap:Tokoh adat"],
        ["/daftar", "tap:Setuju", "Nama Lengkap", "tap:Tokoh adat", "tap:Di atas 60 tahun"],
        ["/daftar", "tap:Setuju", "Nama Lengkap", "tap:Tokoh adat", "tap:Di atas 60 tahun", "kalimantan selatan"],
    ]
    for index, actions in enumerate(steps):
        user_id = 200 + index
        harness.fake.user(user_id, "Warga")
        for action in actions:
            if action.startswith("tap:"):
                await tap(harness, user_id, action[4:])
            else:
                await harness.send(user_id, action)
        [reply] = await harness.send(user_id, "/batal")
        assert "Dibatalkan. Tidak ada yang disimpan." in reply.shown
    harness.fake.user(210, "Warga")
    await walk_to_summary(harness, 210)
    [reply] = await harness.send(210, "/cancel")
    assert "Dibatalkan" in reply.shown
    assert await _figures(harness) == []
    assert await _states(harness) == []


async def test_restart_mid_conversation_continues_where_it_was(harness: Harness) -> None:
    harness.fake.user(107, "Joko")
    await harness.send(107, "/daftar")
    await tap(harness, 107, "Setuju")
    await harness.send(107, "Joko Widodo")
    category_question = harness.last(107)
    await harness.app.shutdown()
    # A new process: a new Application on the same database and the same Telegram.
    harness.app = build_application(
        harness.app.bot_data.settings,
        harness.fake.token,
        harness.app.bot_data.sessions.kw["bind"],
        request=FakeRequest(harness.fake),
        get_updates_request=FakeRequest(harness.fake),
    )
    await harness.app.initialize()
    await harness.press(107, category_question, "Tokoh masyarakat")
    assert "Berapa usia Anda?" in harness.last(107).shown
    [state] = await _states(harness)
    assert state.data["name"] == "Joko Widodo"


async def test_stale_double_and_forged_buttons_change_nothing(harness: Harness) -> None:
    harness.fake.user(108, "Eka")
    await harness.send(108, "/daftar")
    notice = harness.last(108)
    agree = notice.buttons()[0]["callback_data"]
    await tap(harness, 108, "Setuju")
    await harness.press_data(108, notice, agree)  # second tap of the same button
    assert harness.fake.callback_answers[-1]["text"] == "Tombol ini sudah tidak berlaku."
    assert "nama lengkap" in harness.last(108).shown  # the current question is asked again
    await harness.send(108, "Eka Putra")
    question = harness.last(108)
    version = question.buttons()[0]["callback_data"].split(":")[2]
    await harness.press_data(108, question, f"reg:pick:{version}:tokoh_palsu")
    await harness.press_data(108, question, "reg:pick:999:tokoh_pemuda")
    await harness.press_data(108, question, "reg:x")
    [state] = await _states(harness)
    assert state.step == "category"
    assert "category" not in state.data
    # A button from a registration that no longer exists.
    await harness.send(108, "/batal")
    await harness.press_data(108, question, f"reg:pick:{version}:tokoh_pemuda")
    assert "Tidak ada pendaftaran yang sedang berjalan" in harness.last(108).shown
    assert await _figures(harness) == []


async def test_registered_person_sees_profile_and_edits_it(harness: Harness) -> None:
    await register(harness, 109, name="Lina Marlina")
    [profile] = await harness.send(109, "/daftar")
    assert "Anda sudah terdaftar. Berikut data Anda:" in profile.shown
    [profile] = await harness.send(109, "/profil")
    assert "Nama: Lina Marlina" in profile.shown
    assert "Menerima pesan: ya" in profile.shown
    await harness.press(109, profile, "Ubah nama")
    replies = await harness.send(109, "/ini bukan nama")
    assert "Sepertinya itu perintah" in replies[0].shown
    await harness.send(109, "Lina Marlina Sari")
    assert "Tersimpan. Berikut data Anda sekarang:" in harness.last(109).shown
    await harness.press(109, harness.last(109), "Ubah nomor HP")
    await harness.send(109, "+62 813 1111 2222")
    await harness.press(109, harness.last(109), "Ubah usia")
    await tap(harness, 109, "« Kembali")  # leaving an edit keeps the profile as it was
    [figure] = await _figures(harness)
    assert (figure.full_name, figure.phone, figure.age_bracket) == ("Lina Marlina Sari", "+6281311112222", "26-40")
    assert await _states(harness) == []


async def test_stop_and_resume_change_broadcast_eligibility(harness: Harness) -> None:
    await register(harness, 110)
    async with harness.app.bot_data.sessions() as session:
        assert await figures.count_eligible(session=session) == 1
    [reply] = await harness.send(110, "/berhenti")
    assert "tidak akan lagi menerima pesan" in reply.shown
    async with harness.app.bot_data.sessions() as session:
        assert await figures.count_eligible(session=session) == 0
    [reply] = await harness.send(110, "/lanjut")
    assert "kembali menerima pesan" in reply.shown
    async with harness.app.bot_data.sessions() as session:
        assert await figures.count_eligible(session=session) == 1
    # Blocking the bot makes the figure unreachable until they write again.
    await harness.feed(harness.fake.block(110))
    async with harness.app.bot_data.sessions() as session:
        assert await figures.count_eligible(session=session) == 0
    harness.fake.unblock(110)
    await harness.send(110, "halo")
    async with harness.app.bot_data.sessions() as session:
        assert await figures.count_eligible(session=session) == 1


async def test_unregistered_people_get_a_pointer_to_daftar(harness: Harness) -> None:
    harness.fake.user(111, "Tamu")
    for command in ("/profil", "/berhenti", "/lanjut"):
        [reply] = await harness.send(111, command)
        assert "Anda belum terdaftar. Ketik /daftar untuk mendaftar." in reply.shown
    [welcome] = await harness.send(111, "/start")
    assert "/daftar" in welcome.shown
    await harness.press(111, welcome, "Daftar sekarang")
    assert "Pemberitahuan Pelindungan Data Pribadi" in harness.last(111).shown


async def test_my_data_is_a_json_file_with_everything_stored(harness: Harness) -> None:
    await register(harness, 112, name="Wahyu Hidayat")
    await harness.send(112, "/dataku")
    document = harness.last(112).document
    assert document is not None
    assert document.filename == "rangkul-data-saya.json"
    data = json.loads(document.content)
    assert data["registration"]["full_name"] == "Wahyu Hidayat"
    assert data["registration"]["phone"] == "+6281234567890"
    assert data["telegram"]["user_id"] == 112


async def test_delete_data_leaves_no_personal_data_in_any_table(harness: Harness) -> None:
    await register(harness, 113, name="Hendra Gunawan")
    harness.fake.user(114, "Other")
    [question] = await harness.send(113, "/hapusdata")
    await harness.press(113, question, "Ya, hapus data saya")
    assert "Data pribadi Anda telah dihapus" in harness.last(113).shown
    personal = ["Hendra", "Gunawan", "+6281234567890", "siti_113", "Karang Taruna", "113"]
    async with harness.app.bot_data.sessions() as session:
        connection = await session.connection()
        tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        for table in tables:
            rows = (await connection.execute(sa.text(f"SELECT * FROM {table}"))).all()
            dump = json.dumps([list(row) for row in rows], default=str)
            for value in personal[:-1]:
                assert value not in dump, (table, value)
        telegram_ids = (await session.exec(select(Person.telegram_id))).all()
        assert 113 not in telegram_ids
        [figure] = (await session.exec(select(Figure))).all()
        # Aggregated so that nobody can be singled out: the kecamatan, not the desa (issue 8).
        assert (figure.category, figure.region_code) == ("tokoh_pemuda", "63.71.05")
        assert figure.deleted_at is not None
        assert await figures.count_eligible(session=session) == 0
        deletion = (await session.exec(select(AuditEvent).where(AuditEvent.action == "figure.delete"))).one()
        assert "Hendra" not in json.dumps(deletion.details)
    # A stale confirmation pressed again finds nobody to delete.
    await harness.press_data(113, question, f"hapus:yes:{figure.id}")
    assert "sudah tidak berlaku" in harness.fake.callback_answers[-1]["text"]


async def test_invitation_link_prefills_region_and_records_attribution(harness: Harness) -> None:
    harness.fake.user(120, "Organizer", username="org_banjarmasin")
    [summary] = await harness.send(ADMIN_ID, "/peran beri 120 penyelenggara 63.71")
    await harness.press(ADMIN_ID, summary, "Ya, simpan")
    [refused] = await harness.send(120, "/undangan 63.72 Sosialisasi")
    assert "berada di luar wilayah Anda" in refused.shown
    assert "Anda dapat mengundang warga di: Kota Banjarmasin (63.71)" in refused.shown  # by name, not a bare code
    [link, qr] = await harness.send(120, "/undangan 63.71.05 Sosialisasi Pemilih Pemula")
    assert qr.photo is not None
    assert qr.photo.content.startswith(b"\x89PNG")
    url = next(word for word in link.shown.split() if word.startswith("https://t.me/"))
    payload = url.split("start=")[1]
    harness.fake.user(121, "Fajar")
    await harness.send(121, f"/start {payload}")
    await tap(harness, 121, "Setuju")
    await harness.send(121, "Fajar Nugraha")
    await tap(harness, 121, "Tokoh pemuda")
    await tap(harness, 121, "18–25 tahun")
    assert "Desa/kelurahan mana?" in harness.last(121).shown  # province, kabupaten and kecamatan came from the link
    await tap(harness, 121, "Pasar Lama")
    await harness.send(121, "Lewati")
    await tap(harness, 121, "Lewati")
    await tap(harness, 121, "✅ Simpan")
    [figure] = await _figures(harness)
    async with harness.app.bot_data.sessions() as session:
        invitation = (await session.exec(select(Invitation))).one()
    assert figure.invitation_id == invitation.id
    assert figure.region_code == "63.71.05.1006"
    [listing] = await harness.send(120, "/undangan")
    assert "Banjarmasin Tengah — Sosialisasi Pemilih Pemula: 1 pendaftar" in listing.shown
    # A tampered or unknown payload is a normal welcome.
    harness.fake.user(122, "Gita")
    for payload in ("tidak-ada", "<script>", "x" * 65):
        [welcome] = await harness.send(122, f"/start {payload}")
        assert welcome.shown.startswith("Selamat datang di Rangkul, Gita!")
    [refused] = await harness.send(122, "/undangan 63")
    assert "hanya penyelenggara pemilu" in refused.shown


async def test_backing_out_of_summary_edits_never_saves_incomplete_answers(harness: Harness) -> None:
    harness.fake.user(130, "Wulan")
    await walk_to_summary(harness, 130, name="Wulan Sari")
    # Change the age to a minor, then back out twice: the answers are as they were before the edit.
    await tap(harness, 130, "Ubah usia")
    await tap(harness, 130, "Di bawah 18 tahun")
    await tap(harness, 130, "« Kembali")
    await tap(harness, 130, "« Kembali")
    assert "Usia: 26–40 tahun" in harness.last(130).shown
    # Change the region, stop at the province, back out: the old desa stays.
    await tap(harness, 130, "Ubah wilayah")
    await harness.send(130, "kalimantan timur")
    await tap(harness, 130, "« Kembali")
    await tap(harness, 130, "« Kembali")
    assert "Wilayah: Mawar, Banjarmasin Tengah" in harness.last(130).shown
    # A forged "change guardian" for an adult is refused.
    summary = _last_with_buttons(harness, 130)
    version = summary.buttons()[0]["callback_data"].split(":")[2]
    await harness.press_data(130, summary, f"reg:edit:{version}:guardian")
    assert "pilih salah satu tombol" in harness.fake.callback_answers[-1]["text"]
    await tap(harness, 130, "✅ Simpan")
    [figure] = await _figures(harness)
    assert (figure.age_bracket, figure.region_code, figure.guardian_name) == ("26-40", "63.71.05.1003", None)


async def test_a_new_guardian_must_confirm_again(harness: Harness) -> None:
    harness.fake.user(131, "Rani")
    await harness.send(131, "/daftar")
    await tap(harness, 131, "Setuju")
    await harness.send(131, "Rani Putri")
    await tap(harness, 131, "Tokoh pemuda")
    await tap(harness, 131, "Di bawah 18 tahun")
    await harness.send(131, "Hj. Aminah")
    await tap(harness, 131, "Ya, saya setuju")
    for text in ("kalimantan selatan", "banjarmasin", "banjarmasin tengah"):
        await harness.send(131, text)
    await tap(harness, 131, "Mawar")
    await harness.send(131, "Lewati")
    await tap(harness, 131, "Lewati")
    await tap(harness, 131, "Ubah wali")
    await harness.send(131, "Orang Lain")
    assert "Saya, Orang Lain, orang tua/wali dari Rani Putri" in harness.last(131).shown
    await tap(harness, 131, "Tidak")
    assert await _figures(harness) == []


async def test_cancel_at_the_later_steps_too(harness: Harness) -> None:
    for index, stop_after in enumerate(("banjarmasin", "banjarmasin tengah", "tap:Mawar", "0812-3456-7890")):
        user_id = 140 + index
        harness.fake.user(user_id, "Warga")
        await harness.send(user_id, "/daftar")
        await tap(harness, user_id, "Setuju")
        await harness.send(user_id, "Nama Warga")
        await tap(harness, user_id, "Tokoh adat")
        await tap(harness, user_id, "Di atas 60 tahun")
        await harness.send(user_id, "kalimantan selatan")
        for action in ("banjarmasin", "banjarmasin tengah", "tap:Mawar", "0812-3456-7890"):
            if action.startswith("tap:"):
                await tap(harness, user_id, action[4:])
            else:
                await harness.send(user_id, action)
            if action == stop_after:
                break
        [reply] = await harness.send(user_id, "/batal")
        assert "Dibatalkan" in reply.shown
        assert reply.reply_markup == {"remove_keyboard": True}
    assert await _figures(harness) == []
    assert await _states(harness) == []


async def test_odd_inputs_during_registration(harness: Harness) -> None:
    harness.fake.user(150, "Tono")
    [welcome] = await harness.send(150, "/start")
    await harness.press(150, welcome, "Daftar sekarang")
    await tap(harness, 150, "Setuju")
    await harness.send(150, "Tono Sutono")
    # The old "register" button and /daftar continue the registration instead of wiping it.
    await harness.press_data(150, welcome, "reg:new")
    await harness.send(150, "/daftar")
    [state] = await _states(harness)
    assert (state.step, state.data["name"]) == ("category", "Tono Sutono")
    await tap(harness, 150, "Tokoh masyarakat")
    await tap(harness, 150, "41–60 tahun")
    replies = await harness.send(150, "k")
    assert "minimal dua huruf" in replies[0].shown
    question = _last_with_buttons(harness, 150)
    version = question.buttons()[0]["callback_data"].split(":")[2]
    await harness.press_data(150, question, f"reg:page:{version}:²")  # a forged page number
    await harness.feed(harness.fake.send_sticker(150))
    await harness.send(150, "kalimantan selatan")
    await harness.send(150, "banjarmasin")
    await harness.send(150, "banjarmasin tengah")
    await tap(harness, 150, "Mawar")
    await harness.send(150, "Lewati")
    replies = await harness.send(150, "Karang Taruna https://contoh.example")
    assert "tanpa tautan atau perintah" in replies[0].shown
    assert "Maaf" not in " ".join(harness.fake.sent_texts(150))  # no apology: nothing went wrong


async def test_a_region_typed_with_its_kind_is_taken_at_once(harness: Harness) -> None:
    harness.fake.user(130, "Ani")
    await harness.send(130, "/daftar")
    await tap(harness, 130, "Setuju")
    await harness.send(130, "Ani Lestari")
    await tap(harness, 130, "Tokoh perempuan")
    await tap(harness, 130, "18–25 tahun")
    await harness.send(130, "Kalsel")  # the province's usual short name
    [question] = await harness.send(130, "Kabupaten Banjar")  # not Kota Banjarmasin nor Kota Banjarbaru
    assert "Kabupaten Banjar, Kalimantan Selatan" in question.shown and "Kecamatan" in question.shown


UNTYPED = "hanya dapat dijawab"  # the answer to a photo, sticker, voice note or file in the middle of a question


async def test_media_in_the_middle_of_a_registration_are_no_answer_and_the_question_is_asked_again(
    harness: Harness,
) -> None:
    harness.fake.user(160, "Baru")
    await harness.send(160, "/daftar")
    await tap(harness, 160, "Setuju")
    before = len(harness.fake.chat(160).messages)
    await harness.feed(harness.fake.send_sticker(160))
    refusal, question = harness.fake.chat(160).messages[before:]
    assert UNTYPED in refusal.shown and "/batal" in refusal.shown
    assert "/daftar" not in refusal.shown  # not "register with /daftar": they are registering
    assert "nama lengkap" in question.shown
    await harness.feed(harness.fake.send_voice(160))
    await harness.feed(harness.fake.send_document_from_user(160, "ktp.pdf", b"%PDF-1.4"))
    assert "nama lengkap" in harness.last(160).shown
    [state] = await _states(harness)
    assert (state.step, "name" in state.data) == ("name", False)
    # The registration goes on with a typed answer; at the phone question a photo gets the same answer, pointing
    # at the "share my number" button, and a shared contact still answers it.
    await harness.send(160, "Budi Baru")
    await tap(harness, 160, "Tokoh adat")
    await tap(harness, 160, "41–60 tahun")
    await harness.send(160, "kalimantan selatan")
    await harness.send(160, "banjarmasin")
    await harness.send(160, "banjarmasin tengah")
    await tap(harness, 160, "Mawar")
    before = len(harness.fake.chat(160).messages)
    await harness.feed(harness.fake.send_photo(160, caption="nomor saya di foto ini"))
    refusal, question = harness.fake.chat(160).messages[before:]
    assert UNTYPED in refusal.shown and "Bagikan nomor saya" in refusal.shown
    assert question.reply_markup is not None and question.reply_markup["keyboard"][0][0]["request_contact"] is True
    await harness.feed(harness.fake.share_contact(160, "6281299998888"))
    await tap(harness, 160, "Lewati")
    await tap(harness, 160, "✅ Simpan")
    [figure] = await _figures(harness)
    assert (figure.full_name, figure.phone) == ("Budi Baru", "+6281299998888")
    async with harness.app.bot_data.sessions() as session:
        assert (await session.exec(select(Reply))).all() == []


async def test_a_photo_at_a_profile_edit_is_no_reply_for_the_officers(harness: Harness) -> None:
    await register(harness, 161, name="Lina Marlina")
    [profile] = await harness.send(161, "/profil")
    await harness.press(161, profile, "Ubah nama")
    before = len(harness.fake.chat(161).messages)
    await harness.feed(harness.fake.send_photo(161, caption="foto KTP saya"))
    await harness.feed(harness.fake.send_sticker(161))
    sent = harness.fake.chat(161).messages[before:]
    assert len(sent) == 4
    assert all(UNTYPED in m.shown and "/batal" in m.shown for m in sent[0::2])
    assert all("nama lengkap" in m.shown for m in sent[1::2])
    assert all("teruskan kepada petugas" not in m.shown for m in sent)
    async with harness.app.bot_data.sessions() as session:
        assert (await session.exec(select(Reply))).all() == []
    await harness.send(161, "Lina Marlina Baru")
    [figure] = await _figures(harness)
    assert figure.full_name == "Lina Marlina Baru"


async def test_a_double_tap_on_save_never_says_there_is_no_registration(harness: Harness) -> None:
    harness.fake.user(162, "Dobel")
    await walk_to_summary(harness, 162)
    summary = _last_with_buttons(harness, 162)
    save = next(b["callback_data"] for b in summary.buttons() if b["callback_data"].startswith("reg:save"))
    await harness.press_data(162, summary, save)
    assert len(await _figures(harness)) == 1
    before = len(harness.fake.chat(162).messages)
    await harness.press_data(162, summary, save)  # the second tap of the same button
    assert harness.fake.callback_answers[-1]["text"] == (
        "Tombol ini sudah tidak berlaku. Anda sudah terdaftar. Lihat atau perbaiki data Anda dengan /profil."
    )
    later = [m.shown for m in harness.fake.chat(162).messages[before:]]
    assert all("Tidak ada pendaftaran" not in text and "/daftar" not in text for text in later)
    assert len(await _figures(harness)) == 1


async def test_a_name_that_is_not_accepted_asks_for_the_name_again(harness: Harness) -> None:
    """ "Nama hanya boleh berisi huruf…" and the other name problems said what was wrong, not what to do next."""
    harness.fake.user(140, "Budi")
    await harness.send(140, "/daftar")
    await tap(harness, 140, "Setuju")
    for text in ("B", "x" * 101, "Budi https://spam.example", "Budi 123"):
        [problem] = await harness.send(140, text)
        assert problem.shown.endswith("Silakan ketik nama lengkap Anda lagi."), problem.shown
    [problem] = await harness.send(140, "Budi @budi")
    assert problem.shown == "Nama tidak boleh berisi tautan atau @username. Silakan ketik nama lengkap Anda lagi."
    # The parent's or guardian's name likewise, in their words.
    await harness.send(140, "Putri Ayu")
    await tap(harness, 140, "Tokoh pemuda")
    await tap(harness, 140, "Di bawah 18 tahun")
    [problem] = await harness.send(140, "Aminah 123")
    assert problem.shown.endswith("Silakan ketik lagi nama lengkap orang tua atau wali Anda."), problem.shown
