"""Drawing helpers shared by the image renderers: a pixel-addressed canvas, text measuring, PNG bytes.

Only matplotlib's object API (Figure + the Agg canvas), never pyplot: pyplot keeps global state,
and a server renders from several threads at once.
"""
from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager, get_font
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, Rectangle
from matplotlib.text import Text
from PIL import Image, PngImagePlugin

# The images draw with the one palette (re-exported for png.py and curve.py as fx.INK etc.).
from .palette import INK, MUTED, NAVY, RULE, WHITE  # noqa: F401

# 1,600 px over 6.4 in: at full width of an A4 page (about 6.3 in between margins) a font of
# N points prints at about N points, so sizes below are the sizes a reader sees on paper.
DPI = 250
WIDTH_PX = 1600
PT = DPI / 72            # pixels per point
# Nothing is drawn smaller than 8 pt on paper at 16 cm wide (an A4 agenda with margins): the image
# is 6.4 in (16.26 cm) wide, so 16 cm prints it at 0.984 of its size, and 8.2 pt here is 8.07 pt there.
MIN_PT = 8.2
FONT = "DejaVu Sans"     # ships inside matplotlib: nothing is fetched or looked up on the system

PALETTE_COLOURS = 96     # an adaptive palette this size keeps text edges smooth and files small


def canvas(height_px: int, width_px: int = WIDTH_PX) -> tuple[Figure, object]:
    """A white Figure with one invisible Axes whose data units are pixels, y growing downwards."""
    fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, facecolor=WHITE)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width_px)
    ax.set_ylim(height_px, 0)
    ax.set_axis_off()
    return fig, ax


@lru_cache(maxsize=8)
def _font_files(bold: bool, italic: bool = False):
    return fontManager._find_fonts_by_props(FontProperties(family=FONT, weight="bold" if bold else "normal",
                                                           style="italic" if italic else "normal"))


@lru_cache(maxsize=4096)
def text_width(text: str, size_pt: float, bold: bool = False) -> float:
    """The width in pixels that `text` takes when drawn at `size_pt` (as the Agg renderer measures it)."""
    # get_font gives each thread its own FreeType object, so measuring is safe from several threads.
    font = get_font(_font_files(bold))
    font.clear()
    font.set_size(size_pt, DPI)
    font.set_text(text, 0.0, flags=get_hinting_flag())
    return font.get_width_height()[0] / 64.0


def space_width(size_pt: float, bold: bool = False) -> float:
    """The advance of one space (measured between two letters, as a lone space has no ink)."""
    return text_width("n n", size_pt, bold) - text_width("nn", size_pt, bold)


@lru_cache(maxsize=2048)
def _stamp(text: str, size_pt: float, bold: bool, italic: bool, colour: str):
    """The text drawn once as an RGBA bitmap, with its ink width, ink height and descent in pixels."""
    font = get_font(_font_files(bold, italic))
    font.clear()
    font.set_size(size_pt, DPI)
    font.set_text(text, 0.0, flags=get_hinting_flag())
    font.draw_glyphs_to_bitmap(antialiased=True)
    alpha = np.asarray(font.get_image())
    w, h = font.get_width_height()
    rgba = np.empty(alpha.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = (np.array(to_rgb(colour)) * 255).round().astype(np.uint8)
    rgba[..., 3] = alpha
    descent = font.get_descent() / 64.0
    # The bitmap starts at the ink, not at the pen: keep the first letter's side bearing so that
    # left-aligned words line up as matplotlib's own text does.
    bearing = font.load_char(ord(text[0])).horiBearingX / 64.0 if text else 0.0
    # draw_image takes rows bottom first.
    return np.ascontiguousarray(rgba[::-1]), w / 64.0, h / 64.0, descent, bearing


class StampText(Text):
    """A Text artist that draws from a cache of rendered strings.

    The same words (headings, titles, the key, area names) recur in every tracker and every week;
    FreeType rasterising them afresh each time was most of the render time. Positioning follows
    matplotlib's own rules for the alignments used here (left/center/right, baseline/center).
    """

    def __init__(self, x, y, text, *, size: float, bold: bool, italic: bool, colour: str, ha: str, va: str):
        super().__init__(x, y, text, fontsize=size, fontfamily=FONT, fontweight="bold" if bold else "normal",
                         fontstyle="italic" if italic else "normal", color=colour, ha=ha, va=va,
                         parse_math=False)
        self._key = (text, float(size), bold, italic, colour)

    def draw(self, renderer):
        if not isinstance(renderer, RendererAgg):
            # SVG and PDF (renderers/vector.py): real text, so that it can be searched and selected.
            return super().draw(renderer)
        if not self.get_visible() or not self.get_text():
            return
        rgba, width, height, descent, bearing = _stamp(*self._key)
        px, py = self.get_transform().transform((self._x, self._y))   # display pixels, y upwards
        ha, va = self.get_horizontalalignment(), self.get_verticalalignment()
        left = px - {"left": -bearing, "center": width / 2, "right": width}[ha]
        baseline = py if va == "baseline" else py - (height / 2 - descent)
        gc = renderer.new_gc()
        renderer.draw_image(gc, round(left), round(baseline - descent) - (rgba.shape[0] - round(height)), rgba)
        gc.restore()
        self.stale = False


def write(ax, x: float, y: float, text: str, size: float, *, bold: bool = False, colour: str = INK,
          ha: str = "left", va: str = "baseline", italic: bool = False) -> Text:
    """One piece of text at pixel (x, y) in the house font (va: 'baseline' or 'center' of the ink)."""
    t = StampText(x, y, text, size=size, bold=bold, italic=italic, colour=colour, ha=ha, va=va)
    t.set_transform(ax.transData)
    ax._add_text(t)
    return t


def wrap_runs(runs: list[tuple[str, bool]], size_pt: float, max_width: float) -> list[list[tuple[str, bool]]]:
    """Word-wrap text made of (text, bold) runs into lines of runs no wider than `max_width` pixels."""
    words: list[tuple[str, bool]] = [(w, bold) for text, bold in runs for w in text.split()]
    lines: list[list[tuple[str, bool]]] = [[]]
    width = 0.0
    for word, bold in words:
        w = text_width(word, size_pt, bold)
        gap = space_width(size_pt) if lines[-1] else 0.0
        if lines[-1] and width + gap + w > max_width:
            lines.append([])
            width, gap = 0.0, 0.0
        lines[-1].append((word, bold))
        width += gap + w
    # Merge neighbouring words of the same weight so each line is a few Text artists, not one per word.
    merged = []
    for line in lines:
        out: list[tuple[str, bool]] = []
        for word, bold in line:
            if out and out[-1][1] == bold:
                out[-1] = (out[-1][0] + " " + word, bold)
            else:
                out.append((word, bold))
        merged.append(out)
    return merged


def wrap_text(text: str, size_pt: float, max_width: float, bold: bool = False) -> list[str]:
    """Plain text word-wrapped into lines no wider than `max_width` pixels."""
    return [" ".join(t for t, _ in line) for line in wrap_runs([(text, bold)], size_pt, max_width)]


def fit_title(text: str, size_pt: float, max_width: float, shrink_to: float = 12.0) -> tuple[float, list[str]]:
    """(size, lines) of a bold title: whole at `size_pt` if it fits, else shrunk (no smaller than
    `shrink_to`), else wrapped onto two lines at the largest size at which both fit."""
    max_width *= 0.99      # matplotlib's extents run a pixel or two past FreeType's advance
    full = text_width(text, size_pt, True)
    if full <= max_width:
        return size_pt, [text]
    shrunk = size_pt * max_width / full
    if shrunk >= shrink_to:
        return shrunk, [text]
    size = size_pt
    while size > MIN_PT:
        lines = wrap_text(text, size, max_width, bold=True)
        if len(lines) <= 2 and all(text_width(ln, size, True) <= max_width for ln in lines):
            return size, lines
        size -= 0.5
    return MIN_PT, wrap_text(text, MIN_PT, max_width, bold=True)


def write_runs(ax, x: float, y: float, line: list[tuple[str, bool]], size: float, colour: str = INK) -> None:
    """Draw one wrapped line of (text, bold) runs left to right from pixel (x, y) on the baseline."""
    for i, (text, bold) in enumerate(line):
        if i:
            x += space_width(size)
        write(ax, x, y, text, size, bold=bold, colour=colour)
        x += text_width(text, size, bold)


def pill(ax, x: float, y: float, text: str, colour: str, size: float = MIN_PT, ha: str = "center") -> float:
    """A word in white on a rounded coloured label centred vertically on y; returns its right edge."""
    w = text_width(text, size, True)
    cap = size * PT * 0.73                 # DejaVu Sans capital height, so every word sits alike
    pad = size * PT * 0.38
    left = x - w / 2 if ha == "center" else x + pad
    ax.add_artist(FancyBboxPatch((left, y - cap / 2), w, cap, boxstyle=f"round,pad={pad:.1f},rounding_size={pad:.1f}",
                                facecolor=colour, edgecolor="none"))
    write(ax, left, y + cap / 2, text, size, bold=True, colour=WHITE)
    return left + w + pad


def stack_labels(blocks, floor: float, ceiling: float, gap: float) -> None:
    """Draw labels beside a chart's line ends, each as near its line as it can be with none overlapping.

    `blocks` are [wanted centre y, height, draw(top)] (pixels, y down); they are laid top to bottom
    from `floor`, `gap` apart, then moved up together when the last would pass `ceiling`.
    """
    blocks = sorted(blocks, key=lambda b: b[0])
    tops = []
    for centre, height, _ in blocks:
        top = max(centre - height / 2, floor)
        tops.append(top)
        floor = top + height + gap
    overflow = floor - gap - ceiling
    for top, (_, _, draw) in zip(tops, blocks):
        draw(top - overflow if overflow > 0 else top)


def line(ax, xs, ys, colour: str, width: float = 0.8, **kw) -> Line2D:
    """A line in pixel coordinates (added directly: Axes.plot's argument handling costs more than drawing)."""
    ln = Line2D(xs, ys, color=colour, linewidth=width, solid_capstyle=kw.pop("capstyle", "butt"), **kw)
    # add_artist, not add_line/add_patch: the limits are fixed, and updating data limits from every
    # path's extents was a fifth of the render time.
    ax.add_artist(ln)
    return ln


def rect(ax, x: float, y: float, w: float, h: float, colour: str) -> Rectangle:
    """A filled rectangle in pixel coordinates, (x, y) its top-left corner."""
    r = Rectangle((x, y), w, h, facecolor=colour, edgecolor="none", linewidth=0)
    ax.add_artist(r)
    return r


def png_bytes(fig: Figure, *, title: str, description: str, exact: tuple[str, ...] = ()) -> bytes:
    """The figure as a small PNG: drawn by Agg, reduced to an adaptive palette, with title and alt text.

    `exact` names colours (besides white) that must come out unchanged, e.g. the better/worse colours.
    """
    agg = fig.canvas
    agg.draw()
    h, w = np.asarray(agg.buffer_rgba()).shape[:2]
    rgb = Image.frombuffer("RGBA", (w, h), agg.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    # The palette is learnt from every third pixel each way (fast octree, no dithering, which would
    # speckle flat areas and defeat compression), then the whole image is mapped onto it.
    sample = rgb.resize((max(1, w // 3), max(1, h // 3)), Image.Resampling.NEAREST)
    palette = sample.quantize(colors=PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    entries = np.array(palette.getpalette()[: 3 * PALETTE_COLOURS], dtype=float).reshape(-1, 3)
    # Octree buckets average their colours, so white would come out as 254: snap the house colours back.
    for colour in (WHITE, *exact):
        target = np.array(to_rgb(colour)) * 255
        nearest = int(np.argmin(((entries - target) ** 2).sum(axis=1)))
        if np.abs(entries[nearest] - target).max() <= 12:
            entries[nearest] = target.round()
    palette.putpalette(entries.astype(np.uint8).ravel().tolist())
    small = rgb.quantize(palette=palette, dither=Image.Dither.NONE)
    info = PngImagePlugin.PngInfo()
    info.add_itxt("Title", title)
    info.add_itxt("Description", description)  # the alt text travels with the image
    info.add_text("Software", "obsession-tracker")
    out = io.BytesIO()
    # Level 4 is within a few per cent of the smallest file at half the time of the default.
    small.save(out, format="PNG", pnginfo=info, compress_level=4, dpi=(DPI, DPI))
    return out.getvalue()


def png_description(data: bytes) -> str | None:
    """The Description text chunk of a PNG (the alt text it carries), or None."""
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.text.get("Description")
