"""The keyboard layout now lives with the views (bot.views.keyboards); handlers that import it from here still can."""

from __future__ import annotations

from bot.views.keyboards import LONG_LABEL as LONG_LABEL
from bot.views.keyboards import PAGE_SIZE as PAGE_SIZE
from bot.views.keyboards import page_line as page_line
from bot.views.keyboards import page_of as page_of
from bot.views.keyboards import page_row as page_row
from bot.views.keyboards import rows as rows
