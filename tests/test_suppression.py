"""Small-number suppression: no withheld value can be recovered from the outputs of a breakdown."""
from datetime import date, timedelta

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renderers.json_tracker import breakdown_dict, tracker_dict
from tracker.arithmetic import build_breakdown, build_tracker
from tracker.config import parse_config
from tracker.figures import COLUMNS, FigureTable
from tracker.suppression import withheld_mask

BASE = date(2020, 1, 6)


def _config(n_clusters: int, threshold: int = 5):
    names = ", ".join(f'"C{i}"' for i in range(n_clusters))
    return parse_config(f"""
[tracker]
city = "City"
suppress_below = {threshold}
[obsessions.cla]
title = "Reduce x"
baseline_week = "{BASE}"
[areas]
clusters = [{names}]
""")


def _figures(matrix: list[list[int]], n_clusters: int) -> FigureTable:
    rows = []
    for k, counts in enumerate(matrix):
        w = BASE + timedelta(days=7 * k)
        rows.append((w, "cla", "City", sum(counts), None, None))
        rows += [(w, "cla", f"C{i}", v, None, None) for i, v in enumerate(counts)]
    return FigureTable(pd.DataFrame(rows, columns=COLUMNS))


def test_mask_primary_and_secondary_by_hand():
    m = withheld_mask(np.array([[3, 40, 30, 0], [3, 2, 30, 50], [1, 1, 9, 20], [0, 10, 20, 30.0]]), 5)
    assert m[0].tolist() == [True, False, True, False]     # 3 alone: smallest other non-zero (30) too
    assert m[1].tolist() == [True, True, False, False]     # two withheld, total 5 > 2: enough
    assert m[2].tolist() == [True, True, True, False]      # 1 and 1 would be pinned by their total 2
    assert m[3].tolist() == [False, False, False, False]   # zero is not withheld
    assert not withheld_mask(np.array([[1, 2, 3.0]]), 0).any()


def _unknowns_pinned(column_cells: list, city_value, bounded_below: int) -> bool:
    """Can the city total pin any withheld cell of one additive column?

    Withheld cells are unknown integers >= `bounded_below` (counts) summing to city - shown; a cell
    is pinned when it is the only unknown, or when the bound leaves one solution (all at the bound).
    """
    unknown = [c for c in column_cells if c is None]
    if not unknown or city_value is None:
        return False
    if len(unknown) == 1:
        return True
    rest = city_value - sum(c for c in column_cells if c is not None)
    return bounded_below is not None and rest == bounded_below * len(unknown)


def _check_breakdown_leaks_nothing(b: dict, previous: dict | None, truth: dict, base_truth: dict):
    clusters = b["clusters"]
    city = b["city"]
    # Column sums: the city total gives the sum of the withheld cells, never one of them. An
    # attacker may assume withheld counts are >= 1 when they are; when every other cluster is
    # zero there is nothing left to withhold with them, and that case is exempt.
    for col, values in (("latest", truth), ("baseline_value", base_truth)):
        cells = [c[col] for c in clusters]
        hidden_true = [values[c["area"]] for c in clusters if c[col] is None]
        shown_positive = any(values[c["area"]] > 0 for c in clusters if c[col] is not None)
        bound = 1 if hidden_true and min(hidden_true) >= 1 else 0
        if shown_positive:
            assert not _unknowns_pinned(cells, city[col], bound), (col, cells, hidden_true)
    for col in ("change_since_last_week", "change_since_baseline"):
        assert not _unknowns_pinned([c[col] for c in clusters], city[col], None)
    for c in clusters:
        if c["latest"] is None:
            # latest = baseline + change, latest = last week + change: those changes must be withheld
            assert c["change_since_baseline"] is None and c["percent_change_since_baseline"] is None
            assert c["change_since_last_week"] is None
        if c["baseline_value"] is None:
            assert c["change_since_baseline"] is None and c["percent_change_since_baseline"] is None
        if previous is not None:
            before = next(p for p in previous["clusters"] if p["area"] == c["area"])
            if before["latest"] is None:   # last week's withheld figure = this week's - change
                assert c["change_since_last_week"] is None


counts = st.one_of(st.integers(0, 6), st.integers(0, 60))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 6).flatmap(
    lambda n: st.lists(st.lists(counts, min_size=n, max_size=n), min_size=2, max_size=4)))
def test_no_withheld_value_recoverable(matrix):
    n = len(matrix[0])
    cfg = _config(n)
    figures = _figures(matrix, n)
    previous = None
    for k in range(len(matrix)):
        week = BASE + timedelta(days=7 * k)
        b = breakdown_dict(build_breakdown(figures, cfg, "cla", week))
        truth = {f"C{i}": v for i, v in enumerate(matrix[k])}
        base_truth = {f"C{i}": v for i, v in enumerate(matrix[0])}
        _check_breakdown_leaks_nothing(b, previous, truth, base_truth)
        # Every output of a cluster agrees with the breakdown: nothing withheld there is shown here.
        for c in b["clusters"]:
            row = tracker_dict(build_tracker(figures, cfg, week, c["area"]))["rows"][0]
            for col in ("latest", "change_since_last_week", "baseline_value", "change_since_baseline"):
                assert row[col] == c[col]
            true_value = matrix[k][int(c["area"][1:])]
            if 1 <= true_value < 5:
                assert c["latest"] is None and c["suppressed"]     # primary suppression
            series = build_tracker(figures, cfg, week, c["area"]).rows[0].series
            for p in series:
                j = (p.week - BASE).days // 7
                if 1 <= matrix[j][int(c["area"][1:])] < 5:
                    assert p.value is None
        previous = b


def test_city_is_never_suppressed():
    cfg = _config(3)
    figures = _figures([[1, 1, 1], [2, 0, 1]], 3)
    t = build_tracker(figures, cfg, BASE + timedelta(days=7))
    assert t.rows[0].latest == 3 and not t.rows[0].withheld


def test_demo_has_suppressed_cluster(small_cluster_tracker):
    assert small_cluster_tracker.row("cla").suppressed
    assert small_cluster_tracker.row("cla").latest is None
