"""The Slack app: the `/obsession` slash command on slack-bolt's AsyncApp (HTTP or Socket Mode).

AsyncApp, not App: behind the Starlette adapter the synchronous App blocks the event loop for each
dispatch (p99 acknowledgement about 230 ms against 37 ms measured for the async one). The command is
acknowledged at once; the answer is built off the loop and follows through `response_url`.
Requests are verified by Bolt with SLACK_SIGNING_SECRET (a forged, stale or unsigned one gets 401
and is not processed); only SLACK_ALLOWED_TEAM_IDS are answered when it is set.
"""
from __future__ import annotations

import logging
import re
import time
from collections import defaultdict, deque

from bot.chat.service import ChatService, Reply
from tracker.settings import Settings

log = logging.getLogger("obsession.slack")

DEFAULT_API_URL = "https://slack.com/api/"
RATE_LIMIT = 10              # commands ...
RATE_WINDOW = 60.0           # ... per user per this many seconds
NOT_ALLOWED = "This workspace is not allowed to ask the obsession tracker (SLACK_ALLOWED_TEAM_IDS)."
SLOW_DOWN = "Slow down a little: at most {n} questions a minute. Try again in {wait} seconds."
FAILED = "Sorry, that question could not be answered just now; the team running the tracker can see why in its log."


class RateLimiter:
    """At most `limit` hits per key in any `window` seconds (a sliding window); idle keys are forgotten."""

    def __init__(self, limit: int = RATE_LIMIT, window: float = RATE_WINDOW, clock=time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: dict[str, deque] = defaultdict(deque)
        self._swept = clock()

    def hit(self, key: str) -> float:
        """Record one hit; 0 when allowed, else the seconds to wait (the hit is not counted)."""
        now = self.clock()
        if now - self._swept >= self.window:
            self.forget_idle(now)
        q = self._hits[key]
        while q and now - q[0] >= self.window:
            q.popleft()
        if len(q) >= self.limit:
            return self.window - (now - q[0])
        q.append(now)
        return 0.0

    def blocked(self, key: str) -> float:
        """The seconds `key` must wait before its next hit would be allowed (0: it would be); records nothing."""
        q = self._hits.get(key)
        if not q or len(q) < self.limit:
            return 0.0
        left = self.window - (self.clock() - q[-self.limit])
        return max(0.0, left)

    def forget_idle(self, now: float | None = None) -> None:
        """Drop every key with no hit in the last window (run at most once a window, by hit)."""
        now = self.clock() if now is None else now
        self._swept = now
        for k in [k for k, q in self._hits.items() if not q or now - q[-1] >= self.window]:
            del self._hits[k]

    def __len__(self) -> int:
        return len(self._hits)


class Answering:
    """The answers acknowledged and still being built or sent, so that a stopping process can finish them."""

    def __init__(self):
        self._tasks: set = set()

    def add(self) -> None:
        """Count the running task (a Bolt listener, after its acknowledgement)."""
        import asyncio

        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def __len__(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float) -> int:
        """Wait up to `timeout` seconds for the acknowledged answers; the number still unfinished."""
        import asyncio

        pending = {t for t in self._tasks if not t.done()}
        if pending:
            log.info("stopping: finishing %s acknowledged answer(s) (up to %s s)", len(pending), timeout)
            _, pending = await asyncio.wait(pending, timeout=timeout)
            if pending:
                log.warning("stopping: %s answer(s) not finished in %s s", len(pending), timeout)
        return len(pending)


# --- the request before Bolt sees it ---------------------------------------------------------------------

def check_request(headers, body: bytes) -> tuple[int, str] | None:
    """(status, text) for a request Bolt cannot safely be given (bad headers or body), else None."""
    ts, sig = headers.get("x-slack-request-timestamp"), headers.get("x-slack-signature")
    if not ts or not sig:
        return 401, "unsigned"
    if not (ts.isascii() and ts.isdigit() and len(ts) <= 12):
        return 400, "X-Slack-Request-Timestamp must be a Unix time in seconds"
    if not (sig.isascii() and sig.startswith("v0=") and len(sig) <= 100):
        return 401, "bad signature"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return 400, "the body is not UTF-8"
    return None


def response_url_allowed(url: str, settings: Settings) -> bool:
    """True for Slack's own response URLs: https on hooks.slack.com, or the host of SLACK_API_URL (GovSlack, tests)
    or its hooks. host."""
    from urllib.parse import urlsplit

    try:
        u = urlsplit(url or "")
        host, port = u.hostname, u.port
    except ValueError:
        return False
    if not host or u.username or u.password:
        return False
    if u.scheme == "https" and host == "hooks.slack.com" and port in (None, 443):
        return True
    if settings.slack_api_url:
        api = urlsplit(settings.slack_api_url)
        return (u.scheme == api.scheme and port == api.port
                and host in (api.hostname, f"hooks.{api.hostname}"))
    return False


class ResponseSender:
    """Posts answers to a command's response_url: JSON, no redirects followed, a 10 s timeout."""

    def __init__(self):
        self._session = None

    async def post(self, url: str, payload: dict) -> int:
        """POST the payload; the HTTP status (a redirect is not followed and counts as a failure)."""
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        async with self._session.post(url, json=payload, allow_redirects=False) as res:
            await res.read()
            if res.status >= 300:
                log.warning("response_url answered HTTP %s; the answer was not delivered", res.status)
            return res.status

    async def close(self) -> None:
        """Close the connections."""
        if self._session is not None:
            await self._session.close()


def api_url(settings: Settings) -> str:
    """The Slack Web API base (SLACK_API_URL or Slack's own), ending in '/'."""
    base = settings.slack_api_url or DEFAULT_API_URL
    return base if base.endswith("/") else base + "/"


def _file_name(reply: Reply) -> str:
    return reply.image_path.strip("/").replace("/", "-")


def build_slack_app(settings: Settings, service: ChatService, *, socket_mode: bool = False,
                    limiter: RateLimiter | None = None, answering: Answering | None = None):
    """The AsyncApp with the slash command; HTTP mode needs SLACK_SIGNING_SECRET.

    `answering` counts the answers acknowledged and not yet sent (a stopping process finishes them).
    """
    from slack_bolt.async_app import AsyncApp
    from slack_bolt.authorization import AuthorizeResult
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.logs import bolt_logger, clip
    from tracker.errors import ConfigError

    if not socket_mode and not settings.slack_signing_secret:
        raise ConfigError("setting SLACK_SIGNING_SECRET is not set: Slack's HTTP endpoint needs it to verify "
                          "requests (the app's Basic Information page shows it)")
    allowed = set(settings.slack_allowed_team_ids)
    limiter = limiter if limiter is not None else RateLimiter()
    answering = answering if answering is not None else Answering()
    sender = ResponseSender()
    bot_token = settings.slack_bot_token

    async def authorize(enterprise_id, team_id, **_):
        # One bot token for one workspace (or none: answers still go back through response_url).
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=bot_token)

    app = AsyncApp(
        signing_secret=settings.slack_signing_secret or "socket-mode-has-no-signing-secret",
        authorize=authorize,
        client=AsyncWebClient(base_url=api_url(settings), timeout=10),
        request_verification_enabled=not socket_mode,
        process_before_response=False,
        # Bolt logs a refused request's whole body at INFO, with the level it copies from this logger.
        logger=bolt_logger(),
    )
    app.answering = answering
    app.response_sender = sender         # closed by the process when it stops

    @app.middleware
    async def only_allowed_workspaces(context, next):
        # Runs after Bolt's signature check; refuses in the acknowledgement itself, so nothing is
        # processed and nothing is sent to the request's response_url.
        if allowed and context.team_id not in allowed:
            from slack_bolt.response import BoltResponse

            log.warning("refused a request from a workspace not in SLACK_ALLOWED_TEAM_IDS")
            return BoltResponse(status=200, body=NOT_ALLOWED)
        return await next()

    @app.command(re.compile(r"^/"))
    async def on_command(ack, command, client):
        started = time.perf_counter()
        url = command.get("response_url") or ""
        if not response_url_allowed(url, settings):
            log.warning("refused a command whose response_url is not Slack's: %s", clip(url, 120))
            await ack(response_type="ephemeral", text="This request's response_url is not Slack's; it was not answered.")
            return
        user = f"{command.get('team_id')}:{command.get('user_id')}"
        wait = limiter.hit(user)
        if wait:
            await ack(response_type="ephemeral", text=SLOW_DOWN.format(n=limiter.limit, wait=int(wait) + 1))
            return
        await ack()
        answering.add()

        async def respond(**message):
            await sender.post(url, {**message, "replace_original": False})

        try:
            # Answered and built in a worker process: this process only acknowledges and sends.
            reply = await service.reply(command.get("text") or "", "slack", settings)
            upload = bool(reply.has_image and not reply.image_url and reply.public and bot_token)
            if reply.image_url:
                service.warm(reply)          # drawn by the time Slack fetches it
            await respond(**reply.message)
            log.info("answered %s in %.0f ms", reply.kind, 1000 * (time.perf_counter() - started))
        except Exception:
            log.exception("could not answer a slash command")
            try:
                await respond(response_type="ephemeral", text=FAILED)
            except Exception as e:  # noqa: BLE001  (Slack unreachable: nothing more to do)
                log.warning("could not tell Slack the answer failed: %s", type(e).__name__)
            return
        if upload:
            await _upload(client, respond, service, reply, command.get("channel_id"))

    return app


async def _upload(client, respond, service: ChatService, reply: Reply, channel: str | None) -> None:
    """Post the answer's picture into the channel as a file (public answers without a public archive)."""
    try:
        png = await service.image(reply)
        await client.files_upload_v2(channel=channel, file=png, filename=_file_name(reply),
                                     title=reply.title, alt_txt=reply.alt[:1000])
    except Exception as e:
        from slack_sdk.errors import SlackApiError

        reason = e.response.get("error", "error") if isinstance(e, SlackApiError) else type(e).__name__
        log.warning("could not upload the picture to Slack: %s", reason)
        hint = " Invite the app to this channel first." if reason in ("not_in_channel", "channel_not_found") else ""
        await respond(response_type="ephemeral",
                      text=f"The picture could not be posted ({reason}).{hint}")
