"""A fake Telegram Bot API for tests: in-process (FakeRequest) or over HTTP (FakeBotApiServer)."""

from .core import BotApiError, FakeTelegram
from .inprocess import FakeRequest
from .server import FakeBotApiServer

__all__ = ["BotApiError", "FakeBotApiServer", "FakeRequest", "FakeTelegram"]
