"""The data-quality gate: missing, implausible and stale figures, worked out by hand on small tables."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from tracker.config import parse_config
from tracker.figures import FigureTable
from tracker.quality import check_week

CONFIG = """
[tracker]
city = "Testville"

[obsessions.cla]
title = "Safely reduce the number of children looked after"
baseline_week = "2020-01-06"

[obsessions.absence]
title = "Reduce school absence"
unit = "percent"
baseline_week = "2020-01-06"
term_time_only = true

[obsessions.late]
title = "Reduce lateness"
unit = "percent"
baseline_week = "2020-01-06"
term_time_only = true

[areas]
clusters = ["North", "South"]

[quality]
max_weekly_change_pct = { cla = 5, absence = 20 }
stale_after_days = 14
"""

W0, W1, W2, W3 = date(2020, 1, 6), date(2020, 1, 13), date(2020, 1, 20), date(2020, 1, 27)


@pytest.fixture(scope="module")
def config():
    return parse_config(CONFIG, "gate.toml")


def table(records):
    return FigureTable.from_records(records)


def city(week, cla=100.0, absence=5.0, late=2.0):
    rows = [(week, "cla", "Testville", cla)]
    if absence is not None:
        rows.append((week, "absence", "Testville", absence))
    if late is not None:
        rows.append((week, "late", "Testville", late))
    return rows


def test_a_complete_plausible_fresh_week_passes(config):
    f = table(city(W0) + city(W1, cla=104))             # +4 % on 100: inside 5 %
    r = check_week(f, config, W1, as_of=W1 + timedelta(days=7))
    assert r.passed, r.problems


def test_a_move_beyond_the_limit_holds(config):
    f = table(city(W0) + city(W1, cla=94))              # -6 % on 100: outside 5 %
    r = check_week(f, config, W1, as_of=W1)
    assert len(r.problems) == 1
    assert r.problems[0].startswith("cla:") and "6.0%" in r.problems[0] and "5%" in r.problems[0]


def test_the_limit_compares_with_the_figure_before_even_across_a_gap(config):
    # absence 5.0 in W0, holiday W1 and W2, 6.5 in W3: +30 % on the last figure, limit 20 %
    f = table(city(W0) + city(W1, absence=None, late=None) + city(W2, absence=None, late=None)
              + city(W3, absence=6.5))
    r = check_week(f, config, W3, as_of=W3)
    assert [p.split(":")[0] for p in r.problems] == ["absence"]
    assert "30.0%" in r.problems[0] and "2020-01-06" in r.problems[0]


def test_an_obsession_without_a_limit_is_not_judged(config):
    f = table(city(W0, late=1.0) + city(W1, late=3.0))   # lateness trebled, but has no limit
    assert check_week(f, config, W1, as_of=W1).passed


def test_a_missing_weekly_figure_holds(config):
    f = table(city(W0) + [(W1, "absence", "Testville", 5.0), (W1, "late", "Testville", 2.0)])
    r = check_week(f, config, W1, as_of=W1)
    assert len(r.problems) == 1 and r.problems[0].startswith("cla: no figure")


def test_school_obsessions_are_excused_in_a_week_with_no_school_figures_at_all(config):
    f = table(city(W0) + city(W1, absence=None, late=None))
    r = check_week(f, config, W1, as_of=W1)
    assert r.passed
    assert len(r.notes) == 2 and all("no school figures at all" in n for n in r.notes)


def test_one_school_figure_missing_while_another_is_there_holds(config):
    f = table(city(W0) + city(W1, absence=None))        # lateness present: not a holiday
    r = check_week(f, config, W1, as_of=W1)
    assert len(r.problems) == 1 and r.problems[0].startswith("absence: no figure")


def test_a_school_figure_in_a_cluster_means_it_was_not_a_holiday(config):
    f = table(city(W0) + city(W1, absence=None, late=None) + [(W1, "absence", "North", 4.0)])
    r = check_week(f, config, W1, as_of=W1)
    assert sorted(p.split(":")[0] for p in r.problems) == ["absence", "late"]


def test_stale_figures_hold(config):
    f = table(city(W0) + city(W1))
    assert check_week(f, config, W1, as_of=W1 + timedelta(days=14)).passed      # 14 days: not more than
    r = check_week(f, config, W1, as_of=W1 + timedelta(days=15))
    assert len(r.problems) == 1 and r.problems[0].startswith("stale:") and "15 days" in r.problems[0]


def test_every_demo_week_passes_the_demo_gate(demo_figures, demo_config):
    weeks = demo_figures.weeks()
    failing = [w for w in weeks if not check_week(demo_figures, demo_config, w, w + timedelta(days=7)).passed]
    assert failing == []
