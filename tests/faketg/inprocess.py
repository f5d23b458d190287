"""A python-telegram-bot request backend that talks to a FakeTelegram in the same process."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import unquote, urlsplit

from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from .core import FakeTelegram, Files


class FakeRequest(BaseRequest):
    """`BaseRequest` implementation routing Bot API calls to `FakeTelegram.call` without any network."""

    __slots__ = ("_read_timeout", "fake")

    def __init__(self, fake: FakeTelegram, *, read_timeout: float | None = 5.0) -> None:
        self.fake = fake
        self._read_timeout = read_timeout

    @property
    def read_timeout(self) -> float | None:
        """Default read timeout; a call answered later than this raises `telegram.error.TimedOut`."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Dispatch `<base>/bot<token>/<method>` to the fake; file URLs are served from its file store."""
        segments = [unquote(s) for s in urlsplit(url).path.split("/")]
        if "file" in segments:
            index = segments.index("file")
            content = self.fake.download(segments[index + 1].removeprefix("bot"), "/".join(segments[index + 2 :]))
            return (200, content) if content is not None else (404, b'{"ok":false,"error_code":404}')
        token = next((s.removeprefix("bot") for s in segments if s.startswith("bot")), "")
        params = json.loads(json.dumps(request_data.parameters)) if request_data else {}
        files: Files = {}
        for name, (filename, data, *_rest) in (request_data.multipart_data if request_data else {}).items():
            files[name] = (filename or name, data if isinstance(data, bytes) else data.read())
        timeout = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        try:
            status, body = await asyncio.wait_for(self.fake.call(token, segments[-1], params, files), timeout)
        except TimeoutError:
            raise TimedOut(f"fake Bot API did not answer {segments[-1]} within {timeout} s") from None
        return status, json.dumps(body).encode()
