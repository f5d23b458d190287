"""/daftar (alias /register) and profile edits: ask one question per message, pass each answer to the service,
and send what bot.views.registration makes of the outcome."""

from __future__ import annotations

import contextlib

from telegram import Message, Update
from telegram.error import TelegramError

from bot.catalog import WELCOME_TEMPLATE, figure_context, template_context
from bot.context import Context
from bot.handlers.access import drop_keyboard, guarded
from bot.render import timezone_for_region
from bot.services import conversations, invitations, registration, retention
from bot.services.figure_input import Problem
from bot.services.registration import Finished, Step
from bot.services.registration_steps import ORDER, REGION_STEPS
from bot.services.retention import Phase
from bot.views import profile as profile_views
from bot.views import registration as views

# Read through this module by the button table (bot/handlers/__init__.py, tests) and by the modules that label a
# figure's category and age the way the registration does.
from bot.views.profile import PROFILE as PROFILE
from bot.views.registration import REGISTRATION as REGISTRATION
from bot.views.registration import age_label as age_label
from bot.views.registration import category_label as category_label
from models import ConversationState, Figure, Invitation, utcnow

BACK_WORDS = {"kembali", "back"}


async def show_profile(update: Update, context: Context, figure: Figure, *, intro: str | None = None) -> None:
    """Everything stored about the figure, with a button to change each field."""
    assert update.effective_chat is not None
    text, markup = profile_views.profile(figure, context.locale, intro=intro)
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)


async def welcome_registered(context: Context, chat_id: int, figure: Figure) -> None:
    """Confirm the registration and send the welcome message template."""
    settings = context.settings
    await context.bot.send_message(chat_id, views.registered(context._))
    tz = timezone_for_region(figure.region_code)
    values = template_context(
        settings,
        figure=figure_context(figure.full_name or "", figure.category, figure.region_code),
        now=utcnow(),
        tz=tz,
    )
    text = context.bot_data.renderer.render(WELCOME_TEMPLATE, values, locale=context.locale, tz=tz)
    await context.bot.send_message(chat_id, text)


async def ask(context: Context, chat_id: int, state: ConversationState) -> None:
    """Send the question of the conversation's current step."""
    text, markup = views.question(state, context.settings, context.locale)
    await context.bot.send_message(chat_id, text, reply_markup=markup)


async def begin(update: Update, context: Context, invitation: Invitation | None = None) -> None:
    """Start a registration at the privacy notice (or show the profile to someone already registered)."""
    assert context.person is not None and update.effective_chat is not None
    figure = await registration.figure_of(session=context.session, person=context.person)
    if figure is not None:
        await show_profile(update, context, figure, intro=profile_views.already_registered(context._))
        return
    if await _closed(update, context):
        return
    ongoing = await _registration_state(context)
    if ongoing is not None and ongoing.flow == registration.REGISTER:
        # An old "register" button or a second /daftar must not wipe the answers given so far.
        await context.bot.send_message(update.effective_chat.id, views.already_in_progress(context._))
        await ask(context, update.effective_chat.id, ongoing)
        return
    state = await registration.start_registration(session=context.session, person=context.person, invitation=invitation)
    await ask(context, update.effective_chat.id, state)


@guarded()
async def register_command(update: Update, context: Context) -> None:
    """/daftar: register, starting with the privacy notice."""
    await begin(update, context)


async def invitation_for(context: Context, payload: str | None) -> Invitation | None:
    """The invitation behind a /start payload, for someone not yet registered; None otherwise."""
    if not payload or context.person is None:
        return None
    invitation = await invitations.find(session=context.session, payload=payload)
    if invitation is None or await registration.figure_of(session=context.session, person=context.person):
        return None
    return invitation


async def _finish(update: Update, context: Context, result: registration.Result, flow: str) -> None:
    """Say how the conversation ended: the welcome, the profile as saved, or why nothing was."""
    chat = update.effective_chat
    assert chat is not None
    finished = result.finished
    if finished is Finished.SAVED and result.figure is not None:
        await welcome_registered(context, chat.id, result.figure)
    elif finished in (Finished.EDITED, Finished.ALREADY_REGISTERED) and result.figure is not None:
        await show_profile(update, context, result.figure, intro=profile_views.saved(context._))
    elif finished is not None and (text := views.ended(finished, flow, context._)) is not None:
        await context.bot.send_message(chat.id, text)


async def _apply(update: Update, context: Context, state: ConversationState, event: registration.Event) -> None:
    """Hand one answer to the service and show the outcome: a problem, the next question, or the end."""
    assert context.person is not None and update.effective_chat is not None
    chat_id = update.effective_chat.id
    flow, before_step = state.flow, state.step
    if flow == registration.REGISTER and await _closed(update, context):
        # Begun before the date, answered after it: not saved either.
        await conversations.cancel(session=context.session, person=context.person)
        if update.callback_query is not None:
            await update.callback_query.answer()
        return
    result = await registration.answer(
        session=context.session,
        person=context.person,
        state=state,
        event=event,
        allowed_provinces=context.settings.registration.provinces,
    )
    query = update.callback_query
    if result.problem is not None:
        text = views.problem_text(result.problem, context._, result.state)
        if query is not None:
            await query.answer(text, show_alert=True)
            return
        await context.bot.send_message(chat_id, text)
        if result.state is not None and Step(result.state.step) not in (Step.NAME, Step.GUARDIAN_NAME):
            await ask(context, chat_id, result.state)
        return
    if query is not None:
        await query.answer()
    if before_step == Step.PHONE and (result.state is None or result.state.step != Step.PHONE):
        await _close_phone_keyboard(context, chat_id, result)
    if result.state is None:
        if query is not None:
            await drop_keyboard(query.message)
        await _finish(update, context, result, flow)
        return
    same_step = result.state.step == before_step and Step(before_step) in REGION_STEPS
    if query is not None and same_step and isinstance(query.message, Message):
        # Paging or narrowing a region list: redraw the same question in place.
        text, markup = views.question(result.state, context.settings, context.locale)
        with contextlib.suppress(TelegramError):
            await query.edit_message_text(text, reply_markup=markup)  # type: ignore[arg-type]
        return
    if query is not None:
        await drop_keyboard(query.message)
    await ask(context, chat_id, result.state)


async def _close_phone_keyboard(context: Context, chat_id: int, result: registration.Result) -> None:
    """Take the 'share my number' keyboard away once the phone question is answered."""
    state = result.state
    source = state.data if state is not None else {"phone": result.figure.phone if result.figure else None}
    went_back = state is not None and ORDER.index(Step(state.step)) < ORDER.index(Step.PHONE)
    went_back = went_back or (state is None and result.figure is None)
    text, markup = views.phone_closed(source.get("phone"), context._, went_back=went_back)
    await context.bot.send_message(chat_id, text, reply_markup=markup)


@guarded()
async def on_button(update: Update, context: Context) -> None:
    """A press on a registration button: valid only for the current question of this person's conversation."""
    _ = context._
    query = update.callback_query
    assert query is not None and context.person is not None and update.effective_chat is not None
    pressed = REGISTRATION.parse(query.data)
    if pressed is not None and pressed.action == "new":
        await query.answer()
        await drop_keyboard(query.message)
        await begin(update, context)
        return
    state = await _registration_state(context)
    if state is None or pressed is None or pressed.arg(0) != str(state.version):
        # Someone registered (a second tap on Save, a button of a registration finished long ago) is pointed to
        # /profil in the alert, never to /daftar.
        registered = state is None and await registration.figure_of(session=context.session, person=context.person)
        await query.answer(views.stale_button(_, registered=bool(registered)), show_alert=False)
        await drop_keyboard(query.message)
        if state is not None:
            await ask(context, update.effective_chat.id, state)
        elif not registered:
            await context.bot.send_message(update.effective_chat.id, views.nothing_in_progress(_))
        return
    action, args = pressed.action, pressed.args[1:]
    if state.step == Step.CONSENT and action == "pick":
        event = views.consent_answer(args, context.settings, context.locale)
        if event is None:
            await query.answer(views.notice_not_current(_), show_alert=True)
            await drop_keyboard(query.message)
            await ask(context, update.effective_chat.id, state)
            return
        await _apply(update, context, state, event)
        return
    if action == "cancel":
        await conversations.cancel(session=context.session, person=context.person)
        await query.answer()
        await drop_keyboard(query.message)
        await context.bot.send_message(update.effective_chat.id, views.cancelled(_))
        return
    if len(args) > 1:  # only the consent button carries more than one argument
        await query.answer(views.problem_text(Problem.CHOOSE_BUTTON, _), show_alert=True)
        return
    await _apply(update, context, state, registration.Pressed(action, args[0] if args else ""))


async def on_text(update: Update, context: Context) -> bool:
    """Typed text while a conversation waits for an answer; False when there is none (not ours)."""
    message = update.effective_message
    if context.person is None or message is None or message.text is None:
        return False
    state = await _registration_state(context)
    if state is None:
        return False
    text = message.text
    if Step(state.step) is Step.PHONE and text.strip().lower() in BACK_WORDS:
        await _apply(update, context, state, registration.Pressed("back"))
    else:
        await _apply(update, context, state, registration.Typed(text))
    return True


async def on_contact(update: Update, context: Context) -> None:
    """A shared contact: the phone answer, accepted only as the sender's own."""
    message = update.effective_message
    assert message is not None and message.contact is not None
    state = await _registration_state(context)
    if state is None or Step(state.step) is not Step.PHONE:
        await message.reply_text(views.contact_not_asked(context._))
        return
    own = message.contact.user_id is not None and message.contact.user_id == message.from_user.id  # type: ignore[union-attr]
    await _apply(update, context, state, registration.SharedContact(message.contact.phone_number, own))


async def _closed(update: Update, context: Context) -> bool:
    """Once privacy.retention_until has passed, no registration is taken (the notice would promise to keep the
    data until a day gone by, and the purge would erase it): says so, True."""
    until = context.settings.privacy.retention_until
    if until is None or retention.phase(context.settings, retention.today(context.settings)) is not Phase.PASSED:
        return False
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, views.registration_closed(until, context.locale))
    return True


async def _registration_state(context: Context) -> ConversationState | None:
    """The person's registration or profile edit in progress (not another kind of conversation)."""
    return await context.conversation(registration.REGISTER, registration.EDIT)


async def cancel_conversation(context: Context) -> ConversationState | None:
    """For /batal: drop the conversation in progress, returning what it was."""
    if context.person is None:
        return None
    state = await conversations.current(
        session=context.session, person=context.person, expire_after=context.settings.privacy.conversation_expiry
    )
    if state is not None:
        await conversations.cancel(session=context.session, person=context.person)
    return state
