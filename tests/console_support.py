"""Helpers for the console's tests: a console on a copy of the seeded demo store, signing in, forms' tokens."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx

PASSWORD = "correct horse battery staple"
ACCOUNTS = {"viewer": "vera@leeds.example", "analyst": "ana@leeds.example", "approver": "abe@leeds.example"}


def make_console(seeded_db, folder: Path, live_server, config, env: dict | None = None, name: str = "console",
                 web: bool = False):
    """(base URL, Console, store URL): the console mounted at /console on a copy of the seeded store.

    web=True mounts it the way `obsession serve` does (the whole web process); otherwise the console alone.
    """
    from starlette.applications import Starlette

    from bot.console.auth import hash_password
    from bot.console.routes import mount
    from bot.console.store import ConsoleStore
    from tracker.settings import Settings
    from tracker.store import Store

    db = folder / f"{name}.db"
    shutil.copy(seeded_db, db)
    url = f"sqlite:///{db}"
    settings = Settings.from_env({"DATABASE_URL": url, "URL_SIGNING_KEY": "test-url-signing-key",
                                  "OUTBOX_DIR": str(folder / f"{name}-outbox"), **(env or {})}, dotenv=False)
    store = Store(url)
    store.create()
    hashed = hash_password(PASSWORD)
    db_ = ConsoleStore(store.engine)
    for role, email in ACCOUNTS.items():
        db_.add_user(email, role, hashed, "tests")
    if web:
        from bot.web import create_app

        app = create_app(settings, config, store, render_workers=0, warm=False)
        console = next(r.app.state.console for r in app.routes if getattr(r, "path", "") == "/console")
    else:
        m = mount(settings, config, store)
        app = Starlette(routes=[m])
        console = m.app.state.console
    return live_server(app), console, url


def token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def client(base: str) -> httpx.Client:
    """A browser-like client (cookies kept, redirects not followed)."""
    return httpx.Client(base_url=base, timeout=60, follow_redirects=False)


def sign_in(base: str, role: str = "analyst", email: str | None = None, password: str = PASSWORD) -> httpx.Client:
    """A client signed in with a local account."""
    c = client(base)
    page = c.get("/console/sign-in")
    r = c.post("/console/sign-in", data={"csrf": token(page.text), "email": email or ACCOUNTS[role],
                                         "password": password, "next": "/console/"})
    assert r.status_code == 303, r.text[:500]
    return c


def snapshot(url: str) -> dict:
    """Every row of every table in the store (to show that a refusal changed nothing)."""
    from sqlalchemy import MetaData, create_engine, select

    engine = create_engine(url)
    md = MetaData()
    md.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for name, t in md.tables.items():
            out[name] = sorted(repr(tuple(r)) for r in conn.execute(select(t)))
    engine.dispose()
    return out
