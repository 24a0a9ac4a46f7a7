"""Bench: chat answers from `obsession serve` on loopback.

- 100 signed Slack slash commands, 20 at a time, each a cluster question ("neet cluster=Armley", ...
  across every cluster and obsession): acknowledgement time (target p99 < 50 ms) and the time until
  the answer reaches response_url, and until its image has been fetched from the archive as Slack
  would fetch it (target p95 < 1 s for a cluster answer with its image).
- 100 signed Teams outgoing-webhook messages, 20 at a time: answer time (target p99 < 1 s).

The server is a real `obsession serve` process on a demo store in a temporary folder; response_url
is a local recorder. The measurement starts once the server says (/healthz "warm_up") that it has
drawn the latest week's pictures, and prints how long that took; BENCH_COLD=1 measures at once.
Run: .venv/bin/python bench/bench_chat.py
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
N, CONCURRENCY = 100, 20
SIGNING = "bench-signing-secret"
TEAMS_KEY = b"bench teams outgoing webhook key"


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) in milliseconds."""
    xs = sorted(values)
    k = max(0, min(len(xs) - 1, int(round(p / 100 * len(xs) + 0.5)) - 1))
    return 1000 * xs[k]


def seed(folder: Path) -> str:
    sys.path.insert(0, str(ROOT))
    from tracker.config import load_config
    from tracker.demo_data import SOURCE, demo_frame
    from tracker.store import Store

    url = f"sqlite:///{folder / 'bench.db'}"
    store = Store(url)
    store.create()
    store.save_figures(demo_frame(load_config(None), date(2026, 11, 16)), SOURCE)
    store.engine.dispose()
    return url


def questions() -> list[str]:
    from tracker.config import load_config

    if os.environ.get("BENCH_QUESTION") is not None:      # e.g. "help": the server's own overhead
        return [os.environ["BENCH_QUESTION"]] * N

    c = load_config(None)
    qs = []
    for i in range(N):
        cluster = c.clusters[i % len(c.clusters)]
        obsession = c.obsessions[(i // len(c.clusters)) % len(c.obsessions)].key
        qs.append(f"{obsession} cluster={cluster}")
    return qs


class Recorder:
    """response_url: notes when each answer arrives, then fetches its image as Slack's proxy would."""

    def __init__(self):
        self.answered: dict[str, float] = {}
        self.imaged: dict[str, float] = {}
        self.missing_image: list[str] = []
        self.done = asyncio.Event()
        self.session = None

    async def handle(self, request):
        from aiohttp import web

        key = request.match_info["key"]
        body = await request.json()
        self.answered[key] = time.perf_counter()
        images = [b["image_url"] for b in body.get("blocks", []) if b.get("type") == "image"]
        if images:
            asyncio.ensure_future(self.fetch(key, images[0]))
        else:
            self.missing_image.append(key)
        return web.Response(text="ok")

    async def fetch(self, key: str, url: str):
        async with self.session.get(url) as r:
            data = await r.read()
            assert r.status == 200 and data[:4] == b"\x89PNG", (r.status, url)
        self.imaged[key] = time.perf_counter()


def slack_headers(body: str) -> dict:
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SIGNING.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
            "Content-Type": "application/x-www-form-urlencoded"}


async def run_slack(base: str, recorder_url: str, recorder: Recorder, qs: list[str], tag: str):
    import aiohttp

    sent: dict[str, float] = {}
    acks: list[float] = []
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int, session):
        key = f"{tag}{i}"
        body = urlencode({"team_id": "T0BENCH", "user_id": f"U{tag}{i}", "channel_id": "C0BENCH",
                          "command": "/obsession", "text": qs[i], "response_url": f"{recorder_url}/resp/{key}",
                          "trigger_id": key, "api_app_id": "A0BENCH"})
        async with sem:
            headers = slack_headers(body)
            t0 = time.perf_counter()
            sent[key] = t0
            async with session.post(f"{base}/slack/events", data=body.encode(), headers=headers) as r:
                await r.read()
                assert r.status == 200, r.status
            acks.append(time.perf_counter() - t0)

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(one(i, session) for i in range(len(qs))))
    deadline = time.monotonic() + 60
    while len([k for k in recorder.imaged if k.startswith(tag)]) < len(qs) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    answered = [recorder.answered[k] - sent[k] for k in sent if k in recorder.answered]
    imaged = [recorder.imaged[k] - sent[k] for k in sent if k in recorder.imaged]
    return acks, answered, imaged


async def run_teams(base: str, qs: list[str]):
    import aiohttp

    times: list[float] = []
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int, session):
        body = json.dumps({"type": "message", "text": f"<at>Obsession</at> {qs[i]}", "from": {"name": "bench"}}).encode()
        auth = "HMAC " + base64.b64encode(hmac.new(TEAMS_KEY, body, hashlib.sha256).digest()).decode()
        async with sem:
            t0 = time.perf_counter()
            async with session.post(f"{base}/teams/messages", data=body,
                                    headers={"Authorization": auth, "Content-Type": "application/json"}) as r:
                reply = await r.json()
                assert r.status == 200 and reply["attachments"], r.status
            times.append(time.perf_counter() - t0)

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(one(i, session) for i in range(len(qs))))
    return times


async def bench(base: str, port: int) -> None:
    import aiohttp
    from aiohttp import web

    recorder = Recorder()
    recorder.session = aiohttp.ClientSession()
    rec_app = web.Application()
    rec_app.router.add_post("/resp/{key}", recorder.handle)
    runner = web.AppRunner(rec_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    recorder_url = f"http://127.0.0.1:{port}"
    qs = questions()
    try:
        first = ("first round (images drawn on demand: BENCH_COLD)" if os.environ.get("BENCH_COLD") is not None
                 else "first round (after the warm-up)")
        for tag, label in (("a", first), ("b", "second round (every image asked for before)")):
            acks, answered, imaged = await run_slack(base, recorder_url, recorder, qs, tag)
            print(f"Slack, {label}: {len(acks)} commands, {CONCURRENCY} at a time")
            print(f"  acknowledgement      p50 {pct(acks, 50):6.1f} ms   p99 {pct(acks, 99):6.1f} ms   (target p99 < 50 ms)")
            print(f"  answer at response_url p50 {pct(answered, 50):6.1f} ms   p95 {pct(answered, 95):6.1f} ms")
            if imaged:
                print(f"  answer + image fetched p50 {pct(imaged, 50):6.1f} ms   p95 {pct(imaged, 95):6.1f} ms"
                      f"   (target p95 < 1000 ms; {len(imaged)} of {len(acks)} with an image)")
        teams = await run_teams(base, qs)
        print(f"Teams outgoing webhook: {len(teams)} messages, {CONCURRENCY} at a time")
        print(f"  answer               p50 {pct(teams, 50):6.1f} ms   p99 {pct(teams, 99):6.1f} ms   (target p99 < 1000 ms)")
    finally:
        await recorder.session.close()
        await runner.cleanup()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = seed(Path(tmp))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "DATABASE_URL": url, "SLACK_SIGNING_SECRET": SIGNING,
               "TEAMS_OUTGOING_WEBHOOK_SECRET": base64.b64encode(TEAMS_KEY).decode(),
               "PUBLIC_BASE_URL": base, "ARCHIVE_TOKEN": "bench-archive-token-01", "OUTBOX_DIR": str(Path(tmp) / "out")}
        for k in ("SLACK_BOT_TOKEN", "SLACK_ALLOWED_TEAM_IDS", "SLACK_API_URL", "URL_SIGNING_KEY"):
            env.pop(k, None)
        # The recorder stands in for Slack: answers go only to Slack's hosts, or SLACK_API_URL's.
        recorder_port = free_port()
        env["SLACK_API_URL"] = f"http://127.0.0.1:{recorder_port}/api/"
        obsession = str(Path(sys.executable).parent / "obsession")
        cmd = [obsession, "serve", "--port", str(port)] if Path(obsession).exists() else \
            [sys.executable, "-m", "bot", "serve", "--port", str(port)]
        log = open(Path(tmp) / "serve.log", "wb")       # a file, not a pipe nobody reads (which would fill and block)
        server = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            import urllib.request

            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1).read()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("obsession serve did not start:\n" + (Path(tmp) / "serve.log").read_text()) from None
                    time.sleep(0.2)
            print(f"obsession serve on {base} (CPUs: {os.cpu_count()})")
            up = time.monotonic()
            if os.environ.get("BENCH_COLD") is None:
                # The server draws the latest week's pictures in the background after start; measure
                # once that is done, as people asking after a weekly import would find it.
                while True:
                    warm = json.loads(urllib.request.urlopen(base + "/healthz", timeout=5).read()).get("warm_up") or {}
                    if warm.get("state") in (None, "off", "done") or time.monotonic() - up > 300:
                        break
                    time.sleep(0.2)
                print(f"warm-up: {warm.get('state', 'not reported')}, {warm.get('drawn', 0)} of "
                      f"{warm.get('images', 0)} pictures of the week of {warm.get('week')} in "
                      f"{warm.get('seconds')} s (server's own figure; {time.monotonic() - up:.1f} s waited here)")
            asyncio.run(bench(base, recorder_port))
        finally:
            server.terminate()
            server.wait(timeout=10)
            log.close()
            if os.environ.get("BENCH_SERVER_LOG"):      # keep the server's log to look at
                Path(os.environ["BENCH_SERVER_LOG"]).write_bytes((Path(tmp) / "serve.log").read_bytes())


if __name__ == "__main__":
    main()
