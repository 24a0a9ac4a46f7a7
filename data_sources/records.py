"""What the record-level formats (episodes, cohorts, registers) share: problems, weeks and counted figures.

A record-level file is read, counted and let go. Messages name the file, line, column and rule
and never show a record's value, except code fields (like LS or activity_code) that cannot
identify anyone; so no identifier, postcode, date of birth or URN leaves through an error.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from tracker.errors import ValidationFailed, nearest
from tracker.figures import COLUMNS

from .reading import RawTable
from .validate import Checked

_CODE = re.compile(r"^[A-Za-z0-9]{1,4}$")
UNMATCHED_REASONS = ("no postcode", "postcode not in lookup", "outside the city")


def shown_code(value: str, pattern: re.Pattern = _CODE) -> str:
    """A code field's value for a message, but only when it looks like a code (nothing that could be a name or ID)."""
    return f'"{value}"' if pattern.match(value) else "the value"


@dataclass
class Problems:
    """Refusals found in one table: (row, column order, message), at most one per cell."""

    table: RawTable
    items: list[tuple[int, int, str]] = field(default_factory=list)

    def add(self, mask, column: str, text, order: int = 0) -> None:
        """One message for each row where `mask` holds; `text` is a string or a function of the row position."""
        m = np.asarray(mask, dtype=bool)
        index = self.table.frame.index
        for pos in np.flatnonzero(m):
            i = int(index[pos])
            t = text(pos) if callable(text) else text
            self.items.append((i, order, f"{self.table.locate(i, column)}: {t}"))

    def raise_if_any(self) -> None:
        """ValidationFailed with every message in file order, when there is any."""
        if self.items:
            raise ValidationFailed([m for _, _, m in sorted(self.items, key=lambda p: (p[0], p[1]))],
                                   self.table.label)


def require_columns(table: RawTable, required, what: str, optional=(), upper: bool = False) -> None:
    """ValidationFailed naming each missing column (and the nearest column present) before any row is read."""
    cols = list(table.frame.columns)
    missing = [c for c in required if c not in cols]
    if not missing:
        return
    name = str.upper if upper else str
    problems = []
    spare = [c for c in cols if c not in required and c not in optional]
    for c in missing:
        guess = nearest(c, spare)
        hint = f' (is "{table.headers.get(guess, guess)}" meant to be it?)' if guess else ""
        problems.append(f'{table.header_where}: the column "{name(c)}" is missing{hint}; {what} need the '
                        f"columns {', '.join(name(r) for r in required)}")
    raise ValidationFailed(problems, table.label)


def mondays_between(first: date, last: date) -> np.ndarray:
    """Every Monday from `first` (or the Monday after it) to `last`, as datetime64[D]."""
    start = first + timedelta(days=(7 - first.weekday()) % 7)
    if start > last:
        return np.array([], dtype="datetime64[D]")
    return np.arange(np.datetime64(start, "D"), np.datetime64(last, "D") + 1, 7)


def figures(weeks, obsession: str, areas: list[str], values: np.ndarray,
            numerators: np.ndarray | None = None, denominators: np.ndarray | None = None,
            keep: np.ndarray | None = None) -> pd.DataFrame:
    """The long format (and `_pos`) from weeks x areas arrays; `keep` (same shape) leaves figures out."""
    weeks = np.asarray(weeks, dtype="datetime64[D]")
    v = np.asarray(values, dtype=float)
    n_w, n_a = v.shape
    k = np.ones(v.shape, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    frame = pd.DataFrame({
        "week_commencing": pd.to_datetime(np.repeat(weeks, n_a)),
        "obsession": obsession,
        "area": np.tile(np.array(areas, dtype=object), n_w),
        "value": v.ravel(),
        "numerator": np.nan if numerators is None else np.asarray(numerators, dtype=float).ravel(),
        "denominator": np.nan if denominators is None else np.asarray(denominators, dtype=float).ravel(),
        "_pos": 0,
    })
    return frame[k.ravel()][[*COLUMNS, "_pos"]].reset_index(drop=True)


def checked(frames: list[pd.DataFrame], table: RawTable, notes: list[str]) -> Checked:
    """Counted figures as a Checked input, ready for merge_checked and the store."""
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*COLUMNS, "_pos"])
    # A counted figure has no line of its own: a clash between two files names the files.
    whole = RawTable(frame=table.frame.iloc[:0], label=table.label, headers={},
                     locate=lambda i, col: table.label, row_label=lambda i: "the counted figures")
    return Checked(frame, [], list(table.notes) + notes, whole)


def unmatched_note(label: str, records: str, reasons: dict[str, int], lookup: str) -> str | None:
    """'12 episodes counted in the city only: 3 no postcode, ...' or None when every record matched."""
    parts = [f"{n} {r}" for r, n in reasons.items() if n]
    if not parts:
        return None
    total = sum(reasons.values())
    return (f"{label}: {total} {records} counted in the city only, in no cluster ({', '.join(parts)}); "
            f"add them to the {lookup} lookup if they belong to a cluster")
