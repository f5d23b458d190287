"""Paces a broadcast's requests: one at a time, evenly spaced, never more than the rate in any second.

Telegram counts requests in a sliding one-second window as they arrive, and requests bunched when they leave
arrive bunched. So departures are spread evenly (never in bursts) and spaced so that the N = floor(rate)
allowed in a second span 1 s + MARGIN: an arrival may come up to MARGIN later or earlier than its neighbours
and still no one-second window at the server holds more than N. A hard check on the recorded departures
(no window of 1 s + MARGIN / 2 holds more than N) keeps that true while catching up after a late wake-up.

Above 200 per second a wake-up per message would cost more than it is worth: there the departures due in the
next QUANTUM leave together, small groups of a few messages every 5 ms, within the same limits.

Self-contained (no engine imports): the clock and the sleep can be replaced, for tests.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

WINDOW = 1.0  # Telegram's window, seconds
MARGIN = 0.01  # the spacing spreads N departures over WINDOW + MARGIN: room for jitter on the way
# Lateness (a busy event loop, a slow commit, the process descheduled) up to this much is made up by leaving the
# next ones sooner, not lost; longer delays are lost rather than turned into a burst. At low rates 20 ms and at
# most half a gap, so no two leave together; at high rates, where departures go in small groups anyway, 50 ms.
CATCH_UP_LOW, CATCH_UP_HIGH = 0.02, 0.05
QUANTUM = 0.005  # at high rates, departures due within this much leave together (one wake-up for the group)


class Pacer:
    """Lets departures out one at a time: at most `per_window` in any one-second window, evenly spaced.

    `per_window` is floor(rate) (1 below a rate of 1: then one departure every 1/rate seconds). Over a long run
    `per_window / (1 s + MARGIN)` depart per second, 99% of an integer rate. Callers: `await ready()` (optional)
    to wait until the next departure is due without taking it, e.g. to commit a `sending` mark just before;
    `await take()` right before each request; `hold(seconds)` when Telegram answers 429 with retry_after.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.per_window = max(1, math.floor(rate))
        self.spacing = (WINDOW + MARGIN) / self.per_window if rate >= 1 else 1.0 / rate
        high = self.spacing < QUANTUM
        self._early = QUANTUM if high else 0.0
        self._catch_up = CATCH_UP_HIGH if high else min(CATCH_UP_LOW, self.spacing / 2)
        self._clock = clock
        self._sleep = sleep
        self._next = clock()  # when the next departure is due on the even schedule
        self._held_until = 0.0
        # The last `per_window` departures (fewer once older than the guard window: memory stays small).
        self._recent: deque[float] = deque()
        self._guard = WINDOW + MARGIN / 2
        self._lock = asyncio.Lock()  # one departure decided at a time, in the order asked (FIFO)

    def hold(self, seconds: float) -> None:
        """Telegram said 'retry after SECONDS': nobody departs until then; afterwards, evenly spaced again."""
        self._held_until = max(self._held_until, self._clock() + seconds)
        self._next = max(self._next, self._held_until)

    async def ready(self) -> None:
        """Wait until the next departure is due, without taking it (another caller may take it first)."""
        async with self._lock:
            await self._wait_until_due()

    async def take(self) -> None:
        """Wait for the next departure and take it: the caller sends its one request right away."""
        async with self._lock:
            now = await self._wait_until_due()
            self._recent.append(now)
            if len(self._recent) > self.per_window:
                self._recent.popleft()
            # The schedule moves on from the due time, or from now when later than the catch-up allows.
            self._next = max(self._next, now - self._catch_up) + self.spacing

    async def _wait_until_due(self) -> float:
        while True:
            now = self._clock()
            while self._recent and self._recent[0] <= now - self._guard:
                self._recent.popleft()
            # On schedule (or a little early, at high rates), not held, and the last second not full.
            due = self._next if self._next > now + self._early else now
            due = max(due, self._held_until)
            if len(self._recent) >= self.per_window:
                due = max(due, self._recent[0] + self._guard)
            if due <= now:
                return now
            await self._sleep(due - now)  # then look again: hold() may have been called meanwhile
