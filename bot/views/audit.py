"""/audit's pages: each entry of the audit log in plain words (when, in the office's zone; who; what; the key
details), with buttons to filter by a group of actions and to page. Pure functions of what they are given."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import i18n, regions
from bot.callbacks import Codec
from bot.commands import N_
from bot.labels import age_label, category_label
from bot.services.audit_trail import ALL, Actor, Entry, Page
from bot.views.limits import echo
from models import DeliveryStatus, Role

AUDIT = Codec("au")
MAX_CODES = 5  # region codes listed per entry; the rest are counted
MAX_VALUE_CHARS = 60

ACTION_LABELS: dict[str, str] = {
    "role.grant": N_("Role granted"),
    "role.revoke": N_("Role revoked"),
    "broadcast.compose": N_("Broadcast composed: preview shown"),
    "broadcast.create": N_("Broadcast confirmed"),
    "broadcast.start": N_("Broadcast started sending"),
    "broadcast.pause": N_("Broadcast paused"),
    "broadcast.resume": N_("Broadcast resumed"),
    "broadcast.cancel": N_("Broadcast cancelled"),
    "broadcast.finish": N_("Broadcast finished"),
    "export.figures": N_("Contact list exported"),
    "export.commitments": N_("Commitment log exported"),
    "export.replies": N_("Figures' replies exported"),
    "reply.answer": N_("An officer answered a figure's reply"),
    "figure.register": N_("A figure registered"),
    "figure.edit": N_("A figure corrected their data"),
    "figure.delete": N_("Personal data deleted (/hapusdata)"),
    "figure.consent": N_("Consent given to the privacy notice"),
    "figure.opt_out": N_("Stopped receiving messages (/berhenti)"),
    "figure.opt_in": N_("Receives messages again (/lanjut)"),
    "person.language": N_("Language chosen (/bahasa)"),
    "invitation.create": N_("Invitation link made"),
    "retention.reminder": N_("Admins reminded of the retention date"),
    "retention.purge": N_("Retention period ended: personal data deleted"),
}
# The filter buttons, in the order shown; the keys are bot/services/audit_trail.py's GROUPS.
GROUP_LABELS: dict[str, str] = {
    ALL: N_("All"),
    "role": N_("Roles"),
    "bc": N_("Broadcasts"),
    "exp": N_("Exports"),
    "reply": N_("Answers"),
    "fig": N_("Figures' data"),
    "ret": N_("Retention"),
    "inv": N_("Invitations"),
}
REASON_LABELS: dict[str, str] = {
    "quiet": N_("quiet period (masa tenang)"),
    "template_changed": N_("template edited after composing"),
    "role_changed": N_("the owner's role or regions changed"),
    "organizer": N_("by an organizer"),
    "admin": N_("by an admin"),
}
OUTCOME_LABELS: dict[str, str] = {
    DeliveryStatus.SENT: N_("sent"),
    DeliveryStatus.BLOCKED: N_("blocked"),
    DeliveryStatus.DEACTIVATED: N_("account deleted"),
    DeliveryStatus.CHAT_NOT_FOUND: N_("chat not found"),
    DeliveryStatus.FAILED: N_("failed"),
    DeliveryStatus.UNCERTAIN: N_("uncertain"),
    DeliveryStatus.SKIPPED: N_("skipped"),
    DeliveryStatus.PENDING: N_("waiting"),
    DeliveryStatus.SENDING: N_("sending"),
}
SOURCE_LABELS: dict[str, str] = {
    "chat": N_("in the chat"),
    "cli": N_("on the command line"),
    "job": N_("by the bot's daily job"),
}


def role_label(role: Role | str, _: i18n.Gettext) -> str:
    labels: dict[str, str] = {Role.ADMIN: _("admin"), Role.ORGANIZER: _("organizer"), Role.FIGURE: _("user")}
    return labels.get(role, str(role))


def _who(actor: Actor | None, person_id: int | None, _: i18n.Gettext) -> str:
    if person_id is None:
        return _("the system")
    if actor is None or actor.name is None:
        return _("account #{id} (data deleted)").format(id=person_id)
    return _("{name} ({role})").format(name=html.escape(actor.name), role=role_label(actor.role, _))


def _number(value: Any, locale: str) -> str:
    return i18n.format_number(value, locale) if isinstance(value, int | float) and not isinstance(value, bool) else "?"


def _codes(codes: Any, _: i18n.Gettext, locale: str) -> str:
    listed = [str(code) for code in codes] if isinstance(codes, list) else [str(codes)]
    shown = ", ".join(html.escape(code) for code in listed[:MAX_CODES])
    if len(listed) > MAX_CODES:
        shown += " " + _("and {count} more").format(count=i18n.format_number(len(listed) - MAX_CODES, locale))
    return shown


def _region(code: Any) -> str:
    region = regions.get(str(code))
    return html.escape(f"{code} ({region.name})" if region else str(code))


def _short(value: Any) -> str:
    if isinstance(value, dict):
        text = ", ".join(f"{k}={_plain(v)}" for k, v in value.items() if v not in (None, [], {}, ""))
    else:
        text = _plain(value)
    return html.escape(text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…")


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return "/".join(str(v) for v in value)
    return str(value)


def _filters(value: dict[str, Any], _: i18n.Gettext, locale: str) -> str:
    """An export's filters in words: "wilayah 63.03, Tokoh pemuda (tokoh pemuda), aktif, terdaftar sejak …"."""
    parts: list[str] = []
    if value.get("regions"):
        parts.append(_("regions {codes}").format(codes=_codes(value["regions"], _, locale)))
    parts += [html.escape(category_label(str(category), _)) for category in value.get("categories") or []]
    parts += [html.escape(age_label(str(bracket), _)) for bracket in value.get("age_brackets") or []]
    statuses = {"active": _("active"), "stopped": _("stopped messages"), "unreachable": _("unreachable")}
    parts += [statuses.get(str(status), html.escape(str(status))) for status in value.get("statuses") or []]
    for key, phrase in (
        ("registered_from", _("registered from {date}")),
        ("registered_to", _("registered until {date}")),
    ):
        if value.get(key):
            parts.append(phrase.format(date=i18n.format_date(dt.date.fromisoformat(str(value[key])), locale)))
    if value.get("with_commitments") is True:
        parts.append(_("with commitments"))
    elif value.get("with_commitments") is False:
        parts.append(_("without commitments"))
    return ", ".join(parts)


def details(details: dict[str, Any], tz: ZoneInfo, locale: str, _: i18n.Gettext) -> list[str]:
    """The key details of an entry, each a short phrase (the log holds ids, codes and counts only)."""
    parts: list[str] = []
    for key, value in details.items():
        if value is None or key in ("template_version",):
            continue
        try:
            part = _detail(key, value, tz, locale, _)
        except (TypeError, ValueError):  # a value of an unexpected shape is shown as it is, never an error
            part = f"{html.escape(key)}: {_short(value)}"
        if part:
            parts.append(part)
    return parts


def _detail(key: str, value: Any, tz: ZoneInfo, locale: str, _: i18n.Gettext) -> str | None:
    """One detail in words; None for one not worth showing (a broadcast that is not paid, an empty segment)."""
    text = html.escape(str(value))
    if key == "field":
        fields = {
            "name": _("name"),
            "category": _("category"),
            "age": _("age bracket"),
            "guardian": _("parent or guardian"),
            "region": _("region"),
            "phone": _("mobile number"),
            "organization": _("organization"),
        }
        return _("field: {value}").format(value=fields.get(str(value), text))
    simple: dict[str, str] = {
        "broadcast": _("broadcast #{value}"),
        "template": _("template {value}"),
        "owner_from": _("taken over from account #{value}"),
        "reply": _("reply #{value}"),
        "figure": _("figure #{value}"),
        "invitation": _("invitation #{value}"),
        "consent_version": _("notice version {value}"),
    }
    counted: dict[str, str] = {
        "recipients": _("{value} recipients"),
        "rows": _("{value} rows"),
        "figures": _("{value} figures"),
        "admins": _("{value} admins"),
    }
    if key in simple:
        return simple[key].format(value=text)
    if key in counted:
        return counted[key].format(value=_number(value, locale))
    if key == "segment" and isinstance(value, dict):
        codes = value.get("regions")
        return _("regions {codes}").format(codes=_codes(codes, _, locale)) if codes else None
    if key == "regions":
        return _("regions {codes}").format(codes=_codes(value, _, locale)) if value else None
    if key == "region":
        return _("region {region}").format(region=_region(value))
    if key == "scheduled_at":
        when = i18n.format_datetime(dt.datetime.fromisoformat(str(value)), tz, locale)
        return _("scheduled for {when}").format(when=when)
    if key == "paid":
        return _("paid broadcast") if value is True else None
    if key == "reason":
        label = REASON_LABELS.get(str(value))
        return _("reason: {reason}").format(reason=_(label) if label else text)
    if key == "counts" and isinstance(value, dict):
        return ", ".join(
            f"{_(OUTCOME_LABELS[status]) if status in OUTCOME_LABELS else html.escape(str(status))} "
            f"{_number(count, locale)}"
            for status, count in value.items()
        )
    if key == "status":
        return _("cancelled") if value == "cancelled" else text
    if key == "role":
        return _("role: {role}").format(role=role_label(str(value), _))
    if key == "category":
        return html.escape(category_label(str(value), _))
    if key in ("locale", "previous"):
        language = html.escape(i18n.LANGUAGE_NAMES.get(str(value), str(value)))
        return (_("language: {language}") if key == "locale" else _("before: {language}")).format(language=language)
    if key == "format":
        return _("format {format}").format(format=text.upper())
    if key == "filters" and isinstance(value, dict):
        shown = _filters(value, _, locale)
        return _("filters: {filters}").format(filters=shown) if shown else _("no filters")
    if key == "scope":
        return _("their regions {codes}").format(codes=_codes(value, _, locale)) if value else None
    if key == "masked":
        return _("mobile numbers masked") if value is True else None
    if key == "source":
        label = SOURCE_LABELS.get(str(value))
        return _(label) if label else text
    if key == "retention_until":
        date = i18n.format_date(dt.date.fromisoformat(str(value)), locale)
        return _("retention date {date}").format(date=date)
    return f"{html.escape(key)}: {_short(value)}"


def entry_text(number: int, entry: Entry, tz: ZoneInfo, locale: str, _: i18n.Gettext) -> str:
    event = entry.event
    label = ACTION_LABELS.get(event.action)
    lines = [
        f"<b>{number}. {_(label) if label else html.escape(event.action)}</b>",
        i18n.format_datetime(event.occurred_at, tz, locale),
    ]
    who = _("by {who}").format(who=_who(entry.actor, event.actor_person_id, _))
    if event.subject_person_id is not None and event.subject_person_id != event.actor_person_id:
        who += " · " + _("about {who}").format(who=_who(entry.subject, event.subject_person_id, _))
    lines.append(who)
    facts = details(event.details or {}, tz, locale, _)
    if facts:
        lines.append(" · ".join(facts))
    return "\n".join(lines)


def page_view(page: Page, tz: ZoneInfo, locale: str, _: i18n.Gettext) -> tuple[str, InlineKeyboardMarkup]:
    """One page of /audit, newest first, with the filter buttons and paging."""
    group = _(GROUP_LABELS.get(page.group, GROUP_LABELS[ALL]))
    if not page.entries:
        text = _("<b>Audit log</b> — {group}: no entries yet.").format(group=group)
    else:
        head = _("<b>Audit log</b> — {group}: {count} entries (page {page} of {pages}), newest first.").format(
            group=group,
            count=i18n.format_number(page.total, locale),
            page=i18n.format_number(page.page + 1, locale),
            pages=i18n.format_number(page.pages, locale),
        )
        items = [
            entry_text(n, entry, tz, locale, _)
            for n, entry in enumerate(page.entries, start=page.page * page.per_page + 1)
        ]
        text = "\n\n".join([head, *items, _("Times are in the office's time zone. Filter with the buttons below.")])
    return text, keyboard(page, _)


def keyboard(page: Page, _: i18n.Gettext) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(("• " if key == page.group else "") + _(label), callback_data=AUDIT.data("page", key, 0))
        for key, label in GROUP_LABELS.items()
    ]
    rows = [buttons[:4], buttons[4:]]
    nav = []
    if page.page > 0:
        nav.append(InlineKeyboardButton(_("‹ Newer"), callback_data=AUDIT.data("page", page.group, page.page - 1)))
    if page.page + 1 < page.pages:
        nav.append(InlineKeyboardButton(_("Older ›"), callback_data=AUDIT.data("page", page.group, page.page + 1)))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


def stale_button(_: i18n.Gettext) -> str:
    return _("This button is no longer valid. Type /audit to see the latest entries.")


def typed_group(text: str, _: i18n.Gettext) -> str | None:
    """The filter TEXT after /audit names (a filter button's label, in the reader's language or in English, or
    its key: "Siaran", "broadcasts", "bc"), or None."""
    wanted = " ".join(text.split()).casefold()
    for key, label in GROUP_LABELS.items():
        if wanted in (key.casefold(), label.casefold(), _(label).casefold()):
            return key
    return None


def unknown_filter(text: str, _: i18n.Gettext) -> str:
    """/audit followed by a word that names no filter: the filters the buttons offer, and how to use one."""
    filters = ", ".join(f"<b>{html.escape(_(label))}</b>" for label in GROUP_LABELS.values())
    return _(
        "There is no audit log filter called {word}. The filters are: {filters}. Type /audit and tap one of the "
        "buttons, or type its name after the command, for example <code>/audit {example}</code>."
    ).format(word=f"<code>{echo(text)}</code>", filters=filters, example=html.escape(_(GROUP_LABELS["bc"])))
