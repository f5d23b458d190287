"""The owner's status message, sent and then edited in place as a broadcast goes on."""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot
from telegram.error import BadRequest, TelegramError

from bot import i18n
from bot.config import Settings
from bot.delivery.status import notice_text, status_message
from bot.services import broadcasts
from models import Broadcast, Person

logger = logging.getLogger(__name__)


async def report(
    notifier: Bot,
    settings: Settings,
    session: AsyncSession,
    broadcast: Broadcast,
    *,
    counts: dict[str, int] | None = None,
    notice: str = "",
) -> None:
    """Create or refresh the owner's status message; a notice (quiet period …) is also sent on its own."""
    organizer = await session.get(Person, broadcast.created_by) if broadcast.created_by else None
    if organizer is None or organizer.telegram_id is None or broadcast.id is None:
        return
    locale = i18n.chosen_locale(organizer.locale, settings.locale.default)
    counts = counts or await broadcasts.outcome_counts(session=session, broadcast_id=broadcast.id)
    text, markup = status_message(broadcast, counts, settings, locale)
    await session.commit()  # no read transaction held open across the network calls below
    try:
        if notice:
            await notifier.send_message(organizer.telegram_id, notice_text(notice, broadcast, settings, locale))
        if broadcast.status_message_id is None or broadcast.status_chat_id != organizer.telegram_id:
            # A new owner (an admin who took over) gets a status message of their own.
            sent = await notifier.send_message(organizer.telegram_id, text, reply_markup=markup)
            broadcast.status_chat_id, broadcast.status_message_id = sent.chat_id, sent.message_id
            session.add(broadcast)
            await session.commit()
        else:
            await notifier.edit_message_text(
                text, chat_id=broadcast.status_chat_id, message_id=broadcast.status_message_id, reply_markup=markup
            )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            logger.warning("broadcast %s: status message not updated: %s", broadcast.id, exc)
    except TelegramError as exc:
        logger.warning("broadcast %s: status message not updated: %s", broadcast.id, exc)
