"""The texts of /undangan: how to use it, the organizer's latest invitations, a new link with its QR code's
caption, and why a region was refused. Pure functions of what they are given."""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot import i18n, regions
from bot.regions import Region
from bot.services import region_picker
from bot.views.limits import echo, listed
from models import Invitation


def usage(_: i18n.Gettext) -> str:
    return _(
        "<b>How to use /undangan</b>\n"
        "/undangan &lt;region code&gt; [event name] — for example "
        "<code>/undangan 63.71.01 Sosialisasi Pemilih Pemula</code>"
    )


def _event(invitation: Invitation) -> str:
    return f" — {html.escape(invitation.label)}" if invitation.label else ""


def usage_and_list(made: Sequence[tuple[Invitation, int]], _: i18n.Gettext, locale: str) -> str:
    """/undangan without arguments: the usage, and MADE (the latest invitations, each with its registrations)."""
    lines = [usage(_)]
    if made:
        lines.append("\n" + _("<b>Your latest invitations</b>"))
        for invitation, count in made:
            region = regions.get(invitation.region_code)
            name = html.escape(region.name) if region else invitation.region_code
            count_text = i18n.format_number(count, locale)
            lines.append(
                _("• {region}{event}: {count} registered").format(
                    region=name, event=_event(invitation), count=count_text
                )
            )
    return "\n".join(lines)


def unknown_code(code: str, _: i18n.Gettext) -> str:
    return (
        _(
            "Region code <code>{code}</code> is not a Kemendagri code. Please check it, for example "
            "<code>63.71</code> (kabupaten/kota) or <code>63.71.01</code> (kecamatan)."
        ).format(code=echo(code, 20))
        + "\n\n"
        + usage(_)
    )


def outside_scope(region: Region, scopes: Sequence[str], _: i18n.Gettext, locale: str) -> str:
    """REGION is not within the organizer's SCOPES (region codes)."""
    return _("{region} is outside your region. You may invite people in: {scopes}.").format(
        region=html.escape(region.path),
        scopes=listed(
            [f"{html.escape(region_picker.label(code))} ({code})" for code in scopes], _, limit=20, locale=locale
        ),
    )


def made(region: Region, invitation: Invitation, url: str, _: i18n.Gettext) -> str:
    """The new invitation link, and what it is for."""
    return _(
        "<b>Invitation link</b> for {region}{event}:\n{url}\n\n"
        "People who open it can register with their region already filled in, and you can see how many "
        "registered through it with /undangan. Print the QR code below on posters for your event."
    ).format(region=html.escape(region.path), event=_event(invitation), url=html.escape(url))


def qr_caption(region: Region, _: i18n.Gettext) -> str:
    return _("QR code: scan it to register with Rangkul ({region}).").format(region=html.escape(region.name))
