"""The outbox: what a channel without credentials would have sent, written to OUTBOX_DIR/<week>/<subscription>/.

Each channel plugin writes its own files (`outbox_write`: .eml files openable in any mail client,
slack-<channel>.json with the chat.postMessage body, teams-<n>.json with the Workflows message);
the tracker's PNG goes beside them. Nothing here touches the ledger: writing a file again is
harmless, and a channel configured later must still send.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from renderers.paths import slug

from .base import ChannelPlugin, Delivery

IMAGE = "tracker.png"        # the rendered tracker, beside each subscription's files


def outbox_folder(outbox_dir: str, week: date, name: str) -> Path:
    """The folder for one week and one subscription or area, created when missing."""
    folder = Path(outbox_dir) / week.isoformat() / slug(name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_file(folder: Path, filename: str, content: str | bytes) -> Path:
    """Write one file atomically (a reader never sees half of it)."""
    path = folder / filename
    tmp = path.with_name(path.name + ".part")
    if isinstance(content, bytes):
        tmp.write_bytes(content)
    else:
        tmp.write_text(content, encoding="utf-8")
    tmp.replace(path)
    return path


def safe_name(name: str) -> str:
    """A recipient or channel id as a file name: nothing but letters, digits and @._+- (at most 150)."""
    return re.sub(r"[^A-Za-z0-9@._+-]+", "_", name)[:150] or "x"


class OutboxChannel:
    """Writes each delivery of one channel into a subscription's folder, as that channel's plugin says."""

    def __init__(self, plugin: ChannelPlugin, folder: Path):
        self.name = f"{plugin.kind} (outbox)"
        self.plugin = plugin
        self.folder = folder
        self.written: list[Path] = []

    def open(self) -> None:
        """Make the folder."""
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, delivery: Delivery) -> None:
        """Write the payload as the file the channel would have sent."""
        self.written.append(self.plugin.outbox_write(self.folder, delivery))

    def close(self) -> None:
        """Nothing to close."""
