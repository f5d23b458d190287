"""/laporan (alias /report): organizers see their region's figures, commitments, broadcasts and reach; admins
see all of Indonesia. A text, then a chart."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot import charts
from bot.context import Context
from bot.handlers.access import guarded
from bot.services import reports
from bot.views import report as report_views
from models import Role


@guarded(Role.ORGANIZER)
async def report_command(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None
    settings = context.settings
    report = await reports.build(session=context.session, authority=context.authority)
    text = report_views.text(report, templates_dir=settings.templates.dir, tz=settings.tz, locale=context.locale)
    chart = report_views.chart(report, tz=settings.tz, locale=context.locale)
    # Drawing takes a few hundred milliseconds: off the event loop, so other updates go on meanwhile.
    png = await asyncio.to_thread(charts.render, chart)
    await message.reply_text(text)
    await message.reply_photo(photo=png, caption=report_views.caption(report, tz=settings.tz, locale=context.locale))
