"""Updates of different chats are handled at the same time; the updates of one chat strictly in arrival order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


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

    python-telegram-bot starts one task per update in arrival order and its semaphore is fair, so the tasks of
    one chat reach that chat's lock in order, and asyncio locks are fair too: each chat's updates run one at a
    time, first come first served. The lock of a chat exists only while it has updates in hand.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._holders: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock:
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
