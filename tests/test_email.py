"""The email: MIME structure, cid images with alt text, Outlook-safe CSS, size, text, injection, and a real browser."""
from __future__ import annotations

import dataclasses
import email
import io
import re
import subprocess
from datetime import date
from email import policy
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from renderers.email import build_message, preheader, render_html, render_plain, subject
from tracker.errors import ConfigError

CHROMIUM = "/usr/bin/chromium"

# Written by hand from the published tracker (Figure 2, week commencing 20 July 2015):
# 1,247 (-5, -175 on 1,422 = -12.3 %), NEET 1,595 (+7, -479 on 2,074 = -23.1 %),
# primary absence 4.4 % (+0.6, -1.9 points), secondary 7.2 % (-3.3, -2.5 points).
FIGURE2_ALT = (
    "Weekly obsessions tracker for Leeds, week commencing 20 July 2015. "
    "Children looked after: 1,247, down 5 on last week, down 175 (12.3 %) since the CYPP start. "
    "Young people NEET: 1,595, up 7 on last week, down 479 (23.1 %) since the CYPP start. "
    "Primary absence: 4.4 %, up 0.6 points on last week, down 1.9 points since the CYPP start. "
    "Secondary absence: 7.2 %, down 3.3 points on last week, down 2.5 points since the CYPP start.")
FIGURE2_TABLE = [
    ["Obsession", "Latest position", "Change since last week", "% change since CYPP start",
     "Change since CYPP start"],
    ["Safely reduce the number of children looked after", "1,247", "▼ -5 better", "-12.3", "▼ -175 better from 1,422"],
    ["Reduce the number of young people not in employment, education or training (NEET)", "1,595",
     "▲ +7 worse", "-23.1", "▼ -479 better from 2,074"],
    ["Reduce school absence: primary", "4.4 %", "▲ +0.6 pts worse", "n/a", "▼ -1.9 pts better from 6.3 %"],
    ["Reduce school absence: secondary", "7.2 %", "▼ -3.3 pts better", "n/a", "▼ -2.5 pts better from 9.7 %"],
]


def _png(colour="white", size=(1600, 900)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


class _Page(HTMLParser):
    """Collects images, tables (as cell texts), bold text and style blocks from an HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.imgs, self.tables, self.bold, self.styles = [], [], [], []
        self.header_cells, self.tags = [], []
        self._tables = []   # stack: True for a data table, False for a layout table
        self._cell = None
        self._row = None
        self._in = []
        self._label = False   # inside a cell's label, shown only when the table stacks on a phone

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "span" and a.get("class") == "lbl":
            assert "display: none" in a.get("style", "") or "display:none" in a.get("style", "")
            self._label = True
        self.tags.append(tag)
        self._in.append(tag)
        data_table = bool(self._tables and self._tables[-1])
        if tag == "img":
            self.imgs.append(a)
            self._in.pop()
        elif tag == "table":
            self._tables.append(a.get("role") != "presentation")
            if self._tables[-1]:
                self.tables.append([])
        elif tag == "tr" and data_table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            if tag == "th":
                self.header_cells.append(a.get("scope"))
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")
        if tag == "br":
            self._in.pop()
        if tag == "style":
            self.styles.append("")

    def handle_endtag(self, tag):
        if tag == "span" and self._label:
            self._label = False
        if self._in and self._in[-1] == tag:
            self._in.pop()
        if tag == "table" and self._tables:
            self._tables.pop()
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).replace("\xa0", " ").split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._label:
            return
        if self._cell is not None:
            self._cell.append(data)
        if "strong" in self._in:
            self.bold.append(data)
        if self._in and self._in[-1] == "style":
            self.styles[-1] += data


def _parse(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    return p


@pytest.fixture
def message(figure2_tracker):
    return build_message(figure2_tracker, _png(), sender="tracker@leeds.example.gov.uk", to="staff@example.gov.uk",
                         public_base_url="https://tracker.example.gov.uk/", from_name="Performance Team",
                         list_id="city.tracker.example.gov.uk", unsubscribe_mailto="leave@example.gov.uk")


def _reparse(msg) -> email.message.EmailMessage:
    return email.message_from_bytes(msg.as_bytes(), policy=policy.default)


def test_message_parts_are_alternative_text_then_related_html_and_png(message):
    m = _reparse(message)
    assert m.get_content_type() == "multipart/alternative"
    plain, related = m.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, image = related.get_payload()
    assert html.get_content_type() == "text/html"
    assert image.get_content_type() == "image/png"
    assert image.get_content() == _png()
    assert m["Date"] and m["Message-ID"].endswith("@leeds.example.gov.uk>")
    assert m["From"].addresses[0].addr_spec == "tracker@leeds.example.gov.uk"
    assert m["From"].addresses[0].display_name == "Performance Team"
    assert m["List-Unsubscribe"] == "<mailto:leave@example.gov.uk>"
    assert m["Subject"] == "Weekly obsessions tracker, Leeds: week commencing 20 July 2015"


def test_every_image_has_alt_text_and_a_cid_that_exists(message, figure2_tracker):
    m = _reparse(message)
    related = m.get_payload()[1]
    html = related.get_payload()[0].get_content()
    cids = {p["Content-ID"].strip().strip("<>") for p in related.get_payload() if p["Content-ID"]}
    imgs = _parse(html).imgs
    assert imgs, "the tracker image is in the HTML"
    for img in imgs:
        assert img["src"].startswith("cid:") and img["src"][4:] in cids
        assert img["alt"] == FIGURE2_ALT
    assert "data:" not in html


def test_figures_are_a_real_table_with_header_cells_and_the_verb_in_bold(figure2_tracker):
    page = _parse(render_html(figure2_tracker, "tracker.png", None))
    assert page.tables[0] == FIGURE2_TABLE
    assert page.header_cells.count("col") == 5 and page.header_cells.count("row") == 4
    assert [b for b in page.bold if b.lower() in ("reduce", "increase")] == ["reduce", "Reduce", "Reduce", "Reduce"]


def test_no_css_outlook_or_gmail_cannot_use(figure2_tracker, cla_breakdown):
    for model in (figure2_tracker, cla_breakdown):
        html = render_html(model, "cid:x@y", "https://example.org/v")
        assert not re.search(r"display\s*:\s*(flex|grid|inline-flex|inline-grid)", html, re.I)
        assert not re.search(r"position\s*:\s*(absolute|fixed|relative|sticky)", html, re.I)
        assert not re.search(r"\b(float|grid-template|flex)\s*:", html, re.I)
        page = _parse(html)
        # The only <style> left holds the phone and dark-mode media queries; everything else is inline.
        assert len(page.styles) == 1 and "@media (prefers-color-scheme: dark)" in page.styles[0]
        assert page.styles[0].strip().startswith("@media screen and (max-width: 520px)")
        assert 'class="page"' in html and re.search(r'<td[^>]*class="card"[^>]*style="[^"]*background-color', html)
        assert re.search(r'<th scope="col"[^>]*style="[^"]*background-color', html)
        assert '<meta name="color-scheme" content="light dark">' in html


def test_html_is_under_gmail_clipping_size(figure2_tracker, cla_breakdown, message):
    for model in (figure2_tracker, cla_breakdown):
        assert len(render_html(model, "cid:x@y", "https://example.org/v").encode()) < 100 * 1024
    html = _reparse(message).get_payload()[1].get_payload()[0].get_content()
    assert len(html.encode()) < 100 * 1024


def test_preheader_footer_and_view_in_browser(message, figure2_tracker):
    html = _reparse(message).get_payload()[1].get_payload()[0].get_content()
    head = preheader(figure2_tracker)
    assert head.startswith("Children looked after 1,247 (-5, better); Young people NEET 1,595 (+7, worse)")
    hidden = re.search(r'<div style="display:none;[^"]*">([^<]*)</div>', html)
    assert hidden and hidden.group(1) == head
    assert 'href="https://tracker.example.gov.uk/trackers/2015-07-20/leeds"' in html
    assert "sent every week by Children and Families Performance Team (demo)" in html
    assert 'href="mailto:leave@example.gov.uk?subject=unsubscribe"' in html
    without = render_html(figure2_tracker, "tracker.png", None)
    assert "View it in a browser" not in without and "To stop getting it, reply to this email" in without


def test_illustrative_notice_only_for_illustrative_models(figure2_tracker):
    notice = "Illustrative demo figures (synthetic), not Leeds' data."
    assert notice in render_html(figure2_tracker, "t.png", None).replace("&#39;", "'")
    real = dataclasses.replace(figure2_tracker, illustrative=False)
    assert "Illustrative" not in render_html(real, "t.png", None)


def test_withheld_counts_show_as_c_and_never_their_value(small_cluster_tracker):
    from tracker.model import LATEST

    row = small_cluster_tracker.row("cla")
    assert LATEST in row.withheld
    page = _parse(render_html(small_cluster_tracker, "t.png", None))
    cla = next(r for r in page.tables[0] if r[0].startswith("Safely"))
    assert cla[1:] == ["c", "c withheld", "c", "c withheld from c"]
    plain = render_plain(small_cluster_tracker)
    cla_block = plain.split("Safely REDUCE the number of children looked after", 1)[1].split("\n\n", 1)[0]
    assert "Latest position this week:   c\n" in cla_block
    assert '"c": withheld to protect small numbers (counts below 5)' in plain


def test_plain_text_reads_on_its_own(figure2_tracker, cla_breakdown):
    text = render_plain(figure2_tracker, "https://t.example/trackers/2015-07-20/leeds")
    assert "<" not in text.replace("<<", "")
    assert text.startswith("View in a browser: https://t.example/trackers/2015-07-20/leeds")
    for fragment in ("Week commencing: 20 July 2015", "Safely REDUCE the number of children looked after",
                     "1,247", "-5 ▼ better", "-175 ▼ better", "To stop getting it"):
        assert fragment in text
    bd = render_plain(cla_breakdown)
    assert "Middleton" in bd and "<< lagging" in bd and "Children looked after by cluster" in bd


def test_breakdown_email_has_every_cluster_and_its_alt_text(cla_breakdown, demo_config):
    from renderers.formatting import breakdown_alt_text

    page = _parse(render_html(cla_breakdown, "cid:b@x", None))
    areas = [r[1].removesuffix(" lagging") for r in page.tables[0][1:]]
    assert areas == ["Leeds"] + [r.area for r in cla_breakdown.rows]
    assert sorted(areas[1:]) == sorted(demo_config.clusters)
    withheld = [r for r in page.tables[0] if r[1] in ("Headingley", "Wetherby")]
    assert all(cell.startswith("c") for r in withheld for cell in r[2:])
    assert page.imgs[0]["alt"] == breakdown_alt_text(cla_breakdown)
    assert subject(cla_breakdown) == "Children looked after by cluster: week commencing 20 July 2015"


@pytest.mark.parametrize("field, value", [
    ("sender", "tracker@example.gov.uk\r\nBcc: victim@example.com"),
    ("to", "staff@example.gov.uk\nBcc: victim@example.com"),
    ("from_name", "Team\r\nBcc: victim@example.com"),
    ("list_id", "x.example\nBcc: victim@example.com"),
    ("unsubscribe_mailto", "leave@example.gov.uk\r\nX-Evil: 1"),
    ("message_id_domain", "example.gov.uk\r\nX-Evil: 1"),
    ("sender", "not an address"),
])
def test_header_injection_is_refused(figure2_tracker, field, value):
    kwargs = dict(sender="tracker@example.gov.uk", to="staff@example.gov.uk", public_base_url=None,
                  from_name="Team", list_id=None, unsubscribe_mailto=None, message_id_domain=None)
    kwargs[field] = value
    with pytest.raises(ConfigError):
        build_message(figure2_tracker, _png(), **kwargs)


def test_area_name_with_a_line_break_cannot_add_headers(figure2_tracker):
    evil = dataclasses.replace(figure2_tracker, area="Leeds\r\nBcc: victim@example.com", area_kind="cluster")
    with pytest.raises(ConfigError):
        build_message(evil, _png(), sender="t@example.gov.uk", to=None, public_base_url=None, from_name="T")


def test_outside_text_is_escaped_in_html(figure2_tracker):
    evil = dataclasses.replace(figure2_tracker, area='<script>alert(1)</script>"', area_kind="cluster",
                               sender="<b>Team</b>")
    html = render_html(evil, "t.png", None)
    page = _parse(html)
    assert "script" not in page.tags and "b" not in page.tags   # shown as text, never as elements
    assert "&lt;script&gt;" in html and "&lt;b&gt;Team&lt;/b&gt;" in html


def _screenshot(html_path: Path, out: Path, tmp_path: Path, dark: bool) -> None:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run",
           f"--user-data-dir={tmp_path / ('profile-dark' if dark else 'profile')}",
           f"--screenshot={out}", "--window-size=900,1400", html_path.as_uri()]
    if dark:
        cmd.insert(1, "--force-dark-mode")
    subprocess.run(cmd, check=True, capture_output=True, timeout=90)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed (apt-get install chromium)")
def test_email_in_headless_chromium_light_and_dark(figure2_tracker, tmp_path):
    # A tracker image with a distinctive colour, so we can see the browser drew it from the file beside the page.
    Image.new("RGB", (1600, 900), (0, 200, 0)).save(tmp_path / "tracker.png")
    page = tmp_path / "tracker.html"
    page.write_text(render_html(figure2_tracker, "tracker.png", "https://example.org/v"), encoding="utf-8")
    shots = {}
    for dark in (False, True):
        out = tmp_path / f"shot-{'dark' if dark else 'light'}.png"
        _screenshot(page, out, tmp_path, dark)
        img = Image.open(out).convert("RGB")
        assert img.size == (900, 1400)
        assert len(img.getcolors(maxcolors=1 << 20) or []) > 50, "the page is not blank"
        shots[dark] = img
    light, dark = shots[False], shots[True]
    assert sum(light.getpixel((5, 700))) > 600           # light page background
    assert sum(dark.getpixel((5, 700))) < 150            # dark page background
    green = sum(1 for x in range(0, 900, 4) for y in range(0, 1400, 4) if light.getpixel((x, y)) == (0, 200, 0))
    assert green > 1_000, "the tracker image is drawn"
    # The navy header band is drawn in light mode (the title's background, explicit for Outlook and Gmail).
    assert any(light.getpixel((x, 60)) == (31, 58, 95) for x in range(150, 750, 10))


@pytest.fixture
def seeded(demo_env, monkeypatch):
    """The demo store seeded up to a fixed week, and a stand-in PNG renderer (the image is not under test here)."""
    import sys
    import types

    from tracker.config import load_config
    from tracker.demo_data import demo_frame
    from tracker.store import Store

    s = Store(demo_env["DATABASE_URL"])
    s.create()
    s.save_figures(demo_frame(load_config(None), date(2015, 9, 14)), "demo")
    stub = types.ModuleType("renderers.png")
    stub.render_png = lambda model: _png((1, 2, 3))
    monkeypatch.setitem(sys.modules, "renderers.png", stub)
    monkeypatch.setenv("MAIL_FROM", "tracker@leeds.example.gov.uk")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://tracker.example.gov.uk")
    return demo_env


def test_render_command_writes_html_with_the_image_beside_it_and_a_complete_eml(seeded, tmp_path):
    from bot.cli import main

    assert main(["render", "--week", "2015-07-20", "--format", "html", "-o", str(tmp_path / "week.html")]) == 0
    html = (tmp_path / "week.html").read_text(encoding="utf-8")
    assert (tmp_path / "week.png").read_bytes() == _png((1, 2, 3))
    assert [i["src"] for i in _parse(html).imgs] == ["week.png"]
    assert _parse(html).tables[0] == FIGURE2_TABLE

    assert main(["render", "--week", "2015-07-20", "--obsession", "cla", "--format", "eml",
                 "-o", str(tmp_path / "cla.eml")]) == 0
    m = email.message_from_bytes((tmp_path / "cla.eml").read_bytes(), policy=policy.default)
    assert m["Subject"] == "Children looked after by cluster: week commencing 20 July 2015"
    assert m["From"].addresses[0].addr_spec == "tracker@leeds.example.gov.uk"
    related = m.get_payload()[1]
    assert [p.get_content_type() for p in related.get_payload()] == ["text/html", "image/png"]
    assert "https://tracker.example.gov.uk/breakdowns/2015-07-20/cla" in related.get_payload()[0].get_content()


def test_rate_breakdown_has_no_percent_column(demo_figures, demo_config):
    from tracker.arithmetic import build_breakdown

    b = build_breakdown(demo_figures, demo_config, "absence_secondary", date(2015, 7, 20))
    table = _parse(render_html(b, "cid:b@x", None)).tables[0]
    assert table[0] == ["Rank", "Area", "Latest", "Change since last week", "Change since CYPP start"]
    assert table[1][:3] == ["City", "Leeds", "7.2 %"] and table[1][3] == "▼ -3.3 pts better"
    assert all(len(r) == 5 for r in table)


@pytest.mark.parametrize("kind, said", [("city", "the weekly obsessions tracker for {area},"),
                                        ("cluster", "the weekly obsessions tracker for {area}, a cluster of Leeds,"),
                                        ("comparator", "the weekly obsessions tracker for {area} (comparator),")])
def test_the_footer_names_the_kind_of_area_as_the_heading_does(figure2_tracker, kind, said):
    # England (an area a benchmark import brought) or a configured comparator is no cluster of the city.
    area = {"city": "Leeds", "cluster": "Armley", "comparator": "England"}[kind]
    model = dataclasses.replace(figure2_tracker, area=area, area_kind=kind)
    footer = render_html(model, "t.png", None)
    assert said.format(area=area) in footer
    if kind != "cluster":
        assert "a cluster of" not in footer
