"""The tracker and the cluster breakdown as one-page PNG images (the 'Thing of Beauty', Figure 2)."""
from __future__ import annotations

import math

from matplotlib.figure import Figure

from tracker.model import (
    BASELINE,
    CHANGE_BASELINE,
    CHANGE_WEEK,
    LATEST,
    PERCENT_BASELINE,
    SAME,
    Breakdown,
    BreakdownRow,
    Tracker,
    TrackerRow,
)
from tracker.rolling import WINDOW_WEEKS, progress, rolls

from . import _figure as fx
from .formatting import (
    VERDICT_WORD,
    WITHHELD,
    arrow,
    benchmark_line,
    illustrative_notice,
    number,
    percent,
    signed,
    title_parts,
    week_label,
)
from .palette import CITY_BAND, LAG_BAND
from .palette import VERDICT as COLOUR

M = 60                      # outer margin, px
RIGHT = fx.WIDTH_PX - M

# Tracker columns: (left, right) of each cell, px.
T_TITLE = (M, 470)
T_LATEST = (480, 685)
T_WEEK = (695, 880)
T_PCT = (890, 1040)
T_BASE = (1050, 1230)
T_SPARK = (1265, RIGHT)

# Every size is at least fx.MIN_PT (8 pt on paper at 16 cm wide).
TITLE_PT, VALUE_PT, CHANGE_PT, LABEL_PT, SMALL_PT = 9.0, 17.0, 12.0, fx.MIN_PT, fx.MIN_PT
HEADING_PT = 16.0
LINE = SMALL_PT * fx.PT * 1.3        # the line step of the small print and the column headings, px


EXACT = (fx.INK, fx.NAVY, fx.MUTED, COLOUR["better"], COLOUR["worse"])


def render_png(model: Tracker | Breakdown) -> bytes:
    """The tracker (city or cluster) or the breakdown as PNG bytes, its alt text in the metadata."""
    from .views import alt_text_of

    exact = EXACT + ((CITY_BAND, LAG_BAND) if isinstance(model, Breakdown) else ())
    return fx.png_bytes(draw(model), title=f"{model.title}, week commencing {week_label(model.week)}",
                        description=alt_text_of(model), exact=exact)


def draw(model: Tracker | Breakdown) -> Figure:
    """The matplotlib Figure of the image (tests read its Text artists)."""
    return draw_breakdown(model) if isinstance(model, Breakdown) else draw_tracker(model)


# ---------------------------------------------------------------------------------------------- tracker

def _note_lines(row: TrackerRow) -> list[str]:
    return fx.wrap_text(row.note[0].upper() + row.note[1:], SMALL_PT, T_TITLE[1] - T_TITLE[0]) if row.note else []


def _aside(row: TrackerRow) -> list[str]:
    """'on 13 Jul 2015' under the week's change when the week before had no figure (a holiday)."""
    if row.previous_is_adjacent or row.previous_week is None:
        return []
    return fx.wrap_text(f"on {row.previous_week:%-d %b %Y}", SMALL_PT, T_WEEK[1] - T_WEEK[0] + 10)


def _latest_aside(tracker: Tracker, row: TrackerRow) -> list[str]:
    if row.latest is None or not row.latest_week or row.latest_week == tracker.week:
        return []
    return fx.wrap_text(f"week of {row.latest_week:%-d %b %Y}", SMALL_PT, T_LATEST[1] - T_LATEST[0] + 10)


def _row_height(tracker: Tracker, row: TrackerRow) -> float:
    lines = fx.wrap_runs(_title_runs(row.obsession), TITLE_PT, T_TITLE[1] - T_TITLE[0])
    need = 36 + len(lines) * TITLE_PT * fx.PT * 1.32 + LINE * len(_note_lines(row)) + 22
    asides = max(len(_aside(row)), len(_latest_aside(tracker, row)))
    # The figures sit at 0.47 of the row, the verdict label 52 px under them, asides under that.
    below = 52 + 30 + 20 + asides * LINE + 16
    return max(200.0, need, below / 0.53)


def _title_runs(obsession) -> list[tuple[str, bool]]:
    before, verb, after = title_parts(obsession)
    return [(before, False), (verb, True), (after, False)]


def _footer_lines(tracker: Tracker) -> list[str]:
    label = tracker.baseline_label
    lines = [f"Progress lines: every weekly figure since the {label}; the dotted line is the {label} level"
             + ("; gaps are withheld weeks or weeks with no figure (school holidays)."
                if any(_has_gap(r) for r in tracker.rows) else ".")]
    rolled = [r.obsession.label for r in tracker.rows if rolls(r.obsession, r.series)]
    if rolled:
        lines.append(f"Progress lines of {' and '.join(rolled)} (term-time figures) are {WINDOW_WEEKS}-week rolling "
                     f"rates, recomputed from the {WINDOW_WEEKS} weeks' numerators and denominators "
                     "(never an average of weekly rates), so that they show the trend, not the week's noise; "
                     "the table gives the week's own figure.")
    if any(r.obsession.is_rate for r in tracker.rows):
        lines.append("Rates are percentages; their changes are in percentage points (pts), "
                     "so no % change is given for them (n/a).")
    if any(r.withheld for r in tracker.rows):
        lines.append(f'"{WITHHELD}": withheld to protect small numbers (counts below {tracker.suppress_below}, '
                     "or figures from which one could be worked out).")
    return [line for text in lines for line in fx.wrap_text(text, SMALL_PT, RIGHT - M)]


def _has_gap(row: TrackerRow) -> bool:
    return any(p.value is None for p in row.series) or any(
        (b.week - a.week).days > 7 for a, b in zip(row.series, row.series[1:]))


def _small_lines(lines: list[str]) -> list[str]:
    return [out for text in lines for out in fx.wrap_text(text, SMALL_PT, RIGHT - M)]


def draw_tracker(tracker: Tracker) -> Figure:
    """Figure 2: heading, week, one row per obsession, a key and the small print."""
    heights = [_row_height(tracker, r) for r in tracker.rows]
    benches = [_bench_lines(r.benchmarks) for r in tracker.rows]   # the DfE's published line under a row
    footer = _footer_lines(tracker)
    small_print = [illustrative_notice(tracker.city)] if tracker.illustrative else []
    if tracker.sender:
        small_print.append(f"Sent by {tracker.sender}.")
    small_print = _small_lines(small_print)
    size, title_lines = fx.fit_title(tracker.title, HEADING_PT, RIGHT - M)
    rule = M + 140 + _extra_lines(size, title_lines)
    head_bottom = _column_heads(None, tracker.baseline_label, rule)
    top_rows = head_bottom + 4
    key_lines = 1 + _key(None, 0)
    footer_h = 62 + 40 * key_lines + LINE * len(footer) + (LINE * len(small_print) + 12 if small_print else 0) + M - 25
    height = math.ceil(top_rows + sum(heights) + sum(_bench_height(b) for b in benches) + footer_h)
    fig, ax = fx.canvas(height)

    _heading(ax, size, title_lines, _area_line(tracker), f"Week commencing {week_label(tracker.week)}")
    _column_heads(ax, tracker.baseline_label, rule)
    y = top_rows
    for row, h, bench in zip(tracker.rows, heights, benches):
        _tracker_row(ax, tracker, row, y, h)
        y += h
        y = _draw_bench(ax, bench, y)
        fx.line(ax, [M, RIGHT], [y, y], fx.RULE, 0.6)
    y += 62
    y += 40 * (1 + _key(ax, y))
    for line in footer:
        fx.write(ax, M, y, line, SMALL_PT, colour=fx.MUTED)
        y += LINE
    _small_print(ax, y + 10, small_print)
    return fig


def _bench_lines(benchmarks) -> list[str]:
    """The benchmark line (renderers/formatting.py), wrapped to the row's width; [] when there is none."""
    text = benchmark_line(benchmarks)
    return fx.wrap_text(text, SMALL_PT, RIGHT - M) if text else []


def _bench_height(lines: list[str]) -> float:
    return LINE * len(lines) + 14 if lines else 0.0


def _draw_bench(ax, lines: list[str], y: float) -> float:
    """The benchmark lines under a row, from y (the row's bottom, so the row's own layout is unchanged)."""
    if not lines:
        return y
    for line in lines:
        fx.write(ax, M, y + LINE * 0.55, line, SMALL_PT, colour=fx.INK)
        y += LINE
    return y + 14


def _area_line(tracker: Tracker) -> str:
    if tracker.area_kind == "city":
        return tracker.area
    if tracker.area_kind == "cluster":
        return f"Cluster of {tracker.city}"
    return "Comparator"


def _extra_lines(size: float, lines: list[str]) -> float:
    """How much lower everything under a title goes when it takes two lines."""
    return (len(lines) - 1) * size * fx.PT * 1.2


def _heading(ax, size: float, lines: list[str], right: str, week: str) -> None:
    y = M + 50
    for line in lines:
        fx.write(ax, M, y, line, size, bold=True, colour=fx.NAVY)
        y += size * fx.PT * 1.2
    extra = _extra_lines(size, lines)
    fx.write(ax, M, M + 110 + extra, week, 10, colour=fx.INK)
    fx.write(ax, RIGHT, M + 110 + extra, right, 10, bold=True, colour=fx.NAVY, ha="right")
    fx.rect(ax, M, M + 140 + extra, RIGHT - M, 6, fx.NAVY)


def _column_heads(ax, label: str, rule: float) -> float:
    """The column headings under the heading's rule, bottom-aligned; returns the y of the rule under them.

    With ax None it only measures."""
    heads = [(T_TITLE, "Obsession", "left"), (T_LATEST, "Latest position", "center"),
             (T_WEEK, "Change on last week", "center"), (T_PCT, f"% change since {label}", "center"),
             (T_BASE, f"Change since {label}", "center"), (T_SPARK, f"Progress since {label}", "center")]
    wrapped = [(col, fx.wrap_runs([(text, True)], LABEL_PT, col[1] - col[0] + 6), ha) for col, text, ha in heads]
    most = max(len(lines) for _, lines, _ in wrapped)
    last = rule + 6 + 52 + (most - 1) * LINE           # baseline of the lowest heading line
    bottom = last + 18
    if ax is None:
        return bottom
    for (left, right), lines, ha in wrapped:
        x = left if ha == "left" else (left + right) / 2
        y = last - (len(lines) - 1) * LINE
        for line in lines:
            fx.write(ax, x, y, line[0][0], LABEL_PT, bold=True, colour=fx.MUTED, ha=ha)
            y += LINE
    fx.line(ax, [M, RIGHT], [bottom, bottom], fx.INK, 0.8)
    return bottom


def _tracker_row(ax, tracker: Tracker, row: TrackerRow, y0: float, h: float) -> None:
    o = row.obsession
    lines = fx.wrap_runs(_title_runs(o), TITLE_PT, T_TITLE[1] - T_TITLE[0])
    step = TITLE_PT * fx.PT * 1.32
    ty = y0 + 36 + TITLE_PT * fx.PT * 0.8
    for line in lines:
        fx.write_runs(ax, T_TITLE[0], ty, line, TITLE_PT)
        ty += step
    for line in _note_lines(row):
        fx.write(ax, T_TITLE[0], ty + 4, line, SMALL_PT, colour=fx.MUTED, italic=True)
        ty += LINE

    mid = y0 + h * 0.47       # baseline of the figures
    word_y = mid + 52         # centre of the better/worse labels

    # Latest position, large.
    withheld = LATEST in row.withheld
    latest = number(row.latest, o, withheld, unit=True)
    fx.write(ax, _centre(T_LATEST), mid + 14, latest, VALUE_PT, bold=True,
             colour=fx.MUTED if withheld or row.latest is None else fx.INK, ha="center")
    y = word_y + 8
    for line in _latest_aside(tracker, row):
        fx.write(ax, _centre(T_LATEST), y, line, SMALL_PT, colour=fx.MUTED, ha="center")
        y += LINE

    _change_cell(ax, T_WEEK, mid, word_y, row.change_since_last_week, row, CHANGE_WEEK in row.withheld,
                 row.verdict_since_last_week, _aside(row))
    # % change since the baseline: a count's proportion; rates have none (their change is in points).
    pct_withheld = PERCENT_BASELINE in row.withheld
    pct = percent(row.percent_change_since_baseline, o, pct_withheld)
    plain = o.is_rate or pct_withheld or row.percent_change_since_baseline is None
    colour = fx.MUTED if plain else COLOUR.get(row.verdict_since_baseline, fx.INK)
    parts = [(pct, CHANGE_PT, True, colour)] + ([] if plain else [("%", LABEL_PT + 1, True, colour)])
    _centred_parts(ax, _centre(T_PCT), mid, parts)
    _change_cell(ax, T_BASE, mid, word_y, row.change_since_baseline, row, CHANGE_BASELINE in row.withheld,
                 row.verdict_since_baseline, [])
    _sparkline(ax, row, tracker.baseline_label, y0, h)


def _centre(col: tuple[float, float]) -> float:
    return (col[0] + col[1]) / 2


def _centred_parts(ax, cx: float, y: float, parts: list[tuple[str, float, bool, str]]) -> None:
    """Pieces of text of different sizes on one baseline, centred as a group on cx."""
    gap = fx.space_width(CHANGE_PT) * 0.6
    widths = [fx.text_width(t, s, b) for t, s, b, _ in parts]
    x = cx - (sum(widths) + gap * (len(parts) - 1)) / 2
    for (text, size, bold, colour), w in zip(parts, widths):
        fx.write(ax, x, y, text, size, bold=bold, colour=colour)
        x += w + gap


def _change_cell(ax, col, y, word_y, change, row: TrackerRow, withheld: bool, verdict, aside: list[str]) -> None:
    """A change with its arrow, coloured by verdict, and the verdict in words beneath."""
    o = row.obsession
    cx = _centre(col)
    text = signed(change, o, withheld)
    if withheld or change is None:
        fx.write(ax, cx, y, text, CHANGE_PT, bold=True, colour=fx.MUTED, ha="center")
        for i, line in enumerate(fx.wrap_text("withheld" if withheld else "no earlier figure", SMALL_PT,
                                              col[1] - col[0] + 10)):
            fx.write(ax, cx, word_y + 8 + i * LINE, line, SMALL_PT, colour=fx.MUTED, ha="center")
        return
    colour = COLOUR.get(verdict, fx.INK)
    parts = [(arrow(change, o), CHANGE_PT - 3, False, colour), (text, CHANGE_PT, True, colour)]
    if o.is_rate:
        parts.append(("pts", LABEL_PT, True, colour))
    _centred_parts(ax, cx, y, parts)
    fx.pill(ax, cx, word_y, VERDICT_WORD.get(verdict, ""), colour)
    for i, line in enumerate(aside):
        fx.write(ax, cx, word_y + 58 + i * LINE, line, SMALL_PT, colour=fx.MUTED, ha="center")


def _sparkline(ax, row: TrackerRow, label: str, y0: float, h: float) -> None:
    """The figures since the baseline as a small line; the baseline level dotted; withheld weeks and
    weeks with no figure (school holidays) as gaps, never bridged."""
    import numpy as np

    pts = progress(row.obsession, row.series)
    left, right = T_SPARK[0] + 10, T_SPARK[1] - 10
    top, bottom = y0 + 45, y0 + h - 80
    known = [p.value for p in pts if p.value is not None]
    if len(pts) < 2 or not known:
        fx.write(ax, (left + right) / 2, (top + bottom) / 2, "no figures to draw" if not known else "",
                 SMALL_PT, colour=fx.MUTED, ha="center")
        return
    base = None if BASELINE in row.withheld else row.baseline_value
    lo, hi = min(known + ([base] if base is not None else [])), max(known + ([base] if base is not None else []))
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    x0, x1 = pts[0].week.toordinal(), pts[-1].week.toordinal()
    xs = np.array([left + (p.week.toordinal() - x0) / max(1, x1 - x0) * (right - left) for p in pts])
    ys = np.array([np.nan if p.value is None else bottom - (p.value - lo) / (hi - lo) * (bottom - top)
                   for p in pts])
    # A week missing from the series (a holiday) breaks the line: a NaN between the two weeks.
    breaks = [i for i in range(1, len(pts)) if (pts[i].week - pts[i - 1].week).days > 7]
    if breaks:
        xs = np.insert(xs, breaks, np.nan)
        ys = np.insert(ys, breaks, np.nan)
    if base is not None:
        by = bottom - (base - lo) / (hi - lo) * (bottom - top)
        fx.line(ax, [left, right], [by, by], fx.MUTED, 0.7, linestyle=(0, (1, 1.6)))
        fx.line(ax, [xs[0]], [by], fx.MUTED, marker="o", markersize=3.2, markerfacecolor=fx.WHITE,
                markeredgewidth=0.8)
    if len(known) < 0.9 * len(pts):
        # Many withheld weeks (small numbers): a line would jump across the gaps, so show each
        # visible week as a dot and let the gaps stay gaps.
        fx.line(ax, xs, ys, fx.NAVY, linestyle="none", marker="o", markersize=1.3, markeredgewidth=0)
    else:
        fx.line(ax, xs, ys, fx.NAVY, 0.85, solid_joinstyle="round", capstyle="round")
        # A week with gaps on both sides would be invisible as a line: show it as a dot.
        seen = ~np.isnan(ys)
        alone = [i for i in range(len(ys)) if seen[i]
                 and (i == 0 or not seen[i - 1]) and (i == len(ys) - 1 or not seen[i + 1])]
        if alone:
            fx.line(ax, xs[alone], ys[alone], fx.NAVY, linestyle="none", marker="o", markersize=1.3)
    if pts[-1].value is not None:
        fx.line(ax, [xs[-1]], [ys[-1]], COLOUR.get(row.verdict_since_baseline, fx.NAVY), marker="o",
                markersize=4.2, markeredgecolor=fx.WHITE, markeredgewidth=0.6)
    # "Apr ’11": two dates at 8 pt and more fit the column side by side only with short years.
    fx.write(ax, left, bottom + 46, f"{pts[0].week:%b ’%y}", SMALL_PT, colour=fx.MUTED)
    fx.write(ax, right, bottom + 46, f"{pts[-1].week:%b ’%y}", SMALL_PT, colour=fx.MUTED, ha="right")


def _key(ax, y: float) -> int:
    """How to read the colours, arrows and words (the same in every tracker); returns the extra lines used.

    With ax None it only measures.
    """
    pieces = [("How to read it:", "bold")] + [(VERDICT_WORD[v], v) for v in ("better", "worse", SAME)]
    pieces += [("judged by each obsession's aim (to reduce or to increase);", "text"),
               ("▲ ▼ ► show which way the figure moved.", "text")]
    x, extra = M, 0
    for text, kind in pieces:
        pill = kind not in ("bold", "text")
        w = fx.text_width(text, SMALL_PT, kind != "text") + (2 * SMALL_PT * fx.PT * 0.38 if pill else 0)
        if x + w > RIGHT:
            x, y, extra = M, y + 40, extra + 1
        if ax is not None:
            if pill:
                fx.pill(ax, x, y - SMALL_PT * fx.PT * 0.36, text, COLOUR[kind], size=SMALL_PT, ha="left")
            else:
                fx.write(ax, x, y, text, SMALL_PT, bold=kind == "bold")
        x += w + 20
    return extra


# -------------------------------------------------------------------------------------------- breakdown

B_RANK = (M, 140)
B_AREA = (150, 640)
B_LATEST = (650, 755)
B_WEEK = (765, 905)
B_PCT = (915, 1055)
B_BASE = (1065, 1200)
B_BAR = (1235, RIGHT)
B_ROW = 50
B_PT = fx.MIN_PT
B_LINE = B_PT * fx.PT * 1.25         # a second line of a long cluster name


def _measure(o, r: BreakdownRow) -> float | None:
    """What the clusters are ranked by: % change for counts, the change in points for rates."""
    if o.is_rate:
        return None if CHANGE_BASELINE in r.withheld else r.change_since_baseline
    return None if PERCENT_BASELINE in r.withheld else r.percent_change_since_baseline


def _name_lines(r: BreakdownRow, is_city: bool) -> list[str]:
    """The cluster's name wrapped into its column, leaving room for the 'lagging' label."""
    room = B_AREA[1] - B_AREA[0] - (fx.text_width("lagging", SMALL_PT, True) + 50 if r.lagging else 0)
    return fx.wrap_text(r.area, B_PT, room, bold=is_city)


def _b_row_height(r: BreakdownRow, is_city: bool) -> float:
    return B_ROW + B_LINE * (len(_name_lines(r, is_city)) - 1)


def draw_breakdown(b: Breakdown) -> Figure:
    """One obsession across every cluster: ranked, the city marked, laggards highlighted, 'c' where withheld."""
    o = b.obsession
    notes = [b.lagging_rule[0].upper() + b.lagging_rule[1:] + "."] + list(b.notes)
    small_print = [illustrative_notice(b.city.area)] if b.illustrative else []
    if b.sender:
        small_print.append(f"Sent by {b.sender}.")
    small_print = _small_lines(small_print)
    city_w = fx.text_width(b.city.area, 11, True)
    size, heading = fx.fit_title(b.title, HEADING_PT, RIGHT - M - city_w - 40)
    extra = _extra_lines(size, heading)
    title_lines = fx.wrap_runs(_title_runs(o), 9.5, RIGHT - M)
    note_lines = [line for n in notes for line in fx.wrap_runs([(n, False)], SMALL_PT, RIGHT - M)]
    week_y = M + 112 + extra + 44 * (len(title_lines) - 1) + 58
    label = b.baseline_label
    pct_head = f"Change since {label} (points)" if o.is_rate else f"% change since {label}"
    pts = " (pts)" if o.is_rate else ""
    heads = [(B_RANK, "Rank", "left"), (B_AREA, "Cluster", "left"), (B_LATEST, "Latest", "right"),
             (B_WEEK, f"Change on last week{pts}", "right"), (B_PCT, f"% change since {label}", "right"),
             (B_BASE, f"Change since {label}{pts}", "right")]
    most = max([len(fx.wrap_runs([(t, True)], LABEL_PT, c[1] - c[0])) for c, t, _ in heads]
               + [1 + len(fx.wrap_runs([(pct_head, True)], LABEL_PT, B_BAR[1] - B_BAR[0]))])
    heads_y = week_y + 26 + 52 + (most - 1) * LINE    # baseline of the last line of the column headings
    top = heads_y + 20
    rows = [(b.city, True)] + [(r, False) for r in b.rows]
    heights = [_b_row_height(r, c) for r, c in rows]
    bench = _bench_lines(b.benchmarks)   # under the city's row
    heights[0] += _bench_height(bench)
    rows_end = top + sum(heights)
    height = math.ceil(rows_end + 80 + LINE * len(note_lines) + (12 + LINE * len(small_print) if small_print else 0)
                       + M - 25)
    fig, ax = fx.canvas(height)

    y = M + 50
    for line in heading:
        fx.write(ax, M, y, line, size, bold=True, colour=fx.NAVY)
        y += size * fx.PT * 1.2
    fx.write(ax, RIGHT, M + 50, b.city.area, 11, bold=True, colour=fx.NAVY, ha="right")
    y = M + 112 + extra
    for line in title_lines:
        fx.write_runs(ax, M, y, line, 9.5)
        y += 44
    fx.write(ax, M, week_y, f"Week commencing {week_label(b.week)}", 10)
    fx.rect(ax, M, week_y + 26, RIGHT - M, 6, fx.NAVY)

    def heading_text(left: float, right: float, text: str, ha: str, bottom: float) -> None:
        lines = fx.wrap_runs([(text, True)], LABEL_PT, right - left)
        yy = bottom - (len(lines) - 1) * LINE
        x = {"left": left, "right": right, "center": (left + right) / 2}[ha]
        for line in lines:
            fx.write(ax, x, yy, line[0][0], LABEL_PT, bold=True, colour=fx.MUTED, ha=ha)
            yy += LINE

    for col, text, ha in heads:
        heading_text(col[0], col[1], text, ha, heads_y)
    heading_text(B_BAR[0], B_BAR[1], pct_head, "center", heads_y - LINE)

    # The bar scale: zero, every visible cluster and the city.
    values = [v for v in (_measure(o, r) for r in (b.city, *b.rows)) if v is not None]
    lo, hi = min(values + [0.0]), max(values + [0.0])
    pad = (hi - lo) * 0.06 or 1.0
    lo, hi = lo - pad, hi + pad
    bl, br = B_BAR

    def bx(v: float) -> float:
        return bl + (v - lo) / (hi - lo) * (br - bl)

    good_left = o.direction == "reduce"
    fx.write(ax, bl, heads_y, "◄ better" if good_left else "◄ worse", LABEL_PT, bold=True,
             colour=COLOUR["better" if good_left else "worse"])
    fx.write(ax, br, heads_y, "worse ►" if good_left else "better ►", LABEL_PT, bold=True,
             colour=COLOUR["worse" if good_left else "better"], ha="right")

    fx.line(ax, [M, RIGHT], [top, top], fx.INK, 0.8)
    y = top
    bars_end = top + heights[0]
    for (r, is_city), h in zip(rows, heights):
        extra = _bench_height(bench) if is_city else 0.0
        _breakdown_row(ax, o, r, is_city, y, h - extra, bx)
        if extra:
            _draw_bench(ax, bench, y + h - extra)
        y += h
        if is_city:
            fx.line(ax, [M, RIGHT], [y, y], fx.INK, 0.6)
        if _measure(o, r) is not None:
            bars_end = y
    # The zero line and the city's line run down the ranked clusters (withheld ones come last).
    zero = bx(0.0)
    fx.line(ax, [zero, zero], [top + heights[0], bars_end], fx.INK, 0.6)
    city_v = _measure(o, b.city)
    if city_v is not None:
        cx = bx(city_v)
        fx.line(ax, [cx, cx], [top + heights[0], bars_end], fx.NAVY, 0.9, linestyle=(0, (3, 2)))
        fx.write(ax, cx, y + 34, f"{b.city.area} {_measure_text(o, city_v)}", SMALL_PT, bold=True,
                 colour=fx.NAVY, ha="center")
    fx.line(ax, [M, RIGHT], [y, y], fx.RULE, 0.6)
    y += 80
    for line in note_lines:
        fx.write_runs(ax, M, y, line, SMALL_PT, colour=fx.MUTED)
        y += LINE
    _small_print(ax, y + 12, small_print)
    return fig


def _measure_text(o, v: float) -> str:
    shown = round(v, 1)
    sign = "+" if shown > 0 else ("-" if shown < 0 else "")
    return f"{sign}{abs(shown):.1f}" + (" pts" if o.is_rate else " %")


def _breakdown_row(ax, o, r: BreakdownRow, is_city: bool, y0: float, h: float, bx) -> None:
    mid = y0 + B_ROW / 2
    base = mid + B_PT * fx.PT * 0.36      # text baseline that centres digits in the row's first line
    if is_city:
        fx.rect(ax, M, y0, RIGHT - M, h, CITY_BAND)
    elif r.lagging:
        fx.rect(ax, M, y0, RIGHT - M, h, LAG_BAND)
    bold = is_city
    fx.write(ax, B_RANK[0] + 8, base, "City" if is_city else (str(r.rank) if r.rank else "–"), B_PT,
             bold=bold, colour=fx.INK if (is_city or r.rank) else fx.MUTED)
    lines = _name_lines(r, is_city)
    for i, line in enumerate(lines):
        fx.write(ax, B_AREA[0], base + i * B_LINE, line, B_PT, bold=bold)
    if r.lagging:
        fx.pill(ax, B_AREA[0] + fx.text_width(lines[-1], B_PT, bold) + 22, mid + (len(lines) - 1) * B_LINE,
                "lagging", COLOUR["worse"], size=SMALL_PT, ha="left")
    fx.write(ax, B_LATEST[1], base, number(r.latest, o, LATEST in r.withheld, unit=True), B_PT,
             bold=LATEST not in r.withheld,
             colour=fx.MUTED if LATEST in r.withheld else fx.INK, ha="right")
    _breakdown_change(ax, B_WEEK[1], base, o, r.change_since_last_week, CHANGE_WEEK in r.withheld,
                      r.verdict_since_last_week)
    if o.is_rate:
        fx.write(ax, B_PCT[1], base, "n/a", B_PT, colour=fx.MUTED, ha="right")
    else:
        w = PERCENT_BASELINE in r.withheld
        fx.write(ax, B_PCT[1], base, percent(r.percent_change_since_baseline, o, w), B_PT,
                 colour=fx.MUTED if w else fx.INK, ha="right")
    _breakdown_change(ax, B_BASE[1], base, o, r.change_since_baseline, CHANGE_BASELINE in r.withheld,
                      r.verdict_since_baseline)
    v = _measure(o, r)
    if v is None:
        fx.write(ax, (B_BAR[0] + B_BAR[1]) / 2, base, "withheld" if r.withheld else "no figure", SMALL_PT,
                 colour=fx.MUTED, italic=True, ha="center")
        return
    x0, x1 = sorted((bx(0.0), bx(v)))
    colour = COLOUR.get(r.verdict_since_baseline, fx.MUTED)
    fx.rect(ax, x0, mid - 12, max(x1 - x0, 1.5), 24, colour)


def _breakdown_change(ax, right: float, y: float, o, change, withheld: bool, verdict) -> None:
    text = signed(change, o, withheld)
    if withheld or change is None:
        fx.write(ax, right, y, text, B_PT, colour=fx.MUTED, ha="right")
        return
    colour = COLOUR.get(verdict, fx.INK)
    fx.write(ax, right, y, text, B_PT, bold=True, colour=colour, ha="right")
    fx.write(ax, right - fx.text_width(text, B_PT, True) - 14, y, arrow(change, o), B_PT,
             colour=colour, ha="right")


def _small_print(ax, y: float, lines: list[str]) -> None:
    """The illustrative notice and the sender, in small italics at the foot of an image."""
    for line in lines:
        fx.write(ax, M, y, line, SMALL_PT, colour=fx.MUTED, italic=True)
        y += LINE
