"""Writing rendered outputs into the outbox folder: OUTBOX_DIR/<week>/<name>/."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from .context import slug


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
