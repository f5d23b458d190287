"""The texts and buttons of commitments: the buttons under a broadcast message, the answers to a tap, the withdraw
confirmation, the invite count question, and /komitmen."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import commitments, i18n
from bot.commitments import COMMITMENT
from bot.services.commitments import Held, Listed, Refusal
from models import CommitmentKind

TICK = "✅ "
# Room for /komitmen's lines in one message (4,096 characters), its closing lines included.
MESSAGE_BUDGET = 3800


def label(kind: str, locale: str, held: Held | None = None) -> str:
    """The button label of KIND in LOCALE; the invite shows its number (or the range chosen) once known."""
    _ = i18n.gettext_for(locale)
    spec = commitments.kind(kind)
    if spec is None:
        return kind
    if spec.kind is CommitmentKind.INVITE and held is not None:
        if held.invite_range == commitments.MORE_THAN_CODE:
            return _(commitments.INVITE_LABEL_MORE)
        if held.invite_range in commitments.INVITE_RANGES:
            return _(commitments.INVITE_LABEL_COUNTED).format(count=held.invite_range.replace("-", "–"))
        if held.invite_count is not None:
            return _(commitments.INVITE_LABEL_COUNTED).format(count=i18n.format_number(held.invite_count, locale))
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
        text = (TICK if mine is not None else "") + label(kind, locale, mine)
        rows.append([InlineKeyboardButton(text, callback_data=COMMITMENT.data("c", broadcast_id, kind))])
    return InlineKeyboardMarkup(rows)


def refusal(reason: Refusal, locale: str) -> str:
    """Why a press (or a typed count) was not taken."""
    _ = i18n.gettext_for(locale)
    if reason is Refusal.NOT_REGISTERED:
        return _(
            "Sorry, only registered community figures can make a commitment. Type /daftar to register; after "
            "that, the buttons under our next messages will work for you."
        )
    if reason is Refusal.OPTED_OUT:
        return _(
            "You have stopped receiving messages from us, so we cannot record a commitment. Type /lanjut to "
            "receive messages again, then tap the button again."
        )
    return _(
        "Sorry, this button is not valid for you. Use the buttons under the messages we sent you, or type "
        "/komitmen to see your commitments."
    )


def tapped(chosen: str, locale: str, *, first: bool) -> str:
    """The answer to a tap on a commitment's button: noted now (FIRST) or already; CHOSEN is its label."""
    _ = i18n.gettext_for(locale)
    if first:
        return _("Noted: {commitment}. Thank you!").format(commitment=chosen)
    return _("Already noted: {commitment}.").format(commitment=chosen)


def held_already(locale: str) -> str:
    """A tap on a commitment already made: the withdraw keyboard follows."""
    _ = i18n.gettext_for(locale)
    return _("You made this commitment. Do you want to withdraw it? Choose below.")


def withdrawn(kind: str, locale: str, *, now: bool) -> str:
    """The answer to "withdraw": done NOW, or it had been withdrawn before."""
    _ = i18n.gettext_for(locale)
    if now:
        return _("Withdrawn: {commitment}.").format(commitment=label(kind, locale))
    return _("This commitment was already withdrawn. Tap its button to make it again.")


def kept(locale: str) -> str:
    _ = i18n.gettext_for(locale)
    return _("Your commitments stay as they are.")


def invite_first(locale: str, *, then_number: bool = False) -> str:
    """A number of people asked for without the invite commitment (THEN_NUMBER: one was given)."""
    _ = i18n.gettext_for(locale)
    if then_number:
        return _("Tap “I will invite … people” under the message first, then give the number.")
    return _("Tap “I will invite … people” under the message first.")


def withdraw_keyboard(broadcast_id: int, kind: str, locale: str, held: Held) -> InlineKeyboardMarkup:
    """Offered after a tap on a chosen commitment: withdraw it (confirmed), change the number, or keep it."""
    _ = i18n.gettext_for(locale)
    chosen = label(kind, locale, held)
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


def count_recorded(held: Held, locale: str) -> str:
    _ = i18n.gettext_for(locale)
    return _("Noted: {commitment}. Thank you for inviting others to take part!").format(
        commitment=label(CommitmentKind.INVITE, locale, held)
    )


def bad_count(locale: str) -> str:
    _ = i18n.gettext_for(locale)
    return _(
        "Please type a whole number from 1 to {max}, or choose one of the buttons above. Type /batal if you would "
        "rather not give a number (your commitment stays)."
    ).format(max=i18n.format_number(commitments.MAX_INVITE, locale))


def not_a_figure(locale: str) -> str:
    """/komitmen from someone who is not a registered figure."""
    _ = i18n.gettext_for(locale)
    return _("You are not registered as a community figure. Type /daftar to register.")


def my_commitments(rows: Sequence[Listed], total: int, locale: str, tz: ZoneInfo, titles: Mapping[str, str]) -> str:
    """/komitmen: the figure's own commitments, newest first (TOTAL held in all); TITLES names each template's
    message. Lines that would not fit in one Telegram message are left out and counted."""
    _ = i18n.gettext_for(locale)
    if not rows:
        return _(
            "You have no commitments yet. When a message from us carries buttons such as “I will come to the TPS "
            "to vote”, tap one to make a commitment."
        )
    lines = [_("<b>Your commitments</b> ({count}):").format(count=i18n.format_number(total, locale))]
    shown = 0
    for row in rows:
        line = _("• {commitment}: since {when}, in reply to the message “{title}”").format(
            commitment=label(row.kind, locale, Held(row.invite_count, row.invite_range)),
            when=i18n.format_datetime(row.committed_at, tz, locale),
            title=html.escape(titles.get(row.template, row.template.removesuffix(".html"))),
        )
        if sum(len(text) + 1 for text in lines) + len(line) > MESSAGE_BUDGET:
            break
        lines.append(line)
        shown += 1
    if shown < total:
        lines.append(
            _("These are the newest {shown} of your {total} commitments.").format(
                shown=i18n.format_number(shown, locale), total=i18n.format_number(total, locale)
            )
        )
    lines.append(_("To withdraw one, tap its ✅ button under that message."))
    return "\n".join(lines)
