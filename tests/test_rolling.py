"""Rolling rates for term-time obsessions: recomputed from numerators and denominators, never averaged;
no value across a withheld week; holidays stay gaps."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from tracker.model import Point
from tracker.rolling import rolling_rate

MON = date(2015, 1, 5)


def _p(week: int, num, den, withheld: bool = False) -> Point:
    value = None if withheld else 100.0 * num / den
    return Point(MON + timedelta(weeks=week), value, None if withheld else num, None if withheld else den)


def test_rolling_rate_by_hand():
    pts = (_p(0, 10, 100), _p(1, 30, 200), _p(2, 5, 100), _p(3, 20, 400), _p(4, 40, 100))
    got = [p.value for p in rolling_rate(pts)]
    # 4-week windows of sums, by hand: 10/100, 40/300, 45/400, 65/800, then weeks 1-4: 95/800.
    assert got == pytest.approx([10.0, 100 * 40 / 300, 100 * 45 / 400, 100 * 65 / 800, 100 * 95 / 800])
    # Not the mean of the weekly rates (10, 15, 5, 5, 40 -> 16.25 for weeks 1-4).
    assert got[4] != pytest.approx((15 + 5 + 5 + 40) / 4)


def test_a_withheld_week_leaves_its_windows_empty():
    pts = (_p(0, 10, 100), _p(1, 3, 20, withheld=True), _p(2, 5, 100), _p(5, 20, 100))
    got = [p.value for p in rolling_rate(pts)]
    assert got[0] == pytest.approx(10.0)
    assert got[1] is None and got[2] is None           # the withheld week is in both windows
    assert got[3] == pytest.approx(100 * 25 / 200)     # weeks 2-5 (5 + 20 over 100 + 100): week 1 has left


def test_a_holiday_restarts_the_window():
    pts = (_p(0, 10, 100), _p(1, 20, 100), _p(8, 30, 100))  # six weeks with no figures
    assert [p.value for p in rolling_rate(pts)] == pytest.approx([10.0, 15.0, 30.0])


def test_withheld_weeks_carry_no_parts(small_cluster_tracker):
    for row in small_cluster_tracker.rows:
        for p in row.series:
            if p.value is None:
                assert p.numerator is None and p.denominator is None


def test_the_tracker_image_draws_the_rolling_rate(figure2_tracker):
    import numpy as np

    from renderers.png import draw

    row = next(r for r in figure2_tracker.rows if r.obsession.term_time_only)
    fig = draw(figure2_tracker)
    text = " ".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_fontsize")))
    assert "4-week rolling" in text and "numerators and denominators" in text
    rolled = [p.value for p in rolling_rate(row.series)]
    weekly = [p.value for p in row.series]
    lines = [np.asarray(ln.get_ydata(), dtype=float) for ln in fig.findobj(lambda a: a.__class__.__name__ == "Line2D")]
    lines = [y for y in lines if np.count_nonzero(~np.isnan(y)) == sum(v is not None for v in weekly) and len(y) > 50]
    assert lines
    # The drawn line's shape is the rolling rate's, not the weekly figures' (pixel ys are a linear map).
    drawn = lines[0][~np.isnan(lines[0])]
    r = np.array([v for v in rolled if v is not None])
    w = np.array([v for v in weekly if v is not None])
    assert abs(np.corrcoef(drawn, r)[0, 1]) > 0.999 and abs(np.corrcoef(drawn, w)[0, 1]) < 0.99
