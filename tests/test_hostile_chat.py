"""The chat side under hostile input: response_url only Slack's and no redirects followed, the rate limiter
forgets idle users, workers die with their parent, the log is one line a record, uvicorn gets its limits."""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import WEB_SECRETS


class _Hooks(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.hits.append(self.path)
        if self.path.startswith("/redirect"):
            self.send_response(307)
            self.send_header("Location", "/elsewhere")
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def hooks():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hooks)
    httpd.hits = []
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _command(base: str, response_url: str, user: str = "U1") -> httpx.Response:
    body = urlencode({"command": "/obsession", "text": "help", "team_id": "T1", "user_id": user, "channel_id": "C1",
                      "response_url": response_url, "trigger_id": "t"}).encode()
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(WEB_SECRETS["SLACK_SIGNING_SECRET"].encode(), f"v0:{ts}:".encode() + body,
                           hashlib.sha256).hexdigest()
    return httpx.post(base + "/slack/events", content=body, timeout=20, headers={
        "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"})


def test_response_url_must_be_slacks_and_redirects_are_not_followed(app, live_server, hooks):
    here = f"http://127.0.0.1:{hooks.server_address[1]}"
    base = live_server(app({"SLACK_API_URL": f"{here}/api/", "OBSESSION_TEST": "hooks"}))
    # Another host (or another port of this one): not posted to at all.
    for url in ("http://127.0.0.1:9/resp", "https://evil.example/resp", "https://hooks.slack.com.evil.example/x",
                f"http://user:pw@127.0.0.1:{hooks.server_address[1]}/resp", "file:///etc/passwd", ""):
        r = _command(base, url)
        assert r.status_code == 200 and "not Slack's" in r.text, url
    # The allowed host: posted to; a redirect is not followed.
    assert _command(base, f"{here}/redirect/1", user="U2").status_code == 200
    assert _command(base, f"{here}/resp/2", user="U3").status_code == 200
    deadline = time.monotonic() + 20
    while len(hooks.hits) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert sorted(hooks.hits) == ["/redirect/1", "/resp/2"]          # never /elsewhere


def test_response_url_rule():
    from bot.slack_app import response_url_allowed
    from tracker.settings import Settings

    plain = Settings.from_env({}, dotenv=False)
    gov = Settings.from_env({"SLACK_API_URL": "https://slack-gov.com/api/"}, dotenv=False)
    assert response_url_allowed("https://hooks.slack.com/commands/T1/2/abc", plain)
    assert not response_url_allowed("http://hooks.slack.com/commands/T1/2/abc", plain)
    assert not response_url_allowed("https://hooks.slack.com:8443/commands/x", plain)
    assert not response_url_allowed("https://hooks.slack-gov.com/commands/x", plain)
    assert response_url_allowed("https://hooks.slack-gov.com/commands/x", gov)
    assert not response_url_allowed("https://slack-gov.com.evil.example/x", gov)


def test_the_rate_limiter_forgets_idle_users():
    from bot.slack_app import RateLimiter

    now = [0.0]
    limiter = RateLimiter(limit=3, window=60, clock=lambda: now[0])
    for i in range(1000):
        limiter.hit(f"T:U{i}")
    assert len(limiter) == 1000
    now[0] = 61.0
    limiter.hit("T:U-new")
    assert len(limiter) == 1
    for _ in range(3):
        assert limiter.hit("T:busy") == 0
    assert limiter.hit("T:busy") > 0 and limiter.blocked("T:busy") > 0


def test_workers_exit_when_their_parent_is_killed(tmp_path):
    script = textwrap.dedent("""
        import os, sys, time
        sys.path.insert(0, %r)
        from bot.chat.workers import render_pool
        pool = render_pool(1)
        print(pool.submit(os.getpid).result(), flush=True)
        time.sleep(120)
    """) % os.getcwd()
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(parent.stdout.readline())
        assert os.path.exists(f"/proc/{worker}")
        parent.kill()
        parent.wait(timeout=10)
        deadline = time.monotonic() + 15
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(worker), "the worker outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False


def test_every_log_record_is_one_escaped_line():
    from bot.logs import FORMAT, MAX_RECORD, OneLineFormatter, clip

    fmt = OneLineFormatter(FORMAT)
    forged = "hi\n2026-12-01 07:00:00,000 ERROR obsession.web: FORGED\r\u2028\u2029\x1b[31m"
    rec = logging.LogRecord("obsession.web", logging.INFO, __file__, 1, "asked %s", (forged,), None)
    line = fmt.format(rec)
    assert "\n" not in line and "\r" not in line and "\u2028" not in line and "\x1b" not in line
    assert "\\n2026-12-01" in line
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = fmt.format(rec)
    assert "\n" not in line and "Traceback" in line and "ValueError" in line
    rec = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", ("y" * 100_000,), None)
    assert len(fmt.format(rec)) <= MAX_RECORD + 20
    assert clip("a" * 500, 10) == '"aaaaaaaaaa..." (cut)' and clip("a\nb") == '"a\\nb"'


def test_bolt_loggers_stay_at_warning_whatever_the_root_level(app):
    # Bolt copies its base logger's level onto each logger it makes when the app is built.
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.DEBUG)
    try:
        web = app({"OBSESSION_TEST": "bolt-level"})
    finally:
        root.setLevel(old)
    assert web is not None
    names = [n for n in logging.root.manager.loggerDict if n.startswith("slack_bolt.") and "Verification" in n]
    levels = {logging.getLogger(n).level for n in names}
    assert names and levels == {logging.WARNING}


def test_uvicorn_gets_the_limits_from_the_settings():
    from bot.limits import TimedH11Protocol, uvicorn_config
    from tracker.settings import Settings

    s = Settings.from_env({"FORWARDED_ALLOW_IPS": "10.0.0.1,10.0.0.2", "REQUEST_READ_TIMEOUT": "7",
                           "MAX_CONNECTIONS": "33", "KEEP_ALIVE_TIMEOUT": "4", "MAX_HEADER_BYTES": "8000",
                           "SHUTDOWN_TIMEOUT": "9"}, dotenv=False)
    c = uvicorn_config(object(), s, "127.0.0.1", 8000)
    assert c.forwarded_allow_ips == ["10.0.0.1", "10.0.0.2"] and c.proxy_headers
    assert (c.limit_concurrency, c.timeout_keep_alive, c.h11_max_incomplete_event_size, c.timeout_graceful_shutdown) \
        == (33, 4, 8000, 9)
    assert issubclass(c.http, TimedH11Protocol) and c.http.read_timeout == 7


def test_socket_mode_sigterm_finishes_the_answers_already_acknowledged(seeded_db, tmp_path):
    import signal

    from tests.test_socket_mode import SocketApp, command

    app = SocketApp(tmp_path, seeded_db, {})
    try:
        app.connected()
        names = [f"stopping-{i}" for i in range(3)]
        for eid in [command(app.server, "cla cluster=Armley", n) for n in names]:
            app.server.wait_ack(eid)
        app.proc.send_signal(signal.SIGTERM)             # at once: the answers are still being built
        assert app.proc.wait(30) == 0, app.log
        for n in names:
            assert app.server.wait_response(n, timeout=5)
        assert "finishing" in app.log and "Traceback" not in app.log, app.log
    finally:
        app.close()
