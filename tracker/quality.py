"""The data-quality gate: missing, implausible or stale figures for the week (pure)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .config import Config
from .figures import FigureTable


@dataclass(frozen=True)
class GateResult:
    """What the gate found: problems hold the run; notes are for information."""

    week: date
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        """True when nothing holds the run."""
        return not self.problems


def _later_figure(series, week: date) -> bool:
    i = series.index_at_or_before(week)
    nxt = 0 if i is None else i + 1
    return nxt < len(series)


def _no_school_figures(figures: FigureTable, config: Config, week: date) -> bool:
    """True when no term-time obsession has a figure for `week` in any area: a week without school
    figures at all (a holiday), as opposed to one set of school figures having gone missing."""
    term = [o for o in config.obsessions if o.term_time_only]
    return bool(term) and not any(figures.series(o.key, a).index_of(week) is not None
                                  for o in term for a in config.areas)


def _fmt(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def check_week(figures: FigureTable, config: Config, week: date, as_of: date) -> GateResult:
    """The whole gate for one week, as of the run date `as_of` (pure).

    Holds the run when an obsession has no city figure for the week (term-time obsessions are excused
    in weeks with no school figures at all, or that later weeks show were holidays), when a figure
    moved by more than its `[quality] max_weekly_change_pct` since the figure before it, or when an
    obsession's latest figure is more than `stale_after_days` older than `as_of`.
    """
    problems, notes = [], []
    q = config.quality
    holiday = _no_school_figures(figures, config, week)
    for o in config.obsessions:
        s = figures.series(o.key, config.city)
        i = s.index_of(week)
        if i is None:
            if o.term_time_only and (_later_figure(s, week) or holiday):
                why = "later weeks have figures" if _later_figure(s, week) else "no school figures at all this week"
                notes.append(f"{o.key}: no figure for {week:%Y-%m-%d}, excused as a school-holiday week ({why})")
                continue
            problems.append(f"{o.key}: no figure for {config.city} for the week commencing {week:%Y-%m-%d}; "
                            f"import it (obsession import FILE) or pull it (obsession pull)")
            continue
        limit = q.max_weekly_change_pct.get(o.key)
        if limit is not None and i > 0:
            now, before = float(s.values[i]), float(s.values[i - 1])
            if before != 0:
                moved = abs(now - before) / abs(before) * 100
                if moved > limit:
                    problems.append(
                        f"{o.key}: {_fmt(now, o.decimals)} for {config.city} in the week commencing {week:%Y-%m-%d} "
                        f"is {moved:.1f}% away from {_fmt(before, o.decimals)} on {s.week(i - 1):%Y-%m-%d}; "
                        f"more than the {limit:g}% allowed by [quality] max_weekly_change_pct.{o.key}")
    age = (as_of - week).days
    if age > q.stale_after_days:
        problems.append(f"stale: the newest figures are for the week commencing {week:%Y-%m-%d}, {age} days before "
                        f"{as_of:%Y-%m-%d}; more than [quality] stale_after_days ({q.stale_after_days}). Load this "
                        f"week's figures (obsession import / obsession pull)")
    return GateResult(week=week, problems=tuple(problems), notes=tuple(notes))
