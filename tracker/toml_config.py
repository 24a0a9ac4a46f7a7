"""Checking the TOML configuration: one function per table, each naming the file, line and key of a problem.

The value types live in tracker/config.py; this module turns a TOML document into them. Each table
has one function `(reader, value, got) -> dict` that checks the table's value (None when absent)
and returns the Config fields it fills; `got` holds the fields of the tables checked before it
(areas need the city, quality the obsessions). TABLES runs them in order and is also the list of
allowed top-level keys. Defaults come from the dataclasses (`_default(Quality, "stale_after_days")`)
and a table's allowed keys from its dataclass's fields, so neither is written twice.

To add a table ([lookups], [console], ...): add its dataclass (and Config field) to tracker/config.py,
write one `_lookups(r, value, got)` function here, and add one line to TABLES.
"""
from __future__ import annotations

import dataclasses
import re
import tomllib
from datetime import date
from typing import Any, Callable

from .config import DIRECTIONS, UNITS, Config, ConsoleRoles, DeliveryRules, Obsession, Quality, Schedule, Subscription
from .errors import ConfigError, nearest


def _default(cls, name: str) -> Any:
    """The default of one dataclass field (so defaults are written once, on the dataclass)."""
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def _keys(cls, but: tuple[str, ...] = ()) -> set[str]:
    """The keys a table of this dataclass allows: its fields, less those that are not written in the file."""
    return {f.name for f in dataclasses.fields(cls)} - set(but)


class _Reader:
    """Checks one parsed TOML document, naming the file, line and key of each problem."""

    def __init__(self, text: str, source: str):
        self.text = text
        self.source = source

    def fail(self, key: str, problem: str) -> ConfigError:
        """The error for one key: 'FILE, line N: KEY: PROBLEM'."""
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
        if len(parts) == 1:   # a top-level name written as a table header: [name], [[name]] or [name.KEY]
            header = re.compile(r"^\s*\[+\s*" + re.escape(last) + r"\s*[\].]")
            for i, ln in enumerate(lines):
                if header.match(ln):
                    return i + 1
        return start + 1 if start else None

    def table(self, value: Any, name: str, shape: str = "") -> dict:
        """A table's contents ({} when absent); `shape` is how the file should write it (default [name])."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(name, f"must be a table: {shape or f'[{name}]'}")
        return value

    def unknown_keys(self, table: dict, allowed: set[str], prefix: str) -> None:
        """Fail on the first key not in `allowed`, suggesting the nearest."""
        for k in table:
            if k not in allowed:
                guess = nearest(k, allowed)
                hint = f'; did you mean "{guess}"?' if guess else f"; allowed: {', '.join(sorted(allowed))}"
                raise self.fail(f"{prefix}{k}", f"unknown key{hint}")

    def string(self, table: dict, key: str, prefix: str, default: str | None = None) -> str:
        """A required (or defaulted) non-empty string, stripped."""
        v = table.get(key, default)
        if v is None:
            raise self.fail(prefix + key, "is required; add it as a quoted string")
        if not isinstance(v, str) or not v.strip():
            raise self.fail(prefix + key, f"must be a non-empty string, not {v!r}")
        return v.strip()

    def strings(self, table: dict, key: str, prefix: str) -> tuple[str, ...]:
        """A list of non-empty strings (one string is a list of one); () when absent."""
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


# --- one function per table ----------------------------------------------------------------------

def _tracker(r: _Reader, value: Any, got: dict) -> dict:
    """[tracker]: the city and how the tracker is labelled and suppressed."""
    tr = r.table(value, "tracker")
    r.unknown_keys(tr, {"city", "baseline_label", "suppress_below", "sender", "illustrative", "la_code"}, "tracker.")
    city = r.string(tr, "city", "tracker.")
    suppress = tr.get("suppress_below", _default(Config, "suppress_below"))
    if not isinstance(suppress, int) or isinstance(suppress, bool) or not 0 <= suppress <= 100:
        raise r.fail("tracker.suppress_below", f"must be a whole number from 0 to 100, not {suppress!r}")
    return {
        "city": city, "suppress_below": suppress,
        "baseline_label": tr.get("baseline_label", _default(Config, "baseline_label")),
        "sender": tr.get("sender", f"{city} {_default(Config, 'sender')}"),
        "illustrative": bool(tr.get("illustrative", _default(Config, "illustrative"))),
        "la_code": r.string(tr, "la_code", "tracker.") if "la_code" in tr else _default(Config, "la_code"),
    }


def _areas(r: _Reader, value: Any, got: dict) -> dict:
    """[areas]: the clusters and comparators, each named once (and not as the city)."""
    areas = r.table(value, "areas")
    r.unknown_keys(areas, {"clusters", "comparators"}, "areas.")
    clusters = r.strings(areas, "clusters", "areas.")
    comparators = r.strings(areas, "comparators", "areas.")
    seen: set[str] = {got["city"].lower()}
    slugs: dict[str, str] = {area_slug(got["city"]): got["city"]}
    for name in (*clusters, *comparators):
        if name.lower() in seen:
            raise r.fail("areas.clusters", f'"{name}" is named twice (or is the city); each area once')
        seen.add(name.lower())
        other = slugs.setdefault(area_slug(name), name)
        if other != name:
            # Both would be /trackers/WEEK/<slug> in the archive and one file name in the outbox.
            raise r.fail("areas.clusters", f'"{name}" and "{other}" give the same address '
                         f'("{area_slug(name)}"); rename one so that they differ in letters or digits')
    return {"clusters": clusters, "comparators": comparators}


def area_slug(name: str) -> str:
    """An area's address in the archive: the rule of renderers.paths.slug (tests check they agree;
    the core cannot import renderers)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "area"


# Control characters and the line and paragraph separators (U+2028, U+2029, NEL): never in a mail header.
_NOT_IN_HEADERS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def _header_values(r: _Reader, got: dict) -> None:
    """Refuse, at start, a value that goes into a mail header (From, Subject, List-Id) with a line break in it."""
    values = [("tracker.city", got["city"]), ("tracker.sender", got["sender"]),
              *(("areas.clusters", a) for a in got["clusters"]), *(("areas.comparators", a) for a in got["comparators"]),
              *((f"obsessions.{o.key}.title", o.title) for o in got["obsessions"]),
              *((f"obsessions.{o.key}.label", o.label) for o in got["obsessions"]),
              *((f"subscriptions[{i}].name", s.name) for i, s in enumerate(got["subscriptions"]))]
    for key, value in values:
        bad = _NOT_IN_HEADERS.search(value or "")
        if bad:
            raise r.fail(key, f"contains U+{ord(bad.group()):04X} (a line break or control character), which "
                         "cannot go into an email's headers; write it on one line without it")


def _obsessions(r: _Reader, value: Any, got: dict) -> dict:
    """[obsessions.KEY]: at least one; keys and aliases name one obsession each."""
    obs_tables = r.table(value, "obsessions", "one [obsessions.KEY] table each")
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
        r.unknown_keys(t, _keys(Obsession, but=("key",)), p)
        direction = t.get("direction", _default(Obsession, "direction"))
        if direction not in DIRECTIONS:
            raise r.fail(p + "direction", f'{direction!r} is not allowed; use "reduce" or "increase"')
        unit = t.get("unit", _default(Obsession, "unit"))
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
        years = t.get("forecast_years", _default(Obsession, "forecast_years"))
        if not isinstance(years, int) or not 1 <= years <= 20:
            raise r.fail(p + "forecast_years", f"must be a whole number of years from 1 to 20, not {years!r}")
        title = r.string(t, "title", p)
        label = t.get("label") or title              # the dataclass default "" means: the title
        obsessions.append(Obsession(
            key=key, title=title, direction=direction, unit=unit, baseline_week=baseline,
            aliases=aliases, label=label, noun=t.get("noun") or label.lower(),
            term_time_only=bool(t.get("term_time_only", _default(Obsession, "term_time_only"))),
            forecast_years=years,
        ))
    return {"obsessions": tuple(obsessions)}


def _schedule(r: _Reader, value: Any, got: dict) -> dict:
    """[schedule]: a 5-field cron line in a real time zone."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    sched = r.table(value, "schedule")
    r.unknown_keys(sched, _keys(Schedule), "schedule.")
    schedule = Schedule(cron=r.string(sched, "cron", "schedule.", _default(Schedule, "cron")),
                        timezone=r.string(sched, "timezone", "schedule.", _default(Schedule, "timezone")))
    try:
        ZoneInfo(schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise r.fail("schedule.timezone", f'"{schedule.timezone}" is not a time zone; use a name like "Europe/London"') from None
    if len(schedule.cron.split()) != 5:
        raise r.fail("schedule.cron", f'"{schedule.cron}" is not a 5-field cron line like "0 8 * * mon"')
    return {"schedule": schedule}


def _quality(r: _Reader, value: Any, got: dict) -> dict:
    """[quality]: owners, per-obsession change limits and staleness."""
    q = r.table(value, "quality")
    r.unknown_keys(q, _keys(Quality), "quality.")
    limits = q.get("max_weekly_change_pct", _default(Quality, "max_weekly_change_pct"))
    if not isinstance(limits, dict):
        raise r.fail("quality.max_weekly_change_pct", "must be a table like { cla = 5, neet = 10 }")
    keys = {o.key for o in got["obsessions"]}
    for k, v in limits.items():
        if k not in keys:
            guess = nearest(k, keys)
            raise r.fail("quality.max_weekly_change_pct", f'"{k}" is not an obsession'
                         + (f'; did you mean "{guess}"?' if guess else ""))
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v <= 0:
            raise r.fail("quality.max_weekly_change_pct", f"{k} must be a positive number of percent")
    stale = q.get("stale_after_days", _default(Quality, "stale_after_days"))
    if not isinstance(stale, int) or stale < 1:
        raise r.fail("quality.stale_after_days", "must be a whole number of days, 1 or more")
    return {"quality": Quality(owners_email=r.strings(q, "owners_email", "quality."),
                               max_weekly_change_pct={k: float(v) for k, v in limits.items()},
                               stale_after_days=stale)}


ATTACHMENTS = ("pdf", "docx")      # what [[subscriptions]] attach = [...] may add to the email


def _subscriptions(r: _Reader, value: Any, got: dict) -> dict:
    """[[subscriptions]]: uniquely named, each for a configured area."""
    area_names = {a.lower(): a for a in (got["city"], *got["clusters"], *got["comparators"])}
    subs = []
    sub_names: set[str] = set()
    raw_subs = [] if value is None else value
    if not isinstance(raw_subs, list):
        raise r.fail("subscriptions", "must be an array of tables: [[subscriptions]]")
    for i, s in enumerate(raw_subs):
        p = f"subscriptions[{i}]."
        r.unknown_keys(s, _keys(Subscription), p)
        name = r.string(s, "name", p)
        if name in sub_names:
            raise r.fail(p + "name", f'"{name}" is used by two subscriptions; names must be unique')
        sub_names.add(name)
        area = r.string(s, "area", p)
        if area.lower() not in area_names:
            guess = nearest(area, area_names.values())
            raise r.fail(p + "area", f'"{area}" is not the city or a cluster'
                         + (f'; did you mean "{guess}"?' if guess else ""))
        email_file = s.get("email_file", _default(Subscription, "email_file"))
        if email_file is not None and not isinstance(email_file, str):
            raise r.fail(p + "email_file", "must be the path of a file with one address a line")
        attach = r.strings(s, "attach", p)
        for kind in attach:
            if kind not in ATTACHMENTS:
                raise r.fail(p + "attach", f'"{kind}" is not a file the email can attach; write ["pdf"], ["docx"] '
                             'or ["pdf", "docx"]')
            if attach.count(kind) > 1:
                raise r.fail(p + "attach", f'"{kind}" is listed twice; list each file once')
        subs.append(Subscription(
            name=name, area=area_names[area.lower()], email=r.strings(s, "email", p),
            email_file=email_file, slack_channels=r.strings(s, "slack_channels", p),
            teams_webhooks=r.strings(s, "teams_webhooks", p), attach=attach,
        ))
    return {"subscriptions": tuple(subs)}


def _sources(r: _Reader, value: Any, got: dict) -> dict:
    """[[sources]]: an array of tables; data_sources/sources.py checks each source's keys."""
    sources = [] if value is None else value
    if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
        raise r.fail("sources", "must be an array of tables: [[sources]]")
    return {"sources": tuple(sources)}


def _console(r: _Reader, value: Any, got: dict) -> dict:
    """[console]: viewers, analysts, approvers: addresses, "@domain"s or (Entra) group ids."""
    c = r.table(value, "console")
    r.unknown_keys(c, _keys(ConsoleRoles), "console.")
    out = {}
    for key in (f.name for f in dataclasses.fields(ConsoleRoles)):
        entries = r.strings(c, key, "console.")
        for e in entries:
            bad = (" " in e or e.count("@") > 1 or (e.startswith("@") and "." not in e)
                   or ("@" in e and not e.startswith("@") and e.endswith("@")))
            if bad:
                raise r.fail(f"console.{key}", f'"{e}" is not an address, an "@domain" or a group id; '
                                               'write e.g. "ana@leeds.gov.uk" or "@leeds.gov.uk"')
        out[key] = entries
    return {"console": ConsoleRoles(**out)}


def _delivery(r: _Reader, value: Any, got: dict) -> dict:
    """[delivery]: approval = "required" (an approver approves each week before it is sent) or "none"."""
    d = r.table(value, "delivery")
    r.unknown_keys(d, _keys(DeliveryRules), "delivery.")
    approval = d.get("approval", _default(DeliveryRules, "approval"))
    if approval not in ("none", "required"):
        raise r.fail("delivery.approval", f'{approval!r} is not allowed; use "required" or "none"')
    return {"delivery": DeliveryRules(approval=approval)}


def _lookups(r: _Reader, value: Any, got: dict) -> dict:
    """[lookups]: postcodes = "FILE" (postcode,cluster) and schools = "FILE" (urn,cluster); data_sources reads them."""
    from .config import LookupFiles

    t = r.table(value, "lookups")
    r.unknown_keys(t, _keys(LookupFiles), "lookups.")
    return {"lookups": LookupFiles(**{k: r.string(t, k, "lookups.") for k in sorted(_keys(LookupFiles)) if k in t})}


def _benchmarks(r: _Reader, value: Any, got: dict) -> dict:
    """[benchmarks]: statistical_neighbours = "dfe" (the latest DfE model loaded) or a list of authority names."""
    from .config import Benchmarks

    b = r.table(value, "benchmarks")
    r.unknown_keys(b, _keys(Benchmarks), "benchmarks.")
    sn = b.get("statistical_neighbours", _default(Benchmarks, "statistical_neighbours"))
    if sn == "dfe":
        return {"benchmarks": Benchmarks()}
    if isinstance(sn, str) or not isinstance(sn, list):
        raise r.fail("benchmarks.statistical_neighbours", f'{sn!r} is not allowed; use "dfe" (the DfE model '
                     'imported with --format dfe-sn) or a list of authority names like ["Sheffield", "Kirklees"]')
    names = r.strings(b, "statistical_neighbours", "benchmarks.")
    if not names or len({n.lower() for n in names}) != len(names) or got["city"].lower() in {n.lower() for n in names}:
        raise r.fail("benchmarks.statistical_neighbours", "name each neighbour once, not the city itself, and "
                     "at least one")
    return {"benchmarks": Benchmarks(statistical_neighbours=names)}


def _events(r: _Reader, value: Any, got: dict) -> dict:
    """[[events]]: date, label and optional obsessions (keys or aliases): initiatives marked on the curves."""
    from .config import Event

    events = [] if value is None else value
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise r.fail("events", "must be an array of tables: [[events]] with date and label")
    out, seen = [], set()
    by_name = {}
    for o in got["obsessions"]:
        for n in (o.key, o.key.replace("_", "-"), *o.aliases):
            by_name[n.lower()] = o.key
    for i, e in enumerate(events):
        p = f"events[{i}]."
        r.unknown_keys(e, {"date", "label", "obsessions"}, p)
        when = e.get("date")
        if isinstance(when, str):
            try:
                when = date.fromisoformat(when)
            except ValueError:
                raise r.fail(p + "date", f'"{when}" is not a date; write it as YYYY-MM-DD') from None
        if not isinstance(when, date):
            raise r.fail(p + "date", 'is required: the day the initiative started, like 2013-09-02')
        label = r.string(e, "label", p)
        if len(label) > 120:
            raise r.fail(p + "label", "is over 120 characters; a short name of the initiative reads on a chart")
        keys = []
        for name in r.strings(e, "obsessions", p):
            if name.lower() not in by_name:
                guess = nearest(name, by_name)
                raise r.fail(p + "obsessions", f'"{name}" is not an obsession' + (f'; did you mean "{guess}"?' if guess else ""))
            keys.append(by_name[name.lower()])
        if (when, label) in seen:
            raise r.fail(p + "label", f'"{label}" on {when} is listed twice; list each event once')
        seen.add((when, label))
        out.append(Event(date=when, label=label, obsessions=tuple(keys)))
    return {"events": tuple(out)}


# Top-level key -> its function, in the order they run (a table may use what earlier ones returned).
TABLES: dict[str, Callable[[_Reader, Any, dict], dict]] = {
    "tracker": _tracker,
    "areas": _areas,
    "obsessions": _obsessions,
    "schedule": _schedule,
    "quality": _quality,
    "subscriptions": _subscriptions,
    "sources": _sources,
    "console": _console,
    "delivery": _delivery,
    "lookups": _lookups,
    "benchmarks": _benchmarks,
    "events": _events,
}


def parse_config(text: str, source: str = "<config>") -> Config:
    """Parse and check configuration text; ConfigError names the file, line and key and what is wrong."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from None
    r = _Reader(text, source)
    r.unknown_keys(doc, set(TABLES), "")
    got: dict = {}
    for name, check in TABLES.items():
        got.update(check(r, doc.get(name), got))
    _header_values(r, got)
    return Config(**got, path=source)
