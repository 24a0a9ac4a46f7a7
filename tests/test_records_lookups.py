"""Lookups from postcodes and school URNs to clusters: the most specific entry wins; mistakes named by line."""
from __future__ import annotations

import pandas as pd
import pytest

from data_sources.lookups import OUTSIDE, entry_key, read_postcode_lookup, read_school_lookup, record_keys
from tracker.errors import ObsessionError, ValidationFailed


@pytest.mark.parametrize("text,expected", [
    ("LS14 6JB", ("full", "LS146JB")), ("ls146jb", ("full", "LS146JB")), (" LS14  6JB ", ("full", "LS146JB")),
    ("LS14 6", ("sector", "LS14 6")), ("ls146", ("sector", "LS14 6")), ("LS1 4", ("sector", "LS1 4")),
    ("LS14", ("district", "LS14")), ("EC1A", ("district", "EC1A")), ("W1A 0AX", ("full", "W1A0AX")),
    ("LS", ("area", "LS")), ("l", ("area", "L")), ("14 LS", None), ("LS14 6JBX", None), ("", None),
])
def test_entry_levels(text, expected):
    assert entry_key(text) == expected


def test_record_keys_most_specific_first():
    assert record_keys("ls14 6jb") == [("full", "LS146JB"), ("sector", "LS14 6"), ("district", "LS14"), ("area", "LS")]
    assert record_keys("LS14") == [("district", "LS14"), ("area", "LS")]
    assert record_keys("not a postcode") is None


def test_most_specific_entry_wins(tmp_path, small_config):
    p = tmp_path / "pc.csv"
    p.write_text("postcode,cluster\nAA,East\nAA1,South\nAA1 2,North\naa1 2zz,East\nBB,outside\n")
    lk = read_postcode_lookup(p, small_config)
    got, why = lk.match(pd.Series(["AA1 2ZZ", "AA12YY", "AA1 3AB", "AA9 9AA", "", "BB1 1BB", "CC1 1CC", "junk"]))
    assert list(got) == ["East", "North", "South", "East", None, None, None, None]
    assert list(why) == ["", "", "", "", "no postcode", "outside the city", "postcode not in lookup",
                         "postcode not in lookup"]


def test_cluster_names_are_checked_with_the_nearest_and_the_line(tmp_path, small_config):
    p = tmp_path / "pc.csv"
    p.write_text("postcode,cluster\nAA1,North\nAA2,Soth\nAA3,\n")
    with pytest.raises(ValidationFailed) as err:
        read_postcode_lookup(p, small_config)
    text = str(err.value)
    assert f'{p}, line 3, column cluster: "Soth" is not a configured cluster; did you mean "South"?' in text
    assert f"{p}, line 4, column cluster: is empty" in text


def test_a_postcode_given_twice_with_two_clusters_is_an_error(tmp_path, small_config):
    p = tmp_path / "pc.csv"
    p.write_text("postcode,cluster\nAA1 1AA,North\nAA2,South\naa11aa,East\nAA2,south\n")
    with pytest.raises(ValidationFailed) as err:
        read_postcode_lookup(p, small_config)
    assert err.value.problems == [f'{p}, line 4, column cluster: "AA11AA" is given to North on line 2 and to '
                                  "East here; keep one of them"]


def test_not_a_postcode_in_the_lookup(tmp_path, small_config):
    p = tmp_path / "pc.csv"
    p.write_text("postcode,cluster\n12345,North\n")
    with pytest.raises(ValidationFailed) as err:
        read_postcode_lookup(p, small_config)
    assert '"12345" is not a postcode; give a full postcode ("LS14 6JB")' in str(err.value)


def test_school_lookup(tmp_path, small_config):
    p = tmp_path / "schools.csv"
    p.write_text("urn,cluster\n107993,North\n108001,outside\n")
    lk = read_school_lookup(p, small_config)
    got, why = lk.match(pd.Series(["107993", "107993.0", "108001", "999999", ""]))
    assert list(got) == ["North", "North", None, None, None]
    assert list(why) == ["", "", "outside the city", "school not in lookup", "no URN"]
    assert lk.entries["108001"] == OUTSIDE


def test_school_lookup_errors(tmp_path, small_config):
    p = tmp_path / "schools.csv"
    p.write_text("urn,cluster\n107993,North\n107993,South\nabc,North\n")
    with pytest.raises(ValidationFailed) as err:
        read_school_lookup(p, small_config)
    assert sorted(err.value.problems) == sorted([
        f"{p}, line 3, column cluster: the URN 107993 is given to North on line 2 and to South here; keep one of them",
        f'{p}, line 4, column urn: "abc" is not a URN; give the school\'s unique reference number, six digits like 107993',
    ])


def test_missing_lookup_file_and_column(tmp_path, small_config):
    with pytest.raises(ObsessionError, match="no such file"):
        read_postcode_lookup(tmp_path / "nope.csv", small_config)
    p = tmp_path / "pc.csv"
    p.write_text("postcode,area\nAA1,North\n")
    with pytest.raises(ObsessionError, match='the column "cluster" is missing'):
        read_postcode_lookup(p, small_config)


def test_lookups_from_the_configuration_relative_to_its_file(tmp_path):
    from datetime import date

    from data_sources.importing import load_files
    from tests.conftest import SMALL_CONFIG
    from tracker.config import load_config

    (tmp_path / "lookups").mkdir()
    (tmp_path / "lookups" / "pc.csv").write_text("postcode,cluster\nAA1,North\n")
    cfg = tmp_path / "tracker.toml"
    cfg.write_text(SMALL_CONFIG + '\n[lookups]\npostcodes = "lookups/pc.csv"\n')
    config = load_config(cfg)
    ep = tmp_path / "episodes.csv"
    ep.write_text("CHILD,DECOM,LS,DEC,REC,HOME_POST\nC1,01/01/2020,C2,,,AA1 1AA\nC2,01/01/2020,C2,,,\n")
    loaded = load_files([ep], config, fmt="ssda903", today=date(2026, 1, 5), as_of=date(2020, 1, 6))
    got = {r.area: r.value for r in loaded.frame.itertuples(index=False)}
    assert got == {"Testville": 2, "North": 1, "South": 0, "East": 0}


def test_lookups_table_is_checked():
    from tests.conftest import SMALL_CONFIG
    from tracker.config import parse_config
    from tracker.errors import ConfigError

    with pytest.raises(ConfigError, match='lookups.postcode: unknown key; did you mean "postcodes"'):
        parse_config(SMALL_CONFIG + '\n[lookups]\npostcode = "pc.csv"\n', "t.toml")
    with pytest.raises(ConfigError, match="lookups.schools: must be a non-empty string"):
        parse_config(SMALL_CONFIG + "\n[lookups]\nschools = 3\n", "t.toml")
