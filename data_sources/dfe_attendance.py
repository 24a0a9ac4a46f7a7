"""The Department for Education's weekly "Pupil attendance in schools" CSV, as published, into absence figures.

For one local authority: its Primary and Secondary rows become `absence_primary` and
`absence_secondary` (overall_absence / possible_sessions x 100, both kept as numerator and
denominator), and the rows for England and the authority's region become comparator areas named as
in the file. `time_identifier` "Week NN" is ISO week NN of `time_period`; the figure belongs to
that week's Monday. Weeks absent from the file (holidays) stay absent.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd

from tracker.config import Config
from tracker.errors import ConfigError, InputError, ValidationFailed, nearest

from .reading import RawTable, read_csv_file
from .validate import WITHHELD_MARKS, Checked, check_long, parse_numbers

PHASES = {  # phase as written (lower case) -> obsession key
    "primary": "absence_primary", "state-funded primary": "absence_primary",
    "secondary": "absence_secondary", "state-funded secondary": "absence_secondary",
}
PHASE_COLUMNS = ("education_phase", "school_type")   # newer files, older files
REQUIRED = ("time_period", "time_identifier", "geographic_level", "la_name", "new_la_code",
            "region_name", "overall_absence", "possible_sessions")
OPTIONAL = ("old_la_code", "country_name", "overall_absence_perc")
NATIONAL, REGIONAL, LOCAL = "national", "regional", "local authority"
# The published percentage is computed from the same two counts, so they agree to rounding.
PUBLISHED_TOLERANCE = 0.005
_WEEK = re.compile(r"^week\s*(\d{1,2})$", re.I)


def _wanted(column: str) -> bool:
    return column.strip().lower() in (*REQUIRED, *OPTIONAL, *PHASE_COLUMNS)


def _find_la(f: pd.DataFrame, la: str, label: str) -> pd.Series:
    """Mask of the chosen authority's rows, by name, new code (E08000035) or old code (383)."""
    local = f[f["geographic_level"].str.lower() == LOCAL]
    wanted = la.strip().lower()
    mask = (local["la_name"].str.lower() == wanted) | (local["new_la_code"].str.lower() == wanted)
    if "old_la_code" in local.columns:
        mask |= local["old_la_code"].str.lower() == wanted
    if mask.any():
        return f.index.isin(local.index[mask])
    names = sorted(n for n in local["la_name"].unique() if n)
    guess = nearest(la, names)
    hint = f'; did you mean "{guess}"?' if guess else ""
    raise InputError(f'{label}: no local authority "{la}" in this file{hint} Give --la as a name (e.g. '
                     f'"{names[0] if names else "Leeds"}"), a new code (E08000035) or an old code (383); '
                     f"the file has {len(names)} authorities")


def _target_area(la_name: str, la: str, config: Config) -> str:
    """The area the authority's figures are stored as: the city, or a configured comparator."""
    n = la_name.lower()
    city = config.city.lower()
    if n == city or n.startswith(city + ",") or city in (n, n.replace(", city of", "")):
        return config.city
    for c in config.comparators:
        if c.lower() == n:
            return c
    raise InputError(f'--la {la}: "{la_name}" is not the city "{config.city}" of this configuration, nor one of '
                     "its areas.comparators; use --la with the city's own authority, or add "
                     f'"{la_name}" to areas.comparators to load it as a neighbour')


def read_dfe(path: str | Path, config: Config, la: str | None = None, today: date | None = None) -> Checked:
    """Read and check one DfE weekly attendance file for one authority (default: the configured city)."""
    path = Path(path)
    label = str(path)
    keys = [k for k in ("absence_primary", "absence_secondary") if config.find_obsession(k)]
    if not keys:
        raise ConfigError(f"{config.path}: obsessions: the DfE attendance import loads absence_primary and "
                          "absence_secondary, and this configuration has neither; add [obsessions.absence_primary] "
                          "and [obsessions.absence_secondary] (unit = \"percent\")")
    table = read_csv_file(path, usecols=_wanted)
    f = table.frame
    phase_col = next((c for c in PHASE_COLUMNS if c in f.columns), None)
    missing = [c for c in REQUIRED if c not in f.columns] + ([] if phase_col else ["education_phase (or school_type)"])
    if missing:
        raise InputError(f"{label}: this is not a DfE weekly 'Pupil attendance in schools' file: the columns "
                         f"{', '.join(missing)} are missing. For a file with one figure a row use --format long")
    if f.empty:
        raise InputError(f"{label}: there is a header but no rows")

    level = f["geographic_level"].str.lower()
    week_no = f["time_identifier"].str.extract(_WEEK, expand=False)
    weekly = week_no.notna()
    if not weekly.any():
        raise InputError(f"{label}: no weekly rows (time_identifier like \"Week 37\"); this importer reads the "
                         "weekly file, not the termly or year-to-date one")
    phase = f[phase_col].str.lower().map(PHASES)
    phase = phase.where(phase.isin(keys))

    la = la or config.city
    is_la = _find_la(f[weekly], la, f"{label} (--la {la})")
    la_rows = f[weekly][is_la]
    la_name = la_rows["la_name"].iloc[0]
    la_code = la_rows["new_la_code"].iloc[0]
    area = _target_area(la_name, la, config)
    region = la_rows["region_name"].iloc[0]
    country = (la_rows["country_name"].iloc[0] if "country_name" in f.columns else "") or "England"

    la_mask = pd.Series(False, index=f.index)
    la_mask[la_rows.index] = True
    reg_mask = (level == REGIONAL) & (f["region_name"] == region) if region else pd.Series(False, index=f.index)
    nat_mask = level == NATIONAL
    chosen = weekly & phase.notna() & (la_mask | reg_mask | nat_mask)
    g = f[chosen]
    areas = pd.Series(country, index=g.index)
    areas[reg_mask[chosen].to_numpy()] = region
    areas[la_mask[chosen].to_numpy()] = area

    num, num_bad = parse_numbers(g["overall_absence"])
    den, den_bad = parse_numbers(g["possible_sessions"])
    held = (num_bad & g["overall_absence"].str.lower().isin(WITHHELD_MARKS)) | \
           (den_bad & g["possible_sessions"].str.lower().isin(WITHHELD_MARKS))
    notes = list(table.notes)
    if held.any():
        notes.append(f"{label}: {int(held.sum())} row(s) for {la_name}, its region or England are withheld in the "
                     "file (\"c\") and were left out")
    g, num, den, areas = g[~held], num[~held], den[~held], areas[~held]

    problems: list[tuple[int, int, str]] = []
    year = pd.to_numeric(g["time_period"].where(g["time_period"].str.fullmatch(r"\d{4}")), errors="coerce")
    for i in g.index[year.isna()]:
        problems.append((int(i), 0, f'{table.locate(int(i), "time_period")}: "{g.at[i, "time_period"]}" is not a '
                                    "calendar year; the weekly file gives time_period as a year like 2025"))
    weeks = pd.Series(pd.NaT, index=g.index, dtype="datetime64[ns]")
    nums = week_no[g.index]
    for (y, n), idx in pd.DataFrame({"y": year, "n": nums}).dropna().groupby(["y", "n"]).groups.items():
        try:
            weeks[idx] = pd.Timestamp(date.fromisocalendar(int(y), int(n), 1))
        except ValueError:
            for i in idx:
                problems.append((int(i), 1, f"{table.locate(int(i), 'time_identifier')}: {int(y)} has no ISO week "
                                            f"{int(n)}; check the row"))

    published = None
    if "overall_absence_perc" in g.columns:
        published, _ = parse_numbers(g["overall_absence_perc"])
        computed = 100.0 * num / den
        off = published.notna() & computed.notna() & ((computed - published).abs() > PUBLISHED_TOLERANCE)
        for i in g.index[off.to_numpy()]:
            problems.append((int(i), 3, f"{table.locate(int(i), 'overall_absence_perc')}: the published "
                                        f"{published[i]:.3f} % disagrees with overall_absence / possible_sessions "
                                        f"= {computed[i]:.3f} %; the file may be damaged, download it again"))

    value = (100.0 * num / den).where((den > 0) & ~num_bad[~held] & ~den_bad[~held])
    # All as text, so the common checks parse and name every cell exactly as for a long-format file;
    # repr() gives back the same float when parsed.
    long = pd.DataFrame({
        "week_commencing": weeks.dt.strftime("%Y-%m-%d").fillna(""),
        "obsession": phase[g.index], "area": areas,
        "value": [repr(float(v)) if v == v else "" for v in value],
        "numerator": g["overall_absence"], "denominator": g["possible_sessions"],
    }, index=g.index)

    where = {"week_commencing": "time_identifier", "obsession": phase_col, "area": "la_name",
             "value": "overall_absence", "numerator": "overall_absence", "denominator": "possible_sessions"}
    inner = RawTable(frame=long, label=label, headers={k: v for k, v in where.items()},
                     locate=lambda i, col: table.locate(i, where.get(col, col)), row_label=table.row_label)
    checked = check_long(inner, config, today=today, extra_areas=(country, region))
    checked.problems = problems + checked.problems
    checked.table = table
    checked.notes = notes + [f"{label}: {la_name} ({la_code}) as {area}, with {region} and {country} as comparators"]
    if published is not None and not problems:
        checked.notes.append(f"{label}: every computed absence rate agrees with the published overall_absence_perc")
    return checked


def read_dfe_or_fail(path, config, la=None, today=None) -> Checked:
    """read_dfe, raising ValidationFailed when any row has a problem."""
    c = read_dfe(path, config, la, today)
    if c.problems:
        raise ValidationFailed(c.messages(), str(path))
    return c
