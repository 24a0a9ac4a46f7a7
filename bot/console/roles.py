"""Who may do what in the console: the `[console]` table's viewers, analysts and approvers (pure)."""
from __future__ import annotations

from tracker.config import ConsoleRoles

ROLES = ("viewer", "analyst", "approver")      # each may do everything the one before may
KEYS = {"viewers": "viewer", "analysts": "analyst", "approvers": "approver"}


ConsoleConfig = ConsoleRoles     # the [console] table, checked in tracker/toml_config.py


def rank(role: str | None) -> int:
    """0 for no role, then 1, 2, 3 for viewer, analyst, approver."""
    return ROLES.index(role) + 1 if role in ROLES else 0


def allows(role: str | None, needed: str) -> bool:
    """True when `role` includes `needed`."""
    return rank(role) >= rank(needed) > 0


def _matches(entry: str, email: str, groups: frozenset[str]) -> bool:
    entry = entry.strip().lower()
    if entry.startswith("@"):
        return email.endswith(entry) and email.count("@") == 1
    if "@" in entry:
        return entry == email
    return entry in groups        # anything without an @ is a group id


def role_for(console: ConsoleConfig, email: str | None, groups=()) -> str | None:
    """The highest role the configuration gives this address (or one of its groups); None for none."""
    email = (email or "").strip().lower()
    groups = frozenset(g.strip().lower() for g in groups or () if isinstance(g, str))
    best = None
    for key, role in KEYS.items():
        if any(_matches(e, email, groups) for e in getattr(console, key)) and email:
            best = role
    return best
