"""Who gets what: each subscription's checked recipients by channel, less those who unsubscribed."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tracker.errors import ConfigError, unknown

from .unsubscribe import without_unsubscribed


@dataclass
class Target:
    """One subscription's recipients, by channel."""

    subscription: object
    emails: list[str]
    slack: list[str]
    teams: list[str]


def select_subscriptions(config, name: str | None) -> list:
    """Every subscription, or the one named (case-insensitively; NotFound suggests the nearest)."""
    if name is None:
        return list(config.subscriptions)
    for s in config.subscriptions:
        if s.name.lower() == name.strip().lower():
            return [s]
    raise unknown("subscription", name, [s.name for s in config.subscriptions])


def targets(config, subs) -> list[Target]:
    """Every subscription's recipients, checked before anything is sent (ConfigError names the entry)."""
    from .channels.email import check_address, read_email_file, recipients

    base = Path(config.path).parent if Path(config.path).is_file() else Path.cwd()
    out = []
    for s in subs:
        where = f"{config.path}: subscription {s.name!r}"
        emails = [check_address(a, f"{where}: email") for a in s.email]
        if s.email_file:
            emails += read_email_file(s.email_file, base)
        for url in s.teams_webhooks:
            if not url.startswith("https://") and not url.startswith("http://127.0.0.1"):
                raise ConfigError(f"{where}: teams_webhooks: each must be an https:// Workflows URL")
        out.append(Target(s, recipients(emails), list(dict.fromkeys(s.slack_channels)),
                          list(dict.fromkeys(s.teams_webhooks))))
    return out


def drop_unsubscribed(plan: list[Target], unsubscribed: set, out) -> list[Target]:
    """The plan less the email addresses that unsubscribed from each subscription (said in the log)."""
    from dataclasses import replace


    kept = []
    for t in plan:
        emails = without_unsubscribed(t.emails, t.subscription.name, unsubscribed)
        if len(emails) != len(t.emails):
            print(f"{t.subscription.name}: {len(t.emails) - len(emails)} address(es) unsubscribed, not sent to",
                  file=out, flush=True)
        kept.append(replace(t, emails=emails))
    return kept


def unsubscribed_read_only(ctx) -> set:
    """(subscription, address) pairs that unsubscribed, read without creating anything."""
    from sqlalchemy import inspect, select

    from .ledger import unsubscribes_table as u

    engine = ctx.store.engine
    if "unsubscribes" not in inspect(engine).get_table_names():
        return set()
    with engine.connect() as conn:
        return {(s, a) for s, a in conn.execute(select(u.c.subscription, u.c.address))}
