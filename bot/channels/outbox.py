"""The outbox: what a channel without credentials would have sent, written to OUTBOX_DIR/<week>/<subscription>/.

.eml files (one per recipient, openable in any mail client), slack-<channel>.json (the
chat.postMessage body), teams-<n>.json (the Workflows message) and the PNG beside them. Nothing
here touches the ledger: writing a file again is harmless, and a channel configured later must
still send.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from bot.outbox import write_file

from .base import Delivery


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._+-]+", "_", name)[:150] or "x"


class OutboxChannel:
    """Writes each delivery of one kind (email, slack, teams) into a subscription's folder."""

    def __init__(self, kind: str, folder: Path):
        self.name = f"{kind} (outbox)"
        self.kind = kind
        self.folder = folder
        self.written: list[Path] = []

    def open(self) -> None:
        """Make the folder."""
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, delivery: Delivery) -> None:
        """Write the payload as the file the channel would have sent."""
        p = delivery.payload
        if self.kind == "email":
            path = write_file(self.folder, f"{_safe(delivery.recipient)}.eml", p)
        elif self.kind == "slack":
            path = write_file(self.folder, f"slack-{_safe(p.channel)}.json", json.dumps(p.message, indent=2) + "\n")
            if not (self.folder / p.filename).exists():
                write_file(self.folder, p.filename, p.png)
        else:
            path = write_file(self.folder, f"teams-{p.n}.json", json.dumps(p.card, indent=2) + "\n")
        self.written.append(path)

    def close(self) -> None:
        """Nothing to close."""
