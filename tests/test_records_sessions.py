"""School session counts into absence rates recomputed from summed sessions, worked by hand."""
from __future__ import annotations

from datetime import date

import pytest

from data_sources.importing import import_files, load_files
from data_sources.lookups import Lookups
from tracker.config import parse_config
from tracker.errors import ConfigError

TODAY = date(2026, 1, 5)
CONFIG = """
[tracker]
city = "Testville"
[obsessions.absence_primary]
title = "Primary absence"
unit = "percent"
baseline_week = "2020-01-06"
[obsessions.absence_secondary]
title = "Secondary absence"
unit = "percent"
baseline_week = "2020-01-06"
[areas]
clusters = ["North", "South", "East"]
"""
SESSIONS = """week_commencing,urn,phase,possible_sessions,absence_sessions
2025-03-03,100001,Primary,1000,50
2025-03-03,100002,PRIMARY,200,30
2025-03-03,100003,primary,500,40
2025-03-03,100004,Secondary,800,100
2025-03-03,199999,secondary,400,60
2025-03-10,100001,primary,1000,70
2025-03-10,100003,primary,0,0
"""
# North: 100001 and 100002 (primary); South: 100003 (primary), 100004 (secondary); 199999 in no cluster
# week 3 March: primary North (50+30)/(1000+200) = 80/1200, South 40/500, city 120/1700;
#               secondary South 100/800, city 160/1200 (199999 counts in the city only)
# week 10 March: primary North 70/1000, city 70/1000; South has 0 possible sessions: no figure
EXPECTED = {
    ("2025-03-03", "absence_primary", "Testville"): (120, 1700), ("2025-03-03", "absence_primary", "North"): (80, 1200),
    ("2025-03-03", "absence_primary", "South"): (40, 500),
    ("2025-03-03", "absence_secondary", "Testville"): (160, 1200),
    ("2025-03-03", "absence_secondary", "South"): (100, 800),
    ("2025-03-10", "absence_primary", "Testville"): (70, 1000), ("2025-03-10", "absence_primary", "North"): (70, 1000),
}


@pytest.fixture
def lookups(tmp_path):
    p = tmp_path / "schools.csv"
    p.write_text("urn,cluster\n100001,North\n100002,North\n100003,South\n100004,South\n")
    return Lookups(schools=p)


def test_rates_from_summed_sessions(tmp_path, store, lookups):
    p = tmp_path / "sessions.csv"
    p.write_text(SESSIONS)
    summary, notes = import_files(store, [p], parse_config(CONFIG, "s.toml"), fmt="school-sessions", today=TODAY,
                                  lookups=lookups)
    got = {(r.week_commencing.date().isoformat(), r.obsession, r.area): (r.value, r.numerator, r.denominator)
           for r in store.figures_frame().itertuples(index=False)}
    assert got == {k: pytest.approx((100 * n / d, n, d)) for k, (n, d) in EXPECTED.items()}
    # the city's rate is not the average of the schools' rates (5, 15, 8 %)
    assert got[("2025-03-03", "absence_primary", "Testville")][0] != pytest.approx((5 + 15 + 8) / 3)
    assert summary.new == len(EXPECTED)
    text = "\n".join(notes)
    assert "1 school(s) counted in the city only, in no cluster (1 school not in lookup)" in text
    assert "1 figure(s) left out: no possible sessions" in text


def test_obsessions_must_be_configured(tmp_path, small_config, lookups):
    p = tmp_path / "sessions.csv"
    p.write_text(SESSIONS)
    with pytest.raises(ConfigError, match=r"add \[obsessions.absence_primary\]"):
        load_files([p], small_config, fmt="school-sessions", today=TODAY, lookups=lookups)
