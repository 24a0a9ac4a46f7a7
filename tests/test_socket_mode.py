"""`obsession socket` end to end: the real command in a child process, connected to a local stand-in
for Slack's Socket Mode (tests/socket_mode_server.py), answering slash command envelopes through
response_url. Everything goes to 127.0.0.1; waits are on events, with timeouts."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import SlackServer
from tests.socket_mode_server import SocketModeServer

APP_TOKEN = "xapp-1-A0TEST-1-0123456789abcdef"
BOT_TOKEN = "xoxb-test-token"                 # what tests.servers.SlackServer accepts
TEAM, OTHER_TEAM = "T0GOOD", "T0OTHER"
# Settings the child must not inherit from the machine running the tests (and no proxy: loopback only).
INHERITED = ("SLACK_", "TEAMS_", "SMTP_", "PUBLIC_BASE_URL", "OBSESSION_CONFIG", "DATABASE_URL", "ARCHIVE_",
             "URL_SIGNING_KEY", "MAIL_FROM", "OUTBOX_DIR")
PROXIES = ("http_proxy", "https_proxy", "all_proxy", "ws_proxy", "wss_proxy", "no_proxy")


class SocketApp:
    """`obsession socket` running in a child process against the stand-ins; its log in a file."""

    def __init__(self, folder: Path, seeded_db: Path, env: dict, known_token: str = APP_TOKEN):
        self.folder = folder
        self.slack = SlackServer(token=BOT_TOKEN).__enter__()
        self.server = SocketModeServer(app_token=known_token, web_api=self.slack).__enter__()
        db = folder / "obsessions.db"
        shutil.copy(seeded_db, db)
        child_env = {k: v for k, v in os.environ.items()
                     if not k.startswith(INHERITED) and k.lower() not in PROXIES}
        child_env.update({"DATABASE_URL": f"sqlite:///{db}", "OUTBOX_DIR": str(folder / "outbox"),
                          "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_BOT_TOKEN": BOT_TOKEN,
                          "SLACK_API_URL": self.server.api_url, "NO_PROXY": "127.0.0.1,localhost",
                          "PYTHONUNBUFFERED": "1", **env})
        self.log_path = folder / "socket.log"
        self._log = open(self.log_path, "wb")
        # The working folder holds no .env or obsession.toml: the demo configuration, these settings only.
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "socket"], cwd=folder, env=child_env,
                                     stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def connected(self, timeout: float = 60):
        """Wait for the first connection (or fail with the child's log if it died)."""
        try:
            return self.server.wait(lambda: self.proc.poll() is not None or
                                    any(c.hello for c in self.server.connections), timeout, "the app to connect",
                                    poll=0.2)   # the child's exit notifies nobody: look every 0.2 s
        finally:
            assert self.proc.poll() is None, f"obsession socket exited {self.proc.returncode}:\n{self.log}"

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.wait(10)
        self._log.close()
        self.server.__exit__(None, None, None)
        self.slack.__exit__(None, None, None)


@pytest.fixture(scope="module")
def _apps(seeded_db, tmp_path_factory):
    """The module's `obsession socket` (answering workspaces T0GOOD and T0ALSO only), started again
    when a test has stopped it."""
    started: list[SocketApp] = []

    def current() -> SocketApp:
        if not started or started[-1].proc.poll() is not None:
            started.append(SocketApp(tmp_path_factory.mktemp("socket"), seeded_db,
                                     {"SLACK_ALLOWED_TEAM_IDS": f"{TEAM},T0ALSO"}))
            started[-1].connected()
        return started[-1]

    yield current
    for app in started:
        app.close()


@pytest.fixture
def running(_apps) -> SocketApp:
    """`obsession socket`, connected to its stand-ins."""
    return _apps()


_n = [0]


def command(server: SocketModeServer, text: str, name: str, team: str = TEAM, user: str | None = None,
            channel: str = "C0MEETING") -> str:
    """Push a slash command envelope with the fields Slack's HTTP form has; its response_url is `name`."""
    _n[0] += 1
    return server.slash_command({
        "token": "deprecated-verification-token", "team_id": team, "team_domain": "council",
        "channel_id": channel, "channel_name": "cluster-meeting", "user_id": user or f"U0ASKER{_n[0]}",
        "user_name": "asker", "command": "/obsession", "text": text, "api_app_id": "A0TEST",
        "is_enterprise_install": "false", "response_url": server.response_url(name),
        "trigger_id": f"1.2.{_n[0]}",
    })


def latest_neet(frame, area: str) -> tuple[str, float, float]:
    """(latest week, its value, the week before's value) for NEET in `area`, straight from the figures frame."""
    rows = frame[(frame.obsession == "neet") & (frame.area == area)]
    by_week = {str(w): float(v) for w, v in zip(rows.week_commencing, rows.value)}
    weeks = sorted(by_week)
    return weeks[-1], by_week[weeks[-1]], by_week[weeks[-2]]


def fields(msg: dict) -> dict[str, str]:
    """The figures of an answer's section blocks: {'Latest': '55', ...}."""
    out = {}
    for block in msg.get("blocks", []):
        for f in block.get("fields", []):
            head, _, body = f["text"].partition("\n")
            out[head.strip("*")] = body
    return out


@pytest.fixture(scope="module")
def seacroft(demo_frame):
    """The expected NEET answer for Seacroft Manston, worked out from the demo frame."""
    week, value, before = latest_neet(demo_frame, "Seacroft Manston")
    assert value >= 5 and before >= 5          # counts this size are shown, not withheld
    change = round(value) - round(before)
    from datetime import date

    d = date.fromisoformat(week)
    return {"latest": f"{round(value):,}", "change": f"{change:+,}" if change else "0",
            "week": f"{d.day} {d:%B %Y}"}


def test_connects_with_the_app_token_through_slack_api_url(running):
    server = running.server
    first = server.opens[0]
    assert first["auth"] == f"Bearer {APP_TOKEN}" and first["ok"]
    conn = server.connections[0]
    assert conn.hello
    # slack_sdk pings right after connecting; the stand-in answered, and the app answers its pings too.
    server.wait(lambda: any(p.startswith(b"sdk-ping-pong:") for p in conn.pings), 10, "the client's ping")
    server.ping(b"standin-ping-1")


def test_neet_for_a_cluster_is_acknowledged_then_answered_to_the_asker_only(running, seacroft):
    server = running.server
    eid = command(server, "neet cluster=Seacroft", "ephemeral", channel="C0QUIET")
    ack = server.wait_ack(eid)                       # within Slack's 3 seconds
    assert not ack.late
    assert ack.message == {"envelope_id": eid}       # an empty acknowledgement; the answer follows
    msg = server.wait_response("ephemeral")[0]
    assert msg["response_type"] == "ephemeral"
    assert msg["blocks"][0]["text"]["text"].endswith("Seacroft Manston")
    got = fields(msg)
    assert got["Latest"] == seacroft["latest"]
    assert re.search(rf"(?<![\d.,]){re.escape(seacroft['change'])}(?![\d.,])", got["Since last week"])
    assert seacroft["week"] in msg["text"]
    # Ephemeral and no public archive: no picture is uploaded anywhere.
    assert not [c for c in running.slack.completed if c["channel"] == "C0QUIET"]


def test_public_posts_in_the_channel_with_the_picture(running, seacroft):
    server = running.server
    eid = command(server, "neet cluster=Seacroft public", "public", channel="C0PUBLIC")
    assert server.wait_ack(eid).message == {"envelope_id": eid}
    msg = server.wait_response("public")[0]
    assert msg["response_type"] == "in_channel"
    assert fields(msg)["Latest"] == seacroft["latest"]
    # No PUBLIC_BASE_URL, a bot token: the picture is uploaded into the channel through the Web API.
    server.wait(lambda: "files.completeUploadExternal" in server.forwarded, 20, "the picture's upload")
    (upload,) = [c for c in running.slack.completed if c["channel"] == "C0PUBLIC"]
    assert upload["bytes"][:8] == b"\x89PNG\r\n\x1a\n"
    assert upload["length"] == len(upload["bytes"])
    assert "Seacroft Manston" in upload["alt_txt"]
    assert server.wait_response("public", 1) and len(server.responses["public"]) == 1   # no error follow-up


def test_a_workspace_not_allowed_gets_no_answer(running):
    server = running.server
    eid = command(server, "neet cluster=Seacroft", "refused", team=OTHER_TEAM)
    ack = server.wait_ack(eid)
    assert "not allowed" in ack.payload["text"]      # refused in the acknowledgement itself
    # The same question from an allowed workspace, sent after, is answered: by then the refused one
    # would have been answered too if it were going to be.
    eid = command(server, "neet cluster=Seacroft", "allowed", team="T0ALSO")
    assert server.wait_ack(eid).message == {"envelope_id": eid}
    assert server.wait_response("allowed")[0]["response_type"] == "ephemeral"
    assert "refused" not in server.responses


def test_a_disconnect_message_brings_a_new_connection(running, seacroft):
    server = running.server
    opened = sum(o["ok"] for o in server.opens)
    before = len([c for c in server.connections if c.hello])
    old = server.disconnect("refresh_requested")
    new = server.wait_connections(before + 1)
    assert server.wait_closed(old) is not None       # the app let the old connection go
    assert sum(o["ok"] for o in server.opens) == opened + 1
    assert all(o["auth"] == f"Bearer {APP_TOKEN}" for o in server.opens)
    eid = command(server, "neet cluster=Seacroft", "after-refresh")
    assert server.wait_ack(eid).message == {"envelope_id": eid}
    assert any(m.get("envelope_id") == eid for m in new.received)
    assert fields(server.wait_response("after-refresh")[0])["Latest"] == seacroft["latest"]


def test_secrets_stay_out_of_the_log(running):
    log = running.log
    assert "connected to Slack in Socket Mode" in log          # the log is being written
    for secret in (APP_TOKEN, BOT_TOKEN, "ticket="):
        assert secret not in log


def _children(pid: int) -> set[int]:
    """Process ids whose parent is `pid` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def test_sigterm_closes_the_connection_and_exits_cleanly(running):
    # Stops the module's process; a test that runs after this one gets a new one.
    app, server = running, running.server
    eid = command(server, "cla", "before-stop")
    server.wait_ack(eid)
    server.wait_response("before-stop")
    workers = _children(app.proc.pid)
    conn = server.connections[-1]
    app.proc.send_signal(signal.SIGTERM)
    assert app.proc.wait(20) == 0, app.log
    assert server.wait_closed(conn) == 1000               # a normal close from the app, not a dropped socket
    server.wait(lambda: all(_gone(p) for p in workers), 20, "the drawing workers to exit", poll=0.1)
    assert "Traceback" not in app.log, app.log


def test_a_wrong_app_token_stops_at_once_with_a_clear_message(seeded_db, tmp_path):
    app = SocketApp(tmp_path, seeded_db, {"SLACK_APP_TOKEN": "xapp-1-A0TEST-1-revoked"})   # Slack knows another
    try:
        assert app.proc.wait(60) == 2, app.log
        assert "figures read" not in app.log                 # stopped before the slower start-up
        assert "SLACK_APP_TOKEN" in app.log and "invalid_auth" in app.log
        assert "revoked" not in app.log                      # the token itself is not printed
        assert "Traceback" not in app.log
        assert not app.server.connections
    finally:
        app.close()
