"""A local stand-in for Slack's Socket Mode on 127.0.0.1 (aiohttp, in its own thread and event loop).

It speaks what Slack documents for Socket Mode (https://docs.slack.dev/apis/events-api/using-socket-mode/)
and what slack_sdk's aiohttp SocketModeClient expects of it:

- `POST /api/apps.connections.open` with the app-level token (`Authorization: Bearer xapp-...`)
  answers `{"ok": true, "url": "ws://127.0.0.1:PORT/link/?ticket=...&app_id=..."}`; each ticket
  opens one WebSocket. A bot or user token gets `not_allowed_token_type`, a wrong one `invalid_auth`.
- On connecting, the server sends `{"type": "hello", "num_connections", "debug_info", "connection_info"}`.
- The test pushes envelopes (`{"envelope_id", "type", "accepts_response_payload", "payload"}`) into the
  newest connection; the app acknowledges with `{"envelope_id"[, "payload"]}`. Each acknowledgement
  is recorded with the time it took; Slack gives up on one that takes longer than 3 seconds.
- Ping frames from the client are answered with a pong carrying the same data (and counted);
  `ping()` sends one the other way and waits for the client's pong.
- `disconnect(reason)` sends `{"type": "disconnect", "reason": ...}`, as Slack does before it
  refreshes a connection ("refresh_requested", "warning", "link_disabled"); the client opens a new one.
- `response_url`s point at `/response/<name>` here: whatever the app posts there is recorded.
- Any other `/api/` method is passed on to `web_api` (a tests.servers.SlackServer) when one is given.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from dataclasses import dataclass, field

from aiohttp import ClientSession, WSMsgType, web

ACK_DEADLINE = 3.0        # seconds Slack waits for a slash command's acknowledgement


@dataclass
class Connection:
    """One WebSocket the app opened."""

    ticket: str
    ws: web.WebSocketResponse
    hello: bool = False
    pings: list = field(default_factory=list)     # data of the client's ping frames
    pongs: list = field(default_factory=list)     # data of the client's pong frames
    received: list = field(default_factory=list)  # every text message the client sent, parsed
    closed: bool = False
    close_code: int | None = None


@dataclass(frozen=True)
class Ack:
    """An acknowledgement: the message as sent, and the seconds since its envelope went out."""

    envelope_id: str
    message: dict
    seconds: float

    @property
    def payload(self) -> dict | None:
        return self.message.get("payload")

    @property
    def late(self) -> bool:
        return self.seconds > ACK_DEADLINE


class SocketModeServer:
    """Slack's Socket Mode (and response_url) on loopback; `api_url` is the app's SLACK_API_URL."""

    def __init__(self, app_token: str = "xapp-1-A0TEST-1-test", app_id: str = "A0TEST", web_api=None):
        self.app_token = app_token
        self.app_id = app_id
        self.web_api = web_api
        self.cond = threading.Condition()
        self.opens: list[dict] = []               # apps.connections.open calls: auth, ok
        self.connections: list[Connection] = []
        self.acks: dict[str, Ack] = {}
        self.responses: dict[str, list[dict]] = {}
        self.forwarded: list[str] = []            # Web API methods passed on to web_api, once answered
        self._tickets: set[str] = set()
        self._sent: dict[str, float] = {}
        self._ready = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port: int | None = None

    # -- running -----------------------------------------------------------------------------------
    def __enter__(self) -> "SocketModeServer":
        self._thread = threading.Thread(target=self._run, name="socket-mode-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or self.port is None:
            raise RuntimeError("the Socket Mode stand-in did not start")
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._start())
        finally:
            self._ready.set()
        self.loop.run_forever()
        self.loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/apps.connections.open", self._open)
        app.router.add_get("/link/", self._link)
        app.router.add_post("/response/{name}", self._response)
        app.router.add_route("*", "/api/{method}", self._forward)
        self._session = ClientSession()            # trust_env off: never through a proxy
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _stop(self) -> None:
        for conn in list(self.connections):
            if not conn.ws.closed:
                await conn.ws.close()
        await self._session.close()
        await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, name: str) -> str:
        """A response_url whose posts are recorded under `name`."""
        return f"{self.base}/response/{name}"

    # -- HTTP ---------------------------------------------------------------------------------------
    async def _open(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if token == self.app_token:
            ticket = uuid.uuid4().hex
            reply = {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"}
            with self.cond:
                self._tickets.add(ticket)
        elif token.startswith(("xoxb-", "xoxp-")):
            reply = {"ok": False, "error": "not_allowed_token_type"}
        else:
            reply = {"ok": False, "error": "invalid_auth"}
        with self.cond:
            self.opens.append({"auth": auth, "ok": reply["ok"], "at": time.monotonic()})
            self.cond.notify_all()
        return web.json_response(reply)

    async def _response(self, request: web.Request) -> web.Response:
        body = await request.read()
        with self.cond:
            self.responses.setdefault(request.match_info["name"], []).append(json.loads(body))
            self.cond.notify_all()
        return web.Response(text="ok")

    async def _forward(self, request: web.Request) -> web.Response:
        if self.web_api is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}
        async with self._session.request(request.method, self.web_api.base + request.rel_url.path_qs,
                                         data=await request.read(), headers=headers) as r:
            out = {k: v for k, v in r.headers.items() if k.lower() in ("content-type", "retry-after")}
            body = await r.read()
        with self.cond:
            self.forwarded.append(request.match_info["method"])
            self.cond.notify_all()
        return web.Response(status=r.status, body=body, headers=out)

    # -- the WebSocket ------------------------------------------------------------------------------
    async def _link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        with self.cond:
            known = ticket in self._tickets
            self._tickets.discard(ticket)           # a ticket opens one connection only
        if not known:
            return web.Response(status=401, text="invalid or used ticket")
        ws = web.WebSocketResponse(autoping=False)   # pings reach the loop below, to be counted
        await ws.prepare(request)
        conn = Connection(ticket=ticket, ws=ws)
        with self.cond:
            self.connections.append(conn)
            live = sum(1 for c in self.connections if not c.closed)
        await ws.send_json({"type": "hello", "num_connections": live,
                            "debug_info": {"host": "applink-standin", "build_number": 1,
                                           "approximate_connection_time": 18060},
                            "connection_info": {"app_id": self.app_id}})
        with self.cond:
            conn.hello = True
            self.cond.notify_all()
        async for msg in ws:
            if msg.type == WSMsgType.PING:
                await ws.pong(msg.data)
                with self.cond:
                    conn.pings.append(msg.data)
                    self.cond.notify_all()
            elif msg.type == WSMsgType.PONG:
                with self.cond:
                    conn.pongs.append(msg.data)
                    self.cond.notify_all()
            elif msg.type == WSMsgType.TEXT:
                self._received(conn, msg.data)
        with self.cond:
            conn.closed = True
            conn.close_code = ws.close_code
            self.cond.notify_all()
        return ws

    def _received(self, conn: Connection, data: str) -> None:
        now = time.monotonic()
        message = json.loads(data)
        with self.cond:
            conn.received.append(message)
            eid = message.get("envelope_id")
            if eid in self._sent and eid not in self.acks:
                self.acks[eid] = Ack(eid, message, now - self._sent[eid])
            self.cond.notify_all()

    def _live(self) -> Connection:
        with self.cond:
            live = [c for c in self.connections if c.hello and not c.closed]
        if not live:
            raise AssertionError("the app has no open Socket Mode connection")
        return live[-1]

    async def _send(self, conn: Connection, message: dict) -> None:
        await conn.ws.send_str(json.dumps(message))

    def push(self, message: dict) -> None:
        """Send one message into the newest open connection (as Slack does: one connection gets each)."""
        conn = self._live()
        eid = message.get("envelope_id")
        if eid:
            with self.cond:
                self._sent[eid] = time.monotonic()
        asyncio.run_coroutine_threadsafe(self._send(conn, message), self.loop).result(5)

    def slash_command(self, payload: dict) -> str:
        """Push a slash command envelope carrying `payload` (the HTTP form's fields); return its envelope_id."""
        eid = str(uuid.uuid4())
        self.push({"envelope_id": eid, "type": "slash_commands", "accepts_response_payload": True,
                   "payload": payload})
        return eid

    def disconnect(self, reason: str = "refresh_requested") -> Connection:
        """Tell the app its connection is going away, as Slack does before a refresh; return that connection."""
        conn = self._live()
        self.push({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-standin"}})
        return conn

    def ping(self, data: bytes = b"standin-ping", timeout: float = 5) -> None:
        """Send a ping frame and wait for the client's pong with the same data."""
        conn = self._live()
        asyncio.run_coroutine_threadsafe(conn.ws.ping(data), self.loop).result(5)
        self.wait(lambda: data in conn.pongs, timeout, f"a pong for {data!r}")

    # -- waiting ------------------------------------------------------------------------------------
    def wait(self, ready, timeout: float, what: str, poll: float | None = None):
        """Wait until `ready()` is true (checked whenever something arrives here, and every `poll` seconds
        when given, for conditions that arrive elsewhere); AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not (result := ready()):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
                self.cond.wait(min(left, poll) if poll else left)
            return result

    def wait_connections(self, n: int = 1, timeout: float = 30) -> Connection:
        """Wait until the app has opened `n` connections (each greeted with hello); return the newest."""
        self.wait(lambda: sum(c.hello for c in self.connections) >= n, timeout, f"{n} Socket Mode connection(s)")
        return [c for c in self.connections if c.hello][n - 1]

    def wait_ack(self, envelope_id: str, timeout: float = ACK_DEADLINE) -> Ack:
        """The acknowledgement of an envelope, waiting up to `timeout` seconds for it."""
        return self.wait(lambda: self.acks.get(envelope_id), timeout, f"the acknowledgement of {envelope_id}")

    def wait_response(self, name: str, n: int = 1, timeout: float = 20) -> list[dict]:
        """The first `n` messages posted to response_url `name`."""
        return self.wait(lambda: len(self.responses.get(name, [])) >= n and self.responses[name][:n],
                         timeout, f"{n} message(s) at response_url {name}")

    def wait_closed(self, conn: Connection, timeout: float = 10) -> int | None:
        """Wait until the app has closed `conn`; its close code."""
        self.wait(lambda: conn.closed, timeout, "the connection to close")
        return conn.close_code
