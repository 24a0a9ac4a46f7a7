"""The tracker archive: each week's views (renderers/views.py) as pages and images, behind optional auth.

Each page has the same look as the email (pasteable into an agenda) and its image is drawn once and
cached by the chat service. Pages can be closed with ARCHIVE_TOKEN or ARCHIVE_BASIC_AUTH; images stay
fetchable by Slack and Teams through a signature in their URL (see bot/urls.py). Every route is a
view's route from the views table, located by one function (Archive.locate). The areas served are the
configured ones and those the store's current benchmark imports brought (England, the region, the
statistical neighbours), read again when the figures change; a configured area keeps its slug.

Held under hostile use: weeks are written one way only (YYYY-MM-DD; any other form is 404), a closed
archive answers 401 before it looks at the address, failed log-ins are throttled per client address
(429), tokens and passwords shorter than 16 characters are refused at start, the cookie holds a value
derived from the token (never the token), and pictures of weeks other than the latest are drawn at
most a few at a time per client, with 503 past a queue bound (the warm-up's pictures stay cached).
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import html
import logging
import re
from collections import OrderedDict, defaultdict
from datetime import date

from bot import urls
from bot.chat.service import ChatService
from renderers.palette import INK, MUTED
from renderers.paths import slug
from renderers.views import IMAGE, VIEWS, Place, View, view_of
from tracker.config import Config
from tracker.errors import ConfigError, ObsessionError
from tracker.figures import monday_of
from tracker.settings import Settings

log = logging.getLogger("obsession.web")

COOKIE = "obsession_archive"
MIN_SECRET = 16            # characters of ARCHIVE_TOKEN and of ARCHIVE_BASIC_AUTH's password
LOGIN_FAILURES = 10        # failed log-ins per client address ...
LOGIN_WINDOW = 60.0        # ... in this many seconds, then 429 until the window has passed
OLD_WEEK_DRAWS = 2         # pictures of weeks other than the latest drawn at once for one client address
OLD_WEEK_QUEUE = 16        # such drawings waiting or running, all clients together; past it 503
_WEEK = re.compile(r"\d{4}-\d{2}-\d{2}")
PAGE_CACHE = 256
# Files for meeting agendas: each view's page is also a Word and a PDF file ('.docx', '.pdf' for '.png'),
# and each tracker's week and area an agenda pack (PACK_ROUTE). Built in a worker; the last few kept.
DOCUMENTS = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "pdf": "application/pdf"}
DOCUMENT_CACHE = 16
PACK_ROUTE = "/packs/{week}/{area}"
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
        self.areas = {slug(a): a for a in (config.city, *config.clusters, *config.comparators)}   # configured
        self._served: tuple[int | None, dict] = (None, self.areas)   # (figures version, every area served)
        self.obsessions = {o.key for o in config.obsessions}
        self._pages: OrderedDict = OrderedDict()     # (path, figures version) -> page
        self._documents: OrderedDict = OrderedDict()  # (path, figures version) -> .docx or .pdf bytes
        from bot.slack_app import RateLimiter

        self.failures = RateLimiter(LOGIN_FAILURES, LOGIN_WINDOW)     # client address -> failed log-ins
        self._drawing: dict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(OLD_WEEK_DRAWS))
        self._old_week_jobs = 0
        check_secrets(settings)

    # -- access
    @property
    def closed(self) -> bool:
        """True when the pages need a token or a log-in."""
        return bool(self.settings.archive_token or self.settings.archive_basic_auth)

    def cookie_value(self) -> str:
        """What the archive cookie holds: an HMAC derived from the token (a stolen cookie is not the token)."""
        return hmac.new(self.settings.archive_token.encode(), b"obsession archive cookie v1", hashlib.sha256).hexdigest()

    def token_ok(self, offered: str | None) -> bool:
        """True when `offered` is the archive token (constant time)."""
        token = self.settings.archive_token
        return bool(token and offered) and hmac.compare_digest(offered.encode("utf-8", "replace"), token.encode())

    def _credentials(self, request) -> bool:
        """True when the request offers any credential (a cookie, a token, an Authorization header)."""
        return bool(request.cookies.get(COOKIE) or request.query_params.get("token")
                    or request.headers.get("authorization"))

    def authorised(self, request) -> bool:
        """True when the archive is open, or the request carries the token, its cookie or the user:password."""
        if not self.closed:
            return True
        auth = request.headers.get("authorization", "")
        if self.settings.archive_token:
            cookie = request.cookies.get(COOKIE, "")
            if cookie and hmac.compare_digest(cookie.encode("utf-8", "replace"), self.cookie_value().encode()):
                return True
            if self.token_ok(request.query_params.get("token")):
                return True
            if auth[:7].lower() == "bearer " and self.token_ok(auth[7:].strip()):
                return True
        basic = self.settings.archive_basic_auth
        if basic and auth[:6].lower() == "basic ":
            try:
                given = base64.b64decode(auth[6:].strip(), validate=True)
            except (binascii.Error, ValueError):
                return False
            return hmac.compare_digest(given, basic.encode("utf-8"))
        return False

    def gate(self, request):
        """None when the request may see the pages, else the answer: 429 for a client that failed too often, 401."""
        if not self.closed:
            return None
        client = _client(request)
        wait = self.failures.blocked(client)
        if wait:
            return self._throttled(wait)
        if self.authorised(request):
            return None
        if self._credentials(request):
            wait = self.failures.hit(client)
            if wait:
                return self._throttled(wait)
        return self.refuse()

    def _throttled(self, wait: float):
        from starlette.responses import PlainTextResponse

        return PlainTextResponse(f"Too many failed log-ins from this address; try again in {int(wait) + 1} seconds.",
                                 status_code=429, headers={**SECURITY_HEADERS, "Retry-After": str(int(wait) + 1)})

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

    def image_gate(self, request):
        """None when the image may be served (a signed address, or a log-in), else 429 or 401."""
        if urls.verify(self.key, request.url.path, request.query_params.get(urls.SIG_PARAM)):
            return None
        return self.gate(request)

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

    async def _png(self, key: str, view: View, place: Place, client: str = ""):
        from starlette.responses import PlainTextResponse, Response

        # The model is built and drawn in a worker, from the worker's own figures.
        version = await self.service.version()
        try:
            if self.service.has_png((key, version)) or await self._is_latest(place.week):
                png = await self.service.png((key, version), (view.name, place))
            else:
                # Another week's picture: drawn at most OLD_WEEK_DRAWS at a time for one client, and
                # refused past OLD_WEEK_QUEUE, so nobody can keep the workers busy or flush the cache.
                if self._old_week_jobs >= OLD_WEEK_QUEUE:
                    return PlainTextResponse("Too many pictures of past weeks are being drawn; try again shortly.",
                                             status_code=503, headers={**SECURITY_HEADERS, "Retry-After": "5"})
                self._old_week_jobs += 1
                try:
                    async with self._drawing[client]:
                        png = await self.service.png((key, version), (view.name, place))
                finally:
                    self._old_week_jobs -= 1
                    sem = self._drawing.get(client)
                    if sem is not None and not sem.locked() and not getattr(sem, "_waiters", None):
                        del self._drawing[client]
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
        link = lambda a: f'<a href="{tracker.path(Place(week, a))}">{html.escape(a)}</a>'  # noqa: E731
        areas = " · ".join(link(a) for a in (self.config.city, *self.config.clusters))
        imported = tuple(imported_areas(figures, self.config).values())
        benchmarks = f'<p>Benchmarks: {" · ".join(link(a) for a in imported)}</p>' if imported else ""
        obs = " · ".join(f'<a href="{breakdown.path(Place(week, obsession=o.key))}">{html.escape(o.label)}</a>'
                         for o in self.config.obsessions)
        # Colours from the one palette; dark mode and tap sizes in templates/email_base.html's style block.
        style = f"font:14px Arial,Helvetica,sans-serif;max-width:640px;margin:8px auto;padding:0 8px;color:{INK}"
        return (f'<nav aria-label="Archive" style="{style}">{" &nbsp; ".join(links)}'
                f'{self._downloads(view, place)}'
                f'<details style="margin-top:4px"><summary>Other areas and breakdowns</summary>'
                f'<p>{areas}</p>{benchmarks}<p>By cluster: {obs}</p></details></nav>')

    def _downloads(self, view: View, place: Place) -> str:
        """'Download for an agenda: Word · PDF': a tracker's agenda pack (its area's), a breakdown's own file."""
        if not all(fmt in view.formats for fmt in DOCUMENTS):
            return ""
        if view.name == "tracker":
            base, what = _pack_path(place), "the agenda pack: this tracker"
            what += ", each obsession by cluster and its turn-the-curve chart" if place.area == self.config.city \
                else " and its turn-the-curve charts"
        else:
            base, what = view.path(place), "this breakdown"
        link = lambda fmt, label: (f'<a href="{html.escape(urls.signed_path(self.settings, f"{base}.{fmt}"))}" '  # noqa: E731
                                   f'download>{label}</a>')
        return (f'<p style="margin:4px 0">Download for an agenda: {link("docx", "Word")} · {link("pdf", "PDF")} '
                f'<span style="color:{MUTED}">({html.escape(what)})</span></p>')

    async def served_areas(self) -> dict[str, str]:
        """Slug -> name of every area served now: the configured ones and the current imports' (read off the loop)."""
        version = await self.service.version()
        if self._served[0] != version:
            def read():
                now, figures = self.service.figures()
                return now, {**self.areas, **imported_areas(figures, self.config)}
            self._served = await self.service.in_thread(read)
        return self._served[1]

    async def _is_latest(self, week: date) -> bool:
        """True when `week` is the latest week of the figures."""
        _, figures = await self.service.in_thread(self.service.figures)
        return week == figures.latest_week()

    # -- endpoints
    async def home(self, request):
        """The latest week's city tracker."""
        refused = self.gate(request)
        if refused is not None:
            return refused
        _, figures = await self.service.in_thread(self.service.figures)
        week = figures.latest_week()
        if week is None:
            return self._not_found("There are no figures yet: run `obsession demo` or `obsession import FILE`.")
        view, place = VIEWS["tracker"], Place(week, self.config.city)
        return await self._page(view.path(place), view, place)

    def locate(self, request, view: View, params: dict | None = None,
               areas: dict | None = None) -> tuple[Place | None, bool]:
        """The request's week, area and obsession as a Place of `view`, and whether it asks for the image.

        (None, is_image) when the address names no such week, area or obsession. The last part of a
        view with a page may end in '.png' (its image); a view that is only a picture is routed with it.
        `areas` (slug -> name, see served_areas) defaults to the configured areas.
        """
        params = dict(request.path_params if params is None else params)
        last = view.fields[-1]
        suffix = "." + IMAGE
        is_image = not view.page or params.get(last, "").endswith(suffix)
        if view.page and is_image:
            params[last] = params[last][: -len(suffix)]
        if not _WEEK.fullmatch(params["week"]):      # one form only: 20261130 or 2026-W49-1 are not aliases
            return None, is_image
        try:
            week = date.fromisoformat(params["week"])
        except ValueError:
            return None, is_image
        area = obsession = None
        if "area" in view.fields:
            area = (self.areas if areas is None else areas).get(params["area"])
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
            if view.page and _document_format(request, view):
                return await self._serve_document(request, view, view.name)
            # A closed archive answers before it looks at the address (a 404 would tell which areas exist).
            last = request.path_params.get(view.fields[-1], "")
            wants_image = not view.page or last.endswith("." + IMAGE)
            refused = self.image_gate(request) if wants_image else self.gate(request)
            if refused is not None:
                return refused
            areas = await self.served_areas() if "area" in view.fields else None
            place, is_image = self.locate(request, view, areas=areas)
            if place is None:
                return self._not_found(f"No such {view.noun}: the address is {view.address()}.")
            if place.week.weekday():
                return self._redirect_monday(request, place.week)
            if is_image:
                return await self._png(request.url.path, view, place, _client(request))
            token_redirect = self._token_to_cookie(request)
            if token_redirect is not None:
                return token_redirect
            return await self._page(request.url.path, view, place)
        serve.__name__ = view.name
        return serve

    def routes(self) -> list:
        """The archive's routes: '/' and each view's route from the views table (a picture-only view with '.png'),
        and the agenda packs ('/packs/{week}/{area}.docx' or '.pdf')."""
        from starlette.routing import Route

        async def pack(request):
            return await self._serve_document(request, VIEWS["tracker"], "pack")

        # Longer routes first: '/trackers/{week}/{area}/{obsession}.png' before '/trackers/{week}/{area}'.
        views = sorted(VIEWS.values(), key=lambda v: -len(v.fields))
        return [Route("/", self.home),
                *(Route(v.route + ("" if v.page else "." + IMAGE), self.endpoint(v)) for v in views),
                Route(PACK_ROUTE, pack)]

    async def _serve_document(self, request, view: View, what: str):
        """A view's Word or PDF file, or (what 'pack') the agenda pack of a tracker's week and area: open,
        like the images, to a signed address or to anyone who may see the pages."""
        from starlette.responses import Response

        refused = self.image_gate(request)
        if refused is not None:
            return refused
        fmt = _document_format(request, view)
        if fmt is None or fmt not in view.formats:
            return self._not_found(f"No such file: the address is {_pack_path(None)}.docx (or .pdf).")
        params = dict(request.path_params)
        last = view.fields[-1]
        params[last] = params[last][: -len(fmt) - 1]
        areas = await self.served_areas() if "area" in view.fields else None
        place, _ = self.locate(request, view, params, areas)
        if place is None:
            return self._not_found(f"No such {'agenda pack' if what == 'pack' else view.noun}: the address is "
                                   + (f"{_pack_path(None)}.docx" if what == "pack" else f"{view.address()}.docx")
                                   + " (or .pdf).")
        if place.week.weekday():
            return self._redirect_monday(request, place.week)
        key = (request.url.path, await self.service.version())
        data = self._documents.get(key)
        if data is None:
            try:
                data = await self.service.document(key, (what, place, fmt))
            except ObsessionError as e:
                return self._not_found(str(e))
            for old in [k for k in self._documents if k[1] != key[1]]:
                del self._documents[old]
            self._documents[key] = data
            while len(self._documents) > DOCUMENT_CACHE:
                self._documents.popitem(last=False)
        else:
            self._documents.move_to_end(key)
        name = "agenda-pack" if what == "pack" else view.name
        subject = slug(place.area) if "area" in view.fields else place.obsession
        filename = f"{name}-{place.week.isoformat()}-{subject}.{fmt}"
        headers = {**SECURITY_HEADERS, "Cache-Control": ("private" if self.closed else "public") + ", max-age=300",
                   "Content-Disposition": f'attachment; filename="{filename}"'}
        return Response(data, media_type=DOCUMENTS[fmt], headers=headers)

    def _token_to_cookie(self, request):
        """A page opened with ?token= reloads without the token in the address; a right token sets the cookie
        (its derived value), a wrong one (with a good cookie or log-in) sets nothing."""
        from starlette.responses import RedirectResponse

        token = request.query_params.get("token")
        if not token or not self.settings.archive_token:
            return None
        resp = RedirectResponse(request.url.path, status_code=303, headers=SECURITY_HEADERS)
        if self.token_ok(token):
            https = request.url.scheme == "https" or (self.settings.public_base_url or "").startswith("https://")
            resp.set_cookie(COOKIE, self.cookie_value(), httponly=True, samesite="lax", max_age=30 * 24 * 3600,
                            secure=https)
        return resp


def check_secrets(settings: Settings) -> None:
    """ConfigError at start when ARCHIVE_TOKEN or ARCHIVE_BASIC_AUTH's password is shorter than MIN_SECRET."""
    token, basic = settings.archive_token, settings.archive_basic_auth
    if token is not None and len(token) < MIN_SECRET:
        raise ConfigError(f"setting ARCHIVE_TOKEN is {len(token)} characters; use at least {MIN_SECRET} "
                          "(e.g. python -c \"import secrets; print(secrets.token_urlsafe(24))\")")
    if basic is not None and len(basic.partition(":")[2]) < MIN_SECRET:
        raise ConfigError(f"setting ARCHIVE_BASIC_AUTH: the password is {len(basic.partition(':')[2])} characters; "
                          f"use at least {MIN_SECRET}")


def imported_areas(figures, config: Config) -> dict[str, str]:
    """Slug -> name of the areas the figures' benchmark imports brought (England, the region, the neighbours);
    known_areas has already left out any whose slug a configured area has."""
    from tracker.benchmarks import known_areas, published_of

    return {slug(name): name for name in known_areas(published_of(figures), config)}


def _client(request) -> str:
    """The client's address (the proxy's word for it only from FORWARDED_ALLOW_IPS: uvicorn's proxy headers)."""
    return request.client.host if request.client else ""


def _document_format(request, view: View) -> str | None:
    """'docx' or 'pdf' when the address's last part ends so, else None."""
    last = request.path_params.get(view.fields[-1], "")
    return next((fmt for fmt in DOCUMENTS if last.endswith("." + fmt) and len(last) > len(fmt) + 1), None)


def _pack_path(place: Place | None) -> str:
    """'/packs/2015-07-20/leeds' (add '.docx' or '.pdf'); with None the address written for people."""
    if place is None:
        return "/packs/YYYY-MM-DD/area-name"
    return PACK_ROUTE.replace("{week}", place.week.isoformat()).replace("{area}", slug(place.area or ""))


def _with_nav(page: str, nav: str) -> str:
    """The page with the navigation just inside <body>."""
    lower = page.lower()
    i = lower.find("<body")
    if i < 0:
        return nav + page
    j = page.find(">", i)
    return page[: j + 1] + nav + page[j + 1:]


