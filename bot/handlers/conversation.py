"""The conversation in progress, whatever it is (registration, profile edit, broadcast composer, export, an
organizer's answer to a reply, the number of people a figure will invite): the one place that knows them all.
Typed text is handed to it, its current question is asked again, and what cannot answer it is refused here
rather than taken for a reply."""

from __future__ import annotations

from telegram import Update

from bot.context import Context
from bot.handlers import broadcast, commitments, exports, registration, replies
from bot.views import common as views
from models import ConversationState


async def answers(update: Update, context: Context) -> bool:
    """Hand typed text to the conversation in progress; False when there is none (or it let the text go)."""
    return (
        await registration.on_text(update, context)
        or await broadcast.on_text(update, context)
        or await replies.on_text(update, context)
        or await commitments.on_text(update, context)
        or await exports.on_text(update, context)
    )


async def ask_again(chat_id: int, context: Context, state: ConversationState) -> None:
    """Ask the current question of the conversation STATE again (in the language the person speaks now)."""
    if state.flow == broadcast.FLOW:
        await broadcast.ask_again(chat_id, state, context)
    elif state.flow == commitments.FLOW:
        await commitments.ask_again(chat_id, context, state)
    elif state.flow == replies.FLOW:
        await replies.ask_again(chat_id, context, state)
    elif state.flow == exports.FLOW:
        await exports.ask_again(chat_id, context, state)
    else:
        await registration.ask(context, chat_id, state)


async def refuses_untyped(update: Update, context: Context) -> bool:
    """A photo, sticker, voice note, document (anything but text, a command or a shared contact) while a
    conversation waits for an answer: it is no answer and no reply for the officers either. The person is told
    the question wants a typed answer or a button, and it is asked again. False when no conversation is under
    way."""
    message = update.effective_message
    if message is None or update.effective_chat is None:
        return False
    state = await context.conversation()
    if state is None:
        return False
    await message.reply_text(views.untyped_answer(state, context._))
    await ask_again(update.effective_chat.id, context, state)
    return True
