"""Texts and keyboards for figures' replies: the acknowledgements, /balasan's pages, the answer as the figure
receives it, and the organizers' digest. Pure functions of what they are given."""

from __future__ import annotations

import html
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import catalog, i18n, regions
from bot.callbacks import Codec
from bot.commands import N_
from bot.labels import category_label
from bot.services.replies import Listed, Page
from models import Broadcast, ReplyKind

REPLIES = Codec("rp")
PREVIEW_CHARS = 300

BAWASLU = N_(
    "To report a suspected election violation, please contact Bawaslu of your kabupaten/kota, the Panwaslu "
    "Kecamatan or the Panwaslu Kelurahan/Desa."
)


def kind_label(kind: str, _: i18n.Gettext) -> str:
    labels = {
        ReplyKind.PHOTO: _("[photo]"),
        ReplyKind.VOICE: _("[voice note]"),
        ReplyKind.VIDEO: _("[video]"),
        ReplyKind.DOCUMENT: _("[document]"),
        ReplyKind.OTHER: _("[attachment]"),
    }
    return labels.get(ReplyKind(kind) if kind in ReplyKind._value2member_map_ else ReplyKind.OTHER, "")


def acknowledged(_: i18n.Gettext) -> str:
    return (
        _("Thank you, we have passed your message on to the KPU officers of your region.")
        + " "
        + _(BAWASLU)
        + "\n\n"
        + _("Type /bantuan to see what else you can do here.")
    )


def cannot_pass_on(_: i18n.Gettext) -> str:
    return _(
        "Sorry, we cannot pass this kind of message on to the officers. Please write it as text, or send a photo, "
        "voice note, video or document. Type /bantuan to see what you can do here."
    )


def over_cap(per_day: int, _: i18n.Gettext, locale: str) -> str:
    return (
        _(
            "Thank you. Sorry, you have already sent us {count} messages today, as many as we can pass on "
            "in one day; this one was not passed on. Please write again tomorrow."
        ).format(count=i18n.format_number(per_day, locale))
        + " "
        + _(BAWASLU)
    )


def not_registered(_: i18n.Gettext) -> str:
    return (
        _(
            "Thank you for your message. Sorry, it does not reach an officer yet: messages reach the KPU "
            "officers of your region only once you are registered. Register with /daftar (about two minutes), "
            "then write to us again."
        )
        + " "
        + _(BAWASLU)
        + "\n\n"
        + _("Type /bantuan to see what else you can do here.")
    )


def not_for_organizers(_: i18n.Gettext) -> str:
    """A free message from an organizer who is not a figure: nobody to pass it on to."""
    return _("We do not know what to do with this message. Type /bantuan to see the commands you can use.")


def stale_button(_: i18n.Gettext) -> str:
    return _("This button is no longer valid. Type /balasan to see the replies again.")


def not_in_scope(_: i18n.Gettext) -> str:
    """A /balasan button for a reply outside the presser's scope now, or one that no longer exists."""
    return _("Sorry, this reply is not in your region or no longer exists. Type /balasan to see the replies.")


def marked_read(_: i18n.Gettext) -> str:
    return _("Marked as read.")


def broadcast_title(broadcast: Broadcast | None, templates_dir: Path, locale: str, _: i18n.Gettext) -> str | None:
    if broadcast is None:
        return None
    info = catalog.get_template_info(templates_dir, broadcast.template, locale)
    return _("broadcast #{id} ({title})").format(id=broadcast.id, title=info.title if info else broadcast.template)


def _region(code: str) -> str:
    region = regions.get(code)
    return region.path if region else code


def _item(number: int, item: Listed, templates_dir: Path, tz: ZoneInfo, locale: str, _: i18n.Gettext) -> str:
    reply, figure = item.reply, item.figure
    head = _("{number}. <b>{name}</b> — {category}, {region}").format(
        number=number,
        name=html.escape(figure.full_name or _("(name deleted)")),
        category=html.escape(category_label(figure.category, _)),
        region=html.escape(_region(figure.region_code)),
    )
    when = i18n.format_datetime(reply.received_at, tz, locale)
    about = broadcast_title(item.broadcast, templates_dir, locale, _)
    context = _("{when}, in answer to {broadcast}").format(when=when, broadcast=html.escape(about)) if about else when
    body_parts = []
    if reply.kind != ReplyKind.TEXT:
        body_parts.append(kind_label(reply.kind, _))
    if reply.text:
        text = reply.text if len(reply.text) <= PREVIEW_CHARS else reply.text[:PREVIEW_CHARS] + "…"
        body_parts.append(html.escape(text))
    return f"{head}\n<i>{context}</i>\n{' '.join(body_parts)}"


def page_view(
    page: Page, templates_dir: Path, tz: ZoneInfo, locale: str, _: i18n.Gettext
) -> tuple[str, InlineKeyboardMarkup | None]:
    """/balasan: one page of unread replies, with a 'read' and an 'answer' button for each and paging."""
    if not page.items:
        return _("There are no unread replies in your region. We will tell you when new ones arrive."), None
    lines = [
        _("<b>Unread replies</b>: {count} (page {page} of {pages}), newest first.").format(
            count=i18n.format_number(page.total, locale),
            page=i18n.format_number(page.page + 1, locale),
            pages=i18n.format_number(page.pages, locale),
        )
    ]
    rows = []
    for number, item in enumerate(page.items, start=1):
        lines.append(_item(number, item, templates_dir, tz, locale, _))
        rows.append(
            [
                InlineKeyboardButton(
                    _("✓ Read {number}").format(number=number),
                    callback_data=REPLIES.data("read", item.reply.id, page.page),
                ),
                InlineKeyboardButton(
                    _("✍️ Answer {number}").format(number=number),
                    callback_data=REPLIES.data("answer", item.reply.id),
                ),
            ]
        )
    nav = []
    if page.page > 0:
        nav.append(InlineKeyboardButton(_("‹ Newer"), callback_data=REPLIES.data("page", page.page - 1)))
    if page.page + 1 < page.pages:
        nav.append(InlineKeyboardButton(_("Older ›"), callback_data=REPLIES.data("page", page.page + 1)))
    if nav:
        rows.append(nav)
    lines.append(_("Press ✓ when you have read a reply, ✍️ to answer it through Rangkul."))
    return "\n\n".join(lines), InlineKeyboardMarkup(rows)


def answer_prompt(item: Listed, _: i18n.Gettext) -> str:
    return _(
        "Type your answer to {name}. It is sent through Rangkul, signed with the name of the office. Type /batal "
        "to cancel."
    ).format(name=html.escape(item.figure.full_name or _("(name deleted)")))


def answer_is_a_command(_: i18n.Gettext) -> str:
    return _(
        "This was not sent: an answer cannot start with “/”. Type your answer to the figure, or /batal to stop "
        "answering."
    )


def answer_too_long(length: int, limit: int, _: i18n.Gettext, locale: str) -> str:
    return _(
        "This was not sent: your answer has {length} characters, and at most {limit} fit in one message. Please "
        "shorten it and send it again, or type /batal to stop answering."
    ).format(length=i18n.format_number(length, locale), limit=i18n.format_number(limit, locale))


def already_answered(item: Listed, tz: ZoneInfo, _: i18n.Gettext, locale: str) -> str:
    when = item.reply.answered_at
    return _("This reply was already answered on {when}. Type /balasan to see the replies still waiting.").format(
        when=i18n.format_datetime(when, tz, locale) if when is not None else ""
    )


def answer_to_figure(answer: str, controller: str, quoted: str | None, _: i18n.Gettext) -> str:
    """The organizer's answer as the figure receives it, in the figure's language."""
    lines = [_("<b>An answer to your message</b>")]
    if quoted:
        short = quoted if len(quoted) <= 200 else quoted[:200] + "…"
        lines.append(_("You wrote: <i>{text}</i>").format(text=html.escape(short)))
    lines.append(html.escape(answer))
    lines.append("— " + html.escape(controller))
    return "\n\n".join(lines)


def answer_unsendable(_: i18n.Gettext) -> str:
    """The typed answer's reply left the organizer's scope, or its sender deleted their data, meanwhile."""
    return _("Sorry, this reply is no longer in your region or its sender deleted their data. Nothing was sent.")


def answer_undelivered(_: i18n.Gettext) -> str:
    return _(
        "Sorry, your answer could not be delivered: the figure may have blocked Rangkul. Nothing was "
        "stored; press ✍️ in /balasan to try again later."
    )


def answer_sent(_: i18n.Gettext) -> str:
    return _("Your answer was sent and stored with the reply. Type /balasan to see the other unread replies.")


def digest(count: int, locale: str, _: i18n.Gettext) -> tuple[str, InlineKeyboardMarkup]:
    """The short note that new replies arrived in the reader's scope, with a button to open /balasan."""
    text = _(
        "<b>New replies from figures in your region</b>: {count}. Press the button below or type /balasan to read them."
    ).format(count=i18n.format_number(count, locale))
    button = InlineKeyboardButton(_("Open the replies"), callback_data=REPLIES.data("page", 0))
    return text, InlineKeyboardMarkup([[button]])
