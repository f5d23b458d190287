"""The texts and buttons of the composer's recipient-region step (/siaran, step 3): the question as the draft
stands, the preview's regions line, and why a press or a typed answer was refused. Pure functions of the draft."""

from __future__ import annotations

import html
from typing import Protocol

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import i18n, regions
from bot.services import region_picker
from bot.services.region_picker import Picker, Problem, Refusal
from bot.services.roles import Authority
from bot.views import keyboards
from bot.views.limits import MAX_TYPED_CODES, echo, listed
from models import Role

# How many chosen regions the question and the preview name before "… and N more".
NAMED = 10


class Make(Protocol):
    """The composer's button maker: a button carrying the conversation's version (bot/views/broadcast.py)."""

    def __call__(self, label: str, action: str, arg: str = "") -> InlineKeyboardButton: ...


def chosen_names(codes: list[str] | tuple[str, ...], _: i18n.Gettext) -> str:
    """The chosen regions by name, "Kalimantan Selatan; Kota Banjarmasin", shortened for long lists."""
    return listed([html.escape(region_picker.label(code)) for code in codes], _, limit=NAMED, separator="; ")


def scope_names(authority: Authority, _: i18n.Gettext) -> str:
    return chosen_names(list(authority.scopes), _)


def preview_line(codes: list[str], authority: Authority, _: i18n.Gettext) -> str:
    """The preview's line naming the chosen regions ("all regions" when none is chosen)."""
    if codes:
        names = chosen_names(codes, _)
    elif authority.role is Role.ADMIN:
        names = _("all regions")
    else:
        names = _("all your regions ({regions})").format(regions=scope_names(authority, _))
    return _("Regions: {regions}").format(regions=names)


# ----------------------------------------------------------------------------------------- the question


# The examples an admin is given (any region will do): two names and a code.
ADMIN_EXAMPLES = ("Kalimantan Selatan", "Kota Banjarmasin", "63.71.05")


def examples(authority: Authority) -> tuple[str, str | None, str]:
    """Two region names and a code to give as examples, all of them regions the caller may choose: an
    organizer's first region and the first region inside it (none below a desa/kelurahan), its code."""
    if authority.role is Role.ADMIN or not authority.scopes:
        return ADMIN_EXAMPLES
    scope = regions.get(authority.scopes[0])
    if scope is None:
        return authority.scopes[0], None, authority.scopes[0]
    inside = regions.children(scope.code)[:1]
    if not inside:
        return scope.name, None, scope.code
    return scope.name, inside[0].name, inside[0].code


def how_to_type(authority: Authority, _: i18n.Gettext) -> str:
    """How to name the recipients' regions, with examples from within what AUTHORITY may choose."""
    first, second, code = examples(authority)
    first, code = html.escape(first), html.escape(code)
    if second is None:
        return _(
            "Type the name of a region (for example <i>{name}</i>) or its Kemendagri code (for example "
            "<code>{code}</code>), or open a region below. Several regions can be combined: separate them with "
            "commas, or add them one after another."
        ).format(name=first, code=code)
    return _(
        "Type the name of a region (for example <i>{first}</i> or <i>{second}</i>) or its Kemendagri code (for "
        "example <code>{code}</code>), or open a region below, down to desa/kelurahan. Several regions can be "
        "combined: separate them with commas, or add them one after another."
    ).format(first=first, second=html.escape(second), code=code)


def question(
    picker: Picker, authority: Authority, locale: str, _: i18n.Gettext, make: Make
) -> tuple[str, InlineKeyboardMarkup]:
    """The region question as the draft stands: where the drill-down is, what is chosen, the buttons."""
    lines = [_("<b>Who should receive it?</b>"), how_to_type(authority, _)]
    if authority.role is not Role.ADMIN:
        lines.append(_("You may choose within: {regions}.").format(regions=scope_names(authority, _)))
    if picker.picked:
        lines.append(
            _("<b>Chosen ({count}):</b> {regions}").format(
                count=i18n.format_number(len(picker.picked), locale), regions=chosen_names(picker.picked, _)
            )
        )
    else:
        lines.append("<i>" + _("Nothing chosen yet.") + "</i>")
    if picker.reviewing:
        lines.append(_("Tap a region to remove it from the choice."))
    elif picker.matches:
        lines.append(_("Several regions match “{name}”. Please choose one:").format(name=echo(picker.query)))
    elif picker.browse is not None and (opened := regions.get(picker.browse)):
        lines.append("📍 " + html.escape(opened.path))

    shown, page, pages = keyboards.page_of(region_picker.options(picker, authority), picker.page)
    keyboard: list[list[InlineKeyboardButton]] = []
    if picker.browse is not None and not picker.matches and not picker.reviewing:
        opened = regions.get(picker.browse)
        if opened is not None:
            mark = "✅ " if regions.in_scope(opened.code, picker.picked) else "➕ "
            keyboard.append([make(mark + _("All of {name}").format(name=opened.name), "pick", opened.code)])
    keyboard += keyboards.rows([_option(region, picker, authority, make) for region in shown])
    navigation = keyboards.page_row(page, pages, lambda label, to: make(label, "page", str(to)), _)
    if navigation:
        keyboard.append(navigation)
        lines.append(keyboards.page_line(page, pages, _))
    if region_picker.can_go_up(picker, authority):
        keyboard.append([make("« " + _("Back"), "up")])
    if picker.picked and not picker.reviewing:
        keyboard.append([make("✖ " + _("Remove a region"), "review"), make(_("Continue") + " ›", "done")])
    elif not picker.picked:
        everything = _("All my regions") if authority.role is Role.ORGANIZER else _("All regions")
        keyboard.append([make(everything, "all")])
    keyboard.append([make(_("Cancel"), "cancel")])
    return "\n\n".join(lines), InlineKeyboardMarkup(keyboard)


def _option(region: regions.Region, picker: Picker, authority: Authority, make: Make) -> InlineKeyboardButton:
    if picker.reviewing:
        return make("✖ " + region_picker.label(region.code), "pick", region.code)
    mark = "✅ " if regions.in_scope(region.code, picker.picked) else ""
    if picker.matches:
        # Matches come from anywhere in the scope: their parents tell "Martapura" from "Martapura".
        return make(mark + region.path, "pick", region.code)
    if region_picker.can_open(region, authority):
        return make(mark + region.name + " ›", "open", region.code)
    return make(mark + region.name, "pick", region.code)


# ----------------------------------------------------------------------------------------- refusals


def problem_text(problem: Problem, authority: Authority, locale: str, _: i18n.Gettext) -> str:
    """Why a press or a typed answer at the region question was refused, and what to do instead."""
    subject = echo(problem.subject, 40)
    refusal = problem.refusal
    if refusal is Refusal.UNKNOWN_CODE:
        return _(
            "Region code {code} is not a Kemendagri code. Please check it, type the region's name instead, or "
            "choose from the buttons."
        ).format(code=echo(problem.subject, 20))
    if refusal is Refusal.UNKNOWN_NAME:
        if authority.role is Role.ADMIN:
            text = _(
                "We could not find a region named {name}. Please check the spelling, or type its Kemendagri code."
            ).format(name=subject)
        else:
            text = _(
                "We could not find a region named {name} within your regions ({regions}). Please check the "
                "spelling, or choose from the buttons."
            ).format(name=subject, regions=scope_names(authority, _))
        if not problem.villages_searched:
            text += " " + _("A desa/kelurahan is found by name once its kabupaten/kota is opened below.")
        return text
    if refusal is Refusal.OUTSIDE:
        return _(
            "{region} is outside your scope. You may choose only regions within {regions}: type the name or code "
            "of one of them or of a region inside them, or choose from the buttons."
        ).format(region=subject, regions=scope_names(authority, _))
    if refusal is Refusal.TOO_MANY_TYPED:
        return _(
            "You typed {count} region codes; at most {limit} fit in one broadcast. Please use a code "
            "higher up that covers them (for example the kabupaten/kota <code>63.71</code> instead of "
            "its kecamatan), or send a second broadcast for the rest."
        ).format(count=i18n.format_number(problem.count, locale), limit=MAX_TYPED_CODES)
    if refusal is Refusal.TOO_MANY:
        return _(
            "Together that makes {count} regions; at most {limit} fit in one broadcast. Please remove some "
            "(“Remove a region”), choose a region higher up that covers them, or send a second broadcast for "
            "the rest."
        ).format(count=i18n.format_number(problem.count, locale), limit=MAX_TYPED_CODES)
    if refusal is Refusal.INCLUDED:
        return _(
            "{region} is already included in {within}, which is chosen. To send to {region} only, remove "
            "{within} first (“Remove a region”)."
        ).format(region=subject, within=html.escape(problem.within))
    if refusal is Refusal.SHORT:
        return _("Please type at least two letters of the region's name.")
    if problem.subject:
        return _(
            "Several regions match {name} as well. Please type the names that match several regions one at a "
            "time; nothing was chosen yet."
        ).format(name=subject)
    return _("Please choose one of the buttons above.")
