"""How a figure's category and age bracket are named to people (registration, /profil, reports, exports): one
place, without Telegram, so the command line's exports need not load the handlers."""

from __future__ import annotations

from bot import i18n
from models import AgeBracket, FigureCategory


def category_label(value: str, _: i18n.Gettext) -> str:
    labels: dict[str, str] = {
        FigureCategory.YOUTH: _("Youth figure (tokoh pemuda)"),
        FigureCategory.COMMUNITY: _("Community figure (tokoh masyarakat)"),
        FigureCategory.RELIGIOUS: _("Religious figure (tokoh agama)"),
        FigureCategory.WOMEN: _("Women's figure (tokoh perempuan)"),
        FigureCategory.CUSTOMARY: _("Customary figure (tokoh adat)"),
        FigureCategory.OTHER: _("Other"),
    }
    return labels.get(value, value)


def age_label(value: str, _: i18n.Gettext) -> str:
    labels: dict[str, str] = {
        AgeBracket.UNDER_18: _("Under 18"),
        AgeBracket.FROM_18_TO_25: _("18–25 years"),
        AgeBracket.FROM_26_TO_40: _("26–40 years"),
        AgeBracket.FROM_41_TO_60: _("41–60 years"),
        AgeBracket.OVER_60: _("Over 60"),
    }
    return labels.get(value, value)
