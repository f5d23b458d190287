"""The one guard every handler goes through: the caller's role, checked on the server for every update."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError

from bot.context import Context
from bot.views import common as views
from models import Role

R = TypeVar("R")

Callback = Callable[[Update, Context], Coroutine[Any, Any, R]]


async def refuse(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Say no: as an alert on a button press, as a reply otherwise."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text, reply_markup=markup)


async def drop_keyboard(message: object) -> None:
    """Remove the buttons under an answered or stale message; it may be too old or already bare, which is fine."""
    if isinstance(message, Message):
        with contextlib.suppress(TelegramError):
            await message.edit_reply_markup(reply_markup=None)


async def show_in_place(
    message: object, chat_id: int, context: Context, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Show a page of a paged list (/balasan, /audit) in place of the bot's MESSAGE its button was under; one too
    old to edit gets the page as a new message, and a page already on screen is left as it is."""
    if isinstance(message, Message) and message.from_user is not None and message.from_user.is_bot:
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except TelegramError as exc:
            # The same page pressed again is on screen already; a message too old to edit gets it anew below.
            if isinstance(exc, BadRequest) and "not modified" in exc.message.lower():
                return
    await context.bot.send_message(chat_id, text, reply_markup=markup)


def private_chat_button(context: Context) -> InlineKeyboardMarkup:
    return views.private_chat_button(context.bot.username, context._)


def guarded(role: Role = Role.FIGURE, *, private: bool = True) -> Callable[[Callback[R]], Callback[R | None]]:
    """Run the handler only for callers with at least ROLE, and (when PRIVATE) only in a private chat."""

    def decorate(callback: Callback[R]) -> Callback[R | None]:
        @functools.wraps(callback)
        async def wrapper(update: Update, context: Context, *args: Any) -> R | None:
            _ = context._
            chat = update.effective_chat
            if private and chat is not None and chat.type != ChatType.PRIVATE:
                # Nothing personal is ever shown in a group: point to the private chat instead.
                await refuse(update, views.private_only(_), private_chat_button(context))
                return None
            if not context.authority.at_least(role):
                await refuse(update, views.admins_only(_) if role is Role.ADMIN else views.organizers_only(_))
                return None
            return await callback(update, context, *args)

        return wrapper

    return decorate
