"""Checking long-format figures before anything is written: one vectorised pass, one message per problem.

Each message names the place (file, line, column), what is wrong and how to fix it. Nothing here
writes; the caller saves the checked frame in one transaction only when there are no problems.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from tracker.config import Config
from tracker.errors import nearest
from tracker.figures import COLUMNS, monday_of

from .reading import RawTable

REQUIRED = ("week_commencing", "obsession", "area", "value")
OPTIONAL = ("numerator", "denominator")
# A percentage may be rounded to one place: 4.43 given as 4.4 agrees; 4.3 does not.
RATE_TOLERANCE = 0.05 + 1e-9
WITHHELD_MARKS = {"c", "x", "z", ":", "..", "*", "[c]", "[x]", "[z]", "supp", "suppressed"}
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")


@dataclass
class Checked:
    """The figures of one input that passed (long format, plus `_pos`: the row's position) and the problems."""

    frame: pd.DataFrame
    problems: list[tuple[int, int, str]] = field(default_factory=list)   # (row, column order, message)
    notes: list[str] = field(default_factory=list)
    table: RawTable | None = None

    def messages(self) -> list[str]:
        """The problems in file order."""
        return [m for _, _, m in sorted(self.problems, key=lambda p: (p[0], p[1]))]


def check_header(table: RawTable, required=REQUIRED, optional=OPTIONAL) -> list[str]:
    """Problems with the columns: missing required ones, unknown extra ones (with the nearest name)."""
    problems = []
    known = (*required, *optional)
    cols = list(table.frame.columns)
    if {"time_identifier", "overall_absence", "possible_sessions"} <= set(cols):
        return [f"{table.label}: this is a DfE weekly attendance file, not the long format; import it with "
                "--format dfe-attendance --la NAME|CODE"]
    if not any(c in known for c in cols):
        # Not quoted: a file that is not a figures file at all (a password file, say) is not echoed back.
        return [f"{table.header_where}: the first line names none of the long-format columns "
                f"({len(cols)} cell{'s' if len(cols) != 1 else ''}); it must be "
                f"{','.join(required)}[,{','.join(optional)}]; check that this is the figures export"]
    for c in cols:
        if c in known:
            continue
        if c == "" or c.startswith("unnamed:"):
            if (table.frame[c] == "").all():
                continue   # an empty column Excel left behind
            problems.append(f"{table.header_where}: a column has values but no name; name it or delete it")
            continue
        guess = nearest(c, known)
        hint = f'; did you mean "{guess}"?' if guess else ""
        problems.append(f'{table.header_where}: unknown column "{table.headers.get(c, c)}"{hint}; '
                        f"the columns are {', '.join(required)} and optionally {', '.join(optional)}; "
                        "rename or delete it")
    for r in required:
        if r not in cols:
            guess = nearest(r, [c for c in cols if c not in known])
            hint = f' (is "{table.headers.get(guess, guess)}" meant to be it?)' if guess else ""
            problems.append(f'{table.header_where}: the column "{r}" is missing{hint}; the header must name '
                            f"{', '.join(required)} (and optionally {', '.join(optional)})")
    return problems


def _per_unique(s: pd.Series, fn) -> tuple[pd.Series, ...]:
    """Apply `fn` (Series -> tuple of Series) once per distinct value of `s`: columns repeat a lot."""
    codes, uniques = pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=False)
    results = fn(pd.Series(uniques, dtype=object))
    return tuple(pd.Series(r.to_numpy()[codes] if len(codes) else r.to_numpy()[:0], index=s.index)
                 for r in results)


def parse_numbers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(numbers, bad): numbers as floats (NaN where empty or bad); bad marks text that is not a number."""
    if pd.api.types.is_numeric_dtype(s):
        v = s.astype(float)
        return v, pd.Series(False, index=s.index)
    v, bad = _per_unique(s.astype(str), _parse_numbers)
    return v.astype(float), bad.astype(bool)


def _parse_numbers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    s = s.astype(str)
    commas = s.str.contains(",", regex=False)
    cleaned = s.where(~commas, s.str.replace(",", "", regex=False))
    v = pd.to_numeric(cleaned, errors="coerce").astype(float)
    empty = s == ""
    finite = np.isfinite(v.fillna(0))
    bad = ~empty & (v.isna() | ~finite)
    # "1,2" or "4,4" (a decimal comma) must not pass as 12 or 44: only thousands groups may have commas
    if commas.any():
        bad |= commas & ~s.str.match(_NUMBER.pattern)
    return v.where(~bad), bad


def parse_weeks(s: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(dates, not_a_date, not_real): YYYY-MM-DD or DD/MM/YYYY; NaT where bad."""
    out, not_a_date, not_real = _per_unique(s.astype(str), _parse_weeks)
    return pd.to_datetime(out), not_a_date.astype(bool), not_real.astype(bool)


def _parse_weeks(s: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    s = s.astype(str)
    head = s.str.slice(0, 10)
    iso = s.str.fullmatch(r"\d{4}-\d{2}-\d{2}( 00:00(:00)?)?").astype(bool)
    uk = s.str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}").astype(bool)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if iso.any():
        out[iso] = pd.to_datetime(head[iso], format="%Y-%m-%d", errors="coerce")
    if uk.any():
        out[uk] = pd.to_datetime(s[uk], format="%d/%m/%Y", errors="coerce")
    not_a_date = (s != "") & ~iso & ~uk
    not_real = (iso | uk) & out.isna()
    return out, not_a_date, not_real


def _area_message(name: str, config: Config, extra_areas) -> str:
    allowed = [*config.areas, *extra_areas]
    guess = nearest(name, allowed)
    kind = "a cluster" if guess in config.clusters or guess is None else ("the city" if guess == config.city else "a comparator area")
    if guess:
        return f'"{name}" is not {kind}; did you mean "{guess}"?'
    return (f'"{name}" is not the city ("{config.city}") or a cluster; use a name from [areas] in the '
            "configuration (or add it to areas.comparators)")


def _obsession_message(name: str, config: Config) -> str:
    names = [o.key for o in config.obsessions] + [a for o in config.obsessions for a in o.aliases]
    guess = nearest(name, names)
    if guess:
        o = config.find_obsession(guess)
        return f'"{name}" is not an obsession; did you mean "{o.key if o else guess}"?'
    return f'"{name}" is not an obsession; use one of {", ".join(o.key for o in config.obsessions)}'


def _fmt(x: float) -> str:
    return f"{x:.10g}"


def check_long(table: RawTable, config: Config, today: date | None = None,
               extra_areas: tuple[str, ...] = ()) -> Checked:
    """Check every row of a long-format table; the frame holds only the rows that passed."""
    today = today or date.today()
    f = table.frame
    problems: list[tuple[int, int, str]] = []
    col_order = {c: k for k, c in enumerate((*REQUIRED, *OPTIONAL))}

    def report(mask: pd.Series, col: str, make) -> None:
        for pos in np.flatnonzero(mask.to_numpy()):
            i = int(f.index[pos])
            problems.append((i, col_order.get(col, 9), f"{table.locate(i, col)}: {make(pos)}"))

    # Rows with every cell empty are blank lines: skipped, not figures.
    cells = f[[c for c in f.columns if c in col_order]]
    blank = (cells == "").all(axis=1) if len(cells.columns) else pd.Series(True, index=f.index)
    f = f[~blank]
    if f.empty:
        return Checked(pd.DataFrame(columns=[*COLUMNS, "_pos"]),
                       [(0, 0, f"{table.label}: there is a header but no figures; add one figure a row below it")],
                       table=table)

    # week_commencing
    raw_week = f["week_commencing"].astype(object)
    weeks, not_a_date, not_real = parse_weeks(raw_week)
    rw = raw_week.to_numpy()
    report(raw_week == "", "week_commencing", lambda p: "is empty; give the Monday of the week as YYYY-MM-DD")
    report(not_a_date, "week_commencing",
           lambda p: f'"{rw[p]}" is not a date; write it as YYYY-MM-DD, e.g. 2015-07-20')
    report(not_real, "week_commencing",
           lambda p: f'"{rw[p]}" is not a real date (there is no such day); check the day and the month')
    dow = weeks.dt.day_of_week
    not_monday = weeks.notna() & (dow != 0)
    wk = weeks.to_numpy()
    dw = dow.to_numpy()

    def monday_msg(p):
        d = pd.Timestamp(wk[p]).date()
        return f"{d:%Y-%m-%d} is a {_WEEKDAYS[int(dw[p])]}; give the Monday of its week, {monday_of(d):%Y-%m-%d}"
    report(not_monday, "week_commencing", monday_msg)
    this_monday = pd.Timestamp(monday_of(today))
    future = weeks.notna() & (weeks > this_monday)
    report(future, "week_commencing",
           lambda p: f"the week {pd.Timestamp(wk[p]).date():%Y-%m-%d} is in the future (today is {today:%Y-%m-%d}); "
                     "check the year")
    week_ok = weeks.notna() & ~not_monday & ~future

    # obsession: key or alias, case-insensitive
    lookup = {}
    for o in config.obsessions:
        for n in (o.key, *o.aliases):
            lookup[n.lower().replace("_", "-")] = o.key
    raw_obs = f["obsession"].astype(object)
    (obs,) = _per_unique(raw_obs, lambda u: (u.str.lower().str.replace("_", "-", regex=False).map(lookup),))
    ro = raw_obs.to_numpy()
    report(raw_obs == "", "obsession", lambda p: "is empty; give the obsession's key, e.g. "
           + config.obsessions[0].key)
    cache: dict[str, str] = {}
    report((raw_obs != "") & obs.isna(), "obsession",
           lambda p: cache.setdefault("o:" + ro[p], _obsession_message(ro[p], config)))

    # area: the city, a cluster or a comparator (case-insensitive, stored in the configured spelling)
    area_lookup = {a.lower(): a for a in (*config.areas, *extra_areas)}
    raw_area = f["area"].astype(object)
    (area,) = _per_unique(raw_area, lambda u: (u.str.lower().map(area_lookup),))
    ra = raw_area.to_numpy()
    report(raw_area == "", "area", lambda p: f'is empty; give the city ("{config.city}") or a cluster')
    report((raw_area != "") & area.isna(), "area",
           lambda p: cache.setdefault("a:" + ra[p], _area_message(ra[p], config, extra_areas)))

    units = {o.key: o.unit for o in config.obsessions}
    is_rate = obs.map(units).eq("percent")
    is_count = obs.map(units).eq("count")

    # numerator and denominator (optional columns)
    has_parts_cols = "numerator" in f.columns or "denominator" in f.columns
    if has_parts_cols:
        raw_num = f["numerator"] if "numerator" in f.columns else pd.Series("", index=f.index)
        raw_den = f["denominator"] if "denominator" in f.columns else pd.Series("", index=f.index)
        num, num_bad = parse_numbers(raw_num)
        den, den_bad = parse_numbers(raw_den)
        rn, rd = raw_num.astype(object).to_numpy(), raw_den.astype(object).to_numpy()
        report(num_bad, "numerator", lambda p: f'"{rn[p]}" is not a number; write digits only, e.g. 23427')
        report(den_bad, "denominator", lambda p: f'"{rd[p]}" is not a number; write digits only, e.g. 564953')
        n_empty = num.isna() & ~num_bad
        d_empty = den.isna() & ~den_bad
        report(n_empty & den.notna(), "numerator",
               lambda p: "is empty but the denominator is given; give both or neither")
        report(d_empty & num.notna(), "denominator",
               lambda p: "is empty but the numerator is given; give both or neither")
        nv, dv = num.to_numpy(), den.to_numpy()
        report(num < 0, "numerator", lambda p: f"{_fmt(nv[p])} is negative; it is a count of something, 0 or more")
        report(den <= 0, "denominator", lambda p: f"{_fmt(dv[p])} is not above 0; a rate needs a positive denominator")
        above = (num > den) & (den > 0) & (num >= 0)
        report(above, "numerator", lambda p: f"{_fmt(nv[p])} is above the denominator {_fmt(dv[p])}; "
               "the numerator is part of the denominator (e.g. sessions missed of possible sessions)")
        parts_given = num.notna() | den.notna()
        report(is_count & parts_given, "numerator",
               lambda p: f'"{ro[p]}" is a count; numerator and denominator are only for percentages, leave them empty')
        parts_ok = num.notna() & den.notna() & (num >= 0) & (den > 0) & ~above & ~is_count
    else:
        num = den = pd.Series(np.nan, index=f.index)
        parts_ok = pd.Series(False, index=f.index)

    # value
    raw_val = f["value"]
    val, val_bad = parse_numbers(raw_val)
    rv = raw_val.astype(object).to_numpy()
    withheld = pd.Series(False, index=f.index)
    if val_bad.any():
        withheld[val_bad] = raw_val[val_bad].astype(str).str.lower().isin(WITHHELD_MARKS)
    report(withheld, "value", lambda p: f'"{rv[p]}" marks a withheld figure; give the real figure (the tracker '
           "withholds small numbers itself) or leave the row out")
    report(val_bad & ~withheld, "value", lambda p: f'"{rv[p]}" is not a number; write digits only, like 1247 or 4.4')
    computed = 100.0 * num / den
    val_empty = val.isna() & ~val_bad
    # A rate with its parts and no value takes the value they give.
    fill = val_empty & is_rate & parts_ok
    val = val.where(~fill, computed)
    report(val_empty & ~fill, "value", lambda p: "is empty; give the figure"
           + (" (or, for a percentage, its numerator and denominator)" if has_parts_cols else ""))
    vv = val.to_numpy()
    report(is_count & (val < 0), "value", lambda p: f"{_fmt(vv[p])} is negative; a count is 0 or more")
    report(is_count & (val >= 0) & (np.floor(val) != val), "value",
           lambda p: f"{_fmt(vv[p])} is not a whole number; a count of children is whole")
    report(is_rate & ((val < 0) | (val > 100)), "value",
           lambda p: f"{_fmt(vv[p])} is not a percentage between 0 and 100; give it as a percentage, e.g. 4.4")
    cv = computed.to_numpy()
    disagree = is_rate & parts_ok & val.notna() & ((val - computed).abs() > RATE_TOLERANCE) & ~fill
    report(disagree, "value", lambda p: f"{_fmt(vv[p])} does not agree with its numerator and denominator "
           f"(100 × {_fmt(nv[p])} / {_fmt(dv[p])} = {cv[p]:.2f}); correct the value or its parts")

    out = pd.DataFrame({
        "week_commencing": weeks, "obsession": obs, "area": area, "value": val,
        "numerator": num.where(parts_ok), "denominator": den.where(parts_ok), "_pos": f.index,
    })
    bad_rows = {i for i, _, _ in problems}
    ok = week_ok & obs.notna() & area.notna() & val.notna() & ~f.index.isin(list(bad_rows))
    out = out[ok.to_numpy()]
    checked = Checked(out, problems, list(table.notes), table)
    return checked


def merge_checked(parts: list[Checked], sources: list[str] | None = None) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Join checked inputs; a figure given twice with different values is a problem (naming both places).

    Returns (frame in the long format, problems, notes). Exact repeats are kept once. With `sources`
    (one per part), the frame has a `source` column saying which input each figure came from.
    """
    problems = []
    notes = []
    frames = []
    for k, c in enumerate(parts):
        problems += c.messages()
        notes += c.notes
        fr = c.frame.copy()
        fr["_part"] = k
        if sources is not None:
            fr["source"] = sources[k]
        frames.append(fr)
    if not frames:
        return pd.DataFrame(columns=COLUMNS), problems, notes
    allf = pd.concat(frames, ignore_index=True)
    key = ["week_commencing", "obsession", "area"]
    dup = allf.duplicated(key, keep=False)
    if dup.any():
        d = allf[dup]
        first = d.drop_duplicates(key, keep="first").set_index(key)
        later = d[d.duplicated(key, keep="first")]
        ref = first.loc[pd.MultiIndex.from_frame(later[key])]
        same = np.ones(len(later), dtype=bool)
        for c in ("value", "numerator", "denominator"):
            a, b = later[c].to_numpy(dtype=float), ref[c].to_numpy(dtype=float)
            same &= (a == b) | (np.isnan(a) & np.isnan(b))
        repeats = 0
        for (_, row), r_part, r_pos, r_val, ok in zip(later.iterrows(), ref["_part"], ref["_pos"],
                                                      ref["value"], same):
            if ok:
                repeats += 1
                continue
            here = parts[int(row["_part"])].table
            there = parts[int(r_part)].table
            where_first = there.row_label(int(r_pos)) + ("" if there is here else f" of {there.label}")
            problems.append(
                f"{here.locate(int(row['_pos']), 'value')}: {row['obsession']} for {row['area']} in the week "
                f"{row['week_commencing']:%Y-%m-%d} is {_fmt(row['value'])} here but {_fmt(r_val)} "
                f"on {where_first}; keep one of them")
        if repeats:
            notes.append(f"{repeats} figure(s) given twice with the same value were loaded once")
        allf = allf.drop_duplicates(key, keep="first")
    return allf[COLUMNS + (["source"] if sources is not None else [])].reset_index(drop=True), problems, notes

