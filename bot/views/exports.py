"""/ekspor's texts and buttons: the menu with the filters chosen so far, each filter's question, the progress of
the file being written, and the refusals. Pure: (draft, version, language) -> (text, buttons)."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import i18n, regions
from bot.labels import age_label, category_label
from bot.services import region_picker
from bot.services.export_draft import Draft, Screen
from bot.services.exports import EXPORT, Format, Kind, Refusal, Status, Viewer
from bot.services.region_picker import Picker, Problem
from bot.services.region_picker import Refusal as Refusal_
from bot.views import keyboards
from bot.views.limits import MAX_TYPED_CODES, echo, listed
from models import AgeBracket, FigureCategory, Role

NAMED = 10

Markup = InlineKeyboardMarkup


def _button(label: str, action: str, version: int, arg: str = "") -> InlineKeyboardButton:
    args = (version, arg) if arg else (version,)
    return InlineKeyboardButton(label, callback_data=EXPORT.data(action, *args))


def refusal(reason: Refusal, _: i18n.Gettext) -> str:
    if reason is Refusal.ORGANIZERS_NOT_ALLOWED:
        return _(
            "Sorry, in this office only Rangkul admins may export contact lists. Please ask your office's Rangkul "
            "admin for the list you need; /laporan shows the figures of your region."
        )
    return _(
        "Sorry, only Rangkul admins may export contact lists. If you work for the KPU or Bawaslu and need one, "
        "please ask your office's Rangkul admin. Type /bantuan to see the commands you can use."
    )


def kind_label(kind: Kind, _: i18n.Gettext) -> str:
    return {Kind.FIGURES: _("Figures"), Kind.COMMITMENTS: _("Commitments"), Kind.REPLIES: _("Replies")}[kind]


def status_label(value: str, _: i18n.Gettext) -> str:
    labels: dict[str, str] = {
        Status.ACTIVE: _("Active"),
        Status.STOPPED: _("Stopped messages"),
        Status.UNREACHABLE: _("Unreachable"),
    }
    return labels.get(value, value)


def _chosen(values: list[str], label: object, _: i18n.Gettext) -> str:
    if not values:
        return _("all")
    return ", ".join(html.escape(label(value, _)) for value in values)  # type: ignore[operator]


def region_names(codes: list[str], _: i18n.Gettext, locale: str) -> str:
    names = [html.escape(region_picker.label(code)) for code in codes]
    return listed(names, _, limit=NAMED, separator="; ", locale=locale)


def dates_line(draft: Draft, _: i18n.Gettext, locale: str) -> str:
    start, end = draft.filters.registered_from, draft.filters.registered_to
    if start and end:
        return _("{start} to {end}").format(start=i18n.format_date(start, locale), end=i18n.format_date(end, locale))
    if start:
        return _("since {start}").format(start=i18n.format_date(start, locale))
    if end:
        return _("until {end}").format(end=i18n.format_date(end, locale))
    return _("all dates")


def commitments_choice(value: bool | None, _: i18n.Gettext) -> str:
    if value is None:
        return _("with or without")
    return _("with commitments") if value else _("without commitments")


def menu(draft: Draft, version: int, viewer: Viewer, _: i18n.Gettext, locale: str) -> tuple[str, Markup]:
    """The export's menu: what is chosen, and a button for each choice."""
    filters = draft.filters
    if filters.regions:
        where = region_names(filters.regions, _, locale)
    elif viewer.authority.role is Role.ADMIN:
        where = _("all regions")
    else:
        where = _("all your regions ({regions})").format(regions=region_names(list(viewer.scopes), _, locale))
    lines = [
        "<b>" + _("Export contact data") + "</b>",
        _("Data: {kind} · Format: {format}").format(kind=kind_label(draft.kind, _), format=draft.fmt.value.upper()),
        _("Regions: {regions}").format(regions=where),
        _("Categories: {values}").format(values=_chosen(filters.categories, category_label, _)),
        _("Age brackets: {values}").format(values=_chosen(filters.age_brackets, age_label, _)),
        _("Status: {values}").format(values=_chosen(filters.statuses, status_label, _)),
        _("Registered: {dates}").format(dates=dates_line(draft, _, locale)),
        _("Commitments: {choice}").format(choice=commitments_choice(filters.with_commitments, _)),
    ]
    if viewer.masked:
        lines.append("<i>" + _("Only your regions; mobile numbers are partly hidden (+62 812-****-7890).") + "</i>")
    lines.append(_("Choose below, then press “Make the file”. Figures who deleted their data are never included."))

    def mark(on: bool, label: str) -> str:
        return ("✅ " if on else "") + label

    rows = [
        [_button(mark(draft.kind is kind, kind_label(kind, _)), "kind", version, kind.value) for kind in Kind],
        [_button(mark(draft.fmt is fmt, fmt.value.upper()), "fmt", version, fmt.value) for fmt in Format],
        [
            _button("📍 " + _("Regions"), "open", version, Screen.REGIONS),
            _button(_("Categories"), "open", version, Screen.CATEGORIES),
        ],
        [
            _button(_("Age brackets"), "open", version, Screen.AGES),
            _button(_("Status"), "open", version, Screen.STATUSES),
        ],
        [_button(_("Registration dates"), "open", version, Screen.DATES)],
        [
            _button(
                _("Commitments: {choice}").format(choice=commitments_choice(filters.with_commitments, _)),
                "commit",
                version,
            )
        ],
        [_button("📤 " + _("Make the file"), "go", version)],
        [_button(_("Cancel"), "cancel", version)],
    ]
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def choices(draft: Draft, version: int, _: i18n.Gettext) -> tuple[str, Markup]:
    """Categories, age brackets or statuses: tap to select, none selected means all."""
    filters = draft.filters
    if draft.screen is Screen.CATEGORIES:
        title, chosen = _("Which categories?"), filters.categories
        options = [(value.value, category_label(value, _)) for value in FigureCategory]
    elif draft.screen is Screen.AGES:
        title, chosen = _("Which age brackets?"), filters.age_brackets
        options = [(value.value, age_label(value, _)) for value in AgeBracket]
    else:
        title, chosen = _("Which status?"), filters.statuses
        options = [(value.value, status_label(value, _)) for value in Status]
    text = "<b>" + title + "</b>\n" + _("Tap to select; none selected means all.")
    buttons = [_button(("✅ " if value in chosen else "") + label, "tog", version, value) for value, label in options]
    rows = keyboards.rows(buttons)
    rows.append([_button("« " + _("Done"), "back", version)])
    return text, InlineKeyboardMarkup(rows)


def dates(draft: Draft, version: int, _: i18n.Gettext, locale: str) -> tuple[str, Markup]:
    text = "\n\n".join(
        [
            "<b>" + _("Registered when?") + "</b>",
            _("Now: {dates}.").format(dates=dates_line(draft, _, locale)),
            _(
                "Type a date range, for example <code>01-11-2026 - 30-11-2026</code>, or one date for “since”, "
                "for example <code>01-11-2026</code>."
            ),
        ]
    )
    rows = [
        [_button(_("All dates"), "dall", version), _button(_("Last 7 days"), "dlast", version, "7")],
        [_button(_("Last 30 days"), "dlast", version, "30")],
        [_button("« " + _("Done"), "back", version)],
    ]
    return text, InlineKeyboardMarkup(rows)


def regions_question(
    picker: Picker, version: int, viewer: Viewer, _: i18n.Gettext, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    """The regions to export, chosen as in /siaran: typed names or codes, or opened down to desa/kelurahan."""
    authority = viewer.authority
    lines = [
        "<b>" + _("Which regions?") + "</b>",
        _(
            "Type the name of a region (for example <i>Kabupaten Banjar</i>) or its Kemendagri code (for example "
            "<code>63.03</code>), or open a region below. Several regions can be combined."
        ),
    ]
    if authority.role is not Role.ADMIN:
        scope = region_names(list(viewer.scopes), _, locale)
        lines.append(_("You may choose within: {regions}.").format(regions=scope))
    if picker.picked:
        lines.append(_("<b>Chosen:</b> {regions}").format(regions=region_names(picker.picked, _, locale)))
    else:
        lines.append("<i>" + _("Nothing chosen: all regions you may see.") + "</i>")
    if picker.matches:
        lines.append(_("Several regions match. Please choose one:"))
    elif picker.browse is not None and (opened := regions.get(picker.browse)):
        lines.append("📍 " + html.escape(opened.path))
    rows: list[list[InlineKeyboardButton]] = []
    if picker.browse is not None and not picker.matches and (opened := regions.get(picker.browse)):
        mark = "✅ " if regions.in_scope(opened.code, picker.picked) else "➕ "
        rows.append([_button(mark + _("All of {name}").format(name=opened.name), "rpick", version, opened.code)])
    shown, page, pages = keyboards.page_of(region_picker.options(picker, authority), picker.page)
    buttons = []
    for region in shown:
        mark = "✅ " if regions.in_scope(region.code, picker.picked) else ""
        if picker.matches:
            buttons.append(_button(mark + region.path, "rpick", version, region.code))
        elif region_picker.can_open(region, authority):
            buttons.append(_button(mark + region.name + " ›", "ropen", version, region.code))
        else:
            buttons.append(_button(mark + region.name, "rpick", version, region.code))
    rows += keyboards.rows(buttons)
    navigation = keyboards.page_row(page, pages, lambda label, to: _button(label, "rpage", version, str(to)), _)
    if navigation:
        rows.append(navigation)
        lines.append(keyboards.page_line(page, pages, _))
    if region_picker.can_go_up(picker, authority):
        rows.append([_button("« " + _("Back"), "rup", version)])
    if picker.picked:
        rows.append([_button("✖ " + _("Clear the regions"), "rclear", version)])
    rows.append([_button("✔ " + _("Done"), "back", version)])
    return "\n\n".join(lines), InlineKeyboardMarkup(rows)


def preparing(done: int, total: int, _: i18n.Gettext, locale: str) -> str:
    return _("Preparing the file… {done} of {total}").format(
        done=i18n.format_number(done, locale), total=i18n.format_number(total, locale)
    )


def ready(rows: int, draft: Draft, viewer: Viewer, _: i18n.Gettext, locale: str) -> str:
    text = _("The file is ready: {rows} rows ({kind}).").format(
        rows=i18n.format_number(rows, locale), kind=kind_label(draft.kind, _).lower()
    )
    if viewer.masked:
        text += " " + _("Mobile numbers are partly hidden.")
    return text + " " + _("It holds personal data: keep it safe and delete it when it is no longer needed.")


def stale_button(_: i18n.Gettext) -> str:
    return _("This button is no longer valid. Type /ekspor to start again.")


def cancelled(_: i18n.Gettext) -> str:
    return _("Export cancelled. No file was made.")


def choose_a_button(_: i18n.Gettext, *, typed: bool = False) -> str:
    """A press (or, TYPED, a text) the screen on show does not take."""
    if typed:
        return _("Please choose one of the buttons above, or type /batal to stop.")
    return _("Please choose one of the buttons above.")


def dates_reversed(_: i18n.Gettext) -> str:
    return _("The second date is before the first. Please type the earlier date first.")


def nothing_found(_: i18n.Gettext) -> str:
    return _("No data matches what you chose, so there is no file. Type /ekspor to choose other regions or filters.")


def too_large(_: i18n.Gettext) -> str:
    return _(
        "Sorry, the file is larger than Telegram lets a bot send (50 MB). Please choose fewer regions or filters "
        "and type /ekspor again, or ask the server's administrator to run `rangkul export`."
    )


def region_problem(problem: Problem, viewer: Viewer, _: i18n.Gettext, locale: str) -> str:
    """Why a typed or pressed region was not chosen, and what to do instead."""
    subject = echo(problem.subject, 40)
    refusal = problem.refusal
    if refusal is Refusal_.UNKNOWN_CODE:
        return _(
            "Region code {code} is not a Kemendagri code. Please check it, type the region's name instead, or "
            "choose from the buttons."
        ).format(code=echo(problem.subject, 20))
    if refusal is Refusal_.UNKNOWN_NAME:
        return _(
            "We could not find a region named {name}. Please check the spelling, type its Kemendagri code, or "
            "open its kabupaten/kota below to find a desa/kelurahan."
        ).format(name=subject)
    if refusal is Refusal_.OUTSIDE:
        return _("{region} is outside your scope. You may choose only regions within {regions}.").format(
            region=subject, regions=region_names(list(viewer.scopes), _, locale)
        )
    if refusal in (Refusal_.TOO_MANY, Refusal_.TOO_MANY_TYPED):
        return _(
            "At most {limit} regions fit in one export. Please choose a region higher up that covers them, or "
            "make a second export for the rest."
        ).format(limit=MAX_TYPED_CODES)
    if refusal is Refusal_.INCLUDED:
        return _("{region} is already included in {within}, which is chosen.").format(
            region=subject, within=html.escape(problem.within)
        )
    if refusal is Refusal_.SHORT:
        return _("Please type at least two letters of the region's name.")
    if problem.subject:
        return _("Several regions match {name} as well. Please type them one at a time.").format(name=subject)
    return _("Please choose one of the buttons above.")
