"""The texts and buttons of /bahasa: which language Rangkul speaks with a person."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import i18n
from bot.callbacks import Codec

# "bahasa:<locale>": the locale is the action (the layout from before the codec, so old buttons still work).
LANGUAGE = Codec("bahasa")


def button_data(locale: str) -> str:
    return LANGUAGE.data(locale)


def parse_button(data: str | None) -> str | None:
    """The locale a /bahasa button asks for, or None for data we did not make."""
    pressed = LANGUAGE.parse(data)
    if pressed is None or pressed.args or pressed.action not in i18n.AVAILABLE_LOCALES:
        return None
    return pressed.action


def keyboard(current: str) -> InlineKeyboardMarkup:
    """One button per language, named in that language, the current one ticked."""
    rows = [
        [
            InlineKeyboardButton(
                ("✅ " if locale == current else "") + i18n.LANGUAGE_NAMES[locale], callback_data=button_data(locale)
            )
        ]
        for locale in i18n.AVAILABLE_LOCALES
    ]
    return InlineKeyboardMarkup(rows)


def menu(current: str, *, unknown: str | None = None) -> tuple[str, InlineKeyboardMarkup]:
    """What /bahasa shows, in the CURRENT language; UNKNOWN is a language asked for that we do not have."""
    _ = i18n.gettext_for(current)
    lines = []
    if unknown is not None:
        lines.append(_("Sorry, Rangkul is not available in “{language}”.").format(language=unknown))
    lines.append(_("Rangkul speaks <b>{language}</b> with you.").format(language=i18n.LANGUAGE_NAMES[current]))
    lines.append(_("Choose a language with the buttons below, or type for example /bahasa english."))
    return "\n".join(lines), keyboard(current)


def stale_button(current: str) -> str:
    """A button that is not one of /bahasa's, in the CURRENT language."""
    _ = i18n.gettext_for(current)
    return _("This button is no longer valid. Type /bahasa to choose a language.")


def chosen(locale: str) -> str:
    """The confirmation, in the language just chosen (never a mix of the old and the new)."""
    _ = i18n.gettext_for(locale)
    text = _("From now on Rangkul speaks {language} with you.").format(language=i18n.LANGUAGE_NAMES[locale])
    if locale != i18n.DEFAULT_LOCALE:
        # Templates fall back to the Indonesian file (bot.render), whatever the office's default language.
        text += "\n" + _("Official messages that have no version in this language come in Bahasa Indonesia.")
    return text + "\n" + _("Type /bahasa to change the language again.")
