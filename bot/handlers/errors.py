"""The error handler: log first, undo the update's database work, and apologise to the person."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.context import Context, current_session, update_failed
from bot.logs import telegram_ref
from bot.views import common as views

logger = logging.getLogger(__name__)
MAX_LOGGED_UPDATE = 4000
# What people typed or who they are stays out of the logs, where /hapusdata cannot reach it.
PERSONAL_KEYS = frozenset(
    {
        "text",
        "caption",
        "first_name",
        "last_name",
        "username",
        "phone_number",
        "contact",
        "title",
        "vcard",
        # A hidden forward's sender, a channel post's signature, places, searches, bios, polls.
        "sender_user_name",
        "author_signature",
        "location",
        "venue",
        "latitude",
        "longitude",
        "address",
        "query",
        "bio",
        "question",
    }
)
# User and chat ids, wherever they sit (from, chat, sender_chat, a text mention's user …): logged as a hash.
TELEGRAM_ID_KEYS = frozenset({"id", "user_id", "chat_id"})


def _redacted_item(key: str, value: Any) -> Any:
    if key in PERSONAL_KEYS:
        return "<redacted>"
    if key in TELEGRAM_ID_KEYS and isinstance(value, int) and not isinstance(value, bool):
        return telegram_ref(value)
    return redacted(value)


def redacted(data: Any) -> Any:
    """The update with personal fields replaced and Telegram ids hashed, keeping its shape for debugging."""
    if isinstance(data, dict):
        return {key: _redacted_item(key, value) for key, value in data.items()}
    if isinstance(data, list):
        return [redacted(item) for item in data]
    return data


async def on_error(update: object, context: Context) -> None:
    """Log the exception with the update, roll back, and say sorry in the person's language."""
    update_failed.set(True)
    session = current_session.get(None)
    if session is not None:
        await session.rollback()
    if isinstance(context.error, StaleDataError) and "conversation_state" in str(context.error):
        # Two answers to the same step (a double tap that overtook itself): the first one was applied.
        logger.info("a conversation step was answered twice; the second answer was not applied")
        await _tell(update, context, views.answered_twice(context._))
        return
    update_text = (
        json.dumps(redacted(update.to_dict()), ensure_ascii=False) if isinstance(update, Update) else repr(update)
    )
    logger.error("error while handling update %s", update_text[:MAX_LOGGED_UPDATE], exc_info=context.error)
    await _tell(update, context, views.something_went_wrong(context._))


async def _tell(update: object, context: Context, apology: str) -> None:
    """Say APOLOGY to whoever sent UPDATE: as the button's alert, or as a message in their private chat."""
    if not isinstance(update, Update):
        return
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(apology, show_alert=True)
            return
        except TelegramError:
            # Handlers answer a press first, so the query is usually answered already (or too old by now):
            # a second answer is refused and would reach nobody. Say it in the chat instead.
            pass
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        return
    try:
        await context.bot.send_message(chat.id, apology)
    except TelegramError as exc:
        logger.warning("could not send the apology: %s", exc)
