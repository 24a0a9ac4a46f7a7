"""The web process (`obsession serve`): Slack's HTTP endpoint, Teams' outgoing webhook and the tracker archive.

One Starlette (ASGI) app served by uvicorn; this module wires the parts together: the chat service
(bot/chat/service.py) and its workers, the Slack and Teams endpoints, unsubscribing, and the archive's
pages and images (bot/archive.py). Every request body is limited by path before anything reads it
(bot/limits.py); a stopping process finishes the Slack answers it has acknowledged (up to
SHUTDOWN_TIMEOUT seconds) before its workers are stopped.
"""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from bot.archive import SECURITY_HEADERS, Archive  # noqa: F401  (bot/console imports SECURITY_HEADERS from here)
from bot.chat.service import ChatService, LiveFigures, render_pool
from bot.chat.workers import settle_heap
from tracker.config import Config
from tracker.settings import Settings

log = logging.getLogger("obsession.web")


def create_app(settings: Settings, config: Config, store=None, *, render_workers: int | None = None,
               check_every: float = 2.0, limiter=None, warm: bool = True, warm_images: bool | None = None,
               settle: bool = False):
    """The ASGI app: /healthz, /slack/events, /teams/messages and the archive.

    warm_images (default: when PUBLIC_BASE_URL is set and drawing is in worker processes) draws the
    latest week's pictures in the background after start and after each reload. settle (for
    `obsession serve`, the process's own app) takes the heap alive after start out of the garbage
    collector's full passes (bot/chat/workers.settle_heap).
    """
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    from bot.console.routes import mount as console_mount
    from bot.teams_app import teams_endpoint
    from bot.unsubscribe import unsubscribe_routes

    if store is None:
        from tracker.store import Store

        store = Store(settings.database_url)
        store.create()
    if warm_images is None:
        warm_images = bool(warm and settings.public_base_url and render_workers != 0)
    service = ChatService(config, LiveFigures(store, check_every=check_every),
                          pool=render_pool(render_workers) if render_workers is not None else None,
                          warm_images=warm_images)
    archive = Archive(settings, config, service)

    from bot.limits import BodyLimit, body_limits
    from bot.slack_app import Answering, check_request

    answering = Answering()
    slack_handler = slack_app = None
    if settings.slack_signing_secret:
        from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler

        from bot.slack_app import build_slack_app

        slack_app = build_slack_app(settings, service, limiter=limiter, answering=answering)
        slack_handler = AsyncSlackRequestHandler(slack_app)

    async def slack_events(request):
        if slack_handler is None:
            return PlainTextResponse("Slack is not configured here (SLACK_SIGNING_SECRET).", status_code=404)
        bad = check_request(request.headers, await request.body())     # the body: at most 64 KB (BodyLimit)
        if bad is not None:
            return PlainTextResponse(bad[1], status_code=bad[0])
        return await slack_handler.handle(request)

    async def healthz(request):
        version, figures = await service.in_thread(service.figures)
        latest = figures.latest_week()
        return JSONResponse({"ok": True, "figures_version": version,
                             "latest_week": latest.isoformat() if latest else None,
                             "warm_up": service.warmup.as_dict()})

    @asynccontextmanager
    async def lifespan(app):
        await service.start(warm=warm)
        if settle:
            settle_heap()
        log.info("web process ready: Slack %s, Teams %s, archive %s",
                 "on" if slack_handler else "off", "on" if settings.teams_outgoing_webhook_secret else "off",
                 "closed" if archive.closed else "open")
        try:
            yield
        finally:
            await answering.drain(float(settings.shutdown_timeout))
            if slack_app is not None:
                await slack_app.response_sender.close()
            service.close()

    async def favicon(request):
        from starlette.responses import Response

        return Response(status_code=204)      # browsers ask for one; an empty answer, not a 404

    routes = [
        Route("/healthz", healthz),
        Route("/favicon.ico", favicon),
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/teams/messages", teams_endpoint(settings, service), methods=["POST"]),
        *unsubscribe_routes(settings, config, store.url),
        *archive.routes(),
        console_mount(settings, config, store, figures=service.figures),     # /console/ (bot/console)
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    middleware=[Middleware(BodyLimit, limits=body_limits(settings))])
    app.state.service = service
    app.state.archive = archive
    app.state.answering = answering
    return app
