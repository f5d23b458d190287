"""/bahasa (alias /language): the language Rangkul speaks with a person, chosen by them and stored."""

from __future__ import annotations

import contextlib

from telegram import Message, Update
from telegram.error import TelegramError

from bot import i18n, menus
from bot.context import Context
from bot.handlers import conversation
from bot.handlers.access import guarded
from bot.services import people
from bot.views import language as views
from bot.views.limits import echo


@guarded()
async def language_command(update: Update, context: Context) -> None:
    """/bahasa shows the languages; /bahasa <language> chooses one at once."""
    message = update.effective_message
    assert message is not None
    if context.args:
        asked = " ".join(context.args)
        locale = i18n.locale_named(asked)
        if locale is None:
            text, markup = views.menu(context.locale, unknown=echo(asked))
            await message.reply_text(text, reply_markup=markup)
            return
        await _choose(update, context, locale)
        return
    text, markup = views.menu(context.locale)
    await message.reply_text(text, reply_markup=markup)


@guarded()
async def language_button(update: Update, context: Context) -> None:
    """A language button under /bahasa (any such button, however old: choosing a language is always allowed)."""
    query = update.callback_query
    assert query is not None
    locale = views.parse_button(query.data)
    if locale is None:
        await query.answer(views.stale_button(context.locale), show_alert=True)
        return
    await query.answer()
    await _choose(update, context, locale, edit=query.message)


async def _choose(update: Update, context: Context, locale: str, *, edit: object = None) -> None:
    assert context.person is not None and update.effective_chat is not None
    await people.choose_locale(session=context.session, person=context.person, locale=locale)
    context.locale = locale  # the rest of this update speaks the new language too
    settings = context.settings
    await menus.set_chat_menu(context.bot, update.effective_chat.id, context.authority.role, locale, settings)
    text = views.chosen(locale)
    edited = False
    if isinstance(edit, Message):
        with contextlib.suppress(TelegramError):
            await edit.edit_text(text, reply_markup=views.keyboard(locale))
            edited = True
    message = update.effective_message
    if not edited and message is not None:
        await message.reply_text(text)
    await _ask_again(update.effective_chat.id, context)


async def _ask_again(chat_id: int, context: Context) -> None:
    """A conversation under way (registration, a profile edit, the composer, an export…) goes on in the new
    language: its current question is asked again, so that the next answer is not given to a question in the old
    one."""
    state = await context.conversation()
    if state is not None:
        await conversation.ask_again(chat_id, context, state)
