"""/siaran (alias /broadcast), /templat (alias /templates) and /status: organizers compose and follow broadcasts."""

from __future__ import annotations

import datetime as dt
import html
from contextlib import suppress
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError

from bot import catalog, i18n
from bot.callbacks import Codec
from bot.commands import N_
from bot.context import Context
from bot.delivery.status import parse_control, quiet_hold_line, status_message
from bot.handlers import broadcast_regions
from bot.handlers.access import NOT_ORGANIZER, drop_keyboard, guarded
from bot.handlers.limits import echo
from bot.handlers.registration import age_label, category_label
from bot.render import timezone_for_region
from bot.services import broadcasts, conversations, quiet
from bot.services.broadcasts import BroadcastError, Segment
from models import AgeBracket, ConversationState, FigureCategory, Role, utcnow

FLOW = "broadcast"
TEMPLATE_GONE = N_("That template no longer exists. Type /siaran to choose another one, or /templat to see them all.")
# The composer's buttons: "sx:<action>:<conversation version>[:<argument>]"; a press on any other version is stale.
COMPOSER = Codec("sx")
# /templat's buttons: "tpl:show:<template>"; "tpl:<template>", from before the codec, is read too.
TEMPLATES = Codec("tpl")


# ----------------------------------------------------------------------------------------- /templat


@guarded(Role.ORGANIZER)
async def templates_command(update: Update, context: Context) -> None:
    """/templat: the templates, and a rendered preview of one (/templat <name>)."""
    _ = context._
    message = update.effective_message
    assert message is not None
    infos = catalog.load_catalog(context.settings.templates.dir, context.locale)
    if context.args:
        info = catalog.get_template_info(context.settings.templates.dir, context.args[0], context.locale)
        if info is None:
            await message.reply_text(
                _("There is no template called {name}. Type /templat to see them all.").format(
                    name=echo(context.args[0])
                )
            )
            return
        await message.reply_text(_("<b>{title}</b> — preview with sample data:").format(title=html.escape(info.title)))
        await message.reply_text(_sample_render(info, context))
        return
    lines = [_("<b>Message templates</b>")]
    for info in infos:
        short, title = html.escape(info.name.removesuffix(".html")), html.escape(info.title)
        lines.append(f"• <code>{short}</code> — <b>{title}</b>: {html.escape(info.description)}")
    lines.append("\n" + _("See one with /templat &lt;name&gt;; send one with /siaran."))
    await message.reply_text("\n".join(lines), reply_markup=templates_keyboard(infos))


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


@guarded(Role.ORGANIZER)
async def template_button(update: Update, context: Context) -> None:
    """A template's button under /templat: show its preview."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    await query.answer()
    info = catalog.get_template_info(context.settings.templates.dir, pressed_template(query.data), context.locale)
    if info is None:
        await context.bot.send_message(
            update.effective_chat.id, context._("This button is no longer valid. Type /templat to see the templates.")
        )
        return
    await context.bot.send_message(update.effective_chat.id, _sample_render(info, context))


def _sample_render(info: catalog.TemplateInfo, context: Context) -> str:
    values = catalog.sample_values(info, context.settings.tz)
    return context.bot_data.renderer.render(
        info.name, catalog.template_context(context.settings, values=values, now=utcnow()), locale=context.locale
    )


# ----------------------------------------------------------------------------------------- /siaran


def _button(state: ConversationState, label: str, action: str, arg: str = "") -> InlineKeyboardButton:
    data = COMPOSER.data(action, state.version, *([arg] if arg else []))
    return InlineKeyboardButton(label, callback_data=data)


def _segment(state: ConversationState) -> Segment:
    return Segment.from_dict(state.data.get("segment", {}))


def _info(state: ConversationState, context: Context) -> catalog.TemplateInfo | None:
    return catalog.get_template_info(context.settings.templates.dir, state.data.get("template", ""), context.locale)


@guarded(Role.ORGANIZER)
async def broadcast_command(update: Update, context: Context) -> None:
    """/siaran: choose a template, fill its values, choose the segment, preview, send or schedule."""
    _ = context._
    assert context.person is not None and update.effective_chat is not None
    await conversations.cancel(session=context.session, person=context.person)
    assert context.person.id is not None
    state = ConversationState(
        person_id=context.person.id,
        flow=FLOW,
        step="template",
        version=conversations.new_version(),
        data={"segment": {}},
    )
    context.session.add(state)
    await _ask(update.effective_chat.id, state, context)


async def ask_again(chat_id: int, state: ConversationState, context: Context) -> None:
    """Ask the composer's current question again (e.g. in the language just chosen with /bahasa)."""
    await _ask(chat_id, state, context)


async def _ask(chat_id: int, state: ConversationState, context: Context) -> None:
    if state.step == "preview":
        info = _info(state, context)
        assert info is not None
        rendered, text, markup = await _preview(state, context, info)
        if rendered is not None:
            # The exact message first, as the recipient will see it; then the count and the buttons.
            await context.bot.send_message(chat_id, rendered)
    else:
        text, markup = await _question(state, context)
    await context.bot.send_message(chat_id, text, reply_markup=markup)


async def _question(state: ConversationState, context: Context) -> tuple[str, InlineKeyboardMarkup | None]:
    _ = context._
    step = state.step
    cancel_row = [_button(state, _("Cancel"), "cancel")]
    if step == "template":
        infos = catalog.load_catalog(context.settings.templates.dir, context.locale)
        rows = [[_button(state, info.title, "tpl", info.name.removesuffix(".html"))] for info in infos]
        return _("<b>New broadcast</b>\nWhich message do you want to send?"), InlineKeyboardMarkup([*rows, cancel_row])
    info = _info(state, context)
    assert info is not None
    if step == "value":
        spec = info.values[int(state.data.get("value_index", 0))]
        text = _("<b>{label}</b>\nPlease type it, for example: {example}").format(
            label=html.escape(spec.label), example=html.escape(spec.example)
        )
        return text, InlineKeyboardMarkup([cancel_row])
    if step == "region":
        return broadcast_regions.question(state, context, _button)
    if step in ("category", "age"):
        picked = set(state.data.get(step, []))
        options = (
            [(c.value, _category_name(c.value, context)) for c in FigureCategory]
            if step == "category"
            else [(a.value, _age_name(a.value, context)) for a in AgeBracket]
        )
        rows = [
            [_button(state, ("✓ " if value in picked else "") + label, "toggle", value)] for value, label in options
        ]
        rows.append([_button(state, _("Continue") + " ›", "next")])
        text = (
            _("Which categories? Tap to select; none selected means all.")
            if step == "category"
            else _("Which age brackets? Tap to select; none selected means all.")
        )
        return text, InlineKeyboardMarkup([*rows, cancel_row])
    if step == "since":
        text = _("Only figures registered since a date? Type the date (for example 01-01-2029), or choose All.")
        return text, InlineKeyboardMarkup([[_button(state, _("All, whenever they registered"), "since")], cancel_row])
    if step == "schedule":
        text = _("When should it be sent? Type the date and time in {zone}, for example 20-01-2029 09.00.").format(
            zone=i18n.zone_label(organizer_tz(context))
        )
        return text, InlineKeyboardMarkup([cancel_row])
    _rendered, text, markup = await _preview(state, context, info)
    return text, markup


async def _preview(
    state: ConversationState, context: Context, info: catalog.TemplateInfo
) -> tuple[str | None, str, InlineKeyboardMarkup | None]:
    """The exact message for one real recipient (None when nobody matches), the count and the buttons.

    The rendered message carries the recipient's name, so it is sent and never stored in the conversation:
    a figure who deletes their data must not stay behind in an organizer's draft.
    """
    _ = context._
    segment = _segment(state)
    settings = context.settings
    count = await broadcasts.count_recipients(
        session=context.session, segment=segment, authority=context.authority, settings=settings
    )
    sample = await broadcasts.sample_recipient(
        session=context.session, segment=segment, authority=context.authority, settings=settings
    )
    regions_line = broadcast_regions.preview_line(segment.regions, context)
    if sample is None:
        text = _("No registered figure who receives messages matches this choice. Change the segment or cancel.")
        text += "\n" + regions_line
        return (
            None,
            text,
            InlineKeyboardMarkup(
                [[_button(state, _("Change recipients"), "resegment")], [_button(state, _("Cancel"), "cancel")]]
            ),
        )
    figure, person = sample
    values = broadcasts.parse_values(info, state.data.get("values", {}), settings)
    rendered = broadcasts.render_message(
        context.bot_data.renderer,
        settings,
        template=info.name,
        values=values,
        name=figure.full_name or "",
        category=figure.category,
        region_code=figure.region_code,
        locale=person.locale,
        now=utcnow(),
    )
    state.data.pop("preview", None)  # stored by earlier versions
    state.data["template_version"] = info.version  # what the organizer saw is what gets sent
    conversations.mark_changed(state)
    header = _(
        "<b>Above is the message exactly as {name} will receive it.</b>\nRecipients: <b>{count}</b> (people who "
        "stopped messages, blocked the bot or deleted their data are not counted)."
    ).format(name=html.escape(figure.full_name or ""), count=i18n.format_number(count, context.locale))
    header += "\n" + regions_line
    keyboard = [
        [_button(state, "📨 " + _("Send now"), "send"), _button(state, "🕒 " + _("Schedule"), "schedule")],
        [_button(state, _("Change recipients"), "resegment"), _button(state, _("Cancel"), "cancel")],
    ]
    return rendered, header, InlineKeyboardMarkup(keyboard)


def organizer_tz(context: Context) -> ZoneInfo:
    """The organizer's own time zone (by the province of their first region); the office's for admins."""
    scopes = context.authority.scopes
    if context.authority.role is Role.ORGANIZER and scopes:
        return timezone_for_region(scopes[0])
    return context.settings.tz


def _check_not_past(value: object, tz: ZoneInfo, _: i18n.Gettext) -> None:
    now = utcnow()
    if isinstance(value, dt.datetime) and value < now:
        raise ValueError(_("That time has already passed. Please give a time in the future."))
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime) and value < now.astimezone(tz).date():
        raise ValueError(_("That date has already passed. Please give a date from today on."))


def _category_name(value: str, context: Context) -> str:
    return category_label(value, context._)


def _age_name(value: str, context: Context) -> str:
    return age_label(value, context._)


def _move(state: ConversationState, step: str) -> None:
    state.step = step
    state.version += 1
    conversations.mark_changed(state)


async def _state(context: Context) -> ConversationState | None:
    return await context.conversation(FLOW)


@guarded(Role.ORGANIZER)
async def on_button(update: Update, context: Context) -> None:
    """A composer button: valid only for the current step of this organizer's own composer."""
    _ = context._
    query = update.callback_query
    assert query is not None and update.effective_chat is not None and context.person is not None
    pressed = COMPOSER.parse(query.data)
    state = await _state(context)
    if state is None or pressed is None or pressed.arg(0) != str(state.version):
        await query.answer(
            _("This button is no longer valid. Go on from the latest question, or type /siaran to start again.")
        )
        await drop_keyboard(query.message)
        if state is not None:
            # The pressed message may have been the question itself (a forged version): ask it again, whole.
            await _ask(update.effective_chat.id, state, context)
        return
    action, arg = pressed.action, pressed.arg(1)
    await query.answer()
    chat_id = update.effective_chat.id
    if len(pressed.args) > 2:  # no composer button carries more than the version and one argument
        await context.bot.send_message(chat_id, _("Please choose one of the buttons above."))
        return
    if action == "cancel":
        await conversations.cancel(session=context.session, person=context.person)
        await drop_keyboard(query.message)
        await context.bot.send_message(chat_id, _("Broadcast cancelled. Nothing was sent."))
        return
    if action == "send" and state.step == "preview":
        # The preview keeps its buttons when the broadcast is refused (a quiet period: "🕒 Jadwalkan" is the way on).
        if await _create(update, context, state, scheduled_at=None):
            await drop_keyboard(query.message)
        return
    problem = _apply_button(state, action, arg, context)
    if problem:
        await context.bot.send_message(chat_id, problem)
        return
    if (action == "toggle" or state.step == "region") and isinstance(query.message, Message):
        # Ticking a box, or moving about the regions: the same question redrawn in place.
        text, markup = await _question(state, context)
        with suppress(TelegramError):
            await query.edit_message_text(text, reply_markup=markup)
        return
    await drop_keyboard(query.message)
    await _ask(chat_id, state, context)


def _apply_button(state: ConversationState, action: str, arg: str, context: Context) -> str | None:
    """Move the composer along for a button press; a problem text when the press does not fit the step."""
    _ = context._
    step = state.step
    segment = state.data.setdefault("segment", {})
    if step == "template" and action == "tpl":
        info = catalog.get_template_info(context.settings.templates.dir, arg, context.locale)
        if info is None:
            return _(TEMPLATE_GONE)
        state.data.update(template=info.name, values={}, value_index=0)
        _move(state, "value" if info.values else "region")
    elif step == "region" and action in broadcast_regions.ACTIONS:
        outcome = broadcast_regions.press(state, action, arg, context)
        if outcome.problem is not None:
            return outcome.problem
        if outcome.done:
            segment["regions"] = broadcast_regions.picker_of(state, context).picked
            _move(state, "category")
    elif step in ("category", "age") and action == "toggle":
        allowed = {c.value for c in FigureCategory} if step == "category" else {a.value for a in AgeBracket}
        if arg not in allowed:
            return _("Please choose one of the buttons above.")
        picked = set(state.data.get(step, []))
        picked ^= {arg}
        state.data[step] = sorted(picked)
        state.version += 1
        conversations.mark_changed(state)
    elif step in ("category", "age") and action == "next":
        segment["categories" if step == "category" else "age_brackets"] = state.data.get(step, [])
        _move(state, "age" if step == "category" else "since")
    elif step == "since" and action == "since":
        segment["registered_since"] = None
        _move(state, "preview")
    elif step == "preview" and action == "schedule":
        _move(state, "schedule")
    elif step == "preview" and action == "resegment":
        state.data["segment"] = {}
        state.data.pop("category", None)
        state.data.pop("age", None)
        broadcast_regions.reopen(state, context)
        _move(state, "region")
    else:
        return _("Please choose one of the buttons above.")
    return None


async def on_text(update: Update, context: Context) -> bool:
    """Typed answers for the composer (values, region codes, dates); False when no composer is open."""
    _ = context._
    message = update.effective_message
    state = await _state(context)
    if state is None or message is None or message.text is None or update.effective_chat is None:
        return False
    if not context.authority.at_least(Role.ORGANIZER):
        await conversations.cancel(session=context.session, person=context.person)  # type: ignore[arg-type]
        await message.reply_text(_("Sorry, only election organizers may do this."))
        return True
    chat_id = update.effective_chat.id
    text = message.text.strip()
    info = _info(state, context)
    try:
        if state.step == "value" and info is not None:
            spec = info.values[int(state.data.get("value_index", 0))]
            tz = organizer_tz(context)
            _check_not_past(catalog.parse_value(spec, text, tz, gettext=_, locale=context.locale), tz, _)
            state.data.setdefault("values", {})[spec.key] = text
            index = int(state.data.get("value_index", 0)) + 1
            state.data["value_index"] = index
            _move(state, "value" if index < len(info.values) else "region")
        elif state.step == "region":
            problem = broadcast_regions.typed(state, text, context)
            if problem is not None:
                raise ValueError(problem)
        elif state.step == "since":
            spec = catalog.ValueSpec(key="since", label="", type="date", example="01-01-2029")
            since = catalog.parse_value(spec, text, context.settings.tz, gettext=_, locale=context.locale)
            assert isinstance(since, dt.date)
            state.data["segment"]["registered_since"] = since.isoformat()
            _move(state, "preview")
        elif state.step == "schedule":
            spec = catalog.ValueSpec(key="when", label="", type="datetime", example="20-01-2029 09.00")
            when = catalog.parse_value(spec, text, organizer_tz(context), gettext=_, locale=context.locale)
            assert isinstance(when, dt.datetime)
            await _create(update, context, state, scheduled_at=when)
            return True
        else:
            raise ValueError(_("Please choose one of the buttons above."))
    except ValueError as exc:
        await message.reply_text(str(exc))
        return True
    await _ask(chat_id, state, context)
    return True


async def _create(
    update: Update, context: Context, state: ConversationState, *, scheduled_at: dt.datetime | None
) -> bool:
    """Write the broadcast with all its deliveries, then let the engine send it; False when it was refused."""
    _ = context._
    assert context.person is not None and update.effective_chat is not None
    chat_id = update.effective_chat.id
    info = _info(state, context)
    if info is None:
        await context.bot.send_message(chat_id, _(TEMPLATE_GONE))
        return False
    if info.version != state.data.get("template_version"):
        await context.bot.send_message(chat_id, _("The template has changed since the preview. Please check it again."))
        _move(state, "preview")
        await _ask(chat_id, state, context)
        return False
    try:
        broadcast = await broadcasts.create(
            session=context.session,
            actor=context.person,
            authority=context.authority,
            settings=context.settings,
            info=info,
            raw_values=state.data.get("values", {}),
            segment=_segment(state),
            scheduled_at=scheduled_at,
        )
    except BroadcastError as exc:
        await context.session.rollback()
        await context.bot.send_message(chat_id, refusal_text(exc, context))
        return False
    except ValueError as exc:
        await context.session.rollback()
        await context.bot.send_message(chat_id, str(exc))
        return False
    await context.session.delete(state)
    # The engine reads with its own session: the broadcast must be on disk before it is woken (a reply would
    # commit it too, but "send now" sends none before the wake).
    await context.session.commit()
    if scheduled_at is not None:
        text = _("Scheduled: broadcast #{id} to {count} recipients on {when}.").format(
            id=broadcast.id,
            count=i18n.format_number(broadcast.recipient_count, context.locale),
            when=i18n.format_datetime(scheduled_at, organizer_tz(context), context.locale),
        )
        if (blocked := quiet.blocked_at(context.settings, scheduled_at)) is not None:
            text += " " + quiet_hold_line(blocked, context.settings, context.locale)
        await context.bot.send_message(chat_id, text)
    if context.bot_data.delivery is not None:
        context.bot_data.delivery.wake()
    return True


def refusal_text(error: BroadcastError, context: Context) -> str:
    _ = context._
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
            end=i18n.format_datetime(hold.period.end, context.settings.tz, context.locale),
            release=i18n.format_datetime(hold.release, context.settings.tz, context.locale),
        )
    texts = {
        "no_recipients": _(
            "No registered figure who receives messages matches this choice. Type /siaran to choose other recipients."
        ),
        "outside_scope": _(
            "Some of the regions are outside your scope. Type /bantuan to see your regions, or ask an admin."
        ),
        "schedule_past": _("That time has already passed. Please give a time in the future."),
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


# ----------------------------------------------------------------------------------------- control and /status


@guarded(Role.ORGANIZER)
async def control_button(update: Update, context: Context) -> None:
    """Pause, resume or cancel from the status message; the role and ownership are checked here, every time."""
    _ = context._
    query = update.callback_query
    assert query is not None and context.person is not None
    pressed = parse_control(query.data)
    if pressed is None:
        await query.answer(_("This button is no longer valid. Type /status to see your broadcasts."), show_alert=True)
        return
    try:
        broadcast = await broadcasts.control(
            session=context.session,
            person=context.person,
            authority=context.authority,
            settings=context.settings,
            broadcast_id=pressed[1],
            action=pressed[0],
        )
    except BroadcastError as exc:
        await context.session.rollback()
        await query.answer(refusal_text(exc, context), show_alert=True)
        return
    done = {"pause": _("Paused."), "resume": _("Resumed."), "cancel": _("Cancelled.")}
    await query.answer(done[pressed[0]])
    assert broadcast.id is not None
    counts = await broadcasts.outcome_counts(session=context.session, broadcast_id=broadcast.id)
    text, markup = status_message(broadcast, counts, context.settings, context.locale)
    if isinstance(query.message, Message):
        with suppress(TelegramError):
            await query.message.edit_text(text, reply_markup=markup)
    if context.bot_data.delivery is not None:
        context.bot_data.delivery.wake()


@guarded(Role.ORGANIZER)
async def status_command(update: Update, context: Context) -> None:
    """/status: recent broadcasts with their figures."""
    _ = context._
    message = update.effective_message
    assert message is not None and context.person is not None
    recent = await broadcasts.recent(session=context.session, person=context.person, authority=context.authority)
    if not recent:
        await message.reply_text(_("No broadcasts yet. Start one with /siaran."))
        return
    for broadcast in recent[:5]:
        assert broadcast.id is not None
        counts = await broadcasts.outcome_counts(session=context.session, broadcast_id=broadcast.id)
        text, markup = status_message(broadcast, counts, context.settings, context.locale)
        await message.reply_text(text, reply_markup=markup)
