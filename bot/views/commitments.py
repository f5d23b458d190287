"""The texts and buttons of commitments: the buttons under a broadcast message, the withdraw confirmation, the
invite count question, and /komitmen."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import commitments, i18n
from bot.commitments import COMMITMENT
from models import CommitmentKind

TICK = "✅ "


@dataclass(frozen=True, slots=True)
class Held:
    """A commitment a figure holds now (not withdrawn), for the buttons: the invite count when known."""

    invite_count: int | None = None


def label(kind: str, locale: str, invite_count: int | None = None) -> str:
    """The button label of KIND in LOCALE; the invite shows its number once known."""
    _ = i18n.gettext_for(locale)
    spec = commitments.kind(kind)
    if spec is None:
        return kind
    if spec.kind is CommitmentKind.INVITE and invite_count is not None:
        if invite_count == commitments.MORE_THAN:  # the "more than 25" button
            return _(commitments.INVITE_LABEL_MORE)
        return _(commitments.INVITE_LABEL_COUNTED).format(count=i18n.format_number(invite_count, locale))
    return _(spec.label)


def keyboard(
    broadcast_id: int, kinds: Sequence[str], locale: str, held: Mapping[str, Held] | None = None
) -> InlineKeyboardMarkup | None:
    """The buttons under a broadcast message: one per kind, one per row, those held ticked (None: no kinds)."""
    if not kinds:
        return None
    held = held or {}
    rows = []
    for kind in kinds:
        mine = held.get(kind)
        text = (TICK if mine is not None else "") + label(kind, locale, mine.invite_count if mine else None)
        rows.append([InlineKeyboardButton(text, callback_data=COMMITMENT.data("c", broadcast_id, kind))])
    return InlineKeyboardMarkup(rows)


def withdraw_keyboard(broadcast_id: int, kind: str, locale: str, held: Held) -> InlineKeyboardMarkup:
    """Offered after a tap on a chosen commitment: withdraw it (confirmed), change the number, or keep it."""
    _ = i18n.gettext_for(locale)
    chosen = label(kind, locale, held.invite_count)
    rows = [
        [
            InlineKeyboardButton(
                _("↩️ Withdraw “{commitment}”").format(commitment=chosen),
                callback_data=COMMITMENT.data("w", broadcast_id, kind),
            )
        ]
    ]
    if kind == CommitmentKind.INVITE:
        rows.append([InlineKeyboardButton(_("Change the number"), callback_data=COMMITMENT.data("a", broadcast_id))])
    rows.append([InlineKeyboardButton(_("Keep my commitment"), callback_data=COMMITMENT.data("k", broadcast_id))])
    return InlineKeyboardMarkup(rows)


def count_question(broadcast_id: int, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    """How many people the figure will invite: a choice of ranges, or a typed number."""
    _ = i18n.gettext_for(locale)
    text = _(
        "Thank you! About how many people, family and neighbours, will you invite to vote? Choose below, or type "
        "a number (1 to {max})."
    ).format(max=i18n.format_number(commitments.MAX_INVITE, locale))
    buttons = [
        InlineKeyboardButton(_(msgid), callback_data=COMMITMENT.data("n", broadcast_id, code))
        for code, (msgid, _count) in commitments.INVITE_RANGES.items()
    ]
    return text, InlineKeyboardMarkup([buttons[:2], buttons[2:]])


def count_recorded(count: int, locale: str) -> str:
    _ = i18n.gettext_for(locale)
    return _("Noted: {commitment}. Thank you for inviting others to take part!").format(
        commitment=label(CommitmentKind.INVITE, locale, count)
    )


def bad_count(locale: str) -> str:
    _ = i18n.gettext_for(locale)
    return _(
        "Please type a whole number from 1 to {max}, or choose one of the buttons above. Type /batal if you would "
        "rather not give a number (your commitment stays)."
    ).format(max=i18n.format_number(commitments.MAX_INVITE, locale))


@dataclass(frozen=True, slots=True)
class Listed:
    """One commitment for /komitmen."""

    kind: str
    invite_count: int | None
    committed_at: dt.datetime
    template: str


def my_commitments(rows: Sequence[Listed], locale: str, tz: ZoneInfo, titles: Mapping[str, str]) -> str:
    """/komitmen: the figure's own commitments, newest first; TITLES names each template's message."""
    _ = i18n.gettext_for(locale)
    if not rows:
        return _(
            "You have no commitments yet. When a message from us carries buttons such as “I will come to the TPS "
            "to vote”, tap one to make a commitment."
        )
    lines = [_("<b>Your commitments</b> ({count}):").format(count=i18n.format_number(len(rows), locale))]
    for row in rows:
        lines.append(
            _("• {commitment}: since {when}, in reply to the message “{title}”").format(
                commitment=label(row.kind, locale, row.invite_count),
                when=i18n.format_datetime(row.committed_at, tz, locale),
                title=html.escape(titles.get(row.template, row.template.removesuffix(".html"))),
            )
        )
    lines.append(_("To withdraw one, tap its ✅ button under that message."))
    return "\n".join(lines)
