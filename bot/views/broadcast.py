"""The texts and buttons of the broadcast composer (/siaran) and the template list (/templat): each step's
question, the preview, what became of the broadcast, and why one was refused. Pure functions of what they show."""

from __future__ import annotations

import datetime as dt
import html
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import catalog, i18n
from bot.callbacks import Codec
from bot.commands import N_
from bot.config import Settings
from bot.delivery.status import quiet_hold_line
from bot.labels import age_label, category_label
from bot.services import quiet
from bot.services.broadcasts import BroadcastError
from bot.services.region_picker import Picker
from bot.services.roles import Authority
from bot.views import broadcast_regions
from bot.views.limits import NOT_ORGANIZER, echo
from models import AgeBracket, Broadcast, ConversationState, FigureCategory

TEMPLATE_GONE = N_("That template no longer exists. Type /siaran to choose another one, or /templat to see them all.")
# The composer's buttons: "sx:<action>:<conversation version>[:<argument>]"; a press on any other version is stale.
COMPOSER = Codec("sx")
# /templat's buttons: "tpl:show:<template>"; "tpl:<template>", from before the codec, is read too.
TEMPLATES = Codec("tpl")

Question = tuple[str, InlineKeyboardMarkup]


# ----------------------------------------------------------------------------------------- /templat


def template_list(infos: list[catalog.TemplateInfo], _: i18n.Gettext) -> Question:
    """/templat: every template with its short name and what it is for, and a button to preview each."""
    lines = [_("<b>Message templates</b>")]
    for info in infos:
        short, title = html.escape(info.name.removesuffix(".html")), html.escape(info.title)
        lines.append(f"• <code>{short}</code> — <b>{title}</b>: {html.escape(info.description)}")
    lines.append("\n" + _("See one with /templat &lt;name&gt;; send one with /siaran."))
    return "\n".join(lines), templates_keyboard(infos)


def templates_keyboard(infos: list[catalog.TemplateInfo]) -> InlineKeyboardMarkup:
    """One button per template under /templat, showing its preview."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(info.title, callback_data=TEMPLATES.data("show", info.name.removesuffix(".html")))]
            for info in infos
        ]
    )


def pressed_template(data: object) -> str:
    """The template a /templat button names ('' for data we did not make)."""
    pressed = TEMPLATES.parse(data)
    if pressed is not None and pressed.action == "show" and len(pressed.args) == 1:
        return pressed.args[0]
    old = TEMPLATES.fields(data)  # "tpl:<template>": /templat lists sent before the codec
    return old[0] if old is not None and len(old) == 1 else ""


def no_such_template(name: str, _: i18n.Gettext) -> str:
    return _("There is no template called {name}. Type /templat to see them all.").format(name=echo(name))


def sample_heading(info: catalog.TemplateInfo, _: i18n.Gettext) -> str:
    """The line above a template rendered with sample data."""
    return _("<b>{title}</b> — preview with sample data:").format(title=html.escape(info.title))


def stale_template_button(_: i18n.Gettext) -> str:
    return _("This button is no longer valid. Type /templat to see the templates.")


# ----------------------------------------------------------------------------------------- the questions


def button(state: ConversationState, label: str, action: str, arg: str = "") -> InlineKeyboardButton:
    """A composer button, valid for the conversation's current version only."""
    data = COMPOSER.data(action, state.version, *([arg] if arg else []))
    return InlineKeyboardButton(label, callback_data=data)


def _cancel_row(state: ConversationState, _: i18n.Gettext) -> list[InlineKeyboardButton]:
    return [button(state, _("Cancel"), "cancel")]


def template_question(state: ConversationState, infos: list[catalog.TemplateInfo], _: i18n.Gettext) -> Question:
    """Step 1: which template, one button each."""
    rows = [[button(state, info.title, "tpl", info.name.removesuffix(".html"))] for info in infos]
    return (
        _("<b>New broadcast</b>\nWhich message do you want to send?"),
        InlineKeyboardMarkup([*rows, _cancel_row(state, _)]),
    )


def value_question(state: ConversationState, spec: catalog.ValueSpec, _: i18n.Gettext) -> Question:
    """Step 2: one of the template's values, typed, with its example."""
    text = _("<b>{label}</b>\nPlease type it, for example: {example}").format(
        label=html.escape(spec.label), example=html.escape(spec.example)
    )
    return text, InlineKeyboardMarkup([_cancel_row(state, _)])


def region_question(
    state: ConversationState, picker: Picker, authority: Authority, locale: str, _: i18n.Gettext
) -> Question:
    """Step 3: the recipients' regions (bot/views/broadcast_regions.py), with this composer's buttons."""

    def make(label: str, action: str, arg: str = "") -> InlineKeyboardButton:
        return button(state, label, action, arg)

    return broadcast_regions.question(picker, authority, locale, _, make)


def choice_question(state: ConversationState, _: i18n.Gettext) -> Question:
    """Steps 4 and 5 ("category", "age"): tick any number of boxes, the ticked ones marked ✓."""
    step = state.step
    picked = set(state.data.get(step, []))
    options = (
        [(c.value, category_label(c.value, _)) for c in FigureCategory]
        if step == "category"
        else [(a.value, age_label(a.value, _)) for a in AgeBracket]
    )
    rows = [[button(state, ("✓ " if value in picked else "") + label, "toggle", value)] for value, label in options]
    rows.append([button(state, _("Continue") + " ›", "next")])
    text = (
        _("Which categories? Tap to select; none selected means all.")
        if step == "category"
        else _("Which age brackets? Tap to select; none selected means all.")
    )
    return text, InlineKeyboardMarkup([*rows, _cancel_row(state, _)])


def since_example(today: dt.date) -> str:
    """A "registered since" date to give as an example: the first of this month, never a day still to come."""
    return f"{today.replace(day=1):%d-%m-%Y}"


def since_question(state: ConversationState, today: dt.date, _: i18n.Gettext) -> Question:
    """Step 6: only figures registered since a date (TODAY or earlier), or all."""
    text = _("Only figures registered since a date? Type the date (for example {example}), or choose All.").format(
        example=since_example(today)
    )
    return text, InlineKeyboardMarkup(
        [[button(state, _("All, whenever they registered"), "since")], _cancel_row(state, _)]
    )


def schedule_question(state: ConversationState, tz: ZoneInfo, _: i18n.Gettext) -> Question:
    """After "🕒 Schedule": the date and time, in the organizer's own zone TZ."""
    text = _("When should it be sent? Type the date and time in {zone}, for example 20-01-2029 09.00.").format(
        zone=i18n.zone_label(tz)
    )
    return text, InlineKeyboardMarkup([_cancel_row(state, _)])


def preview(
    state: ConversationState, *, name: str, count: int, regions_line: str, locale: str, _: i18n.Gettext
) -> Question:
    """Sent under the message as NAME (one real recipient) will receive it: the count, the regions, the choices."""
    header = _(
        "<b>Above is the message exactly as {name} will receive it.</b>\nRecipients: <b>{count}</b> (people who "
        "stopped messages, blocked the bot or deleted their data are not counted)."
    ).format(name=html.escape(name), count=i18n.format_number(count, locale))
    header += "\n" + regions_line
    keyboard = [
        [button(state, "📨 " + _("Send now"), "send"), button(state, "🕒 " + _("Schedule"), "schedule")],
        [button(state, _("Change recipients"), "resegment"), button(state, _("Cancel"), "cancel")],
    ]
    return header, InlineKeyboardMarkup(keyboard)


def nobody_matches(state: ConversationState, regions_line: str, _: i18n.Gettext) -> Question:
    """The preview when no figure matches the segment: change the recipients or cancel."""
    text = _("No registered figure who receives messages matches this choice. Change the segment or cancel.")
    text += "\n" + regions_line
    return text, InlineKeyboardMarkup(
        [[button(state, _("Change recipients"), "resegment")], [button(state, _("Cancel"), "cancel")]]
    )


# ----------------------------------------------------------------------------------------- answers


def stale_button(_: i18n.Gettext) -> str:
    return _("This button is no longer valid. Go on from the latest question, or type /siaran to start again.")


def choose_a_button(_: i18n.Gettext) -> str:
    return _("Please choose one of the buttons above.")


def cancelled(_: i18n.Gettext) -> str:
    return _("Broadcast cancelled. Nothing was sent.")


def organizers_only(_: i18n.Gettext) -> str:
    """A typed answer from someone who lost the organizer role while composing."""
    return _("Sorry, only election organizers may do this.")


def time_passed(_: i18n.Gettext) -> str:
    return _("That time has already passed. Please give a time in the future.")


def date_passed(_: i18n.Gettext) -> str:
    return _("That date has already passed. Please give a date from today on.")


def since_in_future(today: dt.date, _: i18n.Gettext) -> str:
    """A "registered since" date after TODAY: nobody has registered since then, so nobody would receive it."""
    return _(
        "That date has not come yet, so no figure has registered since then. Please type today's date or an "
        "earlier one (for example {example}), or choose All."
    ).format(example=since_example(today))


def template_gone(_: i18n.Gettext) -> str:
    return _(TEMPLATE_GONE)


def template_changed(_: i18n.Gettext) -> str:
    return _("The template has changed since the preview. Please check it again.")


def scheduled(
    broadcast: Broadcast, when: dt.datetime, tz: ZoneInfo, settings: Settings, locale: str, _: i18n.Gettext
) -> str:
    """The confirmation of a scheduled broadcast, with when it really goes out if WHEN falls in a quiet period."""
    text = _("Scheduled: broadcast #{id} to {count} recipients on {when}.").format(
        id=broadcast.id,
        count=i18n.format_number(broadcast.recipient_count, locale),
        when=i18n.format_datetime(when, tz, locale),
    )
    if (blocked := quiet.blocked_at(settings, when)) is not None:
        text += " " + quiet_hold_line(blocked, settings, locale)
    return text


def refusal(error: BroadcastError, settings: Settings, locale: str, _: i18n.Gettext) -> str:
    """Why composing or controlling a broadcast was refused, and what to do instead."""
    if error.code in ("quiet", "quiet_paused", "quiet_resume"):
        hold: quiet.Hold = error.details["hold"]
        texts = {
            "quiet": _(
                "Sorry, in line with Rangkul's settings no broadcast is sent during {period}, until {end}. "
                "Broadcasts it held back are sent on {release}. To send this one then, tap 🕒 Schedule on the "
                "preview above and give a time."
            ),
            # Answers to a button (at most 200 characters).
            "quiet_paused": _(
                "Sorry, in line with Rangkul's settings nothing is sent during {period}. It will go on by itself "
                "on {release}."
            ),
            "quiet_resume": _(
                "Sorry, in line with Rangkul's settings nothing is sent during {period}. Please resume it after {end}."
            ),
        }
        return texts[error.code].format(
            period=html.escape(hold.period.name),
            end=i18n.format_datetime(hold.period.end, settings.tz, locale),
            release=i18n.format_datetime(hold.release, settings.tz, locale),
        )
    if error.code == "after_event":
        return _(
            "Sorry, the event is on {date} ({label}), so a broadcast sent at that time would arrive after it. "
            "Please type an earlier date and time, or type /siaran to compose it again with the correct date."
        ).format(date=i18n.format_date(error.details["date"], locale), label=html.escape(error.details["label"]))
    texts = {
        "no_recipients": _(
            "No registered figure who receives messages matches this choice. Type /siaran to choose other recipients."
        ),
        "outside_scope": _(
            "Some of the regions are outside your scope. Type /bantuan to see your regions, or ask an admin."
        ),
        "schedule_past": time_passed(_),
        "not_organizer": _(NOT_ORGANIZER),
        "not_allowed": _("You may only control your own broadcasts. Type /status to see yours."),
        "wrong_state": _("That is not possible in the broadcast's current state. Type /status to see where it stands."),
        "paused_by_admin": _(
            "An admin paused this broadcast, so only an admin can resume it. Please contact your admin; you can "
            "still cancel it."
        ),
        "needs_admin": _(
            "This broadcast was paused because its organizer's role or regions changed, so only an admin can "
            "resume it. Please ask your admin to resume or cancel it."
        ),
        "template_changed": _(
            "The template changed after this broadcast was composed, so it cannot be resumed. Please cancel it "
            "and compose it again with /siaran."
        ),
    }
    return texts.get(
        error.code, _("That is not possible. Type /status to see your broadcasts, or /siaran to compose a new one.")
    )


# ----------------------------------------------------------------------------------------- /status


def stale_control_button(_: i18n.Gettext) -> str:
    return _("This button is no longer valid. Type /status to see your broadcasts.")


def controlled(action: str, _: i18n.Gettext) -> str:
    """The answer to a status button that worked: ACTION is pause, resume or cancel."""
    done = {"pause": _("Paused."), "resume": _("Resumed."), "cancel": _("Cancelled.")}
    return done[action]


def no_broadcasts(_: i18n.Gettext) -> str:
    return _("No broadcasts yet. Start one with /siaran.")
