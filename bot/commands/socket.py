"""`obsession socket`: the slash command over Slack's Socket Mode (no public address needed)."""
from __future__ import annotations

import asyncio
import logging


def run(args, ctx) -> int:
    """Connect with SLACK_APP_TOKEN and answer until stopped."""
    from tracker.errors import ConfigError

    s = ctx.settings
    if not s.slack_app_token or not s.slack_app_token.startswith("xapp-"):
        raise ConfigError("setting SLACK_APP_TOKEN must be the app-level token (xapp-...) with the "
                          "connections:write scope; create it under Basic Information > App-Level Tokens")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(ctx))
    return 0


async def _serve(ctx) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.chat.service import ChatService, LiveFigures
    from bot.slack_app import api_url, build_slack_app

    service = ChatService(ctx.config, LiveFigures(ctx.store))
    await service.start()
    try:
        app = build_slack_app(ctx.settings, service, socket_mode=True)
        from slack_sdk.web.async_client import AsyncWebClient

        # apps.connections.open goes to SLACK_API_URL too (GovSlack, or a test server).
        handler = AsyncSocketModeHandler(app, ctx.settings.slack_app_token,
                                         web_client=AsyncWebClient(base_url=api_url(ctx.settings)))
        await handler.start_async()
    finally:
        service.close()
