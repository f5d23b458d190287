"""The changed privacy notice as told to a figure, its buttons, the data those buttons carry, and the answers to
them."""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import i18n, notice
from bot.callbacks import Codec
from bot.config import Settings
from bot.services.consent import Recipient

# "pdp:<yes|stop>:<person id>:<locale>:<notice version>", the layout from before the codec.
NOTICE = Codec("pdp")
AGREE, STOP = "yes", "stop"


@dataclass(frozen=True, slots=True)
class Pressed:
    """What a notice button says: the action, whose notice it was, and which text in which language it showed."""

    action: str
    person_id: int
    locale: str
    version: str


def parse_button(data: str | None) -> Pressed | None:
    """The notice button behind DATA, or None for data we did not make."""
    pressed = NOTICE.parse(data)
    if pressed is None or pressed.action not in (AGREE, STOP) or len(pressed.args) != 3:
        return None
    person_id, locale, version = pressed.args
    if not person_id.isdecimal():
        return None
    return Pressed(action=pressed.action, person_id=int(person_id), locale=locale, version=version)


def changed_notice(settings: Settings, recipient: Recipient) -> tuple[str, InlineKeyboardMarkup]:
    """The new notice, as told once to a figure who agreed to an earlier one, with its buttons."""
    locale = recipient.locale
    _ = i18n.gettext_for(locale)
    if recipient.receives_messages:
        intro = _(
            "<b>Our personal data notice has changed.</b> Please read the new version below. Until you answer, "
            "nothing changes for you: you keep receiving our messages."
        )
    else:
        intro = _(
            "<b>Our personal data notice has changed.</b> Please read the new version below. You currently "
            "receive no messages from us. Type /lanjut to receive them again."
        )
    parts = [intro, notice.privacy_notice(settings, locale)]
    if recipient.guardian_name:
        parts.append(
            _(
                "Because you are under 18, please let your parent or guardian, {guardian}, read this notice and "
                "agree together with you."
            ).format(guardian=html.escape(recipient.guardian_name))
        )
    # The button names the text it sits under, so that agreeing records exactly what was shown.
    shown = (recipient.person_id, locale, notice.current_version(settings, locale))
    buttons = [InlineKeyboardButton(_("Agree"), callback_data=NOTICE.data(AGREE, *shown))]
    if recipient.receives_messages:
        buttons.append(InlineKeyboardButton(_("Stop receiving messages"), callback_data=NOTICE.data(STOP, *shown)))
    return "\n\n".join(parts), InlineKeyboardMarkup([buttons])


def replaced(_: i18n.Gettext) -> str:
    """The answer to "Agree" under a notice that a newer one has replaced since."""
    return _("This notice has since been replaced by a newer one, so your answer was not recorded.")


def agreed(recorded: bool, _: i18n.Gettext) -> str:
    """The answer to "Agree": consent RECORDED now, or given to this notice before."""
    if recorded:
        return _(
            "Thank you. We have recorded your consent to the new personal data notice. You can withdraw it at any "
            "time with /berhenti or /hapusdata."
        )
    return _("You have already agreed to this notice. Thank you.")
