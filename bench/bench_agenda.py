"""Agenda outputs: warm times of one tracker PDF, SVG and DOCX, and of the Leeds agenda pack.

Run by hand: .venv/bin/python bench/bench_agenda.py
Targets: the tracker PDF and the DOCX each warm in under 150 ms (median); the Leeds pack (city tracker,
4 breakdowns, 4 curves) in under 3 s, as PDF and as Word.
The DOCX is timed twice: drawing its picture too, and given the PNG the archive has already drawn.
Each line gives the CPU time as well: on a shared machine the wall time includes waiting for a core.
"""
from __future__ import annotations

import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from renderers.docx import render_docx  # noqa: E402
from renderers.pack import build_pack, render_pack_docx, render_pack_pdf  # noqa: E402
from renderers.png import render_png  # noqa: E402
from renderers.vector import render_pdf, render_svg  # noqa: E402
from tracker.arithmetic import build_tracker  # noqa: E402
from tracker.config import load_config  # noqa: E402
from tracker.demo_data import demo_frame  # noqa: E402
from tracker.figures import FigureTable  # noqa: E402

WEEK = date(2015, 7, 20)


def warm(label: str, fn, *args, runs: int, target: float | None = None) -> None:
    t = time.perf_counter()
    out = fn(*args)
    cold = time.perf_counter() - t
    times, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn(*args)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    med = statistics.median(times)
    verdict = "" if target is None else f" -> {'meets' if med < target else 'MISSES'} the {target * 1000:.0f} ms target"
    # CPU time too: on a shared machine the wall time also counts the waits for a core.
    print(f"{label}: first {cold * 1000:.0f} ms, warm median {med * 1000:.0f} ms (min {min(times) * 1000:.0f}, "
          f"max {max(times) * 1000:.0f}, {runs} runs; CPU median {statistics.median(cpu) * 1000:.0f} ms), "
          f"{len(out) / 1024:.0f} KB{verdict}")


def main() -> int:
    config = load_config(None)
    figures = FigureTable(demo_frame(config, date(2016, 3, 28)))
    city = build_tracker(figures, config, WEEK)
    warm("tracker PDF", render_pdf, city, runs=20, target=0.150)
    warm("tracker SVG", render_svg, city, runs=20)
    warm("tracker DOCX (drawing its PNG)", render_docx, city, runs=20, target=0.150)
    png = render_png(city)
    warm("tracker DOCX (PNG given)", render_docx, city, png, runs=20, target=0.150)

    t = time.perf_counter()
    pack = build_pack(figures, config, WEEK)
    print(f"Leeds pack models (1 tracker, {len(pack.breakdowns)} breakdowns, {len(pack.curves)} curves): "
          f"{(time.perf_counter() - t) * 1000:.0f} ms")
    for label, fn in (("Leeds pack PDF", render_pack_pdf), ("Leeds pack DOCX", render_pack_docx)):
        fn(pack)
        times, cpu = [], []
        for _ in range(3):
            t, c = time.perf_counter(), time.process_time()
            out = fn(pack)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        med = statistics.median(times)
        print(f"{label}: warm median {med:.2f} s (3 runs; CPU median {statistics.median(cpu):.2f} s), "
              f"{len(out) / 1024:.0f} KB -> {'meets' if med < 3 else 'MISSES'} the 3 s target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
