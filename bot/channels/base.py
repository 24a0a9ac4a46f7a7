"""The one interface every delivery channel has, and the error a failed delivery raises.

A channel is opened once for a fan-out, sends one payload per ledger row, and is closed. Payloads
are built apart from sending by each channel module's pure `build_payload`, so they can be tested
(and written to the outbox) without any network.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

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
