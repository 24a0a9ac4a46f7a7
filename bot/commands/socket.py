"""`obsession socket`: the slash command over Slack's Socket Mode (no public address needed)."""
from __future__ import annotations

import asyncio
import logging
import signal
import time

log = logging.getLogger("obsession.socket")

FRESH_URL = 10.0     # seconds a connection URL is used for after it was handed out; older ones are asked for again
# apps.connections.open errors that retrying cannot cure: the token is wrong.
BAD_TOKEN = ("invalid_auth", "not_authed", "not_allowed_token_type", "token_revoked", "account_inactive")


def run(args, ctx) -> int:
    """Connect with SLACK_APP_TOKEN and answer until stopped (SIGTERM or Ctrl-C)."""
    from tracker.errors import ConfigError

    s = ctx.settings
    if not s.slack_app_token or not s.slack_app_token.startswith("xapp-"):
        raise ConfigError("setting SLACK_APP_TOKEN must be the app-level token (xapp-...) with the "
                          "connections:write scope; create it under Basic Information > App-Level Tokens")
    from bot.logs import setup

    setup(logging.INFO)
    asyncio.run(_serve(ctx))
    return 0


async def _serve(ctx) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.chat.service import ChatService, LiveFigures
    from bot.chat.workers import settle_heap
    from bot.slack_app import Answering, api_url, build_slack_app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    service = ChatService(ctx.config, LiveFigures(ctx.store))
    handler = None
    answering = Answering()
    try:
        app = build_slack_app(ctx.settings, service, socket_mode=True, answering=answering)
        # apps.connections.open goes to SLACK_API_URL too (GovSlack, or a test server).
        handler = AsyncSocketModeHandler(app, ctx.settings.slack_app_token,
                                         web_client=AsyncWebClient(base_url=api_url(ctx.settings)))
        # The token is checked before the slower start (figures, drawing workers): a wrong one stops at once.
        opened = time.monotonic()
        await _first_url(handler, ctx.settings.slack_app_token)
        await service.start()
        settle_heap()         # full garbage collections skip what start-up left (bot/chat/workers.py)
        if time.monotonic() - opened > FRESH_URL:
            handler.client.wss_uri = None      # a slow start: the client asks for a fresh URL itself
        # connect() retries until it gets through; after that the client reconnects by itself
        # (disconnect messages, stale pings) and only needs stopping.
        connecting = asyncio.ensure_future(handler.connect_async())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if connecting.done() and not connecting.cancelled() and connecting.exception() is None:
            log.info("connected to Slack in Socket Mode: answering the slash command until stopped")
        await stopping
        log.info("stopping: closing the Socket Mode connection")
        connecting.cancel()
        await handler.close_async()      # no new commands; the acknowledged ones still go out (response_url)
        handler = None
        await answering.drain(float(ctx.settings.shutdown_timeout))
        await app.response_sender.close()
    finally:
        if handler is not None:
            await handler.close_async()
        service.close()


async def _first_url(handler, token: str) -> None:
    """Open the first connection URL here, so a wrong token stops with a clear message (the client would retry forever)."""
    from slack_sdk.errors import SlackApiError

    from tracker.errors import ConfigError

    try:
        opened = await handler.client.web_client.apps_connections_open(app_token=token)
    except SlackApiError as e:
        error = e.response.get("error")
        if error in BAD_TOKEN:
            raise ConfigError(f"Slack refused SLACK_APP_TOKEN ({error}): use the app-level token (xapp-...) with "
                              "the connections:write scope, from Basic Information > App-Level Tokens") from None
        log.warning("could not open a Socket Mode connection yet (%s); retrying", error)
        return
    except Exception as e:            # Slack unreachable for now: the client keeps trying
        log.warning("could not open a Socket Mode connection yet (%s); retrying", type(e).__name__)
        return
    handler.client.wss_uri = opened["url"]
