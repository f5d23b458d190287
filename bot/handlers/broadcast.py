"""/siaran (alias /broadcast) and /templat (alias /templates): organizers see the templates and compose a broadcast,
step by step, to a preview they send or schedule. The texts and buttons are bot/views/broadcast.py."""

from __future__ import annotations

import datetime as dt
from contextlib import suppress
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError

from bot import catalog, i18n
from bot.context import Context
from bot.handlers import broadcast_regions
from bot.handlers.access import drop_keyboard, guarded
from bot.render import timezone_for_region
from bot.services import broadcasts, conversations
from bot.services.broadcasts import BroadcastError, Segment
from bot.views import broadcast as views
from bot.views import broadcast_regions as region_views

# The codecs live with the views that build their buttons; they are named here too, as before the views.
from bot.views.broadcast import COMPOSER as COMPOSER
from bot.views.broadcast import TEMPLATES as TEMPLATES
from bot.views.broadcast import pressed_template as pressed_template
from models import AgeBracket, ConversationState, FigureCategory, Role, utcnow

FLOW = "broadcast"


# ----------------------------------------------------------------------------------------- /templat


@guarded(Role.ORGANIZER)
async def templates_command(update: Update, context: Context) -> None:
    """/templat: the templates, and a rendered preview of one (/templat <name>)."""
    message = update.effective_message
    assert message is not None
    if context.args:
        info = catalog.get_template_info(context.settings.templates.dir, context.args[0], context.locale)
        if info is None:
            await message.reply_text(views.no_such_template(context.args[0], context._))
            return
        await message.reply_text(views.sample_heading(info, context._))
        await message.reply_text(_sample_render(info, context))
        return
    text, markup = views.template_list(catalog.load_catalog(context.settings.templates.dir, context.locale), context._)
    await message.reply_text(text, reply_markup=markup)


@guarded(Role.ORGANIZER)
async def template_button(update: Update, context: Context) -> None:
    """A template's button under /templat: show its preview."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    await query.answer()
    info = catalog.get_template_info(context.settings.templates.dir, pressed_template(query.data), context.locale)
    if info is None:
        await context.bot.send_message(update.effective_chat.id, views.stale_template_button(context._))
        return
    await context.bot.send_message(update.effective_chat.id, _sample_render(info, context))


def _sample_render(info: catalog.TemplateInfo, context: Context) -> str:
    values = catalog.sample_values(info, context.settings.tz)
    return context.bot_data.renderer.render(
        info.name, catalog.template_context(context.settings, values=values, now=utcnow()), locale=context.locale
    )


# ----------------------------------------------------------------------------------------- /siaran


def _segment(state: ConversationState) -> Segment:
    return Segment.from_dict(state.data.get("segment", {}))


def _info(state: ConversationState, context: Context) -> catalog.TemplateInfo | None:
    return catalog.get_template_info(context.settings.templates.dir, state.data.get("template", ""), context.locale)


@guarded(Role.ORGANIZER)
async def broadcast_command(update: Update, context: Context) -> None:
    """/siaran: choose a template, fill its values, choose the segment, preview, send or schedule."""
    assert context.person is not None and update.effective_chat is not None
    state = await conversations.start(
        session=context.session, person=context.person, flow=FLOW, step="template", data={"segment": {}}
    )
    await _ask(update.effective_chat.id, state, context)


async def ask_again(chat_id: int, state: ConversationState, context: Context) -> None:
    """Ask the composer's current question again (e.g. in the language just chosen with /bahasa); someone no longer
    an organizer is told so and the composer ends, as typed text would."""
    if not context.authority.at_least(Role.ORGANIZER):
        await conversations.cancel(session=context.session, person=context.person)  # type: ignore[arg-type]
        await context.bot.send_message(chat_id, views.organizers_only(context._))
        return
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
    """The view of the composer's current step, with what it shows read here."""
    _ = context._
    step = state.step
    if step == "template":
        return views.template_question(state, catalog.load_catalog(context.settings.templates.dir, context.locale), _)
    info = _info(state, context)
    assert info is not None
    if step == "value":
        return views.value_question(state, info.values[int(state.data.get("value_index", 0))], _)
    if step == "region":
        picker = broadcast_regions.picker_of(state, context)
        return views.region_question(state, picker, context.authority, context.locale, _)
    if step in ("category", "age"):
        return views.choice_question(state, _)
    if step == "since":
        return views.since_question(state, _today(context), _)
    if step == "schedule":
        return views.schedule_question(state, organizer_tz(context), _)
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
    regions_line = region_views.preview_line(segment.regions, context.authority, _)
    if sample is None:
        text, markup = views.nobody_matches(state, regions_line, _)
        return None, text, markup
    figure, person = sample
    assert context.person is not None
    await broadcasts.record_composed(
        session=context.session, actor=context.person, template=info.name, segment=segment, recipients=count,
        shown_figure=figure.id,
    )  # fmt: skip
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
    text, markup = views.preview(
        state, name=figure.full_name or "", count=count, regions_line=regions_line, locale=context.locale, _=_
    )
    return rendered, text, markup


def organizer_tz(context: Context) -> ZoneInfo:
    """The organizer's own time zone (by the province of their first region); the office's for admins."""
    scopes = context.authority.scopes
    if context.authority.role is Role.ORGANIZER and scopes:
        return timezone_for_region(scopes[0])
    return context.settings.tz


def _check_not_past(value: object, tz: ZoneInfo, _: i18n.Gettext) -> None:
    now = utcnow()
    if isinstance(value, dt.datetime) and value < now:
        raise ValueError(views.time_passed(_))
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime) and value < now.astimezone(tz).date():
        raise ValueError(views.date_passed(_))


def _today(context: Context) -> dt.date:
    """Today in the office's zone, the zone "registered since" is read in (bot/services/broadcasts.py)."""
    return utcnow().astimezone(context.settings.tz).date()


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
        await query.answer(views.stale_button(_))
        await drop_keyboard(query.message)
        if state is not None:
            # The pressed message may have been the question itself (a forged version): ask it again, whole.
            await _ask(update.effective_chat.id, state, context)
        return
    action, arg = pressed.action, pressed.arg(1)
    await query.answer()
    chat_id = update.effective_chat.id
    if len(pressed.args) > 2:  # no composer button carries more than the version and one argument
        await context.bot.send_message(chat_id, views.choose_a_button(_))
        return
    if action == "cancel":
        await conversations.cancel(session=context.session, person=context.person)
        await drop_keyboard(query.message)
        await context.bot.send_message(chat_id, views.cancelled(_))
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
            return views.template_gone(_)
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
            return views.choose_a_button(_)
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
        return views.choose_a_button(_)
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
        await message.reply_text(views.organizers_only(_))
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
            if since > _today(context):
                # Nobody has registered since a day still to come: the broadcast would reach no one.
                raise ValueError(views.since_in_future(_today(context), _))
            state.data["segment"]["registered_since"] = since.isoformat()
            _move(state, "preview")
        elif state.step == "schedule":
            spec = catalog.ValueSpec(key="when", label="", type="datetime", example="20-01-2029 09.00")
            when = catalog.parse_value(spec, text, organizer_tz(context), gettext=_, locale=context.locale)
            assert isinstance(when, dt.datetime)
            await _create(update, context, state, scheduled_at=when)
            return True
        else:
            raise ValueError(views.choose_a_button(_))
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
        await context.bot.send_message(chat_id, views.template_gone(_))
        return False
    if info.version != state.data.get("template_version"):
        await context.bot.send_message(chat_id, views.template_changed(_))
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
            tz=organizer_tz(context),
        )
    except BroadcastError as exc:
        await context.session.rollback()
        await context.bot.send_message(chat_id, views.refusal(exc, context.settings, context.locale, _))
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
        text = views.scheduled(broadcast, scheduled_at, organizer_tz(context), context.settings, context.locale, _)
        await context.bot.send_message(chat_id, text)
    if context.bot_data.delivery is not None:
        context.bot_data.delivery.wake()
    return True
