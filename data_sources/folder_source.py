"""A source that takes the newest file dropped in a folder (the analyst's weekly export)."""
from __future__ import annotations

import stat
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Mapping

from tracker.config import Config
from tracker.errors import InputError

from .importing import Loaded, load_files


@dataclass
class FolderSource:
    """The newest file matching `pattern` in `path` (relative paths are from the configuration file's folder)."""

    name: str
    path: str
    pattern: str = "*.csv"
    format: str = "long"
    la: str | None = None
    sheet: str | None = None
    obsession: str | None = None   # record formats: the obsession the counts go to
    start: date | None = None      # ssda903: the first Monday counted (`from`, as --from)
    config_path: str = ""
    key: str = "sources[?]"
    kind: str = "folder"

    def folder(self) -> Path:
        """The folder, resolved against the configuration file's folder when relative."""
        p = Path(self.path).expanduser()
        if not p.is_absolute() and self.config_path and Path(self.config_path).is_file():
            p = Path(self.config_path).resolve().parent / p
        return p

    def newest(self) -> Path:
        """The newest matching file; Excel's lock files (~$...) and hidden files are skipped, symlinks refused."""
        folder = self.folder()
        if not folder.is_dir():
            raise InputError(f"source {self.name}: the folder {folder} does not exist; check {self.key}.path")
        files = []
        for f in folder.glob(self.pattern):
            if f.name.startswith(("~$", ".")):
                continue
            mode = f.lstat().st_mode
            if stat.S_ISDIR(mode):
                continue
            if stat.S_ISLNK(mode) or not stat.S_ISREG(mode):
                what = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
                raise InputError(f"source {self.name}: {f} is {what}; a folder source reads only regular files, "
                                 "so copy the export itself into the folder (and remove the link)")
            files.append(f)
        if not files:
            raise InputError(f'source {self.name}: no file matching "{self.pattern}" in {folder}; drop the '
                             f"export there or check {self.key}.pattern")
        return max(files, key=lambda f: (f.stat().st_mtime, f.name))

    def load(self, config: Config, env: Mapping[str, str], today: date | None = None) -> Loaded:
        """Read and check the newest file."""
        newest = self.newest()
        options = {"obsession": self.obsession} if self.obsession else {}
        if self.start:
            options["start"] = self.start
        loaded = load_files([newest], config, fmt=self.format, la=self.la, sheet=self.sheet, today=today, **options)
        loaded.source = f"folder {self.name}: {newest.resolve()}"[:500]
        loaded.notes.insert(0, f"newest file: {newest.name}")
        if self.format == "ssda903" and not self.start:
            # Children who left before the extract's period are not in it: its first weeks would undercount.
            loaded.notes.insert(1, f"counted from the earliest DECOM in the file; if the extract covers a period, "
                                   f"give its start as {self.key}.from (e.g. from = 2024-04-01)")
        return loaded
