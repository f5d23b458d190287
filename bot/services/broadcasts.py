"""Broadcasts: segments, recipients, the rendered message, quiet periods, and organizer control."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import catalog, i18n
from bot.config import Settings
from bot.render import Renderer, timezone_for_region
from bot.services import audit, quiet
from bot.services.figures import broadcast_eligible
from bot.services.roles import Authority
from models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus, Figure, Person, Role, utcnow

# Outcomes that end a delivery; the rest (pending, sending) are still open.
FINAL = frozenset(DeliveryStatus) - {DeliveryStatus.PENDING, DeliveryStatus.SENDING}
# Who paused a broadcast, lowest first: a pause is resumed only by the same rank or a higher one.
ORGANIZER_RANK, ADMIN_RANK, SYSTEM_RANK = "organizer", "admin", "system"


class BroadcastError(Exception):
    """A broadcast request that must be refused; `code` says why (the handler words it)."""

    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


@dataclass
class Segment:
    """Who a broadcast reaches. Empty lists mean no restriction (within the organizer's scope)."""

    regions: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    age_brackets: list[str] = field(default_factory=list)
    registered_since: dt.date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "regions": self.regions,
            "categories": self.categories,
            "age_brackets": self.age_brackets,
            "registered_since": self.registered_since.isoformat() if self.registered_since else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        since = data.get("registered_since")
        return cls(
            regions=list(data.get("regions") or []),
            categories=list(data.get("categories") or []),
            age_brackets=list(data.get("age_brackets") or []),
            registered_since=dt.date.fromisoformat(since) if since else None,
        )


def _within(codes: list[str] | tuple[str, ...]) -> ColumnElement[bool]:
    """Figures registered in any of CODES (a code covers everything below it)."""
    region = col(Figure.region_code)
    return sa.or_(*(sa.or_(region == code, region.like(code + ".%")) for code in codes))


def segment_condition(segment: Segment, authority: Authority, settings: Settings) -> ColumnElement[bool]:
    """The SQL condition for eligible figures in SEGMENT, never outside what AUTHORITY covers."""
    conditions: list[ColumnElement[bool]] = [broadcast_eligible()]
    if authority.role is not Role.ADMIN:
        # Always applied, whatever the segment says: an organizer never reaches beyond their scope.
        conditions.append(_within(authority.scopes) if authority.scopes else sa.false())
    if segment.regions:
        conditions.append(_within(segment.regions))
    if segment.categories:
        conditions.append(col(Figure.category).in_(segment.categories))
    if segment.age_brackets:
        conditions.append(col(Figure.age_bracket).in_(segment.age_brackets))
    if segment.registered_since:
        start = dt.datetime.combine(segment.registered_since, dt.time(), tzinfo=settings.tz)
        conditions.append(col(Figure.registered_at) >= start)
    return sa.and_(*conditions)


def check_segment(segment: Segment, authority: Authority) -> None:
    """Refuse regions outside the organizer's scope (instead of silently narrowing them)."""
    outside = [code for code in segment.regions if not authority.covers(code)]
    if outside:
        raise BroadcastError("outside_scope", regions=outside)


async def record_composed(
    *, session: AsyncSession, actor: Person, template: str, segment: Segment, recipients: int, shown_figure: int | None
) -> None:
    """The audit entry of a composed broadcast whose preview was shown (confirmed or not): the preview names one
    real recipient to the organizer, so who saw whose data is on record (ids, codes and counts only)."""
    await audit.record(
        session=session,
        action="broadcast.compose",
        actor_person_id=actor.id,
        template=template,
        segment=segment.to_dict(),
        recipients=recipients,
        figure=shown_figure,
    )


async def count_recipients(*, session: AsyncSession, segment: Segment, authority: Authority, settings: Settings) -> int:
    result = await session.exec(
        select(func.count()).select_from(Figure).where(segment_condition(segment, authority, settings))
    )
    return int(result.one())


async def sample_recipient(
    *, session: AsyncSession, segment: Segment, authority: Authority, settings: Settings
) -> tuple[Figure, Person] | None:
    """One real recipient of the segment, for the preview."""
    result = await session.exec(
        select(Figure, Person)
        .join(Person, col(Person.id) == col(Figure.person_id))
        .where(segment_condition(segment, authority, settings))
        .order_by(col(Figure.id))
        .limit(1)
    )
    row = result.first()
    return (row[0], row[1]) if row else None


def parse_values(info: catalog.TemplateInfo, raw: dict[str, str], settings: Settings) -> dict[str, Any]:
    """The organizer's typed values, parsed as the template's metadata says (ValueError with a message)."""
    missing = [spec.label for spec in info.values if spec.key not in raw]
    if missing:
        raise ValueError(f"missing values: {', '.join(missing)}")
    return {spec.key: catalog.parse_value(spec, raw[spec.key], settings.tz) for spec in info.values}


def event_date(info: catalog.TemplateInfo, values: dict[str, Any]) -> tuple[catalog.ValueSpec, dt.date] | None:
    """The event's date among a template's parsed VALUES, with the value that gives it: the latest of its
    date-typed values (None when it declares none). A broadcast about the event is not sent after that day."""
    dates = [
        (spec, value)
        for spec in info.values
        if spec.type == "date"
        and isinstance(value := values.get(spec.key), dt.date)
        and not isinstance(value, dt.datetime)
    ]
    return max(dates, key=lambda item: item[1]) if dates else None


def render_message(
    renderer: Renderer,
    settings: Settings,
    *,
    template: str,
    values: dict[str, Any],
    name: str,
    category: str,
    region_code: str,
    locale: str | None,
    now: dt.datetime,
) -> str:
    """The exact text one figure receives: in the language they chose (LOCALE, None = the office default) and
    their province's time zone."""
    tz = timezone_for_region(region_code)
    context = catalog.template_context(
        settings, figure=catalog.figure_context(name, category, region_code), values=values, now=now, tz=tz
    )
    return renderer.render(template, context, locale=i18n.chosen_locale(locale, settings.locale.default), tz=tz)


async def create(
    *,
    session: AsyncSession,
    actor: Person,
    authority: Authority,
    settings: Settings,
    info: catalog.TemplateInfo,
    raw_values: dict[str, str],
    segment: Segment,
    scheduled_at: dt.datetime | None = None,
    tz: ZoneInfo | None = None,
) -> Broadcast:
    """Write the broadcast and one delivery row per recipient, in one transaction, before anything is sent.

    TZ is the organizer's zone (default: the office's): a scheduled time may not fall after the end of the day of
    the event the template's values name (event_date), in that zone."""
    if not authority.at_least(Role.ORGANIZER):
        raise BroadcastError("not_organizer")
    check_segment(segment, authority)
    values = parse_values(info, raw_values, settings)
    now = utcnow()
    # Nothing goes out now inside a quiet period; a time inside one may be scheduled: the engine holds it back
    # until the period's release (the organizer is told when).
    blocked = quiet.blocked_at(settings, now) if scheduled_at is None else None
    if blocked is not None:
        raise BroadcastError("quiet", hold=blocked)
    if scheduled_at is not None and scheduled_at <= now:
        raise BroadcastError("schedule_past")
    if scheduled_at is not None and (event := event_date(info, values)) is not None:
        spec, day = event
        day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz or settings.tz)
        if scheduled_at >= day_end:
            raise BroadcastError("after_event", date=day, label=spec.label)
    # The creator's scope when composing: the engine pauses the broadcast if the creator loses any of it.
    scope = ["*"] if authority.role is Role.ADMIN else list(authority.scopes)
    broadcast = Broadcast(
        created_by=actor.id,
        template=info.name,
        template_version=info.version,
        values=raw_values,
        segment={**segment.to_dict(), "scope": scope},
        commitments=list(info.commitments),
        status=BroadcastStatus.SCHEDULED if scheduled_at else BroadcastStatus.RUNNING,
        paid=settings.broadcast.allow_paid_broadcast,
        scheduled_at=scheduled_at,
    )
    session.add(broadcast)
    await session.flush()
    assert broadcast.id is not None
    recipients: Any = (
        select(
            sa.literal(broadcast.id).label("broadcast_id"),
            col(Figure.id).label("figure_id"),
            sa.literal(DeliveryStatus.PENDING.value).label("status"),
            sa.literal(0).label("attempts"),
        )
        .where(segment_condition(segment, authority, settings))
        .order_by(col(Figure.id))
    )
    insert = sa.insert(Delivery).from_select(["broadcast_id", "figure_id", "status", "attempts"], recipients)
    connection = await session.connection()
    result = await connection.execute(insert)
    broadcast.recipient_count = max(result.rowcount or 0, 0)
    if broadcast.recipient_count == 0:
        raise BroadcastError("no_recipients")
    session.add(broadcast)
    await audit.record(
        session=session,
        action="broadcast.create",
        actor_person_id=actor.id,
        broadcast=broadcast.id,
        template=info.name,
        template_version=info.version,
        segment=segment.to_dict(),
        recipients=broadcast.recipient_count,
        scheduled_at=scheduled_at.isoformat() if scheduled_at else None,
        paid=broadcast.paid,
    )
    await session.flush()
    return broadcast


async def outcome_counts(*, session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    """How many deliveries are in each status (every status present, zero when none)."""
    result = await session.exec(
        select(Delivery.status, func.count()).where(Delivery.broadcast_id == broadcast_id).group_by(Delivery.status)
    )
    counts = dict.fromkeys((s.value for s in DeliveryStatus), 0)
    for status, count in result.all():
        counts[status] = int(count)
    return counts


def may_control(authority: Authority, person: Person, broadcast: Broadcast) -> bool:
    """Admins may control every broadcast; organizers only their own, while they still hold the role."""
    if authority.role is Role.ADMIN:
        return True
    return authority.role is Role.ORGANIZER and broadcast.created_by == person.id


def rank_of(authority: Authority) -> str:
    return ADMIN_RANK if authority.role is Role.ADMIN else ORGANIZER_RANK


def resume_refusal(authority: Authority, broadcast: Broadcast) -> str | None:
    """Why AUTHORITY may not resume BROADCAST (a refusal code), or None when it may."""
    if broadcast.paused_rank == ADMIN_RANK and authority.role is not Role.ADMIN:
        return "paused_by_admin"
    if broadcast.paused_rank == SYSTEM_RANK:
        if broadcast.pause_reason == "template_changed":
            return "template_changed"  # resuming would send a text nobody previewed: compose it again
        if broadcast.pause_reason == "role_changed" and authority.role is not Role.ADMIN:
            return "needs_admin"
    return None


async def control(
    *, session: AsyncSession, person: Person, authority: Authority, settings: Settings, broadcast_id: int, action: str
) -> Broadcast:
    """Pause, resume or cancel a broadcast; checked against the caller's role and the broadcast's state.

    AUTHORITY is read from the database for this update, never taken from the button.
    """
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None or not may_control(authority, person, broadcast):
        raise BroadcastError("not_allowed")
    status = BroadcastStatus(broadcast.status)
    details: dict[str, Any] = {}
    if action == "pause" and status in (BroadcastStatus.RUNNING, BroadcastStatus.SCHEDULED):
        broadcast.status = BroadcastStatus.PAUSED
        broadcast.pause_reason = broadcast.paused_rank = rank_of(authority)
        broadcast.paused_by = person.id
    elif action == "resume" and status is BroadcastStatus.PAUSED:
        refusal = resume_refusal(authority, broadcast)
        if refusal is not None:
            raise BroadcastError(refusal)
        blocked = quiet.blocked_at(settings, utcnow())
        if blocked is not None:
            # The period's own pause ends by itself at the release; a person's pause waits for them.
            raise BroadcastError("quiet_paused" if broadcast.pause_reason == "quiet" else "quiet_resume", hold=blocked)
        if broadcast.pause_reason == "role_changed" and broadcast.created_by != person.id:
            # The owner lost the role: the admin who resumes takes the broadcast over (its status, its checks).
            details["owner_from"], broadcast.created_by = broadcast.created_by, person.id
        due_later = broadcast.scheduled_at is not None and broadcast.scheduled_at > utcnow()
        broadcast.status = BroadcastStatus.SCHEDULED if due_later else BroadcastStatus.RUNNING
        broadcast.pause_reason = broadcast.paused_rank = None
        broadcast.paused_by = None
    elif action == "cancel" and status in (BroadcastStatus.RUNNING, BroadcastStatus.SCHEDULED, BroadcastStatus.PAUSED):
        broadcast.status, broadcast.finished_at = BroadcastStatus.CANCELLED, utcnow()
        await session.exec(
            sa.update(Delivery)
            .where(col(Delivery.broadcast_id) == broadcast.id, col(Delivery.status) == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.SKIPPED, error="cancelled", updated_at=utcnow())
        )
    else:
        raise BroadcastError("wrong_state", status=status)
    session.add(broadcast)
    await audit.record(
        session=session, action=f"broadcast.{action}", actor_person_id=person.id, broadcast=broadcast.id, **details
    )
    await session.flush()
    return broadcast


async def recent(*, session: AsyncSession, person: Person, authority: Authority, limit: int = 10) -> list[Broadcast]:
    """The latest broadcasts the caller may see: all for admins, their own for organizers."""
    query = select(Broadcast).order_by(col(Broadcast.id).desc()).limit(limit)
    if authority.role is not Role.ADMIN:
        query = query.where(Broadcast.created_by == person.id)
    return list((await session.exec(query)).all())
