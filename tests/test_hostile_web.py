"""Hostile input against a real `obsession serve` (a subprocess on loopback): bodies of any size, slow clients,
forged log lines, and SIGTERM while answers are on their way. Each probe is bounded in time and count."""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import WEB_SECRETS
from tests.hostile_support import Served, status_kb

MB = 1024 * 1024
PEAK_LIMIT_KB = 300 * 1024          # the issue: under these bodies the process stays under 300 MB


@pytest.fixture(scope="module")
def server(seeded_db, tmp_path_factory):
    s = Served(seeded_db, tmp_path_factory.mktemp("hostile-serve"),
               {"REQUEST_READ_TIMEOUT": "2", "MAX_CONNECTIONS": "40"}).start()
    yield s
    s.stop()


def _send_big(port: int, head: bytes, total: int, chunked: bool, cap: float = 60) -> bytes:
    """Send `head` then `total` bytes of zeros (chunked or not) until sent or the server closes; its answer's bytes."""
    block = b"\0" * MB
    sock = socket.create_connection(("127.0.0.1", port), timeout=cap)
    deadline = time.monotonic() + cap
    try:
        sock.sendall(head)
        sent = 0
        try:
            while sent < total and time.monotonic() < deadline:
                n = min(MB, total - sent)
                sock.sendall(b"%x\r\n" % n + block[:n] + b"\r\n" if chunked else block[:n])
                sent += n
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass                                  # the server stopped reading: what it should do
        try:
            return sock.recv(4096)
        except (ConnectionResetError, socket.timeout):
            return b""
    finally:
        sock.close()


def test_a_chunked_200_mb_body_to_teams_is_cut_off_at_64_kb(server):
    head = (b"POST /teams/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/json\r\n\r\n")
    answer = _send_big(server.port, head, 200 * MB, chunked=True)
    assert answer.startswith(b"HTTP/1.1 413") or answer == b""
    assert status_kb(server.pid, "VmHWM") < PEAK_LIMIT_KB, server.log()[-2000:]
    assert httpx.get(server.base + "/healthz", timeout=10).status_code == 200


def test_eight_concurrent_100_mb_slack_bodies_keep_the_process_under_300_mb(server):
    head = (b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    answers = [None] * 8
    start = time.monotonic()

    def one(i):
        answers[i] = _send_big(server.port, head, 100 * MB, chunked=True)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    peak = status_kb(server.pid, "VmHWM")
    print(f"peak VmHWM of the web process under 8 x 100 MB: {peak / 1024:.0f} MB in {time.monotonic() - start:.2f} s")
    assert all(a is not None and (a.startswith(b"HTTP/1.1 413") or a == b"") for a in answers)
    assert peak < PEAK_LIMIT_KB


def test_a_declared_oversized_body_is_refused_unread(server):
    # Content-Length over the limit: 413 before a byte of the body is sent.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 413")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /unsubscribe?list=a&address=b&sig=c HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 413")     # unsubscribe: 4 KB


def test_a_slow_client_is_cut_off(server):
    # One byte every 0.25 s: the request never completes; the server closes it after REQUEST_READ_TIMEOUT (2 s).
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200
    with socket.create_connection(("127.0.0.1", server.port), timeout=1) as sock:
        got, sent = b"", 0
        for byte in request:                      # at most 233 bytes, about 60 s
            try:
                sock.sendall(bytes([byte]))
                sent += 1
                got = sock.recv(4096)
                break                             # answered or closed
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        assert sent < len(request), "the server held a slow request to its end"
        assert got == b"" or got.startswith(b"HTTP/1.1 408")


def test_a_slow_but_steady_body_is_not_cut_off(server):
    # REQUEST_READ_TIMEOUT is 2 s; 12 KB at 2 KB every 0.7 s takes about 4 s, but never pauses for 2 s.
    head = b"POST /teams/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12288\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(head)
        for _ in range(6):
            time.sleep(0.7)
            sock.sendall(b" " * 2048)
        assert sock.recv(4096).startswith(b"HTTP/1.1 401")          # read whole and refused as unsigned


def test_half_sent_requests_are_capped_and_then_closed(server):
    # More half-sent requests than MAX_CONNECTIONS (40): a complete request meanwhile gets 503; after the read
    # timeout every half-sent one has been closed, and the server answers again.
    socks = []
    try:
        for _ in range(45):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        time.sleep(0.3)
        assert httpx.get(server.base + "/healthz", timeout=10).status_code == 503
        for s in socks:                           # each closed by the server (408 or EOF), within 10 s
            data = s.recv(4096)
            assert data == b"" or data.startswith(b"HTTP/1.1 408")
    finally:
        for s in socks:
            s.close()
    deadline = time.monotonic() + 10
    while httpx.get(server.base + "/healthz", timeout=10).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.2)


FORGED = "2026-12-01 07:00:00,000 ERROR obsession.web: FORGED LINE"


def test_a_refused_slack_body_is_not_logged_and_cannot_forge_a_line(server):
    before = len(server.log())
    body = f"text=hi\n{FORGED}\n" + "x" * 60_000            # under the 64 KB limit, unsigned
    ts = str(int(time.time()))
    sig = "v0=" + "0" * 64
    for _ in range(3):
        r = httpx.post(server.base + "/slack/events", content=body.encode(), timeout=10,
                       headers={"Content-Type": "application/x-www-form-urlencoded",
                                "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig})
        assert r.status_code == 401
    time.sleep(0.5)
    log = server.log()[before:]
    assert not any(line.startswith(FORGED) for line in log.splitlines())
    assert "FORGED" not in log and len(log) < 5000


def test_bad_slack_headers_and_bodies_are_400_or_401_not_500(server):
    secret = WEB_SECRETS["SLACK_SIGNING_SECRET"]

    def signed(body: bytes, ts: str) -> dict:
        base = f"v0:{ts}:".encode() + body
        return {"X-Slack-Request-Timestamp": ts, "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Signature": "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()}
    now = str(int(time.time()))
    r = httpx.post(server.base + "/slack/events", content=b"text=hi", headers=signed(b"text=hi", "soon"), timeout=10)
    assert r.status_code == 400
    bad_utf8 = b"text=\xff\xfe\xfa"
    assert httpx.post(server.base + "/slack/events", content=bad_utf8, headers=signed(bad_utf8, now),
                      timeout=10).status_code == 400
    assert httpx.post(server.base + "/slack/events", content=b"text=hi", timeout=10).status_code == 401
    assert "Traceback" not in server.log()


def test_thirty_thousand_deep_json_to_teams_is_400(server):
    import base64

    from bot.teams_app import sign

    key = base64.b64decode(WEB_SECRETS["TEAMS_OUTGOING_WEBHOOK_SECRET"])
    body = b"[" * 30_000 + b"]" * 30_000
    r = httpx.post(server.base + "/teams/messages", content=body, timeout=10,
                   headers={"Authorization": sign(key, body), "Content-Type": "application/json"})
    assert r.status_code == 400


# ---- SIGTERM finishes acknowledged answers -------------------------------------------------------------

class _Recorder(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.got.append((self.path, json.loads(body)))
        time.sleep(self.server.delay)        # Slack slow to take it: the answer is still on its way at SIGTERM
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def test_sigterm_finishes_the_answers_already_acknowledged(seeded_db, tmp_path):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.got, httpd.delay = [], 4.0
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    rec = f"http://127.0.0.1:{httpd.server_address[1]}"
    s = Served(seeded_db, tmp_path / "serve", {"SLACK_API_URL": rec + "/api/"}).start()
    try:
        secret = WEB_SECRETS["SLACK_SIGNING_SECRET"]
        acks = []
        for i in range(4):
            body = urlencode({"command": "/obsession", "text": "cla cluster=Armley", "team_id": "T1",
                              "user_id": f"U{i}", "channel_id": "C1", "response_url": f"{rec}/resp/{i}",
                              "trigger_id": f"t{i}"}).encode()
            ts = str(int(time.time()))
            sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
            acks.append(httpx.post(s.base + "/slack/events", content=body, timeout=10, headers={
                "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
                "Content-Type": "application/x-www-form-urlencoded"}).status_code)
        assert acks == [200] * 4
        code = s.terminate(timeout=30)           # at once, while the answers are being built
    finally:
        s.stop()
        httpd.shutdown()
        httpd.server_close()
    assert sorted(p for p, _ in httpd.got) == [f"/resp/{i}" for i in range(4)], s.log()[-3000:]
    assert code in (0, -15)      # uvicorn re-raises the SIGTERM it caught once it has stopped
    log = s.log()
    stop = log.index("finishing")      # the answers were still on their way when it was told to stop ...
    assert log[stop:].count("answered obsession") + log[stop:].count("answered tracker") == 4, log[-3000:]
    assert "not finished" not in log   # ... and each was sent in full (Slack's answer read) before it exited


def test_the_body_limit_counts_chunks_as_received_and_gives_the_console_its_own_limit():
    import asyncio

    from bot.limits import BodyLimit, body_limits
    from tracker.settings import Settings

    limits = body_limits(Settings.from_env({"CONSOLE_MAX_UPLOAD_MB": "2"}, dotenv=False))
    read = []

    async def app(scope, receive, send):          # reads the whole body, as a form parser would
        while True:
            m = await receive()
            if m["type"] == "http.disconnect":
                raise RuntimeError("client gone")
            read.append(len(m.get("body", b"")))
            if not m.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    def run(path: str, chunks: int, size: int = 64 * 1024) -> tuple[int, int]:
        read.clear()
        sent = []
        queue = [{"type": "http.request", "body": b"x" * size, "more_body": i < chunks - 1} for i in range(chunks)]

        async def receive():
            return queue.pop(0) if queue else {"type": "http.disconnect"}

        async def send(m):
            sent.append(m)
        scope = {"type": "http", "path": path, "headers": [(b"transfer-encoding", b"chunked")]}
        asyncio.run(BodyLimit(app, limits)(scope, receive, send))
        return next(m["status"] for m in sent if m["type"] == "http.response.start"), sum(read)

    assert run("/slack/events", 1) == (200, 64 * 1024)              # exactly the limit
    status, got = run("/slack/events", 1000)                        # 64 MB offered
    assert status == 413 and got <= 64 * 1024                      # cut off at the chunk that passed it
    assert run("/unsubscribe", 1, 4096) == (200, 4096)
    assert run("/unsubscribe", 2, 4096)[0] == 413
    assert run("/console/load", 32) == (200, 32 * 64 * 1024)        # 2 MB upload limit: 2 MB passes
    status, got = run("/console/load", 64)
    assert status == 413 and got <= 2 * 1024 * 1024 + 64 * 1024
    assert run("/trackers/2015-07-20/leeds", 2)[0] == 413           # everything else: 64 KB


def test_the_web_process_workers_exit_when_it_is_sigkilled(seeded_db, tmp_path):
    import signal
    from pathlib import Path

    s = Served(seeded_db, tmp_path / "serve").start()
    try:
        children = set()
        for task in Path(f"/proc/{s.pid}/task").iterdir():
            children |= {int(c) for c in (task / "children").read_text().split()}
        assert children, "obsession serve started no worker processes"
        s.proc.send_signal(signal.SIGKILL)
        s.proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        while any(_alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(c) for c in children), "workers outlived the SIGKILLed web process"
    finally:
        s.stop()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[-1][0] != "Z"
    except FileNotFoundError:
        return False
