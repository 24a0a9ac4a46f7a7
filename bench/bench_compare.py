"""Compare chart speed: the warm time of one comparison PNG (Leeds beside its neighbours, region and
England) and of the turn-the-curve chart with the demo's three events.

Run by hand: .venv/bin/python bench/bench_compare.py   (target: the compare chart, warm median < 100 ms)
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data_sources.benchmark_import import import_published  # noqa: E402
from renderers.compare import render_compare  # noqa: E402
from renderers.curve import render_curve  # noqa: E402
from tracker.arithmetic import build_compare, build_curve, build_tracker  # noqa: E402
from tracker.config import load_config  # noqa: E402
from tracker.demo_data import demo_frame, published_files  # noqa: E402
from tracker.store import Store  # noqa: E402

WEEK = date(2025, 11, 3)
RUNS = 30


def timed(fn, *args) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def main() -> int:
    config = load_config(None)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        store.create()
        store.save_figures(demo_frame(config, WEEK), "demo")
        for fmt, path in published_files():
            import_published(store, [path], config, fmt)
        figures = store.figure_table()
        store.engine.dispose()

    t = time.perf_counter()
    comparison = build_compare(figures, config, "cla", WEEK)
    built = time.perf_counter() - t
    cold, first = timed(render_compare, comparison)
    warm = [timed(render_compare, comparison)[0] for _ in range(RUNS)]
    med = statistics.median(warm)
    print(f"compare chart (cla, Leeds, {len(comparison.lines)} lines): model {built * 1000:.1f} ms; PNG first "
          f"{cold * 1000:.0f} ms, warm median {med * 1000:.1f} ms (min {min(warm) * 1000:.1f}, max "
          f"{max(warm) * 1000:.1f}, {RUNS} runs), {len(first) / 1024:.0f} KB "
          f"-> {'meets' if med < 0.100 else 'MISSES'} the 100 ms target")

    rows = [timed(build_tracker, figures, config, WEEK)[0] for _ in range(10)]
    print(f"city tracker with benchmarks (model only): median {statistics.median(rows) * 1000:.1f} ms")

    curve = build_curve(figures, config, "cla", None, WEEK)
    render_curve(curve)
    times = [timed(render_curve, curve)[0] for _ in range(10)]
    print(f"turn-the-curve chart with {len(curve.events)} events: warm median {statistics.median(times) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
