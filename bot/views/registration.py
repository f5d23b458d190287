"""The texts and buttons of /daftar and of a profile edit: each step's question, the problems an answer can have,
the summary, and how the conversation ended; with the data the registration's buttons carry. Pure functions of the
conversation's state and the reader's language."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Sequence
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot import i18n, notice, regions
from bot.callbacks import Codec
from bot.config import Settings
from bot.labels import age_label as age_label  # named from here by the views that label a figure
from bot.labels import category_label as category_label
from bot.services import registration
from bot.services.figure_input import Problem
from bot.services.registration_steps import REGION_STEPS, Step, can_go_back, region_codes, region_level, region_parent
from bot.views import keyboards
from models import AgeBracket, ConversationState, FigureCategory

# Registration's buttons: "reg:<action>:<conversation version>[:<argument>…]" ("reg:new" starts one).
REGISTRATION = Codec("reg")

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | None
MakeButton = Callable[[str, str], InlineKeyboardButton]


# ----------------------------------------------------------------------------------------- consent


def privacy_notice(settings: Settings, locale: str) -> str:
    """The consent step: the privacy notice in LOCALE, introduced as the step before registering."""
    _ = i18n.gettext_for(locale)
    lead = _("Before you register, please read how your data is handled.")
    return lead + "\n\n" + notice.privacy_notice(settings, locale)


def _agree_args(settings: Settings, locale: str) -> tuple[str, str, str]:
    """What "I agree" carries: the language and version of the notice shown with it, recorded when pressed."""
    return "yes", locale, notice.current_version(settings, locale)


def consent_answer(args: tuple[str, ...], settings: Settings, locale: str) -> registration.Event | None:
    """The answer a consent button gives, or None when the notice it sat under is not the one the person would
    be shown now (the notice changed, or they chose another language since): they are shown that one instead."""
    if args == ("no",):
        return registration.Pressed("pick", "no")
    if len(args) != 3:
        return None
    answer, shown_locale, version = args
    if answer != "yes" or shown_locale != locale:
        return None
    if not notice.is_current(settings, version=version, locale=shown_locale):
        return None
    return registration.Agreed(locale=shown_locale, version=version)


# ----------------------------------------------------------------------------------------- problems


def problem_text(problem: Problem, _: i18n.Gettext, state: ConversationState | None = None) -> str:
    """What is wrong with an answer, and what to do instead (STATE: where a region was looked for)."""
    if problem is Problem.REGION_NOT_FOUND and state is not None:
        parent = region_parent(state)
        region = regions.get(parent) if parent else None
        where = html.escape(region.name) if region else _("Indonesia")
        return _(
            "We could not find a region with that name in {where}. Check the spelling or choose from the list."
        ).format(where=where)
    texts = {
        Problem.NAME_EMPTY: _("Please write the full name."),
        Problem.NAME_LENGTH: _("A name must have 2 to 100 characters.") + " " + _type_again(state, _),
        Problem.NAME_COMMAND: _(
            "That looks like a command, not a name. Please write the full name, or /batal to stop."
        ),
        Problem.NAME_LINK: _("A name cannot contain links or @usernames.") + " " + _type_again(state, _),
        Problem.NAME_CHARACTERS: _(
            "A name may only contain letters, spaces and punctuation such as full stops, commas, apostrophes "
            "and hyphens."
        )
        + " "
        + _type_again(state, _),
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


def _type_again(state: ConversationState | None, _: i18n.Gettext) -> str:
    """The next step after a name that was not accepted (the name's question is not asked again)."""
    if state is not None and state.step == Step.GUARDIAN_NAME:
        return _("Please type the full name of your parent or guardian again.")
    return _("Please type your full name again.")


# ----------------------------------------------------------------------------------------- answers and questions


def describe_answers(data: dict[str, Any], _: i18n.Gettext) -> str:
    """The answers so far (or a saved profile), one line each, with what the person typed escaped."""
    missing = "<i>" + _("not filled in") + "</i>"
    codes = region_codes(data)
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


def edit_buttons(make: MakeButton, age: str | None, _: i18n.Gettext) -> list[list[InlineKeyboardButton]]:
    """One 'change …' button per field; MAKE(label, field) builds the button for the caller's flow."""
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


def _button(state: ConversationState, label: str, action: str, *args: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=REGISTRATION.data(action, state.version, *args))


def _back_row(state: ConversationState, _: i18n.Gettext) -> list[list[InlineKeyboardButton]]:
    return [[_button(state, "« " + _("Back"), "back")]] if can_go_back(state) else []


def question(state: ConversationState, settings: Settings, locale: str) -> tuple[str, Markup]:
    """The text and buttons that ask for the current step, in LOCALE."""
    _ = i18n.gettext_for(locale)
    step = Step(state.step)
    data = state.data
    back = _back_row(state, _)
    if step is Step.CONSENT:
        agree = _button(state, _("I agree"), "pick", *_agree_args(settings, locale))
        keyboard = [[agree, _button(state, _("I do not agree"), "pick", "no")]]
        return privacy_notice(settings, locale), InlineKeyboardMarkup(keyboard)
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
    if step in REGION_STEPS:
        return _region_question(state, settings.registration.provinces, _)
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
    text = _("<b>Please check your answers</b>") + "\n\n" + describe_answers(data, _)
    text += "\n\n" + _("If everything is correct, press Save.")
    keyboard = edit_buttons(lambda label, field: _button(state, label, "edit", field), data.get("age"), _)
    keyboard.append([_button(state, "✅ " + _("Save"), "save"), _button(state, _("Cancel"), "cancel")])
    return text, InlineKeyboardMarkup(keyboard)


def _region_question(
    state: ConversationState, allowed_provinces: Sequence[str], _: i18n.Gettext
) -> tuple[str, InlineKeyboardMarkup]:
    level = region_level(Step(state.step))
    options = registration.region_options(state, allowed_provinces)
    prompts = {
        1: _("In which province do you live? Choose below or type its name."),
        2: _("Which kabupaten/kota? Choose below or type its name."),
        3: _("Which kecamatan? Choose below or type its name."),
        4: _("Which desa/kelurahan? Choose below or type its name."),
    }
    text = prompts[level]
    parent = region_parent(state)
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
    return text, InlineKeyboardMarkup(keyboard + _back_row(state, _))


# ----------------------------------------------------------------------------------------- along the way


def already_in_progress(_: i18n.Gettext) -> str:
    """A second /daftar (or an old "register" button) while answering: the answers so far are kept."""
    return _("Your registration is already in progress; let us continue. (Type /batal to start over.)")


def phone_closed(phone: str | None, _: i18n.Gettext, *, went_back: bool) -> tuple[str, ReplyKeyboardRemove]:
    """Takes the 'share my number' keyboard away once the phone question is answered, saying what was noted."""
    text = _("Number noted: {phone}").format(phone=html.escape(phone)) if phone else _("Mobile number skipped.")
    if went_back:
        text = _("Going back.")
    return text, ReplyKeyboardRemove()


def stale_button(_: i18n.Gettext, *, registered: bool = False) -> str:
    stale = _("This button is no longer valid.")
    return f"{stale} {_('You are registered. See or correct your data with /profil.')}" if registered else stale


def nothing_in_progress(_: i18n.Gettext) -> str:
    return _("There is no registration in progress. Type /daftar to register.")


def notice_not_current(_: i18n.Gettext) -> str:
    """An "I agree" under a notice that is no longer the one the person would be shown."""
    return _("This notice is no longer the current one. Please read the notice below and answer there.")


def contact_not_asked(_: i18n.Gettext) -> str:
    """A contact shared when no phone question waits for it."""
    return _("Thank you. Type /bantuan to see what you can do here.")


# ----------------------------------------------------------------------------------------- the end


def cancelled(_: i18n.Gettext) -> str:
    return _("Registration cancelled. Nothing was saved.")


def registered(_: i18n.Gettext) -> str:
    """Said before the welcome message template."""
    return "✅ " + _("Registration complete. Thank you!")


def ended(finished: registration.Finished, flow: str, _: i18n.Gettext) -> str | None:
    """How a conversation ended that shows no profile (None: it does, or the welcome follows)."""
    if finished is registration.Finished.DECLINED:
        return _(
            "Thank you for your time. Your answers have not been saved. If you change your mind, type /daftar at "
            "any time."
        )
    if finished is registration.Finished.GUARDIAN_DECLINED:
        if flow == registration.EDIT:
            return _("Without a parent's or guardian's consent the change was not saved.")
        return _(
            "Without a parent's or guardian's consent we cannot register you yet. Nothing has been saved. "
            "You are welcome to register together with your parent or guardian later with /daftar."
        )
    if finished is registration.Finished.EDITED:
        return _("Nothing was changed.")
    return None


def registration_closed(until: dt.date, locale: str) -> str:
    """/daftar once privacy.retention_until has passed."""
    _ = i18n.gettext_for(locale)
    return _(
        "Sorry, registration is closed: the period for which Rangkul keeps personal data ended on {date}. "
        "Please contact the KPU office of your region for information. Type /bantuan to see what you can "
        "do here."
    ).format(date=i18n.format_date(until, locale))
