"""The synthetic demo figures have the shape the issue describes."""
from datetime import date

import numpy as np

from tracker.demo_data import is_school_holiday
from tracker.figures import monday_of


def _city(frame, key, day):
    rows = frame[(frame.obsession == key) & (frame.area == "Leeds") & (frame.week_commencing == monday_of(day))]
    return rows["value"].iloc[0]


def test_span_and_areas(demo_frame, demo_config):
    assert min(demo_frame.week_commencing) == date(2009, 4, 6)
    assert max(demo_frame.week_commencing) == date(2026, 11, 16)
    assert set(demo_frame.area) == {demo_config.city, *demo_config.clusters}


def test_story_shape(demo_frame):
    assert 1400 <= _city(demo_frame, "cla", date(2011, 9, 5)) <= 1480      # about 1,450 by 2011
    assert 1200 <= _city(demo_frame, "cla", date(2015, 7, 20)) <= 1300     # about 1,250 by 2015
    assert _city(demo_frame, "neet", date(2011, 4, 4)) - _city(demo_frame, "neet", date(2015, 7, 20)) == 479


def test_clusters_add_up_to_city(demo_frame):
    counts = demo_frame[demo_frame.obsession.isin(["cla", "neet"])]
    city = counts[counts.area == "Leeds"].set_index(["week_commencing", "obsession"])["value"]
    parts = counts[counts.area != "Leeds"].groupby(["week_commencing", "obsession"])["value"].sum()
    assert (city.sort_index() == parts.sort_index()).all()
    rates = demo_frame[demo_frame.obsession == "absence_primary"]
    c = rates[rates.area == "Leeds"].set_index("week_commencing")
    p = rates[rates.area != "Leeds"].groupby("week_commencing")[["numerator", "denominator"]].sum()
    assert (c["numerator"] == p["numerator"]).all() and (c["denominator"] == p["denominator"]).all()
    assert np.allclose(c["value"], 100 * c["numerator"] / c["denominator"])


def test_no_absence_in_holidays(demo_frame):
    absence_weeks = set(demo_frame[demo_frame.obsession == "absence_primary"].week_commencing)
    assert date(2015, 8, 10) not in absence_weeks and is_school_holiday(date(2015, 8, 10))
    assert date(2015, 12, 28) not in absence_weeks
    assert date(2015, 7, 20) in absence_weeks and date(2011, 4, 4) in absence_weeks
    cla_weeks = set(demo_frame[demo_frame.obsession == "cla"].week_commencing)
    assert date(2015, 8, 10) in cla_weeks


def test_some_cluster_counts_are_small(demo_frame):
    small = demo_frame[(demo_frame.obsession == "cla") & (demo_frame.area != "Leeds")
                       & (demo_frame.value >= 1) & (demo_frame.value < 5)]
    assert len(small) > 0


def test_later_run_never_changes_old_weeks(demo_config, demo_frame):
    from tracker.demo_data import demo_frame as make

    shorter = make(demo_config, date(2016, 1, 1))
    merged = shorter.merge(demo_frame, on=["week_commencing", "obsession", "area"], suffixes=("_a", "_b"))
    assert len(merged) == len(shorter)
    assert np.allclose(merged["value_a"], merged["value_b"])
