"""Masa tenang: which quiet period is in force, and when the broadcasts it held back are released.

The block is Rangkul's own caution (the law bans campaigning in the masa tenang, not KPU outreach). Inside a
period nothing is sent; what it held back (a scheduled broadcast that fell due, a running one it paused) goes
out at the first `broadcast.quiet_release_hour` in the office's zone at or after the period's end, not at the
midnight before voting day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import QuietPeriod, Settings
from bot.services import audit
from models import Broadcast, BroadcastStatus

# A nationwide period runs from 00:00 in the easternmost zone on its first day to 24:00 in the westernmost on
# its last, so that it covers all of Indonesia.
EARLIEST_ZONE = ZoneInfo("Asia/Jayapura")  # WIT, UTC+9
LATEST_ZONE = ZoneInfo("Asia/Jakarta")  # WIB, UTC+7


@dataclass(frozen=True, slots=True)
class Hold:
    """A quiet period and the moment what it held back is released."""

    period: QuietPeriod
    release: dt.datetime


def period_at(settings: Settings, when: dt.datetime) -> QuietPeriod | None:
    """The masa tenang in force at WHEN, if any: nothing may be sent then."""
    return next((p for p in settings.broadcast.quiet_periods if p.start <= when < p.end), None)


def release_at(settings: Settings, period: QuietPeriod) -> dt.datetime:
    """When what PERIOD held back is sent: the first release hour (office zone) at or after its end, or after
    the end of a later period that hour falls in."""
    tz, hour = settings.tz, settings.broadcast.quiet_release_hour
    end = period.end
    for _ in range(len(settings.broadcast.quiet_periods) + 1):
        local_end = end.astimezone(tz)
        release = local_end.replace(hour=hour, minute=0, second=0, microsecond=0)
        if release < local_end:
            # A calendar day later at the same wall-clock hour (Indonesian zones keep no daylight saving).
            release = dt.datetime.combine(local_end.date() + dt.timedelta(days=1), dt.time(hour), tzinfo=tz)
        later = period_at(settings, release)
        if later is None:
            return release.astimezone(dt.UTC)
        end = later.end
    return end.astimezone(dt.UTC)  # periods overlapping every release hour: at least after the last one


def blocked_at(settings: Settings, when: dt.datetime) -> Hold | None:
    """The quiet period in force at WHEN with its release, or None: nothing may be sent at WHEN."""
    period = period_at(settings, when)
    return Hold(period, release_at(settings, period)) if period is not None else None


def hold_at(settings: Settings, when: dt.datetime) -> Hold | None:
    """The quiet period holding back broadcasts at WHEN: from its start until its release (which is later than
    its end), or None."""
    for period in settings.broadcast.quiet_periods:
        if period.start <= when:
            release = release_at(settings, period)
            if when < release:
                return Hold(period, release)
    return None


async def release_paused(*, session: AsyncSession, settings: Settings, now: dt.datetime) -> list[Broadcast]:
    """Running broadcasts a quiet period paused go on once nothing holds them back any more (the period's release
    has come); the ones released, audited as a resume by the system. Only those still paused for the period: a
    cancel that came meanwhile stands."""
    if hold_at(settings, now) is not None:
        return []
    # The system's pause for a quiet period is never anyone else's: a person's pause keeps its own reason.
    waiting = await session.exec(
        select(Broadcast)
        .where(Broadcast.status == BroadcastStatus.PAUSED, Broadcast.pause_reason == "quiet")
        .order_by(col(Broadcast.id))
    )
    released = []
    for broadcast in waiting.all():
        resumed = await session.exec(
            sa.update(Broadcast)
            .where(
                col(Broadcast.id) == broadcast.id,
                col(Broadcast.status) == BroadcastStatus.PAUSED,
                col(Broadcast.pause_reason) == "quiet",
            )
            .values(status=BroadcastStatus.RUNNING, pause_reason=None, paused_by=None, paused_rank=None)
            .execution_options(synchronize_session=False)
        )
        if resumed.rowcount == 1:
            await audit.record(
                session=session, action="broadcast.resume", actor_person_id=None, broadcast=broadcast.id, reason="quiet"
            )
            released.append(broadcast)
    await session.flush()
    for broadcast in released:
        await session.refresh(broadcast)
    return released


def zone_warnings(settings: Settings) -> list[str]:
    """Periods that do not cover the whole country: a start not at 00:00 WIT, an end not at 00:00 WIB (right
    for a local election held in one zone, a mistake for a nationwide one)."""
    warnings = []
    for period in settings.broadcast.quiet_periods:
        start, end = period.start.astimezone(EARLIEST_ZONE), period.end.astimezone(LATEST_ZONE)
        if start.time() != dt.time(0):
            warnings.append(
                f"quiet period {period.name!r} starts at {start:%Y-%m-%d %H:%M} WIT: a nationwide masa tenang "
                f"starts at 00:00 WIT (+09:00) on its first day, or the WIT provinces are not covered"
            )
        if end.time() != dt.time(0):
            warnings.append(
                f"quiet period {period.name!r} ends at {end:%Y-%m-%d %H:%M} WIB: a nationwide masa tenang ends "
                f"at 24:00 WIB (00:00+07:00 of voting day), or the WIB provinces are not covered"
            )
    ends_on_voting_day = (
        # Midnight before voting day in some Indonesian zone (a local election may keep its own zone's midnight).
        settings.election.date
        in (period.end.astimezone(LATEST_ZONE).date(), period.end.astimezone(EARLIEST_ZONE).date())
        for period in settings.broadcast.quiet_periods
    )
    if settings.broadcast.quiet_periods and not any(ends_on_voting_day):
        # The default period is the 2029 Pemilu's: an office that set another voting day must set its masa tenang.
        warnings.append(
            f"no quiet period ends on voting day {settings.election.date:%Y-%m-%d} (election.date): the masa tenang "
            f"is the days just before voting day; set [[broadcast.quiet_periods]] for this election"
        )
    return warnings
