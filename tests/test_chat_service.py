"""The chat service: jobs by priority, answers built in worker processes, the warm-up of the latest pictures."""
from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

import bot.chat.workers as service
from bot import urls
from bot.chat.jobs_queue import Jobs
from bot.chat.service import ChatService, LiveFigures
from bot.chat.workers import WARM_UP, render_pool
from renderers import paths
from tracker.settings import Settings

SETTINGS = {"PUBLIC_BASE_URL": "https://tracker.example", "URL_SIGNING_KEY": "test-url-signing-key"}


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def small_store(store, small_frame):
    store.save_figures(small_frame, "test: the small frame")
    return store


def test_an_answer_overtakes_pictures_queued_before_it():
    async def go():
        pool = ThreadPoolExecutor(max_workers=1)
        jobs = Jobs(pool, slots=1)
        jobs.start()
        gate = threading.Event()
        order = []

        def job(name):
            if name == "first":
                gate.wait(5)
            order.append(name)
            return name

        first = asyncio.ensure_future(jobs.submit(WARM_UP, job, "first"))   # occupies the only worker
        await asyncio.sleep(0.05)
        later = [asyncio.ensure_future(jobs.submit(WARM_UP, job, f"warm-{i}")) for i in range(3)]
        await asyncio.sleep(0)
        answer = asyncio.ensure_future(jobs.submit(service.ANSWER, job, "answer"))
        drawing = asyncio.ensure_future(jobs.submit(service.ON_DEMAND, job, "asked-for picture"))
        await asyncio.sleep(0.05)
        gate.set()
        results = await asyncio.gather(first, *later, answer, drawing)
        jobs.stop()
        pool.shutdown()
        return order, results

    order, results = run(go())
    assert order == ["first", "answer", "asked-for picture", "warm-0", "warm-1", "warm-2"]
    assert results == ["first", "warm-0", "warm-1", "warm-2", "answer", "asked-for picture"]


def test_a_job_whose_asker_has_gone_is_not_run():
    async def go():
        pool = ThreadPoolExecutor(max_workers=1)
        jobs = Jobs(pool, slots=1)
        jobs.start()
        gate = threading.Event()
        ran = []

        def job(name):
            if name == "first":
                gate.wait(5)
            ran.append(name)

        first = asyncio.ensure_future(jobs.submit(WARM_UP, job, "first"))
        await asyncio.sleep(0.05)
        gone = asyncio.ensure_future(jobs.submit(WARM_UP, job, "gone"))
        await asyncio.sleep(0)
        gone.cancel()
        gate.set()
        await first
        await asyncio.sleep(0.05)
        jobs.stop()
        pool.shutdown()
        return ran

    assert run(go()) == ["first"]


def test_reply_is_built_in_a_worker_process_from_the_store(small_store, small_config):
    """A worker process reads the figures itself; its message is the one the answer function gives here."""
    from bot.chat.answer import answer, to_slack, to_teams
    from tracker.figures import FigureTable

    settings = Settings.from_env({**SETTINGS, "DATABASE_URL": small_store.url}, dotenv=False)
    figures = FigureTable(small_store.figures_frame())

    async def go():
        svc = ChatService(small_config, LiveFigures(small_store), pool=render_pool(1))
        await svc.start()
        try:
            assert svc.in_processes and svc.source == small_store.url
            slack = await svc.reply("cla cluster=south", "slack", settings)
            teams = await svc.reply("absence", "teams", settings)
            bad = await svc.reply("<!channel> nonsense", "slack", settings)
            png = await svc.image(slack)
            return slack, teams, bad, png
        finally:
            svc.close()

    slack, teams, bad, png = run(go())
    week = figures.latest_week()
    path = paths.curve_path(week, "South", "cla")
    expected_url = urls.public_url(settings, path, sign=True)
    assert slack.kind == "obsession" and slack.image_path == path and slack.image_url == expected_url
    assert slack.message == to_slack(answer("cla cluster=south", small_config, figures), image_url=expected_url)
    assert teams.message == to_teams(answer("absence", small_config, figures),
                                      image_url=urls.public_url(settings, paths.curve_path(week, "Testville", "absence"),
                                                                sign=True))
    assert bad.kind == "error" and not bad.has_image and "<!channel>" not in str(bad.message)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "South" in slack.alt and slack.title == "Children looked after: South"


def _wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def test_warm_up_draws_the_latest_week_and_again_after_a_reload(small_store, small_config, small_frame, monkeypatch):
    drawn = []
    real = service._draw

    def counting(kind, model):
        drawn.append(kind)
        return real(kind, model)

    monkeypatch.setattr(service, "_draw", counting)
    areas = [small_config.city, *small_config.clusters]
    n_obs = len(small_config.obsessions)
    # By hand: each area's tracker and one chart per obsession, and one breakdown per obsession.
    expected = len(areas) * (1 + n_obs) + n_obs

    async def go():
        svc = ChatService(small_config, LiveFigures(small_store, check_every=0), pool=render_pool(0),
                          warm_images=True)
        await svc.start()
        try:
            while svc.warmup.state != "done":
                await asyncio.sleep(0.02)
            first = dict(svc.warmup.as_dict())
            week = max(small_frame.week_commencing)
            keys = svc.cached()
            for area in areas:
                assert (paths.tracker_path(week, area, ".png"), first["figures_version"]) in keys
                for o in small_config.obsessions:
                    assert (paths.curve_path(week, area, o.key), first["figures_version"]) in keys
            assert len(drawn) == expected
            # Asked for now, a warmed picture is not drawn again.
            reply = await svc.reply("cla cluster=North", "slack", Settings.from_env(SETTINGS, dotenv=False))
            assert (await svc.image(reply))[:4] == b"\x89PNG" and len(drawn) == expected

            # A new week in the store: read again, the old pictures forgotten, the new week drawn.
            more = small_frame[small_frame.week_commencing == week].copy()
            more["week_commencing"] = [week + timedelta(days=7)] * len(more)
            small_store.save_figures(more, "test: one more week")
            while not (svc.warmup.state == "done" and svc.warmup.version == first["figures_version"] + 1):
                await asyncio.sleep(0.05)
            second = svc.warmup.as_dict()
            versions = {k[1] for k in svc.cached()}
            return first, second, versions, week
        finally:
            svc.close()

    first, second, versions, week = run(go())
    assert first["images"] == first["drawn"] == expected and first["week"] == week.isoformat()
    assert second["week"] == (week + timedelta(days=7)).isoformat() and second["drawn"] == expected
    assert versions == {second["figures_version"]}
    assert len(drawn) == 2 * expected


def test_one_row_tracker_is_that_row_of_the_whole_tracker(demo_figures, demo_config):
    from tracker.arithmetic import build_tracker

    whole = build_tracker(demo_figures, demo_config, None, "Seacroft Manston")
    for o in demo_config.obsessions:
        one = build_tracker(demo_figures, demo_config, None, "Seacroft Manston", obsessions=[o.key])
        assert one.rows == (whole.row(o.key),)
        assert (one.week, one.area, one.area_kind) == (whole.week, whole.area, whole.area_kind)
    both = build_tracker(demo_figures, demo_config, None, None, obsessions=["neet", "lac"])   # alias, any order
    assert [r.obsession.key for r in both.rows] == ["cla", "neet"]


def test_serve_and_its_workers_take_their_start_up_heap_out_of_full_collections(app, live_server):
    """`obsession serve` (settle=True) and each worker freeze what start-up left, so a full garbage
    collection no longer walks it (it stalled acknowledgements by 40-60 ms); apps built otherwise do not."""
    import gc

    from bot.chat.workers import render_pool, warm

    gc.unfreeze()
    try:
        live_server(app(warm=False))                  # started: its lifespan has run
        assert gc.get_freeze_count() == 0             # not asked: the caller's heap is left alone
        live_server(app(warm=False, settle=True))
        frozen = gc.get_freeze_count()
        # Every module, class and function loaded by then: tens of thousands of objects, not a handful.
        assert frozen > 20_000, frozen
    finally:
        gc.unfreeze()

    warm(None)                                        # in this process's thread (render_workers=0): no freeze
    assert gc.get_freeze_count() == 0
    pool = render_pool(1)
    try:
        assert pool.submit(gc.get_freeze_count).result(timeout=60) == 0
        assert pool.submit(warm, None).result(timeout=60) is True
        assert pool.submit(gc.get_freeze_count).result(timeout=60) > 20_000
    finally:
        pool.shutdown(wait=True)
