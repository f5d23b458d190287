"""/audit: admins read the audit log, newest first, paged and filtered by a group of actions with buttons."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError

from bot.context import Context
from bot.handlers.access import guarded
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
    """/audit: the latest entries of every kind."""
    message = update.effective_message
    assert message is not None
    text, markup = await _page(context, audit_trail.ALL, 0)
    await message.reply_text(text, reply_markup=markup)


@guarded(Role.ADMIN)
async def on_button(update: Update, context: Context) -> None:
    """A filter or paging button under /audit; the role is checked again (guarded), never taken from the button."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    pressed = views.AUDIT.parse(query.data)
    group, number = (pressed.arg(0), pressed.arg(1)) if pressed else ("", "")
    valid_group = group == audit_trail.ALL or group in audit_trail.GROUPS
    if pressed is None or pressed.action != "page" or len(pressed.args) != 2 or not valid_group or not number.isdigit():
        await query.answer(views.stale_button(context._), show_alert=True)
        return
    await query.answer()
    text, markup = await _page(context, group, int(number))
    message = query.message
    if isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return  # the same page pressed again: it is on screen already
        except TelegramError:
            pass  # too old to edit: sent anew below
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)
