"""Retrying the engine's work after an error: one log line per failure, and a growing wait."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 0.5
RETRY_MOST_SECONDS = 15.0  # a database back after an outage is used again within seconds, not minutes


class Trouble:
    """Consecutive failures of the engine's loop: the first is logged with its traceback, the next ones in one
    line each, and the wait before retrying doubles up to a ceiling (never a traceback storm)."""

    def __init__(self, first: float = RETRY_FIRST_SECONDS, most: float = RETRY_MOST_SECONDS) -> None:
        self.first, self.most = first, most
        self.count = 0
        self._said_back = False

    def failed(self, doing: str, exc: BaseException) -> float:
        """Log EXC (raised while DOING something) and return how long to wait before the next try."""
        self.count += 1
        delay = min(self.first * 2.0 ** (self.count - 1), self.most)
        summary = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:200]
        if self.count == 1:
            logger.error("delivery engine: %s failed (%s); retrying in %.1f s", doing, summary, delay, exc_info=exc)
        else:
            logger.warning(
                "delivery engine: %s still failing after %d attempts (%s); retrying in %.1f s",
                doing,
                self.count,
                summary,
                delay,
            )
        return delay

    def answering(self) -> None:
        """The database answered again: said at once (the broadcast in hand may take minutes to finish), while
        the failures still count until a whole round of work succeeds."""
        if self.count and not self._said_back:
            logger.info("delivery engine: the database answers again after %d failed attempts", self.count)
            self._said_back = True

    def recovered(self) -> None:
        if self.count:
            logger.info("delivery engine: working again after %d failed attempts", self.count)
            self.count = 0
        self._said_back = False
