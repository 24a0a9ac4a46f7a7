"""The main job: the weekly delivery (bot.weekly), as `obsession demo` and the scheduler run it."""
from __future__ import annotations

import logging
import sys

log = logging.getLogger("obsession.jobs")


def weekly_job(ctx, week=None, out=sys.stdout) -> int:
    """Run this week's delivery (into the outbox where a channel has no credentials) and say where it went."""
    from pathlib import Path

    from .channels import CHANNELS
    from .channels.outbox import IMAGE
    from .weekly import run_weekly

    code = run_weekly(ctx, week=week, out=out)
    outbox = Path(ctx.settings.outbox_dir)
    weeks = sorted(p for p in outbox.glob("*") if p.is_dir()) if outbox.is_dir() else []
    if weeks:
        latest = weeks[-1]
        folders = sorted(p for p in latest.iterdir() if p.is_dir())
        counts = dict([p.outbox_files for p in CHANNELS] + [(f"images ({IMAGE})", IMAGE)])
        made = {k: sum(1 for f in folders for _ in f.glob(pat)) for k, pat in counts.items()}
        print(f"Outbox: {latest}/ has {len(folders)} subscription folders: "
              + ", ".join(f"{n} {k}" for k, n in made.items() if n), file=out)
        if folders:
            subs = [s.name for s in ctx.config.subscriptions]
            from renderers.paths import slug
            first = next((f for f in folders if subs and f.name == slug(subs[0])), folders[0])
            print(f"  e.g. {first}/: " + ", ".join(sorted(p.name for p in first.iterdir())[:6]), file=out)
        print("  " + "; ".join(p.outbox_hint for p in CHANNELS if p.outbox_hint) + ".", file=out)
    return code


def scheduled_job() -> None:
    """The scheduler's job: a fresh context (settings and configuration read now), then the weekly run."""
    from tracker.errors import ObsessionError

    from .context import Context
    from .weekly import run_weekly

    try:
        ctx = Context.from_env()
        code = run_weekly(ctx)
        log.info("weekly run finished with exit code %s", code)
    except ObsessionError as e:
        log.error("weekly run stopped (exit %s): %s", e.exit_code, e)
    except Exception:   # the scheduler must survive for next week; the traceback goes to the log
        log.exception("weekly run crashed")
