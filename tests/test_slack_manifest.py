"""`obsession slack-manifest`: YAML that Slack's "Create an app from a manifest" takes, with only what the product uses."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

from bot.cli import main  # noqa: E402
from bot.slack_manifest import build_manifest, to_yaml  # noqa: E402
from tracker.errors import ConfigError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _printed(capsys, *argv) -> dict:
    assert main(["slack-manifest", *argv]) == 0
    return yaml.safe_load(capsys.readouterr().out)


def test_http_manifest(demo_env, capsys):
    m = _printed(capsys, "--url", "https://tracker.example.gov.uk/")
    # Limits from Slack's manifest schema (slackapi/manifest-schema, manifest.schema.1.0.0.json).
    info = m["display_information"]
    assert 1 <= len(info["name"]) <= 35 and 1 <= len(info["description"]) <= 140
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", info["background_color"])
    assert m["features"]["bot_user"]["display_name"]
    [cmd] = m["features"]["slash_commands"]
    assert cmd["command"] == "/obsession" and re.fullmatch(r"/[a-z0-9_-]{1,31}", cmd["command"])
    assert cmd["url"] == "https://tracker.example.gov.uk/slack/events"   # the route bot/web.py serves
    assert 1 <= len(cmd["usage_hint"]) <= 1000 and "cluster=" in cmd["usage_hint"]
    assert cmd["should_escape"] is False
    assert m["settings"]["socket_mode_enabled"] is False
    assert set(m) == {"display_information", "features", "oauth_config", "settings"}


def test_socket_manifest_has_no_request_url(demo_env, capsys):
    m = _printed(capsys, "--socket")
    assert m["settings"]["socket_mode_enabled"] is True
    assert "url" not in m["features"]["slash_commands"][0]


def test_bot_scopes_are_what_the_product_calls_and_no_more(demo_env, capsys):
    m = _printed(capsys, "--socket")
    assert sorted(m["oauth_config"]["scopes"]["bot"]) == ["channels:history", "chat:write", "commands", "files:write",
                                                           "groups:history"]
    assert set(m["oauth_config"]["scopes"]) == {"bot"}          # no user scopes
    # Each scope is there for a call the code makes: the slash command, posting, uploading the image, and
    # reading a channel's history (did an interrupted post arrive?).
    source = "\n".join(p.read_text() for p in (ROOT / "bot").rglob("*.py"))
    assert "app.command(" in source and "chat_postMessage(" in source and "files_upload_v2(" in source
    for call in re.findall(r"client\.(\w+)\(", source):
        # auth.test needs no scope; apps.connections.open is called with the app-level token
        # (connections:write, made by hand on the app page: a manifest cannot hold it).
        assert call in ("chat_postMessage", "files_upload_v2", "auth_test", "apps_connections_open",
                        "conversations_history"), f"{call} may need a scope the manifest lacks"


def test_names_with_yaml_specials_stay_text():
    m = build_manifest('Kingston: "upon" #Hull', socket=True, url=None)
    assert yaml.safe_load(to_yaml(m)) == m


@pytest.mark.parametrize("argv", [["--url", "http://tracker.example.gov.uk"], ["--url", "https://x.example/?a=b"], []])
def test_bad_url_or_none_exits_2_saying_how(demo_env, capsys, monkeypatch, argv):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    assert main(["slack-manifest", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "https://" in captured.err and ("--url" in captured.err or "--socket" in captured.err)


def test_builder_refuses_without_an_address():
    with pytest.raises(ConfigError):
        build_manifest("Leeds", socket=False, url=None)
