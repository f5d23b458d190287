"""Every handler, registered in order in one place. Read top to bottom to see how an update is routed."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.commands import command
from bot.commitments import COMMITMENT
from bot.delivery.status import CONTROL
from bot.handlers import (
    audit,
    broadcast,
    broadcast_status,
    commitments,
    common,
    consent,
    errors,
    exports,
    invitations,
    language,
    profile,
    registration,
    replies,
    reports,
    roles,
)
from bot.views import broadcast as broadcast_views
from bot.views import consent as consent_views
from bot.views import language as language_views
from bot.views import roles as roles_views

# Commands are acted on only when first sent; an edit of "/peran beri ..." must not grant twice.
NEW = filters.UpdateType.MESSAGE
PRIVATE = filters.ChatType.PRIVATE


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    # Group -1 runs before all others for every update: it records the sender and loads their role from the
    # database, so every later check uses the server's own view, never what a button claims.
    app.add_handler(TypeHandler(Update, common.identify), group=-1)

    # Group 0: commands, then buttons, then whatever is left over. The first match wins.
    app.add_handler(CommandHandler(command("start").names, common.start, filters=NEW))
    app.add_handler(CommandHandler(command("bantuan").names, common.help_command, filters=NEW))
    app.add_handler(CommandHandler(command("batal").names, common.cancel, filters=NEW))
    app.add_handler(CommandHandler(command("daftar").names, registration.register_command, filters=NEW))
    app.add_handler(CommandHandler(command("profil").names, profile.profile_command, filters=NEW))
    app.add_handler(CommandHandler(command("berhenti").names, profile.stop_command, filters=NEW))
    app.add_handler(CommandHandler(command("lanjut").names, profile.resume_command, filters=NEW))
    app.add_handler(CommandHandler(command("dataku").names, profile.my_data_command, filters=NEW))
    app.add_handler(CommandHandler(command("hapusdata").names, profile.delete_command, filters=NEW))
    app.add_handler(CommandHandler(command("siaran").names, broadcast.broadcast_command, filters=NEW))
    app.add_handler(CommandHandler(command("status").names, broadcast_status.status_command, filters=NEW))
    app.add_handler(CommandHandler(command("templat").names, broadcast.templates_command, filters=NEW))
    app.add_handler(CommandHandler(command("laporan").names, reports.report_command, filters=NEW))
    app.add_handler(CommandHandler(command("undangan").names, invitations.invite_command, filters=NEW))
    app.add_handler(CommandHandler(command("balasan").names, replies.replies_command, filters=NEW))
    app.add_handler(CommandHandler(command("peran").names, roles.role_command, filters=NEW))
    app.add_handler(CommandHandler(command("audit").names, audit.audit_command, filters=NEW))
    app.add_handler(CommandHandler(command("ekspor").names, exports.export_command, filters=NEW))
    app.add_handler(CommandHandler(command("bahasa").names, language.language_command, filters=NEW))
    app.add_handler(CommandHandler(command("komitmen").names, commitments.my_commitments_command, filters=NEW))
    # Buttons, each feature's by its codec (bot/callbacks.py). A press without data first: python-telegram-bot
    # hands one to any handler with a pattern, so it would reach the first feature's (a role refusal for most).
    app.add_handler(CallbackQueryHandler(common.unknown_button, pattern=r"^$"))
    app.add_handler(CallbackQueryHandler(roles.role_button, pattern=roles_views.CONFIRM.pattern))
    app.add_handler(CallbackQueryHandler(registration.on_button, pattern=registration.REGISTRATION.pattern))
    app.add_handler(CallbackQueryHandler(profile.profile_button, pattern=registration.PROFILE.pattern))
    app.add_handler(CallbackQueryHandler(profile.delete_button, pattern=profile.DELETE.pattern))
    app.add_handler(CallbackQueryHandler(consent.on_button, pattern=consent_views.NOTICE.pattern))
    app.add_handler(CallbackQueryHandler(broadcast.on_button, pattern=broadcast_views.COMPOSER.pattern))
    app.add_handler(CallbackQueryHandler(broadcast.template_button, pattern=broadcast_views.TEMPLATES.pattern))
    app.add_handler(CallbackQueryHandler(broadcast_status.control_button, pattern=CONTROL.pattern))
    app.add_handler(CallbackQueryHandler(language.language_button, pattern=language_views.LANGUAGE.pattern))
    app.add_handler(CallbackQueryHandler(replies.on_button, pattern=replies.PATTERN))
    app.add_handler(CallbackQueryHandler(commitments.on_button, pattern=COMMITMENT.pattern))
    app.add_handler(CallbackQueryHandler(audit.on_button, pattern=audit.PATTERN))
    app.add_handler(CallbackQueryHandler(exports.on_button, pattern=exports.PATTERN))
    app.add_handler(ChatMemberHandler(profile.membership_changed, ChatMemberHandler.MY_CHAT_MEMBER))

    # Leftovers, private chats only: groups get no chatter from the bot. Text first goes to a conversation in
    # progress (registration, a profile edit, an organizer's answer to a reply), if any; what is left of a
    # registered figure's text and media is a reply for the officers (bot/handlers/replies.py).
    app.add_handler(MessageHandler(NEW & PRIVATE & filters.COMMAND, common.unknown_command))
    app.add_handler(MessageHandler(NEW & PRIVATE & filters.CONTACT, registration.on_contact))
    app.add_handler(MessageHandler(NEW & PRIVATE & filters.TEXT, common.plain_text))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & PRIVATE, common.edited_message))
    app.add_handler(MessageHandler(NEW & PRIVATE, common.unsupported_message))
    # A button this version of the bot does not know (an old message, or forged data).
    app.add_handler(CallbackQueryHandler(common.unknown_button))

    # Group 1 runs after the answer above: a figure who agreed to an earlier privacy notice and was not yet told
    # about the current one is told now, once, unless the answer failed, was about their rights (/berhenti,
    # /hapusdata …) or a conversation is under way (the job in bot/app.py tells the others).
    app.add_handler(TypeHandler(Update, consent.tell_on_interaction), group=1)

    app.add_error_handler(errors.on_error)
