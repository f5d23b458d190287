"""One broadcast message to one chat: the request, its retries, and Telegram's answer mapped to an outcome."""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import time
from typing import Any

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.delivery.pacing import Pacer
from bot.request import NotSent
from bot.services.deliveries import Outcome
from models import DeliveryStatus

PER_CHAT_GAP = 1.0  # Telegram: at most one message per second to one chat.
MAX_THROTTLED = 100  # 429 answers for one delivery before it is reported failed


class BroadcastBot(Bot):
    """A Bot that sends broadcast texts without building a Message object from each answer.

    Parsing the answer into python-telegram-bot objects costs about 200 µs a message, a fifth of the budget
    at 1,000 messages per second; only the message id is needed.
    """

    async def send_text(self, chat_id: int, text: str, *, paid: bool, reply_markup: object = None) -> int:
        data: dict[str, Any] = {
            "chat_id": chat_id,
            "text": text,
            "parse_mode": ParseMode.HTML.value,
            "link_preview_options": {"is_disabled": True},
        }
        if paid:
            data["allow_paid_broadcast"] = True
        if reply_markup is not None:
            data["reply_markup"] = reply_markup
        result = await self._post("sendMessage", data)
        return int(result["message_id"])


class ChatSpacing:
    """At most one message per PER_CHAT_GAP to one chat (a figure listed twice, a retry after a 429)."""

    def __init__(self) -> None:
        self._last_sent: dict[int, float] = {}

    async def wait(self, chat_id: int) -> None:
        now = time.monotonic()
        last = self._last_sent.get(chat_id)
        if last is not None and now - last < PER_CHAT_GAP:
            await asyncio.sleep(PER_CHAT_GAP - (now - last))
        self._last_sent[chat_id] = time.monotonic()
        if len(self._last_sent) > 10_000:
            horizon = time.monotonic() - PER_CHAT_GAP
            self._last_sent = {chat: at for chat, at in self._last_sent.items() if at > horizon}


async def send_one(
    sender: BroadcastBot,
    *,
    delivery_id: int,
    figure_id: int,
    chat_id: int,
    text: str,
    attempts: int,
    paid: bool,
    pacer: Pacer,
    spacing: ChatSpacing,
    max_attempts: int,
    reply_markup: object = None,
) -> Outcome:
    """Send TEXT to CHAT_ID, retrying only what provably did not reach Telegram or was refused with 429.

    ATTEMPTS counts this one; the pacer has already let the first request out. REPLY_MARKUP: the buttons under
    the message (commitments), if any.
    """
    backoff, throttled = 0.5, 0
    while True:
        await spacing.wait(chat_id)
        try:
            message_id = await sender.send_text(chat_id, text, paid=paid, reply_markup=reply_markup)
            return Outcome(delivery_id, DeliveryStatus.SENT, attempts, message_id=message_id)
        except RetryAfter as exc:
            # Refused, so not delivered: wait as told, then the same delivery again.
            pacer.hold(_seconds(exc.retry_after))
            throttled += 1
            if throttled > MAX_THROTTLED:
                return Outcome(delivery_id, DeliveryStatus.FAILED, attempts, error="too many requests")
            await pacer.take()
        except Forbidden as exc:
            status = DeliveryStatus.DEACTIVATED if "deactivated" in exc.message else DeliveryStatus.BLOCKED
            return Outcome(delivery_id, status, attempts, error=exc.message[:200], unreachable_figure=figure_id)
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                return Outcome(
                    delivery_id,
                    DeliveryStatus.CHAT_NOT_FOUND,
                    attempts,
                    error=exc.message[:200],
                    unreachable_figure=figure_id,
                )
            return Outcome(delivery_id, DeliveryStatus.FAILED, attempts, error=exc.message[:200])
        except NetworkError as exc:
            if not isinstance(exc, NotSent) or attempts >= max_attempts:
                # The request may have reached Telegram: do not send it again.
                status = DeliveryStatus.UNCERTAIN if not isinstance(exc, NotSent) else DeliveryStatus.FAILED
                return Outcome(delivery_id, status, attempts, error=exc.message[:200])
            attempts += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
            await pacer.take()
        except TelegramError as exc:
            return Outcome(delivery_id, DeliveryStatus.FAILED, attempts, error=exc.message[:200])


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class Refused(enum.Enum):
    """What a failed one-off message (a notice sent once per person) means for sending it again."""

    UNREACHABLE = "unreachable"  # blocked, deactivated, chat not found: not until they write to us again
    RETRY = "retry"  # it never reached Telegram, or Telegram asked us to wait: later
    MAYBE_SENT = "maybe_sent"  # the request may have arrived (a timeout, a dropped connection): never twice
    FAILED = "failed"  # refused for another reason, which sending again would not change


def refused(exc: TelegramError) -> Refused:
    if isinstance(exc, Forbidden) or (isinstance(exc, BadRequest) and "chat not found" in exc.message.lower()):
        return Refused.UNREACHABLE
    if isinstance(exc, RetryAfter | NotSent):
        return Refused.RETRY
    if isinstance(exc, NetworkError):
        return Refused.MAYBE_SENT
    return Refused.FAILED
