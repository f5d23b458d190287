"""Logging set-up that keeps secrets (the bot token, the webhook secret) and Telegram ids out of every log line."""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from collections.abc import Iterable

REDACTED = "<redacted>"
# Keys the reference hash is made with: set from the bot token when logging is configured, so a reference cannot
# be turned back into the Telegram id by hashing every possible id without the token.
_reference_key = b"rangkul"


def telegram_ref(telegram_id: int | str | None) -> str:
    """A short stable stand-in for a Telegram user or chat id in log lines: correlates, but names nobody."""
    if telegram_id is None:
        return "tg:-"
    digest = hashlib.blake2b(str(telegram_id).encode(), key=_reference_key, digest_size=5).hexdigest()
    return f"tg:{digest}"


def set_reference_key(secret: str) -> None:
    """Make telegram_ref() depend on SECRET (the bot token), the same for every run of one deployment."""
    global _reference_key
    _reference_key = hashlib.blake2b(secret.encode(), digest_size=32).digest()


# PostgreSQL quotes the values of the offending row in an error's DETAIL, whatever hide_parameters says:
# "Key (telegram_id)=(6281234567890) already exists.", "Failing row contains (7, Hendra Gunawan, …)."
_DATABASE_DETAILS = (
    (re.compile(r"(Key \([^)\n]*\)=\().*?(\) (?:already exists|is not present|conflicts with))"), r"\1<redacted>\2"),
    (re.compile(r"(Failing row contains \().*(\))"), r"\1<redacted>\2"),
)


def hide_database_values(text: str) -> str:
    """TEXT with the row values quoted in database error details replaced by <redacted>."""
    for pattern, replacement in _DATABASE_DETAILS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Replace each secret, and the row values a database error quotes, by <redacted> in the final message and
    traceback, whatever logger or argument carried them."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        text = message
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        exc_text = record.exc_text or ""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
            exc_text = exc_text.replace(secret, REDACTED)
        text, exc_text = hide_database_values(text), hide_database_values(exc_text)
        if text != message:
            record.msg, record.args = text, None
        record.exc_text = exc_text or None
        return True


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Log to stderr at LEVEL; HTTP client request lines (which carry the token in the URL) stay quiet."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    secrets = [secret for secret in secrets if secret]
    if secrets:
        set_reference_key(secrets[0])
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs "HTTP Request: POST https://api.telegram.org/bot<token>/..." at INFO.
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
