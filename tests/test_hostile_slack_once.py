"""Slack exactly once: a run killed between Slack accepting a post and the ledger marking it sent does not
post it again; the next run finds it by its message metadata in conversations.history and marks it sent."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter

from bot.cli import main
from tests import test_weekly_run as weekly
from tests.servers import SlackServer
from tests.test_weekly_run import ROOT, WEEK, addresses, email_sub

city_frame, env = weekly.city_frame, weekly.env        # the weekly run's fixtures: a seeded store, SMTP, config


def _rows(url):
    from bot.ledger import Ledger

    ledger = Ledger.open(url)
    try:
        return {r.recipient: r for r in ledger.rows(WEEK) if r.channel == "slack"}
    finally:
        ledger.close()


def test_a_crash_between_the_post_and_the_mark_does_not_post_twice(env, capsys):
    with SlackServer() as slack:
        mp = env["monkeypatch"]
        mp.setenv("SLACK_BOT_TOKEN", slack.token)
        mp.setenv("SLACK_API_URL", slack.api_url)
        env["configure"](email_sub("city", addresses(1), 'slack_channels = ["C0ONE", "C0TWO"]\n'))
        proc = subprocess.Popen([sys.executable, "-m", "bot", "send", "--week", WEEK.isoformat()], cwd=env["tmp"],
                                env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

        def crash(params):           # Slack has the post; the run dies before it hears so
            slack.after_post = None
            os.kill(proc.pid, signal.SIGKILL)
        slack.after_post = crash
        proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGKILL
        assert len(slack.posts) == 1
        first = slack.posts[0]["channel"]
        assert first in ("C0ONE", "C0TWO")
        assert slack.posts[0]["metadata"]["event_payload"] == {
            "week": WEEK.isoformat(), "subscription": "city", "channel": first, "generation": 0}
        left = sorted(ch for ch, r in _rows(env["DATABASE_URL"]).items() if r.status == "sending")
        assert first in left                      # (the dead run had claimed its whole chunk)

        assert main(["send", "--week", WEEK.isoformat()]) == 0
        assert Counter(p["channel"] for p in slack.posts) == Counter({"C0ONE": 1, "C0TWO": 1})
        looked = [c for c in slack.calls if c["method"] == "conversations.history"]
        assert sorted(c["params"]["channel"] for c in looked) == left       # only the rows left `sending`
        assert all(c["params"]["include_all_metadata"] in ("1", "true", "True") for c in looked)
        assert {r.status for r in _rows(env["DATABASE_URL"]).values()} == {"sent"}
        assert "slack: 1 sent, 1 already sent" in capsys.readouterr().out


def _left_sending(url) -> None:
    """Put the week's Slack rows back to `sending`, claimed by a process on this machine that has ended."""
    from sqlalchemy import update

    from bot.ledger import SENDING, Ledger

    ledger = Ledger.open(url)
    t = ledger.t
    dead = ledger.me.rsplit(":", 2)[0].rsplit(":", 1)[0] + ":999999:0123456789ab"
    with ledger.engine.begin() as c:
        c.execute(update(t).where(t.c.channel == "slack").values(status=SENDING, claimed_by=dead))
    ledger.close()


def test_an_interrupted_post_that_never_arrived_is_posted_once(env):
    from bot.context import Context
    from bot.weekly import run_weekly

    with SlackServer() as slack:
        mp = env["monkeypatch"]
        mp.setenv("SLACK_BOT_TOKEN", slack.token)
        mp.setenv("SLACK_API_URL", slack.api_url)
        env["configure"](email_sub("city", addresses(1), 'slack_channels = ["C0ONE"]\n'))
        assert run_weekly(Context.from_env(), week=WEEK) == 0
        slack.posts.clear()                      # as if the dead run's post had never reached Slack
        _left_sending(env["DATABASE_URL"])
        assert run_weekly(Context.from_env(), week=WEEK) == 0
        assert [p["channel"] for p in slack.posts] == ["C0ONE"]
        assert [c["method"] for c in slack.calls].count("conversations.history") == 1


def test_without_the_history_scope_the_row_fails_with_advice_and_is_not_posted(env, capsys):
    from bot.context import Context
    from bot.weekly import run_weekly

    with SlackServer() as slack:
        mp = env["monkeypatch"]
        mp.setenv("SLACK_BOT_TOKEN", slack.token)
        mp.setenv("SLACK_API_URL", slack.api_url)
        env["configure"](email_sub("city", addresses(1), 'slack_channels = ["C0ONE"]\n'))
        assert run_weekly(Context.from_env(), week=WEEK) == 0
        assert len(slack.posts) == 1
        _left_sending(env["DATABASE_URL"])      # as if that run had died before marking it
        slack.missing_scopes.add("conversations.history")
        assert run_weekly(Context.from_env(), week=WEEK) == 1
        assert len(slack.posts) == 1                                      # not posted again
        assert "channels:history" in capsys.readouterr().out
        slack.missing_scopes.clear()
        assert run_weekly(Context.from_env(), week=WEEK) == 0            # failed rows are retried: looked up
        assert len(slack.posts) == 1
