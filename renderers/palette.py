"""The one colour palette of every renderer (email, archive page, PNG, curve), light and dark.

Each text colour is declared with every background it is drawn on (PAIRS), so tests/test_palette.py
computes each pair's WCAG contrast and fails under 4.5:1. Better and worse stay apart for red-green
colour blindness (a dark blue and a dark orange, after Okabe-Ito, darkened until small text on the
shaded rows passes); the arrow and the word always go with the colour, so colour is never the only cue.

Teams and Slack draw their own colours: the Teams card uses only colour names whose host-config value
passes on its containers (tests/test_teams_renderer.py checks), and Slack's emoji dots are Slack's.
"""
from __future__ import annotations

from types import MappingProxyType

from tracker.model import BETTER, SAME, WORSE

# -- light (email, archive, images)
WHITE = "#FFFFFF"
INK = "#1A1A1A"           # body text
MUTED = "#555555"         # small print, "same" verdict
NAVY = "#1F3A5F"          # headings, the email's title band
LINK = "#0B5394"
RULE = "#D0D4D9"          # lines only, never text
BORDER = "#C4CCD6"        # table cell borders (lines only)
CARD_BORDER = "#D0D5DD"
NOTICE_BORDER = "#E6D08A"
PAGE = "#EEF1F5"          # the email's outer background
HEADER_ROW = "#E8EDF3"    # table headings and the city row in the email and archive
LAG_ROW = "#FDEEE4"       # lagging clusters' rows in the email and archive
CITY_BAND = "#E4EBF3"     # the city row of the breakdown image
LAG_BAND = "#FBE6DA"      # lagging rows of the breakdown image
NOTICE_BG, NOTICE_INK = "#FFF4CE", "#4D3800"   # the "illustrative figures" notice
TREND = "#5F6368"         # the curve's pre-plan trend line and its label

VERDICT = MappingProxyType({BETTER: "#005A8C", WORSE: "#A84300", SAME: MUTED, None: MUTED})

# -- dark (clients that honour prefers-color-scheme: Apple Mail, Outlook for Mac, the archive in a browser)
DARK_PAGE = "#121417"
DARK_CARD = "#1D2127"
DARK_HEADER_ROW = "#2A3038"
DARK_LAG_ROW = "#3A2A20"
DARK_HEAD = "#0F1F33"
DARK_INK = "#EEF0F3"
DARK_STRONG = "#F5F6F8"   # the large figures and headings on the dark card
DARK_BORDER = "#3C444F"
DARK_TEXT = "#D8DCE2"     # page text outside the card (the archive's navigation)
DARK_MUTED = "#B8BEC7"
DARK_LINK = "#8AB4F8"
DARK_NOTICE_BG, DARK_NOTICE_INK = "#3B3000", "#FFF0B3"
DARK_VERDICT = MappingProxyType({BETTER: "#56B4E9", WORSE: "#E69F00", SAME: "#BBBBBB", None: "#BBBBBB"})

_LIGHT_TABLE = (WHITE, HEADER_ROW, LAG_ROW)
_DARK_TABLE = (DARK_CARD, DARK_HEADER_ROW, DARK_LAG_ROW)


def _pairs() -> tuple[tuple[str, str, str], ...]:
    """(where, text colour, background) for every text colour on every background it is used on."""
    pairs = []
    for bg in _LIGHT_TABLE:
        pairs += [(f"table text on {bg}", c, bg) for c in (INK, MUTED, *VERDICT.values())]
    for bg in _DARK_TABLE:
        pairs += [(f"dark table text on {bg}", c, bg)
                  for c in (DARK_INK, DARK_STRONG, DARK_MUTED, *DARK_VERDICT.values())]
    for bg in (WHITE, CITY_BAND, LAG_BAND):
        pairs += [(f"image text on {bg}", c, bg) for c in (INK, MUTED, NAVY, TREND, *VERDICT.values())]
    pairs += [("image pill: white on the verdict colour", WHITE, c) for c in VERDICT.values()]
    pairs += [("email title band", WHITE, NAVY), ("notice", NOTICE_INK, NOTICE_BG),
              ("email top line and footer", MUTED, PAGE), ("links above and below the card", LINK, PAGE),
              ("links in the card", LINK, WHITE), ("archive navigation", INK, PAGE),
              ("dark title band", WHITE, DARK_HEAD), ("dark notice", DARK_NOTICE_INK, DARK_NOTICE_BG),
              ("dark page text", DARK_TEXT, DARK_PAGE), ("dark small print", DARK_MUTED, DARK_PAGE),
              ("dark links", DARK_LINK, DARK_PAGE), ("dark links in the card", DARK_LINK, DARK_CARD)]
    return tuple(pairs)


PAIRS = _pairs()


def css_vars() -> dict[str, str]:
    """The palette by name, for the HTML templates (jinja2 context `p`)."""
    return {k.lower(): v for k, v in globals().items() if k.isupper() and isinstance(v, str) and v.startswith("#")}
