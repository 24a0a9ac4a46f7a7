"""The text tracker reads like Figure 2; the JSON is the contract's."""
import json

import pytest

from renderers.formatting import alt_text, describe_row
from renderers.json_tracker import render_json
from renderers.text import render_breakdown_text, render_text


def test_json_matches_contract(figure2_tracker):
    d = json.loads(render_json(figure2_tracker))
    assert d["week_commencing"] == "2015-07-20" and d["area"] == "Leeds"
    cla = d["rows"][0]
    expected = {"obsession": "cla", "unit": "count", "direction": "reduce", "latest": 1247,
                "previous_week": "2015-07-13", "change_since_last_week": -5, "baseline_week": "2011-04-04",
                "baseline_value": 1422, "change_since_baseline": -175,
                "verdict_since_last_week": "better", "verdict_since_baseline": "better", "suppressed": False}
    assert {k: cla[k] for k in expected} == expected
    # Exact, not rounded: rounding is for display only (issue 12).
    assert cla["percent_change_since_baseline"] == pytest.approx(100 * -175 / 1422, abs=1e-12)
    primary = d["rows"][2]
    assert primary["percent_change_since_baseline"] is None
    assert (primary["latest"], primary["change_since_last_week"], primary["change_since_baseline"]) == \
        pytest.approx((4.4, 0.6, -1.9), abs=0.05)   # as computed from sessions; shown as 4.4, +0.6, -1.9
    assert "not a prediction" in cla["forecast"]["what"]


def test_json_withheld_is_null(small_cluster_tracker):
    row = json.loads(render_json(small_cluster_tracker))["rows"][0]
    assert row["suppressed"] is True and row["latest"] is None and row["change_since_baseline"] is None


def test_text_reads_like_figure2(figure2_tracker):
    text = render_text(figure2_tracker)
    assert "Week commencing: 20 July 2015" in text
    assert "Safely REDUCE the number of children looked after" in text
    for fragment in ("1,247", "-5 ▼ better", "-12.3", "-175 ▼ better", "1,595", "+7 ▲ worse", "-479",
                     "4.4 %", "+0.6 ▲ worse", "-1.9 points ▼ better", "7.2 %", "-3.3 ▼ better", "n/a"):
        assert fragment in text, fragment
    assert "Illustrative demo figures" in text and "not a prediction" in text


def test_text_withheld_shows_c(small_cluster_tracker):
    text = render_text(small_cluster_tracker)
    assert "Latest position this week:   c" in text and '"c": withheld' in text


def test_alt_text_states_every_figure(figure2_tracker):
    assert describe_row(figure2_tracker.row("cla")) == \
        "Children looked after: 1,247, down 5 on last week, down 175 (12.3 %) since the CYPP start"
    assert describe_row(figure2_tracker.row("absence_primary")) == \
        "Primary absence: 4.4 %, up 0.6 points on last week, down 1.9 points since the CYPP start"
    text = alt_text(figure2_tracker)
    assert text.startswith("Weekly obsessions tracker for Leeds, week commencing 20 July 2015.")
    assert "Young people NEET: 1,595, up 7 on last week, down 479 (23.1 %)" in text


def test_breakdown_text(cla_breakdown):
    text = render_breakdown_text(cla_breakdown)
    assert "Leeds" in text and "lagging" in text and " c " in text
    ranked = [r for r in cla_breakdown.rows if r.rank]
    assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1))
