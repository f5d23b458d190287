"""Texts about the retention date (privacy.retention_until): the admins' reminder and the figures' notice before
their personal data is deleted. Pure functions of what they are given."""

from __future__ import annotations

import datetime as dt
import html

from bot import i18n


def admin_reminder(until: dt.date, on: dt.date, figures: int, locale: str, _: i18n.Gettext) -> str:
    """The one reminder every admin gets REMINDER_DAYS before the date."""
    days = (until - on).days + 1  # data is kept through the date itself
    return "\n\n".join(
        [
            _("<b>Reminder: the retention period of personal data ends soon</b>"),
            _(
                "As set in Rangkul's settings (privacy.retention_until), the personal data of every community "
                "figure is kept until {date} and deleted after that day, in {days} days. {count} figures still "
                "have personal data stored."
            ).format(
                date=i18n.format_date(until, locale),
                days=i18n.format_number(days, locale),
                count=i18n.format_number(figures, locale),
            ),
            _(
                "What is deleted: names, mobile numbers, organizations, guardians' names, the invitation links "
                "used, the messages figures sent and their Telegram accounts, as /hapusdata does. What stays is "
                "only anonymous, for reports: category, age bracket, kecamatan and dates, the commitments and the "
                "delivery outcomes counted. Roles and the audit log stay."
            ),
            _(
                "We are telling every figure who can be reached, once, so that they can download their data "
                "(/dataku) first or delete it now (/hapusdata). If the data is still needed for its stated purpose, "
                "change privacy.retention_until and restart Rangkul: the privacy notice then names the new date and "
                "figures are asked to agree to it. The deletion is recorded in /audit."
            ),
        ]
    )


def admin_overdue(until: dt.date, figures: int, locale: str, _: i18n.Gettext) -> str:
    """Told to every admin once when the date had already passed before anyone was reminded of it."""
    return "\n\n".join(
        [
            _("<b>The retention period of personal data has ended</b>"),
            _(
                "The date set in Rangkul's settings (privacy.retention_until), {date}, has passed, but the admins "
                "were not reminded of it beforehand and the figures were not told. So that a mistyped date does not "
                "erase everyone's data, nothing has been deleted automatically. {count} figures still have "
                "personal data stored."
            ).format(date=i18n.format_date(until, locale), count=i18n.format_number(figures, locale)),
            _(
                "If the date is right, delete the data with the command rangkul purge (try rangkul purge --dry-run "
                "first). If the data is still needed for its stated purpose, set a later privacy.retention_until "
                "and restart Rangkul. New registrations are closed until then."
            ),
        ]
    )


def figure_notice(until: dt.date, controller: str, locale: str, _: i18n.Gettext) -> str:
    """The one notice a figure gets before their personal data is deleted."""
    return "\n\n".join(
        [
            _("<b>Your personal data will be deleted after {date}</b>").format(date=i18n.format_date(until, locale)),
            _(
                "As the privacy notice you agreed to says, {controller} keeps your data in Rangkul until {date}. "
                "After that day we delete your name, mobile number, organization, guardian's name, the invitation "
                "link you registered through, the messages you sent us and your Telegram account details. You will "
                "then no longer receive messages from Rangkul."
            ).format(controller=html.escape(controller), date=i18n.format_date(until, locale)),
            _(
                "What stays is only anonymous, for reports: category, age bracket, kecamatan (not desa) and dates "
                "without the time of day, from which nobody can be singled out."
            )
            + " "
            + _("The commitments you made stay in those reports only as counts, with their date."),
            _(
                "Before then you can:\n"
                "• download a copy of your data: /dataku\n"
                "• delete your data now: /hapusdata\n"
                "If you agree to it being deleted on that date, there is nothing you need to do. Thank you for "
                "taking part."
            ),
        ]
    )
