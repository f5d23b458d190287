"""Roles: who is an organizer (for which regions) or an admin, checked from the database on every use."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import regions
from bot.services import audit
from models import Person, Role, RoleGrant

ADMIN_SCOPE = ""


@dataclass(frozen=True, slots=True)
class Authority:
    """What one person may do: their highest role and, for organizers, the region codes they cover."""

    role: Role
    scopes: tuple[str, ...] = ()
    bootstrap: bool = False

    def at_least(self, role: Role) -> bool:
        order = (Role.FIGURE, Role.ORGANIZER, Role.ADMIN)
        return order.index(self.role) >= order.index(role)

    def covers(self, region_code: str) -> bool:
        return self.role is Role.ADMIN or (self.role is Role.ORGANIZER and regions.in_scope(region_code, self.scopes))


@dataclass(frozen=True, slots=True)
class RoleChange:
    """The outcome of a grant or revoke: the region codes (or [""] for admin) that actually changed."""

    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


async def authority_of(
    *, session: AsyncSession, person: Person, bootstrap_admins: Collection[int], has_grants: bool = True
) -> Authority:
    """The person's authority now; bootstrap admins from settings are admins whatever the database says.
    HAS_GRANTS False: the caller read in this transaction that the person holds no role (people.Visitor)."""
    if person.telegram_id is not None and person.telegram_id in bootstrap_admins:
        return Authority(role=Role.ADMIN, bootstrap=True)
    if person.id is None or not has_grants:
        return Authority(role=Role.FIGURE)
    result = await session.exec(select(RoleGrant).where(RoleGrant.person_id == person.id))
    grants = result.all()
    if any(grant.role == Role.ADMIN for grant in grants):
        return Authority(role=Role.ADMIN)
    scopes = tuple(sorted(grant.region_code for grant in grants if grant.role == Role.ORGANIZER))
    if scopes:
        return Authority(role=Role.ORGANIZER, scopes=scopes)
    return Authority(role=Role.FIGURE)


async def _grants(*, session: AsyncSession, person_id: int, role: Role) -> dict[str, RoleGrant]:
    result = await session.exec(select(RoleGrant).where(RoleGrant.person_id == person_id, RoleGrant.role == role))
    return {grant.region_code: grant for grant in result.all()}


async def grant(
    *, session: AsyncSession, actor: Person, subject: Person, role: Role, region_codes: Collection[str] = ()
) -> RoleChange:
    """Give SUBJECT the role (organizer: for each region code); audited."""
    assert subject.id is not None and role in (Role.ORGANIZER, Role.ADMIN)
    wanted = [ADMIN_SCOPE] if role is Role.ADMIN else list(dict.fromkeys(region_codes))
    existing = await _grants(session=session, person_id=subject.id, role=role)
    change = RoleChange(
        changed=[code for code in wanted if code not in existing],
        unchanged=[code for code in wanted if code in existing],
    )
    for code in change.changed:
        session.add(RoleGrant(person_id=subject.id, role=role, region_code=code, granted_by=actor.id))
    if change.changed:
        await audit.record(
            session=session,
            action="role.grant",
            actor_person_id=actor.id,
            subject_person_id=subject.id,
            role=str(role),
            regions=change.changed,
        )
    await session.flush()
    return change


async def revoke(
    *, session: AsyncSession, actor: Person, subject: Person, role: Role, region_codes: Collection[str] = ()
) -> RoleChange:
    """Take a role from SUBJECT (organizer without codes: every region); audited."""
    assert subject.id is not None and role in (Role.ORGANIZER, Role.ADMIN)
    existing = await _grants(session=session, person_id=subject.id, role=role)
    if role is Role.ADMIN or not region_codes:
        wanted = list(existing) or ([ADMIN_SCOPE] if role is Role.ADMIN else [])
    else:
        wanted = list(dict.fromkeys(region_codes))
    change = RoleChange(
        changed=[code for code in wanted if code in existing],
        unchanged=[code for code in wanted if code not in existing],
    )
    for code in change.changed:
        await session.delete(existing[code])
    if change.changed:
        await audit.record(
            session=session,
            action="role.revoke",
            actor_person_id=actor.id,
            subject_person_id=subject.id,
            role=str(role),
            regions=change.changed,
        )
    await session.flush()
    return change


@dataclass(frozen=True, slots=True)
class RoleHolder:
    person: Person
    role: Role
    scopes: tuple[str, ...]


async def role_holders(*, session: AsyncSession) -> list[RoleHolder]:
    """Everyone with a role in the database, admins first."""
    result = await session.exec(
        select(RoleGrant, Person)
        .join(Person, col(RoleGrant.person_id) == col(Person.id))
        .order_by(col(RoleGrant.person_id), col(RoleGrant.region_code))
    )
    by_person: dict[int, tuple[Person, list[RoleGrant]]] = {}
    for grant_row, person in result.all():
        assert person.id is not None
        by_person.setdefault(person.id, (person, []))[1].append(grant_row)
    holders = []
    for person, grants in by_person.values():
        if any(g.role == Role.ADMIN for g in grants):
            holders.append(RoleHolder(person=person, role=Role.ADMIN, scopes=()))
        else:
            holders.append(RoleHolder(person=person, role=Role.ORGANIZER, scopes=tuple(g.region_code for g in grants)))
    holders.sort(key=lambda h: (h.role is not Role.ADMIN, h.person.id or 0))
    return holders
