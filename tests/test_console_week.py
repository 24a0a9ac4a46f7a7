"""The week page: the gate's verdict with every reason, the pictures with their alt text, who gets it (safe names)."""
from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest

from tests.console_support import make_console, sign_in


@pytest.fixture(scope="module")
def console(seeded_db, tmp_path_factory, live_server, demo_config):
    return make_console(seeded_db, tmp_path_factory.mktemp("console-week"), live_server, demo_config)


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_the_verdict_lists_every_reason_the_gate_gives(console, demo_figures, demo_config):
    from tracker.quality import check_week

    base, _, _ = console
    c = sign_in(base, "viewer")
    latest = demo_figures.latest_week()
    result = check_week(demo_figures, demo_config, latest, date.today())     # as `obsession check` judges it
    page = c.get("/console/")
    assert f"Week commencing {latest:%d %B %Y}" in page.text
    if result.passed:
        assert "Passes." in page.text
    else:
        assert "Held." in page.text
        for p in result.problems:
            assert p in _text(page.text)
    older = c.get("/console/weeks/2015-07-20")
    judged = check_week(demo_figures, demo_config, date(2015, 7, 20), date(2015, 7, 20) + timedelta(days=7))
    assert ("Passes." in older.text) == judged.passed


def test_the_pictures_carry_every_figure_in_their_alt_text(console):
    base, _, _ = console
    c = sign_in(base, "viewer")
    page = c.get("/console/weeks/2015-07-20")
    alts = re.findall(r'<img src="([^"]+)" alt="([^"]+)"', page.text)
    city_src, city_alt = alts[0]
    # the published tracker of 20 July 2015 (README): 1,247 children looked after, down 5, down 175 since the start
    assert "1,247" in html.unescape(city_alt) and "down 5" in city_alt and "down 175" in city_alt
    assert city_src == "/console/img/tracker/2015-07-20/leeds.png"
    assert len(alts) == 1 + 25 + 4
    for src, _ in alts[:3] + alts[-2:]:
        assert c.get(src).content[:4] == b"\x89PNG"


def test_who_gets_it_by_safe_names(console, demo_config):
    base, _, _ = console
    c = sign_in(base, "viewer")
    page = c.get("/console/weeks/2015-07-20")
    text = _text(page.text)
    for sub in demo_config.subscriptions:
        row = re.search(rf"<th scope=\"row\">{re.escape(html.escape(sub.name))}</th>(.*?)</tr>", page.text, re.S)
        assert row, sub.name
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
        assert html.unescape(cells[0]) == sub.area
        assert cells[1].strip().split()[0] == str(len(set(a.lower() for a in sub.email)))
        for ch in sub.slack_channels:
            assert ch in cells[2]
        for n, _ in enumerate(sub.teams_webhooks, 1):
            assert f"Teams webhook {n} (" in cells[3]
        for url in sub.teams_webhooks:                 # a webhook URL is a secret: never on the page
            assert url not in text and url.split("//")[1] not in text
