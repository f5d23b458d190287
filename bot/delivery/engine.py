"""The delivery loop: picks up due broadcasts, holds their lease, sends them in passes, and outlives any error.

Each recipient has a delivery row written before the first send. Just before a request goes out its row is
marked `sending` and committed (a few rows at a time, 50 ms of sending, when the first of them is due to
leave, together with the outcomes answered so far); the outcome replaces that mark. A row still `sending` after
a crash may or may not have reached Telegram, so it becomes `uncertain` and is never resent blindly.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot, InlineKeyboardMarkup

from bot import catalog, db, i18n
from bot.config import Settings
from bot.delivery import reporting
from bot.delivery.outcomes import Outcomes
from bot.delivery.pacing import Pacer
from bot.delivery.retry import RETRY_MOST_SECONDS, Trouble
from bot.delivery.sending import BroadcastBot, ChatSpacing, send_one
from bot.render import Renderer
from bot.services import audit, broadcasts, deliveries, quiet
from bot.services.deliveries import Outcome, Recipient
from bot.views import commitments as commitment_views
from models import Broadcast, BroadcastStatus, DeliveryStatus, utcnow

logger = logging.getLogger(__name__)

CONTROL_CHECK_SECONDS = 1.0
MARK_SECONDS = 0.05  # rows marked `sending` at once: this much sending
IDLE_SECONDS = 1.0
# The notice the owner gets when the engine pauses a broadcast by itself, by reason.
PAUSE_NOTICES = {"quiet": "quiet_paused", "template_changed": "template_changed", "role_changed": "role_changed"}


@dataclass
class _Pass:
    """What the sends of one pass over a broadcast share."""

    template: str
    values: dict[str, Any]
    broadcast_id: int
    # The commitment buttons the template carries (bot/commitments.py), and their keyboard by language.
    commitments: tuple[str, ...]
    paid: bool
    pacer: Pacer
    slots: asyncio.Semaphore
    now: dt.datetime
    keyboards: dict[str, InlineKeyboardMarkup | None] = field(default_factory=dict)

    def keyboard(self, locale: str) -> InlineKeyboardMarkup | None:
        """The commitment buttons in LOCALE (made once a pass per language); None when the template has none."""
        if locale not in self.keyboards:
            self.keyboards[locale] = commitment_views.keyboard(self.broadcast_id, self.commitments, locale)
        return self.keyboards[locale]


class DeliveryEngine:
    """Runs in the bot's process: picks up running and due broadcasts and sends them."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        sender: BroadcastBot,
        notifier: Bot,
        renderer: Renderer,
        retry_most_seconds: float = RETRY_MOST_SECONDS,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.sender = sender
        self.notifier = notifier
        self.renderer = renderer
        self.worker = uuid.uuid4().hex
        self.trouble = Trouble(most=retry_most_seconds)
        self._wake = asyncio.Event()
        self.outcomes = Outcomes(sessions)
        self._spacing = ChatSpacing()

    def wake(self) -> None:
        """Something changed (a new, resumed or cancelled broadcast): look now rather than at the next tick."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Until STOP is set, deliver whatever is due, one broadcast at a time; no error ends this loop."""
        try:
            while not stop.is_set():
                try:
                    await self.settle()
                    broadcast_id = await self.next_due()
                    self.trouble.answering()
                    if broadcast_id is not None:
                        await self.deliver(broadcast_id, stop)
                except Exception as exc:
                    delay = self.trouble.failed("delivering broadcasts", exc)
                    await self._sleep(stop, delay)
                    continue
                self.trouble.recovered()
                if broadcast_id is None:
                    self._wake.clear()
                    await self._sleep(stop, IDLE_SECONDS, wakeable=True)
        finally:
            await self._shutdown()

    async def _sleep(self, stop: asyncio.Event, seconds: float, *, wakeable: bool = False) -> None:
        waiters = [asyncio.ensure_future(stop.wait())]
        if wakeable:
            waiters.append(asyncio.ensure_future(self._wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _shutdown(self) -> None:
        """Write what is still in memory, a few tries; what cannot be written stays `sending` (uncertain later)."""
        for attempt in range(3):
            try:
                await self.settle()
                return
            except Exception as exc:
                if attempt == 2:
                    logger.error(
                        "delivery engine: %d outcomes could not be written at shutdown: %s", len(self.outcomes), exc
                    )
                    return
                await asyncio.sleep(1.0)

    async def settle(self) -> None:
        """Write what a failed write left in memory (run before each pass and at shutdown)."""
        await self.outcomes.settle()

    # ------------------------------------------------------------------------------------- choosing work

    async def next_due(self) -> int | None:
        """The broadcast to work on now (taken for this engine); due scheduled ones start or wait out a quiet
        period, and running ones a quiet period paused go on at its release."""
        now = utcnow()
        blocked = quiet.blocked_at(self.settings, now)
        async with self.sessions() as session:
            released = await quiet.release_paused(session=session, settings=self.settings, now=now)
            await session.commit()
            for broadcast in released:
                await self._report(session, broadcast, notice="quiet_released")
            running = await deliveries.next_running(session=session, worker=self.worker, now=now)
            if running is not None and await deliveries.take(session=session, broadcast=running, worker=self.worker):
                if blocked is None:
                    return running.id
                if not await self._pause(session, running, "quiet", notice="quiet_paused"):
                    await self._release(running.id or 0)
                return None
            due = await deliveries.next_scheduled(session=session, worker=self.worker, now=now)
            if due is None or not await deliveries.take(session=session, broadcast=due, worker=self.worker):
                return None
            started = await deliveries.start_scheduled(
                session=session, broadcast=due, postpone_to=blocked.release if blocked is not None else None
            )
            await session.commit()
            if not started:  # cancelled or paused meanwhile: that stands
                await self._release(due.id or 0)
                return None
            if blocked is not None:
                await self._report(session, due, notice="quiet_postponed")
                return None
            return due.id

    async def _pause(self, session: AsyncSession, broadcast: Broadcast, reason: str, *, notice: str) -> bool:
        """Pause for a reason of the engine's own (quiet period, changed template or role), and say so; False
        when it was no longer running (a person's cancel or pause came first)."""
        paused = await deliveries.pause(session=session, broadcast=broadcast, reason=reason)
        await session.commit()
        if paused:
            await self._report(session, broadcast, notice=notice)
        return paused

    async def _check(self, broadcast_id: int) -> BroadcastStatus | None:
        """Renew the lease and look at the controls and the rules; the status to go on with, None when another
        engine holds the broadcast now."""
        async with self.sessions() as session:
            broadcast = await deliveries.renew_lease(session=session, broadcast_id=broadcast_id, worker=self.worker)
            await session.commit()
            if broadcast is None:
                return None
            status = BroadcastStatus(broadcast.status)
            if status is BroadcastStatus.RUNNING and (
                reason := await deliveries.reason_to_pause(session=session, broadcast=broadcast, settings=self.settings)
            ):
                if await self._pause(session, broadcast, reason, notice=PAUSE_NOTICES[reason]):
                    return BroadcastStatus.PAUSED
                return BroadcastStatus(broadcast.status)  # a person's pause or cancel came first
            await session.commit()
            return status

    # ------------------------------------------------------------------------------------- sending

    async def deliver(self, broadcast_id: int, stop: asyncio.Event) -> None:
        """Send one broadcast (already taken by next_due) until it is done, paused, cancelled, in a quiet
        period, or the bot stops."""
        await self.settle()
        if await self._check(broadcast_id) is not BroadcastStatus.RUNNING:
            await self._release(broadcast_id)
            return
        async with self.sessions() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            assert broadcast is not None
            info = catalog.get_template_info(self.settings.templates.dir, broadcast.template)
            assert info is not None  # just checked
            values = broadcasts.parse_values(info, broadcast.values, self.settings)
            if broadcast.started_at is None:
                broadcast.started_at = utcnow()
                session.add(broadcast)
                await audit.record(
                    session=session, action="broadcast.start", actor_person_id=None, broadcast=broadcast.id
                )
                await session.commit()
            paid = broadcast.paid
            await self._report(session, broadcast)
        rate = self.settings.broadcast.paid_rate_per_second if paid else self.settings.broadcast.rate_per_second
        in_flight = self.settings.broadcast.max_in_flight
        # Rows are read ahead (a tenth of a second, at least 5), but marked `sending` only a few at a time (50 ms
        # of sending: one row below 40/s, few enough commits at 1,000/s) when the first of them is due to leave:
        # after a crash, uncertain rows are those in flight, hardly more. The pacer then lets each request out
        # on its own, evenly spaced.
        batch = max(1, min(math.floor(rate * MARK_SECONDS), in_flight // 4))
        chunk = max(batch, min(math.ceil(in_flight / 4), max(5, math.ceil(rate / 10))))
        pacer = Pacer(rate)

        slots = asyncio.Semaphore(in_flight)
        tasks: set[asyncio.Task[None]] = set()
        flushed = asyncio.Event()
        flusher = asyncio.create_task(self.outcomes.write_forever(flushed))
        kinds = tuple(broadcast.commitments) if broadcast.commitments is not None else info.commitments
        context = _Pass(info.name, values, broadcast_id, kinds, paid, pacer, slots, utcnow())
        last_control = last_report = time.monotonic()
        state: BroadcastStatus | None = BroadcastStatus.RUNNING
        cursor = 0
        reading = asyncio.create_task(self._read(broadcast_id, cursor, chunk))
        report: asyncio.Task[None] | None = None
        try:
            while not stop.is_set():
                if self._wake.is_set() or time.monotonic() - last_control >= CONTROL_CHECK_SECONDS:
                    self._wake.clear()
                    last_control = time.monotonic()
                    state = await self._check(broadcast_id)
                    if state is not BroadcastStatus.RUNNING:
                        break
                if time.monotonic() - last_report >= self.settings.broadcast.status_interval_seconds:
                    # In the background: editing the status message must not hold up the sending.
                    last_report = time.monotonic()
                    if report is None or report.done():
                        report = asyncio.create_task(self._report_by_id(broadcast_id))
                rows = await reading
                if not rows:
                    # A cancel empties the queue before its wake() arrives: read the state, do not assume done.
                    state = await self._check(broadcast_id)
                    break
                reading = asyncio.create_task(self._read(broadcast_id, rows[-1].delivery_id, chunk))
                context.now = utcnow()
                await self._skip([r for r in rows if not r.eligible])
                sendable = [r for r in rows if r.eligible]
                for start in range(0, len(sendable), batch):
                    if self._wake.is_set() or stop.is_set() or time.monotonic() - last_control >= CONTROL_CHECK_SECONDS:
                        break  # look at the controls now; the rest of the chunk is still pending
                    group = sendable[start : start + batch]
                    for _ in group:  # room for the whole batch first: nothing marked waits for a slot
                        await slots.acquire()
                    waiting = time.monotonic()
                    await pacer.ready()
                    if self._wake.is_set() or stop.is_set() or time.monotonic() - waiting >= CONTROL_CHECK_SECONDS:
                        # A long wait (a 429's retry_after): a pause, an edit or a revoked role may have come
                        # meanwhile. Look at the controls before anything more is marked; the rows stay pending.
                        for _ in group:
                            slots.release()
                        break
                    try:
                        marked = await self.outcomes.mark_sending([r.delivery_id for r in group])
                    except BaseException:
                        for _ in group:
                            slots.release()
                        raise
                    for recipient in group:
                        if recipient.delivery_id not in marked:
                            slots.release()  # cancelled or taken meanwhile: not ours to send
                            continue
                        # Rendered before the pacer lets it go, so that it leaves the moment it may: the first
                        # rendering of a pass (templates, the region table) would otherwise make it leave late
                        # and arrive bunched with the next one.
                        text = self._render(recipient, context)
                        await pacer.take()
                        task = asyncio.create_task(self._send(recipient, text, context))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                    cursor = group[-1].delivery_id
                else:
                    continue
                reading.cancel()  # read again from where the sending stopped
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reading
                reading = asyncio.create_task(self._read(broadcast_id, cursor, chunk))
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reading
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            if report is not None:
                await asyncio.gather(report, return_exceptions=True)
            self.outcomes.stop_writing(flushed)
            with contextlib.suppress(Exception):
                await flusher
        await self.outcomes.flush()  # raises while the database refuses: run() retries, the outcomes stay in memory
        if state is BroadcastStatus.RUNNING and not stop.is_set():
            await self._finish(broadcast_id)
        elif state is BroadcastStatus.CANCELLED:
            await self._close_cancelled(broadcast_id)
        else:
            await self._report_by_id(broadcast_id)
        if state is not None:
            await self._release(broadcast_id)

    async def _release(self, broadcast_id: int) -> None:
        async with db.unit_of_work(self.sessions) as session:
            await deliveries.release(session=session, broadcast_id=broadcast_id, worker=self.worker)

    async def _read(self, broadcast_id: int, cursor: int, limit: int) -> list[Recipient]:
        async with self.sessions() as session:
            return await deliveries.pending(session=session, broadcast_id=broadcast_id, after=cursor, limit=limit)

    async def _skip(self, recipients: list[Recipient]) -> None:
        if recipients:
            async with db.unit_of_work(self.sessions) as session:
                await deliveries.skip(session=session, delivery_ids=[r.delivery_id for r in recipients])

    async def _send(self, recipient: Recipient, text: str | Outcome, context: _Pass) -> None:
        try:
            outcome = text if isinstance(text, Outcome) else await self._attempt(recipient, text, context)
        except Exception as exc:  # never lose an outcome: an unexpected error is reported, not swallowed
            logger.exception("delivery %s: unexpected error", recipient.delivery_id)
            outcome = Outcome(
                recipient.delivery_id, DeliveryStatus.UNCERTAIN, recipient.attempts + 1, error=repr(exc)[:200]
            )
        finally:
            context.slots.release()
        self.outcomes.add(outcome)

    def _render(self, recipient: Recipient, context: _Pass) -> str | Outcome:
        """The recipient's text, or the outcome when there is none to send."""
        attempts = recipient.attempts + 1
        if recipient.chat_id is None:
            return Outcome(recipient.delivery_id, DeliveryStatus.FAILED, attempts, error="no private chat")
        try:
            return broadcasts.render_message(
                self.renderer,
                self.settings,
                template=context.template,
                values=context.values,
                name=recipient.name or "",
                category=recipient.category,
                region_code=recipient.region_code,
                locale=recipient.locale,
                now=context.now,
            )
        except Exception as exc:
            return Outcome(recipient.delivery_id, DeliveryStatus.FAILED, attempts, error=f"render: {exc}"[:200])

    async def _attempt(self, recipient: Recipient, text: str, context: _Pass) -> Outcome:
        assert recipient.chat_id is not None
        return await send_one(
            self.sender,
            delivery_id=recipient.delivery_id,
            figure_id=recipient.figure_id,
            chat_id=recipient.chat_id,
            text=text,
            attempts=recipient.attempts + 1,
            paid=context.paid,
            pacer=context.pacer,
            spacing=self._spacing,
            max_attempts=self.settings.broadcast.max_attempts,
            # In the language the message is written in (the template's), not only the reader's.
            reply_markup=context.keyboard(
                self.renderer.message_locale(
                    context.template, i18n.chosen_locale(recipient.locale, self.settings.locale.default)
                )
            ),
        )

    async def _finish(self, broadcast_id: int) -> None:
        """Nothing pending and nothing of ours in flight: close the broadcast with its final report."""
        if len(self.outcomes):
            return  # outcomes not yet recorded (the database refused them): the next pass ends it
        async with self.sessions() as session:
            counts = await deliveries.finish(session=session, broadcast_id=broadcast_id)
            await session.commit()
            if counts is None:
                return
            broadcast = await session.get(Broadcast, broadcast_id, populate_existing=True)
            if broadcast is not None:
                await self._report(session, broadcast, counts=counts)

    async def _close_cancelled(self, broadcast_id: int) -> None:
        """A cancelled broadcast: what was still pending is skipped; record the final counts."""
        async with self.sessions() as session:
            counts = await deliveries.close_cancelled(session=session, broadcast_id=broadcast_id)
            await session.commit()
            broadcast = await session.get(Broadcast, broadcast_id)
            if broadcast is not None:
                await self._report(session, broadcast, counts=counts)

    async def _report_by_id(self, broadcast_id: int) -> None:
        async with self.sessions() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            if broadcast is not None:
                await self._report(session, broadcast)

    async def _report(
        self, session: AsyncSession, broadcast: Broadcast, *, counts: dict[str, int] | None = None, notice: str = ""
    ) -> None:
        await reporting.report(self.notifier, self.settings, session, broadcast, counts=counts, notice=notice)
