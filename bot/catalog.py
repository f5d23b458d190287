"""The catalog of broadcast templates: metadata kept in each template, organizer-typed values, and a checker.

A template is one Jinja2 file in templates/<locale>/ that starts with its metadata, TOML inside a Jinja comment:

    {#---
    title = "Undangan sosialisasi"
    description = "Mengundang tokoh ke kegiatan sosialisasi"
    [values.place]
    label = "Tempat kegiatan"
    type = "text"            # text | date | time | datetime | number
    example = "Aula KPU Kota Banjarmasin"
    ---#}

Unknown top-level keys are kept in TemplateInfo.extra. The variables every template may use are listed in
CONTEXT_VARIABLES; template_context() builds them with realistic data and check_templates() renders every
template with several sample figures and countdown cases to find what would fail before a broadcast does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypeAlias, cast, get_args
from zoneinfo import ZoneInfo

from babel import dates
from jinja2 import TemplateError, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError

from bot import i18n, regions, telegram_html
from bot.config import ElectionKind
from bot.render import WITA, Renderer, countdown_label, timezone_for_region

log = logging.getLogger(__name__)

METADATA_START = "{#---"
METADATA_END = "---#}"
TEMPLATE_SUFFIX = ".html"
TEMPLATE_NAME = re.compile(r"^[a-z0-9_-]+\.html$")
TEMPLATE_NAME_MAX = 64  # models.Broadcast.template

ValueType: TypeAlias = Literal["text", "date", "time", "datetime", "number"]
VALUE_TYPES: tuple[str, ...] = get_args(ValueType)
# What parse_value returns: text, a number, a date, an aware time of day, or an aware datetime.
Value: TypeAlias = str | int | float | dt.date | dt.time | dt.datetime
DEFAULT_MAX_LENGTH = 200
VALUE_KEY = re.compile(r"^[a-z_][a-z0-9_]*$")
VALUE_SPEC_KEYS = frozenset({"label", "type", "example", "max_length"})

# The variables every template may use, with the keys each one has. `values` holds the keys the template's own
# metadata declares; `now` is an aware datetime.
FIGURE_KEYS = frozenset({"name", "category", "province", "regency", "district", "village", "region", "timezone"})
ELECTION_KEYS = frozenset({"name", "date", "days_left", "kind"})
OFFICE_KEYS = frozenset({"name"})
CONTEXT_VARIABLES: dict[str, frozenset[str] | None] = {
    "figure": FIGURE_KEYS,
    "election": ELECTION_KEYS,
    "office": OFFICE_KEYS,
    "values": None,
    "now": None,
}
REGION_KEYS = ("province", "regency", "district", "village")
# models.FigureCategory values and how templates name them ("Sebagai tokoh pemuda, ...").
FIGURE_CATEGORIES = {
    "tokoh_pemuda": "tokoh pemuda",
    "tokoh_masyarakat": "tokoh masyarakat",
    "tokoh_agama": "tokoh agama",
    "tokoh_perempuan": "tokoh perempuan",
    "tokoh_adat": "tokoh adat",
    "lainnya": "tokoh",
}

# `election.kind`: the law the election runs under, which decides what a template says about money politics and
# reporting deadlines. check_templates renders every template for each kind.
ELECTION_KINDS: tuple[ElectionKind, ...] = get_args(ElectionKind)

# Sample data used when no settings are given (the same as the settings' defaults).
SAMPLE_ELECTION_NAME = "Pemilihan Umum 2029"
SAMPLE_ELECTION_DATE = dt.date(2029, 2, 14)
SAMPLE_ELECTION_KIND: ElectionKind = "pemilu"
# The sample name of a local election, when a sample Pilkada is asked for.
SAMPLE_PILKADA_NAME = "Pemilihan Gubernur dan Wakil Gubernur Kalimantan Selatan"
SAMPLE_OFFICE_NAME = "Komisi Pemilihan Umum Provinsi Kalimantan Selatan"
# Exactly 100 characters: long names must still fit and wrap well.
LONG_NAME = "Raden Siti Nurhaliza Rahmawati Kusumawardhani Binti Haji Abdul Rahman Syarifudin Al-Banjari Noor Ain"
# (name, category key, region code): an ordinary figure, a name that needs escaping, a 100-character name, and a
# figure registered at province level only; one per time zone.
SAMPLE_FIGURES: tuple[tuple[str, str, str], ...] = (
    ("Siti Rahmah", "tokoh_perempuan", "63.71.04.1001"),
    ("Ujang <b>Admin</b> & Co", "tokoh_pemuda", "61.71.01.1002"),
    (LONG_NAME, "tokoh_adat", "81.71.01.1006"),
    ("H. Lalu Muhammad Zainul", "lainnya", "52"),
)
# Days before the election at which check_templates renders each template; -1 is the day after.
COUNTDOWN_CASES = (45, 30, 7, 1, 0, -1)

Gettext = i18n.Gettext


class SettingsLike(Protocol):
    """The part of bot.config.Settings that template_context reads."""

    @property
    def election(self) -> _ElectionLike: ...

    @property
    def privacy(self) -> _PrivacyLike: ...


class _ElectionLike(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def date(self) -> dt.date: ...

    @property
    def kind(self) -> ElectionKind: ...


class _PrivacyLike(Protocol):
    @property
    def controller_name(self) -> str: ...


@dataclass(frozen=True)
class ValueSpec:
    """One value the organizer types before sending: `values.<key>` in the template."""

    key: str
    label: str
    type: ValueType
    example: str
    max_length: int = DEFAULT_MAX_LENGTH


@dataclass(frozen=True)
class TemplateInfo:
    """A template's metadata. NAME is the file name ("undangan_sosialisasi.html"), as Renderer.render takes it;
    LOCALE is the locale of the file actually used (after falling back to Indonesian); VERSION is the first 16
    hex digits of a SHA-256 over the file (through get_template_info: over the template in every language), to
    record which text went out."""

    name: str
    locale: str
    title: str
    description: str
    values: tuple[ValueSpec, ...]
    version: str
    path: Path
    extra: dict[str, Any] = field(default_factory=dict)


class MetadataError(ValueError):
    """A template's metadata is missing or unusable."""


# --- metadata ------------------------------------------------------------------------------------------------


def split_metadata(source: str) -> tuple[str, str]:
    """The TOML text of the leading metadata comment and the template body after it."""
    text = source.removeprefix("\ufeff")
    if not text.startswith(METADATA_START):
        raise MetadataError(f"no metadata: the file must start with {METADATA_START!r}")
    end = text.find(METADATA_END, len(METADATA_START))
    if end < 0:
        raise MetadataError(f"the metadata comment is not closed with {METADATA_END!r}")
    toml_text = text[len(METADATA_START) : end]
    if "#}" in toml_text:
        raise MetadataError("the metadata contains '#}', which ends the Jinja comment early")
    return toml_text, text[end + len(METADATA_END) :]


def _value_spec(key: str, raw: object) -> tuple[ValueSpec | None, list[str]]:
    """A ValueSpec from a [values.KEY] table, or None with the reasons; unknown keys are reported, not fatal."""
    where = f"[values.{key}]"
    if not VALUE_KEY.match(key):
        return None, [f"{where}: a value key must be lower-case letters, digits and '_' (used as values.{key})"]
    if not isinstance(raw, dict):
        return None, [f"{where} must be a table"]
    fatal: list[str] = []
    label, kind, example = raw.get("label"), raw.get("type", "text"), raw.get("example")
    max_length = raw.get("max_length", DEFAULT_MAX_LENGTH)
    if not isinstance(label, str) or not label.strip():
        fatal.append(f"{where}: missing label")
    if kind not in VALUE_TYPES:
        fatal.append(f"{where}: unknown value type {kind!r} (use one of {', '.join(VALUE_TYPES)})")
    if example is None:
        fatal.append(f"{where}: missing example")
    elif not isinstance(example, str):
        fatal.append(f"{where}: example must be a quoted string, as the organizer would type it")
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        fatal.append(f"{where}: max_length must be a positive whole number")
    notes = [f"{where}: unknown key {name!r}" for name in raw if name not in VALUE_SPEC_KEYS]
    if fatal:
        return None, fatal + notes
    spec = ValueSpec(
        key=key,
        label=cast(str, label).strip(),
        type=cast(ValueType, kind),
        example=cast(str, example),
        max_length=cast(int, max_length),
    )
    try:
        parse_value(spec, spec.example, WITA, gettext=_untranslated)
    except ValueError as exc:
        return None, [f"{where}: example {spec.example!r} is not a valid {spec.type}: {exc}", *notes]
    return spec, notes


def _untranslated(message: str) -> str:
    return message


def read_template_info(path: Path, name: str, locale: str) -> tuple[TemplateInfo | None, list[str]]:
    """The metadata of the template file at PATH, or None; and every problem found in it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [f"cannot read: {exc.strerror}"]
    version = hashlib.sha256(data).hexdigest()[:16]
    try:
        toml_text, _ = split_metadata(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None, ["the file is not UTF-8"]
    except MetadataError as exc:
        return None, [str(exc)]
    try:
        table = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:
        return None, [f"the metadata is not valid TOML: {exc}"]
    fatal: list[str] = []
    title = table.pop("title", None)
    description = table.pop("description", "")
    raw_values = table.pop("values", {})
    if not isinstance(title, str) or not title.strip():
        fatal.append("the metadata needs a title")
    if not isinstance(description, str):
        fatal.append("the description must be a string")
    if not isinstance(raw_values, dict):
        return None, [*fatal, "values must be tables: [values.<key>]"]
    specs: list[ValueSpec] = []
    notes: list[str] = []
    for key, raw in raw_values.items():
        spec, spec_problems = _value_spec(key, raw)
        notes.extend(spec_problems)
        if spec is None:
            fatal.append(f"[values.{key}] is unusable")
        else:
            specs.append(spec)
    if fatal:
        return None, fatal + [note for note in notes if note not in fatal]
    info = TemplateInfo(
        name=name,
        locale=locale,
        title=cast(str, title).strip(),
        description=cast(str, description).strip(),
        values=tuple(specs),
        version=version,
        path=path,
        extra=table,
    )
    return info, notes


def _normalize_name(name: str) -> str | None:
    # A typed name longer than broadcast.template's column is no template; asking the file system about a
    # 4,000-character name raises "File name too long".
    if len(name) > TEMPLATE_NAME_MAX:
        return None
    name = name if name.endswith(TEMPLATE_SUFFIX) else name + TEMPLATE_SUFFIX
    return name if len(name) <= TEMPLATE_NAME_MAX and TEMPLATE_NAME.match(name) else None


def _resolve(templates_dir: Path, name: str, locale: str) -> tuple[Path, str] | None:
    for candidate in dict.fromkeys((locale, i18n.DEFAULT_LOCALE)):
        path = templates_dir / candidate / name
        if path.is_file():
            return path, candidate
    return None


def get_template_info(templates_dir: Path, name: str, locale: str = i18n.DEFAULT_LOCALE) -> TemplateInfo | None:
    """Metadata of template NAME ("undangan_sosialisasi" or "undangan_sosialisasi.html") in LOCALE, falling
    back to Indonesian; None when there is no such template or its metadata is unusable (logged)."""
    normalized = _normalize_name(name)
    found = _resolve(templates_dir, normalized, locale) if normalized else None
    if normalized is None or found is None:
        return None
    path, used_locale = found
    info, problems = read_template_info(path, normalized, used_locale)
    if info is None:
        log.warning("template %s skipped: %s", path, "; ".join(problems))
        return None
    # A broadcast records the version it was composed with, and its recipients read it in their own languages:
    # the version covers the template in every language, so an edit of any of them is noticed, and an
    # organizer composing in English records the same version the engine checks.
    return dataclasses.replace(info, version=template_version(templates_dir, normalized))


def template_version(templates_dir: Path, name: str) -> str:
    """The first 16 hex digits of a SHA-256 over the file NAME in every language folder (Indonesian first)."""
    digest = hashlib.sha256()
    folders = sorted(
        (p for p in templates_dir.iterdir() if p.is_dir()), key=lambda p: (p.name != i18n.DEFAULT_LOCALE, p.name)
    )
    for folder in folders:
        path = folder / name
        if path.is_file():
            data = path.read_bytes()
            digest.update(f"{folder.name}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()[:16]


def load_catalog(templates_dir: Path, locale: str = i18n.DEFAULT_LOCALE) -> list[TemplateInfo]:
    """All usable templates for LOCALE, sorted by name; each falls back to its Indonesian file."""
    names: set[str] = set()
    for folder in dict.fromkeys((i18n.DEFAULT_LOCALE, locale)):
        directory = templates_dir / folder
        if directory.is_dir():
            names.update(path.name for path in directory.glob(f"*{TEMPLATE_SUFFIX}") if path.is_file())
    infos = (get_template_info(templates_dir, name, locale) for name in sorted(names))
    return [info for info in infos if info is not None]


# --- organizer-typed values ----------------------------------------------------------------------------------

_MONTHS = {
    **dict.fromkeys(("januari", "january", "jan"), 1),
    **dict.fromkeys(("februari", "pebruari", "february", "feb", "peb"), 2),
    **dict.fromkeys(("maret", "march", "mar"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    **dict.fromkeys(("mei", "may"), 5),
    **dict.fromkeys(("juni", "june", "jun"), 6),
    **dict.fromkeys(("juli", "july", "jul"), 7),
    **dict.fromkeys(("agustus", "august", "agu", "agt", "ags", "aug"), 8),
    **dict.fromkeys(("september", "sept", "sep"), 9),
    **dict.fromkeys(("oktober", "october", "okt", "oct"), 10),
    **dict.fromkeys(("november", "nopember", "nov", "nop"), 11),
    **dict.fromkeys(("desember", "december", "des", "dec"), 12),
}
_WEEKDAYS = {
    **dict.fromkeys(("senin",), 0),
    **dict.fromkeys(("selasa",), 1),
    **dict.fromkeys(("rabu",), 2),
    **dict.fromkeys(("kamis",), 3),
    **dict.fromkeys(("jumat", "jum'at"), 4),
    **dict.fromkeys(("sabtu",), 5),
    **dict.fromkeys(("minggu", "ahad"), 6),
}
_ZONES = {"wib": ZoneInfo("Asia/Jakarta"), "wita": ZoneInfo("Asia/Makassar"), "wit": ZoneInfo("Asia/Jayapura")}
_WEEKDAY_PREFIX = re.compile(r"^([a-z']+)\s*,?\s*(?=\d)")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{2,4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_WORD_DATE = re.compile(r"^(\d{1,2})[\s-]*([a-z]+)\.?[\s-]*(\d{2,4})$")
_TIME_PART = r"(?:(?:pukul|pkl|pk|jam)\.?\s*)?\d{1,2}[.:]\d{2}(?:\s*(?:wib|wita|wit))?"
_TIME = re.compile(r"^(?:(?:pukul|pkl|pk|jam)\.?\s*)?(\d{1,2})[.:](\d{2})(?:\s*(wib|wita|wit))?$")
_DATETIME = re.compile(rf"^(.+?)[\s,]+({_TIME_PART})$")
_GROUPED_NUMBER = re.compile(r"^-?\d{1,3}(?:\.\d{3})+(?:,\d+)?$")
_PLAIN_NUMBER = re.compile(r"^-?\d+(?:,\d+)?$")
MIN_YEAR, MAX_YEAR = 2000, 2099


def _normalize(text: str) -> str:
    text = " ".join(text.split()).lower().replace("’", "'").replace("`", "'")
    return re.sub(r"\s*([-/])\s*", r"\1", text)


def _parse_date(text: str, _: Gettext, locale: str = i18n.DEFAULT_LOCALE) -> dt.date | None:
    """A date from normalized TEXT; None when it does not look like a date; ValueError when it is wrong."""
    weekday: int | None = None
    prefix = _WEEKDAY_PREFIX.match(text)
    if prefix:
        if prefix.group(1) not in _WEEKDAYS:
            return None
        weekday, text = _WEEKDAYS[prefix.group(1)], text[prefix.end() :]
    if match := _ISO_DATE.match(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _NUMERIC_DATE.match(text):
        day, month, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
    elif (match := _WORD_DATE.match(text)) and match.group(2) in _MONTHS:
        day, month, year = int(match.group(1)), _MONTHS[match.group(2)], int(match.group(3))
    else:
        return None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(_("Please check the year and write it in full, like 2029."))
    try:
        date = dt.date(year, month, day)
    except ValueError:
        raise ValueError(_("That date does not exist. Please check the day and the month.")) from None
    if weekday is not None and weekday != date.weekday():
        message = _("The day does not match the date: {date} falls on a {weekday}. Please check again.")
        raise ValueError(
            message.format(
                date=dates.format_date(date, "d MMMM y", locale=locale),
                weekday=dates.format_date(date, "EEEE", locale=locale),
            )
        )
    return date


def _parse_time(text: str, tz: ZoneInfo) -> dt.time | None:
    match = _TIME.match(text)
    if match is None:
        return None
    hour, minute, zone = int(match.group(1)), int(match.group(2)), match.group(3)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute, tzinfo=_ZONES[zone] if zone else tz)


def _parse_number(text: str) -> int | float | None:
    compact = text.replace(" ", "")
    if not (_GROUPED_NUMBER.match(compact) or _PLAIN_NUMBER.match(compact)):
        return None
    number = compact.replace(".", "").replace(",", ".")
    return float(number) if "." in number else int(number)


def parse_value(
    spec: ValueSpec, text: str, tz: ZoneInfo, *, gettext: Gettext | None = None, locale: str = i18n.DEFAULT_LOCALE
) -> Value:
    """The value an organizer typed for SPEC, in TZ unless a WIB/WITA/WIT suffix says otherwise.

    Returns str (text), int or float (number), datetime.date, datetime.time with tzinfo, or an aware
    datetime.datetime; raises ValueError with a message for the organizer, translated with GETTEXT
    (default: Indonesian).
    """
    _ = gettext or i18n.gettext_for(i18n.DEFAULT_LOCALE)
    stripped = text.strip()
    if not stripped:
        raise ValueError(_("Please fill this in."))
    if len(stripped) > spec.max_length:
        raise ValueError(_("This is too long: please write at most {limit} characters.").format(limit=spec.max_length))
    if spec.type == "text":
        return stripped
    normalized = _normalize(stripped)
    if spec.type == "number":
        number = _parse_number(normalized)
        if number is None:
            raise ValueError(_("Number not recognized. Write it like 1250 or 1.250."))
        return number
    if spec.type == "date":
        date = _parse_date(normalized, _, locale)
        if date is None:
            raise ValueError(_("Date not recognized. Write it like 20-01-2029 or 20 January 2029."))
        return date
    if spec.type == "time":
        time = _parse_time(normalized, tz)
        if time is None:
            raise ValueError(_("Time not recognized. Write it like 09.00 or 09.00 WITA."))
        return time
    match = _DATETIME.match(normalized)
    date = _parse_date(match.group(1), _, locale) if match else None
    time = _parse_time(match.group(2), tz) if match else None
    if date is None or time is None:
        raise ValueError(
            _("Date and time not recognized. Write them like 20-01-2029 09.00 or 20 January 2029 09.00 WITA.")
        )
    return dt.datetime.combine(date, time.replace(tzinfo=None), tzinfo=time.tzinfo)


def sample_values(info: TemplateInfo, tz: ZoneInfo = WITA) -> dict[str, Value]:
    """Each declared value parsed from its example (a TemplateInfo is only made when they all parse)."""
    return {spec.key: parse_value(spec, spec.example, tz) for spec in info.values}


# --- the context every template sees -------------------------------------------------------------------------


def figure_context(name: str, category: str, region_code: str) -> dict[str, str]:
    """`figure` for a person. CATEGORY is a models.FigureCategory value ("tokoh_pemuda"), shown as its label;
    province, regency, district and village are the names along the Kemendagri code (blank below the level the
    person registered at) and region is the whole path ("Alalak Tengah, ..., Kalimantan Selatan"). Raises
    ValueError for a region code outside the known provinces."""
    figure = {
        "name": name,
        "category": FIGURE_CATEGORIES.get(category, category.replace("_", " ")),
        **dict.fromkeys(REGION_KEYS, ""),
        "region": "",
        "timezone": i18n.zone_label(timezone_for_region(region_code)),
    }
    parts = region_code.strip().split(".")
    for level, key in enumerate(REGION_KEYS, start=1):
        if level <= len(parts):
            region = regions.get(".".join(parts[:level]))
            figure[key] = region.name if region else ""
            figure["region"] = region.path if region else figure["region"]
    return figure


def template_context(
    settings_like: SettingsLike | None = None,
    *,
    figure: Mapping[str, str] | None = None,
    values: Mapping[str, Value] | None = None,
    now: dt.datetime | None = None,
    tz: ZoneInfo | None = None,
    kind: ElectionKind | None = None,
) -> dict[str, Any]:
    """The full set of template variables; realistic sample data stands in for whatever is not given.

    Election and office come from SETTINGS_LIKE (bot.config.Settings) when given. KIND overrides the election's
    kind (without settings, a sample Pilkada also gets a Pilkada's name). TZ is the reader's zone (default: the
    sample figure's); NOW defaults to 09.00 thirty days before the election.
    """
    if settings_like:
        election_name, election_kind = settings_like.election.name, kind or settings_like.election.kind
    else:
        election_kind = kind or SAMPLE_ELECTION_KIND
        election_name = SAMPLE_PILKADA_NAME if election_kind == "pilkada" else SAMPLE_ELECTION_NAME
    election_date = settings_like.election.date if settings_like else SAMPLE_ELECTION_DATE
    office_name = settings_like.privacy.controller_name if settings_like else SAMPLE_OFFICE_NAME
    if figure is None:
        name, category, code = SAMPLE_FIGURES[0]
        figure = figure_context(name, category, code)
        tz = tz or timezone_for_region(code)
    tz = tz or WITA
    if now is None:
        now = dt.datetime.combine(election_date - dt.timedelta(days=30), dt.time(9), tzinfo=tz)
    return {
        "figure": dict(figure),
        "election": {
            "name": election_name,
            "date": election_date,
            "days_left": (election_date - now.astimezone(tz).date()).days,
            "kind": election_kind,
        },
        "office": {"name": office_name},
        "values": dict(values or {}),
        "now": now,
    }


# --- checking templates --------------------------------------------------------------------------------------


def _static_problems(ast: nodes.Template, declared_values: frozenset[str] | None) -> list[str]:
    """Problems visible without rendering: unknown variables and attributes, escaping turned off, includes."""
    problems = [
        f"uses unknown variable {name!r} (templates may use {', '.join(CONTEXT_VARIABLES)})"
        for name in sorted(meta.find_undeclared_variables(ast) - CONTEXT_VARIABLES.keys())
    ]
    used_values: set[str] = set()
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, nodes.Getattr | nodes.Getitem)
        if not isinstance(node.node, nodes.Name) or node.node.name not in CONTEXT_VARIABLES:
            continue
        variable = node.node.name
        if isinstance(node, nodes.Getattr):
            key: object = node.attr
        else:
            key = node.arg.value if isinstance(node.arg, nodes.Const) else None
        if not isinstance(key, str) or variable == "now":
            continue
        allowed = declared_values if variable == "values" else CONTEXT_VARIABLES[variable]
        if variable == "values":
            used_values.add(key)
        if allowed is not None and key not in allowed:
            problems.append(f"line {node.lineno}: unknown variable '{variable}.{key}'")
    if declared_values is not None:
        problems.extend(
            f"values.{key} is declared in the metadata but never used" for key in sorted(declared_values - used_values)
        )
    for filter_node in ast.find_all(nodes.Filter):
        if filter_node.name == "safe":
            problems.append(f"line {filter_node.lineno}: the 'safe' filter turns off escaping")
    for modifier in ast.find_all(nodes.EvalContextModifier):
        if any(option.key == "autoescape" for option in modifier.options):
            problems.append(f"line {modifier.lineno}: templates must not change autoescaping")
    for include in ast.find_all((nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport)):
        problems.append(f"line {include.lineno}: include/extends/import is not allowed; keep each message whole")
    return problems


def _render_problems(renderer: Renderer, info: TemplateInfo, values: Mapping[str, Value]) -> list[str]:
    """Render for every sample figure, countdown case and election kind; each distinct problem once, with its
    first case."""
    found: dict[str, str] = {}
    cases = ((sample, days, kind) for sample in SAMPLE_FIGURES for days in COUNTDOWN_CASES for kind in ELECTION_KINDS)
    for (name, category, code), days, kind in cases:
        tz = timezone_for_region(code)
        figure = figure_context(name, category, code)
        case = f"{name[:20]!r} ({figure['timezone']}), {kind} {countdown_label(days)}"
        now = dt.datetime.combine(SAMPLE_ELECTION_DATE - dt.timedelta(days=days), dt.time(8), tzinfo=tz)
        context = template_context(figure=figure, values=values, now=now, tz=tz, kind=kind)
        try:
            html = renderer.render(info.name, context, locale=info.locale, tz=tz)
        except UndefinedError as exc:
            found.setdefault(f"undefined variable: {exc.message}", case)
            continue
        except SecurityError as exc:
            found.setdefault(f"refused by the sandbox: {exc}", case)
            continue
        except (TemplateError, TypeError, ValueError, AttributeError) as exc:
            found.setdefault(f"cannot render: {type(exc).__name__}: {exc}", case)
            continue
        for problem in telegram_html.problems(html):
            found.setdefault(problem, case)
        try:
            plain = telegram_html.parse(html)
        except telegram_html.TelegramHtmlError:
            continue
        # Where the name shows, it must show exactly as typed: not interpreted as HTML, not escaped twice.
        if any(char in name for char in "<>&") and name.split()[0] in plain and name not in plain:
            found.setdefault("figure.name is not shown exactly as written (escaping problem)", case)
    return [f"{problem} [{case}]" for problem, case in found.items()]


def _template_files(templates_dir: Path) -> Iterator[tuple[str, Path]]:
    """(locale, path) of every template file, Indonesian first."""
    folders = sorted(
        (path for path in templates_dir.iterdir() if path.is_dir()),
        key=lambda path: (path.name != i18n.DEFAULT_LOCALE, path.name),
    )
    for folder in folders:
        for path in sorted(folder.glob(f"*{TEMPLATE_SUFFIX}")):
            yield folder.name, path


def _check_all(templates_dir: Path) -> tuple[int, list[str]]:
    if not (templates_dir / i18n.DEFAULT_LOCALE).is_dir():
        return 0, [f"{templates_dir}: no {i18n.DEFAULT_LOCALE}/ folder of templates"]
    renderer = Renderer(templates_dir, default_tz=WITA)
    indonesian: dict[str, TemplateInfo] = {}
    problems: list[str] = []
    count = 0
    for locale, path in _template_files(templates_dir):
        count += 1
        where = f"{locale}/{path.name}"
        file_problems = _check_file(renderer, path, locale, indonesian)
        problems.extend(f"{where}: {problem}" for problem in file_problems)
    return count, problems


def _check_file(renderer: Renderer, path: Path, locale: str, indonesian: dict[str, TemplateInfo]) -> list[str]:
    if not TEMPLATE_NAME.match(path.name):
        return ["a template name must be lower-case letters, digits, '_' and '-', ending in .html"]
    info, problems = read_template_info(path, path.name, locale)
    try:
        ast = renderer.env.parse(path.read_text(encoding="utf-8"))
    except TemplateSyntaxError as exc:
        return [*problems, f"line {exc.lineno}: {exc.message}"]
    except (OSError, UnicodeDecodeError):
        return problems
    problems.extend(_static_problems(ast, frozenset(spec.key for spec in info.values) if info else None))
    if info is None:
        return problems
    if locale == i18n.DEFAULT_LOCALE:
        indonesian[info.name] = info
    elif info.name in indonesian:
        keys, expected = [s.key for s in info.values], [s.key for s in indonesian[info.name].values]
        if keys != expected:
            problems.append(f"values {keys} differ from the Indonesian template's {expected}")
    problems.extend(_render_problems(renderer, info, sample_values(info)))
    return problems


WELCOME_TEMPLATE = "sambutan.html"


def unusable_folder(templates_dir: Path) -> str | None:
    """Why the bot cannot run with TEMPLATES_DIR (one line), or None: it needs id/*.html with the welcome."""
    folder = templates_dir / i18n.DEFAULT_LOCALE
    if not count_templates(templates_dir):
        return (
            f"no message templates in {folder}: point templates.dir at a folder holding "
            f"{i18n.DEFAULT_LOCALE}/*{TEMPLATE_SUFFIX}, or leave it unset to use the templates that ship with Rangkul"
        )
    if not (folder / WELCOME_TEMPLATE).is_file():
        return f"the welcome template {folder / WELCOME_TEMPLATE} is missing: registration cannot finish without it"
    return None


def count_templates(templates_dir: Path) -> int:
    folder = templates_dir / i18n.DEFAULT_LOCALE
    return len(list(folder.glob(f"*{TEMPLATE_SUFFIX}"))) if folder.is_dir() else 0


def check_templates(templates_dir: Path) -> list[str]:
    """Every problem in the templates under TEMPLATES_DIR, one line each naming the file; empty when all is well."""
    return _check_all(templates_dir)[1]


def main_check(templates_dir: Path) -> int:
    """`rangkul templates check`: print the problems (exit code 1) or "N templates OK" (exit code 0)."""
    unusable = unusable_folder(templates_dir)
    count, problems = _check_all(templates_dir) if unusable is None or count_templates(templates_dir) else (0, [])
    if unusable is not None:
        problems.insert(0, unusable)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"{count} templates OK")
    return 0
