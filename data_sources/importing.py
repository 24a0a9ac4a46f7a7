"""Importing files: read and check every file first, then save everything in one transaction."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from tracker.config import Config
from tracker.errors import InputError, ValidationFailed

from .benchmark_import import PUBLISHED_FORMATS  # issue 12: published benchmarks and events
from .validate import merge_checked

FORMATS = ("long", "dfe-attendance", "ssda903", "nccis", "school-sessions", *PUBLISHED_FORMATS)
RECORD_FORMATS = ("ssda903", "nccis", "school-sessions")   # record-level files: counted, never stored
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
               today: date | None = None, obsession: str | None = None, start: date | None = None,
               as_of: date | None = None, lookups=None) -> Loaded:
    """Read and check every file; ValidationFailed (naming every problem in every file) when any has one.

    `obsession`, `start` and `as_of` are for the record-level formats (--obsession, --from, --as-of);
    `lookups` (data_sources.lookups.Lookups) replaces the configuration's [lookups] when given.
    """
    from .dfe_attendance import read_dfe
    from .long_format import read_long

    if fmt not in FORMATS:
        raise InputError(f'--format {fmt}: not a known format; use one of {", ".join(FORMATS)}')
    if la and fmt != "dfe-attendance":
        raise InputError("--la is only for --format dfe-attendance; leave it out for the other formats")
    _check_record_options(fmt, obsession=obsession, start=start, as_of=as_of)
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError("no file given; name at least one file to import")
    if fmt == "ssda903" and len(paths) > 1:
        raise InputError("--format ssda903 reads one episodes file (a child's episodes must be counted together); "
                         "import one file")
    parts = []
    for p in paths:
        if fmt == "dfe-attendance":
            parts.append(read_dfe(p, config, la=la, today=today))
        elif fmt == "long":
            parts.append(read_long(p, config, sheet=sheet, today=today))
        else:
            parts.append(_read_records(fmt, p, config, sheet=sheet, today=today, obsession=obsession,
                                       start=start, as_of=as_of, lookups=lookups))
    kind = "import" if fmt == "long" else fmt
    frame, problems, notes = merge_checked(parts, [source_label(kind, [p]) for p in paths])
    if problems:
        raise ValidationFailed(problems, ", ".join(str(p) for p in paths))
    if frame.empty:
        raise InputError(f"{', '.join(map(str, paths))}: no figures for this configuration were found; nothing was written")
    return Loaded(frame, source_label(kind, paths), notes)


_RECORD_OPTIONS = {"ssda903": ("obsession", "start", "as_of"), "nccis": ("obsession", "as_of")}
_FLAGS = {"obsession": "--obsession", "start": "--from", "as_of": "--as-of"}


def _check_record_options(fmt: str, **given) -> None:
    for name, value in given.items():
        if value is not None and name not in _RECORD_OPTIONS.get(fmt, ()):
            users = " or ".join(f for f, opts in _RECORD_OPTIONS.items() if name in opts)
            raise InputError(f"{_FLAGS[name]} is only for --format {users}; leave it out for --format {fmt}")


def _read_records(fmt: str, path: Path, config: Config, **options):
    """One record-level file, counted into checked figures."""
    if fmt == "ssda903":
        from .ssda903 import read_ssda903

        return read_ssda903(path, config, **options)
    options.pop("start", None)
    if fmt == "nccis":
        from .nccis import read_nccis

        return read_nccis(path, config, **options)
    from .school_sessions import read_school_sessions

    options.pop("obsession", None)
    options.pop("as_of", None)
    return read_school_sessions(path, config, **options)


def import_files(store, paths, config: Config, fmt: str = "long", la: str | None = None,
                 sheet: str | None = None, today: date | None = None, **record_options):
    """Check every file, then save all their figures in one transaction; returns (LoadSummary, notes).

    `record_options` (obsession, start, as_of, lookups) are for the record-level formats.
    """
    if fmt in PUBLISHED_FORMATS:
        from .benchmark_import import import_published

        return import_published(store, paths, config, fmt, la=la)
    loaded = load_files(paths, config, fmt=fmt, la=la, sheet=sheet, today=today, **record_options)
    summary = store.save_figures(loaded.frame, loaded.source)
    if fmt == "dfe-attendance":   # England and the region become areas every command knows
        from .benchmark_import import record_comparators

        record_comparators(store, loaded.frame, config, loaded.source)
    return summary, loaded.notes


@dataclass
class Preview:
    """What saving checked figures would do, with nothing written: the counts and every revised figure."""

    summary: object                     # tracker.store.LoadSummary: new, revised, unchanged, weeks
    revisions: list[dict] = field(default_factory=list)   # week, obsession, area, old, new, old_source


def preview_load(store, loaded: Loaded) -> Preview:
    """Compare checked figures with the store as save_figures would (same keys, same tolerance); write nothing."""
    from tracker.store import LoadSummary

    new = loaded.frame.copy()
    new["week_commencing"] = pd.to_datetime(new["week_commencing"])
    old = store.figures_frame()
    old = old[old["obsession"].isin(new["obsession"].unique())]
    keys = ["week_commencing", "obsession", "area"]
    m = new.merge(old, on=keys, how="left", suffixes=("", "_old"), indicator=True)
    present = m["_merge"] == "both"

    def same(a, b):
        both_nan = a.isna() & b.isna()
        close = (a - b).abs() <= 1e-9 * a.abs().clip(lower=1.0)
        return both_nan | (close & a.notna() & b.notna())

    unchanged = present & same(m["value"], m["value_old"]) & same(m["numerator"], m["numerator_old"]) \
        & same(m["denominator"], m["denominator_old"])
    revised = present & ~unchanged
    weeks = sorted({d.date() for d in new["week_commencing"]})
    summary = LoadSummary(new=int((~present).sum()), revised=int(revised.sum()), unchanged=int(unchanged.sum()),
                          weeks=weeks)
    rows = m[revised].sort_values(keys)
    src = store_sources(store, rows) if len(rows) else {}
    revisions = [{"week": w.date(), "obsession": o, "area": a, "old": ov, "new": nv,
                  "old_source": src.get((w.date(), o, a))}
                 for w, o, a, nv, ov in zip(rows["week_commencing"], rows["obsession"], rows["area"],
                                            rows["value"], rows["value_old"])]
    return Preview(summary, revisions)


def store_sources(store, frame) -> dict:
    """(week, obsession, area) -> the stored figure's source, for the weeks and obsessions of `frame`."""
    from sqlalchemy import select

    from tracker.store import figures_table as t

    weeks = pd.to_datetime(frame["week_commencing"]).dt.date
    q = (select(t.c.week_commencing, t.c.obsession, t.c.area, t.c.source)
         .where(t.c.week_commencing.between(weeks.min(), weeks.max()),
                t.c.obsession.in_(sorted(frame["obsession"].unique()))))
    with store.engine.connect() as conn:
        return {(w, o, a): s for w, o, a, s in conn.execute(q)}
