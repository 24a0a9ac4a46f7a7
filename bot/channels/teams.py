"""Teams: the Adaptive Card POSTed to each Workflows webhook URL, retried on 429 and 5xx with backoff.

A webhook URL carries its own signature, so it is a secret: it is never logged or shown; the summary
names a webhook by its position and host, and the ledger by a hash.
"""
from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

from tracker.errors import ConfigError

from .base import ChannelError, ChannelPlugin, Delivery, PlanContext, Planned
from .outbox import write_file

MAX_CARD_BYTES = 28 * 1024          # Teams refuses larger messages
# Hosts reserved for examples (RFC 2606/6761): a webhook there is a placeholder and goes to the outbox.
PLACEHOLDER_SUFFIXES = (".example", ".invalid", ".test", "example.com", "example.net", "example.org")


@dataclass(frozen=True)
class TeamsPost:
    """One webhook's delivery: its URL (a secret), its place in the list, and the message."""

    url: str
    n: int
    card: dict


def webhook_key(url: str) -> str:
    """What the ledger keys a webhook on: a hash, never the URL (which is a secret)."""
    return "teams-" + hashlib.sha256(url.encode()).hexdigest()[:16]


def webhook_label(n: int, url: str) -> str:
    """How the summary names a webhook: 'Teams webhook 1 (example.webhook.office.com)'."""
    return f"Teams webhook {n} ({urlsplit(url).hostname or 'no host'})"


def is_placeholder(url: str) -> bool:
    """True for an example URL (a documentation host), which nothing is ever sent to."""
    host = (urlsplit(url).hostname or "").lower()
    return host.endswith(PLACEHOLDER_SUFFIXES)


def card_bytes(payload: dict) -> bytes:
    """The request body as sent."""
    return json.dumps(payload, separators=(",", ":")).encode()


def build_payload(model, image_url: str | None = None) -> dict:
    """The Workflows message (pure): renderers.teams' envelope, checked against the 28 KB limit."""
    from renderers.teams import render_teams

    try:
        return render_teams(model, image_url=image_url)
    except ValueError as e:            # the renderer refuses a card over the limit
        raise ChannelError(f"{e}; nothing was sent to Teams") from None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class TeamsChannel:
    """POSTs cards to Workflows webhooks."""

    name = "teams"

    def __init__(self, *, attempts: int = 5, backoff: float = 2.0, max_wait: float = 60.0, timeout: float = 30.0,
                 sleep=time.sleep):
        self.attempts = attempts
        self.backoff = backoff
        self.max_wait = max_wait
        self.timeout = timeout
        self.sleep = sleep

    def open(self) -> None:
        """Nothing to open: each webhook is its own URL."""

    def close(self) -> None:
        """Nothing to close."""

    def send(self, delivery: Delivery) -> None:
        """POST the card; 429 and 5xx are retried (Retry-After honoured), anything else fails at once."""
        url, body = delivery.payload.url, card_bytes(delivery.payload.card)
        if len(body) > MAX_CARD_BYTES:
            raise ChannelError(f"the card for {delivery.label} is {len(body)} bytes; Teams accepts at most "
                               f"{MAX_CARD_BYTES}, so it was not sent")
        last = ""
        for attempt in range(self.attempts):
            req = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
            wait = None
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    if 200 <= resp.status < 300:
                        return
                    last = f"HTTP {resp.status}"
            except urllib.error.HTTPError as e:
                detail = e.read(300).decode(errors="replace").strip()
                if e.code == 429 or e.code >= 500:
                    last = f"HTTP {e.code}"
                    wait = _retry_after(e.headers.get("Retry-After"))
                elif e.code in (401, 403, 404):
                    raise ChannelError(f"{delivery.label} answered {e.code}: the Workflow behind this URL was deleted, "
                                       f"turned off or its URL changed; copy the URL again from the Workflow "
                                       f"('When a Teams webhook request is received') into teams_webhooks") from None
                else:
                    raise ChannelError(f"{delivery.label} refused the card: HTTP {e.code} {detail[:200]}") from None
            except (urllib.error.URLError, OSError) as e:
                last = f"cannot connect ({getattr(e, 'reason', e)})"
            if attempt + 1 < self.attempts:
                delay = self.backoff * (2 ** attempt) if wait is None else wait
                self.sleep(min(delay, self.max_wait))
        raise ChannelError(f"{delivery.label} did not accept the card after {self.attempts} tries ({last}); "
                           f"it will be tried again on the next run")


class TeamsPlugin(ChannelPlugin):
    """Teams: a subscription's `teams_webhooks`, each URL its own credential (example URLs go to the outbox)."""

    kind = "teams"
    outbox_files = ("Teams (teams-*.json)", "teams-*.json")

    def recipients_of(self, sub, where: str, base_dir: Path) -> list[str]:
        """The webhook URLs, each once; ConfigError for one that is not https://."""
        for url in sub.teams_webhooks:
            if not url.startswith("https://") and not url.startswith("http://127.0.0.1"):
                raise ConfigError(f"{where}: teams_webhooks: each must be an https:// Workflows URL")
        return list(dict.fromkeys(sub.teams_webhooks))

    def configured(self, settings) -> bool:
        """Always: a webhook needs no setting (whether one is an example URL is decided per webhook)."""
        return True

    def channel(self, settings, ctx) -> TeamsChannel:
        """The poster, with the context's `teams_options` (tests shorten the backoff)."""
        return TeamsChannel(**getattr(ctx, "teams_options", {}))

    def plan(self, pc: PlanContext, sub, urls: list[str], model, png: bytes) -> list[Planned]:
        """One card for the subscription, POSTed to each webhook (written to the outbox for an example URL)."""
        card = build_payload(model, pc.image_url(sub.area))
        return [Planned(webhook_key(u), lambda generation, n=n, u=u: Delivery(webhook_key(u), webhook_label(n, u),
                                                                              TeamsPost(u, n, card)),
                        outbox=is_placeholder(u))
                for n, u in enumerate(urls, 1)]

    def dry_run_lines(self, settings, sub, urls: list[str], sent: set) -> list[str]:
        """One line per webhook, named by position and host (never the URL, a secret)."""
        out = []
        for n, u in enumerate(urls, 1):
            where = f"into {settings.outbox_dir}/ (example URL)" if is_placeholder(u) else "by POST"
            done = (sub.name, self.kind, webhook_key(u)) in sent
            out.append(f"teams {where}: {webhook_label(n, u)}" + (" (already sent)" if done else ""))
        return out

    def outbox_write(self, folder: Path, delivery: Delivery) -> Path:
        """teams-<n>.json, the Workflows message."""
        p: TeamsPost = delivery.payload
        return write_file(folder, f"teams-{p.n}.json", json.dumps(p.card, indent=2) + "\n")


TEAMS = TeamsPlugin()
