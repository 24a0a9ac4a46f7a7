"""The clock: Monday 08:00 London time across both 2026 clock changes, cron weekdays, and a missed run caught up once."""
from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.scheduler import JOB_ID, MISFIRE_GRACE, build_scheduler, make_trigger, next_run
from tracker.config import Schedule
from tracker.errors import ConfigError

LONDON = ZoneInfo("Europe/London")
MONDAY_8 = Schedule("0 8 * * mon", "Europe/London")
# 2026: British Summer Time from 01:00 UTC on Sunday 29 March to 01:00 UTC on Sunday 25 October.
BST_START, BST_END = date(2026, 3, 29), date(2026, 10, 25)


def fires(schedule, start: datetime, until: datetime):
    trigger = make_trigger(schedule)
    out, prev, now = [], None, start
    while True:
        nxt = trigger.get_next_fire_time(prev, now)
        if nxt > until:
            return out
        out.append(nxt)
        prev, now = nxt, nxt + timedelta(microseconds=1)


def mondays(year):
    d = date(year, 1, 1)
    d += timedelta(days=(7 - d.weekday()) % 7)
    while d.year == year:
        yield d
        d += timedelta(days=7)


def test_every_monday_of_2026_once_at_eight_local():
    got = fires(MONDAY_8, datetime(2026, 1, 1, tzinfo=LONDON), datetime(2026, 12, 31, 23, 59, tzinfo=LONDON))
    assert [f.date() for f in got] == list(mondays(2026))          # 52 Mondays: never two, never none
    assert all((f.hour, f.minute) == (8, 0) for f in got)
    # in UTC the run moves: 08:00 GMT in winter, 07:00 UTC in summer time
    utc_hours = {f.date(): f.astimezone(timezone.utc).hour for f in got}
    for d, h in utc_hours.items():
        assert h == (7 if BST_START < d < BST_END else 8), d


@pytest.mark.parametrize("before, after", [(date(2026, 3, 23), date(2026, 3, 30)),
                                           (date(2026, 10, 19), date(2026, 10, 26))])
def test_the_mondays_either_side_of_a_clock_change_are_exactly_one_week_apart_locally(before, after):
    got = fires(MONDAY_8, datetime.combine(before, datetime.min.time(), LONDON),
                datetime.combine(after, datetime.max.time(), LONDON))
    assert [f.date() for f in got] == [before, after]
    assert [f.strftime("%H:%M") for f in got] == ["08:00", "08:00"]
    hours = (got[1].astimezone(timezone.utc) - got[0].astimezone(timezone.utc)) / timedelta(hours=1)
    assert hours == (167 if after.month == 3 else 169)             # one hour less / more in that week


def test_next_run_from_a_sunday_evening():
    assert next_run(MONDAY_8, datetime(2026, 11, 22, 20, 0, tzinfo=LONDON)) == datetime(2026, 11, 23, 8, 0,
                                                                                           tzinfo=LONDON)


def test_cron_weekday_numbers_mean_what_cron_means():
    sunday = Schedule("30 6 * * 0", "Europe/London")     # cron: 0 is Sunday (APScheduler 3 would say Monday)
    got = fires(sunday, datetime(2026, 6, 1, tzinfo=LONDON), datetime(2026, 6, 30, tzinfo=LONDON))
    assert {f.strftime("%A %H:%M") for f in got} == {"Sunday 06:30"}
    weekdays = Schedule("0 9 * * 1-5", "Europe/London")
    got = fires(weekdays, datetime(2026, 6, 1, tzinfo=LONDON), datetime(2026, 6, 8, tzinfo=LONDON))
    assert [f.strftime("%a") for f in got] == ["Mon", "Tue", "Wed", "Thu", "Fri"]


def test_a_bad_cron_is_a_config_error():
    with pytest.raises(ConfigError) as e:
        make_trigger(Schedule("0 25 * * mon", "Europe/London"))
    assert "[schedule] cron" in e.value.message


CALLS: list[float] = []
CALLED = threading.Event()


def record():
    """The job the misfire test schedules (importable, so the job store can keep a reference to it)."""
    CALLS.append(time.time())
    CALLED.set()


def test_a_run_missed_while_the_clock_was_down_happens_once_when_it_is_back(tmp_path):
    from apscheduler.schedulers.background import BackgroundScheduler

    url = f"sqlite:///{tmp_path / 'clock.db'}"
    sched, first = build_scheduler(url, MONDAY_8, scheduler_cls=BackgroundScheduler, func="tests.test_scheduler:record")
    assert first.strftime("%A %H:%M") == "Monday 08:00"
    sched.start(paused=True)
    sched.shutdown(wait=False)
    # the clock "was down" at 08:00 an hour ago: the stored next run time is in the past
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    from tracker.store import engine_for

    store = SQLAlchemyJobStore(engine=engine_for(url), tablename="apscheduler_jobs")
    store.start(BackgroundScheduler(), "default")
    job = store.lookup_job(JOB_ID)
    assert job.coalesce and job.misfire_grace_time == MISFIRE_GRACE >= 3 * 3600
    job.next_run_time = datetime.now(timezone.utc) - timedelta(hours=1)
    store.update_job(job)
    store.shutdown()

    CALLS.clear()
    CALLED.clear()
    again, first = build_scheduler(url, MONDAY_8, scheduler_cls=BackgroundScheduler,
                                   func="tests.test_scheduler:record")
    assert first < datetime.now(timezone.utc)             # the missed run is kept, not skipped
    again.start()
    try:
        assert CALLED.wait(10)
        time.sleep(0.3)
        assert len(CALLS) == 1                             # once, not once per missed run
        nxt = again.get_job(JOB_ID).next_run_time
        assert nxt > datetime.now(timezone.utc) and nxt.astimezone(LONDON).strftime("%A %H:%M") == "Monday 08:00"
    finally:
        again.shutdown(wait=False)


def test_a_changed_schedule_replaces_the_stored_job(tmp_path):
    from apscheduler.schedulers.background import BackgroundScheduler

    url = f"sqlite:///{tmp_path / 'clock.db'}"
    sched, _ = build_scheduler(url, MONDAY_8, scheduler_cls=BackgroundScheduler, func="tests.test_scheduler:record")
    sched.start(paused=True)
    sched.shutdown(wait=False)
    tuesday = Schedule("0 7 * * tue", "Europe/London")
    _, first = build_scheduler(url, tuesday, scheduler_cls=BackgroundScheduler, func="tests.test_scheduler:record")
    assert first.astimezone(LONDON).strftime("%A %H:%M") == "Tuesday 07:00"
