"""The data-quality gate: which obsessions lack a figure for the week (pure)."""
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


def missing_figures(figures: FigureTable, config: Config, week: date) -> GateResult:
    """Each obsession with no city figure for `week`; term-time obsessions are excused in weeks with no school figures."""
    problems, notes = [], []
    for o in config.obsessions:
        s = figures.series(o.key, config.city)
        if s.index_of(week) is not None:
            continue
        if o.term_time_only and _later_figure(s, week):
            notes.append(f"{o.key}: no figure for {week:%Y-%m-%d}, excused: a school-holiday week (later weeks have figures)")
            continue
        problems.append(f"{o.key}: no figure for {config.city} for the week commencing {week:%Y-%m-%d}")
    return GateResult(week=week, problems=tuple(problems), notes=tuple(notes))


def _later_figure(series, week: date) -> bool:
    i = series.index_at_or_before(week)
    nxt = 0 if i is None else i + 1
    return nxt < len(series)
