"""A figure's own commands: /profil, /berhenti, /lanjut, /dataku, /hapusdata, and block/unblock tracking."""

from __future__ import annotations

import json

from telegram import ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus, ChatType

from bot.context import Context
from bot.handlers.access import guarded
from bot.handlers.registration import ask, show_profile
from bot.services import figures, registration
from bot.services.registration_steps import FIELDS
from bot.views import profile as views

# Read through this module by the button table (bot/handlers/__init__.py, tests).
from bot.views.profile import DELETE as DELETE


@guarded()
async def profile_command(update: Update, context: Context) -> None:
    """/profil: everything stored, with a button to change each field."""
    assert context.person is not None and update.effective_message is not None
    figure = await registration.figure_of(session=context.session, person=context.person)
    if figure is None:
        await update.effective_message.reply_text(views.not_registered(context._))
        return
    await show_profile(update, context, figure)


@guarded()
async def profile_button(update: Update, context: Context) -> None:
    """'Change …' under the profile: start editing that field with the registration's questions."""
    query = update.callback_query
    assert query is not None and context.person is not None and update.effective_chat is not None
    field = views.edited_field(query.data)
    figure = await registration.figure_of(session=context.session, person=context.person)
    if figure is None or field not in FIELDS:
        await query.answer(views.not_registered(context._) if figure is None else views.stale_button(context._))
        return
    try:
        state = await registration.start_edit(
            session=context.session, person=context.person, figure=figure, field=field
        )
    except ValueError:
        await query.answer(views.stale_button(context._), show_alert=True)
        return
    await query.answer()
    await ask(context, update.effective_chat.id, state)


async def _set_opt_in(update: Update, context: Context, *, opt_in: bool, confirmation: str) -> None:
    assert context.person is not None and update.effective_message is not None
    figure = await figures.set_messages_opt_in(session=context.session, person=context.person, opt_in=opt_in)
    if figure is None:
        await update.effective_message.reply_text(views.not_registered(context._))
        return
    await update.effective_message.reply_text(confirmation)


@guarded()
async def stop_command(update: Update, context: Context) -> None:
    """/berhenti: stop receiving broadcasts; the data stays until deleted."""
    confirmation = views.stop_confirmation(context.settings.privacy.retention_until, context.locale)
    await _set_opt_in(update, context, opt_in=False, confirmation=confirmation)


@guarded()
async def resume_command(update: Update, context: Context) -> None:
    """/lanjut: receive broadcasts again."""
    await _set_opt_in(update, context, opt_in=True, confirmation=views.resumed(context._))


@guarded()
async def my_data_command(update: Update, context: Context) -> None:
    """/dataku: the person's own data as a JSON file."""
    assert context.person is not None and update.effective_message is not None
    data = await figures.export_data(session=context.session, person=context.person)
    content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    await update.effective_message.reply_document(
        document=content, filename=views.EXPORT_FILENAME, caption=views.my_data_caption(context._)
    )


@guarded()
async def delete_command(update: Update, context: Context) -> None:
    """/hapusdata: ask for an explicit confirmation before deleting."""
    assert context.person is not None and update.effective_message is not None
    text, keyboard = views.delete_question(context.person.id, context._)
    await update.effective_message.reply_text(text, reply_markup=keyboard)


@guarded()
async def delete_button(update: Update, context: Context) -> None:
    """The confirmation: only valid when pressed by the person it was shown to."""
    _ = context._
    query = update.callback_query
    assert query is not None and context.person is not None
    delete = views.delete_answer(query.data, context.person.id)
    if delete is None:
        await query.answer(views.delete_stale(_), show_alert=True)
        return
    await query.answer()
    if not delete:
        await query.edit_message_text(views.delete_cancelled(_))
        return
    await figures.delete_personal_data(session=context.session, person=context.person, tz=context.settings.tz)
    if context.user_data is not None:
        context.user_data.clear()  # e.g. a /peran request waiting for this admin's confirmation
    await query.edit_message_text(views.deleted(_))


async def membership_changed(update: Update, context: Context) -> None:
    """Someone blocked or unblocked the bot in their private chat: stop or resume trying to reach them."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE or context.person is None:
        return
    if change.new_chat_member.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        await figures.mark_unreachable(session=context.session, person=context.person)
    elif change.new_chat_member.status == ChatMemberStatus.MEMBER:
        await figures.mark_reachable(session=context.session, person=context.person)
