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

from tracker.settings import Settings

from bot.chat.service import ChatService, Reply

log = logging.getLogger("obsession.slack")

DEFAULT_API_URL = "https://slack.com/api/"
RATE_LIMIT = 10              # commands ...
RATE_WINDOW = 60.0           # ... per user per this many seconds
NOT_ALLOWED = "This workspace is not allowed to ask the obsession tracker (SLACK_ALLOWED_TEAM_IDS)."
SLOW_DOWN = "Slow down a little: at most {n} questions a minute. Try again in {wait} seconds."
FAILED = "Sorry, that question could not be answered just now; the team running the tracker can see why in its log."


class RateLimiter:
    """At most `limit` hits per key in any `window` seconds (a sliding window)."""

    def __init__(self, limit: int = RATE_LIMIT, window: float = RATE_WINDOW, clock=time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: dict[str, deque] = defaultdict(deque)

    def hit(self, key: str) -> float:
        """Record one hit; 0 when allowed, else the seconds to wait (the hit is not counted)."""
        now = self.clock()
        q = self._hits[key]
        while q and now - q[0] >= self.window:
            q.popleft()
        if len(q) >= self.limit:
            return self.window - (now - q[0])
        q.append(now)
        if len(self._hits) > 10_000:       # forget idle users rather than grow without bound
            for k in [k for k, v in self._hits.items() if not v]:
                del self._hits[k]
        return 0.0


def api_url(settings: Settings) -> str:
    """The Slack Web API base (SLACK_API_URL or Slack's own), ending in '/'."""
    base = settings.slack_api_url or DEFAULT_API_URL
    return base if base.endswith("/") else base + "/"


def _file_name(reply: Reply) -> str:
    return reply.image_path.strip("/").replace("/", "-")


def build_slack_app(settings: Settings, service: ChatService, *, socket_mode: bool = False,
                    limiter: RateLimiter | None = None):
    """The AsyncApp with the slash command; HTTP mode needs SLACK_SIGNING_SECRET."""
    from slack_bolt.async_app import AsyncApp
    from slack_bolt.authorization import AuthorizeResult
    from slack_sdk.web.async_client import AsyncWebClient

    from tracker.errors import ConfigError

    if not socket_mode and not settings.slack_signing_secret:
        raise ConfigError("setting SLACK_SIGNING_SECRET is not set: Slack's HTTP endpoint needs it to verify "
                          "requests (the app's Basic Information page shows it)")
    allowed = set(settings.slack_allowed_team_ids)
    limiter = limiter or RateLimiter()
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
    )

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
    async def on_command(ack, command, respond, client):
        started = time.perf_counter()
        user = f"{command.get('team_id')}:{command.get('user_id')}"
        wait = limiter.hit(user)
        if wait:
            await ack(response_type="ephemeral", text=SLOW_DOWN.format(n=limiter.limit, wait=int(wait) + 1))
            return
        await ack()
        try:
            # Answered and built in a worker process: this process only acknowledges and sends.
            reply = await service.reply(command.get("text") or "", "slack", settings)
            upload = bool(reply.has_image and not reply.image_url and reply.public and bot_token)
            if reply.image_url:
                service.warm(reply)          # drawn by the time Slack fetches it
            await respond(**reply.message, replace_original=False)
            log.info("answered %s in %.0f ms", reply.kind, 1000 * (time.perf_counter() - started))
        except Exception:
            log.exception("could not answer a slash command")
            await respond(response_type="ephemeral", text=FAILED, replace_original=False)
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
        await respond(response_type="ephemeral", replace_original=False,
                      text=f"The picture could not be posted ({reason}).{hint}")
