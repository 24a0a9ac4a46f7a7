"""Events (initiatives) on the turn-the-curve chart: a labelled vertical line each, the labels in lanes
above the plot so that no label overlaps another label or any line.

Each label sits to the right of its own line, which runs up beside it. Working from the right, a
label goes in the lowest lane above every line (of an event to its right) that would otherwise
run through it; labels in one lane then never overlap, since a label that would reach the next
one's line is already above it. The plan's start is one of the lines, with its two-line label.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import _figure as fx
from .formatting import week_label

LANE = 34            # px between label baselines
FLOOR = 14           # px from the plot's top to the lowest lane's baseline (clear of the right margin's labels)
SIZE = fx.MIN_PT     # pt, the event labels: 8 pt on paper at 16 cm wide (issue 10)
GAP = 8              # px between a line and its label
MIN_WIDTH = 170      # px: a label is wrapped to the room on its right, never narrower than this


@dataclass
class Mark:
    """One labelled line: where it is (px), its label lines, and the lanes it takes."""

    x: float
    lines: list[tuple[str, bool, str]]   # (text, bold, colour), top line first
    width: float = 0.0
    lane: int = 0                         # the bottom lane of its label

    @property
    def top(self) -> int:
        """The top lane of its label."""
        return self.lane + len(self.lines) - 1


def event_marks(events, plan_x: float, plan_lines, x_of, right: float) -> list[Mark]:
    """The marks of the plan's start and of each event, with their lanes worked out."""
    marks = [Mark(plan_x, list(plan_lines))]
    for e in events:
        x = x_of(e.date)
        room = max(MIN_WIDTH, right - x - GAP)
        text = f"{e.label} ({e.date.day} {e.date:%b %Y})"
        wrapped = fx.wrap_runs([(text, False)], SIZE, room)
        marks.append(Mark(x, [(" ".join(w for w, _ in ln), False, fx.INK) for ln in wrapped]))
    for m in marks:
        m.width = max(fx.text_width(t, SIZE, b) for t, b, _ in m.lines)
    placed: list[Mark] = []
    for m in sorted(marks, key=lambda m: -m.x):
        span = (m.x, m.x + GAP + m.width)
        through = [p.top for p in placed if span[0] <= p.x <= span[1] + GAP]
        m.lane = 1 + max(through) if through else 0
        placed.append(m)
    return marks


def band_height(marks: list[Mark]) -> int:
    """The height the lanes need above the plot beyond the plan label's usual two (px)."""
    top = max(m.top for m in marks)
    return max(0, top - 1) * LANE + FLOOR - 8 + (12 if top > 1 else 0)   # and air under the heading's rule


def draw_marks(ax, marks: list[Mark], plot_top: float, plot_bottom: float) -> None:
    """Each line from the bottom of the plot up beside its label, and the label in its lanes."""
    for m in marks[1:]:   # the plan's own line is drawn by the chart; events' here
        label_top = plot_top - FLOOR - LANE * m.top - 20
        # Solid and thin: the dashed line on this chart is the pre-plan trend.
        fx.line(ax, [m.x, m.x], [plot_bottom, label_top], fx.MUTED, 0.7)
    plan = marks[0]
    fx.line(ax, [plan.x, plan.x], [plot_top, plot_top - FLOOR - LANE * plan.top - 20], fx.INK, 0.8,
            linestyle=(0, (1, 1.5)))
    for m in marks:
        for i, (text, bold, colour) in enumerate(m.lines):
            lane = m.top - i
            fx.write(ax, m.x + GAP, plot_top - FLOOR - LANE * lane, text, SIZE, bold=bold,
                     colour=colour)


def events_sentence(events) -> str:
    """The events in words, for the alt text: 'Events marked: 2 September 2013, Family group conferencing.'"""
    if not events:
        return ""
    return " Events marked: " + "; ".join(f"{week_label(e.date)}, {e.label}" for e in events) + "."
