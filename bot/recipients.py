"""Who gets what: each subscription's checked recipients by channel, less those who unsubscribed."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from tracker.errors import unknown

from .unsubscribe import without_unsubscribed


@dataclass
class Target:
    """One subscription's recipients, by channel kind (one entry per plugin in bot.channels.CHANNELS)."""

    subscription: object
    recipients: dict[str, list[str]]


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
    from .channels import CHANNELS

    base = Path(config.path).parent if Path(config.path).is_file() else Path.cwd()
    return [Target(s, {p.kind: p.recipients_of(s, f"{config.path}: subscription {s.name!r}", base) for p in CHANNELS})
            for s in subs]


def drop_unsubscribed(plan: list[Target], unsubscribed: set, out) -> list[Target]:
    """The plan less the addresses that unsubscribed from each subscription (said in the log)."""
    from .channels import CHANNELS

    kept = []
    for t in plan:
        got = dict(t.recipients)
        for p in CHANNELS:
            if not p.unsubscribable:
                continue
            got[p.kind] = without_unsubscribed(t.recipients[p.kind], t.subscription.name, unsubscribed)
            gone = len(t.recipients[p.kind]) - len(got[p.kind])
            if gone:
                print(f"{t.subscription.name}: {gone} address(es) unsubscribed, not sent to", file=out, flush=True)
        kept.append(replace(t, recipients=got))
    return kept
