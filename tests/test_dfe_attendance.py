"""The DfE weekly attendance file: Leeds' absence figures, England and the region as comparators."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from data_sources.dfe_attendance import read_dfe
from data_sources.importing import import_files, load_files

FIXTURE = Path(__file__).parent / "fixtures" / "dfe_attendance_weekly_2025_excerpt.csv"
TODAY = date(2026, 1, 5)
REGION = "Yorkshire and The Humber"


def _published(level: str, name_col: str, name: str, path: Path = FIXTURE) -> dict:
    """{(week, obsession): (overall_absence, possible_sessions, overall_absence_perc)} read with the csv module."""
    out = {}
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["geographic_level"] != level or row[name_col] != name:
                continue
            key = {"Primary": "absence_primary", "Secondary": "absence_secondary"}.get(row["education_phase"])
            if key is None:
                continue
            week = date.fromisocalendar(int(row["time_period"]), int(row["time_identifier"].split()[1]), 1)
            out[(week, key)] = (float(row["overall_absence"]), float(row["possible_sessions"]),
                                float(row["overall_absence_perc"]))
    return out


def _frame_dict(frame: pd.DataFrame, area: str) -> dict:
    g = frame[frame["area"] == area]
    return {(w.date(), o): (v, n, d) for w, o, v, n, d in
            g[["week_commencing", "obsession", "value", "numerator", "denominator"]].itertuples(index=False)}


@pytest.mark.parametrize("la", ["Leeds", "E08000035", "383", "leeds"])
def test_leeds_figures_match_the_published_percentages(la, demo_config):
    frame = load_files([FIXTURE], demo_config, fmt="dfe-attendance", la=la, today=TODAY).frame
    got = _frame_dict(frame, "Leeds")
    expected = _published("Local authority", "la_name", "Leeds")
    assert set(got) == set(expected)
    for key, (oa, ps, perc) in expected.items():
        value, num, den = got[key]
        assert (num, den) == (oa, ps)
        assert value == pytest.approx(100 * oa / ps, abs=1e-12)
        assert value == pytest.approx(perc, abs=1e-9)   # the DfE's own figure
    # Published Leeds primary absence, week 37 of 2025 (w/c 8 September): 4.147 %.
    assert got[(date(2025, 9, 8), "absence_primary")][0] == pytest.approx(4.14671662952493, abs=1e-12)


def test_england_and_the_region_become_comparators(demo_config):
    frame = load_files([FIXTURE], demo_config, fmt="dfe-attendance", la="Leeds", today=TODAY).frame
    assert set(frame["area"]) == {"Leeds", "England", REGION}
    for area, level, col, name in (("England", "National", "country_name", "England"),
                                   (REGION, "Regional", "region_name", REGION)):
        got = _frame_dict(frame, area)
        expected = _published(level, col, name)
        assert set(got) == set(expected)
        for key, (oa, ps, _) in expected.items():
            assert got[key] == (pytest.approx(100 * oa / ps), oa, ps)
    assert demo_config.area_kind("England") == "comparator"


def test_only_primary_and_secondary_and_holiday_weeks_stay_absent(demo_config):
    frame = load_files([FIXTURE], demo_config, fmt="dfe-attendance", today=TODAY).frame
    assert set(frame["obsession"]) == {"absence_primary", "absence_secondary"}
    weeks = sorted(set(frame["week_commencing"].dt.date))
    # Weeks 37-45 of 2025 less week 44 (half term in Leeds and the region as published)
    assert weeks == [date.fromisocalendar(2025, n, 1) for n in (37, 38, 39, 40, 41, 42, 43, 45)]
    assert len(frame) == 3 * 2 * 8


def test_older_files_with_school_type(tmp_path, demo_config):
    text = FIXTURE.read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    old = tmp_path / "older.csv"
    old.write_text(header.replace('"education_phase"', '"school_type"') + "\n"
                   + rest.replace('"Primary"', '"State-funded primary"').replace('"Secondary"', '"State-funded secondary"'))
    newer = load_files([FIXTURE], demo_config, fmt="dfe-attendance", today=TODAY).frame
    older = load_files([old], demo_config, fmt="dfe-attendance", today=TODAY).frame
    figures = [c for c in newer.columns if c != "source"]          # the files' names differ, not their figures
    pd.testing.assert_frame_equal(newer[figures].reset_index(drop=True), older[figures].reset_index(drop=True))


def test_withheld_rows_are_left_out_with_a_note(tmp_path, demo_config):
    lines = FIXTURE.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    col = header.index("overall_absence")
    for n, line in enumerate(lines):
        row = next(csv.reader([line]))
        if row[header.index("la_name")] == "Leeds" and row[header.index("education_phase")] == "Secondary" \
                and row[header.index("time_identifier")] == "Week 38":
            row[col] = "c"
            lines[n] = ",".join(f'"{c}"' for c in row) + "\n"
            break
    p = tmp_path / "withheld.csv"
    p.write_text("".join(lines))
    checked = read_dfe(p, demo_config, "Leeds", TODAY)
    assert not checked.problems
    got = _frame_dict(checked.frame, "Leeds")
    assert (date.fromisocalendar(2025, 38, 1), "absence_secondary") not in got
    assert (date.fromisocalendar(2025, 38, 1), "absence_primary") in got
    assert any("withheld" in n for n in checked.notes)


def test_a_neighbour_can_be_loaded_as_a_configured_comparator(demo_config):
    from dataclasses import replace

    config = replace(demo_config, comparators=("Bradford",))
    frame = load_files([FIXTURE], config, fmt="dfe-attendance", la="380", today=TODAY).frame
    assert "Bradford" in set(frame["area"]) and "Leeds" not in set(frame["area"])


def test_the_rest_of_the_product_copes_with_comparator_areas(store, demo_config, demo_frame):
    from renderers.json_tracker import render_json
    from renderers.text import render_breakdown_text, render_text
    from tracker.arithmetic import build_breakdown, build_tracker
    from tracker.quality import check_week

    store.save_figures(demo_frame[demo_frame["week_commencing"] >= date(2025, 6, 2)], "demo")
    summary, _ = import_files(store, [FIXTURE], demo_config, fmt="dfe-attendance", today=TODAY)
    assert summary.new == 32 and summary.revised == 16   # England and the region new; Leeds' own revised
    figures = store.figure_table()
    week = date(2025, 11, 3)
    tracker = build_tracker(figures, demo_config, week)
    expected = _published("Local authority", "la_name", "Leeds")[(week, "absence_primary")]
    assert tracker.row("absence_primary").latest == pytest.approx(100 * expected[0] / expected[1])
    assert "Leeds" in render_text(tracker) and render_json(tracker)
    breakdown = build_breakdown(figures, demo_config, "absence_primary", week)
    assert {r.area for r in breakdown.rows} == set(demo_config.clusters)
    assert render_breakdown_text(breakdown)
    assert check_week(figures, demo_config, week, as_of=week).week == week


def test_the_command(demo_env, capsys):
    from bot.cli import main

    assert main(["import", str(FIXTURE), "--format", "dfe-attendance", "--la", "E08000035"]) == 0
    out = capsys.readouterr().out
    assert "48 new, 0 revised, 0 unchanged" in out
    assert "agrees with the published overall_absence_perc" in out
    assert main(["import", str(FIXTURE), "--format", "dfe-attendance", "--la", "Leeds"]) == 0
    assert "0 new, 0 revised, 48 unchanged" in capsys.readouterr().out
