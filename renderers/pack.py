"""The agenda pack for a week, as Word and as PDF: an index, the tracker, then each obsession's
breakdown by cluster and its turn-the-curve chart, a page (or more) each.

Pure like every renderer: the models in (the bot builds them), bytes out.
"""
from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure

from tracker.model import Breakdown, Curve, Tracker

from .formatting import illustrative_notice, week_label


@dataclass(frozen=True)
class Pack:
    """What goes into one pack: the area's tracker, then per obsession its breakdown (city packs) and curve."""

    tracker: Tracker
    breakdowns: tuple[Breakdown, ...] = ()
    curves: tuple[Curve, ...] = ()

    @property
    def title(self) -> str:
        """'Agenda pack: weekly obsessions tracker, Leeds'."""
        return f"Agenda pack: weekly obsessions tracker, {self.tracker.area}"

    @property
    def subject(self) -> str:
        """What the pack holds, in words (its description)."""
        parts = [f"the {self.tracker.area} tracker"]
        if self.breakdowns:
            parts.append("each obsession by cluster")
        if self.curves:
            parts.append("each obsession's turn-the-curve chart")
        return (f"{self.title}, week commencing {week_label(self.tracker.week)}: "
                + ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] + ".")

    def sections(self) -> list[Tracker | Breakdown | Curve]:
        """The views in the pack's order: the tracker, then for each obsession its breakdown and its curve."""
        out: list = [self.tracker]
        by_key = {b.obsession.key: b for b in self.breakdowns}
        curves = {c.obsession.key: c for c in self.curves}
        for row in self.tracker.rows:
            key = row.obsession.key
            out += [m for m in (by_key.get(key), curves.get(key)) if m is not None]
        return out


def build_pack(figures, config, week=None, area: str | None = None) -> Pack:
    """The pack's models from the core: the city's (tracker, breakdowns, curves) or one area's (tracker, curves)."""
    from tracker.arithmetic import build_breakdown, build_curve, build_tracker

    tracker = build_tracker(figures, config, week, area)
    keys = [r.obsession.key for r in tracker.rows]
    breakdowns = tuple(build_breakdown(figures, config, k, tracker.week) for k in keys) \
        if tracker.area_kind == "city" else ()
    curves = tuple(build_curve(figures, config, k, tracker.area, tracker.week) for k in keys)
    return Pack(tracker, breakdowns, curves)


def section_title(model: Tracker | Breakdown | Curve) -> str:
    """A section's heading, as the index lists it."""
    from .docx import tracker_heading

    if isinstance(model, Curve):
        return f"Turning the curve: {model.obsession.label}, {model.area}"
    if isinstance(model, Breakdown):
        return model.title
    return tracker_heading(model)


# ------------------------------------------------------------------------------------------------ Word

def render_pack_docx(pack: Pack, pngs: dict | None = None) -> bytes:
    """The pack as one Word document: a contents list, then each section from a new page, Heading 1 each.

    `pngs` maps a section's position to its picture where the caller has it already (the archive's cache).
    """
    from .curve import render_curve
    from .docx import add_breakdown, add_curve, add_tracker, document_bytes, new_document
    from .png import render_png

    doc = new_document(pack.title, pack.subject)
    sections = pack.sections()
    doc.add_paragraph(pack.title, style="Title")
    doc.add_paragraph(f"Week commencing {week_label(pack.tracker.week)}")
    doc.add_heading("Contents", level=1)
    for model in sections:
        doc.add_paragraph(section_title(model), style="List Number")
    if pack.tracker.illustrative:
        doc.add_paragraph(illustrative_notice(pack.tracker.city)).runs[0].italic = True
    for i, model in enumerate(sections):
        doc.add_page_break()
        png = (pngs or {}).get(i)
        if isinstance(model, Curve):
            add_curve(doc, model, png or render_curve(model))
        elif isinstance(model, Breakdown):
            add_breakdown(doc, model, png or render_png(model))
        else:
            add_tracker(doc, model, png or render_png(model))
    return document_bytes(doc)


# ------------------------------------------------------------------------------------------------- PDF

def _index_page(pack: Pack, entries: list[tuple[str, int]]) -> tuple[Figure, list]:
    """The first page of the PDF: the pack's title, the week and the contents with page numbers (A4
    portrait), and each entry's clickable area in points (x0, y0, x1, y1 from the lower left)."""
    from . import _figure as fx
    from .vector import A4, PAGE_MARGIN

    w, h = A4[0] / 72, A4[1] / 72              # inches
    fig = Figure(figsize=(w, h), facecolor="white")
    m = PAGE_MARGIN / 72 + 0.25

    def text(x: float, y: float, s: str, size: float, **kw) -> None:
        # y in inches from the top of the page.
        fig.text(x / w, 1 - y / h, s, fontsize=size, fontfamily=fx.FONT, color=kw.pop("colour", fx.INK), **kw)

    text(m, m + 0.3, pack.title, 17, fontweight="bold", colour=fx.NAVY)
    text(m, m + 0.7, f"Week commencing {week_label(pack.tracker.week)}", 12)
    text(m, m + 1.35, "Contents", 13, fontweight="bold", colour=fx.NAVY)
    step = min(0.32, (h - 2 * m - 2.4) / max(1, len(entries)))
    y = m + 1.8
    areas = []
    for name, page in entries:
        text(m, y, name, 10.5)
        text(w - m, y, f"page {page}", 10.5, ha="right", colour=fx.MUTED)
        areas.append((m * 72, (h - y) * 72 - 4, (w - m) * 72, (h - y) * 72 + 12))
        y += step
    if pack.tracker.illustrative:
        text(m, h - m, illustrative_notice(pack.tracker.city), 9, fontstyle="italic", colour=fx.MUTED)
    return fig, areas


def render_pack_pdf(pack: Pack) -> bytes:
    """The pack as one PDF: the index, then one A4 page per view (portrait breakdowns, landscape
    tracker and charts), each bookmarked; text searchable and fonts embedded as in render_pdf."""
    from .vector import A4, _plain_letters, _save, a4_page, pdf_document

    sections = pack.sections()
    entries = [(section_title(m), i + 2) for i, m in enumerate(sections)]
    fig, areas = _index_page(pack, entries)
    index = _save(_plain_letters(fig), "pdf",
                  {"Title": pack.title, "Subject": pack.subject, "Creator": "obsession-tracker", "CreationDate": None})
    pages = [(index, A4)] + [a4_page(m) for m in sections]
    outline = [("Contents", 0)] + [(name, page - 1) for name, page in entries]
    links = [(0, rect, page - 1) for rect, (_, page) in zip(areas, entries)]
    return pdf_document(pages, title=pack.title, subject=pack.subject, outline=outline, links=links)
