"""The agenda pack (renderers/pack.py): index, tracker, each obsession's breakdown and curve, in Word and PDF."""
from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document
from docx.oxml.ns import qn
from pypdf import PdfReader

from renderers.curve import curve_alt_text
from renderers.formatting import alt_text, breakdown_alt_text
from renderers.pack import Pack, build_pack, render_pack_docx, render_pack_pdf
from tests.agenda_expect import breakdown_figures, pdf_fonts, pdf_text, tokens, tracker_figures

WEEK = date(2015, 7, 20)
A4_LONG, A4_SHORT = 297 * 72 / 25.4, 210 * 72 / 25.4


@pytest.fixture(scope="module")
def city_pack(demo_figures, demo_config) -> Pack:
    return build_pack(demo_figures, demo_config, WEEK)


@pytest.fixture(scope="module")
def city_pack_pdf(city_pack) -> bytes:
    return render_pack_pdf(city_pack)


def test_pack_holds_the_city_tracker_then_each_obsessions_breakdown_and_curve(city_pack, demo_config):
    keys = [o.key for o in demo_config.obsessions]
    kinds = [(type(m).__name__, getattr(getattr(m, "obsession", None), "key", None))
             for m in city_pack.sections()]
    assert kinds == [("Tracker", None)] + [x for k in keys for x in (("Breakdown", k), ("Curve", k))]
    assert city_pack.tracker.area == demo_config.city
    assert all(c.area == demo_config.city for c in city_pack.curves)


def test_pdf_pack_one_page_per_view_a4_bookmarked(city_pack, city_pack_pdf, tmp_path):
    reader = PdfReader(io.BytesIO(city_pack_pdf))
    sections = city_pack.sections()
    assert len(reader.pages) == 1 + len(sections)
    sizes = [(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages]
    portrait, landscape = (round(A4_SHORT), round(A4_LONG)), (round(A4_LONG), round(A4_SHORT))
    assert sizes == [portrait] + [portrait if type(m).__name__ == "Breakdown" else landscape for m in sections]
    assert [o.title for o in reader.outline][:2] == ["Contents", "Weekly obsessions tracker: Leeds"]
    assert len(reader.outline) == 1 + len(sections)
    assert reader.metadata.title == "Agenda pack: weekly obsessions tracker, Leeds"
    # Each page's text: the tracker's figures on page 2, the first breakdown's on page 3.
    pages = pdf_text(city_pack_pdf, tmp_path).split("\f")
    assert "page 10" in pages[0] and "Children looked after by cluster" in pages[0]
    words = tokens(pages[1])
    assert all(words.count(f) >= tracker_figures(city_pack.tracker).count(f)
               for f in tracker_figures(city_pack.tracker))
    b = city_pack.breakdowns[0]
    words = tokens(pages[2])
    assert all(words.count(f) >= breakdown_figures(b).count(f) for f in breakdown_figures(b))
    fonts = pdf_fonts(city_pack_pdf, tmp_path)
    assert fonts and all(f[-5] == "yes" for f in fonts)
    # The same font subsets are kept once, not once a page.
    assert len(city_pack_pdf) < 400 * 1024


def test_docx_pack_headings_page_breaks_tables_and_alt_text(city_pack):
    doc = Document(io.BytesIO(render_pack_docx(city_pack)))
    sections = city_pack.sections()
    heads = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert heads[0] == "Contents"
    assert heads[1:] == ["Weekly obsessions tracker: Leeds"] + [
        t for b, c in zip(city_pack.breakdowns, city_pack.curves)
        for t in (b.title, f"Turning the curve: {c.obsession.label}, Leeds")]
    contents = [p.text for p in doc.paragraphs if p.style.name == "List Number"]
    assert contents == heads[1:]
    breaks = [br for br in doc.element.body.iter(qn("w:br")) if br.get(qn("w:type")) == "page"]
    assert len(breaks) == len(sections)
    assert len(doc.tables) == 1 + len(city_pack.breakdowns)
    alts = [el.get("descr") for el in doc.element.body.iter(qn("wp:docPr"))]
    assert alts == [alt_text(city_pack.tracker)] + [
        a for b, c in zip(city_pack.breakdowns, city_pack.curves) for a in (breakdown_alt_text(b), curve_alt_text(c))]
    for t in doc.tables:
        assert t.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None


def test_cluster_pack_is_its_tracker_and_its_curves(demo_figures, demo_config):
    pack = build_pack(demo_figures, demo_config, WEEK, "armley")
    assert pack.tracker.area == "Armley" and pack.breakdowns == ()
    assert [c.area for c in pack.curves] == ["Armley"] * len(demo_config.obsessions)
    reader = PdfReader(io.BytesIO(render_pack_pdf(pack)))
    assert len(reader.pages) == 1 + 1 + len(demo_config.obsessions)
    assert reader.metadata.title == "Agenda pack: weekly obsessions tracker, Armley"


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


def test_render_pack_command(seeded, tmp_path, capsys):
    from bot.cli import main

    assert main(["render", "--format", "pack", "--week", "2015-07-20", "-o", str(tmp_path / "pack.docx")]) == 0
    doc = Document(tmp_path / "pack.docx")
    assert doc.paragraphs[0].style.name == "Title"
    assert main(["render", "--format", "pack", "--area", "Armley", "-o", str(tmp_path / "pack.pdf")]) == 0
    assert len(PdfReader(tmp_path / "pack.pdf").pages) == 2 + 4
    assert main(["render", "--format", "pack", "-o", str(tmp_path / "pack.txt")]) == 2
    assert "-o pack.docx or -o pack.pdf" in capsys.readouterr().err
    assert not (tmp_path / "pack.txt").exists()


def test_pdf_index_entries_link_to_their_pages(city_pack, city_pack_pdf):
    reader = PdfReader(io.BytesIO(city_pack_pdf))
    links = [a.get_object() for a in reader.pages[0].get("/Annots", [])]
    targets = [reader.get_page_number(link["/Dest"][0].get_object()) for link in links]
    assert targets == list(range(1, 1 + len(city_pack.sections())))
