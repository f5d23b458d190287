"""The texts and the chart of /laporan, from a services.reports.Report, in the reader's language."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from bot import catalog, charts, commitments, i18n, regions
from bot.labels import category_label
from bot.services import region_picker
from bot.services.reports import MISSING_KECAMATAN, UNPLACED, BroadcastStats, Report, Scope
from models import CommitmentKind

# Telegram's limit for a message's text.
MAX_TEXT = 4096
SCOPE_NAMES = 3


def _n(value: float, locale: str) -> str:
    return i18n.format_number(value, locale)


def kind_label(kind: str, _: i18n.Gettext) -> str:
    """A commitment kind as the report names it (short: it is repeated per broadcast and per region)."""
    spec = commitments.kind(kind)
    return _(spec.short) if spec is not None else kind


def level_heading(level: int, _: i18n.Gettext) -> str:
    headings = {
        2: _("By kabupaten/kota"),
        3: _("By kecamatan"),
        4: _("By desa/kelurahan"),
    }
    return headings[level]


def _area_name(code: str, _: i18n.Gettext) -> str:
    """A region's name, or what stands for commitments of figures whose region is no longer known that finely."""
    return _("figures who deleted their data") if code == UNPLACED else region_name(code)


def region_name(code: str) -> str:
    """A region's name from the Kemendagri tree (its code when unknown); a kecamatan or desa with its
    kabupaten/kota only where several scopes are mixed is left to the reader: the scope says which."""
    region = regions.get(code)
    return region.name if region is not None else code


def scope_name(scope: Scope, _: i18n.Gettext, locale: str) -> str:
    if scope.everything:
        return _("All of Indonesia")
    # As the composer's preview names regions: a kecamatan or desa with its kabupaten/kota, "; " between them
    # ("Aluh Aluh, Kabupaten Banjar; Kota Banjarmasin").
    names = [region_picker.label(code) for code in scope.codes[:SCOPE_NAMES]]
    text = "; ".join(names)
    if len(scope.codes) > SCOPE_NAMES:
        text += " " + _("and {count} more").format(count=_n(len(scope.codes) - SCOPE_NAMES, locale))
    return text


def _percent(part: int, whole: int, locale: str) -> str:
    return _n(round(100 * part / whole, 1) if whole else 0, locale) + "%"


_KIND_ORDER = {kind.value: index for index, kind in enumerate(CommitmentKind)}


def _kinds(counts: dict[str, int], _: i18n.Gettext, locale: str) -> str:
    """'datang ke TPS 12 · mengajak orang lain 3', kinds in their usual order."""
    ordered = sorted(counts.items(), key=lambda item: (_KIND_ORDER.get(item[0], len(_KIND_ORDER)), item[0]))
    return " · ".join(f"{kind_label(kind, _)} {_n(count, locale)}" for kind, count in ordered if count)


def _broadcast_lines(item: BroadcastStats, templates_dir: Path, tz: dt.tzinfo, _: i18n.Gettext, locale: str) -> str:
    info = catalog.get_template_info(templates_dir, item.template, locale)
    title = info.title if info is not None else item.template
    outcomes = item.outcomes
    line = _(
        "• #{id} {title} ({date}): {recipients} recipients · {sent} sent · {blocked} blocked · {failed} failed · "
        "{uncertain} uncertain"
    ).format(
        id=item.id,
        title=html.escape(title),
        date=i18n.format_date(item.created_at.astimezone(tz).date(), locale),
        recipients=_n(item.recipients, locale),
        sent=_n(outcomes["sent"], locale),
        blocked=_n(outcomes["blocked"], locale),
        failed=_n(outcomes["failed"], locale),
        uncertain=_n(outcomes["uncertain"], locale),
    )
    if outcomes["skipped"] or outcomes["waiting"]:
        line += " · " + _("{skipped} skipped · {waiting} waiting").format(
            skipped=_n(outcomes["skipped"], locale), waiting=_n(outcomes["waiting"], locale)
        )
    commitments = _kinds(item.commitments, _, locale) or _("none")
    line += "\n   " + _("Commitments: {commitments}; replies: {replies}").format(
        commitments=commitments, replies=_n(item.replies, locale)
    )
    return line


def _compose(report: Report, templates_dir: Path, tz: dt.tzinfo, locale: str, rows: int) -> str:
    _ = i18n.gettext_for(locale)

    def n(value: float) -> str:
        return _n(value, locale)

    lines = [
        _("<b>Rangkul report</b> — {scope}").format(scope=html.escape(scope_name(report.scope, _, locale))),
        i18n.format_date(report.generated_at.astimezone(tz).date(), locale),
        "",
        _("<b>Registered figures: {count}</b> ({new} new in the last 7 days)").format(
            count=n(report.figures), new=n(report.new_this_week)
        ),
        _("Stopped messages: {opted_out} · Unreachable: {unreachable}").format(
            opted_out=n(report.opted_out), unreachable=n(report.unreachable)
        ),
    ]
    if report.deleted:
        lines.append(_("Deleted their data (not counted above): {count}").format(count=n(report.deleted)))
    if report.by_category:
        lines += ["", _("<b>By category</b>")]
        lines += [f"• {html.escape(category_label(cat, _))}: {n(count)}" for cat, count in report.by_category.items()]
    if report.by_region:
        lines += ["", "<b>" + level_heading(report.scope.level, _) + "</b>"]
        items = list(report.by_region.items())
        lines += [f"• {html.escape(region_name(code))}: {n(count)}" for code, count in items[:rows]]
        if len(items) > rows:
            rest = sum(count for _code, count in items[rows:])
            lines.append(_("• {count} other regions: {figures}").format(count=n(len(items) - rows), figures=n(rest)))
    lines += ["", _("<b>Active commitments: {count}</b>").format(count=n(report.commitments))]
    by_region_shown = False
    if report.commitments:
        lines += [f"• {kind_label(kind, _)}: {n(count)}" for kind, count in report.commitments_by_kind.items()]
        lines.append(_("People figures promised to invite: {count}").format(count=n(report.invited_people)))
        by_region = sorted(report.commitments_by_region.items(), key=lambda item: (-sum(item[1].values()), item[0]))
        shown = max(3, rows // 2)
        by_region_shown = bool(by_region)
        if by_region_shown:
            # A heading of their own: under the line above, "Kota Banjarmasin: 39" read as 39 people invited.
            lines += ["", "<b>" + _("Commitments by region") + "</b>"]
        for code, kinds in by_region[:shown]:
            name = html.escape(_area_name(code, _))
            lines.append(f"• {name}: {n(sum(kinds.values()))} ({_kinds(kinds, _, locale)})")
        if len(by_region) > shown:
            rest = sum(sum(kinds.values()) for _code, kinds in by_region[shown:])
            lines.append(
                _("• {count} other regions: {commitments} commitments").format(
                    count=n(len(by_region) - shown), commitments=n(rest)
                )
            )
    if by_region_shown:
        lines.append("")  # the replies are no region's commitments
    lines.append(_("Replies from figures: {count}").format(count=n(report.replies)))
    if report.broadcasts:
        lines += ["", _("<b>Recent broadcasts</b> (in your region)")]
        lines += [_broadcast_lines(item, templates_dir, tz, _, locale) for item in report.broadcasts]
    coverage = report.coverage
    if coverage is not None and coverage.kecamatan_total + coverage.desa_total:
        lines += ["", _("<b>Reach</b>")]
        if coverage.kecamatan_total:
            lines.append(
                _("Kecamatan with a registered figure: {covered} of {total} ({percent})").format(
                    covered=n(coverage.kecamatan_covered),
                    total=n(coverage.kecamatan_total),
                    percent=_percent(coverage.kecamatan_covered, coverage.kecamatan_total, locale),
                )
            )
        lines.append(
            _("Desa/kelurahan with a registered figure: {covered} of {total} ({percent})").format(
                covered=n(coverage.desa_covered),
                total=n(coverage.desa_total),
                percent=_percent(coverage.desa_covered, coverage.desa_total, locale),
            )
        )
        if coverage.missing:
            missing = coverage.kecamatan_total - coverage.kecamatan_covered
            lines.append(
                _("Kecamatan still without a figure ({shown} of {count}) — worth reaching out to:").format(
                    shown=n(min(MISSING_KECAMATAN, len(coverage.missing))), count=n(missing)
                )
            )
            lines += [f"• {html.escape(_kecamatan_label(code))}" for code in coverage.missing]
    return "\n".join(lines)


def _kecamatan_label(code: str) -> str:
    parent = regions.get(regions.up_to(code, 2))
    name = region_name(code)
    return f"{name}, {parent.name}" if parent is not None else name


def text(report: Report, *, templates_dir: Path, tz: dt.tzinfo, locale: str) -> str:
    """The report as one message under Telegram's 4,096 characters (fewer region rows when names are long)."""
    for rows in (10, 6, 3):
        message = _compose(report, templates_dir, tz, locale, rows)
        if len(message) <= MAX_TEXT:
            return message
    return message[: MAX_TEXT - 1] + "…"


def chart(report: Report, *, tz: dt.tzinfo, locale: str) -> charts.BarChart:
    """Registered figures and active commitments per region, the largest first, the rest as one bar."""
    _ = i18n.gettext_for(locale)
    commitments = {code: sum(kinds.values()) for code, kinds in report.commitments_by_region.items()}
    codes = list(report.by_region) + sorted(set(commitments) - set(report.by_region))
    rows = [(_area_name(code, _), [report.by_region.get(code, 0), commitments.get(code, 0)]) for code in codes]
    rows = charts.top_rows(rows, _("Others"))
    date = i18n.format_date(report.generated_at.astimezone(tz).date(), locale)
    return charts.BarChart(
        title=_("Figures and commitments — {scope}").format(scope=scope_name(report.scope, _, locale)),
        subtitle=_("{level} · {date}\n{figures} figures, {commitments} commitments").format(
            level=level_heading(report.scope.level, _),
            date=date,
            figures=_n(report.figures, locale),
            commitments=_n(report.commitments, locale),
        ),
        labels=[label for label, _values in rows],
        series=[
            (_("Registered figures"), [values[0] for _label, values in rows]),
            (_("Active commitments"), [values[1] for _label, values in rows]),
        ],
        locale=locale,
    )


def caption(report: Report, *, tz: dt.tzinfo, locale: str) -> str:
    _ = i18n.gettext_for(locale)
    return _("Chart: figures and commitments by region, {date}.").format(
        date=i18n.format_date(report.generated_at.astimezone(tz).date(), locale)
    )
