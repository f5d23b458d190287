"""The texts and buttons of a figure's own commands: /profil with its "change …" buttons, /berhenti and /lanjut,
/dataku and /hapusdata's confirmation; with the data those buttons carry. Pure functions of what they show."""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import i18n
from bot.callbacks import Codec
from bot.commands import N_
from bot.services.registration_save import figure_values
from bot.views.registration import describe_answers, edit_buttons
from models import Figure

# The profile's "change …" buttons: "prof:<field>", the layout from before the codec.
PROFILE = Codec("prof")
# "hapus:<yes|no>:<person id>", the layout from before the codec.
DELETE = Codec("hapus")
STALE_PROFILE = N_("This button is no longer valid. Type /profil to see your data again.")
EXPORT_FILENAME = "rangkul-data-saya.json"


def not_registered(_: i18n.Gettext) -> str:
    return _("You are not registered yet. Type /daftar to register.")


def stale_button(_: i18n.Gettext) -> str:
    """A profile (or notice) button that is no longer valid for the one who pressed it."""
    return _(STALE_PROFILE)


def already_registered(_: i18n.Gettext) -> str:
    """The intro of the profile shown to someone who asks to register again."""
    return _("You are already registered. This is your data:")


def saved(_: i18n.Gettext) -> str:
    """The intro of the profile shown after an edit was saved."""
    return _("Saved. This is your data now:")


def profile(figure: Figure, locale: str, *, intro: str | None = None) -> tuple[str, InlineKeyboardMarkup]:
    """Everything stored about the figure, with a button to change each field (INTRO: what leads it)."""
    _ = i18n.gettext_for(locale)
    lines = [intro or _("<b>Your data in Rangkul</b>"), "", describe_answers(figure_values(figure), _)]
    lines.append(_("Registered on: {date}").format(date=i18n.format_date(figure.registered_at.date(), locale)))
    lines.append(_("Consent given on: {date}").format(date=i18n.format_date(figure.consent_at.date(), locale)))
    if figure.messages_opt_in:
        lines.append(_("Receives messages: yes (type /berhenti to stop)"))
    else:
        lines.append(_("Receives messages: no (type /lanjut to receive them again)"))
    lines.append("\n" + _("Download your data with /dataku; delete it with /hapusdata."))

    def make(label: str, field: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=PROFILE.data(field))

    return "\n".join(lines), InlineKeyboardMarkup(edit_buttons(make, figure.age_bracket, _))


def edited_field(data: str | None) -> str:
    """The field a "change …" button asks to edit ("" for data we did not make; the handler checks the field)."""
    pressed = PROFILE.parse(data)
    return pressed.action if pressed is not None and not pressed.args else ""


def stop_confirmation(retention_until: dt.date | None, locale: str) -> str:
    """What /berhenti (and the changed notice's "stop" button) answers: the same retention as the notice says."""
    _ = i18n.gettext_for(locale)
    if retention_until is None:
        return _(
            "You will no longer receive socialization messages from Rangkul. Your data stays stored until you "
            "delete it with /hapusdata. Type /lanjut whenever you want to receive messages again."
        )
    return _(
        "You will no longer receive socialization messages from Rangkul. Your data stays stored until you "
        "delete it with /hapusdata, or at the latest until {retention}, when it is deleted. Type /lanjut whenever "
        "you want to receive messages again."
    ).format(retention=i18n.format_date(retention_until, locale))


def resumed(_: i18n.Gettext) -> str:
    return _("Thank you! You will receive socialization messages from Rangkul again. Type /berhenti to stop.")


def my_data_caption(_: i18n.Gettext) -> str:
    return _("This is a copy of all the data Rangkul holds about you.")


def delete_keyboard(person_id: int | None, _: i18n.Gettext) -> InlineKeyboardMarkup:
    """The /hapusdata confirmation's buttons; they name the person they were shown to."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("Yes, delete my data"), callback_data=DELETE.data("yes", person_id)),
                InlineKeyboardButton(_("Cancel"), callback_data=DELETE.data("no", person_id)),
            ]
        ]
    )


def delete_question(person_id: int | None, _: i18n.Gettext) -> tuple[str, InlineKeyboardMarkup]:
    """/hapusdata: what is deleted and what stays, asked to be confirmed."""
    text = _(
        "You are about to delete your personal data from Rangkul: your name, mobile number, organization, "
        "guardian's name, the invitation link you registered through, the messages you sent us and your "
        "Telegram account details (id, username, name, language). Only anonymous "
        "figures remain, for reports: category, age bracket, kecamatan (not desa) and dates without the time "
        "of day, from which nobody can be singled out. This cannot be undone.\n\nDo you want to continue?"
    )
    stays = _("The commitments you made stay in those reports only as counts, with their date.")
    head, _sep, question = text.rpartition("\n\n")
    return f"{head} {stays}\n\n{question}", delete_keyboard(person_id, _)


def delete_answer(data: str | None, person_id: int | None) -> bool | None:
    """Whether a confirmation button says to delete (True) or not (False); None when it is not one shown to
    PERSON_ID (forged, someone else's, or of an older layout)."""
    pressed = DELETE.parse(data)
    if pressed is None or pressed.args != (str(person_id),):
        return None
    return pressed.action == "yes"


def delete_stale(_: i18n.Gettext) -> str:
    return _("This button is no longer valid. Type /hapusdata to start again.")


def delete_cancelled(_: i18n.Gettext) -> str:
    return _("Cancelled. Your data was not deleted.")


def deleted(_: i18n.Gettext) -> str:
    return _(
        "Your personal data has been deleted. Thank you for taking part. You are welcome to register again "
        "at any time with /daftar."
    )
