"""A figure's own commands: /profil, /berhenti, /lanjut, /dataku, /hapusdata, and block/unblock tracking."""

from __future__ import annotations

import json

from telegram import ChatMemberUpdated, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ChatType

from bot import i18n
from bot.callbacks import Codec
from bot.commands import N_
from bot.context import Context
from bot.handlers.access import guarded
from bot.handlers.registration import PROFILE, ask, show_profile
from bot.services import figures, registration

# "hapus:<yes|no>:<person id>", the layout from before the codec.
DELETE = Codec("hapus")
STALE_PROFILE = N_("This button is no longer valid. Type /profil to see your data again.")


def _not_registered(context: Context) -> str:
    return context._("You are not registered yet. Type /daftar to register.")


@guarded()
async def profile_command(update: Update, context: Context) -> None:
    """/profil: everything stored, with a button to change each field."""
    assert context.person is not None and update.effective_message is not None
    figure = await registration.figure_of(session=context.session, person=context.person)
    if figure is None:
        await update.effective_message.reply_text(_not_registered(context))
        return
    await show_profile(update, context, figure)


@guarded()
async def profile_button(update: Update, context: Context) -> None:
    """'Change …' under the profile: start editing that field with the registration's questions."""
    query = update.callback_query
    assert query is not None and context.person is not None and update.effective_chat is not None
    pressed = PROFILE.parse(query.data)
    field = pressed.action if pressed is not None and not pressed.args else ""
    figure = await registration.figure_of(session=context.session, person=context.person)
    if figure is None or field not in registration.FIELDS:
        await query.answer(_not_registered(context) if figure is None else context._(STALE_PROFILE))
        return
    try:
        state = await registration.start_edit(
            session=context.session, person=context.person, figure=figure, field=field
        )
    except ValueError:
        await query.answer(context._(STALE_PROFILE), show_alert=True)
        return
    await query.answer()
    await ask(context, update.effective_chat.id, state)


async def _set_opt_in(update: Update, context: Context, *, opt_in: bool, confirmation: str) -> None:
    assert context.person is not None and update.effective_message is not None
    figure = await figures.set_messages_opt_in(session=context.session, person=context.person, opt_in=opt_in)
    if figure is None:
        await update.effective_message.reply_text(_not_registered(context))
        return
    await update.effective_message.reply_text(confirmation)


def stop_confirmation(context: Context) -> str:
    """What /berhenti (and the changed notice's "stop" button) answers: the same retention as the notice says."""
    retention = context.settings.privacy.retention_until
    if retention is None:
        return context._(
            "You will no longer receive socialization messages from Rangkul. Your data stays stored until you "
            "delete it with /hapusdata. Type /lanjut whenever you want to receive messages again."
        )
    return context._(
        "You will no longer receive socialization messages from Rangkul. Your data stays stored until you "
        "delete it with /hapusdata, or at the latest until {retention}, when it is deleted. Type /lanjut whenever "
        "you want to receive messages again."
    ).format(retention=i18n.format_date(retention, context.locale))


@guarded()
async def stop_command(update: Update, context: Context) -> None:
    """/berhenti: stop receiving broadcasts; the data stays until deleted."""
    await _set_opt_in(update, context, opt_in=False, confirmation=stop_confirmation(context))


@guarded()
async def resume_command(update: Update, context: Context) -> None:
    """/lanjut: receive broadcasts again."""
    confirmation = context._(
        "Thank you! You will receive socialization messages from Rangkul again. Type /berhenti to stop."
    )
    await _set_opt_in(update, context, opt_in=True, confirmation=confirmation)


@guarded()
async def my_data_command(update: Update, context: Context) -> None:
    """/dataku: the person's own data as a JSON file."""
    _ = context._
    assert context.person is not None and update.effective_message is not None
    data = await figures.export_data(session=context.session, person=context.person)
    content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    await update.effective_message.reply_document(
        document=content,
        filename="rangkul-data-saya.json",
        caption=_("This is a copy of all the data Rangkul holds about you."),
    )


def delete_keyboard(context: Context, person_id: int | None) -> InlineKeyboardMarkup:
    """The /hapusdata confirmation's buttons; they name the person they were shown to."""
    _ = context._
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("Yes, delete my data"), callback_data=DELETE.data("yes", person_id)),
                InlineKeyboardButton(_("Cancel"), callback_data=DELETE.data("no", person_id)),
            ]
        ]
    )


@guarded()
async def delete_command(update: Update, context: Context) -> None:
    """/hapusdata: ask for an explicit confirmation before deleting."""
    _ = context._
    assert context.person is not None and update.effective_message is not None
    keyboard = delete_keyboard(context, context.person.id)
    await update.effective_message.reply_text(
        _(
            "You are about to delete your personal data from Rangkul: your name, mobile number, organization, "
            "guardian's name, the invitation link you registered through, the messages you sent us and your "
            "Telegram account details (id, username, name, language). Only anonymous "
            "figures remain, for reports: category, age bracket, kecamatan (not desa) and dates without the time "
            "of day, from which nobody can be singled out. This cannot be undone.\n\nDo you want to continue?"
        ),
        reply_markup=keyboard,
    )


@guarded()
async def delete_button(update: Update, context: Context) -> None:
    """The confirmation: only valid when pressed by the person it was shown to."""
    _ = context._
    query = update.callback_query
    assert query is not None and context.person is not None
    pressed = DELETE.parse(query.data)
    if pressed is None or pressed.args != (str(context.person.id),):
        await query.answer(_("This button is no longer valid. Type /hapusdata to start again."), show_alert=True)
        return
    await query.answer()
    if pressed.action != "yes":
        await query.edit_message_text(_("Cancelled. Your data was not deleted."))
        return
    await figures.delete_personal_data(session=context.session, person=context.person, tz=context.settings.tz)
    if context.user_data is not None:
        context.user_data.clear()  # e.g. a /peran request waiting for this admin's confirmation
    await query.edit_message_text(
        _(
            "Your personal data has been deleted. Thank you for taking part. You are welcome to register again "
            "at any time with /daftar."
        )
    )


async def membership_changed(update: Update, context: Context) -> None:
    """Someone blocked or unblocked the bot in their private chat: stop or resume trying to reach them."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE or context.person is None:
        return
    if change.new_chat_member.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        await figures.mark_unreachable(session=context.session, person=context.person)
    elif change.new_chat_member.status == ChatMemberStatus.MEMBER:
        await figures.mark_reachable(session=context.session, person=context.person)
