"""The interfaces of a delivery channel, and the error a failed delivery raises.

A Channel is opened once for a fan-out, sends one payload per ledger row, and is closed. Payloads
are built apart from sending by each channel module's pure `build_payload`, so they can be tested
(and written to the outbox) without any network. A ChannelPlugin is the rest of what a channel
means to the weekly run: who its recipients are, whether it is configured, what it plans to
deliver, what the dry run says and what the outbox writes.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable, Protocol

from tracker.errors import DeliveryFailed


class ChannelError(DeliveryFailed):
    """One delivery failed; the message says what to do about it.

    `fatal` means the channel itself is unusable (bad credentials, no server), so the rest of its
    fan-out would fail the same way and is not attempted in this run.
    """

    def __init__(self, message: str, *, fatal: bool = False):
        super().__init__(message)
        self.fatal = fatal


@dataclass(frozen=True)
class Delivery:
    """One thing to send: a ledger row's recipient and the payload built for it."""

    recipient: str           # what the ledger keys on: an address, a channel id, a webhook key
    label: str               # how the summary names it (never a secret such as a webhook URL)
    payload: Any


class Channel(Protocol):
    """A delivery channel: open once, send many, close."""

    name: str

    def open(self) -> None:
        """Connect (or check credentials) before the first send."""

    def send(self, delivery: Delivery) -> None:
        """Deliver one payload; raise ChannelError with an actionable message when it fails."""

    def close(self) -> None:
        """Release connections; safe to call twice."""


@dataclass(frozen=True)
class Planned:
    """One delivery a channel plans: its ledger recipient, how to build it, and whether it goes to the outbox."""

    recipient: str                        # the ledger key's recipient (lower-cased address, channel id, webhook key)
    make: Callable[[int], Delivery]       # generation (how often --force reopened the row) -> the Delivery
    outbox: bool = False                  # written to the outbox (no credentials, or an example URL), not sent


@dataclass(frozen=True)
class PlanContext:
    """What a channel's plan needs of the run besides one subscription: the week, settings, configuration, URLs."""

    week: date
    settings: Any
    config: Any
    image_url: Callable[[str], str | None]      # area -> the archive's image URL, or None without PUBLIC_BASE_URL
    signer: Callable[[str], str] | None         # path -> its signature, or None without a signing key


class ChannelPlugin(ABC):
    """Everything the weekly run, its dry run, the outbox and the demo know about one channel.

    One instance per channel module; bot.channels.CHANNELS lists them. Payloads stay pure: `plan`
    builds them from the rendered model, the Channel from `channel` only sends them.
    """

    kind: str = ""                        # the ledger's channel and the summary's line: "email", "slack", ...
    outbox_files: tuple[str, str] = ("", "")    # (how the demo names them, the glob of its outbox files)
    outbox_hint: str | None = None        # how to look at those files, for the demo
    unsubscribable: bool = False          # recipients can unsubscribe (bot.unsubscribe) and are then left out

    @abstractmethod
    def recipients_of(self, sub, where: str, base_dir: Path) -> list[str]:
        """This channel's recipients of one subscription, checked (ConfigError names `where`), each once."""

    @abstractmethod
    def configured(self, settings) -> bool:
        """Whether the settings let this channel really send (else its deliveries go to the outbox)."""

    @abstractmethod
    def channel(self, settings, ctx) -> Channel:
        """The channel that sends for one run, not yet opened."""

    @abstractmethod
    def plan(self, pc: PlanContext, sub, recipients: list[str], model, png: bytes) -> list[Planned]:
        """The deliveries to one subscription's recipients of this channel, for its rendered model."""

    @abstractmethod
    def dry_run_lines(self, settings, sub, recipients: list[str], sent: set) -> list[str]:
        """What --dry-run says this channel would do for one subscription (`sent`: ledger keys already sent)."""

    @abstractmethod
    def outbox_write(self, folder: Path, delivery: Delivery) -> Path:
        """Write one delivery into an outbox folder as the file it would have sent."""
