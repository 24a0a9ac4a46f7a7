"""The tracker and the breakdown as the JSON of the contract."""
from __future__ import annotations

import json

from tracker.model import Breakdown, BreakdownRow, Curve, Tracker, TrackerRow


def _r(v, places):
    """A figure exactly as computed (a rate of 94.0625 % is 94.0625); whole counts as integers.

    `places` is what the display rounds to; the JSON does not round (issue 12).
    """
    if v is None:
        return None
    return int(v) if places == 0 and float(v).is_integer() else float(v)


def row_dict(row: TrackerRow) -> dict:
    """One obsession's row: the contract's fields, plus latest_week, note and the forecast."""
    o = row.obsession
    p = o.decimals
    d = {
        "obsession": o.key, "title": o.title, "unit": o.unit, "direction": o.direction,
        "latest": _r(row.latest, p),
        "latest_week": row.latest_week.isoformat() if row.latest_week else None,
        "previous_week": row.previous_week.isoformat() if row.previous_week else None,
        "change_since_last_week": _r(row.change_since_last_week, p),
        "baseline_week": row.baseline_week.isoformat(),
        "baseline_value": _r(row.baseline_value, p),
        "change_since_baseline": _r(row.change_since_baseline, p),
        "percent_change_since_baseline": _r(row.percent_change_since_baseline, 1),
        "verdict_since_last_week": row.verdict_since_last_week,
        "verdict_since_baseline": row.verdict_since_baseline,
        "suppressed": row.suppressed,
        "withheld": sorted(row.withheld),
    }
    if row.note:
        d["note"] = row.note
    if row.rate_per_10000 is not None:
        d["rate_per_10000"] = row.rate_per_10000
    if row.benchmarks:
        d["benchmarks"] = benchmarks_list(row.benchmarks)
    if row.forecast is not None:
        f = row.forecast
        d["forecast"] = {
            "what": "a straight-line continuation of the figures before the plan, not a prediction",
            "fitted_from": f.fitted_from.isoformat(), "fitted_to": f.fitted_to.isoformat(),
            "value_at_week": _r(f.value_at_week, p), "gap": _r(f.gap, p), "description": f.description,
        }
    return d


def benchmarks_list(benchmarks) -> list[dict]:
    """The published benchmarks of a row, exactly as computed (rounding is for display only)."""
    return [{"area": b.area, "kind": b.kind, "value": b.value, "unit": b.unit, "as_of": b.as_of.isoformat(),
             "members": list(b.members), **({"of": b.of} if b.kind == "statistical_neighbours" else {}),
             "what": b.measure} for b in benchmarks]


def tracker_dict(tracker: Tracker) -> dict:
    """The tracker as the contract's JSON object."""
    d = {"week_commencing": tracker.week.isoformat(), "area": tracker.area, "area_kind": tracker.area_kind,
         "baseline_label": tracker.baseline_label, "rows": [row_dict(r) for r in tracker.rows]}
    if tracker.illustrative:
        d["illustrative"] = True
    return d


def breakdown_row_dict(row: BreakdownRow, places: int) -> dict:
    """One cluster of a breakdown."""
    return {
        "area": row.area, "rank": row.rank, "lagging": row.lagging,
        "latest": _r(row.latest, places),
        "change_since_last_week": _r(row.change_since_last_week, places),
        "baseline_value": _r(row.baseline_value, places),
        "change_since_baseline": _r(row.change_since_baseline, places),
        "percent_change_since_baseline": _r(row.percent_change_since_baseline, 1),
        "verdict_since_last_week": row.verdict_since_last_week,
        "verdict_since_baseline": row.verdict_since_baseline,
        "suppressed": row.suppressed, "withheld": sorted(row.withheld),
        **({"rate_per_10000": row.rate_per_10000} if row.rate_per_10000 is not None else {}),
    }


def breakdown_dict(b: Breakdown) -> dict:
    """The breakdown as JSON: the city row, then the clusters in rank order."""
    p = b.obsession.decimals
    d = {"week_commencing": b.week.isoformat(), "obsession": b.obsession.key, "title": b.obsession.title,
         "unit": b.obsession.unit, "direction": b.obsession.direction,
         "previous_week": b.previous_week.isoformat() if b.previous_week else None,
         "baseline_week": b.baseline_week.isoformat(), "ranking": b.lagging_rule,
         "city": breakdown_row_dict(b.city, p), "clusters": [breakdown_row_dict(r, p) for r in b.rows],
         "notes": list(b.notes)}
    if b.benchmarks:
        d["city"]["benchmarks"] = benchmarks_list(b.benchmarks)
    if b.illustrative:
        d["illustrative"] = True
    return d


def render_json(model: Tracker | Breakdown) -> str:
    """The model as indented JSON text."""
    d = breakdown_dict(model) if isinstance(model, Breakdown) else tracker_dict(model)
    return json.dumps(d, indent=2, ensure_ascii=False) + "\n"



def curve_dict(c: Curve) -> dict:
    """The turn-the-curve chart's figures as JSON: the weekly history, the trend, and the events marked."""
    f = c.forecast
    return {
        "week_commencing": c.week.isoformat(), "area": c.area, "obsession": c.obsession.key,
        "unit": c.obsession.unit, "baseline_week": c.baseline_week.isoformat(), "baseline_value": c.baseline_value,
        "history": [{"week": p.week.isoformat(), "value": p.value} for p in c.history],
        "forecast": None if f is None else {
            "what": "a straight-line continuation of the figures before the plan, not a prediction",
            "fitted_from": f.fitted_from.isoformat(), "fitted_to": f.fitted_to.isoformat(),
            "value_at_week": f.value_at_week, "gap": f.gap, "description": f.description},
        "events": [{"date": e.date.isoformat(), "label": e.label, "obsessions": list(e.obsessions)} for e in c.events],
        **({"illustrative": True} if c.illustrative else {}),
    }


def render_curve_json(c: Curve) -> str:
    """The curve as indented JSON text."""
    return json.dumps(curve_dict(c), indent=2, ensure_ascii=False) + "\n"
