"""Control of a broadcast while it is sent: rules re-checked during a pass (template edited, role revoked), and
pause/resume by rank (an organizer cannot resume an admin's pause; an admin takes over a role_changed pause)."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

from sqlmodel import col, select

from bot.services import broadcasts, deliveries, roles
from models import AuditEvent, Broadcast, BroadcastStatus, Person, Role
from tests.conftest import ADMIN_ID, Harness
from tests.test_broadcast import (
    ORGANIZER,
    _broadcasts,
    _outcomes,
    _received,
    compose_invitation,
    make_figures,
    make_organizer,
    tap,
)

REGION = "Kalimantan Selatan"


def _set(harness: Harness, **broadcast: object) -> None:
    settings = harness.app.bot_data.settings
    data = settings.model_dump()
    data["broadcast"].update(broadcast)
    harness.use_settings(type(settings).model_validate(data))


async def _person(harness: Harness, user_id: int) -> Person:
    async with harness.app.bot_data.sessions() as session:
        person: Person = (await session.exec(select(Person).where(Person.telegram_id == user_id))).one()
    return person


async def _revoke_organizer(harness: Harness, user_id: int) -> None:
    async with harness.app.bot_data.sessions() as session:
        person = (await session.exec(select(Person).where(Person.telegram_id == user_id))).one()
        await roles.revoke(session=session, actor=person, subject=person, role=Role.ORGANIZER)
        await session.commit()


async def _paused_while_sending(harness: Harness, recipients: list[int], change: object) -> tuple[float, Broadcast]:
    """Start delivering slowly, make CHANGE (a coroutine function) after a few messages; how long the pause took."""
    sending = asyncio.create_task(harness.deliver())
    await harness.fake.wait_for(lambda: sum(_received(harness, recipients, "Aula")) >= 3, timeout=10)
    changed_at = time.monotonic()
    await change()  # type: ignore[operator]
    await asyncio.wait_for(sending, timeout=10)
    [broadcast] = await _broadcasts(harness)
    return time.monotonic() - changed_at, broadcast


async def test_role_revoked_while_sending_pauses_within_two_seconds(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63")
    recipients = await make_figures(harness, 4000, 30)
    _set(harness, rate_per_second=5)  # six seconds of sending
    await compose_invitation(harness, ORGANIZER, REGION)
    await tap(harness, ORGANIZER, "📨 Kirim sekarang")
    took, broadcast = await _paused_while_sending(harness, recipients, lambda: _revoke_organizer(harness, ORGANIZER))
    assert (broadcast.status, broadcast.pause_reason) == (BroadcastStatus.PAUSED, "role_changed")
    assert took < 2.5
    assert sum(_received(harness, recipients, "Aula")) < 30
    assert any("peran atau wilayah penyelenggara" in t for t in harness.fake.sent_texts(ORGANIZER))


async def test_template_edited_while_sending_pauses_within_two_seconds(harness: Harness, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(harness.app.bot_data.settings.templates.dir, templates)
    settings = harness.app.bot_data.settings.model_dump()
    settings["templates"]["dir"] = templates
    harness.use_settings(type(harness.app.bot_data.settings).model_validate(settings))
    recipients = await make_figures(harness, 4100, 30)
    _set(harness, rate_per_second=5)
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    template = templates / "id" / "undangan_sosialisasi.html"

    async def edit() -> None:
        template.write_text(template.read_text(encoding="utf-8") + "\nDiubah.\n", encoding="utf-8")

    took, broadcast = await _paused_while_sending(harness, recipients, edit)
    assert (broadcast.status, broadcast.pause_reason) == (BroadcastStatus.PAUSED, "template_changed")
    assert took < 2.5
    assert sum(_received(harness, recipients, "Aula")) < 30
    # Resuming would send a text nobody previewed: refused, with what to do instead.
    [status] = await harness.send(ADMIN_ID, "/status")
    await harness.press(ADMIN_ID, status, "Lanjutkan")
    assert "tidak dapat dilanjutkan" in harness.fake.callback_answers[-1]["text"]
    assert "/siaran" in harness.fake.callback_answers[-1]["text"]
    assert (await _broadcasts(harness))[0].status == BroadcastStatus.PAUSED


async def test_an_organizer_cannot_resume_an_admins_pause(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63")
    recipients = await make_figures(harness, 4200, 4)
    await compose_invitation(harness, ORGANIZER, REGION)
    await tap(harness, ORGANIZER, "📨 Kirim sekarang")
    [status] = await harness.send(ADMIN_ID, "/status")
    await harness.press(ADMIN_ID, status, "Hentikan sementara")
    [broadcast] = await _broadcasts(harness)
    admin = await _person(harness, ADMIN_ID)
    assert (broadcast.status, broadcast.paused_by, broadcast.paused_rank) == (BroadcastStatus.PAUSED, admin.id, "admin")
    # The owner sees who paused it, and is refused with what to do next.
    [status] = await harness.send(ORGANIZER, "/status")
    assert "Dihentikan sementara oleh admin" in status.shown
    await harness.press(ORGANIZER, status, "Lanjutkan")
    refusal = harness.fake.callback_answers[-1]["text"]
    assert "hanya admin yang dapat melanjutkannya" in refusal
    assert "hubungi admin" in refusal
    await harness.deliver()
    assert _received(harness, recipients, "Aula") == [0] * 4
    # The owner may still cancel... but first the admin resumes, and it is sent.
    [status] = await harness.send(ADMIN_ID, "/status")
    await harness.press(ADMIN_ID, status, "Lanjutkan")
    await harness.deliver()
    assert _received(harness, recipients, "Aula") == [1] * 4
    # An organizer's own pause: the organizer resumes it, as before.
    await compose_invitation(harness, ORGANIZER, REGION)
    await tap(harness, ORGANIZER, "📨 Kirim sekarang")
    status, _first = await harness.send(ORGANIZER, "/status")
    await harness.press(ORGANIZER, status, "Hentikan sementara")
    status, _first = await harness.send(ORGANIZER, "/status")
    assert "Dihentikan sementara oleh penyelenggara" in status.shown
    await harness.press(ORGANIZER, status, "Lanjutkan")
    assert (await _broadcasts(harness))[1].status == BroadcastStatus.RUNNING


async def test_an_admin_resumes_a_role_changed_pause_and_becomes_its_owner(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63")
    recipients = await make_figures(harness, 4300, 5)
    await compose_invitation(harness, ORGANIZER, REGION)
    await tap(harness, ORGANIZER, "📨 Kirim sekarang")
    await _revoke_organizer(harness, ORGANIZER)
    await harness.deliver()
    [broadcast] = await _broadcasts(harness)
    assert (broadcast.pause_reason, broadcast.paused_rank) == ("role_changed", "system")
    # Even with the role back, the organizer may not resume a pause only an admin can judge.
    async with harness.app.bot_data.sessions() as session:
        person = (await session.exec(select(Person).where(Person.telegram_id == ORGANIZER))).one()
        await roles.grant(session=session, actor=person, subject=person, role=Role.ORGANIZER, region_codes=["63"])
        await session.commit()
    [status] = await harness.send(ORGANIZER, "/status")
    assert "peran atau wilayah penyelenggara telah berubah" in status.shown
    await harness.press(ORGANIZER, status, "Lanjutkan")
    assert "hanya admin yang dapat melanjutkannya" in harness.fake.callback_answers[-1]["text"]
    # The admin resumes: the broadcast is the admin's now, its checks pass, and it is sent.
    [status] = await harness.send(ADMIN_ID, "/status")
    await harness.press(ADMIN_ID, status, "Lanjutkan")
    admin = await _person(harness, ADMIN_ID)
    [broadcast] = await _broadcasts(harness)
    assert broadcast.created_by == admin.id
    await harness.deliver()
    [broadcast] = await _broadcasts(harness)
    assert broadcast.status == BroadcastStatus.DONE
    assert _received(harness, recipients, "Aula") == [1] * 5
    assert await _outcomes(harness, broadcast.id or 0) == {"sent": 5}
    # The final status goes to the admin, in a status message of the admin's own.
    assert broadcast.status_chat_id == ADMIN_ID
    final = harness.fake.chat(ADMIN_ID).find(broadcast.status_message_id or 0)
    assert final is not None and "Terkirim: 5" in final.shown
    async with harness.app.bot_data.sessions() as session:
        resumed = (await session.exec(select(AuditEvent).where(col(AuditEvent.action) == "broadcast.resume"))).one()
    assert resumed.actor_person_id == admin.id
    assert resumed.details["owner_from"] == (await _person(harness, ORGANIZER)).id


async def test_the_engines_own_pause_or_start_never_overwrites_a_persons_cancel_or_pause(harness: Harness) -> None:
    """The engine read the broadcast (running, or scheduled and due) just before a person acted on it: its write
    must not undo what the person did (a lost update)."""
    await make_figures(harness, 3500, 3)
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    [broadcast] = await _broadcasts(harness)
    admin = await _person(harness, ADMIN_ID)
    authority = roles.Authority(role=Role.ADMIN)
    settings = harness.app.bot_data.settings
    sessions = harness.app.bot_data.sessions
    async with sessions() as engine_session, sessions() as person_session:

        async def act(action: str) -> None:
            await broadcasts.control(
                session=person_session,
                person=admin,
                authority=authority,
                settings=settings,
                broadcast_id=broadcast.id or 0,
                action=action,
            )
            await person_session.commit()

        seen = await engine_session.get(Broadcast, broadcast.id)  # the engine's view: running
        assert seen is not None and seen.status == BroadcastStatus.RUNNING
        await engine_session.commit()
        await act("pause")
        assert not await deliveries.pause(session=engine_session, broadcast=seen, reason="quiet")
        await engine_session.commit()
        assert (seen.status, seen.paused_rank) == (BroadcastStatus.PAUSED, "admin")

        await act("cancel")
        # The engine, having found it due a moment before the cancel, starts it: the cancel stands.
        assert not await deliveries.start_scheduled(session=engine_session, broadcast=seen, postpone_to=None)
        await engine_session.commit()
    [final] = await _broadcasts(harness)
    assert final.status == BroadcastStatus.CANCELLED


async def test_a_pause_during_a_429_wait_is_honoured_before_the_next_message(harness: Harness) -> None:
    recipients = await make_figures(harness, 3600, 6)
    _set(harness, rate_per_second=5)
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    harness.fake.fail_next(
        "sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3, times=1, chat_id=recipients[1]
    )
    sending = asyncio.create_task(harness.deliver())
    await harness.fake.wait_for(lambda: any(r.status == 429 for r in harness.fake.requests), timeout=10)
    [broadcast] = await _broadcasts(harness)
    await harness.press_data(ADMIN_ID, harness.last(ADMIN_ID), f"bc:{broadcast.id}:pause")
    assert "Dihentikan sementara" in harness.fake.callback_answers[-1]["text"]
    paused_at = len(harness.fake.requests)
    await asyncio.wait_for(sending, timeout=15)
    [broadcast] = await _broadcasts(harness)
    assert broadcast.status == BroadcastStatus.PAUSED
    # The refused delivery itself was already on its way (marked `sending`) and is retried once retry_after
    # has passed; nobody else gets a message once the pause was answered.
    others = {str(user) for user in recipients if user != recipients[1]}
    after = [r for r in harness.fake.requests[paused_at:] if str(r.params.get("chat_id")) in others]
    assert after == [], [r.params.get("chat_id") for r in after]
