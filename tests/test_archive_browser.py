"""The archive in a real browser: headless Chromium (Debian's package) opens the page served by uvicorn,
sees the table and the image load with no console errors, and takes a screenshot."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not (Path(CHROMIUM).exists() or shutil.which("chromium")),
                                reason="no Chromium installed (Debian package `chromium`)")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                              args=ARGS, headless=True)
        yield b
        b.close()


def _open(browser, url: str, extra_headers=None):
    context = browser.new_context(viewport={"width": 900, "height": 1400}, extra_http_headers=extra_headers or {})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type in ("error", "warning") and problems.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    outside = []
    page.on("request", lambda r: not r.url.startswith(url.split("/trackers")[0].rstrip("/")) and outside.append(r.url))
    response = page.goto(url, wait_until="networkidle")
    return context, page, response, problems, outside


def test_archive_page_in_chromium(browser, app, live_server, tmp_path_factory):
    base = live_server(app({"ARCHIVE_TOKEN": "browser-token-0000001"}))
    url = f"{base}/trackers/2015-07-20/leeds"
    context, page, response, problems, outside = _open(browser, url, {"Authorization": "Bearer browser-token-0000001"})
    try:
        assert response.status == 200
        # The figures' table is there, with the published figures.
        table_text = page.inner_text("table")
        assert "1,247" in table_text and "Children looked after".lower() in table_text.lower()
        # The image loaded (signed URL, fetched without the token header mattering).
        img = page.locator("img").first
        img.wait_for(state="visible")
        natural = page.evaluate("(img) => [img.complete, img.naturalWidth, img.naturalHeight]", img.element_handle())
        assert natural[0] and natural[1] > 500 and natural[2] > 200
        assert img.get_attribute("alt")
        assert problems == []
        assert outside == []                    # nothing fetched from anywhere else
        shots = Path(os.environ.get("ARCHIVE_SCREENSHOT_DIR") or tmp_path_factory.mktemp("screens"))
        shot = shots / "archive-leeds-2015-07-20.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
    finally:
        context.close()


def test_closed_archive_refuses_the_browser_without_the_token(browser, app, live_server):
    base = live_server(app({"ARCHIVE_TOKEN": "browser-token-0000001"}))
    context, page, response, problems, outside = _open(browser, f"{base}/trackers/2015-07-20/leeds")
    try:
        assert response.status == 401
    finally:
        context.close()
