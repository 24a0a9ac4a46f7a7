"""Published benchmarks: populations, rates per 10,000, statistical neighbours and the DfE's figures.

Pure functions over a `Published` snapshot (read once from the store with the figures): which
published figure applies to a week, the statistical-neighbour mean, the areas imports bring.
A neighbour mean is the mean of the neighbours' rates, as the DfE's LA Interactive Tool shows
it; each rate is recomputed from its count and population where the file gave both. City totals
are never averaged: only rates of whole authorities are.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from .config import Benchmarks, Config, Event, Obsession
from .model import Benchmark, CompareLine, Comparison, Point

PER10K, PERCENT = "per10k", "percent"
NATIONAL, REGIONAL, LOCAL = "national", "regional", "local authority"
CITY, NEIGHBOURS, REGION, COUNTRY = "city", "statistical_neighbours", "region", "national"
KIND_ORDER = (CITY, NEIGHBOURS, REGION, COUNTRY)
DFE = "dfe"


@dataclass(frozen=True)
class AreaInfo:
    """An area an import brought: its level and codes (old LA code like 383, new like E08000035)."""

    name: str
    level: str
    old_la_code: str = ""
    new_la_code: str = ""
    region: str = ""


@dataclass(frozen=True)
class PublishedFigure:
    """One published annual (or weekly) figure for one area."""

    obsession: str
    area: str
    as_of: date
    unit: str                      # "per10k" or "percent"
    measure: str                   # "per 10,000 children", "% of 16-17-year-olds NEET"
    value: float
    numerator: float | None = None
    denominator: float | None = None

    @property
    def rate(self) -> float:
        """The figure, recomputed from its numerator and denominator when both are given."""
        if self.numerator is not None and self.denominator:
            scale = 10_000.0 if self.unit == PER10K else 100.0
            return scale * self.numerator / self.denominator
        return self.value


@dataclass(frozen=True)
class Published:
    """Everything the benchmark imports stored, read once with the figures."""

    figures: tuple[PublishedFigure, ...] = ()
    areas: tuple[AreaInfo, ...] = ()
    populations: tuple[tuple[str, int, float], ...] = ()   # (area, mid-year, children 0-17)
    neighbours: dict[str, tuple[str, ...]] = field(default_factory=dict)   # old code -> old codes
    sn_model: str = ""
    events: tuple[Event, ...] = ()

    def area(self, name: str) -> AreaInfo | None:
        """The area of this name (case-insensitive), or None."""
        low = name.strip().lower()
        return next((a for a in self.areas if a.name.lower() == low), None)

    def by_area(self) -> dict[str, list[tuple[int, float]]]:
        """The populations by area: {area: [(year, population)]} (built once)."""
        cached = self.__dict__.get("_by_area")
        if cached is None:
            cached = {}
            for a, year, pop in self.populations:
                cached.setdefault(a, []).append((year, pop))
            object.__setattr__(self, "_by_area", cached)   # a cache on a frozen snapshot: not a field
        return cached

    def by_code(self, code: str) -> AreaInfo | None:
        """The authority with this old or new LA code, or None."""
        c = code.strip().lower()
        return next((a for a in self.areas if c and c in (a.old_la_code.lower(), a.new_la_code.lower())), None)


EMPTY = Published()


def published_of(figures) -> Published:
    """The Published snapshot a FigureTable carries (the store attaches it), or an empty one."""
    return getattr(figures, "published", None) or EMPTY


def settings_of(config: Config) -> Benchmarks:
    """The configuration's [benchmarks] settings."""
    return config.benchmarks


def mid_year(year: int) -> date:
    """The date a mid-year population estimate is for: 30 June."""
    return date(year, 6, 30)


def population_before(published: Published, area: str, when: date) -> tuple[int, float] | None:
    """(year, population) of the latest mid-year estimate before `when` for `area`, or None."""
    best = None
    for year, pop in published.by_area().get(area, ()):
        if mid_year(year) < when and (best is None or year > best[0]):
            best = (year, pop)
    return best


def rate_per_10000(count: float | None, population: float | None) -> float | None:
    """count / population x 10,000 (None when either is missing or the population is not positive)."""
    if count is None or not population or population <= 0:
        return None
    return 10_000.0 * count / population


def area_rate(published: Published, area: str, count: float | None, week: date) -> float | None:
    """The rate per 10,000 children of a count for `area` in `week` (population before the week)."""
    pop = population_before(published, area, week)
    return rate_per_10000(count, pop[1]) if pop else None


def city_area(published: Published, config: Config) -> AreaInfo | None:
    """The city's own authority as the imports recorded it (stored under the city's name)."""
    return published.area(config.city)


def neighbour_names(published: Published, config: Config) -> tuple[str, ...]:
    """The statistical neighbours: as configured by name, or the city's in the latest DfE model."""
    setting = settings_of(config).statistical_neighbours
    if setting != DFE:
        return tuple((published.area(n).name if published.area(n) else n) for n in setting)
    city = city_area(published, config)
    if city is None or not city.old_la_code:
        return ()
    with_figures = {f.area for f in published.figures} | {a for a, _, _ in published.populations}
    names = []
    for code in published.neighbours.get(city.old_la_code, ()):
        # One authority may be spelt two ways by two files ("Kingston Upon Hull" in an older model):
        # the spelling that has figures is the one the averages need.
        found = [a.name for a in published.areas if a.old_la_code == code and a.name != config.city]
        names.append(next((n for n in found if n in with_figures), found[0] if found else f"LA {code}"))
    return tuple(names)


def region_name(published: Published, config: Config) -> str | None:
    """The city's region, as the imports recorded it."""
    city = city_area(published, config)
    return city.region if city and city.region else None


def country_name(published: Published) -> str:
    """The national area's name ("England")."""
    return next((a.name for a in published.areas if a.level == NATIONAL), "England")


def known_areas(published: Published, config: Config) -> tuple[str, ...]:
    """The areas imports brought as benchmarks that are not configured: England, the region, neighbours.

    One whose address slug a configured area (or an earlier one here) already has is left out: its
    pages, pictures and cache entries would be that area's ("Bristol, City of" beside a configured
    "Bristol City Of")."""
    from .toml_config import area_slug

    taken = {area_slug(a) for a in config.areas}
    out: list[str] = []
    region = region_name(published, config)
    for name in (country_name(published) if published.areas else None, region, *neighbour_names(published, config)):
        if name and area_slug(name) not in taken:
            taken.add(area_slug(name))
            out.append(name)
    return tuple(out)


def benchmark_obsessions(published: Published) -> set[str]:
    """Keys of the obsessions with published benchmarks."""
    return {f.obsession for f in published.figures}


def _latest(figs: list[PublishedFigure], area: str, until: date) -> PublishedFigure | None:
    best = None
    for f in figs:
        if f.area == area and f.as_of <= until and (best is None or f.as_of > best.as_of):
            best = f
    return best


def _neighbour_mean(figs: list[PublishedFigure], names: tuple[str, ...], until: date) -> Benchmark | None:
    """The mean of the neighbours' rates at the latest date on or before `until` that any has."""
    mine = [f for f in figs if f.area in names and f.as_of <= until]
    if not mine:
        return None
    as_of = max(f.as_of for f in mine)
    at = {f.area: f for f in mine if f.as_of == as_of}
    members = tuple(n for n in names if n in at)
    rates = [at[n].rate for n in members]
    first = at[members[0]]
    return Benchmark(area="statistical neighbours", kind=NEIGHBOURS, value=sum(rates) / len(rates),
                     unit=first.unit, as_of=as_of, measure=first.measure, members=members, of=len(names))


def _bench(f: PublishedFigure, kind: str) -> Benchmark:
    return Benchmark(area=f.area, kind=kind, value=f.rate, unit=f.unit, as_of=f.as_of, measure=f.measure,
                     numerator=f.numerator, denominator=f.denominator)


def published_benchmarks(published: Published, config: Config, obsession: Obsession,
                         week: date) -> tuple[Benchmark, ...]:
    """The latest published figures in or before `week`: the city's, its neighbours' mean, region, England."""
    figs = [f for f in published.figures if f.obsession == obsession.key]
    if not figs:
        return ()
    until = week + timedelta(days=6)   # a figure dated within the tracker's week counts as on it
    out = []
    city = _latest(figs, config.city, until)
    if city:
        out.append(_bench(city, CITY))
    sn = _neighbour_mean(figs, neighbour_names(published, config), until)
    if sn:
        out.append(sn)
    region = region_name(published, config)
    r = _latest(figs, region, until) if region else None
    if r:
        out.append(_bench(r, REGION))
    n = _latest(figs, country_name(published), until)
    if n:
        out.append(_bench(n, COUNTRY))
    return tuple(out)


def weekly_benchmarks(published: Published, config: Config, obsession: Obsession, figures,
                      week: date) -> tuple[Benchmark, ...]:
    """For a weekly rate (absence): the city's, region's and England's figures for the tracker's week.

    Only where an import brought the region or England as weekly comparators (the DfE attendance file).
    """
    if not obsession.is_rate:
        return ()
    region = region_name(published, config)
    levels = {a.name: a.level for a in published.areas if a.level in (NATIONAL, REGIONAL)}
    wanted = [(config.city, CITY)] + [(a, REGION if lvl == REGIONAL else COUNTRY) for a, lvl in levels.items()
                                       if lvl == NATIONAL or region is None or a == region]
    out = []
    for area, kind in wanted:
        s = figures.series(obsession.key, area)
        i = s.index_at_or_before(week) if len(s) else None
        if i is None:
            continue
        num, den = float(s.numerators[i]), float(s.denominators[i])
        ok = num == num and den == den and den > 0
        value = 100.0 * num / den if ok else float(s.values[i])
        out.append(Benchmark(area=area, kind=kind, value=value, unit=PERCENT, as_of=s.week(i),
                             measure="% of sessions missed", numerator=num if ok else None,
                             denominator=den if ok else None))
    out.sort(key=lambda b: KIND_ORDER.index(b.kind))
    return tuple(out) if any(b.kind != CITY for b in out) else ()


def benchmarks_for(figures, config: Config, obsession: Obsession, week: date) -> tuple[Benchmark, ...]:
    """Every benchmark of one obsession for a week: published annual figures, else weekly comparators.

    Worked out once per table, obsession and week (every area's tracker shows the city's line).
    """
    published = published_of(figures)
    if published is EMPTY:
        return ()

    def build():
        return (published_benchmarks(published, config, obsession, week)
                or weekly_benchmarks(published, config, obsession, figures, week))

    memo = getattr(figures, "memo", None)
    if memo is None:
        return build()
    return memo(("benchmarks", obsession.key, week, config.city, config.benchmarks), build)


def build_comparison(figures, config: Config, obsession: Obsession, week: date | None = None,
                     illustrative: bool = False) -> Comparison:
    """The city's published figures year by year beside its neighbours' mean, its region and England."""
    from .errors import NotFound

    published = published_of(figures)
    figs = [f for f in published.figures if f.obsession == obsession.key
            and (week is None or f.as_of <= week + timedelta(days=6))]
    if not figs:
        raise NotFound(f'there are no published benchmarks for "{obsession.key}" yet; import the DfE file '
                       "with `obsession import --format dfe-cla FILE` (or dfe-neet)")
    names = neighbour_names(published, config)
    region = region_name(published, config)
    lines = []

    def line(area, kind, label):
        pts = sorted((f.as_of, f.rate) for f in figs if f.area == area)
        if pts:
            lines.append(CompareLine(label, kind, tuple(Point(d, v) for d, v in pts)))

    line(config.city, CITY, config.city)
    if names:
        dates = sorted({f.as_of for f in figs if f.area in names})
        pts, counts = [], []
        for d in dates:
            rates = [f.rate for f in figs if f.area in names and f.as_of == d]
            pts.append(Point(d, sum(rates) / len(rates)))
            counts.append(len(rates))
        if pts:
            lines.append(CompareLine("Statistical neighbours", NEIGHBOURS, tuple(pts), members=names,
                                     counts=tuple(counts)))
    if region:
        line(region, REGION, region)
    line(country_name(published), COUNTRY, country_name(published))
    first = figs[0]
    return Comparison(obsession=obsession, city=config.city, unit=first.unit, measure=first.measure,
                      lines=tuple(lines), week=week, illustrative=illustrative)


def events_for(published: Published, config: Config, obsession: Obsession, start: date,
               end: date) -> tuple[Event, ...]:
    """The events (configured and imported) for one obsession between two dates, oldest first."""
    pool = (*config.events, *published.events)
    seen, out = set(), []
    for e in sorted(pool, key=lambda e: (e.date, e.label)):
        if e.obsessions and obsession.key not in e.obsessions:
            continue
        if not start <= e.date <= end or (e.date, e.label) in seen:
            continue
        seen.add((e.date, e.label))
        out.append(e)
    return tuple(out)
