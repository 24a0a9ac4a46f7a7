"""The tracker as plain text that reads like Figure 2 (for terminals, chat fallbacks and email)."""
from __future__ import annotations

from tracker.model import (
    BASELINE,
    CHANGE_BASELINE,
    CHANGE_WEEK,
    LATEST,
    PERCENT_BASELINE,
    Breakdown,
    Tracker,
    TrackerRow,
)
from tracker.rolling import WINDOW_WEEKS, progress, rolls

from .formatting import (
    PER_10K_MEANING,
    VERDICT_WORD,
    arrow,
    benchmark_line,
    illustrative_notice,
    number,
    percent,
    rate_cell,
    rate_text,
    signed,
    title_parts,
    week_label,
)

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(row: TrackerRow, width: int = 16) -> str:
    """The series since the baseline as block characters (withheld weeks as gaps); a term-time rate's
    rolling rate (tracker/rolling.py), so that it shows the trend rather than the week's noise."""
    values = [p.value for p in progress(row.obsession, row.series)]
    if not values:
        return ""
    step = max(1, len(values) // width)
    sampled = values[::step][-width:]
    known = [v for v in sampled if v is not None]
    if not known:
        return ""
    lo, hi = min(known), max(known)
    span = (hi - lo) or 1.0
    return "".join(" " if v is None else SPARK[min(7, int((v - lo) / span * 7.999))] for v in sampled)


def _title(row: TrackerRow) -> str:
    before, verb, after = title_parts(row.obsession)
    return f"{before}{verb.upper()}{after}"


def _change(value, row: TrackerRow, withheld: bool, verdict: str | None) -> str:
    text = signed(value, row.obsession, withheld)
    if withheld or value is None:
        return text
    return f"{text} {arrow(value, row.obsession)} {VERDICT_WORD.get(verdict, '')}".rstrip()


def _with_unit(pct: str) -> str:
    """'-12.3 %' for a % change; 'c', '–' and 'n/a' as they are."""
    return pct if pct in ("c", "–", "n/a") else f"{pct} %"


def render_text(tracker: Tracker) -> str:
    """The whole tracker as text: heading, week, one block per obsession, notes."""
    lines = [tracker.title, f"Week commencing: {week_label(tracker.week)}"]
    if tracker.area_kind != "city":
        lines.append(f"Area: {tracker.area} (cluster of {tracker.city})" if tracker.area_kind == "cluster"
                     else f"Area: {tracker.area} (comparator)")
    if tracker.illustrative:
        lines.append(illustrative_notice(tracker.city))
    lines.append("")
    label = tracker.baseline_label
    for row in tracker.rows:
        o = row.obsession
        lines.append(_title(row))
        unit = " %" if o.is_rate else ""
        lines.append(f"  Latest position this week:   {number(row.latest, o, LATEST in row.withheld)}{unit if row.latest is not None else ''}")
        since = "last week" if row.previous_is_adjacent else f"week of {week_label(row.previous_week)}"
        lines.append(f"  Change since {since}:{' ' * max(1, 16 - len(since))}"
                     f"{_change(row.change_since_last_week, row, CHANGE_WEEK in row.withheld, row.verdict_since_last_week)}")
        pct = percent(row.percent_change_since_baseline, o, PERCENT_BASELINE in row.withheld)
        lines.append(f"  % change since {label}:{' ' * max(1, 14 - len(label))}"
                     f"{_with_unit(pct)}")
        pts = " points" if o.is_rate and row.change_since_baseline is not None else ""
        lines.append(f"  Change since {label}:{' ' * max(1, 16 - len(label))}"
                     f"{_change(row.change_since_baseline, row, CHANGE_BASELINE in row.withheld, row.verdict_since_baseline)}"
                     .replace(" ▲", f"{pts} ▲").replace(" ▼", f"{pts} ▼").replace(" ►", f"{pts} ►"))
        # The figure the change is from, as the email's table shows it ("from 1,422").
        lines.append(f"  Position at the {label}:{' ' * max(1, 13 - len(label))}"
                     f"{number(row.baseline_value, o, BASELINE in row.withheld, unit=True)}")
        spark = sparkline(row)
        if spark:
            lines.append(f"  Progress since {label}:{' ' * max(1, 14 - len(label))}{spark}")
        if row.forecast is not None:
            lines.append(f"  Turn the curve: {row.forecast.description}")
        if row.note:
            lines.append(f"  Note: {row.note}")
        if row.rate_per_10000 is not None:
            lines.append(f"  Rate: {rate_text(row.rate_per_10000)}")
        if row.benchmarks:
            lines.append(f"  {benchmark_line(row.benchmarks)}")
        lines.append("")
    if any(r.withheld for r in tracker.rows):
        lines.append(f'"c": withheld to protect small numbers (counts below {tracker.suppress_below}).')
    rolled = [r.obsession.label for r in tracker.rows if rolls(r.obsession, r.series)]
    if rolled:
        lines.append(f"Progress of {' and '.join(rolled)} (term-time figures): the {WINDOW_WEEKS}-week rolling rate, "
                     f"recomputed from the {WINDOW_WEEKS} weeks' numerators and denominators.")
    if any(r.forecast for r in tracker.rows):
        lines.append("The pre-plan trend is a straight line continued from the years before the "
                     f"{label}: what would have happened had nothing changed, not a prediction.")
    return "\n".join(lines).rstrip() + "\n"


def render_breakdown_text(b: Breakdown) -> str:
    """The breakdown as a ranked text table, the city first, laggards marked."""
    o = b.obsession
    lines = [f"{b.title}: {o.title}", f"Week commencing: {week_label(b.week)}"]
    if b.illustrative:
        lines.append(illustrative_notice(b.city.area))
    lines.append("")
    # Per 10,000 children, where populations exist: the column that lets areas of any size be compared.
    rates = any(r.rate_per_10000 is not None for r in (b.city, *b.rows))
    head = (f"{'Rank':>4}  {'Area':<34}{'Latest':>9}{'Week':>9}{'% since':>9}{'Since ' + b.baseline_label:>18}"
            + (f"{'Per 10k':>9}" if rates else ""))
    lines += [head, "-" * len(head)]

    def line(r, rank: str) -> str:
        mark = "  << lagging" if r.lagging else ""
        per = f"{rate_cell(r):>9}" if rates else ""
        return (f"{rank:>4}  {r.area[:33]:<34}{number(r.latest, o, LATEST in r.withheld):>9}"
                f"{signed(r.change_since_last_week, o, CHANGE_WEEK in r.withheld):>9}"
                f"{_with_unit(percent(r.percent_change_since_baseline, o, PERCENT_BASELINE in r.withheld)):>9}"
                f"{signed(r.change_since_baseline, o, CHANGE_BASELINE in r.withheld):>18}{per}{mark}")

    lines.append(line(b.city, "city"))
    if b.benchmarks:
        lines.append(f"      {benchmark_line(b.benchmarks)}")
    lines += [line(r, str(r.rank) if r.rank else "-") for r in b.rows]
    lines.append("")
    lines.append(b.lagging_rule[0].upper() + b.lagging_rule[1:] + ".")
    lines += list(b.notes)
    if rates:
        lines.append(f"Per 10k: {PER_10K_MEANING}")
    return "\n".join(lines) + "\n"
