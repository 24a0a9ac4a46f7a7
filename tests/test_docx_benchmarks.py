"""The Word tracker, breakdown and agenda pack carry the DfE's benchmark line under the right row, and
the rate per 10,000 children where the text shows it (renderers/docx.py); read back with python-docx
and, converted by LibreOffice, from the PDF's text.

The published figures are the excerpts in tests/fixtures/benchmarks (DfE, OGL v3.0; see the README
there); every expected figure is worked out here from the fixture's cells, never taken from the code
under test.
"""
from __future__ import annotations

import io
import re
from datetime import date

import pandas as pd
import pytest
from docx import Document
from docx.oxml.ns import qn

from data_sources.importing import import_files
from renderers.docx import render_docx
from renderers.pack import build_pack, render_pack_docx
from tests.agenda_expect import pdf_text, tokens
from tests.test_agenda_docx import libreoffice_pdf
from tests.test_benchmarks import CLA, CONFIG, NEET, NEIGHBOUR_CODES, ONS, SN, _cla_rate, _rows
from tracker.arithmetic import build_breakdown, build_tracker
from tracker.config import parse_config
from tracker.figures import COLUMNS

WEEK = date(2025, 4, 7)
SEP = " · "
CLUSTERS = {"North": 30000, "South": 90000, "East": 56239}     # children 0-17, mid-2024 (made up for the test)
# Leeds and its clusters each week: North's 3 is below 5 and withheld; East, the smallest other
# cluster, with it (else Leeds minus South would give North away).
WEEKLY = {date(2024, 4, 1): {"Leeds": 1422, "North": 3, "South": 760, "East": 659},
          date(2025, 3, 31): {"Leeds": 1305, "North": 3, "South": 705, "East": 597},
          WEEK: {"Leeds": 1300, "North": 3, "South": 700, "East": 597}}
CLA_TITLE = "Safely reduce the number of children looked after"
NEET_TITLE = "Reduce the number of young people NEET"
NOT_KNOWN_TITLE = "Reduce the young people whose activity is not known"


@pytest.fixture
def config():
    return parse_config(CONFIG.replace('clusters = ["North", "South"]', 'clusters = ["North", "South", "East"]'),
                        "bench.toml")


@pytest.fixture
def figures(store, config, tmp_path):
    for fmt, path in (("dfe-sn", SN), ("dfe-cla", CLA), ("ons-population", ONS), ("dfe-neet", NEET)):
        import_files(store, [path], config, fmt=fmt)
    pops = tmp_path / "clusters.csv"
    pops.write_text("area,year,population\n" + "".join(f"{a},2024,{n}\n" for a, n in CLUSTERS.items()))
    import_files(store, [pops], config, fmt="ons-population")
    rows = [(w, "cla", a, v, None, None) for w, areas in WEEKLY.items() for a, v in areas.items()]
    store.save_figures(pd.DataFrame(rows, columns=COLUMNS), "weekly")
    return store.figure_table()


# ---- the expected lines, from the fixture's cells ------------------------------------------------

def cla_line() -> str:
    """Each rate count / population x 10,000 from the CLA file; the neighbours' the mean of their ten rates."""
    leeds = _cla_rate(code="383")
    sn = sum(_cla_rate(c) for c in NEIGHBOUR_CODES) / len(NEIGHBOUR_CODES)
    region = _cla_rate(level="Regional", region="Yorkshire and The Humber")
    england = _cla_rate(level="National")
    return (f"Published by the DfE, 31 March 2025, per 10,000 children: Leeds {round(leeds)}{SEP}"
            f"statistical neighbours (mean of 10 rates) {round(sn)}{SEP}"
            f"Yorkshire and The Humber {round(region)}{SEP}England {round(england)}")


def neet_line(column: str, what: str) -> str:
    """The NCCIS file's own percentages for Leeds, the region and England; the neighbours' mean of theirs."""
    rows = [r for r in _rows(NEET) if r["time_period"] == "2025"]
    la = {r["old_la_code"]: float(r[column]) for r in rows if r["geographic_level"] == "Local authority"}
    region = next(float(r[column]) for r in rows if r["geographic_level"] == "Regional"
                  and r["region_name"] == "Yorkshire and The Humber")
    england = next(float(r[column]) for r in rows if r["geographic_level"] == "National")
    sn = sum(la[c] for c in NEIGHBOUR_CODES) / len(NEIGHBOUR_CODES)
    return (f"Published by the DfE, 28 February 2025, % of 16-17-year-olds {what} (Dec-Feb average): "
            f"Leeds {la['383']:.1f} %{SEP}statistical neighbours (mean of 10 rates) {sn:.1f} %{SEP}"
            f"Yorkshire and The Humber {region:.1f} %{SEP}England {england:.1f} %")


def lines() -> dict[str, str]:
    """Each obsession's title and the line that must stand under its row, in the tracker's order."""
    return {CLA_TITLE: cla_line(), NEET_TITLE: neet_line("NEET_percent", "NEET"),
            NOT_KNOWN_TITLE: neet_line("Notknown_percent", "whose activity is not known")}


def city_population() -> int:
    return next(int(r["population_estimate"]) for r in _rows(ONS)
                if r["old_la_code"] == "383" and r["time_period"] == "2024")


# ---- reading the document back -------------------------------------------------------------------

def cells(row) -> list:
    """A row's cells as Word has them: a spanning cell once (python-docx repeats it per column)."""
    from docx.table import _Cell

    return [_Cell(tc, row.table) for tc in row._tr.tc_lst]


def spans_the_table(row) -> bool:
    return len(row._tr.tc_lst) == 1 and row._tr.tc_lst[0].grid_span == len(row.table.columns)


def reading_order(doc) -> list[str]:
    """The document's visible text in the order a screen reader meets it: paragraphs, and tables cell by cell."""
    out = []
    for el in doc.element.body.iterchildren():
        if el.tag == qn("w:p"):
            out.append("".join(t.text or "" for t in el.iter(qn("w:t"))))
        elif el.tag == qn("w:tbl"):
            for tr in el.iter(qn("w:tr")):
                out += ["".join(t.text or "" for t in tc.iter(qn("w:t"))) for tc in tr.iter(qn("w:tc"))]
    return [s for s in out if s]


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# ---- the tracker ---------------------------------------------------------------------------------

def check_tracker_table(table) -> None:
    """Each obsession's row, then a row spanning the table holding exactly its line; the CLA rate per 10,000."""
    body = table.rows[1:]
    expected = lines()
    assert len(body) == 2 * len(expected)
    for (title, line), row, under in zip(expected.items(), body[0::2], body[1::2]):
        assert flat(cells(row)[0].text).startswith(title)
        assert not spans_the_table(row) and spans_the_table(under)
        assert cells(under)[0].text == line
        # The line's row is kept on the obsession's page: every paragraph above it keeps with the next.
        assert all(p.paragraph_format.keep_with_next for c in cells(row) for p in c.paragraphs)
    latest = cells(body[0])[1].text.split("\n")
    assert latest[0] == "1,300"
    assert f"{1300 / city_population() * 10_000:.0f} per 10,000 children" in latest    # 1,300 of 176,239: 74


def test_tracker_carries_each_line_under_its_row(figures, config):
    tracker = build_tracker(figures, config, WEEK)
    doc = Document(io.BytesIO(render_docx(tracker)))
    (table,) = doc.tables
    check_tracker_table(table)
    # The table's own Alt Text names the figures too, as the PNG's does.
    description = table._tbl.tblPr.find(qn("w:tblDescription")).get(qn("w:val"))
    for line in lines().values():
        assert line in description
    # In reading order: title, its figures, its line, then the next obsession.
    order = reading_order(doc)
    at = [next(i for i, s in enumerate(order) if flat(s).startswith(t)) for t in lines()]
    lines_at = [order.index(line) for line in lines().values()]
    assert at[0] < lines_at[0] < at[1] < lines_at[1] < at[2] < lines_at[2]
    assert order[at[0] + 1].startswith("1,300")
    assert sum("Published by the DfE" in s for s in order) == 3


def test_breakdown_carries_the_city_line_under_the_city_row_and_the_rates(figures, config):
    b = build_breakdown(figures, config, "cla", WEEK)
    doc = Document(io.BytesIO(render_docx(b)))
    (table,) = doc.tables
    heads = [c.text for c in cells(table.rows[0])]
    assert heads[2:4] == ["Latest", "Per 10,000 children"]
    city, under, *clusters = table.rows[1:]
    assert [c.text for c in cells(city)][:4] == ["City", "Leeds", "1,300", f"{1300 / city_population() * 10_000:.0f}"]
    assert spans_the_table(under) and cells(under)[0].text == cla_line()
    assert not any(spans_the_table(r) for r in clusters)
    by_area = {cells(r)[1].text.split(" (")[0]: [c.text for c in cells(r)] for r in clusters}
    assert set(by_area) == set(CLUSTERS)
    assert by_area["South"][2:4] == ["700", f"{700 / CLUSTERS['South'] * 10_000:.0f}"]       # 78
    # The withheld clusters: every figure "c", the rate per 10,000 too (it would give the count away).
    for area in ("North", "East"):
        assert by_area[area][2:] == ["c"] * 5, by_area[area]
    text = "\n".join(c.text for r in table.rows for c in cells(r))
    assert f"{597 / CLUSTERS['East'] * 10_000:.0f}" not in text.split() and "597" not in text
    assert table._tbl.tblPr.find(qn("w:tblDescription")).get(qn("w:val")).count(cla_line()) == 1
    assert "Per 10,000 children: the latest count per 10,000 children aged 0-17" in \
        "\n".join(p.text for p in doc.paragraphs)


def test_the_text_breakdown_shows_the_same_rates_as_word(figures, config):
    from renderers.text import render_breakdown_text

    b = build_breakdown(figures, config, "cla", WEEK)
    table = render_breakdown_text(b).splitlines()
    head = next(i for i, line in enumerate(table) if line.lstrip().startswith("Rank"))
    width = len("Per 10k")
    assert table[head].endswith("Per 10k")

    def per(area: str) -> str:
        line = next(row for row in table[head + 2:] if f" {area} " in f" {row} ")
        return line.split("<<")[0].rstrip()[-width - 2:].strip()
    assert per("South") == f"{700 / CLUSTERS['South'] * 10_000:.0f}"
    assert per("North") == "c" and per("East") == "c"       # withheld with their counts, as in Word


def test_without_benchmarks_there_is_no_line(figure2_tracker, cla_breakdown):
    for model, rows in ((figure2_tracker, len(figure2_tracker.rows)), (cla_breakdown, 1 + len(cla_breakdown.rows))):
        doc = Document(io.BytesIO(render_docx(model)))
        (table,) = doc.tables
        assert len(table.rows) == 1 + rows and not any(spans_the_table(r) for r in table.rows)
        text = "\n".join(reading_order(doc))
        assert "Published by the DfE" not in text and "per 10,000" not in text.lower()
        assert "Per 10,000" not in [c.text for c in cells(table.rows[0])]


def test_the_pack_gets_them_through_the_same_code(figures, config):
    doc = Document(io.BytesIO(render_pack_docx(build_pack(figures, config, WEEK))))
    tracker_table, *breakdowns = doc.tables
    check_tracker_table(tracker_table)
    assert len(breakdowns) == 3            # cla, neet and not known, by cluster
    cla_breakdown = next(t for t in breakdowns if "Per 10,000 children" in [c.text for c in cells(t.rows[0])])
    assert spans_the_table(cla_breakdown.rows[2]) and cells(cla_breakdown.rows[2])[0].text == cla_line()


def test_libreoffice_pdf_holds_the_lines_in_order_and_withheld_stays_c(figures, config, tmp_path):
    tracker = build_tracker(figures, config, WEEK)
    out = tmp_path / "t"
    out.mkdir()
    text = flat(pdf_text(libreoffice_pdf(render_docx(tracker), out), out))
    where = [text.index(line) for line in lines().values()]
    assert where == sorted(where)
    assert text.index("1,300") < where[0] < text.index("young people NEET") < where[1]
    b = build_breakdown(figures, config, "cla", WEEK)
    out = tmp_path / "b"
    out.mkdir()
    text = pdf_text(libreoffice_pdf(render_docx(b), out), out)
    assert cla_line() in flat(text)
    north = next(ln for ln in text.splitlines() if re.match(r"\s*–\s+North\b", ln))
    assert tokens(north)[2:] == ["c"] * 5, north
    assert flat(text).index("Leeds 1,300") < flat(text).index(cla_line()) < flat(text).index("South")
