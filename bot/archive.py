"""The tracker archive: each week's views (renderers/views.py) as pages and images, behind optional auth.

Each page has the same look as the email (pasteable into an agenda) and its image is drawn once and
cached by the chat service. Pages can be closed with ARCHIVE_TOKEN or ARCHIVE_BASIC_AUTH; images stay
fetchable by Slack and Teams through a signature in their URL (see bot/urls.py). Every route is a
view's route from the views table, located by one function (Archive.locate).
"""
from __future__ import annotations

import base64
import binascii
import hmac
import html
from collections import OrderedDict
from datetime import date

from renderers.paths import slug
from renderers.views import IMAGE, VIEWS, Place, View, view_of
from tracker.config import Config
from tracker.errors import ObsessionError
from tracker.figures import monday_of
from tracker.settings import Settings

from bot import urls
from bot.chat.service import ChatService

COOKIE = "obsession_archive"
PAGE_CACHE = 256
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
        self.areas = {slug(a): a for a in (config.city, *config.clusters, *config.comparators)}
        self.obsessions = {o.key for o in config.obsessions}
        self._pages: OrderedDict = OrderedDict()     # (path, figures version) -> page

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

    def _redirect_monday(self, request, week: date):
        from starlette.responses import RedirectResponse

        monday = monday_of(week)
        path = request.url.path.replace(f"/{week.isoformat()}", f"/{monday.isoformat()}", 1)
        return RedirectResponse(path, status_code=308)

    async def _build(self, view: View, place: Place):
        """Build a view's model in a thread from the current figures; NotFound -> None and its message."""
        def work():
            _, figures = self.service.figures()
            return view.build_model(figures, self.config, place)
        try:
            return await self.service.in_thread(work), None
        except ObsessionError as e:
            return None, str(e)

    async def _png(self, key: str, view: View, place: Place):
        from starlette.responses import Response

        # The model is built and drawn in a worker, from the worker's own figures.
        try:
            png = await self.service.png((key, await self.service.version()), (view.name, place))
        except ObsessionError as e:
            return self._not_found(str(e))
        headers = {**SECURITY_HEADERS, "Cache-Control": ("private" if self.closed else "public") + ", max-age=300"}
        return Response(png, media_type="image/png", headers=headers)

    async def _page(self, key: str, view: View, place: Place):
        from starlette.responses import HTMLResponse

        cache_key = (key, self.service.live.version)
        page = self._cached_page(cache_key)
        if page is None:
            model, problem = await self._build(view, place)
            if model is None:
                return self._not_found(problem)
            page = await self.service.in_thread(self._render_page, model, view.image_path(place))
            self._keep_page(cache_key, page)
        return HTMLResponse(page, headers={**SECURITY_HEADERS, "Cache-Control": "private, max-age=60"})

    def _cached_page(self, key):
        """A page already built for key (path, figures version), or None."""
        page = self._pages.get(key)
        if page is not None:
            self._pages.move_to_end(key)
        return page

    def _keep_page(self, key, page: str) -> None:
        """Keep a built page; pages of other figures versions are forgotten (they are stale)."""
        for old in [k for k in self._pages if k[1] != key[1]]:
            del self._pages[old]
        self._pages[key] = page
        while len(self._pages) > PAGE_CACHE:
            self._pages.popitem(last=False)

    def _render_page(self, model, image_path: str) -> str:
        page = view_of(model).render("html", model, image_src=urls.signed_path(self.settings, image_path),
                                     view_url=None, as_email=False)
        return _with_nav(page, self._nav(model))

    def _nav(self, model) -> str:
        """Links to the weeks either side and to the other areas, above the email's content."""
        _, figures = self.service.figures()
        weeks = figures.weeks()
        week = model.week
        before = [w for w in weeks if w < week]
        after = [w for w in weeks if w > week]
        view = view_of(model)
        place = view.place_of(model)
        here = lambda w: view.path(Place(w, place.area, place.obsession))  # noqa: E731
        links = []
        if before:
            links.append(f'<a href="{here(before[-1])}" rel="prev">&larr; week of {before[-1]:%d %b %Y}</a>')
        if after:
            links.append(f'<a href="{here(after[0])}" rel="next">week of {after[0]:%d %b %Y} &rarr;</a>')
        if weeks and after:
            links.append(f'<a href="{here(weeks[-1])}">latest</a>')
        tracker, breakdown = VIEWS["tracker"], VIEWS["breakdown"]
        areas = " · ".join(f'<a href="{tracker.path(Place(week, a))}">{html.escape(a)}</a>'
                           for a in (self.config.city, *self.config.clusters))
        obs = " · ".join(f'<a href="{breakdown.path(Place(week, obsession=o.key))}">{html.escape(o.label)}</a>'
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
        _, figures = await self.service.in_thread(self.service.figures)
        week = figures.latest_week()
        if week is None:
            return self._not_found("There are no figures yet: run `obsession demo` or `obsession import FILE`.")
        view, place = VIEWS["tracker"], Place(week, self.config.city)
        return await self._page(view.path(place), view, place)

    def locate(self, request, view: View) -> tuple[Place | None, bool]:
        """The request's week, area and obsession as a Place of `view`, and whether it asks for the image.

        (None, is_image) when the address names no such week, area or obsession. The last part of a
        view with a page may end in '.png' (its image); a view that is only a picture is routed with it.
        """
        params = dict(request.path_params)
        last = view.fields[-1]
        suffix = "." + IMAGE
        is_image = not view.page or params.get(last, "").endswith(suffix)
        if view.page and is_image:
            params[last] = params[last][: -len(suffix)]
        try:
            week = date.fromisoformat(params["week"])
        except ValueError:
            return None, is_image
        area = obsession = None
        if "area" in view.fields:
            area = self.areas.get(params["area"])
            if area is None:
                return None, is_image
        if "obsession" in view.fields:
            obsession = params["obsession"]
            if obsession not in self.obsessions:
                return None, is_image
        return Place(week, area, obsession), is_image

    def endpoint(self, view: View):
        """The route handler of one view: its page (behind the archive's log-in) or its image (open to signed URLs)."""
        async def serve(request):
            place, is_image = self.locate(request, view)
            if place is None:
                return self._not_found(f"No such {view.noun}: the address is {view.address()}.")
            if place.week.weekday():
                return self._redirect_monday(request, place.week)
            if is_image:
                if not self.image_allowed(request):
                    return self.refuse()
                return await self._png(request.url.path, view, place)
            if not self.authorised(request):
                return self.refuse()
            token_redirect = self._token_to_cookie(request)
            if token_redirect is not None:
                return token_redirect
            return await self._page(request.url.path, view, place)
        serve.__name__ = view.name
        return serve

    def routes(self) -> list:
        """The archive's routes: '/' and each view's route from the views table (a picture-only view with '.png')."""
        from starlette.routing import Route

        # Longer routes first: '/trackers/{week}/{area}/{obsession}.png' before '/trackers/{week}/{area}'.
        views = sorted(VIEWS.values(), key=lambda v: -len(v.fields))
        return [Route("/", self.home),
                *(Route(v.route + ("" if v.page else "." + IMAGE), self.endpoint(v)) for v in views)]

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


