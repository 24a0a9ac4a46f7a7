"""The Teams outgoing webhook: messages signed as Teams signs them, and forged ones, to the running web process."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import httpx
import jsonschema
import pytest

from bot.teams_app import question, verify
from tests.conftest import WEB_SECRETS

KEY = base64.b64decode(WEB_SECRETS["TEAMS_OUTGOING_WEBHOOK_SECRET"])
SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "adaptive-card-1.5.json").read_text(encoding="utf-8"))


def activity(text: str) -> bytes:
    """An outgoing webhook's message activity, as Teams posts it (the bot's mention inside the text)."""
    return json.dumps({
        "type": "message", "id": "1612345678901", "timestamp": "2015-07-20T09:00:00.000Z",
        "serviceUrl": "https://smba.trafficmanager.net/uk/", "channelId": "msteams",
        "from": {"id": "29:1abc", "name": "Cluster Chair", "aadObjectId": "00000000-0000-0000-0000-000000000001"},
        "conversation": {"isGroup": True, "id": "19:abc@thread.skype;messageid=1612345678901"},
        "recipient": None, "textFormat": "plain", "attachmentLayout": None, "attachments": [
            {"contentType": "text/html", "content": f"<div><at>Obsession</at> {text}</div>"}],
        "entities": [{"type": "mention", "mentioned": {"id": "28:bot", "name": "Obsession"}, "text": "<at>Obsession</at>"}],
        "channelData": {"teamsChannelId": "19:abc@thread.skype", "teamsTeamId": "19:team@thread.skype"},
        "text": f"<at>Obsession</at> {text}\n", "locale": "en-GB",
    }).encode("utf-8")


def teams_signature(body: bytes, key: bytes = KEY) -> str:
    """Computed here as Microsoft documents it: base64 HMAC-SHA256 of the raw body, keyed with the decoded token."""
    return "HMAC " + base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


@pytest.fixture(scope="module")
def base(app, live_server):
    return live_server(app())


def send(base: str, body: bytes, auth: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if auth is not None:
        headers["Authorization"] = auth
    return httpx.post(f"{base}/teams/messages", content=body, headers=headers, timeout=10)


def card_of(r: httpx.Response) -> dict:
    msg = r.json()
    assert msg["type"] == "message"
    att = msg["attachments"][0]
    assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
    jsonschema.Draft6Validator(SCHEMA).validate(att["content"])
    return att["content"]


def test_signed_message_gets_an_adaptive_card(base):
    body = activity("neet cluster=Seacroft week=2015-07-20")
    r = send(base, body, teams_signature(body))
    assert r.status_code == 200
    card = card_of(r)
    text = json.dumps(card)
    assert "Seacroft Manston" in text and "20 July 2015" in text


def test_figure2_in_the_card(base):
    body = activity("week=2015-07-20")
    text = json.dumps(card_of(send(base, body, teams_signature(body))))
    assert "1,247" in text and "1,595" in text


@pytest.mark.parametrize("case", ["missing", "wrong-key", "not-hmac", "tampered", "empty", "garbage"])
def test_forged_messages_are_refused(case, base):
    body = activity("neet")
    auth = {
        "missing": None,
        "wrong-key": teams_signature(body, key=b"another key entirely"),
        "not-hmac": "Bearer " + teams_signature(body)[5:],
        "tampered": teams_signature(body),
        "empty": "HMAC",
        "garbage": "HMAC " + "A" * 44,
    }[case]
    if case == "tampered":
        body = body.replace(b"neet", b"cla ")
    r = send(base, body, auth)
    assert r.status_code == 401
    assert "attachments" not in r.text


def test_an_oversized_body_is_refused(base):
    body = activity("neet " + "x" * 70_000)
    assert send(base, body, teams_signature(body)).status_code == 413


def test_unknown_question_gets_a_card_with_a_working_example(base):
    body = activity("<b>pizza</b> [x](https://evil.example) @channel")
    card = card_of(send(base, body, teams_signature(body)))
    text = json.dumps(card)
    assert "Try: @Obsession" in text
    assert "evil.example" not in text and "](" not in text and "<b>" not in text


def test_help_card(base):
    body = activity("help")
    text = json.dumps(card_of(send(base, body, teams_signature(body))))
    assert "@Obsession" in text and "absence_secondary" in text


def test_verify_is_constant_time_compare_of_the_documented_header():
    body = b'{"text":"x"}'
    good = teams_signature(body)
    assert verify(KEY, body, good)
    assert verify(KEY, body, "  " + good + " ")
    assert not verify(KEY, body, good.lower())
    assert not verify(KEY, body + b" ", good)
    assert not verify(None, body, good)


def test_mentions_and_markup_are_stripped():
    assert question("<at>Obsession</at> neet cluster=Seacroft\n") == "neet cluster=Seacroft"
    assert question("<div><at>Obsession Tracker</at>&nbsp;cla <at>Someone</at></div>") == "cla"


def test_secret_that_is_not_base64_is_a_configuration_error():
    from bot.teams_app import secret_key
    from tracker.errors import ConfigError
    from tracker.settings import Settings

    with pytest.raises(ConfigError, match="TEAMS_OUTGOING_WEBHOOK_SECRET"):
        secret_key(Settings.from_env({"TEAMS_OUTGOING_WEBHOOK_SECRET": "not base64 !!"}, dotenv=False))
