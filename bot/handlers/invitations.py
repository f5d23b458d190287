"""/undangan (alias /invite): organizers make a registration link and QR code for a region in their scope."""

from __future__ import annotations

from telegram import Update

from bot import regions
from bot.context import Context
from bot.handlers.access import guarded
from bot.services import invitations
from bot.views import invitations as views
from models import Role


@guarded(Role.ORGANIZER)
async def invite_command(update: Update, context: Context) -> None:
    """/undangan <region code> [event name]: a deep link and its QR code; without arguments, the list."""
    _ = context._
    message = update.effective_message
    assert message is not None and context.person is not None
    args = context.args or []
    if not args:
        made = await invitations.created_by(session=context.session, organizer=context.person)
        await message.reply_text(views.usage_and_list(made, _, context.locale))
        return
    region = regions.get(args[0])
    if region is None:
        await message.reply_text(views.unknown_code(args[0], _))
        return
    if not context.authority.covers(region.code):
        await message.reply_text(views.outside_scope(region, context.authority.scopes, _, context.locale))
        return
    label = " ".join(args[1:])
    invitation = await invitations.create(
        session=context.session, organizer=context.person, region_code=region.code, label=label
    )
    url = invitations.link(context.bot.username, invitation)
    await message.reply_text(views.made(region, invitation, url, _))
    await message.reply_photo(photo=invitations.qr_png(url), caption=views.qr_caption(region, _))
