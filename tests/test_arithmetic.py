"""The arithmetic against figures worked by hand (see the small_frame fixture in conftest)."""
from datetime import date

import numpy as np
import pandas as pd
import pytest

from tracker.arithmetic import build_breakdown, build_tracker, describe_gap, verdict
from tracker.config import parse_config
from tracker.errors import NotFound
from tracker.figures import COLUMNS, FigureTable, combine

W0, W1, W2, W3 = date(2020, 1, 6), date(2020, 1, 13), date(2020, 1, 20), date(2020, 1, 27)


def test_count_row_by_hand(small_figures, small_config):
    row = build_tracker(small_figures, small_config, W3).row("cla")
    # city = North + South + East: W3 36+29+28 = 93, W2 37+3+30 = 70, W0 40+30+30 = 100
    assert row.latest == 93
    assert row.previous_week == W2 and row.previous_is_adjacent
    assert row.change_since_last_week == 23
    assert row.baseline_value == 100
    assert row.change_since_baseline == -7
    assert row.percent_change_since_baseline == pytest.approx(-7.0)
    assert (row.verdict_since_last_week, row.verdict_since_baseline) == ("worse", "better")
    assert not row.withheld                       # city figures are never suppressed


def test_rate_row_after_holiday_gap(small_figures, small_config):
    row = build_tracker(small_figures, small_config, W3).row("absence")
    # W3: (45+35+20)/(1000+500+500) = 5.0 %; last figure before is W1 (W2 was a holiday): 80/2000 = 4.0 %
    assert row.latest == pytest.approx(5.0)
    assert row.previous_week == W1 and not row.previous_is_adjacent
    assert row.change_since_last_week == pytest.approx(1.0)
    assert row.baseline_value == pytest.approx(5.0)          # 100/2000
    assert row.change_since_baseline == pytest.approx(0.0)
    assert row.percent_change_since_baseline is None          # % only for counts
    assert row.verdict_since_baseline == "same"
    assert row.verdict_since_last_week == "worse"


def test_rate_is_recomputed_not_averaged(small_figures, small_config):
    # The mean of the cluster rates at W3 is (4.5 + 7.0 + 4.0) / 3 = 5.1667; the true rate is 5.0.
    assert build_tracker(small_figures, small_config, W3).row("absence").latest == pytest.approx(5.0)


def test_rate_value_column_ignored_when_parts_stored(small_frame, small_config):
    frame = small_frame.copy()
    city = (frame["obsession"] == "absence") & (frame["area"] == "Testville")
    frame.loc[city, "value"] = 99.0   # a wrong stored value: the parts win
    row = build_tracker(FigureTable(frame), small_config, W3).row("absence")
    assert row.latest == pytest.approx(5.0)


def test_holiday_week_carries_latest_with_note(small_figures, small_config):
    row = build_tracker(small_figures, small_config, W2).row("absence")
    assert row.latest_week == W1 and row.latest == pytest.approx(4.0)
    assert "no figure this week" in row.note and "holiday" in row.note


def test_increase_direction(small_figures, small_config):
    row = build_tracker(small_figures, small_config, W3).row("attend")
    assert row.change_since_last_week == 6 and row.verdict_since_last_week == "better"
    assert row.change_since_baseline == 10 and row.percent_change_since_baseline == pytest.approx(10.0)
    assert row.verdict_since_baseline == "better"
    falling = build_tracker(small_figures, small_config, W1).row("attend")
    assert falling.change_since_last_week == 4 and falling.verdict_since_last_week == "better"
    flat = build_tracker(small_figures, small_config, W2).row("attend")
    assert flat.change_since_last_week == 0 and flat.verdict_since_last_week == "same"


def test_verdict_judged_as_shown(small_config):
    rate = small_config.obsession("absence")
    assert verdict(0.04, rate) == "same"       # shows as 0.0
    assert verdict(0.06, rate) == "worse"      # shows as +0.1
    assert verdict(-0.06, rate) == "better"
    inc = small_config.obsession("attend")
    assert verdict(-1, inc) == "worse" and verdict(None, inc) is None


def test_cluster_suppression_and_secondary(small_figures, small_config):
    # W2: South = 3 is withheld; East (30, the smallest other non-zero) is withheld with it,
    # because the city total 70 minus North 37 would otherwise give South away.
    south = build_tracker(small_figures, small_config, W2, "South").row("cla")
    east = build_tracker(small_figures, small_config, W2, "East").row("cla")
    north = build_tracker(small_figures, small_config, W2, "North").row("cla")
    assert south.latest is None and south.suppressed
    assert east.latest is None and east.suppressed
    assert north.latest == 37 and not north.withheld
    assert south.change_since_last_week is None and south.change_since_baseline is None
    # W3: South's own figure (29) is shown, but the change from the withheld W2 is not.
    s3 = build_tracker(small_figures, small_config, W3, "South").row("cla")
    assert s3.latest == 29 and s3.change_since_last_week is None and s3.change_since_baseline == -1
    assert [p.value for p in s3.series] == [30, 31, None, 29]


def test_breakdown_by_hand(small_figures, small_config):
    b = build_breakdown(small_figures, small_config, "cla", W3)
    # % change since W0: North 36/40 -10 %, South 29/30 -3.3 %, East 28/30 -6.7 %; city -7 %
    assert [r.area for r in b.rows] == ["North", "East", "South"]
    assert [r.rank for r in b.rows] == [1, 2, 3]
    assert b.city.latest == 93 and b.city.percent_change_since_baseline == pytest.approx(-7.0)
    # lagging: bottom quarter (1 of 3) and behind the city
    assert [r.lagging for r in b.rows] == [False, False, True]
    w2 = build_breakdown(small_figures, small_config, "cla", W2)
    withheld = {r.area for r in w2.rows if r.suppressed}
    assert withheld == {"South", "East"}
    assert all(r.rank is None for r in w2.rows if r.suppressed)
    assert w2.rows[-1].area in withheld and w2.notes


def test_breakdown_of_rate_ranks_by_points(small_figures, small_config):
    b = build_breakdown(small_figures, small_config, "absence", W3)
    # points since W0: North 4.5-5.0 = -0.5, South 7.0-6.0 = +1.0, East 4.0-4.0 = 0
    assert [r.area for r in b.rows] == ["North", "East", "South"]
    assert b.rows[0].change_since_baseline == pytest.approx(-0.5)
    assert all(not r.withheld for r in b.rows)       # rates are not suppressed


def test_unknown_names_and_weeks(small_figures, small_config):
    with pytest.raises(NotFound, match='did you mean "South"'):
        build_tracker(small_figures, small_config, W3, "Suoth")
    with pytest.raises(NotFound, match="2020-01-06 to 2020-01-27"):
        build_tracker(small_figures, small_config, date(2021, 5, 5))
    with pytest.raises(NotFound, match="obsession"):
        build_breakdown(small_figures, small_config, "nope", W3)


def test_any_day_means_its_week(small_figures, small_config):
    assert build_tracker(small_figures, small_config, date(2020, 1, 30)).week == W3


def _linear_config():
    return parse_config("""
[tracker]
city = "Line"
[obsessions.cla]
title = "Reduce x"
noun = "children looked after"
baseline_week = "2020-01-06"
""")


def test_forecast_of_a_straight_line_by_hand():
    cfg = _linear_config()
    weeks = pd.date_range("2017-01-02", "2021-01-04", freq="7D")
    base = pd.Timestamp("2020-01-06")
    # Before the baseline: 1000 + 2 a week (exactly linear); after it, flat at 1000.
    vals = [1000 + 2 * ((w - base).days // 7) if w < base else 1000 for w in weeks]
    frame = pd.DataFrame({"week_commencing": weeks, "obsession": "cla", "area": "Line", "value": vals,
                          "numerator": None, "denominator": None}, columns=COLUMNS)
    row = build_tracker(FigureTable(frame), cfg, date(2021, 1, 4)).row("cla")
    f = row.forecast
    weeks_after = (date(2021, 1, 4) - date(2020, 1, 6)).days // 7     # 52
    assert f.value_at_week == pytest.approx(1000 + 2 * weeks_after)     # 1104
    assert f.gap == pytest.approx(-2 * weeks_after)                     # 104 below the trend
    assert f.slope_per_year == pytest.approx(2 / 7 * 365.25)
    assert f.description == "about 100 fewer children looked after than the pre-plan trend"
    assert f.fitted_to < date(2020, 1, 6) and f.fitted_from >= date(2017, 1, 2)


def test_describe_gap_words(small_config):
    count, rate = small_config.obsession("cla"), small_config.obsession("absence")
    assert describe_gap(-523, count) == "about 520 fewer children looked after than the pre-plan trend"
    assert describe_gap(37.4, count) == "about 37 more children looked after than the pre-plan trend"
    assert describe_gap(-0.84, rate) == "absence 0.8 points below the pre-plan trend"
    assert "withheld" in describe_gap(None, count)


def test_forecast_needs_history(small_figures, small_config):
    assert build_tracker(small_figures, small_config, W3).row("cla").forecast is None


def test_combine_counts_and_rates():
    assert combine([3, 4, 5]) == (12.0, None, None)
    value, num, den = combine([5.0, 7.0], [50, 35], [1000, 500], unit="percent")
    assert (num, den) == (85, 1500) and value == pytest.approx(100 * 85 / 1500)
    with pytest.raises(ValueError, match="numerators and denominators"):
        combine([5.0, 7.0], None, None, unit="percent")
    with pytest.raises(ValueError, match="zero"):
        combine([0.0], [0], [0], unit="percent")
    assert np.isclose(combine([1.5, np.nan])[0], 1.5)
