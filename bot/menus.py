"""Command menus (setMyCommands): figure commands for everyone, a menu of their own in the chat of each role holder
and of each person who chose another language."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot import i18n
from bot.commands import commands_for
from bot.config import Settings
from bot.logs import telegram_ref
from models import Role

logger = logging.getLogger(__name__)


def menu(role: Role, locale: str, *, organizers_export: bool = False) -> list[BotCommand]:
    _ = i18n.gettext_for(locale)
    return [BotCommand(cmd.name, _(cmd.description)) for cmd in commands_for(role, organizers_export=organizers_export)]


async def set_default_menus(bot: Bot, default_locale: str) -> None:
    """The menu every chat sees: the figure commands in the office's language, whatever the app's language (a
    person who chose another language with /bahasa gets a menu of their own in their chat)."""
    await bot.set_my_commands(menu(Role.FIGURE, default_locale), scope=BotCommandScopeDefault())
    for locale in i18n.AVAILABLE_LOCALES:
        # Menus by the app's language (set by earlier versions) would speak English to people who never chose it.
        await bot.delete_my_commands(scope=BotCommandScopeDefault(), language_code=locale)


async def set_chat_menu(bot: Bot, chat_id: int, role: Role, locale: str, settings: Settings) -> bool:
    """Give one private chat the menu of its owner's role in their language; False when Telegram refused (e.g.
    the person never started the bot)."""
    try:
        if role is Role.FIGURE and locale == settings.locale.default:
            await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))  # the default menu is theirs
        else:
            commands = menu(role, locale, organizers_export=settings.export.organizers_allowed)
            await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:
        logger.warning("could not set the command menu for chat %s: %s", telegram_ref(chat_id), exc)
        return False
    return True
