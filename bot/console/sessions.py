"""The console's session: a signed cookie (Starlette's SessionMiddleware), 8 hours idle, a CSRF token per session."""
from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

COOKIE = "obsession_console"
IDLE = 8 * 3600            # seconds without a request after which the session has ended
TOUCH_EVERY = 60           # re-sign the cookie (sliding the idle expiry) at most once a minute


@dataclass(frozen=True)
class User:
    """Who is signed in, how, and with which role (None: signed in, but no access)."""

    email: str
    role: str | None
    via: str               # "local" or "oidc"
    name: str
    sid: str
    csrf: str


def middleware(key: str, secure: bool):
    """The cookie's middleware: HttpOnly, SameSite=Lax, Secure on https, path /console, 8 hours idle."""
    from starlette.middleware import Middleware
    from starlette.middleware.sessions import SessionMiddleware

    return Middleware(SessionMiddleware, secret_key=key, session_cookie=COOKIE, max_age=IDLE, path="/console",
                      same_site="lax", https_only=secure)


def csrf_token(session) -> str:
    """This session's CSRF token (made on first use, also before signing in)."""
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_ok(session, offered: str | None) -> bool:
    """True when a form's token is this session's."""
    token = session.get("csrf")
    return bool(token and offered and hmac.compare_digest(token.encode(), str(offered).encode()))


def begin(session, email: str, via: str, name: str, groups=(), overage: bool = False) -> str:
    """Start a signed-in session (a new id and CSRF token, so nothing from before signing in carries over).

    `overage`: the identity provider left the user's groups out of the token (too many to carry)."""
    session.clear()
    sid = secrets.token_urlsafe(24)
    session.update({"u": email, "via": via, "n": name[:200], "g": list(groups)[:50], "sid": sid,
                    "csrf": secrets.token_urlsafe(32), "seen": int(time.time())})
    if overage:
        session["ov"] = 1
    session.mark_modified() if hasattr(session, "mark_modified") else None
    return sid


def alive(session, now: float | None = None) -> bool:
    """True when the session is signed in and has not been idle for IDLE; slides the expiry."""
    now = time.time() if now is None else now
    seen = session.get("seen")
    if not session.get("u") or not isinstance(seen, (int, float)):
        return False
    if now - seen > IDLE or seen > now + 300:
        session.clear()
        return False
    if now - seen >= TOUCH_EVERY:
        session["seen"] = int(now)
    return True
