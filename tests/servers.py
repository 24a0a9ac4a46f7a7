"""Real servers on 127.0.0.1 for the delivery tests: SMTP (aiosmtpd), a Slack Web API stand-in, a Teams webhook.

The Slack server speaks the parts of the Web API the product calls, with the request and response
shapes of Slack's documentation (https://docs.slack.dev/reference/methods/...): auth.test,
files.getUploadURLExternal, the upload URL it hands out, files.completeUploadExternal (a file shared
to a channel becomes a message of its own there, listing the file in `files`), chat.postMessage
(keeping a message's metadata) and conversations.history (GET, newest first, posts and file shares
alike, with each message's metadata only when include_all_metadata is true, paged by cursor).
"""
from __future__ import annotations

import json
import socket
import threading
import time
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- SMTP ----------------------------------------------------------------------------------------------

class MailBox:
    """An aiosmtpd handler that keeps every accepted message; can refuse addresses or go down."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.down = False                 # answer 421 to everything (a server shutting down)
        self.before_data = None           # callable(count) run before a message is stored; may return a reply
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.down:
            return "421 4.3.2 service shutting down"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.down:
            return "421 4.3.2 service shutting down"
        if address.lower() in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.before_data is not None:
            reply = self.before_data(len(self.messages), server)
            if reply:
                return reply
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"

    def parsed(self):
        """Every stored message, parsed."""
        return [BytesParser(policy=policy.default).parsebytes(raw) for _, _, raw in self.messages]

    def recipients(self) -> list[str]:
        """Every envelope recipient, one per accepted message (lower-cased)."""
        return [r.lower() for _, rcpts, _ in self.messages for r in rcpts]


class SMTPServer:
    """aiosmtpd on 127.0.0.1; stop() and start() again keep the port."""

    def __init__(self, box: MailBox | None = None, port: int | None = None, **controller_kw):
        self.box = box or MailBox()
        self.port = port or free_port()
        self.kw = controller_kw
        self.controller = None

    def start(self) -> "SMTPServer":
        from aiosmtpd.controller import Controller

        kw = dict(self.kw)
        self.controller = Controller(self.box, hostname="127.0.0.1", port=self.port, **kw)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def env(self) -> dict:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.port), "MAIL_FROM": "tracker@example.gov.uk"}


# --- HTTP stand-ins ------------------------------------------------------------------------------------

class _Server:
    def __init__(self, handler_cls):
        self.calls: list[dict] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _params(handler) -> dict:
    """Query string, form body or JSON body of a request, as one dict."""
    url = urlsplit(handler.path)
    out = {k: v[0] for k, v in parse_qs(url.query).items()}
    n = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(n) if n else b""
    ctype = handler.headers.get("Content-Type", "")
    if "json" in ctype and body:
        out.update(json.loads(body))
    elif "x-www-form-urlencoded" in ctype and body and not url.path.startswith("/upload/"):
        out.update({k: v[0] for k, v in parse_qs(body.decode()).items()})
    out["_body"] = body
    return out


class SlackHandler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def _json(self, status: int, payload: dict, headers: dict | None = None):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _record(self):
        """(server, API method, parameters) of this request, with the call recorded for the tests."""
        srv: SlackServer = self.server.owner
        method = urlsplit(self.path).path.rsplit("/", 1)[-1]
        params = _params(self)
        with srv.lock:
            srv.calls.append({"method": method, "params": params, "auth": self.headers.get("Authorization"),
                              "at": time.monotonic()})
        return srv, method, params

    def do_GET(self):
        srv, method, params = self._record()
        if self.headers.get("Authorization") != f"Bearer {srv.token}":
            return self._json(200, {"ok": False, "error": "invalid_auth"})
        if method != "conversations.history":
            return self._json(200, {"ok": False, "error": "unknown_method"})
        return self._history(srv, params)

    def _history(self, srv, params: dict):
        """conversations.history: the channel's posts newest first, paged by cursor (slack_sdk may POST it)."""
        if "conversations.history" in srv.missing_scopes:
            return self._json(200, {"ok": False, "error": "missing_scope", "needed": "channels:history"})
        channel = params.get("channel")
        with_meta = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        with srv.lock:
            posts = [{"type": "message", "text": m.get("text", ""), "user": "U1", "bot_id": "B1", "ts": m.get("_ts"),
                      **({"metadata": m["metadata"]} if with_meta and m.get("metadata") else {})}
                     for m in srv.posts if m.get("channel") == channel]
            shares = [m for ch, m in srv.shares if ch == channel]
        history = sorted(posts + shares, key=lambda m: float(m["ts"]), reverse=True)
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 100)
        messages = history[start:start + limit]
        more = start + limit < len(history)
        return self._json(200, {"ok": True, "messages": messages, "has_more": more,
                                "response_metadata": {"next_cursor": str(start + limit) if more else ""}})

    def do_POST(self):
        srv, method, params = self._record()
        path = urlsplit(self.path).path
        with srv.lock:
            throttle = srv.ratelimit.get(method, 0)
            if throttle:
                srv.ratelimit[method] = throttle - 1
        if path.startswith("/upload/"):
            srv.uploads[path.rsplit("/", 1)[-1]] = params["_body"]
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")
            return
        if throttle:
            return self._json(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(srv.retry_after)})
        if self.headers.get("Authorization") != f"Bearer {srv.token}":
            return self._json(200, {"ok": False, "error": "invalid_auth"})
        if method == "auth.test":
            return self._json(200, {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "trackerbot",
                                    "team_id": "T1", "user_id": "U1", "bot_id": "B1"})
        if method == "files.getUploadURLExternal":
            fid = f"F{len(srv.uploads) + len(srv.calls):08d}"
            srv.pending[fid] = {"filename": params.get("filename"), "length": int(params.get("length", 0)),
                                "alt_txt": params.get("alt_txt")}
            return self._json(200, {"ok": True, "upload_url": f"{srv.base}/upload/{fid}", "file_id": fid})
        if method == "files.completeUploadExternal":
            files = json.loads(params.get("files", "[]"))
            channel = params.get("channel_id")
            if channel in srv.not_in:
                return self._json(200, {"ok": False, "error": "not_in_channel"})
            shared = [*([channel] if channel else []), *(c for c in (params.get("channels") or "").split(",") if c)]
            with srv.lock:
                done = [{"id": f["id"], "title": f.get("title"), "channel": channel,
                         "bytes": srv.uploads.get(f["id"]), **srv.pending.get(f["id"], {})} for f in files]
                srv.completed.extend(done)
                for ch in shared:
                    srv.shares.append((ch, {"type": "message", "text": "", "user": "U1", "bot_id": "B1",
                                            "upload": True, "display_as_bot": False, "ts": srv.stamp(),
                                            "files": [_file_object(d) for d in done]}))
            if shared and srv.after_upload is not None:
                srv.after_upload(params)
            return self._json(200, {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]})
        if method == "conversations.history":
            return self._history(srv, params)
        if method == "chat.postMessage":
            channel = params.get("channel")
            if channel in srv.not_in:
                return self._json(200, {"ok": False, "error": "not_in_channel"})
            if channel in srv.missing:
                return self._json(200, {"ok": False, "error": "channel_not_found"})
            with srv.lock:
                ts = srv.stamp()
                params["_ts"] = ts
                srv.posts.append(params)
            if srv.after_post is not None:
                srv.after_post(params)
            return self._json(200, {"ok": True, "channel": channel, "ts": ts})
        return self._json(200, {"ok": False, "error": "unknown_method"})


def _file_object(done: dict) -> dict:
    """A completed upload as Slack's file object lists it in a message's `files` (the fields tests rely on)."""
    name = done.get("filename") or ""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return {"id": done["id"], "name": name, "title": done.get("title") or name,
            "mimetype": {"png": "image/png"}.get(ext, "application/octet-stream"), "filetype": ext,
            "size": len(done.get("bytes") or b""), "user": "U1", "mode": "hosted", "is_external": False,
            **({"alt_txt": done["alt_txt"]} if done.get("alt_txt") else {})}


class SlackServer(_Server):
    """The Slack Web API parts the product uses; SLACK_API_URL = .api_url."""

    def __init__(self, token: str = "xoxb-test-token"):
        super().__init__(SlackHandler)
        self.token = token
        self.lock = threading.Lock()
        self.ratelimit: dict[str, int] = {}      # method -> how many 429s to answer first
        self.retry_after = 1
        self.not_in: set[str] = set()
        self.missing: set[str] = set()
        self.pending: dict = {}
        self.uploads: dict = {}
        self.completed: list = []
        self.posts: list = []                    # chat.postMessage bodies, each with its "_ts"
        self.shares: list = []                   # (channel, file share message) per upload shared to a channel
        self.missing_scopes: set[str] = set()   # methods answered missing_scope
        self.after_post = None                   # callable(params) run after a post is stored
        self.after_upload = None                 # callable(params) run after an upload is shared to a channel
        self._last_ts = 0.0

    def stamp(self) -> str:
        """A message ts: the time, later than every earlier one (Slack's are unique in a channel). Hold .lock."""
        self._last_ts = round(max(time.time(), self._last_ts + 0.000001), 6)
        return f"{self._last_ts:.6f}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"


class TeamsHandler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        srv: TeamsServer = self.server.owner
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        path = urlsplit(self.path).path
        with srv.lock:
            srv.calls.append({"path": path, "at": time.monotonic(), "size": len(body)})
            script = srv.script.get(path, [])
            status, headers = script.pop(0) if script else (202, {})
            if status < 300:
                srv.received.setdefault(path, []).append(json.loads(body))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()


class TeamsServer(_Server):
    """A Workflows webhook stand-in: 202 by default; `script[path]` lists (status, headers) to answer first."""

    def __init__(self):
        super().__init__(TeamsHandler)
        self.lock = threading.Lock()
        self.script: dict[str, list] = {}
        self.received: dict[str, list] = {}

    def url(self, name: str) -> str:
        return f"{self.base}/workflows/{name}"
