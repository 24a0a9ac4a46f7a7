"""Shared fixtures: a small figures frame, the demo figures, a built tracker, stores on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import uuid
from datetime import date

import pandas as pd
import pytest

from tracker.config import load_config, parse_config
from tracker.figures import COLUMNS, FigureTable

FIGURE2_WEEK = date(2015, 7, 20)
DEMO_UNTIL = date(2026, 11, 16)   # fixed, so tests do not change with the calendar

SMALL_CONFIG = """
[tracker]
city = "Testville"
suppress_below = 5

[obsessions.cla]
title = "Safely reduce the number of children looked after"
label = "Children looked after"
direction = "reduce"
unit = "count"
baseline_week = "2020-01-06"
aliases = ["lac"]

[obsessions.absence]
title = "Reduce school absence"
label = "Absence"
direction = "reduce"
unit = "percent"
baseline_week = "2020-01-06"
term_time_only = true

[obsessions.attend]
title = "Increase attendance at early help"
label = "Early help attendance"
direction = "increase"
unit = "count"
baseline_week = "2020-01-06"

[areas]
clusters = ["North", "South", "East"]
"""


@pytest.fixture(scope="session")
def small_config():
    """A three-cluster configuration with a count, a rate and an 'increase' obsession."""
    return parse_config(SMALL_CONFIG, "small.toml")


@pytest.fixture
def small_frame() -> pd.DataFrame:
    """A small figures frame worked by hand (see test_arithmetic for the expected results).

    Weeks: 2020-01-06 (baseline), 2020-01-13, then a holiday gap for absence on 2020-01-20, 2020-01-27.
    """
    w0, w1, w2, w3 = (date(2020, 1, 6), date(2020, 1, 13), date(2020, 1, 20), date(2020, 1, 27))
    rows = []
    cla = {  # city = sum of clusters
        w0: {"North": 40, "South": 30, "East": 30},
        w1: {"North": 38, "South": 31, "East": 29},
        w2: {"North": 37, "South": 3, "East": 30},     # South small: withheld (with a second cluster)
        w3: {"North": 36, "South": 29, "East": 28},
    }
    for w, parts in cla.items():
        rows.append((w, "cla", "Testville", sum(parts.values()), None, None))
        rows += [(w, "cla", a, v, None, None) for a, v in parts.items()]
    absence = {  # (numerator, denominator) per cluster; no figures in w2 (holiday)
        w0: {"North": (50, 1000), "South": (30, 500), "East": (20, 500)},
        w1: {"North": (40, 1000), "South": (25, 500), "East": (15, 500)},
        w3: {"North": (45, 1000), "South": (35, 500), "East": (20, 500)},
    }
    for w, parts in absence.items():
        n = sum(p[0] for p in parts.values())
        d = sum(p[1] for p in parts.values())
        rows.append((w, "absence", "Testville", 100 * n / d, n, d))
        rows += [(w, "absence", a, 100 * p[0] / p[1], p[0], p[1]) for a, p in parts.items()]
    for w, v in zip((w0, w1, w2, w3), (100, 104, 104, 110)):
        rows.append((w, "attend", "Testville", v, None, None))
    return pd.DataFrame(rows, columns=COLUMNS)


@pytest.fixture
def small_figures(small_frame) -> FigureTable:
    """The small frame as a FigureTable."""
    return FigureTable(small_frame)


@pytest.fixture(scope="session")
def demo_config():
    """The built-in Leeds demo configuration."""
    return load_config(None)


@pytest.fixture(scope="session")
def demo_frame(demo_config) -> pd.DataFrame:
    """The synthetic demo figures up to a fixed week."""
    from tracker.demo_data import demo_frame as make

    return make(demo_config, DEMO_UNTIL)


@pytest.fixture(scope="session")
def demo_figures(demo_frame) -> FigureTable:
    """The demo figures as a FigureTable (built once per test run)."""
    return FigureTable(demo_frame)


@pytest.fixture(scope="session")
def figure2_tracker(demo_figures, demo_config):
    """The city tracker for the week of Figure 2 (20 July 2015)."""
    from tracker.arithmetic import build_tracker

    return build_tracker(demo_figures, demo_config, FIGURE2_WEEK)


@pytest.fixture(scope="session")
def cluster_tracker(demo_figures, demo_config):
    """A cluster's tracker for the Figure 2 week (Seacroft Manston)."""
    from tracker.arithmetic import build_tracker

    return build_tracker(demo_figures, demo_config, FIGURE2_WEEK, "Seacroft Manston")


@pytest.fixture(scope="session")
def small_cluster_tracker(demo_figures, demo_config):
    """The tracker of a cluster whose counts are withheld (Headingley)."""
    from tracker.arithmetic import build_tracker

    return build_tracker(demo_figures, demo_config, FIGURE2_WEEK, "Headingley")


@pytest.fixture(scope="session")
def cla_breakdown(demo_figures, demo_config):
    """Children looked after across every cluster, Figure 2 week."""
    from tracker.arithmetic import build_breakdown

    return build_breakdown(demo_figures, demo_config, "cla", FIGURE2_WEEK)


def _database_urls():
    urls = ["sqlite"]
    if os.environ.get("TEST_DATABASE_URL"):
        urls.append("postgresql")
    return urls


@pytest.fixture(params=_database_urls())
def database_url(request, tmp_path):
    """A fresh, empty database: SQLite in tmp_path, and PostgreSQL (its own schema) when TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(database_url):
    """An empty Store with its tables, on each database under test."""
    from tracker.store import Store

    s = Store(database_url)
    s.create()
    yield s
    s.engine.dispose()


@pytest.fixture
def demo_env(tmp_path, monkeypatch):
    """An environment for running commands: a fresh SQLite store and outbox in tmp_path."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'obsessions.db'}", "OUTBOX_DIR": str(tmp_path / "outbox")}
    for k in list(os.environ):
        if k.startswith(("SMTP_", "SLACK_", "TEAMS_", "PUBLIC_BASE_URL", "OBSESSION_CONFIG", "MAIL_FROM")):
            monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(tmp_path)
    return env


# ---- the web process (chat and archive) ---------------------------------------------------------

WEB_SECRETS = {   # test values only
    "SLACK_SIGNING_SECRET": "test-signing-secret-0123456789abcdef",
    "TEAMS_OUTGOING_WEBHOOK_SECRET": "dGVzdC10ZWFtcy1vdXRnb2luZy13ZWJob29rLWtleSE=",   # base64 of a test key
    "URL_SIGNING_KEY": "test-url-signing-key",
}


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory, demo_frame):
    """A SQLite file holding the demo figures (seeded once per run; copy it before writing)."""
    from tracker.demo_data import SOURCE
    from tracker.store import Store

    path = tmp_path_factory.mktemp("seeded") / "obsessions.db"
    s = Store(f"sqlite:///{path}")
    s.create()
    s.save_figures(demo_frame, SOURCE)
    s.engine.dispose()
    return path


@pytest.fixture(scope="session")
def app(seeded_db, tmp_path_factory, demo_config):
    """Factory: app(env=None, **create_app options) -> the web app on a copy of the seeded store, test secrets set.

    The copy's URL is on the returned app as `app.state.database_url`. Drawing runs in threads
    (render_workers=0) unless a test asks for worker processes.
    """
    import shutil

    from bot.web import create_app
    from tracker.settings import Settings

    made = []
    folder = tmp_path_factory.mktemp("web")

    def make(env: dict | None = None, config=None, **options):
        db = folder / f"web-{len(made)}.db"
        shutil.copy(seeded_db, db)
        url = f"sqlite:///{db}"
        settings = Settings.from_env({"DATABASE_URL": url, **WEB_SECRETS, **(env or {})}, dotenv=False)
        options.setdefault("render_workers", 0)
        web = create_app(settings, config or demo_config, **options)
        web.state.database_url = url
        web.state.settings = settings
        made.append(web)
        return web

    return make


@pytest.fixture(scope="session")
def live_server():
    """Factory: live_server(asgi_app) -> 'http://127.0.0.1:PORT', a real uvicorn in a thread (stopped at the end)."""
    import socket
    import threading
    import time

    import uvicorn

    running = []

    def start(asgi_app) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(asgi_app, log_level="warning", lifespan="on", access_log=False))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web app did not start")
            time.sleep(0.02)
        running.append((server, thread, sock))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread, sock in running:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
