"""Errors a user can act on: each names the file and line, or the setting, and the fix.

Exit codes follow the contract: 1 runtime/delivery failure, 2 bad input or configuration,
3 held by the data-quality gate.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable


class ObsessionError(Exception):
    """Base for every error shown to a user; `exit_code` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(ObsessionError):
    """The configuration file or a setting is wrong (exit 2)."""

    exit_code = 2


class InputError(ObsessionError):
    """Input from a user (a file, an argument) is wrong (exit 2)."""

    exit_code = 2


class ValidationFailed(InputError):
    """Several problems found in one input; each is one line of the message."""

    MAX_SHOWN = 20

    def __init__(self, problems: list[str], source: str = ""):
        self.problems = list(problems)
        shown = self.problems[: self.MAX_SHOWN]
        lines = list(shown)
        if len(self.problems) > self.MAX_SHOWN:
            lines.append(f"... and {len(self.problems) - self.MAX_SHOWN} more problems")
        head = f"{source}: " if source else ""
        lines.append(f"{head}nothing was written; fix the problems above and run the command again.")
        super().__init__("\n".join(lines))


class NotFound(InputError):
    """An unknown week, area or obsession; the message lists what exists and the nearest match."""


class HeldByQualityGate(ObsessionError):
    """This week's figures failed the data-quality gate (exit 3)."""

    exit_code = 3


class DeliveryFailed(ObsessionError):
    """Some deliveries failed after every other one was still attempted (exit 1)."""

    exit_code = 1


def nearest(name: str, choices: Iterable[str]) -> str | None:
    """The closest of `choices` to `name` (ignoring case), or None when nothing is close."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def unknown(kind: str, name: str, choices: Iterable[str]) -> NotFound:
    """A NotFound for `name` that suggests the nearest choice and lists what exists."""
    choices = sorted(choices)
    guess = nearest(name, choices)
    hint = f'; did you mean "{guess}"?' if guess else "."
    listing = ", ".join(choices[:30]) + (" ..." if len(choices) > 30 else "")
    return NotFound(f'"{name}" is not a known {kind}{hint} Known: {listing}')
