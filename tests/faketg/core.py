"""In-memory fake of the Telegram Bot API: state, user actions and Bot API method implementations."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .htmlparse import HtmlParseError, parse_html, utf16_len

JSON = dict[str, Any]
Files = dict[str, tuple[str, bytes]]
Handler = Callable[["FakeTelegram", JSON, Files], Awaitable[Any]]

DEFAULT_TOKEN = "123456:TEST-fake-token-abcdefghijklmnopqrstuv"
TOKEN_RE = re.compile(r"^(\d+):[A-Za-z0-9_-]{30,}$")
MAX_TEXT = 4096
MAX_CAPTION = 1024
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
_INT_PARAMS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "reply_to_message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "cache_time",
        "max_connections",
        "message_thread_id",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "allow_paid_broadcast",
        "show_alert",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "disable_content_type_detection",
        "has_spoiler",
        "show_caption_above_media",
        "remove_caption",
    }
)
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "link_preview_options",
        "commands",
        "scope",
        "allowed_updates",
        "entities",
        "caption_entities",
    }
)
_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
    "web_app",
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_RATE_LIMITED = frozenset({"sendmessage", "senddocument", "sendphoto", "copymessage", "forwardmessage"})
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

_METHODS: dict[str, tuple[str, Handler]] = {}


def api_method(name: str) -> Callable[[Handler], Handler]:
    """Register a Bot API method implementation under its (case-insensitive) name."""

    def register(handler: Handler) -> Handler:
        _METHODS[name.lower()] = (name, handler)
        return handler

    return register


class BotApiError(Exception):
    """A Bot API error answer; raise it from a method implementation."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSON:
        """Telegram-shaped error body."""
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> BotApiError:
    """A 400 error with Telegram's `Bad Request: ` prefix."""
    return BotApiError(400, f"Bad Request: {reason}")


@dataclass
class FakeUser:
    """A Telegram user who talks to the bot."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    blocked: bool = False
    deactivated: bool = False

    def to_dict(self) -> JSON:
        """Telegram `User` object."""
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    @property
    def full_name(self) -> str:
        """First and last name joined."""
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@dataclass
class FakeFile:
    """A file known to the fake (uploaded by the bot or sent by a user)."""

    file_id: str
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"

    @property
    def file_unique_id(self) -> str:
        """Short unique id derived from the file id."""
        return "U" + self.file_id[-10:]

    def document(self) -> JSON:
        """Telegram `Document` object."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.filename,
            "mime_type": self.mime_type,
            "file_size": len(self.content),
        }

    def photo(self) -> list[JSON]:
        """Telegram list of `PhotoSize` objects."""
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": 320,
                "height": 320,
                "file_size": len(self.content),
            }
        ]


@dataclass(eq=False)
class FakeMessage:
    """A message in a chat, sent by the bot or by a user."""

    message_id: int
    chat: FakeChat
    sender: JSON
    from_bot: bool
    date: int
    text: str | None = None
    html: str | None = None
    parse_mode: str | None = None
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    reply_markup: JSON | None = None
    document: FakeFile | None = None
    photo: FakeFile | None = None
    reply_to: FakeMessage | None = None
    extra: JSON = field(default_factory=dict)
    edit_date: int | None = None
    edits: list[JSON] = field(default_factory=list)
    deleted: bool = False

    @property
    def chat_id(self) -> int:
        """Id of the chat the message is in."""
        return self.chat.id

    @property
    def shown(self) -> str:
        """What the reader sees: the plain text, or the caption of a file, or ''."""
        return self.text if self.text is not None else self.caption or ""

    @property
    def inline_markup(self) -> JSON | None:
        """The inline keyboard, the only markup Telegram reports back on messages."""
        return self.reply_markup if self.reply_markup and "inline_keyboard" in self.reply_markup else None

    def buttons(self) -> list[JSON]:
        """All inline keyboard buttons, row by row."""
        return [button for row in (self.inline_markup or {}).get("inline_keyboard", []) for button in row]

    def snapshot(self) -> JSON:
        """The editable content, kept in `edits` before each edit."""
        return {
            "text": self.text,
            "html": self.html,
            "caption": self.caption,
            "entities": self.entities,
            "reply_markup": self.reply_markup,
            "edit_date": self.edit_date,
        }

    def to_dict(self, *, with_reply: bool = True) -> JSON:
        """Telegram `Message` object."""
        data: JSON = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": self.chat.to_dict(),
            "from": self.sender,
        }
        text_key, entities_key = ("text", "entities") if self.text is not None else ("caption", "caption_entities")
        if self.text is not None or self.caption is not None:
            data[text_key] = self.text if self.text is not None else self.caption
            if self.entities:
                data[entities_key] = self.entities
        if self.document:
            data["document"] = self.document.document()
        if self.photo:
            data["photo"] = self.photo.photo()
        if self.inline_markup:
            data["reply_markup"] = self.inline_markup
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.reply_to is not None and with_reply:
            data["reply_to_message"] = self.reply_to.to_dict(with_reply=False)
        data.update(self.extra)
        return data


@dataclass(eq=False)
class FakeChat:
    """A private chat with a user or a group the bot is in."""

    id: int
    type: str
    user: FakeUser | None = None
    title: str | None = None
    history: list[FakeMessage] = field(default_factory=list)

    @property
    def messages(self) -> list[FakeMessage]:
        """Messages the bot sent to this chat, including deleted ones."""
        return [m for m in self.history if m.from_bot]

    def next_message_id(self) -> int:
        """Id for the next message appended to `history` (ids are shared by user and bot messages)."""
        return len(self.history) + 1

    def find(self, message_id: int) -> FakeMessage | None:
        """Message with that id, deleted or not."""
        return self.history[message_id - 1] if 0 < message_id <= len(self.history) else None

    def to_dict(self) -> JSON:
        """Telegram `Chat` object."""
        if self.user is None:
            return {"id": self.id, "type": self.type, "title": self.title}
        data: JSON = {"id": self.id, "type": "private", "first_name": self.user.first_name}
        for key in ("last_name", "username"):
            if getattr(self.user, key) is not None:
                data[key] = getattr(self.user, key)
        return data


def most_in_any_second(times: list[float]) -> int:
    """The most of TIMES (sorted) in any window (t - 1 s, t], as Telegram's limiter counts."""
    most, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


@dataclass
class RecordedRequest:
    """One Bot API call as received, with its answer status (None while in flight)."""

    method: str
    params: JSON
    time: float
    status: int | None = None


@dataclass
class FaultRule:
    """An injected error answered to the next matching calls."""

    method: str
    error_code: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | str | None


@dataclass
class Config:
    """Runtime knobs: rate limits (requests per second, None = off) and artificial latency."""

    rate_limit: int | None = None
    per_chat_rate_limit: int | None = None
    paid_rate_limit: int | None = 1000
    latency: float = 0.0
    latency_for: dict[str, float] = field(default_factory=dict)
    # Benchmarks: a positive chat id nobody created is a user who has started the bot (no setup calls needed).
    auto_users: bool = False


@dataclass
class Stats:
    """Counters about answered requests."""

    too_many_requests: int = 0
    by_method: Counter[str] = field(default_factory=Counter)


@dataclass
class Webhook:
    """The webhook registered with setWebhook."""

    url: str
    secret_token: str | None
    allowed_updates: list[str]
    max_connections: int


@dataclass
class WebhookDelivery:
    """Outcome of one attempt to POST an update to the webhook."""

    update_id: int
    status: int | None
    error: str | None
    time: float


class FakeTelegram:
    """The whole fake Telegram: chats, users, updates and the Bot API dispatcher (no I/O)."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_id: int | None = None,
        bot_username: str = "rangkul_test_bot",
        bot_first_name: str = "Rangkul",
    ) -> None:
        match = TOKEN_RE.match(token)
        if not match:
            raise ValueError(f"malformed bot token: {token!r}")
        self.token = token
        self.bot_id = int(match.group(1)) if bot_id is None else bot_id
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self._waiters: list[asyncio.Future[None]] = []
        self._poll_generation = 0
        self.reset()

    def reset(self) -> None:
        """Forget all state and configuration, as if freshly constructed."""
        self.config = Config()
        self.stats = Stats()
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.files: dict[str, FakeFile] = {}
        self.requests: list[RecordedRequest] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.callback_answers: list[JSON] = []
        self.webhook: Webhook | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.allowed_updates: list[str] = []
        self.highest_confirmed_update_id = 0
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._open_callbacks: set[str] = set()
        self._faults: list[FaultRule] = []
        self._windows: dict[Any, deque[float]] = {}
        self._notify()

    # ----------------------------------------------------------------- configuration

    def configure(self, **changes: Any) -> Config:
        """Change rate limits / latency (see `Config`); unknown names raise TypeError."""
        self.config = replace(self.config, **changes)
        return self.config

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (optionally only for `chat_id`) with an error."""
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            default = _DEFAULT_DESCRIPTIONS.get(error_code, "Error")
            description = f"Too Many Requests: retry after {retry_after}" if error_code == 429 else default
        self._faults.append(FaultRule(method.lower(), error_code, description, retry_after, times, chat_id))

    # ----------------------------------------------------------------- inspection

    @property
    def bot_user(self) -> JSON:
        """The bot's Telegram `User` object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def calls(self, method: str) -> list[JSON]:
        """Params of every recorded call to `method` (case-insensitive)."""
        return [r.params for r in self.requests if r.method.lower() == method.lower()]

    def chat(self, chat_id: int) -> FakeChat:
        """A known chat; KeyError if the chat does not exist."""
        return self.chats[chat_id]

    def last_message(self, chat_id: int) -> FakeMessage | None:
        """The latest message the bot sent to the chat."""
        messages = self.chat(chat_id).messages
        return messages[-1] if messages else None

    def sent_texts(self, chat_id: int) -> list[str]:
        """Plain text (or caption) of every bot message sent to the chat."""
        return [m.text if m.text is not None else m.caption or "" for m in self.chat(chat_id).messages]

    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed through getUpdates offset (or delivered to the webhook)."""
        return list(self._updates)

    def confirm_updates(self, offset: int) -> None:
        """Forget every update whose id is lower than `offset`."""
        confirmed = [u["update_id"] for u in self._updates if u["update_id"] < offset]
        if confirmed:
            self.highest_confirmed_update_id = max(self.highest_confirmed_update_id, *confirmed)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def _drop_pending(self) -> None:
        if self._updates:
            self.confirm_updates(self._updates[-1]["update_id"] + 1)

    def download(self, token: str, file_path: str) -> bytes | None:
        """Content of a file by the `file_path` getFile returned, or None if unknown."""
        parts = file_path.split("/")
        file = self.files.get(parts[1]) if token == self.token and len(parts) > 1 else None
        return file.content if file else None

    def note_webhook_delivery(self, update_id: int, status: int | None, error: str | None) -> None:
        """Record the outcome of a webhook POST (called by the HTTP server)."""
        self.webhook_deliveries.append(WebhookDelivery(update_id, status, error, time.time()))

    async def wait_for_change(self, max_wait: float) -> None:
        """Sleep until the update queue or webhook changes, or `max_wait` seconds pass."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait([waiter], timeout=max_wait)
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Poll `predicate` every 10 ms until it is true; TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            await asyncio.sleep(0.01)

    async def wait_for_message(
        self,
        chat_id: int,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[FakeMessage]:
        """Wait until the bot sent at least `count` messages to the chat and return them all."""
        try:
            await self.wait_for(lambda: chat_id in self.chats and len(self.chats[chat_id].messages) >= count, timeout)
        except TimeoutError:
            got = self.sent_texts(chat_id) if chat_id in self.chats else []
            raise TimeoutError(f"chat {chat_id}: expected {count} bot messages, got {got!r}") from None
        return self.chats[chat_id].messages

    # ----------------------------------------------------------------- acting as users

    def user(
        self,
        user_id: int,
        first_name: str = "Budi",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "id",
    ) -> FakeUser:
        """Create (or return the existing) user who has started a private chat with the bot."""
        if user_id not in self.users:
            user = FakeUser(user_id, first_name, last_name, username, language_code)
            self.users[user_id] = user
            self.chats[user_id] = FakeChat(user_id, "private", user=user)
        return self.users[user_id]

    def group(self, chat_id: int, title: str = "Grup Relawan") -> FakeChat:
        """Create (or return the existing) group the bot is a member of."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if chat_id not in self.chats:
            kind = "supergroup" if chat_id < -1_000_000_000_000 else "group"
            self.chats[chat_id] = FakeChat(chat_id, kind, title=title)
        return self.chats[chat_id]

    def send_text(
        self, user_id: int, text: str, *, chat_id: int | None = None, reply_to_message_id: int | None = None
    ) -> JSON:
        """The user sends a text message (a leading /command gets a bot_command entity)."""
        command = _COMMAND_RE.match(text)
        entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}] if command else []
        return self._user_message(
            user_id, chat_id, {}, text=text, entities=entities, reply_to_message_id=reply_to_message_id
        )

    def send_command(self, user_id: int, command: str, args: str = "") -> JSON:
        """The user sends `/command args` in the private chat."""
        text = "/" + command.lstrip("/")
        return self.send_text(user_id, f"{text} {args}" if args else text)

    def share_contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        contact_user_id: int | Literal["sender"] | None = "sender",
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> JSON:
        """The user shares a contact; by default their own (contact.user_id == user_id)."""
        user = self.user(user_id)
        contact: JSON = {"phone_number": phone_number, "first_name": first_name or user.first_name}
        if last_name is not None:
            contact["last_name"] = last_name
        owner = user_id if contact_user_id == "sender" else contact_user_id
        if owner is not None:
            contact["user_id"] = owner
        return self._user_message(user_id, None, {"contact": contact})

    def forward_from(
        self,
        user_id: int,
        original_sender_id: int,
        text: str,
        *,
        hidden: bool = False,
        sender_name: str = "Siti Rahayu",
    ) -> JSON:
        """The user forwards into the private chat a text written by another (possibly unknown) user."""
        original = self.users.get(original_sender_id) or FakeUser(original_sender_id, sender_name)
        origin: JSON = {"type": "hidden_user", "date": _now(), "sender_user_name": original.full_name}
        if not hidden:
            origin = {"type": "user", "date": origin["date"], "sender_user": original.to_dict()}
        return self._user_message(user_id, None, {"forward_origin": origin}, text=text)

    def reply_to(self, user_id: int, message_id: int, text: str) -> JSON:
        """The user replies in the private chat to an existing message."""
        return self.send_text(user_id, text, reply_to_message_id=message_id)

    def send_sticker(self, user_id: int, emoji: str = "👍") -> JSON:
        """The user sends a sticker."""
        file = self._new_file("sticker.webp", b"RIFF-fake-webp", "image/webp")
        sticker = {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "emoji": emoji,
        }
        return self._user_message(user_id, None, {"sticker": sticker})

    def send_photo(self, user_id: int, caption: str | None = None, content: bytes = b"\xff\xd8fake-jpeg") -> JSON:
        """The user sends a photo."""
        return self._user_message(
            user_id, None, {}, caption=caption, photo=self._new_file("photo.jpg", content, "image/jpeg")
        )

    def send_voice(self, user_id: int, duration: int = 3) -> JSON:
        """The user sends a voice note."""
        file = self._new_file("voice.ogg", b"OggS-fake-voice", "audio/ogg")
        voice = {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "duration": duration,
            "mime_type": file.mime_type,
            "file_size": len(file.content),
        }
        return self._user_message(user_id, None, {"voice": voice})

    def send_document_from_user(
        self,
        user_id: int,
        filename: str = "data.csv",
        content: bytes = b"a,b\n1,2\n",
        caption: str | None = None,
    ) -> JSON:
        """The user sends a document."""
        return self._user_message(user_id, None, {}, caption=caption, document=self._new_file(filename, content))

    def edit_user_message(self, user_id: int, message_id: int, new_text: str) -> JSON:
        """The user edits one of their text messages (an `edited_message` update)."""
        message = self.chat(user_id).find(message_id)
        if message is None or message.from_bot:
            raise LookupError(f"user {user_id} has no message {message_id}")
        message.edits.append(message.snapshot())
        message.text, message.edit_date = new_text, _now()
        return self._push_update("edited_message", message.to_dict())

    def press_button(self, user_id: int, message_id: int, callback_data: str, *, chat_id: int | None = None) -> JSON:
        """The user presses an inline button carrying `callback_data` (the button is not checked)."""
        user = self.user(user_id)
        chat = self.chat(user_id if chat_id is None else chat_id)
        message = chat.find(message_id)
        if message is None:
            raise LookupError(f"chat {chat.id} has no message {message_id}")
        query_id = f"{self.bot_id}{next(self._callback_ids):08d}"
        self._open_callbacks.add(query_id)
        query = {
            "id": query_id,
            "from": user.to_dict(),
            "message": message.to_dict(),
            "chat_instance": str(abs(chat.id) * 7919 % 10**12),
            "data": callback_data,
        }
        return self._push_update("callback_query", query)

    def press(self, user_id: int, message_id: int, button_text: str, *, chat_id: int | None = None) -> JSON:
        """Press the callback button labelled `button_text` on a bot message; LookupError if absent."""
        message = self.chat(user_id if chat_id is None else chat_id).find(message_id)
        buttons = message.buttons() if message else []
        button = next((b for b in buttons if b.get("text") == button_text and "callback_data" in b), None)
        if button is None:
            labels = [b.get("text") for b in buttons]
            raise LookupError(f"no callback button {button_text!r} on message {message_id}; buttons: {labels}")
        return self.press_button(user_id, message_id, button["callback_data"], chat_id=chat_id)

    def block(self, user_id: int) -> JSON:
        """The user blocks the bot (a `my_chat_member` update, status kicked)."""
        self.user(user_id).blocked = True
        return self._member_update(user_id, "member", "kicked")

    def unblock(self, user_id: int) -> JSON:
        """The user unblocks the bot (a `my_chat_member` update, status member)."""
        self.user(user_id).blocked = False
        return self._member_update(user_id, "kicked", "member")

    def deactivate(self, user_id: int) -> None:
        """The user deletes their account."""
        self.user(user_id).deactivated = True

    def _member_update(self, user_id: int, old: str, new: str) -> JSON:
        user = self.users[user_id]
        bot = self.bot_user

        def member(status: str) -> JSON:
            return {"status": status, "user": bot, **({"until_date": 0} if status == "kicked" else {})}

        change = {
            "chat": self.chats[user_id].to_dict(),
            "from": user.to_dict(),
            "date": _now(),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        return self._push_update("my_chat_member", change)

    def _user_message(
        self,
        user_id: int,
        chat_id: int | None,
        extra: JSON,
        *,
        text: str | None = None,
        entities: list[JSON] | None = None,
        caption: str | None = None,
        photo: FakeFile | None = None,
        document: FakeFile | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSON:
        user = self.user(user_id)
        chat = self.chat(user_id if chat_id is None else chat_id)
        reply_to = None
        if reply_to_message_id is not None:
            reply_to = chat.find(reply_to_message_id)
            if reply_to is None:
                raise LookupError(f"chat {chat.id} has no message {reply_to_message_id}")
        message = FakeMessage(
            chat.next_message_id(),
            chat,
            user.to_dict(),
            False,
            _now(),
            text=text,
            entities=entities or [],
            caption=caption,
            photo=photo,
            document=document,
            reply_to=reply_to,
            extra=extra,
        )
        chat.history.append(message)
        return self._push_update("message", message.to_dict())

    def _push_update(self, kind: str, payload: JSON) -> JSON:
        update = {"update_id": next(self._update_ids), kind: payload}
        allowed = self.webhook.allowed_updates if self.webhook else self.allowed_updates
        wanted = kind in allowed if allowed else kind not in _DEFAULT_EXCLUDED_UPDATES
        if wanted:
            self._updates.append(update)
            self._notify()
        return update

    def _notify(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    def _new_file(self, filename: str, content: bytes, mime_type: str = "application/octet-stream") -> FakeFile:
        file_id = f"BQACAgUAAx{next(self._file_ids):06d}fake"
        self.files[file_id] = FakeFile(file_id, filename, content, mime_type)
        return self.files[file_id]

    # ----------------------------------------------------------------- Bot API dispatch

    async def call(self, token: str, method: str, params: JSON, files: Files | None = None) -> tuple[int, JSON]:
        """Answer one Bot API request: (HTTP status, Telegram JSON body)."""
        entry = _METHODS.get(method.lower())
        record = RecordedRequest(entry[0] if entry else method, dict(params), time.time())
        self.requests.append(record)
        key = record.method.lower()
        delay = next((v for k, v in self.config.latency_for.items() if k.lower() == key), self.config.latency)
        # Telegram counts a request against its limits when it arrives, whatever happens to it afterwards.
        throttled: BotApiError | None = None
        if entry is not None and TOKEN_RE.match(token) and token == self.token:
            try:
                self._apply_rate_limits(entry[0], _normalize(params))
            except BotApiError as err:
                throttled = err
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            if not TOKEN_RE.match(token):
                raise BotApiError(404, "Not Found")
            if token != self.token:
                raise BotApiError(401, "Unauthorized")
            if entry is None:
                raise BotApiError(404, "Not Found: method not found")
            record.params = _normalize(params)
            self._apply_faults(record.method, record.params)
            if throttled is not None:
                raise throttled
            body: JSON = {"ok": True, "result": await entry[1](self, record.params, files or {})}
            record.status = 200
        except BotApiError as err:
            body, record.status = err.body(), err.error_code
        self.stats.by_method[record.method] += 1
        return record.status, body

    def _apply_faults(self, method: str, params: JSON) -> None:
        for rule in self._faults:
            chat_matches = rule.chat_id is None or str(rule.chat_id) == str(params.get("chat_id"))
            if rule.method == method.lower() and chat_matches:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._faults.remove(rule)
                raise BotApiError(rule.error_code, rule.description, retry_after=rule.retry_after)

    def _apply_rate_limits(self, method: str, params: JSON) -> None:
        if method.lower() not in _RATE_LIMITED:
            return
        now = time.monotonic()
        paid = bool(params.get("allow_paid_broadcast"))
        limits = [
            ("paid" if paid else "all", self.config.paid_rate_limit if paid else self.config.rate_limit),
            (("chat", params.get("chat_id")), self.config.per_chat_rate_limit),
        ]
        windows = []
        for key, limit in limits:
            if limit is None:
                continue
            window = self._windows.setdefault(key, deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= limit:
                self.stats.too_many_requests += 1
                retry_after = max(1, math.ceil(window[0] + 1.0 - now))
                raise BotApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
            windows.append(window)
        for window in windows:
            window.append(now)

    # ----------------------------------------------------------------- helpers for method implementations

    def _target_chat(self, params: JSON, *, sending: bool = True, key: str = "chat_id") -> FakeChat:
        chat_id = params.get(key)
        if chat_id is None or chat_id == "":
            raise bad_request(f"{key} is empty")
        chat = (
            self.chats.get(chat_id)
            if isinstance(chat_id, int)
            else next((c for c in self.chats.values() if c.user and f"@{c.user.username}" == chat_id), None)
        )
        if chat is None and self.config.auto_users and isinstance(chat_id, int) and chat_id > 0:
            self.user(chat_id, "Tokoh")
            chat = self.chats[chat_id]
        if chat is None:
            raise bad_request("chat not found")
        if sending and chat.user is not None:
            if chat.user.deactivated:
                raise BotApiError(403, "Forbidden: user is deactivated")
            if chat.user.blocked:
                raise BotApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _render(self, text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[JSON]]:
        mode = (parse_mode or "").lower()
        if mode == "html":
            try:
                return parse_html(text)
            except HtmlParseError as err:
                raise bad_request(f"can't parse entities: {err}") from None
        if mode not in ("", "markdown", "markdownv2"):
            raise bad_request(f"unsupported parse_mode {parse_mode}")
        return text, list(entities or [])

    def _reply_target(self, chat: FakeChat, params: JSON) -> FakeMessage | None:
        reply = params.get("reply_parameters") or {}
        message_id = params.get("reply_to_message_id", reply.get("message_id"))
        if message_id is None:
            return None
        message = chat.find(int(message_id))
        if message is None or message.deleted:
            if params.get("allow_sending_without_reply") or reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return message

    def _bot_message(self, chat: FakeChat, params: JSON, **content: Any) -> FakeMessage:
        markup, reply_to = _check_markup(params), self._reply_target(chat, params)
        message = FakeMessage(
            chat.next_message_id(),
            chat,
            self.bot_user,
            True,
            _now(),
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            reply_to=reply_to,
            **content,
        )
        chat.history.append(message)
        return message

    def _caption(self, params: JSON) -> JSON:
        caption = params.get("caption")
        if not caption:
            return {}
        plain, entities = self._render(caption, params.get("parse_mode"), params.get("caption_entities"))
        if utf16_len(plain) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return {"caption": plain, "html": caption, "entities": entities}

    def _input_file(self, params: JSON, files: Files, key: str, mime_type: str) -> FakeFile:
        value = params.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            key, value = value.removeprefix("attach://"), None
        if value is None and key in files:
            filename, content = files[key]
            return self._new_file(filename or key, content, mime_type)
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        if isinstance(value, str) and re.match(r"^https?://", value):
            return self._new_file(value.rsplit("/", 1)[-1] or key, b"", mime_type)
        if value is None:
            raise bad_request(f"there is no {key} in the request")
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _source_message(self, params: JSON, action: str) -> FakeMessage:
        source = self._target_chat(params, sending=False, key="from_chat_id").find(params.get("message_id") or 0)
        if source is None or source.deleted:
            raise bad_request(f"message to {action} not found")
        return source

    def _editable(self, params: JSON) -> FakeMessage:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._target_chat(params, sending=False)
        message = chat.find(params.get("message_id") or 0)
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    # ----------------------------------------------------------------- Bot API methods

    @api_method("getMe")
    async def _get_me(self, params: JSON, files: Files) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @api_method("logOut")
    async def _log_out(self, params: JSON, files: Files) -> Any:
        return True

    @api_method("close")
    async def _close(self, params: JSON, files: Files) -> Any:
        return True

    @api_method("getUpdates")
    async def _get_updates(self, params: JSON, files: Files) -> Any:
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()
        offset, limit = params.get("offset") or 0, max(1, min(100, params.get("limit") or 100))
        if params.get("allowed_updates") is not None:
            self.allowed_updates = list(params["allowed_updates"])
        if offset < 0:
            self.confirm_updates(self._updates[offset]["update_id"] if -offset <= len(self._updates) else 0)
        elif offset:
            self.confirm_updates(offset)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while True:
            if self.webhook is not None:
                raise BotApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if generation != self._poll_generation:
                raise BotApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            remaining = deadline - time.monotonic()
            if self._updates or remaining <= 0:
                return self._updates[:limit]
            await self.wait_for_change(remaining)

    @api_method("setWebhook")
    async def _set_webhook(self, params: JSON, files: Files) -> Any:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        if url and not re.match(r"^https?://[^/\s]+", url):
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
        if params.get("drop_pending_updates"):
            self._drop_pending()
        allowed = params.get("allowed_updates")
        if allowed is None:
            allowed = self.webhook.allowed_updates if self.webhook else self.allowed_updates
        self.webhook = Webhook(url, secret, list(allowed), params.get("max_connections") or 40) if url else None
        self._notify()
        return True

    @api_method("deleteWebhook")
    async def _delete_webhook(self, params: JSON, files: Files) -> Any:
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self.webhook = None
        self._notify()
        return True

    @api_method("getWebhookInfo")
    async def _get_webhook_info(self, params: JSON, files: Files) -> Any:
        info: JSON = {
            "url": self.webhook.url if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info["max_connections"] = self.webhook.max_connections
            if self.webhook.allowed_updates:
                info["allowed_updates"] = self.webhook.allowed_updates
        failure = next((d for d in reversed(self.webhook_deliveries) if d.error), None)
        if failure:
            info["last_error_date"], info["last_error_message"] = int(failure.time), failure.error
        return info

    @api_method("sendMessage")
    async def _send_message(self, params: JSON, files: Files) -> Any:
        chat = self._target_chat(params)
        text = params.get("text")
        if not text:
            raise bad_request("message text is empty")
        plain, entities = self._render(text, params.get("parse_mode"), params.get("entities"))
        if not plain.strip():
            raise bad_request("message text is empty")
        if utf16_len(plain) > MAX_TEXT:
            raise bad_request("message is too long")
        message = self._bot_message(chat, params, text=plain, html=text, entities=entities)
        if params.get("link_preview_options"):
            message.extra["link_preview_options"] = params["link_preview_options"]
        return message.to_dict()

    @api_method("sendDocument")
    async def _send_document(self, params: JSON, files: Files) -> Any:
        chat = self._target_chat(params)
        file = self._input_file(params, files, "document", "application/octet-stream")
        return self._bot_message(chat, params, document=file, **self._caption(params)).to_dict()

    @api_method("sendPhoto")
    async def _send_photo(self, params: JSON, files: Files) -> Any:
        chat = self._target_chat(params)
        file = self._input_file(params, files, "photo", "image/jpeg")
        return self._bot_message(chat, params, photo=file, **self._caption(params)).to_dict()

    @api_method("copyMessage")
    async def _copy_message(self, params: JSON, files: Files) -> Any:
        source = self._source_message(params, "copy")
        chat = self._target_chat(params)
        content = {
            "text": source.text,
            "html": source.html,
            "entities": source.entities,
            "caption": source.caption,
            "document": source.document,
            "photo": source.photo,
        }
        if "caption" in params:
            content.update({"caption": None, "entities": [], **self._caption(params)})
        return {"message_id": self._bot_message(chat, params, **content).message_id}

    @api_method("forwardMessage")
    async def _forward_message(self, params: JSON, files: Files) -> Any:
        source = self._source_message(params, "forward")
        chat = self._target_chat(params)
        origin = {"type": "user", "date": source.date, "sender_user": source.sender}
        message = self._bot_message(
            chat,
            {},
            text=source.text,
            html=source.html,
            entities=source.entities,
            caption=source.caption,
            document=source.document,
            photo=source.photo,
            extra={"forward_origin": origin},
        )
        return message.to_dict()

    @api_method("editMessageText")
    async def _edit_message_text(self, params: JSON, files: Files) -> Any:
        message = self._editable(params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        text = params.get("text")
        if not text:
            raise bad_request("message text is empty")
        plain, entities = self._render(text, params.get("parse_mode"), params.get("entities"))
        if utf16_len(plain) > MAX_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        markup = _check_markup(params)
        if (plain, entities, markup) == (message.text, message.entities, message.inline_markup):
            raise bad_request(NOT_MODIFIED)
        message.edits.append(message.snapshot())
        message.text, message.html, message.entities = plain, text, entities
        message.parse_mode, message.reply_markup, message.edit_date = params.get("parse_mode"), markup, _now()
        return message.to_dict()

    @api_method("editMessageReplyMarkup")
    async def _edit_message_reply_markup(self, params: JSON, files: Files) -> Any:
        message = self._editable(params)
        markup = _check_markup(params)
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        if markup == message.inline_markup:
            raise bad_request(NOT_MODIFIED)
        message.edits.append(message.snapshot())
        message.reply_markup, message.edit_date = markup, _now()
        return message.to_dict()

    @api_method("deleteMessage")
    async def _delete_message(self, params: JSON, files: Files) -> Any:
        chat = self._target_chat(params, sending=False)
        message = chat.find(params.get("message_id") or 0)
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        return True

    @api_method("answerCallbackQuery")
    async def _answer_callback_query(self, params: JSON, files: Files) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_callbacks:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        if len(params.get("text") or "") > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self._open_callbacks.discard(query_id)
        self.callback_answers.append({**params, "callback_query_id": query_id})
        return True

    @api_method("sendChatAction")
    async def _send_chat_action(self, params: JSON, files: Files) -> Any:
        self._target_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    @api_method("getChat")
    async def _get_chat(self, params: JSON, files: Files) -> Any:
        chat = self._target_chat(params, sending=False)
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            True,
        )
        return {
            **chat.to_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    @api_method("getFile")
    async def _get_file(self, params: JSON, files: Files) -> Any:
        file = self.files.get(params.get("file_id") or "")
        if file is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "file_size": len(file.content),
            "file_path": f"files/{file.file_id}/{file.filename}",
        }

    @api_method("setMyCommands")
    async def _set_my_commands(self, params: JSON, files: Files) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise bad_request("command description must be non-empty")
        key = _commands_key(params)
        if commands:
            self.commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        else:
            self.commands.pop(key, None)
        return True

    @api_method("getMyCommands")
    async def _get_my_commands(self, params: JSON, files: Files) -> Any:
        return self.commands.get(_commands_key(params), [])

    @api_method("deleteMyCommands")
    async def _delete_my_commands(self, params: JSON, files: Files) -> Any:
        self.commands.pop(_commands_key(params), None)
        return True

    @api_method("setMyDescription")
    async def _set_my_description(self, params: JSON, files: Files) -> Any:
        if len(params.get("description") or "") > 512:
            raise bad_request("description is too long")
        return True

    @api_method("setMyShortDescription")
    async def _set_my_short_description(self, params: JSON, files: Files) -> Any:
        if len(params.get("short_description") or "") > 120:
            raise bad_request("short description is too long")
        return True


def _now() -> int:
    return int(time.time())


def _normalize(params: JSON) -> JSON:
    """Decode form-encoded values (numbers, booleans, JSON objects) into their real types."""
    result = dict(params)
    for key, value in params.items():
        if not isinstance(value, str):
            continue
        if key in _INT_PARAMS and re.fullmatch(r"-?\d+", value.strip()):
            result[key] = int(value)
        elif key in _INT_PARAMS and key != "chat_id" and key != "from_chat_id":
            raise bad_request(f"invalid {key} specified")
        elif key in _BOOL_PARAMS:
            result[key] = value.strip().lower() in ("true", "1")
        elif key in _JSON_PARAMS:
            try:
                result[key] = json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {key} JSON object") from None
    return result


def _check_markup(params: JSON) -> JSON | None:
    """Validate reply_markup like Telegram and return it."""
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        for button in (b for row in rows for b in row):
            _check_button(button)
    elif "keyboard" in markup:
        if not isinstance(markup["keyboard"], list) or not all(isinstance(r, list) for r in markup["keyboard"]):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
    elif not markup.get("remove_keyboard") and not markup.get("force_reply"):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str) or not button["text"]:
        raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
    actions = [key for key in _BUTTON_ACTIONS if key in button]
    if not actions:
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request(f"can't parse inline keyboard button: only one of {actions} may be specified")
    data = button.get("callback_data")
    if "callback_data" in button and not (isinstance(data, str) and 1 <= len(data.encode("utf-8")) <= 64):
        raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not re.match(r"^(https?|tg)://\S+$", str(button["url"])):
        raise bad_request("BUTTON_URL_INVALID")


def _commands_key(params: JSON) -> tuple[str, str]:
    """Key of `FakeTelegram.commands`: (scope such as "default" or "chat:<id>", language_code or "")."""
    scope = params.get("scope") or {"type": "default"}
    name = str(scope.get("type", "default"))
    ids = [str(scope[k]) for k in ("chat_id", "user_id") if k in scope]
    return (":".join([name, *ids]), params.get("language_code") or "")
