"""The one palette: every text colour passes WCAG 2.2 AA (4.5:1) on every background it is declared on,
and the renderers draw with it (no colour of their own)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from renderers import palette

ROOT = Path(__file__).resolve().parent.parent


def _luminance(hex_colour: str) -> float:
    # WCAG 2.2 relative luminance, written out here rather than taken from the code under test.
    h = hex_colour.lstrip("#")
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #RRGGBB colours."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_formula_against_known_values():
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#D55E00", "#FFFFFF") == pytest.approx(3.87, abs=0.01)    # the figure
    assert contrast("#0072B2", "#E8EDF3") == pytest.approx(4.40, abs=0.01)


@pytest.mark.parametrize("where,fg,bg", palette.PAIRS, ids=[f"{w}:{f}/{b}" for w, f, b in palette.PAIRS])
def test_every_pair_passes_aa(where, fg, bg):
    assert contrast(fg, bg) >= 4.5, f"{where}: {fg} on {bg} is {contrast(fg, bg):.2f}:1"


def test_the_pairs_cover_every_verdict_colour_on_every_row():
    pairs = {(f.upper(), b.upper()) for _, f, b in palette.PAIRS}
    for bg in (palette.WHITE, palette.HEADER_ROW, palette.LAG_ROW, palette.CITY_BAND, palette.LAG_BAND):
        for fg in palette.VERDICT.values():
            assert (fg.upper(), bg.upper()) in pairs
    for fg in palette.VERDICT.values():
        assert (palette.WHITE, fg.upper()) in pairs          # the images' white-on-colour pills
    for bg in (palette.DARK_CARD, palette.DARK_HEADER_ROW, palette.DARK_LAG_ROW):
        for fg in palette.DARK_VERDICT.values():
            assert (fg.upper(), bg.upper()) in pairs


def test_better_and_worse_stay_apart():
    # Different hues (blue against orange), so they read apart with red-green colour blindness too.
    b, w = palette.VERDICT["better"], palette.VERDICT["worse"]
    rb, gb, bb = (int(b[i:i + 2], 16) for i in (1, 3, 5))
    rw, gw, bw = (int(w[i:i + 2], 16) for i in (1, 3, 5))
    assert bb > rb and rw > bw


HEX = re.compile(r"#[0-9A-Fa-f]{6}\b")


@pytest.mark.parametrize("path", sorted(str(p.relative_to(ROOT)) for p in [
    *(ROOT / "renderers").glob("*.py"), *(ROOT / "templates").glob("*.html"), ROOT / "bot" / "archive.py"]
    if p.name != "palette.py"))
def test_no_renderer_declares_a_colour_of_its_own(path):
    """Colours are declared once, in renderers/palette.py; renderers and templates only name them."""
    found = HEX.findall((ROOT / path).read_text())
    assert not found, f"{path} declares colours {sorted(set(found))}: put them in renderers/palette.py"
