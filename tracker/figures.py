"""The figures as the arithmetic reads them: an index of weekly series by obsession and area."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

COLUMNS = ["week_commencing", "obsession", "area", "value", "numerator", "denominator"]


def monday_of(d: date) -> date:
    """The Monday of the week containing `d`."""
    return d - timedelta(days=d.weekday())


@dataclass(frozen=True)
class Series:
    """One obsession's weekly figures for one area, oldest first."""

    weeks: np.ndarray          # datetime64[D]
    values: np.ndarray         # float
    numerators: np.ndarray     # float, NaN where not given
    denominators: np.ndarray   # float, NaN where not given

    def __len__(self) -> int:
        return len(self.weeks)

    def index_at_or_before(self, week: date) -> int | None:
        """Position of the last figure in or before `week`, or None."""
        i = int(np.searchsorted(self.weeks, np.datetime64(week, "D"), side="right")) - 1
        return i if i >= 0 else None

    def index_of(self, week: date) -> int | None:
        """Position of the figure for exactly `week`, or None."""
        i = int(np.searchsorted(self.weeks, np.datetime64(week, "D")))
        if i < len(self.weeks) and self.weeks[i] == np.datetime64(week, "D"):
            return i
        return None

    def week(self, i: int) -> date:
        """The week of position `i` as a date."""
        return self.weeks[i].astype("datetime64[D]").astype(date)


_EMPTY = Series(np.array([], dtype="datetime64[D]"), np.array([]), np.array([]), np.array([]))


class FigureTable:
    """Read-only figures indexed by (obsession, area); built once from a long-format frame."""

    def __init__(self, frame: pd.DataFrame):
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"figures frame lacks columns {missing}")
        f = frame[COLUMNS].copy()
        f["week_commencing"] = pd.to_datetime(f["week_commencing"]).dt.normalize()
        for c in ("value", "numerator", "denominator"):
            f[c] = pd.to_numeric(f[c], errors="coerce").astype(float)
        f = f.sort_values(["obsession", "area", "week_commencing"], kind="mergesort")
        self._series: dict[tuple[str, str], Series] = {}
        for (obs, area), g in f.groupby(["obsession", "area"], sort=False):
            self._series[(str(obs), str(area))] = Series(
                g["week_commencing"].to_numpy(dtype="datetime64[D]"),
                g["value"].to_numpy(), g["numerator"].to_numpy(), g["denominator"].to_numpy(),
            )
        weeks = f["week_commencing"].to_numpy(dtype="datetime64[D]")
        self._all_weeks = np.unique(weeks)
        self._cache: dict = {}
        self.frame = f

    @classmethod
    def from_records(cls, records) -> "FigureTable":
        """A table from an iterable of (week, obsession, area, value[, numerator, denominator])."""
        rows = [tuple(r) + (None,) * (6 - len(r)) for r in records]
        return cls(pd.DataFrame(rows, columns=COLUMNS))

    def series(self, obsession: str, area: str) -> Series:
        """The weekly series for one obsession and area (empty when there is none)."""
        return self._series.get((obsession, area), _EMPTY)

    def weeks(self) -> list[date]:
        """Every week that has at least one figure, oldest first."""
        return [w.astype(date) for w in self._all_weeks]

    def latest_week(self) -> date | None:
        """The newest week with any figure."""
        return self._all_weeks[-1].astype(date) if len(self._all_weeks) else None

    def has_week(self, week: date) -> bool:
        """True when any figure is for `week`."""
        i = np.searchsorted(self._all_weeks, np.datetime64(week, "D"))
        return bool(i < len(self._all_weeks) and self._all_weeks[i] == np.datetime64(week, "D"))

    def matrix(self, obsession: str, areas: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(weeks, values[weeks x areas]) for one obsession; NaN where an area has no figure."""
        key = ("matrix", obsession, areas)
        if key not in self._cache:
            weeks = self._all_weeks
            m = np.full((len(weeks), len(areas)), np.nan)
            for j, a in enumerate(areas):
                s = self.series(obsession, a)
                if len(s):
                    m[np.searchsorted(weeks, s.weeks), j] = s.values
            self._cache[key] = (weeks, m)
        return self._cache[key]

    def memo(self, key, build):
        """Memoise a derived, immutable result on this table (the table never changes)."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]


def combine(values, numerators=None, denominators=None, unit: str = "count") -> tuple[float, float | None, float | None]:
    """Combine figures of several areas or weeks: counts add; rates are recomputed from their parts.

    A rate is never averaged: 100 x sum(numerators) / sum(denominators). Raises ValueError when a
    rate lacks its numerator or denominator, because no honest combination exists without them.
    """
    vals = np.asarray(values, dtype=float)
    if unit == "count":
        return float(np.nansum(vals)), None, None
    num = np.asarray(numerators if numerators is not None else [np.nan] * len(vals), dtype=float)
    den = np.asarray(denominators if denominators is not None else [np.nan] * len(vals), dtype=float)
    if np.isnan(num).any() or np.isnan(den).any():
        raise ValueError("a rate can only be combined from numerators and denominators; some are missing")
    total_den = den.sum()
    if total_den <= 0:
        raise ValueError("the denominators add up to zero")
    return float(100.0 * num.sum() / total_den), float(num.sum()), float(total_den)
