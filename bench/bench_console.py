"""Speed of the console: the week page for the Leeds demo (26 areas) warm, and the preview of a 54,000-row upload.

Targets: the week page under 300 ms once warm (the figures read and the week's models built once per
figures version), and the check + preview of a 54,000-row long-format upload (10 years x 26 areas x
4 obsessions, 500 of them revised) under 3 s, both measured over HTTP against the web process
(`create_app`, as `obsession serve` runs it) on a SQLite store seeded with the demo.
Run by hand: .venv/bin/python bench/bench_console.py
"""
from __future__ import annotations

import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WEEK_TARGET_S = 0.300
PREVIEW_TARGET_S = 3.0
PASSWORD = "bench password 1234"


def _serve(app) -> tuple[str, object]:
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server


def _upload_csv(path: Path, frame) -> int:
    """54,000 rows of the demo's last ten years, every 100th value changed (revisions)."""
    cols = ["week_commencing", "obsession", "area", "value", "numerator", "denominator"]
    rows = frame[cols].tail(54_000).copy()
    counts = rows["obsession"].isin(["cla", "neet"])
    bump = rows.index[counts][::100]
    rows.loc[bump, "value"] = rows.loc[bump, "value"] + 1
    rows["week_commencing"] = rows["week_commencing"].astype(str).str[:10]
    rows.to_csv(path, index=False)
    return len(rows)


def main() -> int:
    import httpx

    from bot.console.auth import hash_password
    from bot.console.store import ConsoleStore
    from bot.web import create_app
    from tracker.config import load_config
    from tracker.demo_data import SOURCE, demo_frame
    from tracker.settings import Settings
    from tracker.store import Store

    config = load_config(None)
    tmp = Path(tempfile.mkdtemp(prefix="bench-console-"))
    url = f"sqlite:///{tmp / 'store.db'}"
    store = Store(url)
    store.create()
    frame = demo_frame(config, date(2026, 11, 16))
    store.save_figures(frame, SOURCE)
    ConsoleStore(store.engine).add_user("bench@leeds.example", "analyst", hash_password(PASSWORD), "bench")
    settings = Settings.from_env({"DATABASE_URL": url, "URL_SIGNING_KEY": "bench", "OUTBOX_DIR": str(tmp / "outbox")},
                                 dotenv=False)
    base, server = _serve(create_app(settings, config, store, render_workers=0, warm=False))
    c = httpx.Client(base_url=base, timeout=120)
    page = c.get("/console/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    c.post("/console/sign-in", data={"csrf": csrf, "email": "bench@leeds.example", "password": PASSWORD})

    started = time.perf_counter()
    first = c.get("/console/")
    cold = time.perf_counter() - started
    assert first.status_code == 200 and "Week commencing" in first.text
    times = []
    for _ in range(20):
        t = time.perf_counter()
        r = c.get("/console/")
        times.append(time.perf_counter() - t)
        assert r.status_code == 200
    warm = statistics.median(times)
    print(f"week page, Leeds demo ({len(config.clusters) + 1} areas): cold {cold * 1000:.0f} ms, warm median "
          f"{warm * 1000:.0f} ms, max {max(times) * 1000:.0f} ms (target {WEEK_TARGET_S * 1000:.0f} ms): "
          f"{'OK' if warm < WEEK_TARGET_S else 'SLOW'}")

    csv = tmp / "upload.csv"
    n = _upload_csv(csv, frame)
    body = csv.read_bytes()
    results = []
    for _ in range(3):
        page = c.get("/console/load")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        t = time.perf_counter()
        r = c.post("/console/load", data={"csrf": csrf, "format": "long"},
                   files=[("files", ("upload.csv", body, "text/csv"))])
        results.append(time.perf_counter() - t)
        assert r.status_code == 200 and "The files are good" in r.text, r.text[:3000]
    said = re.search(r"<strong>(\d+) new</strong>, <strong>(\d+) revised</strong>", r.text)
    best = min(results)
    print(f"preview of a {n:,}-row upload ({len(body) / 1e6:.1f} MB; {said.group(1)} new, {said.group(2)} revised): "
          f"best {best:.2f} s, runs {', '.join(f'{x:.2f}' for x in results)} s (target {PREVIEW_TARGET_S:.0f} s): "
          f"{'OK' if best < PREVIEW_TARGET_S else 'SLOW'}")
    server.should_exit = True
    return 0 if warm < WEEK_TARGET_S and best < PREVIEW_TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
