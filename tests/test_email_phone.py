"""The email on a phone: at 320 and 375 px the page is exactly as wide as the screen (no sideways
scrolling; the figures table stacks), and the plain-text part holds every figure the HTML holds."""
from __future__ import annotations

import re

import pytest

from renderers.email import render_html, render_plain
from renderers.formatting import number, percent, signed
from renderers.png import render_png
from tests.browser import launch, need_chromium
from tests.test_email import _parse

MODELS = ["figure2_tracker", "cluster_tracker", "small_cluster_tracker", "cla_breakdown"]
FIGURE = re.compile(r"[+-]?\d[\d,]*(?:\.\d+)?")


@pytest.fixture(scope="module")
def browser():
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def _open(browser, tmp_path, model, width: int, scheme: str = "light"):
    (tmp_path / "tracker.png").write_bytes(render_png(model))
    page_file = tmp_path / "email.html"
    page_file.write_text(render_html(model, image_src="tracker.png", view_url="https://example.org/v"))
    context = browser.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page = context.new_page()
    page.goto(page_file.as_uri())
    return context, page


@pytest.mark.parametrize("width", [320, 375])
@pytest.mark.parametrize("name", MODELS)
def test_email_fits_a_phone(request, browser, tmp_path, name, width):
    context, page = _open(browser, tmp_path, request.getfixturevalue(name), width)
    try:
        widths = page.evaluate("() => [document.documentElement.scrollWidth, document.body.scrollWidth, innerWidth]")
        assert widths == [width, width, width], f"page {widths[0]} px wide on a {width} px screen"
        # Nothing inside is cut off either: no element sticks out past the right edge.
        wide = page.evaluate("""w => [...document.querySelectorAll('body *')].filter(e => {
            const r = e.getBoundingClientRect(); return r.width > 0 && r.right > w + 0.5 && getComputedStyle(e).display !== 'none';
        }).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 5)""", width)
        assert not wide
        # The figures still read with their labels when the table stacks.
        labels = page.evaluate("() => [...document.querySelectorAll('.figures .lbl')].filter(e => e.offsetParent).length")
        assert labels > 0
        page.screenshot(path=str(tmp_path / f"{name}-{width}.png"), full_page=True)
    finally:
        context.close()


def test_email_on_a_desktop_keeps_the_table(browser, tmp_path, figure2_tracker):
    context, page = _open(browser, tmp_path, figure2_tracker, 900)
    try:
        assert page.evaluate("() => getComputedStyle(document.querySelector('table.figures')).display") == "table"
        assert page.evaluate("() => [...document.querySelectorAll('.figures .lbl')].filter(e => e.offsetParent).length") == 0
        assert page.evaluate("() => document.querySelector('table.frame').getBoundingClientRect().width") == 640
    finally:
        context.close()


def test_outlook_gets_a_fixed_width_table(figure2_tracker):
    html = render_html(figure2_tracker, image_src="cid:x@y")
    assert '<!--[if mso]><table role="presentation" width="640"' in html


def _html_figures(html: str) -> set[str]:
    page = _parse(html)
    return {f for table in page.tables for row in table for cell in row for f in FIGURE.findall(cell)}


@pytest.mark.parametrize("name", MODELS)
def test_plain_text_holds_every_figure_the_html_holds(request, name):
    model = request.getfixturevalue(name)
    plain = render_plain(model)
    plain_figures = set(FIGURE.findall(plain))
    missing = _html_figures(render_html(model, image_src="cid:x@y")) - plain_figures
    assert not missing, f"in the HTML but not the plain text: {sorted(missing)}"


def test_plain_text_holds_every_figure_of_the_model(figure2_tracker):
    plain = render_plain(figure2_tracker)
    for r in figure2_tracker.rows:
        o = r.obsession
        for shown in (number(r.latest, o), signed(r.change_since_last_week, o), signed(r.change_since_baseline, o),
                      number(r.baseline_value, o)):
            assert shown in plain, shown
        pct = percent(r.percent_change_since_baseline, o)
        if pct != "n/a":
            assert f"{pct} %" in plain          # the % change with its sign, and "%"
    # By hand from the published Figure 2: children looked after from 1,422 at the CYPP start, -12.3 %.
    assert "1,422" in plain and "-12.3 %" in plain
