"""Speed of counting from records: SSDA903 episodes into weekly counts, and an NCCIS cohort file.

Targets: 60,000 episodes for 12,000 children over ten years with a 2,000-row postcode lookup,
counted for every Monday (about 520) for the city and its 25 clusters in under 3 s; a 20,000-row
cohort file in under 1 s. Each is timed end to end (reading, checking every row, matching
postcodes, counting), and the counting step on its own. The data are random, no real person.
Run by hand: .venv/bin/python bench/bench_records.py
"""
from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

EPISODES, CHILDREN, LOOKUP_ROWS, COHORT = 60_000, 12_000, 2_000, 20_000
TARGET_EPISODES_S, TARGET_COHORT_S = 3.0, 1.0
TODAY = date(2026, 1, 5)


def _lookup(path: Path, clusters, rng) -> list[str]:
    """2,000 sectors in invented areas QA-QD, each to a cluster; returns the sectors."""
    sectors = [f"Q{a}{d} {s}" for a in "ABCD" for d in range(1, 51) for s in range(10)][:LOOKUP_ROWS]
    import csv

    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["postcode", "cluster"])
        w.writerows([s, clusters[i % len(clusters)]] for i, s in enumerate(sectors))
    return sectors


def _postcode(rng, sectors) -> str:
    r = rng.random()
    if r < 0.03:
        return ""
    if r < 0.05:
        return f"ZZ{rng.randrange(1, 9)} {rng.randrange(10)}AB"    # not in the lookup
    return f"{rng.choice(sectors)}{rng.choice('ABDEFG')}{rng.choice('HJLNPQ')}"


def _episodes(path: Path, sectors, rng) -> None:
    start = date(2015, 1, 1)
    span = (TODAY - start).days
    per_child = [EPISODES // CHILDREN] * CHILDREN
    lines = ["CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"]
    statuses = ["C2"] * 6 + ["C1", "E1", "J2", "L1", "V3", "V4"]
    for c in range(CHILDREN):
        day = start + timedelta(days=rng.randrange(span - 2100))   # five episodes of under 400 days end by today
        home = _postcode(rng, sectors)
        for k in range(per_child[c]):
            length = rng.randrange(1, 400)
            end = day + timedelta(days=length)
            last = k == per_child[c] - 1
            open_ = last and rng.random() < 0.3
            dec = "" if open_ else f"{end:%d/%m/%Y}"
            rec = "" if open_ else "E11"
            if rng.random() < 0.2:
                home = _postcode(rng, sectors)
            lines.append(f"C{c:07d},{day:%d/%m/%Y},P,{rng.choice(statuses)},N1,U1,PR1,{dec},{rec},,{home},,")
            day = end
    path.write_text("\n".join(lines) + "\n")


def _cohort(path: Path, sectors, rng) -> None:
    codes = [110, 120, 130, 210, 220, 230, 320, 540, 610, 619, 630, 680, 710, 810, 820, 830]
    lines = ["young_person_id,academic_age,activity_code,postcode,snapshot_date"]
    for i in range(COHORT):
        lines.append(f"YP{i:07d},{rng.choice((15, 16, 17, 18))},{rng.choice(codes)},{_postcode(rng, sectors)},2025-11-30")
    path.write_text("\n".join(lines) + "\n")


def main() -> int:
    import numpy as np

    from data_sources.importing import load_files
    from data_sources.lookups import Lookups
    from data_sources.ssda903 import count_children
    from tracker.config import load_config

    config = load_config(None)
    rng = random.Random(11)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sectors = _lookup(tmp / "postcodes.csv", config.clusters, rng)
        _episodes(tmp / "episodes.csv", sectors, rng)
        _cohort(tmp / "cohort.csv", sectors, rng)
        lookups = Lookups(postcodes=tmp / "postcodes.csv")

        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            loaded = load_files([tmp / "episodes.csv"], config, fmt="ssda903", today=TODAY,
                                start=date(2016, 1, 4), as_of=date(2025, 12, 29),
                                lookups=Lookups(postcodes=tmp / "postcodes.csv"))
            best = min(best, time.perf_counter() - t)
        weeks = loaded.frame["week_commencing"].nunique()
        areas = loaded.frame["area"].nunique()
        n_eps = sum(1 for _ in (tmp / "episodes.csv").open()) - 1
        print(f"ssda903: {n_eps} episodes, {CHILDREN} children, {LOOKUP_ROWS}-row lookup -> {weeks} Mondays x "
              f"{areas} areas ({len(loaded.frame)} figures): {best:.2f} s end to end (best of 3; target "
              f"{TARGET_EPISODES_S:.0f} s)")
        ok &= best < TARGET_EPISODES_S

        # the counting step alone, on arrays shaped like the file's
        n = n_eps
        rs = np.random.default_rng(11)
        child = np.sort(rs.integers(0, CHILDREN, n))
        start = rs.integers(16436, 20458, n)
        end = np.where(rs.random(n) < 0.1, np.iinfo(np.int64).max // 4, start + rs.integers(1, 400, n))
        area = rs.integers(-1, 25, n)
        mondays = np.arange(np.datetime64("2016-01-04"), np.datetime64("2026-01-05"), 7)
        alone = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            count_children(child, start, end, area, mondays, 25)
            alone = min(alone, time.perf_counter() - t)
        print(f"  the counting step alone, {n} random episodes (10 % open) over {len(mondays)} Mondays: {alone:.2f} s")

        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            loaded = load_files([tmp / "cohort.csv"], config, fmt="nccis", today=TODAY, lookups=lookups)
            best = min(best, time.perf_counter() - t)
        print(f"nccis: {COHORT} young people -> {len(loaded.frame)} figures: {best:.2f} s end to end (best of 3; "
              f"target {TARGET_COHORT_S:.0f} s)")
        ok &= best < TARGET_COHORT_S
    print("all within target" if ok else "SLOWER THAN TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
