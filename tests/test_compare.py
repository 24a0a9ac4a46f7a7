"""How the city compares: its published rate beside its neighbours' mean, its region and England, as
a chart (looked at by eye too), text and JSON, from the DfE excerpts in tests/fixtures/benchmarks."""
from __future__ import annotations

import json
import re
from datetime import date

import pytest

from data_sources.importing import import_files
from renderers.compare import compare_alt_text, draw_compare, render_compare, render_compare_json
from tests.test_benchmarks import CLA, CONFIG, NEIGHBOUR_CODES, NEIGHBOURS_2025, SN, _cla_rate, _weekly
from tests.test_events import _boxes
from tests.test_png import check_png, texts
from tracker.arithmetic import build_compare
from tracker.config import parse_config

WEEK = date(2025, 4, 7)


@pytest.fixture
def config():
    return parse_config(CONFIG, "bench.toml")


@pytest.fixture
def comparison(store, config):
    import_files(store, [SN], config, fmt="dfe-sn")
    import_files(store, [CLA], config, fmt="dfe-cla")
    _weekly(store, [WEEK])
    return build_compare(store.figure_table(), config, "cla", WEEK)


def test_the_lines_year_by_year(comparison):
    lines = {ln.kind: ln for ln in comparison.lines}
    assert [ln.kind for ln in comparison.lines] == ["city", "statistical_neighbours", "region", "national"]
    for year in ("2024", "2025"):
        at = date(int(year), 3, 31)
        city = {p.week: p.value for p in lines["city"].points}
        assert city[at] == pytest.approx(_cla_rate("383", year=year))
        sn = {p.week: p.value for p in lines["statistical_neighbours"].points}
        assert sn[at] == pytest.approx(sum(_cla_rate(c, year=year) for c in NEIGHBOUR_CODES) / 10)
        eng = {p.week: p.value for p in lines["national"].points}
        assert eng[at] == pytest.approx(_cla_rate(level="National", year=year))
    assert list(lines["statistical_neighbours"].members) == NEIGHBOURS_2025


def test_alt_text_png_and_json(comparison):
    alt = compare_alt_text(comparison)
    assert alt.startswith("How Leeds compares: Children looked after, per 10,000 children, published figures "
                          "from 31 March 2024 to 31 March 2025.")
    assert "Leeds: 2024 89, 2025 85." in alt    # 1,546 / 174,311 and 1,498 / 176,239 per 10,000, rounded
    assert "worse than England" in alt and "lower is better" in alt
    check_png(render_compare(comparison), alt)
    d = json.loads(render_compare_json(comparison))
    city = next(ln for ln in d["lines"] if ln["kind"] == "city")
    assert city["points"][-1] == {"as_of": "2025-03-31", "value": pytest.approx(1498 / 176239 * 10_000)}


def test_latest_values_labelled_at_the_line_ends_without_overlap(comparison):
    from renderers.compare import PLOT

    fig = draw_compare(comparison)
    drawn = texts(fig)
    for label in ("Leeds", "85", "Yorkshire and The Humber", "77", "England", "67", "Leeds worse"):
        assert label in drawn, label
    assert "Statistical neighbours (mean of 10 rates)" in " ".join(drawn)   # wrapped, never shrunk
    right = [b for b in _boxes(fig) if b[1] > PLOT[1]]   # the labels right of the plot
    assert len(right) >= 8
    for i, a in enumerate(right):
        for b in right[i + 1:]:
            assert a[3] <= b[1] or b[3] <= a[1] or a[4] <= b[2] or b[4] <= a[2], f"{a[0]!r} overlaps {b[0]!r}"


def test_better_or_worse_follows_the_direction(comparison):
    import dataclasses

    from renderers.compare import judge

    england = next(ln for ln in comparison.lines if ln.kind == "national")
    assert judge(comparison, england) == "worse"            # 85 against 67, fewer is better
    flipped = dataclasses.replace(comparison, obsession=dataclasses.replace(comparison.obsession, direction="increase"))
    assert judge(flipped, england) == "better"


def test_render_command_and_no_benchmarks(store, config, tmp_path, monkeypatch, capsys, comparison):
    from bot.cli import main

    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG)
    monkeypatch.setenv("OBSESSION_CONFIG", str(cfg))
    monkeypatch.setenv("DATABASE_URL", store.url)
    out = tmp_path / "compare.png"
    assert main(["render", "--format", "compare", "--obsession", "cla", "-o", str(out)]) == 0
    check_png(out.read_bytes(), compare_alt_text(comparison))
    assert main(["render", "--format", "compare", "--obsession", "not_known", "-o", str(out)]) == 2
    assert 'no published benchmarks for "not_known"' in capsys.readouterr().err


def test_chat_compare_answers_with_the_line_and_the_picture(store, config, comparison):
    from bot.chat.answer import COMPARE, answer, image_alt, render_image, to_text
    from bot.chat.grammar import ParseError, parse
    from renderers.formatting import benchmark_line

    assert parse("cla compare", config).compare and parse("cla benchmarks", config).obsession == "cla"
    with pytest.raises(ParseError, match="Say which obsession"):
        parse("compare", config)
    with pytest.raises(ParseError, match="leave out cluster="):
        parse("cla compare cluster=North", config)
    figures = store.figure_table()
    ans = answer("cla compare", config, figures)
    assert ans.kind == COMPARE
    text = to_text(ans)
    assert benchmark_line(ans.model.row("cla").benchmarks) in text
    assert ans.image_path() == f"/compare/{WEEK.isoformat()}/cla.png"
    assert ans.page_path() == f"/compare/{WEEK.isoformat()}/cla"
    assert image_alt(ans) == compare_alt_text(comparison)
    check_png(render_image(ans), compare_alt_text(comparison))
    missing = answer("not_known compare", config, figures)
    assert missing.kind == "error" and "no published benchmarks" in missing.message


def test_the_archive_serves_the_comparison(app, live_server, demo_config):
    import httpx

    from data_sources.benchmark_import import import_published
    from tests.conftest import DEMO_UNTIL
    from tracker.demo_data import published_files
    from tracker.store import Store

    web = app()
    store = Store(web.state.database_url)
    for fmt, path in published_files():
        import_published(store, [path], demo_config, fmt)
    store.engine.dispose()
    base = live_server(web)
    week = DEMO_UNTIL.isoformat()
    page = httpx.get(f"{base}/compare/{week}/cla", timeout=30)
    assert page.status_code == 200
    assert "How Leeds compares: Children looked after" in page.text and "Open Government Licence" in page.text
    src = re.search(r'<img src="([^"]+)"', page.text).group(1)
    assert src.startswith(f"/compare/{week}/cla.png")
    image = httpx.get(base + src.replace("&amp;", "&"), timeout=30)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert httpx.get(f"{base}/compare/{week}/absence_primary", timeout=30).status_code == 404


def test_a_neighbour_missing_in_the_latest_year(store, config, tmp_path):
    from renderers.compare import _name

    cut = tmp_path / "cla.csv"
    lines = CLA.read_text(encoding="utf-8").splitlines(keepends=True)
    cut.write_text("".join(ln for ln in lines if not (ln.startswith("2025,") and ",306,Croydon," in ln)), encoding="utf-8")
    import_files(store, [SN], config, fmt="dfe-sn")
    import_files(store, [cut], config, fmt="dfe-cla")
    _weekly(store, [WEEK])
    c = build_compare(store.figure_table(), config, "cla", WEEK)
    sn = next(ln for ln in c.lines if ln.kind == "statistical_neighbours")
    assert sn.counts == (10, 9)
    assert sn.points[-1].value == pytest.approx(sum(_cla_rate(x) for x in NEIGHBOUR_CODES if x != "306") / 9)
    assert _name(sn) == "Statistical neighbours (mean of 9 of 10 rates)"
    assert "Statistical neighbours (mean of 9 of 10 rates)" in compare_alt_text(c)


def test_in_print_nothing_under_8_pt_and_everything_inside(comparison):
    """As every image: at 16 cm wide nothing is smaller than 8 pt, and no text leaves the image."""
    import dataclasses

    from tests.test_png_titles import _inside, _too_small

    long_city = dataclasses.replace(comparison, city="Kingston upon Hull, City of")
    for c in (comparison, long_city):
        fig = draw_compare(c)
        fig.canvas.draw()
        assert not _inside(fig), _inside(fig)[:3]
        assert not _too_small(fig), _too_small(fig)[:3]
