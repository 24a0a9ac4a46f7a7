"""Signing in to the console with OpenID Connect, against a real provider on loopback (tests/oidc_provider.py)."""
from __future__ import annotations

import dataclasses

import httpx
import pytest

from tests.console_support import make_console, snapshot, token
from tests.oidc_provider import Provider
from tracker.config import ConsoleRoles

USERS = {
    "viewer": {"sub": "v1", "email": "vic@leeds.example", "name": "Vic Viewer"},                 # by @domain
    "analyst": {"sub": "a1", "email": "ann@partner.example", "name": "Ann Analyst"},              # by address
    "approver": {"sub": "p1", "email": "pat@partner.example", "groups": ["0f6e-approvers"]},      # by group id
}
# Entra's app roles: the council's groups assigned to the app's roles; the token carries `roles`.
BY_APP_ROLE = {"sub": "r1", "email": "rob@partner.example", "roles": ["Tracker.Analyst"]}
# Entra past 200 groups: no `groups` claim, but a pointer to where they could be read (groups overage).
OVERAGE = {"sub": "o1", "email": "olly@partner.example", "_claim_names": {"groups": "src1"},
           "_claim_sources": {"src1": {"endpoint": "https://graph.windows.net/t/users/o1/getMemberObjects"}}}
NOBODY = {"sub": "n1", "email": "nobody@elsewhere.example"}


@pytest.fixture(scope="module")
def oidc(seeded_db, tmp_path_factory, live_server, demo_config):
    provider = Provider()
    provider.base = live_server(provider.app())
    config = dataclasses.replace(demo_config, console=ConsoleRoles(
        viewers=("@leeds.example",), analysts=("ann@partner.example", "tracker.analyst"), approvers=("0F6E-approvers",)))
    base, console, url = make_console(seeded_db, tmp_path_factory.mktemp("oidc"), live_server, config, {
        "OIDC_ISSUER": provider.base, "OIDC_CLIENT_ID": provider.client_id,
        "OIDC_CLIENT_SECRET": provider.client_secret})
    return provider, base, console, url


def _sign_in(provider, base, user, mode=None):
    provider.next_user, provider.mode = user, mode
    c = httpx.Client(base_url=base, timeout=60, follow_redirects=True)
    r = c.get("/console/sign-in/oidc?next=/console/weeks/latest")
    provider.mode = None
    return c, r


@pytest.mark.parametrize("role", list(USERS))
def test_a_good_sign_in_for_each_role(oidc, role):
    provider, base, console, _ = oidc
    c, r = _sign_in(provider, base, USERS[role])
    assert r.status_code == 200 and "Week commencing" in r.text, r.text[:300]
    assert f"{USERS[role]['email']} ({role})" in r.text
    assert str(r.url).endswith("/console/weeks/latest")
    q = provider.authorize_requests[-1]
    assert q["code_challenge_method"] == "S256" and q["state"] and q["nonce"] and "openid" in q["scope"]
    assert any(a["action"] == "sign-in" and a["who"] == USERS[role]["email"] for a in console.db.audit_log())
    # sign out: the session is over
    r = c.post("/console/sign-out", data={"csrf": token(r.text)})
    assert "/console/sign-in" in str(r.url)
    assert "/console/sign-in" in str(c.get("/console/").url)


def test_a_user_with_no_role_is_told_whom_to_ask(oidc, demo_config):
    provider, base, _, url = oidc
    c, r = _sign_in(provider, base, NOBODY)
    assert r.status_code == 403 and "You have no access" in r.text
    for owner in demo_config.quality.owners_email:
        assert owner in r.text
    before = snapshot(url)
    assert c.get("/console/img/tracker/2015-07-20/leeds.png").status_code == 403
    assert c.post("/console/weeks/2015-07-20/hold", data={"csrf": token(r.text), "reason": "x"}).status_code == 403
    assert snapshot(url) == before


@pytest.mark.parametrize("mode, why", [("wrong-aud", "aud"), ("wrong-aud-azp", "aud"), ("wrong-iss", "iss"),
                                       ("expired", "expired"), ("tampered", "signature"), ("other-key", "signature"),
                                       ("no-nonce", "nonce")])
def test_a_bad_id_token_is_refused(oidc, mode, why):
    provider, base, console, _ = oidc
    c, r = _sign_in(provider, base, USERS["approver"], mode)
    assert r.status_code == 401 and "did not work" in r.text
    assert "/console/sign-in" in str(c.get("/console/").url)           # not signed in
    assert console.db.audit_log()[0]["action"] == "sign-in refused"
    assert why in console.db.audit_log()[0]["detail"]


def test_a_replayed_state_is_refused(oidc):
    provider, base, _, _ = oidc
    provider.next_user = USERS["analyst"]
    c = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
    to_provider = c.get("/console/sign-in/oidc")
    back = httpx.get(to_provider.headers["location"], follow_redirects=False)
    callback = back.headers["location"]
    first = c.get(callback)
    assert first.status_code == 303 and first.headers["location"] == "/console/"
    again = c.get(callback)                                              # the same state (and code) again
    assert again.status_code == 401 and "did not work" in again.text
    other = httpx.Client(base_url=base, timeout=60)                     # a different browser
    assert other.get(callback).status_code == 401
    assert other.get("/console/").status_code == 303
    # a state never issued
    forged = callback.split("state=")[0] + "state=not-a-state-we-issued"
    assert httpx.Client(base_url=base, timeout=60).get(forged).status_code == 401


def test_the_sign_in_page_offers_the_council_account(oidc):
    _, base, _, _ = oidc
    page = httpx.get(base + "/console/sign-in")
    assert "Sign in with your council account" in page.text


def test_an_app_role_in_the_token_gives_the_role_it_is_listed_under(oidc):
    provider, base, console, _ = oidc
    c, r = _sign_in(provider, base, BY_APP_ROLE)
    assert r.status_code == 200 and "rob@partner.example (analyst)" in r.text


def test_a_token_without_its_groups_says_so_instead_of_a_bare_no_access(oidc):
    provider, base, console, _ = oidc
    c, r = _sign_in(provider, base, OVERAGE)
    assert r.status_code == 403 and "You have no access" in r.text
    assert "more groups than the identity provider" in r.text and "app's roles" in r.text
    assert "too many" in console.db.audit_log()[0]["detail"]
    # Someone else with no role is not told about groups they may not have.
    _, plain = _sign_in(provider, base, NOBODY)
    assert plain.status_code == 403 and "more groups" not in plain.text
