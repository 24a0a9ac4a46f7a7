"""Initiatives on the turn-the-curve chart: from [[events]] and from `--format events`, labelled lines
whose labels overlap neither one another nor any line, listed in the curve's JSON and alt text."""
from __future__ import annotations

import dataclasses
import json
from datetime import date

import pytest

from data_sources.importing import import_files
from renderers import _figure as fx
from renderers.curve import curve_alt_text, draw_curve, render_curve
from renderers.json_tracker import render_curve_json
from tests.test_png import check_png
from tracker.config import Event, parse_config

WEEK = date(2015, 7, 20)
EVENTS = [Event(date(2012, 9, 3), "Family group conferencing across the city", ("cla",)),
          Event(date(2013, 4, 1), "Restorative practice training for all children's services staff", ("cla",)),
          Event(date(2013, 6, 3), "Edge of care team", ()),
          Event(date(2013, 6, 10), "Families First", ()),
          Event(date(2014, 1, 6), "Neighbourhood cluster funding", ("neet",))]


@pytest.fixture(scope="module")
def events_config(demo_config):
    return dataclasses.replace(demo_config, events=tuple(EVENTS))


@pytest.fixture(scope="module")
def cla_curve(demo_figures, events_config):
    from tracker.arithmetic import build_curve

    return build_curve(demo_figures, events_config, "cla", None, WEEK)


def test_only_this_obsessions_events_in_the_curves_range(cla_curve):
    # the neet-only event is left out; the events for every obsession are kept
    assert [e.label for e in cla_curve.events] == [e.label for e in EVENTS if not e.obsessions or "cla" in e.obsessions]


def test_json_and_alt_text_list_the_events(cla_curve):
    d = json.loads(render_curve_json(cla_curve))
    assert [(e["date"], e["label"]) for e in d["events"]] == \
        [(e.date.isoformat(), e.label) for e in cla_curve.events]
    alt = curve_alt_text(cla_curve)
    assert "Events marked: 3 September 2012, Family group conferencing across the city" in alt
    assert "10 June 2013, Families First" in alt
    check_png(render_curve(cla_curve), alt)


def _boxes(fig):
    """(text, left, top, right, bottom) in pixels of every label drawn above the plot."""
    frame = fig.axes[0]
    out = []
    for t in frame.texts:
        size, bold = t._key[1], t._key[2]
        x, y = t.get_position()
        w = fx.text_width(t.get_text(), size, bold)
        out.append((t.get_text(), x, y - size * fx.PT * 0.76, x + w, y + size * fx.PT * 0.24))
    return out


def test_labels_overlap_neither_labels_nor_lines(cla_curve):
    fig = draw_curve(cla_curve)
    labels = [b for b in _boxes(fig) if any(e.label.split()[0] in b[0] for e in cla_curve.events)
              or "plan starts" in b[0] or b[0].startswith("4 April 2011")]
    assert len(labels) >= len(cla_curve.events) + 2
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            apart = a[3] <= b[1] or b[3] <= a[1] or a[4] <= b[2] or b[4] <= a[2]
            assert apart, f"{a[0]!r} overlaps {b[0]!r}"
    verticals = [ln for ln in fig.axes[0].lines if len(set(ln.get_xdata())) == 1]
    assert len(verticals) == len(cla_curve.events) + 1            # each event's line, and the plan's above the plot
    for ln in verticals:
        x = ln.get_xdata()[0]
        y_lo, y_hi = sorted(ln.get_ydata())
        for text, left, top, right, bottom in labels:
            crosses = left < x < right and top < y_hi and y_lo < bottom
            assert not crosses, f"a line at x={x:.0f} runs through {text!r}"


def test_many_close_events_still_do_not_overlap(demo_figures, demo_config):
    from tracker.arithmetic import build_curve

    crowd = tuple(Event(date(2013, 1, 7) + (date(2013, 1, 14) - date(2013, 1, 7)) * 3 * i,
                        f"Initiative number {i} with quite a long name", ()) for i in range(8))
    curve = build_curve(demo_figures, dataclasses.replace(demo_config, events=crowd), "cla", None, WEEK)
    test_labels_overlap_neither_labels_nor_lines(curve)


def test_without_events_the_chart_is_as_before(demo_figures, demo_config):
    from tracker.arithmetic import build_curve

    curve = build_curve(demo_figures, dataclasses.replace(demo_config, events=()), "cla", None, WEEK)
    assert curve.events == ()
    fig = draw_curve(curve)
    # No event lines, and the plan's label where it always was (34 px above the plot, which starts at 300)
    assert not [ln for ln in fig.axes[0].lines if len(set(ln.get_xdata())) == 1]
    plan = [t for t in fig.axes[0].texts if t.get_text() == "CYPP start (plan starts)"]
    assert len(plan) == 1 and plan[0].get_position()[1] == 300 - 34
    assert "Events marked" not in curve_alt_text(curve)


def test_events_table_in_the_configuration():
    from tracker.errors import ConfigError

    base = '[tracker]\ncity = "Leeds"\n[obsessions.cla]\ntitle = "Reduce cla"\nbaseline_week = "2011-04-04"\naliases = ["lac"]\n'
    c = parse_config(base + '[[events]]\ndate = 2013-09-02\nlabel = "Family group conferencing"\nobsessions = ["lac"]\n', "c.toml")
    assert c.events == (Event(date(2013, 9, 2), "Family group conferencing", ("cla",)),)
    with pytest.raises(ConfigError, match=r"c.toml, line 7: events\[0\].obsessions: \"clla\" is not an obsession; did you mean \"cla\""):
        parse_config(base + '[[events]]\ndate = 2013-09-02\nlabel = "x"\nobsessions = ["clla"]\n', "c.toml")
    with pytest.raises(ConfigError, match=r"events\[0\].date: \"soon\" is not a date"):
        parse_config(base + '[[events]]\ndate = "soon"\nlabel = "x"\n', "c.toml")


def test_events_imported_from_a_file(store, tmp_path, demo_config, demo_frame):
    from tracker.arithmetic import build_curve

    demo_config = dataclasses.replace(demo_config, events=())   # only the imported ones

    store.save_figures(demo_frame[demo_frame["week_commencing"] <= WEEK], "demo")
    f = tmp_path / "events.csv"
    f.write_text("date,label,obsession\n2012-09-03,Family group conferencing,lac\n2013-06-03,Edge of care team,\n")
    summary, _ = import_files(store, [f], demo_config, fmt="events")
    assert summary.new == 2
    curve = build_curve(store.figure_table(), demo_config, "cla", None, WEEK)
    assert [(e.date, e.label) for e in curve.events] == [(date(2012, 9, 3), "Family group conferencing"),
                                                         (date(2013, 6, 3), "Edge of care team")]
    neet = build_curve(store.figure_table(), demo_config, "neet", None, WEEK)
    assert [e.label for e in neet.events] == ["Edge of care team"]   # the one for every obsession


def test_labels_near_the_end_keep_clear_of_the_margin_labels(demo_figures, demo_config):
    """An event in the chart's last months: its label runs into the right margin, above the lines' labels."""
    from renderers.curve import PLOT
    from tracker.arithmetic import build_curve

    late = (Event(date(2015, 6, 1), "Edge of care team relaunched across the city", ("cla",)),
            Event(date(2015, 1, 5), "New fostering offer", ()))
    curve = build_curve(demo_figures, dataclasses.replace(demo_config, events=late), "cla", None, WEEK)
    test_labels_overlap_neither_labels_nor_lines(curve)
    fig = draw_curve(curve)
    boxes = _boxes(fig)
    events = [b for b in boxes if any(w in b[0] for w in ("Edge of care", "relaunched", "fostering", "2015)"))]
    margin = [b for b in boxes if b[1] >= PLOT[1] + 20 and b not in events]
    assert events and margin
    for a in events:
        for b in margin:
            assert a[3] <= b[1] or b[3] <= a[1] or a[4] <= b[2] or b[4] <= a[2], f"{a[0]!r} overlaps {b[0]!r}"
