"""The tracker and breakdown images: structure, not pixels (PNG facts, the words drawn, what is withheld)."""
from __future__ import annotations

import dataclasses
import io
import math
import struct
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from matplotlib.colors import to_hex
from PIL import Image

from renderers.formatting import alt_text, breakdown_alt_text
from renderers.png import draw, render_png

WEEK = date(2015, 7, 20)
BETTER, WORSE = "#005a8c", "#a84300"   # dark blue and dark orange: 4.5:1 on every row (issue 10, tests/test_palette.py)


def png_facts(data: bytes) -> dict:
    """Signature, size from the IHDR chunk, and every tEXt/iTXt chunk, read by hand from the bytes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, text = 8, [], {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8].decode("ascii")
        body = data[pos + 8:pos + 8 + length]
        chunks.append(kind)
        if kind == "tEXt":
            key, value = body.split(b"\0", 1)
            text[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == "iTXt":
            key, rest = body.split(b"\0", 1)
            compressed = rest[0]
            _lang, _tkey, value = rest[2:].split(b"\0", 2)
            assert compressed == 0
            text[key.decode("latin-1")] = value.decode("utf-8")
        pos += 12 + length
    width, height = struct.unpack(">II", data[16:24])
    return {"width": width, "height": height, "chunks": chunks, "text": text}


def texts(fig) -> list[str]:
    """Every string drawn in the figure."""
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts]
    return out


def text_artist(fig, s: str):
    found = [t for ax in fig.axes for t in ax.texts if t.get_text() == s]
    assert found, f"{s!r} is not drawn"
    return found


def check_png(data: bytes, description: str) -> None:
    facts = png_facts(data)
    assert facts["width"] >= 1600
    assert len(data) < 150 * 1024
    assert facts["chunks"][0] == "IHDR" and facts["chunks"][-1] == "IEND"
    assert facts["text"]["Description"] == description
    with Image.open(io.BytesIO(data)) as im:
        rgb = im.convert("RGB")
        assert rgb.size == (facts["width"], facts["height"])
        for corner in [(0, 0), (rgb.width - 1, 0), (0, rgb.height - 1), (rgb.width - 1, rgb.height - 1)]:
            assert rgb.getpixel(corner) == (255, 255, 255)


@pytest.mark.parametrize("name", ["figure2_tracker", "cluster_tracker", "small_cluster_tracker", "cla_breakdown"])
def test_png_structure_and_alt_text(name, request):
    model = request.getfixturevalue(name)
    data = render_png(model)
    check_png(data, breakdown_alt_text(model) if name == "cla_breakdown" else alt_text(model))


def test_figure2_words_and_numbers(figure2_tracker):
    # The published Figure 2 week, by hand: cla 1,247 (-5, -12.3 %, -175); NEET 1,595 (+7, -479);
    # primary 4.4 % (+0.6, -1.9 pts); secondary 7.2 % (-3.3, -2.5 pts).
    fig = draw(figure2_tracker)
    drawn = texts(fig)
    for s in ["Weekly obsessions tracker", "Week commencing 20 July 2015", "Leeds",
              "1,247", "-5", "-12.3", "-175", "1,595", "+7", "-23.1", "-479",
              "4.4 %", "+0.6", "-1.9", "7.2 %", "-3.3", "-2.5"]:
        assert s in drawn, s
    assert drawn.count("n/a") == 2                      # no % change for the two rates
    # The verb of each title is bold and the rest is not.
    for verb in ("reduce", "Reduce"):
        for t in text_artist(fig, verb):
            assert t.get_fontweight() in ("bold", 700)
    assert all(t.get_fontweight() not in ("bold", 700) for t in text_artist(fig, "Safely"))
    # Illustrative demo figures say so.
    assert "Illustrative demo figures (synthetic), not Leeds' data." in drawn


def test_better_and_worse_in_colour_shape_and_word(figure2_tracker):
    fig = draw(figure2_tracker)
    # A fall in children looked after is good: blue, a down arrow and "better"; NEET up 7 is bad.
    assert to_hex(text_artist(fig, "-5")[0].get_color()) == BETTER
    assert to_hex(text_artist(fig, "+7")[0].get_color()) == WORSE
    assert to_hex(text_artist(fig, "+0.6")[0].get_color()) == WORSE
    arrows = [t for t in fig.axes[0].texts if t.get_text() in ("▲", "▼")]
    assert sorted(t.get_text() for t in arrows) == sorted("▼▼▲▼▲▼▼▼")   # week then baseline, four rows
    assert all(to_hex(t.get_color()) in (BETTER, WORSE) for t in arrows)
    drawn = texts(fig)
    # Six "better" verdicts and two "worse" in the rows, plus one of each in the key.
    assert drawn.count("better") == 6 + 1
    assert drawn.count("worse") == 2 + 1


def test_increase_obsession_colours_a_rise_as_better(small_config, small_frame):
    from tracker.arithmetic import build_tracker
    from tracker.figures import FigureTable

    tracker = build_tracker(FigureTable(small_frame), small_config, date(2020, 1, 27))
    fig = draw(tracker)
    # attend: 104 -> 110 is +6, a rise in an 'increase' obsession.
    assert to_hex(text_artist(fig, "+6")[0].get_color()) == BETTER
    assert "Increase" in texts(fig) and text_artist(fig, "Increase")[0].get_fontweight() in ("bold", 700)


def _hand_values(frame, area: str, key: str) -> list[float]:
    """The stored figures of one area around the Figure 2 week, straight from the demo frame."""
    rows = frame[(frame.area == area) & (frame.obsession == key)]
    weeks = {WEEK, WEEK - timedelta(days=7), date(2011, 4, 4)}
    return [float(v) for v in rows[rows.week_commencing.isin(weeks)].value]


def test_withheld_cluster_shows_c_and_never_the_number(small_cluster_tracker, demo_frame):
    row = small_cluster_tracker.row("cla")
    assert row.suppressed
    only = dataclasses.replace(small_cluster_tracker, rows=(row,))
    drawn = texts(draw(only))
    assert drawn.count("c") == 4        # latest, change on the week, % change, change since the start
    values = _hand_values(demo_frame, "Headingley", "cla")
    assert len(values) == 3
    forbidden = {f"{round(v):,}" for v in values}
    for a in values:
        for b in values:
            if a != b:
                forbidden.add(f"{round(a - b):+d}")
                forbidden.add(f"{(a - b) / b * 100:+.1f}".replace("+", "", 1) if a < b
                              else f"+{(a - b) / b * 100:.1f}")
    assert not forbidden & set(drawn), forbidden & set(drawn)
    # Withheld weeks of the progress line are gaps (NaN), not values.
    spark = [ln for ln in draw(only).axes[0].lines if len(ln.get_ydata()) == len(row.series)]
    assert spark
    hidden = sum(p.value is None for p in row.series)
    assert hidden > 0
    assert sum(math.isnan(y) for y in spark[0].get_ydata()) == hidden


def test_notice_only_when_illustrative(figure2_tracker):
    real = dataclasses.replace(figure2_tracker, illustrative=False)
    assert not any("Illustrative" in s for s in texts(draw(real)))


def test_threads_render_identical_bytes(figure2_tracker, cla_breakdown):
    one = render_png(figure2_tracker)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(render_png, [figure2_tracker, cla_breakdown] * 4))
    assert all(r == one for r in results[0::2])
    assert len(set(results[1::2])) == 1


def test_breakdown_ranked_city_marked_laggards_and_withheld(cla_breakdown, demo_frame):
    fig = draw(cla_breakdown)
    drawn = texts(fig)
    assert "Children looked after by cluster" in drawn
    assert "City" in drawn and "1,247" in drawn and "-12.3" in drawn
    ranked = [r for r in cla_breakdown.rows if r.rank]
    for i in range(1, len(ranked) + 1):
        assert str(i) in drawn
    assert drawn.count("lagging") == sum(r.lagging for r in cla_breakdown.rows) > 0
    withheld = [r for r in cla_breakdown.rows if r.suppressed]
    assert {r.area for r in withheld} == {"Headingley", "Wetherby"}
    # Each withheld cluster shows "c" and none of its stored figures.
    only = dataclasses.replace(cla_breakdown, rows=tuple(withheld))
    drawn = texts(draw(only))
    assert drawn.count("c") == 4 * len(withheld)
    for area in ("Headingley", "Wetherby"):
        for v in _hand_values(demo_frame, area, "cla"):
            assert f"{round(v):,}" not in drawn


def test_rate_breakdown_has_points(demo_figures, demo_config):
    from tracker.arithmetic import build_breakdown

    b = build_breakdown(demo_figures, demo_config, "absence_primary", WEEK)
    data = render_png(b)
    check_png(data, breakdown_alt_text(b))
    drawn = texts(draw(b))
    assert "4.4 %" in drawn and "-1.9" in drawn
    assert any("(points)" in s for s in drawn)


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory):
    """A SQLite store with the demo figures up to the Figure 2 week, built once for this module."""
    from tracker.config import load_config
    from tracker.demo_data import demo_frame
    from tracker.store import Store

    path = tmp_path_factory.mktemp("png-store") / "obsessions.db"
    s = Store(f"sqlite:///{path}")
    s.create()
    s.save_figures(demo_frame(load_config(None), WEEK), "demo")
    s.engine.dispose()
    return path


@pytest.fixture
def seeded(demo_env, seeded_db):
    import shutil

    shutil.copy(seeded_db, demo_env["DATABASE_URL"].removeprefix("sqlite:///"))
    return demo_env


@pytest.mark.parametrize("extra", [[], ["--area", "Headingley"], ["--obsession", "cla"]])
def test_render_command_writes_png(seeded, tmp_path, extra):
    from bot.cli import main

    out = tmp_path / "x.png"
    assert main(["render", "--week", "2015-07-20", "--format", "png", "-o", str(out), *extra]) == 0
    data = out.read_bytes()
    facts = png_facts(data)
    assert facts["width"] >= 1600 and len(data) < 150 * 1024
    assert "week commencing 20 July 2015" in facts["text"]["Description"]
