"""What the week page shows, gathered from the same functions the commands use (gate, arithmetic, recipients)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from renderers.paths import slug


@dataclass(frozen=True)
class Picture:
    """One image on the week page: its console address, a heading and its alt text."""

    heading: str
    src: str
    alt: str


@dataclass(frozen=True)
class Audience:
    """One subscription as the week's run would deliver it (safe names only)."""

    name: str
    area: str
    emails: int
    unsubscribed: int
    slack: tuple[str, ...]
    teams: tuple[str, ...]


@dataclass(frozen=True)
class WeekView:
    """The parts of the week page that depend only on the figures and configuration (cached per version)."""

    week: date
    weeks: tuple[date, ...]
    passed: bool
    problems: tuple[str, ...]
    notes: tuple[str, ...]
    city: Picture
    clusters: tuple[Picture, ...]
    breakdowns: tuple[Picture, ...]
    audience: tuple[Audience, ...]
    audience_problem: str | None


def tracker_src(week: date, area: str) -> str:
    """The console's address of a tracker image."""
    return f"/console/img/tracker/{week.isoformat()}/{slug(area)}.png"


def breakdown_src(week: date, key: str) -> str:
    """The console's address of a breakdown image."""
    return f"/console/img/breakdown/{week.isoformat()}/{key}.png"


def gate(figures, config, week: date, requested: date | None):
    """The quality gate's verdict exactly as `obsession check` and the weekly run judge it."""
    from bot.weekly import gate_as_of
    from tracker.quality import check_week

    return check_week(figures, config, week, gate_as_of(week, requested))


def audience(config, unsubscribed: set) -> tuple[tuple[Audience, ...], str | None]:
    """Who gets the week: each subscription's area, number of addresses, Slack channels and Teams webhooks."""
    from bot.channels.teams import webhook_label
    from bot.recipients import targets
    from tracker.errors import ObsessionError

    try:
        plan = targets(config, list(config.subscriptions))
    except ObsessionError as e:
        return (), str(e)
    out = []
    for t in plan:
        name = t.subscription.name
        emails, teams = t.recipients.get("email", []), t.recipients.get("teams", [])
        gone = sum(1 for a in emails if (name, a.lower()) in unsubscribed)
        out.append(Audience(name, t.subscription.area, len(emails) - gone, gone, tuple(t.recipients.get("slack", [])),
                            tuple(webhook_label(n, u) for n, u in enumerate(teams, 1))))
    return tuple(out), None


def build_view(figures, config, week: date, requested: date | None, unsubscribed: set) -> WeekView:
    """Everything figure-dependent on the week page: verdict, pictures with their alt text, audience."""
    from renderers.formatting import alt_text, breakdown_alt_text
    from tracker.arithmetic import build_breakdown, build_tracker

    result = gate(figures, config, week, requested)
    city = build_tracker(figures, config, week, None)
    clusters = []
    for area in config.clusters:
        model = build_tracker(figures, config, week, area)
        clusters.append(Picture(area, tracker_src(week, area), alt_text(model)))
    breakdowns = []
    for o in config.obsessions:
        b = build_breakdown(figures, config, o.key, week)
        breakdowns.append(Picture(o.label, breakdown_src(week, o.key), breakdown_alt_text(b)))
    people, problem = audience(config, unsubscribed)
    return WeekView(week=week, weeks=tuple(figures.weeks()), passed=result.passed, problems=result.problems,
                    notes=result.notes, city=Picture(config.city, tracker_src(week, config.city), alt_text(city)),
                    clusters=tuple(clusters), breakdowns=tuple(breakdowns), audience=people,
                    audience_problem=problem)
