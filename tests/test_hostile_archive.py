"""The archive under hostile use: one form of date, no redirect loop, 401 before the path, throttled log-ins,
secrets of 16 characters, a derived cookie, and a cache nobody can flush."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tracker.errors import ConfigError

FIG2 = "2015-07-20"
TOKEN = "archive-token-hostile-01"


def get(url: str, **kw) -> httpx.Response:
    return httpx.get(url, timeout=30, **kw)


@pytest.fixture(scope="module")
def open_base(app, live_server):
    return live_server(app({"OBSESSION_TEST": "hostile-open"}))


def test_dates_have_one_form_and_there_is_no_redirect_loop(open_base):
    assert get(f"{open_base}/trackers/{FIG2}/leeds").status_code == 200
    for alias in ("20150720", "2015-W30-1", "2026-W49-2", "2015-7-20", "2015-07-20T00:00"):
        r = get(f"{open_base}/trackers/{alias}/leeds", follow_redirects=False)
        assert r.status_code == 404, alias
        assert get(f"{open_base}/trackers/{alias}/leeds.png", follow_redirects=False).status_code == 404
    # Another day of the week: one redirect to its Monday, which is served.
    r = get(f"{open_base}/trackers/2015-07-22/leeds", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == f"/trackers/{FIG2}/leeds"


@pytest.mark.parametrize("env", [{"ARCHIVE_TOKEN": "x"}, {"ARCHIVE_TOKEN": "a" * 15},
                                 {"ARCHIVE_BASIC_AUTH": "chair:short-pass"}])
def test_short_tokens_and_passwords_are_refused_at_start(app, env):
    with pytest.raises(ConfigError) as e:
        app(env)
    assert "ARCHIVE_" in str(e.value) and "16" in str(e.value)


def test_serve_refuses_a_short_token_with_a_message(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.setattr("bot.logs.setup", lambda *a: None)     # no log handler on this test's captured stderr
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'o.db'}")
    monkeypatch.setenv("ARCHIVE_TOKEN", "x")
    assert main(["serve", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "ARCHIVE_TOKEN" in err and "at least 16" in err


@pytest.fixture(scope="module")
def closed(app, live_server):
    web = app({"ARCHIVE_TOKEN": TOKEN, "PUBLIC_BASE_URL": "https://tracker.example.gov.uk"})
    return live_server(web), web


def test_a_closed_archive_answers_401_before_it_looks_at_the_path(closed):
    base, _ = closed
    for path in (f"/trackers/{FIG2}/leeds", f"/trackers/{FIG2}/no-such-area", "/trackers/20150720/nowhere",
                 f"/trackers/{FIG2}/no-such-area.png", f"/breakdowns/{FIG2}/no-such-obsession"):
        assert get(base + path).status_code == 401, path


def test_the_cookie_is_derived_secure_and_a_bad_token_never_replaces_it(closed):
    base, _ = closed
    with httpx.Client(base_url=base, timeout=30) as client:
        r = client.get(f"/trackers/{FIG2}/leeds?token={TOKEN}", follow_redirects=False)
        assert r.status_code == 303
        cookie = r.headers["set-cookie"]
        value = cookie.split(";")[0].split("=", 1)[1]
        assert TOKEN not in cookie and value and value != TOKEN
        assert "secure" in cookie.lower() and "httponly" in cookie.lower()    # https PUBLIC_BASE_URL, http request
    # (Secure: a client sends it back only over https, as the platform router's would; here it is sent by hand.)
    with httpx.Client(base_url=base, timeout=30, cookies={"obsession_archive": value}) as client:
        assert client.get(f"/trackers/{FIG2}/leeds").status_code == 200
        r = client.get(f"/trackers/{FIG2}/leeds?token=junk", follow_redirects=False)
        assert r.status_code == 303 and "set-cookie" not in r.headers
        assert client.get(f"/trackers/{FIG2}/leeds").status_code == 200       # the good cookie still works
    # The token itself is not a cookie value.
    assert get(f"{base}/trackers/{FIG2}/leeds", cookies={"obsession_archive": TOKEN}).status_code == 401


def test_failed_log_ins_are_throttled_per_client(app, live_server):
    from bot.archive import LOGIN_FAILURES

    base = live_server(app({"ARCHIVE_TOKEN": TOKEN, "OBSESSION_TEST": "throttle"}))
    page = f"{base}/trackers/{FIG2}/leeds"
    codes = [get(page, headers={"Authorization": f"Bearer wrong-{i}"}).status_code for i in range(LOGIN_FAILURES + 5)]
    assert codes[:LOGIN_FAILURES] == [401] * LOGIN_FAILURES
    assert set(codes[LOGIN_FAILURES:]) == {429}
    r = get(page, headers={"Authorization": f"Bearer {TOKEN}"})        # throttled: no more guesses answered
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0 and "try again" in r.text
    assert get(base + "/healthz").status_code == 200


def test_old_week_images_are_bounded_per_client_and_refused_past_the_queue(app, live_server, monkeypatch):
    from bot import archive
    from tests.hostile_support import slow_image_jobs

    monkeypatch.setattr(archive, "OLD_WEEK_DRAWS", 1)
    monkeypatch.setattr(archive, "OLD_WEEK_QUEUE", 3)
    most = slow_image_jobs(monkeypatch)
    web = app({"OBSESSION_TEST": "flood"})
    base = live_server(web)
    weeks = [f"2015-{m:02d}-{d:02d}" for m, d in ((6, 1), (6, 8), (6, 15), (6, 22), (6, 29), (7, 6), (7, 13), (5, 4))]
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda w: get(f"{base}/trackers/{w}/leeds.png").status_code, weeks))
    assert codes.count(503) >= 1 and codes.count(200) >= 1 and set(codes) <= {200, 503}
    assert most[0] == 1                 # one client: its old-week pictures drawn one at a time


@pytest.fixture
def small_store(store, small_frame):
    store.save_figures(small_frame, "test: the small frame")
    return store


def test_warm_up_pictures_are_never_evicted(small_store, small_config, monkeypatch):
    from bot.chat import service as service_module
    from bot.chat.service import ChatService, LiveFigures
    from bot.chat.workers import render_pool
    from renderers.views import VIEWS, Place

    monkeypatch.setattr(service_module, "IMAGE_CACHE", 3)

    async def go():
        svc = ChatService(small_config, LiveFigures(small_store, check_every=0), pool=render_pool(0),
                          warm_images=True)
        await svc.start()
        try:
            while svc.warmup.state != "done":
                await asyncio.sleep(0.02)
            version, figures = svc.figures()
            warmed = [(p, version) for p, _ in svc.latest_images(figures.latest_week())]
            assert warmed and all(svc.has_png(k) for k in warmed)
            tracker = VIEWS["tracker"]
            for week in figures.weeks()[:-1]:            # a flood of other weeks' pictures, past the LRU's size
                for area in (small_config.city, *small_config.clusters):
                    place = Place(week, area)
                    await svc.png((tracker.image_path(place), version), ("tracker", place))
            return [k for k in warmed if not svc.has_png(k)], len(figures.weeks())
        finally:
            svc.close()

    lost, n_weeks = asyncio.run(go())
    assert n_weeks > 2 and lost == []
