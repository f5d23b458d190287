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

`commitments = ["tps", "ajak"]` (before any [values] table) lists the commitment buttons the message carries
(bot/commitments.py); an unknown kind is left out and reported by `rangkul templates check`.

Unknown top-level keys are kept in TemplateInfo.extra. The variables every template may use are listed in
CONTEXT_VARIABLES; template_context() builds them with realistic data, and bot.template_check renders every
template with several sample figures and countdown cases to find what would fail before a broadcast does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypeAlias, cast, get_args
from zoneinfo import ZoneInfo

from bot import commitments, i18n, regions
from bot.config import ElectionKind
from bot.render import WITA, timezone_for_region

# Re-exported: composing a broadcast reads a template's metadata and parses its values through this module.
from bot.template_values import Value as Value
from bot.template_values import parse_value as parse_value

log = logging.getLogger(__name__)

METADATA_START = "{#---"
METADATA_END = "---#}"
TEMPLATE_SUFFIX = ".html"
TEMPLATE_NAME = re.compile(r"^[a-z0-9_-]+\.html$")
# Buttons carry a template's name (bot/callbacks.py allows 40 characters an argument): at most 40 before ".html".
TEMPLATE_NAME_MAX = 45

ValueType: TypeAlias = Literal["text", "date", "time", "datetime", "number"]
VALUE_TYPES: tuple[str, ...] = get_args(ValueType)
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
# reporting deadlines. bot.template_check renders every template for each kind.
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
    # The commitment buttons the message carries (bot.commitments kinds, in order): `commitments = [...]`.
    commitments: tuple[str, ...] = ()


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
    kinds, kind_problems = commitments.parse_kinds(table.pop(commitments.METADATA_KEY, None))
    if not isinstance(title, str) or not title.strip():
        fatal.append("the metadata needs a title")
    if not isinstance(description, str):
        fatal.append("the description must be a string")
    if not isinstance(raw_values, dict):
        return None, [*fatal, "values must be tables: [values.<key>]"]
    specs: list[ValueSpec] = []
    notes: list[str] = list(kind_problems)
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
        commitments=kinds,
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
