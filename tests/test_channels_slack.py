"""Slack channel: the real slack_sdk client against a local server speaking the Web API parts used."""
from __future__ import annotations

import pytest

from bot.channels.base import ChannelError, Delivery
from bot.channels.slack import SlackChannel, build_payload
from tests.servers import SlackServer
from tracker.settings import Settings

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


@pytest.fixture
def slack():
    with SlackServer() as srv:
        yield srv


def channel(srv, token=None):
    settings = Settings.from_env({"SLACK_BOT_TOKEN": token or srv.token, "SLACK_API_URL": srv.api_url}, dotenv=False)
    ch = SlackChannel(settings)
    ch.open()
    return ch


def post(model, c):
    p = build_payload(model, PNG, c)
    return Delivery(c, f"Slack {c}", p)


def test_image_is_uploaded_into_the_channel_then_the_message_posted(slack, figure2_tracker):
    from renderers.slack import render_slack

    ch = channel(slack)
    ch.send(post(figure2_tracker, "C0CITY"))
    methods = [c["method"] for c in slack.calls]
    assert methods == ["auth.test", "files.getUploadURLExternal", slack.completed[0]["id"],
                       "files.completeUploadExternal", "chat.postMessage"]
    (done,) = slack.completed
    assert done["channel"] == "C0CITY" and done["bytes"] == PNG and done["length"] == len(PNG)
    assert done["alt_txt"] and "1,247" in done["alt_txt"]         # the image carries the alt text
    (msg,) = slack.posts
    expected = render_slack(figure2_tracker)
    assert msg["channel"] == "C0CITY" and msg["blocks"] == expected["blocks"] and msg["text"] == expected["text"]
    assert all(c["auth"] == "Bearer xoxb-test-token" for c in slack.calls if c["method"] != done["id"])


def test_429_is_retried_after_retry_after(slack, figure2_tracker):
    slack.ratelimit["chat.postMessage"] = 1
    slack.retry_after = 1
    ch = channel(slack)
    ch.send(post(figure2_tracker, "C0CITY"))
    posts = [c for c in slack.calls if c["method"] == "chat.postMessage"]
    assert len(posts) == 2 and len(slack.posts) == 1
    assert posts[1]["at"] - posts[0]["at"] >= 1.0          # waited at least Retry-After seconds


def test_not_in_channel_says_how_to_invite_the_bot(slack, figure2_tracker):
    slack.not_in.add("C0PRIVATE")
    ch = channel(slack)
    with pytest.raises(ChannelError) as e:
        ch.send(post(figure2_tracker, "C0PRIVATE"))
    assert "not in channel C0PRIVATE" in e.value.message and "/invite @trackerbot" in e.value.message
    assert not e.value.fatal
    ch.send(post(figure2_tracker, "C0CITY"))                # the next channel still works
    assert [p["channel"] for p in slack.posts] == ["C0CITY"]


def test_a_bad_token_is_fatal_with_advice(slack):
    with pytest.raises(ChannelError) as e:
        channel(slack, token="xoxb-wrong")
    assert e.value.fatal and "SLACK_BOT_TOKEN" in e.value.message
    assert "xoxb-wrong" not in e.value.message


def test_channel_not_found_names_the_channel(slack, figure2_tracker):
    slack.missing.add("C0TYPO")
    with pytest.raises(ChannelError) as e:
        channel(slack).send(post(figure2_tracker, "C0TYPO"))
    assert "C0TYPO was not found" in e.value.message


def test_file_title_is_plain_text_not_escaped(figure2_tracker):
    from dataclasses import replace

    from bot.channels.slack import build_payload

    model = replace(figure2_tracker, area="Beeston & Holbeck", area_kind="cluster")
    post = build_payload(model, b"\x89PNG", "C1")
    assert "Beeston & Holbeck" in post.title and "&amp;" not in post.title
    assert "&amp;" in post.message["text"]          # the mrkdwn message itself stays escaped
