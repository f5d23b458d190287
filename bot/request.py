"""A python-telegram-bot request backend built on aiohttp.

PTB's default `HTTPXRequest` spends most of a core on connection-pool bookkeeping once more than a few
dozen requests are in flight; `AiohttpRequest` keeps hundreds of requests in flight on one core, which
the broadcast engine needs (about 1,000 messages/s at ~300 ms per request).

Usage, exactly like `HTTPXRequest`::

    ApplicationBuilder().token(token).request(AiohttpRequest(connection_pool_size=512))
    Bot(token, request=AiohttpRequest())

Every URL handed to this class contains the bot token, so no URL is ever logged or put into an error
message; error texts coming from aiohttp are scrubbed of the URL and of anything shaped like a token.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import IO, Final

import aiohttp
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import BytesPayload, Payload
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["AiohttpRequest"]

_LOGGER = logging.getLogger(__name__)

# Bodies are handed to the socket in chunks of this size. asyncio's transports only make a writer wait
# once more than 64 KiB are buffered, so a body no larger than one chunk is never subject to the write
# timeout: it cannot stall on the client side.
_CHUNK: Final = 64 * 1024
_FORM_URLENCODED: Final = "application/x-www-form-urlencoded"
# `<digits>:<35 url-safe characters>` is a bot token; be generous about the length.
_TOKEN_RE: Final = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
_REDACTED: Final = "<redacted>"


class _WriteDeadline:
    """Turns `write_timeout` into "each chunk of the body must be accepted by the socket in time".

    The body is written by a task aiohttp creates, while the request's own task waits for the response; the
    deadline is an `asyncio.timeout` entered by the request's task and re-armed by the body writer before
    every chunk. Once the response starts (or the request is over) the deadline is closed and further
    arming does nothing.
    """

    __slots__ = ("_open", "_scope", "_seconds")

    def __init__(self, seconds: float | None) -> None:
        self._seconds = seconds
        self._scope: asyncio.Timeout | None = None
        self._open = True

    def bind(self, scope: asyncio.Timeout) -> None:
        self._scope = scope

    def _live_scope(self) -> asyncio.Timeout | None:
        # Only touch the scope while the request's task is inside it and it has not fired yet.
        scope = self._scope
        return scope if self._open and scope is not None and not scope.expired() else None

    def arm(self) -> None:
        if (scope := self._live_scope()) is not None and self._seconds is not None:
            scope.reschedule(asyncio.get_running_loop().time() + self._seconds)

    def disarm(self) -> None:
        if (scope := self._live_scope()) is not None:
            scope.reschedule(None)

    def close(self) -> None:
        """Disarm for good; must be called before the request's task leaves the scope."""
        self.disarm()
        self._open = False

    @property
    def expired(self) -> bool:
        return self._scope is not None and self._scope.expired()


class _ChunkedBytesPayload(Payload):
    """In-memory bytes written in `_CHUNK`-sized pieces, arming the write deadline before each piece.

    The size is known, so the request (or the multipart part) keeps a Content-Length.
    """

    _value: bytes

    def __init__(
        self, value: bytes, deadline: _WriteDeadline, *, content_type: str, filename: str | None = None
    ) -> None:
        super().__init__(value, content_type=content_type, filename=filename)
        self._size = len(value)
        self._deadline = deadline

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return self._value.decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self._value

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: int | None) -> None:
        view = memoryview(self._value)
        if content_length is not None:
            view = view[:content_length]
        for start in range(0, len(view), _CHUNK):
            self._deadline.arm()
            await writer.write(view[start : start + _CHUNK])
        self._deadline.disarm()


def _as_bytes(content: bytes | IO[bytes]) -> bytes:
    """File content for an upload; PTB may hand over an open binary file instead of bytes."""
    if isinstance(content, bytes):
        return content
    data = content.read()
    if not isinstance(data, bytes):
        raise TypeError(f"file handles must be opened in binary mode, got {type(data).__name__} from read()")
    return data


def _redact(text: str, url: str) -> str:
    """`text` without the request URL or anything that looks like a bot token."""
    if url:
        text = text.replace(url, _REDACTED)
    return _TOKEN_RE.sub(_REDACTED, text)


def _leaks_secret(exc: BaseException, url: str) -> bool:
    """Whether `exc` or an exception it was raised from mentions the URL or a token."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = f"{current!s} {current!r}"
        if (url and url in text) or _TOKEN_RE.search(text):
            return True
        current = current.__cause__ or current.__context__
    return False


def _resolve(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


class NotSent(Exception):
    """Marks an error raised before the request left this machine (no connection was made): safe to retry."""


class ConnectionNotMade(NotSent, NetworkError):
    """The connection to the Bot API could not be opened; nothing was sent."""


class ConnectionTimedOut(NotSent, TimedOut):
    """No connection could be had in time (pool or connect); nothing was sent."""


class AiohttpRequest(BaseRequest):
    """`telegram.request.BaseRequest` implemented with one shared `aiohttp.ClientSession`.

    Args:
        connection_pool_size: Most connections open at once (aiohttp's `TCPConnector(limit=...)`); also the
            most requests in flight. Defaults to 256.
        read_timeout: Seconds to wait for the response, counted from the moment the request has been sent
            and restarted by every piece of the response that arrives (aiohttp's `sock_read`). Defaults to 5.
        write_timeout: Seconds the socket may take to accept each 64 KiB piece of a request body. Defaults
            to 5. Bodies of at most 64 KiB never wait for the socket, so in practice this guards uploads.
        connect_timeout: Seconds to open a TCP (and TLS) connection. Defaults to 5.
        pool_timeout: Seconds to wait for a free connection when `connection_pool_size` are busy. aiohttp
            bounds waiting for the pool and connecting together, so a request may spend up to
            `pool_timeout + connect_timeout` obtaining a connection. Defaults to 1. `None` waits forever.
        proxy: URL of an HTTP(S) proxy, e.g. ``"http://user:secret@proxy:3128"``. SOCKS proxies are not
            supported; environment variables such as ``HTTPS_PROXY`` are not consulted.
        media_write_timeout: Like `write_timeout`, for requests that upload files. Defaults to 20.

    Any timeout may be `None` to wait forever. Per-call timeouts passed through PTB override these
    defaults; `BaseRequest.DEFAULT_NONE` means "use the default".

    The session is created by `initialize()`, or by the first request if nobody initialized this object,
    and belongs to the event loop that was running at that moment. `shutdown()` closes it; after that,
    requests fail until `initialize()` is called again.
    """

    __slots__ = (
        "_connect_timeout",
        "_default_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxy",
        "_read_timeout",
        "_session",
        "_shut_down",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        proxy: str | None = None,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        if proxy is not None and not proxy.lower().startswith(("http://", "https://")):
            raise ValueError("only http:// and https:// proxies are supported")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._proxy = proxy
        self._session: aiohttp.ClientSession | None = None
        self._shut_down = False
        self._default_timeout = self._client_timeout(read_timeout, connect_timeout, pool_timeout)

    @property
    def read_timeout(self) -> float | None:
        """The read timeout used when a call does not pass its own."""
        return self._read_timeout

    @property
    def connection_pool_size(self) -> int:
        """The most connections (and so requests in flight) this object uses."""
        return self._pool_size

    async def initialize(self) -> None:
        """Create the HTTP session unless one is open."""
        self._shut_down = False
        self._open_session()

    async def shutdown(self) -> None:
        """Close the HTTP session and its connections."""
        self._shut_down = True
        session, self._session = self._session, None
        if session is None or session.closed:
            _LOGGER.debug("AiohttpRequest is already shut down")
            return
        await session.close()

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                timeout=self._default_timeout,
                proxy=self._proxy,
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    @staticmethod
    def _client_timeout(
        read_timeout: float | None, connect_timeout: float | None, pool_timeout: float | None
    ) -> aiohttp.ClientTimeout:
        # aiohttp's `connect` covers waiting for a pooled connection plus opening a new one; `sock_connect`
        # covers opening one. `total` must be None: aiohttp's default caps every request at 5 minutes.
        acquire = None if pool_timeout is None or connect_timeout is None else pool_timeout + connect_timeout
        return aiohttp.ClientTimeout(total=None, connect=acquire, sock_connect=connect_timeout, sock_read=read_timeout)

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
        """Send one request; see `BaseRequest.do_request`. Returns (HTTP status, body)."""
        if self._shut_down:
            raise RuntimeError("This AiohttpRequest is shut down; call initialize() first")
        session = self._open_session()

        if (
            isinstance(read_timeout, DefaultValue)
            and isinstance(connect_timeout, DefaultValue)
            and isinstance(pool_timeout, DefaultValue)
        ):
            timeout = self._default_timeout
        else:
            timeout = self._client_timeout(
                _resolve(read_timeout, self._read_timeout),
                _resolve(connect_timeout, self._connect_timeout),
                _resolve(pool_timeout, self._pool_timeout),
            )
        has_files = request_data is not None and request_data.contains_files
        write_seconds = _resolve(write_timeout, self._media_write_timeout if has_files else self._write_timeout)
        deadline = _WriteDeadline(write_seconds)
        body = self._body(request_data, deadline)

        try:
            if not isinstance(body, _ChunkedBytesPayload | aiohttp.FormData):
                # Small bodies never wait for the socket: no write deadline needed.
                return await self._exchange(session, method, url, body, timeout, deadline)
            async with asyncio.timeout(None) as scope:
                deadline.bind(scope)
                try:
                    return await self._exchange(session, method, url, body, timeout, deadline)
                finally:
                    deadline.close()
        except TimeoutError as err:
            raise self._timeout_error(err, deadline, url) from None
        except (aiohttp.ClientError, OSError) as err:
            message = _redact(f"aiohttp.{type(err).__name__}: {err}", url)
            error_class = ConnectionNotMade if isinstance(err, aiohttp.ClientConnectorError) else NetworkError
            if _leaks_secret(err, url):
                raise error_class(message) from None
            raise error_class(message) from err

    @staticmethod
    async def _exchange(
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        body: Payload | aiohttp.FormData | None,
        client_timeout: aiohttp.ClientTimeout,
        deadline: _WriteDeadline,
    ) -> tuple[int, bytes]:
        async with session.request(method, url, data=body, timeout=client_timeout) as response:
            # The server has answered: whatever is left of the body no longer counts against write_timeout.
            deadline.close()
            return response.status, await response.read()

    @staticmethod
    def _body(request_data: RequestData | None, deadline: _WriteDeadline) -> Payload | aiohttp.FormData | None:
        """The request body PTB expects: urlencoded parameters, or multipart/form-data when uploading."""
        if request_data is None:
            return None
        if request_data.contains_files:
            # quote_fields=False sends UTF-8 file names as they are, like httpx does.
            form = aiohttp.FormData(quote_fields=False)
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in request_data.multipart_data.items():
                part = _ChunkedBytesPayload(_as_bytes(content), deadline, content_type=mimetype, filename=filename)
                form.add_field(name, part, filename=filename)
            return form
        encoded = request_data.url_encoded_parameters().encode("ascii")
        if not encoded:
            return None
        if len(encoded) > _CHUNK:
            return _ChunkedBytesPayload(encoded, deadline, content_type=_FORM_URLENCODED)
        return BytesPayload(encoded, content_type=_FORM_URLENCODED)

    def _timeout_error(self, err: TimeoutError, deadline: _WriteDeadline, url: str) -> TimedOut:
        if deadline.expired:
            return TimedOut("Write timeout: the server did not accept the request body in time")
        if isinstance(err, aiohttp.ConnectionTimeoutError):
            return ConnectionTimedOut(
                "Timed out obtaining a connection: either every pooled connection stayed busy (consider a"
                " larger connection_pool_size or pool_timeout) or connecting to the server took too long."
                " The request was not sent."
            )
        if isinstance(err, aiohttp.SocketTimeoutError):
            return TimedOut("Read timeout: no response from the server in time")
        return TimedOut(_redact(f"Timed out: {type(err).__name__}: {err}", url) if str(err) else "Timed out")
