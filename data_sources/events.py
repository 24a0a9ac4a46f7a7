"""Events (initiatives) to mark on the turn-the-curve chart: a CSV of `date,label,obsession`.

`obsession` may be empty (the event is marked on every obsession's curve) or a configured key or
alias. The same date and label twice for one obsession is refused.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from tracker.config import Config

from . import published as P
from .reading import read_csv_file
from .validate import parse_weeks

REQUIRED = ("date", "label")
OPTIONAL = ("obsession",)
MAX_LABEL = 120


def read_events(path: str | Path, config: Config, la: str | None = None) -> P.PublishedRows:
    """Read and check an events file; rows for the events table, or problems."""
    path = Path(path)
    table = read_csv_file(path)
    P.require_columns(table, REQUIRED, "an events file", "the first line must be date,label,obsession")
    g = table.frame
    out = P.PublishedRows()
    extra = [c for c in g.columns if c not in (*REQUIRED, *OPTIONAL) and (g[c] != "").any()]
    for c in extra:
        out.problems.append(f'{table.header_where}: unknown column "{table.headers.get(c, c)}"; the columns are '
                            "date, label and optionally obsession")
    dates, not_a_date, not_real = parse_weeks(g["date"])
    for i in g.index[(not_a_date | not_real | (g["date"] == "")).to_numpy()]:
        out.problems.append(f'{table.locate(int(i), "date")}: "{g.at[i, "date"]}" is not a date; write it as '
                            "YYYY-MM-DD")
    for i in g.index[((g["label"] == "") | (g["label"].str.len() > MAX_LABEL)).to_numpy()]:
        out.problems.append(f"{table.locate(int(i), 'label')}: a label is 1 to {MAX_LABEL} characters, a short "
                            "name of the initiative")
    obs = g["obsession"] if "obsession" in g.columns else pd.Series("", index=g.index)
    keys = []
    for i, name in zip(g.index, obs):
        o = config.find_obsession(name) if name else None
        if name and o is None:
            out.problems.append(f'{table.locate(int(i), "obsession")}: "{name}" is not an obsession; use one of '
                                f"{', '.join(x.key for x in config.obsessions)}, or leave it empty for all")
        keys.append(o.key if o else "")
    g = g.assign(_key=keys, _date=dates.dt.date)
    P.duplicates(table, g, ["_date", "label", "_key"], out.problems, "the event")
    if out.problems:
        return out
    source = f"events: {path.resolve()}"
    out.add("events", [{"date": g.at[i, "_date"], "label": g.at[i, "label"], "obsession": g.at[i, "_key"],
                        "source": source} for i in g.index])
    out.notes.append(f"{table.label}: {len(g)} event(s) to mark on the turn-the-curve charts")
    return out
