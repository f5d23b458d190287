"""The chat export being put together (/ekspor): what, in which format, with which filters, and which of the
menu's questions is showing. Kept in the conversation's row between presses."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from bot.services.exports import Filters, Format, Kind


class Screen(enum.StrEnum):
    """Where the chat export's draft is: the menu, or one of its filter questions."""

    MENU = "menu"
    REGIONS = "regions"
    CATEGORIES = "categories"
    AGES = "ages"
    STATUSES = "statuses"
    DATES = "dates"


@dataclass
class Draft:
    """The chat export being put together (/ekspor): what, in which format, with which filters."""

    kind: Kind = Kind.FIGURES
    fmt: Format = Format.XLSX
    filters: Filters = field(default_factory=Filters)
    screen: Screen = Screen.MENU

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "fmt": self.fmt.value, "filters": self.filters.to_dict(),
                "screen": self.screen.value}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Draft:
        data = data or {}
        kind, fmt, screen = data.get("kind"), data.get("fmt"), data.get("screen")
        return cls(
            kind=Kind(kind) if kind in set(Kind) else Kind.FIGURES,
            fmt=Format(fmt) if fmt in set(Format) else Format.XLSX,
            filters=Filters.from_dict(data.get("filters")),
            screen=Screen(screen) if screen in set(Screen) else Screen.MENU,
        )
