"""Synthetic weekly figures for the demo: illustrative, not Leeds' data.

Shaped like the story in the seed documents: children looked after rising to about 1,450 by 2011
and falling to about 1,250 by 2015; NEET down by about 480 over the plan; absence down about two
points. The published tracker for the week commencing 20 July 2015 is reproduced exactly. Every
week's figures come from a generator seeded by that week, so a later run adds weeks and never
changes old ones.
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from .config import Config
from .figures import COLUMNS, monday_of

FIRST_WEEK = date(2009, 4, 6)
SOURCE = "demo (synthetic, illustrative)"

# City anchors (week, value); between them the line is straight, plus weekly noise.
CITY_ANCHORS = {
    "cla": [(date(2009, 4, 6), 1250), (date(2011, 4, 4), 1422), (date(2011, 9, 5), 1452),
            (date(2013, 6, 3), 1330), (date(2015, 7, 20), 1247), (date(2018, 4, 2), 1270),
            (date(2021, 4, 5), 1335), (date(2024, 4, 1), 1300), (date(2027, 4, 5), 1290)],
    "neet": [(date(2009, 4, 6), 2150), (date(2011, 4, 4), 2074), (date(2013, 4, 1), 1850),
             (date(2015, 7, 20), 1595), (date(2019, 4, 1), 1420), (date(2023, 4, 3), 1380),
             (date(2027, 4, 5), 1350)],
    "absence_primary": [(date(2009, 4, 6), 6.6), (date(2011, 4, 4), 6.3), (date(2013, 4, 1), 5.2),
                        (date(2015, 7, 20), 4.4), (date(2019, 4, 1), 4.1), (date(2022, 4, 4), 5.8),
                        (date(2027, 4, 5), 5.0)],
    "absence_secondary": [(date(2009, 4, 6), 9.9), (date(2011, 4, 4), 9.7), (date(2013, 4, 1), 8.4),
                          (date(2015, 7, 20), 7.2), (date(2019, 4, 1), 7.0), (date(2022, 4, 4), 9.6),
                          (date(2027, 4, 5), 8.8)],
}
NOISE = {"cla": 4.0, "neet": 12.0, "absence_primary": 0.35, "absence_secondary": 0.45}

# The published tracker (Figure 2) and the weeks around it, reproduced exactly.
EXACT = {
    ("cla", date(2011, 4, 4)): 1422, ("cla", date(2015, 7, 13)): 1252, ("cla", date(2015, 7, 20)): 1247,
    ("neet", date(2011, 4, 4)): 2074, ("neet", date(2015, 7, 13)): 1588, ("neet", date(2015, 7, 20)): 1595,
    ("absence_primary", date(2011, 4, 4)): 6.3, ("absence_primary", date(2015, 7, 13)): 3.8,
    ("absence_primary", date(2015, 7, 20)): 4.4,
    ("absence_secondary", date(2011, 4, 4)): 9.7, ("absence_secondary", date(2015, 7, 13)): 10.5,
    ("absence_secondary", date(2015, 7, 20)): 7.2,
}

# Possible sessions a week in the city (pupils x 10 half-days), primary and secondary.
SESSIONS = {"absence_primary": 600_000, "absence_secondary": 420_000}
SMALL_CLUSTERS = {"Headingley": 0.0032, "Wetherby": 0.008}


def _easter(year: int) -> date:
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l) // 451
    month = (h + l - 7 * m + 114) // 31
    day = (h + l - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def is_school_holiday(week: date) -> bool:
    """True for the demo's school-holiday weeks (summer, Christmas, Easter and half-terms)."""
    m, d = week.month, week.day
    if (m == 7 and d >= 23) or m == 8 or (m == 9 and d <= 1):
        return True
    if (m == 12 and d >= 21) or (m == 1 and d <= 3):
        return True
    easter = _easter(week.year)
    if week in (easter - timedelta(days=6), easter + timedelta(days=1)):
        return True
    if m == 10 and 24 <= d <= 30:          # October half-term
        return True
    if m == 2 and 15 <= d <= 21:           # February half-term
        return True
    return m == 5 and 25 <= d <= 31        # May half-term (the week of the late bank holiday)


def _city_value(key: str, week: date, rng: np.random.Generator) -> float:
    if (key, week) in EXACT:
        return float(EXACT[(key, week)])
    xs = [a.toordinal() for a, _ in CITY_ANCHORS[key]]
    ys = [v for _, v in CITY_ANCHORS[key]]
    base = float(np.interp(week.toordinal(), xs, ys))
    return base + rng.normal(0, NOISE[key])


def _weights(config: Config, rng_fixed: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n = len(config.clusters)
    base = rng_fixed.uniform(0.6, 1.5, n)
    trend = rng_fixed.uniform(-0.05, 0.05, n)      # some clusters make more progress than others
    for j, name in enumerate(config.clusters):
        if name in SMALL_CLUSTERS:
            base[j] = 0.0
    base = base / base.sum()
    for j, name in enumerate(config.clusters):
        if name in SMALL_CLUSTERS:
            base[j] = SMALL_CLUSTERS[name]
            trend[j] = 0.0
    return base, trend


def _split(total: int, weights: np.ndarray) -> np.ndarray:
    """Whole numbers in proportion to `weights` that add up to exactly `total` (largest remainder)."""
    raw = total * weights / weights.sum()
    out = np.floor(raw).astype(int)
    short = total - out.sum()
    out[np.argsort(-(raw - out), kind="stable")[:short]] += 1
    return out


def demo_frame(config: Config, until: date | None = None) -> pd.DataFrame:
    """The demo's long-format figures from April 2009 to the week of `until` (default: today)."""
    last = monday_of(until or date.today())
    clusters = config.clusters
    base_w, trend_w = _weights(config, np.random.default_rng(2011))
    factors = np.random.default_rng(2015).uniform(0.75, 1.3, len(clusters))  # absence by area
    rows: list[tuple] = []
    week = FIRST_WEEK
    keys = [o.key for o in config.obsessions if o.key in CITY_ANCHORS]
    while week <= last:
        rng = np.random.default_rng(week.toordinal())
        years = (week - date(2011, 4, 4)).days / 365.25
        w = base_w * (1 + trend_w * years) * rng.uniform(0.93, 1.07, len(clusters))
        for j, name in enumerate(clusters):
            if name in SMALL_CLUSTERS:
                w[j] = SMALL_CLUSTERS[name] * rng.uniform(0.6, 1.4)
        for key in keys:
            city = _city_value(key, week, rng)
            if key in SESSIONS:
                if is_school_holiday(week):
                    continue
                rows += _rate_rows(week, key, config.city, clusters, city, w, factors, rng)
            else:
                total = int(round(city))
                rows.append((week, key, config.city, total, None, None))
                for name, v in zip(clusters, _split(total, w)):
                    rows.append((week, key, name, int(v), None, None))
        week += timedelta(days=7)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["source"] = SOURCE
    return frame


def _rate_rows(week, key, city_name, clusters, city_rate, w, factors, rng):
    dens = _split(int(SESSIONS[key] * rng.uniform(0.98, 1.02)), w)
    rates = city_rate * factors / np.average(factors, weights=dens) * rng.uniform(0.9, 1.1, len(dens))
    nums = np.round(rates * dens / 100).astype(int)
    # Make the city rate land on its value: move the difference onto the largest clusters.
    target = int(round(city_rate * dens.sum() / 100))
    diff = target - nums.sum()
    order = np.argsort(-dens)
    k = 0
    while diff != 0:
        j = order[k % 5]
        step = 1 if diff > 0 else -1
        if nums[j] + step >= 0:
            nums[j] += step
            diff -= step
        k += 1
    out = [(week, key, city_name, 100.0 * nums.sum() / dens.sum(), int(nums.sum()), int(dens.sum()))]
    for name, n, d in zip(clusters, nums, dens):
        out.append((week, key, name, 100.0 * n / d, int(n), int(d)))
    return out


# The real published figures the demo loads beside its synthetic weekly ones (tracker/published/,
# Open Government Licence v3.0): (import format, file), in the order they are imported.
PUBLISHED = (("dfe-sn", "sn_model_2025_wide_leeds.csv"),
             ("dfe-cla", "cla_number_and_rate_per_10k_children_leeds.csv"),
             ("ons-population", "ons_mid-year_population_estimates_leeds.csv"),
             ("dfe-neet", "UD_NEETNK_LA_dashboard_2025_leeds.csv"))


def published_files():
    """(format, path) of each published file the demo imports."""
    from importlib import resources

    folder = resources.files("tracker").joinpath("published")
    return [(fmt, folder.joinpath(name)) for fmt, name in PUBLISHED]
