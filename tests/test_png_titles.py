"""The images in print: every configured name's title fits (shrunk, then wrapped onto two lines), every
piece of text lies inside the image, and nothing is smaller than 8 pt when printed 16 cm wide.
Read from the drawn Text artists' extents (matplotlib's own layout of each string), not from pixels."""
from __future__ import annotations

from datetime import date

import pytest

from renderers import _figure as fx
from renderers.curve import draw_curve
from renderers.png import draw_breakdown, draw_tracker

WEEK = date(2015, 7, 20)
PRINT_CM = 16.0
SMALLEST_ON_PAPER = 8.0


def _texts(fig):
    renderer = fig.canvas.get_renderer()
    out = []
    for t in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_fontsize")):
        if t.get_text() and t.get_visible():
            out.append((t, t.get_window_extent(renderer)))
    return out


def _inside(fig) -> list[str]:
    w, h = fig.canvas.get_width_height()
    return [f"{t.get_text()[:40]!r} at x {box.x0:.0f}-{box.x1:.0f} of {w}" for t, box in _texts(fig)
            if box.x0 < -0.5 or box.x1 > w + 0.5 or box.y0 < -0.5 or box.y1 > h + 0.5]


def _too_small(fig) -> list[str]:
    inches = fig.get_figwidth()
    scale = PRINT_CM / (inches * 2.54)                # printed size / drawn size
    return [f"{t.get_text()[:30]!r} {t.get_fontsize():.1f} pt -> {t.get_fontsize() * scale:.2f} pt on paper"
            for t, _ in _texts(fig) if t.get_fontsize() * scale < SMALLEST_ON_PAPER - 1e-9]


@pytest.fixture(scope="module")
def trackers(demo_figures, demo_config):
    from tracker.arithmetic import build_tracker

    return [build_tracker(demo_figures, demo_config, WEEK, a) for a in (None, *demo_config.clusters)]


def test_every_configured_names_title_fits(trackers):
    for t in trackers:
        fig = draw_tracker(t)
        w = fig.canvas.get_width_height()[0]
        words = set(t.title.split())
        title = [(a, box) for a, box in _texts(fig) if a.get_fontsize() >= 12 and set(a.get_text().split()) <= words]
        assert " ".join(a.get_text() for a, _ in title) == t.title       # all of it drawn, none cut off
        assert 1 <= len(title) <= 2
        for _, box in title:
            assert fx.PT * 0 <= box.x0 and box.x1 <= w - 59, (t.title, box.x1)   # inside the right margin


@pytest.mark.parametrize("name", ["Alwoodley, Roundhay and Moortown", "Beeston and Holbeck", "Gipton and Harehills"])
def test_the_issues_long_names_are_whole(trackers, name):
    t = next(t for t in trackers if t.area == name)
    drawn = " ".join(a.get_text() for a, _ in _texts(draw_tracker(t)))
    assert name.split()[-1] in drawn and f"Weekly obsessions tracker: {name.split()[0]}" in drawn


def test_a_title_too_long_for_one_line_wraps_to_two():
    size, lines = fx.fit_title("Weekly obsessions tracker: Alwoodley, Roundhay and Moortown", 16.0, 1480)
    assert len(lines) == 2 and size >= 12
    assert all(fx.text_width(line, size, True) <= 1480 for line in lines)
    assert fx.fit_title("Weekly obsessions tracker: Leeds", 16.0, 1480) == (16.0, ["Weekly obsessions tracker: Leeds"])


def test_trackers_in_print(trackers):
    for t in trackers:
        fig = draw_tracker(t)
        assert not _inside(fig), (t.area, _inside(fig)[:3])
        assert not _too_small(fig), (t.area, _too_small(fig)[:3])


def test_breakdowns_in_print(demo_figures, demo_config):
    from tracker.arithmetic import build_breakdown

    for o in demo_config.obsessions:
        fig = draw_breakdown(build_breakdown(demo_figures, demo_config, o.key, WEEK))
        assert not _inside(fig), (o.key, _inside(fig)[:3])
        assert not _too_small(fig), (o.key, _too_small(fig)[:3])


def test_curves_in_print(demo_figures, demo_config):
    from tracker.arithmetic import build_curve

    longest = max(demo_config.clusters, key=len)
    for o in demo_config.obsessions:
        for area in (demo_config.city, longest):
            fig = draw_curve(build_curve(demo_figures, demo_config, o.key, area, WEEK))
            fig.canvas.draw()
            assert not _inside(fig), (o.key, area, _inside(fig)[:3])
            assert not _too_small(fig), (o.key, area, _too_small(fig)[:3])


def test_holiday_weeks_are_gaps_in_the_progress_line(trackers):
    """A term-time rate has no figure in the holidays: its progress line breaks there, never bridges."""
    import numpy as np

    t = trackers[0]
    row = next(r for r in t.rows if r.obsession.term_time_only)
    missing = sum((b.week - a.week).days > 7 for a, b in zip(row.series, row.series[1:]))
    assert missing > 0
    fig = draw_tracker(t)
    lines = [ln for ln in fig.findobj(lambda a: a.__class__.__name__ == "Line2D") if len(ln.get_xdata()) > 50]
    assert lines, "no progress line drawn"
    assert any(np.isnan(np.asarray(ln.get_ydata(), dtype=float)).sum() >= missing for ln in lines)


def _overlaps(fig) -> list[str]:
    boxes = _texts(fig)
    out = []
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            if ba.x0 < bb.x1 - 1 and bb.x0 < ba.x1 - 1 and ba.y0 < bb.y1 - 1 and bb.y0 < ba.y1 - 1:
                out.append(f"{a.get_text()[:25]!r} / {b.get_text()[:25]!r}")
    return out


@pytest.mark.parametrize("week", [WEEK, date(2015, 9, 7)])   # the Figure 2 week; the first after the summer
def test_no_text_runs_into_other_text(demo_figures, demo_config, week):
    from tracker.arithmetic import build_breakdown, build_tracker

    for area in (None, *demo_config.clusters):
        fig = draw_tracker(build_tracker(demo_figures, demo_config, week, area))
        assert not _overlaps(fig), (area, _overlaps(fig)[:3])
    for o in demo_config.obsessions:
        fig = draw_breakdown(build_breakdown(demo_figures, demo_config, o.key, week))
        assert not _overlaps(fig), (o.key, _overlaps(fig)[:3])
