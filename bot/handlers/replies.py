"""Figures' replies: what a figure writes outside a conversation is stored and acknowledged; organizers read
and answer them with /balasan. Every press checks role and scope again on the server."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import Forbidden, TelegramError

from bot import i18n
from bot.context import Context
from bot.handlers.access import guarded, show_in_place
from bot.logs import telegram_ref
from bot.render import timezone_for_region
from bot.services import conversations, figures, replies
from bot.services.replies import Incoming
from bot.views import replies as views
from models import ConversationState, Person, ReplyKind, Role

logger = logging.getLogger(__name__)
FLOW = "reply_answer"
PATTERN = views.REPLIES.pattern
MAX_PAGE = 10_000
# The answer goes out inside a message with a heading, the quoted reply and the signature: 4,096 in all.
MAX_ANSWER = 3500


def incoming(message: Message) -> Incoming:
    """What MESSAGE carries, as a reply: its kind, text (or caption) and the file id of its media."""
    kind, file_id = ReplyKind.TEXT, None
    if message.photo:
        kind, file_id = ReplyKind.PHOTO, message.photo[-1].file_id
    elif sound := message.voice or message.audio:
        kind, file_id = ReplyKind.VOICE, sound.file_id
    elif moving := message.video or message.video_note or message.animation:
        kind, file_id = ReplyKind.VIDEO, moving.file_id
    elif message.document:
        kind, file_id = ReplyKind.DOCUMENT, message.document.file_id
    elif message.text is None:
        kind, file_id = ReplyKind.OTHER, message.sticker.file_id if message.sticker else None
    reply_to = message.reply_to_message
    return Incoming(
        kind=kind,
        text=message.text if message.text is not None else message.caption,
        file_id=file_id,
        telegram_message_id=message.message_id,
        reply_to_message_id=reply_to.message_id if reply_to is not None else None,
    )


async def on_free_message(update: Update, context: Context) -> None:
    """A message outside any conversation: a registered figure's is stored for the officers (up to the daily
    cap) and acknowledged; anyone else is told how to reach an officer."""
    _ = context._
    message = update.effective_message
    if message is None or context.person is None:
        return
    figure = context.figure
    if figure is None or figure.deleted_at is not None:
        if context.authority.at_least(Role.ORGANIZER):
            await message.reply_text(views.not_for_organizers(_))
        else:
            await message.reply_text(views.not_registered(_))
        return
    received = incoming(message)
    if received.kind is ReplyKind.OTHER and received.file_id is None and not received.text:
        # A location, a poll, a service message…: nothing an officer could read later.
        await message.reply_text(views.cannot_pass_on(_))
        return
    per_day = context.settings.replies.per_figure_per_day
    # "Today" is the figure's own day: the refusal beyond the cap says "write again tomorrow".
    try:
        tz = timezone_for_region(figure.region_code)
    except ValueError:
        tz = context.settings.tz
    stored = await replies.store(session=context.session, figure=figure, incoming=received, per_day=per_day, tz=tz)
    if stored is None:
        await message.reply_text(views.over_cap(per_day, _, context.locale))
    else:
        await message.reply_text(views.acknowledged(_))


@guarded(Role.ORGANIZER)
async def replies_command(update: Update, context: Context) -> None:
    """/balasan: the unread replies in the caller's scope, newest first."""
    message = update.effective_message
    assert message is not None
    text, markup = await _page(context, 0)
    await message.reply_text(text, reply_markup=markup)


async def _page(context: Context, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    found = await replies.unread_page(session=context.session, authority=context.authority, page=page)
    settings = context.settings
    return views.page_view(found, settings.templates.dir, settings.tz, context.locale, context._)


@guarded(Role.ORGANIZER)
async def on_button(update: Update, context: Context) -> None:
    """A /balasan button: page, mark read or answer; the reply must be in the presser's scope now."""
    _ = context._
    query = update.callback_query
    assert query is not None and context.person is not None and update.effective_chat is not None
    pressed = views.REPLIES.parse(query.data)
    # page:<page> · read:<reply>:<page> · answer:<reply>
    page_arg = {"page": 0, "read": 1}.get(pressed.action if pressed else "")
    page = pressed.int_arg(page_arg, minimum=0, maximum=MAX_PAGE) if pressed and page_arg is not None else 0
    if pressed is None or pressed.action not in ("page", "read", "answer") or page is None:
        await query.answer(views.stale_button(_), show_alert=True)
        return
    if pressed.action == "page":
        await query.answer()
        await _redraw(query.message, context, page, update.effective_chat.id)
        return
    reply_id = pressed.int_arg(0)
    if (
        reply_id is None
        or await replies.in_scope(session=context.session, authority=context.authority, reply_id=reply_id) is None
    ):
        await query.answer(views.not_in_scope(_), show_alert=True)
        return
    if pressed.action == "read":
        await replies.mark_read(
            session=context.session, authority=context.authority, actor=context.person, reply_id=reply_id
        )
        await query.answer(views.marked_read(_))
        await _redraw(query.message, context, page, update.effective_chat.id)
        return
    await _start_answer(update, context, reply_id)


async def _redraw(message: object, context: Context, page: int, chat_id: int) -> None:
    text, markup = await _page(context, page)
    await show_in_place(message, chat_id, context, text, markup)


async def _start_answer(update: Update, context: Context, reply_id: int) -> None:
    query = update.callback_query
    assert query is not None and context.person is not None and context.person.id is not None
    item = await replies.in_scope(session=context.session, authority=context.authority, reply_id=reply_id)
    assert item is not None
    if item.reply.answered_at is not None:
        # A second answer would reach the figure and overwrite the first one's record.
        await query.answer(
            views.already_answered(item, context.settings.tz, context._, context.locale), show_alert=True
        )
        return
    await query.answer()
    await conversations.start(
        session=context.session, person=context.person, flow=FLOW, step="text", data={"reply_id": reply_id}
    )
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, views.answer_prompt(item, context._))


async def on_text(update: Update, context: Context) -> bool:
    """The organizer's typed answer to a reply; False when no answer is being written."""
    _ = context._
    message = update.effective_message
    if message is None or message.text is None:
        return False
    state = await context.conversation(FLOW)
    if state is None or context.person is None:
        return False
    answer = message.text.strip()
    if answer.startswith("/"):
        # A mistyped command (/batl) must not reach the figure as the office's answer.
        await message.reply_text(views.answer_is_a_command(_))
        return True
    if len(answer) > MAX_ANSWER:
        await message.reply_text(views.answer_too_long(len(answer), MAX_ANSWER, _, context.locale))
        return True
    await conversations.cancel(session=context.session, person=context.person)
    reply_id = state.data.get("reply_id")
    item = (
        await replies.in_scope(session=context.session, authority=context.authority, reply_id=int(reply_id))
        if context.authority.at_least(Role.ORGANIZER) and isinstance(reply_id, int)
        else None
    )
    figure_person = await context.session.get(Person, item.figure.person_id) if item and item.figure.person_id else None
    if item is None or figure_person is None or figure_person.telegram_id is None:
        await message.reply_text(views.answer_unsendable(_))
        return True
    if item.reply.answered_at is not None:  # another organizer answered it meanwhile
        await message.reply_text(views.already_answered(item, context.settings.tz, _, context.locale))
        return True
    figure_locale = i18n.chosen_locale(figure_person.locale, context.settings.locale.default)
    text = views.answer_to_figure(
        answer, context.settings.privacy.controller_name, item.reply.text, i18n.gettext_for(figure_locale)
    )
    try:
        await context.bot.send_message(figure_person.telegram_id, text)
    except TelegramError as exc:
        logger.warning("could not send an answer to %s: %s", telegram_ref(figure_person.telegram_id), exc)
        if isinstance(exc, Forbidden):
            await figures.mark_unreachable(session=context.session, person=figure_person)
        await message.reply_text(views.answer_undelivered(_))
        return True
    await replies.save_answer(session=context.session, reply=item.reply, actor=context.person, text=answer)
    await message.reply_text(views.answer_sent(_))
    return True


async def ask_again(chat_id: int, context: Context, state: ConversationState) -> None:
    """The answer prompt again (e.g. in the language just chosen with /bahasa)."""
    reply_id = state.data.get("reply_id")
    item = (
        await replies.in_scope(session=context.session, authority=context.authority, reply_id=reply_id)
        if isinstance(reply_id, int)
        else None
    )
    if item is not None and context.authority.at_least(Role.ORGANIZER):
        await context.bot.send_message(chat_id, views.answer_prompt(item, context._))
        return
    # The reply went (its sender deleted their data) or the scope did: there is nothing left to answer.
    await conversations.cancel(session=context.session, person=context.person)  # type: ignore[arg-type]
    await context.bot.send_message(chat_id, views.answer_unsendable(context._))
