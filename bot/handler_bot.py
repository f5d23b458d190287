"""The handlers' Bot: one unit of work per update around every request, and Telegram's limits kept for them."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import JSONDict, ODVInput
from telegram.ext import ExtBot

from bot.context import commit_before_network_call, pressed_in_chat

# Telegram's limit for the text of an answer to a button press (an alert or a toast), in UTF-16 code units.
CALLBACK_ANSWER_LIMIT = 200


class UnitOfWorkBot(ExtBot[Any]):
    """The handlers' Bot: before any request goes out, the update's database work is committed, so that no
    transaction stays open while Telegram answers (see commit_before_network_call)."""

    async def _do_post(
        self,
        endpoint: str,
        data: JSONDict,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> bool | JSONDict | list[JSONDict]:
        if endpoint != "getUpdates":
            await commit_before_network_call()
        return await super()._do_post(
            endpoint,
            data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )

    async def answer_callback_query(
        self, callback_query_id: str, text: str | None = None, *args: Any, **kwargs: Any
    ) -> bool:
        """Telegram refuses an alert or toast over 200 characters (Message_too_long), and the person would hear
        nothing: a longer answer (a refusal that says what to do next, in Indonesian) is sent as a message to the
        chat the button was pressed in, and the press is answered without text."""
        chat_id = pressed_in_chat.get()
        if text is not None and len(text.encode("utf-16-le")) // 2 > CALLBACK_ANSWER_LIMIT and chat_id is not None:
            kwargs.pop("show_alert", None)
            answered = await super().answer_callback_query(callback_query_id, None, *args, **kwargs)
            await self.send_message(chat_id, text, parse_mode=None)  # an alert is plain text, never HTML
            return answered
        return await super().answer_callback_query(callback_query_id, text, *args, **kwargs)

    async def edit_buttons(self, chat_id: int, message_id: int, reply_markup: InlineKeyboardMarkup | None) -> None:
        """editMessageReplyMarkup, without building a Message from Telegram's answer: it is the whole edited
        message, which nothing reads, and a thousand taps at once would build a thousand of them.

        It posts through python-telegram-bot's own request path (defaults, rate limiter, the commit above), as
        edit_message_reply_markup does, but for one step: with arbitrary callback data (off here) that method
        also swaps the buttons' data for cache keys, so then it is used as it is."""
        if self.callback_data_cache is not None:
            await self.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=reply_markup)
            return
        await self._post(
            "editMessageReplyMarkup", {"chat_id": chat_id, "message_id": message_id, "reply_markup": reply_markup}
        )
