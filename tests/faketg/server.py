"""aiohttp server speaking the Bot API over HTTP, delivering webhooks and offering a JSON control API."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

from .core import JSON, FakeFile, FakeMessage, FakeTelegram, Files, Webhook

WEBHOOK_ATTEMPTS = 3
MAX_BODY = 50 * 1024 * 1024

# Control actions (POST /control/<name>) mapped to the FakeTelegram method they call with the JSON body.
_ACTIONS: dict[str, Callable[..., Any]] = {
    "users": FakeTelegram.user,
    "groups": FakeTelegram.group,
    "text": FakeTelegram.send_text,
    "command": FakeTelegram.send_command,
    "contact": FakeTelegram.share_contact,
    "forward": FakeTelegram.forward_from,
    "reply": FakeTelegram.reply_to,
    "edit": FakeTelegram.edit_user_message,
    "sticker": FakeTelegram.send_sticker,
    "photo": FakeTelegram.send_photo,
    "voice": FakeTelegram.send_voice,
    "document": FakeTelegram.send_document_from_user,
    "block": FakeTelegram.block,
    "unblock": FakeTelegram.unblock,
    "deactivate": FakeTelegram.deactivate,
    "configure": FakeTelegram.configure,
    "fail": FakeTelegram.fail_next,
    "reset": FakeTelegram.reset,
}


def message_json(message: FakeMessage) -> JSON:
    """What the control interface reports about a message (fake-side view plus the Telegram object)."""

    def file_json(file: FakeFile | None) -> JSON | None:
        return {"file_id": file.file_id, "filename": file.filename, "size": len(file.content)} if file else None

    return {
        "message_id": message.message_id,
        "chat_id": message.chat_id,
        "from_bot": message.from_bot,
        "date": message.date,
        "text": message.text,
        "html": message.html,
        "parse_mode": message.parse_mode,
        "caption": message.caption,
        "entities": message.entities,
        "reply_markup": message.reply_markup,
        "document": file_json(message.document),
        "photo": file_json(message.photo),
        "edit_date": message.edit_date,
        "edits": message.edits,
        "deleted": message.deleted,
        "telegram": message.to_dict(),
    }


def _jsonable(value: Any) -> Any:
    """Turn a core return value into JSON data."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return {"ok": True} if value is None else value


class FakeBotApiServer:
    """HTTP front end of a FakeTelegram; use `base_url` as python-telegram-bot's `base_url`."""

    def __init__(self, fake: FakeTelegram | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.fake = fake or FakeTelegram()
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        """Bot API base URL (the token and method are appended by the client)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """File download base URL."""
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def control_url(self) -> str:
        """Base URL to give to `ControlClient`."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Bind the socket, start serving and start webhook delivery."""
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/bot{token}/{method}", self._bot_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        app.router.add_get("/control/chats/{chat_id}/messages", self._chat_messages)
        app.router.add_get("/control/{name}", self._control_get)
        app.router.add_post("/control/{name}", self._control_post)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=2048)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        self._webhook_task = asyncio.create_task(self._deliver_webhooks())

    async def stop(self) -> None:
        """Stop webhook delivery and the HTTP server."""
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self._webhook_task = self._session = self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ----------------------------------------------------------------- Bot API

    async def _bot_api(self, request: web.Request) -> web.Response:
        try:
            params, files = await _read_params(request)
        except ValueError as err:
            body = {"ok": False, "error_code": 400, "description": f"Bad Request: {err}"}
            return web.json_response(body, status=400)
        status, body = await self.fake.call(request.match_info["token"], request.match_info["method"], params, files)
        return web.json_response(body, status=status)

    async def _file(self, request: web.Request) -> web.Response:
        content = self.fake.download(request.match_info["token"], request.match_info["path"])
        if content is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=content)

    # ----------------------------------------------------------------- control interface

    async def _control_post(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name != "press" and name not in _ACTIONS:
            return web.json_response({"error": f"unknown control action {name!r}"}, status=404)
        try:
            body = await request.json() if request.can_read_body else {}
            if name == "press":
                action = FakeTelegram.press if "button_text" in body else FakeTelegram.press_button
            else:
                action = _ACTIONS[name]
            return web.json_response(_jsonable(action(self.fake, **body)))
        except (TypeError, ValueError, LookupError) as err:
            return web.json_response({"error": f"{type(err).__name__}: {err}"}, status=400)

    async def _control_get(self, request: web.Request) -> web.Response:
        fake, name = self.fake, request.match_info["name"]
        views: dict[str, Callable[[], Any]] = {
            "requests": lambda: [
                dataclasses.asdict(r)
                for r in fake.requests
                if request.query.get("method", r.method).lower() == r.method.lower()
            ],
            "commands": lambda: [
                {"scope": scope, "language_code": lang, "commands": commands}
                for (scope, lang), commands in fake.commands.items()
            ],
            "callback_answers": lambda: fake.callback_answers,
            "updates": fake.pending_updates,
            "webhook_deliveries": lambda: [dataclasses.asdict(d) for d in fake.webhook_deliveries],
            "stats": lambda: {
                "by_method": dict(fake.stats.by_method),
                "too_many_requests": fake.stats.too_many_requests,
                "requests": len(fake.requests),
                "pending_updates": len(fake.pending_updates()),
                "highest_confirmed_update_id": fake.highest_confirmed_update_id,
                "webhook_url": fake.webhook.url if fake.webhook else "",
            },
        }
        if name not in views:
            return web.json_response({"error": f"unknown control view {name!r}"}, status=404)
        return web.json_response(views[name]())

    async def _chat_messages(self, request: web.Request) -> web.Response:
        """The bot's messages in a chat; with ?count=N, answered once there are at least N (or after ?timeout=)."""
        chat_id = int(request.match_info["chat_id"])
        if "count" in request.query:
            with contextlib.suppress(TimeoutError):
                timeout = float(request.query.get("timeout", "30"))
                await self.fake.wait_for_message(chat_id, count=int(request.query["count"]), timeout=timeout)
        chat = self.fake.chats.get(chat_id)
        if chat is None:
            return web.json_response({"error": "chat not found"}, status=404)
        return web.json_response([message_json(m) for m in chat.messages])

    # ----------------------------------------------------------------- webhook delivery

    async def _deliver_webhooks(self) -> None:
        while True:
            hook = self.fake.webhook
            pending = self.fake.pending_updates() if hook else []
            if hook is None or not pending:
                await self.fake.wait_for_change(1.0)
                continue
            update = pending[0]
            await self._post_update(hook, update)
            self.fake.confirm_updates(update["update_id"] + 1)

    async def _post_update(self, hook: Webhook, update: JSON) -> None:
        assert self._session is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": hook.secret_token} if hook.secret_token else {}
        for attempt in range(WEBHOOK_ATTEMPTS):
            try:
                async with self._session.post(
                    hook.url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
                ) as response:
                    await response.read()
                    ok = 200 <= response.status < 300
                    error = None if ok else f"Wrong response from the webhook: {response.status} {response.reason}"
                    self.fake.note_webhook_delivery(update["update_id"], response.status, error)
                    if ok:
                        return
            except (aiohttp.ClientError, TimeoutError) as err:
                self.fake.note_webhook_delivery(update["update_id"], None, f"Connection failed: {err}")
            await asyncio.sleep(0.1 * (attempt + 1))


async def _read_params(request: web.Request) -> tuple[JSON, Files]:
    """Parameters and uploaded files from the query string and a JSON, urlencoded or multipart body."""
    params: JSON = dict(request.query)
    files: Files = {}
    if not request.can_read_body:
        return params, files
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise ValueError("can't parse JSON body") from None
        if not isinstance(body, dict):
            raise ValueError("JSON body must be an object")
        params.update(body)
    else:
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[key] = (value.filename, value.file.read())
            else:
                params[key] = value
    return params, files
