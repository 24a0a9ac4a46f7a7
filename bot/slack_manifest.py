"""The Slack app manifest ("Create an app > From a manifest"): pure, so a test can read every field.

Only what the product uses: the bot user, the `/obsession` slash command (answered over HTTP at
/slack/events, or through Socket Mode), and the bot scopes its calls need: `commands` (the slash
command), `chat:write` (chat.postMessage for the weekly posts), `files:write` (files_upload_v2 for
the tracker image) and `channels:history` / `groups:history` (conversations.history, to find whether a
post interrupted by a crash arrived before posting it again). No event subscriptions, no
interactivity, no user scopes.
"""
from __future__ import annotations

import json
from urllib.parse import urlsplit

from renderers.palette import NAVY
from tracker.errors import ConfigError

BOT_SCOPES = ("commands", "chat:write", "files:write", "channels:history", "groups:history")
COMMAND = "/obsession"
USAGE_HINT = "[obsession] [cluster=NAME] [clusters] [week=YYYY-MM-DD|last] [public] | help"
NAME_MAX, DESCRIPTION_MAX = 35, 140          # Slack's limits for display_information


def check_url(url: str) -> str:
    """The public base URL as Slack needs it (https, a host, no query), or ConfigError saying how to write it."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment or len(url) > 2000:
        raise ConfigError(f"--url {url!r}: Slack calls the app at an https address; write it as "
                          "https://tracker.example.gov.uk (the host of `obsession serve`, no query)")
    return url.strip().rstrip("/")


def build_manifest(city: str, *, socket: bool, url: str | None) -> dict:
    """The manifest as a dict: display information, bot user, slash command, scopes, Socket Mode on or off."""
    if not socket and not url:
        raise ConfigError("slack-manifest: give --url https://HOST (where `obsession serve` answers) for HTTP, "
                          "or --socket for Socket Mode (no public address)")
    name = f"Obsessions tracker {city}"[:NAME_MAX].rstrip()
    description = f"The weekly obsessions tracker for {city}: ask /obsession for the latest figures."
    command = {"command": COMMAND, "description": f"The weekly obsessions tracker for {city}"[:DESCRIPTION_MAX],
               "usage_hint": USAGE_HINT, "should_escape": False}
    if not socket:
        command = {**command, "url": check_url(url) + "/slack/events"}
    return {
        "display_information": {"name": name, "description": description[:DESCRIPTION_MAX],
                                "background_color": NAVY},
        "features": {"bot_user": {"display_name": "obsession", "always_online": False},
                     "slash_commands": [command]},
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {"org_deploy_enabled": False, "socket_mode_enabled": socket, "token_rotation_enabled": False},
    }


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    # A JSON string is a YAML double-quoted scalar: safe for any text (colons, #, quotes).
    return json.dumps(value, ensure_ascii=False)


def to_yaml(node, indent: int = 0) -> str:
    """Block-style YAML of dicts, lists, strings and booleans (all a manifest holds)."""
    pad = "  " * indent
    lines = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(value, indent + 1))
            else:
                lines.append(f"{pad}{key}: {_scalar(value)}")
    else:
        for item in node:
            if isinstance(item, dict):
                first, *rest = to_yaml(item, indent + 1).splitlines()
                lines.append(f"{pad}- {first.strip()}")
                lines += rest
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    return "\n".join(lines)
