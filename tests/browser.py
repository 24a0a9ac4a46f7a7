"""The real clients for the tests: Debian's Chromium driven by Playwright, axe-core, and Microsoft's
Adaptive Cards renderer, both installed by .ci/run into tests/js/node_modules (npm ci).

Tests that need one of them call `need_chromium()` / `need_js(package)` and are skipped, with the
reason printed, only where it cannot be installed.

Layouts are measured with Liberation Sans (Debian's fonts-liberation, Arial's metrics: the email asks
for Arial, and Segoe UI, Roboto and San Francisco on readers' devices are no wider). Without it Chromium
falls back to DejaVu Sans, wider than any of them, and pages that fit a 320 px phone would not.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

JS_DIR = Path(__file__).parent / "js" / "node_modules"
LAYOUT_FONT = Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def chromium_path() -> str | None:
    """Debian's chromium binary, or None."""
    explicit = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    return explicit if Path(explicit).exists() else shutil.which("chromium")


def need_chromium() -> str:
    """The chromium path, or skip the test saying why."""
    path = chromium_path()
    if not path:
        pytest.skip("no Chromium installed (Debian package `chromium`; .ci/run installs it)")
    if not LAYOUT_FONT.exists():
        pytest.skip(f"no {LAYOUT_FONT.name}, which layouts are measured with (Debian package `fonts-liberation`; "
                    ".ci/run installs it)")
    pytest.importorskip("playwright.sync_api")
    return path


def need_js(package: str, file: str) -> Path:
    """tests/js/node_modules/PACKAGE/FILE, or skip the test saying why."""
    path = JS_DIR / package / file
    if not path.is_file():
        pytest.skip(f"{package} is not installed: run `npm ci` in tests/js (.ci/run does)")
    return path


def launch(playwright):
    """A headless Chromium (Debian's) that makes no connection of its own."""
    return playwright.chromium.launch(executable_path=need_chromium(), args=CHROMIUM_ARGS, headless=True)


def axe_violations(page, impacts=("serious", "critical"), tags=("wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                                    "wcag22aa")) -> list[str]:
    """Run axe-core on the loaded page; one line per violation of the given impacts (empty when clean)."""
    page.add_script_tag(path=str(need_js("axe-core", "axe.min.js")))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", list(tags))
    lines = []
    for v in result["violations"]:
        if v["impact"] in impacts:
            targets = "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
            lines.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets}")
    return lines
