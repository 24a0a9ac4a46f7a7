"""The frozen Tracker model that every renderer and channel draws; no arithmetic, no I/O."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .config import Event, Obsession  # noqa: F401  (Event: the curve's events, declared with [[events]])

BETTER, WORSE, SAME = "better", "worse", "same"

# Names of the cells of a row that suppression can withhold.
LATEST = "latest"
CHANGE_WEEK = "change_since_last_week"
BASELINE = "baseline_value"
CHANGE_BASELINE = "change_since_baseline"
PERCENT_BASELINE = "percent_change_since_baseline"
FORECAST_GAP = "forecast_gap"


@dataclass(frozen=True)
class Point:
    """One week of a series; value None where the figure is withheld."""

    week: date
    value: float | None
    # A rate's parts (None when withheld or not given), so a rolling rate is recomputed, never averaged.
    numerator: float | None = None
    denominator: float | None = None


@dataclass(frozen=True)
class Benchmark:
    """One published figure beside the tracker: the city's own, its neighbours' mean, region or England."""

    area: str
    kind: str                    # "city", "statistical_neighbours", "region" or "national"
    value: float                 # as computed: rounding is for display only
    unit: str                    # "per10k" or "percent"
    as_of: date                  # 31 March for a CLA count, end of February for NEET, the Monday for weekly
    measure: str = ""            # "per 10,000 children", "% of 16-17-year-olds NEET"
    members: tuple[str, ...] = ()  # the neighbours whose rates were averaged
    of: int = 0                  # how many neighbours there are (members may be fewer)
    numerator: float | None = None
    denominator: float | None = None


@dataclass(frozen=True)
class Forecast:
    """The turn-the-curve line: a straight-line continuation of the history before the plan.

    Not a prediction: it says where the figure would be had the pre-plan trend simply gone on.
    """

    fitted_from: date
    fitted_to: date
    weeks_fitted: int
    slope_per_year: float
    value_at_week: float
    gap: float | None            # actual minus forecast; None when withheld
    description: str             # "about 520 fewer children looked after than the pre-plan trend"
    line: tuple[Point, ...] = ()  # forecast values from the fitted start to the week
    verdict: str | None = None   # the gap judged by the obsession's direction (better | worse | same); None when withheld


@dataclass(frozen=True)
class TrackerRow:
    """One obsession's line of the tracker for one week and one area."""

    obsession: Obsession
    latest: float | None
    latest_week: date | None
    previous_week: date | None
    previous_value: float | None
    change_since_last_week: float | None
    baseline_week: date
    baseline_value: float | None
    change_since_baseline: float | None
    percent_change_since_baseline: float | None
    verdict_since_last_week: str | None
    verdict_since_baseline: str | None
    withheld: frozenset[str] = frozenset()
    series: tuple[Point, ...] = ()
    forecast: Forecast | None = None
    note: str = ""               # e.g. "no figure this week (school holiday)"
    rate_per_10000: float | None = None      # a count over the area's children 0-17, when populations exist
    benchmarks: tuple[Benchmark, ...] = ()   # the latest published figures on or before the week

    @property
    def suppressed(self) -> bool:
        """True when the latest figure is withheld for small numbers."""
        return LATEST in self.withheld

    @property
    def previous_is_adjacent(self) -> bool:
        """True when the comparison week is the week just before the latest figure's week."""
        if self.previous_week is None or self.latest_week is None:
            return True
        return (self.latest_week - self.previous_week).days == 7


@dataclass(frozen=True)
class Tracker:
    """The whole one-page tracker for one week and one area: the 'Thing of Beauty'."""

    week: date
    area: str
    area_kind: str               # "city", "cluster" or "comparator"
    city: str
    baseline_label: str
    rows: tuple[TrackerRow, ...]
    sender: str = ""
    illustrative: bool = False
    suppress_below: int = 5

    @property
    def title(self) -> str:
        """The heading: 'Weekly obsessions tracker' and the area when it is not the city."""
        return "Weekly obsessions tracker" + ("" if self.area_kind == "city" else f": {self.area}")

    def row(self, key: str) -> TrackerRow:
        """The row of the obsession with this key."""
        for r in self.rows:
            if r.obsession.key == key:
                return r
        raise KeyError(key)


@dataclass(frozen=True)
class BreakdownRow:
    """One cluster's figures for one obsession and week, with its rank by progress."""

    area: str
    latest: float | None
    change_since_last_week: float | None
    baseline_value: float | None
    change_since_baseline: float | None
    percent_change_since_baseline: float | None
    verdict_since_last_week: str | None
    verdict_since_baseline: str | None
    withheld: frozenset[str] = frozenset()
    rank: int | None = None      # 1 = most progress since the baseline; None when withheld
    lagging: bool = False
    rate_per_10000: float | None = None

    @property
    def suppressed(self) -> bool:
        """True when the latest figure is withheld for small numbers."""
        return LATEST in self.withheld


@dataclass(frozen=True)
class Breakdown:
    """One obsession for one week across every cluster, ranked, with the city beside them."""

    week: date
    obsession: Obsession
    city: BreakdownRow
    rows: tuple[BreakdownRow, ...]
    previous_week: date | None
    baseline_week: date
    baseline_label: str
    lagging_rule: str
    suppress_below: int = 5
    illustrative: bool = False
    sender: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    benchmarks: tuple[Benchmark, ...] = ()   # the city's published line, shown under its row

    @property
    def title(self) -> str:
        """The heading of the breakdown."""
        return f"{self.obsession.label} by cluster"


@dataclass(frozen=True)
class Curve:
    """The turn-the-curve chart of one obsession in one area: history, baseline, forecast, actual."""

    week: date
    area: str
    obsession: Obsession
    baseline_week: date
    baseline_value: float | None
    baseline_label: str
    history: tuple[Point, ...]       # every weekly figure from the forecast's fitted start to the week
    forecast: Forecast | None
    illustrative: bool = False
    events: tuple[Event, ...] = ()   # initiatives marked on the chart


@dataclass(frozen=True)
class CompareLine:
    """One area's published figures year by year (the neighbours' line is the mean of their rates)."""

    label: str
    kind: str
    points: tuple[Point, ...]
    members: tuple[str, ...] = ()
    counts: tuple[int, ...] = ()     # for the neighbours' mean: how many rates each point averages


@dataclass(frozen=True)
class Comparison:
    """How the city compares: its published rate beside its neighbours' mean, its region and England."""

    obsession: Obsession
    city: str
    unit: str
    measure: str
    lines: tuple[CompareLine, ...]
    week: date | None = None
    illustrative: bool = False
