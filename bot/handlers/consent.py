"""The changed privacy notice: told once to each figure (by a paced job, or on their next message), and the
answer to its buttons, "Setuju" (the new consent) and "Berhenti menerima pesan" (as /berhenti)."""

from __future__ import annotations

import asyncio
import html
import logging

import sqlalchemy as sa
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import Forbidden, RetryAfter, TelegramError

from bot import db, i18n, notice
from bot.config import Settings
from bot.context import BotData, Context
from bot.handlers.access import drop_keyboard, guarded
from bot.handlers.profile import stop_confirmation
from bot.logs import telegram_ref
from bot.services import consent, figures, registration
from bot.services.consent import Agreement, Recipient
from models import Person

logger = logging.getLogger(__name__)

PREFIX = "pdp"
AGREE, STOP = "yes", "stop"
# The job tells at most this many figures per run, this many a second: a changed notice is not urgent, and
# broadcasts (broadcast.rate_per_second, 25 by default) and replies share Telegram's ~30 messages a second.
NOTICE_RATE_PER_SECOND = 2.0
NOTICE_BATCH = 100
NOTICE_INTERVAL_SECONDS = 60.0
NOTICE_FIRST_SECONDS = 10.0


def changed_notice(settings: Settings, recipient: Recipient) -> tuple[str, InlineKeyboardMarkup]:
    """The new notice, as told once to a figure who agreed to an earlier one, with its two buttons."""
    locale = recipient.locale
    _ = i18n.gettext_for(locale)
    parts = [
        _(
            "<b>Our personal data notice has changed.</b> Please read the new version below. Until you answer, "
            "nothing changes for you: you keep receiving our messages."
        ),
        notice.privacy_notice(settings, locale),
    ]
    if recipient.guardian_name:
        parts.append(
            _(
                "Because you are under 18, please let your parent or guardian, {guardian}, read this notice and "
                "agree together with you."
            ).format(guardian=html.escape(recipient.guardian_name))
        )
    version = notice.current_version(settings, locale)
    data = f"{PREFIX}:{{action}}:{recipient.person_id}:{locale}:{version}"
    keyboard = [
        [
            InlineKeyboardButton(_("Agree"), callback_data=data.format(action=AGREE)),
            InlineKeyboardButton(_("Stop receiving messages"), callback_data=data.format(action=STOP)),
        ]
    ]
    return "\n\n".join(parts), InlineKeyboardMarkup(keyboard)


async def _tell(context: Context, recipient: Recipient) -> None:
    text, markup = changed_notice(context.settings, recipient)
    await context.bot.send_message(recipient.chat_id, text, reply_markup=markup)


async def tell_on_interaction(update: Update, context: Context) -> None:
    """After any message or button in the private chat: a figure not yet told about the changed notice is."""
    chat = update.effective_chat
    if context.person is None or chat is None or chat.type != ChatType.PRIVATE:
        return
    if update.message is None and update.callback_query is None:
        return
    query = update.callback_query
    if query is not None and (query.data or "").startswith(PREFIX + ":"):
        return  # the answer to a notice: its own handler tells them what is due
    if sa.inspect(context.person).expired_attributes:
        # The update's work was rolled back (after an error, the person has just had an apology): not now; the
        # job or their next message tells them.
        return
    await tell_if_due(context, context.person)


async def tell_if_due(context: Context, person: Person, *, again: bool = False) -> bool:
    """Tell PERSON about the changed notice if they have not been told (AGAIN: or not yet agreed to it, after
    they pressed an older notice's button); True when it was sent."""
    figure = await registration.figure_of(session=context.session, person=person)
    if figure is None:
        return False
    recipient = consent.recipient_of(context.settings, figure, person, told_too=again)
    if recipient is None:
        return False
    if figure.notice_told_version != recipient.version and not await consent.claim(
        session=context.session, recipient=recipient
    ):
        return False
    await _tell(context, recipient)
    return True


@guarded()
async def on_button(update: Update, context: Context) -> None:
    """Setuju / Berhenti menerima pesan under a changed notice; valid only for the figure it was sent to."""
    _ = context._
    query = update.callback_query
    assert query is not None and context.person is not None and update.effective_chat is not None
    chat_id = update.effective_chat.id
    parts = (query.data or "").split(":")
    if len(parts) != 5 or parts[1] not in (AGREE, STOP) or parts[2] != str(context.person.id):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    action, locale, version = parts[1], parts[3], parts[4]
    if action == STOP:
        # Stopping is honoured from any version of the notice: nobody should have to agree to stop.
        figure = await figures.set_messages_opt_in(session=context.session, person=context.person, opt_in=False)
        if figure is None:
            await query.answer(_("You are not registered yet. Type /daftar to register."), show_alert=True)
            return
        await query.answer()
        await drop_keyboard(query.message)
        await context.bot.send_message(chat_id, stop_confirmation(context))
        return
    outcome = await consent.agree(
        session=context.session, settings=context.settings, person=context.person, locale=locale, version=version
    )
    if outcome is Agreement.NOT_REGISTERED:
        await query.answer(_("You are not registered yet. Type /daftar to register."), show_alert=True)
        return
    if outcome is Agreement.STALE:
        await query.answer(
            _("This notice has since been replaced by a newer one, so your answer was not recorded."),
            show_alert=True,
        )
        await drop_keyboard(query.message)
        await tell_if_due(context, context.person, again=True)
        return
    await query.answer()
    await drop_keyboard(query.message)
    await context.bot.send_message(
        chat_id,
        _(
            "Thank you. We have recorded your consent to the new personal data notice. You can withdraw it at any "
            "time with /berhenti or /hapusdata."
        )
        if outcome is Agreement.RECORDED
        else _("You have already agreed to this notice. Thank you."),
    )


async def announce_changed_notice(context: Context) -> None:
    """Every minute (and soon after start): tell a batch of figures about the changed notice, paced."""
    told = await tell_batch(context.bot, context.bot_data)
    if told:
        logger.info("told %d figure(s) about the changed privacy notice", told)


async def tell_batch(bot: Bot, bot_data: BotData, *, pause: float = 1 / NOTICE_RATE_PER_SECOND) -> int:
    """Tell up to NOTICE_BATCH figures, one at a time, each marked told (and committed) before its message."""
    settings = bot_data.settings
    sessions = bot_data.sessions
    async with db.unit_of_work(sessions) as session:
        batch = await consent.to_tell(session=session, settings=settings, limit=NOTICE_BATCH)
    told = 0
    for recipient in batch:
        async with db.unit_of_work(sessions) as session:
            if not await consent.claim(session=session, recipient=recipient):
                continue  # told meanwhile, e.g. because they wrote to the bot
        text, markup = changed_notice(settings, recipient)
        try:
            await bot.send_message(recipient.chat_id, text, reply_markup=markup)
        except (Forbidden, RetryAfter, TelegramError) as exc:
            async with db.unit_of_work(sessions) as session:
                await consent.release(session=session, recipient=recipient)
                if isinstance(exc, Forbidden):
                    person = await session.get(Person, recipient.person_id)
                    if person is not None:
                        await figures.mark_unreachable(session=session, person=person)
            logger.warning(
                "could not tell %s about the changed privacy notice: %s", telegram_ref(recipient.chat_id), exc
            )
            if isinstance(exc, RetryAfter):
                break  # Telegram asks us to slow down: the next run goes on
            continue
        told += 1
        await asyncio.sleep(pause)
    return told
