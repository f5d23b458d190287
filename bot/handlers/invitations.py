"""/undangan (alias /invite): organizers make a registration link and QR code for a region in their scope."""

from __future__ import annotations

import html

from telegram import Update

from bot import i18n, regions
from bot.context import Context
from bot.handlers.access import guarded
from bot.services import invitations, region_picker
from bot.views.limits import echo, listed
from models import Role


@guarded(Role.ORGANIZER)
async def invite_command(update: Update, context: Context) -> None:
    """/undangan <region code> [event name]: a deep link and its QR code; without arguments, the list."""
    _ = context._
    message = update.effective_message
    assert message is not None and context.person is not None
    args = context.args or []
    if not args:
        await message.reply_text(await _usage_and_list(context))
        return
    region = regions.get(args[0])
    if region is None:
        await message.reply_text(
            _(
                "Region code <code>{code}</code> is not a Kemendagri code. Please check it, for example "
                "<code>63.71</code> (kabupaten/kota) or <code>63.71.01</code> (kecamatan)."
            ).format(code=echo(args[0], 20))
            + "\n\n"
            + _usage(context)
        )
        return
    if not context.authority.covers(region.code):
        await message.reply_text(
            _("{region} is outside your region. You may invite people in: {scopes}.").format(
                region=html.escape(region.path),
                scopes=listed(
                    [f"{html.escape(region_picker.label(code))} ({code})" for code in context.authority.scopes],
                    _,
                    limit=20,
                    locale=context.locale,
                ),
            )
        )
        return
    label = " ".join(args[1:])
    invitation = await invitations.create(
        session=context.session, organizer=context.person, region_code=region.code, label=label
    )
    url = invitations.link(context.bot.username, invitation)
    text = _(
        "<b>Invitation link</b> for {region}{event}:\n{url}\n\n"
        "People who open it can register with their region already filled in, and you can see how many "
        "registered through it with /undangan. Print the QR code below on posters for your event."
    ).format(
        region=html.escape(region.path),
        event=f" — {html.escape(invitation.label)}" if invitation.label else "",
        url=html.escape(url),
    )
    await message.reply_text(text)
    await message.reply_photo(
        photo=invitations.qr_png(url),
        caption=_("QR code: scan it to register with Rangkul ({region}).").format(region=html.escape(region.name)),
    )


def _usage(context: Context) -> str:
    return context._(
        "<b>How to use /undangan</b>\n"
        "/undangan &lt;region code&gt; [event name] — for example "
        "<code>/undangan 63.71.01 Sosialisasi Pemilih Pemula</code>"
    )


async def _usage_and_list(context: Context) -> str:
    _ = context._
    assert context.person is not None
    made = await invitations.created_by(session=context.session, organizer=context.person)
    lines = [_usage(context)]
    if made:
        lines.append("\n" + _("<b>Your latest invitations</b>"))
        for invitation, count in made:
            region = regions.get(invitation.region_code)
            name = html.escape(region.name) if region else invitation.region_code
            event = f" — {html.escape(invitation.label)}" if invitation.label else ""
            count_text = i18n.format_number(count, context.locale)
            lines.append(_("• {region}{event}: {count} registered").format(region=name, event=event, count=count_text))
    return "\n".join(lines)
