"""Greeting, help, cancel, and the answers to everything the bot does not understand."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot import i18n, menus
from bot.commands import commands_for
from bot.context import Context
from bot.handlers import broadcast as broadcast_handlers
from bot.handlers import commitments as commitment_handlers
from bot.handlers import errors
from bot.handlers import exports as export_handlers
from bot.handlers import registration as registration_handlers
from bot.handlers import replies as replies_handlers
from bot.handlers.access import guarded, private_chat_button
from bot.services import figures, people, registration, roles
from bot.views.limits import listed
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
        context.person = await people.by_telegram_id(session=context.session, telegram_id=user.id)
        if context.person is not None:
            context.locale = i18n.chosen_locale(context.person.locale, settings.locale.default)
            context.authority = await roles.authority_of(
                session=context.session, person=context.person, bootstrap_admins=settings.roles.bootstrap_admins
            )
        return
    context.person = await people.record_person(
        session=context.session,
        telegram_id=user.id,
        username=user.username,
        first_name=user.first_name,
        language_code=user.language_code,
    )
    context.locale = i18n.chosen_locale(context.person.locale, settings.locale.default)
    context.authority = await roles.authority_of(
        session=context.session, person=context.person, bootstrap_admins=settings.roles.bootstrap_admins
    )
    if update.message is not None or update.callback_query is not None:
        # Writing to the bot in the private chat proves it is no longer blocked.
        context.figure = await figures.mark_reachable(session=context.session, person=context.person)


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
        await message.reply_text(
            _(
                "Hello! This is Rangkul. To keep your data private, please talk to us in a private chat: press "
                "the button below."
            ),
            reply_markup=private_chat_button(context),
        )
        return
    settings = context.settings
    text = _(
        "Welcome to <b>Rangkul</b>, {name}!\n\n"
        "Rangkul is a service of {controller} that reaches out to youth, community, religious, women's and "
        "customary leaders, so that more people take part in the {election}: honestly, fairly and peacefully.\n\n"
        "Here you will receive official information about the election stages, invitations to socialization "
        "events and a reminder to come to the polling station (TPS).\n\n"
        "Voting day of the {election}: <b>{date}</b>\n\n"
        "Type /bantuan to see what you can do here."
    ).format(
        name=html.escape(user.first_name),
        controller=html.escape(settings.privacy.controller_name),
        election=html.escape(settings.election.name),
        date=i18n.format_date(settings.election.date, context.locale),
    )
    assert context.person is not None
    invitation = await registration_handlers.invitation_for(context, context.args[0] if context.args else None)
    if invitation is not None:
        # Came through an organizer's link: welcome, then straight into registration with the region filled in.
        await message.reply_text(text)
        await registration_handlers.begin(update, context, invitation)
        return
    figure = await registration.figure_of(session=context.session, person=context.person)
    if figure is None:
        text += "\n\n" + _("To receive messages from us, register with /daftar — it takes about two minutes.")
        button = InlineKeyboardButton(_("Register now"), callback_data=registration_handlers.REGISTRATION.data("new"))
        await message.reply_text(text, reply_markup=InlineKeyboardMarkup([[button]]))
    else:
        text += "\n\n" + _("You are registered. See or correct your data with /profil.")
        await message.reply_text(text)
    if context.authority.at_least(Role.ORGANIZER):
        # The menu could not be set while this person had never opened the chat; now it can.
        await menus.set_chat_menu(
            context.bot, user.id, context.authority.role, context.locale, context.settings.locale.default
        )


async def help_command(update: Update, context: Context) -> None:
    """List the commands the caller's role may use."""
    _ = context._
    message = update.effective_message
    if message is None:
        return
    if not _is_private(update):
        await message.reply_text(
            _("Please use this command in a private chat with Rangkul: press the button below."),
            reply_markup=private_chat_button(context),
        )
        return
    lines = [_("<b>Commands you can use</b>")]
    for cmd in commands_for(context.authority.role):
        aliases = "".join(f" (/{alias})" for alias in cmd.aliases)
        lines.append(f"/{cmd.name}{aliases} — {_(cmd.description)}")
    authority = context.authority
    if authority.role is Role.ADMIN:
        lines.append("\n" + _("You are an <b>admin</b>: you may act for every region."))
    elif authority.role is Role.ORGANIZER:
        regions = listed(authority.scopes, _, limit=20, locale=context.locale)
        lines.append("\n" + _("You are an <b>organizer</b> for: {regions}.").format(regions=regions))
    lines.append("\n" + _("Type /batal at any time to stop what you are doing."))
    await message.reply_text("\n".join(lines))


@guarded()
async def cancel(update: Update, context: Context) -> None:
    """Forget whatever the caller was in the middle of."""
    _ = context._
    message = update.effective_message
    if message is None:
        return
    user_data = context.user_data if context.user_data is not None else {}
    dropped = [key for key in PENDING_KEYS if user_data.pop(key, None) is not None]
    conversation = await registration_handlers.cancel_conversation(context)
    if conversation is not None:
        # Also take away the "share my number" keyboard, if it was showing.
        await message.reply_text(_("Cancelled. Nothing was saved."), reply_markup=ReplyKeyboardRemove())
    elif dropped:
        await message.reply_text(_("Cancelled. Nothing was saved."))
    else:
        await message.reply_text(_("There is nothing to cancel. Type /bantuan to see what you can do."))


async def _answers_conversation(update: Update, context: Context) -> bool:
    """Hand typed text to the conversation in progress (registration, profile edit, broadcast composer, an
    organizer's answer to a reply, the number of people a figure will invite)."""
    return (
        await registration_handlers.on_text(update, context)
        or await broadcast_handlers.on_text(update, context)
        or await replies_handlers.on_text(update, context)
        or await commitment_handlers.on_text(update, context)
        or await export_handlers.on_text(update, context)
    )


async def unknown_command(update: Update, context: Context) -> None:
    """A command we do not have: an answer the conversation in progress must refuse, or a pointer to /bantuan."""
    if await _answers_conversation(update, context):
        return
    if _is_private(update) and update.effective_message is not None:
        await update.effective_message.reply_text(
            context._("We do not know that command. Type /bantuan to see the commands you can use.")
        )


async def plain_text(update: Update, context: Context) -> None:
    """Free text: an answer to a conversation in progress, or a figure's reply for the officers."""
    if await _answers_conversation(update, context):
        return
    await replies_handlers.on_free_message(update, context)


async def unsupported_message(update: Update, context: Context) -> None:
    """Photos, voice notes, videos, documents, stickers and the like: a figure's reply for the officers, kept
    by Telegram file id (never downloaded)."""
    await replies_handlers.on_free_message(update, context)


async def edited_message(update: Update, context: Context) -> None:
    """An edit is not a new instruction: say so rather than act on it twice or not at all silently."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            context._("We do not act on edited messages. Please send the corrected message again as a new message.")
        )


async def unknown_button(update: Update, context: Context) -> None:
    """A button from an old message or with data we never made."""
    if update.callback_query is not None:
        await update.callback_query.answer(
            context._("This button is no longer valid. Type /bantuan to see what you can do."), show_alert=True
        )
