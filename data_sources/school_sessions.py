"""A weekly extract of each school's register totals into absence rates for the city and each cluster.

Columns week_commencing, urn, phase, possible_sessions, absence_sessions. Each area's rate is
recomputed from its summed sessions (never an average of schools' rates) into absence_primary and
absence_secondary, with numerator and denominator. A school not in the lookup counts in the city only.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from tracker.config import Config
from tracker.errors import ConfigError, InputError
from tracker.figures import monday_of

from . import records
from .lookups import Lookups, lookups_of
from .reading import read_table
from .validate import Checked, parse_numbers, parse_weeks

REQUIRED = ("week_commencing", "urn", "phase", "possible_sessions", "absence_sessions")
PHASES = {"primary": "absence_primary", "secondary": "absence_secondary"}
SCHOOL_REASONS = ("no URN", "school not in lookup", "outside the city")
_PHASE_SHOWN = re.compile(r"^[A-Za-z -]{1,20}$")


def read_school_sessions(path: str | Path, config: Config, today: date | None = None,
                         lookups: Lookups | None = None, sheet: str | None = None) -> Checked:
    """Check one sessions file and sum it into absence rates; ValidationFailed on a refusal."""
    today = today or date.today()
    path = Path(path)
    table = read_table(path, sheet=sheet, usecols=lambda c: c in REQUIRED)
    table.frame = table.frame[[c for c in table.frame.columns if c in REQUIRED]]
    label = table.label
    records.require_columns(table, REQUIRED, "school session files")
    f = table.frame
    f = f[~(f == "").all(axis=1)]
    table.frame = f
    if f.empty:
        raise InputError(f"{label}: there is a header but no schools; export the register totals again")

    bad = records.Problems(table)
    weeks, not_a_date, not_real = parse_weeks(f["week_commencing"])
    bad.add((f["week_commencing"] == "") | not_a_date | not_real, "week_commencing",
            "is not a date; give the Monday of the week as YYYY-MM-DD", 0)
    wv = weeks.to_numpy()
    bad.add(weeks.notna() & (weeks.dt.day_of_week != 0), "week_commencing",
            lambda p: f"is not a Monday; give the Monday of its week, {monday_of(pd.Timestamp(wv[p]).date()):%Y-%m-%d}", 0)
    bad.add(weeks.notna() & (weeks > pd.Timestamp(monday_of(today))), "week_commencing",
            f"is a week in the future (today is {today:%Y-%m-%d}); check the year", 0)
    phase = f["phase"].str.lower().map(PHASES)
    pv = f["phase"].to_numpy()
    bad.add(phase.isna(), "phase", lambda p: ("is empty" if not pv[p] else
            f"{records.shown_code(pv[p], _PHASE_SHOWN)} is not a phase") + '; use "primary" or "secondary"', 2)
    sessions = {}
    for order, col in ((3, "possible_sessions"), (4, "absence_sessions")):
        v, not_number = parse_numbers(f[col])
        bad.add((f[col] == "") | not_number, col, "is not a number of sessions; write digits only, e.g. 2840", order)
        bad.add(v < 0, col, "is negative; a number of sessions is 0 or more", order)
        bad.add((v >= 0) & (np.floor(v) != v), col, "is not a whole number; sessions are counted whole", order)
        sessions[col] = v
    possible, absent = sessions["possible_sessions"], sessions["absence_sessions"]
    bad.add(absent > possible, "absence_sessions",
            "is above possible_sessions; absence sessions are part of the possible sessions", 4)
    key = pd.DataFrame({"w": weeks, "u": f["urn"], "p": phase})
    dup = key.duplicated(keep="first") & weeks.notna() & phase.notna()
    if dup.any():
        firsts = key[key.duplicated(keep=False) & ~key.duplicated(keep="first")]
        first_of = {tuple(r): table.row_label(int(i)) for i, r in zip(firsts.index, firsts.itertuples(index=False))}
        dup_on = {int(p): first_of[tuple(key.iloc[p])] for p in np.flatnonzero(dup.to_numpy())}
        bad.add(dup, "urn", lambda p: f"the same school, phase and week are on {dup_on[p]} too; give each "
                "school's totals once a week", 1)
    bad.raise_if_any()

    missing = sorted({k for k in phase.unique() if not config.find_obsession(k)})
    if missing:
        raise ConfigError(f"{config.path}: obsessions: the file has {', '.join(missing)} sessions and the "
                          f"configuration has no such obsession; add [obsessions.{missing[0]}] (unit = \"percent\")")

    lookup = (lookups or lookups_of(config)).school_lookup(config)
    clusters = list(config.clusters) if lookup is not None else []
    notes = []
    area = np.full(len(f), -1)
    if lookup is not None:
        cluster, reason = lookup.match(f["urn"])
        area = cluster.map({c: k for k, c in enumerate(clusters)}).fillna(-1).astype(int).to_numpy()
        counts = reason.value_counts()
        schools = {r: int(key["u"][reason == r].nunique()) for r in SCHOOL_REASONS if counts.get(r, 0)}
        if schools:
            notes.append(f"{label}: {sum(schools.values())} school(s) counted in the city only, in no cluster ("
                         + ", ".join(f"{n} {r}" for r, n in schools.items())
                         + "); add them to the schools lookup if they belong to a cluster")
    else:
        notes.append(f"{label}: no [lookups] schools in the configuration, so the rates are for the city only")

    areas = [config.city, *clusters]
    week_list = np.array(sorted(weeks.dt.date.unique()), dtype="datetime64[D]")
    wi = np.searchsorted(week_list, weeks.to_numpy().astype("datetime64[D]"))
    n_w, n_a = len(week_list), len(areas)
    frames = []
    empty = 0
    for target in PHASES.values():
        rows = (phase == target).to_numpy()
        if not rows.any():
            continue
        num = np.zeros((n_w, n_a))
        den = np.zeros((n_w, n_a))
        np.add.at(num[:, 0], wi[rows], absent.to_numpy()[rows])
        np.add.at(den[:, 0], wi[rows], possible.to_numpy()[rows])
        inside = rows & (area >= 0)
        np.add.at(num, (wi[inside], area[inside] + 1), absent.to_numpy()[inside])
        np.add.at(den, (wi[inside], area[inside] + 1), possible.to_numpy()[inside])
        present = np.zeros((n_w, n_a), dtype=bool)
        present[:, 0] = np.bincount(wi[rows], minlength=n_w) > 0
        present[wi[inside], area[inside] + 1] = True
        keep = present & (den > 0)
        empty += int((present & (den == 0)).sum())
        value = np.where(keep, 100.0 * num / np.where(keep, den, 1), np.nan)
        frames.append(records.figures(week_list, target, areas, value, num, den, keep=keep))
    if empty:
        notes.append(f"{label}: {empty} figure(s) left out: no possible sessions that week (a closure or holiday)")
    notes.insert(0, f"{label}: {key['u'].nunique()} school(s) over {n_w} week(s) summed into "
                    + " and ".join(PHASES[p] for p in PHASES if (phase == PHASES[p]).any()))
    return records.checked(frames, table, notes)
