"""The retention jobs inside the running bot: the admins' reminder and the daily purge (checked every hour), and
the figures' notice before their data is deleted (a paced batch every minute, as the changed privacy notice).

Whatever is sent once is recorded before it goes out: the admins' reminder as an audit event, each figure's
notice as Figure.retention_told_for (a compare-and-swap, undone when Telegram refuses the message), so that
neither a second run nor a restart repeats it. An error is logged and the next run tries again; it never stops
the bot.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from telegram import Bot
from telegram.error import RetryAfter, TelegramError

from bot import db, i18n
from bot.context import BotData, Context
from bot.delivery.changed_notice import NOTICE_BATCH, NOTICE_RATE_PER_SECOND, held_back_at
from bot.delivery.sending import Refused, refused
from bot.logs import telegram_ref
from bot.services import retention
from bot.services.retention import Notified, Phase
from bot.views import retention as views
from models import utcnow

logger = logging.getLogger(__name__)

# The reminder and the purge are due once a day; checking every hour means a bot that was down at midnight still
# purges the same day, and a failed run is retried within the hour.
RETENTION_JOB_SECONDS = 3600.0
RETENTION_FIRST_SECONDS = 45.0
NOTICE_JOB_SECONDS = 60.0
NOTICE_FIRST_SECONDS = 20.0


async def remind_admins(bot: Bot, bot_data: BotData, *, now: dt.datetime | None = None) -> int:
    """Within REMINDER_DAYS of the date, or after it when nobody was reminded: remind every admin once (recorded
    first); how many were sent."""
    settings = bot_data.settings
    on = retention.today(settings, now)
    until = settings.privacy.retention_until
    if until is None or retention.phase(settings, on) not in (Phase.REMINDING, Phase.PASSED):
        return 0
    async with db.unit_of_work(bot_data.sessions) as session:
        chats = await retention.admin_chats(session=session, bootstrap_admins=settings.roles.bootstrap_admins)
        if not await retention.claim_reminder(session=session, settings=settings, on=on, admins=len(chats)):
            return 0
        figures = await retention.count_holding_data(session=session)
    sent = 0
    for chat in chats:
        locale = i18n.chosen_locale(chat.locale, settings.locale.default)
        _ = i18n.gettext_for(locale)
        text = (
            views.admin_overdue(until, figures, locale, _)
            if on > until
            else views.admin_reminder(until, on, figures, locale, _)
        )
        try:
            await bot.send_message(chat.chat_id, text)
        except TelegramError as exc:
            # Not retried: the reminder is recorded, and the admin sees the date in /audit and the settings.
            logger.warning("could not remind %s of the retention date: %s", telegram_ref(chat.chat_id), exc)
            continue
        sent += 1
    logger.info("reminded %d admin(s) that personal data is deleted after %s", sent, until.isoformat())
    return sent


async def tell_figure(bot: Bot, bot_data: BotData, notified: Notified) -> bool | None:
    """Tell one figure, once: True when sent, False when another run had told them, None when Telegram refused.
    The mark is undone only when the message surely did not arrive and may be sent later; a figure Telegram
    cannot reach is marked unreachable (and told when they write again); a message that may have arrived, or
    that Telegram refused for good, is not sent again (the same 30 must not hold up everyone else)."""
    async with db.unit_of_work(bot_data.sessions) as session:
        if not await retention.claim_notice(session=session, notified=notified):
            return False
    settings = bot_data.settings
    locale = i18n.chosen_locale(notified.locale, settings.locale.default)
    text = views.figure_notice(notified.until, settings.privacy.controller_name, locale, i18n.gettext_for(locale))
    try:
        await bot.send_message(notified.chat_id, text)
    except TelegramError as exc:
        meaning = refused(exc)
        if meaning in (Refused.RETRY, Refused.UNREACHABLE):
            async with db.unit_of_work(bot_data.sessions) as session:
                await retention.release_notice(session=session, notified=notified)
                if meaning is Refused.UNREACHABLE:
                    await retention.mark_unreachable(session=session, figure_id=notified.figure_id)
        logger.warning("could not tell %s that their data will be deleted: %s", telegram_ref(notified.chat_id), exc)
        if isinstance(exc, RetryAfter):
            raise
        return None
    return True


async def tell_figures(
    bot: Bot, bot_data: BotData, *, now: dt.datetime | None = None, pause: float = 1 / NOTICE_RATE_PER_SECOND
) -> int:
    """Tell up to NOTICE_BATCH figures, one at a time at NOTICE_RATE_PER_SECOND; how many were told. Nothing in
    a masa tenang or on voting day (as the changed notice)."""
    settings = bot_data.settings
    moment = now or utcnow()
    if held_back_at(settings, moment):
        return 0
    async with db.unit_of_work(bot_data.sessions) as session:
        batch = await retention.figures_to_tell(
            session=session, settings=settings, on=retention.today(settings, moment), limit=NOTICE_BATCH
        )
    told = 0
    for notified in batch:
        try:
            outcome = await tell_figure(bot, bot_data, notified)
        except RetryAfter:
            break  # Telegram asked us to wait: the next run goes on
        if outcome:
            told += 1
            await asyncio.sleep(pause)
    return told


async def run_daily(bot: Bot, bot_data: BotData, *, now: dt.datetime | None = None) -> retention.PurgeOutcome | None:
    """The daily work: the admins' reminder when it is due, the purge once the date has passed."""
    settings = bot_data.settings
    on = retention.today(settings, now)
    current = retention.phase(settings, on)
    if current is Phase.REMINDING:
        await remind_admins(bot, bot_data, now=now)
        return None
    if current is not Phase.PASSED:
        return None
    until = settings.privacy.retention_until
    assert until is not None
    async with db.unit_of_work(bot_data.sessions) as session:
        may_run = await retention.purge_may_run(session=session, settings=settings, until=until)
    if not may_run:
        # Nobody was reminded before the date (it was already past when the bot first saw it): nothing is deleted
        # by itself; the admins are told once, and `rangkul purge` is the deliberate way.
        await remind_admins(bot, bot_data, now=now)
        logger.warning(
            "privacy.retention_until %s has passed, but the admins were not reminded before it: nothing is deleted "
            "automatically; run `rangkul purge` to delete the personal data now, or set a later date",
            until,
        )
        return None
    outcome = await retention.purge(sessions=bot_data.sessions, settings=settings, on=on, source="job")
    if outcome.figures:
        logger.info(
            "retention date %s has passed: deleted the personal data of %d figure(s)",
            settings.privacy.retention_until,
            outcome.figures,
        )
    return outcome


async def retention_job(context: Context) -> None:
    """Every hour: the reminder and the purge, when due. An error is logged; the next hour tries again."""
    try:
        await run_daily(context.bot, context.bot_data)
    except Exception:
        logger.exception("the retention job failed; it runs again in %.0f minutes", RETENTION_JOB_SECONDS / 60)


async def notice_job(context: Context) -> None:
    """Every minute within REMINDER_DAYS of the date: a paced batch of figures told their data will be deleted."""
    try:
        told = await tell_figures(context.bot, context.bot_data)
    except Exception:
        logger.exception("telling figures about the retention date failed; the next run tries again")
        return
    if told:
        logger.info("told %d figure(s) that their personal data will be deleted", told)
