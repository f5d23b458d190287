"""Choosing the regions a broadcast goes to: typed names searched within the caller's scope, typed Kemendagri
codes, and a drill-down province → kabupaten/kota → kecamatan → desa, several regions combined.

Every choice is checked here against the caller's authority as read from the database for this update, whatever a
button said; the recipients query applies an organizer's scope again on its own (bot/services/broadcasts.py).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

from bot import regions
from bot.services.roles import Authority
from models import Role

# A typed token made only of digits and dots is a code ("63.71"); anything else is a name.
_CODE_LIKE = re.compile(r"^[0-9][0-9.]*$")
MAX_MATCHES = 60


class Refusal(enum.StrEnum):
    UNKNOWN_CODE = "unknown_code"
    UNKNOWN_NAME = "unknown_name"
    OUTSIDE = "outside"
    TOO_MANY_TYPED = "too_many_typed"
    TOO_MANY = "too_many"
    INCLUDED = "included"
    SHORT = "short"
    CHOOSE = "choose"


@dataclass(frozen=True)
class Problem:
    """Why a choice was refused; SUBJECT is what was typed or the region concerned, COUNT a number to quote, WITHIN
    the chosen region that already includes SUBJECT."""

    refusal: Refusal
    subject: str = ""
    count: int = 0
    within: str = ""
    # Whether desa/kelurahan names were searched too (only inside an opened kabupaten/kota or kecamatan).
    villages_searched: bool = False


@dataclass
class Picker:
    """The region step's draft: what is chosen, and what the buttons show (a region opened, a page, a list of
    regions matching a typed name, or the chosen regions to remove some)."""

    picked: list[str] = field(default_factory=list)
    browse: str | None = None
    page: int = 0
    matches: list[str] = field(default_factory=list)
    query: str = ""
    reviewing: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "picked": self.picked,
            "browse": self.browse,
            "page": self.page,
            "matches": self.matches,
            "query": self.query,
            "reviewing": self.reviewing,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Picker:
        data = data or {}
        return cls(
            picked=[str(code) for code in data.get("picked") or []],
            browse=data.get("browse") or None,
            page=int(data.get("page") or 0),
            matches=[str(code) for code in data.get("matches") or []],
            query=str(data.get("query") or ""),
            reviewing=bool(data.get("reviewing")),
        )


def root(authority: Authority) -> str | None:
    """Where the drill-down starts: an organizer with one region starts inside it; otherwise at the top list."""
    if authority.role is Role.ORGANIZER and len(authority.scopes) == 1:
        only = regions.get(authority.scopes[0])
        if only is not None and only.level < 4:
            return only.code
    return None


def start(authority: Authority) -> Picker:
    return Picker(browse=root(authority))


def top(authority: Authority) -> list[regions.Region]:
    """The first list: the provinces for admins, an organizer's own regions for an organizer."""
    if authority.role is Role.ADMIN:
        return regions.children()
    return [region for code in authority.scopes if (region := regions.get(code)) is not None]


def options(picker: Picker, authority: Authority) -> list[regions.Region]:
    """The regions the buttons offer now."""
    if picker.reviewing:
        return [region for code in picker.picked if (region := regions.get(code)) is not None]
    if picker.matches:
        return [region for code in picker.matches if (region := regions.get(code)) is not None]
    if picker.browse is not None:
        return regions.children(picker.browse)
    return top(authority)


def can_open(region: regions.Region, authority: Authority) -> bool:
    return region.level < 4 and authority.covers(region.code)


def can_go_up(picker: Picker, authority: Authority) -> bool:
    return bool(picker.matches) or picker.reviewing or (picker.browse is not None and picker.browse != root(authority))


def _show(picker: Picker, *, browse: str | None) -> None:
    picker.browse, picker.page, picker.matches, picker.query, picker.reviewing = browse, 0, [], "", False


def open_region(picker: Picker, code: str, authority: Authority) -> Problem | None:
    """Show what lies below CODE (a button press: checked again here)."""
    region = regions.get(code)
    if region is None or region.level >= 4:
        return Problem(Refusal.CHOOSE)
    if not authority.covers(region.code):
        return Problem(Refusal.OUTSIDE, region.name)
    _show(picker, browse=region.code)
    return None


def go_up(picker: Picker, authority: Authority) -> None:
    """Back from a list of matches or of the chosen regions; otherwise one level up (never above the scope)."""
    if picker.matches or picker.reviewing:
        _show(picker, browse=picker.browse)
        return
    if picker.browse is None or picker.browse == root(authority):
        return
    parent = picker.browse.rpartition(".")[0] or None
    if parent is not None and not authority.covers(parent):
        parent = None
    _show(picker, browse=parent if parent is not None else root(authority))


def turn_page(picker: Picker, arg: str) -> None:
    picker.page = int(arg) if re.fullmatch(r"[0-9]{1,4}", arg) else 0


def still_allowed(picker: Picker, authority: Authority) -> Problem | None:
    """Before going on: the chosen regions against the caller's scope now (a role may have changed meanwhile)."""
    outside = [code for code in picker.picked if not authority.covers(code)]
    return Problem(Refusal.OUTSIDE, label(outside[0])) if outside else None


def review(picker: Picker) -> Problem | None:
    if not picker.picked:
        return Problem(Refusal.CHOOSE)
    picker.reviewing, picker.page = True, 0
    return None


def _combined(picked: list[str], codes: list[str]) -> list[str]:
    """PICKED with CODES added; a region inside one already chosen adds nothing, one around others replaces them."""
    result = list(picked)
    for code in codes:
        if regions.in_scope(code, result):
            continue
        result = [kept for kept in result if not regions.covers(code, kept)] + [code]
    return result


def add(picker: Picker, codes: list[str], authority: Authority, *, limit: int) -> Problem | None:
    """Choose CODES as well (typed or pressed): each must exist and lie within the caller's scope; at most LIMIT
    regions together."""
    for code in codes:
        region = regions.get(code)
        if region is None:
            return Problem(Refusal.UNKNOWN_CODE, code)
        if not authority.covers(region.code):
            return Problem(Refusal.OUTSIDE, region.name)
    combined = _combined(picker.picked, codes)
    if len(combined) > limit:
        return Problem(Refusal.TOO_MANY, count=len(combined))
    picker.picked = combined
    if picker.matches or picker.reviewing:
        _show(picker, browse=picker.browse)
    return None


def toggle(picker: Picker, code: str, authority: Authority, *, limit: int) -> Problem | None:
    """A region's button: chosen regions are dropped, others chosen."""
    if code in picker.picked:
        picker.picked = [kept for kept in picker.picked if kept != code]
        if picker.reviewing and not picker.picked:
            _show(picker, browse=picker.browse)
        return None
    region = regions.get(code)
    around = next((kept for kept in picker.picked if region is not None and regions.covers(kept, code)), None)
    if region is not None and around is not None and authority.covers(code):
        return Problem(Refusal.INCLUDED, region.name, within=label(around))
    return add(picker, [code], authority, limit=limit)


def search(query: str, picker: Picker, authority: Authority) -> regions.Found:
    """Regions named like QUERY within the region opened, else within the caller's whole scope."""
    scopes: list[str | None] = [None] if authority.role is Role.ADMIN else list(authority.scopes)
    if picker.browse is not None:
        found = regions.find(query, within=[picker.browse], limit=MAX_MATCHES)
        if found.all:
            return found
    return regions.find(query, within=scopes, limit=MAX_MATCHES)


def type_in(text: str, picker: Picker, authority: Authority, *, limit: int) -> Problem | None:
    """Typed regions, separated by commas: codes and names, each within the caller's scope.

    A name that is exactly one region's (and nothing else matches, or the kind was said: "Kota Banjarmasin") is
    chosen; a name several regions match leaves them as buttons to choose from. Nothing is chosen when any part
    is refused.
    """
    tokens = list(dict.fromkeys(token.strip() for token in text.replace(";", ",").split(",") if token.strip()))
    if not tokens:
        return Problem(Refusal.SHORT)
    if len(tokens) > limit:
        return Problem(Refusal.TOO_MANY_TYPED, count=len(tokens))
    codes: list[str] = []
    ambiguous: tuple[str, list[regions.Region]] | None = None
    for token in tokens:
        if _CODE_LIKE.match(token):
            codes.append(token)
            continue
        if len(" ".join(token.split())) < 2:
            return Problem(Refusal.SHORT)
        found = search(token, picker, authority)
        if not found.all:
            return _not_found(token, picker, authority)
        if not found.exact and regions.says_kind(token) and (outside := _named_outside(token, authority)):
            # "Kabupaten Banjar" typed by an organizer of Kota Banjarmasin names a region outside their scope;
            # the kecamatan of Banjarmasin that merely start with "Banjar" are not what was asked for.
            return Problem(Refusal.OUTSIDE, outside.name)
        if len(found.exact) == 1 and (not found.partial or regions.says_kind(token)):
            codes.append(found.exact[0].code)
        elif len(found.all) == 1:
            codes.append(found.all[0].code)
        elif ambiguous is None:
            ambiguous = (token, found.all)
        else:
            # One list of buttons at a time: the second unclear name is asked about on its own.
            return Problem(Refusal.CHOOSE, token)
    problem = add(picker, codes, authority, limit=limit)
    if problem is not None:
        return problem
    if ambiguous is not None:
        token, matches = ambiguous
        picker.matches, picker.query, picker.page, picker.reviewing = [r.code for r in matches], token, 0, False
    return None


def _named_outside(token: str, authority: Authority) -> regions.Region | None:
    """The region outside an organizer's scope that TOKEN names exactly, if any (admins have no outside)."""
    if authority.role is Role.ADMIN:
        return None
    return next(iter(regions.find(token, within=[None], limit=MAX_MATCHES).exact), None)


def _not_found(token: str, picker: Picker, authority: Authority) -> Problem:
    """A name found nowhere in the scope: outside it (say so), or not a region at all."""
    if authority.role is not Role.ADMIN:
        elsewhere = regions.find(token, within=[None], limit=5)
        if elsewhere.exact or elsewhere.all:
            return Problem(Refusal.OUTSIDE, (elsewhere.exact or elsewhere.all)[0].name)
    villages = picker.browse is not None and regions.get(picker.browse) is not None and "." in picker.browse
    return Problem(Refusal.UNKNOWN_NAME, token, villages_searched=villages)


def label(code: str) -> str:
    """A chosen region as the preview names it; a kecamatan or desa with its kabupaten/kota, since many share
    names ("Martapura, Kabupaten Banjar")."""
    region = regions.get(code)
    if region is None:
        return code
    if region.level <= 2:
        return region.name
    parent = regions.get(".".join(code.split(".")[:2]))
    return f"{region.name}, {parent.name}" if parent else region.name
