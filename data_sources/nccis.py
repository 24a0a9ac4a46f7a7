"""The NEET cohort extract a council sends NCCIS each month (one snapshot) into NEET and not-known figures.

Cohort: academic age 16 or 17, leaving out activity code 710 (custody). NEET: 540, 610, 615,
616, 619 and 620-680. Not known: 810, 820, 830. The figures belong to the week containing the
snapshot date, for the city and each cluster by postcode; the young people are counted and let go.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from tracker.config import Config
from tracker.errors import InputError
from tracker.figures import monday_of

from . import records
from .lookups import Lookups, lookups_of
from .reading import read_table
from .ssda903 import target_obsession
from .validate import Checked, parse_weeks

REQUIRED = ("young_person_id", "academic_age", "activity_code", "postcode")
OPTIONAL = ("snapshot_date",)
COHORT_AGES = (16, 17)
CUSTODY = 710
NEET = (540, 610, 615, 616, 619, 620, 630, 640, 650, 660, 670, 680)
NOT_KNOWN = (810, 820, 830)
# The NCCIS management information requirement's activity codes: education (1xx), employment (2xx),
# training (3xx), re-engagement and personal development (4xx, 5xx), NEET (6xx), other (7xx) and
# not known (8xx). A code outside this list is a typing error or a local code, refused.
ACTIVITY_CODES = frozenset((
    110, 120, 130, 140, 150, 160, 170, 180, 190,
    210, 220, 230, 240, 250, 260, 270, 280, 290,
    310, 320, 330, 340, 350, 360,
    410, 420, 430, 440, 450, 460,
    510, 520, 530, 540, 550,
    *NEET, CUSTODY, 720, *NOT_KNOWN,
))
NOT_KNOWN_KEY = "neet_not_known"
_CODE_SHOWN = re.compile(r"^\d{1,4}$")   # a code's shape: anything else is not shown


def _snapshot(table, f, as_of: date | None, bad: records.Problems) -> date | None:
    """The snapshot date: --as-of, or the file's snapshot_date column (one date for every row)."""
    if "snapshot_date" not in f.columns:
        if as_of is None:
            raise InputError(f"{table.label}: no snapshot_date column; give the date of the snapshot with "
                             "--as-of YYYY-MM-DD")
        return as_of
    dates, not_a_date, not_real = parse_weeks(f["snapshot_date"])
    bad.add((f["snapshot_date"] == "") | not_a_date | not_real, "snapshot_date",
            "is not a date; write it as YYYY-MM-DD or dd/mm/yyyy (one snapshot date for the whole file)", 4)
    found = sorted({d.date() for d in dates.dropna()})
    if len(found) > 1:
        first = dates.dropna().iloc[0]
        bad.add(dates.notna() & (dates != first), "snapshot_date",
                f"is not the snapshot date of the file's first row ({first:%Y-%m-%d}); one file is one snapshot, "
                "so split it into a file a date", 4)
    if as_of is not None and found and found[0] != as_of:
        raise InputError(f"--as-of {as_of:%Y-%m-%d} disagrees with the file's snapshot_date {found[0]:%Y-%m-%d}; "
                         "leave --as-of out, or correct the file")
    return found[0] if found else None


def read_nccis(path: str | Path, config: Config, obsession: str | None = None, as_of: date | None = None,
               today: date | None = None, lookups: Lookups | None = None, sheet: str | None = None) -> Checked:
    """Check one cohort file and count its NEET (and not-known) young people; ValidationFailed on a refusal."""
    today = today or date.today()
    key = target_obsession(config, obsession, "neet", unit=None)
    nk = config.find_obsession(NOT_KNOWN_KEY)
    path = Path(path)
    table = read_table(path, sheet=sheet, usecols=lambda c: c in (*REQUIRED, *OPTIONAL))
    table.frame = table.frame[[c for c in table.frame.columns if c in (*REQUIRED, *OPTIONAL)]]
    label = table.label
    records.require_columns(table, REQUIRED, "NCCIS cohort files", optional=OPTIONAL)
    f = table.frame
    f = f[~(f == "").all(axis=1)]
    table.frame = f
    if f.empty:
        raise InputError(f"{label}: there is a header but no young people; export the cohort again")

    bad = records.Problems(table)
    ids = f["young_person_id"]
    bad.add(ids == "", "young_person_id", "is empty; every young person needs their identifier", 0)
    dup = (ids != "") & ids.duplicated(keep="first")
    first_line = {}
    if dup.any():
        firsts = ids[(ids != "") & ids.duplicated(keep=False) & ~ids.duplicated(keep="first")]
        first_line = {v: table.row_label(int(i)) for i, v in firsts.items()}
    idv = ids.to_numpy()
    bad.add(dup, "young_person_id", lambda p: f"the same young person is on {first_line[idv[p]]} too; "
            "one file is one snapshot, so each young person once", 0)
    age_text = f["academic_age"]
    age = pd.to_numeric(age_text.where(age_text.str.fullmatch(r"\d{1,2}")), errors="coerce")
    bad.add(age.isna(), "academic_age", "is not a whole number of years; give the academic age, e.g. 16", 1)
    code_text = f["activity_code"]
    code = pd.to_numeric(code_text.where(code_text.str.fullmatch(r"\d{3}")), errors="coerce")
    known = code.isin(ACTIVITY_CODES)
    cv = code_text.to_numpy()
    bad.add(~known, "activity_code", lambda p: ("is empty" if not cv[p] else
            f"{records.shown_code(cv[p], _CODE_SHOWN)} is not an NCCIS activity code")
            + "; use the code from the NCCIS management information requirement, e.g. 540 or 619", 2)
    snapshot = _snapshot(table, f, as_of, bad)
    bad.raise_if_any()
    if snapshot > today:
        raise InputError(f"{label}: the snapshot date {snapshot:%Y-%m-%d} is in the future (today is "
                         f"{today:%Y-%m-%d}); check the date")

    ages = age.to_numpy()
    codes = code.to_numpy()
    cohort = np.isin(ages, COHORT_AGES) & (codes != CUSTODY)
    neet = cohort & np.isin(codes, NEET)
    not_known = cohort & np.isin(codes, NOT_KNOWN)
    notes = [f"{label}: snapshot {snapshot:%Y-%m-%d} (week of {monday_of(snapshot):%Y-%m-%d}): {int(cohort.sum())} "
             f"young people of academic age 16-17 in the cohort, {int(neet.sum())} NEET, {int(not_known.sum())} "
             f"not known; {int((np.isin(ages, COHORT_AGES) & (codes == CUSTODY)).sum())} in custody (710) and "
             f"{int((~np.isin(ages, COHORT_AGES)).sum())} of other ages left out"]

    lookup = (lookups or lookups_of(config)).postcode_lookup(config)
    clusters = list(config.clusters) if lookup is not None else []
    area = np.full(len(f), -1)
    if lookup is not None:
        cluster, reason = lookup.match(f["postcode"])
        area = cluster.map({c: k for k, c in enumerate(clusters)}).fillna(-1).astype(int).to_numpy()
        counts = pd.Series(reason.to_numpy()[cohort]).value_counts()
        note = records.unmatched_note(label, "young people", {r: int(counts.get(r, 0))
                                                              for r in records.UNMATCHED_REASONS}, "postcodes")
        if note:
            notes.append(note)
    else:
        notes.append(f"{label}: no [lookups] postcodes in the configuration, so the figures are for the city only")

    def per_area(mask):
        m = mask & (area >= 0)
        return np.concatenate([[mask.sum()], np.bincount(area[m], minlength=len(clusters))]).astype(float)

    den = per_area(cohort)
    areas = [config.city, *clusters]
    week = np.array([np.datetime64(monday_of(snapshot), "D")])
    frames = []
    for target, mask in ((key, neet), *(((nk.key, not_known),) if nk else ())):
        num = per_area(mask)
        if config.obsession(target).unit == "count":
            frames.append(records.figures(week, target, areas, num[None, :]))
            continue
        keep = den > 0
        value = np.where(keep, 100.0 * num / np.where(keep, den, 1), np.nan)
        frames.append(records.figures(week, target, areas, value[None, :], num[None, :], den[None, :],
                                      keep=keep[None, :]))
        if not keep.all():
            notes.append(f"{label}: {int((~keep).sum())} area(s) have nobody in the cohort, so no {target} "
                         "percentage for them")
    return records.checked(frames, table, notes)
