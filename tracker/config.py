"""The configuration's value types: city, clusters, obsessions, schedule, subscriptions, quality, sources.

Checking the TOML file into these lives in tracker/toml_config.py (one function per table); the
defaults written on these dataclasses are the defaults of the file's keys.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError

DIRECTIONS = ("reduce", "increase")
UNITS = ("count", "percent")


@dataclass(frozen=True)
class Obsession:
    """One obsession: what is tracked, which way is better, and since when."""

    key: str
    title: str
    direction: str = field(default="reduce", kw_only=True)   # keyword-only: a default before baseline_week
    unit: str = field(default="count", kw_only=True)
    baseline_week: date
    aliases: tuple[str, ...] = ()
    label: str = ""
    noun: str = ""
    term_time_only: bool = False
    forecast_years: int = 3

    @property
    def is_rate(self) -> bool:
        """True for percentages, whose changes are in points and are never summed."""
        return self.unit == "percent"

    @property
    def decimals(self) -> int:
        """Places shown: whole children, one place of a percentage."""
        return 1 if self.is_rate else 0


@dataclass(frozen=True)
class Subscription:
    """Who gets the tracker for one area, by which channels."""

    name: str
    area: str
    email: tuple[str, ...] = ()
    email_file: str | None = None
    slack_channels: tuple[str, ...] = ()
    teams_webhooks: tuple[str, ...] = ()
    attach: tuple[str, ...] = ()      # files added to the email for meeting agendas: "pdf", "docx"


@dataclass(frozen=True)
class Quality:
    """The data-quality gate's owners and limits."""

    owners_email: tuple[str, ...] = ()
    max_weekly_change_pct: dict[str, float] = field(default_factory=dict)
    stale_after_days: int = 14


@dataclass(frozen=True)
class Schedule:
    """When the weekly run happens (cron in the given time zone)."""

    cron: str = "0 8 * * mon"
    timezone: str = "Europe/London"


@dataclass(frozen=True)
class ConsoleRoles:
    """`[console]`: who may use the console, by role; each a list of addresses, "@domain"s or group ids."""

    viewers: tuple[str, ...] = ()
    analysts: tuple[str, ...] = ()
    approvers: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeliveryRules:
    """`[delivery]`: `approval = "required"` holds every week until an approver approves it."""

    approval: str = "none"


@dataclass(frozen=True)
class LookupFiles:
    """`[lookups]`: CSV files from records to clusters, as written (relative to the configuration file's folder)."""

    postcodes: str | None = None   # postcode,cluster
    schools: str | None = None     # urn,cluster


@dataclass(frozen=True)
class Benchmarks:
    """`[benchmarks]`: the statistical neighbours, as authority names or "dfe" (the latest DfE model)."""

    statistical_neighbours: tuple[str, ...] | str = "dfe"


@dataclass(frozen=True)
class Event:
    """`[[events]]`: an initiative marked on the turn-the-curve chart."""

    date: date
    label: str
    obsessions: tuple[str, ...] = ()   # keys; empty: every obsession


@dataclass(frozen=True)
class Config:
    """The whole configuration; built once at start-up and never changed."""

    city: str
    clusters: tuple[str, ...]
    obsessions: tuple[Obsession, ...]
    baseline_label: str = "CYPP start"
    suppress_below: int = 5
    sender: str = "Performance Team"
    illustrative: bool = False
    comparators: tuple[str, ...] = ()
    schedule: Schedule = Schedule()
    quality: Quality = Quality()
    subscriptions: tuple[Subscription, ...] = ()
    sources: tuple[dict[str, Any], ...] = ()
    console: ConsoleRoles = ConsoleRoles()
    delivery: DeliveryRules = DeliveryRules()
    lookups: LookupFiles = LookupFiles()
    la_code: str = ""                 # [tracker] la_code: the city's own authority in the DfE's files
    benchmarks: Benchmarks = Benchmarks()
    events: tuple[Event, ...] = ()
    path: str = "<built-in demo configuration>"

    @property
    def areas(self) -> tuple[str, ...]:
        """The city, its clusters and any comparator areas."""
        return (self.city, *self.clusters, *self.comparators)

    def obsession(self, key: str) -> Obsession:
        """The obsession with this key or alias (case-insensitive); NotFound otherwise."""
        found = self.find_obsession(key)
        if found is None:
            from .errors import unknown

            raise unknown("obsession", key, [o.key for o in self.obsessions])
        return found

    def find_obsession(self, name: str) -> Obsession | None:
        """The obsession with this key or alias, or None."""
        wanted = name.strip().lower().replace("_", "-")
        for o in self.obsessions:
            names = {o.key.lower().replace("_", "-"), *(a.lower() for a in o.aliases)}
            if wanted in names:
                return o
        return None

    def area_kind(self, area: str) -> str:
        """'city', 'cluster' or 'comparator'."""
        if area == self.city:
            return "city"
        if area in self.clusters:
            return "cluster"
        return "comparator"

    def canonical_area(self, name: str) -> str:
        """The configured spelling of an area named without regard to case; NotFound otherwise."""
        for a in self.areas:
            if a.lower() == name.strip().lower():
                return a
        from .errors import unknown

        raise unknown("area", name, self.areas)


def demo_config_text() -> str:
    """The text of the built-in demo configuration for Leeds."""
    return resources.files("tracker").joinpath("demo_config.toml").read_text(encoding="utf-8")


def load_config(path: str | Path | None = None) -> Config:
    """Read the configuration at `path`, or the built-in demo configuration when `path` is None."""
    if path is None:
        return parse_config(demo_config_text(), "<built-in demo configuration>")
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such configuration file; check OBSESSION_CONFIG or the path given") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text; save the configuration as UTF-8") from None
    return parse_config(text, str(p))


def parse_config(text: str, source: str = "<config>") -> Config:
    """Parse and check configuration text (tracker/toml_config.py); ConfigError names the file, line and key."""
    from .toml_config import parse_config as parse  # here, not at the top: that module imports this one

    return parse(text, source)
