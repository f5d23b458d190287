"""The delivery engine: the one place that sends broadcasts, paced, durable, and never twice.

Each recipient has a delivery row written before the first send. Just before a request goes out its row is
marked `sending` and committed (a few rows at a time, only as many as the pacer lets out at once); the outcome
replaces that mark. A row still `sending` after a crash may or may not have reached Telegram, so it becomes
`uncertain` and is never resent blindly.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
import logging
import math
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot import catalog, i18n
from bot.config import Settings
from bot.render import Renderer
from bot.request import NotSent
from bot.services import audit, broadcasts, roles
from models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus, Figure, Person, Role, utcnow

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "bc"
# Core table for the batched executemany update (the ORM's bulk update wants primary keys by name).
DELIVERY_TABLE: sa.Table = Delivery.__table__  # type: ignore[attr-defined]
FLUSH_SECONDS = 0.2
CONTROL_CHECK_SECONDS = 1.0
IDLE_SECONDS = 1.0
PER_CHAT_GAP = 1.0  # Telegram: at most one message per second to one chat.
LEASE_SECONDS = 10.0  # an engine silent this long has died: another may take its broadcast over
MAX_THROTTLED = 100  # 429 answers for one delivery before it is reported failed
BAR_WIDTH = 10


class BroadcastBot(Bot):
    """A Bot that sends broadcast texts without building a Message object from each answer.

    Parsing the answer into python-telegram-bot objects costs about 200 µs a message, a fifth of the budget
    at 1,000 messages per second; only the message id is needed.
    """

    async def send_text(self, chat_id: int, text: str, *, paid: bool) -> int:
        data: dict[str, Any] = {
            "chat_id": chat_id,
            "text": text,
            "parse_mode": ParseMode.HTML.value,
            "link_preview_options": {"is_disabled": True},
        }
        if paid:
            data["allow_paid_broadcast"] = True
        result = await self._post("sendMessage", data)
        return int(result["message_id"])


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


@dataclass(frozen=True, slots=True)
class Recipient:
    delivery_id: int
    attempts: int
    figure_id: int
    chat_id: int | None
    name: str | None
    category: str
    region_code: str
    language_code: str | None
    eligible: bool


@dataclass(slots=True)
class Outcome:
    delivery_id: int
    status: DeliveryStatus
    attempts: int
    message_id: int | None = None
    error: str | None = None
    unreachable_figure: int | None = None


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
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.sender = sender
        self.notifier = notifier
        self.renderer = renderer
        self.worker = uuid.uuid4().hex
        self._wake = asyncio.Event()
        self._outcomes: list[Outcome] = []
        self._last_sent: dict[int, float] = {}

    def wake(self) -> None:
        """Something changed (a new, resumed or cancelled broadcast): look now rather than at the next tick."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Until STOP is set, deliver whatever is due, one broadcast at a time."""
        while not stop.is_set():
            broadcast_id = await self.next_due()
            if broadcast_id is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wait_any(stop), timeout=IDLE_SECONDS)
                continue
            try:
                await self.deliver(broadcast_id, stop)
            except Exception:
                logger.exception("broadcast %s: delivery stopped by an error; it will be retried", broadcast_id)
                await asyncio.sleep(IDLE_SECONDS)

    async def _wait_any(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    # ------------------------------------------------------------------------------------- the lease

    def _free(self, now: dt.datetime) -> ColumnElement[bool]:
        """Broadcasts nobody else is working on: no worker, this engine, or a worker silent for too long."""
        return sa.or_(
            col(Broadcast.worker).is_(None),
            col(Broadcast.worker) == self.worker,
            col(Broadcast.worker_seen_at) < now - dt.timedelta(seconds=LEASE_SECONDS),
        )

    async def _take(self, session: AsyncSession, broadcast: Broadcast) -> bool:
        """Take BROADCAST for this engine; a previous worker's rows still `sending` become uncertain."""
        now = utcnow()
        previous = broadcast.worker
        # End the read first: in SQLite a read transaction cannot become a write once others have written.
        await session.commit()
        connection = await session.connection()
        taken = await connection.execute(
            sa.update(Broadcast)
            .where(col(Broadcast.id) == broadcast.id, self._free(now))
            .values(worker=self.worker, worker_seen_at=now)
        )
        if taken.rowcount != 1:
            await session.rollback()
            return False
        if previous != self.worker:
            # Whoever marked these died before recording an outcome: the message may or may not have gone.
            recovered = await connection.execute(
                sa.update(Delivery)
                .where(col(Delivery.broadcast_id) == broadcast.id, col(Delivery.status) == DeliveryStatus.SENDING)
                .values(status=DeliveryStatus.UNCERTAIN, error="outcome unknown after a restart", updated_at=now)
            )
            if recovered.rowcount:
                logger.warning(
                    "broadcast %s: %d deliveries were in flight when the bot stopped: marked uncertain",
                    broadcast.id,
                    recovered.rowcount,
                )
        await session.commit()
        await session.refresh(broadcast)
        return True

    async def _heartbeat(self, broadcast_id: int) -> BroadcastStatus | None:
        """Renew the lease and read the status; None when another engine holds the broadcast now."""
        async with self.sessions() as session:
            connection = await session.connection()
            renewed = await connection.execute(
                sa.update(Broadcast)
                .where(col(Broadcast.id) == broadcast_id, col(Broadcast.worker) == self.worker)
                .values(worker_seen_at=utcnow())
            )
            broadcast = await session.get(Broadcast, broadcast_id)
            await session.commit()
        if renewed.rowcount != 1 or broadcast is None:
            return None
        return BroadcastStatus(broadcast.status)

    async def _release(self, broadcast_id: int) -> None:
        async with self.sessions() as session:
            connection = await session.connection()
            await connection.execute(
                sa.update(Broadcast)
                .where(col(Broadcast.id) == broadcast_id, col(Broadcast.worker) == self.worker)
                .values(worker=None, worker_seen_at=None)
            )
            await session.commit()

    # ------------------------------------------------------------------------------------- choosing work

    async def next_due(self) -> int | None:
        """The broadcast to work on now (taken for this engine); due scheduled ones start or wait out a quiet
        period."""
        now = utcnow()
        period = broadcasts.quiet_period_at(self.settings, now)
        async with self.sessions() as session:
            running = (
                await session.exec(
                    select(Broadcast)
                    .where(Broadcast.status == BroadcastStatus.RUNNING, self._free(now))
                    .order_by(col(Broadcast.id))
                )
            ).first()
            if running is not None and await self._take(session, running):
                if period is None:
                    return running.id
                await self._pause(session, running, "quiet", notice="quiet_paused")
                return None
            due = (
                await session.exec(
                    select(Broadcast)
                    .where(
                        Broadcast.status == BroadcastStatus.SCHEDULED,
                        col(Broadcast.scheduled_at) <= now,
                        self._free(now),
                    )
                    .order_by(col(Broadcast.scheduled_at))
                )
            ).first()
            if due is None or not await self._take(session, due):
                return None
            if period is not None:
                due.scheduled_at = period.end
                due.worker = due.worker_seen_at = None
                session.add(due)
                await session.commit()
                await self._report(session, due, notice="quiet_postponed")
                return None
            due.status = BroadcastStatus.RUNNING
            session.add(due)
            await session.commit()
            return due.id

    async def _pause(self, session: AsyncSession, broadcast: Broadcast, reason: str, *, notice: str) -> None:
        """Pause for a reason of the engine's own (quiet period, changed template or role), and say so."""
        broadcast.status, broadcast.pause_reason = BroadcastStatus.PAUSED, reason
        broadcast.worker = broadcast.worker_seen_at = None
        session.add(broadcast)
        await audit.record(
            session=session, action="broadcast.pause", actor_person_id=None, broadcast=broadcast.id, reason=reason
        )
        await session.commit()
        await self._report(session, broadcast, notice=notice)

    async def _still_allowed(self, session: AsyncSession, broadcast: Broadcast) -> bool:
        """The creator still holds the role and the regions the broadcast was composed under."""
        creator = await session.get(Person, broadcast.created_by) if broadcast.created_by else None
        if creator is None:
            return False
        authority = await roles.authority_of(
            session=session, person=creator, bootstrap_admins=self.settings.roles.bootstrap_admins
        )
        scope = broadcast.segment.get("scope", [])
        if scope == ["*"]:
            return authority.role is Role.ADMIN
        return authority.at_least(Role.ORGANIZER) and all(authority.covers(code) for code in scope)

    # ------------------------------------------------------------------------------------- sending

    async def deliver(self, broadcast_id: int, stop: asyncio.Event) -> None:
        """Send one broadcast (already taken by next_due) until it is done, paused, cancelled, in a quiet
        period, or the bot stops."""
        async with self.sessions() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            assert broadcast is not None
            info = catalog.get_template_info(self.settings.templates.dir, broadcast.template)
            if info is None or info.version != broadcast.template_version:
                await self._pause(session, broadcast, "template_changed", notice="template_changed")
                return
            if not await self._still_allowed(session, broadcast):
                await self._pause(session, broadcast, "role_changed", notice="role_changed")
                return
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
        # Rows are read ahead, but marked `sending` only in bursts (50 ms of sending, at least 5 messages so a
        # slow moment at a low rate is caught up), just before their requests go out: after a crash, uncertain
        # rows are those in flight, hardly more. Small bursts also keep arrivals at Telegram smooth.
        burst = max(1, min(max(5, math.ceil(rate / 20)), in_flight // 4))
        chunk = max(burst, min(math.ceil(in_flight / 4), math.ceil(rate / 10)))
        pacer = Pacer(rate, burst=burst)
        slots = asyncio.Semaphore(in_flight)
        tasks: set[asyncio.Task[None]] = set()
        flusher = asyncio.create_task(self._flush_forever())
        context = _SendContext(broadcast_id, info.name, values, paid, pacer, slots, utcnow())
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
                    state = await self._heartbeat(broadcast_id)
                    if state is BroadcastStatus.RUNNING and broadcasts.quiet_period_at(self.settings, utcnow()):
                        async with self.sessions() as session:
                            running = await session.get(Broadcast, broadcast_id)
                            assert running is not None
                            await self._pause(session, running, "quiet", notice="quiet_paused")
                        state = BroadcastStatus.PAUSED
                    if state is not BroadcastStatus.RUNNING:
                        break
                if time.monotonic() - last_report >= self.settings.broadcast.status_interval_seconds:
                    # In the background: editing the status message must not hold up the sending.
                    last_report = time.monotonic()
                    if report is None or report.done():
                        report = asyncio.create_task(self._report_by_id(broadcast_id))
                rows = await reading
                if not rows:
                    break
                reading = asyncio.create_task(self._read(broadcast_id, rows[-1].delivery_id, chunk))
                context.now = utcnow()
                await self._skip([r for r in rows if not r.eligible])
                sendable = [r for r in rows if r.eligible]
                for start in range(0, len(sendable), burst):
                    if self._wake.is_set() or stop.is_set():
                        break  # look at the controls now; the rest of the chunk is still pending
                    group = sendable[start : start + burst]
                    for _ in group:  # room for the whole burst first: nothing marked waits for a slot
                        await slots.acquire()
                    await pacer.take(len(group))
                    marked = await self._mark_sending(group)
                    for recipient in group:
                        if recipient.delivery_id not in marked:
                            slots.release()  # cancelled or taken meanwhile: not ours to send
                            continue
                        task = asyncio.create_task(self._send(recipient, context))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                    cursor = group[-1].delivery_id
                else:
                    continue
                reading.cancel()  # read again from where the sending stopped
                with contextlib.suppress(asyncio.CancelledError):
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
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            for attempt in range(3):
                try:
                    await self.flush()
                    break
                except Exception:
                    if attempt == 2:
                        raise  # kept in memory: the next pass writes them
                    await asyncio.sleep(1.0)
        if state is BroadcastStatus.RUNNING and not stop.is_set():
            await self._finish(broadcast_id)
        elif state is BroadcastStatus.CANCELLED:
            await self._close_cancelled(broadcast_id)
        else:
            await self._report_by_id(broadcast_id)
        if state is not None:
            await self._release(broadcast_id)

    async def _read(self, broadcast_id: int, cursor: int, limit: int) -> list[Recipient]:
        async with self.sessions() as session:
            return await self._pending(session, broadcast_id, cursor, limit)

    async def _skip(self, recipients: list[Recipient]) -> None:
        """Recipients who stopped messages or deleted their data after the broadcast was composed."""
        if not recipients:
            return
        async with self.sessions() as session:
            connection = await session.connection()
            await connection.execute(
                sa.update(Delivery)
                .where(
                    col(Delivery.id).in_([r.delivery_id for r in recipients]),
                    col(Delivery.status) == DeliveryStatus.PENDING,
                )
                .values(status=DeliveryStatus.SKIPPED, error="opted out or deleted before sending", updated_at=utcnow())
            )
            await session.commit()

    async def _mark_sending(self, recipients: list[Recipient]) -> set[int]:
        """Mark RECIPIENTS `sending` and commit, before any request; only rows still pending are marked."""
        async with self.sessions() as session:
            connection = await session.connection()
            result = await connection.execute(
                sa.update(Delivery)
                .where(
                    col(Delivery.id).in_([r.delivery_id for r in recipients]),
                    col(Delivery.status) == DeliveryStatus.PENDING,
                )
                .values(status=DeliveryStatus.SENDING, attempts=col(Delivery.attempts) + 1, updated_at=utcnow())
                .returning(col(Delivery.id))
            )
            marked = {row[0] for row in result.all() if row[0] is not None}
            await session.commit()
        return marked

    @staticmethod
    async def _pending(session: AsyncSession, broadcast_id: int, cursor: int, limit: int) -> list[Recipient]:
        result = await session.exec(
            select(  # type: ignore[call-overload, misc]
                Delivery.id,
                Delivery.attempts,
                Figure.id,
                Person.telegram_id,
                Figure.full_name,
                Figure.category,
                Figure.region_code,
                Person.language_code,
                Figure.messages_opt_in,
                Figure.unreachable_since,
                Figure.deleted_at,
            )
            .join(Figure, col(Figure.id) == col(Delivery.figure_id))
            .outerjoin(Person, col(Person.id) == col(Figure.person_id))
            .where(
                col(Delivery.broadcast_id) == broadcast_id,
                col(Delivery.status) == DeliveryStatus.PENDING,
                col(Delivery.id) > cursor,
            )
            .order_by(col(Delivery.id))
            .limit(limit)
        )
        recipients = []
        for row in result.all():
            eligible = row[3] is not None and row[8] and row[9] is None and row[10] is None
            recipients.append(Recipient(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], eligible))
        return recipients

    async def _send(self, recipient: Recipient, context: _SendContext) -> None:
        try:
            # Awaited first: flush() swaps the list, so `self._outcomes` must be looked up after the send.
            outcome = await self._attempt(recipient, context)
        except Exception as exc:  # never lose an outcome: an unexpected error is reported, not swallowed
            logger.exception("delivery %s: unexpected error", recipient.delivery_id)
            outcome = Outcome(
                recipient.delivery_id, DeliveryStatus.UNCERTAIN, recipient.attempts + 1, error=repr(exc)[:200]
            )
        finally:
            context.slots.release()
        self._outcomes.append(outcome)

    async def _attempt(self, recipient: Recipient, context: _SendContext) -> Outcome:
        """Send to one recipient, retrying only what provably did not reach Telegram or was refused with 429."""
        assert recipient.chat_id is not None
        attempts = recipient.attempts + 1
        try:
            text = broadcasts.render_message(
                self.renderer,
                self.settings,
                template=context.template,
                values=context.values,
                name=recipient.name or "",
                category=recipient.category,
                region_code=recipient.region_code,
                language_code=recipient.language_code,
                now=context.now,
            )
        except Exception as exc:
            return Outcome(recipient.delivery_id, DeliveryStatus.FAILED, attempts, error=f"render: {exc}"[:200])
        backoff, throttled = 0.5, 0
        while True:
            await self._space_per_chat(recipient.chat_id)
            try:
                message_id = await self.sender.send_text(recipient.chat_id, text, paid=context.paid)
                return Outcome(recipient.delivery_id, DeliveryStatus.SENT, attempts, message_id=message_id)
            except RetryAfter as exc:
                # Refused, so not delivered: wait as told, then the same delivery again.
                context.pacer.hold(_seconds(exc.retry_after))
                throttled += 1
                if throttled > MAX_THROTTLED:
                    return Outcome(recipient.delivery_id, DeliveryStatus.FAILED, attempts, error="too many requests")
                await context.pacer.take(1)
            except Forbidden as exc:
                status = DeliveryStatus.DEACTIVATED if "deactivated" in exc.message else DeliveryStatus.BLOCKED
                return Outcome(
                    recipient.delivery_id,
                    status,
                    attempts,
                    error=exc.message[:200],
                    unreachable_figure=recipient.figure_id,
                )
            except BadRequest as exc:
                if "chat not found" in exc.message.lower():
                    return Outcome(
                        recipient.delivery_id,
                        DeliveryStatus.CHAT_NOT_FOUND,
                        attempts,
                        error=exc.message[:200],
                        unreachable_figure=recipient.figure_id,
                    )
                return Outcome(recipient.delivery_id, DeliveryStatus.FAILED, attempts, error=exc.message[:200])
            except NetworkError as exc:
                if not isinstance(exc, NotSent) or attempts >= self.settings.broadcast.max_attempts:
                    # The request may have reached Telegram: do not send it again.
                    status = DeliveryStatus.UNCERTAIN if not isinstance(exc, NotSent) else DeliveryStatus.FAILED
                    return Outcome(recipient.delivery_id, status, attempts, error=exc.message[:200])
                attempts += 1
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                await context.pacer.take(1)
            except TelegramError as exc:
                return Outcome(recipient.delivery_id, DeliveryStatus.FAILED, attempts, error=exc.message[:200])

    async def _space_per_chat(self, chat_id: int) -> None:
        now = time.monotonic()
        last = self._last_sent.get(chat_id)
        if last is not None and now - last < PER_CHAT_GAP:
            await asyncio.sleep(PER_CHAT_GAP - (now - last))
        self._last_sent[chat_id] = time.monotonic()
        if len(self._last_sent) > 10_000:
            horizon = time.monotonic() - PER_CHAT_GAP
            self._last_sent = {chat: at for chat, at in self._last_sent.items() if at > horizon}

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await self.flush()
            except Exception:
                logger.exception("could not record delivery outcomes; retrying")

    async def flush(self) -> None:
        """Write the outcomes gathered so far in one batched statement; kept for the next try if that fails."""
        if not self._outcomes:
            return
        outcomes, self._outcomes = self._outcomes, []
        try:
            await self._write(outcomes)
        except BaseException:
            self._outcomes[:0] = outcomes
            raise

    async def _write(self, outcomes: list[Outcome]) -> None:
        now = utcnow()
        async with self.sessions() as session:
            connection = await session.connection()
            await connection.execute(
                sa.update(DELIVERY_TABLE)
                .where(DELIVERY_TABLE.c.id == sa.bindparam("delivery_id"))
                .values(
                    status=sa.bindparam("new_status"),
                    attempts=sa.bindparam("new_attempts"),
                    message_id=sa.bindparam("new_message_id"),
                    error=sa.bindparam("new_error"),
                    updated_at=now,
                ),
                [
                    {
                        "delivery_id": o.delivery_id,
                        "new_status": o.status.value,
                        "new_attempts": o.attempts,
                        "new_message_id": o.message_id,
                        "new_error": o.error,
                    }
                    for o in outcomes
                ],
            )
            unreachable = [o.unreachable_figure for o in outcomes if o.unreachable_figure is not None]
            if unreachable:
                await connection.execute(
                    sa.update(Figure)
                    .where(col(Figure.id).in_(unreachable), col(Figure.unreachable_since).is_(None))
                    .values(unreachable_since=now)
                )
            await session.commit()

    async def _finish(self, broadcast_id: int) -> None:
        """Nothing pending and nothing of ours in flight: close the broadcast with its final report."""
        if self._outcomes:
            return  # outcomes not yet recorded (the database refused them): the next pass ends it
        async with self.sessions() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            assert broadcast is not None
            connection = await session.connection()
            counts = await broadcasts.outcome_counts(session=session, broadcast_id=broadcast_id)
            if counts[DeliveryStatus.PENDING] or counts[DeliveryStatus.SENDING]:
                return
            # Only a broadcast still running becomes done: a cancel or pause that came meanwhile stands.
            closed = await connection.execute(
                sa.update(Broadcast)
                .where(col(Broadcast.id) == broadcast_id, col(Broadcast.status) == BroadcastStatus.RUNNING)
                .values(status=BroadcastStatus.DONE, finished_at=utcnow())
            )
            if closed.rowcount == 1:
                await audit.record(
                    session=session,
                    action="broadcast.finish",
                    actor_person_id=None,
                    broadcast=broadcast_id,
                    counts={k: v for k, v in counts.items() if v},
                )
            await session.commit()
            await session.refresh(broadcast)
            await self._report(session, broadcast, counts=counts)

    async def _close_cancelled(self, broadcast_id: int) -> None:
        """A cancelled broadcast: what was still pending is skipped; record the final counts."""
        async with self.sessions() as session:
            connection = await session.connection()
            await connection.execute(
                sa.update(Delivery)
                .where(col(Delivery.broadcast_id) == broadcast_id, col(Delivery.status) == DeliveryStatus.PENDING)
                .values(status=DeliveryStatus.SKIPPED, error="cancelled", updated_at=utcnow())
            )
            counts = await broadcasts.outcome_counts(session=session, broadcast_id=broadcast_id)
            await audit.record(
                session=session,
                action="broadcast.finish",
                actor_person_id=None,
                broadcast=broadcast_id,
                status=BroadcastStatus.CANCELLED.value,
                counts={k: v for k, v in counts.items() if v},
            )
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
        """Create or refresh the organizer's status message; a notice (quiet period …) is also sent on its own."""
        organizer = await session.get(Person, broadcast.created_by) if broadcast.created_by else None
        if organizer is None or organizer.telegram_id is None or broadcast.id is None:
            return
        locale = i18n.negotiate(organizer.language_code, self.settings.locale.default)
        counts = counts or await broadcasts.outcome_counts(session=session, broadcast_id=broadcast.id)
        text, markup = status_message(broadcast, counts, self.settings, locale)
        await session.commit()  # no read transaction held open across the network calls below
        try:
            if notice:
                await self.notifier.send_message(
                    organizer.telegram_id, notice_text(notice, broadcast, self.settings, locale)
                )
            if broadcast.status_message_id is None:
                sent = await self.notifier.send_message(organizer.telegram_id, text, reply_markup=markup)
                broadcast.status_chat_id, broadcast.status_message_id = sent.chat_id, sent.message_id
                session.add(broadcast)
                await session.commit()
            else:
                await self.notifier.edit_message_text(
                    text, chat_id=broadcast.status_chat_id, message_id=broadcast.status_message_id, reply_markup=markup
                )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                logger.warning("broadcast %s: status message not updated: %s", broadcast.id, exc)
        except TelegramError as exc:
            logger.warning("broadcast %s: status message not updated: %s", broadcast.id, exc)


@dataclass
class _SendContext:
    broadcast_id: int
    template: str
    values: dict[str, Any]
    paid: bool
    pacer: Pacer
    slots: asyncio.Semaphore
    now: dt.datetime


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


# ----------------------------------------------------------------------------------------- status text


def progress_bar(done: int, total: int) -> str:
    filled = BAR_WIDTH if total == 0 else round(BAR_WIDTH * done / total)
    return "▓" * filled + "░" * (BAR_WIDTH - filled)


def status_message(
    broadcast: Broadcast, counts: dict[str, int], settings: Settings, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The organizer's view of one broadcast: progress, outcomes, time left, and the buttons that apply."""
    _ = i18n.gettext_for(locale)
    total = broadcast.recipient_count
    open_ = counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0)
    done = total - open_
    states = {
        BroadcastStatus.SCHEDULED: _("scheduled"),
        BroadcastStatus.RUNNING: _("sending"),
        BroadcastStatus.PAUSED: _("paused"),
        BroadcastStatus.CANCELLED: _("cancelled"),
        BroadcastStatus.DONE: _("finished"),
    }
    title = catalog.get_template_info(settings.templates.dir, broadcast.template)
    lines = [
        _("<b>Broadcast #{id}</b>: {title} — {state}").format(
            id=broadcast.id,
            title=_escape(title.title if title else broadcast.template),
            state=states[BroadcastStatus(broadcast.status)],
        ),
        f"{progress_bar(done, total)} {i18n.format_number(done, locale)}/{i18n.format_number(total, locale)}",
        _("Sent: {sent} · Failed: {failed} · Blocked: {blocked} · Skipped: {skipped} · Uncertain: {uncertain}").format(
            sent=counts.get(DeliveryStatus.SENT, 0),
            failed=counts.get(DeliveryStatus.FAILED, 0) + counts.get(DeliveryStatus.CHAT_NOT_FOUND, 0),
            blocked=counts.get(DeliveryStatus.BLOCKED, 0) + counts.get(DeliveryStatus.DEACTIVATED, 0),
            skipped=counts.get(DeliveryStatus.SKIPPED, 0),
            uncertain=counts.get(DeliveryStatus.UNCERTAIN, 0),
        ),
    ]
    status = BroadcastStatus(broadcast.status)
    if status is BroadcastStatus.SCHEDULED and broadcast.scheduled_at:
        lines.append(
            _("Scheduled for {when}.").format(when=i18n.format_datetime(broadcast.scheduled_at, settings.tz, locale))
        )
    if status is BroadcastStatus.RUNNING and open_:
        rate = settings.broadcast.paid_rate_per_second if broadcast.paid else settings.broadcast.rate_per_second
        left = dt.timedelta(seconds=max(1, round(open_ / rate)))
        lines.append(_("About {left} left.").format(left=i18n.format_timedelta(left, locale)))
    if status is BroadcastStatus.PAUSED:
        reasons = {
            "quiet": _("Paused for the quiet period (masa tenang)."),
            "template_changed": _("Paused: the template changed after the broadcast was composed."),
            "role_changed": _("Paused: the organizer's role or regions have changed."),
        }
        lines.append(reasons.get(broadcast.pause_reason or "", _("Paused by an organizer.")))
    buttons = []
    if status in (BroadcastStatus.RUNNING, BroadcastStatus.SCHEDULED):
        buttons.append(InlineKeyboardButton(_("Pause"), callback_data=f"{CONTROL_PREFIX}:{broadcast.id}:pause"))
    if status is BroadcastStatus.PAUSED:
        buttons.append(InlineKeyboardButton(_("Resume"), callback_data=f"{CONTROL_PREFIX}:{broadcast.id}:resume"))
    if status in (BroadcastStatus.RUNNING, BroadcastStatus.SCHEDULED, BroadcastStatus.PAUSED):
        buttons.append(InlineKeyboardButton(_("Cancel"), callback_data=f"{CONTROL_PREFIX}:{broadcast.id}:cancel"))
    return "\n".join(lines), InlineKeyboardMarkup([buttons]) if buttons else None


def notice_text(notice: str, broadcast: Broadcast, settings: Settings, locale: str) -> str:
    _ = i18n.gettext_for(locale)
    period = broadcasts.quiet_period_at(settings, utcnow()) or (
        settings.broadcast.quiet_periods[0] if settings.broadcast.quiet_periods else None
    )
    name = _escape(period.name) if period else ""
    end = i18n.format_datetime(period.end, settings.tz, locale) if period else ""
    texts = {
        "quiet_paused": _(
            "Broadcast #{id} has paused itself: {period} has begun and no broadcast may be sent until {end}. "
            "You can resume it after that."
        ),
        "quiet_postponed": _(
            "Broadcast #{id} was due during {period}; it will be sent when the quiet period ends, on {end}."
        ),
        "template_changed": _(
            "Broadcast #{id} was paused because its template changed after it was composed. Cancel it and "
            "compose it again with /siaran."
        ),
        "role_changed": _(
            "Broadcast #{id} was paused because the role or regions of the organizer who composed it have "
            "changed. An admin can resume or cancel it."
        ),
    }
    return texts[notice].format(id=broadcast.id, period=name, end=end)


def _escape(text: str) -> str:
    return html.escape(text)
