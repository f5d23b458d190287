"""/status and its buttons: organizers follow their broadcasts and pause, resume or cancel them. The status
message is bot/delivery/status.py (the delivery engine keeps it up to date); the answers are bot/views/broadcast.py."""

from __future__ import annotations

from contextlib import suppress

from telegram import Message, Update
from telegram.error import TelegramError

from bot.context import Context
from bot.delivery.status import parse_control, status_message
from bot.handlers.access import guarded
from bot.services import broadcasts
from bot.services.broadcasts import BroadcastError
from bot.views import broadcast as views
from models import Role

# How many of the caller's most recent broadcasts /status shows, one message each.
SHOWN = 5


@guarded(Role.ORGANIZER)
async def control_button(update: Update, context: Context) -> None:
    """Pause, resume or cancel from the status message; the role and ownership are checked here, every time."""
    _ = context._
    query = update.callback_query
    assert query is not None and context.person is not None
    pressed = parse_control(query.data)
    if pressed is None:
        await query.answer(views.stale_control_button(_), show_alert=True)
        return
    action, broadcast_id = pressed
    try:
        broadcast = await broadcasts.control(
            session=context.session,
            person=context.person,
            authority=context.authority,
            settings=context.settings,
            broadcast_id=broadcast_id,
            action=action,
        )
    except BroadcastError as exc:
        await context.session.rollback()
        await query.answer(views.refusal(exc, context.settings, context.locale, _), show_alert=True)
        return
    await query.answer(views.controlled(action, _))
    assert broadcast.id is not None
    counts = await broadcasts.outcome_counts(session=context.session, broadcast_id=broadcast.id)
    text, markup = status_message(broadcast, counts, context.settings, context.locale)
    if isinstance(query.message, Message):
        with suppress(TelegramError):
            await query.message.edit_text(text, reply_markup=markup)
    if context.bot_data.delivery is not None:
        context.bot_data.delivery.wake()


@guarded(Role.ORGANIZER)
async def status_command(update: Update, context: Context) -> None:
    """/status: recent broadcasts with their figures."""
    message = update.effective_message
    assert message is not None and context.person is not None
    recent = await broadcasts.recent(session=context.session, person=context.person, authority=context.authority)
    if not recent:
        await message.reply_text(views.no_broadcasts(context._))
        return
    for broadcast in recent[:SHOWN]:
        assert broadcast.id is not None
        counts = await broadcasts.outcome_counts(session=context.session, broadcast_id=broadcast.id)
        text, markup = status_message(broadcast, counts, context.settings, context.locale)
        await message.reply_text(text, reply_markup=markup)
