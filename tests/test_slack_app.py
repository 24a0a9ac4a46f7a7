"""The Slack slash command end to end: signed as Slack signs it, sent to the running web process,
answered through response_url to a local server that records what Slack would have received."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import httpx
import pytest

from renderers.formatting import number
from tests.conftest import WEB_SECRETS

SECRET = WEB_SECRETS["SLACK_SIGNING_SECRET"]
FIGURE2 = date(2015, 7, 20)


class FakeSlack:
    """A local stand-in for Slack: response_url endpoints and the Web API methods an upload uses."""

    def __init__(self):
        self.requests: list[tuple[str, dict, bytes]] = []
        self.cond = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with fake.cond:
                    fake.requests.append((self.path, dict(self.headers), body))
                    fake.cond.notify_all()
                reply = fake.reply(self.path)
                data = reply.encode() if isinstance(reply, str) else json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json" if not isinstance(reply, str) else "text/plain")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reply(self, path: str):
        if path.startswith("/api/files.getUploadURLExternal"):
            return {"ok": True, "upload_url": f"{self.url}/upload/F0TEST", "file_id": "F0TEST"}
        if path.startswith("/api/files.completeUploadExternal"):
            return {"ok": True, "files": [{"id": "F0TEST", "title": "tracker"}]}
        if path.startswith("/api/"):
            return {"ok": True}
        return "ok" if not path.startswith("/upload/") else "OK - 1"

    def posts(self, prefix: str) -> list[tuple[str, dict, bytes]]:
        with self.cond:
            return [r for r in self.requests if r[0].startswith(prefix)]

    def wait(self, prefix: str, n: int = 1, timeout: float = 20) -> list:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len([r for r in self.requests if r[0].startswith(prefix)]) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"only {len(self.posts(prefix))} of {n} requests to {prefix}")
                self.cond.wait(left)
        return self.posts(prefix)

    def close(self):
        self.server.shutdown()


@pytest.fixture(scope="module")
def fake_slack():
    fake = FakeSlack()
    yield fake
    fake.close()


@pytest.fixture
def slack(fake_slack):
    """The fake Slack, with nothing recorded yet."""
    with fake_slack.cond:
        fake_slack.requests.clear()
    return fake_slack


def signed(body: str, secret: str = SECRET, ts: int | None = None) -> dict:
    """The headers Slack sends: v0 HMAC-SHA256 of 'v0:{timestamp}:{body}' with the signing secret."""
    ts = int(time.time()) if ts is None else ts
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sig,
            "Content-Type": "application/x-www-form-urlencoded"}


_n = [0]


def command(text: str, response_url: str, team="T0TEST", user="U0TEST", channel="C0TEST") -> str:
    """A slash command's form body, as Slack posts it."""
    _n[0] += 1
    return urlencode({
        "token": "deprecated-verification-token", "team_id": team, "team_domain": "council",
        "channel_id": channel, "channel_name": "cluster-meeting", "user_id": user, "user_name": "asker",
        "command": "/obsession", "text": text, "api_app_id": "A0TEST", "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": f"1.2.{_n[0]}",
    })


def post(base: str, body: str, headers: dict) -> httpx.Response:
    return httpx.post(f"{base}/slack/events", content=body.encode(), headers=headers, timeout=10)


def answer_of(slack: FakeSlack, prefix: str) -> dict:
    path, headers, body = slack.wait(prefix)[0]
    return json.loads(body)


def raw(frame, obsession, area, week):
    hit = frame[(frame.obsession == obsession) & (frame.area == area)
                & (frame.week_commencing.astype(str) == week.isoformat())]
    return float(hit.value.iloc[0])


@pytest.fixture(scope="module")
def _servers(app, live_server, fake_slack):
    """Running web processes, one per distinct set of settings, shared by this module's tests."""
    cache = {}

    def start(env=None, **options):
        key = json.dumps([env, {k: repr(v) for k, v in options.items()}], sort_keys=True)
        if key not in cache:
            cache[key] = live_server(app({"SLACK_API_URL": f"{fake_slack.url}/api/", **(env or {})}, **options))
        return cache[key]
    return start


@pytest.fixture
def served(_servers, slack):
    """Factory: served(env, **create_app options) -> base URL of a running web process whose Slack API is the fake."""
    return _servers


def test_ephemeral_answer_through_response_url(served, slack, demo_frame):
    base = served()
    body = command("neet cluster=Seacroft week=2015-07-20", f"{slack.url}/resp/1")
    r = post(base, body, signed(body))
    assert r.status_code == 200
    assert r.text == ""                                     # an empty acknowledgement
    msg = answer_of(slack, "/resp/1")
    assert msg["response_type"] == "ephemeral"
    text = json.dumps(msg)
    assert "Seacroft Manston" in text
    expected = number(raw(demo_frame, "neet", "Seacroft Manston", FIGURE2), None or _obs("neet"))
    fields = [f["text"] for b in msg["blocks"] for f in b.get("fields", [])]
    assert f"*Latest*\n{expected}" in fields


def _obs(key):
    from tracker.config import load_config

    return load_config(None).obsession(key)


def test_public_answer_is_in_channel(served, slack):
    base = served()
    body = command("cla public week=2015-07-20", f"{slack.url}/resp/2")
    assert post(base, body, signed(body)).status_code == 200
    msg = answer_of(slack, "/resp/2")
    assert msg["response_type"] == "in_channel"
    assert "1,247" in json.dumps(msg)                       # Figure 2's children looked after


@pytest.mark.parametrize("case", ["forged", "wrong-secret", "stale", "unsigned", "tampered"])
def test_bad_signatures_are_refused_and_nothing_is_processed(case, served, slack):
    base = served()
    body = command("neet", f"{slack.url}/resp/bad")
    if case == "forged":
        headers = signed(body)
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
    elif case == "wrong-secret":
        headers = signed(body, secret="not-the-secret")
    elif case == "stale":
        headers = signed(body, ts=int(time.time()) - 6 * 60)   # correctly signed, 6 minutes old
    elif case == "unsigned":
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    else:
        headers = signed(body)
        body = body.replace("text=neet", "text=cla")
    r = post(base, body, headers)
    assert r.status_code == 401
    time.sleep(0.3)
    assert slack.posts("/resp/bad") == []


def test_disallowed_workspace_is_refused(served, slack):
    base = served({"SLACK_ALLOWED_TEAM_IDS": "T0GOOD,T0ALSO"})
    body = command("neet", f"{slack.url}/resp/other", team="T0OTHER")
    r = post(base, body, signed(body))
    assert "not allowed" in r.text
    time.sleep(0.3)
    assert slack.posts("/resp/other") == []
    body = command("neet", f"{slack.url}/resp/good", team="T0ALSO")
    assert post(base, body, signed(body)).status_code == 200
    assert answer_of(slack, "/resp/good")["response_type"] == "ephemeral"


@pytest.mark.parametrize("text", [
    "<!channel> cla", "cluster=<@U024BE7LH>", "<https://evil.example|click> neet", "*bold* <!here>",
    "neet cluster=Seacroft <script>alert(1)</script>", "x" * 2000,
])
def test_injection_attempts_are_neutralised(text, served, slack):
    base = served()
    body = command(text, f"{slack.url}/resp/inj")
    assert post(base, body, signed(body)).status_code == 200
    sent = json.dumps(answer_of(slack, "/resp/inj"))
    for bad in ("<!channel>", "<!here", "<@U", "evil.example", "<script", "*bold*"):
        assert bad not in sent


def test_a_user_asking_too_often_is_told_to_slow_down(served, slack):
    from bot.slack_app import RateLimiter

    base = served({"OBSESSION_TEST": "rate"}, limiter=RateLimiter(limit=3, window=60))
    replies = []
    for i in range(4):
        body = command("help", f"{slack.url}/resp/rate{i}", user="U0FAST")
        replies.append(post(base, body, signed(body)))
    assert "Slow down" in replies[3].text
    assert all("Slow down" not in r.text for r in replies[:3])
    slack.wait("/resp/rate", 3)
    time.sleep(0.3)
    assert len(slack.posts("/resp/rate")) == 3
    body = command("help", f"{slack.url}/resp/other-user", user="U0CALM")   # others are not held up
    assert "Slow down" not in post(base, body, signed(body)).text


def test_public_answer_uploads_the_picture_into_the_channel(served, slack):
    # Worker processes draw the picture here, as in production.
    base = served({"SLACK_BOT_TOKEN": "xoxb-test-token"}, render_workers=1)
    body = command("neet cluster=Seacroft public week=2015-07-20", f"{slack.url}/resp/up", channel="C0MEETING")
    assert post(base, body, signed(body)).status_code == 200
    assert answer_of(slack, "/resp/up")["response_type"] == "in_channel"
    _, _, uploaded = slack.wait("/upload/F0TEST")[0]
    assert uploaded[:8] == b"\x89PNG\r\n\x1a\n"
    path, headers, complete = slack.wait("/api/files.completeUploadExternal")[0]
    assert params(path, complete)["channel_id"] == ["C0MEETING"]
    path, headers, asked = slack.posts("/api/files.getUploadURLExternal")[0]
    assert headers.get("Authorization") == "Bearer xoxb-test-token"
    sent = params(path, asked)
    assert sent["length"] == [str(len(uploaded))]
    assert "Seacroft Manston" in sent["alt_txt"][0]


def params(path: str, body: bytes) -> dict:
    """A Web API call's arguments, wherever the client put them (query string or form body)."""
    from urllib.parse import parse_qs, urlsplit

    found = parse_qs(urlsplit(path).query)
    if body:
        found.update(parse_qs(body.decode()))
    return found


def test_ephemeral_answer_without_archive_or_token_has_no_image(served, slack):
    base = served()
    body = command("cla cluster=Armley", f"{slack.url}/resp/noimg")
    post(base, body, signed(body))
    msg = answer_of(slack, "/resp/noimg")
    assert not [b for b in msg["blocks"] if b["type"] == "image"]
    time.sleep(0.3)
    assert slack.posts("/api/") == []


def test_image_by_signed_archive_url_is_fetchable_from_a_closed_archive(served, slack):
    base = served({"ARCHIVE_TOKEN": "archive-secret-000001"})
    # The archive's public address is this very server.
    from bot import urls  # noqa: F401

    base2 = served({"ARCHIVE_TOKEN": "archive-secret-000001", "PUBLIC_BASE_URL": "http://127.0.0.1:1"})
    body = command("neet cluster=Seacroft week=2015-07-20", f"{slack.url}/resp/url")
    post(base2, body, signed(body))
    msg = answer_of(slack, "/resp/url")
    image = [b for b in msg["blocks"] if b["type"] == "image"][0]
    assert image["alt_text"]
    path = image["image_url"].removeprefix("http://127.0.0.1:1")
    assert path.startswith("/trackers/2015-07-20/seacroft-manston/neet.png?sig=")
    # Same secrets, so `base` verifies the signature too: the image opens without the token ...
    r = httpx.get(base + path, timeout=20)
    assert r.status_code == 200 and r.content[:4] == b"\x89PNG"
    # ... the page does not, and an unsigned or wrongly signed image does not either.
    assert httpx.get(base + "/trackers/2015-07-20/seacroft-manston", timeout=10).status_code == 401
    assert httpx.get(base + path.split("?")[0], timeout=10).status_code == 401
    assert httpx.get(base + path.replace("neet.png", "cla.png"), timeout=10).status_code == 401
