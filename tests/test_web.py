"""The web process: health, the archive's pages and images, closing the archive, reloading the figures."""
from __future__ import annotations

import base64
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest

from bot import urls

FIG2 = "2015-07-20"


@pytest.fixture(scope="module")
def open_base(app, live_server):
    return live_server(app())


@pytest.fixture(scope="module")
def token_base(app, live_server):
    return live_server(app({"ARCHIVE_TOKEN": "archive-token-0000001"}))


@pytest.fixture(scope="module")
def basic_base(app, live_server):
    return live_server(app({"ARCHIVE_BASIC_AUTH": "chair:agenda-pass-0000001"}))


def get(url: str, **kw) -> httpx.Response:
    return httpx.get(url, timeout=20, **kw)


def latest_week(frame) -> str:
    return max(frame.week_commencing.astype(str))


def image_src(page: str) -> str:
    srcs = re.findall(r'<img[^>]+src="([^"]+)"', page)
    assert srcs, "the page has no image"
    return srcs[0].replace("&amp;", "&")


def test_healthz(open_base, demo_frame):
    r = get(open_base + "/healthz")
    assert r.status_code == 200
    assert r.json()["ok"] is True and r.json()["latest_week"] == latest_week(demo_frame)


def test_home_is_the_latest_city_tracker_with_its_image(open_base, demo_frame):
    r = get(open_base + "/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    src = image_src(r.text)
    assert src.startswith(f"/trackers/{latest_week(demo_frame)}/leeds.png")
    img = get(open_base + src)
    assert img.status_code == 200 and img.headers["content-type"] == "image/png"
    assert img.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_figure2_page_has_the_published_figures(open_base):
    r = get(f"{open_base}/trackers/{FIG2}/leeds")
    assert r.status_code == 200
    for figure in ("1,247", "1,595", "4.4", "7.2"):
        assert figure in r.text
    assert "<script" not in r.text.lower()
    assert "script-src" not in r.headers["content-security-policy"]      # no scripts allowed at all
    assert r.headers["referrer-policy"] == "no-referrer"
    # Navigation to the week before and the other areas.
    assert '/trackers/2015-07-13/leeds"' in r.text and "/trackers/2015-07-20/seacroft-manston" in r.text


def test_cluster_page_and_withheld_figures(open_base):
    r = get(f"{open_base}/trackers/{FIG2}/headingley")
    assert r.status_code == 200 and "Headingley" in r.text
    assert ">c<" in r.text.replace(" ", "")


def test_any_day_redirects_to_the_monday(open_base):
    r = get(f"{open_base}/trackers/2015-07-23/leeds", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"].endswith(f"/trackers/{FIG2}/leeds")


@pytest.mark.parametrize("path", ["/trackers/2015-07-20/atlantis", "/trackers/not-a-date/leeds",
                                  "/trackers/1999-01-04/leeds", "/trackers/1999-01-04/leeds.png",
                                  "/breakdowns/2015-07-20/pizza", "/trackers/2015-07-20/leeds/pizza.png"])
def test_unknown_addresses_are_404(open_base, path):
    r = get(open_base + path)
    assert r.status_code == 404
    assert "Traceback" not in r.text


def test_breakdown_page_and_image_and_curve(open_base):
    r = get(f"{open_base}/breakdowns/{FIG2}/cla")
    assert r.status_code == 200 and "lagging" in r.text.lower()
    assert get(open_base + image_src(r.text)).content[:4] == b"\x89PNG"
    curve = get(f"{open_base}/trackers/{FIG2}/seacroft-manston/neet.png")
    assert curve.status_code == 200 and curve.content[:4] == b"\x89PNG"


def test_email_view_in_browser_links_are_served(open_base, figure2_tracker, cla_breakdown):
    from renderers.email import archive_path

    for model in (figure2_tracker, cla_breakdown):
        page = get(open_base + archive_path(model))
        assert page.status_code == 200 and "1,247" in page.text
        # An archive page says what the tracker is, but not how to stop getting an email.
        assert "To stop getting it" not in page.text
        assert get(open_base + image_src(page.text)).content[:4] == b"\x89PNG"


def test_an_image_is_drawn_once_and_then_served_from_the_cache(app, live_server, monkeypatch):
    import bot.chat.workers as service

    calls = []
    lock = threading.Lock()
    real = service._draw

    def counting(kind, model):
        with lock:
            calls.append((kind, model.area))
        time.sleep(0.2)                      # long enough for the requests below to overlap
        return real(kind, model)

    monkeypatch.setattr(service, "_draw", counting)
    base = live_server(app({"OBSESSION_TEST": "cache"}))
    url = f"{base}/trackers/{FIG2}/armley.png"
    with ThreadPoolExecutor(6) as pool:
        bodies = list(pool.map(lambda _: get(url).content, range(6)))
    assert len(set(bodies)) == 1 and bodies[0][:4] == b"\x89PNG"
    assert get(url).content == bodies[0]
    assert calls == [("png", "Armley")]


# ---- a closed archive ----------------------------------------------------------------------------

def test_token_closes_pages_but_signed_images_stay_open(token_base):
    page = f"{token_base}/trackers/{FIG2}/leeds"
    assert get(page).status_code == 401
    assert get(page, headers={"Authorization": "Bearer wrong"}).status_code == 401
    r = get(page, headers={"Authorization": "Bearer archive-token-0000001"})
    assert r.status_code == 200
    src = image_src(r.text)
    path, _, sig = src.partition("?sig=")
    assert path == f"/trackers/{FIG2}/leeds.png" and sig
    assert get(token_base + src).status_code == 200                   # signed: no token needed
    assert get(token_base + path).status_code == 401                  # unsigned
    assert get(token_base + path + "?sig=" + "A" * len(sig)).status_code == 401
    other = f"/trackers/{FIG2}/armley.png?sig={sig}"                  # a signature opens one image only
    assert get(token_base + other).status_code == 401


def test_token_in_the_address_becomes_a_cookie(token_base):
    with httpx.Client(base_url=token_base, timeout=20) as client:
        r = client.get(f"/trackers/{FIG2}/leeds?token=archive-token-0000001", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/trackers/{FIG2}/leeds"
        assert "httponly" in r.headers["set-cookie"].lower()
        assert client.get(f"/trackers/{FIG2}/leeds").status_code == 200
        assert client.get("/").status_code == 200


def test_basic_authentication(basic_base):
    page = f"{basic_base}/trackers/{FIG2}/leeds"
    r = get(page)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    assert get(page, auth=("chair", "wrong")).status_code == 401
    assert get(page, headers={"Authorization": "Basic !!!"}).status_code == 401
    assert get(page, auth=("chair", "agenda-pass-0000001")).status_code == 200
    assert get(basic_base + "/healthz").status_code == 200            # health checks need no log-in


def test_signature_is_the_hmac_of_the_path():
    from tracker.settings import Settings

    s = Settings.from_env({"URL_SIGNING_KEY": "k"}, dotenv=False)
    key = urls.signing_key(s)
    import hashlib
    import hmac

    expected = base64.urlsafe_b64encode(hmac.new(b"k", b"/trackers/2015-07-20/leeds.png", hashlib.sha256)
                                        .digest()).decode()[:22]
    assert urls.signed_path(s, "/trackers/2015-07-20/leeds.png") == f"/trackers/2015-07-20/leeds.png?sig={expected}"
    assert urls.verify(key, "/trackers/2015-07-20/leeds.png", expected)
    # Derived keys differ from the secret they come from, and between secrets.
    a = urls.signing_key(Settings.from_env({"ARCHIVE_TOKEN": "t1"}, dotenv=False))
    b = urls.signing_key(Settings.from_env({"ARCHIVE_TOKEN": "t2"}, dotenv=False))
    assert a != b and a != b"t1"
    assert urls.signing_key(Settings.from_env({}, dotenv=False)) is None


# ---- figures reloaded when the store changes -----------------------------------------------------

def test_figures_are_read_again_when_the_store_changes(app, live_server, demo_frame):
    from tracker.store import Store

    web = app({"OBSESSION_TEST": "reload"}, check_every=0)
    base = live_server(web)
    before = get(base + "/healthz").json()
    last = latest_week(demo_frame)
    frame = demo_frame[demo_frame.week_commencing.astype(str) == last].copy()
    new_week = (frame.week_commencing.iloc[0] + timedelta(days=7))
    frame["week_commencing"] = new_week
    store = Store(web.state.database_url)
    store.save_figures(frame, "test: one more week")
    store.engine.dispose()
    after = get(base + "/healthz").json()
    assert after["latest_week"] == str(new_week)[:10] != before["latest_week"]
    assert after["figures_version"] == before["figures_version"] + 1
    assert get(f"{base}/trackers/{str(new_week)[:10]}/leeds").status_code == 200
    # Unchanged store: no new read.
    assert get(base + "/healthz").json()["figures_version"] == after["figures_version"]
