"""Keyboard layout shared by the region questions (registration, the composer): rows that phones do not cut, and
pages of ten. Pure functions, so that views can use them without importing the handlers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from telegram import InlineKeyboardButton

from bot import i18n

PAGE_SIZE = 10
# Longer labels go one per row: two to a row, a phone cuts "Kabupaten Hulu Sungai Selatan" and "… Tengah" into
# the same "Kabupaten Hulu Sung…".
LONG_LABEL = 20

T = TypeVar("T")


def rows(buttons: Sequence[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    """BUTTONS in order, two short ones to a row, a long one alone on its row."""
    keyboard: list[list[InlineKeyboardButton]] = []
    waiting: list[InlineKeyboardButton] = []
    for button in buttons:
        if len(button.text) > LONG_LABEL:
            if waiting:
                keyboard.append(waiting)
                waiting = []
            keyboard.append([button])
            continue
        waiting.append(button)
        if len(waiting) == 2:
            keyboard.append(waiting)
            waiting = []
    if waiting:
        keyboard.append(waiting)
    return keyboard


def page_of(items: Sequence[T], page: int, size: int = PAGE_SIZE) -> tuple[list[T], int, int]:
    """The items on PAGE (kept within range), the page shown and the number of pages."""
    pages = max(1, -(-len(items) // size))
    page = min(max(page, 0), pages - 1)
    return list(items[page * size : (page + 1) * size]), page, pages


def page_row(
    page: int, pages: int, make: Callable[[str, int], InlineKeyboardButton], _: i18n.Gettext
) -> list[InlineKeyboardButton]:
    """‹ Previous / Next › for a paged list; MAKE(label, page) builds the button of the caller's flow."""
    row = []
    if page > 0:
        row.append(make("‹ " + _("Previous"), page - 1))
    if page < pages - 1:
        row.append(make(_("Next") + " ›", page + 1))
    return row


def page_line(page: int, pages: int, _: i18n.Gettext) -> str:
    return _("Page {page} of {pages}.").format(page=page + 1, pages=pages) if pages > 1 else ""
