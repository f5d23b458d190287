"""The organizer's status message and notices for one broadcast: pure views, text and buttons."""

from __future__ import annotations

import datetime as dt
import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import catalog, i18n
from bot.callbacks import Codec, Pressed
from bot.config import Settings
from bot.services import broadcasts, quiet
from models import Broadcast, BroadcastStatus, DeliveryStatus, utcnow

# The status message's buttons: "bc:<pause|resume|cancel>:<broadcast id>".
CONTROL = Codec("bc")
CONTROL_ACTIONS = ("pause", "resume", "cancel")
BAR_WIDTH = 10


def progress_bar(done: int, total: int) -> str:
    filled = BAR_WIDTH if total == 0 else round(BAR_WIDTH * done / total)
    return "▓" * filled + "░" * (BAR_WIDTH - filled)


def status_message(
    broadcast: Broadcast, counts: dict[str, int], settings: Settings, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The organizer's view of one broadcast: progress, outcomes, time left, and the buttons that apply."""
    _ = i18n.gettext_for(locale)
    total = broadcast.recipient_count
    open_ = counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0)
    done = total - open_
    states = {
        BroadcastStatus.SCHEDULED: _("scheduled"),
        BroadcastStatus.RUNNING: _("sending"),
        BroadcastStatus.PAUSED: _("paused"),
        BroadcastStatus.CANCELLED: _("cancelled"),
        BroadcastStatus.DONE: _("finished"),
    }
    title = catalog.get_template_info(settings.templates.dir, broadcast.template)

    def number(value: int) -> str:
        return i18n.format_number(value, locale)

    lines = [
        _("<b>Broadcast #{id}</b>: {title} — {state}").format(
            id=broadcast.id,
            title=_escape(title.title if title else broadcast.template),
            state=states[BroadcastStatus(broadcast.status)],
        ),
        f"{progress_bar(done, total)} {i18n.format_number(done, locale)}/{i18n.format_number(total, locale)}",
        _("Sent: {sent} · Failed: {failed} · Blocked: {blocked} · Skipped: {skipped} · Uncertain: {uncertain}").format(
            sent=number(counts.get(DeliveryStatus.SENT, 0)),
            failed=number(counts.get(DeliveryStatus.FAILED, 0) + counts.get(DeliveryStatus.CHAT_NOT_FOUND, 0)),
            blocked=number(counts.get(DeliveryStatus.BLOCKED, 0) + counts.get(DeliveryStatus.DEACTIVATED, 0)),
            skipped=number(counts.get(DeliveryStatus.SKIPPED, 0)),
            uncertain=number(counts.get(DeliveryStatus.UNCERTAIN, 0)),
        ),
    ]
    status = BroadcastStatus(broadcast.status)
    if status is BroadcastStatus.SCHEDULED and broadcast.scheduled_at:
        lines.append(
            _("Scheduled for {when}.").format(when=i18n.format_datetime(broadcast.scheduled_at, settings.tz, locale))
        )
        if (blocked := quiet.blocked_at(settings, broadcast.scheduled_at)) is not None:
            lines.append(quiet_hold_line(blocked, settings, locale))
    if status is BroadcastStatus.RUNNING and open_:
        rate = settings.broadcast.paid_rate_per_second if broadcast.paid else settings.broadcast.rate_per_second
        left = dt.timedelta(seconds=max(1, round(open_ / rate)))
        lines.append(_("About {left} left.").format(left=i18n.format_timedelta(left, locale)))
    if status is BroadcastStatus.PAUSED:
        hold = quiet.hold_at(settings, utcnow())
        reasons = {
            "quiet": (
                _(
                    "Paused for {period}: in line with Rangkul's settings, no broadcast is sent during it. It "
                    "will go on by itself on {release}."
                ).format(
                    period=_escape(hold.period.name), release=i18n.format_datetime(hold.release, settings.tz, locale)
                )
                if hold is not None
                else _(
                    "Paused for the quiet period (masa tenang), in line with Rangkul's settings; it will go on by "
                    "itself shortly."
                )
            ),
            "template_changed": _("Paused: the template changed after the broadcast was composed."),
            "role_changed": _("Paused: the organizer's role or regions have changed."),
        }
        if broadcast.paused_rank == broadcasts.ADMIN_RANK:
            lines.append(_("Paused by an admin. Only an admin can resume it."))
        else:
            lines.append(reasons.get(broadcast.pause_reason or "", _("Paused by an organizer.")))
    buttons = []
    if status in (BroadcastStatus.RUNNING, BroadcastStatus.SCHEDULED):
        buttons.append(InlineKeyboardButton(_("Pause"), callback_data=CONTROL.data("pause", broadcast.id)))
    if status is BroadcastStatus.PAUSED:
        buttons.append(InlineKeyboardButton(_("Resume"), callback_data=CONTROL.data("resume", broadcast.id)))
    if status in (BroadcastStatus.RUNNING, BroadcastStatus.SCHEDULED, BroadcastStatus.PAUSED):
        buttons.append(InlineKeyboardButton(_("Cancel"), callback_data=CONTROL.data("cancel", broadcast.id)))
    return "\n".join(lines), InlineKeyboardMarkup([buttons]) if buttons else None


def parse_control(data: object) -> tuple[str, int] | None:
    """The action and broadcast id a status button asks for, or None for data we did not make (never raises)."""
    pressed = CONTROL.parse(data)
    if pressed is None and (old := CONTROL.fields(data)) is not None and len(old) == 2:
        # "bc:<broadcast id>:<action>", the layout before the codec: status messages still in organizers' chats.
        pressed = Pressed(action=old[1], args=old[:1])
    if pressed is None or pressed.action not in CONTROL_ACTIONS or len(pressed.args) != 1:
        return None
    broadcast_id = pressed.int_arg(0)
    return None if broadcast_id is None else (pressed.action, broadcast_id)


def quiet_hold_line(hold: quiet.Hold, settings: Settings, locale: str) -> str:
    """What a broadcast held back by HOLD's period does: it goes out at the release."""
    _ = i18n.gettext_for(locale)
    return _(
        "That falls in {period}: in line with Rangkul's settings, no broadcast is sent during it, so it will be "
        "sent on {release}."
    ).format(period=_escape(hold.period.name), release=i18n.format_datetime(hold.release, settings.tz, locale))


def notice_text(notice: str, broadcast: Broadcast, settings: Settings, locale: str) -> str:
    _ = i18n.gettext_for(locale)
    hold = quiet.hold_at(settings, utcnow())
    name = _escape(hold.period.name) if hold else _("the quiet period (masa tenang)")
    release = broadcast.scheduled_at if notice == "quiet_postponed" and broadcast.scheduled_at else None
    release = release or (hold.release if hold else None)
    when = i18n.format_datetime(release, settings.tz, locale) if release else ""
    texts = {
        "quiet_paused": _(
            "Broadcast #{id} has paused itself: {period} has begun, and in line with Rangkul's settings no "
            "broadcast is sent during it. It will go on by itself on {release}; until then you can still cancel "
            "it from its status message (/status)."
        ),
        "quiet_postponed": _(
            "Broadcast #{id} fell due during {period}. In line with Rangkul's settings no broadcast is sent "
            "during it, so it will be sent on {release}. You can still pause or cancel it from its status "
            "message (/status)."
        ),
        "quiet_released": _("Broadcast #{id} is being sent again now: the quiet period (masa tenang) is over."),
        "template_changed": _(
            "Broadcast #{id} was paused because its template changed after it was composed. Cancel it and "
            "compose it again with /siaran."
        ),
        "role_changed": _(
            "Broadcast #{id} was paused because the role or regions of the organizer who composed it have "
            "changed. An admin can resume or cancel it."
        ),
    }
    return texts[notice].format(id=broadcast.id, period=name, release=when)


def _escape(text: str) -> str:
    return html.escape(text)
