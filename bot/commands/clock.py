"""`obsession clock`: the scheduler process (run exactly one)."""
from __future__ import annotations

import logging
import signal
import sys


def run(args, ctx) -> int:
    """Run the weekly delivery on `[schedule]` until stopped (SIGTERM or Ctrl-C)."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED

    from bot.scheduler import JOB_ID, build_scheduler, describe

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("obsession.clock")
    schedule = ctx.config.schedule
    sched, first = build_scheduler(ctx.settings.database_url, schedule)

    def after(event):
        job = sched.get_job(JOB_ID)
        if event.code == EVENT_JOB_MISSED:
            log.warning("the weekly run due at %s was missed by more than the grace time; run `obsession send` "
                        "by hand if it is still wanted", event.scheduled_run_time)
        if job is not None and job.next_run_time is not None:
            log.info("next weekly run: %s", describe(job.next_run_time))
    sched.add_listener(after, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    def stop(signum, frame):
        log.info("stopping the clock (signal %s)", signum)
        sched.shutdown(wait=False)
    signal.signal(signal.SIGTERM, stop)

    log.info("obsession clock: weekly delivery on cron %r in %s; next run: %s. Run only ONE clock process.",
             schedule.cron, schedule.timezone, describe(first))
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0
