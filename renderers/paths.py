"""Where the web archive serves each model: one definition for the email's links, the chat's image
URLs, the weekly delivery and the web process itself (pure, no I/O)."""
from __future__ import annotations

import re
from datetime import date


def slug(name: str) -> str:
    """A file- and URL-safe form of an area or subscription name: 'Seacroft Manston' -> 'seacroft-manston'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "area"


def tracker_path(week: date, area: str, suffix: str = "") -> str:
    """'/trackers/2015-07-20/seacroft-manston' (the page), or with suffix '.png' its image."""
    return f"/trackers/{week.isoformat()}/{slug(area)}{suffix}"


def curve_path(week: date, area: str, obsession_key: str) -> str:
    """The turn-the-curve chart of one obsession in one area: '/trackers/2015-07-20/leeds/cla.png'."""
    return f"/trackers/{week.isoformat()}/{slug(area)}/{obsession_key}.png"


def breakdown_path(week: date, obsession_key: str, suffix: str = "") -> str:
    """One obsession across every cluster: '/breakdowns/2015-07-20/cla' (page) or '.png'."""
    return f"/breakdowns/{week.isoformat()}/{obsession_key}{suffix}"


def model_path(model, suffix: str = "") -> str:
    """The archive path of a Tracker or a Breakdown (its page, or with '.png' its image)."""
    from tracker.model import Breakdown

    if isinstance(model, Breakdown):
        return breakdown_path(model.week, model.obsession.key, suffix)
    return tracker_path(model.week, model.area, suffix)
