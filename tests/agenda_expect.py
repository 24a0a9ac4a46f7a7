"""What every agenda output (SVG, PDF, DOCX, pack) must show, worked out from the model on its own.

The strings are formatted here by hand (not with renderers/formatting.py), so a test fails if a
renderer drops, rounds or signs a figure differently from the tracker's rules.
"""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tracker.model import CHANGE_BASELINE, CHANGE_WEEK, LATEST, PERCENT_BASELINE, Breakdown

C = "c"


def _value(v, rate: bool, withheld: bool) -> str | None:
    if withheld:
        return C
    if v is None:
        return None
    return f"{v:.1f}" if rate else f"{round(v):,}"


def _change(v, rate: bool, withheld: bool) -> str | None:
    if withheld:
        return C
    if v is None:
        return None
    shown = round(v, 1) if rate else round(v)
    if shown == 0:
        return "0.0" if rate else "0"
    body = f"{abs(shown):.1f}" if rate else f"{abs(shown):,}"
    return ("+" if shown > 0 else "-") + body


def _pct(v, rate: bool, withheld: bool) -> str | None:
    if rate:
        return None          # rates have no % change ("n/a")
    if withheld:
        return C
    if v is None:
        return None
    shown = round(v, 1)
    return "0.0" if shown == 0 else ("+" if shown > 0 else "-") + f"{abs(shown):.1f}"


def row_figures(row, obsession=None) -> list[str]:
    """The figures of one tracker or breakdown row as they must appear (withheld ones as 'c')."""
    o = obsession or row.obsession
    rate = o.unit == "percent"
    w = row.withheld
    out = [_value(row.latest, rate, LATEST in w),
           _change(row.change_since_last_week, rate, CHANGE_WEEK in w),
           _change(row.change_since_baseline, rate, CHANGE_BASELINE in w),
           _pct(row.percent_change_since_baseline, rate, PERCENT_BASELINE in w)]
    return [s for s in out if s is not None]


def tracker_figures(tracker) -> list[str]:
    """Every figure of a tracker."""
    return [s for r in tracker.rows for s in row_figures(r)]


def breakdown_figures(b) -> list[str]:
    """Every figure of a breakdown: the city row and each cluster's."""
    return [s for r in (b.city, *b.rows) for s in row_figures(r, b.obsession)]


def withheld_count(model) -> int:
    """How many cells of the model are withheld (each must show as 'c')."""
    if isinstance(model, Breakdown):
        rows = [(r, model.obsession) for r in (model.city, *model.rows)]
    else:
        rows = [(r, r.obsession) for r in model.rows]
    cells = (LATEST, CHANGE_WEEK, CHANGE_BASELINE, PERCENT_BASELINE)
    return sum(1 for r, o in rows for c in cells
               if c in r.withheld and not (c == PERCENT_BASELINE and o.unit == "percent"))


def tokens(text: str) -> list[str]:
    """The words of extracted text, with the arrows and units that sit beside figures split off."""
    for mark in "▲▼►◄%()":
        text = text.replace(mark, " ")
    return text.split()


def need(tool: str) -> str:
    """The path of a command-line tool, or skip the test saying which package installs it."""
    path = shutil.which(tool)
    if path is None:
        package = "libreoffice-writer" if tool == "soffice" else "poppler-utils"
        pytest.skip(f"{tool} is not installed (Debian package {package}; .ci/run installs it)")
    return path


def pdf_text(data: bytes, tmp_path) -> str:
    """The text of a PDF as pdftotext reads it."""
    path = tmp_path / "read.pdf"
    path.write_bytes(data)
    return subprocess.run([need("pdftotext"), "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True, timeout=60).stdout


def pdf_fonts(data: bytes, tmp_path) -> list[list[str]]:
    """pdffonts' table: one list of columns per font (name, type, encoding, emb, sub, uni, ...)."""
    path = tmp_path / "fonts.pdf"
    path.write_bytes(data)
    out = subprocess.run([need("pdffonts"), str(path)], check=True, capture_output=True, text=True,
                         timeout=60).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]
