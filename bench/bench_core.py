"""Bench: the city and 25 cluster trackers plus the four breakdowns for one week, from a store
holding the demo's years of figures (2009 to now), and `obsession --help`.

Targets (issue 2): the trackers and breakdowns in under 0.5 s after start-up; `--help` under 0.5 s.
Run: .venv/bin/python bench/bench_core.py
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path


def main() -> None:
    from tracker.arithmetic import build_breakdown, build_tracker
    from tracker.config import load_config
    from tracker.demo_data import demo_frame
    from tracker.store import Store

    config = load_config(None)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        store.create()
        frame = demo_frame(config, date(2026, 11, 16))
        store.save_figures(frame, "bench")
        years = (frame.week_commencing.max() - frame.week_commencing.min()).days / 365.25
        print(f"store: {len(frame):,} figures, {years:.1f} years, {frame.area.nunique()} areas")

        t0 = time.perf_counter()
        figures = store.figure_table()
        load = time.perf_counter() - t0

        runs = []
        for _ in range(5):
            fresh = store.figure_table()          # cold caches each run: no memoised masks
            t0 = time.perf_counter()
            week = date(2026, 11, 16)
            for area in (config.city, *config.clusters):
                build_tracker(fresh, config, week, area)
            for o in config.obsessions:
                build_breakdown(fresh, config, o.key, week)
            runs.append(time.perf_counter() - t0)
        del figures
    print(f"start-up (read the store into the figure table): {load * 1000:.0f} ms")
    print(f"26 trackers + 4 breakdowns: median {statistics.median(runs) * 1000:.0f} ms, "
          f"max {max(runs) * 1000:.0f} ms over {len(runs)} runs (target < 500 ms)")

    exe = Path(sys.executable).with_name("obsession")
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        subprocess.run([str(exe), "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    print(f"obsession --help: median {statistics.median(times) * 1000:.0f} ms (target < 500 ms)")


if __name__ == "__main__":
    main()
