"""How figures are written in every output: numbers, signs, arrows, verdict words, alt text, subject and preheader."""
from __future__ import annotations

from datetime import date

from tracker.config import Obsession
from tracker.model import (
    BETTER,
    CHANGE_BASELINE,
    CHANGE_WEEK,
    LATEST,
    SAME,
    WORSE,
    Breakdown,
    BreakdownRow,
    Tracker,
    TrackerRow,
)

WITHHELD = "c"
NO_FIGURE = "–"
MINUS = "-"  # ASCII minus: survives copy-paste into spreadsheets and screen readers read it
ARROW = {"up": "▲", "down": "▼", "flat": "►"}
VERDICT_WORD = {BETTER: "better", WORSE: "worse", SAME: "no change"}


def week_label(week: date) -> str:
    """'20 July 2015'."""
    return f"{week.day} {week:%B %Y}"


def number(value: float | None, obsession: Obsession, withheld: bool = False, unit: bool = False) -> str:
    """A figure as shown: '1,247' or '4.4' (with ' %' when `unit`), 'c' when withheld."""
    if withheld:
        return WITHHELD
    if value is None:
        return NO_FIGURE
    if obsession.is_rate:
        return f"{value:.1f}" + (" %" if unit else "")
    return f"{round(value):,}"


def signed(change: float | None, obsession: Obsession, withheld: bool = False, points: bool = False) -> str:
    """A change with its sign: '+7', '-175', '0', '+0.6' ('c' when withheld)."""
    if withheld:
        return WITHHELD
    if change is None:
        return NO_FIGURE
    shown = round(change, obsession.decimals)
    if shown == 0:
        return "0" if not obsession.is_rate else "0.0"
    body = f"{abs(shown):.1f}" if obsession.is_rate else f"{abs(round(shown)):,}"
    suffix = " pts" if points and obsession.is_rate else ""
    return ("+" if shown > 0 else MINUS) + body + suffix


def percent(pct: float | None, obsession: Obsession, withheld: bool = False) -> str:
    """The % change since the baseline: '-12.3' for counts, 'n/a' for rates."""
    if obsession.is_rate:
        return "n/a"
    if withheld:
        return WITHHELD
    if pct is None:
        return NO_FIGURE
    shown = round(pct, 1)
    return "0.0" if shown == 0 else (("+" if shown > 0 else MINUS) + f"{abs(shown):.1f}")


def arrow(change: float | None, obsession: Obsession) -> str:
    """▲, ▼ or ► for the direction of a change as shown ('' when there is none)."""
    if change is None:
        return ""
    shown = round(change, obsession.decimals)
    return ARROW["flat"] if shown == 0 else ARROW["up" if shown > 0 else "down"]


def title_parts(obsession: Obsession) -> tuple[str, str, str]:
    """The title split around its verb ('reduce'/'increase'), so outputs can make the verb bold."""
    title = obsession.title
    low = title.lower()
    i = low.find(obsession.direction)
    if i < 0:
        return "", "", title
    return title[:i], title[i:i + len(obsession.direction)], title[i + len(obsession.direction):]


def _movement(change: float | None, obsession: Obsession, points: bool) -> str:
    shown = round(change, obsession.decimals)
    if shown == 0:
        return "no change"
    size = f"{abs(shown):.1f}" if obsession.is_rate else f"{abs(round(shown)):,}"
    unit = " points" if points and obsession.is_rate else ""
    return f"{'up' if shown > 0 else 'down'} {size}{unit}"


def describe_row(row: TrackerRow, baseline_label: str = "CYPP start") -> str:
    """The sentence a screen reader should read for one obsession.

    'Children looked after: 1,247, down 5 on last week, down 175 (12.3 %) since the CYPP start'
    """
    o = row.obsession
    name = o.label
    if row.suppressed:
        return f"{name}: withheld (a small number)"
    if row.latest is None:
        return f"{name}: no figure yet"
    latest = number(row.latest, o, unit=True)
    parts = [f"{name}: {latest}"]
    if row.note:
        parts.append(f"for the week commencing {week_label(row.latest_week)}")
    if row.change_since_last_week is not None:
        since = "on last week" if row.previous_is_adjacent else f"on the week commencing {week_label(row.previous_week)}"
        parts.append(f"{_movement(row.change_since_last_week, o, True)} {since}")
    elif "change_since_last_week" in row.withheld:
        parts.append("change on last week withheld")
    if row.change_since_baseline is not None:
        move = _movement(row.change_since_baseline, o, True)
        if row.percent_change_since_baseline is not None and round(row.change_since_baseline) != 0:
            move += f" ({abs(round(row.percent_change_since_baseline, 1)):.1f} %)"
        parts.append(f"{move} since the {baseline_label}")
    elif "change_since_baseline" in row.withheld:
        parts.append(f"change since the {baseline_label} withheld")
    return ", ".join(parts)


def alt_text(tracker: Tracker) -> str:
    """Every figure of a tracker in words: the alt text of each of its images."""
    # The title already names a cluster ("Weekly obsessions tracker: Headingley"); say it once.
    head = f"{tracker.title}, week commencing {week_label(tracker.week)}." if tracker.area_kind != "city" \
        else f"Weekly obsessions tracker for {tracker.area}, week commencing {week_label(tracker.week)}."
    body = ". ".join(describe_row(r, tracker.baseline_label)
                     + (f". {benchmark_line(r.benchmarks)}" if r.benchmarks else "") for r in tracker.rows)
    return f"{head} {body}."


def describe_breakdown_row(row: BreakdownRow, obsession: Obsession, baseline_label: str) -> str:
    """One cluster of a breakdown in words."""
    if row.suppressed:
        return f"{row.area}: withheld (a small number)"
    if row.latest is None:
        return f"{row.area}: no figure"
    parts = [f"{row.area}: {number(row.latest, obsession, unit=True)}"]
    if row.change_since_baseline is not None:
        move = _movement(row.change_since_baseline, obsession, True)
        if row.percent_change_since_baseline is not None and round(row.change_since_baseline) != 0:
            move += f" ({abs(round(row.percent_change_since_baseline, 1)):.1f} %)"
        parts.append(f"{move} since the {baseline_label}")
    elif "change_since_baseline" in row.withheld:
        parts.append("change withheld")
    if row.rank is not None:
        parts.append(f"ranked {row.rank}")
    if row.lagging:
        parts.append("lagging")
    return ", ".join(parts)


def breakdown_alt_text(b: Breakdown) -> str:
    """Every figure of a breakdown in words."""
    city = describe_breakdown_row(b.city, b.obsession, b.baseline_label)
    rows = ". ".join(describe_breakdown_row(r, b.obsession, b.baseline_label) for r in b.rows)
    if b.benchmarks:
        city += f". {benchmark_line(b.benchmarks)}"
    return f"{b.title}, week commencing {week_label(b.week)}. City: {city}. {rows}."


def illustrative_notice(city: str) -> str:
    """The warning printed with demo figures."""
    owner = f"{city}'" if city.endswith("s") else f"{city}'s"
    return f"Illustrative demo figures (synthetic), not {owner} data."


# ---- the subject and preheader every message carries (email, Slack, Teams) -------------------------

def subject(model: Tracker | Breakdown) -> str:
    """The subject line (email subject, Slack and Teams heading): what it is, where and which week."""
    if isinstance(model, Breakdown):
        return f"{model.title}: week commencing {week_label(model.week)}"
    where = model.area if model.area_kind == "city" else f"{model.area} ({model.city})"
    return f"Weekly obsessions tracker, {where}: week commencing {week_label(model.week)}"


def _short_change(value, obsession, withheld: bool, verdict) -> str:
    if withheld:
        return "c"
    if value is None:
        return "no change figure"
    return f"{signed(value, obsession)}, {VERDICT_WORD.get(verdict, 'no change')}"


def preheader(model: Tracker | Breakdown) -> str:
    """The hidden preview line a mail client shows beside the subject: the week's headline."""
    if isinstance(model, Breakdown):
        o = model.obsession
        city = model.city
        lagging = sum(1 for r in model.rows if r.lagging)
        head = (f"{city.area} {number(city.latest, o, LATEST in city.withheld, unit=True)}, "
                f"{signed(city.change_since_baseline, o, CHANGE_BASELINE in city.withheld, points=True)} "
                f"since the {model.baseline_label}")
        return f"{head}; {lagging} cluster{'s' if lagging != 1 else ''} lagging."
    parts = []
    for r in model.rows:
        o = r.obsession
        latest = number(r.latest, o, r.suppressed, unit=True)
        change = _short_change(r.change_since_last_week, o, CHANGE_WEEK in r.withheld, r.verdict_since_last_week)
        parts.append(f"{o.label} {latest} ({change})" if not r.suppressed else f"{o.label} c")
    return "; ".join(parts) + "."


# ---- published benchmarks (issue 12): one line, the same in every output -------------------------

BENCHMARK_SEP = " · "


def benchmark_value(value: float | None, unit: str) -> str:
    """A published figure as shown: '85' per 10,000, '4.9 %'; rounding for display only."""
    if value is None:
        return NO_FIGURE
    return f"{value:.1f} %" if unit == "percent" else f"{round(value):,}"


def _benchmark_name(b) -> str:
    if b.kind != "statistical_neighbours":
        return b.area
    n = len(b.members)
    of = f"{n} of {b.of}" if b.of and n < b.of else f"{n}"
    return f"statistical neighbours (mean of {of} rates)"


def benchmark_parts(benchmarks) -> tuple[str, list[tuple[str, str]]]:
    """(heading, [(name, value)]) of a benchmark line: what the figures are and when they are for."""
    if not benchmarks:
        return "", []
    head = benchmarks[0]
    weekly = head.as_of.weekday() == 0 and head.measure.startswith("% of sessions")
    when = f"week commencing {week_label(head.as_of)}" if weekly else week_label(head.as_of)
    heading = f"Published by the DfE, {when}, {head.measure}"
    parts = []
    for b in benchmarks:
        value = benchmark_value(b.value, b.unit)
        if b.as_of != head.as_of:
            value += f" ({week_label(b.as_of)})"
        parts.append((_benchmark_name(b), value))
    return heading, parts


def benchmark_line(benchmarks) -> str:
    """'Published by the DfE, 31 March 2025, per 10,000 children: Leeds 85 · statistical neighbours (mean of 10 rates) 75 · ...'."""
    heading, parts = benchmark_parts(benchmarks)
    if not parts:
        return ""
    return f"{heading}: " + BENCHMARK_SEP.join(f"{name} {value}" for name, value in parts)


PER_10K_MEANING = "the latest count per 10,000 children aged 0-17 (the mid-year estimate before the week)."


def rate_cell(row) -> str:
    """A breakdown row's rate per 10,000 as its column shows it: 'c' when its count is withheld (the rate
    would give the count away), '–' when there is no population, else '74'."""
    if LATEST in row.withheld:
        return WITHHELD
    return NO_FIGURE if row.rate_per_10000 is None else f"{row.rate_per_10000:.0f}"


def rate_text(rate: float | None) -> str:
    """A rate per 10,000 children as shown: '74 per 10,000 children' ('' when there is none)."""
    return "" if rate is None else f"{rate:.0f} per 10,000 children"
