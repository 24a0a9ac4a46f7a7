"""The console's Starlette app, mounted at /console/ in the web process.

Every route goes through `Console.guard`: no session -> the sign-in page (nothing else is reachable,
images included); a role too low -> a refusal page; a POST without this session's CSRF token -> a
refusal. Refusals change nothing in the store.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import date
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from tracker.errors import ObsessionError

from . import sessions
from .auth import ConsoleSettings, groups_overage, identity, oidc_client, session_key, verify_password
from .pages import render, security_headers
from .roles import ROLES, ConsoleConfig, allows, role_for
from .sessions import User
from .store import ConsoleStore

SIGN_IN_FAILURES = 10       # wrong passwords per client address ...
SIGN_IN_WINDOW = 60.0       # ... in this many seconds, then 429 until the window has passed
log = logging.getLogger("obsession.console")
PREFIX = "/console"


class Console:
    """The console over one store and configuration."""

    def __init__(self, settings, config, store, console: ConsoleConfig | None = None,
                 console_settings: ConsoleSettings | None = None, figures=None):
        self.settings, self.config, self.store = settings, config, store
        self.console = console if console is not None else config.console
        self.cs = console_settings if console_settings is not None else ConsoleSettings.from_settings(settings)
        self.db = ConsoleStore(store.engine)
        self.key = session_key(self.cs, settings.url_signing_key)
        self.secure = bool(settings.public_base_url and settings.public_base_url.startswith("https://"))
        self.oidc = oidc_client(self.cs) if self.cs.oidc else None
        self._figures = figures
        self._live = None
        self._views: OrderedDict = OrderedDict()
        self._images: OrderedDict = OrderedDict()
        self.runs = None            # set by the approval module: background runs of held weeks
        from bot.slack_app import RateLimiter

        # Wrong passwords for local accounts, per client address: as the archive throttles its log-ins.
        self.failures = RateLimiter(SIGN_IN_FAILURES, SIGN_IN_WINDOW)

    # -- figures ---------------------------------------------------------------------------------------
    def figures(self):
        """(version, FigureTable): the web process's live figures, re-read when the store changes. Blocking."""
        if self._figures is not None:
            return self._figures()
        if self._live is None:
            from bot.chat.service import LiveFigures

            self._live = LiveFigures(self.store, check_every=0.5)
        return self._live.snapshot()

    def _cached(self, cache: OrderedDict, key, make, keep: int):
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        value = make()
        cache[key] = value
        while len(cache) > keep:
            cache.popitem(last=False)
        return value

    # -- sessions and access ---------------------------------------------------------------------------
    def user(self, request) -> User | None:
        """The signed-in user of a request (idle sessions, signed-out sessions and removed accounts: None)."""
        s = request.session
        if not sessions.alive(s):
            return None
        if self.db.signed_out(s["sid"]):
            s.clear()
            return None
        if s.get("via") == "local":
            account = self.db.user(s["u"])
            if account is None:
                s.clear()
                return None
            role = account["role"] if account["role"] in ROLES else None
        else:
            role = role_for(self.console, s["u"], s.get("g", []))
        return User(s["u"], role, s.get("via", "?"), s.get("n", s["u"]), s["sid"], s["csrf"])

    def respond(self, request, template: str, status: int = 200, user: User | None = None, **context):
        """A console page with the security headers."""
        page = render(template, user=user, csrf=sessions.csrf_token(request.session), prefix=PREFIX,
                      allows=lambda role: bool(user and allows(user.role, role)), oidc=bool(self.oidc),
                      city=self.config.city, **context)
        return HTMLResponse(page, status_code=status, headers=security_headers())

    def refuse(self, request, user, status: int, title: str, message: str):
        """A refusal page; nothing was changed."""
        return self.respond(request, "refused.html", status=status, user=user, title=title, message=message)

    def guard(self, role: str, handler, *, form: bool = False):
        """Wrap a handler: signed in, at least `role`, and for POSTs this session's CSRF token."""
        async def endpoint(request):
            user = await run_in_threadpool(self.user, request)
            if user is None:
                if request.method == "GET" and not request.url.path.startswith(PREFIX + "/img/"):
                    nxt = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
                    return RedirectResponse(f"{PREFIX}/sign-in?next={nxt}", status_code=303,
                                            headers=security_headers())
                return Response("Sign in to the console first.", status_code=401, media_type="text/plain",
                                headers=security_headers())
            if user.role is None:
                return self.no_access(request, user)
            if not allows(user.role, role):
                return self.refuse(request, user, 403, "Not allowed",
                                   f"This needs the {role} role; you are {_a(user.role)}. "
                                   f"Ask {self.owners()} to change your role in [console].")
            if request.method == "POST":
                if form and not self.size_ok(request):
                    return self.refuse(request, user, 413, "Upload too large",
                                       f"Uploads are limited to {self.cs.max_upload_mb} MB "
                                       "(CONSOLE_MAX_UPLOAD_MB); nothing was read or written. Split the file.")
                if not form and not self.size_ok(request, 64 * 1024):
                    return self.refuse(request, user, 413, "Form too large",
                                       "That form was larger than any of the console's forms; nothing was changed.")
                if form:
                    data = await self.read_upload_form(request, user)
                    if isinstance(data, Response):
                        return data
                else:
                    data = await request.form(max_part_size=64 * 1024, max_files=0)
                if not sessions.csrf_ok(request.session, data.get("csrf")):
                    return self.refuse(request, user, 403, "Form expired",
                                       "This form's security token is missing or out of date; nothing was changed. "
                                       "Go back, reload the page and try again.")
                return await handler(request, user, data)
            return await handler(request, user)
        return endpoint

    def size_ok(self, request, limit: int | None = None) -> bool:
        """False when the body is over the limit (default: the upload limit), refused before it is read.

        A form must declare its size; an upload that does not is refused by read_upload_form (411).
        """
        raw = request.headers.get("content-length")
        if raw is None:
            return limit is None
        return raw.isdigit() and int(raw) <= (limit or self.cs.max_upload_mb * 1024 * 1024 + 64 * 1024)

    async def read_upload_form(self, request, user):
        """A multipart form with files, read within the upload limit (the load module)."""
        from .load import read_upload_form

        return await read_upload_form(self, request, user)

    def prefix_url(self, path: str) -> str:
        """A console path."""
        return PREFIX + path

    def owners(self) -> str:
        """Who to ask: [quality] owners_email."""
        return ", ".join(self.config.quality.owners_email) or "the performance team ([quality] owners_email is empty)"

    def no_access(self, request, user):
        """The page for someone signed in with no role."""
        return self.respond(request, "no_access.html", status=403, user=user, owners=self.owners(), title="No access",
                            overage=bool(request.session.get("ov")))

    def audit(self, request, who: str, action: str, detail: str) -> None:
        """Keep one action in the audit log, with the caller's address."""
        self.db.audit(who, action, detail, request.client.host if request.client else "")

    # -- signing in and out ----------------------------------------------------------------------------
    def _next(self, request, value: str | None = None) -> str:
        nxt = value if value is not None else request.query_params.get("next", "")
        # Only a path inside the console: never an open redirect.
        if not nxt.startswith(PREFIX + "/") or nxt.startswith("//") or "\\" in nxt:
            return PREFIX + "/"
        return nxt

    async def sign_in_page(self, request, problem: str | None = None, status: int = 200):
        return self.respond(request, "sign_in.html", status=status, problem=problem,
                            next=self._next(request), title="Sign in")

    async def _too_many(self, request, wait: float):
        response = await self.sign_in_page(request, f"Too many wrong passwords from this address; try again in "
                                                    f"{int(wait) + 1} seconds.", 429)
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response

    async def sign_in(self, request):
        """POST: a local account's address and password."""
        raw = request.headers.get("content-length", "")
        if not raw.isdigit() or int(raw) > 16 * 1024:       # bounded before it is read
            return await self.sign_in_page(request, "That sign-in form was too large; try again.", 413)
        form = await request.form(max_part_size=8 * 1024, max_files=0)
        if not sessions.csrf_ok(request.session, form.get("csrf")):
            return await self.sign_in_page(request, "The form had expired; try again.", 403)
        client = request.client.host if request.client else ""
        if self.failures.blocked(client):
            return await self._too_many(request, self.failures.blocked(client))
        email = str(form.get("email", "")).strip().lower()[:320]
        password = str(form.get("password", ""))
        account = await run_in_threadpool(self.db.user, email) if email else None
        ok, rehash = await run_in_threadpool(verify_password, account["password_hash"] if account else None, password)
        if not ok:
            await run_in_threadpool(self.audit, request, email or "(none)", "sign-in refused", "local account: wrong address or password")
            wait = self.failures.hit(client)
            if wait:
                return await self._too_many(request, wait)
            return await self.sign_in_page(request, "That address and password do not match an account.", 401)
        if rehash:
            await run_in_threadpool(self.db.set_hash, email, rehash)
        sessions.begin(request.session, email, "local", email)
        await run_in_threadpool(self.audit, request, email, "sign-in", f"local account, role {account['role']}")
        return RedirectResponse(self._next(request, str(form.get("next", ""))), status_code=303,
                                headers=security_headers())

    async def oidc_start(self, request):
        """GET: off to the identity provider (authorization code with PKCE, state and nonce)."""
        if self.oidc is None:
            return await self.sign_in_page(request, "No identity provider is configured (OIDC_ISSUER).", 404)
        request.session["next"] = self._next(request)
        try:
            return await self.oidc.authorize_redirect(request, self.redirect_uri(request))
        except Exception as e:     # the provider is down or its discovery document is wrong
            log.warning("console: identity provider unreachable: %s", type(e).__name__)
            return await self.sign_in_page(request, "The identity provider could not be reached; try again "
                                                    "in a minute, or tell the performance team.", 502)

    def redirect_uri(self, request) -> str:
        """Where the provider sends the browser back: under PUBLIC_BASE_URL when set."""
        if self.settings.public_base_url:
            return self.settings.public_base_url + PREFIX + "/auth/callback"
        return str(request.url_for("console_callback"))

    async def oidc_callback(self, request):
        """GET: the provider's answer; the ID token's signature, issuer, audience, expiry and nonce checked."""
        from authlib.integrations.base_client.errors import OAuthError

        if self.oidc is None:
            return await self.sign_in_page(request, "No identity provider is configured (OIDC_ISSUER).", 404)
        nxt = request.session.get("next", PREFIX + "/")
        try:
            # Authlib checks the signature, nonce and expiry; the issuer and the audience are required here
            # too (its own check of the audience only looks at azp, so a token for another app could pass).
            token = await self.oidc.authorize_access_token(request, leeway=30, claims_options={
                "iss": {"essential": True, "values": [self.cs.oidc_issuer]},
                "aud": {"essential": True, "values": [self.cs.oidc_client_id]},
                "exp": {"essential": True}})
            userinfo = token.get("userinfo")
            if not userinfo:
                raise OAuthError(description="the provider sent no ID token")
        except Exception as e:   # OAuthError, JoseError (signature, claims), bad state, network
            why = getattr(e, "description", None) or getattr(e, "error", None) or type(e).__name__
            await run_in_threadpool(self.audit, request, "(unknown)", "sign-in refused", f"identity provider: {why}"[:500])
            return await self.sign_in_page(request, "Signing in with the identity provider did not work "
                                                    f"({why}); try again.", 401)
        email, groups, name = identity(userinfo)
        if email is None:
            await run_in_threadpool(self.audit, request, "(no email)", "sign-in refused", "the ID token names no email")
            return await self.sign_in_page(request, "The identity provider gave no email address for you; "
                                                    f"ask {self.owners()}.", 403)
        known = {e.strip().lower() for e in (*self.console.viewers, *self.console.analysts, *self.console.approvers)}
        overage = groups_overage(userinfo)
        sessions.begin(request.session, email, "oidc", name, [g.lower() for g in groups if g.lower() in known],
                       overage=overage)
        role = role_for(self.console, email, groups)
        note = " (the token did not list the user's groups: too many)" if overage else ""
        await run_in_threadpool(self.audit, request, email, "sign-in", f"identity provider, role {role or 'none'}{note}")
        return RedirectResponse(self._next(request, nxt), status_code=303, headers=security_headers())

    async def sign_out(self, request, user, form):
        """POST: end the session here and for any copy of its cookie."""
        await run_in_threadpool(self.db.sign_out, user.sid)
        await run_in_threadpool(self.audit, request, user.email, "sign-out", "")
        request.session.clear()
        return RedirectResponse(f"{PREFIX}/sign-in?signed_out=1", status_code=303, headers=security_headers())

    # -- the week ------------------------------------------------------------------------------------------
    def week_of(self, text: str | None, figures):
        """(week, requested) for a path part (a date or 'latest'); NotFound when there are no such figures."""
        from tracker.arithmetic import resolve_week

        requested = None
        if text and text != "latest":
            try:
                requested = date.fromisoformat(text)
            except ValueError:
                from tracker.errors import NotFound

                raise NotFound(f"{text!r} is not a week; the address is {PREFIX}/weeks/YYYY-MM-DD") from None
        return resolve_week(figures, requested), requested

    def unsubscribed(self) -> set:
        """(subscription, address) pairs that unsubscribed, read without creating anything."""
        from sqlalchemy import inspect, select

        from bot.ledger import unsubscribes_table as u

        if "unsubscribes" not in inspect(self.store.engine).get_table_names():
            return set()
        with self.store.engine.connect() as conn:
            return {(s, a) for s, a in conn.execute(select(u.c.subscription, u.c.address))}

    def week_view(self, text: str | None):
        """(version, WeekView) for a week, built once per figures version."""
        from .week import build_view

        version, figures = self.figures()
        week, requested = self.week_of(text, figures)
        unsub = self.unsubscribed()
        key = (version, week, requested is None, len(unsub))
        return version, self._cached(self._views, key,
                                     lambda: build_view(figures, self.config, week, requested, unsub), 16)

    def week_state(self, week: date) -> dict:
        """The week's approvals, holds, gate overrides and run (who, when, why)."""
        from .approval import week_state

        return week_state(self, week)

    async def week_page(self, request, user):
        try:
            version, view = await run_in_threadpool(self.week_view, request.path_params.get("week"))
        except ObsessionError as e:
            return self.refuse(request, user, 404, "No such week", str(e))
        state = await run_in_threadpool(self.week_state, view.week)
        return self.respond(request, "week.html", user=user, view=view, state=state,
                            title=f"Week commencing {view.week:%d %B %Y}")

    async def email_page(self, request, user):
        """The week's city email as it will look (its image from the console)."""
        from renderers.email import render_html
        from tracker.arithmetic import build_tracker

        from .week import tracker_src

        def make():
            version, figures = self.figures()
            week, _ = self.week_of(request.path_params["week"], figures)
            model = build_tracker(figures, self.config, week, None)
            return render_html(model, image_src=tracker_src(week, self.config.city), view_url=None, as_email=True)
        try:
            page = await run_in_threadpool(make)
        except ObsessionError as e:
            return self.refuse(request, user, 404, "No such week", str(e))
        return HTMLResponse(page, headers=security_headers())

    async def image(self, request, user):
        """A tracker or breakdown image of the console (behind the session like every page)."""
        from renderers.paths import slug
        from renderers.png import render_png
        from tracker.arithmetic import build_breakdown, build_tracker

        kind, name = request.path_params["kind"], request.path_params["name"]
        if not name.endswith(".png"):
            return Response("not found", status_code=404, headers=security_headers())
        name = name[:-4]
        areas = {slug(a): a for a in self.config.areas}
        keys = {o.key for o in self.config.obsessions}
        if (kind == "tracker" and name not in areas) or (kind == "breakdown" and name not in keys) \
                or kind not in ("tracker", "breakdown"):
            return Response("not found", status_code=404, headers=security_headers())

        def make():
            version, figures = self.figures()
            week, _ = self.week_of(request.path_params["week"], figures)
            def draw():
                model = (build_tracker(figures, self.config, week, areas[name]) if kind == "tracker"
                         else build_breakdown(figures, self.config, name, week))
                return render_png(model)
            return self._cached(self._images, (version, kind, week, name), draw, 64)
        try:
            png = await run_in_threadpool(make)
        except ObsessionError:
            return Response("not found", status_code=404, headers=security_headers())
        return Response(png, media_type="image/png", headers={**security_headers(), "Cache-Control": "private, max-age=300"})

    async def pick_week(self, request, user):
        """The week chooser's GET form: on to that week's page."""
        text = request.query_params.get("week", "")
        try:
            week = date.fromisoformat(text)
        except ValueError:
            return self.refuse(request, user, 404, "No such week", f"{text[:20]!r} is not a date (YYYY-MM-DD).")
        return RedirectResponse(f"{PREFIX}/weeks/{week.isoformat()}", status_code=303, headers=security_headers())

    async def not_found(self, request, user, form=None):
        """Any other address under /console/ (only after signing in: nothing is told to anyone else)."""
        return self.refuse(request, user, 404, "Not found", "There is no such page in the console.")

    async def home(self, request, user):
        return await self.week_page(request, user)


def _a(role: str) -> str:
    return ("an " if role[0] in "aeiou" else "a ") + role


def console_app(settings, config, store, console: ConsoleConfig | None = None,
                console_settings: ConsoleSettings | None = None, figures=None):
    """The console as an ASGI app to mount at /console (its own session cookie, path /console)."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    c = Console(settings, config, store, console, console_settings, figures)
    routes = [
        Route("/sign-in", c.sign_in_page, methods=["GET"]),
        Route("/sign-in", c.sign_in, methods=["POST"]),
        Route("/sign-in/oidc", c.oidc_start, methods=["GET"]),
        Route("/auth/callback", c.oidc_callback, methods=["GET"], name="console_callback"),
        Route("/sign-out", c.guard("viewer", c.sign_out), methods=["POST"]),
        Route("/", c.guard("viewer", c.home)),
        Route("/weeks/pick", c.guard("viewer", c.pick_week)),
        Route("/weeks/{week}", c.guard("viewer", c.week_page)),
        Route("/weeks/{week}/email", c.guard("viewer", c.email_page)),
        Route("/img/{kind}/{week}/{name}", c.guard("viewer", c.image)),
    ]
    from . import extra_routes

    routes += extra_routes(c)
    routes.append(Route("/{rest:path}", c.guard("viewer", c.not_found), methods=["GET", "POST"]))
    app = Starlette(routes=routes, middleware=[sessions.middleware(c.key, c.secure)])
    app.state.console = c
    return app


def mount(settings, config, store, **kw):
    """The Mount for the web process's routes: everything of the console under /console/."""
    from starlette.routing import Mount

    return Mount(PREFIX, app=console_app(settings, config, store, **kw))


__all__ = ["Console", "console_app", "mount", "ROLES"]
