"""The tracker, the breakdown, the turn-the-curve and the compare charts as SVG and print-quality PDF.

The same matplotlib Figure as the PNG (renderers/png.py, curve.py, compare.py), saved by matplotlib's
SVG and PDF backends instead of Agg: text stays text (searchable, selectable), DejaVu Sans (shipped with
matplotlib) is embedded in both, and the alt text becomes the document's title and description. The
PDF page is put on A4 with pypdf, which also joins pages into the agenda pack (renderers/pack.py).

Two of matplotlib's internals are stood in for while this module saves (under a lock, and only when
they are what they were written against): font subsetting, done once per font and process, and text
measuring, kept across saves. Both leave the output byte for byte as matplotlib's own would be,
but for the subsets holding the common characters as well.
"""
from __future__ import annotations

import io
import re
import threading
from collections import OrderedDict
from contextlib import contextmanager
from functools import lru_cache
from types import SimpleNamespace
from xml.sax.saxutils import escape

from matplotlib import rc_context
from matplotlib import text as _mtext
from matplotlib.backends import _backend_pdf_ps
from matplotlib.figure import Figure

from tracker.model import Breakdown, Curve, Tracker

from .formatting import week_label

MM = 72 / 25.4                       # PDF points per millimetre
A4 = (210 * MM, 297 * MM)            # portrait width, height in points
PAGE_MARGIN = 12 * MM
LANGUAGE = "en-GB"

# rcParams are process-wide: a lock keeps one thread's rc_context from undoing another's mid-save.
_RC_LOCK = threading.Lock()
_RC = {"svg.fonttype": "none",       # <text> elements, not glyph outlines
       "svg.hashsalt": "obsession-tracker",   # the same ids, so the same bytes, every time
       "pdf.fonttype": 42,           # TrueType embedded (subset), not Type 3 bitmaps-of-curves
       "ps.fonttype": 42,            # matplotlib sizes the PDF's font subsets by this: one subset per font
       "pdf.compression": 6}
_ORIGINAL_SUBSET = getattr(_backend_pdf_ps, "get_glyphs_subset", None)
_ORIGINAL_METRICS = getattr(_mtext, "_get_text_metrics_with_cache", None)


# The drawing of each model, as its PNG draws it: the model's class name -> "module:function" in renderers/.
FIGURES = {"Tracker": "png:draw", "Breakdown": "png:draw", "Curve": "curve:draw_curve",
           "Comparison": "compare:draw_compare"}


def figure_of(model) -> Figure:
    """The matplotlib Figure the PNG of this model is drawn from."""
    from .views import resolve

    return resolve(FIGURES[type(model).__name__])(model)


def _plain_letters(fig: Figure) -> Figure:
    """No ligatures: 'fi' stays two letters, so that a search for 'figures' finds it in any viewer
    (and the fonts need one subset each, not two)."""
    # The words are the figure's and its axes' texts; tick labels are figures and dates. (findobj
    # would also find the ticks, but asking for them runs the date locators: a tenth of a chart's time.)
    for t in [*fig.texts, *(t for ax in fig.axes for t in ax.texts)]:
        if hasattr(t, "set_fontfeatures"):
            t.set_fontfeatures(("-liga", "-clig"))
    return fig


def title_of(model) -> str:
    """The document title: the heading and the week, as the PNG's Title."""
    if isinstance(model, Curve):
        from .curve import _title

        return f"{_title(model)}, week commencing {week_label(model.week)}"
    if type(model).__name__ == "Comparison":
        from .compare import _title

        return _title(model) + (f", week commencing {week_label(model.week)}" if model.week else "")
    return f"{model.title}, week commencing {week_label(model.week)}"


def description_of(model) -> str:
    """The alt text: every figure in words (the same text as the PNG's Description)."""
    from .views import view_of

    return view_of(model).alt_text(model)


def is_portrait(model) -> bool:
    """The breakdown is a tall ranked list: portrait; the tracker and the charts are wide: landscape."""
    return isinstance(model, Breakdown)


# Characters the outputs use, subset into every PDF's fonts: one fontTools subsetting per font and
# process instead of one per font and PDF (that was three quarters of a PDF's time). Costs a few KB.
_COMMON_CHARS = "".join(chr(c) for c in range(32, 127)) + "▲▼►◄–—‘’“”…£€·•×°"


@lru_cache(maxsize=8)
def _common_glyphs(fontfile) -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    font = FT2Font(fontfile)
    cmap = font.get_charmap()
    gids = {cmap[ord(c)] for c in _COMMON_CHARS if ord(c) in cmap}
    return frozenset(gids | {0})


@lru_cache(maxsize=64)
def _subset_of(fontfile, glyphs: frozenset[int]) -> tuple[bytes, dict]:
    with _ORIGINAL_SUBSET(fontfile, set(glyphs)) as subset:
        return _backend_pdf_ps.font_as_file(subset.font).getvalue(), dict(subset.glyph_index_map)


class _SavedFont:
    """A subset font already written out: what backend_pdf's font_as_file asks of a TTFont."""

    def __init__(self, data: bytes):
        self.data = data

    def save(self, fh, reorderTables=False):
        fh.write(self.data)


@contextmanager
def _cached_subset(fontfile, glyphs):
    data, index_map = _subset_of(fontfile, _common_glyphs(fontfile) | frozenset(glyphs))
    yield SimpleNamespace(font=_SavedFont(data), glyph_index_map=index_map)


_METRICS: OrderedDict = OrderedDict()
_METRICS_KEPT = 8192


def _kept_metrics(renderer, text, fontprop, ismath, dpi):
    """Text measurements kept across saves. matplotlib keeps them per renderer, and every save makes
    a new one, so the same headings and labels were measured again in every PDF and SVG (a fifth of
    the time); a string's size in one font, size and dpi does not change."""
    inner = getattr(renderer, "_renderer", renderer)          # PDF's MixedModeRenderer wraps the real one
    # A copy: FontProperties is mutable and hashed by its state (as matplotlib's own cache keys it).
    key = (type(inner).__name__, text, fontprop.copy(), ismath, dpi)
    got = _METRICS.get(key)
    if got is None:
        got = renderer.get_text_width_height_descent(text, fontprop, ismath=ismath)
        _METRICS[key] = got
        if len(_METRICS) > _METRICS_KEPT:
            _METRICS.popitem(last=False)
    return got


def _save(fig: Figure, fmt: str, metadata: dict) -> bytes:
    mtext = _mtext
    pdf_ps = _backend_pdf_ps
    out = io.BytesIO()
    with _RC_LOCK, rc_context(_RC):
        # Both swapped in only while this module saves, under the lock; each left alone if matplotlib
        # changes what it stands in for.
        swaps = []
        if fmt == "pdf" and getattr(pdf_ps, "get_glyphs_subset", None) is _ORIGINAL_SUBSET \
                and hasattr(pdf_ps, "SubsetResults"):
            swaps.append((pdf_ps, "get_glyphs_subset", _ORIGINAL_SUBSET, _cached_subset))
        if getattr(mtext, "_get_text_metrics_with_cache", None) is _ORIGINAL_METRICS:
            swaps.append((mtext, "_get_text_metrics_with_cache", _ORIGINAL_METRICS, _kept_metrics))
        for module, name, _, new in swaps:
            setattr(module, name, new)
        try:
            fig.savefig(out, format=fmt, metadata=metadata, facecolor="white")
        finally:
            for module, name, old, _ in swaps:
                setattr(module, name, old)
    return out.getvalue()


def render_svg(model: Tracker | Breakdown | Curve) -> bytes:
    """The image as SVG (UTF-8): text as <text>, the title and alt text as <title> and <desc>."""
    title, desc = title_of(model), description_of(model)
    data = _save(_plain_letters(figure_of(model)), "svg", {"Title": title, "Description": desc, "Date": None,
                                           "Language": LANGUAGE, "Creator": "obsession-tracker"})
    # matplotlib writes a bare <title> of its own: one title, with an id, is what aria-labelledby names.
    text = re.sub(r"\n? *<title>[^<]*</title>", "", data.decode("utf-8"), count=1)
    # <title>/<desc> first inside <svg> (and role="img" with aria-labelledby) is what screen readers
    # and browsers read; matplotlib only writes them into the RDF metadata.
    head = re.search(r"<svg\b[^>]*>", text)
    assert head is not None
    opening = head.group(0)[:-1] + ' role="img" aria-labelledby="svg-title svg-desc" xml:lang="en-GB">'
    inner = f'\n <title id="svg-title">{escape(title)}</title>\n <desc id="svg-desc">{escape(desc)}</desc>'
    inner += _svg_fonts(text)
    text = text[:head.start()] + opening + inner + text[head.end():]
    return text.encode("utf-8")


def _svg_fonts(svg: str) -> str:
    """A <style> with the DejaVu Sans faces the SVG's text uses, embedded as WOFF subsets, so that it
    lays out as drawn on machines without the font (widths were measured in DejaVu Sans)."""
    import base64

    chars = frozenset(ch for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg) for ch in t)
    faces = [(False, False)] + [(b, i) for b, i in ((True, False), (False, True), (True, True))
                                if re.search(_FACE_STYLE[(b, i)], svg)]
    rules = []
    for bold, italic in faces:
        data = _woff(_font_path(bold, italic), _common_chars() | chars)
        rules.append(f"@font-face{{font-family:'DejaVu Sans';font-weight:{700 if bold else 400};"
                     f"font-style:{'italic' if italic else 'normal'};"
                     f"src:url(data:font/woff;base64,{base64.b64encode(data).decode('ascii')}) format('woff')}}")
    return '\n <style type="text/css">' + "".join(rules) + "</style>"


_FACE_STYLE = {(True, False): r"font-weight: 700(?![^\"]*font-style: italic)",
               (False, True): r"font-style: italic(?![^\"]*font-weight: 700)",
               (True, True): r"font-weight: 700[^\"]*font-style: italic|font-style: italic[^\"]*font-weight: 700"}


def _font_path(bold: bool, italic: bool):
    from . import _figure as fx

    return fx._font_files(bold, italic)[0]


@lru_cache(maxsize=1)
def _common_chars() -> frozenset[str]:
    return frozenset(_COMMON_CHARS)


@lru_cache(maxsize=32)
def _woff(fontfile, chars: frozenset[str]) -> bytes:
    """One face subset to these characters as WOFF (zlib; no layout tables, which SVG text does not need)."""
    from fontTools import subset

    options = subset.Options(flavor="woff", layout_features=[], name_IDs=["*"], notdef_outline=True)
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM"]
    font = subset.load_font(str(fontfile), options)
    sub = subset.Subsetter(options=options)
    sub.populate(text="".join(sorted(chars)))
    sub.subset(font)
    out = io.BytesIO()
    font.flavor = "woff"
    font.save(out)
    return out.getvalue()


def _page_pdf(model) -> tuple[bytes, tuple[float, float]]:
    """The figure as a one-page PDF at its own size, and the A4 page size it goes on."""
    raw = _save(_plain_letters(figure_of(model)), "pdf", {"Title": title_of(model), "Subject": description_of(model),
                                          "Creator": "obsession-tracker", "CreationDate": None})
    w, h = A4
    return raw, ((w, h) if is_portrait(model) else (h, w))


def fit_to_page(writer, page, size: tuple[float, float]) -> None:
    """Scale a page's drawing to fill an A4 page within the margins, centred across, from the top.

    The scaling wraps the drawing's content stream ('q cm ... Q') rather than rewriting it: pypdf's
    add_transformation parses every operator, which took a third of a PDF's time.
    """
    from pypdf.generic import ArrayObject, DecodedStreamObject, NameObject, RectangleObject

    fw, fh = float(page.mediabox.width), float(page.mediabox.height)
    pw, ph = size
    if abs(fw - pw) < 1 and abs(fh - ph) < 1:
        return                                  # drawn at A4 already (the pack's index)
    scale = min((pw - 2 * PAGE_MARGIN) / fw, (ph - 2 * PAGE_MARGIN) / fh)
    tx = (pw - fw * scale) / 2
    ty = ph - PAGE_MARGIN - fh * scale

    def stream(text: str):
        s = DecodedStreamObject()
        s.set_data(text.encode("ascii"))
        return writer._add_object(s)

    contents = page[NameObject("/Contents")]
    parts = list(contents) if isinstance(contents, ArrayObject) else [contents]
    page[NameObject("/Contents")] = ArrayObject(
        [stream(f"q {scale:.6f} 0 0 {scale:.6f} {tx:.4f} {ty:.4f} cm\n"), *parts, stream("\nQ\n")])
    box = RectangleObject((0, 0, pw, ph))
    page.mediabox = box
    page.cropbox = box
    page.trimbox = box


def a4_page(model) -> tuple[bytes, tuple[float, float]]:
    """The model's one-page PDF at its drawing's size, and the A4 size it goes on (see pdf_document)."""
    return _page_pdf(model)


def pdf_document(pages, *, title: str, subject: str, outline: list[tuple[str, int]] = (),
                 links: list[tuple[int, tuple[float, float, float, float], int]] = ()) -> bytes:
    """Pages from a4_page as one A4 PDF: title and subject (the alt text), English, the title shown by viewers;
    `outline` bookmarks (name, page index), `links` clickable areas (on page, rect, to page index)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import BooleanObject, DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    for raw, size in pages:
        fit_to_page(writer, writer.add_page(PdfReader(io.BytesIO(raw)).pages[0]), size)
    writer.add_metadata({"/Title": title, "/Subject": subject, "/Creator": "obsession-tracker"})
    root = writer._root_object
    root[NameObject("/Lang")] = TextStringObject(LANGUAGE)
    root[NameObject("/ViewerPreferences")] = DictionaryObject(
        {NameObject("/DisplayDocTitle"): BooleanObject(True)})
    for name, index in outline:
        writer.add_outline_item(title=name, page_number=index)
    if links:
        from pypdf.annotations import Link

        for on_page, rect, target in links:      # rect in points from the page's lower left
            writer.add_annotation(page_number=on_page, annotation=Link(rect=rect, target_page_index=target))
    if len(pages) > 1:
        # Every page embeds the same font subsets (see _subset_of): keep one copy of each.
        writer.compress_identical_objects()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def render_pdf(model: Tracker | Breakdown | Curve) -> bytes:
    """The image as a one-page A4 PDF: vector drawing, embedded DejaVu Sans, the alt text as its subject."""
    return pdf_document([a4_page(model)], title=title_of(model), subject=description_of(model))
