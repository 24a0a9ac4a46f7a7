"""Importing the published-benchmark files: every file checked first, then one transaction.

Formats: ons-population (and area,year,population for clusters), dfe-cla, dfe-neet, dfe-sn, events.
Like the figure formats, a file with any problem writes nothing, and neither do the others of the run.
"""
from __future__ import annotations

from pathlib import Path

from tracker.config import Config
from tracker.errors import InputError, ValidationFailed

PUBLISHED_FORMATS = ("ons-population", "dfe-cla", "dfe-neet", "dfe-sn", "events")
_READERS = {"ons-population": ("ons_population", "read_population"), "dfe-cla": ("dfe_cla", "read_cla"),
            "dfe-neet": ("dfe_neet", "read_neet"), "dfe-sn": ("dfe_sn", "read_sn"),
            "events": ("events", "read_events")}


def load_published(paths, config: Config, fmt: str, la: str | None = None):
    """Read and check every file of one published format; ValidationFailed naming every problem."""
    import importlib

    from .published import PublishedRows

    if fmt not in _READERS:
        raise InputError(f"--format {fmt}: not a published-benchmark format; use one of {', '.join(PUBLISHED_FORMATS)}")
    if la and fmt == "events":
        raise InputError("--la is for the DfE and ONS files; leave it out for --format events")
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError("no file given; name at least one file to import")
    module, name = _READERS[fmt]
    read = getattr(importlib.import_module(f"data_sources.{module}"), name)
    merged = PublishedRows()
    for p in paths:
        part = read(p, config, la=la)
        merged.problems += part.problems
        merged.notes += part.notes
        for table, rows in part.parts.items():
            merged.add(table, rows)
    merged.problems += _across_files(merged.parts)
    if merged.problems:
        raise ValidationFailed(merged.problems, ", ".join(map(str, paths)))
    if not any(merged.parts.values()):
        raise InputError(f"{', '.join(map(str, paths))}: no figures for this configuration were found; nothing was written")
    return merged


def _across_files(parts: dict[str, list[dict]]) -> list[str]:
    """Rows of two files with the same key: one kept when they agree, a problem when they do not."""
    from tracker.store import _COMPARED, _KEYS

    problems = []
    for table, rows in parts.items():
        seen: dict[tuple, dict] = {}
        kept = []
        for row in rows:
            key = tuple(row[k] for k in _KEYS[table])
            first = seen.get(key)
            if first is None:
                seen[key] = row
                kept.append(row)
            elif table != "benchmark_areas" and any(first.get(c) != row.get(c) for c in _COMPARED[table]):
                what = " ".join(str(k) for k in key if k not in ("", None))
                problems.append(f"{row.get('source', '')}: {what} is also in {first.get('source', '')} with a "
                                "different figure; import one of the two files")
        parts[table] = kept
    return problems


def import_published(store, paths, config: Config, fmt: str, la: str | None = None):
    """Check every file, then save all their rows in one transaction; returns (LoadSummary, notes)."""
    loaded = load_published(paths, config, fmt, la=la)
    source = f"{fmt}: " + "; ".join(str(Path(p).resolve()) for p in paths)
    summary = store.save_published(loaded.parts, source[:500])
    return summary, loaded.notes


def record_comparators(store, frame, config: Config, source: str) -> None:
    """After a weekly DfE attendance import: record its England and region areas as known benchmark areas."""
    extra = sorted(set(frame["area"]) - set(config.areas))
    if not extra:
        return
    rows = [{"area": a, "level": "national" if a == "England" else "regional", "old_la_code": "",
             "new_la_code": "", "region": "", "source": source} for a in extra]
    city_region = next((a for a in extra if a != "England"), "")
    if city_region:
        rows.append({"area": config.city, "level": "local authority", "old_la_code": "", "new_la_code": "",
                     "region": city_region, "source": source})
    store.save_published({"benchmark_areas": rows}, source)
