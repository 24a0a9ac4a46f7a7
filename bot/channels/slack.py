"""Slack with slack_sdk: the PNG uploaded into the channel (files_upload_v2), then the Block Kit message.

SLACK_API_URL points the client at another API base (GovSlack, or a test server). Rate limits (HTTP
429 with Retry-After) and server errors are retried by the SDK's own retry handlers.

Exactly once, picture and message: each weekly post's message carries metadata naming its ledger row
(week, subscription, channel, generation), and its picture a file name unique to that row
(tracker-<week>-<subscription>-<8 hex>.png). A row a dead run left `sending` (or one that failed,
perhaps after Slack had it) is looked up in the channel's recent history (conversations.history with
include_all_metadata, whose messages list the files shared with them) before it is posted again
(`arrived`): with the message there it is marked sent; with only the picture there, only the message
is posted; with neither, both. A first try makes no history call. A picture Slack was still sharing
when the look-up ran (the share is asynchronous; a run that died and is retried at once) can still be
uploaded twice; the message never is.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

from renderers.paths import slug

from .base import ChannelError, ChannelPlugin, Delivery, PlanContext, Planned
from .outbox import safe_name, write_file

DEFAULT_API_URL = "https://slack.com/api/"
EVENT_TYPE = "obsession_tracker_post"      # the message metadata's event_type on every weekly post
HISTORY_LOOKBACK = 200                     # recent messages of a channel searched for a post a dead run made


@dataclass(frozen=True)
class SlackPost:
    """What one channel gets: the image to upload and the chat.postMessage body."""

    channel: str
    message: dict            # {"channel", "text", "blocks"}
    png: bytes
    filename: str
    title: str
    alt_text: str


def ledger_metadata(week, subscription: str, channel: str, generation: int) -> dict:
    """The message metadata naming a post's ledger row (Slack: metadata={"event_type", "event_payload"})."""
    return {"event_type": EVENT_TYPE, "event_payload": {
        "week": week.isoformat(), "subscription": subscription, "channel": channel, "generation": generation}}


def upload_filename(post: SlackPost) -> str:
    """The picture's file name in Slack: unique to the post's ledger row when it has one, else its own."""
    row = (post.message.get("metadata") or {}).get("event_payload")
    if not row:
        return post.filename
    # The hash tells rows apart (channel, generation, subscriptions that slug alike); the rest is for people.
    key = json.dumps([row["week"], row["subscription"], row["channel"], row["generation"]])
    short = hashlib.sha256(key.encode()).hexdigest()[:8]
    return f"tracker-{row['week']}-{slug(str(row['subscription']))[:40]}-{short}.png"


def with_metadata(post: SlackPost, metadata: dict) -> SlackPost:
    """The post with the metadata on its message."""
    return replace(post, message={**post.message, "metadata": metadata})


def build_payload(model, png: bytes, channel: str, filename: str = "tracker.png") -> SlackPost:
    """One channel's post (pure): the Block Kit message from renderers.slack and the image beside it."""
    from renderers.formatting import subject
    from renderers.slack import render_slack
    from renderers.views import alt_text_of

    msg = render_slack(model)
    alt = alt_text_of(model)
    return SlackPost(channel=channel, message={"channel": channel, **msg}, png=png, filename=filename,
                     # a file title is plain text: the message's mrkdwn-escaped text would show "&amp;"
                     title=subject(model)[:250], alt_text=alt[:1000])


# What Slack's error codes mean for the person reading the summary.
_ADVICE = {
    "channel_not_found": "channel {c} was not found: check the id in slack_channels (right-click the channel, "
                         "View channel details, the ID at the bottom); a private channel needs the bot invited first",
    "is_archived": "channel {c} is archived: unarchive it or remove it from slack_channels",
    "invalid_auth": "Slack refused SLACK_BOT_TOKEN (invalid_auth): copy the Bot User OAuth Token (xoxb-...) again",
    "not_authed": "SLACK_BOT_TOKEN is missing or empty",
    "account_inactive": "the Slack app behind SLACK_BOT_TOKEN has been deactivated or uninstalled; reinstall it",
    "token_revoked": "SLACK_BOT_TOKEN has been revoked; reinstall the app and copy the new token",
    "missing_scope": "the Slack app lacks a permission ({needed}): add it under OAuth & Permissions and reinstall",
    "ratelimited": "Slack kept answering 429 (rate limited) after the retries; run again later",
    "msg_too_long": "the message is too long for Slack",
}
_FATAL = {"invalid_auth", "not_authed", "account_inactive", "token_revoked"}


class SlackChannel:
    """Posts to Slack channels through one WebClient."""

    name = "slack"

    def __init__(self, settings, *, retries: int = 3, timeout: int = 30):
        self.token = settings.slack_bot_token
        base = settings.slack_api_url or DEFAULT_API_URL
        self.base_url = base if base.endswith("/") else base + "/"
        self.retries = retries
        self.timeout = timeout
        self.client = None
        self.bot_name = "the bot"
        self.pictures_there: set[tuple[str, str]] = set()   # (channel, file name) `arrived` saw in history

    def open(self) -> None:
        """Make the client and check the token (auth.test), learning the bot's name for advice."""
        from slack_sdk import WebClient
        from slack_sdk.errors import SlackApiError
        from slack_sdk.http_retry.builtin_handlers import (
            ConnectionErrorRetryHandler,
            RateLimitErrorRetryHandler,
            ServerErrorRetryHandler,
        )

        if not self.token:
            raise ChannelError("SLACK_BOT_TOKEN is not set; set it to post to Slack", fatal=True)
        self.client = WebClient(token=self.token, base_url=self.base_url, timeout=self.timeout, retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=self.retries),
            ServerErrorRetryHandler(max_retry_count=self.retries),
        ])
        try:
            auth = self.client.auth_test()
        except SlackApiError as e:
            raise self._error(e, "") from None
        except OSError as e:
            raise ChannelError(f"cannot reach Slack at {self.base_url} ({e}); check SLACK_API_URL and the network",
                               fatal=True) from None
        self.bot_name = auth.get("user") or self.bot_name

    def _error(self, e, channel: str) -> ChannelError:
        code = e.response.get("error", "") if e.response is not None else ""
        if code == "not_in_channel":
            return ChannelError(f"the bot is not in channel {channel}: open the channel in Slack and type "
                                f"/invite @{self.bot_name}")
        if e.response is not None and e.response.status_code == 429:
            code = "ratelimited"
        advice = _ADVICE.get(code)
        if advice:
            return ChannelError(advice.format(c=channel, needed=e.response.get("needed", "see the app settings")),
                                fatal=code in _FATAL)
        return ChannelError(f"Slack answered {code or e.response.status_code} for channel {channel}")

    def send(self, delivery: Delivery) -> None:
        """Upload the image into the channel (unless `arrived` found it there), then post the message."""
        from slack_sdk.errors import SlackApiError, SlackRequestError

        p: SlackPost = delivery.payload
        if self.client is None:
            self.open()
        name = upload_filename(p)
        try:
            if (p.channel, name) not in self.pictures_there:
                self.client.files_upload_v2(channel=p.channel, file=p.png, filename=name, title=p.title,
                                            alt_txt=p.alt_text)
            self.client.chat_postMessage(**p.message, unfurl_links=False, unfurl_media=False)
        except SlackApiError as e:
            raise self._error(e, p.channel) from None
        except SlackRequestError as e:
            raise ChannelError(f"the image upload to Slack for channel {p.channel} failed ({e})") from None
        except OSError as e:
            raise ChannelError(f"cannot reach Slack at {self.base_url} ({e}); check SLACK_API_URL") from None

    def arrived(self, delivery: Delivery) -> bool:
        """True when the delivery's post (by its ledger metadata) is already in the channel's recent history:
        asked for a row tried before (left `sending` by a dead run, or failed), so that it is marked sent
        rather than posted twice. Its picture found there (by file name) is remembered for `send`."""
        from slack_sdk.errors import SlackApiError

        p: SlackPost = delivery.payload
        wanted = p.message.get("metadata")
        if not wanted:
            return False
        if self.client is None:
            self.open()
        name = upload_filename(p)
        self.pictures_there.discard((p.channel, name))
        cursor, seen = None, 0
        try:
            while seen < HISTORY_LOOKBACK:
                page = self.client.conversations_history(channel=p.channel, include_all_metadata=True,
                                                         limit=min(100, HISTORY_LOOKBACK - seen), cursor=cursor)
                messages = page.get("messages") or []
                seen += len(messages)
                if any((m.get("metadata") or {}).get("event_type") == wanted["event_type"]
                       and (m.get("metadata") or {}).get("event_payload") == wanted["event_payload"]
                       for m in messages):
                    return True
                # A file shared into a channel is a message of its own listing it in `files` (id, name, ...).
                if any(f.get("name") == name for m in messages for f in (m.get("files") or [])):
                    self.pictures_there.add((p.channel, name))
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not messages or not cursor:
                    return False
        except SlackApiError as e:
            code = e.response.get("error", "") if e.response is not None else ""
            if code in ("missing_scope", "not_in_channel"):
                raise ChannelError(f"cannot tell whether an interrupted post to channel {p.channel} arrived "
                                   f"(conversations.history: {code}); add the channels:history and groups:history "
                                   "scopes to the app and reinstall it, or check the channel and run with --force"
                                   ) from None
            raise self._error(e, p.channel) from None
        except OSError as e:
            raise ChannelError(f"cannot reach Slack at {self.base_url} ({e}); check SLACK_API_URL") from None
        return False

    def close(self) -> None:
        """Nothing to release (the client opens a connection per call)."""
        self.client = None


class SlackPlugin(ChannelPlugin):
    """Slack: a subscription's `slack_channels`, posted with SLACK_BOT_TOKEN."""

    kind = "slack"
    outbox_files = ("Slack (slack-*.json)", "slack-*.json")
    outbox_hint = "paste a slack-*.json into Slack's Block Kit Builder"

    def recipients_of(self, sub, where: str, base_dir: Path) -> list[str]:
        """The channel ids, each once."""
        return list(dict.fromkeys(sub.slack_channels))

    def configured(self, settings) -> bool:
        """Posted to Slack when SLACK_BOT_TOKEN is set."""
        return bool(settings.slack_bot_token)

    def channel(self, settings, ctx) -> SlackChannel:
        """One WebClient for the run."""
        return SlackChannel(settings)

    def plan(self, pc: PlanContext, sub, channels: list[str], model, png: bytes) -> list[Planned]:
        """One post per channel: the image and the Block Kit message."""
        outbox = not self.configured(pc.settings)
        posts = [build_payload(model, png, c) for c in channels]

        def make(generation: int, p: SlackPost) -> Delivery:
            post = with_metadata(p, ledger_metadata(pc.week, sub.name, p.channel, generation))
            return Delivery(p.channel, f"Slack {p.channel}", post)
        return [Planned(p.channel, lambda generation, p=p: make(generation, p), outbox) for p in posts]

    def dry_run_lines(self, settings, sub, channels: list[str], sent: set) -> list[str]:
        """One line per channel."""
        how = "to Slack" if settings.slack_bot_token else f"into {settings.outbox_dir}/ (no SLACK_BOT_TOKEN)"
        return [f"slack {how}: channel {c}" + (" (already sent)" if (sub.name, self.kind, c) in sent else "")
                for c in channels]

    def outbox_write(self, folder: Path, delivery: Delivery) -> Path:
        """slack-<channel>.json (the chat.postMessage body), and the image beside it once."""
        p: SlackPost = delivery.payload
        body = {k: v for k, v in p.message.items() if k != "metadata"}     # as pasted into the Block Kit Builder
        path = write_file(folder, f"slack-{safe_name(p.channel)}.json", json.dumps(body, indent=2) + "\n")
        if not (folder / p.filename).exists():
            write_file(folder, p.filename, p.png)
        return path


SLACK = SlackPlugin()
