"""Rolling rates for term-time obsessions: each week's rate over the weeks of term in the four weeks
ending with it, recomputed as 100 x sum(numerators) / sum(denominators), never an average of rates.

Weekly school absence swings with illness, weather and trips; over four weeks the trend shows. A
week in the holidays has no figure and no rolling rate (the line breaks there). A window that holds
a withheld week gives no rolling rate either, since the sum would let the withheld week be worked out.
"""
from __future__ import annotations

from datetime import timedelta

from .model import Point

WINDOW_WEEKS = 4


def rolling_rate(points: tuple[Point, ...], weeks: int = WINDOW_WEEKS) -> tuple[Point, ...]:
    """The points' rolling rate, one Point per input week (value None where it cannot be recomputed)."""
    out = []
    span = timedelta(days=7 * weeks)
    start = 0
    for i, p in enumerate(points):
        while points[start].week <= p.week - span:
            start += 1
        window = points[start:i + 1]
        num = den = 0.0
        value = None
        if all(q.value is not None and q.numerator is not None and q.denominator for q in window):
            num = sum(q.numerator for q in window)
            den = sum(q.denominator for q in window)
            value = 100.0 * num / den if den > 0 else None
        out.append(Point(p.week, value, num if value is not None else None, den if value is not None else None))
    return tuple(out)


def has_parts(points: tuple[Point, ...]) -> bool:
    """True when the series carries numerators and denominators to recompute a rolling rate from."""
    return any(p.numerator is not None and p.denominator for p in points)


def rolls(obsession, points: tuple[Point, ...]) -> bool:
    """True when an obsession's progress line is its rolling rate: a term-time rate with its parts."""
    return obsession.is_rate and obsession.term_time_only and has_parts(points)


def progress(obsession, points: tuple[Point, ...]) -> tuple[Point, ...]:
    """What a progress line shows: the rolling rate of a term-time rate, the weekly figures otherwise."""
    return rolling_rate(points) if rolls(obsession, points) else points
