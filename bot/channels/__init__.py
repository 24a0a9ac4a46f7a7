"""Delivery channels as plugins: one module each (email, slack, teams) behind the interfaces in base.py.

CHANNELS is the registry the weekly run, its summary and dry run, the outbox and the demo loop
over; a new channel is one module with a ChannelPlugin, and one line here.
"""
from __future__ import annotations

from .base import ChannelPlugin
from .email import EMAIL
from .slack import SLACK
from .teams import TEAMS

CHANNELS: list[ChannelPlugin] = [EMAIL, SLACK, TEAMS]


def by_kind(kind: str) -> ChannelPlugin:
    """The plugin of a channel kind ("email", "slack", ...)."""
    return next(p for p in CHANNELS if p.kind == kind)
