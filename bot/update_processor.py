"""Updates of different chats are handled at the same time; the updates of one chat strictly in arrival order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates received and not yet done, across all chats; beyond this python-telegram-bot waits to take more.
IN_HAND = 4096


def chat_key(update: object) -> int | None:
    """The chat whose updates must not overtake each other (the sender when there is no chat)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """While one person's reply waits for Telegram, everyone else's updates go on.

    python-telegram-bot starts one task per update in arrival order and takes a slot of its fair semaphore
    before handing it here; that semaphore only bounds the updates in hand (IN_HAND). Each update then waits for
    its chat's lock (asyncio locks are fair: a chat's updates run one at a time, first come first served) and
    only then for one of the running places (telegram.concurrent_updates). So updates queued behind their own chat
    hold no running place: a busy group or a person forwarding a hundred messages never stalls other chats.
    The lock of a chat exists only while it has updates in hand.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        # The base class's bound is on updates in hand; the running places are this class's own.
        super().__init__(max(IN_HAND, max_concurrent_updates))
        self.running_limit = max_concurrent_updates
        self._running = asyncio.Semaphore(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._holders: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock, self._running:
                await coroutine
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:
                del self._holders[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release: the Application waits for the updates in hand before shutting down."""

    @property
    def busy_chats(self) -> int:
        """Chats with updates being handled or waiting (for tests and diagnostics)."""
        return len(self._locks)
