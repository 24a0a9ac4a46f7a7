"""Loading figures in the console: check (problems as `obsession import` lists them), preview, load, refusals."""
from __future__ import annotations

import html
import re
from datetime import date

import pytest

from tests.console_support import make_console, sign_in, snapshot, token

WEEK = date(2015, 7, 20)


@pytest.fixture(scope="module")
def console(seeded_db, tmp_path_factory, live_server, demo_config):
    return make_console(seeded_db, tmp_path_factory.mktemp("console-load"), live_server, demo_config,
                        {"CONSOLE_MAX_UPLOAD_MB": "1"})


def _stored(url, week, obsession, area):
    from sqlalchemy import create_engine, text

    e = create_engine(url)
    with e.connect() as c:
        v = c.execute(text("SELECT value FROM figures WHERE week_commencing = :w AND obsession = :o AND area = :a"),
                      {"w": week.isoformat(), "o": obsession, "a": area}).scalar()
    e.dispose()
    return v


def _upload(c, files: dict, fmt="long"):
    page = c.get("/console/load")
    assert page.status_code == 200
    return c.post("/console/load", data={"csrf": token(page.text), "format": fmt},
                  files=[("files", (name, body, "text/csv")) for name, body in files.items()])


from bot.console.load import ROOT  # noqa: E402


def test_a_bad_file_shows_every_problem_and_writes_nothing(console):
    base, _, url = console
    c = sign_in(base, "analyst")
    before = snapshot(url)
    bad = ("week_commencing,obsession,area,value\n"
           "2015-07-20,cla,Seacroft Mansotn,52\n"        # line 2: a misspelt cluster
           "2015-07-21,cla,Leeds,1247\n"                 # line 3: not a Monday
           "2015-07-20,neet,Leeds,c\n")                  # line 4: a withheld mark
    r = _upload(c, {"week-bad.csv": bad})
    assert r.status_code == 422
    text = html.unescape(re.sub(r"<[^>]+>", " ", r.text))
    assert "week-bad.csv, line 2" in text and 'did you mean "Seacroft Manston"' in text
    assert "week-bad.csv, line 3" in text and "Monday" in text
    assert "week-bad.csv, line 4" in text
    assert "obsession-console-uploads" not in text        # the private folder is never shown
    assert snapshot(url) == before


def test_a_good_file_is_previewed_then_loaded(console, demo_frame):
    base, con, url = console
    c = sign_in(base, "analyst")
    # the expected old values come from the seeded demo figures, not from the console
    f = demo_frame
    old = {a: float(f[(f.week_commencing == WEEK) & (f.obsession == "cla") & (f.area == a)].value.iloc[0])
           for a in ("Leeds", "Seacroft Manston")}
    good = ("week_commencing,obsession,area,value\n"
            f"2015-07-20,cla,Leeds,{old['Leeds'] + 3:.0f}\n"
            f"2015-07-20,cla,Seacroft Manston,{old['Seacroft Manston'] + 3:.0f}\n"
            f"2015-07-20,neet,Leeds,{float(f[(f.week_commencing == WEEK) & (f.obsession == 'neet') & (f.area == 'Leeds')].value.iloc[0]):.0f}\n")
    before = snapshot(url)
    r = _upload(c, {"revisions.csv": good})
    assert r.status_code == 200, r.text[:2000]
    assert "0 new</strong>, <strong>2 revised</strong> and <strong>1 unchanged" in r.text
    for area, value in old.items():
        assert re.search(rf"<td>{re.escape(area)}</td><td>cla</td><td class=\"n\">{value:,.0f}</td>"
                         rf"<td class=\"n\">{value + 3:,.0f}</td>", r.text), area
    assert snapshot(url) == before                                     # the preview wrote nothing
    token_ = re.search(r'name="upload" value="([^"]+)"', r.text).group(1)
    upload_folder = con.loader.uploads.get(token_, "ana@leeds.example").folder
    assert (upload_folder / "revisions.csv").is_file()
    png = re.search(r'src="(/console/load/[^"]+/tracker.png)"', r.text).group(1)
    assert c.get(png).content[:4] == b"\x89PNG"
    assert sign_in(base, "approver").get(png).status_code == 404      # only the uploader's
    r = c.post("/console/load/confirm", data={"csrf": token(r.text), "upload": re.search(
        r'name="upload" value="([^"]+)"', r.text).group(1)})
    assert r.status_code == 303 and r.headers["location"].startswith("/console/loads")
    assert _stored(url, WEEK, "cla", "Leeds") == old["Leeds"] + 3
    loads = c.get(r.headers["location"])
    assert "0 new, 2 revised, 1 unchanged" in loads.text and "revisions.csv" in loads.text
    revs = c.get("/console/revisions?week=2015-07-20&obsession=cla&area=Seacroft+Manston")
    assert "revisions.csv" in revs.text and "ana@leeds.example" in revs.text
    assert f"{old['Seacroft Manston'] + 3:,.0f}" in revs.text
    assert any(a["action"] == "load" for a in con.db.audit_log())
    assert upload_folder not in set(ROOT.glob("u-*"))              # the uploaded file is gone once loaded


def test_a_preview_older_than_a_change_in_the_store_is_checked_again(console, demo_frame):
    base, con, url = console
    c = sign_in(base, "analyst")
    week = date(2015, 8, 3)
    body = f"week_commencing,obsession,area,value\n{week},cla,Leeds,1111\n"
    r = _upload(c, {"one.csv": body})
    upload = re.search(r'name="upload" value="([^"]+)"', r.text).group(1)
    # meanwhile someone imports at the terminal: the same figure, now revised already
    import pandas as pd

    from tracker.store import Store

    Store(url).save_figures(pd.DataFrame([(week, "cla", "Leeds", 1200.0, None, None)],
                                         columns=["week_commencing", "obsession", "area", "value", "numerator",
                                                  "denominator"]), "terminal import")
    before = snapshot(url)
    r = c.post("/console/load/confirm", data={"csrf": token(r.text), "upload": upload})
    assert r.status_code == 409 and "checked again" in r.text
    assert re.search(r'<td class="n">1,200</td><td class="n">1,111</td>', r.text)
    assert snapshot(url) == before
    r = c.post("/console/load/confirm", data={"csrf": token(r.text), "upload": upload})
    assert r.status_code == 303 and _stored(url, week, "cla", "Leeds") == 1111


def test_a_viewer_cannot_upload_and_an_oversized_upload_is_refused_unread(console):
    base, _, url = console
    viewer = sign_in(base, "viewer")
    analyst = sign_in(base, "analyst")
    before = snapshot(url)                                               # after the sign-ins (they are audited)
    page = viewer.get("/console/")
    body = "week_commencing,obsession,area,value\n2015-07-20,cla,Leeds,1\n"
    r = viewer.post("/console/load", data={"csrf": token(page.text), "format": "long"},
                    files=[("files", ("x.csv", body, "text/csv"))])
    assert r.status_code == 403
    assert viewer.get("/console/load").status_code == 403
    page = analyst.get("/console/load")
    big = body + "2015-07-27,cla,Leeds,1\n" * 60_000                   # about 1.4 MB; the limit here is 1 MB
    r = analyst.post("/console/load", data={"csrf": token(page.text), "format": "long"},
                     files=[("files", ("big.csv", big, "text/csv"))])
    assert r.status_code == 413 and "1 MB" in r.text
    assert snapshot(url) == before


def test_import_dry_run_previews_at_the_terminal(demo_env, tmp_path, seeded_db):
    import os
    import shutil
    import subprocess
    import sys

    shutil.copy(seeded_db, demo_env["DATABASE_URL"].removeprefix("sqlite:///"))    # the demo's figures
    env = {**os.environ, **demo_env}
    from tracker.store import Store

    store = Store(demo_env["DATABASE_URL"])
    before = store.figures_frame()
    leeds = float(before[(before.week_commencing == "2015-07-20") & (before.obsession == "cla")
                         & (before.area == "Leeds")].value.iloc[0])
    f = tmp_path / "up.csv"
    f.write_text(f"week_commencing,obsession,area,value\n2015-07-20,cla,Leeds,{leeds + 10:.0f}\n")
    r = subprocess.run([sys.executable, "-m", "bot.cli", "import", str(f), "--dry-run"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"revised: 2015-07-20 cla Leeds: {leeds:g} -> {leeds + 10:g}" in r.stdout
    assert "0 new, 1 revised, 0 unchanged" in r.stdout
    assert store.figures_frame().equals(before)


def test_a_record_level_file_is_counted_previewed_and_let_go(seeded_db, tmp_path, live_server):
    """SSDA903 episodes (the synthetic examples/), with --from, through the console: counted, never kept."""
    from pathlib import Path

    from bot.console.load import ROOT
    from tracker.config import load_config

    examples = Path(__file__).resolve().parents[1] / "examples"
    config = load_config(examples / "obsession.toml")
    base, _, url = make_console(seeded_db, tmp_path, live_server, config, name="records")
    c = sign_in(base, "analyst")
    page = c.get("/console/load")
    before = set(ROOT.glob("u-*")) if ROOT.is_dir() else set()
    r = c.post("/console/load", data={"csrf": token(page.text), "format": "ssda903", "from": "2024-04-01"},
               files=[("files", ("episodes.csv", (examples / "episodes.csv").read_bytes(), "text/csv"))])
    assert r.status_code == 200 and "The files are good" in r.text, r.text[-3000:]
    upload = re.search(r'name="upload" value="([^"]+)"', r.text).group(1)
    r = c.post("/console/load/confirm", data={"csrf": token(r.text), "upload": upload})
    assert r.status_code == 303
    assert set(ROOT.glob("u-*")) <= before                        # the records are gone once counted
    loads = c.get("/console/loads").text
    assert "episodes.csv" in loads and "ssda903" in loads
