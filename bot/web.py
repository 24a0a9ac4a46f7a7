"""The web process (`obsession serve`): Slack's HTTP endpoint, Teams' outgoing webhook and the tracker archive.

One Starlette (ASGI) app served by uvicorn. The archive serves each week's tracker as a page with
the same look as the email (pasteable into an agenda) and its image, drawn once and cached. Pages
can be closed with ARCHIVE_TOKEN or ARCHIVE_BASIC_AUTH; images stay fetchable by Slack and Teams
through a signature in their URL (see bot/urls.py).
"""
from __future__ import annotations

import base64
import binascii
import hmac
import html
import logging
from contextlib import asynccontextmanager
from datetime import date

from tracker.config import Config
from tracker.errors import ObsessionError
from tracker.figures import monday_of
from tracker.settings import Settings

from bot import urls
from bot.chat.service import ChatService, LiveFigures

log = logging.getLogger("obsession.web")

COOKIE = "obsession_archive"
SECURITY_HEADERS = {
    # No scripts at all; inline styles because the page is the email's HTML.
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",     # tokens and signatures never leak in a Referer
}


class Archive:
    """The archive's routes: pages and images of trackers, charts and breakdowns, behind optional auth."""

    def __init__(self, settings: Settings, config: Config, service: ChatService):
        self.settings = settings
        self.config = config
        self.service = service
        self.key = urls.signing_key(settings)
        self.areas = {urls.slug(a): a for a in (config.city, *config.clusters, *config.comparators)}
        self.obsessions = {o.key for o in config.obsessions}

    # -- access
    @property
    def closed(self) -> bool:
        """True when the pages need a token or a log-in."""
        return bool(self.settings.archive_token or self.settings.archive_basic_auth)

    def authorised(self, request) -> bool:
        """True when the archive is open, or the request carries the token or the user:password."""
        if not self.closed:
            return True
        token = self.settings.archive_token
        auth = request.headers.get("authorization", "")
        if token:
            offered = [request.cookies.get(COOKIE, ""), request.query_params.get("token", "")]
            if auth[:7].lower() == "bearer ":
                offered.append(auth[7:].strip())
            if any(o and hmac.compare_digest(o.encode(), token.encode()) for o in offered):
                return True
        basic = self.settings.archive_basic_auth
        if basic and auth[:6].lower() == "basic ":
            try:
                given = base64.b64decode(auth[6:].strip(), validate=True)
            except (binascii.Error, ValueError):
                return False
            return hmac.compare_digest(given, basic.encode("utf-8"))
        return False

    def refuse(self):
        """401, with the browser's log-in box when basic authentication is set."""
        from starlette.responses import PlainTextResponse

        headers = dict(SECURITY_HEADERS)
        if self.settings.archive_basic_auth:
            headers["WWW-Authenticate"] = 'Basic realm="Obsession tracker archive", charset="UTF-8"'
        return PlainTextResponse("This archive is closed: log in, or add the archive token "
                                 "(Authorization: Bearer TOKEN, or ?token=TOKEN).", status_code=401, headers=headers)

    def image_allowed(self, request) -> bool:
        """Images open with a valid signature of their path, or to anyone who may see the pages."""
        if urls.verify(self.key, request.url.path, request.query_params.get(urls.SIG_PARAM)):
            return True
        return self.authorised(request)

    # -- responses
    def _not_found(self, what: str):
        from starlette.responses import HTMLResponse

        body = (f"<!doctype html><html lang=en><meta charset=utf-8><title>Not found</title>"
                f"<p>{html.escape(what)}</p><p><a href=\"/\">The latest tracker</a></p></html>")
        return HTMLResponse(body, status_code=404, headers=SECURITY_HEADERS)

    def _week(self, text: str) -> date | None:
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None

    def _redirect_monday(self, request, week: date):
        from starlette.responses import RedirectResponse

        monday = monday_of(week)
        path = request.url.path.replace(f"/{week.isoformat()}", f"/{monday.isoformat()}", 1)
        return RedirectResponse(path, status_code=308)

    async def _build(self, fn, *args):
        """Build a model in a thread from the current figures; NotFound -> None and its message."""
        def work():
            _, figures = self.service.figures()
            return fn(figures, self.config, *args)
        try:
            return await self.service.in_thread(work), None
        except ObsessionError as e:
            return None, str(e)

    async def _png(self, key: str, kind: str, build, *args):
        from starlette.responses import Response

        # The model is built and drawn in a worker, from the worker's own figures.
        try:
            png = await self.service.png((key, await self.service.version()), (kind, build, args))
        except ObsessionError as e:
            return self._not_found(str(e))
        headers = {**SECURITY_HEADERS, "Cache-Control": ("private" if self.closed else "public") + ", max-age=300"}
        return Response(png, media_type="image/png", headers=headers)

    async def _page(self, key: str, build, image_path: str, *args):
        from starlette.responses import HTMLResponse

        cache_key = (key, self.service.live.version)
        page = self.service.cached_page(cache_key)
        if page is None:
            model, problem = await self._build(build, *args)
            if model is None:
                return self._not_found(problem)
            page = await self.service.in_thread(self._render_page, model, image_path)
            self.service.keep_page(cache_key, page)
        return HTMLResponse(page, headers={**SECURITY_HEADERS, "Cache-Control": "private, max-age=60"})

    def _render_page(self, model, image_path: str) -> str:
        from renderers.email import render_html

        page = render_html(model, image_src=urls.signed_path(self.settings, image_path), view_url=None, as_email=False)
        return _with_nav(page, self._nav(model))

    def _nav(self, model) -> str:
        """Links to the weeks either side and to the other areas, above the email's content."""
        from tracker.model import Breakdown

        _, figures = self.service.figures()
        weeks = figures.weeks()
        week = model.week
        before = [w for w in weeks if w < week]
        after = [w for w in weeks if w > week]
        if isinstance(model, Breakdown):
            here = lambda w: urls.breakdown_path(w, model.obsession.key)  # noqa: E731
        else:
            here = lambda w: urls.tracker_path(w, model.area)  # noqa: E731
        links = []
        if before:
            links.append(f'<a href="{here(before[-1])}" rel="prev">&larr; week of {before[-1]:%d %b %Y}</a>')
        if after:
            links.append(f'<a href="{here(after[0])}" rel="next">week of {after[0]:%d %b %Y} &rarr;</a>')
        if weeks and after:
            links.append(f'<a href="{here(weeks[-1])}">latest</a>')
        areas = " · ".join(f'<a href="{urls.tracker_path(week, a)}">{html.escape(a)}</a>'
                           for a in (self.config.city, *self.config.clusters))
        obs = " · ".join(f'<a href="{urls.breakdown_path(week, o.key)}">{html.escape(o.label)}</a>'
                         for o in self.config.obsessions)
        style = "font:14px Arial,Helvetica,sans-serif;max-width:640px;margin:8px auto;padding:0 8px;color:#1A1A1A"
        return (f'<nav aria-label="Archive" style="{style}">{" &nbsp; ".join(links)}'
                f'<details style="margin-top:4px"><summary>Other areas and breakdowns</summary>'
                f'<p>{areas}</p><p>By cluster: {obs}</p></details></nav>')

    # -- endpoints
    async def home(self, request):
        """The latest week's city tracker."""
        if not self.authorised(request):
            return self.refuse()
        from tracker.arithmetic import build_tracker

        version, figures = await self.service.in_thread(self.service.figures)
        week = figures.latest_week()
        if week is None:
            return self._not_found("There are no figures yet: run `obsession demo` or `obsession import FILE`.")
        return await self._page(urls.tracker_path(week, self.config.city), build_tracker,
                                urls.tracker_path(week, self.config.city, ".png"), week, None)

    async def tracker(self, request):
        """/trackers/<week>/<area>: the page; /trackers/<week>/<area>.png: its image."""
        from tracker.arithmetic import build_tracker

        week = self._week(request.path_params["week"])
        name = request.path_params["area"]
        is_png = name.endswith(".png")
        name = name[:-4] if is_png else name
        if week is None or name not in self.areas:
            return self._not_found("No such tracker: the address is /trackers/YYYY-MM-DD/area-name.")
        if week.weekday():
            return self._redirect_monday(request, week)
        area = self.areas[name]
        return await self._serve(request, is_png, build_tracker, urls.tracker_path(week, area, ".png"), week, area)

    async def curve(self, request):
        """/trackers/<week>/<area>/<obsession>.png: the turn-the-curve chart."""
        from tracker.arithmetic import build_curve

        week = self._week(request.path_params["week"])
        name = request.path_params["area"]
        key = request.path_params["obsession"]
        if week is None or name not in self.areas or key not in self.obsessions:
            return self._not_found("No such chart: the address is /trackers/YYYY-MM-DD/area-name/obsession.png.")
        if week.weekday():
            return self._redirect_monday(request, week)
        if not self.image_allowed(request):
            return self.refuse()
        return await self._png(request.url.path, "curve", build_curve, key, self.areas[name], week)

    async def breakdown(self, request):
        """/breakdowns/<week>/<obsession>: one obsession across every cluster (page, or .png)."""
        from tracker.arithmetic import build_breakdown

        week = self._week(request.path_params["week"])
        key = request.path_params["obsession"]
        is_png = key.endswith(".png")
        key = key[:-4] if is_png else key
        if week is None or key not in self.obsessions:
            return self._not_found("No such breakdown: the address is /breakdowns/YYYY-MM-DD/obsession.")
        if week.weekday():
            return self._redirect_monday(request, week)
        return await self._serve(request, is_png, build_breakdown, urls.breakdown_path(week, key, ".png"), key, week)

    async def _serve(self, request, is_png: bool, build, image_path: str, *args):
        """A model's image (open to signed URLs) or its page (behind the archive's log-in)."""
        if is_png:
            if not self.image_allowed(request):
                return self.refuse()
            return await self._png(request.url.path, "png", build, *args)
        if not self.authorised(request):
            return self.refuse()
        token_redirect = self._token_to_cookie(request)
        if token_redirect is not None:
            return token_redirect
        return await self._page(request.url.path, build, image_path, *args)

    def _token_to_cookie(self, request):
        """A page opened with ?token= sets a cookie and reloads without the token in the address."""
        from starlette.responses import RedirectResponse

        token = request.query_params.get("token")
        if not token or not self.settings.archive_token:
            return None
        resp = RedirectResponse(request.url.path, status_code=303)
        resp.set_cookie(COOKIE, token, httponly=True, samesite="lax", max_age=30 * 24 * 3600,
                        secure=request.url.scheme == "https")
        return resp


def _with_nav(page: str, nav: str) -> str:
    """The page with the navigation just inside <body>."""
    lower = page.lower()
    i = lower.find("<body")
    if i < 0:
        return nav + page
    j = page.find(">", i)
    return page[: j + 1] + nav + page[j + 1:]


def create_app(settings: Settings, config: Config, store=None, *, render_workers: int | None = None,
               check_every: float = 2.0, limiter=None, warm: bool = True, warm_images: bool | None = None):
    """The ASGI app: /healthz, /slack/events, /teams/messages and the archive.

    warm_images (default: when PUBLIC_BASE_URL is set and drawing is in worker processes) draws the
    latest week's pictures in the background after start and after each reload.
    """
    from bot.unsubscribe import unsubscribe_routes
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    from bot.chat.service import render_pool
    from bot.teams_app import teams_endpoint

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

    slack_handler = None
    if settings.slack_signing_secret:
        from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler

        from bot.slack_app import build_slack_app

        slack_handler = AsyncSlackRequestHandler(build_slack_app(settings, service, limiter=limiter))

    async def slack_events(request):
        if slack_handler is None:
            return PlainTextResponse("Slack is not configured here (SLACK_SIGNING_SECRET).", status_code=404)
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
        log.info("web process ready: Slack %s, Teams %s, archive %s",
                 "on" if slack_handler else "off", "on" if settings.teams_outgoing_webhook_secret else "off",
                 "closed" if archive.closed else "open")
        try:
            yield
        finally:
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
        Route("/", archive.home),
        Route("/trackers/{week}/{area}/{obsession}.png", archive.curve),
        Route("/trackers/{week}/{area}", archive.tracker),
        Route("/breakdowns/{week}/{obsession}", archive.breakdown),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.service = service
    app.state.archive = archive
    return app
