"""The TOML configuration: city, clusters, obsessions, schedule, subscriptions, quality, sources."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError, nearest

DIRECTIONS = ("reduce", "increase")
UNITS = ("count", "percent")


@dataclass(frozen=True)
class Obsession:
    """One obsession: what is tracked, which way is better, and since when."""

    key: str
    title: str
    direction: str
    unit: str
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


_TOP_KEYS = {"tracker", "obsessions", "areas", "schedule", "subscriptions", "quality", "sources"}
_TRACKER_KEYS = {"city", "baseline_label", "suppress_below", "sender", "illustrative"}
_OBSESSION_KEYS = {"title", "direction", "unit", "baseline_week", "aliases", "label", "noun",
                   "term_time_only", "forecast_years"}
_AREA_KEYS = {"clusters", "comparators"}
_SUB_KEYS = {"name", "area", "email", "email_file", "slack_channels", "teams_webhooks"}
_QUALITY_KEYS = {"owners_email", "max_weekly_change_pct", "stale_after_days"}
_SCHEDULE_KEYS = {"cron", "timezone"}


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


class _Reader:
    """Checks one parsed TOML document, naming the file, line and key of each problem."""

    def __init__(self, text: str, source: str):
        self.text = text
        self.source = source

    def fail(self, key: str, problem: str) -> ConfigError:
        line = self._line_of(key)
        where = f"{self.source}, line {line}" if line else self.source
        return ConfigError(f"{where}: {key}: {problem}")

    def _line_of(self, dotted: str) -> int | None:
        # tomllib keeps no positions, so find the key's line in the text: the last part of the
        # dotted name as a key, after its table header when there is one.
        parts = dotted.replace("]", "").split("[")[0].split(".")
        last = parts[-1]
        lines = self.text.splitlines()
        start = 0
        if len(parts) > 1:
            header = re.compile(r"^\s*\[+\s*" + re.escape(".".join(parts[:-1])) + r"\s*\]+")
            for i, ln in enumerate(lines):
                if header.match(ln):
                    start = i
                    break
        pat = re.compile(r"^\s*\"?" + re.escape(last) + r"\"?\s*=")
        for i in range(start, len(lines)):
            if pat.match(lines[i]):
                return i + 1
        return start + 1 if start else None

    def unknown_keys(self, table: dict, allowed: set[str], prefix: str) -> None:
        for k in table:
            if k not in allowed:
                guess = nearest(k, allowed)
                hint = f'; did you mean "{guess}"?' if guess else f"; allowed: {', '.join(sorted(allowed))}"
                raise self.fail(f"{prefix}{k}", f"unknown key{hint}")

    def string(self, table: dict, key: str, prefix: str, default: str | None = None) -> str:
        v = table.get(key, default)
        if v is None:
            raise self.fail(prefix + key, "is required; add it as a quoted string")
        if not isinstance(v, str) or not v.strip():
            raise self.fail(prefix + key, f"must be a non-empty string, not {v!r}")
        return v.strip()

    def strings(self, table: dict, key: str, prefix: str) -> tuple[str, ...]:
        v = table.get(key, [])
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
            raise self.fail(prefix + key, 'must be a list of strings, like ["a", "b"]')
        return tuple(x.strip() for x in v)


def _monday(value: Any, reader: _Reader, key: str) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise reader.fail(key, f'"{value}" is not a date; write it as YYYY-MM-DD') from None
    if not isinstance(value, date):
        raise reader.fail(key, 'must be a date such as "2011-04-04"')
    if value.weekday() != 0:
        raise reader.fail(key, f"{value} is a {value:%A}; give the Monday of the week")
    return value


def parse_config(text: str, source: str = "<config>") -> Config:
    """Parse and check configuration text; ConfigError names the key and what is wrong."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from None
    r = _Reader(text, source)
    r.unknown_keys(doc, _TOP_KEYS, "")

    tr = doc.get("tracker", {})
    r.unknown_keys(tr, _TRACKER_KEYS, "tracker.")
    city = r.string(tr, "city", "tracker.")
    suppress = tr.get("suppress_below", 5)
    if not isinstance(suppress, int) or isinstance(suppress, bool) or not 0 <= suppress <= 100:
        raise r.fail("tracker.suppress_below", f"must be a whole number from 0 to 100, not {suppress!r}")

    areas = doc.get("areas", {})
    r.unknown_keys(areas, _AREA_KEYS, "areas.")
    clusters = r.strings(areas, "clusters", "areas.")
    comparators = r.strings(areas, "comparators", "areas.")
    seen: set[str] = {city.lower()}
    for name in (*clusters, *comparators):
        if name.lower() in seen:
            raise r.fail("areas.clusters", f'"{name}" is named twice (or is the city); each area once')
        seen.add(name.lower())

    obs_tables = doc.get("obsessions", {})
    if not obs_tables:
        raise r.fail("obsessions", "no obsessions configured; add at least one [obsessions.KEY] table")
    obsessions = []
    names: set[str] = set()
    for key, t in obs_tables.items():
        p = f"obsessions.{key}."
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise r.fail(f"obsessions.{key}", "keys are lower-case letters, digits and _ (like neet)")
        if not isinstance(t, dict):
            raise r.fail(f"obsessions.{key}", "must be a table: [obsessions.KEY]")
        r.unknown_keys(t, _OBSESSION_KEYS, p)
        direction = t.get("direction", "reduce")
        if direction not in DIRECTIONS:
            raise r.fail(p + "direction", f'{direction!r} is not allowed; use "reduce" or "increase"')
        unit = t.get("unit", "count")
        if unit not in UNITS:
            raise r.fail(p + "unit", f'{unit!r} is not allowed; use "count" or "percent"')
        if "baseline_week" not in t:
            raise r.fail(p + "baseline_week", 'is required: the Monday the plan started, like "2011-04-04"')
        baseline = _monday(t["baseline_week"], r, p + "baseline_week")
        aliases = tuple(a.lower() for a in r.strings(t, "aliases", p))
        for n in (key.lower().replace("_", "-"), *aliases):
            if n in names:
                raise r.fail(p + "aliases", f'"{n}" already names another obsession; each alias once')
            names.add(n)
        years = t.get("forecast_years", 3)
        if not isinstance(years, int) or not 1 <= years <= 20:
            raise r.fail(p + "forecast_years", f"must be a whole number of years from 1 to 20, not {years!r}")
        title = r.string(t, "title", p)
        label = t.get("label") or title
        obsessions.append(Obsession(
            key=key, title=title, direction=direction, unit=unit, baseline_week=baseline,
            aliases=aliases, label=label, noun=t.get("noun") or label.lower(),
            term_time_only=bool(t.get("term_time_only", False)), forecast_years=years,
        ))

    sched = doc.get("schedule", {})
    r.unknown_keys(sched, _SCHEDULE_KEYS, "schedule.")
    schedule = Schedule(cron=r.string(sched, "cron", "schedule.", "0 8 * * mon"),
                        timezone=r.string(sched, "timezone", "schedule.", "Europe/London"))
    _check_schedule(schedule, r)

    q = doc.get("quality", {})
    r.unknown_keys(q, _QUALITY_KEYS, "quality.")
    limits = q.get("max_weekly_change_pct", {})
    if not isinstance(limits, dict):
        raise r.fail("quality.max_weekly_change_pct", "must be a table like { cla = 5, neet = 10 }")
    keys = {o.key for o in obsessions}
    for k, v in limits.items():
        if k not in keys:
            guess = nearest(k, keys)
            raise r.fail("quality.max_weekly_change_pct", f'"{k}" is not an obsession'
                         + (f'; did you mean "{guess}"?' if guess else ""))
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v <= 0:
            raise r.fail("quality.max_weekly_change_pct", f"{k} must be a positive number of percent")
    stale = q.get("stale_after_days", 14)
    if not isinstance(stale, int) or stale < 1:
        raise r.fail("quality.stale_after_days", "must be a whole number of days, 1 or more")
    quality = Quality(owners_email=r.strings(q, "owners_email", "quality."),
                      max_weekly_change_pct={k: float(v) for k, v in limits.items()},
                      stale_after_days=stale)

    area_names = {a.lower(): a for a in (city, *clusters, *comparators)}
    subs = []
    sub_names: set[str] = set()
    raw_subs = doc.get("subscriptions", [])
    if not isinstance(raw_subs, list):
        raise r.fail("subscriptions", "must be an array of tables: [[subscriptions]]")
    for i, s in enumerate(raw_subs):
        p = f"subscriptions[{i}]."
        r.unknown_keys(s, _SUB_KEYS, p)
        name = r.string(s, "name", p)
        if name in sub_names:
            raise r.fail(p + "name", f'"{name}" is used by two subscriptions; names must be unique')
        sub_names.add(name)
        area = r.string(s, "area", p)
        if area.lower() not in area_names:
            guess = nearest(area, area_names.values())
            raise r.fail(p + "area", f'"{area}" is not the city or a cluster'
                         + (f'; did you mean "{guess}"?' if guess else ""))
        email_file = s.get("email_file")
        if email_file is not None and not isinstance(email_file, str):
            raise r.fail(p + "email_file", "must be the path of a file with one address a line")
        subs.append(Subscription(
            name=name, area=area_names[area.lower()], email=r.strings(s, "email", p),
            email_file=email_file, slack_channels=r.strings(s, "slack_channels", p),
            teams_webhooks=r.strings(s, "teams_webhooks", p),
        ))

    sources = doc.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
        raise r.fail("sources", "must be an array of tables: [[sources]]")

    return Config(
        city=city, clusters=clusters, comparators=comparators, obsessions=tuple(obsessions),
        baseline_label=tr.get("baseline_label", "CYPP start"), suppress_below=suppress,
        sender=tr.get("sender", f"{city} Performance Team"), illustrative=bool(tr.get("illustrative", False)),
        schedule=schedule, quality=quality, subscriptions=tuple(subs), sources=tuple(sources), path=source,
    )


def _check_schedule(schedule: Schedule, r: _Reader) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise r.fail("schedule.timezone", f'"{schedule.timezone}" is not a time zone; use a name like "Europe/London"') from None
    if len(schedule.cron.split()) != 5:
        raise r.fail("schedule.cron", f'"{schedule.cron}" is not a 5-field cron line like "0 8 * * mon"')
