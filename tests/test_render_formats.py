"""Every --format that `obsession render` offers (read from the views table) writes its file."""
from __future__ import annotations

from datetime import date

import pytest

from bot.cli import build_parser, main
from bot.commands.render import format_choices

WEEK = "2025-06-02"      # after the 31 March 2025 publication, so the comparison has figures
MAGIC = {".png": b"\x89PNG", ".pdf": b"%PDF", ".docx": b"PK", ".svg": b"<?xml", ".eml": b""}


@pytest.fixture(scope="module")
def published_store(tmp_path_factory):
    """A store with the demo figures to a fixed week and the DfE's published benchmarks the demo ships."""
    from data_sources.benchmark_import import import_published
    from tracker.config import load_config
    from tracker.demo_data import demo_frame, published_files
    from tracker.store import Store

    path = tmp_path_factory.mktemp("formats") / "obsessions.db"
    config = load_config(None)
    store = Store(f"sqlite:///{path}")
    store.create()
    store.save_figures(demo_frame(config, date(2025, 6, 30)), "demo")
    for fmt, file in published_files():
        import_published(store, [file], config, fmt)
    store.engine.dispose()
    return path


def _argv(fmt: str, out) -> list[str]:
    argv = ["render", "--week", WEEK, "--format", fmt, "-o", str(out)]
    if fmt.startswith(("curve", "compare")):
        argv += ["--obsession", "cla"]
    return argv


def test_the_parser_offers_exactly_the_table_s_formats():
    parser = build_parser()
    render = next(a for a in parser._subparsers._group_actions[0].choices["render"]._actions
                  if a.dest == "format")
    assert tuple(render.choices) == format_choices()
    # the views table's chart formats all appear, named after their chart
    from renderers.views import VIEWS
    for chart in ("curve", "compare"):
        assert {f for f in format_choices() if f.startswith(chart)} == {
            chart if f == "png" else f"{chart}-{f}" for f in VIEWS[chart].formats}


@pytest.mark.parametrize("fmt", format_choices())
def test_every_offered_format_writes_its_file(fmt, published_store, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{published_store}")
    monkeypatch.delenv("OBSESSION_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    suffix = ".pdf" if fmt == "pack" else ""
    out = tmp_path / f"out{suffix or '.' + fmt.split('-')[-1]}"
    assert main(_argv(fmt, out)) == 0, capsys.readouterr().err
    written = [p for p in tmp_path.iterdir() if p.name.startswith("out")]
    assert out in written and out.stat().st_size > 0
    head = out.read_bytes()[:8]
    assert head.startswith(MAGIC.get(out.suffix, b"")), (fmt, head)
