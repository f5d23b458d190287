"""The answers of one engine not yet on disk: gathered as they come, written at once or with the next burst."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import db
from bot.services import deliveries
from bot.services.deliveries import Outcome

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 0.2  # the first wait before writing outcomes again after a failed write


class Outcomes:
    """Outcomes kept in memory until written (never lost when a write fails), and the rows whose `sending` mark
    may have been committed although the mark raised, so their requests never went out."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._kept: list[Outcome] = []
        self._unsent: set[int] = set()
        self._answered = asyncio.Event()

    def __len__(self) -> int:
        return len(self._kept)

    def add(self, outcome: Outcome) -> None:
        self._kept.append(outcome)
        self._answered.set()

    async def mark_sending(self, delivery_ids: Collection[int]) -> set[int]:
        """Mark DELIVERY_IDS `sending` and commit, with the outcomes gathered so far, before any request."""
        outcomes, self._kept = self._kept, []
        try:
            async with db.unit_of_work(self.sessions) as session:
                return await deliveries.mark_sending(session=session, delivery_ids=delivery_ids, outcomes=outcomes)
        except BaseException:
            self._kept[:0] = outcomes
            # The commit may have gone through although it raised: these rows may be `sending`, never sent.
            self._unsent.update(delivery_ids)
            raise

    async def flush(self) -> None:
        """Write the outcomes gathered so far in one batched statement; kept for the next try if that fails."""
        if not self._kept:
            return
        outcomes, self._kept = self._kept, []
        try:
            async with db.unit_of_work(self.sessions) as session:
                await deliveries.record_outcomes(session=session, outcomes=outcomes)
        except BaseException:
            self._kept[:0] = outcomes
            raise

    async def settle(self) -> None:
        """Write the outcomes kept in memory and make the rows that were never sent pending again."""
        await self.flush()
        if self._unsent:
            unsent = set(self._unsent)
            async with db.unit_of_work(self.sessions) as session:
                await deliveries.unmark_sending(session=session, delivery_ids=unsent)
            self._unsent -= unsent

    async def write_forever(self, done: asyncio.Event) -> None:
        """Write each answer as soon as it comes (those that come meanwhile go together in the next write), so
        that after a crash only requests truly in flight are uncertain; ends, between writes, once DONE is set."""
        failures = 0
        while not done.is_set():
            await self._answered.wait()
            self._answered.clear()
            try:
                await self.flush()
                failures = 0
            except Exception as exc:
                # Quietly: the pass itself meets the same error within a second, and run() logs it once.
                failures += 1
                logger.debug("delivery outcomes not written yet (%s); retrying", type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), timeout=FLUSH_SECONDS * 2 ** min(failures, 5))
                self._answered.set()

    def stop_writing(self, done: asyncio.Event) -> None:
        """Let write_forever end after the write under way (never cancelled mid-write: a cancelled SQLite write
        can keep the lock for a while)."""
        done.set()
        self._answered.set()
