"""The texts every flow shares: the welcome of /start, /bantuan, /batal, the answers to what the bot does not
understand, the guard's refusals (a private chat, a role) and the apologies of the error handler. Pure functions
of what they are given."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import i18n
from bot.commands import commands_for
from bot.config import Settings
from bot.services import registration
from bot.services.registration_steps import Step
from bot.services.roles import Authority
from bot.views.limits import NOT_ORGANIZER, listed
from bot.views.registration import REGISTRATION
from models import ConversationState, Role


def private_chat_button(username: str | None, _: i18n.Gettext) -> InlineKeyboardMarkup:
    """The button that opens the private chat with the bot called USERNAME."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(_("Open a private chat"), url=f"https://t.me/{username}")]])


def private_only(_: i18n.Gettext) -> str:
    return _("Please use this command in a private chat with Rangkul: press the button below.")


def admins_only(_: i18n.Gettext) -> str:
    return _("Sorry, only Rangkul admins may do this. Type /bantuan to see the commands you can use.")


def organizers_only(_: i18n.Gettext) -> str:
    return _(NOT_ORGANIZER)


def group_greeting(_: i18n.Gettext) -> str:
    """/start in a group: nothing personal there, the private chat instead."""
    return _(
        "Hello! This is Rangkul. To keep your data private, please talk to us in a private chat: press "
        "the button below."
    )


def welcome(first_name: str, settings: Settings, _: i18n.Gettext, locale: str) -> str:
    """What Rangkul is, who runs it, and the election it is for."""
    return _(
        "Welcome to <b>Rangkul</b>, {name}!\n\n"
        "Rangkul is a service of {controller} that reaches out to youth, community, religious, women's and "
        "customary leaders, so that more people take part in the {election}: honestly, fairly and peacefully.\n\n"
        "Here you will receive official information about the election stages, invitations to socialization "
        "events and a reminder to come to the polling station (TPS).\n\n"
        "Voting day of the {election}: <b>{date}</b>\n\n"
        "Type /bantuan to see what you can do here."
    ).format(
        name=html.escape(first_name),
        controller=html.escape(settings.privacy.controller_name),
        election=html.escape(settings.election.name),
        date=i18n.format_date(settings.election.date, locale),
    )


def welcome_next_step(welcome: str, registered: bool, _: i18n.Gettext) -> tuple[str, InlineKeyboardMarkup | None]:
    """WELCOME with what to do next: register (with a button), or see one's data."""
    if registered:
        return welcome + "\n\n" + _("You are registered. See or correct your data with /profil."), None
    text = welcome + "\n\n" + _("To receive messages from us, register with /daftar — it takes about two minutes.")
    button = InlineKeyboardButton(_("Register now"), callback_data=REGISTRATION.data("new"))
    return text, InlineKeyboardMarkup([[button]])


def help_text(authority: Authority, settings: Settings, _: i18n.Gettext, locale: str, *, user_id: int) -> str:
    """/bantuan: the commands the caller may use, what they may act for, and their own Telegram user ID (what
    roles.bootstrap_admins and /peran take)."""
    role, scopes = authority.role, authority.scopes
    lines = [_("<b>Commands you can use</b>")]
    for cmd in commands_for(role, organizers_export=settings.export.organizers_allowed):
        aliases = "".join(f" (/{alias})" for alias in cmd.aliases)
        lines.append(f"/{cmd.name}{aliases} — {_(cmd.description)}")
    if role is Role.ADMIN:
        lines.append("\n" + _("You are an <b>admin</b>: you may act for every region."))
    elif role is Role.ORGANIZER:
        regions = listed(scopes, _, limit=20, locale=locale)
        lines.append("\n" + _("You are an <b>organizer</b> for: {regions}.").format(regions=regions))
    lines.append("\n" + _("Type /batal at any time to stop what you are doing."))
    lines.append(_("Your Telegram user ID: <code>{id}</code>").format(id=user_id))
    return "\n".join(lines)


def cancelled(_: i18n.Gettext) -> str:
    return _("Cancelled. Nothing was saved.")


def nothing_to_cancel(_: i18n.Gettext) -> str:
    return _("There is nothing to cancel. Type /bantuan to see what you can do.")


def unknown_command(_: i18n.Gettext) -> str:
    return _("We do not know that command. Type /bantuan to see the commands you can use.")


def edited_message(_: i18n.Gettext) -> str:
    return _("We do not act on edited messages. Please send the corrected message again as a new message.")


def untyped_answer(state: ConversationState, _: i18n.Gettext) -> str:
    """A photo, sticker, voice note or document sent while the conversation STATE waits for an answer: it
    answers nothing and is no reply for the officers. Said before the question is asked again."""
    if state.flow in (registration.REGISTER, registration.EDIT) and state.step == Step.PHONE:
        return _(
            "Sorry, this question can only be answered by typing your mobile number, with the “Share my number” "
            "button or with “Skip”, not with a photo, sticker, voice note or document. Please answer the "
            "question below, or type /batal to stop."
        )
    return _(
        "Sorry, this question can only be answered by typing your answer or with a button under the question, "
        "not with a photo, sticker, voice note or document. Please answer the question below, or type /batal "
        "to stop."
    )


def unknown_button(_: i18n.Gettext) -> str:
    return _("This button is no longer valid. Type /bantuan to see what you can do.")


def answered_twice(_: i18n.Gettext) -> str:
    """Two answers to the same step of a conversation: the first one was applied."""
    return _("We already received an answer to this question; please go on from the last one.")


def something_went_wrong(_: i18n.Gettext) -> str:
    # Not "nothing was saved": the update's work is committed before each reply (commit_before_network_call), so
    # what came before the failure may well be on disk; trying again blindly could, say, compose a broadcast twice.
    return _(
        "Sorry, something went wrong on our side. Your last step may not have gone through: please check it "
        "first (your data with /profil; a broadcast with /status) before trying again in a moment."
    )
