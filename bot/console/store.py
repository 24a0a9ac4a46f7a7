"""The console's tables, in the store's database and metadata: accounts, sign-outs, loads, approvals, audit log.

Created like the ledger's (tracker.store.create_tables), so two processes starting together are safe.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import Column, Date, DateTime, Integer, String, Table, Text, delete, func, insert, select

from tracker.store import create_tables, metadata

users_table = Table(
    "console_users", metadata,
    Column("email", String(320), primary_key=True),          # lower-case
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=False),    # Argon2id, never the password
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
)

signouts_table = Table(   # sessions ended by signing out: their cookie no longer opens anything
    "console_signouts", metadata,
    Column("sid", String(64), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
)

loads_table = Table(
    "console_loads", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("loaded_by", String(320), nullable=False),
    Column("files", String(2000), nullable=False),           # the uploaded files' names
    Column("format", String(40), nullable=False),
    Column("source", String(500), nullable=False),           # as recorded with each figure and revision
    Column("new", Integer, nullable=False),
    Column("revised", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("summary", String(2000), nullable=False),
)

approvals_table = Table(   # approve | hold | release, per week: who, when, why
    "week_approvals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("week_commencing", Date, nullable=False),
    Column("action", String(16), nullable=False),
    Column("by", String(320), nullable=False),
    Column("reason", String(2000), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("figures", String(64)),        # approve: a hash of the week's figures as approved
)

audit_table = Table(
    "console_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("who", String(320), nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("address", String(64), nullable=False),
)

TABLES = [users_table, signouts_table, loads_table, approvals_table, audit_table]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(d):
    return d.replace(tzinfo=timezone.utc) if isinstance(d, datetime) and d.tzinfo is None else d


def create(engine) -> None:
    """Create the console's tables that do not exist yet."""
    create_tables(engine, TABLES)


@dataclass(frozen=True)
class Decision:
    """One approval, hold or release of a week."""

    week: date
    action: str
    by: str
    reason: str
    at: datetime
    figures: str | None = None


class ConsoleStore:
    """The console's reads and writes on the store's engine."""

    def __init__(self, engine):
        self.engine = engine
        create(engine)

    # -- accounts
    def add_user(self, email: str, role: str, password_hash: str, created_by: str) -> bool:
        """Add or replace a local account; True when it is new."""
        email = email.strip().lower()
        with self.engine.begin() as conn:
            existed = conn.execute(select(users_table.c.email).where(users_table.c.email == email)).first()
            conn.execute(delete(users_table).where(users_table.c.email == email))
            conn.execute(insert(users_table).values(email=email, role=role, password_hash=password_hash,
                                                    created_at=_now(), created_by=created_by[:200]))
        return existed is None

    def user(self, email: str) -> dict | None:
        """The local account for an address, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(users_table).where(users_table.c.email == email.strip().lower())).mappings().first()
        return dict(row) if row else None

    def users(self) -> list[dict]:
        """Every local account, by address (hashes included: never show them)."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(users_table).order_by(users_table.c.email)).mappings()]

    def remove_user(self, email: str) -> bool:
        """Remove a local account; False when there was none."""
        with self.engine.begin() as conn:
            return conn.execute(delete(users_table).where(users_table.c.email == email.strip().lower())).rowcount > 0

    def set_hash(self, email: str, password_hash: str) -> None:
        """Store a re-computed hash (after Argon2's parameters changed)."""
        with self.engine.begin() as conn:
            conn.execute(users_table.update().where(users_table.c.email == email).values(password_hash=password_hash))

    # -- sessions
    def sign_out(self, sid: str) -> None:
        """Record that a session ended."""
        from sqlalchemy.exc import IntegrityError

        try:
            with self.engine.begin() as conn:
                conn.execute(insert(signouts_table).values(sid=sid[:64], at=_now()))
        except IntegrityError:
            pass

    def signed_out(self, sid: str) -> bool:
        """True when the session was ended by signing out."""
        with self.engine.connect() as conn:
            return conn.execute(select(signouts_table.c.sid).where(signouts_table.c.sid == sid)).first() is not None

    # -- audit
    def audit(self, who: str, action: str, detail: str, address: str) -> None:
        """Keep one console action that changed something (or a sign-in)."""
        with self.engine.begin() as conn:
            conn.execute(insert(audit_table).values(at=_now(), who=who[:320], action=action[:64],
                                                    detail=detail[:4000], address=(address or "")[:64]))

    def audit_log(self, limit: int = 500) -> list[dict]:
        """The newest audit entries first."""
        t = audit_table
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.id.desc()).limit(limit)).mappings().all()
        return [{**r, "at": _aware(r["at"])} for r in rows]

    # -- loads
    def record_load(self, who: str, files: list[str], fmt: str, source: str, summary) -> int:
        """Keep one load made through the console; its id."""
        with self.engine.begin() as conn:
            res = conn.execute(insert(loads_table).values(
                at=_now(), loaded_by=who[:320], files=json.dumps(files)[:2000], format=fmt, source=source[:500],
                new=summary.new, revised=summary.revised, unchanged=summary.unchanged,
                summary=summary.describe()[:2000]))
            return res.inserted_primary_key[0]

    def loads(self, limit: int = 200) -> list[dict]:
        """The newest loads first."""
        t = loads_table
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.id.desc()).limit(limit)).mappings().all()
        return [{**r, "at": _aware(r["at"]), "files": json.loads(r["files"])} for r in rows]

    def loaded_by(self) -> dict[str, str]:
        """source label -> who loaded it through the console."""
        t = loads_table
        with self.engine.connect() as conn:
            return {s: w for s, w in conn.execute(select(t.c.source, t.c.loaded_by))}

    # -- approvals
    def decide(self, week: date, action: str, by: str, reason: str, figures: str | None = None) -> None:
        """Record an approval (with the hash of the figures approved), hold or release of a week."""
        with self.engine.begin() as conn:
            conn.execute(insert(approvals_table).values(week_commencing=week, action=action, by=by[:320],
                                                        reason=reason[:2000], at=_now(), figures=figures))

    def decisions(self, week: date) -> list[Decision]:
        """The week's approvals, holds and releases, oldest first."""
        t = approvals_table
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).where(t.c.week_commencing == week).order_by(t.c.id)).mappings().all()
        return [Decision(r["week_commencing"], r["action"], r["by"], r["reason"], _aware(r["at"]), r["figures"])
                for r in rows]

    def counts(self) -> dict[str, int]:
        """Rows in each console table (for tests: a refusal changes none)."""
        with self.engine.connect() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES}
