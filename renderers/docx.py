"""The tracker, the breakdown and the turn-the-curve chart as Word documents for meeting agendas (python-docx).

A native Word table (its header row repeats on a new page; better/worse in words and arrows as well as
colour; 'c' where a figure is withheld; the DfE's published benchmark line in a row spanning the table
under its obsession's row, the city's under the breakdown's city row), the picture with its alt text
set where Word keeps it, and Word's own heading, list and table styles, so that pasted into an agenda
it takes the agenda's look.
"""
from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from tracker.model import (
    CHANGE_BASELINE,
    CHANGE_WEEK,
    LATEST,
    PERCENT_BASELINE,
    Breakdown,
    BreakdownRow,
    Curve,
    Tracker,
    TrackerRow,
)

from .formatting import (
    NO_FIGURE,
    PER_10K_MEANING,
    VERDICT_WORD,
    WITHHELD,
    alt_text,
    arrow,
    benchmark_line,
    breakdown_alt_text,
    illustrative_notice,
    number,
    percent,
    rate_cell,
    rate_text,
    signed,
    title_parts,
    week_label,
)
from .palette import HEADER_ROW, LAG_ROW, MUTED
from .palette import VERDICT as COLOUR

TABLE_STYLE = "Table Grid"      # in every Word document, so a pasted table keeps its borders
LANGUAGE = "en-GB"
TRACKER_WIDTHS = [54, 26, 30, 30, 30]          # mm, within A4's 170 mm between 20 mm margins
BREAKDOWN_WIDTHS = [17, 43, 18, 32, 26, 32]
# With a column of the rate per 10,000 children (where populations exist), beside the count it is of.
BREAKDOWN_RATE_WIDTHS = [17, 30, 18, 22, 27, 26, 28]
PER_10K_NOTE = f"Per 10,000 children: {PER_10K_MEANING}"


def new_document(title: str, subject: str):
    """An empty A4 portrait document, its title and description (the alt text) in its properties."""
    doc = Document()
    props = doc.core_properties
    # Properties hold at most 255 characters: the alt text's first sentence; the whole of it is on
    # the picture and the table, where a screen reader meets it.
    props.title, props.subject, props.language = title[:255], subject.split(". ")[0][:255], LANGUAGE
    props.author = "obsession-tracker"
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(20))
    return doc


def _text_width(doc):
    s = doc.sections[-1]
    return s.page_width - s.left_margin - s.right_margin


def _rgb(colour: str) -> RGBColor:
    return RGBColor.from_string(colour.lstrip("#").upper())


def _run(paragraph, text: str, *, bold: bool = False, italic: bool = False, colour: str | None = None):
    run = paragraph.add_run(text)
    run.bold, run.italic = bold or None, italic or None
    if colour:
        run.font.color.rgb = _rgb(colour)
    return run


def _shade(cell, colour: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), colour.lstrip("#").upper())
    cell._tc.get_or_add_tcPr().append(shd)


def _repeat_header(row) -> None:
    """Mark a table row as the header that Word repeats at the top of each page (w:tblHeader)."""
    tr_pr = row._tr.get_or_add_trPr()
    for tag in ("w:cantSplit", "w:tblHeader"):
        el = OxmlElement(tag)
        el.set(qn("w:val"), "true")
        tr_pr.append(el)


def _keep_rows_whole(table) -> None:
    for row in table.rows[1:]:
        el = OxmlElement("w:cantSplit")
        el.set(qn("w:val"), "true")
        row._tr.get_or_add_trPr().append(el)


def _table_alt_text(table, caption: str, description: str) -> None:
    """The table's own Alt Text (Word's Table Properties > Alt Text: w:tblCaption, w:tblDescription)."""
    tbl_pr = table._tbl.tblPr
    for tag, value in (("w:tblCaption", caption), ("w:tblDescription", description)):
        el = OxmlElement(tag)
        el.set(qn("w:val"), value)
        tbl_pr.append(el)


def _table(doc, heads: list[str], widths_mm: list[float], caption: str, description: str, *, left: int = 1):
    table = doc.add_table(rows=1, cols=len(heads))
    table.style = TABLE_STYLE
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, (cell, head) in enumerate(zip(table.rows[0].cells, heads)):
        cell.text = ""
        p = cell.paragraphs[0]
        _run(p, head, bold=True)
        p.alignment = WD_ALIGN_PARAGRAPH.LEFT if i < left else WD_ALIGN_PARAGRAPH.CENTER
        _shade(cell, HEADER_ROW)
    _repeat_header(table.rows[0])
    _table_alt_text(table, caption, description)
    table.autofit = False
    for column, w in zip(table.columns, widths_mm):
        column.width = Mm(w)               # the grid, which LibreOffice reads
    return table


def _cell_widths(table, widths_mm: list[float]) -> None:
    """Each cell's width as well as the grid's: Word reads the cells (a spanning cell: its columns' sum)."""
    for row in table.rows:
        column = 0
        for tc in row._tr.tc_lst:
            tc.width = Mm(sum(widths_mm[column:column + tc.grid_span]))
            column += tc.grid_span


def _border(cell, side: str, val: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        # Word refuses a file whose cell properties are out of the schema's order (tcBorders before shd ...).
        tc_pr.insert_element_before(borders, *(f"w:{t}" for t in (
            "shd", "noWrap", "tcMar", "textDirection", "tcFitText", "vAlign", "hideMark", "headers",
            "cellIns", "cellDel", "cellMerge", "tcPrChange")))
    el = OxmlElement(f"w:{side}")
    el.set(qn("w:val"), val)
    borders.append(el)


def _benchmark_row(table, above, text: str, shade: str | None = None) -> None:
    """The benchmark line in a row spanning the table under `above`, the row it belongs to.

    A table row rather than a paragraph after the table: it is pasted with the table and a screen
    reader meets it straight after its obsession's figures. No rule between the two, and `above` is
    kept on the same page as it, so they read as one.
    """
    row = table.add_row()
    cell = row.cells[0].merge(row.cells[-1])
    _run(cell.paragraphs[0], text)            # the table's own size: it is figures, not small print
    for c in above.cells:
        _border(c, "bottom", "nil")
        for p in c.paragraphs:
            p.paragraph_format.keep_with_next = True
    _border(cell, "top", "nil")
    if shade:
        _shade(cell, shade)


def picture(doc, png: bytes, *, title: str, description: str, width=None) -> None:
    """The image, centred, with its alt text where Word shows it (Alt Text: wp:docPr descr and title)."""
    doc.add_paragraph()
    shape = doc.add_picture(io.BytesIO(png), width=width or _text_width(doc))
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc_pr = shape._inline.docPr
    doc_pr.set("descr", description)
    doc_pr.set("title", title)


def _small_print(doc, lines: list[str]) -> None:
    for line in lines:
        p = doc.add_paragraph()
        p.paragraph_format.space_before = Pt(6)      # clear of the table above
        _run(p, line, italic=True, colour=MUTED)


def _change(cell, change, o, withheld: bool, verdict, *, aside: str | None = None) -> None:
    """A change: arrow and signed figure in the verdict's colour, the verdict in words beneath."""
    p = cell.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    text = signed(change, o, withheld)
    if withheld or change is None:
        _run(p, text, bold=True, colour=MUTED)
        _run(cell.add_paragraph(), "withheld" if withheld else "no earlier figure", colour=MUTED).font.size = Pt(8)
        cell.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        return
    colour = COLOUR.get(verdict, COLOUR[None])
    _run(p, f"{arrow(change, o)} {text}" + (" pts" if o.is_rate else ""), bold=True, colour=colour)
    words = cell.add_paragraph()
    words.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(words, VERDICT_WORD.get(verdict, ""), bold=True, colour=colour).font.size = Pt(8)
    if aside:
        _run(cell.add_paragraph(), aside, colour=MUTED).font.size = Pt(8)
        cell.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER


def _percent(cell, pct, o, withheld: bool, verdict) -> None:
    p = cell.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    text = percent(pct, o, withheld)
    plain = o.is_rate or withheld or pct is None
    _run(p, text + ("" if plain else " %"), bold=not plain,
         colour=MUTED if plain else COLOUR.get(verdict, COLOUR[None]))


def _obsession_title(paragraph, o) -> None:
    before, verb, after = title_parts(o)
    _run(paragraph, before)
    _run(paragraph, verb, bold=True)
    _run(paragraph, after)


# ---------------------------------------------------------------------------------------------- tracker

def tracker_heading(tracker: Tracker) -> str:
    """The tracker's heading, naming the area for the city as well ('Weekly obsessions tracker: Leeds')."""
    return tracker.title if tracker.area_kind != "city" else f"{tracker.title}: {tracker.area}"


def add_tracker(doc, tracker: Tracker, png: bytes, *, level: int = 1) -> None:
    """The tracker: heading, week, the table, the turn-the-curve lines, the picture and the small print."""
    label = tracker.baseline_label
    doc.add_heading(tracker_heading(tracker), level=level)
    doc.add_paragraph(f"Week commencing {week_label(tracker.week)}")
    if tracker.area_kind == "cluster":
        doc.add_paragraph(f"Cluster of {tracker.city}")
    table = _table(doc, ["Obsession", "Latest position", "Change on last week", f"% change since {label}",
                         f"Change since {label}"], TRACKER_WIDTHS,
                   caption=f"{tracker_heading(tracker)}, week commencing {week_label(tracker.week)}",
                   description=alt_text(tracker))
    for row in tracker.rows:
        line = table.add_row()
        _tracker_row(line.cells, tracker, row)
        if row.benchmarks:
            _benchmark_row(table, line, benchmark_line(row.benchmarks))
    _keep_rows_whole(table)
    _cell_widths(table, TRACKER_WIDTHS)

    notes = []
    if any(r.obsession.is_rate for r in tracker.rows):
        notes.append("Rates are percentages; their changes are in percentage points (pts), "
                     "so no % change is given for them (n/a).")
    if any(r.withheld for r in tracker.rows):
        notes.append(f'"{WITHHELD}": withheld to protect small numbers (counts below {tracker.suppress_below}, '
                     "or figures from which one could be worked out).")
    notes.append("Better and worse are judged by each obsession's aim (to reduce or to increase); "
                 "▲ ▼ ► show which way the figure moved.")
    if any(r.rate_per_10000 is not None for r in tracker.rows):
        notes.append(PER_10K_NOTE)
    _small_print(doc, notes)

    curves = [r for r in tracker.rows if r.forecast is not None]
    if curves:
        doc.add_heading("Turning the curve", level=level + 1)
        for r in curves:
            p = doc.add_paragraph(style="List Bullet")
            _run(p, f"{r.obsession.label}: ", bold=True)
            _run(p, r.forecast.description[0].upper() + r.forecast.description[1:] + ".")
        doc.add_paragraph(f"Each is compared with a straight-line continuation of the trend before the {label}: "
                          "where the figure would be had that trend simply gone on. It is a yardstick, "
                          "not a prediction.")
    picture(doc, png, title=f"{tracker.title}, week commencing {week_label(tracker.week)}",
            description=alt_text(tracker))
    _small_print(doc, _sender_lines(tracker.illustrative, tracker.city, tracker.sender))


def _sender_lines(illustrative: bool, city: str, sender: str) -> list[str]:
    lines = [illustrative_notice(city)] if illustrative else []
    return lines + ([f"Sent by {sender}."] if sender else [])


def _tracker_row(cells, tracker: Tracker, row: TrackerRow) -> None:
    o = row.obsession
    _obsession_title(cells[0].paragraphs[0], o)
    if row.note:
        _run(cells[0].add_paragraph(), row.note[0].upper() + row.note[1:], italic=True, colour=MUTED)
    p = cells[1].paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    withheld = LATEST in row.withheld
    _run(p, number(row.latest, o, withheld, unit=True), bold=True,
         colour=MUTED if withheld or row.latest is None else None)
    if withheld:
        _run(cells[1].add_paragraph(), "withheld", colour=MUTED).font.size = Pt(8)
        cells[1].paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif row.latest is not None and row.latest_week and row.latest_week != tracker.week:
        _run(cells[1].add_paragraph(), f"week of {week_label(row.latest_week)}", colour=MUTED)
        cells[1].paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    if row.rate_per_10000 is not None and not withheld:     # as the text (and the email's text part) show it
        _run(cells[1].add_paragraph(), rate_text(row.rate_per_10000))
        cells[1].paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    aside = None if row.previous_is_adjacent or row.previous_week is None else f"on {week_label(row.previous_week)}"
    _change(cells[2], row.change_since_last_week, o, CHANGE_WEEK in row.withheld, row.verdict_since_last_week,
            aside=aside)
    _percent(cells[3], row.percent_change_since_baseline, o, PERCENT_BASELINE in row.withheld,
             row.verdict_since_baseline)
    _change(cells[4], row.change_since_baseline, o, CHANGE_BASELINE in row.withheld, row.verdict_since_baseline)


# -------------------------------------------------------------------------------------------- breakdown

def add_breakdown(doc, b: Breakdown, png: bytes, *, level: int = 1) -> None:
    """One obsession by cluster: heading, the ranked table (the city first, laggards marked), notes, picture."""
    o = b.obsession
    label = b.baseline_label
    doc.add_heading(b.title, level=level)
    _obsession_title(doc.add_paragraph(), o)
    doc.add_paragraph(f"Week commencing {week_label(b.week)}")
    pts = " (pts)" if o.is_rate else ""
    # Per 10,000 children where populations exist, as the text breakdown shows it: areas of any size compared.
    rates = any(r.rate_per_10000 is not None for r in (b.city, *b.rows))
    widths = BREAKDOWN_RATE_WIDTHS if rates else BREAKDOWN_WIDTHS
    table = _table(doc, ["Rank", "Cluster", "Latest", *(["Per 10,000 children"] if rates else []),
                         f"Change on last week{pts}", f"% change since {label}", f"Change since {label}{pts}"],
                   widths, caption=f"{b.title}, week commencing {week_label(b.week)}",
                   description=breakdown_alt_text(b), left=2)
    for r, is_city in [(b.city, True)] + [(r, False) for r in b.rows]:
        line = table.add_row()
        _breakdown_row(line.cells, o, r, is_city, rates)
        if is_city and b.benchmarks:
            _benchmark_row(table, line, benchmark_line(b.benchmarks), shade=HEADER_ROW)
    _keep_rows_whole(table)
    _cell_widths(table, widths)
    notes = [b.lagging_rule[0].upper() + b.lagging_rule[1:] + ".", *b.notes, *([PER_10K_NOTE] if rates else [])]
    _small_print(doc, notes)
    picture(doc, png, title=f"{b.title}, week commencing {week_label(b.week)}", description=breakdown_alt_text(b))
    _small_print(doc, _sender_lines(b.illustrative, b.city.area, b.sender))


def _breakdown_row(row_cells, o, r: BreakdownRow, is_city: bool, rates: bool = False) -> None:
    cells = list(row_cells)
    rank = "City" if is_city else (str(r.rank) if r.rank else "–")
    _run(cells[0].paragraphs[0], rank, bold=is_city)
    _run(cells[1].paragraphs[0], r.area, bold=is_city)
    if r.lagging:
        _run(cells[1].paragraphs[0], " (lagging)", bold=True, colour=COLOUR["worse"])
    p = cells[2].paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    withheld = LATEST in r.withheld
    _run(p, number(r.latest, o, withheld, unit=True), bold=not withheld, colour=MUTED if withheld else None)
    if rates:
        p = cells[3].paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        per = rate_cell(r)
        _run(p, per, colour=MUTED if per in (WITHHELD, NO_FIGURE) else None)
        cells = [*cells[:3], *cells[4:]]
    for cell, change, key, verdict in ((cells[3], r.change_since_last_week, CHANGE_WEEK, r.verdict_since_last_week),
                                       (cells[5], r.change_since_baseline, CHANGE_BASELINE, r.verdict_since_baseline)):
        p = cell.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        w = key in r.withheld
        text = signed(change, o, w)
        if w or change is None:
            _run(p, text, colour=MUTED)
        else:
            colour = COLOUR.get(verdict, COLOUR[None])
            _run(p, f"{arrow(change, o)} {text} {VERDICT_WORD.get(verdict, '')}".rstrip(), bold=True, colour=colour)
    p = cells[4].paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    w = PERCENT_BASELINE in r.withheld
    _run(p, percent(r.percent_change_since_baseline, o, w), colour=MUTED if (w or o.is_rate) else None)
    if is_city or r.lagging:
        for cell in row_cells:
            _shade(cell, HEADER_ROW if is_city else LAG_ROW)


# ------------------------------------------------------------------------------------------------ curve

def add_curve(doc, curve: Curve, png: bytes, *, level: int = 1) -> None:
    """The turn-the-curve chart: heading, the obsession, the gap to the pre-plan trend in words, the chart."""
    from .curve import _caption, _title, curve_alt_text

    doc.add_heading(_title(curve), level=level)
    _obsession_title(doc.add_paragraph(), curve.obsession)
    doc.add_paragraph(f"Week commencing {week_label(curve.week)}")
    if curve.forecast is not None:
        p = doc.add_paragraph()
        _run(p, curve.forecast.description[0].upper() + curve.forecast.description[1:] + ".", bold=True)
    picture(doc, png, title=f"{_title(curve)}, week commencing {week_label(curve.week)}",
            description=curve_alt_text(curve))
    doc.add_paragraph(_caption(curve))
    if curve.illustrative:
        _small_print(doc, ["Illustrative demo figures (synthetic), not real data."])


def document_bytes(doc) -> bytes:
    """The document as .docx bytes."""
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def render_docx(model: Tracker | Breakdown | Curve, png: bytes | None = None) -> bytes:
    """The tracker, breakdown or chart as a Word document (`png`: its picture, drawn here when not given)."""
    from .vector import description_of, title_of

    if png is None:
        if isinstance(model, Curve):
            from .curve import render_curve

            png = render_curve(model)
        else:
            from .png import render_png

            png = render_png(model)
    doc = new_document(title_of(model), description_of(model))
    add = add_curve if isinstance(model, Curve) else add_breakdown if isinstance(model, Breakdown) else add_tracker
    add(doc, model, png)
    return document_bytes(doc)
