"""Bad input, tried deliberately: each malformed input gets its own clear message and leaves the store as it was."""
from __future__ import annotations

import csv
import io
import shutil
import sqlite3
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from data_sources.importing import import_files
from data_sources.sql_source import SqlSource
from tracker.errors import ObsessionError

FIXTURE = Path(__file__).parent / "fixtures" / "dfe_attendance_weekly_2025_excerpt.csv"
TODAY = date(2026, 1, 5)
HEADER = "week_commencing,obsession,area,value,numerator,denominator\n"
GOOD_ROW = "2020-01-06,cla,North,40,,\n"


def _xlsx_bytes(rows) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Figures"
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("figures.csv", HEADER + GOOD_ROW)
    return buf.getvalue()


def _fifty_mb(path: Path) -> None:
    with path.open("wb") as f:
        f.write(HEADER.encode() + GOOD_ROW.encode())
        f.truncate(50 * 1024 * 1024)   # sparse: 50 MB by size without writing them


def _dfe_renamed(path: Path) -> None:
    shutil.copy(FIXTURE, path)


def _leeds_primary_line() -> int:
    for n, line in enumerate(FIXTURE.read_text().splitlines(), start=1):
        if '"Leeds"' in line and '"Primary"' in line:
            return n
    raise AssertionError("no Leeds primary row in the fixture")


_LEEDS_PRIMARY_LINE = _leeds_primary_line()


def _dfe_with_text(path: Path) -> None:
    """The fixture with overall_absence of the first Leeds primary row replaced by text."""
    lines = FIXTURE.read_text().splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    row = next(csv.reader([lines[_LEEDS_PRIMARY_LINE - 1]]))
    row[header.index("overall_absence")] = "lots"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    lines[_LEEDS_PRIMARY_LINE - 1] = buf.getvalue()
    path.write_text("".join(lines))


BENCH = Path(__file__).parent / "fixtures" / "benchmarks"


def _bench(name: str, edit):
    """A writer of a benchmark fixture (tests/fixtures/benchmarks) with `edit(header, rows)` applied."""
    def write(path: Path) -> None:
        with (BENCH / name).open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1:]
        edit(header, body)
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([header, *[r for r in body if r]])
        path.write_text(buf.getvalue(), encoding="utf-8")
    return write


def _cell(column: str, value: str, where=lambda r, h: "Leeds" in r):
    """An edit setting one column of the first matching row (default: Leeds')."""
    def edit(header, rows):
        row = next(r for r in rows if where(r, header))
        row[header.index(column)] = value
    return edit


def _rename(column: str, to: str):
    def edit(header, rows):
        header[header.index(column)] = to
    return edit


def _repeat_leeds(header, rows):
    rows.append(list(next(r for r in rows if "Leeds" in r and "Children starting" not in str(r)
                          and "Children ceasing" not in str(r))))


_CLA = "cla_number_and_rate_per_10k_children_excerpt.csv"
_NEET = "UD_NEETNK_LA_dashboard_2025_excerpt.csv"
_ONS = "ons_mid-year_population_estimates_excerpt.csv"
_SN = "sn_model_2025_wide_excerpt.csv"
_LEEDS_CLA_2025 = lambda r, h: "Leeds" in r and "31 March" in r[h.index("population_type")]   # noqa: E731


# (id, file name, content: bytes | str | callable(path), options, expected fragment)
CASES = [
    ("empty file", "f.csv", b"", {}, "the file is empty"),
    ("header only", "f.csv", HEADER, {}, "there is a header but no figures"),
    ("blank lines only", "f.csv", HEADER + "\n,,,,,\n\n", {}, "there is a header but no figures"),
    ("missing column", "f.csv", "week_commencing,obsession,area\n2020-01-06,cla,North\n", {},
     'the column "value" is missing'),
    ("extra column", "f.csv", "week_commencing,obsession,area,value,notes\n2020-01-06,cla,North,40,hi\n", {},
     'unknown column "notes"'),
    ("misspelt column", "f.csv", "week_commencing,obsession,area,valeu\n2020-01-06,cla,North,40\n", {},
     'did you mean "value"?'),
    ("column named twice", "f.csv", "week_commencing,obsession,area,value,value\n2020-01-06,cla,North,40,41\n", {},
     'the column "value" is named twice'),
    ("text in a number", "f.csv", HEADER + "2020-01-06,cla,North,forty,,\n", {},
     'line 2, column value: "forty" is not a number'),
    ("decimal comma", "f.csv", HEADER + '2020-01-06,absence,North,"4,4",,\n', {}, '"4,4" is not a number'),
    ("infinity", "f.csv", HEADER + "2020-01-06,cla,North,inf,,\n", {}, '"inf" is not a number'),
    ("negative count", "f.csv", HEADER + "2020-01-06,cla,North,-3,,\n", {}, "-3 is negative"),
    ("fractional count", "f.csv", HEADER + "2020-01-06,cla,North,12.5,,\n", {}, "12.5 is not a whole number"),
    ("101 per cent", "f.csv", HEADER + "2020-01-06,absence,North,101,,\n", {},
     "101 is not a percentage between 0 and 100"),
    ("a Tuesday", "f.csv", HEADER + "2020-01-07,cla,North,40,,\n", {},
     "2020-01-07 is a Tuesday; give the Monday of its week, 2020-01-06"),
    ("31 February", "f.csv", HEADER + "2020-02-31,cla,North,40,,\n", {}, '"2020-02-31" is not a real date'),
    ("not a date", "f.csv", HEADER + "next week,cla,North,40,,\n", {}, '"next week" is not a date'),
    ("future week", "f.csv", HEADER + "2026-01-12,cla,North,40,,\n", {},
     "the week 2026-01-12 is in the future (today is 2026-01-05)"),
    ("unknown cluster", "f.csv", HEADER + "2020-01-06,cla,Nroth,40,,\n", {},
     '"Nroth" is not a cluster; did you mean "North"?'),
    ("unknown obsession", "f.csv", HEADER + "2020-01-06,clla,North,40,,\n", {},
     '"clla" is not an obsession; did you mean "cla"?'),
    ("empty area", "f.csv", HEADER + "2020-01-06,cla,,40,,\n", {}, "column area: is empty"),
    ("withheld mark", "f.csv", HEADER + "2020-01-06,cla,North,c,,\n", {}, '"c" marks a withheld figure'),
    ("duplicates that disagree", "f.csv", HEADER + GOOD_ROW + "2020-01-06,cla,North,41,,\n", {},
     "line 3, column value: cla for North in the week 2020-01-06 is 41 here but 40 on line 2"),
    ("numerator above denominator", "f.csv", HEADER + "2020-01-06,absence,North,,600,500\n", {},
     "600 is above the denominator 500"),
    ("value disagrees with its parts", "f.csv", HEADER + "2020-01-06,absence,North,9.5,50,1000\n", {},
     "9.5 does not agree with its numerator and denominator (100 × 50 / 1000 = 5.00)"),
    ("numerator without denominator", "f.csv", HEADER + "2020-01-06,absence,North,5,50,\n", {},
     "is empty but the numerator is given"),
    ("zero denominator", "f.csv", HEADER + "2020-01-06,absence,North,5,0,0\n", {}, "0 is not above 0"),
    ("parts on a count", "f.csv", HEADER + "2020-01-06,cla,North,40,40,100\n", {}, '"cla" is a count'),
    ("ragged CSV", "f.csv", HEADER + "2020-01-06,cla,North,40,,,,9\n", {}, "line 2: 8 cells but the header has 6"),
    ("neither UTF-8 nor Windows-1252", "f.csv", HEADER.encode() + b"2020-01-06,cla,North\x81,40,,\n", {},
     "neither UTF-8 nor Windows-1252"),
    ("truncated XLSX", "f.xlsx", lambda p: p.write_bytes(_xlsx_bytes([HEADER.strip().split(","), [
        "2020-01-06", "cla", "North", 40]])[:900]), {}, "damaged or incomplete"),
    ("XLSX without the sheet", "f.xlsx", lambda p: p.write_bytes(_xlsx_bytes([HEADER.strip().split(",")])),
     {"sheet": "Figurs"}, 'no sheet "Figurs"; did you mean "Figures"?'),
    ("XLSX with a bad cell", "f.xlsx", lambda p: p.write_bytes(_xlsx_bytes([
        HEADER.strip().split(","), ["2020-01-06", "cla", "North", "#DIV/0!"]])), {},
     'row 2, column D (value): "#DIV/0!" is not a number'),
    ("XLSX without a value column", "f.xlsx", lambda p: p.write_bytes(_xlsx_bytes([
        ["week_commencing", "obsession", "area"], ["2020-01-06", "cla", "North"]])), {},
     'f.xlsx, sheet "Figures", row 1: the column "value" is missing'),
    ("old .xls named .xlsx", "f.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, {}, "Excel 97-2003"),
    ("CSV that is really a ZIP", "f.csv", _zip_bytes(), {}, "this is a ZIP archive, not a CSV"),
    ("CSV that is really an XLSX", "f.csv", lambda p: p.write_bytes(_xlsx_bytes([["a"]])), {},
     "Excel workbook (XLSX) with a .csv name; rename it to .xlsx"),
    ("50 MB file", "big.csv", _fifty_mb, {}, "over the 20 MB limit"),
    ("no such file", None, None, {}, "no such file"),
    ("DfE file for an authority not in it", "dfe.csv", _dfe_renamed, {"fmt": "dfe-attendance", "la": "Narnia"},
     'no local authority "Narnia" in this file'),
    ("DfE authority misspelt", "dfe.csv", _dfe_renamed, {"fmt": "dfe-attendance", "la": "Leds"},
     'did you mean "Leeds"?'),
    ("DfE authority not the city", "dfe.csv", _dfe_renamed, {"fmt": "dfe-attendance", "la": "E08000032"},
     '"Bradford" is not the city "Leeds"'),
    ("long file as DfE", "f.csv", HEADER + GOOD_ROW, {"fmt": "dfe-attendance"},
     "not a DfE weekly 'Pupil attendance in schools' file"),
    ("DfE file as long", "dfe.csv", _dfe_renamed, {}, "--format dfe-attendance"),
    ("DfE file with text in a count", "dfe.csv", lambda p: _dfe_with_text(p),
     {"fmt": "dfe-attendance", "la": "Leeds"}, f'line {_LEEDS_PRIMARY_LINE}, column overall_absence: "lots" is not a number'),
    ("second file bad: nothing from the first", "two", None, {}, '"Nroth" is not a cluster'),
    ("SSDA903 without DEC", "e.csv", "CHILD,DECOM,LS,REC,HOME_POST\nC1,01/01/2020,C2,,\n", {"fmt": "ssda903"},
     'the column "DEC" is missing'),
    ("SSDA903 blank CHILD", "e.csv", "CHILD,DECOM,LS,DEC,REC,HOME_POST\n,01/01/2020,C2,,,\n", {"fmt": "ssda903"},
     "e.csv, line 2, column CHILD: is empty"),
    ("SSDA903 invalid CHILD", "e.csv", "CHILD,DECOM,LS,DEC,REC,HOME_POST\nC1234567890X,01/01/2020,C2,,,\n",
     {"fmt": "ssda903"}, "column CHILD: is not a valid child identifier"),
    ("SSDA903 DECOM not a date (rule 141)", "e.csv", "CHILD,DECOM,LS,DEC,REC,HOME_POST\nC1,31/02/2020,C2,,,\n",
     {"fmt": "ssda903"}, "line 2, column DECOM: is not a valid date (DfE rule 141)"),
    ("SSDA903 DEC not a date (rule 147)", "e.csv", "CHILD,DECOM,LS,DEC,REC,HOME_POST\nC1,01/01/2020,C2,soon,E11,\n",
     {"fmt": "ssda903"}, "line 2, column DEC: is not a valid date (DfE rule 147)"),
    ("SSDA903 DEC before DECOM (rule 356)", "e.csv",
     "CHILD,DECOM,LS,DEC,REC,HOME_POST\nC1,05/01/2020,C2,01/01/2020,E11,\n", {"fmt": "ssda903"},
     "line 2, column DEC: is before DECOM, the start of the same episode (DfE rule 356)"),
    ("SSDA903 unknown legal status (rule 144)", "e.csv", "CHILD,DECOM,LS,DEC,REC,HOME_POST\nC1,01/01/2020,X9,,,\n",
     {"fmt": "ssda903"}, 'line 2, column LS: "X9" is not a legal status code (DfE rule 144)'),
    ("SSDA903 XML not well-formed", "e.xml", "<EXPSSDA903><CHILD>\n<EPISODE>", {"fmt": "ssda903"},
     "not well-formed XML"),
    ("SSDA903 XML with a DTD", "e.xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><EXPSSDA903/>',
     {"fmt": "ssda903"}, "declares a document type"),
    ("SSDA903 --as-of in the future", "e.csv", "CHILD,DECOM,LS,DEC,REC,HOME_POST\nC1,01/01/2020,C2,,,\n",
     {"fmt": "ssda903", "as_of": date(2026, 2, 2)}, "--as-of 2026-02-02 is in the future"),
    ("NCCIS unknown activity code", "c.csv", "young_person_id,academic_age,activity_code,postcode\nY1,16,999,\n",
     {"fmt": "nccis", "obsession": "attend", "as_of": date(2025, 3, 3)},
     'line 2, column activity_code: "999" is not an NCCIS activity code'),
    ("NCCIS age not a whole number", "c.csv", "young_person_id,academic_age,activity_code,postcode\nY1,16.5,540,\n",
     {"fmt": "nccis", "obsession": "attend", "as_of": date(2025, 3, 3)},
     "line 2, column academic_age: is not a whole number of years"),
    ("NCCIS young person twice", "c.csv",
     "young_person_id,academic_age,activity_code,postcode\nY1,16,540,\nY1,17,110,\n",
     {"fmt": "nccis", "obsession": "attend", "as_of": date(2025, 3, 3)},
     "line 3, column young_person_id: the same young person is on line 2 too"),
    ("NCCIS without a snapshot date", "c.csv", "young_person_id,academic_age,activity_code,postcode\nY1,16,540,\n",
     {"fmt": "nccis", "obsession": "attend"}, "give the date of the snapshot with --as-of"),
    ("NCCIS with --from", "c.csv", "young_person_id,academic_age,activity_code,postcode\nY1,16,540,\n",
     {"fmt": "nccis", "obsession": "attend", "start": date(2025, 1, 6)}, "--from is only for --format ssda903"),
    ("sessions: absence above possible", "s.csv",
     "week_commencing,urn,phase,possible_sessions,absence_sessions\n2025-03-03,100001,primary,100,101\n",
     {"fmt": "school-sessions"}, "line 2, column absence_sessions: is above possible_sessions"),
    ("sessions: negative", "s.csv",
     "week_commencing,urn,phase,possible_sessions,absence_sessions\n2025-03-03,100001,primary,-100,0\n",
     {"fmt": "school-sessions"}, "line 2, column possible_sessions: is negative"),
    ("sessions: fractional", "s.csv",
     "week_commencing,urn,phase,possible_sessions,absence_sessions\n2025-03-03,100001,primary,100,2.5\n",
     {"fmt": "school-sessions"}, "line 2, column absence_sessions: is not a whole number"),
    ("sessions: unknown phase", "s.csv",
     "week_commencing,urn,phase,possible_sessions,absence_sessions\n2025-03-03,100001,nursery,100,2\n",
     {"fmt": "school-sessions"}, 'line 2, column phase: "nursery" is not a phase; use "primary" or "secondary"'),
    # Published benchmark files (issue 12)
    ("CLA file with a column renamed", "dfe.csv", _bench(_CLA, _rename("rate_per_10000", "rate")), {"fmt": "dfe-cla"},
     'the column(s) "rate_per_10000" are missing'),
    ("CLA rate disagrees with count and population", "dfe.csv",
     _bench(_CLA, _cell("rate_per_10000", "95", _LEEDS_CLA_2025)), {"fmt": "dfe-cla"},
     "the published rate 95 disagrees with children_count / population_estimate x 10,000 = 85.0"),
    ("CLA text in a count", "dfe.csv", _bench(_CLA, _cell("children_count", "about 1500", _LEEDS_CLA_2025)),
     {"fmt": "dfe-cla"}, 'column children_count: "about 1500" is not a number'),
    ("CLA row twice", "dfe.csv", _bench(_CLA, _repeat_leeds), {"fmt": "dfe-cla"}, "is given twice (first at line"),
    ("CLA file for an authority not in it", "dfe.csv", _bench(_CLA, lambda h, r: None),
     {"fmt": "dfe-cla", "la": "Narnia"}, 'no local authority "Narnia" in this file'),
    ("NEET file with a column renamed", "dfe.csv", _bench(_NEET, _rename("NEET_percent", "NEET_pc")),
     {"fmt": "dfe-neet"}, 'the column(s) "neet_percent"'),
    ("NEET text in a percentage", "dfe.csv", _bench(_NEET, _cell("NEET_percent", "4.9%")), {"fmt": "dfe-neet"},
     'column NEET_percent: "4.9%" is not a number'),
    ("NEET parts disagree with the total", "dfe.csv", _bench(_NEET, _cell("NEET_percent", "6.9")),
     {"fmt": "dfe-neet"}, "is not NEET 6.9 + not known 3.9"),
    ("NEET row twice", "dfe.csv", _bench(_NEET, _repeat_leeds), {"fmt": "dfe-neet"}, "is given twice"),
    ("ONS population as text", "dfe.csv", _bench(_ONS, _cell("population_estimate", "lots")),
     {"fmt": "ons-population"}, 'column population_estimate: "lots" is not a number'),
    ("ONS population row twice", "dfe.csv", _bench(_ONS, _repeat_leeds), {"fmt": "ons-population"}, "is given twice"),
    ("cluster population for an unknown cluster", "dfe.csv", "area,year,population\nNroth,2024,9000\n",
     {"fmt": "ons-population"}, '"Nroth" is not the city or a cluster'),
    ("SN model with a neighbour that is not a code", "dfe.csv", _bench(_SN, _cell("SN_3", "Sheffield")),
     {"fmt": "dfe-sn"}, 'column SN_3: "Sheffield" is not an old LA code'),
    ("SN model authority twice", "dfe.csv", _bench(_SN, _repeat_leeds), {"fmt": "dfe-sn"},
     "the authority 383 (Leeds) is given twice"),
    ("SN model with the wrong columns", "dfe.csv", "code,name\n383,Leeds\n", {"fmt": "dfe-sn"},
     "this is not a DfE statistical neighbour model"),
    ("events: not a date", "dfe.csv", "date,label,obsession\nsoon,Family group conferencing,cla\n",
     {"fmt": "events"}, '"soon" is not a date'),
    ("events: unknown obsession", "dfe.csv", "date,label,obsession\n2013-09-02,Family group conferencing,clla\n",
     {"fmt": "events"}, '"clla" is not an obsession'),
]


def _write(case, tmp_path: Path) -> list[Path]:
    _, name, content, _, _ = case
    if name is None:
        return [tmp_path / "missing.csv"]
    if name == "two":
        a, b = tmp_path / "a.csv", tmp_path / "b.csv"
        a.write_text(HEADER + "2020-02-03,cla,North,39,,\n")
        b.write_text(HEADER + "2020-02-03,cla,Nroth,40,,\n")
        return [a, b]
    path = tmp_path / name
    if callable(content):
        content(path)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return [path]


def _snapshot(store):
    f = store.figures_frame().sort_values(["week_commencing", "obsession", "area"]).reset_index(drop=True)
    return f, store.count(), len(store.revisions()), store.published()


def test_there_are_at_least_25_cases():
    assert len(CASES) >= 25
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_and_store_unchanged(case, tmp_path, store, small_config, demo_config, small_frame):
    store.save_figures(small_frame, "seed")
    before = _snapshot(store)
    opts = dict(case[3])
    config = demo_config if opts.get("fmt") == "dfe-attendance" or case[1] == "dfe.csv" else small_config
    paths = _write(case, tmp_path)
    with pytest.raises(ObsessionError) as err:
        import_files(store, paths, config, today=TODAY, **opts)
    assert err.value.exit_code == 2
    assert case[4] in str(err.value), str(err.value)
    after = _snapshot(store)
    pd.testing.assert_frame_equal(before[0], after[0])
    assert before[1:] == after[1:]


def _sqlite_db(tmp_path: Path, rows) -> str:
    db = tmp_path / "warehouse.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE figs (wc TEXT, obs TEXT, area TEXT, figure REAL)")
    con.executemany("INSERT INTO figs VALUES (?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return f"sqlite:///{db}"


SQL_CASES = [
    ("query returns no rows", "SELECT wc AS week_commencing, obs AS obsession, area, figure AS value FROM figs WHERE 1 = 0",
     {}, "the query returned no rows"),
    ("query returns the wrong columns", "SELECT wc, obs, area, figure FROM figs", {},
     'the query returned no column "week_commencing" for week_commencing'),
    ("mapping names a missing column", "SELECT wc AS week_commencing, obs AS obsession, area, figure FROM figs",
     {"value": "amount"}, 'the query returned no column "amount" for value'),
    ("query with a bad row", "SELECT wc AS week_commencing, obs AS obsession, area, figure AS value FROM figs", {},
     'source warehouse, row 2, column area: "Soth" is not a cluster; did you mean "South"?'),
    ("query that is not SQL", "SELEKT nothing", {}, "the query failed"),
]


@pytest.mark.parametrize("case", SQL_CASES, ids=[c[0] for c in SQL_CASES])
def test_bad_query_is_refused_and_store_unchanged(case, tmp_path, store, small_config, small_frame):
    store.save_figures(small_frame, "seed")
    before = _snapshot(store)
    url = _sqlite_db(tmp_path, [("2020-02-03", "cla", "North", 40), ("2020-02-03", "cla", "Soth", 30)])
    source = SqlSource(name="warehouse", url_env="WAREHOUSE_URL", query=case[1], columns=case[2], key="sources[0]")
    with pytest.raises(ObsessionError) as err:
        loaded = source.load(small_config, {"WAREHOUSE_URL": url}, TODAY)
        store.save_figures(loaded.frame, loaded.source)
    assert case[3] in str(err.value), str(err.value)
    after = _snapshot(store)
    pd.testing.assert_frame_equal(before[0], after[0])
    assert before[1:] == after[1:]


def test_at_most_20_messages_then_a_count(tmp_path, small_config):
    from data_sources.importing import load_files
    from tracker.errors import ValidationFailed

    p = tmp_path / "many.csv"
    p.write_text(HEADER + "".join(f"2020-01-{d:02d},cla,North,x{d},,\n" for d in range(6, 6 + 7 * 30, 7)
                                  if d <= 27) + "".join("2020-02-03,cla,Nowhere,1,,\n" for _ in range(26)))
    with pytest.raises(ValidationFailed) as err:
        load_files([p], small_config, today=TODAY)
    problems = err.value.problems
    assert len(problems) == 4 + 26
    lines = str(err.value).splitlines()
    assert lines[:20] == problems[:20]
    assert lines[20] == "... and 10 more problems"
    assert "nothing was written" in lines[21]
