"""Personal data stays out of the logs, and /hapusdata leaves it nowhere: not in a broadcast's status message,
not in another organizer's composer."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from telegram.ext import CommandHandler

from bot import logs
from bot.context import Context
from bot.services import people
from models import Broadcast, Figure, RoleGrant
from tests.conftest import ADMIN_ID, Harness
from tests.test_broadcast import compose_invitation, make_figures, make_organizer, tap

NAME, PHONE = "Hendra Gunawan", "+6281234567890"


async def _dump_everything(harness: Harness) -> str:
    """Every row of every table, as one JSON text."""
    async with harness.app.bot_data.sessions() as session:
        connection = await session.connection()
        tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        rows = {table: (await connection.execute(sa.text(f"SELECT * FROM {table}"))).all() for table in tables}
    return json.dumps({table: [list(row) for row in found] for table, found in rows.items()}, default=str)


# ----------------------------------------------------------------------------------------- logs


async def test_database_errors_carry_no_parameter_values(engine: AsyncEngine) -> None:
    """Real errors from the engine, logged as `rangkul run` logs them: no parameter, no quoted row value."""
    insert = sa.text(
        "INSERT INTO person (telegram_id, first_name, created_at, last_seen_at) VALUES (:id, :name, :t, :t)"
    )
    row: dict[str, Any] = {"id": 6281234567890, "name": NAME, "t": dt.datetime(2029, 1, 1, tzinfo=dt.UTC)}
    async with engine.begin() as connection:
        await connection.execute(insert, row)
    errors: list[sa.exc.DBAPIError] = []
    statements: list[tuple[sa.TextClause, dict[str, Any]]] = [
        (insert, row),  # IntegrityError: PostgreSQL's detail says "Key (telegram_id)=(…) already exists"
        (insert, {**row, "id": 1, "t": None}),  # NOT NULL: PostgreSQL's detail quotes the whole failing row
        (sa.text("SELECT * FROM nowhere WHERE phone = :phone"), {"phone": PHONE}),  # OperationalError
    ]
    for statement, parameters in statements:
        with pytest.raises(sa.exc.DBAPIError) as failed:
            async with engine.begin() as connection:
                await connection.execute(statement, parameters)
        errors.append(failed.value)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RedactSecrets([]))
    logger = logging.getLogger("test_privacy.database")
    logger.addHandler(handler)
    try:
        for error in errors:
            assert "parameters hidden" in str(error)
            logger.error("database error: %s", error, exc_info=error)
    finally:
        logger.removeHandler(handler)
    logged = stream.getvalue()
    assert "IntegrityError" in logged
    for value in (NAME, PHONE, "6281234567890"):
        assert value not in logged


async def test_an_error_while_handling_an_update_logs_no_personal_data(
    harness: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real IntegrityError inside an update: the log line holds neither its parameters nor the Telegram id."""
    user_id = 424242421

    async def failing_help(update: object, context: Context) -> None:
        await context.session.exec(  # type: ignore[call-overload]
            sa.text(
                "INSERT INTO person (telegram_id, first_name, created_at, last_seen_at) "
                "VALUES (:id, :name, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            params={"id": user_id, "name": NAME},
        )

    harness.fake.user(user_id, "Hendra", username="hendra_g")
    await harness.send(user_id, "/start")  # the person exists: inserting them again is refused
    [handler] = [h for h in harness.app.handlers[0] if isinstance(h, CommandHandler) and "bantuan" in h.commands]
    monkeypatch.setattr(handler, "callback", failing_help)
    caplog.handler.addFilter(logs.RedactSecrets([]))  # as configure_logging() installs it for `rangkul run`
    with caplog.at_level(logging.INFO):
        [apology] = await harness.send(user_id, "/bantuan")
    assert "Mohon maaf, terjadi gangguan" in apology.shown
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors, "the error was logged"
    logged = caplog.text
    assert "IntegrityError" in logged
    for value in (NAME, str(user_id), "hendra_g"):
        assert value not in logged
    assert logs.telegram_ref(user_id) in logged  # still correlates


async def test_log_lines_name_chats_by_a_short_stable_reference(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    # Telegram refuses the new admin's command menu (they never opened the chat), and that is logged.
    harness.fake.fail_next("setMyCommands", 400, "Bad Request: chat not found")
    with caplog.at_level(logging.INFO):
        [summary] = await harness.send(ADMIN_ID, "/peran beri 975318642 admin")
        await harness.press(ADMIN_ID, summary, "Ya, simpan")
    assert "could not set the command menu" in caplog.text
    assert "975318642" not in caplog.text
    assert logs.telegram_ref(975318642) in caplog.text
    reference = logs.telegram_ref(975318642)
    assert reference == logs.telegram_ref(975318642) != logs.telegram_ref(975318643)
    assert len(reference) <= 16


# ----------------------------------------------------------------------------------------- /hapusdata


async def test_an_organizer_who_deletes_their_data_leaves_no_chat_id_on_their_broadcasts(harness: Harness) -> None:
    organizer = 500
    await make_organizer(harness, organizer, "63.71")
    await make_figures(harness, 1000, 2, "63.71.05.1003")
    await compose_invitation(harness, organizer, "Kota Banjarmasin")
    await tap(harness, organizer, "📨 Kirim sekarang")
    await harness.deliver()
    [broadcast] = await _broadcasts(harness)
    assert broadcast.status_chat_id == organizer and broadcast.status_message_id is not None
    [question] = await harness.send(organizer, "/hapusdata")
    await harness.press(organizer, question, "Ya, hapus data saya")
    assert "Data pribadi Anda telah dihapus" in harness.last(organizer).shown
    [broadcast] = await _broadcasts(harness)
    assert (broadcast.status_chat_id, broadcast.status_message_id) == (None, None)
    dump = await _dump_everything(harness)
    assert re.search(rf"(?<![0-9.]){organizer}(?![0-9.])", dump) is None
    assert "petugas_500" not in dump


async def test_a_figure_who_deletes_their_data_is_not_kept_in_an_organizers_preview(harness: Harness) -> None:
    organizer, figure_user = 500, 1000
    await make_organizer(harness, organizer, "63.71")
    await make_figures(harness, figure_user, 1, "63.71.05.1003")
    async with harness.app.bot_data.sessions() as session:
        [figure] = (await session.exec(select(Figure))).all()
        figure.full_name = NAME
        session.add(figure)
        await session.commit()
    await compose_invitation(harness, organizer, "Kota Banjarmasin")
    assert any(NAME in text for text in harness.fake.sent_texts(organizer))  # the preview names a real recipient
    [question] = await harness.send(figure_user, "/hapusdata")
    await harness.press(figure_user, question, "Ya, hapus data saya")
    assert NAME not in await _dump_everything(harness)
    # The organizer's composer still works: sending now finds nobody left to send to.
    await tap(harness, organizer, "📨 Kirim sekarang")
    assert "Tidak ada tokoh terdaftar" in harness.last(organizer).shown


async def test_a_role_confirmed_after_its_subject_deleted_their_data_is_refused(harness: Harness) -> None:
    harness.fake.user(70, "Rina", username="rina_kpu")
    await harness.send(70, "/start")
    [summary] = await harness.send(ADMIN_ID, "/peran beri @rina_kpu penyelenggara 63.71")
    [question] = await harness.send(70, "/hapusdata")
    await harness.press(70, question, "Ya, hapus data saya")
    await harness.press(ADMIN_ID, summary, "Ya, simpan")
    assert "sudah tidak terdaftar di Rangkul" in harness.last(ADMIN_ID).shown
    async with harness.app.bot_data.sessions() as session:
        assert (await session.exec(select(RoleGrant))).all() == []
        assert await people.by_username(session=session, username="rina_kpu") is None


async def _broadcasts(harness: Harness) -> list[Broadcast]:
    async with harness.app.bot_data.sessions() as session:
        return list((await session.exec(select(Broadcast))).all())


def test_logged_updates_hide_hidden_forwards_places_and_searches() -> None:
    from bot.handlers.errors import redacted

    update = {
        "message": {
            "forward_origin": {"type": "hidden_user", "sender_user_name": "Hendra Gunawan", "date": 0},
            "location": {"latitude": -3.3194, "longitude": 114.5908},
            "venue": {"title": "Rumah", "address": "Jl. Mawar 7, Banjarmasin"},
        },
        "inline_query": {"query": "Hendra 0812"},
        "chat_join_request": {"bio": "Ketua RT 05"},
    }
    text = str(redacted(update))
    for personal in ("Hendra", "114.59", "-3.31", "Mawar", "0812", "Ketua RT"):
        assert personal not in text, text
