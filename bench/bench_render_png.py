"""PNG render speed: the warm time of one tracker image, and every tracker and breakdown of one week.

Run by hand: .venv/bin/python bench/bench_render_png.py   (target: one tracker PNG, median < 60 ms)
"""
from __future__ import annotations

import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from renderers.curve import render_curve  # noqa: E402
from renderers.png import render_png  # noqa: E402
from tracker.arithmetic import build_breakdown, build_curve, build_tracker  # noqa: E402
from tracker.config import load_config  # noqa: E402
from tracker.demo_data import demo_frame  # noqa: E402
from tracker.figures import FigureTable  # noqa: E402

WEEK = date(2015, 7, 20)
RUNS = 30


def timed(fn, *args) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def main() -> int:
    config = load_config(None)
    figures = FigureTable(demo_frame(config, date(2016, 3, 28)))
    city = build_tracker(figures, config, WEEK)

    cold, first = timed(render_png, city)
    warm = [timed(render_png, city)[0] for _ in range(RUNS)]
    med = statistics.median(warm)
    print(f"one tracker PNG (Leeds, {WEEK}): first {cold * 1000:.0f} ms, warm median {med * 1000:.1f} ms "
          f"(min {min(warm) * 1000:.1f}, max {max(warm) * 1000:.1f}, {RUNS} runs), {len(first) / 1024:.0f} KB "
          f"-> {'meets' if med < 0.060 else 'MISSES'} the 60 ms target")

    trackers = [build_tracker(figures, config, WEEK, area) for area in config.areas]
    breakdowns = [build_breakdown(figures, config, o.key, WEEK) for o in config.obsessions]
    for label, models in (("26 trackers + 4 breakdowns", trackers + breakdowns),):
        t = time.perf_counter()
        sizes = [len(render_png(m)) for m in models]
        total = time.perf_counter() - t
        print(f"{label} ({len(models)} PNGs): {total:.2f} s, {total / len(models) * 1000:.0f} ms each, "
              f"largest {max(sizes) / 1024:.0f} KB")

    curve = build_curve(figures, config, "cla", None, WEEK)
    render_curve(curve)
    times = [timed(render_curve, curve)[0] for _ in range(10)]
    print(f"one turn-the-curve chart: warm median {statistics.median(times) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
