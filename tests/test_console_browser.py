"""The console in headless Chromium (Debian's, through Playwright): every page and action as an analyst and an
approver would use them, axe-core on every page (no serious or critical violation), phone width, no JavaScript."""
from __future__ import annotations

import dataclasses
import os
from datetime import date
from pathlib import Path

import pytest

from tests.browser import axe_violations, launch, need_chromium
from tests.console_support import ACCOUNTS, PASSWORD, make_console
from tests.servers import SMTPServer
from tracker.config import DeliveryRules, Subscription

PEOPLE = ("one@leeds.example", "two@leeds.example")


@pytest.fixture(scope="module")
def browser():
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def console(seeded_db, tmp_path_factory, live_server, demo_config, smtp):
    config = dataclasses.replace(demo_config, delivery=DeliveryRules("required"),
                                 subscriptions=(Subscription("City", "Leeds", email=PEOPLE),
                                                *demo_config.subscriptions[1:3]))
    base, con, url = make_console(seeded_db, tmp_path_factory.mktemp("browser"), live_server, config, smtp.env())
    from bot.console.auth import hash_password

    con.db.add_user("norole@leeds.example", "none", hash_password(PASSWORD), "tests")
    return base, con, url


class Checked:
    """One browser context that checks the pages it opens."""

    def __init__(self, browser, base, shots: Path, width=1000, js=True):
        self.base, self.shots = base, shots
        # axe-core is injected as a script, which the pages' own CSP forbids: the checking context bypasses it.
        self.context = browser.new_context(viewport={"width": width, "height": 1200}, java_script_enabled=js,
                                           bypass_csp=js)
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.page.on("request", lambda r: not r.url.startswith(base) and self.outside.append(r.url))
        self.seen: list[str] = []

    def axe(self, name: str) -> None:
        """axe-core on the page as it is now: no serious or critical violation."""
        problems = axe_violations(self.page)
        assert problems == [], (name, problems)
        self.seen.append(name)

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"console-{name}.png"), full_page=True)

    def sign_in(self, email: str) -> None:
        self.page.goto(self.base + "/console/")
        assert "/console/sign-in" in self.page.url
        self.page.get_by_label("Email address").fill(email)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    d = os.environ.get("CONSOLE_SCREENSHOT_DIR")
    path = Path(d) if d else tmp_path_factory.mktemp("console-shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_the_analyst_and_the_approver_in_chromium(browser, console, smtp, shots, tmp_path):
    base, con, url = console
    a = Checked(browser, base, shots)
    a.page.goto(base + "/console/sign-in")
    a.axe("sign-in")
    a.sign_in(ACCOUNTS["analyst"])
    assert a.page.get_by_role("heading", level=1).inner_text().startswith("Week commencing")
    a.page.wait_for_load_state("networkidle")
    city = a.page.evaluate("[document.images[0].complete, document.images[0].naturalWidth]")
    assert city[0] and city[1] == 1600                                   # the tracker image, drawn behind the session
    a.axe("week")
    a.shot("week")
    imgs = a.page.locator("img")
    assert imgs.count() >= 1 + 25 + 4                                   # the city, every cluster, every breakdown
    assert all(imgs.nth(i).get_attribute("alt") for i in range(imgs.count()))

    # a bad file: its errors
    bad = tmp_path / "bad-week.csv"
    bad.write_text("week_commencing,obsession,area,value\n2015-07-20,cla,Seacroft Mansotn,52\n")
    a.page.get_by_role("link", name="Load figures", exact=True).click()
    a.axe("load")
    a.page.get_by_label("Files (CSV or XLSX)").set_input_files(str(bad))
    a.page.get_by_role("button", name="Check the files").click()
    assert "bad-week.csv, line 2, column area" in a.page.inner_text("main")
    a.axe("load-problems")

    # a good file: the revisions, then load it
    good = tmp_path / "revised-week.csv"
    good.write_text("week_commencing,obsession,area,value\n2015-07-20,cla,Leeds,1250\n")
    a.page.get_by_label("Files (CSV or XLSX)").set_input_files(str(good))
    a.page.get_by_role("button", name="Check the files").click()
    text = a.page.inner_text("main")
    assert "1 revised" in text and "1,247" in text and "1,250" in text
    a.page.wait_for_load_state("networkidle")
    assert a.page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    a.axe("load-preview")
    a.shot("load-preview")
    a.page.get_by_role("button", name="Load these figures").click()
    assert "Loaded: 0 new, 1 revised, 0 unchanged" in a.page.inner_text("main")
    a.axe("loads")
    a.page.get_by_role("link", name="Revisions", exact=True).click()
    assert "revised-week.csv" in a.page.inner_text("main")
    a.axe("revisions")
    a.page.get_by_role("link", name="Unsubscribes", exact=True).click()
    a.axe("unsubscribes")

    # the weekly run waits for approval
    import io

    from bot.context import Context
    from bot.weekly import run_weekly
    from tracker.errors import HeldByQualityGate

    with pytest.raises(HeldByQualityGate):
        run_weekly(Context(settings=con.settings, config=con.config), week=date(2015, 7, 20), out=io.StringIO(),
                   err=io.StringIO())
    smtp.box.refuse.add("two@leeds.example")

    p = Checked(browser, base, shots)
    p.sign_in(ACCOUNTS["approver"])
    p.page.goto(base + "/console/weeks/2015-07-20")
    assert "awaiting approval" in p.page.inner_text("main")
    p.page.get_by_label("Approve for sending: a note (optional)").fill("checked with the analyst")
    p.page.get_by_role("button", name="Approve this week").click()
    assert "approved for sending" in p.page.inner_text("main")
    assert con.runs.wait(date(2015, 7, 20)).code == 1                   # two@ refused by the mail server
    p.page.get_by_role("link", name="Follow the run", exact=True).click()
    assert "some deliveries failed" in p.page.inner_text("main")
    p.axe("run")
    p.page.get_by_role("link", name="Its deliveries", exact=True).click()
    assert "two@leeds.example" in p.page.inner_text("main") and "failed" in p.page.inner_text("main")
    p.axe("deliveries")
    smtp.box.refuse.clear()
    p.page.get_by_role("button", name="Retry what failed").click()
    assert con.runs.wait(date(2015, 7, 20)).code == 0
    p.page.reload()
    assert "everything delivered" in p.page.inner_text("main")
    assert sorted(r for r in smtp.box.recipients() if r in PEOPLE) == sorted(PEOPLE)
    p.page.goto(base + "/console/audit")
    assert "approve" in p.page.inner_text("main") and "load" in p.page.inner_text("main")
    p.axe("audit")
    p.page.goto(base + "/console/weeks/2015-07-20/email")
    p.page.wait_for_load_state("networkidle")
    assert p.page.evaluate("[document.images[0].complete, document.images[0].naturalWidth]")[1] == 1600
    p.axe("email")
    p.page.goto(base + "/console/not-a-page")
    p.axe("not-found")
    a.page.goto(base + "/console/audit")                                # an analyst may not
    assert a.page.get_by_role("heading", level=1).inner_text() == "Not allowed"
    a.axe("refused")
    n = Checked(browser, base, shots)
    n.sign_in("norole@leeds.example")
    assert "You have no access" in n.page.inner_text("main")
    n.axe("no-access")
    # sign out from the header
    p.page.goto(base + "/console/")
    p.page.get_by_role("button", name="Sign out").click()
    assert "/console/sign-in" in p.page.url
    assert a.outside == [] and p.outside == []                          # nothing from anywhere else


@pytest.mark.parametrize("path, name", [("/console/", "week"), ("/console/load", "load"),
                                        ("/console/weeks/2015-07-20/deliveries", "deliveries"),
                                        ("/console/revisions", "revisions")])
def test_pages_fit_a_phone(browser, console, shots, path, name):
    base, _, _ = console
    phone = Checked(browser, base, shots, width=320)
    phone.sign_in(ACCOUNTS["approver"])
    phone.page.goto(base + path)
    phone.page.wait_for_load_state("networkidle")
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    phone.shot(f"phone-{name}")
    phone.axe(f"phone-{name}")
    assert width <= 320, f"{path} is {width} px wide at 320"


def test_keyboard_alone_reaches_the_sign_in_and_focus_is_visible(browser, console):
    base, _, _ = console
    ctx = browser.new_context(viewport={"width": 1000, "height": 900})
    page = ctx.new_page()
    page.goto(base + "/console/sign-in")
    page.keyboard.press("Tab")            # the skip link
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    page.keyboard.type(ACCOUNTS["viewer"])
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/")
    assert "Week commencing" in page.inner_text("main")
    ctx.close()


def test_everything_works_without_javascript(browser, console, tmp_path):
    base, _, _ = console
    c = Checked(browser, base, tmp_path, js=False)
    c.sign_in(ACCOUNTS["analyst"])
    assert c.page.get_by_role("heading", level=1).inner_text().startswith("Week commencing")
    c.page.get_by_role("link", name="Load figures", exact=True).click()
    good = tmp_path / "no-js.csv"
    good.write_text("week_commencing,obsession,area,value\n2015-07-27,cla,Leeds,1238\n")
    c.page.get_by_label("Files (CSV or XLSX)").set_input_files(str(good))
    c.page.get_by_role("button", name="Check the files").click()
    assert "The files are good" in c.page.inner_text("main")
    c.page.get_by_role("button", name="Load these figures").click()
    assert "Loaded: 0 new, 1 revised" in c.page.inner_text("main")
    c.page.get_by_role("link", name="This week", exact=True).click()
    earlier = c.page.locator("#week option").nth(3).get_attribute("value")
    c.page.get_by_label("Another week").select_option(earlier)
    c.page.get_by_role("button", name="Show").click()
    assert c.page.url.endswith(f"/console/weeks/{earlier}")
    assert c.page.get_by_role("heading", level=1).inner_text() == f"Week commencing {date.fromisoformat(earlier):%d %B %Y}"
