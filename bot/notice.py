"""The privacy notice (UU No. 27 Tahun 2022) in each language, and the version that identifies its exact text."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
from functools import lru_cache

from bot import i18n
from bot.config import Settings


def text_version(notice_text: str) -> str:
    """Identifies the exact privacy notice a person agreed to (a hash of the text as shown)."""
    return hashlib.sha256(notice_text.encode("utf-8")).hexdigest()[:16]


def privacy_notice(settings: Settings, locale: str) -> str:
    """The notice shown before consent (at /daftar, and again whenever it changes), in LOCALE; exactly the text
    its version is the hash of (what introduces it, at /daftar or after a change, is not part of it)."""
    privacy = settings.privacy
    return _notice(privacy.controller_name, privacy.controller_contact, privacy.retention_until, locale)


def current_version(settings: Settings, locale: str) -> str:
    """The version of the notice as it reads today in LOCALE."""
    privacy = settings.privacy
    return _version(privacy.controller_name, privacy.controller_contact, privacy.retention_until, locale)


def agreed_locale(settings: Settings, consent_locale: str) -> str:
    """The language whose notice a consent given in CONSENT_LOCALE is compared with."""
    return i18n.chosen_locale(consent_locale, settings.locale.default)


def current_versions(settings: Settings) -> dict[str, str]:
    """The current notice's version in every language Rangkul speaks."""
    return {locale: current_version(settings, locale) for locale in i18n.AVAILABLE_LOCALES}


def is_current(settings: Settings, *, version: str, locale: str) -> bool:
    """Whether VERSION is today's notice in LOCALE."""
    return locale in i18n.AVAILABLE_LOCALES and version == current_version(settings, locale)


@lru_cache(maxsize=32)
def _version(controller: str, contact: str, retention: dt.date | None, locale: str) -> str:
    return text_version(_notice(controller, contact, retention, locale))


@lru_cache(maxsize=32)
def _notice(controller: str, contact: str, retention: dt.date | None, locale: str) -> str:
    _ = i18n.gettext_for(locale)
    if contact:
        who = _("<b>Who is responsible (data controller):</b> {controller}. Contact: {contact}.").format(
            controller=html.escape(controller), contact=html.escape(contact)
        )
    else:
        who = _(
            "<b>Who is responsible (data controller):</b> {controller}. Its information and documentation officer "
            "(PPID) can be reached at its office."
        ).format(controller=html.escape(controller))
    complain_to = html.escape(contact) if contact else _("the PPID at its office")
    paragraphs = [
        _("<b>Personal data notice</b>"),
        who,
        _(
            "<b>Legal basis:</b> your explicit consent (UU No. 27 Tahun 2022 on Personal Data Protection, "
            "Pasal 20 ayat (2) huruf a). You may withdraw it at any time."
        ),
        _(
            "<b>What we keep:</b> your full name, the kind of community figure you are, your age bracket, where "
            "you live (down to desa/kelurahan), your mobile number (optional) and your organization or role in "
            "the community (optional); for anyone under 18, also the name of the parent or guardian who agrees. "
            "From Telegram: your Telegram id, username and name, the language of your Telegram app and the "
            "language you chose, and when you last used Rangkul (last activity). Also: the invitation link you "
            "registered through, whether each of our messages reached you (delivery outcomes), the messages you send "
            "us and our officers' answers, the commitments you make with the buttons under our messages, and when "
            "you agreed to which version of this notice."
        ),
        _(
            "<b>Why:</b> to send you official information about the election and invite the community to take "
            "part. We never ask for or record whom you vote for or which party you support."
        ),
        _(
            "<b>Who sees it:</b> only the election organizers (KPU, Bawaslu and their ad-hoc bodies) responsible "
            "for your own region, and the Rangkul administrators of {controller}. Political parties, candidates and "
            "campaign teams never see it; we do not sell or hand it to anyone."
        ).format(controller=html.escape(controller)),
        _(
            "<b>Telegram:</b> the messages between you and Rangkul are carried by Telegram, a service based outside "
            "Indonesia, under its own privacy policy."
        ),
        _how_long(retention, locale, _),
        _(
            "<b>Your rights</b> (UU No. 27 Tahun 2022), at any time:\n"
            "• see and correct your data: /profil\n"
            "• get a copy of your data: /dataku\n"
            "• restrict the processing (no more messages, the data stays): /berhenti\n"
            "• withdraw your consent: /berhenti stops the messages, /hapusdata ends all processing\n"
            "• delete your data: /hapusdata\n"
            "• complain: to {complain_to}; if the answer does not satisfy you, to the personal data protection "
            "authority (lembaga pelindungan data pribadi)."
        ).format(complain_to=complain_to),
        _("Do you agree to your data being processed for these purposes?"),
    ]
    return "\n\n".join(paragraphs)


def _how_long(retention: dt.date | None, locale: str, _: i18n.Gettext) -> str:
    """The notice's retention paragraph: until privacy.retention_until, or (no date set) until deleted; and what
    stays of the commitments (as /hapusdata's confirmation says)."""
    stays = _("The commitments you made stay in those reports only as counts, with their date.")
    return f"{_how_long_kept(retention, locale, _)} {stays}"


def _how_long_kept(retention: dt.date | None, locale: str, _: i18n.Gettext) -> str:
    if retention is None:
        return _(
            "<b>How long:</b> as long as the office needs it to reach out about the election, until you delete it "
            "with /hapusdata. With /berhenti the messages stop, but your data stays until you delete it with "
            "/hapusdata. /hapusdata erases at once your name, mobile number, organization, guardian's name, the "
            "invitation link you registered through, the messages you sent us and your Telegram account details; "
            "what remains is only anonymous, for reports: category, age bracket, kecamatan (not desa) and dates "
            "without the time of day, from which nobody can be singled out."
        )
    return _(
        "<b>How long:</b> until {retention}; then it is deleted. With /berhenti the messages stop, but your data "
        "stays until you delete it with /hapusdata or until {retention}. /hapusdata erases at once your name, "
        "mobile number, organization, guardian's name, the invitation link you registered through, the messages "
        "you sent us and your Telegram account details; what remains is only "
        "anonymous, for reports: category, age bracket, kecamatan (not desa) and dates without the time of "
        "day, from which nobody can be singled out."
    ).format(retention=i18n.format_date(retention, locale))
