"""Published benchmarks from the DfE's own files (excerpts in tests/fixtures/benchmarks, OGL v3.0).

Every expected figure is worked out here from the fixture's cells (or the issue's own arithmetic),
never taken from the code under test.
"""
from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from data_sources.importing import import_files
from tracker.arithmetic import build_breakdown, build_tracker
from tracker.config import parse_config
from tracker.errors import ObsessionError
from tracker.figures import COLUMNS

FIX = Path(__file__).parent / "fixtures" / "benchmarks"
CLA = FIX / "cla_number_and_rate_per_10k_children_excerpt.csv"
ONS = FIX / "ons_mid-year_population_estimates_excerpt.csv"
SN = FIX / "sn_model_2025_wide_excerpt.csv"
SN_2021 = FIX / "New_Statistical_Neighbour_Groupings_April_2021_excerpt.csv"
NEET = FIX / "UD_NEETNK_LA_dashboard_2025_excerpt.csv"
NEIGHBOURS_2025 = ["Portsmouth", "Southend-on-Sea", "Sheffield", "Milton Keynes", "Kirklees", "Salford",
                   "Bristol, City of", "Southampton", "Croydon", "Bournemouth, Christchurch and Poole"]
NEIGHBOUR_CODES = ["851", "882", "373", "826", "382", "355", "801", "852", "306", "839"]

CONFIG = """
[tracker]
city = "Leeds"

[obsessions.cla]
title = "Safely reduce the number of children looked after"
label = "Children looked after"
baseline_week = "2024-04-01"

[obsessions.neet]
title = "Reduce the number of young people NEET"
label = "Young people NEET"
baseline_week = "2024-04-01"

[obsessions.not_known]
title = "Reduce the young people whose activity is not known"
label = "Not known"
unit = "percent"
baseline_week = "2024-04-01"
aliases = ["neet_not_known"]

[areas]
clusters = ["North", "South"]
"""


@pytest.fixture
def config():
    return parse_config(CONFIG, "bench.toml")


def _rows(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _cla_rate(code=None, level="Local authority", year="2025", region=None):
    """count / population x 10,000 from the fixture's own cells."""
    for r in _rows(CLA):
        if r["time_period"] == year and "31 March" in r["population_type"] and r["geographic_level"] == level \
                and (code is None or r["old_la_code"] == code) and (region is None or r["region_name"] == region):
            return 10_000 * int(r["children_count"]) / int(r["population_estimate"])
    raise AssertionError("not in the fixture")


def _weekly(store, weeks, value=1300):
    rows = [(w, "cla", a, v, None, None) for w in weeks for a, v in (("Leeds", value), ("North", 700), ("South", 600))]
    store.save_figures(pd.DataFrame(rows, columns=COLUMNS), "weekly")


def _load_all(store, config):
    for fmt, path in (("dfe-sn", SN), ("dfe-cla", CLA), ("ons-population", ONS), ("dfe-neet", NEET)):
        import_files(store, [path], config, fmt=fmt)


def test_the_issues_figures_from_the_real_files(store, config):
    _load_all(store, config)
    p = store.published()
    leeds = next(f for f in p.figures if f.obsession == "cla" and f.area == "Leeds" and f.as_of == date(2025, 3, 31))
    assert (leeds.numerator, leeds.denominator) == (1498, 176239)
    assert leeds.rate == pytest.approx(1498 / 176239 * 10_000) and round(leeds.rate, 1) == 85.0
    england = next(f for f in p.figures if f.obsession == "cla" and f.area == "England" and f.as_of == date(2025, 3, 31))
    assert england.rate == pytest.approx(81770 / 12183016 * 10_000) and round(england.rate, 1) == 67.1
    neet = {f.obsession: f for f in p.figures if f.area == "Leeds" and f.as_of == date(2025, 2, 28)}
    assert (neet["neet"].value, neet["neet"].denominator) == (4.9, 19578)
    assert (neet["not_known"].value, neet["not_known"].denominator) == (3.9, 19578)


def test_neighbours_and_their_mean(store, config):
    _load_all(store, config)
    _weekly(store, [date(2025, 4, 7)])
    t = build_tracker(store.figure_table(), config, date(2025, 4, 7))
    marks = {b.kind: b for b in t.row("cla").benchmarks}
    sn = marks["statistical_neighbours"]
    assert list(sn.members) == NEIGHBOURS_2025 and sn.of == 10
    expected = sum(_cla_rate(c) for c in NEIGHBOUR_CODES) / 10   # the mean of the ten rates, as LAIT shows it
    assert sn.value == pytest.approx(expected, rel=1e-12)
    assert marks["city"].value == pytest.approx(1498 / 176239 * 10_000)
    assert marks["region"].area == "Yorkshire and The Humber"
    assert marks["region"].value == pytest.approx(_cla_rate(level="Regional", region="Yorkshire and The Humber"))
    assert marks["national"].value == pytest.approx(81770 / 12183016 * 10_000)
    assert [b.kind for b in t.row("cla").benchmarks] == ["city", "statistical_neighbours", "region", "national"]


@pytest.mark.parametrize("week,as_of", [(date(2025, 3, 24), date(2024, 3, 31)),   # before: last year's
                                        (date(2025, 3, 31), date(2025, 3, 31)),   # on
                                        (date(2025, 4, 7), date(2025, 3, 31))])   # after
def test_the_figure_that_applies_to_a_week(store, config, week, as_of):
    from renderers.formatting import benchmark_line
    from renderers.json_tracker import render_json

    _load_all(store, config)
    _weekly(store, [date(2025, 3, 24), date(2025, 3, 31), date(2025, 4, 7)])
    t = build_tracker(store.figure_table(), config, week)
    row = json.loads(render_json(t))["rows"][0]
    assert {b["as_of"] for b in row["benchmarks"]} == {as_of.isoformat()}
    city = next(b for b in row["benchmarks"] if b["kind"] == "city")
    assert city["value"] == pytest.approx(_cla_rate(code="383", year=str(as_of.year)))   # exact, not rounded
    assert city["unit"] == "per10k" and city["area"] == "Leeds"
    line = benchmark_line(t.row("cla").benchmarks)
    assert line.startswith(f"Published by the DfE, {as_of.day} March {as_of.year}, per 10,000 children: Leeds "
                           f"{round(_cla_rate(code='383', year=str(as_of.year)))} · statistical neighbours")
    assert line.endswith(f"England {round(_cla_rate(level='National', year=str(as_of.year)))}")


def test_rate_per_10000_uses_the_mid_year_estimate_before_the_week(store, config):
    _load_all(store, config)
    _weekly(store, [date(2024, 6, 24), date(2024, 7, 1)], value=1500)
    pops = {r["time_period"]: int(r["population_estimate"]) for r in _rows(ONS) if r["old_la_code"] == "383"}
    figures = store.figure_table()
    june = build_tracker(figures, config, date(2024, 6, 24)).row("cla")
    july = build_tracker(figures, config, date(2024, 7, 1)).row("cla")
    assert june.rate_per_10000 == pytest.approx(1500 / pops["2023"] * 10_000)   # mid-2024 not yet
    assert july.rate_per_10000 == pytest.approx(1500 / pops["2024"] * 10_000)
    d = json.loads(__import__("renderers.json_tracker", fromlist=["x"]).render_json(
        build_tracker(figures, config, date(2024, 7, 1))))
    assert d["rows"][0]["rate_per_10000"] == pytest.approx(1500 / pops["2024"] * 10_000)
    # NEET is published as a percentage of 16-17-year-olds: no rate of all children beside it
    assert build_tracker(figures, config, date(2024, 7, 1)).row("neet").rate_per_10000 is None


def test_cluster_populations_and_the_breakdown(store, config, tmp_path):
    from renderers.text import render_breakdown_text

    _load_all(store, config)
    pops = tmp_path / "clusters.csv"
    pops.write_text("area,year,population\nNorth,2024,90000\nSouth,2024,86239\n")
    import_files(store, [pops], config, fmt="ons-population")
    _weekly(store, [date(2025, 4, 7)])
    b = build_breakdown(store.figure_table(), config, "cla", date(2025, 4, 7))
    north = next(r for r in b.rows if r.area == "North")
    assert north.rate_per_10000 == pytest.approx(700 / 90000 * 10_000)
    text = render_breakdown_text(b)
    north_line = next(ln for ln in text.splitlines() if " North " in ln)
    assert north_line.rstrip().endswith(f" {700 / 90000 * 10_000:.0f}")   # the Per 10k column: 78
    city_line = next(i for i, ln in enumerate(text.splitlines()) if ln.strip().startswith("city"))
    assert text.splitlines()[city_line + 1].strip().startswith("Published by the DfE, 31 March 2025, per 10,000 children: Leeds 85")


def test_a_neighbour_missing_from_the_file(store, config, tmp_path):
    from renderers.formatting import benchmark_line

    cut = tmp_path / "cla.csv"
    lines = CLA.read_text(encoding="utf-8").splitlines(keepends=True)
    cut.write_text("".join(ln for ln in lines if ",306,Croydon," not in ln), encoding="utf-8")
    import_files(store, [SN], config, fmt="dfe-sn")
    import_files(store, [cut], config, fmt="dfe-cla")
    _weekly(store, [date(2025, 4, 7)])
    sn = next(b for b in build_tracker(store.figure_table(), config, date(2025, 4, 7)).row("cla").benchmarks
              if b.kind == "statistical_neighbours")
    assert "Croydon" not in sn.members and (len(sn.members), sn.of) == (9, 10)
    nine = [c for c in NEIGHBOUR_CODES if c != "306"]
    assert sn.value == pytest.approx(sum(_cla_rate(c) for c in nine) / 9)
    assert "statistical neighbours (mean of 9 of 10 rates)" in benchmark_line((sn,))


def test_an_authority_not_in_the_file_writes_nothing(store, config, tmp_path, monkeypatch):
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", store.url)
    before = store.published()
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG)
    monkeypatch.setenv("OBSESSION_CONFIG", str(cfg))
    assert main(["import", "--format", "dfe-cla", "--la", "Narnia", str(CLA)]) == 2
    assert store.published() == before
    with pytest.raises(ObsessionError, match='no local authority "Narnia"'):
        import_files(store, [NEET], config, fmt="dfe-neet", la="Narnia")
    assert store.published() == before


def test_configured_neighbours_by_name(store, tmp_path):
    cfg = parse_config(CONFIG + '\n[benchmarks]\nstatistical_neighbours = ["Sheffield", "kirklees"]\n', "c.toml")
    import_files(store, [CLA], cfg, fmt="dfe-cla")
    _weekly(store, [date(2025, 4, 7)])
    sn = next(b for b in build_tracker(store.figure_table(), cfg, date(2025, 4, 7)).row("cla").benchmarks
              if b.kind == "statistical_neighbours")
    assert sn.members == ("Sheffield", "Kirklees")
    assert sn.value == pytest.approx((_cla_rate("373") + _cla_rate("382")) / 2)


def test_the_older_model_layout_and_the_latest_model_wins(store, config):
    import_files(store, [SN], config, fmt="dfe-sn")
    import_files(store, [CLA], config, fmt="dfe-cla")
    import_files(store, [SN_2021], config, fmt="dfe-sn")   # loaded last: the one "dfe" means now
    from tracker.benchmarks import neighbour_names

    p = store.published()
    assert p.sn_model == SN_2021.stem
    names = neighbour_names(p, config)
    # Leeds' 2021 neighbours: 373 Sheffield first, 382 Kirklees ninth (of ten), by the older file's columns
    assert len(names) == 10 and names[0] == "Sheffield" and names[8] == "Kirklees"
    import_files(store, [SN], config, fmt="dfe-sn")
    assert neighbour_names(store.published(), config) == tuple(NEIGHBOURS_2025)


def test_reimporting_changes_nothing(store, config):
    _load_all(store, config)
    before = store.published()
    summary, _ = import_files(store, [CLA], config, fmt="dfe-cla")
    assert (summary.new, summary.revised) == (0, 0) and summary.unchanged > 0
    assert store.published() == before


def test_benchmark_areas_are_known_to_render(store, config, tmp_path, monkeypatch, capsys):
    from bot.cli import main

    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG)
    monkeypatch.setenv("OBSESSION_CONFIG", str(cfg))
    monkeypatch.setenv("DATABASE_URL", store.url)
    import_files(store, [SN], config, fmt="dfe-sn")
    import_files(store, [CLA], config, fmt="dfe-cla")
    _weekly(store, [date(2025, 4, 7)])
    assert main(["render", "--area", "England"]) == 0
    out = capsys.readouterr().out
    assert "Weekly obsessions tracker: England" in out and "England 67" in out
    assert main(["render", "--area", "Narnia"]) == 2
    err = capsys.readouterr().err
    for known in ("England", "Yorkshire and The Humber", "Sheffield", "North"):
        assert known in err


def test_after_the_attendance_import_england_is_a_known_area(store, demo_config, tmp_path, monkeypatch, capsys):
    """The weekly attendance file brings England and the region: render --area England works, and the
    absence rows carry the week's England and regional figures as their benchmarks."""
    from bot.cli import main
    from renderers.formatting import benchmark_line

    attendance = Path(__file__).parent / "fixtures" / "dfe_attendance_weekly_2025_excerpt.csv"
    import_files(store, [attendance], demo_config, fmt="dfe-attendance", today=date(2026, 1, 5))
    figures = store.figure_table()
    week = figures.latest_week()
    england = build_tracker(figures, demo_config, week, "england")
    assert england.area == "England" and england.area_kind == "comparator"
    rows = {r["time_identifier"]: r for r in _attendance_rows(attendance, week)}
    leeds = build_tracker(figures, demo_config, week).row("absence_primary")
    marks = {b.kind: b for b in leeds.benchmarks}
    assert set(marks) == {"city", "region", "national"} and marks["region"].area == "Yorkshire and The Humber"
    # each area's rate worked out from the file's own sessions for that week
    for kind, level in (("city", "Local authority"), ("region", "Regional"), ("national", "National")):
        r = rows[level]
        assert marks[kind].value == pytest.approx(100 * int(r["overall_absence"]) / int(r["possible_sessions"]))
        assert marks[kind].as_of == week
    assert benchmark_line(leeds.benchmarks).startswith(f"Published by the DfE, week commencing {week.day} ")
    monkeypatch.setenv("DATABASE_URL", store.url)
    monkeypatch.delenv("OBSESSION_CONFIG", raising=False)
    assert main(["render", "--area", "England"]) == 0
    assert "Weekly obsessions tracker: England" in capsys.readouterr().out


def _attendance_rows(path, week):
    """The file's Primary rows for Leeds, Yorkshire and The Humber and England in ISO week `week`."""
    out = []
    for r in _rows(path):
        if r["education_phase"] != "Primary" or r["time_identifier"] != f"Week {week.isocalendar()[1]}":
            continue
        if r["geographic_level"] == "National" or (r["geographic_level"] == "Regional"
                                                   and r["region_name"] == "Yorkshire and The Humber") \
                or r["la_name"] == "Leeds":
            out.append({**r, "time_identifier": r["geographic_level"]})
    return out


def test_the_chat_knows_the_benchmark_areas(store, config):
    from bot.chat.answer import answer

    import_files(store, [SN], config, fmt="dfe-sn")
    import_files(store, [CLA], config, fmt="dfe-cla")
    _weekly(store, [date(2025, 4, 7)])
    figures = store.figure_table()
    ans = answer("cluster=england", config, figures)
    assert ans.kind == "tracker" and ans.model.area == "England" and ans.model.area_kind == "comparator"
    assert answer("cla area=Yorkshire and The Humber", config, figures).model.area == "Yorkshire and The Humber"
    assert answer("cluster=Narnia", config, figures).kind == "error"


def test_the_benchmarks_table_is_checked():
    from tracker.errors import ConfigError

    with pytest.raises(ConfigError, match=r'bad.toml, line \d+: benchmarks.statistical_neighbours: \'nearest\' is not '
                                          r'allowed; use "dfe"'):
        parse_config(CONFIG + '[benchmarks]\nstatistical_neighbours = "nearest"\n', "bad.toml")
    with pytest.raises(ConfigError, match="not the city itself"):
        parse_config(CONFIG + '[benchmarks]\nstatistical_neighbours = ["Leeds", "Sheffield"]\n', "bad.toml")
    with pytest.raises(ConfigError, match='benchmarks.neighbours: unknown key; did you mean "statistical_neighbours"'):
        parse_config(CONFIG + '[benchmarks]\nneighbours = "dfe"\n', "bad.toml")
    with pytest.raises(ConfigError, match="tracker.la_code: must be a non-empty string"):
        parse_config(CONFIG.replace('city = "Leeds"', 'city = "Leeds"\nla_code = ""'), "bad.toml")
    assert parse_config(CONFIG.replace('city = "Leeds"', 'city = "Leeds"\nla_code = "E08000035"'), "c.toml").la_code \
        == "E08000035"


def test_a_configuration_without_the_obsession_is_told_what_to_add(store, small_config):
    from tracker.errors import ConfigError

    with pytest.raises(ConfigError, match=r"small.toml: obsessions: the dfe-neet import .* add \[obsessions.neet\]"):
        import_files(store, [NEET], small_config, fmt="dfe-neet")


def test_la_code_finds_the_city_when_its_name_differs(store, tmp_path):
    cfg = parse_config(CONFIG.replace('city = "Leeds"', 'city = "Leeds City"\nla_code = "E08000035"'), "c.toml")
    import_files(store, [CLA], cfg, fmt="dfe-cla")
    city = [f for f in store.published().figures if f.area == "Leeds City"]
    assert {f.as_of.year for f in city} == {2024, 2025} and all(f.denominator in (174311, 176239) for f in city)


def test_two_files_of_one_import(store, config, tmp_path):
    """The same figure in two files: once when they agree; refused, nothing written, when they do not."""
    same = tmp_path / "same.csv"
    same.write_text(CLA.read_text(encoding="utf-8"), encoding="utf-8")
    summary, _ = import_files(store, [CLA, same], config, fmt="dfe-cla")
    assert summary.new == len([f for f in store.published().figures])
    before = store.published()
    other = tmp_path / "other.csv"
    other.write_text(CLA.read_text(encoding="utf-8").replace(",176239,1498,85", ",176239,1499,85"), encoding="utf-8")
    with pytest.raises(ObsessionError, match="with a different figure; import one of the two files"):
        import_files(store, [CLA, other], config, fmt="dfe-cla")
    assert store.published() == before


def test_the_command_line_offers_every_published_format():
    """bot/cli.py keeps its own copy (no pandas at parse time): it must be the importer's list."""
    from bot.cli import PUBLISHED_FORMATS as CLI
    from data_sources.benchmark_import import PUBLISHED_FORMATS
    from data_sources.importing import FORMATS

    assert CLI == PUBLISHED_FORMATS and set(PUBLISHED_FORMATS) <= set(FORMATS)


def test_an_imported_area_whose_address_a_configured_area_has_is_left_out(store, config):
    from bot.chat.answer import answer
    from tracker.benchmarks import known_areas

    import_files(store, [SN], config, fmt="dfe-sn")
    import_files(store, [CLA], config, fmt="dfe-cla")
    _weekly(store, [date(2025, 4, 7)])
    before = known_areas(store.published(), config)
    neighbour = before[-1]
    # Spelt differently, the same address: "BRADFORD--" and "Bradford" are both /trackers/W/bradford.
    clash = neighbour.upper().replace(" ", "  ") + "--"
    clashing = parse_config(CONFIG.replace('clusters = ["North", "South"]', f'clusters = ["North", "South", "{clash}"]'),
                            "bench.toml")
    after = known_areas(store.published(), clashing)
    assert neighbour not in after and list(after) == [a for a in before if a != neighbour]
    figures = store.figure_table()
    # The chat's name matching (case, spaces and punctuation aside) finds the configured area, whose page it is.
    assert answer(f"cluster={neighbour}", clashing, figures).model.area == clash
    assert answer(f"cluster={neighbour}", config, figures).model.area == neighbour
