"""The delivery ledger: one row per recipient, claimed by exactly one run, on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, update

from bot.ledger import PENDING, SENDING, SENT, Key, Ledger, deliveries_table, is_dead_here, new_claimer

WEEK = date(2026, 11, 16)


@pytest.fixture
def ledger(store):
    led = Ledger.open(store.url)
    yield led
    led.close()


def keys(n, sub="city"):
    return [Key(sub, "email", f"person{i}@example.gov.uk") for i in range(n)]


def test_opening_the_ledger_makes_its_tables(store):
    assert not {"deliveries", "hold_overrides", "unsubscribes"} & set(inspect(store.engine).get_table_names())
    Ledger.open(store.url).close()
    assert {"deliveries", "hold_overrides", "unsubscribes"} <= set(inspect(store.engine).get_table_names())


def test_ensure_adds_each_key_once(ledger):
    ledger.ensure(WEEK, keys(5))
    ledger.ensure(WEEK, keys(7))          # two more; the first five are already there
    rows = ledger.rows(WEEK)
    assert len(rows) == 7
    assert {r.status for r in rows} == {PENDING}
    assert ledger.rows(WEEK + timedelta(days=7)) == []


def test_only_one_run_wins_a_row(store, ledger):
    other = Ledger.open(store.url)
    try:
        ledger.ensure(WEEK, keys(10))
        rows = ledger.rows(WEEK)
        mine = ledger.claim(rows[:6])
        theirs = other.claim(rows)                 # the same stale view of all ten rows
        assert [r.id for r in mine] == [r.id for r in rows[:6]]
        assert [r.id for r in theirs] == [r.id for r in rows[6:]]
    finally:
        other.close()


def test_sent_rows_are_not_claimed_again_but_failed_ones_are(ledger):
    ledger.ensure(WEEK, keys(3))
    rows = ledger.claim(ledger.rows(WEEK))
    assert ledger.mark_sent(rows[0].id)
    ledger.mark_failed(rows[1].id, "550 mailbox unavailable")
    ledger.release([rows[2].id])
    again = ledger.claim(ledger.rows(WEEK))
    assert sorted(r.id for r in again) == sorted([rows[1].id, rows[2].id])
    by_id = {r.id: r for r in ledger.rows(WEEK)}
    assert by_id[rows[0].id].status == SENT and by_id[rows[0].id].sent_at is not None
    assert by_id[rows[1].id].attempts == 2          # tried, failed, claimed again
    assert by_id[rows[2].id].attempts == 1          # released without an attempt, claimed again
    assert by_id[rows[1].id].last_error == "550 mailbox unavailable"


def test_a_claim_held_by_a_live_run_elsewhere_waits_for_the_lease(store, ledger):
    ledger.ensure(WEEK, keys(2))
    host = socket.gethostname()
    alive = f"{host}:{os.getppid()}:feedfeedfeed"          # our parent process is alive
    dead_proc = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_proc.wait()
    dead = f"{host}:{dead_proc.pid}:deaddeaddead"
    now = datetime.now(timezone.utc)
    rows = ledger.rows(WEEK)
    t = deliveries_table
    with store.engine.begin() as c:
        c.execute(update(t).where(t.c.id == rows[0].id).values(status=SENDING, claimed_by=alive, claimed_at=now))
        c.execute(update(t).where(t.c.id == rows[1].id).values(status=SENDING, claimed_by=dead, claimed_at=now))
    won = ledger.claim(ledger.rows(WEEK))
    assert [r.id for r in won] == [rows[1].id]             # the dead run's row, at once
    with store.engine.begin() as c:
        c.execute(update(t).where(t.c.id == rows[0].id).values(claimed_at=now - timedelta(hours=1)))
    won = ledger.claim(ledger.rows(WEEK))
    assert [r.id for r in won] == [rows[0].id]             # the live one only after the lease


def test_dead_here_rules():
    me = new_claimer()
    host, pid, _ = me.rsplit(":", 2)
    assert not is_dead_here(me, me)
    assert is_dead_here(f"{host}:{pid}:000000000000", me)         # an earlier run in this process
    assert not is_dead_here(f"elsewhere:{pid}:000000000000", me)  # another machine: lease only
    assert not is_dead_here(None, me)


def test_force_reopens_sent_and_failed_rows(ledger):
    ledger.ensure(WEEK, keys(3))
    rows = ledger.claim(ledger.rows(WEEK))
    ledger.mark_sent(rows[0].id)
    ledger.mark_failed(rows[1].id, "boom")
    n = ledger.reopen(WEEK, [rows[0].key, rows[1].key])
    assert n == 2
    by_id = {r.id: r for r in ledger.rows(WEEK)}
    assert by_id[rows[0].id].status == PENDING and by_id[rows[0].id].generation == 1
    assert by_id[rows[2].id].status == SENDING and by_id[rows[2].id].generation == 0


def test_mark_sent_needs_the_claim(store, ledger):
    other = Ledger.open(store.url)
    try:
        ledger.ensure(WEEK, keys(1))
        row = ledger.claim(ledger.rows(WEEK))[0]
        assert not other.mark_sent(row.id)
        assert ledger.rows(WEEK)[0].status == SENDING
        assert ledger.mark_sent(row.id)
    finally:
        other.close()


def test_concurrent_claimers_share_rows_without_overlap(store):
    base = Ledger.open(store.url)
    base.ensure(WEEK, keys(300))
    rows = base.rows(WEEK)
    results: list[list[int]] = []
    lock = threading.Lock()

    def worker():
        led = Ledger.open(store.url)
        try:
            got = []
            for i in range(0, len(rows), 25):
                got += [r.id for r in led.claim(rows[i:i + 25])]
            with lock:
                results.append(got)
        finally:
            led.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    base.close()
    every = [i for r in results for i in r]
    assert len(every) == len(set(every)) == 300


def test_override_is_recorded(ledger):
    ledger.record_override(WEEK, "analyst", "figures checked by hand", ["cla moved 9%"])
    (o,) = ledger.overrides(WEEK)
    assert (o["overridden_by"], o["reason"], o["problems"]) == ("analyst", "figures checked by hand", "cla moved 9%")
    assert ledger.overrides(WEEK - timedelta(days=7)) == []
