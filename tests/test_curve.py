"""The turn-the-curve chart: PNG facts, the lines it draws, the gap in words, withheld weeks, no forecast."""
from __future__ import annotations

import dataclasses
import math
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from matplotlib.collections import PolyCollection
from matplotlib.dates import date2num

from renderers.curve import curve_alt_text, draw_curve, render_curve
from tests.test_png import check_png, png_facts, texts

WEEK = date(2015, 7, 20)
PLAN = date(2011, 4, 4)        # the CYPP start in the demo configuration


@pytest.fixture(scope="module")
def cla_curve(demo_figures, demo_config):
    from tracker.arithmetic import build_curve

    return build_curve(demo_figures, demo_config, "cla", None, WEEK)


@pytest.fixture(scope="module")
def withheld_curve(demo_figures, demo_config):
    from tracker.arithmetic import build_curve

    return build_curve(demo_figures, demo_config, "cla", "Headingley", WEEK)


def chart_of(fig):
    return fig.axes[1]      # axes[0] is the pixel frame for headings and labels


def test_png_structure_and_alt_text(cla_curve, withheld_curve):
    for curve in (cla_curve, withheld_curve):
        check_png(render_curve(curve), curve_alt_text(curve))


def test_alt_text_in_words(cla_curve):
    alt = curve_alt_text(cla_curve)
    assert "Children looked after, Leeds" in alt
    assert "1,247" in alt and "1,422" in alt           # the Figure 2 week and the CYPP start figure
    assert "not a prediction" in alt
    assert cla_curve.forecast.description in alt


def test_draws_history_dashed_trend_plan_start_and_shaded_gap(cla_curve):
    fig = draw_curve(cla_curve)
    chart = chart_of(fig)
    lines = chart.get_lines()
    n_hist = len(cla_curve.history)
    actual = [ln for ln in lines if len(ln.get_xdata()) == n_hist]
    assert actual and actual[0].get_linestyle() == "-"
    trend = [ln for ln in lines if len(ln.get_xdata()) == len(cla_curve.forecast.line)]
    assert trend and trend[0].get_linestyle() == "--"
    # The trend line is drawn at the model's values, from the fitted start to the week.
    assert trend[0].get_xdata()[0] == date2num(cla_curve.forecast.line[0].week)
    assert trend[0].get_xdata()[-1] == date2num(WEEK)
    # Plan start: a vertical line at 4 April 2011 and the baseline point there.
    vertical = [ln for ln in lines if len(ln.get_xdata()) == 2 and ln.get_xdata()[0] == ln.get_xdata()[1]]
    assert vertical and vertical[0].get_xdata()[0] == date2num(PLAN)
    baseline = [ln for ln in lines if list(ln.get_xdata()) == [date2num(PLAN)]]
    assert baseline and baseline[0].get_ydata()[0] == 1422
    # The gap is shaded, only after the plan starts.
    polys = [c for c in chart.collections if isinstance(c, PolyCollection)]
    assert len(polys) == 1
    xs = [v[0] for path in polys[0].get_paths() for v in path.vertices]
    assert min(xs) >= date2num(PLAN)
    drawn = " ".join(texts(fig))
    # The demo's gap, as the text tracker words it (the label wraps over lines and starts with a capital).
    assert "about 550 fewer children looked after than the pre-plan trend" in drawn.lower()
    assert "better" in texts(fig)
    assert "not a prediction" in drawn
    assert "CYPP start (plan starts)" in texts(fig)
    assert "Week commencing 20 July 2015" in texts(fig)


def test_withheld_weeks_are_gaps_and_the_gap_is_not_shaded(withheld_curve):
    fig = draw_curve(withheld_curve)
    chart = chart_of(fig)
    hidden = sum(p.value is None for p in withheld_curve.history)
    assert hidden > 0
    actual = [ln for ln in chart.get_lines() if len(ln.get_xdata()) == len(withheld_curve.history)]
    assert sum(math.isnan(y) for y in actual[0].get_ydata()) == hidden
    assert withheld_curve.forecast.gap is None
    assert not [c for c in chart.collections if isinstance(c, PolyCollection)]
    assert "latest withheld (c)" in texts(fig)


def test_no_forecast(cla_curve):
    curve = dataclasses.replace(cla_curve, forecast=None)
    data = render_curve(curve)
    check_png(data, curve_alt_text(curve))
    fig = draw_curve(curve)
    sloping_dashes = [ln for ln in chart_of(fig).get_lines()
                      if ln.get_linestyle() == "--" and len(set(ln.get_xdata())) > 1]
    assert not sloping_dashes
    assert any("No pre-plan trend" in s for s in texts(fig))


def test_threads_render_identical_bytes(cla_curve):
    one = render_curve(cla_curve)
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert set(pool.map(render_curve, [cla_curve] * 4)) == {one}


@pytest.fixture
def seeded(demo_env, tmp_path):
    from tracker.config import load_config
    from tracker.demo_data import demo_frame
    from tracker.store import Store

    s = Store(demo_env["DATABASE_URL"])
    s.create()
    s.save_figures(demo_frame(load_config(None), WEEK), "demo")
    s.engine.dispose()
    return demo_env


def test_render_curve_command(seeded, tmp_path, capsys):
    from bot.cli import main

    out = tmp_path / "curve.png"
    assert main(["render", "--format", "curve", "--obsession", "cla", "--area", "headingley", "-o", str(out)]) == 0
    facts = png_facts(out.read_bytes())
    assert facts["width"] >= 1600
    assert facts["text"]["Description"].startswith("Turning the curve: Children looked after, Headingley")
    # Without --obsession the command says what to add.
    assert main(["render", "--format", "curve", "-o", str(out)]) == 2
    assert "--obsession" in capsys.readouterr().err
