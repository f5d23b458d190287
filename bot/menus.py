"""Command menus (setMyCommands): figure commands for everyone, role-specific menus in each role holder's chat."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot import i18n
from bot.commands import commands_for
from bot.logs import telegram_ref
from models import Role

logger = logging.getLogger(__name__)


def menu(role: Role, locale: str) -> list[BotCommand]:
    _ = i18n.gettext_for(locale)
    return [BotCommand(cmd.name, _(cmd.description)) for cmd in commands_for(role)]


async def set_default_menus(bot: Bot, default_locale: str) -> None:
    """The menu every chat sees: figure commands, in the default language and in each other catalog language."""
    await bot.set_my_commands(menu(Role.FIGURE, default_locale), scope=BotCommandScopeDefault())
    for locale in i18n.AVAILABLE_LOCALES:
        if locale != default_locale:
            await bot.set_my_commands(menu(Role.FIGURE, locale), scope=BotCommandScopeDefault(), language_code=locale)


async def set_chat_menu(bot: Bot, chat_id: int, role: Role, locale: str) -> bool:
    """Give one private chat the menu of its owner's role; False when Telegram refused (e.g. never started)."""
    try:
        if role is Role.FIGURE:
            await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
        else:
            await bot.set_my_commands(menu(role, locale), scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:
        logger.warning("could not set the command menu for chat %s: %s", telegram_ref(chat_id), exc)
        return False
    return True
