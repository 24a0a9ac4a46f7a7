"""tracker/toml_config.py: the defaults a minimal file gets, and the registry of tables."""
import pytest

from tracker.config import parse_config
from tracker.errors import ConfigError
from tracker.toml_config import TABLES

MINIMAL = '[tracker]\ncity = "Leeds"\n\n[obsessions.cla]\ntitle = "Children looked after"\nbaseline_week = "2011-04-04"\n'


def test_a_minimal_file_gets_the_documented_defaults():
    # the defaults README.md's Configuration table documents
    cfg = parse_config(MINIMAL, "m.toml")
    o = cfg.obsessions[0]
    assert (o.direction, o.unit, o.forecast_years, o.term_time_only) == ("reduce", "count", 3, False)
    assert o.label == "Children looked after" and o.noun == "children looked after"
    assert (cfg.baseline_label, cfg.suppress_below, cfg.sender) == ("CYPP start", 5, "Leeds Performance Team")
    assert (cfg.schedule.cron, cfg.schedule.timezone) == ("0 8 * * mon", "Europe/London")
    assert cfg.quality.stale_after_days == 14 and cfg.quality.max_weekly_change_pct == {}
    assert cfg.clusters == () and cfg.subscriptions == () and cfg.sources == ()


def test_the_registry_is_the_list_of_top_level_tables():
    # other tables are added to the registry over time; these are the ones the README has always listed
    assert {"tracker", "areas", "obsessions", "schedule", "quality", "subscriptions", "sources"} <= set(TABLES)
    with pytest.raises(ConfigError, match=r'm.toml, line 8: qualty: unknown key; did you mean "quality"\?'):
        parse_config(MINIMAL + "\n[qualty]\n", "m.toml")


def test_a_table_written_as_an_array_is_named():
    text = '[tracker]\ncity = "Leeds"\n\n[[obsessions]]\ntitle = "x"\n'
    with pytest.raises(ConfigError, match=r"m.toml, line 4: obsessions: must be a table: one \[obsessions.KEY\]"):
        parse_config(text, "m.toml")


def test_subscription_keys_come_from_the_dataclass():
    text = MINIMAL + '\n[[subscriptions]]\nname = "city"\narea = "Leeds"\nemails = ["a@example.gov.uk"]\n'
    with pytest.raises(ConfigError, match=r'subscriptions\[0\].emails: unknown key; did you mean "email"\?'):
        parse_config(text, "m.toml")
