"""/daftar (alias /register) and profile edits: ask one question per message, pass each answer to the service."""

from __future__ import annotations

import contextlib
import html
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import TelegramError

from bot import i18n, notice, regions
from bot.callbacks import Codec
from bot.catalog import WELCOME_TEMPLATE, figure_context, template_context
from bot.context import Context
from bot.handlers import keyboards
from bot.handlers.access import drop_keyboard, guarded
from bot.labels import age_label as age_label  # re-exported: other handlers and views name them from here
from bot.labels import category_label as category_label
from bot.render import timezone_for_region
from bot.services import conversations, invitations, registration
from bot.services.figure_input import Problem
from bot.services.registration import Finished, Step
from models import AgeBracket, ConversationState, Figure, FigureCategory, Invitation, utcnow

# Registration's buttons: "reg:<action>:<conversation version>[:<argument>…]" ("reg:new" starts one).
REGISTRATION = Codec("reg")
# The profile's "change …" buttons: "prof:<field>", the layout from before the codec.
PROFILE = Codec("prof")
BACK_WORDS = {"kembali", "back"}


def privacy_notice(context: Context) -> str:
    """The consent step: the privacy notice in the caller's language, introduced as the step before registering."""
    lead = context._("Before you register, please read how your data is handled.")
    return lead + "\n\n" + notice.privacy_notice(context.settings, context.locale)


def _agree_args(context: Context) -> tuple[str, str, str]:
    """What "I agree" carries: the language and version of the notice shown with it, recorded when pressed."""
    return "yes", context.locale, notice.current_version(context.settings, context.locale)


def _consent_event(context: Context, args: tuple[str, ...]) -> registration.Event | None:
    """The answer a consent button gives, or None when the notice it sat under is not the one the person would
    be shown now (the notice changed, or they chose another language since): they are shown that one instead."""
    if args == ("no",):
        return registration.Pressed("pick", "no")
    if len(args) != 3:
        return None
    answer, locale, version = args
    if answer != "yes" or locale != context.locale:
        return None
    if not notice.is_current(context.settings, version=version, locale=locale):
        return None
    return registration.Agreed(locale=locale, version=version)


def problem_text(problem: Problem, context: Context, state: ConversationState | None = None) -> str:
    _ = context._
    if problem is Problem.REGION_NOT_FOUND and state is not None:
        parent = registration.region_parent(state)
        region = regions.get(parent) if parent else None
        where = html.escape(region.name) if region else _("Indonesia")
        return _(
            "We could not find a region with that name in {where}. Check the spelling or choose from the list."
        ).format(where=where)
    texts = {
        Problem.NAME_EMPTY: _("Please write the full name."),
        Problem.NAME_LENGTH: _("A name must have 2 to 100 characters."),
        Problem.NAME_COMMAND: _(
            "That looks like a command, not a name. Please write the full name, or /batal to stop."
        ),
        Problem.NAME_LINK: _("A name cannot contain links or @usernames. Please write the name only."),
        Problem.NAME_CHARACTERS: _(
            "A name may only contain letters, spaces and punctuation such as full stops, commas, apostrophes "
            "and hyphens."
        ),
        Problem.INVISIBLE: _(
            "Sorry, we cannot read that: it shows as blank, or its letters carry stacked marks. Please write it "
            "in ordinary letters, for a name as on your KTP."
        ),
        Problem.PHONE_INVALID: _(
            "We could not recognise that number. Write a mobile number such as 0812-3456-7890 or "
            "+62 812-3456-7890, or choose Skip."
        ),
        Problem.PHONE_NOT_MOBILE: _("That looks like a landline number. Please give a mobile number, or choose Skip."),
        Problem.CONTACT_NOT_OWN: _(
            "That contact is not your own. Use the “Share my number” button or type your own number."
        ),
        Problem.ORGANIZATION_LENGTH: _("Please write at most 120 characters."),
        Problem.CHOOSE_BUTTON: _("Please choose one of the buttons above."),
        Problem.REGION_NOT_FOUND: _(
            "We could not find a region with that name. Check the spelling or choose from the list."
        ),
        Problem.REGION_QUERY_SHORT: _("Please type at least two letters of the region's name."),
        Problem.ORGANIZATION_INVALID: _(
            "Please write only the name of your organization or your role, without links or commands."
        ),
    }
    return texts[problem]


def _button(state: ConversationState, label: str, action: str, *args: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=REGISTRATION.data(action, state.version, *args))


def _back_row(state: ConversationState, context: Context) -> list[list[InlineKeyboardButton]]:
    return [[_button(state, "« " + context._("Back"), "back")]] if registration.can_go_back(state) else []


def describe_answers(data: dict[str, Any], context: Context) -> str:
    """The answers so far (or a saved profile), one line each, with what the person typed escaped."""
    _ = context._
    missing = "<i>" + _("not filled in") + "</i>"
    codes = registration.region_codes(data)
    region = regions.get(codes[-1]) if codes else None
    lines = [
        _("Name: {value}").format(value=html.escape(data.get("name") or "")),
        _("Category: {value}").format(value=category_label(data.get("category", ""), _)),
        _("Age: {value}").format(value=age_label(data.get("age", ""), _)),
    ]
    if data.get("age") == AgeBracket.UNDER_18:
        lines.append(_("Parent/guardian: {value}").format(value=html.escape(data.get("guardian_name") or "")))
    lines += [
        _("Region: {value}").format(value=html.escape(region.path) if region else missing),
        _("Mobile number: {value}").format(value=html.escape(data["phone"]) if data.get("phone") else missing),
        _("Organization/role: {value}").format(
            value=html.escape(data["organization"]) if data.get("organization") else missing
        ),
    ]
    return "\n".join(lines)


def edit_buttons(context: Context, make: Any, age: str | None) -> list[list[InlineKeyboardButton]]:
    """One 'change …' button per field; MAKE(label, field) builds the button for the caller's flow."""
    _ = context._
    fields = [
        (_("Change name"), "name"),
        (_("Change category"), "category"),
        (_("Change age"), "age"),
        (_("Change region"), "region"),
        (_("Change number"), "phone"),
        (_("Change organization"), "organization"),
    ]
    if age == AgeBracket.UNDER_18:
        fields.append((_("Change guardian"), "guardian"))
    return keyboards.rows([make(label, field) for label, field in fields])


def question(
    state: ConversationState, context: Context
) -> tuple[str, InlineKeyboardMarkup | ReplyKeyboardMarkup | None]:
    """The text and buttons that ask for the current step."""
    _ = context._
    step = Step(state.step)
    data = state.data
    back = _back_row(state, context)
    if step is Step.CONSENT:
        agree = _button(state, _("I agree"), "pick", *_agree_args(context))
        keyboard = [[agree, _button(state, _("I do not agree"), "pick", "no")]]
        return privacy_notice(context), InlineKeyboardMarkup(keyboard)
    if step is Step.NAME:
        text = _("What is your full name? Please write it as on your KTP.")
        return text, InlineKeyboardMarkup(back) if back else None
    if step is Step.CATEGORY:
        buttons = [_button(state, category_label(c, _), "pick", c.value) for c in FigureCategory]
        return _("Which kind of community figure are you?"), InlineKeyboardMarkup(keyboards.rows(buttons) + back)
    if step is Step.AGE:
        buttons = [_button(state, age_label(a, _), "pick", a.value) for a in AgeBracket]
        return _("How old are you?"), InlineKeyboardMarkup(keyboards.rows(buttons) + back)
    if step is Step.GUARDIAN_NAME:
        text = _(
            "Because you are under 18, the law on personal data protection asks for the consent of a parent or "
            "guardian. Please write the full name of your parent or guardian."
        )
        return text, InlineKeyboardMarkup(back)
    if step is Step.GUARDIAN_CONFIRM:
        text = _(
            "Please let your parent or guardian read the notice above and confirm:\n\n"
            "“I, <b>{guardian}</b>, parent or guardian of <b>{name}</b>, agree that {name}'s data is processed "
            "as described.”"
        ).format(guardian=html.escape(data.get("guardian_name") or ""), name=html.escape(data.get("name") or ""))
        keyboard = [[_button(state, _("Yes, I agree"), "pick", "yes"), _button(state, _("No"), "pick", "no")]]
        return text, InlineKeyboardMarkup(keyboard + back)
    if step in registration.REGION_STEPS:
        return _region_question(state, context)
    if step is Step.PHONE:
        text = _(
            "Please share your mobile number with the button below, or type it (for example 0812-3456-7890). "
            "Only the organizers use it, to contact you. You may skip this."
        )
        reply_keyboard = [
            [KeyboardButton(_("Share my number"), request_contact=True)],
            [KeyboardButton(_("Skip")), KeyboardButton(_("Back"))],
        ]
        return text, ReplyKeyboardMarkup(reply_keyboard, resize_keyboard=True, one_time_keyboard=True)
    if step is Step.ORGANIZATION:
        text = _(
            "What is your organization or role in the community? For example: Ketua Karang Taruna Desa Sungai "
            "Lulut. Please do not give a position in a political party or a campaign team. You may skip this."
        )
        return text, InlineKeyboardMarkup([[_button(state, _("Skip"), "skip")], *back])
    text = _("<b>Please check your answers</b>") + "\n\n" + describe_answers(data, context)
    text += "\n\n" + _("If everything is correct, press Save.")
    keyboard = edit_buttons(context, lambda label, field: _button(state, label, "edit", field), data.get("age"))
    keyboard.append([_button(state, "✅ " + _("Save"), "save"), _button(state, _("Cancel"), "cancel")])
    return text, InlineKeyboardMarkup(keyboard)


def _region_question(state: ConversationState, context: Context) -> tuple[str, InlineKeyboardMarkup]:
    _ = context._
    level = registration.region_level(Step(state.step))
    allowed = context.settings.registration.provinces
    options = registration.region_options(state, allowed)
    prompts = {
        1: _("In which province do you live? Choose below or type its name."),
        2: _("Which kabupaten/kota? Choose below or type its name."),
        3: _("Which kecamatan? Choose below or type its name."),
        4: _("Which desa/kelurahan? Choose below or type its name."),
    }
    text = prompts[level]
    parent = registration.region_parent(state)
    if parent and (region := regions.get(parent)):
        text = html.escape(region.path) + "\n\n" + text
    if state.data.get("matches"):
        text += "\n\n" + _("Several regions match what you typed. Please choose one:")
    shown, page, pages = keyboards.page_of(options, int(state.data.get("page", 0)))
    keyboard = keyboards.rows([_button(state, region.name, "pick", region.code) for region in shown])
    navigation = keyboards.page_row(page, pages, lambda label, to: _button(state, label, "page", str(to)), _)
    if navigation:
        keyboard.append(navigation)
        text += "\n" + keyboards.page_line(page, pages, _)
    return text, InlineKeyboardMarkup(keyboard + _back_row(state, context))


async def show_profile(update: Update, context: Context, figure: Figure, *, intro: str | None = None) -> None:
    """Everything stored about the figure, with a button to change each field."""
    _ = context._
    assert update.effective_chat is not None
    lines = [
        intro or _("<b>Your data in Rangkul</b>"),
        "",
        describe_answers(registration.figure_values(figure), context),
    ]
    lines.append(_("Registered on: {date}").format(date=i18n.format_date(figure.registered_at.date(), context.locale)))
    lines.append(_("Consent given on: {date}").format(date=i18n.format_date(figure.consent_at.date(), context.locale)))
    if figure.messages_opt_in:
        lines.append(_("Receives messages: yes (type /berhenti to stop)"))
    else:
        lines.append(_("Receives messages: no (type /lanjut to receive them again)"))
    lines.append("\n" + _("Download your data with /dataku; delete it with /hapusdata."))

    def make(label: str, field: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=PROFILE.data(field))

    keyboard = edit_buttons(context, make, figure.age_bracket)
    await context.bot.send_message(
        update.effective_chat.id, "\n".join(lines), reply_markup=InlineKeyboardMarkup(keyboard)
    )


async def welcome_registered(context: Context, chat_id: int, figure: Figure) -> None:
    """Confirm the registration and send the welcome message template."""
    _ = context._
    settings = context.settings
    await context.bot.send_message(chat_id, "✅ " + _("Registration complete. Thank you!"))
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
    text, markup = question(state, context)
    await context.bot.send_message(chat_id, text, reply_markup=markup)


async def begin(update: Update, context: Context, invitation: Invitation | None = None) -> None:
    """Start a registration at the privacy notice (or show the profile to someone already registered)."""
    assert context.person is not None and update.effective_chat is not None
    figure = await registration.figure_of(session=context.session, person=context.person)
    if figure is not None:
        await show_profile(update, context, figure, intro=context._("You are already registered. This is your data:"))
        return
    ongoing = await _registration_state(context)
    if ongoing is not None and ongoing.flow == registration.REGISTER:
        # An old "register" button or a second /daftar must not wipe the answers given so far.
        await context.bot.send_message(
            update.effective_chat.id,
            context._("Your registration is already in progress; let us continue. (Type /batal to start over.)"),
        )
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
    """Say how the conversation ended."""
    _ = context._
    chat = update.effective_chat
    assert chat is not None
    finished = result.finished
    if finished is Finished.DECLINED:
        text = _(
            "Thank you for your time. Your answers have not been saved. If you change your mind, type /daftar at "
            "any time."
        )
        await context.bot.send_message(chat.id, text)
    elif finished is Finished.GUARDIAN_DECLINED:
        if flow == registration.EDIT:
            text = _("Without a parent's or guardian's consent the change was not saved.")
        else:
            text = _(
                "Without a parent's or guardian's consent we cannot register you yet. Nothing has been saved. "
                "You are welcome to register together with your parent or guardian later with /daftar."
            )
        await context.bot.send_message(chat.id, text)
    elif finished is Finished.SAVED and result.figure is not None:
        await welcome_registered(context, chat.id, result.figure)
    elif finished in (Finished.EDITED, Finished.ALREADY_REGISTERED) and result.figure is not None:
        await show_profile(update, context, result.figure, intro=_("Saved. This is your data now:"))
    elif finished is Finished.EDITED:
        await context.bot.send_message(chat.id, _("Nothing was changed."))


async def _apply(update: Update, context: Context, state: ConversationState, event: registration.Event) -> None:
    """Hand one answer to the service and show the outcome: a problem, the next question, or the end."""
    assert context.person is not None and update.effective_chat is not None
    chat_id = update.effective_chat.id
    flow, before_step = state.flow, state.step
    result = await registration.answer(
        session=context.session,
        person=context.person,
        state=state,
        event=event,
        allowed_provinces=context.settings.registration.provinces,
    )
    query = update.callback_query
    if result.problem is not None:
        text = problem_text(result.problem, context, result.state)
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
    same_step = result.state.step == before_step and Step(before_step) in registration.REGION_STEPS
    if query is not None and same_step and isinstance(query.message, Message):
        # Paging or narrowing a region list: redraw the same question in place.
        text, markup = question(result.state, context)
        with contextlib.suppress(TelegramError):
            await query.edit_message_text(text, reply_markup=markup)  # type: ignore[arg-type]
        return
    if query is not None:
        await drop_keyboard(query.message)
    await ask(context, chat_id, result.state)


async def _close_phone_keyboard(context: Context, chat_id: int, result: registration.Result) -> None:
    """Take the 'share my number' keyboard away once the phone question is answered."""
    _ = context._
    state = result.state
    source = state.data if state is not None else {"phone": result.figure.phone if result.figure else None}
    phone = source.get("phone")
    text = _("Number noted: {phone}").format(phone=html.escape(phone)) if phone else _("Mobile number skipped.")
    went_back = state is not None and registration.ORDER.index(Step(state.step)) < registration.ORDER.index(Step.PHONE)
    if went_back or (state is None and result.figure is None):
        text = _("Going back.")
    await context.bot.send_message(chat_id, text, reply_markup=ReplyKeyboardRemove())


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
        await query.answer(_("This button is no longer valid."), show_alert=False)
        await drop_keyboard(query.message)
        if state is not None:
            await ask(context, update.effective_chat.id, state)
        else:
            await context.bot.send_message(
                update.effective_chat.id, _("There is no registration in progress. Type /daftar to register.")
            )
        return
    action, args = pressed.action, pressed.args[1:]
    if state.step == Step.CONSENT and action == "pick":
        event = _consent_event(context, args)
        if event is None:
            await query.answer(
                _("This notice is no longer the current one. Please read the notice below and answer there."),
                show_alert=True,
            )
            await drop_keyboard(query.message)
            await ask(context, update.effective_chat.id, state)
            return
        await _apply(update, context, state, event)
        return
    if action == "cancel":
        await conversations.cancel(session=context.session, person=context.person)
        await query.answer()
        await drop_keyboard(query.message)
        await context.bot.send_message(update.effective_chat.id, _("Registration cancelled. Nothing was saved."))
        return
    if len(args) > 1:  # only the consent button carries more than one argument
        await query.answer(problem_text(Problem.CHOOSE_BUTTON, context), show_alert=True)
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
        await message.reply_text(context._("Thank you. Type /bantuan to see what you can do here."))
        return
    own = message.contact.user_id is not None and message.contact.user_id == message.from_user.id  # type: ignore[union-attr]
    await _apply(update, context, state, registration.SharedContact(message.contact.phone_number, own))


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
