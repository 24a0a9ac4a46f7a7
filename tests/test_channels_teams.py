"""Teams channel against a local webhook stand-in: cards, 429/5xx backoff, refusals and the 28 KB limit."""
from __future__ import annotations

import pytest

from bot.channels.base import ChannelError, Delivery
from bot.channels.teams import (
    MAX_CARD_BYTES,
    TeamsChannel,
    TeamsPost,
    build_payload,
    card_bytes,
    is_placeholder,
    webhook_key,
    webhook_label,
)
from tests.servers import TeamsServer


@pytest.fixture
def teams():
    with TeamsServer() as srv:
        yield srv


def delivery(url, card, n=1):
    return Delivery(webhook_key(url), webhook_label(n, url), TeamsPost(url, n, card))


def test_the_card_is_posted_as_built(teams, figure2_tracker):
    from renderers.teams import render_teams

    card = build_payload(figure2_tracker)
    assert card == render_teams(figure2_tracker)
    TeamsChannel(sleep=lambda s: None).send(delivery(teams.url("city"), card))
    assert teams.received["/workflows/city"] == [card]


def test_429_waits_for_retry_after_then_succeeds(teams, figure2_tracker):
    teams.script["/workflows/a"] = [(429, {"Retry-After": "7"}), (429, {}), (202, {})]
    waits = []
    TeamsChannel(backoff=0.5, sleep=waits.append).send(delivery(teams.url("a"), build_payload(figure2_tracker)))
    assert waits == [7.0, 0.5 * 2]           # Retry-After honoured, then the second backoff step
    assert len(teams.calls) == 3 and len(teams.received["/workflows/a"]) == 1


def test_5xx_backs_off_exponentially_then_gives_up(teams, figure2_tracker):
    teams.script["/workflows/b"] = [(500, {})] * 10
    waits = []
    with pytest.raises(ChannelError) as e:
        TeamsChannel(attempts=4, backoff=1.0, sleep=waits.append).send(
            delivery(teams.url("b"), build_payload(figure2_tracker), n=3))
    assert waits == [1.0, 2.0, 4.0]
    assert len(teams.calls) == 4
    assert "Teams webhook 3 (127.0.0.1)" in e.value.message and "HTTP 500" in e.value.message
    assert "/workflows/b" not in e.value.message           # the URL is a secret


def test_a_deleted_workflow_fails_at_once_with_advice(teams, figure2_tracker):
    teams.script["/workflows/gone"] = [(404, {})]
    with pytest.raises(ChannelError) as e:
        TeamsChannel(sleep=lambda s: pytest.fail("no retry for 404")).send(
            delivery(teams.url("gone"), build_payload(figure2_tracker)))
    assert "404" in e.value.message and "copy the URL again" in e.value.message


def test_a_card_over_28_kb_is_never_sent(teams, figure2_tracker):
    card = build_payload(figure2_tracker)
    big = {**card, "padding": "x" * MAX_CARD_BYTES}
    assert len(card_bytes(big)) > MAX_CARD_BYTES
    with pytest.raises(ChannelError) as e:
        TeamsChannel(sleep=lambda s: None).send(delivery(teams.url("big"), big))
    assert "at most 28672" in e.value.message
    assert teams.calls == []


def test_placeholders_and_keys():
    assert is_placeholder("https://webhooks.example.com/workflows/city")
    assert is_placeholder("https://x.invalid/a")
    assert not is_placeholder("https://prod-01.westeurope.logic.azure.com/workflows/abc?sig=secret")
    key = webhook_key("https://prod-01.westeurope.logic.azure.com/workflows/abc?sig=secret")
    assert "secret" not in key and key == webhook_key("https://prod-01.westeurope.logic.azure.com/workflows/abc?sig=secret")
    assert webhook_label(2, "https://h.example.org/p?sig=s") == "Teams webhook 2 (h.example.org)"
