"""SVG and PDF (renderers/vector.py): the PNG's drawing as vectors, text as text, fonts embedded, alt text kept."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import matplotlib
import pytest
from pypdf import PdfReader

from renderers.curve import curve_alt_text, render_curve
from renderers.formatting import alt_text, breakdown_alt_text
from renderers.png import render_png
from renderers.vector import render_pdf, render_svg
from tests.agenda_expect import breakdown_figures, pdf_fonts, pdf_text, tokens, tracker_figures, withheld_count

WEEK = date(2015, 7, 20)
SVG = "{http://www.w3.org/2000/svg}"
A4_LONG, A4_SHORT = 297 * 72 / 25.4, 210 * 72 / 25.4


@pytest.fixture(scope="module")
def cla_curve(demo_figures, demo_config):
    from tracker.arithmetic import build_curve

    return build_curve(demo_figures, demo_config, "cla", None, WEEK)


def expected(model) -> tuple[list[str], str]:
    from tracker.model import Breakdown

    if isinstance(model, Breakdown):
        return breakdown_figures(model), breakdown_alt_text(model)
    return tracker_figures(model), alt_text(model)


def assert_has_all(words: list[str], wanted: list[str]) -> None:
    """Every wanted figure among the words, as many times as it is wanted."""
    missing = [w for w in set(wanted) if words.count(w) < wanted.count(w)]
    assert not missing, f"figures missing: {missing}"


@pytest.mark.parametrize("name", ["figure2_tracker", "small_cluster_tracker", "cla_breakdown"])
def test_pdf_one_a4_page_every_figure_as_text_fonts_embedded(name, request, tmp_path):
    model = request.getfixturevalue(name)
    data = render_pdf(model)
    assert len(data) < 200 * 1024
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    size = (float(box.width), float(box.height))
    portrait = name == "cla_breakdown"
    assert size == pytest.approx((A4_SHORT, A4_LONG) if portrait else (A4_LONG, A4_SHORT), abs=0.5)
    figures, alt = expected(model)
    assert reader.metadata.title.startswith(model.title + ", week commencing 20 July 2015")
    assert reader.metadata.subject == alt
    text = pdf_text(data, tmp_path)
    words = tokens(text)
    assert_has_all(words, figures)
    assert words.count("c") >= withheld_count(model)
    assert "Week commencing 20 July 2015" in " ".join(text.split())
    assert "Illustrative demo figures (synthetic)" in text     # the PNG's small print
    fonts = pdf_fonts(data, tmp_path)
    assert fonts and all(f[0].split("+")[-1].startswith("DejaVuSans") for f in fonts)
    assert all("yes" == f[-5] for f in fonts), fonts          # the 'emb' column
    assert all("Type 3" not in " ".join(f) for f in fonts)


def test_curve_pdf_is_landscape_with_its_alt_text(cla_curve, tmp_path):
    data = render_pdf(cla_curve)
    reader = PdfReader(io.BytesIO(data))
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((A4_LONG, A4_SHORT), abs=0.5)
    assert reader.metadata.subject == curve_alt_text(cla_curve)
    text = " ".join(pdf_text(data, tmp_path).split())
    latest = f"{round(cla_curve.history[-1].value):,}"
    assert "Turning the curve: Children looked after, Leeds" in text
    assert latest in tokens(text)
    assert "It is a yardstick, not a prediction." in text


@pytest.mark.parametrize("name", ["figure2_tracker", "small_cluster_tracker", "cla_breakdown", "cla_curve"])
def test_svg_valid_xml_text_as_text_title_and_description(name, request):
    model = request.getfixturevalue(name)
    data = render_svg(model)
    assert len(data) < 300 * 1024
    root = ET.fromstring(data)
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    title, desc = root.find(SVG + "title"), root.find(SVG + "desc")
    assert len(root.findall(SVG + "title")) == 1
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    if name == "cla_curve":
        assert desc.text == curve_alt_text(model)
    else:
        figures, alt = expected(model)
        assert desc.text == alt
        words = tokens(" ".join(t.text or "" for t in root.iter(SVG + "text")))
        assert_has_all(words, figures)
        assert words.count("c") >= withheld_count(model)
    # Text is text: no pictures of words inside the drawing.
    assert root.find(f".//{SVG}image") is None
    assert len(list(root.iter(SVG + "text"))) > 20


def test_png_bytes_and_settings_unchanged_by_vector_output(figure2_tracker, cla_curve):
    before = render_png(figure2_tracker), render_curve(cla_curve)
    rc = dict(matplotlib.rcParams)
    render_pdf(figure2_tracker)
    render_svg(cla_curve)
    assert (render_png(figure2_tracker), render_curve(cla_curve)) == before
    assert dict(matplotlib.rcParams) == rc


def test_threads_render_identical_pdfs(figure2_tracker, cla_breakdown):
    one = render_pdf(figure2_tracker), render_pdf(cla_breakdown)
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(render_pdf, [figure2_tracker, cla_breakdown] * 3))
    assert set(got[0::2]) == {one[0]} and set(got[1::2]) == {one[1]}


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


def test_render_command_svg_pdf_and_curve(seeded, tmp_path, capsys):
    from bot.cli import main

    assert main(["render", "--format", "pdf", "-o", str(tmp_path / "t.pdf")]) == 0
    assert (tmp_path / "t.pdf").read_bytes().startswith(b"%PDF-")
    assert main(["render", "--format", "svg", "--obsession", "cla", "-o", str(tmp_path / "b.svg")]) == 0
    assert ET.fromstring((tmp_path / "b.svg").read_bytes()).find(SVG + "title").text.startswith(
        "Children looked after by cluster")
    assert main(["render", "--format", "curve-pdf", "--obsession", "cla", "--area", "Armley",
                 "-o", str(tmp_path / "c.pdf")]) == 0
    assert PdfReader(tmp_path / "c.pdf").metadata.title.startswith("Turning the curve: Children looked after, Armley")
    # Binary output needs a file.
    assert main(["render", "--format", "pdf"]) == 2
    assert "-o PATH" in capsys.readouterr().err


def test_svg_embeds_its_fonts_so_it_draws_the_same_without_dejavu(figure2_tracker, tmp_path):
    """Chromium draws the SVG with its font renamed to one only the embedded @font-face rules provide
    exactly as the original; without those rules the same renamed SVG draws differently."""
    import re

    from PIL import Image, ImageChops
    from playwright.sync_api import sync_playwright

    from tests.browser import launch

    svg = render_svg(figure2_tracker).decode("utf-8")
    assert svg.count("@font-face") == 3          # regular, bold, and italic (the small print)
    renamed = svg.replace("'DejaVu Sans'", "'Only Embedded'")
    bare = re.sub(r'<style type="text/css">@font-face.*?</style>', "", renamed, flags=re.S)
    shots = {}
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 700, "height": 620})
            for name, text in (("original", svg), ("renamed", renamed), ("bare", bare)):
                path = tmp_path / f"{name}.svg"
                path.write_text(text, encoding="utf-8")
                page.goto(path.as_uri())
                shots[name] = Image.open(io.BytesIO(page.screenshot())).convert("L")
        finally:
            browser.close()

    def differing(a, b) -> int:
        return sum(ImageChops.difference(a, b).point(lambda v: 255 if v > 40 else 0).histogram()[255:])

    assert differing(shots["original"], shots["renamed"]) == 0
    assert differing(shots["original"], shots["bare"]) > 1000


def test_compare_chart_as_pdf_and_svg(store, tmp_path, monkeypatch):
    """The comparison chart (the city beside its neighbours, region and England) as vectors too."""
    from data_sources.importing import import_files
    from renderers.compare import compare_alt_text
    from tests.test_benchmarks import CLA, CONFIG, SN, _weekly
    from tracker.arithmetic import build_compare
    from tracker.config import parse_config

    config = parse_config(CONFIG, "bench.toml")
    week = date(2025, 4, 7)
    import_files(store, [SN], config, fmt="dfe-sn")
    import_files(store, [CLA], config, fmt="dfe-cla")
    _weekly(store, [week])
    c = build_compare(store.figure_table(), config, "cla", week)
    pdf = render_pdf(c)
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((A4_LONG, A4_SHORT), abs=0.5)
    assert reader.metadata.subject == compare_alt_text(c)
    text = " ".join(pdf_text(pdf, tmp_path).split())
    assert f"How {c.city} compares" in text
    # Every line is named in the text, as the chart labels it at its end.
    for line in c.lines:
        assert line.label.split(" (")[0] in text
    root = ET.fromstring(render_svg(c))
    assert root.find(SVG + "desc").text == compare_alt_text(c)
    # And from the command line.
    from bot.cli import main

    (tmp_path / "c.toml").write_text(CONFIG)
    monkeypatch.setenv("OBSESSION_CONFIG", str(tmp_path / "c.toml"))
    monkeypatch.setenv("DATABASE_URL", store.url)
    out = tmp_path / "compare.pdf"
    assert main(["render", "--format", "compare-pdf", "--obsession", "cla", "-o", str(out)]) == 0
    assert PdfReader(out).metadata.subject == compare_alt_text(c)
