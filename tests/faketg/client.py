"""Async client for the control interface of a FakeBotApiServer running in another process."""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Any, Literal, Self

import aiohttp

JSON = dict[str, Any]


class ControlError(RuntimeError):
    """The control interface rejected a request."""


class ControlClient:
    """Drives fake users and inspects state through `/control/`; method names mirror FakeTelegram."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the underlying HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(self, method: str, path: str, *, body: JSON | None = None, query: JSON | None = None) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.request(method, f"{self.base}/control/{path}", json=body, params=query) as resp:
            data = await resp.json()
            if resp.status != 200:
                raise ControlError(f"{method} /control/{path}: {resp.status} {data}")
            return data

    async def _act(self, action: str, **body: Any) -> JSON:
        result: JSON = await self._request("POST", action, body={k: v for k, v in body.items() if v is not None})
        return result

    # ----------------------------------------------------------------- acting as users

    async def user(
        self,
        user_id: int,
        first_name: str = "Budi",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "id",
    ) -> JSON:
        """Create a user (see FakeTelegram.user)."""
        return await self._act(
            "users",
            user_id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )

    async def group(self, chat_id: int, title: str = "Grup Relawan") -> JSON:
        """Create a group."""
        return await self._act("groups", chat_id=chat_id, title=title)

    async def send_text(
        self, user_id: int, text: str, *, chat_id: int | None = None, reply_to_message_id: int | None = None
    ) -> JSON:
        """The user sends a text message."""
        return await self._act(
            "text", user_id=user_id, text=text, chat_id=chat_id, reply_to_message_id=reply_to_message_id
        )

    async def send_command(self, user_id: int, command: str, args: str = "") -> JSON:
        """The user sends a /command."""
        return await self._act("command", user_id=user_id, command=command, args=args)

    async def share_contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        contact_user_id: int | Literal["sender"] | None = "sender",
        first_name: str | None = None,
    ) -> JSON:
        """The user shares a contact: their own by default, contact_user_id=None for a non-Telegram one."""
        body: JSON = {"user_id": user_id, "phone_number": phone_number, "contact_user_id": contact_user_id}
        if first_name is not None:
            body["first_name"] = first_name
        result: JSON = await self._request("POST", "contact", body=body)
        return result

    async def forward_from(self, user_id: int, original_sender_id: int, text: str, *, hidden: bool = False) -> JSON:
        """The user forwards another user's text."""
        return await self._act(
            "forward", user_id=user_id, original_sender_id=original_sender_id, text=text, hidden=hidden
        )

    async def reply_to(self, user_id: int, message_id: int, text: str) -> JSON:
        """The user replies to a message."""
        return await self._act("reply", user_id=user_id, message_id=message_id, text=text)

    async def edit_user_message(self, user_id: int, message_id: int, new_text: str) -> JSON:
        """The user edits their message."""
        return await self._act("edit", user_id=user_id, message_id=message_id, new_text=new_text)

    async def press_button(
        self, user_id: int, message_id: int, callback_data: str, *, chat_id: int | None = None
    ) -> JSON:
        """The user presses a button with that callback data (not checked to exist)."""
        return await self._act(
            "press", user_id=user_id, message_id=message_id, callback_data=callback_data, chat_id=chat_id
        )

    async def press(self, user_id: int, message_id: int, button_text: str, *, chat_id: int | None = None) -> JSON:
        """The user presses the callback button labelled `button_text`."""
        return await self._act(
            "press", user_id=user_id, message_id=message_id, button_text=button_text, chat_id=chat_id
        )

    async def send_sticker(self, user_id: int) -> JSON:
        """The user sends a sticker."""
        return await self._act("sticker", user_id=user_id)

    async def send_photo(self, user_id: int, caption: str | None = None) -> JSON:
        """The user sends a photo."""
        return await self._act("photo", user_id=user_id, caption=caption)

    async def send_voice(self, user_id: int) -> JSON:
        """The user sends a voice note."""
        return await self._act("voice", user_id=user_id)

    async def block(self, user_id: int) -> JSON:
        """The user blocks the bot."""
        return await self._act("block", user_id=user_id)

    async def unblock(self, user_id: int) -> JSON:
        """The user unblocks the bot."""
        return await self._act("unblock", user_id=user_id)

    async def deactivate(self, user_id: int) -> JSON:
        """The user deletes their account."""
        return await self._act("deactivate", user_id=user_id)

    # ----------------------------------------------------------------- configuration and inspection

    async def configure(self, **changes: Any) -> JSON:
        """Change rate_limit, per_chat_rate_limit, paid_rate_limit, latency or latency_for."""
        result: JSON = await self._request("POST", "configure", body=changes)
        return result

    async def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> JSON:
        """Answer the next matching calls with an error."""
        return await self._act(
            "fail",
            method=method,
            error_code=error_code,
            description=description,
            retry_after=retry_after,
            times=times,
            chat_id=chat_id,
        )

    async def reset(self) -> JSON:
        """Forget all state."""
        result: JSON = await self._request("POST", "reset")
        return result

    async def messages(self, chat_id: int, *, at_least: int = 0, timeout: float = 30.0) -> list[JSON]:  # noqa: ASYNC109
        """Bot messages in a chat (see server.message_json for the fields); with AT_LEAST, the server answers
        once there are that many (or after TIMEOUT seconds), so waiting costs one request, not a polling loop."""
        query = {"count": str(at_least), "timeout": str(timeout)} if at_least else None
        result: list[JSON] = await self._request("GET", f"chats/{chat_id}/messages", query=query)
        return result

    async def sent_texts(self, chat_id: int) -> list[str]:
        """Plain text (or caption) of each bot message in the chat."""
        return [m["text"] if m["text"] is not None else m["caption"] or "" for m in await self.messages(chat_id)]

    async def requests(self, method: str | None = None) -> list[JSON]:
        """Recorded Bot API requests, optionally of one method."""
        result: list[JSON] = await self._request("GET", "requests", query={"method": method} if method else None)
        return result

    async def calls(self, method: str) -> list[JSON]:
        """Params of the recorded calls to one method."""
        return [r["params"] for r in await self.requests(method)]

    async def commands(self) -> list[JSON]:
        """Commands stored by setMyCommands: [{scope, language_code, commands}]."""
        result: list[JSON] = await self._request("GET", "commands")
        return result

    async def callback_answers(self) -> list[JSON]:
        """Parameters of answered callback queries."""
        result: list[JSON] = await self._request("GET", "callback_answers")
        return result

    async def pending_updates(self) -> list[JSON]:
        """Updates the bot has not confirmed yet."""
        result: list[JSON] = await self._request("GET", "updates")
        return result

    async def webhook_deliveries(self) -> list[JSON]:
        """Webhook POST attempts: [{update_id, status, error, time}]."""
        result: list[JSON] = await self._request("GET", "webhook_deliveries")
        return result

    async def stats(self) -> JSON:
        """Request counts per method, 429s answered, pending updates, highest confirmed update id."""
        result: JSON = await self._request("GET", "stats")
        return result

    async def wait_for_message(
        self,
        chat_id: int,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[JSON]:
        """Poll until the chat has at least `count` bot messages and return them."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                messages = await self.messages(chat_id)
            except ControlError:
                messages = []
            if len(messages) >= count:
                return messages
            if time.monotonic() > deadline:
                raise TimeoutError(f"chat {chat_id}: expected {count} bot messages, got {len(messages)}")
            await asyncio.sleep(0.02)
