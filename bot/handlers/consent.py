"""The changed privacy notice in the chat: told to a figure after their own message (when it is not in the way),
and the answer to its buttons, "Setuju" (the new consent) and "Berhenti menerima pesan" (as /berhenti)."""

from __future__ import annotations

import re

from telegram import Update
from telegram.constants import ChatType

from bot.commands import command
from bot.context import Context, update_failed
from bot.delivery import changed_notice
from bot.handlers.access import drop_keyboard, guarded
from bot.services import consent, conversations, figures, registration
from bot.services.consent import Agreement
from bot.views import consent as views
from bot.views.profile import DELETE, not_registered, stale_button, stop_confirmation

# After these the person is left alone: they are about their data or their messages (a confirmation to answer,
# a stop just confirmed), and the notice would bury the answer. The next message tells them.
RIGHTS_COMMANDS = frozenset(
    name for cmd in ("berhenti", "lanjut", "hapusdata", "dataku", "batal") for name in command(cmd).names
)
RIGHTS_BUTTONS = (views.NOTICE, DELETE)


def _about_rights(update: Update) -> bool:
    """Whether UPDATE is one of RIGHTS_COMMANDS or a button of theirs (or of the notice itself)."""
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        return any(re.match(codec.pattern, data) for codec in RIGHTS_BUTTONS)
    text = update.message.text if update.message is not None else None
    if not text or not text.startswith("/"):
        return False
    name = text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower()
    return name in RIGHTS_COMMANDS


async def tell_on_interaction(update: Update, context: Context) -> None:
    """After a message or button in the private chat: a figure not yet told about the changed notice is, unless
    the update failed (they have just had an apology), is about their rights, or a conversation is under way."""
    # The figure as identify read it: most updates come from someone with nothing due, at no extra query.
    figure, person, chat = context.figure, context.person, update.effective_chat
    if update_failed.get() or figure is None or person is None or chat is None or chat.type != ChatType.PRIVATE:
        return
    if (update.message is None and update.callback_query is None) or _about_rights(update):
        return
    recipient = consent.recipient_of(context.settings, figure, person)
    if recipient is None:
        return
    if await conversations.current(session=context.session, person=person) is not None:
        return  # registration, a profile edit or the broadcast composer: told once it is over
    await changed_notice.tell(context.bot, context.bot_data, recipient)


async def _tell_due(context: Context, *, again: bool = False) -> None:
    """Tell the caller about the changed notice if it is due (AGAIN: even when told, but not yet agreed to)."""
    assert context.person is not None
    figure = await registration.figure_of(session=context.session, person=context.person)
    recipient = consent.recipient_of(context.settings, figure, context.person, told_too=again) if figure else None
    if recipient is not None:
        await changed_notice.tell(context.bot, context.bot_data, recipient)


@guarded()
async def on_button(update: Update, context: Context) -> None:
    """Setuju / Berhenti menerima pesan under a changed notice; valid only for the figure it was sent to."""
    _ = context._
    query = update.callback_query
    assert query is not None and context.person is not None and update.effective_chat is not None
    chat_id = update.effective_chat.id
    pressed = views.parse_button(query.data)
    if pressed is None or pressed.person_id != context.person.id:
        await query.answer(stale_button(_), show_alert=True)
        await _tell_due(context)  # their own notice, if one is waiting for them
        return
    if pressed.action == views.STOP:
        # Stopping is honoured from any version of the notice: nobody should have to agree to stop.
        figure = await figures.set_messages_opt_in(session=context.session, person=context.person, opt_in=False)
        if figure is None:
            await query.answer(not_registered(_), show_alert=True)
            return
        await query.answer()
        await drop_keyboard(query.message)
        stopped = stop_confirmation(context.settings.privacy.retention_until, context.locale)
        await context.bot.send_message(chat_id, stopped)
        return
    outcome = await consent.agree(
        session=context.session,
        settings=context.settings,
        person=context.person,
        locale=pressed.locale,
        version=pressed.version,
    )
    if outcome is Agreement.NOT_REGISTERED:
        await query.answer(not_registered(_), show_alert=True)
        return
    if outcome is Agreement.STALE:
        await query.answer(views.replaced(_), show_alert=True)
        await drop_keyboard(query.message)
        await _tell_due(context, again=True)
        return
    await query.answer()
    await drop_keyboard(query.message)
    await context.bot.send_message(chat_id, views.agreed(outcome is Agreement.RECORDED, _))
