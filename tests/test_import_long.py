"""Importing the long format from CSV and XLSX: what lands in the store, re-imports, revisions, encodings."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from data_sources.importing import import_files, load_files
from tracker.config import parse_config
from tracker.errors import ValidationFailed

TODAY = date(2026, 1, 5)
HEADER = "week_commencing,obsession,area,value,numerator,denominator\n"
ROWS = [  # (week, obsession, area, value, numerator, denominator) as written in the file
    ("2020-01-06", "cla", "Testville", "100", "", ""),
    ("2020-01-06", "cla", "North", "40", "", ""),
    ("2020-01-06", "absence", "Testville", "5", "100", "2000"),
    ("2020-01-13", "cla", "Testville", "98", "", ""),
    ("2020-01-13", "absence", "North", "4.0", "40", "1000"),
]


def _csv(rows) -> str:
    return HEADER + "".join(",".join(r) + "\n" for r in rows)


def _stored(store) -> dict:
    f = store.figures_frame()
    out = {}
    for r in f.itertuples(index=False):
        num = None if r.numerator != r.numerator else r.numerator
        den = None if r.denominator != r.denominator else r.denominator
        out[(r.week_commencing.date().isoformat(), r.obsession, r.area)] = (r.value, num, den)
    return out


def _expected(rows) -> dict:
    return {(w, o, a): (float(v), float(n) if n else None, float(d) if d else None) for w, o, a, v, n, d in rows}


def test_csv_lands_in_the_store_exactly(tmp_path, store, small_config):
    p = tmp_path / "figures.csv"
    p.write_text(_csv(ROWS))
    summary, _ = import_files(store, [p], small_config, today=TODAY)
    assert (summary.new, summary.revised, summary.unchanged) == (5, 0, 0)
    assert _stored(store) == _expected(ROWS)
    assert "weeks 2020-01-06 to 2020-01-13 (2 weeks)" in summary.describe()


def test_reimport_changes_nothing(tmp_path, store, small_config):
    p = tmp_path / "figures.csv"
    p.write_text(_csv(ROWS))
    import_files(store, [p], small_config, today=TODAY)
    before = _stored(store)
    summary, _ = import_files(store, [p], small_config, today=TODAY)
    assert (summary.new, summary.revised, summary.unchanged) == (0, 0, 5)
    assert _stored(store) == before
    assert store.revisions() == []


def test_a_revised_figure_replaces_the_old_and_is_kept(tmp_path, store, small_config):
    first = tmp_path / "first.csv"
    first.write_text(_csv(ROWS))
    import_files(store, [first], small_config, today=TODAY)
    revised_rows = list(ROWS)
    revised_rows[1] = ("2020-01-06", "cla", "North", "41", "", "")
    second = tmp_path / "second.csv"
    second.write_text(_csv(revised_rows))
    summary, _ = import_files(store, [second], small_config, today=TODAY)
    assert (summary.new, summary.revised, summary.unchanged) == (0, 1, 4)
    assert _stored(store) == _expected(revised_rows)
    (rev,) = store.revisions()
    assert (rev["obsession"], rev["area"], rev["old_value"], rev["new_value"]) == ("cla", "North", 40.0, 41.0)
    assert str(first.resolve()) in rev["old_source"] and str(second.resolve()) in rev["new_source"]


def test_each_figure_of_a_multi_file_run_names_its_own_file(tmp_path, store, small_config):
    from sqlalchemy import select

    from tracker.store import figures_table

    first = tmp_path / "first.csv"
    first.write_text(_csv(ROWS))
    import_files(store, [first], small_config, today=TODAY)
    # One run of two files: a.csv revises North's 2020-01-06 figure; b.csv adds a week.
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(_csv([("2020-01-06", "cla", "North", "41", "", "")]))
    b.write_text(_csv([("2020-01-20", "cla", "Testville", "97", "", "")]))
    summary, _ = import_files(store, [a, b], small_config, today=TODAY)
    assert (summary.new, summary.revised) == (1, 1)
    (rev,) = store.revisions()
    assert str(a.resolve()) in rev["new_source"] and str(b.resolve()) not in rev["new_source"]
    with store.engine.connect() as conn:
        src = dict(conn.execute(select(figures_table.c.week_commencing, figures_table.c.source)
                                .where(figures_table.c.week_commencing >= date(2020, 1, 20))).all())
    assert str(b.resolve()) in src[date(2020, 1, 20)] and str(a.resolve()) not in src[date(2020, 1, 20)]


def test_bom_and_windows_1252_are_read_not_garbled(tmp_path, store):
    config = parse_config("""
[tracker]
city = "Testville"
[obsessions.cla]
title = "Children looked after"
baseline_week = "2020-01-06"
[areas]
clusters = ["Café Quarter", "North"]
""", "cafe.toml")
    rows = [("2020-01-06", "cla", "Café Quarter", "12", "", ""), ("2020-01-06", "cla", "North", "7", "", "")]
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + _csv(rows).encode("utf-8"))
    cp = tmp_path / "excel.csv"
    cp.write_bytes(_csv(rows).encode("cp1252"))
    assert b"Caf\xe9" in cp.read_bytes()   # really not UTF-8
    summary, notes = import_files(store, [bom], config, today=TODAY)
    assert summary.new == 2
    summary, notes = import_files(store, [cp], config, today=TODAY)
    assert (summary.new, summary.unchanged) == (0, 2)
    assert any("Windows-1252" in n for n in notes)
    assert set(store.figures_frame()["area"]) == {"Café Quarter", "North"}


def test_utf16_tab_separated_as_excel_unicode_text(tmp_path, store, small_config):
    p = tmp_path / "unicode.txt"
    p.write_bytes(_csv(ROWS).replace(",", "\t").encode("utf-16"))   # with its byte-order mark
    assert p.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    summary, _ = import_files(store, [p], small_config, today=TODAY)
    assert summary.new == 5
    assert _stored(store) == _expected(ROWS)


def _xlsx(path: Path, sheets: dict) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(list(r))
    wb.save(path)


def test_xlsx_first_sheet_and_named_sheet(tmp_path, store, small_config):
    head = HEADER.strip().split(",")
    first = [head, [datetime(2020, 1, 6), "cla", "Testville", 100, None, None],
             [datetime(2020, 1, 6), "absence", "North", 4.0, 40, 1000]]
    other = [["notes"], ["ignore me"]]
    second = [head, ["2020-01-13", "cla", "North", 38, None, None]]
    p = tmp_path / "figures.xlsx"
    _xlsx(p, {"Figures": first, "Notes": other, "Later": second})
    summary, _ = import_files(store, [p], small_config, today=TODAY)
    assert summary.new == 2
    summary, _ = import_files(store, [p], small_config, sheet="later", today=TODAY)
    assert summary.new == 1
    assert _stored(store) == {
        ("2020-01-06", "cla", "Testville"): (100.0, None, None),
        ("2020-01-06", "absence", "North"): (4.0, 40.0, 1000.0),
        ("2020-01-13", "cla", "North"): (38.0, None, None),
    }


def test_friendly_forms_are_read_to_the_configured_names(tmp_path, small_config):
    p = tmp_path / "f.csv"
    p.write_text(HEADER + '06/01/2020,LAC,north,"1,247",,\n'
                          "2020-01-06,Absence,SOUTH,,30,500\n"
                          "2020-01-06,cla,South,30,,\n2020-01-06,cla,South,30,,\n")
    loaded = load_files([p], small_config, today=TODAY)
    got = {(r.obsession, r.area): (r.value, r.numerator, r.denominator)
           for r in loaded.frame.itertuples(index=False)}
    assert set(got) == {("cla", "North"), ("absence", "South"), ("cla", "South")}
    assert got[("cla", "North")][0] == 1247.0
    assert got[("absence", "South")] == (pytest.approx(100 * 30 / 500), 30.0, 500.0)
    assert set(loaded.frame["week_commencing"].dt.date) == {date(2020, 1, 6)}


def test_files_are_all_or_nothing_and_disagreements_name_both_files(tmp_path, store, small_config):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(_csv([("2020-01-06", "cla", "North", "40", "", "")]))
    b.write_text(_csv([("2020-01-13", "cla", "North", "39", "", ""), ("2020-01-06", "cla", "North", "42", "", "")]))
    with pytest.raises(ValidationFailed) as err:
        import_files(store, [a, b], small_config, today=TODAY)
    (problem,) = err.value.problems
    assert f"{b}, line 3, column value" in problem and f"line 2 of {a}" in problem
    assert store.count() == 0


def test_this_weeks_monday_is_not_the_future(tmp_path, small_config):
    p = tmp_path / "f.csv"
    p.write_text(_csv([("2026-01-05", "cla", "North", "40", "", "")]))
    assert len(load_files([p], small_config, today=date(2026, 1, 11)).frame) == 1
    with pytest.raises(ValidationFailed):
        load_files([p], small_config, today=date(2026, 1, 4))


def test_the_command(tmp_path, demo_env, monkeypatch, capsys):
    from bot.cli import main

    good = tmp_path / "good.csv"
    good.write_text(HEADER + "2015-07-20,cla,Leeds,1247,,\n2015-07-20,cla,Armley,52,,\n")
    assert main(["import", str(good)]) == 0
    out = capsys.readouterr().out
    assert "2 new, 0 revised, 0 unchanged" in out
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "2015-07-20,cla,Seacroft Mansotn,12,,\n")
    assert main(["import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f'{bad}, line 2, column area: "Seacroft Mansotn" is not a cluster; did you mean "Seacroft Manston"?' in err
    assert "nothing was written" in err
