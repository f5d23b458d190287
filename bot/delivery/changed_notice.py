"""Telling figures that the privacy notice changed: one figure at a time, by the paced job or when they write.

Each figure is marked told (a compare-and-swap, committed) before the message goes out, so that neither a
second run, a restart nor their own next message tells them twice; when the message cannot be sent the mark is
undone, so that they are told later. The job holds back in a masa tenang and on voting day, as broadcasts do;
a figure who writes to the bot then is still told, in answer to their own message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import logging

from telegram import Bot
from telegram.error import RetryAfter, TelegramError

from bot import db
from bot.config import Settings
from bot.context import BotData, Context, commit_before_network_call
from bot.delivery.sending import Refused, refused
from bot.logs import telegram_ref
from bot.services import consent, figures, quiet
from bot.services.consent import Recipient
from bot.views import consent as views
from models import Person, utcnow

logger = logging.getLogger(__name__)

# The job tells at most this many figures per run, this many a second: a changed notice is not urgent, and
# broadcasts (broadcast.rate_per_second, 25 by default) and replies share Telegram's ~30 messages a second.
NOTICE_RATE_PER_SECOND = 2.0
# A batch stays well inside the interval (30 at 2 a second is 15 s, plus each request's round trip), so runs never
# overlap, and stopping the bot never waits long for one to end.
NOTICE_BATCH = 30
NOTICE_INTERVAL_SECONDS = 60.0
NOTICE_FIRST_SECONDS = 10.0


class Told(enum.Enum):
    SENT = "sent"
    TAKEN = "taken"  # someone else (another run, the figure's own update) marked them first
    FAILED = "failed"
    SLOW_DOWN = "slow_down"  # Telegram asked us to wait (429)


async def tell(bot: Bot, bot_data: BotData, recipient: Recipient) -> Told:
    """Tell RECIPIENT about the changed notice, once. Never raises a Telegram error: a message that could not
    be sent leaves them to be told later (and one refused because they blocked the bot marks them unreachable).
    """
    # An update's own work is committed first: its SQLite write lock must not hold up the mark below.
    await commit_before_network_call()
    if recipient.previous_told != recipient.version:  # else: told already, and shown it again on request
        async with db.unit_of_work(bot_data.sessions) as session:
            if not await consent.claim(session=session, recipient=recipient):
                return Told.TAKEN
    text, markup = views.changed_notice(bot_data.settings, recipient)
    try:
        await bot.send_message(recipient.chat_id, text, reply_markup=markup)
    except TelegramError as exc:
        # Only a message that surely did not arrive is sent again; one Telegram cannot deliver marks the figure
        # unreachable (they are told when they write again), so that the same few never hold up the rest.
        meaning = refused(exc)
        if meaning in (Refused.RETRY, Refused.UNREACHABLE):
            async with db.unit_of_work(bot_data.sessions) as session:
                await consent.release(session=session, recipient=recipient)
                person = await session.get(Person, recipient.person_id)
                if meaning is Refused.UNREACHABLE and person is not None:
                    await figures.mark_unreachable(session=session, person=person)
        # The chat by its reference only: the log outlives /hapusdata.
        logger.warning("could not tell %s about the changed privacy notice: %s", telegram_ref(recipient.chat_id), exc)
        return Told.SLOW_DOWN if isinstance(exc, RetryAfter) else Told.FAILED
    return Told.SENT


def held_back_at(settings: Settings, when: dt.datetime) -> bool:
    """Whether the job sends nothing at WHEN: from a masa tenang's start until its release, and all of voting
    day (from 00:00 WIT to 24:00 WIB, so in every zone)."""
    if quiet.hold_at(settings, when) is not None:
        return True
    day = settings.election.date
    start = dt.datetime.combine(day, dt.time(), tzinfo=quiet.EARLIEST_ZONE)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=quiet.LATEST_ZONE)
    return start <= when < end


async def announce_changed_notice(context: Context) -> None:
    """Every minute (and soon after start): tell a batch of figures about the changed notice, paced."""
    told = await tell_batch(context.bot, context.bot_data)
    if told:
        logger.info("told %d figure(s) about the changed privacy notice", told)


async def tell_batch(bot: Bot, bot_data: BotData, *, pause: float = 1 / NOTICE_RATE_PER_SECOND) -> int:
    """Tell up to NOTICE_BATCH figures, one at a time; how many were told."""
    settings = bot_data.settings
    if held_back_at(settings, utcnow()):
        return 0
    async with db.unit_of_work(bot_data.sessions) as session:
        batch = await consent.to_tell(session=session, settings=settings, limit=NOTICE_BATCH)
    told = 0
    for recipient in batch:
        if held_back_at(settings, utcnow()):
            break  # a masa tenang began during the batch
        outcome = await tell(bot, bot_data, recipient)
        if outcome is Told.SLOW_DOWN:
            break  # the next run goes on
        if outcome is Told.SENT:
            told += 1
            await asyncio.sleep(pause)
    return told
