"""Limits of the web process that hold before anything is authenticated or parsed.

- `BodyLimit`, ASGI middleware: one limit on every request body, by path, counted as the bytes are
  received (a declared Content-Length over it is refused unread; a chunked body is counted chunk by
  chunk and cut off the moment it passes the limit). Past it: 413, and nothing of the app's answer.
- `TimedH11Protocol`, uvicorn's h11 protocol with the timeout uvicorn lacks: a request's headers must
  have arrived within REQUEST_READ_TIMEOUT seconds of its first byte, and its body may not pause for
  longer (the clock starts again with each KB that arrives, so a large upload on a slow line is fine
  while a byte a second is not); else 408 and the connection is closed. One byte a second, or hundreds
  of half-sent requests, are not held.
- `uvicorn_config`: uvicorn's own limits (keep-alive, header size, concurrent connections, graceful
  shutdown, trusted proxies) from the settings.
"""
from __future__ import annotations

import logging

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("obsession.web")

KB = 1024
CHAT_BODY = 64 * KB           # Slack's and Teams' requests are a few KB
UNSUBSCRIBE_BODY = 4 * KB     # "List-Unsubscribe=One-Click"
DEFAULT_BODY = 64 * KB        # anything else (the archive takes no bodies)
CONSOLE_PREFIX = "/console/"
BODY_PROGRESS = 1024          # bytes of a body that count as progress (restart REQUEST_READ_TIMEOUT)


def body_limits(settings) -> list[tuple[str, int]]:
    """(path prefix, bytes) of each route with a limit of its own, longest prefix first."""
    upload = (settings.console_max_upload_mb or 50) * 1024 * KB + 64 * KB     # the files and the form's fields
    return sorted([("/slack/events", CHAT_BODY), ("/teams/messages", CHAT_BODY),
                   ("/unsubscribe", UNSUBSCRIBE_BODY), (CONSOLE_PREFIX, upload)], key=lambda p: -len(p[0]))


class BodyLimit:
    """ASGI middleware: a request body past its path's limit gets 413, counted as received, before the app sees it."""

    def __init__(self, app, limits: list[tuple[str, int]], default: int = DEFAULT_BODY):
        self.app = app
        self.limits = limits
        self.default = default

    def limit_for(self, path: str) -> int:
        """The body limit of a path."""
        return next((n for prefix, n in self.limits if path == prefix.rstrip("/") or path.startswith(prefix)),
                    self.default)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope["path"])
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None:
            if not declared.isdigit():
                return await _plain(send, 400, b"Bad Content-Length.\n")
            if int(declared) > limit:
                return await _too_large(send, limit)
        received = 0
        state = {"over": False, "gone": False, "started": False}

        async def counted_receive():
            nonlocal received
            if state["over"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    state["over"] = True
                    if not state["started"]:
                        state["started"] = True
                        await _too_large(send, limit)
                    return {"type": "http.disconnect"}
            elif message["type"] == "http.disconnect":
                state["gone"] = True
            return message

        async def guarded_send(message):
            if state["over"]:
                return                      # the 413 went instead of the app's answer
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if state["over"] or state["gone"]:
                return                      # the app stopped because the body was cut off, or the client left
            raise


async def _plain(send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


async def _too_large(send, limit: int) -> None:
    size = f"{limit // KB} KB" if limit < 1024 * KB else f"{limit // (1024 * KB)} MB"
    await _plain(send, 413, f"Request body too large: at most {size} here.\n".encode())


class TimedH11Protocol(H11Protocol):
    """h11 with a deadline for each request's headers and body (REQUEST_READ_TIMEOUT, set by uvicorn_config)."""

    read_timeout: float = 10.0

    def connection_made(self, transport) -> None:
        """Start the clock for the first request."""
        super().connection_made(transport)
        self._read_timer = None
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._read_timer = self.loop.call_later(self.read_timeout, self._too_slow)

    def _disarm(self) -> None:
        if getattr(self, "_read_timer", None) is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def data_received(self, data: bytes) -> None:
        """The clock starts with the first byte of a request, and again with each KB of a body still coming."""
        if self._read_timer is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()
        elif (self._read_timer is not None and self.cycle is not None and self.cycle.more_body
              and not self.cycle.response_complete and len(data) >= BODY_PROGRESS):
            self._arm()
        super().data_received(data)

    def handle_events(self) -> None:
        """Stop the clock once the whole request (headers and body) has arrived."""
        super().handle_events()
        if self.cycle is not None and not self.cycle.more_body and not self.cycle.response_complete:
            self._disarm()

    def connection_lost(self, exc) -> None:
        """No clock for a closed connection."""
        self._disarm()
        super().connection_lost(exc)

    def _too_slow(self) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            body = b"The request was not sent in time.\n"
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                                 b"connection: close\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        log.warning("closed a connection whose request took over %s s to arrive (REQUEST_READ_TIMEOUT)",
                    self.read_timeout)
        self.transport.close()


def uvicorn_config(app, settings, host: str, port: int, **extra):
    """uvicorn's Config with the web process's limits: the timed h11 protocol, keep-alive, header size,
    concurrent connections, graceful shutdown and the trusted proxies (FORWARDED_ALLOW_IPS)."""
    import uvicorn

    protocol = type("ReadTimedH11", (TimedH11Protocol,), {"read_timeout": float(settings.request_read_timeout)})
    return uvicorn.Config(
        app, host=host, port=port, http=protocol, log_config=None, access_log=False,
        proxy_headers=True, forwarded_allow_ips=list(settings.forwarded_allow_ips) or "127.0.0.1",
        timeout_keep_alive=settings.keep_alive_timeout,
        h11_max_incomplete_event_size=settings.max_header_bytes,
        limit_concurrency=settings.max_connections,
        timeout_graceful_shutdown=settings.shutdown_timeout,
        **extra)
