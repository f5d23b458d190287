"""The error handler: log first, undo the update's database work, and apologise to the person."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.context import Context, current_session

logger = logging.getLogger(__name__)
MAX_LOGGED_UPDATE = 4000
# What people typed or who they are stays out of the logs, where /hapusdata cannot reach it.
PERSONAL_KEYS = frozenset(
    {"text", "caption", "first_name", "last_name", "username", "phone_number", "contact", "title", "vcard"}
)


def redacted(data: Any) -> Any:
    """The update with personal fields replaced, keeping its shape and ids for debugging."""
    if isinstance(data, dict):
        return {key: "<redacted>" if key in PERSONAL_KEYS else redacted(value) for key, value in data.items()}
    if isinstance(data, list):
        return [redacted(item) for item in data]
    return data


async def on_error(update: object, context: Context) -> None:
    """Log the exception with the update, roll back, and say sorry in the person's language."""
    session = current_session.get(None)
    if session is not None:
        await session.rollback()
    if isinstance(context.error, StaleDataError):
        # Two answers to the same step (a double tap that overtook itself): the first one was applied.
        logger.info("a conversation step was answered twice; the second answer was not applied")
        await _tell(
            update,
            context,
            context._("We already received an answer to this question; please go on from the last one."),
        )
        return
    update_text = (
        json.dumps(redacted(update.to_dict()), ensure_ascii=False) if isinstance(update, Update) else repr(update)
    )
    logger.error("error while handling update %s", update_text[:MAX_LOGGED_UPDATE], exc_info=context.error)
    await _tell(
        update,
        context,
        context._("Sorry, something went wrong on our side and nothing was saved. Please try again in a moment."),
    )


async def _tell(update: object, context: Context, apology: str) -> None:
    """Say APOLOGY to whoever sent UPDATE: as the button's alert, or as a message in their private chat."""
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(apology, show_alert=True)
        elif update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE:
            await context.bot.send_message(update.effective_chat.id, apology)
    except TelegramError as exc:
        logger.warning("could not send the apology: %s", exc)
