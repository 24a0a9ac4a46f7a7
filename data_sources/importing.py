"""Importing files: read and check every file first, then save everything in one transaction."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from tracker.config import Config
from tracker.errors import InputError, ValidationFailed

from .validate import merge_checked

FORMATS = ("long", "dfe-attendance")
SOURCE_MAX = 500   # the store's source column


@dataclass
class Loaded:
    """Checked figures ready to save, where they came from, and notes for the analyst."""

    frame: pd.DataFrame
    source: str
    notes: list[str] = field(default_factory=list)


def source_label(kind: str, paths) -> str:
    """The source recorded with each figure and revision: the kind and the files' full paths."""
    text = f"{kind}: " + "; ".join(str(Path(p).resolve()) for p in paths)
    return text if len(text) <= SOURCE_MAX else text[: SOURCE_MAX - 3] + "..."


def load_files(paths, config: Config, fmt: str = "long", la: str | None = None, sheet: str | None = None,
               today: date | None = None) -> Loaded:
    """Read and check every file; ValidationFailed (naming every problem in every file) when any has one."""
    from .dfe_attendance import read_dfe
    from .long_format import read_long

    if fmt not in FORMATS:
        raise InputError(f'--format {fmt}: not a known format; use "long" or "dfe-attendance"')
    if la and fmt != "dfe-attendance":
        raise InputError("--la is only for --format dfe-attendance; leave it out for the long format")
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError("no file given; name at least one file to import")
    parts = []
    for p in paths:
        parts.append(read_dfe(p, config, la=la, today=today) if fmt == "dfe-attendance"
                     else read_long(p, config, sheet=sheet, today=today))
    kind = "import" if fmt == "long" else fmt
    frame, problems, notes = merge_checked(parts, [source_label(kind, [p]) for p in paths])
    if problems:
        raise ValidationFailed(problems, ", ".join(str(p) for p in paths))
    if frame.empty:
        raise InputError(f"{', '.join(map(str, paths))}: no figures for this configuration were found; nothing was written")
    return Loaded(frame, source_label(kind, paths), notes)


def import_files(store, paths, config: Config, fmt: str = "long", la: str | None = None,
                 sheet: str | None = None, today: date | None = None):
    """Check every file, then save all their figures in one transaction; returns (LoadSummary, notes)."""
    loaded = load_files(paths, config, fmt=fmt, la=la, sheet=sheet, today=today)
    summary = store.save_figures(loaded.frame, loaded.source)
    return summary, loaded.notes
