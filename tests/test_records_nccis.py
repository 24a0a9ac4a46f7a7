"""The NCCIS cohort extract into NEET and not-known figures, worked by hand."""
from __future__ import annotations

from datetime import date

import pytest

from data_sources.importing import import_files, load_files
from data_sources.lookups import Lookups
from tracker.config import parse_config
from tracker.errors import InputError, ValidationFailed

TODAY = date(2026, 1, 5)


def _config(unit: str, not_known: bool = True) -> object:
    text = f"""
[tracker]
city = "Testville"
[obsessions.neet]
title = "Reduce NEET"
unit = "{unit}"
baseline_week = "2020-01-06"
[areas]
clusters = ["North", "South", "East"]
"""
    if not_known:
        text += f'[obsessions.neet_not_known]\ntitle = "Not known"\nunit = "{unit}"\nbaseline_week = "2020-01-06"\n'
    return parse_config(text, "nccis.toml")


COHORT = """Young_Person_ID,ACADEMIC_AGE,activity_code,postcode
P01,16,540,AA1 1AA
P02,17,619,AA1 2BB
P03,16,110,AA1 3CC
P04,17,710,AA1 4DD
P05,16,810,AA2 1AA
P06,17,130,AA2 2BB
P07,16,680,AA2 3CC
P08,18,540,AA1 5EE
P09,15,540,AA2 4DD
P10,16,830,
P11,17,620,QQ9 9QQ
P12,17,210,ZZ1 1ZZ
"""
# Cohort (16-17, not 710): P01 P02 P03 P05 P06 P07 P10 P11 P12 = 9 (P04 custody, P08 and P09 other ages)
# North (AA1): P01 P02 P03 -> 3, NEET P01 P02 -> 2, not known 0
# South (AA2): P05 P06 P07 -> 3, NEET P07 -> 1, not known P05 -> 1
# city: NEET P01 P02 P07 P11 -> 4, not known P05 P10 -> 2; P10 no postcode, P11 not in lookup, P12 outside
EXPECTED_COUNT = {
    "neet": {"Testville": 4, "North": 2, "South": 1, "East": 0},
    "neet_not_known": {"Testville": 2, "North": 0, "South": 1, "East": 0},
}
COHORT_SIZE = {"Testville": 9, "North": 3, "South": 3, "East": 0}


@pytest.fixture
def lookups(tmp_path):
    p = tmp_path / "pc.csv"
    p.write_text("postcode,cluster\nAA1,North\nAA2,South\nZZ,outside\n")
    return Lookups(postcodes=p)


def _stored(store) -> dict:
    out: dict = {}
    for r in store.figures_frame().itertuples(index=False):
        out.setdefault(r.obsession, {})[r.area] = (r.week_commencing.date(), r.value, r.numerator, r.denominator)
    return out


def test_counts_with_custody_and_not_known(tmp_path, store, lookups):
    p = tmp_path / "cohort.csv"
    p.write_text(COHORT)
    summary, notes = import_files(store, [p], _config("count"), fmt="nccis", as_of=date(2025, 3, 5), today=TODAY,
                                  lookups=lookups)
    got = _stored(store)
    for key, areas in EXPECTED_COUNT.items():
        assert {a: v[1] for a, v in got[key].items()} == areas
        assert {v[0] for v in got[key].values()} == {date(2025, 3, 3)}   # the week containing 5 March
    assert summary.new == 8
    text = "\n".join(notes)
    assert "9 young people of academic age 16-17 in the cohort, 4 NEET, 2 not known; 1 in custody (710)" in text
    assert "(1 no postcode, 1 postcode not in lookup, 1 outside the city)" in text


def test_percent_obsessions_get_numerator_and_denominator(tmp_path, store, lookups):
    p = tmp_path / "cohort.csv"
    head, *rows = COHORT.strip().splitlines()
    p.write_text("\n".join([head + ",snapshot_date", *(r + ",05/03/2025" for r in rows)]) + "\n")
    _, notes = import_files(store, [p], _config("percent"), fmt="nccis", today=TODAY, lookups=lookups)
    got = _stored(store)
    for key, areas in EXPECTED_COUNT.items():
        for area, n in areas.items():
            d = COHORT_SIZE[area]
            if d == 0:
                assert area not in got[key]     # nobody in East's cohort: no percentage
                continue
            assert got[key][area][1:] == pytest.approx((100 * n / d, n, d))
    assert any("nobody in the cohort" in n for n in notes)


def test_without_not_known_obsession_only_neet(tmp_path, lookups):
    p = tmp_path / "cohort.csv"
    p.write_text(COHORT)
    loaded = load_files([p], _config("count", not_known=False), fmt="nccis", as_of=date(2025, 3, 5), today=TODAY,
                        lookups=lookups)
    assert set(loaded.frame["obsession"]) == {"neet"}


def test_a_snapshot_date_is_needed(tmp_path, lookups):
    p = tmp_path / "cohort.csv"
    p.write_text(COHORT)
    with pytest.raises(InputError, match="give the date of the snapshot with --as-of"):
        load_files([p], _config("count"), fmt="nccis", today=TODAY, lookups=lookups)


def test_refusals_name_the_line(tmp_path, lookups):
    p = tmp_path / "cohort.csv"
    p.write_text("young_person_id,academic_age,activity_code,postcode\nP1,16,540,AA1 1AA\nP2,16.5,540,AA1 1AA\n"
                 "P1,17,110,AA1 1AA\nP3,17,999,AA1 1AA\n")
    with pytest.raises(ValidationFailed) as err:
        load_files([p], _config("count"), fmt="nccis", as_of=date(2025, 3, 5), today=TODAY, lookups=lookups)
    assert err.value.problems == [
        f"{p}, line 3, column academic_age: is not a whole number of years; give the academic age, e.g. 16",
        f"{p}, line 4, column young_person_id: the same young person is on line 2 too; one file is one snapshot, "
        "so each young person once",
        f'{p}, line 5, column activity_code: "999" is not an NCCIS activity code; use the code from the NCCIS '
        "management information requirement, e.g. 540 or 619",
    ]


def test_two_snapshots_of_one_week_that_disagree_name_both_files(tmp_path, lookups):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(COHORT)
    b.write_text(COHORT.replace("P03,16,110", "P03,16,540"))
    with pytest.raises(ValidationFailed) as err:
        load_files([a, b], _config("count"), fmt="nccis", as_of=date(2025, 3, 5), today=TODAY, lookups=lookups)
    assert f"{b}: neet for Testville in the week 2025-03-03 is 5 here but 4 on the counted figures of {a}" in str(err.value)


def test_a_folder_source_counts_the_newest_cohort(tmp_path):
    from data_sources.sources import parse_sources

    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "cohort.csv").write_text(COHORT.replace("postcode\n", "postcode,snapshot_date\n", 1)
                                     .replace("\n", ",2025-03-05\n").replace("snapshot_date,2025-03-05", "snapshot_date"))
    (tmp_path / "pc.csv").write_text("postcode,cluster\nAA1,North\nAA2,South\nZZ,outside\n")
    cfg = tmp_path / "t.toml"
    cfg.write_text('[tracker]\ncity = "Testville"\n[obsessions.neet]\ntitle = "NEET"\nbaseline_week = "2020-01-06"\n'
                   '[areas]\nclusters = ["North", "South", "East"]\n[lookups]\npostcodes = "pc.csv"\n'
                   '[[sources]]\nname = "cohort"\nkind = "folder"\npath = "drop"\nformat = "nccis"\n')
    from tracker.config import load_config

    config = load_config(cfg)
    (source,) = parse_sources(config)
    loaded = source.load(config, {}, TODAY)
    assert {r.area: r.value for r in loaded.frame.itertuples(index=False)} == EXPECTED_COUNT["neet"]
    bad = load_config(cfg)
    object.__setattr__(bad, "sources", ({**bad.sources[0], "format": "school-sessions", "obsession": "neet"},))
    from tracker.errors import ConfigError

    with pytest.raises(ConfigError, match='sources\\[0\\].obsession: is only for format = "ssda903" or "nccis"'):
        parse_sources(bad)
