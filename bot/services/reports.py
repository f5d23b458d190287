"""/laporan: what an organizer's region looks like, counted by SQL aggregates within their scope.

Every number is a count of rows: figures are registered (not deleted) ones, deleted ones are counted apart;
commitments are active ones (withdrawn_at IS NULL); deliveries, commitments and replies are counted for figures
in scope only, so an organizer never learns about another region through a broadcast total.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import regions
from bot.services.roles import Authority
from models import Broadcast, Commitment, CommitmentKind, Delivery, DeliveryStatus, Figure, Reply, Role, utcnow

RECENT_BROADCASTS = 5
MISSING_KECAMATAN = 10
NEW_DAYS = 7
# Length of a dotted Kemendagri code at each level: "63", "63.71", "63.71.01", "63.71.01.1001".
CODE_LENGTH = {1: 2, 2: 5, 3: 8, 4: 13}
# Delivery statuses as the report (and /status) groups them; every status is in exactly one group.
OUTCOME_GROUPS: dict[str, tuple[DeliveryStatus, ...]] = {
    "sent": (DeliveryStatus.SENT,),
    "blocked": (DeliveryStatus.BLOCKED, DeliveryStatus.DEACTIVATED),
    "failed": (DeliveryStatus.FAILED, DeliveryStatus.CHAT_NOT_FOUND),
    "uncertain": (DeliveryStatus.UNCERTAIN,),
    "skipped": (DeliveryStatus.SKIPPED,),
    "waiting": (DeliveryStatus.PENDING, DeliveryStatus.SENDING),
}
_GROUP_OF = {status.value: group for group, statuses in OUTCOME_GROUPS.items() for status in statuses}


@dataclass(frozen=True, slots=True)
class Scope:
    """The regions a report covers: CODES (an empty tuple: all of Indonesia) broken down at LEVEL."""

    codes: tuple[str, ...]
    level: int

    @property
    def everything(self) -> bool:
        return not self.codes


def scope_of(authority: Authority) -> Scope:
    """Admins: all of Indonesia by kabupaten/kota. Organizers: their scopes, one level below the widest of them
    (a kabupaten by kecamatan, a kecamatan by desa), never finer than desa nor coarser than kabupaten/kota."""
    if authority.role is Role.ADMIN:
        return Scope(codes=(), level=2)
    codes = tuple(authority.scopes)
    if not codes:
        raise ValueError("an organizer without a region has nothing to report on")
    widest = min(len(code.split(".")) for code in codes)
    return Scope(codes=codes, level=min(4, max(2, widest + 1)))


@dataclass
class BroadcastStats:
    id: int
    template: str
    created_at: dt.datetime
    # Deliveries to figures in scope, by OUTCOME_GROUPS; they add up to recipients.
    outcomes: dict[str, int]
    commitments: dict[str, int]
    replies: int

    @property
    def recipients(self) -> int:
        return sum(self.outcomes.values())


@dataclass
class Coverage:
    kecamatan_total: int
    kecamatan_covered: int
    desa_total: int
    desa_covered: int
    # The first MISSING_KECAMATAN kecamatan in scope (code order) without a registered figure.
    missing: list[str]


@dataclass
class Report:
    scope: Scope
    generated_at: dt.datetime
    figures: int = 0
    deleted: int = 0
    new_this_week: int = 0
    opted_out: int = 0
    unreachable: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    # Registered figures per region at the scope's level (code → count); adds up to FIGURES.
    by_region: dict[str, int] = field(default_factory=dict)
    # Active commitments per kind, and per region and kind.
    commitments_by_kind: dict[str, int] = field(default_factory=dict)
    commitments_by_region: dict[str, dict[str, int]] = field(default_factory=dict)
    # Sum of invite_count over active INVITE commitments: people figures promised to invite.
    invited_people: int = 0
    replies: int = 0
    broadcasts: list[BroadcastStats] = field(default_factory=list)
    coverage: Coverage | None = None

    @property
    def commitments(self) -> int:
        return sum(self.commitments_by_kind.values())


# The commitments_by_region key of commitments whose figure's region is not known at the report's level.
UNPLACED = ""


def _within(codes: tuple[str, ...]) -> sa.ColumnElement[bool]:
    """Figures in any of CODES (a code covers everything below it); true for all of Indonesia."""
    if not codes:
        return sa.true()
    region = col(Figure.region_code)
    return sa.or_(*(sa.or_(region == code, region.like(code + ".%")) for code in codes))


def _area(level: int) -> sa.ColumnElement[str]:
    return func.substr(col(Figure.region_code), 1, CODE_LENGTH[level])


def _count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return func.coalesce(func.sum(sa.case((condition, 1), else_=0)), 0)


async def build(*, session: AsyncSession, authority: Authority, now: dt.datetime | None = None) -> Report:
    """The report for AUTHORITY's scope, now."""
    scope = scope_of(authority)
    now = now or utcnow()
    report = Report(scope=scope, generated_at=now)
    await _figures(session, report, now)
    await _commitments(session, report)
    report.replies = int(
        (
            await session.exec(select(func.count()).select_from(Reply).where(_figure_in_scope(Reply.figure_id, scope)))
        ).one()
    )
    report.broadcasts = await _broadcasts(session, scope)
    report.coverage = await _coverage(session, scope)
    return report


async def _figures(session: AsyncSession, report: Report, now: dt.datetime) -> None:
    scope = report.scope
    alive = col(Figure.deleted_at).is_(None)
    area = _area(scope.level).label("area")
    rows = await session.exec(
        select(  # type: ignore[call-overload]  # sqlmodel types select() up to four columns
            area,
            col(Figure.category),
            _count_if(alive),
            _count_if(sa.not_(alive)),
            _count_if(sa.and_(alive, col(Figure.registered_at) >= now - dt.timedelta(days=NEW_DAYS))),
            _count_if(sa.and_(alive, sa.not_(col(Figure.messages_opt_in)))),
            _count_if(sa.and_(alive, col(Figure.unreachable_since).is_not(None))),
        )
        .where(_within(scope.codes))
        .group_by(area, col(Figure.category))
    )
    by_category: Counter[str] = Counter()
    by_region: Counter[str] = Counter()
    for code, category, registered, deleted, new, opted_out, unreachable in rows.all():
        registered = int(registered)
        report.figures += registered
        report.deleted += int(deleted)
        report.new_this_week += int(new)
        report.opted_out += int(opted_out)
        report.unreachable += int(unreachable)
        if registered:
            by_category[category] += registered
            by_region[code] += registered
    report.by_category = dict(by_category.most_common())
    report.by_region = dict(sorted(by_region.items(), key=lambda item: (-item[1], item[0])))


async def _commitments(session: AsyncSession, report: Report) -> None:
    scope = report.scope
    area = _area(scope.level).label("area")
    rows = await session.exec(
        select(area, col(Commitment.kind), func.count(), func.coalesce(func.sum(col(Commitment.invite_count)), 0))
        .join(Figure, col(Figure.id) == col(Commitment.figure_id))
        .where(_within(scope.codes), col(Commitment.withdrawn_at).is_(None))
        .group_by(area, col(Commitment.kind))
    )
    by_kind: Counter[str] = Counter()
    for found, kind, count, invited in rows.all():
        # A figure who deleted their data keeps only the kecamatan: below it their commitments have no place.
        code = found if len(found) >= CODE_LENGTH[scope.level] else UNPLACED
        by_kind[kind] += int(count)
        per_kind = report.commitments_by_region.setdefault(code, {})
        per_kind[kind] = per_kind.get(kind, 0) + int(count)
        if kind == CommitmentKind.INVITE:
            report.invited_people += int(invited or 0)
    report.commitments_by_kind = {kind.value: by_kind[kind.value] for kind in CommitmentKind if by_kind[kind.value]}
    # A kind this version does not know (a newer bot wrote it) is still counted.
    report.commitments_by_kind.update({k: v for k, v in by_kind.items() if k not in report.commitments_by_kind})


def _figure_in_scope(column: Any, scope: Scope) -> sa.ColumnElement[bool]:
    """COLUMN (a figure id) names a figure in scope; always true for all of Indonesia (no join needed)."""
    if scope.everything:
        return sa.true()
    return col(column).in_(select(col(Figure.id)).where(_within(scope.codes)))


async def _broadcasts(session: AsyncSession, scope: Scope) -> list[BroadcastStats]:
    """The latest broadcasts that reached figures in scope, with their deliveries, commitments and replies there."""
    ids_query = select(col(Broadcast.id)).order_by(col(Broadcast.id).desc()).limit(RECENT_BROADCASTS)
    if not scope.everything:
        reached = (
            select(col(Delivery.id))
            .where(col(Delivery.broadcast_id) == col(Broadcast.id), _figure_in_scope(Delivery.figure_id, scope))
            .exists()
        )
        ids_query = ids_query.where(reached)
    ids = [int(i or 0) for i in (await session.exec(ids_query)).all()]
    if not ids:
        return []
    found = (await session.exec(select(Broadcast).where(col(Broadcast.id).in_(ids)))).all()
    stats = {
        b.id: BroadcastStats(
            id=b.id,
            template=b.template,
            created_at=b.created_at,
            outcomes=dict.fromkeys(OUTCOME_GROUPS, 0),
            commitments={},
            replies=0,
        )
        for b in found
        if b.id is not None
    }
    deliveries = await session.exec(
        select(col(Delivery.broadcast_id), col(Delivery.status), func.count())
        .where(col(Delivery.broadcast_id).in_(ids), _figure_in_scope(Delivery.figure_id, scope))
        .group_by(col(Delivery.broadcast_id), col(Delivery.status))
    )
    for broadcast_id, status, count in deliveries.all():
        group = _GROUP_OF.get(status, "failed")
        stats[broadcast_id].outcomes[group] += int(count)
    commitments = await session.exec(
        select(col(Commitment.broadcast_id), col(Commitment.kind), func.count())
        .where(
            col(Commitment.broadcast_id).in_(ids),
            col(Commitment.withdrawn_at).is_(None),
            _figure_in_scope(Commitment.figure_id, scope),
        )
        .group_by(col(Commitment.broadcast_id), col(Commitment.kind))
    )
    for broadcast_id, kind, count in commitments.all():
        stats[broadcast_id].commitments[kind] = int(count)
    replies = await session.exec(
        select(col(Reply.broadcast_id), func.count())
        .where(col(Reply.broadcast_id).in_(ids), _figure_in_scope(Reply.figure_id, scope))
        .group_by(col(Reply.broadcast_id))
    )
    for answered, count in replies.all():
        if answered is not None:
            stats[answered].replies = int(count)
    return [stats[i] for i in ids if i in stats]


async def _coverage(session: AsyncSession, scope: Scope) -> Coverage:
    """Kecamatan and desa in scope (from the Kemendagri tree) with at least one registered figure."""
    kecamatan = regions.codes_within(scope.codes, regions.KECAMATAN)
    desa = frozenset(regions.codes_within(scope.codes, regions.DESA))
    alive = sa.and_(_within(scope.codes), col(Figure.deleted_at).is_(None))
    kec_area = _area(3).label("kec")
    with_figures_kec = {str(c) for c in (await session.exec(select(kec_area).where(alive).group_by(kec_area))).all()}
    with_figures_desa = {
        str(c)
        for c in (
            await session.exec(select(col(Figure.region_code)).where(alive).group_by(col(Figure.region_code)))
        ).all()
    }
    missing = [code for code in kecamatan if code not in with_figures_kec][:MISSING_KECAMATAN]
    return Coverage(
        kecamatan_total=len(kecamatan),
        kecamatan_covered=len(with_figures_kec.intersection(kecamatan)),
        desa_total=len(desa),
        desa_covered=len(desa & with_figures_desa),
        missing=missing,
    )
