"""A real `obsession serve` in a subprocess on loopback, for the hostile-input tests (memory, timeouts, logs, SIGTERM).

The server's memory is read from /proc/<pid>/status (VmHWM: its peak resident set); its log is a file.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import WEB_SECRETS

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_kb(pid: int, field: str) -> int:
    """A field of /proc/<pid>/status in kB (VmHWM: peak resident memory; VmRSS: now)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class Served:
    """`obsession serve` on a copy of the seeded demo store, in its own folder, with the test secrets."""

    def __init__(self, seeded_db: Path, folder: Path, env: dict | None = None):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        db = folder / "obsessions.db"
        shutil.copy(seeded_db, db)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "serve.log"
        full = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_", "ARCHIVE_", "OBSESSION_"))}
        full.update({"DATABASE_URL": f"sqlite:///{db}", **WEB_SECRETS, "OUTBOX_DIR": str(folder / "out"),
                     "PYTHONPATH": str(ROOT)})
        full.update(env or {})
        self.env = full
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> "Served":
        """Start and wait until /healthz answers."""
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(self.port)],
                                     cwd=self.folder, env=self.env, stdout=subprocess.DEVNULL, stderr=self._log)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("obsession serve did not start:\n" + self.log())
            time.sleep(0.2)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        """The server's log so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, and the exit code once it has stopped."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop it (SIGKILL if it does not stop on SIGTERM)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if getattr(self, "_log", None):
            self._log.close()


def slow_image_jobs(monkeypatch, seconds: float = 0.3) -> list[int]:
    """Make each picture the chat service draws take `seconds` longer; [the most drawn at once so far]."""
    import threading

    from bot.chat import service as service_module

    running, most = [0], [0]
    lock = threading.Lock()
    real = service_module.image_job

    def slow_job(*args):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(seconds)
            return real(*args)
        finally:
            with lock:
                running[0] -= 1
    monkeypatch.setattr(service_module, "image_job", slow_job)
    return most
