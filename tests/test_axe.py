"""axe-core (the engine of the browsers' accessibility checkers) on the archive pages and the email HTML,
light and dark, on a desktop and at 320 px: no violation of impact serious or critical (WCAG 2.2 A/AA
rules: contrast, landmarks, names, target size ...); and the archive reflows at 320 px."""
from __future__ import annotations

import pytest

from renderers.email import render_html
from renderers.png import render_png
from tests.browser import axe_violations, launch, need_chromium, need_js

PAGES = ["/trackers/2015-07-20/leeds", "/trackers/2015-07-20/headingley", "/breakdowns/2015-07-20/cla",
         "/breakdowns/2015-07-20/absence_primary"]
SCHEMES = ["light", "dark"]
WIDTHS = [900, 320]


@pytest.fixture(scope="module")
def browser():
    need_chromium()
    need_js("axe-core", "axe.min.js")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def archive(app, live_server):
    return live_server(app({"ARCHIVE_TOKEN": "axe-token-00000001"}))


def _check(page, width: int) -> list[str]:
    problems = axe_violations(page)
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    if scroll > width:
        problems.append(f"reflow: the page is {scroll} px wide at {width} px")
    return problems


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", PAGES)
def test_archive_page(browser, archive, path, scheme, width):
    # bypass_csp: the archive allows no scripts, and axe-core is one (injected by the test, not the page).
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme, bypass_csp=True,
                                  extra_http_headers={"Authorization": "Bearer axe-token-00000001"})
    try:
        page = context.new_page()
        response = page.goto(archive + path, wait_until="networkidle")
        assert response.status == 200
        assert page.locator("main").count() == 1 and page.locator("nav").count() == 1
        assert not _check(page, width)
        # The navigation's disclosure opened: its links must pass too.
        page.locator("nav summary").click()
        assert not axe_violations(page)
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("name", ["figure2_tracker", "cluster_tracker", "small_cluster_tracker", "cla_breakdown"])
def test_email_html(request, browser, tmp_path, name, scheme, width):
    model = request.getfixturevalue(name)
    (tmp_path / "t.png").write_bytes(render_png(model))
    (tmp_path / "email.html").write_text(render_html(model, image_src="t.png", view_url="https://example.org/v",
                                                     unsubscribe_mailto="mailto:stop@example.org"))
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto((tmp_path / "email.html").as_uri())
        assert not _check(page, width)
    finally:
        context.close()


@pytest.fixture(scope="module")
def comparison(tmp_path_factory, demo_config, demo_frame):
    """The demo's published benchmarks loaded into a store: the compare page has something to show."""
    from data_sources.benchmark_import import import_published
    from tracker.arithmetic import build_compare
    from tracker.demo_data import published_files
    from tracker.store import Store

    store = Store(f"sqlite:///{tmp_path_factory.mktemp('axe') / 'b.db'}")
    store.create()
    for fmt, path in published_files():
        import_published(store, [path], demo_config, fmt)
    store.save_figures(demo_frame, "demo")
    return build_compare(store.figure_table(), demo_config, "cla")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_compare_page(browser, tmp_path, comparison, scheme, width):
    from renderers.compare import render_compare, render_compare_html

    (tmp_path / "c.png").write_bytes(render_compare(comparison))
    (tmp_path / "compare.html").write_text(render_compare_html(comparison, image_src="c.png"))
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto((tmp_path / "compare.html").as_uri())
        assert not _check(page, width)
    finally:
        context.close()
