"""One-click unsubscribe: the signed link in each email works, a forged one does not, and the next
weekly run leaves the address out."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.test_weekly_run import addresses, city_frame, email_sub, env, send  # noqa: F401  (fixtures)

BASE = "https://tracker.example.gov.uk"


@pytest.fixture
def web(env, live_server):
    """The web process, served by uvicorn on loopback, on the same store and configuration as the weekly run."""
    import httpx

    from bot.web import create_app
    from tracker.config import load_config
    from tracker.settings import Settings

    settings = Settings.from_env(dotenv=False)
    app = create_app(settings, load_config(env["OBSESSION_CONFIG"]), render_workers=0, warm=False)
    with httpx.Client(base_url=live_server(app), timeout=30) as client:
        yield client


def _link(msg) -> str:
    https = [p.strip().strip("<>") for p in msg["List-Unsubscribe"].split(",") if "https://" in p]
    assert len(https) == 1
    return https[0]


@pytest.fixture
def sent(env, capsys):
    env["monkeypatch"].setenv("PUBLIC_BASE_URL", BASE)
    env["monkeypatch"].setenv("URL_SIGNING_KEY", "test-url-signing-key")
    env["configure"](email_sub("city", addresses(3)))
    assert send() == 0
    msgs = {m["To"]: m for m in env["box"].parsed()}
    assert len(msgs) == 3
    return msgs


def _path(url: str) -> str:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == BASE
    return f"{parts.path}?{parts.query}"


def test_one_click_unsubscribes_and_the_next_run_leaves_the_address_out(env, sent, web, capsys):
    msg = sent["person1@example.gov.uk"]
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = _path(_link(msg))
    # A browser's GET shows a button and changes nothing (link scanners fetch links too).
    page = web.get(path)
    assert page.status_code == 200 and "<form" in page.text and "person1@example.gov.uk" in page.text
    # The mail client's one-click POST (RFC 8058).
    r = web.post(path, content=b"List-Unsubscribe=One-Click",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and "will no longer get" in r.text
    assert web.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200   # twice is harmless

    capsys.readouterr()
    assert send("--force") == 0
    again = [m["To"] for m in env["box"].parsed()[3:]]
    assert sorted(again) == ["person0@example.gov.uk", "person2@example.gov.uk"]
    assert "1 address(es) unsubscribed" in capsys.readouterr().err


def test_a_forged_or_altered_link_changes_nothing(env, sent, web):
    path = _path(_link(sent["person1@example.gov.uk"]))
    forged = path.replace("person1", "person2")              # someone else's address, person1's signature
    assert web.post(forged, data={"List-Unsubscribe": "One-Click"}).status_code == 400
    assert web.post(path.split("&sig=")[0], data={"List-Unsubscribe": "One-Click"}).status_code == 400
    assert web.get(forged).status_code == 400
    assert send("--force") == 0
    assert len(env["box"].parsed()) == 6                      # everyone got the second run


def test_no_one_click_link_without_a_signing_key(env, capsys):
    env["monkeypatch"].setenv("PUBLIC_BASE_URL", BASE)
    for name in ("URL_SIGNING_KEY", "ARCHIVE_TOKEN", "ARCHIVE_BASIC_AUTH", "SLACK_SIGNING_SECRET",
                 "TEAMS_OUTGOING_WEBHOOK_SECRET"):
        env["monkeypatch"].delenv(name, raising=False)
    env["configure"](email_sub("city", addresses(1)))
    assert send() == 0
    msg = env["box"].parsed()[0]
    assert "https://" not in msg["List-Unsubscribe"] and "mailto:" in msg["List-Unsubscribe"]
    assert msg["List-Unsubscribe-Post"] is None
