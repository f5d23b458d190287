"""The database: migrations, SQLite pragmas, UTC timestamps, and the append-only audit log."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import db
from bot.services import audit, people


async def test_migrations_are_applied_once_and_idempotent(engine: AsyncEngine) -> None:
    assert await db.pending_revisions(engine) == []
    await db.upgrade(engine)  # nothing left to do, no error
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
    assert {"person", "role_grant", "audit_log", "alembic_version"} <= tables


async def test_fresh_database_reports_pending_revisions(database_url: str) -> None:
    engine = db.create_engine(database_url)
    try:
        every = [rev.revision for rev in ScriptDirectory.from_config(db.alembic_config()).walk_revisions()]
        assert await db.pending_revisions(engine) == list(reversed(every))
        assert every[-1] == "0001"
    finally:
        await engine.dispose()


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    # Always SQLite, whichever database the rest of the suite runs on.
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pragmas.db'}")
    try:
        async with engine.connect() as connection:
            assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    finally:
        await engine.dispose()


async def test_foreign_keys_are_enforced(session: AsyncSession) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        connection = await session.connection()
        await connection.execute(
            sa.text(
                "INSERT INTO role_grant (person_id, role, region_code, granted_at) "
                "VALUES (999, 'admin', '', CURRENT_TIMESTAMP)"
            )
        )
        await session.commit()


async def test_timestamps_come_back_timezone_aware(session: AsyncSession) -> None:
    person = await people.record_person(
        session=session, telegram_id=5, username="Budi_5", first_name="Budi", language_code="id"
    )
    await session.commit()
    session.expire_all()
    again = await people.by_username(session=session, username="@BUDI_5")
    assert again is not None
    assert again.id == person.id
    assert again.last_seen_at.tzinfo is not None
    assert abs(again.last_seen_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


async def test_username_moves_with_its_owner(session: AsyncSession) -> None:
    await people.record_person(
        session=session, telegram_id=1, username="kpu_kalsel", first_name="A", language_code=None
    )
    await people.record_person(
        session=session, telegram_id=2, username="kpu_kalsel", first_name="B", language_code=None
    )
    owner = await people.by_username(session=session, username="kpu_kalsel")
    assert owner is not None
    assert owner.telegram_id == 2


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"])
async def test_audit_log_is_append_only(session: AsyncSession, statement: str) -> None:
    await audit.record(session=session, action="role.grant", actor_person_id=1, subject_person_id=2, role="admin")
    await session.commit()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        await (await session.connection()).execute(sa.text(statement))
    await session.rollback()
    count = (await (await session.connection()).execute(sa.text("SELECT count(*) FROM audit_log"))).scalar()
    assert count == 1


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    """A model change without its migration fails here (alembic autogenerate finds nothing to add)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    import models  # noqa: F401

    async with engine.connect() as connection:
        diff = await connection.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), SQLModel.metadata))
    assert diff == []
