"""The demo's real published benchmarks (tracker/published/, OGL v3.0) and its illustrative events."""
from __future__ import annotations

import csv
from datetime import date

import pytest

from data_sources.benchmark_import import import_published
from renderers.formatting import alt_text, benchmark_line
from tracker.arithmetic import build_curve, build_tracker
from tracker.demo_data import published_files


def test_published_files_are_in_the_package_with_their_licence():
    files = published_files()
    assert [fmt for fmt, _ in files] == ["dfe-sn", "dfe-cla", "ons-population", "dfe-neet"]
    for _, path in files:
        assert path.is_file()
    readme = files[0][1].parent.joinpath("README.md").read_text(encoding="utf-8")
    assert "Open Government Licence v3.0" in readme and "DfE" in readme


def test_the_demo_shows_the_dfe_figures_for_leeds(store, demo_config, demo_frame):
    for fmt, path in published_files():
        import_published(store, [path], demo_config, fmt)
    store.save_figures(demo_frame, "demo")
    t = build_tracker(store.figure_table(), demo_config)
    cla = t.row("cla")
    # The 2025 figures, worked from the copied file's cells
    with open(published_files()[1][1], encoding="utf-8") as f:
        leeds = next(r for r in csv.DictReader(f) if r["la_name"] == "Leeds" and r["time_period"] == "2025")
    assert cla.benchmarks[0].value == pytest.approx(10_000 * int(leeds["children_count"]) / int(leeds["population_estimate"]))
    line = benchmark_line(cla.benchmarks)
    assert line.startswith("Published by the DfE, 31 March 2025, per 10,000 children: Leeds 85 · statistical "
                           "neighbours (mean of 10 rates) ")
    assert line.endswith("Yorkshire and The Humber 77 · England 67")
    assert line in alt_text(t)
    assert t.illustrative   # the synthetic weekly figures stay labelled illustrative
    neet = benchmark_line(t.row("neet").benchmarks)
    assert neet.startswith("Published by the DfE, 28 February 2025, % of 16-17-year-olds NEET (Dec-Feb average): Leeds 4.9 %")


def test_the_demo_curve_has_its_illustrative_events(demo_figures, demo_config):
    curve = build_curve(demo_figures, demo_config, "cla", None, date(2015, 7, 20))
    assert [e.date for e in curve.events] == [date(2012, 1, 2), date(2013, 4, 1), date(2014, 4, 7)]
    assert build_curve(demo_figures, demo_config, "neet", None, date(2015, 7, 20)).events == ()
