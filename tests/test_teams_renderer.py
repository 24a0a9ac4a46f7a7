"""Every kind of Teams card, drawn by Microsoft's own Adaptive Cards renderer (npm `adaptivecards`) in
Chromium with the Teams light and dark host configurations, at the widths Teams gives a card (320 px
on a phone, 450 and 500 px on a desktop): no parse warnings, no figure or word broken across lines,
nothing wider than its cell, and every text colour at 4.5:1 or more on the container it sits in.

The host configurations are Microsoft's (tests/fixtures/teams-host-configs, with their licence).
Microsoft publishes no high-contrast Teams host configuration, so none is tested: in high contrast
Teams replaces the colours itself, and the card only names `Default`.
"""
from __future__ import annotations

import dataclasses
import html
import json
import re
from datetime import date
from pathlib import Path

import pytest

from renderers.formatting import alt_text, breakdown_alt_text
from renderers.teams import render_teams
from tests.browser import launch, need_chromium, need_js

CONFIGS = Path(__file__).parent / "fixtures" / "teams-host-configs"
THEMES = ["light", "dark"]
WIDTHS = [320, 450, 500]


def _host(theme: str) -> dict:
    return json.loads((CONFIGS / f"microsoft-teams-{theme}.json").read_text())


# -- contrast from the host configuration (WCAG 2.2 formula, written out here)

def _rgba(value: str) -> tuple[float, float, float, float]:
    """'#RRGGBB' or '#AARRGGBB' (the host configuration's form) as 0-1 channels and alpha."""
    h = value.lstrip("#")
    alpha = 1.0
    if len(h) == 8:
        alpha, h = int(h[:2], 16) / 255, h[2:]
    return (*(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)), alpha)


def _over(fg: str, bg: str) -> tuple[float, float, float]:
    r, g, b, a = _rgba(fg)
    br, bg_, bb, _ = _rgba(bg)
    return (r * a + br * (1 - a), g * a + bg_ * (1 - a), b * a + bb * (1 - a))


def _lum(rgb) -> float:
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(fg: str, bg: str) -> float:
    """Contrast of a (possibly translucent) host-config colour drawn on a container background."""
    base = _rgba(bg)[:3]
    hi, lo = sorted((_lum(_over(fg, bg)), _lum(base)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_reads_the_host_config_as_teams_draws_it():
    light = _host("light")["containerStyles"]
    # The issue's figures: Teams' "Warning" yellow on white and on the accent (city) row.
    assert contrast(light["default"]["foregroundColors"]["warning"]["default"], light["default"]["backgroundColor"]) \
        == pytest.approx(1.47, abs=0.01)
    assert contrast(light["default"]["foregroundColors"]["warning"]["default"], light["accent"]["backgroundColor"]) \
        == pytest.approx(1.07, abs=0.01)


def _text_runs(node, style: str = "default"):
    """(text, color, isSubtle, container style) of every TextBlock and TextRun, with the style it sits on."""
    if isinstance(node, list):
        for v in node:
            yield from _text_runs(v, style)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind in ("Container", "TableRow", "TableCell", "Column", "ColumnSet") and node.get("style"):
        style = node["style"]
    if kind == "Table" and node.get("firstRowAsHeader", True) and node.get("rows"):
        head, *rest = node["rows"]
        # The renderer draws the header row in the table's gridStyle unless the row says otherwise.
        yield from _text_runs(head, head.get("style") or node.get("gridStyle") or style)
        yield from _text_runs(rest, style)
        return
    if kind in ("TextBlock", "TextRun"):
        yield node["text"], node.get("color", "Default"), bool(node.get("isSubtle")), style
    for key, v in node.items():
        if key != "type":
            yield from _text_runs(v, style)


MODELS = ["figure2_tracker", "cluster_tracker", "small_cluster_tracker", "cla_breakdown", "absence_breakdown",
          "compact_breakdown", "long_names_tracker", "benchmarks_tracker", "benchmarks_breakdown"]

# Published benchmarks (issue 12) beside the rows: the line's figures must not break across lines either.
_NEIGHBOURS = ("Portsmouth", "Southend-on-Sea", "Sheffield", "Milton Keynes", "Kirklees", "Salford",
               "Bristol, City of", "Southampton", "Croydon", "Bournemouth, Christchurch and Poole")


def _marks(unit: str, values: tuple[float, float, float, float]):
    from tracker.model import Benchmark

    when = date(2025, 3, 31) if unit == "per10k" else date(2025, 2, 28)
    what = "per 10,000 children" if unit == "per10k" else "% of 16-17-year-olds NEET (Dec-Feb average)"
    kinds = (("Leeds", "city"), ("statistical neighbours", "statistical_neighbours"),
             ("Yorkshire and The Humber", "region"), ("England", "national"))
    return tuple(Benchmark(area=a, kind=k, value=v, unit=unit, as_of=when, measure=what,
                           members=_NEIGHBOURS if k == "statistical_neighbours" else (), of=10 if k != "city" else 0)
                 for (a, k), v in zip(kinds, values))


@pytest.fixture(scope="module")
def benchmarks_tracker(figure2_tracker):
    rows = list(figure2_tracker.rows)
    rows[0] = dataclasses.replace(rows[0], benchmarks=_marks("per10k", (84.998, 75.2, 76.9, 67.1)))
    rows[1] = dataclasses.replace(rows[1], benchmarks=_marks("percent", (4.9, 4.4, 3.9, 3.4)))
    return dataclasses.replace(figure2_tracker, rows=tuple(rows))


@pytest.fixture(scope="module")
def benchmarks_breakdown(cla_breakdown):
    return dataclasses.replace(cla_breakdown, benchmarks=_marks("per10k", (84.998, 75.2, 76.9, 67.1)))


@pytest.fixture(scope="module")
def absence_breakdown(demo_figures, demo_config):
    from tracker.arithmetic import build_breakdown

    return build_breakdown(demo_figures, demo_config, "absence_primary", date(2015, 7, 20))


@pytest.fixture(scope="module")
def compact_breakdown(cla_breakdown):
    """50 clusters: the card that has to be made compact to stay under Teams' size limit."""
    rows = tuple(dataclasses.replace(r, area=f"{r.area} {i}") for i in range(2) for r in cla_breakdown.rows)
    return dataclasses.replace(cla_breakdown, rows=rows)


@pytest.fixture(scope="module")
def long_names_tracker(demo_figures, demo_config):
    """The longest configured cluster name's tracker (long area names in the title and the subtitle)."""
    from tracker.arithmetic import build_tracker

    longest = max(demo_config.clusters, key=len)
    return build_tracker(demo_figures, demo_config, date(2015, 7, 20), longest)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("name", MODELS)
def test_every_coloured_run_passes_on_its_container(request, name, theme):
    card = render_teams(request.getfixturevalue(name))["attachments"][0]["content"]
    styles = _host(theme)["containerStyles"]
    failures = []
    for text, colour, subtle, style in _text_runs(card["body"]):
        box = styles[style.lower()]
        fg = box["foregroundColors"][colour.lower()]["subtle" if subtle else "default"]
        ratio = contrast(fg, box["backgroundColor"])
        if ratio < 4.5:
            failures.append(f"{text[:30]!r}: {colour}{' subtle' if subtle else ''} on {style} {ratio:.2f}:1")
    assert not failures, failures[:8]


@pytest.mark.parametrize("name", MODELS)
def test_no_colour_words_where_teams_picks_the_colour(request, name):
    card = render_teams(request.getfixturevalue(name))["attachments"][0]["content"]
    words = " ".join(t for t, *_ in _text_runs(card["body"])).lower()
    assert not re.search(r"\b(blue|orange|amber|yellow|red|green)\b", words)


def test_speak_is_the_alt_sentence_ssml_safe(figure2_tracker, cla_breakdown):
    for model, alt in [(figure2_tracker, alt_text(figure2_tracker)), (cla_breakdown, breakdown_alt_text(cla_breakdown))]:
        speak = render_teams(model)["attachments"][0]["content"]["speak"]
        assert "<" not in speak and ">" not in speak and not re.search(r"&(?!amp;|lt;|gt;|quot;|apos;)", speak)
        assert html.unescape(speak) == alt
        assert "1,247" in speak


def test_speak_escapes_outside_text():
    from renderers.teams import ssml_text

    assert ssml_text('Tom & Jerry <b>"x"</b>') == "Tom &amp; Jerry &lt;b&gt;&quot;x&quot;&lt;/b&gt;"


# -- the renderer in Chromium

MEASURE = r"""
([payload, hostConfig, width]) => {
  const host = document.getElementById('host');
  host.innerHTML = '';
  host.style.width = width + 'px';
  const card = new AdaptiveCards.AdaptiveCard();
  card.hostConfig = new AdaptiveCards.HostConfig(hostConfig);
  const ctx = new AdaptiveCards.SerializationContext();
  card.parse(payload, ctx);
  const events = [];
  for (let i = 0; i < ctx.eventCount; i++) {
    const e = ctx.getEventAt(i);
    events.push(`${e.phase} ${e.source && e.source.getJsonTypeName ? e.source.getJsonTypeName() : ''}: ${e.message}`);
  }
  const el = card.render();
  host.appendChild(el);
  const broken = [], overflow = [];
  // A token (text between breaking spaces; NBSP joins) drawn on more than one line is a mid-token break.
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const text = node.textContent;
    // Breaking after a hyphen inside a word ("pre-|plan") is ordinary line breaking, not a broken token.
    const re = /[^ \t\n]+?(?=[ \t\n]|$|(?<=\p{L}-)(?=\p{L}))/gu;
    let m;
    while ((m = re.exec(text))) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(m[0]);
    }
  }
  for (const e of el.querySelectorAll('*')) {
    if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible' || e.scrollWidth > e.clientWidth + 1 && e.children.length === 0) {
      overflow.push(`${e.className}: ${e.textContent.slice(0, 40)} (${e.scrollWidth} > ${e.clientWidth})`);
    }
  }
  const outer = el.getBoundingClientRect();
  for (const e of el.querySelectorAll('.ac-textBlock, .ac-richTextBlock')) {
    const r = e.getBoundingClientRect();
    for (const c of e.getClientRects()) {}
    const range = document.createRange();
    range.selectNodeContents(e);
    const ink = range.getBoundingClientRect();
    const cell = e.closest('td, th, .ac-container') || el;
    const box = cell.getBoundingClientRect();
    if (ink.width > 0 && (ink.right > box.right + 1 || ink.left < box.left - 1)) {
      overflow.push(`text wider than its cell: ${e.textContent.slice(0, 40)} (${Math.round(ink.width)} in ${Math.round(box.width)})`);
    }
  }
  if (el.scrollWidth > width + 1) overflow.push(`card ${el.scrollWidth} px wide in ${width}`);
  return {events, broken, overflow, tables: el.querySelectorAll('table, [role=table]').length};
}
"""


@pytest.fixture(scope="module")
def ac_page():
    need_chromium()
    script = need_js("adaptivecards", "dist/adaptivecards.js")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 800, "height": 1200})
        page.set_content('<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
                         '<body style="margin:0"><div id="host"></div></body></html>')
        page.add_script_tag(path=str(script))
        yield page
        browser.close()


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("name", MODELS)
def test_card_in_microsofts_renderer(request, ac_page, name, theme):
    card = render_teams(request.getfixturevalue(name))["attachments"][0]["content"]
    problems = []
    for width in WIDTHS:
        out = ac_page.evaluate(MEASURE, [card, _host(theme), width])
        problems += [f"{width}px parse: {e}" for e in out["events"]]
        problems += [f"{width}px broken across lines: {t!r}" for t in out["broken"]]
        problems += [f"{width}px overflow: {o}" for o in out["overflow"]]
        assert out["tables"] >= 1, "the figures are no longer a table"
    assert not problems, problems[:12]


# Every other card the product makes: the chat's answers (help, a question it does not know, a
# tracker, one obsession, a breakdown, one cluster) as the Teams outgoing webhook sends them.
QUESTIONS = ["help", "what is this nonsense", "", "cla", "cla clusters", "cluster=Alwoodley", "absence primary"]


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("question", QUESTIONS)
def test_chat_answer_cards_in_microsofts_renderer(ac_page, demo_figures, demo_config, question, theme):
    from bot.chat.answer import answer, to_teams

    ans = answer(f"{question} week=2015-07-20".strip(), demo_config, demo_figures)
    card = to_teams(ans, image_url="https://tracker.example.gov.uk/i.png")["attachments"][0]["content"]
    styles = _host(theme)["containerStyles"]
    problems = []
    for text, colour, subtle, style in _text_runs(card["body"]):
        box = styles[style.lower()]
        ratio = contrast(box["foregroundColors"][colour.lower()]["subtle" if subtle else "default"],
                         box["backgroundColor"])
        if ratio < 4.5:
            problems.append(f"contrast {text[:30]!r} {ratio:.2f}:1")
    for width in WIDTHS:
        out = ac_page.evaluate(MEASURE, [card, _host(theme), width])
        problems += [f"{width}px parse: {e}" for e in out["events"]]
        problems += [f"{width}px broken across lines: {t!r}" for t in out["broken"]]
        problems += [f"{width}px overflow: {o}" for o in out["overflow"]]
    assert not problems, problems[:12]
