"""Populations of children aged 0-17 by area and mid-year: the ONS estimates as the DfE publishes them,
or a plain `area,year,population` CSV for the city's clusters.

The ONS file gives England, regions and authorities; the city's own authority is stored as the
city, England, its region and every authority as named in the file. In the plain CSV every area
must be the city or one of its clusters.
"""
from __future__ import annotations

from pathlib import Path

from tracker.config import Config
from tracker.errors import InputError, nearest

from . import published as P
from .reading import read_csv_file

ONS = ("time_period", "geographic_level", "region_name", "old_la_code", "new_la_code", "la_name",
       "population_estimate")
OPTIONAL = ("country_name", "age_group")
PLAIN = ("area", "year", "population")
CHILDREN = "children aged 0 to 17 years"


def read_population(path: str | Path, config: Config, la: str | None = None) -> P.PublishedRows:
    """Read and check a population file (ONS, or area,year,population); rows for populations."""
    path = Path(path)
    table = read_csv_file(path, usecols=lambda c: c in (*ONS, *OPTIONAL, *PLAIN))
    cols = set(table.frame.columns)
    if set(PLAIN) <= cols and not {"time_period", "population_estimate"} <= cols:
        if la:
            raise InputError("--la is for the ONS file; a file of area,year,population names its areas itself")
        return _plain(table, config, path)
    P.require_columns(table, ONS, "an ONS mid-year population file (or a CSV of area,year,population)",
                      "the first line must be area,year,population, or the ONS file's own header")
    f = table.frame
    if "age_group" in f.columns:
        other = f["age_group"].str.lower() != CHILDREN
        if other.all():
            raise InputError(f'{table.label}: no "Children aged 0 to 17 years" rows; rates per 10,000 children '
                             "need the 0-17 population")
        f = f[~other]
    city_rows, region, g = P.city_and_benchmarks(table, f, config, la)
    out = P.PublishedRows()
    yr = P.years(table, g, out.problems)
    pop, held = P.numbers(table, g, "population_estimate", out.problems, whole=True)
    names = P.area_names(g, city_rows, config.city)
    P.duplicates(table, g.assign(_area=names), ["time_period", "_area"], out.problems, "the year and area")
    if out.problems:
        return out
    source = f"ons-population: {path.resolve()}"
    rows = [{"area": names[i], "year": int(yr[i]), "population": float(pop[i]), "source": source}
            for i in g.index if not held[i] and pop[i] > 0]
    out.add("populations", rows)
    out.add("benchmark_areas", P.area_rows(g, names, source))
    out.notes.append(f"{table.label}: {len(rows)} populations of children aged 0-17 ({int(yr.min())} to "
                     f"{int(yr.max())}), {f.loc[city_rows[0], 'la_name']} as {config.city}")
    if int((held | (pop <= 0)).sum()):
        out.notes.append(f"{table.label}: {int((held | (pop <= 0)).sum())} row(s) without a population (x) were left out")
    return out


def _plain(table, config: Config, path: Path) -> P.PublishedRows:
    g = table.frame
    out = P.PublishedRows()
    areas = {a.lower(): a for a in (config.city, *config.clusters)}
    for i in g.index[~g["area"].str.lower().isin(areas).to_numpy()]:
        guess = nearest(g.at[i, "area"], areas.values())
        out.problems.append(f'{table.locate(int(i), "area")}: "{g.at[i, "area"]}" is not the city or a cluster'
                            + (f'; did you mean "{guess}"?' if guess else ""))
    yr = P.years(table, g, out.problems, "year")
    pop, held = P.numbers(table, g, "population", out.problems, whole=True)
    for i in g.index[(held | (pop <= 0)).to_numpy()]:
        out.problems.append(f"{table.locate(int(i), 'population')}: a population must be a whole number above 0")
    canon = g["area"].str.lower().map(areas)
    P.duplicates(table, g.assign(_area=canon), ["year", "_area"], out.problems, "the year and area")
    if out.problems:
        return out
    source = f"population: {path.resolve()}"
    out.add("populations", [{"area": canon[i], "year": int(yr[i]), "population": float(pop[i]), "source": source}
                            for i in g.index])
    out.notes.append(f"{table.label}: {len(g)} populations of children aged 0-17 for the city and its clusters")
    return out
