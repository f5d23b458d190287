"""Commitment buttons under broadcast messages, the invite count (buttons or a typed number) and /komitmen.

Every press is checked by bot.services.commitments against the database; nothing is kept in memory, so the
buttons of a message sent before a restart work as well as new ones.
"""

from __future__ import annotations

import contextlib

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError

from bot import catalog, commitments
from bot.commitments import COMMITMENT
from bot.context import Context
from bot.handler_bot import UnitOfWorkBot
from bot.handlers.access import guarded
from bot.render import timezone_for_region
from bot.services import commitments as service
from bot.services import conversations
from bot.services.commitments import Refusal, Tapped, Target
from bot.views import commitments as views
from models import CommitmentKind, ConversationState

FLOW = "commitment"  # the short conversation that waits for a typed number of people to invite
ARGS = {"c": 2, "w": 2, "k": 1, "a": 1, "n": 2}


@guarded()
async def on_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    pressed = COMMITMENT.parse(query.data)
    if pressed is None or ARGS.get(pressed.action) != len(pressed.args):
        await query.answer(views.refusal(Refusal.MALFORMED, context.locale), show_alert=True)
        return
    action = pressed.action
    kind = pressed.arg(1) if action in ("c", "w") else None
    if action == "n" and pressed.arg(1) not in commitments.INVITE_RANGES:
        await query.answer(views.refusal(Refusal.MALFORMED, context.locale), show_alert=True)
        return
    message = query.message if isinstance(query.message, Message) else None
    # The count question is a message of its own: only the buttons under the broadcast carry its message id.
    target = await service.check_press(
        session=context.session,
        templates_dir=context.settings.templates.dir,
        figure=context.figure,
        broadcast_arg=pressed.int_arg(0),
        kind=kind if action != "n" else None,
        # Taking a commitment back, or leaving it as it is, stays open to a figure who stopped messages.
        opted_out_may=action in ("w", "k"),
        message_id=message.message_id if message is not None and action in ("c", "w", "k") else None,
    )
    if isinstance(target, Refusal):
        await query.answer(views.refusal(target, context.locale), show_alert=True)
        return
    if action == "c":
        assert kind is not None
        await _tap(update, context, target, kind)
    elif action == "w":
        assert kind is not None
        withdrawn = await service.withdraw(session=context.session, target=target, kind=kind)
        if withdrawn and kind == CommitmentKind.INVITE:
            await _end_count(context, target.broadcast_id)
        await query.answer(views.withdrawn(kind, context.locale, now=withdrawn))
        await _show(context, target)
    elif action == "k":
        await query.answer(views.kept(context.locale))
        await _show(context, target)
    elif action == "a":
        if CommitmentKind.INVITE not in await _held(context, target):
            await query.answer(views.invite_first(context.locale), show_alert=True)
            return
        await query.answer()
        await _show(context, target)
        await _ask_count(update, context, target)
    else:
        code = pressed.arg(1)
        _label, lower = commitments.INVITE_RANGES[code]
        await _record_count(update, context, target, service.Held(lower, code), question=message)


async def _tap(update: Update, context: Context, target: Target, kind: str) -> None:
    query = update.callback_query
    assert query is not None
    outcome, held = await service.tap(session=context.session, target=target, kind=kind)
    locale = _buttons_locale(context, target)
    if outcome is Tapped.HELD:
        await query.answer(views.held_already(context.locale))
        await _edit_buttons(context, target, views.withdraw_keyboard(target.broadcast_id, kind, locale, held))
        return
    chosen = views.label(kind, context.locale, held)
    markup = views.keyboard(target.broadcast_id, target.kinds, locale, service.held_after_tap(target, kind, held))
    await query.answer(views.tapped(chosen, context.locale, first=outcome is Tapped.COMMITTED))
    await _edit_buttons(context, target, markup)
    if outcome is Tapped.COMMITTED and kind == CommitmentKind.INVITE:
        await _ask_count(update, context, target)


async def _held(context: Context, target: Target) -> dict[str, service.Held]:
    return await service.held(session=context.session, figure_id=target.figure_id, broadcast_id=target.broadcast_id)


async def _show(context: Context, target: Target) -> None:
    """Redraw the broadcast message's buttons as they now are, the chosen ones ticked."""
    locale = _buttons_locale(context, target)
    markup = views.keyboard(target.broadcast_id, target.kinds, locale, await _held(context, target))
    await _edit_buttons(context, target, markup)


def _buttons_locale(context: Context, target: Target) -> str:
    """The buttons under a broadcast message speak the message's language (its template's), never another."""
    return context.bot_data.renderer.message_locale(target.template, context.locale)


async def _edit_buttons(context: Context, target: Target, markup: InlineKeyboardMarkup | None) -> None:
    if target.message_id is None or context.person is None or context.person.telegram_id is None:
        return
    # An unchanged keyboard ("message is not modified"), or a message too old to edit: the record stands.
    bot = context.bot
    assert isinstance(bot, UnitOfWorkBot)  # the application's bot (bot/app.py)
    with contextlib.suppress(TelegramError):
        await bot.edit_buttons(context.person.telegram_id, target.message_id, markup)


async def _ask_count(update: Update, context: Context, target: Target) -> None:
    """Ask how many people: range buttons, or a typed number (a short conversation, unless another one is under
    way: then only the buttons)."""
    assert context.person is not None and context.person.id is not None
    state = await conversations.current(
        session=context.session, person=context.person, expire_after=context.settings.privacy.conversation_expiry
    )
    if state is None:
        context.session.add(
            ConversationState(
                person_id=context.person.id,
                flow=FLOW,
                step="count",
                version=conversations.new_version(),
                data={"broadcast_id": target.broadcast_id},
            )
        )
    elif state.flow == FLOW:
        state.data["broadcast_id"] = target.broadcast_id
        conversations.mark_changed(state)
        context.session.add(state)
    await context.session.flush()
    text, markup = views.count_question(target.broadcast_id, context.locale)
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)


async def _end_count(context: Context, broadcast_id: int) -> None:
    assert context.person is not None
    state = await conversations.current(session=context.session, person=context.person)
    if state is not None and state.flow == FLOW and state.data.get("broadcast_id") == broadcast_id:
        await context.session.delete(state)
        await context.session.flush()


async def _record_count(
    update: Update, context: Context, target: Target, held: service.Held, *, question: Message | None
) -> None:
    recorded = await service.set_invite_count(session=context.session, target=target, held=held)
    query = update.callback_query
    if not recorded:
        text = views.invite_first(context.locale, then_number=True)
        if query is not None:
            await query.answer(text, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text)
        await _end_count(context, target.broadcast_id)
        return
    await _end_count(context, target.broadcast_id)
    done = views.count_recorded(held, context.locale)
    if query is not None:
        await query.answer(done)
        if question is not None:
            with contextlib.suppress(TelegramError):
                await question.edit_text(done)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(done)
    await _show(context, target)


async def on_text(update: Update, context: Context) -> bool:
    """A typed number of people to invite; False when no count question waits (not ours)."""
    message = update.effective_message
    if message is None or message.text is None:
        return False
    state = await context.conversation(FLOW)
    if state is None:
        return False
    count = commitments.parse_count(message.text)
    if count is None and commitments.is_count_answer(message.text):
        await message.reply_text(views.bad_count(context.locale))  # a number, but not one we can take
        return True
    if count is None:
        # Words, with or without a number in them: most likely a message for the office ("keluarga besar kami
        # ikut", "TPS 05 pindah ke mana?"). The question ends here (its range buttons still work) and the text
        # goes on as a reply.
        await context.session.delete(state)
        await context.session.flush()
        return False
    broadcast_id = state.data.get("broadcast_id")
    target = await service.check_press(
        session=context.session,
        templates_dir=context.settings.templates.dir,
        figure=context.figure,
        broadcast_arg=broadcast_id if isinstance(broadcast_id, int) else None,
        kind=CommitmentKind.INVITE,
        message_id=None,
    )
    if isinstance(target, Refusal):
        await context.session.delete(state)
        await message.reply_text(views.refusal(target, context.locale))
        return True
    await _record_count(update, context, target, service.Held(count), question=None)
    return True


async def ask_again(chat_id: int, context: Context, state: ConversationState) -> None:
    """The count question again (e.g. in the language just chosen with /bahasa)."""
    text, markup = views.count_question(int(state.data.get("broadcast_id", 0)), context.locale)
    await context.bot.send_message(chat_id, text, reply_markup=markup)


@guarded()
async def my_commitments_command(update: Update, context: Context) -> None:
    """/komitmen: the figure's own commitments (kind, number, since when, which message)."""
    message = update.effective_message
    assert message is not None
    refusal = service.check_figure(context.figure)
    if refusal is Refusal.NOT_REGISTERED:
        await message.reply_text(views.not_a_figure(context.locale))
        return
    assert context.figure is not None and context.figure.id is not None
    rows, total = await service.listed(session=context.session, figure_id=context.figure.id)
    titles: dict[str, str] = {}
    for row in rows:
        if row.template not in titles:
            info = catalog.get_template_info(context.settings.templates.dir, row.template, context.locale)
            titles[row.template] = info.title if info is not None else row.template.removesuffix(".html")
    tz = timezone_for_region(context.figure.region_code)
    await message.reply_text(views.my_commitments(rows, total, context.locale, tz, titles))
