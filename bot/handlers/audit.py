"""/audit: admins read the audit log, newest first, paged and filtered by a group of actions with buttons."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.context import Context
from bot.handlers.access import guarded, show_in_place
from bot.services import audit_trail
from bot.views import audit as views
from models import Role

PATTERN = views.AUDIT.pattern


async def _page(context: Context, group: str, number: int) -> tuple[str, InlineKeyboardMarkup]:
    found = await audit_trail.page(
        session=context.session,
        group=group,
        number=number,
        bootstrap_admins=context.settings.roles.bootstrap_admins,
    )
    return views.page_view(found, context.settings.tz, context.locale, context._)


@guarded(Role.ADMIN)
async def audit_command(update: Update, context: Context) -> None:
    """/audit: the latest entries of every kind; /audit <filter> (a filter button's name): of that kind."""
    message = update.effective_message
    assert message is not None
    group = audit_trail.ALL
    if context.args:
        typed = " ".join(context.args)
        named = views.typed_group(typed, context._)
        if named is None:
            await message.reply_text(views.unknown_filter(typed, context._))
            return
        group = named
    text, markup = await _page(context, group, 0)
    await message.reply_text(text, reply_markup=markup)


@guarded(Role.ADMIN)
async def on_button(update: Update, context: Context) -> None:
    """A filter or paging button under /audit; the role is checked again (guarded), never taken from the button."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    pressed = views.AUDIT.parse(query.data)
    group = pressed.arg(0) if pressed else ""
    number = pressed.int_arg(1, minimum=0) if pressed else None
    valid_group = group == audit_trail.ALL or group in audit_trail.GROUPS
    if pressed is None or pressed.action != "page" or len(pressed.args) != 2 or not valid_group or number is None:
        await query.answer(views.stale_button(context._), show_alert=True)
        return
    await query.answer()
    text, markup = await _page(context, group, number)
    await show_in_place(query.message, update.effective_chat.id, context, text, markup)
