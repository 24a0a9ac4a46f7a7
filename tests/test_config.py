"""The TOML configuration: the demo loads; a bad file gets one message naming the key and line."""
import subprocess
import sys

import pytest

from tracker.config import load_config, parse_config
from tracker.errors import ConfigError

GOOD = """
[tracker]
city = "Leeds"
suppress_below = 5

[obsessions.cla]
title = "Safely reduce the number of children looked after"
direction = "reduce"
unit = "count"
baseline_week = "2011-04-04"
aliases = ["lac", "looked-after"]

[areas]
clusters = ["Armley", "Seacroft Manston"]
"""


def test_demo_configuration(demo_config):
    assert demo_config.city == "Leeds" and len(demo_config.clusters) == 25
    assert [o.key for o in demo_config.obsessions] == ["cla", "neet", "absence_primary", "absence_secondary"]
    for name in ("Seacroft Manston", "Armley", "Middleton", "Garforth", "Brigshaw", "Alwoodley, Roundhay and Moortown"):
        assert name in demo_config.clusters
    assert demo_config.obsession("LAC").key == "cla"
    assert demo_config.obsession("attendance").key == "absence_primary"
    assert demo_config.obsession("secondary").key == "absence_secondary"
    assert demo_config.canonical_area("seacroft manston") == "Seacroft Manston"


def test_good_file(tmp_path):
    p = tmp_path / "obsession.toml"
    p.write_text(GOOD)
    cfg = load_config(p)
    assert cfg.clusters == ("Armley", "Seacroft Manston") and cfg.suppress_below == 5
    assert cfg.obsession("looked-after").baseline_week.isoformat() == "2011-04-04"


@pytest.mark.parametrize("change, expected", [
    (('direction = "reduce"', 'direction = "down"'),
     'line 8: obsessions.cla.direction: \'down\' is not allowed; use "reduce" or "increase"'),
    (('unit = "count"', 'unit = "people"'), "line 9: obsessions.cla.unit: 'people' is not allowed"),
    (('baseline_week = "2011-04-04"', 'baseline_week = "2011-04-05"'),
     "line 10: obsessions.cla.baseline_week: 2011-04-05 is a Tuesday; give the Monday of the week"),
    (('baseline_week = "2011-04-04"', 'baseline_week = "2011-13-01"'), 'is not a date; write it as YYYY-MM-DD'),
    (("suppress_below = 5", "suppress_below = -1"), "line 4: tracker.suppress_below: must be a whole number from 0 to 100"),
    (("suppress_below = 5", "supress_below = 5"), 'tracker.supress_below: unknown key; did you mean "suppress_below"?'),
    (('city = "Leeds"', ""), "tracker.city: is required"),
    (('clusters = ["Armley", "Seacroft Manston"]', 'clusters = ["Armley", "armley"]'), '"armley" is named twice'),
    (("[areas]", "[areas\n"), "not valid TOML"),
])
def test_bad_file_names_key_and_line(tmp_path, change, expected):
    p = tmp_path / "obsession.toml"
    p.write_text(GOOD.replace(*change))
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert str(e.value).startswith(str(p))
    assert expected in str(e.value)


def test_subscription_area_must_exist():
    with pytest.raises(ConfigError, match='"Seacroft Mansotn" is not the city or a cluster; did you mean "Seacroft Manston"'):
        parse_config(GOOD + '\n[[subscriptions]]\nname = "x"\narea = "Seacroft Mansotn"\n')


def test_quality_limits_name_obsessions():
    with pytest.raises(ConfigError, match='"nete" is not an obsession'):
        parse_config(GOOD + "\n[quality]\nmax_weekly_change_pct = { nete = 5 }\n")


def test_bad_timezone():
    with pytest.raises(ConfigError, match="schedule.timezone"):
        parse_config(GOOD + '\n[schedule]\ntimezone = "Europe/Leeds"\n')


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "nope.toml")


def test_bad_config_exits_2_with_one_message(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text(GOOD.replace('direction = "reduce"', 'direction = "down"'))
    env = {"OBSESSION_CONFIG": str(p), "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "bot", "check"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "obsessions.cla.direction" in r.stderr
    assert "Traceback" not in r.stderr
