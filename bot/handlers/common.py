"""Greeting, help, cancel, and the answers to everything the bot does not understand."""

from __future__ import annotations

from telegram import ReplyKeyboardRemove, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot import i18n, menus
from bot.context import Context
from bot.handlers import conversation, errors
from bot.handlers import registration as registration_handlers
from bot.handlers import replies as replies_handlers
from bot.handlers.access import guarded, private_chat_button
from bot.services import figures, people, registration, roles
from bot.views import common as views
from models import Role

PENDING_KEYS = ("role_pending",)


async def identify(update: Update, context: Context) -> None:
    """Record who wrote and work out their role and language; runs before every other handler.

    When that fails (the database is unreachable or locked for longer than the busy timeout), the person gets
    one apology and the update goes no further: no handler may run without knowing who is asking.
    """
    try:
        await _identify(update, context)
    except Exception as exc:
        context.error = exc
        await errors.on_error(update, context)
        raise ApplicationHandlerStop from exc


async def _identify(update: Update, context: Context) -> None:
    user = update.effective_user
    if user is None or user.is_bot:
        return
    settings = context.settings
    # The office's language unless the person chose another with /bahasa; never the Telegram app's language.
    context.locale = settings.locale.default
    if not _in_private_chat(update):
        # A group (or a channel) says nothing about someone's private chat with the bot: a bystander is not
        # recorded, and a figure who blocked the bot is still unreachable. Read only, so roles still apply.
        seen = await people.visitor(session=context.session, telegram_id=user.id)
        if seen is not None:
            context.person = seen.person
            context.locale = i18n.chosen_locale(seen.person.locale, settings.locale.default)
            context.authority = await roles.authority_of(
                session=context.session,
                person=seen.person,
                bootstrap_admins=settings.roles.bootstrap_admins,
                has_grants=seen.has_grants,
            )
        return
    visitor = await people.record_visit(
        session=context.session,
        telegram_id=user.id,
        username=user.username,
        first_name=user.first_name,
        language_code=user.language_code,
    )
    context.person = visitor.person
    context.locale = i18n.chosen_locale(context.person.locale, settings.locale.default)
    context.authority = await roles.authority_of(
        session=context.session,
        person=context.person,
        bootstrap_admins=settings.roles.bootstrap_admins,
        has_grants=visitor.has_grants,
    )
    wrote = visitor.wrote
    if update.message is not None or update.callback_query is not None:
        # Writing to the bot in the private chat proves it is no longer blocked.
        context.figure = visitor.figure
        if visitor.figure is not None:
            wrote = await figures.reachable_again(session=context.session, figure=visitor.figure) or wrote
    if wrote:
        # On disk before any handler runs: SQLite's one write lock is not held through a handler's reads (a
        # /laporan reads for a second, a press checks its delivery) while everyone else's writes queue behind it.
        await context.session.commit()


def _in_private_chat(update: Update) -> bool:
    """Whether UPDATE happened in the sender's private chat with the bot (a button under a message there, too)."""
    chat = update.effective_chat
    if update.callback_query is not None and update.callback_query.message is None:
        return False  # a button under an inline message: no chat to speak of
    return chat is not None and chat.type == ChatType.PRIVATE


def _is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


async def start(update: Update, context: Context) -> None:
    """Welcome: what Rangkul is, who runs it, and what to do next."""
    _ = context._
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    if not _is_private(update):
        await message.reply_text(views.group_greeting(_), reply_markup=private_chat_button(context))
        return
    text = views.welcome(user.first_name, context.settings, _, context.locale)
    assert context.person is not None
    invitation = await registration_handlers.invitation_for(context, context.args[0] if context.args else None)
    if invitation is not None:
        # Came through an organizer's link: welcome, then straight into registration with the region filled in.
        await message.reply_text(text)
        await registration_handlers.begin(update, context, invitation)
        return
    figure = await registration.figure_of(session=context.session, person=context.person)
    text, markup = views.welcome_next_step(text, figure is not None, _)
    await message.reply_text(text, reply_markup=markup)
    if context.authority.at_least(Role.ORGANIZER):
        # The menu could not be set while this person had never opened the chat; now it can.
        await menus.set_chat_menu(context.bot, user.id, context.authority.role, context.locale, context.settings)


async def help_command(update: Update, context: Context) -> None:
    """List the commands the caller's role may use."""
    _ = context._
    message = update.effective_message
    if message is None:
        return
    if not _is_private(update):
        await message.reply_text(views.private_only(_), reply_markup=private_chat_button(context))
        return
    user = update.effective_user
    assert user is not None
    await message.reply_text(views.help_text(context.authority, context.settings, _, context.locale, user_id=user.id))


@guarded()
async def cancel(update: Update, context: Context) -> None:
    """Forget whatever the caller was in the middle of."""
    _ = context._
    message = update.effective_message
    if message is None:
        return
    user_data = context.user_data if context.user_data is not None else {}
    dropped = [key for key in PENDING_KEYS if user_data.pop(key, None) is not None]
    ended = await registration_handlers.cancel_conversation(context)
    if ended is not None:
        # Also take away the "share my number" keyboard, if it was showing.
        await message.reply_text(views.cancelled(_), reply_markup=ReplyKeyboardRemove())
    elif dropped:
        await message.reply_text(views.cancelled(_))
    else:
        await message.reply_text(views.nothing_to_cancel(_))


async def unknown_command(update: Update, context: Context) -> None:
    """A command we do not have: an answer the conversation in progress must refuse, or a pointer to /bantuan."""
    if await conversation.answers(update, context):
        return
    if _is_private(update) and update.effective_message is not None:
        await update.effective_message.reply_text(views.unknown_command(context._))


async def plain_text(update: Update, context: Context) -> None:
    """Free text: an answer to a conversation in progress, or a figure's reply for the officers."""
    if await conversation.answers(update, context):
        return
    await replies_handlers.on_free_message(update, context)


async def unsupported_message(update: Update, context: Context) -> None:
    """Photos, voice notes, videos, documents, stickers and the like: no answer to a conversation in progress
    (it is asked again); outside one, a figure's reply for the officers, kept by Telegram file id (never
    downloaded)."""
    if await conversation.refuses_untyped(update, context):
        return
    await replies_handlers.on_free_message(update, context)


async def edited_message(update: Update, context: Context) -> None:
    """An edit is not a new instruction: say so rather than act on it twice or not at all silently."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(views.edited_message(context._))


async def unknown_button(update: Update, context: Context) -> None:
    """A button from an old message or with data we never made."""
    if update.callback_query is not None:
        await update.callback_query.answer(views.unknown_button(context._), show_alert=True)
