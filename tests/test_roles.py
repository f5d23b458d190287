"""/peran: granting and revoking roles, with every check on the server and every change audited."""

from __future__ import annotations

from sqlmodel import col, select

from bot.services import people, roles
from models import AuditEvent, Person, Role, RoleGrant
from tests.conftest import ADMIN_ID, Harness


async def _role_rows(harness: Harness) -> list[tuple[int | None, str, str]]:
    async with harness.app.bot_data.sessions() as session:
        rows = (
            await session.exec(select(RoleGrant, Person).join(Person, col(RoleGrant.person_id) == col(Person.id)))
        ).all()
    return sorted((person.telegram_id, grant.role, grant.region_code) for grant, person in rows)


async def _audit(harness: Harness) -> list[AuditEvent]:
    async with harness.app.bot_data.sessions() as session:
        return list((await session.exec(select(AuditEvent).order_by(AuditEvent.id))).all())  # type: ignore[arg-type]


async def test_admin_grants_organizer_by_username_after_confirmation(harness: Harness) -> None:
    harness.fake.user(20, "Rahmat", username="Rahmat_KPU")
    await harness.send(20, "/start")
    [summary] = await harness.send(ADMIN_ID, "/peran beri @rahmat_kpu penyelenggara 63.71 63.03")
    assert "Berikan peran penyelenggara kepada Rahmat (@rahmat_kpu, ID 20)" in summary.shown
    assert "63.71 Kota Banjarmasin, Kalimantan Selatan" in summary.shown
    assert "63.03 Kabupaten Banjar, Kalimantan Selatan" in summary.shown
    assert await _role_rows(harness) == []  # nothing before the confirmation

    await harness.press(ADMIN_ID, summary, "Ya, simpan")
    assert await _role_rows(harness) == [(20, "organizer", "63.03"), (20, "organizer", "63.71")]
    assert harness.last(ADMIN_ID).shown.startswith("✅ Berikan peran penyelenggara")
    assert harness.last(ADMIN_ID).buttons() == []
    # The new organizer is told, and gets the organizer menu in their own chat.
    assert "Anda kini menjadi penyelenggara" in harness.last(20).shown
    assert "chat:20" in str(harness.fake.commands.keys())
    [event] = [e for e in await _audit(harness) if e.action == "role.grant"]
    assert event.details == {"role": "organizer", "regions": ["63.71", "63.03"]}
    assert event.actor_person_id is not None and event.subject_person_id is not None


async def test_grant_by_telegram_id_and_by_reply_to_forwarded_message(harness: Harness) -> None:
    harness.fake.user(21, "Lina")
    [summary] = await harness.send(ADMIN_ID, "/peran grant 21 admin")
    await harness.press(ADMIN_ID, summary, "Ya, simpan")
    harness.fake.user(22, "Fajar")
    forwarded = harness.fake.forward_from(ADMIN_ID, 22, "Assalamualaikum, saya Fajar")
    await harness.feed(forwarded)
    reply = harness.fake.reply_to(ADMIN_ID, forwarded["message"]["message_id"], "/peran beri penyelenggara 63")
    await harness.feed(reply)
    await harness.press(ADMIN_ID, harness.last(ADMIN_ID), "Ya, simpan")
    assert await _role_rows(harness) == [(21, "admin", ""), (22, "organizer", "63")]


async def test_hidden_forward_and_missing_target_explain_what_to_do(harness: Harness) -> None:
    forwarded = harness.fake.forward_from(ADMIN_ID, 23, "pesan", hidden=True)
    await harness.feed(forwarded)
    await harness.feed(harness.fake.reply_to(ADMIN_ID, forwarded["message"]["message_id"], "/peran beri admin"))
    assert "menyembunyikan akunnya" in harness.last(ADMIN_ID).shown
    [no_target] = await harness.send(ADMIN_ID, "/peran beri admin")
    assert "Sebutkan orangnya" in no_target.shown


async def test_bad_role_commands_get_specific_indonesian_hints(harness: Harness) -> None:
    cases = {
        "/peran lompat": "Cara menggunakan /peran",
        "/peran beri 55": "Sebutkan perannya",
        "/peran beri 55 penyelenggara": "Sebutkan sedikitnya satu kode wilayah",
        "/peran beri 55 penyelenggara 99.99": "Kode wilayah 99.99 tidak terdapat",
        "/peran beri 55 penyelenggara <script>": "Kode wilayah <script> tidak terdapat",
        "/peran beri 55 admin 63": "kode wilayah tidak perlu disebutkan",
        "/peran beri @tidak_ada admin": "Belum ada pengguna @tidak_ada",
        "/peran beri @x! admin": "bukan username Telegram yang sah",
        f"/peran cabut {ADMIN_ID} admin": "ditetapkan dalam berkas pengaturan",
    }
    for command, expected in cases.items():
        [reply] = await harness.send(ADMIN_ID, command)
        assert expected in reply.shown, (command, reply.shown)
    assert await _role_rows(harness) == []


async def test_a_number_that_cannot_be_a_telegram_id_is_named_as_the_problem(harness: Harness) -> None:
    for target in ("99999999999999999999", "-5", "+62812"):
        [reply] = await harness.send(ADMIN_ID, f"/peran beri {target} admin")
        assert "bukan ID pengguna Telegram" in reply.shown, reply.shown
    assert await _role_rows(harness) == []


async def test_non_admins_cannot_use_peran_or_its_buttons(harness: Harness) -> None:
    harness.fake.user(30, "Organizer")
    [summary] = await harness.send(ADMIN_ID, "/peran beri 30 penyelenggara 63")
    await harness.press(ADMIN_ID, summary, "Ya, simpan")
    harness.fake.user(31, "Figur")
    for user_id in (30, 31):
        [reply] = await harness.send(user_id, "/peran beri 31 admin")
        assert "hanya admin Rangkul" in reply.shown
    # A forged press of an admin's confirmation button by a figure, with the admin's own nonce.
    [pending] = await harness.send(ADMIN_ID, "/peran beri 31 admin")
    callback_data = pending.buttons()[0]["callback_data"]
    # The forger's client sends it as if pressed under a message in their own chat.
    own_message = harness.last(31)
    await harness.feed(harness.fake.press_button(31, own_message.message_id, callback_data))
    answer = harness.fake.callback_answers[-1]
    assert "hanya admin Rangkul" in answer["text"] and answer["show_alert"]
    assert await _role_rows(harness) == [(30, "organizer", "63")]


async def test_stale_double_and_forged_buttons_change_nothing(harness: Harness) -> None:
    harness.fake.user(40, "Maya")
    [first] = await harness.send(ADMIN_ID, "/peran beri 40 penyelenggara 63.71")
    [second] = await harness.send(ADMIN_ID, "/peran beri 40 admin")
    # The first summary was replaced by the second: its button is stale.
    await harness.press(ADMIN_ID, first, "Ya, simpan")
    assert "sudah tidak berlaku" in harness.fake.callback_answers[-1]["text"]
    confirm_data = second.buttons()[0]["callback_data"]
    await harness.press(ADMIN_ID, second, "Ya, simpan")
    await harness.press_data(ADMIN_ID, second, confirm_data)  # a double tap arrives after the edit
    assert "sudah tidak berlaku" in harness.fake.callback_answers[-1]["text"]
    await harness.press_data(ADMIN_ID, second, "peran:ok:forged")
    await harness.press_data(ADMIN_ID, second, "peran:ok")
    await harness.press_data(ADMIN_ID, second, "something-else")
    assert "sudah tidak berlaku" in harness.fake.callback_answers[-1]["text"]
    assert await _role_rows(harness) == [(40, "admin", "")]
    assert len([e for e in await _audit(harness) if e.action == "role.grant"]) == 1


async def test_cancel_button_and_batal_drop_the_pending_change(harness: Harness) -> None:
    harness.fake.user(41, "Rudi")
    [summary] = await harness.send(ADMIN_ID, "/peran beri 41 admin")
    await harness.press(ADMIN_ID, summary, "Batal")
    assert "Tidak ada peran yang diubah" in harness.last(ADMIN_ID).shown
    [summary] = await harness.send(ADMIN_ID, "/peran beri 41 admin")
    [cancelled] = await harness.send(ADMIN_ID, "/batal")
    assert "Dibatalkan" in cancelled.shown
    await harness.press(ADMIN_ID, summary, "Ya, simpan")
    assert await _role_rows(harness) == []


async def test_revoke_organizer_region_then_all_and_list(harness: Harness) -> None:
    [summary] = await harness.send(ADMIN_ID, "/peran beri 50 penyelenggara 63.71, 63.72")
    assert "kepada ID 50 untuk" in summary.shown  # prepared before Nur ever wrote to the bot
    harness.fake.user(50, "Nur", username="nur_kpu")
    await harness.send(50, "/start")
    await harness.press(ADMIN_ID, summary, "Ya, simpan")
    [listing] = await harness.send(ADMIN_ID, "/peran daftar")
    assert "Nur (@nur_kpu, ID 50): penyelenggara untuk 63.71, 63.72" in listing.shown
    assert f"Admin dari berkas pengaturan: {ADMIN_ID}" in listing.shown
    [summary] = await harness.send(ADMIN_ID, "/peran cabut 50 penyelenggara 63.72")
    await harness.press(ADMIN_ID, summary, "Ya, simpan")
    assert await _role_rows(harness) == [(50, "organizer", "63.71")]
    [summary] = await harness.send(ADMIN_ID, "/role revoke @Nur_KPU organizer")
    await harness.press(ADMIN_ID, summary, "Ya, simpan")
    assert await _role_rows(harness) == []
    assert "telah berakhir" in harness.last(50).shown
    assert harness.fake.commands.get(("chat:50", "")) in (None, [])
    [nothing] = await harness.send(ADMIN_ID, "/peran cabut 50 admin")
    await harness.press(ADMIN_ID, nothing, "Ya, simpan")
    assert "tidak memegang peran tersebut" in harness.last(ADMIN_ID).shown


async def test_a_granted_admin_cannot_revoke_themselves(harness: Harness) -> None:
    harness.fake.user(60, "Hadi")
    [summary] = await harness.send(ADMIN_ID, "/peran beri 60 admin")
    await harness.press(ADMIN_ID, summary, "Ya, simpan")
    [reply] = await harness.send(60, "/peran cabut 60 admin")
    assert "tidak dapat mencabut peran admin Anda sendiri" in reply.shown


async def test_authority_scopes(harness: Harness) -> None:
    async with harness.app.bot_data.sessions() as session:
        actor = await people.record_person(
            session=session, telegram_id=ADMIN_ID, username=None, first_name="A", language_code="id"
        )
        subject = await people.record_person(
            session=session, telegram_id=70, username=None, first_name="B", language_code="id"
        )
        await roles.grant(session=session, actor=actor, subject=subject, role=Role.ORGANIZER, region_codes=["63.71"])
        authority = await roles.authority_of(session=session, person=subject, bootstrap_admins=[ADMIN_ID])
        assert authority.role is Role.ORGANIZER
        assert authority.covers("63.71.01.1001") and authority.covers("63.71")
        assert not authority.covers("63.72") and not authority.covers("63")
        boot = await roles.authority_of(session=session, person=actor, bootstrap_admins=[ADMIN_ID])
        assert boot.role is Role.ADMIN and boot.bootstrap and boot.covers("91")


async def test_an_unrecognised_person_is_named_as_what_is_wrong(harness: Harness) -> None:
    """'/peran beri <b>x</b> penyelenggara 63.71' answered "Sebutkan perannya", though the role was there."""
    for command, who in (("/peran beri <b>x</b> penyelenggara 63.71", "<b>x</b>"), ("/peran cabut budi admin", "budi")):
        [answer] = await harness.send(ADMIN_ID, command)
        assert f"kami tidak mengenali {who} sebagai pengguna" in answer.shown, answer.shown
        assert "ID pengguna Telegram" in answer.shown and "@username" in answer.shown
        assert "balasan atas pesan yang diteruskan" in answer.shown
        assert "Sebutkan perannya" not in answer.shown
    assert await _role_rows(harness) == []
    # Without any role word the role is what is missing, as before.
    [answer] = await harness.send(ADMIN_ID, "/peran beri budi")
    assert "Sebutkan perannya" in answer.shown
