"""Speed of `obsession import`: a 10-year long-format CSV (26 areas x 4 obsessions) and the full DfE weekly file.

Targets: each under 2 s, into a fresh SQLite store, measured end to end through the command
(reading, checking every row, saving in one transaction). Run by hand: .venv/bin/python bench/bench_import.py
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DFE_FILE = Path("/work/shared/data/dfe-attendance/EES_weekly_data_2025_weeks37-45.csv")
TARGET_S = 2.0


def _long_csv(path: Path) -> int:
    from tracker.config import load_config
    from tracker.demo_data import demo_frame

    until = date(2025, 3, 31)
    frame = demo_frame(load_config(None), until)
    frame = frame[frame["week_commencing"] > until - timedelta(days=round(365.25 * 10))]
    cols = ["week_commencing", "obsession", "area", "value", "numerator", "denominator"]
    # Every week, area and obsession (the demo leaves absence out in school holidays): the full
    # grid of about 54,000 rows, holiday weeks carrying the week before's figures.
    full = frame[cols].set_index(["obsession", "area", "week_commencing"]).sort_index()
    weeks = sorted(frame["week_commencing"].unique())
    keys = full.index.droplevel(2).unique()
    import pandas as pd

    grid = pd.MultiIndex.from_tuples([(o, a, w) for o, a in keys for w in weeks], names=full.index.names)
    full = full.reindex(grid).groupby(level=[0, 1]).ffill().bfill().reset_index()
    full[cols].to_csv(path, index=False)
    return len(full)


def _timed_import(args: list[str], db: Path) -> float:
    from bot.cli import main

    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.pop("OBSESSION_CONFIG", None)
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = main(["import", *args])
    elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"import failed ({code}): {out.getvalue()}")
    return elapsed


def _cold_import(args: list[str], db: Path) -> float:
    """Wall time of `python -m bot import ...` in a new process (interpreter and library start-up included)."""
    import subprocess

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}"}
    env.pop("OBSESSION_CONFIG", None)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bot", "import", *args], env=env, capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1])
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"import failed ({done.returncode}): {done.stderr}")
    return elapsed


def main() -> int:
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv_path = tmp / "ten_years.csv"
        rows = _long_csv(csv_path)
        t = _timed_import([str(csv_path)], tmp / "long.db")
        size = csv_path.stat().st_size / 1024 / 1024
        print(f"long format: {rows:,} rows ({size:.1f} MB) into a fresh SQLite store: {t:.2f} s (target < {TARGET_S} s)")
        ok &= t < TARGET_S
        t2 = _timed_import([str(csv_path)], tmp / "long.db")
        print(f"long format, the same file again (all unchanged): {t2:.2f} s")
        t3 = _cold_import([str(csv_path)], tmp / "cold.db")
        print(f"long format as a new process (`obsession import`, start-up included): {t3:.2f} s")
        if DFE_FILE.exists():
            t = _timed_import([str(DFE_FILE), "--format", "dfe-attendance", "--la", "Leeds"], tmp / "dfe.db")
            size = DFE_FILE.stat().st_size / 1024 / 1024
            print(f"DfE weekly attendance file ({size:.1f} MB), Leeds: {t:.2f} s (target < {TARGET_S} s)")
            ok &= t < TARGET_S
            t3 = _cold_import([str(DFE_FILE), "--format", "dfe-attendance", "--la", "Leeds"], tmp / "dfe-cold.db")
            print(f"DfE file as a new process (start-up included): {t3:.2f} s")
        else:
            print(f"DfE file not found at {DFE_FILE}; skipped")
    print("all within target" if ok else "SLOWER THAN TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
