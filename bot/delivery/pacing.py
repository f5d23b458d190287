"""Pacing of broadcast sends: how many requests may leave now, as Telegram counts them."""

from __future__ import annotations

import asyncio
import time
from collections import deque


class Pacer:
    """Paces sends: RATE per second on average (a token bucket with bursts of at most BURST) and never more
    than RATE in any one-second window (as Telegram counts), with a hold after a 429."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._tokens = float(self.burst)
        self._stamp = time.monotonic()
        self._held_until = 0.0
        self._window: deque[tuple[float, int]] = deque()  # (when, how many) over the last second
        self._in_window = 0
        self._lock = asyncio.Lock()

    def hold(self, seconds: float) -> None:
        """Telegram said 'retry after SECONDS': nobody sends until then."""
        self._held_until = max(self._held_until, time.monotonic() + seconds)
        self._tokens = 0.0

    async def take(self, count: int) -> None:
        """Wait until COUNT sends are allowed (COUNT must not exceed the burst)."""
        async with self._lock:
            while True:
                now = time.monotonic()
                if now < self._held_until:
                    await asyncio.sleep(self._held_until - now)
                    self._stamp = time.monotonic()
                    continue
                while self._window and self._window[0][0] <= now - 1.0:
                    self._in_window -= self._window.popleft()[1]
                self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._in_window + count > self.rate and self._window:
                    await asyncio.sleep(self._window[0][0] + 1.0 - now)
                    continue
                if self._tokens >= count:
                    self._tokens -= count
                    self._window.append((now, count))
                    self._in_window += count
                    return
                await asyncio.sleep((count - self._tokens) / self.rate)
