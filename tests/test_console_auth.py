"""The console: local accounts, sessions (signed cookie, idle expiry, sign-out), CSRF, roles, refusals."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import time

import pytest

from tests.console_support import ACCOUNTS, PASSWORD, client, make_console, sign_in, snapshot, token

GET_PATHS = ["/console/", "/console/weeks/latest", "/console/weeks/2015-07-20", "/console/weeks/2015-07-20/email",
             "/console/weeks/pick?week=2015-07-20", "/console/load", "/console/revisions", "/console/loads",
             "/console/unsubscribes", "/console/audit", "/console/weeks/2015-07-20/deliveries",
             "/console/weeks/2015-07-20/run"]
IMAGE_PATHS = ["/console/img/tracker/2015-07-20/leeds.png", "/console/img/breakdown/2015-07-20/cla.png"]
POST_PATHS = ["/console/sign-out", "/console/load", "/console/load/confirm", "/console/weeks/2015-07-20/approve",
              "/console/weeks/2015-07-20/hold", "/console/weeks/2015-07-20/release",
              "/console/weeks/2015-07-20/retry"]


@pytest.fixture(scope="module")
def console(seeded_db, tmp_path_factory, live_server, demo_config):
    return make_console(seeded_db, tmp_path_factory.mktemp("console-auth"), live_server, demo_config)


def test_nothing_is_reachable_without_a_session(console):
    base, _, url = console
    before = snapshot(url)
    c = client(base)
    for path in GET_PATHS:
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/console/sign-in?next="), path
        assert "Week commencing" not in r.text
    for path in IMAGE_PATHS:
        r = c.get(path)
        assert r.status_code == 401 and r.headers.get("content-type", "").startswith("text/plain"), path
    for path in POST_PATHS:
        r = c.post(path, data={"csrf": "x", "reason": "r"})
        assert r.status_code == 401, path
    assert snapshot(url) == before


def test_each_role_signs_in_and_sees_the_week(console):
    base, _, _ = console
    for role in ACCOUNTS:
        c = sign_in(base, role)
        r = c.get("/console/")
        assert r.status_code == 200
        assert "Week commencing" in r.text and f"({role})" in r.text
        assert ("Load figures" in r.text) == (role in ("analyst", "approver"))
        assert ("Audit log" in r.text) == (role == "approver")
        img = c.get("/console/img/tracker/2015-07-20/leeds.png")
        assert img.status_code == 200 and img.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_cookie_is_signed_httponly_lax_and_path_console(console):
    base, _, _ = console
    c = client(base)
    page = c.get("/console/sign-in")
    r = c.post("/console/sign-in", data={"csrf": token(page.text), "email": ACCOUNTS["viewer"], "password": PASSWORD})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/console" in cookie
    assert "secure" not in cookie          # plain http: PUBLIC_BASE_URL is not https
    # the archive's security headers on every page
    for h in ("content-security-policy", "x-content-type-options", "referrer-policy"):
        assert h in c.get("/console/").headers


def test_secure_cookie_when_the_public_address_is_https(seeded_db, tmp_path_factory, live_server, demo_config):
    base, _, _ = make_console(seeded_db, tmp_path_factory.mktemp("https"), live_server, demo_config,
                              {"PUBLIC_BASE_URL": "https://tracker.leeds.example"})
    c = client(base)
    page = c.get("/console/sign-in")
    assert "secure" in page.headers["set-cookie"].lower()


def test_a_wrong_password_or_unknown_account_is_refused_and_audited(console):
    base, con, _ = console
    for email, password in ((ACCOUNTS["analyst"], "not the password at all"), ("nobody@leeds.example", PASSWORD)):
        c = client(base)
        page = c.get("/console/sign-in")
        r = c.post("/console/sign-in", data={"csrf": token(page.text), "email": email, "password": password})
        assert r.status_code == 401 and "do not match" in r.text
        assert c.get("/console/").status_code == 303
    actions = [(a["who"], a["action"]) for a in con.db.audit_log()]
    assert ("nobody@leeds.example", "sign-in refused") in actions


def test_sign_in_without_the_form_token_is_refused(console):
    base, _, _ = console
    c = client(base)
    c.get("/console/sign-in")
    r = c.post("/console/sign-in", data={"csrf": "forged", "email": ACCOUNTS["analyst"], "password": PASSWORD})
    assert r.status_code == 403
    assert c.get("/console/").status_code == 303


def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(console):
    base, con, _ = console
    c = sign_in(base, "viewer")
    copy = client(base)
    from bot.console.sessions import COOKIE

    copy.cookies.set(COOKIE, c.cookies.get(COOKIE), path="/console")
    assert copy.get("/console/").status_code == 200
    page = c.get("/console/")
    r = c.post("/console/sign-out", data={"csrf": token(page.text)})
    assert r.status_code == 303 and r.headers["location"].startswith("/console/sign-in")
    assert c.get("/console/").status_code == 303
    assert copy.get("/console/").status_code == 303          # the old cookie opens nothing
    assert any(a["action"] == "sign-out" and a["who"] == ACCOUNTS["viewer"] for a in con.db.audit_log())


def _forge(con, data: dict, signed_at: float | None = None) -> str:
    """A session cookie signed with the console's key (as the middleware would), optionally dated in the past."""
    import itsdangerous

    signer = itsdangerous.TimestampSigner(con.key)
    payload = base64.b64encode(json.dumps(data).encode())
    if signed_at is not None:
        signer.get_timestamp = lambda: int(signed_at)
    return signer.sign(payload).decode()


def test_a_session_idle_for_eight_hours_has_ended(console):
    base, con, _ = console
    c = sign_in(base, "analyst")
    from bot.console.sessions import COOKIE

    live = c.cookies.get(COOKIE)
    data = json.loads(base64.b64decode(live.rsplit(".", 2)[0]))
    nine_hours_ago = time.time() - 9 * 3600
    for cookie in (_forge(con, {**data, "seen": int(nine_hours_ago)}),            # idle by its own clock
                   _forge(con, data, signed_at=nine_hours_ago)):                  # signature too old
        stale = client(base)
        stale.cookies.set(COOKIE, cookie, path="/console")
        r = stale.get("/console/")
        assert r.status_code == 303 and "/console/sign-in" in r.headers["location"]
    fresh = client(base)
    fresh.cookies.set(COOKIE, _forge(con, {**data, "seen": int(time.time() - 7 * 3600)}), path="/console")
    assert fresh.get("/console/").status_code == 200                              # 7 hours idle: still on


def test_a_tampered_cookie_opens_nothing(console):
    base, _, _ = console
    c = sign_in(base, "approver")
    from bot.console.sessions import COOKIE

    value = c.cookies.get(COOKIE)
    data, rest = value.split(".", 1)
    changed = json.loads(base64.b64decode(data))
    changed["u"] = ACCOUNTS["approver"].replace("abe", "eve")
    forged = base64.b64encode(json.dumps(changed).encode()).decode() + "." + rest
    other = client(base)
    other.cookies.set(COOKIE, forged, path="/console")
    assert other.get("/console/").status_code == 303


def test_posts_without_or_with_a_wrong_csrf_token_change_nothing(console):
    base, _, url = console
    c = sign_in(base, "approver")
    before = snapshot(url)
    for path in POST_PATHS:
        for data in ({}, {"csrf": "wrong-token", "reason": "looks right"}):
            r = c.post(path, data=data)
            assert r.status_code == 403, (path, r.status_code)
    assert snapshot(url) == before
    assert c.get("/console/").status_code == 200          # still signed in


def test_a_removed_account_is_signed_out(console):
    base, con, _ = console
    from bot.console.auth import hash_password

    con.db.add_user("temp@leeds.example", "viewer", hash_password(PASSWORD), "tests")
    c = sign_in(base, email="temp@leeds.example")
    assert c.get("/console/").status_code == 200
    con.db.remove_user("temp@leeds.example")
    assert c.get("/console/").status_code == 303


def test_next_never_leaves_the_console(console):
    base, _, _ = console
    c = client(base)
    page = c.get("/console/sign-in")
    r = c.post("/console/sign-in", data={"csrf": token(page.text), "email": ACCOUNTS["viewer"], "password": PASSWORD,
                                         "next": "//evil.example/x"})
    assert r.headers["location"] == "/console/"


def _cli(args, env, stdin: str | None = None):
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120)


def test_console_user_command(demo_env, tmp_path):
    import os

    env = {**os.environ, **demo_env}
    r = _cli(["console-user", "add", "Ana@Leeds.example", "--role", "analyst", "--password-stdin"], env,
             "a long enough passphrase\n")
    assert r.returncode == 0, r.stderr
    r = _cli(["console-user", "list"], env)
    assert "ana@leeds.example\tanalyst" in r.stdout
    from bot.console.auth import verify_password
    from bot.console.store import ConsoleStore
    from tracker.store import Store

    db = ConsoleStore(Store(demo_env["DATABASE_URL"]).engine)
    stored = db.user("ana@leeds.example")["password_hash"]
    assert stored.startswith("$argon2id$") and "a long enough passphrase" not in stored
    assert verify_password(stored, "a long enough passphrase")[0]
    assert not verify_password(stored, "a long enough passphrasE")[0]
    r = _cli(["console-user", "add", "b@leeds.example", "--role", "viewer", "--password-stdin"], env, "short\n")
    assert r.returncode == 2 and "shorter than" in r.stderr and db.user("b@leeds.example") is None
    r = _cli(["console-user", "add", "not-an-address", "--role", "viewer", "--password-stdin"], env, "x" * 20 + "\n")
    assert r.returncode == 2 and "not an email address" in r.stderr
    r = _cli(["console-user", "add", "c@leeds.example", "--role", "viewer"], env, "")   # no terminal to ask
    assert r.returncode == 2 and "--password-stdin" in r.stderr
    r = _cli(["console-user", "remove", "ana@leeds.example"], env)
    assert r.returncode == 0 and db.user("ana@leeds.example") is None
    r = _cli(["console-user", "remove", "ana@leeds.example"], env)
    assert r.returncode == 2 and "no such console account" in r.stderr


def test_a_form_larger_than_any_console_form_is_refused_unread(console):
    base, _, url = console
    c = sign_in(base, "approver")
    page = c.get("/console/")
    before = snapshot(url)
    r = c.post("/console/weeks/2015-07-20/hold", data={"csrf": token(page.text), "reason": "x" * 100_000})
    assert r.status_code == 413
    r = c.post("/console/sign-in", data={"csrf": token(page.text), "email": "a" * 20_000, "password": "p"})
    assert r.status_code == 413
    assert snapshot(url) == before


def test_wrong_passwords_are_throttled_per_client_address(seeded_db, tmp_path_factory, live_server, demo_config):
    from bot.console.routes import SIGN_IN_FAILURES

    base, con, _ = make_console(seeded_db, tmp_path_factory.mktemp("console-throttle"), live_server, demo_config)
    c = client(base)

    def attempt(password: str):
        page = c.get("/console/sign-in")
        return c.post("/console/sign-in", data={"csrf": token(page.text), "email": ACCOUNTS["analyst"],
                                                 "password": password, "next": "/console/"})

    codes = [attempt("not the password at all").status_code for _ in range(SIGN_IN_FAILURES)]
    assert codes == [401] * SIGN_IN_FAILURES
    # Past the limit even the right password waits: guessing cannot go on at speed.
    r = attempt(PASSWORD)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0 and "Too many" in r.text
    assert c.get("/console/").status_code == 303
    con.failures.forget_idle(now=float("inf"))       # the window has passed
    assert attempt(PASSWORD).status_code == 303
