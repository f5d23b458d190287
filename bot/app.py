"""Build the python-telegram-bot Application and run it: polling or webhook, retries at start, clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest, HTTPXRequest

from bot import db, i18n, menus
from bot.config import Settings
from bot.context import (
    BotData,
    Context,
    current_session,
    pressed_in_chat,
    update_failed,
)
from bot.delivery import BroadcastBot, DeliveryEngine, changed_notice, reply_digest
from bot.delivery import retention as retention_jobs
from bot.handler_bot import UnitOfWorkBot
from bot.handlers import register
from bot.render import Renderer
from bot.request import AiohttpRequest
from bot.services import conversations, people, quiet, roles
from bot.update_processor import PerChatUpdateProcessor
from models import Role

logger = logging.getLogger(__name__)
# Connections for replies to people (python-telegram-bot's own default); broadcasts have their own pool.
REPLY_CONNECTIONS = 256
HOUSEKEEPING_SECONDS = 3600.0


class StartupError(Exception):
    """The bot cannot start; the message is one line for the operator."""


# How long a stop waits for the role holders' menus to finish the chat in hand.
ROLE_MENUS_STOP_SECONDS = 10.0


class RangkulApplication(Application):  # type: ignore[type-arg]
    """An Application that gives every update exactly one database session, opened here and nowhere else."""

    async def process_update(self, update: object) -> None:
        bot_data: BotData = self.bot_data
        async with db.unit_of_work(bot_data.sessions) as session:
            token = current_session.set(session)
            failed = update_failed.set(False)
            query = update.callback_query if isinstance(update, Update) else None
            chat = pressed_in_chat.set(query.message.chat.id if query is not None and query.message else None)
            try:
                await super().process_update(update)
            finally:
                pressed_in_chat.reset(chat)
                update_failed.reset(failed)
                current_session.reset(token)


def build_application(
    settings: Settings,
    token: str,
    engine: AsyncEngine,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> Application[Any, Context, Any, Any, BotData, Any]:
    """The configured Application; REQUEST lets tests (and self-hosted setups) replace the HTTP layer."""
    # ContextTypes calls bot_data() with no arguments; a partial hands it the settings and the session factory.
    renderer = Renderer(settings.templates.dir, default_tz=settings.tz)
    bot_data = functools.partial(BotData, settings=settings, sessions=db.session_factory(engine), renderer=renderer)
    context_types = ContextTypes(context=Context, bot_data=bot_data)  # type: ignore[call-overload]
    bot = UnitOfWorkBot(
        token,
        base_url=settings.telegram.base_url,
        base_file_url=settings.telegram.base_file_url,
        request=request or AiohttpRequest(connection_pool_size=REPLY_CONNECTIONS),
        get_updates_request=get_updates_request or HTTPXRequest(),
        defaults=Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz),
        # Groups get Telegram's 20 a minute, an overall ceiling only when reply_rate_per_second sets one, and a
        # 429 is retried after retry_after instead of raised.
        rate_limiter=AIORateLimiter(
            overall_max_rate=settings.telegram.reply_rate_per_second, overall_time_period=1, max_retries=3
        ),
    )
    app = (
        ApplicationBuilder()
        .application_class(RangkulApplication)
        .bot(bot)
        .context_types(context_types)
        .concurrent_updates(PerChatUpdateProcessor(settings.telegram.concurrent_updates))
        .build()
    )
    register(app)
    if app.job_queue is not None:
        app.job_queue.run_repeating(expire_conversations, interval=HOUSEKEEPING_SECONDS, first=HOUSEKEEPING_SECONDS)
        # Soon after start, then every minute: figures who agreed to an earlier privacy notice are told, a paced
        # batch at a time, each once (bot/delivery/changed_notice.py).
        app.job_queue.run_repeating(
            changed_notice.announce_changed_notice,
            interval=changed_notice.NOTICE_INTERVAL_SECONDS,
            first=changed_notice.NOTICE_FIRST_SECONDS,
        )
        # Every minute: organizers and admins with new replies in their scope are told, each at most once every
        # 15 minutes (bot/delivery/reply_digest.py).
        app.job_queue.run_repeating(
            reply_digest.digest_job,
            interval=reply_digest.DIGEST_JOB_SECONDS,
            first=reply_digest.DIGEST_FIRST_SECONDS,
        )
        # Every hour (the work is daily, the check hourly so that downtime or an error costs an hour, not a day):
        # the admins' reminder 14 days before privacy.retention_until, the purge once it has passed; and every
        # minute within those 14 days, a paced batch of figures told once that their data will be deleted
        # (bot/delivery/retention.py).
        app.job_queue.run_repeating(
            retention_jobs.retention_job,
            interval=retention_jobs.RETENTION_JOB_SECONDS,
            first=retention_jobs.RETENTION_FIRST_SECONDS,
        )
        app.job_queue.run_repeating(
            retention_jobs.notice_job,
            interval=retention_jobs.NOTICE_JOB_SECONDS,
            first=retention_jobs.NOTICE_FIRST_SECONDS,
        )
    return app


async def expire_conversations(context: Context) -> None:
    """Hourly: delete abandoned conversations with what they gathered (the handlers also ignore them at once)."""
    settings: Settings = context.bot_data.settings
    async with db.unit_of_work(context.bot_data.sessions) as session:
        expired = await conversations.expire_abandoned(
            session=session, expire_after=settings.privacy.conversation_expiry
        )
    if expired:
        logger.info("deleted %d abandoned conversation(s)", expired)


def attach_delivery(
    app: Application[Any, Any, Any, Any, BotData, Any], settings: Settings, sender: BroadcastBot
) -> DeliveryEngine:
    """The broadcast engine for APP: it sends through SENDER and reports through the application's bot."""
    bot_data: BotData = app.bot_data
    engine = DeliveryEngine(
        settings=settings, sessions=bot_data.sessions, sender=sender, notifier=app.bot, renderer=bot_data.renderer
    )
    bot_data.delivery = engine
    return engine


def sender_bot(settings: Settings, token: str) -> BroadcastBot:
    """A Bot for broadcasting only: aiohttp underneath (hundreds of requests in flight), paced by the engine."""
    request = AiohttpRequest(
        connection_pool_size=settings.broadcast.max_in_flight,
        read_timeout=15.0,
        connect_timeout=10.0,
        pool_timeout=30.0,
    )
    return BroadcastBot(
        token, base_url=settings.telegram.base_url, base_file_url=settings.telegram.base_file_url, request=request
    )


async def set_menus(app: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Menus for everyone, then one per role holder's private chat."""
    await menus.set_default_menus(app.bot, app.bot_data.settings.locale.default)
    await set_role_menus(app)


async def set_role_menus(app: Application[Any, Any, Any, Any, BotData, Any], stop: asyncio.Event | None = None) -> None:
    """One menu per role holder's private chat (hundreds of calls where ad hoc bodies hold roles: at start they run
    beside the bot, never before it answers). Each role is read again just before its menu is set, so that a role
    /peran changed since the start is not overwritten with the one read then (only a change in the very instant of
    that chat's call could be, and the next /peran or /start of that person sets it right)."""
    settings: Settings = app.bot_data.settings
    async with db.unit_of_work(app.bot_data.sessions) as session:
        holders = await roles.role_holders(session=session)
    chats = [holder.person.telegram_id for holder in holders if holder.person.telegram_id is not None]
    chats += [admin_id for admin_id in settings.roles.bootstrap_admins if admin_id not in chats]
    default = settings.locale.default
    for chat_id in chats:
        if stop is not None and stop.is_set():
            return  # stopping: the rest get their menu when they next write
        async with db.unit_of_work(app.bot_data.sessions) as session:
            person = await people.by_telegram_id(session=session, telegram_id=chat_id)
            if person is None:
                role, language = Role.ADMIN, None  # a bootstrap admin who never wrote to the bot
            else:
                authority = await roles.authority_of(
                    session=session, person=person, bootstrap_admins=settings.roles.bootstrap_admins
                )
                role, language = authority.role, person.locale
        await menus.set_chat_menu(app.bot, chat_id, role, i18n.chosen_locale(language, default), settings)


async def _set_role_menus_in_background(
    app: Application[Any, Any, Any, Any, BotData, Any], stop: asyncio.Event
) -> None:
    try:
        await set_role_menus(app, stop)
    except Exception:  # a menu is a convenience: never a reason to stop the bot
        logger.exception("could not set the role holders' command menus; they get them when they next write")


async def connect(app: Application[Any, Any, Any, Any, Any, Any], attempts: int, stop: asyncio.Event) -> None:
    """Initialize (getMe) with backoff; one log line per failed attempt, never a traceback storm. When it fails
    (or is cancelled), the HTTP sessions the bot opened for getMe are closed again: app.shutdown() does nothing
    for an application that never finished initializing, and an open aiohttp session would print asyncio's
    "Unclosed connector" after the one line the operator is promised."""
    try:
        await _connect(app, attempts, stop)
    except BaseException:
        await app.bot.shutdown()  # closes both request objects; a no-op when none was opened
        raise


async def _connect(app: Application[Any, Any, Any, Any, Any, Any], attempts: int, stop: asyncio.Event) -> None:
    base_url = app.bot.base_url.replace(app.bot.token, "<token>")
    for attempt in range(1, attempts + 1):
        try:
            await app.initialize()
            return
        except InvalidToken as exc:
            raise StartupError("the Bot API rejected RANGKUL_BOT_TOKEN: check the token from @BotFather") from exc
        except (NetworkError, TelegramError) as exc:
            if attempt == attempts:
                raise StartupError(f"cannot reach the Bot API at {base_url} after {attempts} attempts: {exc}") from exc
            delay = min(2.0 ** (attempt - 1), 30.0)
            logger.warning(
                "Bot API at %s not reachable (attempt %d of %d: %s); retrying in %.0f s",
                base_url,
                attempt,
                attempts,
                exc,
                delay,
            )
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                continue
            raise StartupError("stopped before the Bot API could be reached") from exc


def _polling_error(error: TelegramError) -> None:
    logger.warning("getUpdates failed, retrying: %s", error)


async def serve(settings: Settings, token: str, *, webhook: bool = False) -> None:
    """Run the bot until SIGINT or SIGTERM: migrate, connect, set menus, poll (or serve a webhook), shut down."""
    for warning in quiet.zone_warnings(settings):
        logger.warning("%s (broadcast.quiet_periods in %s)", warning, settings.source)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    engine = db.create_engine(
        settings.database.url, echo=settings.database.echo, busy_timeout=settings.database.busy_timeout_seconds
    )
    try:
        pending = await db.pending_revisions(engine)
        if pending:
            logger.info("applying %d database migration(s): %s", len(pending), ", ".join(pending))
            await db.upgrade(engine)
        app = build_application(settings, token, engine)
        await connect(app, settings.telegram.startup_attempts, stop)
        sender = attach_delivery(app, settings, sender_bot(settings, token))
        delivery: asyncio.Task[None] | None = None
        role_menus: asyncio.Task[None] | None = None
        try:
            await menus.set_default_menus(app.bot, settings.locale.default)
            await app.start()
            role_menus = asyncio.create_task(_set_role_menus_in_background(app, stop), name="role-menus")
            await sender.sender.initialize()
            delivery = asyncio.create_task(sender.run(stop), name="delivery")
            assert app.updater is not None
            if webhook:
                hook = settings.webhook
                await app.updater.start_webhook(
                    listen=hook.listen,
                    port=hook.port,
                    url_path=hook.path,
                    webhook_url=hook.url,
                    secret_token=hook.secret_token.get_secret_value(),
                    allowed_updates=Update.ALL_TYPES,
                    drop_pending_updates=False,
                )
                logger.info("Rangkul is running with a webhook on %s:%d/%s", hook.listen, hook.port, hook.path)
            else:
                # Never drop pending updates: what people wrote while the bot was down must still be answered.
                await app.updater.start_polling(
                    allowed_updates=Update.ALL_TYPES, drop_pending_updates=False, error_callback=_polling_error
                )
                logger.info("Rangkul is running as @%s (long polling)", app.bot.username)
            await stop.wait()
            logger.info("stopping: finishing the updates already received and the messages in flight")
        finally:
            stop.set()  # also when starting failed: the delivery engine must not wait for a stop that never comes
            if role_menus is not None and not role_menus.done():
                # It stops after the chat in hand (a cancel in the middle of its database work would leave the
                # connection to the garbage collector); only a call that hangs is cancelled.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(role_menus), timeout=ROLE_MENUS_STOP_SECONDS)
                role_menus.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await role_menus
            if delivery is not None:
                await delivery
            await sender.sender.shutdown()
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            await app.shutdown()  # a no-op when connect() never succeeded
    finally:
        await engine.dispose()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    logger.info("Rangkul stopped")
