"""The job that tells organizers and admins of new replies in their scope: at most one short digest every 15
minutes each (bot/services/reply_digest.py decides who is due and marks them before anything is sent)."""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Bot
from telegram.error import Forbidden, TelegramError

from bot import db, i18n
from bot.context import BotData, Context
from bot.logs import telegram_ref
from bot.services import reply_digest
from bot.views import replies as views

logger = logging.getLogger(__name__)

DIGEST_JOB_SECONDS = 60.0
DIGEST_FIRST_SECONDS = 30.0


async def send_digests(bot: Bot, bot_data: BotData, now: dt.datetime | None = None) -> int:
    """Send every due digest; how many went out. Each reader is marked (committed) before their digest is
    sent, so a second run or a restart never repeats it; a digest that cannot be sent is not retried (the
    replies stay in /balasan, and the next new reply brings a new digest)."""
    settings = bot_data.settings
    async with db.unit_of_work(bot_data.sessions) as session:
        readers = await reply_digest.readers(session=session, bootstrap_admins=settings.roles.bootstrap_admins)
    sent = 0
    for reader in readers:
        async with db.unit_of_work(bot_data.sessions) as session:
            due = await reply_digest.claim(session=session, reader=reader, now=now)
        if due is None:
            continue
        locale = i18n.chosen_locale(due.locale, settings.locale.default)
        text, markup = views.digest(due.count, locale, i18n.gettext_for(locale))
        try:
            await bot.send_message(due.chat_id, text, reply_markup=markup)
        except Forbidden as exc:
            logger.info("could not send a reply digest to %s: %s", telegram_ref(due.chat_id), exc)
            continue
        except TelegramError as exc:
            logger.warning("could not send a reply digest to %s: %s", telegram_ref(due.chat_id), exc)
            continue
        sent += 1
    return sent


async def digest_job(context: Context) -> None:
    """Every minute: the digests that are due."""
    await send_digests(context.bot, context.bot_data)
