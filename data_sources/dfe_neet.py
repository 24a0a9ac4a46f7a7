"""The DfE / NCCIS "Participation in education, training and NEET age 16 to 17 by local authority" CSV.

Each row's NEET percentage becomes the benchmark of the `neet` obsession, and its not-known
percentage that of an obsession keyed or aliased `neet_not_known` when one is configured, as of
the last day of February of `time_period` (the figures are a December-February average), with
the Dec-Feb average cohort as denominator. England, the city's region and every authority.
"""
from __future__ import annotations

import calendar
from datetime import date
from pathlib import Path

from tracker.config import Config
from tracker.errors import ConfigError

from . import published as P
from .reading import read_csv_file

REQUIRED = ("time_period", "geographic_level", "region_name", "old_la_code", "new_la_code", "la_name",
            "cohort_djfavg", "neet_percent", "notknown_percent")
OPTIONAL = ("country_name", "neet_not_known_percent")
MEASURES = {"neet_percent": "% of 16-17-year-olds NEET (Dec-Feb average)",
            "notknown_percent": "% of 16-17-year-olds whose activity is not known (Dec-Feb average)"}
# NEET and not known, each rounded to one place, add up to the combined figure to within rounding.
SUM_TOLERANCE = 0.15 + 1e-9


def neet_obsessions(config: Config) -> dict[str, str]:
    """{file column: obsession key} for the configured NEET and not-known obsessions."""
    out = {}
    o = config.find_obsession("neet")
    if o is not None:
        out["neet_percent"] = o.key
    nk = config.find_obsession("neet_not_known") or config.find_obsession("neet-not-known")
    if nk is None:
        nk = next((x for x in config.obsessions if "neet_not_known" in x.aliases), None)
    if nk is not None:
        out["notknown_percent"] = nk.key
    if not out:
        raise ConfigError(f"{config.path}: obsessions: the dfe-neet import gives the benchmarks of the neet "
                          "obsession (and of neet_not_known), and this configuration has neither; add "
                          "[obsessions.neet]")
    return out


def last_of_february(year: int) -> date:
    """28 or 29 February of `year`: the end of the Dec-Feb average."""
    return date(year, 2, 29 if calendar.isleap(year) else 28)


def read_neet(path: str | Path, config: Config, la: str | None = None) -> P.PublishedRows:
    """Read and check the NCCIS file; rows for published_figures and benchmark_areas, or problems."""
    path = Path(path)
    wanted = neet_obsessions(config)
    table = read_csv_file(path, usecols=lambda c: c in (*REQUIRED, *OPTIONAL))
    P.require_columns(table, REQUIRED, "the NCCIS 'NEET and not known ... by local authority' file",
                      "download UD_NEETNK_LA_dashboard_YYYY.csv again")
    f = table.frame
    city_rows, region, g = P.city_and_benchmarks(table, f, config, la)
    out = P.PublishedRows()
    yr = P.years(table, g, out.problems)
    cohort, cohort_held = P.numbers(table, g, "cohort_djfavg", out.problems)
    values = {c: P.numbers(table, g, c, out.problems) for c in ("neet_percent", "notknown_percent")}
    for c, (v, _) in values.items():
        over = v.notna() & (v > 100)
        for i in g.index[over.to_numpy()]:
            out.problems.append(f"{table.locate(int(i), c)}: {v[i]:g} is over 100; a percentage is 0 to 100")
    if "neet_not_known_percent" in g.columns:
        both, _ = P.numbers(table, g, "neet_not_known_percent", out.problems)
        parts = values["neet_percent"][0] + values["notknown_percent"][0]
        off = both.notna() & parts.notna() & ((both - parts).abs() > SUM_TOLERANCE)
        for i in g.index[off.to_numpy()]:
            out.problems.append(f"{table.locate(int(i), 'neet_not_known_percent')}: {both[i]:g} is not NEET "
                                f"{values['neet_percent'][0][i]:g} + not known {values['notknown_percent'][0][i]:g}; "
                                "the file may be damaged, download it again")
    names = P.area_names(g, city_rows, config.city)
    P.duplicates(table, g.assign(_area=names), ["time_period", "_area"], out.problems, "the year and area")
    if out.problems:
        return out
    source = f"dfe-neet: {path.resolve()}"
    rows, held = [], 0
    for column, key in wanted.items():
        v, v_held = values[column]
        for i in g.index:
            if v_held[i]:
                held += 1
                continue
            rows.append({"obsession": key, "area": names[i], "as_of": last_of_february(int(yr[i])),
                         "unit": "percent", "measure": MEASURES[column], "value": float(v[i]), "numerator": None,
                         "denominator": None if cohort_held[i] else float(cohort[i]), "source": source})
    out.add("published_figures", rows)
    out.add("benchmark_areas", P.area_rows(g, names, source))
    out.notes.append(f"{table.label}: {f.loc[city_rows[0], 'la_name']} as {config.city}, with {region} and England: "
                     f"{len(rows)} figures for {', '.join(wanted.values())}")
    if held:
        out.notes.append(f"{table.label}: {held} figure(s) withheld in the file (c, z) were left out")
    return out
