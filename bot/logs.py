"""Logging for the long-running processes (serve, socket, clock): every record one line, client values escaped.

A client can put anything in a request, newlines included; written to the log as they are, those
would forge lines ("2026-12-01 07:00:00,000 ERROR obsession.web: ..."). The formatter here escapes
every control character and line or paragraph separator of the whole record (message, arguments and
traceback alike) and caps its length, so each record is exactly one line whatever it holds.
`clip(value)` is how a value a client sent goes into a message: escaped, quoted and cut short.
"""
from __future__ import annotations

import logging
import re

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MAX_RECORD = 4000          # characters of one log line (a traceback is kept to its last part)
MAX_VALUE = 200            # characters of one client value in a message
# Control characters (C0, DEL, C1) and the Unicode line and paragraph separators.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u0085]")


def _escape(m: re.Match) -> str:
    c = m.group()
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c, f"\\u{ord(c):04x}" if ord(c) > 0xff else f"\\x{ord(c):02x}")


def one_line(text: str) -> str:
    """`text` with every control character and line separator escaped (backslashes too, so nothing is ambiguous)."""
    return _UNSAFE.sub(_escape, text.replace("\\", "\\\\"))


def clip(value, limit: int = MAX_VALUE) -> str:
    """A value a client sent, fit for a log message: escaped, at most `limit` characters, quoted."""
    text = value.decode("utf-8", "replace") if isinstance(value, (bytes, bytearray)) else str(value)
    cut = len(text) > limit
    return '"' + one_line(text[:limit]) + ('..." (cut)' if cut else '"')


class OneLineFormatter(logging.Formatter):
    """The usual format, with the record (traceback included) escaped to one line and capped in length."""

    def format(self, record: logging.LogRecord) -> str:
        """One escaped line."""
        text = one_line(super().format(record))
        if len(text) > MAX_RECORD:
            # Keep the start (time, level, message) and the end (the traceback's last frame and error).
            text = text[: MAX_RECORD // 2] + " ...(cut)... " + text[-MAX_RECORD // 2:]
        return text


# slack_bolt logs a refused request's whole body at INFO; its loggers are kept at WARNING.
QUIET = {"slack_bolt": logging.WARNING, "slack_sdk": logging.WARNING}


def setup(level: int = logging.INFO) -> None:
    """Send every record to standard error, one escaped line each (idempotent)."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_obsession", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler._obsession = True
        root.addHandler(handler)
    handler.setFormatter(OneLineFormatter(FORMAT))
    for h in root.handlers:          # handlers set up before (uvicorn's, basicConfig's) get the same format
        h.setFormatter(OneLineFormatter(FORMAT))
    root.setLevel(level)
    for name, lvl in QUIET.items():
        logging.getLogger(name).setLevel(lvl)


def bolt_logger() -> logging.Logger:
    """The base logger handed to slack_bolt's app: Bolt copies its level onto every logger it makes.

    (Bolt copies the root logger's level when given none, so lowering 'slack_bolt' later does not help.)
    """
    logger = logging.getLogger("obsession.slack.bolt")
    logger.setLevel(logging.WARNING)
    return logger
