"""How the city compares: its published rate year by year beside its statistical neighbours' mean, its
region and England, the shape of Leeds' own charts ("well above Statistical Neighbours and the
national average"). Drawn with the same helpers, sizes and label placement as the turn-the-curve chart.

Lines are told apart by style and marker as well as by shade, and each is labelled at its end, so
colour is never the only cue; better or worse is a word, judged by the obsession's direction.
"""
from __future__ import annotations

import numpy as np
from matplotlib.dates import date2num
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, MaxNLocator

from tracker.model import BETTER, SAME, WORSE, Comparison

from . import _figure as fx
from .formatting import VERDICT_WORD, benchmark_value, week_label
from .palette import TREND
from .palette import VERDICT as COLOUR

M = 60
RIGHT = fx.WIDTH_PX - M
PLOT = (175, 1090)
# kind -> (colour, line style, marker, width): the city bold and solid, the others lighter and broken.
STYLE = {"city": (fx.NAVY, "-", "o", 2.2), "statistical_neighbours": (fx.INK, (0, (5, 2)), "s", 1.3),
         "region": (fx.MUTED, (0, (6, 2, 1.5, 2)), "^", 1.3), "national": (TREND, (0, (1.2, 1.6)), "D", 1.5)}


def render_compare(c: Comparison) -> bytes:
    """The comparison chart as PNG bytes, its alt text in the metadata."""
    return fx.png_bytes(draw_compare(c), title=_title(c), description=compare_alt_text(c),
                        exact=(fx.NAVY, fx.INK, COLOUR[BETTER], COLOUR[WORSE]))


def _title(c: Comparison) -> str:
    return f"How {c.city} compares: {c.obsession.label}"


def _name(line) -> str:
    if line.kind != "statistical_neighbours":
        return line.label
    n = max(line.counts) if line.counts else len(line.members)
    return f"Statistical neighbours (mean of {n} rates)"


def _city(c: Comparison):
    return next((ln for ln in c.lines if ln.kind == "city"), None)


def judge(c: Comparison, other) -> str | None:
    """'better', 'worse' or 'same' for the city's latest figure against another line's at the same date."""
    city = _city(c)
    if city is None or not city.points or other is None:
        return None
    at = {p.week: p.value for p in other.points}
    last = city.points[-1]
    if last.week not in at:
        return None
    places = 1 if c.unit == "percent" else 0
    diff = round(last.value, places) - round(at[last.week], places)
    if diff == 0:
        return SAME
    return BETTER if (diff < 0) == (c.obsession.direction == "reduce") else WORSE


def _unit_words(c: Comparison) -> str:
    return c.measure


def compare_alt_text(c: Comparison) -> str:
    """The chart in words: every line's figures year by year, and the latest comparison judged."""
    city = _city(c)
    first = min(p.week for ln in c.lines for p in ln.points)
    last = max(p.week for ln in c.lines for p in ln.points)
    parts = [f"{_title(c)}, {_unit_words(c)}, published figures from {week_label(first)} to {week_label(last)}."]
    for ln in c.lines:
        values = ", ".join(f"{p.week.year} {benchmark_value(p.value, c.unit)}" for p in ln.points)
        extra = f" ({', '.join(ln.members)})" if ln.members else ""
        parts.append(f"{_name(ln)}{extra}: {values}.")
    if city is not None and city.points:
        words = []
        for ln in c.lines:
            if ln.kind == "city":
                continue
            v = judge(c, ln)
            if v is not None:
                words.append(f"{VERDICT_WORD[v] if v != SAME else 'the same as'}"
                             f"{' than' if v != SAME else ''} {_name(ln).lower() if ln.kind == 'statistical_neighbours' else ln.label}")
        if words:
            parts.append(f"Latest, {week_label(city.points[-1].week)}: {c.city} "
                         f"{benchmark_value(city.points[-1].value, c.unit)}, " + "; ".join(words) + ".")
    direction = "lower" if c.obsession.direction == "reduce" else "higher"
    parts.append(f"For this obsession {direction} is better.")
    return " ".join(parts)


def draw_compare(c: Comparison) -> Figure:
    """The chart's matplotlib Figure (tests read its Text artists)."""
    small = ["Published figures: Department for Education (Open Government Licence v3.0)."]
    if c.illustrative:
        small.append("The weekly figures elsewhere are illustrative (synthetic); these published ones are the DfE's.")
    plot_top, plot_bottom = 300, 860
    height = plot_bottom + 100 + 30 * len(small) + M
    fig, ax = fx.canvas(height)
    title = _title(c)
    size = min(15.0, 15.0 * (RIGHT - M) / max(1.0, fx.text_width(title, 15.0, True)))
    fx.write(ax, M, M + 50, title, size, bold=True, colour=fx.NAVY)
    direction = "lower" if c.obsession.direction == "reduce" else "higher"
    fx.write(ax, M, M + 108, f"{c.measure[0].upper()}{c.measure[1:]}; {direction} is better", 9)
    city = _city(c)
    if city is not None and city.points:
        fx.write(ax, M, M + 160, f"Published figures to {week_label(city.points[-1].week)}", 9)
    fx.rect(ax, M, M + 184, RIGHT - M, 5, fx.NAVY)

    W, H = fx.WIDTH_PX, height
    chart = fig.add_axes((PLOT[0] / W, 1 - plot_bottom / H, (PLOT[1] - PLOT[0]) / W, (plot_bottom - plot_top) / H))
    chart.set_facecolor("none")
    _chart(chart, c)
    _labels(ax, chart, c, plot_top, plot_bottom)
    y = plot_bottom + 110
    for line in small:
        fx.write(ax, M, y, line, 5.8, colour=fx.MUTED, italic=True)
        y += 30
    return fig


def _xy(line):
    xs = date2num(np.array([p.week for p in line.points], dtype="datetime64[D]"))
    ys = np.array([p.value for p in line.points], dtype=float)
    return xs, ys


def _chart(chart, c: Comparison) -> None:
    lo, hi, x_lo, x_hi = np.inf, -np.inf, np.inf, -np.inf
    for ln in c.lines:
        colour, ls, marker, lw = STYLE[ln.kind]
        xs, ys = _xy(ln)
        chart.plot(xs, ys, color=colour, ls=ls, lw=lw, marker=marker, ms=4.2 if ln.kind == "city" else 3.4,
                   mfc=colour if ln.kind == "city" else fx.WHITE, mec=colour, mew=1.0,
                   zorder=5 if ln.kind == "city" else 4)
        lo, hi = min(lo, ys.min()), max(hi, ys.max())
        x_lo, x_hi = min(x_lo, xs.min()), max(x_hi, xs.max())
    pad = (hi - lo) * 0.12 or 1.0
    chart.set_ylim(max(0.0, lo - pad), hi + pad)
    span = (x_hi - x_lo) or 365.0
    chart.set_xlim(x_lo - span * 0.04, x_hi + span * 0.04)
    # Ticks at the figures' own dates (31 March, or the end of February), labelled with the year.
    dates = sorted({p.week for ln in c.lines for p in ln.points})
    chart.xaxis.set_major_locator(FixedLocator(date2num(np.array(dates, dtype="datetime64[D]"))))
    chart.xaxis.set_major_formatter(FixedFormatter([str(d.year) for d in dates]))
    for side in ("top", "right"):
        chart.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        chart.spines[side].set_color(fx.MUTED)
        chart.spines[side].set_linewidth(0.6)
    chart.tick_params(labelsize=6.2, colors=fx.MUTED, width=0.6, length=3, labelcolor=fx.INK,
                      labelfontfamily=fx.FONT)
    chart.grid(axis="y", color=fx.RULE, lw=0.5)
    chart.set_axisbelow(True)
    # Ticks only where the label is exact (no "4.2 %" at 4.25).
    chart.yaxis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 5, 10], integer=c.unit != "percent"))
    chart.yaxis.set_major_formatter("{x:.1f} %" if c.unit == "percent" else "{x:,.0f}")


def _labels(ax, chart, c: Comparison, plot_top: float, plot_bottom: float) -> None:
    """Each line's name and latest value at its right end, pushed apart so that none overlaps."""
    y0, y1 = chart.get_ylim()
    blocks = []
    for ln in c.lines:
        if not ln.points:
            continue
        v = ln.points[-1].value
        centre = plot_bottom - (v - y0) / (y1 - y0) * (plot_bottom - plot_top)
        colour = STYLE[ln.kind][0]
        verdict = judge(c, ln) if ln.kind != "city" else None
        value = benchmark_value(v, c.unit)
        blocks.append([centre, 58 + (40 if verdict in (BETTER, WORSE) else 0),
                       _block(_name(ln) if ln.kind != "city" else c.city, value, colour, verdict, c.city)])
    blocks.sort(key=lambda b: b[0])
    tops, floor = [], plot_top - 20
    for centre, h, _ in blocks:
        top = max(centre - h / 2, floor)
        tops.append(top)
        floor = top + h + 14
    overflow = floor - 14 - (plot_bottom + 50)
    if overflow > 0:
        tops = [t - overflow for t in tops]
    x = PLOT[1] + 24
    for top, (_, _, draw) in zip(tops, blocks):
        draw(ax, x, top)


def _block(name: str, value: str, colour: str, verdict: str | None, city: str):
    width = RIGHT - (PLOT[1] + 24)
    size = 6.4
    while fx.text_width(name, size, True) > width and size > 4.6:   # long names: a smaller size, never overlap
        size -= 0.2

    def draw(ax, x: float, top: float) -> None:
        fx.write(ax, x, top + 22, name, size, bold=True, colour=colour)
        fx.write(ax, x, top + 52, value, 6.2, colour=fx.INK)
        if verdict in (BETTER, WORSE):
            fx.pill(ax, x, top + 80, f"{city} {VERDICT_WORD[verdict]}", COLOUR[verdict], size=5.6, ha="left")
    return draw


def render_compare_text(c: Comparison) -> str:
    """The comparison as text: one line a year for each area, then the latest judged."""
    lines = [_title(c), f"{c.measure[0].upper()}{c.measure[1:]}; published by the Department for Education", ""]
    years = sorted({p.week for ln in c.lines for p in ln.points})
    width = max(len(_name(ln)) for ln in c.lines) + 2
    lines.append(" " * width + "".join(f"{d.year:>8}" for d in years))
    for ln in c.lines:
        at = {p.week: p.value for p in ln.points}
        lines.append(f"{_name(ln):<{width}}" + "".join(f"{benchmark_value(at.get(d), c.unit):>8}" for d in years))
    lines.append("")
    lines.append(compare_alt_text(c).split(". ", 1)[1] if ". " in compare_alt_text(c) else "")
    return "\n".join(lines).rstrip() + "\n"


def render_compare_json(c: Comparison) -> str:
    """The comparison as JSON: each line's points exactly as computed."""
    import json

    d = {"obsession": c.obsession.key, "city": c.city, "unit": c.unit, "what": c.measure,
         "week_commencing": c.week.isoformat() if c.week else None,
         "lines": [{"area": ln.label, "kind": ln.kind, "members": list(ln.members),
                    "points": [{"as_of": p.week.isoformat(), "value": p.value,
                                **({"of": n} if ln.counts else {})}
                               for p, n in zip(ln.points, ln.counts or [None] * len(ln.points))]}
                   for ln in c.lines],
         "alt": compare_alt_text(c)}
    return json.dumps(d, indent=2, ensure_ascii=False) + "\n"


def render_compare_html(c: Comparison, image_src: str, view_url: str | None = None, *, as_email: bool = False,
                        unsubscribe_mailto: str | None = None) -> str:
    """The archive page of the comparison: the chart with its alt text, and the figures as a table."""
    import html

    esc = html.escape
    years = sorted({p.week for ln in c.lines for p in ln.points})
    head = "".join(f'<th scope="col">{d.year}</th>' for d in years)
    rows = []
    for ln in c.lines:
        at = {p.week: p.value for p in ln.points}
        cells = "".join(f"<td>{esc(benchmark_value(at.get(d), c.unit))}</td>" for d in years)
        rows.append(f'<tr><th scope="row">{esc(_name(ln))}</th>{cells}</tr>')
    return ("<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(_title(c))}</title>"
            "<style>body{font:16px Arial,Helvetica,sans-serif;color:#1A1A1A;background:#FFFFFF;margin:0}"
            "main{max-width:640px;margin:0 auto;padding:8px}img{width:100%;height:auto}"
            "table{border-collapse:collapse;font-size:14px;display:block;overflow-x:auto}"
            "th,td{border:1px solid #C4CCD6;padding:4px 6px;text-align:right}th[scope=row]{text-align:left}"
            "@media (prefers-color-scheme: dark){body{background:#121417;color:#EEF0F3}}</style></head>"
            f"<body><main><h1 style=\"font-size:22px;color:inherit\">{esc(_title(c))}</h1>"
            f"<p>{esc(c.measure[0].upper() + c.measure[1:])}, published by the Department for Education.</p>"
            f"<img src=\"{esc(image_src)}\" alt=\"{esc(compare_alt_text(c))}\">"
            f"<table><caption>{esc(_title(c))}</caption><thead><tr><td></td>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            "<p style=\"font-size:13px\">Published figures: Department for Education, Open Government Licence v3.0.</p>"
            "</main></body></html>\n")
