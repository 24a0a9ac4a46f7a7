"""The turn-the-curve chart: weekly history, the pre-plan trend continued as a dashed line, the gap shaded."""
from __future__ import annotations

import math

import numpy as np
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from tracker.model import Curve
from tracker.rolling import WINDOW_WEEKS, progress, rolls

from . import _figure as fx
from . import events as ev
from .formatting import VERDICT_WORD, number, title_parts, week_label
from .palette import TREND
from .palette import VERDICT as COLOUR

M = 60
RIGHT = fx.WIDTH_PX - M
SMALL = fx.MIN_PT           # the smallest text: 8 pt on paper at 16 cm wide
STEP = SMALL * fx.PT * 1.3  # its line step, px
PLOT = (175, 1170)          # left and right of the plot area, px; labels go in the margin to its right


def render_curve(curve: Curve) -> bytes:
    """The turn-the-curve chart of one obsession in one area as PNG bytes, its alt text in the metadata."""
    return fx.png_bytes(draw_curve(curve), title=_title(curve), description=curve_alt_text(curve),
                        exact=(fx.NAVY, fx.INK, COLOUR["better"], COLOUR["worse"]))


def _title(curve: Curve) -> str:
    return f"Turning the curve: {curve.obsession.label}, {curve.area}"


def _latest(curve: Curve):
    return curve.history[-1] if curve.history else None


def curve_alt_text(curve: Curve) -> str:
    """The chart in words: what it shows, the latest figure and the gap to the pre-plan trend."""
    o = curve.obsession
    head = f"{_title(curve)}, week commencing {week_label(curve.week)}."
    last = _latest(curve)
    if last is None:
        latest = "No figures to chart."
    elif last.value is None:
        latest = f"Latest figure ({week_label(last.week)}): withheld (a small number)."
    else:
        latest = f"Latest figure ({week_label(last.week)}): {number(last.value, o, unit=True)}."
    base = ""
    if curve.baseline_value is not None:
        base = f" At the {curve.baseline_label} ({week_label(curve.baseline_week)}): " \
               f"{number(curve.baseline_value, o, unit=True)}."
    if curve.forecast is None:
        trend = f" No pre-plan trend: too few weekly figures before the {curve.baseline_label}."
    else:
        trend = (f" Compared with a straight-line continuation of the trend before the {curve.baseline_label} "
                 f"(not a prediction): {curve.forecast.description}.")
    return head + " " + latest + base + trend + ev.events_sentence(curve.events)


def _caption(curve: Curve) -> str:
    label = curve.baseline_label
    f = curve.forecast
    if f is None:
        return (f"No pre-plan trend is drawn: there are too few weekly figures before the {label} "
                "to continue one.")
    return (f"The dashed line continues, as a straight line, the trend of the {f.weeks_fitted} weeks before the "
            f"{label} ({week_label(f.fitted_from)} to {week_label(f.fitted_to)}): where the figure would be "
            "had that trend simply gone on. It is a yardstick, not a prediction." + _rolling_note(curve))


def _rolling_note(curve: Curve) -> str:
    if not _rolls(curve):
        return ""
    return (f" The solid line is the {WINDOW_WEEKS}-week rolling rate, recomputed from the {WINDOW_WEEKS} weeks' "
            "numerators and denominators (never an average of weekly rates); the dots are the weekly figures; "
            "school holidays, with no figures, are gaps.")


def draw_curve(curve: Curve) -> Figure:
    """The chart's matplotlib Figure (tests read its Text artists)."""
    o = curve.obsession
    caption = fx.wrap_runs([(_caption(curve), False)], SMALL, RIGHT - M)
    # The model names the area, not the city, so the notice here does not name whose data it is not.
    small = ["Illustrative demo figures (synthetic), not real data."] if curve.illustrative else []
    # A long area name: the title shrinks, then takes two lines, and everything under it moves down.
    size, title_lines = fx.fit_title(_title(curve), 15.0, RIGHT - M)
    extra = (len(title_lines) - 1) * size * fx.PT * 1.2
    plot_top, plot_bottom = 300 + extra, 880 + extra
    marks = _event_marks(curve) if curve.events else None   # initiatives, in lanes above the plot
    if marks:
        shift = ev.band_height(marks)
        plot_top, plot_bottom = plot_top + shift, plot_bottom + shift
    height = math.ceil(plot_bottom + 100 + STEP * (len(caption) + len(small)) + M)
    fig, ax = fx.canvas(height)

    for i, line in enumerate(title_lines):
        fx.write(ax, M, M + 50 + i * size * fx.PT * 1.2, line, size, bold=True, colour=fx.NAVY)
    before, verb, after = title_parts(o)
    fx.write_runs(ax, M, M + 108 + extra, fx.wrap_runs([(before, False), (verb, True), (after, False)], 9, 1e6)[0], 9)
    fx.write(ax, M, M + 160 + extra, f"Week commencing {week_label(curve.week)}", 9)
    fx.rect(ax, M, M + 184 + extra, RIGHT - M, 5, fx.NAVY)

    # The chart proper: a real Axes in the pixel frame (figure fractions from pixels).
    W, H = fx.WIDTH_PX, height
    chart = fig.add_axes((PLOT[0] / W, 1 - plot_bottom / H, (PLOT[1] - PLOT[0]) / W, (plot_bottom - plot_top) / H))
    chart.set_facecolor("none")
    _chart(chart, curve)
    _margin_labels(ax, chart, curve, fig, plot_top, plot_bottom, H)
    if marks:
        ev.draw_marks(ax, marks, plot_top, plot_bottom)

    y = plot_bottom + 100
    for line in caption:
        fx.write_runs(ax, M, y, line, SMALL, colour=fx.INK)
        y += STEP
    for line in small:
        fx.write(ax, M, y + 6, line, SMALL, colour=fx.MUTED, italic=True)
        y += STEP
    return fig


def _event_marks(curve: Curve):
    """The plan's start and each event as labelled lines, at their places on the chart's x axis."""
    xs, _ = _series(curve)
    if not len(xs):
        return None
    x0, x1 = xs[0], xs[-1] + (xs[-1] - xs[0]) * 0.01   # the limits _chart sets
    span = (x1 - x0) or 1.0

    def x_of(d) -> float:
        return PLOT[0] + (date2num(d) - x0) / span * (PLOT[1] - PLOT[0])

    plan = [(f"{curve.baseline_label} (plan starts)", True, fx.INK)]
    if curve.baseline_value is not None:
        plan.append((f"{week_label(curve.baseline_week)}: {number(curve.baseline_value, curve.obsession, unit=True)}",
                     False, fx.MUTED))
    return ev.event_marks(curve.events, x_of(curve.baseline_week), plan, x_of, RIGHT)


def _days(points) -> np.ndarray:
    """The points' weeks as matplotlib date numbers, converted in one call (the same numbers as one
    date2num per point, which was half the drawing time of a chart with ten years of weeks)."""
    if not points:
        return np.array([])
    return date2num(np.array([p.week for p in points], dtype="datetime64[D]"))


def _series(curve: Curve):
    xs = _days(curve.history)
    ys = np.array([np.nan if p.value is None else p.value for p in curve.history], dtype=float)
    return xs, ys


def _line(curve: Curve) -> tuple[np.ndarray, np.ndarray]:
    """What the solid line shows: the weekly figures, or for a term-time rate its rolling rate."""
    if not _rolls(curve):
        return _series(curve)
    xs = _days(curve.history)
    line = progress(curve.obsession, curve.history)
    return xs, np.array([np.nan if p.value is None else p.value for p in line], dtype=float)


def _rolls(curve: Curve) -> bool:
    return rolls(curve.obsession, curve.history)


def _broken(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The series with a gap (NaN, half-way) wherever weeks are missing (school holidays), so that
    no line or shading bridges them."""
    at = np.flatnonzero(np.diff(xs) > 7) + 1
    if not len(at):
        return xs, ys
    return np.insert(xs, at, (xs[at - 1] + xs[at]) / 2), np.insert(ys, at, np.nan)


def _chart(chart, curve: Curve) -> None:
    o = curve.obsession
    xs, ys = _series(curve)
    f = curve.forecast
    plan = date2num(curve.baseline_week)
    if f is not None and f.line:
        fx_ = _days(f.line)
        fy = np.array([np.nan if p.value is None else p.value for p in f.line], dtype=float)
        chart.plot(fx_, fy, color=TREND, lw=1.3, ls=(0, (4, 2.5)), zorder=3)
        # Shade the gap after the plan's start, where the actual figure is shown.
        gx, gy = _broken(*_line(curve))
        trend_at = np.interp(gx, fx_, fy, left=np.nan, right=np.nan)
        after = (gx >= plan) & ~np.isnan(gy) & ~np.isnan(trend_at)
        # A withheld gap is not drawn either: shading it would show what the words withhold.
        if f.gap is not None:
            chart.fill_between(gx, gy, trend_at, where=after, color=COLOUR.get(f.verdict, fx.MUTED),
                               alpha=0.16, linewidth=0, zorder=1)
    known = ~np.isnan(ys)
    if known.sum() < 0.9 * len(ys):
        # Many withheld weeks (small numbers): dots, so that no line jumps across a gap.
        chart.plot(xs, ys, ls="none", marker="o", ms=1.8, mew=0, color=fx.NAVY, zorder=4)
    else:
        if _rolls(curve):   # the weekly figures as faint dots behind the rolling rate
            chart.plot(xs, ys, ls="none", marker="o", ms=1.4, mew=0, color=TREND, alpha=0.6, zorder=3)
        gx, gy = _broken(*_line(curve))
        chart.plot(gx, gy, color=fx.NAVY, lw=1.2, zorder=4, solid_joinstyle="round")
        seen = ~np.isnan(gy)
        alone = [i for i in range(len(gy)) if seen[i]
                 and (i == 0 or not seen[i - 1]) and (i == len(gy) - 1 or not seen[i + 1])]
        if alone:
            chart.plot(gx[alone], gy[alone], ls="none", marker="o", ms=1.6, color=fx.NAVY, zorder=4)
    chart.axvline(plan, color=fx.INK, lw=0.8, ls=(0, (1, 1.5)), zorder=2)
    if curve.baseline_value is not None:
        chart.plot([plan], [curve.baseline_value], ls="none", marker="o", ms=5, mfc=fx.WHITE, mec=fx.INK,
                   mew=1.1, zorder=5)

    chart.xaxis.set_major_locator(loc := AutoDateLocator(minticks=4, maxticks=9))
    chart.xaxis.set_major_formatter(ConciseDateFormatter(loc, show_offset=False))
    for side in ("top", "right"):
        chart.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        chart.spines[side].set_color(fx.MUTED)
        chart.spines[side].set_linewidth(0.6)
    # labelfontfamily sets the house font on every tick label without working the ticks out before
    # the drawing does (get_ticklabels() ran the date locator and formatter an extra time).
    chart.tick_params(labelsize=SMALL, colors=fx.MUTED, width=0.6, length=3, labelcolor=fx.INK,
                      labelfontfamily=fx.FONT)
    chart.grid(axis="y", color=fx.RULE, lw=0.5)
    chart.set_axisbelow(True)
    if o.is_rate:
        chart.yaxis.set_major_formatter("{x:.1f} %")
    else:
        chart.yaxis.set_major_locator(MaxNLocator(nbins=7, integer=True))   # counts: whole numbers only
        chart.yaxis.set_major_formatter("{x:,.0f}")
    known = ys[~np.isnan(ys)]
    lows = [known.min()] if known.size else []
    highs = [known.max()] if known.size else []
    if f is not None and f.line:
        line_vals = [p.value for p in f.line if p.value is not None]
        lows.append(min(line_vals))
        highs.append(max(line_vals))
    if lows:
        lo, hi = min(lows), max(highs)
        pad = (hi - lo) * 0.08 or 1.0
        chart.set_ylim(max(0.0, lo - pad) if lo >= 0 else lo - pad, hi + pad)
    if len(xs):
        chart.set_xlim(xs[0], xs[-1] + (xs[-1] - xs[0]) * 0.01)


def _margin_labels(ax, chart, curve: Curve, fig, plot_top: float, plot_bottom: float, H: float) -> None:
    """Direct labels: the lines at their right ends, the gap in words, the plan's start at the top."""
    o = curve.obsession
    xs, ys = _series(curve)
    y0, y1 = chart.get_ylim()
    x0, x1 = chart.get_xlim()

    def px(xv: float, yv: float) -> tuple[float, float]:
        return (PLOT[0] + (xv - x0) / (x1 - x0) * (PLOT[1] - PLOT[0]),
                plot_bottom - (yv - y0) / (y1 - y0) * (plot_bottom - plot_top))

    label_x = PLOT[1] + 24
    width = RIGHT - label_x
    plan_x, _ = px(date2num(curve.baseline_week), y0)
    if not curve.events:   # with events, the plan's label is in the events' lanes (renderers/events.py)
        fx.write(ax, plan_x + 8, plot_top - 34, f"{curve.baseline_label} (plan starts)", SMALL, bold=True)
    if curve.baseline_value is not None and not curve.events:
        fx.write(ax, plan_x + 8, plot_top - 8,
                 f"{week_label(curve.baseline_week)}: {number(curve.baseline_value, o, unit=True)}", SMALL,
                 colour=fx.MUTED)
    # Label blocks in the right margin: (wanted centre y, height, drawing function), then pushed
    # apart so that none overlaps however close the lines end.
    blocks = []
    last = _latest(curve)
    f = curve.forecast
    actual_y = trend_y = None
    if last is not None:
        actual_y = px(xs[-1], last.value)[1] if last.value is not None else plot_top + 40
        sub = number(last.value, o, unit=True) if last.value is not None else "latest withheld (c)"
        blocks.append([actual_y, 74, _pair("Actual", sub, fx.NAVY, fx.NAVY)])
    if f is not None and f.line and f.line[-1].value is not None:
        trend_y = px(date2num(f.line[-1].week), f.line[-1].value)[1]
        blocks.append([trend_y, 74, _pair("Pre-plan trend", "(straight line)", TREND, fx.MUTED)])
    if f is not None:
        word = f.verdict
        lines = fx.wrap_runs([(f.description[0].upper() + f.description[1:], True)], SMALL, width)
        near = [v for v in (actual_y, trend_y) if v is not None]
        wanted = sum(near) / len(near) if near else (plot_top + plot_bottom) / 2
        blocks.append([wanted, 52 * (word in ("better", "worse")) + STEP * len(lines),
                       _gap_label(word, [ln[0][0] for ln in lines])])
    fx.stack_labels([[c, h, lambda top, d=d: d(ax, label_x, top)] for c, h, d in blocks],
                    floor=plot_top - 10, ceiling=plot_bottom + 40, gap=24)


def _pair(name: str, sub: str, colour: str, sub_colour: str):
    def draw(ax, x: float, top: float) -> None:
        fx.write(ax, x, top + 26, name, SMALL, bold=True, colour=colour)
        fx.write(ax, x, top + 64, sub, SMALL, colour=sub_colour)
    return draw


def _gap_label(word, lines: list[str]):
    colour = COLOUR.get(word, fx.MUTED)

    def draw(ax, x: float, top: float) -> None:
        y = top
        if word in ("better", "worse"):
            fx.pill(ax, x, y + 16, VERDICT_WORD[word], colour, size=SMALL, ha="left")
            y += 52
        for line in lines:
            fx.write(ax, x, y + 26, line, SMALL, bold=True, colour=colour)
            y += STEP
    return draw
