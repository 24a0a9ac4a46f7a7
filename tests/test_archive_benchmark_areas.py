"""The archive serves the areas a benchmark import brought (England, the region, the statistical neighbours).

The store is the demo's: its synthetic weekly figures and the real DfE and ONS files it imports
(tracker/published/, Open Government Licence v3.0; see tracker/published/README.md). Which areas
those files bring is worked out here from the files' own cells, never from the code under test.
"""
from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from docx import Document
from pypdf import PdfReader

from tests.conftest import DEMO_UNTIL

WEEK = DEMO_UNTIL.isoformat()          # the latest week of the demo figures
TOKEN = "archive-token-benchmarks-01"


def get(url: str, **kw) -> httpx.Response:
    return httpx.get(url, timeout=120, **kw)


def _published(name: str) -> list[dict]:
    from tracker.demo_data import published_files

    path = next(p for _, p in published_files() if p.name.startswith(name))
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def expected_areas() -> list[str]:
    """England, the city's region and its ten neighbours in model order, read from the files' cells."""
    sn = _published("sn_model")
    names = {r["old_la_code"]: r["la_name"] for r in sn}
    leeds = next(r for r in sn if r["la_name"] == "Leeds")
    return ["England", leeds["region_name"], *(names[leeds[f"SN_{i}"]] for i in range(1, 11))]


def url_slug(name: str) -> str:
    """'Bristol, City of' -> 'bristol-city-of', written out here as the addresses are."""
    return "-".join(re.findall(r"[a-z0-9]+", name.lower()))


def england_cla_rate() -> float:
    """England's children looked after per 10,000 children on 31 March 2025, from the file's count and population."""
    row = next(r for r in _published("cla_number") if r["geographic_level"] == "National"
               and r["time_period"] == "2025")
    return 10_000 * int(row["children_count"]) / int(row["population_estimate"])


def import_benchmarks(url: str, config) -> None:
    """Run the demo's benchmark imports into the store at url."""
    from data_sources.benchmark_import import import_published
    from tracker.demo_data import published_files
    from tracker.store import Store

    store = Store(url)
    try:
        for fmt, path in published_files():
            import_published(store, [path], config, fmt)
    finally:
        store.engine.dispose()


@pytest.fixture(scope="module")
def bench_db(seeded_db, tmp_path_factory, demo_config):
    """The seeded demo store with the demo's benchmark imports (copy it before writing)."""
    path = tmp_path_factory.mktemp("bench") / "bench.db"
    shutil.copy(seeded_db, path)
    import_benchmarks(f"sqlite:///{path}", demo_config)
    return path


@pytest.fixture(scope="module")
def bench_app(app, bench_db, tmp_path_factory):
    """Factory: bench_app(env=None, **options) -> the web app on a copy of the store with benchmarks."""
    folder = tmp_path_factory.mktemp("bench-web")
    made = []

    def make(env: dict | None = None, **options):
        db = folder / f"bench-{len(made)}.db"
        shutil.copy(bench_db, db)
        url = f"sqlite:///{db}"
        web = app({"DATABASE_URL": url, **(env or {})}, **options)
        web.state.database_url = url
        made.append(web)
        return web

    return make


@pytest.fixture(scope="module")
def open_base(bench_app, live_server):
    return live_server(bench_app())


@pytest.fixture(scope="module")
def closed(bench_app, live_server):
    web = bench_app({"ARCHIVE_TOKEN": TOKEN})
    return live_server(web), web


def image_src(page: str) -> str:
    srcs = re.findall(r'<img[^>]+src="([^"]+)"', page)
    assert srcs, "the page has no image"
    return html.unescape(srcs[0])


def benchmarks_nav(page: str) -> list[tuple[str, str]]:
    """The (href, name) links of the navigation's 'Benchmarks:' line."""
    m = re.search(r"<p>Benchmarks: (.*?)</p>", page, re.S)
    assert m, "the navigation has no 'Benchmarks:' line"
    return [(href, html.unescape(name)) for href, name in re.findall(r'<a href="([^"]+)">([^<]+)</a>', m.group(1))]


def downloads(page: str) -> dict[str, str]:
    m = re.search(r"Download for an agenda:(.*?)</p>", page, re.S)
    assert m, "the page has no 'Download for an agenda' line"
    return {label: html.unescape(href) for href, label in re.findall(r'<a href="([^"]+)"[^>]*>(Word|PDF)</a>',
                                                                       m.group(1))}


def is_png(r: httpx.Response) -> bool:
    return r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content[:8] == b"\x89PNG\r\n\x1a\n"


# ---- pages, images and files ------------------------------------------------------------------------

def test_the_england_tracker_page_and_its_image(open_base):
    r = get(f"{open_base}/trackers/{WEEK}/england")
    assert r.status_code == 200
    assert "Weekly obsessions tracker: England" in r.text
    assert f"England {round(england_cla_rate())}" in r.text          # its published figure beside the others
    src = image_src(r.text)
    assert src.startswith(f"/trackers/{WEEK}/england.png")
    assert is_png(get(open_base + src))


@pytest.mark.parametrize("name", expected_areas())
def test_every_imported_area_has_its_page_image_and_curve(open_base, name):
    page = get(f"{open_base}/trackers/{WEEK}/{url_slug(name)}")
    assert page.status_code == 200 and f"Weekly obsessions tracker: {html.escape(name)}" in page.text
    assert is_png(get(f"{open_base}/trackers/{WEEK}/{url_slug(name)}.png"))
    assert is_png(get(f"{open_base}/trackers/{WEEK}/{url_slug(name)}/cla.png"))


def test_the_england_agenda_pack_and_files(open_base):
    page = get(f"{open_base}/trackers/{WEEK}/england").text
    links = downloads(page)
    assert links["Word"].startswith(f"/packs/{WEEK}/england.docx")
    word = get(open_base + links["Word"])
    assert word.status_code == 200 and f'filename="agenda-pack-{WEEK}-england.docx"' in word.headers["content-disposition"]
    assert Document(io.BytesIO(word.content)).paragraphs[0].text == "Agenda pack: weekly obsessions tracker, England"
    pdf = PdfReader(io.BytesIO(get(open_base + links["PDF"]).content))
    # An area's pack, as a cluster's: the index, the tracker and one chart for each of the four obsessions.
    assert pdf.metadata.title == "Agenda pack: weekly obsessions tracker, England" and len(pdf.pages) == 6
    one = get(f"{open_base}/trackers/{WEEK}/yorkshire-and-the-humber.pdf")
    assert one.status_code == 200
    assert PdfReader(io.BytesIO(one.content)).metadata.title.startswith(
        "Weekly obsessions tracker: Yorkshire and The Humber")
    assert get(f"{open_base}/trackers/{WEEK}/england.docx").content[:2] == b"PK"


def test_the_navigation_lists_the_benchmark_areas_apart(open_base):
    for here in ("leeds", "england", "armley"):
        page = get(f"{open_base}/trackers/{WEEK}/{here}").text
        listed = benchmarks_nav(page)
        assert [name for _, name in listed] == expected_areas()
        assert [href for href, _ in listed] == [f"/trackers/{WEEK}/{url_slug(n)}" for n in expected_areas()]
    # the configured areas' line is unchanged: the city and its clusters, no benchmark area
    areas_line = re.search(r"<summary>Other areas and breakdowns</summary><p>(.*?)</p>", page, re.S).group(1)
    assert "Armley" in areas_line and "England" not in areas_line
    # what a name holds is escaped (the comma stays, nothing becomes markup)
    assert ">Bristol, City of</a>" in page


def test_without_benchmarks_there_are_none_to_serve_or_list(app, live_server):
    base = live_server(app({"OBSESSION_TEST": "no-benchmarks"}))
    page = get(f"{base}/trackers/{WEEK}/leeds")
    assert page.status_code == 200 and "Benchmarks:" not in page.text
    for path in (f"/trackers/{WEEK}/england", f"/trackers/{WEEK}/england.png", f"/packs/{WEEK}/england.pdf"):
        assert get(base + path).status_code == 404, path


def test_an_import_while_the_server_runs_is_served_at_once(app, live_server, demo_config):
    web = app({"OBSESSION_TEST": "import-while-running"}, check_every=0)
    base = live_server(web)
    assert get(f"{base}/trackers/{WEEK}/england").status_code == 404
    assert "Benchmarks:" not in get(f"{base}/trackers/{WEEK}/leeds").text
    import_benchmarks(web.state.database_url, demo_config)
    assert get(f"{base}/trackers/{WEEK}/england").status_code == 200
    assert is_png(get(f"{base}/trackers/{WEEK}/sheffield.png"))
    assert [n for _, n in benchmarks_nav(get(f"{base}/trackers/{WEEK}/leeds").text)] == expected_areas()


def test_a_configured_area_keeps_its_slug(bench_app, live_server, demo_config):
    from tracker.config import demo_config_text, parse_config

    # "Bristol City Of" is a different name from the neighbour "Bristol, City of", with the same address.
    text = demo_config_text().replace("[areas]\n", '[areas]\ncomparators = ["Bristol City Of"]\n', 1)
    config = parse_config(text, "clash.toml")
    base = live_server(bench_app({"OBSESSION_TEST": "clash"}, config=config))
    page = get(f"{base}/trackers/{WEEK}/bristol-city-of")
    assert page.status_code == 200 and "Weekly obsessions tracker: Bristol City Of" in page.text
    assert [n for _, n in benchmarks_nav(page.text)] == [n for n in expected_areas() if n != "Bristol, City of"]
    assert get(f"{base}/trackers/{WEEK}/england").status_code == 200


# ---- access ---------------------------------------------------------------------------------------

def test_a_closed_archive_answers_401_first_and_signs_the_images(closed):
    base, _ = closed
    for path in (f"/trackers/{WEEK}/england", f"/trackers/{WEEK}/england.png", f"/trackers/{WEEK}/england/cla.png",
                 f"/packs/{WEEK}/england.pdf", f"/trackers/{WEEK}/nowhere", f"/trackers/{WEEK}/nowhere.png"):
        assert get(base + path).status_code == 401, path
    page = get(f"{base}/trackers/{WEEK}/england", headers={"Authorization": f"Bearer {TOKEN}"})
    assert page.status_code == 200
    src = image_src(page.text)
    path, _, sig = src.partition("?sig=")
    assert path == f"/trackers/{WEEK}/england.png" and sig
    assert is_png(get(base + src))                                          # signed: no token needed
    assert get(f"{base}/trackers/{WEEK}/leeds.png?sig={sig}").status_code == 401   # one image per signature
    pack = downloads(page.text)["PDF"]
    assert "?sig=" in pack and get(base + pack).status_code == 200
    assert get(base + pack.partition("?")[0]).status_code == 401


def test_old_week_pictures_of_an_imported_area_are_bounded_per_client(bench_app, live_server, monkeypatch):
    from bot import archive
    from tests.hostile_support import slow_image_jobs

    monkeypatch.setattr(archive, "OLD_WEEK_DRAWS", 1)
    monkeypatch.setattr(archive, "OLD_WEEK_QUEUE", 3)
    most = slow_image_jobs(monkeypatch)
    base = live_server(bench_app({"OBSESSION_TEST": "bench-flood"}))
    weeks = [f"2015-{m:02d}-{d:02d}" for m, d in ((6, 1), (6, 8), (6, 15), (6, 22), (6, 29), (7, 6), (7, 13), (5, 4))]
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda w: get(f"{base}/trackers/{w}/england.png").status_code, weeks))
    assert codes.count(503) >= 1 and codes.count(200) >= 1 and set(codes) <= {200, 503}
    assert most[0] == 1                 # one client: its old-week pictures drawn one at a time


# ---- chat replies link pages that answer ------------------------------------------------------------

@pytest.mark.parametrize("text, image, page", [
    ("cluster=England", f"/trackers/{WEEK}/england.png", f"/trackers/{WEEK}/england"),
    ("cla cluster=Yorkshire and The Humber", f"/trackers/{WEEK}/yorkshire-and-the-humber/cla.png",
     f"/trackers/{WEEK}/yorkshire-and-the-humber")])
def test_a_chat_reply_about_an_imported_area_links_a_working_picture(closed, demo_config, text, image, page):
    from bot import urls
    from bot.chat.answer import answer, to_dict
    from bot.chat.workers import Links, reply_job
    from tracker.store import Store

    base, web = closed
    links = Links(base, urls.signing_key(web.state.settings))
    # The worker's own function, reading the store as a worker process does.
    reply = reply_job(web.state.database_url, 10_000, demo_config, links, text, "slack")
    assert reply.image_path == image
    shown = re.findall(r'"image_url": "([^"]+)"', json.dumps(reply.message))
    assert shown == [reply.image_url] and reply.image_url.startswith(base + image + "?sig=")
    assert is_png(get(reply.image_url))                          # signed: opens with no token
    store = Store(web.state.database_url)
    try:
        linked = to_dict(answer(text, demo_config, store.figure_table()))["page"]
    finally:
        store.engine.dispose()
    assert linked == page
    assert get(base + page, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
