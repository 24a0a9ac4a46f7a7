"""Render speed: all 26 trackers + 4 breakdowns for one week in PNG and HTML, a Chromium screenshot for
comparison, and the warm time of one tracker PNG.

Run by hand: .venv/bin/python bench/bench_render.py   (targets: all < 4 s; one PNG median < 60 ms)
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from renderers.email import render_html  # noqa: E402
from tracker.arithmetic import build_breakdown, build_tracker  # noqa: E402
from tracker.config import load_config  # noqa: E402
from tracker.demo_data import demo_frame  # noqa: E402
from tracker.figures import FigureTable  # noqa: E402

WEEK = date(2015, 7, 20)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def main() -> int:
    config = load_config(None)
    figures = FigureTable(demo_frame(config, date(2016, 3, 28)))
    t0 = time.perf_counter()
    models = [build_tracker(figures, config, WEEK, area) for area in [config.city, *config.clusters]]
    models += [build_breakdown(figures, config, o.key, WEEK) for o in config.obsessions]
    build_s = time.perf_counter() - t0
    print(f"models: {len(models)} ({len(models) - len(config.obsessions)} trackers + "
          f"{len(config.obsessions)} breakdowns) built in {build_s * 1000:.0f} ms")

    try:
        from renderers.png import render_png
    except ImportError:
        render_png = None
        print("renderers.png is not available: PNG figures skipped")

    out = Path(tempfile.mkdtemp(prefix="bench-render-"))
    try:
        html_s = png_s = 0.0
        pngs = {}
        for i, m in enumerate(models):
            t = time.perf_counter()
            html = render_html(m, f"m{i}.png", None)
            html_s += time.perf_counter() - t
            (out / f"m{i}.html").write_text(html, encoding="utf-8")
            if render_png:
                t = time.perf_counter()
                pngs[i] = render_png(m)
                png_s += time.perf_counter() - t
                (out / f"m{i}.png").write_bytes(pngs[i])
        total = html_s + png_s
        print(f"all {len(models)} in PNG and HTML: {total:.2f} s (PNG {png_s:.2f} s, HTML {html_s:.2f} s; "
              f"target < 4 s) {'OK' if total < 4 else 'SLOW'}")
        if pngs:
            sizes = sorted(len(b) for b in pngs.values())
            print(f"PNG sizes: {sizes[0] // 1024}-{sizes[-1] // 1024} KB")

        if render_png:
            one = models[0]
            for _ in range(3):
                render_png(one)
            times = []
            for _ in range(20):
                t = time.perf_counter()
                render_png(one)
                times.append(time.perf_counter() - t)
            med = statistics.median(times) * 1000
            print(f"one tracker PNG, warm: median {med:.1f} ms over 20 (min {min(times) * 1000:.1f}, "
                  f"max {max(times) * 1000:.1f}; target < 60 ms) {'OK' if med < 60 else 'SLOW'}")

        if Path(CHROMIUM).exists():
            # The way Superset and Grafana make report images: a headless browser screenshots the page.
            shot = out / "shot.png"
            cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                   "--disable-component-update", "--disable-sync", "--no-first-run",
                   f"--user-data-dir={out / 'profile'}", f"--screenshot={shot}", "--window-size=900,1400",
                   (out / "m0.html").as_uri()]
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, timeout=120)
            cold = time.perf_counter() - t
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, timeout=120)
            warm = time.perf_counter() - t
            print(f"Chromium screenshot of one tracker's HTML: {cold * 1000:.0f} ms first, {warm * 1000:.0f} ms "
                  f"second (a new browser process each time), {shot.stat().st_size // 1024} KB")
        else:
            print("Chromium is not installed: screenshot comparison skipped")
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
