"""A progress bar on a terminal, occasional log lines otherwise (for fan-outs of thousands)."""
from __future__ import annotations

import sys
import time


class Progress:
    """Counts deliveries done; redraws one line on a TTY, else logs about every tenth of the way."""

    QUIET_BELOW = 200        # a small fan-out logs nothing but the summary

    def __init__(self, total: int, label: str = "delivering", stream=None, width: int = 30):
        self.total = max(total, 0)
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.width = width
        self.done = self.failed = 0
        self.start = time.monotonic()
        self._last_draw = 0.0
        self._next_log = max(1, self.total // 10)

    def step(self, ok: bool = True) -> None:
        """One more delivery finished (ok or failed)."""
        self.done += 1
        self.failed += 0 if ok else 1
        if self.tty:
            now = time.monotonic()
            if now - self._last_draw >= 0.1 or self.done == self.total:
                self._last_draw = now
                self._draw()
        elif self.total >= self.QUIET_BELOW and (self.done >= self._next_log or self.done == self.total):
            self._next_log = self.done + max(1, self.total // 10)
            print(f"{self.label}: {self.done}/{self.total} done, {self.failed} failed", file=self.stream, flush=True)

    def _draw(self) -> None:
        frac = self.done / self.total if self.total else 1.0
        filled = int(self.width * frac)
        elapsed = time.monotonic() - self.start
        eta = elapsed / self.done * (self.total - self.done) if self.done else 0
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}  {self.failed} failed  "
                          f"{elapsed:4.0f}s elapsed, ~{eta:.0f}s left ")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.tty and self.total:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
