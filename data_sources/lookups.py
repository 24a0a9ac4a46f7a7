"""Lookups from records to clusters: postcodes (full, sector, district or area) and school URNs.

`[lookups] postcodes = "FILE"` is a CSV `postcode,cluster`; `[lookups] schools = "FILE"` a CSV
`urn,cluster` (paths relative to the configuration file). The most specific postcode entry
wins; matching ignores case and spaces. The cluster `outside` marks places outside the city:
their records count in the city's figure (it is the council's child) and in no cluster.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tracker.config import Config
from tracker.errors import ConfigError, InputError, ValidationFailed, nearest

from .reading import read_csv_file

OUTSIDE = "outside"
LEVELS = ("full", "sector", "district", "area")   # most specific first
_OUTWARD = r"[A-Z]{1,2}\d[A-Z\d]?"
_FULL = re.compile(rf"({_OUTWARD})(\d)([A-Z]{{2}})")
_SECTOR_SPACED = re.compile(rf"({_OUTWARD}) (\d)")
_SECTOR = re.compile(rf"({_OUTWARD})(\d)")
_DISTRICT = re.compile(_OUTWARD)
_AREA = re.compile(r"[A-Z]{1,2}")
_URN = re.compile(r"\d{5,7}")
MAX_LOOKUP_BYTES = 5 * 1024 * 1024   # every postcode in a city is well under this


def entry_key(text: str) -> tuple[str, str] | None:
    """(level, key) of a lookup entry: "LS14 6JB" full, "LS14 6" sector, "LS14" district, "LS" area; else None.

    "LS14" is the district: a sector needs its space ("LS1 4") unless it cannot be a district ("LS146").
    """
    spaced = " ".join(text.upper().split())
    s = spaced.replace(" ", "")
    m = _FULL.fullmatch(s)
    if m:
        return "full", s
    m = _SECTOR_SPACED.fullmatch(spaced)
    if m:
        return "sector", f"{m[1]} {m[2]}"
    if _DISTRICT.fullmatch(s):
        return "district", s
    m = _SECTOR.fullmatch(s)
    if m:
        return "sector", f"{m[1]} {m[2]}"
    if _AREA.fullmatch(s):
        return "area", s
    return None


def record_keys(text: str) -> list[tuple[str, str]] | None:
    """The lookup keys a record's postcode can match, most specific first; None when it is not a postcode."""
    s = "".join(text.upper().split())
    m = _FULL.fullmatch(s)
    if m:
        out, digit = m[1], m[2]
        return [("full", s), ("sector", f"{out} {digit}"), ("district", out), ("area", re.match(r"[A-Z]+", out)[0])]
    if _DISTRICT.fullmatch(s):   # some systems keep only the first half
        return [("district", s), ("area", re.match(r"[A-Z]+", s)[0])]
    return None


@dataclass(frozen=True)
class PostcodeLookup:
    """Postcode keys (by level) to a configured cluster, or OUTSIDE."""

    entries: dict[tuple[str, str], str]
    label: str = "postcode lookup"

    def match(self, postcodes: pd.Series) -> tuple[pd.Series, pd.Series]:
        """(cluster or None, reason) per record; reason is "" when matched, else one of records.UNMATCHED_REASONS."""
        codes, uniques = pd.factorize(postcodes.astype(str).to_numpy(dtype=object), use_na_sentinel=False)
        clusters = np.empty(len(uniques), dtype=object)
        reasons = np.empty(len(uniques), dtype=object)
        for j, u in enumerate(uniques):   # once per distinct postcode, not per record
            clusters[j], reasons[j] = self._one(u)
        return (pd.Series(clusters[codes] if len(codes) else [], index=postcodes.index, dtype=object),
                pd.Series(reasons[codes] if len(codes) else [], index=postcodes.index, dtype=object))

    def _one(self, text: str) -> tuple[str | None, str]:
        if not text.strip():
            return None, "no postcode"
        for key in record_keys(text) or []:
            hit = self.entries.get(key)
            if hit is not None:
                return (None, "outside the city") if hit == OUTSIDE else (hit, "")
        return None, "postcode not in lookup"


@dataclass(frozen=True)
class SchoolLookup:
    """School URNs to a configured cluster, or OUTSIDE."""

    entries: dict[str, str]
    label: str = "school lookup"

    def match(self, urns: pd.Series) -> tuple[pd.Series, pd.Series]:
        """(cluster or None, reason) per row; reason "" when matched, "no URN", "school not in lookup" or "outside the city"."""
        keys = urns.astype(str).map(normal_urn)
        hit = keys.map(self.entries)
        reason = pd.Series("", index=urns.index, dtype=object)
        reason[keys == ""] = "no URN"
        reason[(keys != "") & hit.isna()] = "school not in lookup"
        reason[hit == OUTSIDE] = "outside the city"
        return pd.Series(np.where(reason == "", hit.to_numpy(dtype=object), None), index=urns.index, dtype=object), reason


def normal_urn(text: str) -> str:
    """A URN as digits without leading zeros or a spreadsheet's ".0"."""
    t = text.strip()
    if t.endswith(".0"):
        t = t[:-2]
    return t.lstrip("0") or ("0" if t else "")


@dataclass
class Lookups:
    """The configured lookup files (resolved paths), read when a format needs them."""

    postcodes: Path | None = None
    schools: Path | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    def postcode_lookup(self, config: Config) -> PostcodeLookup | None:
        """The postcode lookup, read and checked once; None when none is configured."""
        if self.postcodes is None:
            return None
        if "p" not in self._cache:
            self._cache["p"] = read_postcode_lookup(self.postcodes, config)
        return self._cache["p"]

    def school_lookup(self, config: Config) -> SchoolLookup | None:
        """The school lookup, read and checked once; None when none is configured."""
        if self.schools is None:
            return None
        if "s" not in self._cache:
            self._cache["s"] = read_school_lookup(self.schools, config)
        return self._cache["s"]


def resolve(path: str, config_path: str) -> Path:
    """A lookup path, relative to the configuration file's folder when relative."""
    p = Path(path).expanduser()
    if not p.is_absolute() and config_path and Path(config_path).is_file():
        p = Path(config_path).resolve().parent / p
    return p


def lookups_of(config: Config) -> Lookups:
    """The lookups configured in `[lookups]` (tracker.config.LookupFiles), paths resolved."""
    files = config.lookups
    return Lookups(postcodes=resolve(files.postcodes, config.path) if files.postcodes else None,
                   schools=resolve(files.schools, config.path) if files.schools else None)


def _read_pairs(path: Path, key_col: str, config: Config, what: str):
    """The (row position, key, cluster) cells of a lookup CSV, with its table; clusters checked against the configuration."""
    if not path.exists():
        raise ConfigError(f"lookups.{what}: {path}: no such file; check the path in [lookups] (relative paths are "
                          "from the configuration file's folder)")
    from .reading import check_size

    check_size(path, MAX_LOOKUP_BYTES)
    table = read_csv_file(path, usecols=lambda c: c in (key_col, "cluster"))
    missing = [c for c in (key_col, "cluster") if c not in table.frame.columns]
    if missing:
        raise InputError(f'{table.header_where}: the column "{missing[0]}" is missing; a {what} lookup is a CSV '
                         f"with the header {key_col},cluster")
    clusters = {c.lower(): c for c in config.clusters}
    problems = []
    f = table.frame
    out_cluster = []
    for i, name in zip(f.index, f["cluster"]):
        low = name.lower()
        if low in clusters:
            out_cluster.append(clusters[low])
        elif low == OUTSIDE and OUTSIDE not in clusters:
            out_cluster.append(OUTSIDE)
        else:
            out_cluster.append(None)
            if not name:
                problems.append(f"{table.locate(int(i), 'cluster')}: is empty; give a configured cluster, or "
                                f'"{OUTSIDE}" for a place outside the city')
            else:
                guess = nearest(name, config.clusters)
                hint = f'did you mean "{guess}"?' if guess else f"use one of the clusters in [areas] or \"{OUTSIDE}\""
                problems.append(f'{table.locate(int(i), "cluster")}: "{name}" is not a configured cluster; {hint}')
    return table, list(zip(f.index, f[key_col], out_cluster)), problems


def _check_twice(table, rows, problems, shown) -> dict:
    entries: dict = {}
    first_row: dict = {}
    for i, key, cluster in rows:
        if key is None or cluster is None:
            continue
        if key in entries and entries[key] != cluster:
            problems.append(f"{table.locate(int(i), 'cluster')}: {shown(key)} is given to {entries[key]} on "
                            f"{table.row_label(first_row[key])} and to {cluster} here; keep one of them")
        elif key not in entries:
            entries[key] = cluster
            first_row[key] = int(i)
    return entries


def read_postcode_lookup(path: Path, config: Config) -> PostcodeLookup:
    """Read and check a `postcode,cluster` CSV; ValidationFailed naming each bad line."""
    path = Path(path)
    table, rows, problems = _read_pairs(path, "postcode", config, "postcodes")
    keyed = []
    for i, text, cluster in rows:
        key = entry_key(text) if text else None
        if key is None:
            problems.append(f"{table.locate(int(i), 'postcode')}: "
                            + ("is empty" if not text else f'"{text}" is not a postcode')
                            + '; give a full postcode ("LS14 6JB"), a sector ("LS14 6"), a district ("LS14") '
                              'or an area ("LS")')
        keyed.append((i, key, cluster))
    entries = _check_twice(table, keyed, problems, lambda k: f'"{k[1]}"')
    if problems:
        raise ValidationFailed(problems, str(path))
    if not entries:
        raise InputError(f"{path}: the postcode lookup has no entries; add one postcode,cluster a line")
    return PostcodeLookup(entries, label=str(path))


def read_school_lookup(path: Path, config: Config) -> SchoolLookup:
    """Read and check a `urn,cluster` CSV; ValidationFailed naming each bad line."""
    path = Path(path)
    table, rows, problems = _read_pairs(path, "urn", config, "schools")
    keyed = []
    for i, text, cluster in rows:
        key = normal_urn(text)
        if not _URN.fullmatch(text.strip().removesuffix(".0")):
            problems.append(f"{table.locate(int(i), 'urn')}: " + ("is empty" if not text else f'"{text}" is not a URN')
                            + "; give the school's unique reference number, six digits like 107993")
            key = None
        keyed.append((i, key, cluster))
    entries = _check_twice(table, keyed, problems, lambda k: f"the URN {k}")
    if problems:
        raise ValidationFailed(problems, str(path))
    if not entries:
        raise InputError(f"{path}: the school lookup has no entries; add one urn,cluster a line")
    return SchoolLookup(entries, label=str(path))
