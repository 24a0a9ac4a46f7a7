"""Slack exactly once: a run killed between Slack accepting a post and the ledger marking it sent does not
post it again; the next run finds it by its message metadata in conversations.history and marks it sent.
A run killed between the picture's upload and the message finds the picture (by its file name, in the
history message that shares it) and posts only the message."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from contextlib import contextmanager

from bot.cli import main
from tests import test_weekly_run as weekly
from tests.servers import SlackServer
from tests.test_weekly_run import ROOT, WEEK, addresses, email_sub

city_frame, env = weekly.city_frame, weekly.env        # the weekly run's fixtures: a seeded store, SMTP, config


NAME = re.compile(rf"tracker-{WEEK.isoformat()}-city-[0-9a-f]{{8}}\.png")   # the subscription is "city"


@contextmanager
def _slack(env, channels=("C0ONE",)):
    """A Slack stand-in the weekly run posts to, and a city subscription to `channels` with one email address."""
    with SlackServer() as slack:
        env["monkeypatch"].setenv("SLACK_BOT_TOKEN", slack.token)
        env["monkeypatch"].setenv("SLACK_API_URL", slack.api_url)
        listed = ", ".join(f'"{c}"' for c in channels)
        env["configure"](email_sub("city", addresses(1), f"slack_channels = [{listed}]\n"))
        yield slack


def _pictures(slack) -> Counter:
    """How many pictures were shared into each channel (each share is a message of its own in history)."""
    return Counter(ch for ch, m in slack.shares for _ in m["files"])


def _names(slack, channel) -> list[str]:
    return [f["name"] for ch, m in slack.shares if ch == channel for f in m["files"]]


def _rows(url):
    from bot.ledger import Ledger

    ledger = Ledger.open(url)
    try:
        return {r.recipient: r for r in ledger.rows(WEEK) if r.channel == "slack"}
    finally:
        ledger.close()


def test_a_crash_between_the_post_and_the_mark_does_not_post_twice(env, capsys):
    with _slack(env, ("C0ONE", "C0TWO")) as slack:
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
        assert _pictures(slack) == Counter({"C0ONE": 1, "C0TWO": 1})     # the found post's picture not again
        looked = [c for c in slack.calls if c["method"] == "conversations.history"]
        assert sorted(c["params"]["channel"] for c in looked) == left       # only the rows left `sending`
        assert all(c["params"]["include_all_metadata"] in ("1", "true", "True") for c in looked)
        assert {r.status for r in _rows(env["DATABASE_URL"]).values()} == {"sent"}
        assert "slack: 1 sent, 1 already sent" in capsys.readouterr().out


def test_a_crash_between_the_picture_and_the_message_posts_each_once(env, capsys):
    with _slack(env, ("C0ONE", "C0TWO")) as slack:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "send", "--week", WEEK.isoformat()], cwd=env["tmp"],
                                env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

        def crash(params):           # the picture is in the channel; the run dies before the message
            slack.after_upload = None
            os.kill(proc.pid, signal.SIGKILL)
        slack.after_upload = crash
        proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGKILL
        assert slack.posts == []
        (first,) = _pictures(slack)
        assert first in ("C0ONE", "C0TWO")
        (name,) = _names(slack, first)
        assert NAME.fullmatch(name), name                          # readable: the week and the subscription
        assert first in [ch for ch, r in _rows(env["DATABASE_URL"]).items() if r.status == "sending"]

        assert main(["send", "--week", WEEK.isoformat()]) == 0
        assert Counter(p["channel"] for p in slack.posts) == Counter({"C0ONE": 1, "C0TWO": 1})
        assert _pictures(slack) == Counter({"C0ONE": 1, "C0TWO": 1})
        uploads = [c["params"]["channel_id"] for c in slack.calls if c["method"] == "files.completeUploadExternal"]
        assert Counter(uploads) == Counter({"C0ONE": 1, "C0TWO": 1})   # the first channel's not even tried again
        other = "C0TWO" if first == "C0ONE" else "C0ONE"
        assert NAME.fullmatch(_names(slack, other)[0]) and _names(slack, other) != [name]   # unique to its row
        (post,) = [p for p in slack.posts if p["channel"] == first]
        assert post["metadata"]["event_payload"] == {
            "week": WEEK.isoformat(), "subscription": "city", "channel": first, "generation": 0}
        assert {r.status for r in _rows(env["DATABASE_URL"]).values()} == {"sent"}
        assert "slack: 2 sent" in capsys.readouterr().out


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

    with _slack(env) as slack:
        assert run_weekly(Context.from_env(), week=WEEK) == 0
        slack.posts.clear()                      # as if the dead run's post had never reached Slack,
        slack.shares.clear()                     # nor its picture
        _left_sending(env["DATABASE_URL"])
        assert run_weekly(Context.from_env(), week=WEEK) == 0
        assert [p["channel"] for p in slack.posts] == ["C0ONE"]
        assert _pictures(slack) == Counter({"C0ONE": 1})
        assert [c["method"] for c in slack.calls].count("conversations.history") == 1


def test_a_failed_row_whose_picture_arrived_gets_only_its_message(env):
    from bot.context import Context
    from bot.weekly import run_weekly

    with _slack(env) as slack:
        slack.missing.add("C0ONE")               # chat.postMessage refused after the picture was shared
        assert run_weekly(Context.from_env(), week=WEEK) == 1
        assert slack.posts == [] and _pictures(slack) == Counter({"C0ONE": 1})
        assert _rows(env["DATABASE_URL"])["C0ONE"].status == "failed"
        slack.missing.clear()
        assert run_weekly(Context.from_env(), week=WEEK) == 0
        assert [p["channel"] for p in slack.posts] == ["C0ONE"]
        assert _pictures(slack) == Counter({"C0ONE": 1})
        assert _rows(env["DATABASE_URL"])["C0ONE"].status == "sent"


def test_a_first_try_makes_no_history_call_and_force_posts_a_new_picture(env):
    from bot.context import Context
    from bot.weekly import run_weekly

    with _slack(env) as slack:
        assert run_weekly(Context.from_env(), week=WEEK) == 0
        assert [c["method"] for c in slack.calls if not c["method"].startswith("F")] == [
            "auth.test", "files.getUploadURLExternal", "files.completeUploadExternal", "chat.postMessage"]
        (first,) = _names(slack, "C0ONE")
        assert NAME.fullmatch(first), first
        assert run_weekly(Context.from_env(), week=WEEK, force=True) == 0     # generation 1: a new post
        assert len(slack.posts) == 2 and _pictures(slack) == Counter({"C0ONE": 2})
        assert slack.posts[1]["metadata"]["event_payload"]["generation"] == 1
        again = _names(slack, "C0ONE")[1]
        assert NAME.fullmatch(again) and again != first
        assert "conversations.history" not in [c["method"] for c in slack.calls]


def test_without_the_history_scope_the_row_fails_with_advice_and_is_not_posted(env, capsys):
    from bot.context import Context
    from bot.weekly import run_weekly

    with _slack(env) as slack:
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
