"""The one callback-data codec: every inline button's data is `prefix[version]:action[:arg…]`, at most 64 bytes.

A feature declares its codec once (`LANGUAGE = Codec("bahasa")`) and builds buttons with `codec.data(action,
*args)`; a press is read back with `codec.parse(data)`, which never raises: anything malformed, too long, of
another feature or of another version gives None, and the handler answers that the button is no longer valid.
What a button carries is never proof of anything: handlers check every argument against the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64  # Telegram's limit for callback_data
# Row ids are 32-bit integers on PostgreSQL: a forged bigger number must read as "no such row", not as a
# database error.
MAX_ID = 2**31 - 1
SEPARATOR = ":"
_PREFIX = re.compile(r"^[a-z]{1,8}$")
_ACTION = re.compile(r"^[a-z_]{1,16}$")
# Arguments: ids, region codes, locales, versions, enum values. No separator, nothing that needs escaping.
_ARG = re.compile(r"^[A-Za-z0-9_.<>+-]{0,40}$")


class CallbackDataError(ValueError):
    """Button data that cannot be made (a programming error, never a user's)."""


@dataclass(frozen=True, slots=True)
class Pressed:
    """A parsed press: the action and its arguments, as text (convert and check them in the handler)."""

    action: str
    args: tuple[str, ...]

    def arg(self, index: int, default: str = "") -> str:
        return self.args[index] if index < len(self.args) else default

    def int_arg(self, index: int, *, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
        """Argument INDEX as an integer within [MINIMUM, MAXIMUM] (a row id by default), or None."""
        text = self.arg(index)
        if not text.isascii() or not text.isdigit() or len(text) > len(str(maximum)):
            return None
        value = int(text)
        return value if minimum <= value <= maximum else None


@dataclass(frozen=True, slots=True)
class Codec:
    """Buttons of one feature. VERSION > 1 is written after the prefix ("cm2"), so buttons of an older layout
    are recognised as such (parse gives None) instead of being misread."""

    prefix: str
    version: int = 1

    def __post_init__(self) -> None:
        if not _PREFIX.fullmatch(self.prefix) or self.version < 1:
            raise CallbackDataError(f"bad codec {self.prefix!r} v{self.version}")

    @property
    def head(self) -> str:
        return self.prefix if self.version == 1 else f"{self.prefix}{self.version}"

    @property
    def pattern(self) -> str:
        """A regular expression for python-telegram-bot's CallbackQueryHandler(pattern=...)."""
        return rf"^{re.escape(self.head)}{SEPARATOR}"

    def data(self, action: str, *args: object) -> str:
        """The callback_data for ACTION with ARGS; raises CallbackDataError when it cannot be a valid button."""
        if not _ACTION.fullmatch(action):
            raise CallbackDataError(f"bad action {action!r}")
        texts = [str(arg) for arg in args]
        for text in texts:
            if not _ARG.fullmatch(text):
                raise CallbackDataError(f"bad argument {text!r}")
        data = SEPARATOR.join([self.head, action, *texts])
        if len(data.encode()) > MAX_BYTES:
            raise CallbackDataError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    def parse(self, data: object) -> Pressed | None:
        """The press DATA describes, or None for anything this codec did not make (never raises)."""
        fields = self.fields(data)
        if not fields or not _ACTION.fullmatch(fields[0]):
            return None
        return Pressed(action=fields[0], args=fields[1:])

    def fields(self, data: object) -> tuple[str, ...] | None:
        """The fields after the head of DATA, each well formed, or None (never raises). parse() reads new buttons;
        this is for reading a layout made before the codec, whose buttons are still in people's chats."""
        if not isinstance(data, str) or not data or len(data.encode(errors="replace")) > MAX_BYTES:
            return None
        head, _sep, rest = data.partition(SEPARATOR)
        if head != self.head or not rest:
            return None
        fields = tuple(rest.split(SEPARATOR))
        return fields if all(_ARG.fullmatch(field) for field in fields) else None
