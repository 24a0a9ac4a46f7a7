"""The scheduler: APScheduler 3 running the weekly job on `[schedule]` cron, in its time zone.

Its job store is a table in the same database, so a clock restarted after being down at 08:00
still runs the missed job (once: coalesced, within MISFIRE_GRACE). APScheduler 3 cannot share a
job store between two running schedulers: run ONE clock process. If two run by mistake, the
delivery ledger still sends each message once.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from tracker.errors import ConfigError

log = logging.getLogger("obsession.clock")

JOB_ID = "weekly-delivery"
JOB_FUNC = "bot.jobs:scheduled_job"
MISFIRE_GRACE = 6 * 3600          # seconds: a clock down at 08:00 and back by 14:00 still sends, once
_CRON_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def make_trigger(schedule):
    """The CronTrigger for `[schedule]`: standard cron (0 or 7 = Sunday) in the schedule's time zone."""
    from apscheduler.triggers.cron import CronTrigger

    fields = schedule.cron.split()
    if len(fields) != 5:
        raise ConfigError(f'[schedule] cron: "{schedule.cron}" is not a 5-field cron line like "0 8 * * mon"')
    # APScheduler 3 numbers weekdays from Monday = 0; cron from Sunday = 0. Names mean the same to both.
    fields[4] = re.sub(r"(?<![*/\d])\d(?!\d)", lambda m: _CRON_DAYS[int(m.group())] if int(m.group()) <= 7 else m.group(),
                       fields[4])
    try:
        return CronTrigger(minute=fields[0], hour=fields[1], day=fields[2], month=fields[3], day_of_week=fields[4],
                           timezone=ZoneInfo(schedule.timezone))
    except ValueError as e:
        raise ConfigError(f'[schedule] cron: "{schedule.cron}" is not valid ({e}); e.g. "0 8 * * mon"') from None


def next_run(schedule, now: datetime | None = None) -> datetime:
    """When the weekly job runs next after `now` (aware, in the schedule's time zone)."""
    tz = ZoneInfo(schedule.timezone)
    return make_trigger(schedule).get_next_fire_time(None, now or datetime.now(tz))


def build_scheduler(database_url: str, schedule, *, scheduler_cls=None, func: str = JOB_FUNC):
    """(scheduler, first run time): a scheduler with the weekly job in a job store in the store's database.

    A job already in the store with the same trigger keeps its next run time, so a run missed while
    the clock was down happens when it comes back (within the grace time); a changed `[schedule]`
    replaces it.
    """
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.blocking import BlockingScheduler

    from tracker.store import engine_for

    tz = ZoneInfo(schedule.timezone)
    trigger = make_trigger(schedule)
    store = SQLAlchemyJobStore(engine=engine_for(database_url), tablename="apscheduler_jobs")
    cls = scheduler_cls or BlockingScheduler
    sched = cls(jobstores={"default": store}, timezone=tz,
                job_defaults={"coalesce": True, "misfire_grace_time": MISFIRE_GRACE, "max_instances": 1})
    store.start(sched, "default")          # read what an earlier clock left behind
    old = store.lookup_job(JOB_ID)
    kwargs = {}
    if old is not None and repr(old.trigger) == repr(trigger) and old.next_run_time is not None:
        kwargs["next_run_time"] = old.next_run_time
    sched.add_job(func, trigger, id=JOB_ID, name=f"weekly delivery ({schedule.cron}, {schedule.timezone})",
                  replace_existing=True, **kwargs)
    first = kwargs.get("next_run_time") or trigger.get_next_fire_time(None, datetime.now(tz))
    return sched, first


def describe(when: datetime) -> str:
    """'Monday 23 November 2026 08:00 GMT'."""
    return f"{when:%A} {when.day} {when:%B %Y %H:%M %Z}"
