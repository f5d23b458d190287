"""Masa tenang across the three zones: the default period, its release hour, and what the organizer is told."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.config import QuietPeriod, Settings, load_settings
from bot.services import quiet
from models import AuditEvent, Broadcast, BroadcastStatus
from tests.conftest import ADMIN_ID, ROOT, Harness
from tests.test_broadcast import _broadcasts, _received, compose_invitation, make_figures, tap

WIB, WITA, WIT = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura")
# The default period's release: 06.00 in the office's zone (WITA) on voting day.
RELEASE_TEXT = "Rabu, 14 Februari 2029 pukul 06.00 WITA"
RANGKUL_RULE = "sesuai pengaturan Rangkul"


def at(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone)


@dataclass
class Clock:
    now: dt.datetime


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The time the broadcast code sees (composing, control, the delivery engine and its notices)."""
    clock = Clock(at(WITA, 2029, 2, 1, 9, 0))
    for module in ("bot.services.broadcasts", "bot.services.deliveries", "bot.delivery.engine", "bot.delivery.status"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: clock.now)
    monkeypatch.setattr("bot.handlers.broadcast.utcnow", lambda: clock.now)
    return clock


def test_the_default_period_covers_the_whole_country() -> None:
    for settings in (Settings(), load_settings(ROOT / "settings.toml", environ={})):
        [period] = settings.broadcast.quiet_periods
        assert period.start == at(WIT, 2029, 2, 11, 0, 0) == at(WIB, 2029, 2, 10, 22, 0)
        assert period.end == at(WIB, 2029, 2, 14, 0, 0) == at(WITA, 2029, 2, 14, 1, 0)
        inside = [
            at(WIT, 2029, 2, 11, 0, 0),  # the first minute in Maluku
            at(WIT, 2029, 2, 11, 0, 30),
            at(WIB, 2029, 2, 13, 23, 30),  # the last hour in Kalimantan Barat
            at(WIB, 2029, 2, 13, 23, 59),
        ]
        outside = [at(WIT, 2029, 2, 10, 23, 30), at(WIB, 2029, 2, 14, 0, 0), at(WITA, 2029, 2, 14, 1, 0)]
        assert all(quiet.period_at(settings, when) is period for when in inside)
        assert [quiet.period_at(settings, when) for when in outside] == [None, None, None]
        assert quiet.zone_warnings(settings) == []


def _with(settings: Settings, periods: list[dict[str, object]] | None = None, **broadcast: object) -> Settings:
    data = settings.model_dump()
    if periods is not None:
        data["broadcast"]["quiet_periods"] = periods
    data["broadcast"].update(broadcast)
    return Settings.model_validate(data)


def test_release_at_the_first_release_hour_in_the_office_zone_after_the_end() -> None:
    settings = Settings()
    [period] = settings.broadcast.quiet_periods
    assert quiet.release_at(settings, period) == at(WITA, 2029, 2, 14, 6, 0)
    assert quiet.release_at(_with(settings, quiet_release_hour=1), period) == at(WITA, 2029, 2, 14, 1, 0)  # at the end
    assert quiet.release_at(_with(settings, quiet_release_hour=0), period) == at(WITA, 2029, 2, 15, 0, 0)
    jakarta = Settings.model_validate({**settings.model_dump(), "locale": {"timezone": "Asia/Jakarta"}})
    assert quiet.release_at(jakarta, period) == at(WIB, 2029, 2, 14, 6, 0)
    # Held back from the start until the release, though the period itself ended at 01.00 WITA.
    hold = quiet.hold_at(settings, at(WITA, 2029, 2, 14, 5, 59))
    assert hold is not None and hold.release == at(WITA, 2029, 2, 14, 6, 0)
    assert quiet.hold_at(settings, at(WITA, 2029, 2, 14, 6, 0)) is None
    # A release hour that falls in a later period waits for that one's release.
    later = {"name": "Lain", "start": at(WITA, 2029, 2, 14, 5, 0), "end": at(WITA, 2029, 2, 14, 8, 30)}
    two = _with(settings, [period.model_dump(), later])
    assert quiet.release_at(two, two.broadcast.quiet_periods[0]) == at(WITA, 2029, 2, 15, 6, 0)


def test_a_period_that_misses_a_zone_is_warned_about() -> None:
    wita_only = QuietPeriod(name="WITA", start=at(WITA, 2029, 2, 11, 0, 0), end=at(WITA, 2029, 2, 14, 0, 0))
    warnings = quiet.zone_warnings(_with(Settings(), [wita_only.model_dump()]))
    assert len(warnings) == 2
    assert "01:00 WIT" in warnings[0] and "23:00 WIB" in warnings[1]


def test_a_voting_day_without_its_quiet_period_is_warned_about() -> None:
    assert quiet.zone_warnings(Settings()) == []  # the defaults belong together
    later = Settings.model_validate({"election": {"date": "2031-11-27", "kind": "pilkada"}})
    [warning] = quiet.zone_warnings(later)
    assert "no quiet period ends on voting day 2031-11-27" in warning


async def test_confirming_inside_the_period_is_refused_in_every_zone(harness: Harness, clock: Clock) -> None:
    recipients = await make_figures(harness, 3100, 2)
    for when in (at(WIT, 2029, 2, 11, 0, 30), at(WIB, 2029, 2, 13, 23, 30)):
        clock.now = when
        await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
        await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
        refusal = harness.last(ADMIN_ID).shown
        assert f"Mohon maaf, {RANGKUL_RULE} tidak ada siaran yang dikirim selama Masa tenang Pemilu 2029" in refusal
        assert "sampai Rabu, 14 Februari 2029 pukul 01.00 WITA" in refusal  # when sending can start again
        assert f"dikirim pada {RELEASE_TEXT}" in refusal
        assert "Jadwalkan" in refusal
        assert await _broadcasts(harness) == []
        # The button the refusal points to is still there, under the preview.
        preview = next(m for m in reversed(harness.fake.chat(ADMIN_ID).messages) if m.buttons())
        assert "🕒 Jadwalkan" in [button["text"] for button in preview.buttons()]
    clock.now = at(WIT, 2029, 2, 10, 23, 30)  # half an hour before the period, in Maluku
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    assert len(await _broadcasts(harness)) == 1
    await harness.deliver()
    assert _received(harness, recipients, "Aula") == [1, 1]


async def test_a_scheduled_broadcast_due_inside_goes_at_the_release_hour(harness: Harness, clock: Clock) -> None:
    recipients = await make_figures(harness, 3200, 2)
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "🕒 Jadwalkan")
    [confirmation] = await harness.send(ADMIN_ID, "12-02-2029 09.00")
    # Accepted, and the organizer is told when it will actually go.
    assert "Terjadwal: siaran #1" in confirmation.shown
    assert f"jatuh pada Masa tenang Pemilu 2029: {RANGKUL_RULE}" in confirmation.shown
    assert f"akan dikirim pada {RELEASE_TEXT}" in confirmation.shown
    [status] = await harness.send(ADMIN_ID, "/status")
    assert f"akan dikirim pada {RELEASE_TEXT}" in status.shown
    clock.now = at(WITA, 2029, 2, 12, 9, 1)
    await harness.deliver()
    [held] = await _broadcasts(harness)
    assert (held.status, held.scheduled_at) == (BroadcastStatus.SCHEDULED, at(WITA, 2029, 2, 14, 6, 0))
    notice = harness.fake.sent_texts(ADMIN_ID)[-2]  # then the status message
    assert RANGKUL_RULE in notice and f"akan dikirim pada {RELEASE_TEXT}" in notice
    for not_yet in (at(WITA, 2029, 2, 14, 1, 30), at(WITA, 2029, 2, 14, 5, 59)):  # the period is over; not yet
        clock.now = not_yet
        await harness.deliver()
        assert _received(harness, recipients, "Aula") == [0, 0]
    clock.now = at(WITA, 2029, 2, 14, 6, 0)
    await harness.deliver()
    assert _received(harness, recipients, "Aula") == [1, 1]


async def test_a_running_broadcast_paused_by_the_period_goes_on_at_the_release_hour(
    harness: Harness, clock: Clock
) -> None:
    recipients = await make_figures(harness, 3300, 2)
    clock.now = at(WITA, 2029, 2, 10, 22, 30)
    await compose_invitation(harness, ADMIN_ID, "Semua wilayah")
    await tap(harness, ADMIN_ID, "📨 Kirim sekarang")
    clock.now = at(WIT, 2029, 2, 11, 0, 30)  # begun in Maluku (23.30 WITA)
    await harness.deliver()
    [paused] = await _broadcasts(harness)
    assert (paused.status, paused.pause_reason) == (BroadcastStatus.PAUSED, "quiet")
    assert _received(harness, recipients, "Aula") == [0, 0]
    notice = next(t for t in harness.fake.sent_texts(ADMIN_ID) if "berhenti sementara dengan sendirinya" in t)
    assert RANGKUL_RULE in notice and f"dilanjutkan dengan sendirinya pada {RELEASE_TEXT}" in notice
    [status] = await harness.send(ADMIN_ID, "/status")
    assert RANGKUL_RULE in status.shown and f"dilanjutkan dengan sendirinya pada {RELEASE_TEXT}" in status.shown
    await harness.press(ADMIN_ID, status, "Lanjutkan")
    answer = harness.fake.callback_answers[-1]["text"]
    assert RANGKUL_RULE in answer and RELEASE_TEXT in answer
    for not_yet in (at(WITA, 2029, 2, 14, 2, 0), at(WITA, 2029, 2, 14, 5, 59)):
        clock.now = not_yet
        await harness.deliver()
        assert _received(harness, recipients, "Aula") == [0, 0]
    clock.now = at(WITA, 2029, 2, 14, 6, 0)
    await harness.deliver()
    assert _received(harness, recipients, "Aula") == [1, 1]
    assert any("kini dikirim kembali" in t for t in harness.fake.sent_texts(ADMIN_ID))
    async with harness.app.bot_data.sessions() as session:
        [resume] = (await session.exec(select(AuditEvent).where(col(AuditEvent.action) == "broadcast.resume"))).all()
        stored = await session.get(Broadcast, paused.id)
    assert resume.actor_person_id is None and resume.details == {"broadcast": paused.id, "reason": "quiet"}
    assert stored is not None and stored.status == BroadcastStatus.DONE
