"""Where the web archive serves each model: one definition for the email's links, the chat's image
URLs, the weekly delivery and the web process itself (pure, no I/O).

`slug` is the one place names become addresses (and outbox folder names); the addresses themselves
are the routes of the views table (renderers/views.py), and these helpers name its common cases.
"""
from __future__ import annotations

import re
from datetime import date


def slug(name: str) -> str:
    """A file- and URL-safe form of an area or subscription name: 'Seacroft Manston' -> 'seacroft-manston'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "area"


def tracker_path(week: date, area: str, suffix: str = "") -> str:
    """'/trackers/2015-07-20/seacroft-manston' (the page), or with suffix '.png' its image."""
    from .views import VIEWS, Place

    return VIEWS["tracker"].path(Place(week, area), suffix)


def curve_path(week: date, area: str, obsession_key: str) -> str:
    """The turn-the-curve chart of one obsession in one area: '/trackers/2015-07-20/leeds/cla.png'."""
    from .views import VIEWS, Place

    return VIEWS["curve"].image_path(Place(week, area, obsession_key))


def breakdown_path(week: date, obsession_key: str, suffix: str = "") -> str:
    """One obsession across every cluster: '/breakdowns/2015-07-20/cla' (page) or '.png'."""
    from .views import VIEWS, Place

    return VIEWS["breakdown"].path(Place(week, obsession=obsession_key), suffix)


def model_path(model, suffix: str = "") -> str:
    """The archive path of a Tracker, Breakdown or Curve (its page, or with '.png' its image)."""
    from .views import path_of

    return path_of(model, suffix)
