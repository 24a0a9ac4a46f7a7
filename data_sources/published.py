"""What the published-benchmark imports share: their columns, the chosen authority, numbers, duplicates.

Each importer (ons_population, dfe_cla, dfe_neet, dfe_sn, events) reads one file into rows of the
store's published tables; nothing is written until every row of every file has passed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from tracker.config import Config
from tracker.errors import InputError, nearest

from .reading import RawTable
from .validate import WITHHELD_MARKS, parse_numbers

NATIONAL, REGIONAL, LOCAL = "national", "regional", "local authority"
# The DfE writes "z" (not applicable) and "c" (withheld) and "x" (not available) in its files.
MARKS = WITHHELD_MARKS | {"z", "x", "c", "low"}


@dataclass
class PublishedRows:
    """Rows for the store's published tables ({table: rows}), problems and notes for the analyst."""

    parts: dict[str, list[dict]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, table: str, rows: list[dict]) -> None:
        """Add rows for one table."""
        self.parts.setdefault(table, []).extend(rows)


def require_columns(table: RawTable, required: tuple[str, ...], what: str, hint: str = "") -> None:
    """InputError naming the missing columns (and the nearest present one) when any is missing."""
    cols = list(table.frame.columns)
    missing = [c for c in required if c not in cols]
    if not missing:
        return
    spare = [c for c in table.headers if c not in required]   # every column of the file, read or not
    parts = []
    for m in missing:
        guess = nearest(m, spare)
        parts.append(f'"{m}"' + (f' (is "{table.headers.get(guess, guess)}" meant to be it?)' if guess else ""))
    raise InputError(f"{table.header_where}: this is not {what}: the column(s) {', '.join(parts)} are missing"
                     + (f"; {hint}" if hint else ""))


def city_authority(config: Config, la: str | None) -> str:
    """What to look for as the city's own authority: --la, else [tracker] la_code, else the city's name."""
    return (la or config.la_code or config.city).strip()


def find_authority(f: pd.DataFrame, la: str, label: str, name_col: str = "la_name",
                   code_cols: tuple[str, ...] = ("new_la_code", "old_la_code")) -> pd.Index:
    """Index of the chosen authority's local-authority rows, by name or code; InputError when absent."""
    local = f[f["geographic_level"].str.lower() == LOCAL] if "geographic_level" in f.columns else f
    wanted = la.strip().lower()
    names = local[name_col].str.lower()
    mask = (names == wanted) | (names.str.replace(", city of", "", regex=False) == wanted)
    for c in code_cols:
        if c in local.columns:
            mask |= local[c].str.lower() == wanted
    if mask.any():
        return local.index[mask]
    all_names = sorted(n for n in local[name_col].unique() if n)
    guess = nearest(la, all_names)
    hint = f'; did you mean "{guess}"?' if guess else ""
    raise InputError(f'{label}: no local authority "{la}" in this file{hint}. Give --la as a name (e.g. "Leeds"), '
                     "a new code (E08000035) or an old code (383), or set [tracker] la_code; the file has "
                     f"{len(all_names)} authorities; nothing was written")


def numbers(table: RawTable, g: pd.DataFrame, column: str, problems: list[str],
            whole: bool = False) -> tuple[pd.Series, pd.Series]:
    """(values, held): numbers of one column, NaN where withheld ("c", "z", "x"); a problem per other text."""
    raw = g[column]
    v, bad = parse_numbers(raw)
    held = bad & raw.str.lower().isin(MARKS)
    for i in g.index[(bad & ~held).to_numpy()]:
        problems.append(f'{table.locate(int(i), column)}: "{raw[i]}" is not a number; give the figure as digits '
                        "(or c / z where the DfE withholds it)")
    if whole:
        frac = v.notna() & (v % 1 != 0)
        for i in g.index[frac.to_numpy()]:
            problems.append(f'{table.locate(int(i), column)}: "{raw[i]}" is not a whole number')
    neg = v.notna() & (v < 0)
    for i in g.index[neg.to_numpy()]:
        problems.append(f'{table.locate(int(i), column)}: "{raw[i]}" is negative; a published figure is 0 or more')
    return v, held | (raw == "")


def years(table: RawTable, g: pd.DataFrame, problems: list[str], column: str = "time_period") -> pd.Series:
    """The calendar year of each row (NaN with a problem where it is not a year like 2025)."""
    raw = g[column]
    ok = raw.str.fullmatch(r"(19|20)\d\d")
    for i in g.index[~ok.to_numpy()]:
        problems.append(f'{table.locate(int(i), column)}: "{raw[i]}" is not a year; the file gives {column} as a '
                        "year like 2025")
    return pd.to_numeric(raw.where(ok), errors="coerce")


def duplicates(table: RawTable, g: pd.DataFrame, keys: list[str], problems: list[str], what: str) -> None:
    """A problem for each row repeating an earlier row's keys (the same area and year twice)."""
    dup = g.duplicated(keys, keep="first")
    first = {}
    for i, k in zip(g.index, g[keys].itertuples(index=False, name=None)):
        first.setdefault(k, i)
    for i in g.index[dup.to_numpy()]:
        k = tuple(g.loc[i, keys])
        problems.append(f"{table.label}, {table.row_label(int(i))}: {what} {' '.join(str(x) for x in k if x)} is "
                        f"given twice (first at {table.row_label(int(first[k]))}); keep one row")


def area_names(g: pd.DataFrame, city_rows: pd.Index, city: str) -> pd.Series:
    """The area each row is stored as: the city's own authority as the city, others as named in the file."""
    level = g["geographic_level"].str.lower()
    names = g["la_name"].where(level == LOCAL, g["region_name"].where(level == REGIONAL, g.get("country_name", "England")))
    names = names.where(names != "", "England")
    names[g.index.isin(city_rows)] = city
    return names


def area_rows(g: pd.DataFrame, names: pd.Series, source: str) -> list[dict]:
    """benchmark_areas rows: each area's level, codes and region, once."""
    out, seen = [], set()
    for i in g.index:
        name = names[i]
        if name in seen:
            continue
        seen.add(name)
        level = g.at[i, "geographic_level"].lower()
        out.append({"area": name, "level": level if level in (NATIONAL, REGIONAL) else LOCAL,
                    "old_la_code": g.at[i, "old_la_code"] if "old_la_code" in g.columns else "",
                    "new_la_code": g.at[i, "new_la_code"] if "new_la_code" in g.columns else "",
                    "region": g.at[i, "region_name"] if level != NATIONAL else "", "source": source})
    return out


def city_and_benchmarks(table, f: pd.DataFrame, config: Config, la: str | None) -> tuple[pd.Index, str, pd.DataFrame]:
    """The city's own authority rows (InputError naming --la when absent), its region, and the rows kept:
    England, that region and every local authority (for its neighbours)."""
    want = city_authority(config, la)
    city_rows = find_authority(f, want, f"{table.label} (--la {want})")
    region = f.loc[city_rows[0], "region_name"]
    return city_rows, region, f[keep_levels(f, region)]


def keep_levels(f: pd.DataFrame, region: str) -> pd.Series:
    """Mask of the rows kept: England, the city's region and every local authority (for any neighbours)."""
    level = f["geographic_level"].str.lower()
    return (level == NATIONAL) | ((level == REGIONAL) & (f["region_name"] == region)) | (level == LOCAL)
