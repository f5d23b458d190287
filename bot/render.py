"""Message templates: Jinja2, sandboxed, autoescaped for Telegram HTML, StrictUndefined, with Babel filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context as JinjaContext
from jinja2.sandbox import SandboxedEnvironment

from bot import i18n

# Names the renderer itself puts into every template's context.
LOCALE_VAR = "_locale"
TZ_VAR = "_tz"


def _locale(ctx: JinjaContext) -> str:
    return str(ctx.get(LOCALE_VAR, i18n.DEFAULT_LOCALE))


def _tz(ctx: JinjaContext, tz: str | None) -> ZoneInfo:
    return ZoneInfo(tz) if tz else ctx.get(TZ_VAR) or ZoneInfo("Asia/Jakarta")


@pass_context
def _date(ctx: JinjaContext, value: dt.date) -> str:
    return i18n.format_date(value, _locale(ctx))


@pass_context
def _datetime(ctx: JinjaContext, value: dt.datetime, tz: str | None = None) -> str:
    return i18n.format_datetime(value, _tz(ctx, tz), _locale(ctx))


@pass_context
def _time(ctx: JinjaContext, value: dt.datetime, tz: str | None = None) -> str:
    return i18n.format_time(value, _tz(ctx, tz), _locale(ctx))


@pass_context
def _number(ctx: JinjaContext, value: float) -> str:
    return i18n.format_number(value, _locale(ctx))


@pass_context
def _duration(ctx: JinjaContext, value: dt.timedelta) -> str:
    return i18n.format_timedelta(value, _locale(ctx))


class Renderer:
    """Renders templates/<lang>/<name>, falling back to templates/id/<name>; compiled templates are cached."""

    def __init__(self, templates_dir: Path, *, default_tz: ZoneInfo) -> None:
        self.templates_dir = templates_dir
        self.default_tz = default_tz
        self.env = SandboxedEnvironment(
            loader=FileSystemLoader(templates_dir),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self.env.filters.update(date=_date, datetime=_datetime, time=_time, number=_number, duration=_duration)

    def template_name(self, name: str, locale: str) -> str:
        """The file that serves NAME in LOCALE: the locale's own when it exists, else Indonesian."""
        if (self.templates_dir / locale / name).is_file():
            return f"{locale}/{name}"
        return f"{i18n.DEFAULT_LOCALE}/{name}"

    def render(
        self, name: str, values: Mapping[str, Any], *, locale: str = i18n.DEFAULT_LOCALE, tz: ZoneInfo | None = None
    ) -> str:
        """Telegram-HTML text of template NAME with VALUES; a missing variable raises jinja2.UndefinedError."""
        template = self.env.get_template(self.template_name(name, locale))
        return template.render({**values, LOCALE_VAR: locale, TZ_VAR: tz or self.default_tz}).strip()
