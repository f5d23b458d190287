"""Alembic environment: runs on the connection bot.db hands over, so sync and async engines share one path."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_standalone() -> None:
    """`alembic` invoked directly: connect with the URL from Rangkul's settings."""
    from bot.config import load_settings
    from bot.db import create_engine

    async def main() -> None:
        engine = create_engine(load_settings().database.url)
        async with engine.begin() as connection:
            await connection.run_sync(_run)
        await engine.dispose()

    asyncio.run(main())


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    _run_standalone()
