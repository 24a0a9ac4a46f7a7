"""`obsession send`: one weekly run now: pull, check, render, deliver."""
from __future__ import annotations


def run(args, ctx) -> int:
    """Run the weekly delivery (see bot.weekly); exit 0 done, 1 something failed, 3 held."""
    from bot.weekly import run_weekly

    return run_weekly(ctx, week=args.week, subscription=args.subscription, dry_run=args.dry_run,
                      force=args.force, override_hold=args.override_hold)
