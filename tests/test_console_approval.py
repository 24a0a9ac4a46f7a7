"""Approval before sending ([delivery] approval = "required"), holds, gate overrides, the background run,
deliveries and retrying what failed, against a local SMTP server."""
from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from tests.console_support import ACCOUNTS, make_console, sign_in, snapshot, token
from tests.servers import SMTPServer
from tracker.config import DeliveryRules, Subscription
from tracker.errors import HeldByQualityGate

WEEK = date(2015, 7, 20)
PEOPLE = ("one@leeds.example", "two@leeds.example", "three@leeds.example")


@pytest.fixture(scope="module")
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def setup(seeded_db, tmp_path, live_server, demo_config, smtp):
    config = dataclasses.replace(demo_config, delivery=DeliveryRules("required"),
                                 subscriptions=(Subscription("City", "Leeds", email=PEOPLE),))
    smtp.box.messages.clear()
    smtp.box.refuse.clear()
    base, console, url = make_console(seeded_db, tmp_path, live_server, config,
                                      {**smtp.env(), "PUBLIC_BASE_URL": "http://tracker.leeds.example"})
    return base, console, url, config


def _run(console, config, **kw):
    import io

    from bot.context import Context
    from bot.weekly import run_weekly

    out = io.StringIO()
    return run_weekly(Context(settings=console.settings, config=config), week=WEEK, out=out, err=out, **kw), out


def _notices(smtp):
    return [m for m in smtp.box.parsed() if "obsessions tracker" in str(m["subject"]).lower()
            and set(map(str.lower, m.get_all("to", []))) - set(PEOPLE)]


def test_a_week_waits_for_approval_then_approving_starts_the_run(setup, smtp, demo_config):
    base, console, url, config = setup
    with pytest.raises(HeldByQualityGate) as held:
        _run(console, config)
    assert "awaiting approval" in str(held.value)
    assert not set(smtp.box.recipients()) & set(PEOPLE)                  # nobody got it
    owners = {a.lower() for a in demo_config.quality.owners_email}
    notice = [m for m in smtp.box.parsed() if str(m["subject"]).startswith("AWAITING APPROVAL")]
    assert {str(m["to"]).lower() for m in notice} == owners
    body = notice[0].get_body(("plain",)).get_content()
    assert "http://tracker.leeds.example/console/weeks/2015-07-20" in body and "obsession approve --week 2015-07-20" in body

    # an analyst may not approve; nothing changes
    analyst = sign_in(base, "analyst")
    page = analyst.get("/console/weeks/2015-07-20")
    assert "awaiting approval" in page.text and "Approve this week" not in page.text
    before = snapshot(url)
    r = analyst.post("/console/weeks/2015-07-20/approve", data={"csrf": token(page.text), "reason": "looks fine"})
    assert r.status_code == 403
    assert snapshot(url) == before

    approver = sign_in(base, "approver")
    page = approver.get("/console/weeks/2015-07-20")
    r = approver.post("/console/weeks/2015-07-20/approve", data={"csrf": token(page.text), "reason": "checked with Ana"})
    assert r.status_code == 303
    run = console.runs.wait(WEEK)
    assert run is not None and run.code == 0, run.lines() if run else None
    assert sorted(r for r in smtp.box.recipients() if r in PEOPLE) == sorted(PEOPLE)
    page = approver.get("/console/weeks/2015-07-20")
    assert "approved for sending" in page.text and "checked with Ana" in page.text and ACCOUNTS["approver"] in page.text
    progress = approver.get("/console/weeks/2015-07-20/run")
    assert "finished: everything delivered" in progress.text and "email: 3 sent" in progress.text
    assert any(a["action"] == "approve" and a["who"] == ACCOUNTS["approver"] for a in console.db.audit_log())


def test_an_analysts_hold_holds_the_run_and_a_release_lets_it_go(setup, smtp):
    base, console, url, config = setup
    approver = sign_in(base, "approver")
    page = approver.get("/console/weeks/2015-07-20")
    approver.post("/console/weeks/2015-07-20/approve", data={"csrf": token(page.text), "reason": ""})
    analyst = sign_in(base, "analyst")
    page = analyst.get("/console/weeks/2015-07-20")
    # a hold needs a reason
    before = snapshot(url)
    assert analyst.post("/console/weeks/2015-07-20/hold", data={"csrf": token(page.text), "reason": " "}).status_code == 422
    assert snapshot(url) == before
    analyst.post("/console/weeks/2015-07-20/hold", data={"csrf": token(page.text), "reason": "NEET looks wrong"})
    with pytest.raises(HeldByQualityGate) as held:
        _run(console, config)
    assert "NEET looks wrong" in str(held.value) and ACCOUNTS["analyst"] in str(held.value)
    assert not set(smtp.box.recipients()) & set(PEOPLE)
    page = analyst.get("/console/weeks/2015-07-20")
    assert "held by an analyst" in page.text and "Release" in page.text
    analyst.post("/console/weeks/2015-07-20/release", data={"csrf": token(page.text), "reason": "checked: fine"})
    run = console.runs.wait(WEEK)          # the held run starts again once released (it was approved)
    assert run is not None and run.code == 0
    assert sorted(r for r in smtp.box.recipients() if r in PEOPLE) == sorted(PEOPLE)


def test_deliveries_show_failures_and_retry_sends_only_what_failed(setup, smtp):
    base, console, url, config = setup
    import subprocess  # noqa: F401

    from bot.console.store import ConsoleStore

    ConsoleStore(console.store.engine).decide(WEEK, "approve", "tests", "approved for the test")
    smtp.box.refuse.add("two@leeds.example")
    code, _ = _run(console, config)
    assert code == 1
    viewer = sign_in(base, "viewer")
    page = viewer.get("/console/weeks/2015-07-20/deliveries")
    assert page.status_code == 200
    assert "two@leeds.example</td><td>failed</td>" in page.text and "550" in page.text
    assert "one@leeds.example</td><td>sent</td>" in page.text
    assert "Retry what failed" not in page.text                         # viewers may not
    before = snapshot(url)
    assert viewer.post("/console/weeks/2015-07-20/retry", data={"csrf": token(page.text)}).status_code == 403
    assert snapshot(url) == before
    smtp.box.refuse.clear()
    analyst = sign_in(base, "analyst")
    page = analyst.get("/console/weeks/2015-07-20/deliveries")
    assert "Retry what failed" in page.text
    r = analyst.post("/console/weeks/2015-07-20/retry", data={"csrf": token(page.text)})
    assert r.status_code == 303 and r.headers["location"] == "/console/weeks/2015-07-20/run"
    run = console.runs.wait(WEEK)
    assert run.code == 0, run.lines()
    got = [r for r in smtp.box.recipients() if r in PEOPLE]
    assert sorted(got) == ["one@leeds.example", "three@leeds.example", "two@leeds.example"]   # two only once, now
    page = analyst.get("/console/weeks/2015-07-20/deliveries")
    assert "failed</td>" not in page.text


def test_overriding_the_gate_records_who_and_why(setup, smtp):
    base, console, url, config = setup
    from bot.console.store import ConsoleStore

    ConsoleStore(console.store.engine).decide(WEEK, "approve", "tests", "approved")
    strict = dataclasses.replace(config, quality=dataclasses.replace(config.quality, max_weekly_change_pct={"cla": 0.001}))
    console.config = strict
    approver = sign_in(base, "approver")
    page = approver.get("/console/weeks/2015-07-20")
    assert "Held." in page.text and "Override the gate" in page.text
    r = approver.post("/console/weeks/2015-07-20/override", data={"csrf": token(page.text), "reason": "cla checked by hand"})
    assert r.status_code == 303
    run = console.runs.wait(WEEK)
    assert run.code == 0, run.lines()
    from bot.console.approval import gate_overrides

    o = gate_overrides(console.store, WEEK)
    assert o[-1]["overridden_by"] == ACCOUNTS["approver"] and o[-1]["reason"] == "cla checked by hand"
    assert "cla checked by hand" in approver.get("/console/weeks/2015-07-20").text


def test_approve_at_the_terminal(demo_env):
    import os
    import subprocess
    import sys

    env = {**os.environ, **demo_env}
    demo = subprocess.run([sys.executable, "-m", "bot.cli", "demo"], env=env, capture_output=True, text=True,
                          timeout=300, check=True)
    # the demo ends by saying how to open the console on it
    assert "obsession console-user add you@example.gov.uk --role approver" in demo.stdout
    assert "obsession serve" in demo.stdout and "http://127.0.0.1:8000/console/" in demo.stdout
    r = subprocess.run([sys.executable, "-m", "bot.cli", "approve", "--week", "2015-07-20", "--reason", "fine"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Approved the week commencing 2015-07-20" in r.stdout
    from bot.console.store import ConsoleStore
    from tracker.store import Store

    d = ConsoleStore(Store(demo_env["DATABASE_URL"]).engine).decisions(date(2015, 7, 20))
    assert d[-1].action == "approve" and d[-1].reason == "fine" and d[-1].by.endswith("(terminal)")


def test_the_dry_run_says_the_week_awaits_approval_and_writes_nothing(setup, smtp):
    base, console, url, config = setup
    before = snapshot(url)
    code, out = _run(console, config, dry_run=True)
    assert code == 3 and "awaiting approval" in out.getvalue() and "A real run would send nothing" in out.getvalue()
    assert snapshot(url) == before and smtp.box.messages == []


def test_console_tables_on_each_database(store):
    """Accounts, sign-outs, decisions, loads and the audit log on SQLite and (with TEST_DATABASE_URL) PostgreSQL."""
    from bot.console.approval import status
    from bot.console.store import ConsoleStore
    from tracker.store import LoadSummary

    db = ConsoleStore(store.engine)
    assert db.add_user("Ana@Leeds.example", "analyst", "$argon2id$x", "tests") is True
    assert db.add_user("ana@leeds.example", "approver", "$argon2id$y", "tests") is False
    assert db.user("ANA@leeds.example")["role"] == "approver"
    db.sign_out("sid-1")
    db.sign_out("sid-1")
    assert db.signed_out("sid-1") and not db.signed_out("sid-2")
    db.decide(WEEK, "approve", "abe", "fine")
    db.decide(WEEK, "hold", "ana", "wait")
    assert status(db.decisions(WEEK)) == "held"
    db.decide(WEEK, "release", "ana", "ok")
    assert status(db.decisions(WEEK)) == "approved" and db.decisions(date(2015, 7, 27)) == []
    db.record_load("ana", [{"name": "a.csv", "source": "import: /x/a.csv"}], "long", "import: /x/a.csv",
                   LoadSummary(1, 2, 3, [WEEK]))
    assert db.loads()[0]["files"][0]["name"] == "a.csv" and db.loaded_by()["import: /x/a.csv"] == "ana"
    db.audit("ana", "load", "x" * 5000, "127.0.0.1")
    assert len(db.audit_log()[0]["detail"]) == 4000
    assert db.remove_user("ana@leeds.example") and not db.remove_user("ana@leeds.example")


def test_figures_changed_after_approval_need_approving_again(setup, smtp):
    base, console, url, config = setup
    approver = sign_in(base, "approver")
    page = approver.get("/console/weeks/2015-07-20")
    approver.post("/console/weeks/2015-07-20/approve", data={"csrf": token(page.text), "reason": "as loaded"})
    import pandas as pd

    from tracker.store import Store

    Store(url).save_figures(pd.DataFrame([(WEEK, "cla", "Leeds", 1300.0, None, None)],
                                         columns=["week_commencing", "obsession", "area", "value", "numerator",
                                                  "denominator"]), "a later import")
    with pytest.raises(HeldByQualityGate) as held:
        _run(console, config)
    assert "changed after abe@leeds.example approved them" in str(held.value)
    assert not set(smtp.box.recipients()) & set(PEOPLE)
    page = approver.get("/console/weeks/2015-07-20")
    assert "the figures changed since: approve again" in page.text
    approver.post("/console/weeks/2015-07-20/approve", data={"csrf": token(page.text), "reason": "1,300 checked"})
    run = console.runs.wait(WEEK)
    assert run.code == 0 and sorted(r for r in smtp.box.recipients() if r in PEOPLE) == sorted(PEOPLE)
