"""The benchmark line is the same in every output: text, JSON, PNG (and its alt text), email and
archive page, Slack and Teams; and the breakdown carries the city's line under its city row."""
from __future__ import annotations

import html
import json
from datetime import date

import pytest

from data_sources.importing import import_files
from renderers.formatting import alt_text, benchmark_line, breakdown_alt_text
from tests.test_benchmarks import CLA, CONFIG, NEET, SN, _weekly
from tests.test_png import texts
from tracker.arithmetic import build_breakdown, build_tracker
from tracker.config import parse_config

WEEK = date(2025, 4, 7)


@pytest.fixture
def models(store):
    config = parse_config(CONFIG, "bench.toml")
    for fmt, path in (("dfe-sn", SN), ("dfe-cla", CLA), ("dfe-neet", NEET)):
        import_files(store, [path], config, fmt=fmt)
    _weekly(store, [date(2025, 3, 31), WEEK])
    figures = store.figure_table()
    return build_tracker(figures, config, WEEK), build_breakdown(figures, config, "cla", WEEK)


def _line(tracker):
    line = benchmark_line(tracker.row("cla").benchmarks)
    # worked out here: Leeds 1,498 / 176,239, England 81,770 / 12,183,016 per 10,000, rounded for display
    assert line.startswith("Published by the DfE, 31 March 2025, per 10,000 children: Leeds 85 · ")
    assert line.endswith(" · England 67")
    return line


def test_text_and_alt_text(models):
    from renderers.text import render_breakdown_text, render_text

    tracker, breakdown = models
    line = _line(tracker)
    assert f"  {line}\n" in render_text(tracker)
    assert line in alt_text(tracker)
    assert line in render_breakdown_text(breakdown) and line in breakdown_alt_text(breakdown)


def test_png_draws_the_line_wrapped(models):
    from renderers import _figure as fx
    from renderers.png import RIGHT, SMALL_PT, draw

    tracker, breakdown = models
    line = _line(tracker)
    from tests.test_png_titles import _inside, _too_small

    for model in (tracker, breakdown):
        fig = draw(model)
        fig.canvas.draw()
        assert not _inside(fig) and not _too_small(fig), (_inside(fig)[:2], _too_small(fig)[:2])
        drawn = texts(fig)
        expected = fx.wrap_text(line, SMALL_PT, RIGHT - 60)
        for part in expected:
            assert part in drawn
        assert " ".join(expected) == line


def test_email_and_archive_page(models):
    from renderers.email import render_html

    tracker, breakdown = models
    line = _line(tracker)
    for as_email in (True, False):
        page = html.unescape(render_html(tracker, "cid:tracker", None, as_email=as_email))
        assert line in page
    page = html.unescape(render_html(breakdown, "cid:b", None))
    city_row = page.index("Leeds")
    assert page.index(line) > city_row


def test_slack_and_teams(models):
    from renderers.slack import render_slack
    from renderers.teams import render_teams

    tracker, breakdown = models
    line = _line(tracker)
    slack = json.dumps(render_slack(tracker), ensure_ascii=False)
    assert line in slack
    assert line in json.dumps(render_slack(breakdown), ensure_ascii=False)
    teams = json.dumps(render_teams(tracker), ensure_ascii=False)
    assert line in teams
    assert line in json.dumps(render_teams(breakdown), ensure_ascii=False)


def test_json_exact_and_rounding_only_for_display(models):
    from renderers.json_tracker import render_json

    tracker, breakdown = models
    d = json.loads(render_json(tracker))
    neet = next(r for r in d["rows"] if r["obsession"] == "neet")
    sn = next(b for b in neet["benchmarks"] if b["kind"] == "statistical_neighbours")
    assert sn["unit"] == "percent" and sn["as_of"] == "2025-02-28" and len(sn["members"]) == 10
    # the neighbours' NEET percentages from the fixture, averaged here, unrounded
    import csv

    from tests.test_benchmarks import NEIGHBOUR_CODES
    with open(NEET, encoding="utf-8") as f:
        pcts = {r["old_la_code"]: float(r["NEET_percent"]) for r in csv.DictReader(f)}
    assert sn["value"] == pytest.approx(sum(pcts[c] for c in NEIGHBOUR_CODES) / 10, abs=1e-12)
    b = json.loads(render_json(breakdown))
    assert [x["kind"] for x in b["city"]["benchmarks"]] == ["city", "statistical_neighbours", "region", "national"]
