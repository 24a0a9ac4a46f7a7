"""The Word document (renderers/docx.py): read back with python-docx, and opened by a real word processor."""
from __future__ import annotations

import io
import subprocess
from datetime import date

import pytest
from docx import Document
from docx.oxml.ns import qn

from renderers.curve import curve_alt_text
from renderers.docx import render_docx
from renderers.formatting import alt_text, breakdown_alt_text
from tests.agenda_expect import breakdown_figures, need, pdf_text, tokens, tracker_figures, withheld_count

WEEK = date(2015, 7, 20)


def cell_words(table) -> list[str]:
    """The words of every body cell of a table (the header row left out)."""
    return tokens(" ".join(c.text for row in table.rows[1:] for c in row.cells))


def pictures(doc) -> list:
    """The wp:docPr element of each inline picture (where Word keeps a picture's Alt Text)."""
    return [el for el in doc.element.body.iter(qn("wp:docPr"))]


def expected(name, model):
    if name == "cla_breakdown":
        return breakdown_figures(model), breakdown_alt_text(model)
    return tracker_figures(model), alt_text(model)


@pytest.mark.parametrize("name", ["figure2_tracker", "small_cluster_tracker", "cla_breakdown"])
def test_docx_table_header_repeats_every_figure_withheld_as_c_alt_text(name, request):
    model = request.getfixturevalue(name)
    doc = Document(io.BytesIO(render_docx(model)))
    figures, alt = expected(name, model)
    assert len(doc.tables) == 1
    table = doc.tables[0]
    rows = len(model.rows) + (1 if name == "cla_breakdown" else 0)
    assert len(table.rows) == 1 + rows
    # Header row marked to repeat on each new page, and only that row.
    flags = [r._tr.trPr is not None and r._tr.trPr.find(qn("w:tblHeader")) is not None for r in table.rows]
    assert flags == [True] + [False] * rows
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")).get(qn("w:val")) == "true"
    words = cell_words(table)
    missing = [f for f in set(figures) if words.count(f) < figures.count(f)]
    assert not missing, missing
    assert words.count("c") == withheld_count(model)
    # The picture's Alt Text, and the table's own.
    (pic,) = pictures(doc)
    assert pic.get("descr") == alt
    assert pic.get("title").endswith("week commencing 20 July 2015")
    assert table._tbl.tblPr.find(qn("w:tblDescription")).get(qn("w:val")) == alt
    # Word's own styles: a heading for the navigation pane, the built-in table style.
    assert doc.paragraphs[0].style.name == "Heading 1"
    assert table.style.name == "Table Grid"
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Week commencing 20 July 2015" in text
    assert "Illustrative demo figures (synthetic)" in text
    assert doc.core_properties.title.startswith(model.title)


def test_verdicts_in_words_and_arrows_as_well_as_colour(figure2_tracker):
    doc = Document(io.BytesIO(render_docx(figure2_tracker)))
    row = figure2_tracker.rows[0]          # children looked after: down 5 on last week, better
    cell = doc.tables[0].rows[1].cells[2]
    assert cell.text.split() == ["▼", "-5", "better"] and row.verdict_since_last_week == "better"
    coloured = {r.font.color.rgb for p in cell.paragraphs for r in p.runs if r.text.strip()}
    assert len(coloured) == 1 and None not in coloured


def test_turn_the_curve_lines(figure2_tracker):
    doc = Document(io.BytesIO(render_docx(figure2_tracker)))
    text = "\n".join(p.text for p in doc.paragraphs)
    for r in figure2_tracker.rows:
        if r.forecast is not None:
            assert r.forecast.description[1:] in text
    assert "not a prediction" in text
    assert any(p.style.name == "Heading 2" and p.text == "Turning the curve" for p in doc.paragraphs)


def test_curve_docx(demo_figures, demo_config):
    from tracker.arithmetic import build_curve

    curve = build_curve(demo_figures, demo_config, "cla", "Armley", WEEK)
    doc = Document(io.BytesIO(render_docx(curve)))
    assert doc.paragraphs[0].text == "Turning the curve: Children looked after, Armley"
    assert pictures(doc)[0].get("descr") == curve_alt_text(curve)


def libreoffice_pdf(docx: bytes, tmp_path) -> bytes:
    """The document converted to PDF by LibreOffice Writer, headless, with a profile of its own."""
    soffice = need("soffice")
    src = tmp_path / "agenda.docx"
    src.write_bytes(docx)
    profile = (tmp_path / "lo-profile").as_uri()
    done = subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                           "--outdir", str(tmp_path), str(src)], capture_output=True, text=True, timeout=240)
    out = tmp_path / "agenda.pdf"
    assert done.returncode == 0 and out.exists(), done.stderr
    return out.read_bytes()


@pytest.mark.parametrize("name", ["small_cluster_tracker", "cla_breakdown"])
def test_libreoffice_opens_it_and_its_pdf_holds_every_figure(name, request, tmp_path):
    model = request.getfixturevalue(name)
    pdf = libreoffice_pdf(render_docx(model), tmp_path)
    words = tokens(pdf_text(pdf, tmp_path))
    figures, _ = expected(name, model)
    missing = [f for f in set(figures) if words.count(f) < figures.count(f)]
    assert not missing, missing
    assert words.count("c") >= withheld_count(model)


@pytest.fixture
def seeded(demo_env):
    from tracker.config import load_config
    from tracker.demo_data import demo_frame
    from tracker.store import Store

    s = Store(demo_env["DATABASE_URL"])
    s.create()
    s.save_figures(demo_frame(load_config(None), WEEK), "demo")
    s.engine.dispose()
    return demo_env


def test_render_command_docx(seeded, tmp_path):
    from bot.cli import main

    out = tmp_path / "tracker.docx"
    assert main(["render", "--format", "docx", "--area", "Armley", "-o", str(out)]) == 0
    doc = Document(out)
    assert doc.paragraphs[0].text == "Weekly obsessions tracker: Armley"
    assert main(["render", "--format", "curve-docx", "--obsession", "cla", "-o", str(tmp_path / "c.docx")]) == 0
    assert Document(tmp_path / "c.docx").paragraphs[0].text.startswith("Turning the curve: Children looked after")
