"""The arithmetic of the tracker: pure functions from figures and configuration to the model."""
from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np

from .config import Config, Obsession
from .errors import NotFound
from .figures import FigureTable, Series, monday_of
from .model import (
    BASELINE,
    BETTER,
    CHANGE_BASELINE,
    CHANGE_WEEK,
    FORECAST_GAP,
    LATEST,
    PERCENT_BASELINE,
    SAME,
    WORSE,
    Breakdown,
    BreakdownRow,
    Curve,
    Forecast,
    Point,
    Tracker,
    TrackerRow,
)
from .suppression import withheld_mask

MIN_FORECAST_POINTS = 8
BASELINE_SEARCH_DAYS = 28   # a baseline week without a figure takes the first figure within 4 weeks


def verdict(change: float | None, obsession: Obsession) -> str | None:
    """'better', 'worse' or 'same' for a change, judged by the obsession's direction.

    Judged on the change as shown (rounded to the obsession's places), so '+0.0' is never 'worse'.
    """
    if change is None:
        return None
    shown = round(change, obsession.decimals)
    if shown == 0:
        return SAME
    falling = shown < 0
    return BETTER if falling == (obsession.direction == "reduce") else WORSE


def resolve_week(figures: FigureTable, requested: date | None) -> date:
    """The Monday of `requested`, or the latest week with figures; NotFound when it has none."""
    latest = figures.latest_week()
    if latest is None:
        raise NotFound("there are no figures in the store yet; run `obsession demo` or `obsession import FILE`")
    if requested is None:
        return latest
    week = monday_of(requested)
    if not figures.has_week(week):
        weeks = figures.weeks()
        near = min(weeks, key=lambda w: abs((w - week).days))
        raise NotFound(f"there are no figures for the week commencing {week:%Y-%m-%d}; figures exist for "
                       f"{weeks[0]:%Y-%m-%d} to {weeks[-1]:%Y-%m-%d} (nearest: {near:%Y-%m-%d})")
    return week


def _mask_for(figures: FigureTable, config: Config, obsession: Obsession):
    """(weeks, {cluster: mask column}) of withheld counts for one obsession, memoised per table."""
    def build():
        weeks, m = figures.matrix(obsession.key, config.clusters)
        mask = withheld_mask(m, config.suppress_below)
        return weeks, {a: mask[:, j] for j, a in enumerate(config.clusters)}
    return figures.memo(("mask", obsession.key, config.clusters, config.suppress_below), build)


class _Withheld:
    """Answers 'is this area's figure for this week withheld?' for one obsession."""

    def __init__(self, figures: FigureTable, config: Config, obsession: Obsession, area: str):
        self.active = (not obsession.is_rate and config.area_kind(area) == "cluster"
                       and config.suppress_below > 1)
        if self.active:
            self.weeks, masks = _mask_for(figures, config, obsession)
            self.col = masks[area]

    def at(self, week: date | None) -> bool:
        if not self.active or week is None:
            return False
        i = int(np.searchsorted(self.weeks, np.datetime64(week, "D")))
        return bool(i < len(self.weeks) and self.weeks[i] == np.datetime64(week, "D") and self.col[i])

    def series_mask(self, s: Series) -> np.ndarray:
        if not self.active or not len(s):
            return np.zeros(len(s), dtype=bool)
        return self.col[np.searchsorted(self.weeks, s.weeks)]


def _baseline_index(s: Series, baseline_week: date) -> int | None:
    i = int(np.searchsorted(s.weeks, np.datetime64(baseline_week, "D")))
    limit = np.datetime64(baseline_week + timedelta(days=BASELINE_SEARCH_DAYS), "D")
    return i if i < len(s.weeks) and s.weeks[i] <= limit else None


def _rate(s: Series, i: int) -> float:
    """A rate recomputed from its numerator and denominator when both are stored."""
    num, den = s.numerators[i], s.denominators[i]
    if not (math.isnan(num) or math.isnan(den)) and den > 0:
        return float(100.0 * num / den)
    return float(s.values[i])


def _value(s: Series, i: int, obsession: Obsession) -> float:
    return _rate(s, i) if obsession.is_rate else float(s.values[i])


def _values(s: Series, obsession: Obsession) -> np.ndarray:
    """Every value of a series at once; rates recomputed from their parts where both are stored."""
    if not obsession.is_rate:
        return s.values
    with np.errstate(divide="ignore", invalid="ignore"):
        parts = 100.0 * s.numerators / s.denominators
    ok = ~np.isnan(parts) & (s.denominators > 0)
    return np.where(ok, parts, s.values)


def forecast(s: Series, obsession: Obsession, week: date, actual: float | None,
             gap_withheld: bool = False) -> Forecast | None:
    """The pre-plan trend: a least-squares line through the years before the baseline, continued.

    A straight-line continuation of the history before the plan, not a prediction. None when
    there are fewer than eight figures to fit.
    """
    start = obsession.baseline_week - timedelta(days=round(365.25 * obsession.forecast_years))
    lo = int(np.searchsorted(s.weeks, np.datetime64(start, "D")))
    hi = int(np.searchsorted(s.weeks, np.datetime64(obsession.baseline_week, "D")))
    if hi - lo < MIN_FORECAST_POINTS:
        return None
    origin = np.datetime64(obsession.baseline_week, "D")
    x = (s.weeks[lo:hi] - origin).astype(float)
    y = _values(s, obsession)[lo:hi]
    slope, intercept = np.polyfit(x, y, 1)
    projected = float(intercept + slope * (week - obsession.baseline_week).days)
    gap = None if (actual is None or gap_withheld) else actual - projected
    step = max(1, (week - s.week(lo)).days // 7 // 120) * 7   # at most ~120 points in the line
    days = np.arange(np.datetime64(s.week(lo), "D"), np.datetime64(week, "D") + 1, step)
    line = [Point(d, float(v)) for d, v in zip(days.tolist(), intercept + slope * (days - origin).astype(float))]
    return Forecast(
        fitted_from=s.week(lo), fitted_to=s.week(hi - 1), weeks_fitted=hi - lo,
        slope_per_year=float(slope * 365.25), value_at_week=projected, gap=gap,
        description=describe_gap(gap, obsession), line=tuple(line),
        verdict=verdict(gap, obsession) if gap is not None else None,
    )


def describe_gap(gap: float | None, obsession: Obsession) -> str:
    """The gap between actual and pre-plan trend in words, e.g. 'about 520 fewer ... than the pre-plan trend'."""
    if gap is None:
        return "the gap to the pre-plan trend is withheld (small numbers)"
    if obsession.is_rate:
        size = round(abs(gap), 1)
        if size == 0:
            return f"{obsession.noun} is on the pre-plan trend"
        side = "below" if gap < 0 else "above"
        return f"{obsession.noun} {size:.1f} points {side} the pre-plan trend"
    size = abs(gap)
    size = int(round(size, -1)) if size >= 100 else int(round(size))
    if size == 0:
        return f"{obsession.noun} on the pre-plan trend"
    side = "fewer" if gap < 0 else "more"
    return f"about {size:,} {side} {obsession.noun} than the pre-plan trend"


def _points(s: Series, obsession: Obsession, hidden: np.ndarray, lo: int, hi: int) -> tuple[Point, ...]:
    """Points lo..hi-1 of a series, withheld ones as None."""
    values = _values(s, obsession)[lo:hi].tolist()
    hid = hidden[lo:hi]
    if hid.any():
        values = [None if h else v for v, h in zip(values, hid.tolist())]
    if obsession.is_rate:   # with their parts, for rolling rates (tracker/rolling.py); withheld weeks' stay hidden
        nums, dens = s.numerators[lo:hi].tolist(), s.denominators[lo:hi].tolist()
        parts = [(None, None) if v is None or math.isnan(n) or math.isnan(d) else (n, d)
                 for v, n, d in zip(values, nums, dens)]
        return tuple(Point(w, v, n, d) for w, v, (n, d) in zip(s.weeks[lo:hi].tolist(), values, parts))
    # map() over the two lists: the same Points, built with less per-point interpreter work.
    return tuple(map(Point, s.weeks[lo:hi].tolist(), values))


def _row(figures: FigureTable, config: Config, obsession: Obsession, area: str, week: date,
         with_series: bool = True, with_forecast: bool | None = None) -> TrackerRow:
    s = figures.series(obsession.key, area)
    held = _Withheld(figures, config, obsession, area)
    i = s.index_at_or_before(week) if len(s) else None
    b = _baseline_index(s, obsession.baseline_week)
    baseline_week = s.week(b) if b is not None else obsession.baseline_week
    baseline = _value(s, b, obsession) if b is not None else None
    if i is None:
        return TrackerRow(obsession, None, None, None, None, None, baseline_week, baseline, None, None,
                          None, None, frozenset(), (), None, f"no figure for {area} yet")

    latest_week = s.week(i)
    latest = _value(s, i, obsession)
    prev_week = s.week(i - 1) if i > 0 else None
    prev = _value(s, i - 1, obsession) if i > 0 else None
    note = ""
    if latest_week != week:
        why = " (no school figures: holiday)" if obsession.term_time_only else ""
        note = f"no figure this week{why}; latest is for the week commencing {latest_week:%-d %B %Y}"

    withheld = set()
    if held.at(latest_week):
        withheld |= {LATEST, CHANGE_WEEK, CHANGE_BASELINE, PERCENT_BASELINE, FORECAST_GAP}
    if held.at(prev_week):
        withheld.add(CHANGE_WEEK)
    if held.at(baseline_week if b is not None else None):
        withheld |= {BASELINE, CHANGE_BASELINE, PERCENT_BASELINE}

    change_week = latest - prev if prev is not None else None
    change_base = latest - baseline if baseline is not None else None
    pct = None
    if change_base is not None and not obsession.is_rate and baseline:
        pct = 100.0 * change_base / baseline

    series: tuple[Point, ...] = ()
    if with_series:
        start = b if b is not None else i
        series = _points(s, obsession, held.series_mask(s), start, i + 1)
    fc = None
    if with_series if with_forecast is None else with_forecast:
        fc = forecast(s, obsession, latest_week, latest, gap_withheld=LATEST in withheld)

    def keep(name, v):
        return None if name in withheld else v

    return TrackerRow(
        obsession=obsession,
        latest=keep(LATEST, latest), latest_week=latest_week,
        previous_week=prev_week, previous_value=None if (LATEST in withheld or CHANGE_WEEK in withheld) else prev,
        change_since_last_week=keep(CHANGE_WEEK, change_week),
        baseline_week=baseline_week, baseline_value=keep(BASELINE, baseline),
        change_since_baseline=keep(CHANGE_BASELINE, change_base),
        percent_change_since_baseline=keep(PERCENT_BASELINE, pct),
        verdict_since_last_week=verdict(keep(CHANGE_WEEK, change_week), obsession),
        verdict_since_baseline=verdict(keep(CHANGE_BASELINE, change_base), obsession),
        withheld=frozenset(withheld), series=series, forecast=fc, note=note,
    )


def canonical_area(figures: FigureTable, config: Config, name: str) -> str:
    """The configured spelling of an area, or an area a benchmark import brought (England, the region,
    a statistical neighbour); NotFound listing all of them otherwise."""
    from .benchmarks import known_areas, published_of
    from .errors import unknown

    extra = known_areas(published_of(figures), config)
    for a in (*config.areas, *extra):
        if a.lower() == name.strip().lower():
            return a
    raise unknown("area", name, (*config.areas, *extra))


def _with_benchmarks(figures: FigureTable, config: Config, row: TrackerRow, area: str, week: date) -> TrackerRow:
    """The row with its rate per 10,000 children (counts, where populations exist) and its benchmarks."""
    from dataclasses import replace

    from .benchmarks import area_rate, benchmarks_for, published_of

    published = published_of(figures)
    marks = benchmarks_for(figures, config, row.obsession, week)
    rate = None
    # Per 10,000 children (0-17) for counts of children; not where the published measure is a
    # percentage of another group (NEET: of 16-17-year-olds), which a rate of all children would not match.
    if not row.obsession.is_rate and row.latest_week is not None and all(b.unit != "percent" for b in marks):
        rate = area_rate(published, area, row.latest, row.latest_week)
    if rate is None and not marks:
        return row
    return replace(row, rate_per_10000=rate, benchmarks=marks)


def build_tracker(figures: FigureTable, config: Config, week: date | None = None,
                  area: str | None = None, obsessions=None) -> Tracker:
    """The tracker for one week (default: the latest) and one area (default: the city).

    `obsessions` (keys or aliases) keeps only those rows, in the configuration's order, and builds
    no others: a chat answer about one obsession need not work out all four.
    """
    area = canonical_area(figures, config, area) if area else config.city
    week = resolve_week(figures, week)
    wanted = None if obsessions is None else {config.obsession(k).key for k in obsessions}
    rows = tuple(_with_benchmarks(figures, config, _row(figures, config, o, area, week), area, week)
                 for o in config.obsessions if wanted is None or o.key in wanted)
    return Tracker(week=week, area=area, area_kind=config.area_kind(area), city=config.city,
                   baseline_label=config.baseline_label, rows=rows, sender=config.sender,
                   illustrative=config.illustrative, suppress_below=config.suppress_below)


def progress_score(row, obsession: Obsession) -> float | None:
    """Progress since the baseline, larger is better: % change for counts, points for rates."""
    change = row.change_since_baseline if obsession.is_rate else row.percent_change_since_baseline
    if change is None:
        return None
    return -change if obsession.direction == "reduce" else change


def build_breakdown(figures: FigureTable, config: Config, obsession_key: str,
                    week: date | None = None) -> Breakdown:
    """One obsession across every cluster for one week: ranked by progress, laggards flagged."""
    obsession = config.obsession(obsession_key)
    week = resolve_week(figures, week)
    city = _with_benchmarks(figures, config, _row(figures, config, obsession, config.city, week, with_series=False),
                            config.city, week)
    rows = [_with_benchmarks(figures, config, _row(figures, config, obsession, a, week, with_series=False), a, week)
            for a in config.clusters]
    scored = [(progress_score(r, obsession), a, r) for a, r in zip(config.clusters, rows)]
    ranked = sorted([t for t in scored if t[0] is not None], key=lambda t: (-t[0], t[1]))
    unranked = sorted([t for t in scored if t[0] is None], key=lambda t: t[1])
    city_score = progress_score(city, obsession)
    n_lag = math.ceil(len(ranked) / 4)
    out = []
    for rank, (score, area, r) in enumerate(ranked, start=1):
        lagging = rank > len(ranked) - n_lag and (city_score is None or round(score, 1) < round(city_score, 1))
        out.append(_breakdown_row(area, r, rank, lagging))
    out += [_breakdown_row(area, r, None, False) for _, area, r in unranked]
    measure = "% change" if not obsession.is_rate else "change in points"
    rule = (f"ranked by progress since the {config.baseline_label} ({measure}); lagging: the bottom "
            f"quarter of ranked clusters whose progress is also behind the city's")
    notes = []
    if any(r.withheld for r in out):
        notes.append(f'"c": withheld because a count is below {config.suppress_below}, or because it '
                     "would let a withheld count be worked out from the city total")
    return Breakdown(week=week, obsession=obsession, city=_breakdown_row(config.city, city, None, False),
                     rows=tuple(out), previous_week=city.previous_week, baseline_week=city.baseline_week,
                     baseline_label=config.baseline_label, lagging_rule=rule,
                     suppress_below=config.suppress_below, illustrative=config.illustrative,
                     sender=config.sender, notes=tuple(notes), benchmarks=city.benchmarks)


def _breakdown_row(area: str, r: TrackerRow, rank: int | None, lagging: bool) -> BreakdownRow:
    return BreakdownRow(area=area, latest=r.latest, change_since_last_week=r.change_since_last_week,
                        baseline_value=r.baseline_value, change_since_baseline=r.change_since_baseline,
                        percent_change_since_baseline=r.percent_change_since_baseline,
                        verdict_since_last_week=r.verdict_since_last_week,
                        verdict_since_baseline=r.verdict_since_baseline, withheld=r.withheld,
                        rank=rank, lagging=lagging, rate_per_10000=r.rate_per_10000)


def build_curve(figures: FigureTable, config: Config, obsession_key: str, area: str | None = None,
                week: date | None = None) -> Curve:
    """The turn-the-curve chart's model: the weekly history with withheld weeks as gaps, and the forecast."""
    obsession = config.obsession(obsession_key)
    area = canonical_area(figures, config, area) if area else config.city
    week = resolve_week(figures, week)
    # The row with its forecast but not its series: the chart draws its own, longer history.
    row = _row(figures, config, obsession, area, week, with_series=False, with_forecast=True)
    s = figures.series(obsession.key, area)
    hidden = _Withheld(figures, config, obsession, area).series_mask(s)
    start = row.forecast.fitted_from if row.forecast else obsession.baseline_week
    end = row.latest_week or week
    lo = int(np.searchsorted(s.weeks, np.datetime64(start, "D")))
    hi = int(np.searchsorted(s.weeks, np.datetime64(end, "D"), side="right"))
    history = _points(s, obsession, hidden, lo, hi)
    return Curve(week=week, area=area, obsession=obsession, baseline_week=row.baseline_week,
                 baseline_value=row.baseline_value, baseline_label=config.baseline_label,
                 history=history, forecast=row.forecast, illustrative=config.illustrative,
                 events=_events(figures, config, obsession, history, end))


def _events(figures: FigureTable, config: Config, obsession: Obsession, history, end: date):
    from .benchmarks import events_for, published_of

    start = history[0].week if history else obsession.baseline_week
    return events_for(published_of(figures), config, obsession, start, end + timedelta(days=6))


def build_compare(figures: FigureTable, config: Config, obsession_key: str, week: date | None = None):
    """How the city compares: its published figures year by year beside its neighbours, region and England."""
    from .benchmarks import build_comparison

    obsession = config.obsession(obsession_key)
    week = resolve_week(figures, week)
    return build_comparison(figures, config, obsession, week, illustrative=config.illustrative)
