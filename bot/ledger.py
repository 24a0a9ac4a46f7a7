"""The delivery ledger: one row per week, subscription, channel and recipient, so each is sent once.

Claiming a row is one conditional UPDATE (pending/failed -> sending, by this run) that only one
process can win, on SQLite and on a PostgreSQL shared by several machines. A row is marked sent the
moment its channel accepts it. A row left "sending" by a run that died is taken over by the next
run (at once when that run was on this machine and its process is gone, otherwise after LEASE).
Only the channel knows whether the dead run's last message arrived: Slack is asked (each post names
its row in message metadata, looked up in conversations.history; found, the row is marked sent, see
bot/channels/slack.py), email is sent again with the same Message-ID, so mail clients show it once.
"""
from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Integer,
    String,
    Table,
    UniqueConstraint,
    and_,
    bindparam,
    or_,
    select,
    update,
)

from tracker.store import create_tables, metadata

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
LEASE = timedelta(minutes=15)     # a claim older than this, by a run elsewhere, is presumed dead

deliveries_table = Table(
    "deliveries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("week_commencing", Date, nullable=False),
    Column("subscription", String(200), nullable=False),
    Column("channel", String(16), nullable=False),          # email | slack | teams | owners
    Column("recipient", String(400), nullable=False),       # address, channel id, or webhook key
    Column("status", String(16), nullable=False, default=PENDING),
    Column("attempts", Integer, nullable=False, default=0),
    Column("generation", Integer, nullable=False, default=0),   # how many times --force reopened it
    Column("last_error", String(2000)),
    Column("sent_at", DateTime(timezone=True)),
    Column("claimed_by", String(200)),
    Column("claimed_at", DateTime(timezone=True)),
    UniqueConstraint("week_commencing", "subscription", "channel", "recipient", name="uq_delivery"),
)

overrides_table = Table(
    "hold_overrides", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("week_commencing", Date, nullable=False),
    Column("overridden_by", String(200), nullable=False),
    Column("reason", String(2000), nullable=False),
    Column("problems", String(8000), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)


unsubscribes_table = Table(
    "unsubscribes", metadata,
    Column("subscription", String(200), primary_key=True),
    Column("address", String(400), primary_key=True),       # lower-case
    Column("unsubscribed_at", DateTime(timezone=True), nullable=False),
    Column("via", String(40), nullable=False),               # how: "one-click" (RFC 8058) or "page"
)


@dataclass(frozen=True)
class Key:
    """What one ledger row is for."""

    subscription: str
    channel: str
    recipient: str


@dataclass(frozen=True)
class Row:
    """One ledger row as read."""

    id: int
    week: date
    subscription: str
    channel: str
    recipient: str
    status: str
    attempts: int
    generation: int
    last_error: str | None
    sent_at: datetime | None
    claimed_by: str | None

    @property
    def key(self) -> Key:
        """The row's (subscription, channel, recipient)."""
        return Key(self.subscription, self.channel, self.recipient)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(d: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes for timezone=True columns; they were stored as UTC
    return d.replace(tzinfo=timezone.utc) if d is not None and d.tzinfo is None else d


def new_claimer() -> str:
    """The identity one run claims rows under: host, process id and a random token."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_dead_here(claimer: str | None, me: str) -> bool:
    """True when `claimer` was a run on this machine that has ended (its process is gone, or it was an
    earlier run in this very process, since runs in one process never overlap)."""
    if not claimer:
        return False
    try:
        host, pid, token = claimer.rsplit(":", 2)
        my_host, my_pid, my_token = me.rsplit(":", 2)
        pid_i = int(pid)
    except ValueError:
        return False
    if host != my_host or token == my_token:
        return False
    if pid == my_pid:
        return True
    return not _pid_alive(pid_i)


def ledger_engine(url: str):
    """An engine of its own for the ledger, tuned for one small commit per message sent.

    SQLite: write-ahead log with synchronous=NORMAL; PostgreSQL: synchronous_commit off. Either way a
    commit survives our process dying; only a crash of the database machine itself may lose the last
    moments of marks, and those messages are then sent again (email with the same Message-ID).
    """
    from sqlalchemy import event

    from tracker.store import engine_for

    engine = engine_for(url)
    kind = engine.dialect.name

    @event.listens_for(engine, "connect")
    def _tune(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        if kind == "sqlite":
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        elif kind == "postgresql":
            cur.execute("SET synchronous_commit = off")
            dbapi_conn.commit()
        cur.close()
    return engine


class Ledger:
    """The delivery ledger on an engine, for one run (one claimer identity)."""

    BATCH = 500

    @classmethod
    def open(cls, url: str, claimer: str | None = None) -> "Ledger":
        """A ledger on the database at `url`, with its tables created."""
        engine = ledger_engine(url)
        create_tables(engine, [deliveries_table, overrides_table, unsubscribes_table])
        return cls(engine, claimer)

    @classmethod
    def read_only(cls, engine) -> "Ledger":
        """The ledger on another's engine (the store's), to read without creating anything: a dry run.

        Its tables may not exist yet, and then it reads as empty; close() leaves the engine alone.
        """
        ledger = cls(engine)
        ledger._owns_engine = ledger._creates = False
        return ledger

    def close(self) -> None:
        """Release the ledger's connections."""
        if self._marker is not None:
            self._marker[0].close()
            self._marker = None
        if self._owns_engine:
            self.engine.dispose()

    def __init__(self, engine, claimer: str | None = None):
        self.engine = engine
        self.me = claimer or new_claimer()
        self.t = deliveries_table
        self._marker = None     # (connection, statement) for mark_sent, made on first use
        self._owns_engine = True
        self._creates = True     # opened with its tables created (read_only: perhaps none yet)

    def _has(self, table: Table) -> bool:
        """Whether a table of the ledger is there to read."""
        from sqlalchemy import inspect

        return self._creates or table.name in inspect(self.engine).get_table_names()

    def ensure(self, week: date, keys: list[Key]) -> None:
        """Add a pending row for every key that has none (concurrent runs may add the same ones)."""
        t = self.t
        existing = {(r.subscription, r.channel, r.recipient) for r in self.rows(week)}
        missing = [k for k in dict.fromkeys(keys) if (k.subscription, k.channel, k.recipient) not in existing]
        if not missing:
            return
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:  # pragma: no cover - other databases: plain inserts, one run at a time
            insert = None
        values = [{"week_commencing": week, "subscription": k.subscription, "channel": k.channel,
                   "recipient": k.recipient, "status": PENDING, "attempts": 0, "generation": 0}
                  for k in missing]
        with self.engine.begin() as conn:
            for i in range(0, len(values), self.BATCH):
                chunk = values[i:i + self.BATCH]
                if insert is None:
                    conn.execute(t.insert(), chunk)
                else:
                    conn.execute(insert(t).on_conflict_do_nothing(
                        index_elements=["week_commencing", "subscription", "channel", "recipient"]), chunk)

    def rows(self, week: date, subscription: str | None = None) -> list[Row]:
        """Every row of a week (optionally one subscription's), in id order."""
        t = self.t
        q = select(t).where(t.c.week_commencing == week).order_by(t.c.id)
        if subscription is not None:
            q = q.where(t.c.subscription == subscription)
        with self.engine.connect() as conn:
            return [Row(r.id, r.week_commencing, r.subscription, r.channel, r.recipient, r.status,
                        r.attempts, r.generation, r.last_error, _aware(r.sent_at), r.claimed_by)
                    for r in conn.execute(q)]

    def sent_keys(self, week: date) -> set[tuple[str, str, str]]:
        """(subscription, channel, recipient) of the week's rows already sent."""
        t = self.t
        if not self._has(t):
            return set()
        q = select(t.c.subscription, t.c.channel, t.c.recipient).where(t.c.week_commencing == week, t.c.status == SENT)
        with self.engine.connect() as conn:
            return {tuple(r) for r in conn.execute(q)}

    def reopen(self, week: date, keys: list[Key]) -> int:
        """--force: make sent or failed rows for these keys pending again; the number reopened."""
        t = self.t
        wanted = {(k.subscription, k.channel, k.recipient) for k in keys}
        ids = [r.id for r in self.rows(week) if (r.subscription, r.channel, r.recipient) in wanted
               and r.status in (SENT, FAILED)]
        n = 0
        with self.engine.begin() as conn:
            for i in range(0, len(ids), self.BATCH):
                res = conn.execute(update(t).where(t.c.id.in_(ids[i:i + self.BATCH]), t.c.status.in_((SENT, FAILED)))
                                   .values(status=PENDING, generation=t.c.generation + 1, claimed_by=None))
                n += res.rowcount
        return n

    def claim(self, rows: list[Row]) -> list[Row]:
        """Atomically take the given rows that nobody has sent or is sending; return those won."""
        t = self.t
        now = _now()
        dead = sorted({r.claimed_by for r in rows if r.status == SENDING and is_dead_here(r.claimed_by, self.me)})
        claimable = or_(t.c.status.in_((PENDING, FAILED)),
                        and_(t.c.status == SENDING, t.c.claimed_at < now - LEASE))
        if dead:
            claimable = or_(claimable, and_(t.c.status == SENDING, t.c.claimed_by.in_(dead)))
        won: set[int] = set()
        ids = [r.id for r in rows]
        with self.engine.begin() as conn:
            for i in range(0, len(ids), self.BATCH):
                stmt = (update(t).where(t.c.id.in_(ids[i:i + self.BATCH]), claimable)
                        .values(status=SENDING, claimed_by=self.me, claimed_at=now, attempts=t.c.attempts + 1)
                        .returning(t.c.id))
                won.update(conn.execute(stmt).scalars())
        return [r for r in rows if r.id in won]

    def mark_sent(self, row_id: int) -> bool:
        """Record that the channel accepted the row's message (only while this run holds the claim)."""
        # Called once per message of a fan-out of thousands: one statement built once, one connection
        # kept, one small commit each (building the UPDATE anew cost more than sending some messages).
        if self._marker is None:
            t = self.t
            self._marker = (self.engine.connect(),
                            update(t).where(t.c.id == bindparam("rid"), t.c.claimed_by == bindparam("me"),
                                            t.c.status == SENDING)
                            .values(status=SENT, sent_at=bindparam("at"), last_error=None))
        conn, stmt = self._marker
        res = conn.execute(stmt, {"rid": row_id, "me": self.me, "at": _now()})
        conn.commit()
        return res.rowcount == 1

    def mark_failed(self, row_id: int, error: str) -> None:
        """Record a failure; the row is tried again by the next run."""
        t = self.t
        with self.engine.begin() as conn:
            conn.execute(update(t).where(t.c.id == row_id, t.c.claimed_by == self.me, t.c.status == SENDING)
                         .values(status=FAILED, last_error=error[:2000]))

    def release(self, row_ids: list[int]) -> None:
        """Give back claimed rows this run did not get to (e.g. on Ctrl-C), as pending."""
        t = self.t
        with self.engine.begin() as conn:
            for i in range(0, len(row_ids), self.BATCH):
                conn.execute(update(t).where(t.c.id.in_(row_ids[i:i + self.BATCH]), t.c.claimed_by == self.me,
                                             t.c.status == SENDING).values(status=PENDING, claimed_by=None,
                                                                           attempts=t.c.attempts - 1))

    def record_override(self, week: date, user: str, reason: str, problems: list[str]) -> None:
        """Keep who sent a held week anyway, and why."""
        with self.engine.begin() as conn:
            conn.execute(overrides_table.insert().values(week_commencing=week, overridden_by=user[:200],
                                                         reason=reason[:2000], problems="\n".join(problems)[:8000],
                                                         at=_now()))

    def unsubscribe(self, subscription: str, address: str, via: str) -> bool:
        """Record that `address` no longer wants `subscription`; False when it was already recorded."""
        from sqlalchemy.exc import IntegrityError

        try:
            with self.engine.begin() as conn:
                conn.execute(unsubscribes_table.insert().values(
                    subscription=subscription, address=address.strip().lower(), unsubscribed_at=_now(), via=via))
        except IntegrityError:
            return False
        return True

    def unsubscribed(self) -> set[tuple[str, str]]:
        """(subscription, address) of everyone who unsubscribed."""
        u = unsubscribes_table
        if not self._has(u):
            return set()
        with self.engine.connect() as conn:
            return {(s, a) for s, a in conn.execute(select(u.c.subscription, u.c.address))}

    def overrides(self, week: date | None = None) -> list[dict]:
        """Recorded overrides, oldest first."""
        o = overrides_table
        q = select(o).order_by(o.c.id)
        if week is not None:
            q = q.where(o.c.week_commencing == week)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]
