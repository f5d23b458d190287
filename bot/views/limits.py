"""Replies that stay under Telegram's 4,096 characters (what people typed is quoted short, long lists stop
early), and the refusal every organizer command shares."""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot import i18n
from bot.commands import N_

# The refusal for a figure who tries an organizer's command.
NOT_ORGANIZER = N_(
    "Sorry, only election organizers may do this. If you work for the KPU or Bawaslu, ask your office's Rangkul "
    "admin to give you the organizer role. Type /bantuan to see the commands you can use."
)

# A quoted word or code never needs more to be recognised; a 4,000-character paste must not come back whole.
ECHO_LIMIT = 40
# Typed lists (region codes in the composer or in /peran) are capped: beyond this, a region higher up the tree
# says the same in one code, and the database query stays small.
MAX_TYPED_CODES = 50
# Regions one organizer may hold: each is two terms of the recipients query, and SQLite refuses an expression
# deeper than 1,000 ("Expression tree is too large"); a code higher up covers many at once.
MAX_ORGANIZER_SCOPES = 100


def echo(text: str, limit: int = ECHO_LIMIT) -> str:
    """TEXT as typed, on one line, shortened to LIMIT characters (ending in …) and escaped for Telegram HTML."""
    line = " ".join(text.split())
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return html.escape(line)


def listed(
    items: Sequence[str], _: i18n.Gettext, *, limit: int, separator: str = ", ", locale: str = i18n.DEFAULT_LOCALE
) -> str:
    """ITEMS joined by SEPARATOR, the first LIMIT of them and "… and N more" for the rest (N in LOCALE's digits)."""
    if len(items) <= limit:
        return separator.join(items)
    more = _("… and {count} more").format(count=i18n.format_number(len(items) - limit, locale))
    return separator.join(items[:limit]) + (" " if separator == ", " else separator) + more


def unique(items: Sequence[str]) -> list[str]:
    """ITEMS without repeats, in the order first typed."""
    return list(dict.fromkeys(items))
