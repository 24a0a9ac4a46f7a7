"""How the city compares: its published rate year by year beside its statistical neighbours' mean, its
region and England, the shape of Leeds' own charts ("well above Statistical Neighbours and the
national average"). Drawn with the same helpers, sizes and label placement as the turn-the-curve chart.

Lines are told apart by style and marker as well as by shade, and each is labelled at its end, so
colour is never the only cue; better or worse is a word, judged by the obsession's direction.
"""
from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from tracker.model import BETTER, SAME, WORSE, Comparison

from . import _figure as fx
from .formatting import VERDICT_WORD, benchmark_value, week_label
from .palette import BORDER, DARK_INK, DARK_PAGE, INK, TREND, WHITE
from .palette import VERDICT as COLOUR

M = 60
RIGHT = fx.WIDTH_PX - M
PLOT = (190, 1030)
SMALL = fx.MIN_PT            # the smallest text: 8 pt on paper at 16 cm wide, as on every image
STEP = SMALL * fx.PT * 1.3   # its line step, px
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
    # The latest point's count, and of how many neighbours, as the benchmark line says it.
    n, total = (line.counts[-1] if line.counts else len(line.members)), len(line.members)
    return f"Statistical neighbours (mean of {n} of {total} rates)" if n < total else \
        f"Statistical neighbours (mean of {n} rates)"


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
    small = [line for text in small for line in fx.wrap_text(text, SMALL, RIGHT - M)]
    size, title_lines = fx.fit_title(_title(c), 15.0, RIGHT - M)
    extra = (len(title_lines) - 1) * size * fx.PT * 1.2
    plot_top, plot_bottom = 310 + extra, 880 + extra
    height = int(plot_bottom + 120 + STEP * len(small) + M)
    fig, ax = fx.canvas(height)
    y = M + 50
    for line in title_lines:
        fx.write(ax, M, y, line, size, bold=True, colour=fx.NAVY)
        y += size * fx.PT * 1.2
    M_ = M + extra   # the lines under a two-line title move down with it
    direction = "lower" if c.obsession.direction == "reduce" else "higher"
    fx.write(ax, M, M_ + 108, f"{c.measure[0].upper()}{c.measure[1:]}; {direction} is better", 9)
    city = _city(c)
    if city is not None and city.points:
        fx.write(ax, M, M_ + 160, f"Published figures to {week_label(city.points[-1].week)}", 9)
    fx.rect(ax, M, M_ + 184, RIGHT - M, 5, fx.NAVY)

    frame = _Frame(c, plot_top, plot_bottom)
    _chart(ax, c, frame)
    _labels(ax, c, frame)
    y = plot_bottom + 130
    for line in small:
        fx.write(ax, M, y, line, SMALL, colour=fx.MUTED, italic=True)
        y += STEP
    return fig


class _Frame:
    """The plot's scales: dates and values to pixels (drawn straight on the pixel canvas, no second
    Axes: tick machinery was most of the drawing time, and the chart has a handful of points)."""

    def __init__(self, c: Comparison, top: float, bottom: float):
        self.top, self.bottom = top, bottom
        self.dates = sorted({p.week for ln in c.lines for p in ln.points})
        values = [p.value for ln in c.lines for p in ln.points]
        lo, hi = min(values), max(values)
        pad = (hi - lo) * 0.12 or 1.0
        self.ticks = [v for v in MaxNLocator(nbins=7, steps=[1, 2, 5, 10], integer=c.unit != "percent")
                      .tick_values(max(0.0, lo - pad), hi + pad)]
        self.y0, self.y1 = min(self.ticks[0], lo - pad), max(self.ticks[-1], hi + pad)
        self.y0 = max(0.0, self.y0) if lo >= 0 else self.y0
        self.ticks = [v for v in self.ticks if self.y0 <= v <= self.y1]
        d0, d1 = self.dates[0].toordinal(), self.dates[-1].toordinal()
        span = (d1 - d0) or 365
        self.x0, self.x1 = d0 - span * 0.06 - (30 if d1 == d0 else 0), d1 + span * 0.06 + (30 if d1 == d0 else 0)

    def x(self, d) -> float:
        """The pixel x of a date."""
        return PLOT[0] + (d.toordinal() - self.x0) / (self.x1 - self.x0) * (PLOT[1] - PLOT[0])

    def y(self, v: float) -> float:
        """The pixel y of a value."""
        return self.bottom - (v - self.y0) / (self.y1 - self.y0) * (self.bottom - self.top)


def _chart(ax, c: Comparison, f: _Frame) -> None:
    fmt = (lambda v: f"{v:.1f} %") if c.unit == "percent" else (lambda v: f"{v:,.0f}")
    for v in f.ticks:
        y = f.y(v)
        fx.line(ax, [PLOT[0], PLOT[1]], [y, y], fx.RULE, 0.5)
        fx.write(ax, PLOT[0] - 14, y, fmt(v), SMALL, ha="right", va="center")
    fx.line(ax, [PLOT[0], PLOT[0]], [f.top - 10, f.bottom], fx.MUTED, 0.6)
    fx.line(ax, [PLOT[0], PLOT[1]], [f.bottom, f.bottom], fx.MUTED, 0.6)
    for d in f.dates:   # ticks at the figures' own dates (31 March, or the end of February), by year
        x = f.x(d)
        fx.line(ax, [x, x], [f.bottom, f.bottom + 10], fx.MUTED, 0.6)
        fx.write(ax, x, f.bottom + 56, str(d.year), SMALL, ha="center")
    for ln in sorted(c.lines, key=lambda ln: ln.kind == "city"):   # the city's line on top
        colour, ls, marker, lw = STYLE[ln.kind]
        city = ln.kind == "city"
        fx.line(ax, [f.x(p.week) for p in ln.points], [f.y(p.value) for p in ln.points], colour, lw,
                linestyle=ls, marker=marker, markersize=4.2 if city else 3.4,
                markerfacecolor=colour if city else fx.WHITE, markeredgecolor=colour, markeredgewidth=1.0,
                capstyle="round")


def _labels(ax, c: Comparison, f: _Frame) -> None:
    """Each line's name and latest value at its right end, pushed apart so that none overlaps."""
    plot_top, plot_bottom = f.top, f.bottom
    blocks = []
    for ln in c.lines:
        if not ln.points:
            continue
        centre = f.y(ln.points[-1].value)
        colour = STYLE[ln.kind][0]
        verdict = judge(c, ln) if ln.kind != "city" else None
        value = benchmark_value(ln.points[-1].value, c.unit)
        name = fx.wrap_text(_name(ln) if ln.kind != "city" else c.city, SMALL, RIGHT - (PLOT[1] + 24), bold=True)
        blocks.append([centre, STEP * (len(name) + 1) + 14 + (52 if verdict in (BETTER, WORSE) else 0),
                       _block(name, value, colour, verdict, c.city)])
    x = PLOT[1] + 24
    fx.stack_labels([[c, h, lambda top, d=d: d(ax, x, top)] for c, h, d in blocks],
                    floor=plot_top - 30, ceiling=plot_bottom + 60, gap=10)


def _block(name: list[str], value: str, colour: str, verdict: str | None, city: str):
    """A line's label: its name (wrapped, never shrunk below the print minimum), value and verdict."""
    def draw(ax, x: float, top: float) -> None:
        y = top + STEP
        for line in name:
            fx.write(ax, x, y, line, SMALL, bold=True, colour=colour)
            y += STEP
        fx.write(ax, x, y, value, SMALL, colour=fx.INK)
        if verdict in (BETTER, WORSE):
            fx.pill(ax, x, y + 40, f"{city} {VERDICT_WORD[verdict]}", COLOUR[verdict], size=SMALL, ha="left")
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
            "<style>body{font:16px Arial,Helvetica,sans-serif;color:" + INK + ";background:" + WHITE + ";margin:0}"
            "main{max-width:640px;margin:0 auto;padding:8px}img{width:100%;height:auto}"
            "table{border-collapse:collapse;font-size:14px;display:block;overflow-x:auto}"
            "th,td{border:1px solid " + BORDER + ";padding:4px 6px;text-align:right}th[scope=row]{text-align:left}"
            "@media (prefers-color-scheme: dark){body{background:" + DARK_PAGE + ";color:" + DARK_INK + "}}"
            "</style></head>"
            f"<body><main><h1 style=\"font-size:22px;color:inherit\">{esc(_title(c))}</h1>"
            f"<p>{esc(c.measure[0].upper() + c.measure[1:])}, published by the Department for Education.</p>"
            f"<img src=\"{esc(image_src)}\" alt=\"{esc(compare_alt_text(c))}\">"
            f"<table><caption>{esc(_title(c))}</caption><thead><tr><td></td>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            "<p style=\"font-size:13px\">Published figures: Department for Education, Open Government Licence v3.0.</p>"
            "</main></body></html>\n")
