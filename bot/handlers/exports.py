"""/ekspor (alias /export): admins (and, where the settings allow, organizers for their own scope) choose what to
export with buttons, and get the file as a document. Role and scope are checked again at every press and at the
moment of exporting, from the database, never from what a button carries."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import time
from pathlib import Path

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError

from bot import export_file, scratch
from bot.catalog import ValueSpec
from bot.context import Context
from bot.handlers.access import drop_keyboard, guarded
from bot.services import conversations, exports, region_picker
from bot.services.export_draft import Draft, Screen
from bot.services.exports import Filters, Kind, Refusal, Viewer
from bot.services.region_picker import Picker
from bot.template_values import parse_value
from bot.views import exports as views
from bot.views.limits import MAX_TYPED_CODES
from models import AgeBracket, ConversationState, FigureCategory

FLOW = "export"
PATTERN = exports.EXPORT.pattern
# How often the "Preparing the file… 40.000 of 100.000" message is edited (Telegram allows about one edit a
# second per chat; every two keeps well clear of it).
PROGRESS_SECONDS = 2.0
# What Telegram lets a bot upload.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
_RANGE = re.compile(r"\s+(?:-|–|—|s\.?d\.?|sampai|hingga|to|until)\s+", re.IGNORECASE)
_DATE = ValueSpec(key="date", label="date", type="date", example="01-11-2026")
_TOGGLES = {
    Screen.CATEGORIES: ("categories", {value.value for value in FigureCategory}),
    Screen.AGES: ("age_brackets", {value.value for value in AgeBracket}),
    Screen.STATUSES: ("statuses", {value.value for value in exports.Status}),
}


def _viewer(context: Context) -> Viewer | Refusal:
    """Who the caller is now, for exporting: read from the database for this update (identify), never a button."""
    return exports.viewer_for(context.authority, context.settings)


def _draft(state: ConversationState) -> Draft:
    return Draft.from_dict(state.data.get("draft"))


def _picker(state: ConversationState, viewer: Viewer) -> Picker:
    data = state.data.get("picker")
    return Picker.from_dict(data) if data else region_picker.start(viewer.authority)


def _keep(state: ConversationState, draft: Draft, picker: Picker | None = None) -> None:
    """Store the draft and step the version on, so the buttons shown before this change are no longer valid."""
    state.data["draft"] = draft.to_dict()
    if picker is not None:
        state.data["picker"] = picker.to_dict()
    state.version += 1
    conversations.mark_changed(state)


def _screen(state: ConversationState, viewer: Viewer, context: Context) -> tuple[str, InlineKeyboardMarkup]:
    draft, _, locale = _draft(state), context._, context.locale
    if draft.screen is Screen.REGIONS:
        return views.regions_question(_picker(state, viewer), state.version, viewer, _, locale)
    if draft.screen is Screen.DATES:
        return views.dates(draft, state.version, _, locale)
    if draft.screen in _TOGGLES:
        return views.choices(draft, state.version, _)
    return views.menu(draft, state.version, viewer, _, locale)


@guarded()
async def export_command(update: Update, context: Context) -> None:
    """/ekspor: the menu of what to export, for those who may."""
    message = update.effective_message
    assert message is not None and context.person is not None and context.person.id is not None
    viewer = _viewer(context)
    if isinstance(viewer, Refusal):
        await message.reply_text(views.refusal(viewer, context._))
        return
    state = await conversations.start(
        session=context.session, person=context.person, flow=FLOW, step="menu", data={"draft": Draft().to_dict()}
    )
    text, markup = _screen(state, viewer, context)
    await message.reply_text(text, reply_markup=markup)


async def ask_again(chat_id: int, context: Context, state: ConversationState) -> None:
    """The export's current screen again (e.g. in the language just chosen with /bahasa), or the refusal when the
    caller may no longer export."""
    viewer = _viewer(context)
    if isinstance(viewer, Refusal):
        assert context.person is not None
        await conversations.cancel(session=context.session, person=context.person)
        await context.bot.send_message(chat_id, views.refusal(viewer, context._))
        return
    text, markup = _screen(state, viewer, context)
    await context.bot.send_message(chat_id, text, reply_markup=markup)


@guarded()
async def on_button(update: Update, context: Context) -> None:
    """A button of the export's menu or of one of its questions: valid only for the caller's current draft."""
    _ = context._
    query = update.callback_query
    assert query is not None and update.effective_chat is not None and context.person is not None
    viewer = _viewer(context)
    if isinstance(viewer, Refusal):
        # The role was taken away (or the setting changed) since the menu was shown.
        await conversations.cancel(session=context.session, person=context.person)
        await query.answer(views.refusal(viewer, _), show_alert=True)
        await drop_keyboard(query.message)
        return
    pressed = exports.EXPORT.parse(query.data)
    state = await context.conversation(FLOW)
    if state is None or pressed is None or pressed.arg(0) != str(state.version) or len(pressed.args) > 2:
        await query.answer(views.stale_button(_), show_alert=True)
        await drop_keyboard(query.message)
        return
    action, arg = pressed.action, pressed.arg(1)
    if action == "cancel":
        await query.answer()
        await conversations.cancel(session=context.session, person=context.person)
        await drop_keyboard(query.message)
        await context.bot.send_message(update.effective_chat.id, views.cancelled(_))
        return
    if action == "go":
        await query.answer()
        await drop_keyboard(query.message)
        await _export(update.effective_chat.id, state, viewer, context)
        return
    problem = _apply(state, action, arg, viewer, context)
    await query.answer(problem or None, show_alert=bool(problem))
    if problem is None and isinstance(query.message, Message):
        text, markup = _screen(state, viewer, context)
        with contextlib.suppress(TelegramError):
            await query.edit_message_text(text, reply_markup=markup)


def _apply(state: ConversationState, action: str, arg: str, viewer: Viewer, context: Context) -> str | None:
    """What a press changes in the draft; the refusal's text when it changes nothing."""
    draft = _draft(state)
    authority = viewer.authority
    picker: Picker | None = None
    if action == "kind" and arg in set(Kind):
        draft.kind = Kind(arg)
    elif action == "fmt" and arg in set(exports.Format):
        draft.fmt = exports.Format(arg)
    elif action == "open" and arg in set(Screen):
        draft.screen = Screen(arg)
        if draft.screen is Screen.REGIONS:
            picker = Picker(picked=list(draft.filters.regions), browse=region_picker.root(authority))
    elif action == "commit":
        cycle = {None: True, True: False, False: None}
        draft.filters.with_commitments = cycle[draft.filters.with_commitments]
    elif action == "back":
        if draft.screen is Screen.REGIONS:
            picker = _picker(state, viewer)
            problem = region_picker.still_allowed(picker, authority)
            if problem is not None:
                return views.region_problem(problem, viewer, context._, context.locale)
            draft.filters.regions = list(picker.picked)
        draft.screen = Screen.MENU
    elif action == "tog" and draft.screen in _TOGGLES:
        name, allowed = _TOGGLES[draft.screen]
        chosen: list[str] = getattr(draft.filters, name)
        if arg not in allowed:
            return views.choose_a_button(context._)
        setattr(draft.filters, name, [v for v in chosen if v != arg] if arg in chosen else [*chosen, arg])
    elif action in ("dall", "dlast") and draft.screen is Screen.DATES:
        today = dt.datetime.now(context.settings.tz).date()
        days = int(arg) if arg in ("7", "30") else 0
        draft.filters.registered_from = today - dt.timedelta(days=days - 1) if days else None
        draft.filters.registered_to = None
    elif action.startswith("r") and draft.screen is Screen.REGIONS:
        picker = _picker(state, viewer)
        problem = _region_press(picker, action, arg, viewer)
        if problem is not None:
            return views.region_problem(problem, viewer, context._, context.locale)
    else:
        return views.choose_a_button(context._)
    _keep(state, draft, picker)
    return None


def _region_press(picker: Picker, action: str, arg: str, viewer: Viewer) -> region_picker.Problem | None:
    """A region button, checked against the caller's scope here (region_picker), whatever the button said."""
    authority = viewer.authority
    if action == "ropen":
        return region_picker.open_region(picker, arg, authority)
    if action == "rpick":
        return region_picker.toggle(picker, arg, authority, limit=MAX_TYPED_CODES)
    if action == "rpage":
        region_picker.turn_page(picker, arg)
    elif action == "rup":
        region_picker.go_up(picker, authority)
    elif action == "rclear":
        picker.picked = []
    else:
        return region_picker.Problem(region_picker.Refusal.CHOOSE)
    return None


async def on_text(update: Update, context: Context) -> bool:
    """Typed regions or dates while an export is being put together; False when none is."""
    message = update.effective_message
    if message is None or message.text is None or context.person is None:
        return False
    state = await context.conversation(FLOW)
    if state is None:
        return False
    _ = context._
    viewer = _viewer(context)
    if isinstance(viewer, Refusal):
        await conversations.cancel(session=context.session, person=context.person)
        await message.reply_text(views.refusal(viewer, _))
        return True
    draft = _draft(state)
    problem: str | None = None
    picker: Picker | None = None
    if draft.screen is Screen.REGIONS:
        picker = _picker(state, viewer)
        found = region_picker.type_in(message.text, picker, viewer.authority, limit=MAX_TYPED_CODES)
        problem = views.region_problem(found, viewer, _, context.locale) if found is not None else None
    elif draft.screen is Screen.DATES:
        problem = _typed_dates(draft.filters, message.text, context)
    else:
        problem = views.choose_a_button(_, typed=True)
    if problem is not None:
        await message.reply_text(problem)
        return True
    _keep(state, draft, picker)
    text, markup = _screen(state, viewer, context)
    await message.reply_text(text, reply_markup=markup)
    return True


def _typed_dates(filters: Filters, text: str, context: Context) -> str | None:
    """ "01-11-2026 - 30-11-2026" (a range) or "01-11-2026" (since then) into FILTERS; the problem otherwise."""
    parts = _RANGE.split(text.strip(), maxsplit=1)
    try:
        tz, _, locale = context.settings.tz, context._, context.locale
        days = [parse_value(_DATE, part, tz, gettext=_, locale=locale) for part in parts]
    except ValueError as exc:
        return str(exc)
    start = days[0]
    end = days[1] if len(days) > 1 else None
    assert isinstance(start, dt.date) and (end is None or isinstance(end, dt.date))
    if end is not None and end < start:
        return views.dates_reversed(context._)
    filters.registered_from, filters.registered_to = start, end
    return None


async def _export(chat_id: int, state: ConversationState, viewer: Viewer, context: Context) -> None:
    """Write the file off the event loop, telling how far it is, send it as a document and delete it."""
    _, locale, settings = context._, context.locale, context.settings
    assert context.person is not None
    draft = _draft(state)
    outside = exports.outside_scope(draft.filters, viewer)
    if outside:
        # The organizer's regions changed since they were chosen (the SQL keeps to the scope anyway: say so).
        problem = region_picker.Problem(region_picker.Refusal.OUTSIDE, region_picker.label(outside[0]))
        await context.bot.send_message(chat_id, views.region_problem(problem, viewer, _, locale))
        text, markup = _screen(state, viewer, context)
        await context.bot.send_message(chat_id, text, reply_markup=markup)
        return
    # The draft is used up: a second press of "Make the file" finds nothing to make.
    await conversations.cancel(session=context.session, person=context.person)
    total = await exports.count(
        session=context.session, kind=draft.kind, filters=draft.filters, viewer=viewer, tz=settings.tz
    )
    if total == 0:
        await context.bot.send_message(chat_id, views.nothing_found(_))
        return
    status = await context.bot.send_message(chat_id, views.preparing(0, total, _, locale))
    last_edit = time.monotonic()

    async def progress(done: int) -> None:
        nonlocal last_edit
        if done < total and time.monotonic() - last_edit >= PROGRESS_SECONDS:
            last_edit = time.monotonic()
            with contextlib.suppress(TelegramError):
                await status.edit_text(views.preparing(done, total, _, locale))

    # In a private folder that goes when the export ends, sent or not (and after a crash, at the next start).
    with scratch.folder() as folder:
        await _make_and_send(chat_id, draft, viewer, context, status, progress, folder / f"export.{draft.fmt.value}")


async def _make_and_send(
    chat_id: int,
    draft: Draft,
    viewer: Viewer,
    context: Context,
    status: Message,
    progress: export_file.Progress,
    path: Path,
) -> None:
    """Write the export to PATH, send it as a document and audit it."""
    settings, _, locale = context.settings, context._, context.locale
    assert context.person is not None
    rows = await export_file.write(
        session=context.session, kind=draft.kind, fmt=draft.fmt, filters=draft.filters, viewer=viewer,
        settings=settings, locale=locale, target=path, progress=progress, offload=True,
    )  # fmt: skip
    content = await asyncio.to_thread(path.read_bytes)
    if len(content) > MAX_UPLOAD_BYTES:
        await status.edit_text(views.too_large(_))
        return
    today = dt.datetime.now(settings.tz).date()
    filename = exports.file_name(draft.kind, draft.fmt, draft.filters, viewer, today)
    await context.bot.send_document(
        chat_id, document=content, filename=filename, caption=views.ready(rows, draft, viewer, _, locale)
    )
    await exports.record(
        session=context.session, kind=draft.kind, fmt=draft.fmt, filters=draft.filters, viewer=viewer,
        rows=rows, source="chat", actor_person_id=context.person.id,
    )  # fmt: skip
    with contextlib.suppress(TelegramError):
        await status.edit_text(views.preparing(rows, rows, _, locale))
