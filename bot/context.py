"""Typed per-application data and the per-update context every handler receives."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.ext import Application, CallbackContext, ExtBot

from bot import i18n
from bot.config import Settings
from bot.render import Renderer
from bot.services import conversations
from bot.services.roles import Authority
from models import ConversationState, Figure, Person, Role

# The session of the update being processed; set in one place, RangkulApplication.process_update.
current_session: contextvars.ContextVar[AsyncSession] = contextvars.ContextVar("current_session")
# Whether the update being processed failed: set by the error handler (bot/handlers/errors.py), which has
# apologised and rolled back; what runs after the answer (the changed privacy notice) then leaves the person
# alone. Reset for every update in RangkulApplication.process_update.
update_failed: contextvars.ContextVar[bool] = contextvars.ContextVar("update_failed", default=False)
# The chat a button press came from, while its update is handled: an answer too long for Telegram's alert goes
# there as a message instead (UnitOfWorkBot.answer_callback_query).
pressed_in_chat: contextvars.ContextVar[int | None] = contextvars.ContextVar("pressed_in_chat", default=None)


async def commit_before_network_call() -> None:
    """Commit the current update's work before a Bot API call goes out.

    A call takes tens to hundreds of milliseconds from Indonesia. A transaction left open across it would hold
    SQLite's write lock (and a PostgreSQL connection) that long, stalling every other update and the delivery
    engine. What the reply tells the person is then already on disk; a later failure rolls back only what came
    after. Called for every request by the handlers' bot (bot/handler_bot.py), so no handler has to remember it.
    """
    session = current_session.get(None)
    if session is not None and session.in_transaction():
        await session.commit()


class DeliveryWaker(Protocol):
    """All a handler needs of the delivery engine: a nudge after it wrote something the engine should act on."""

    def wake(self) -> None: ...


@dataclass
class BotData:
    """What every handler may need: settings and the session factory (never a global)."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    renderer: Renderer
    # The broadcast sender, when this process runs one (handlers wake it after creating or resuming a broadcast).
    delivery: DeliveryWaker | None = None


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """CallbackContext with the update's database session, the caller's identity, authority and language."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.person: Person | None = None
        # The person's registration as identify read it (private chats, messages and buttons only).
        self.figure: Figure | None = None
        self.authority: Authority = Authority(role=Role.FIGURE)
        self.locale: str = i18n.DEFAULT_LOCALE

    @property
    def session(self) -> AsyncSession:
        return current_session.get()

    @property
    def settings(self) -> Settings:
        return self.bot_data.settings

    def _(self, message: str) -> str:
        """Translate MESSAGE into the caller's language."""
        return i18n.gettext_for(self.locale)(message)

    async def conversation(self, *flows: str) -> ConversationState | None:
        """The caller's conversation in progress when it is one of FLOWS, or of any flow when none is named (one
        abandoned for longer than privacy.conversation_expiry_hours is deleted and gives None)."""
        if self.person is None:
            return None
        state = await conversations.current(
            session=self.session, person=self.person, expire_after=self.settings.privacy.conversation_expiry
        )
        return state if state is not None and (not flows or state.flow in flows) else None
