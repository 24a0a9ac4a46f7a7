"""The weekly run end to end: real SMTP (aiosmtpd), Slack and Teams stand-ins, the ledger, faults and holds."""
from __future__ import annotations

import getpass
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from tests.servers import SlackServer, SMTPServer, TeamsServer

WEEK = date(2015, 7, 20)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def city_frame():
    """The demo's city figures up to September 2015 (the city trackers need nothing else)."""
    from tracker.config import load_config
    from tracker.demo_data import demo_frame

    f = demo_frame(load_config(None), date(2015, 9, 14))
    return f[f["area"] == "Leeds"].reset_index(drop=True)


def seed(url, frame):
    from tracker.store import Store

    s = Store(url)
    s.create()
    s.save_figures(frame, "demo")
    s.engine.dispose()


def write_config(folder: Path, subscriptions: str) -> Path:
    from tracker.config import demo_config_text

    text = demo_config_text().split("# Subscriptions:")[0] + subscriptions
    path = folder / "obsession.toml"
    path.write_text(text, encoding="utf-8")
    return path


def addresses(n, prefix="person"):
    return [f"{prefix}{i}@example.gov.uk" for i in range(n)]


def email_sub(name, addrs, extra=""):
    listed = ", ".join(f'"{a}"' for a in addrs)
    return f'\n[[subscriptions]]\nname = "{name}"\narea = "Leeds"\nemail = [{listed}]\n{extra}\n'


@pytest.fixture
def env(demo_env, monkeypatch, tmp_path, city_frame):
    """A seeded SQLite store, a configuration file and an SMTP server; returns a dict to extend."""
    seed(demo_env["DATABASE_URL"], city_frame)
    srv = SMTPServer().start()
    for k, v in srv.env().items():
        monkeypatch.setenv(k, v)
    state = {"smtp": srv, "box": srv.box, "tmp": tmp_path, "monkeypatch": monkeypatch, **demo_env}

    def configure(subs: str):
        path = write_config(tmp_path, subs)
        monkeypatch.setenv("OBSESSION_CONFIG", str(path))
        state["OBSESSION_CONFIG"] = str(path)
    state["configure"] = configure
    yield state
    state["smtp"].stop()


def send(*extra) -> int:
    return main(["send", "--week", "2015-07-20", *extra])


def test_each_recipient_gets_one_message_and_a_rerun_sends_nothing(env, capsys):
    (env["tmp"] / "staff.txt").write_text("# the staff list\nfile1@example.gov.uk\nPERSON0@example.gov.uk\n"
                                          "file2@example.gov.uk\n", encoding="utf-8")
    env["configure"](email_sub("city", addresses(4), 'email_file = "staff.txt"'))
    assert send() == 0
    expected = sorted(addresses(4) + ["file1@example.gov.uk", "file2@example.gov.uk"])
    assert sorted(env["box"].recipients()) == expected                 # person0 once, though listed twice
    msgs = env["box"].parsed()
    assert sorted(m["To"].lower() for m in msgs) == expected
    assert len({m["Message-ID"] for m in msgs}) == 6
    assert all(m["List-Id"].endswith("<city.tracker.example.gov.uk>") for m in msgs)
    assert "6 sent" in capsys.readouterr().out
    assert send() == 0
    assert len(env["box"].messages) == 6
    assert "6 already sent" in capsys.readouterr().out


def test_server_stopped_after_n_of_m_then_restarted(env, capsys):
    env["configure"](email_sub("city", addresses(20)))
    box = env["box"]

    def go_down(count, server):
        if count == 8:
            box.down = True
            return "421 4.3.2 shutting down"
    box.before_data = go_down
    assert send() == 1                          # 8 sent, then the server went away
    assert len(box.messages) == 8
    out = capsys.readouterr().out
    assert "8 sent" in out and "12 failed" in out
    env["smtp"].stop()
    assert send() == 1                          # nothing answers at all now
    assert "cannot reach the mail server" in capsys.readouterr().out
    box.down, box.before_data = False, None
    env["smtp"] = SMTPServer(box, port=env["smtp"].port).start()
    assert send() == 0
    assert Counter(box.recipients()) == Counter({a: 1 for a in addresses(20)})
    assert "12 sent, 8 already sent" in capsys.readouterr().out


def test_killed_mid_run_then_rerun(env, capsys):
    env["configure"](email_sub("city", addresses(30)))
    box = env["box"]
    child_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "send", "--week", "2015-07-20"], cwd=env["tmp"],
                            env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def kill_at_ten(count, server):
        if count == 10:
            os.kill(proc.pid, signal.SIGKILL)          # dies holding its claims; message 11 never lands
            return "451 4.3.0 try again"
    box.before_data = kill_at_ten
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert len(box.messages) == 10
    box.before_data = None
    assert send() == 0
    assert Counter(box.recipients()) == Counter({a: 1 for a in addresses(30)})


def test_two_sends_at_once_send_each_message_once(database_url, tmp_path, city_frame, monkeypatch):
    seed(database_url, city_frame)
    config = write_config(tmp_path, email_sub("city", addresses(120)) + email_sub("board", addresses(30, "board")))
    srv = SMTPServer().start()
    try:
        child_env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "SLACK_", "PUBLIC_BASE_URL"))}
        child_env.update(srv.env(), DATABASE_URL=database_url, OBSESSION_CONFIG=str(config),
                         OUTBOX_DIR=str(tmp_path / "outbox"), PYTHONPATH=str(ROOT))
        procs = [subprocess.Popen([sys.executable, "-m", "bot", "send", "--week", "2015-07-20"], cwd=tmp_path,
                                  env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        srv.stop()
    assert [p.returncode for p in procs] == [0, 0], outs
    assert Counter(srv.box.recipients()) == Counter({a: 1 for a in addresses(120) + addresses(30, "board")})


def test_a_held_week_goes_to_the_owners_only_until_overridden(env, city_frame, capsys):
    from sqlalchemy import delete

    from bot.ledger import Ledger
    from tracker.store import Store, figures_table

    s = Store(env["DATABASE_URL"])
    with s.engine.begin() as c:       # no children-looked-after figure for the week: the gate must hold
        c.execute(delete(figures_table).where(figures_table.c.week_commencing == WEEK,
                                              figures_table.c.obsession == "cla"))
    env["configure"](email_sub("city", addresses(3)))
    assert send() == 3
    box = env["box"]
    assert box.recipients() == ["performance@example.gov.uk"]
    (notice,) = box.parsed()
    body = notice.get_content()
    assert notice["Subject"].startswith("HELD") and "cla: no figure" in body and "--override-hold" in body
    assert "held by the data-quality gate" in capsys.readouterr().err
    assert send() == 3
    assert len(box.messages) == 1                    # the owners are told once
    assert send("--override-hold", "cla figure confirmed by phone") == 0
    assert sorted(box.recipients()) == sorted(["performance@example.gov.uk"] + addresses(3))
    led = Ledger.open(env["DATABASE_URL"])
    (o,) = led.overrides(WEEK)
    led.close()
    assert (o["overridden_by"], o["reason"]) == (getpass.getuser(), "cla figure confirmed by phone")
    assert "cla: no figure" in o["problems"]


def test_dry_run_sends_nothing_and_leaves_the_ledger_alone(env, capsys):
    from sqlalchemy import func, select

    from bot.ledger import deliveries_table
    from tracker.store import Store

    env["configure"](email_sub("city", addresses(5)))
    assert send("--dry-run") == 0
    out = capsys.readouterr().out
    assert "person0@example.gov.uk" in out and "5 recipient(s)" in out and "nothing is sent" in out
    assert env["box"].messages == []
    s = Store(env["DATABASE_URL"])
    from sqlalchemy import inspect

    if "deliveries" in inspect(s.engine).get_table_names():   # a dry run need not even create the ledger
        with s.engine.connect() as c:
            assert c.execute(select(func.count()).select_from(deliveries_table)).scalar_one() == 0


def test_force_sends_again_with_new_message_ids(env, capsys):
    env["configure"](email_sub("city", addresses(3)))
    assert send() == 0
    assert send("--force") == 0
    box = env["box"]
    assert Counter(box.recipients()) == Counter({a: 2 for a in addresses(3)})
    ids = [m["Message-ID"] for m in box.parsed()]
    assert len(set(ids)) == 6


def test_one_subscription_only_and_unknown_names(env, capsys):
    env["configure"](email_sub("city", addresses(2)) + email_sub("board", addresses(2, "board")))
    assert send("--subscription", "BOARD") == 0
    assert sorted(env["box"].recipients()) == addresses(2, "board")
    assert send("--subscription", "bord") == 2
    assert 'did you mean "board"' in capsys.readouterr().err


def test_a_bad_address_stops_the_run_before_anything_is_sent(env, capsys):
    env["configure"](email_sub("city", addresses(2) + ["not an address"]))
    assert send() == 2
    assert "not an email address" in capsys.readouterr().err
    assert env["box"].messages == []


def test_one_failing_channel_does_not_stop_the_others(env, capsys):
    from bot.context import Context
    from bot.weekly import run_weekly

    with SlackServer() as slack, TeamsServer() as teams:
        mp = env["monkeypatch"]
        mp.setenv("SLACK_BOT_TOKEN", slack.token)
        mp.setenv("SLACK_API_URL", slack.api_url)
        slack.not_in.add("C0SECRET")
        teams.script["/workflows/broken"] = [(500, {})] * 50
        extra = (f'slack_channels = ["C0CITY", "C0SECRET"]\n'
                 f'teams_webhooks = ["{teams.url("ok")}", "{teams.url("broken")}"]')
        env["configure"](email_sub("city", addresses(3), extra))
        ctx = Context.from_env()
        ctx.teams_options = {"backoff": 0.01, "attempts": 3}
        assert run_weekly(ctx, week=WEEK) == 1
        out = capsys.readouterr().out
        assert "/invite @trackerbot" in out and "Teams webhook 2 (127.0.0.1)" in out
        assert "/workflows/broken" not in out
        assert sorted(env["box"].recipients()) == addresses(3)
        assert [p["channel"] for p in slack.posts] == ["C0CITY"]
        assert list(teams.received) == ["/workflows/ok"]
        # fixed: the rerun sends only what failed
        slack.not_in.clear()
        teams.script.clear()
        ctx = Context.from_env()
        assert run_weekly(ctx, week=WEEK) == 0
        assert sorted(p["channel"] for p in slack.posts) == ["C0CITY", "C0SECRET"]
        assert {k: len(v) for k, v in teams.received.items()} == {"/workflows/ok": 1, "/workflows/broken": 1}
        assert len(env["box"].messages) == 3


def test_without_credentials_everything_goes_to_the_outbox(env, capsys):
    mp = env["monkeypatch"]
    mp.delenv("SMTP_HOST")
    env["configure"](email_sub("city", addresses(2), 'slack_channels = ["C0CITY"]\n'
                                                     'teams_webhooks = ["https://webhooks.example.com/w/city"]'))
    assert send() == 0
    folder = Path(env["OUTBOX_DIR"]) / "2015-07-20" / "city"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["person0@example.gov.uk.eml", "person1@example.gov.uk.eml", "slack-C0CITY.json",
                     "teams-1.json", "tracker.png"]
    from bot.channels.email import parse

    msg = parse((folder / "person1@example.gov.uk.eml").read_bytes())
    assert msg["To"] == "person1@example.gov.uk"
    assert (folder / "tracker.png").read_bytes().startswith(b"\x89PNG")
    assert env["box"].messages == []
