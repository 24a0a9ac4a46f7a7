"""The DfE's "Children looked after in England" CSV (number and rate per 10,000) into published benchmarks.

Only the "Children looked after on 31 March each year" rows: for England, the city's region and
every authority (so whichever statistical neighbours are configured have their figures). Each
becomes the benchmark of the `cla` obsession as of 31 March of `time_period`, with the count as
numerator and the 0-17 population as denominator; the rate is recomputed from them and checked
against the published (rounded) `rate_per_10000`.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from tracker.config import Config
from tracker.errors import ConfigError, InputError

from . import published as P
from .reading import read_csv_file

REQUIRED = ("time_period", "geographic_level", "region_name", "old_la_code", "la_name", "new_la_code",
            "population_type", "population_estimate", "children_count", "rate_per_10000")
OPTIONAL = ("country_name",)
AT_31_MARCH = "children looked after on 31 march each year"
MEASURE = "per 10,000 children"
# The published rate is rounded to a whole number, and regional counts to the nearest 10.
RATE_TOLERANCE = 1.0


def cla_obsession(config: Config) -> str:
    """The key of the configured children-looked-after obsession; ConfigError when there is none."""
    o = config.find_obsession("cla")
    if o is None or o.is_rate:
        raise ConfigError(f"{config.path}: obsessions: the dfe-cla import gives the benchmarks of the children "
                          "looked after obsession, and this configuration has no count obsession keyed or aliased "
                          '"cla"; add [obsessions.cla] (unit = "count")')
    return o.key


def read_cla(path: str | Path, config: Config, la: str | None = None) -> P.PublishedRows:
    """Read and check the CLA file; rows for published_figures and benchmark_areas, or problems."""
    path = Path(path)
    key = cla_obsession(config)
    table = read_csv_file(path, usecols=lambda c: c in (*REQUIRED, *OPTIONAL))
    P.require_columns(table, REQUIRED, "the DfE 'Children looked after ... number and rate per 10,000' file",
                      "download cla_number_and_rate_per_10k_children.csv again")
    f = table.frame
    f = f[f["population_type"].str.lower() == AT_31_MARCH]
    if f.empty:
        raise InputError(f'{table.label}: no "Children looked after on 31 March each year" rows; this importer '
                         "reads the CLA number and rate per 10,000 file")
    city_rows, region, g = P.city_and_benchmarks(table, f, config, la)
    out = P.PublishedRows()
    yr = P.years(table, g, out.problems)
    pop, pop_held = P.numbers(table, g, "population_estimate", out.problems, whole=True)
    count, count_held = P.numbers(table, g, "children_count", out.problems)
    rate, rate_held = P.numbers(table, g, "rate_per_10000", out.problems)
    names = P.area_names(g, city_rows, config.city)
    P.duplicates(table, g.assign(_area=names), ["time_period", "_area"], out.problems, "the year and area")
    computed = 10_000.0 * count / pop.where(pop > 0)
    off = computed.notna() & rate.notna() & ((computed - rate).abs() >= RATE_TOLERANCE)
    for i in g.index[off.to_numpy()]:
        out.problems.append(f"{table.locate(int(i), 'rate_per_10000')}: the published rate {rate[i]:g} disagrees "
                            f"with children_count / population_estimate x 10,000 = {computed[i]:.1f}; the file may "
                            "be damaged, download it again")
    if out.problems:
        return out
    source = f"dfe-cla: {path.resolve()}"
    rows, held = [], 0
    for i in g.index:
        if count_held[i] and rate_held[i]:
            held += 1
            continue
        have_parts = not count_held[i] and not pop_held[i] and pop[i] > 0
        rows.append({"obsession": key, "area": names[i], "as_of": date(int(yr[i]), 3, 31), "unit": "per10k",
                     "measure": MEASURE, "value": float(computed[i] if have_parts else rate[i]),
                     "numerator": float(count[i]) if have_parts else None,
                     "denominator": float(pop[i]) if have_parts else None, "source": source})
    out.add("published_figures", rows)
    out.add("benchmark_areas", P.area_rows(g, names, source))
    la_row = f.loc[city_rows[0]]
    out.notes.append(f"{table.label}: {la_row['la_name']} ({la_row['new_la_code']}, {la_row['old_la_code']}) as "
                     f"{config.city}, with {region}, England and {len(set(names)) - 3} other authorities: "
                     f"{len(rows)} figures of children looked after on 31 March")
    if held:
        out.notes.append(f"{table.label}: {held} row(s) withheld or not applicable in the file (c, z) were left out")
    return out
