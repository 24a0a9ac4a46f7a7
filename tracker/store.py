"""The store: figures (and their revisions) in one SQL database through SQLAlchemy.

SQLite by default; PostgreSQL (or any SQLAlchemy database) through DATABASE_URL. Every write is
one transaction, so an import either lands whole or not at all.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
from sqlalchemy import (Column, Date, DateTime, Float, Integer, MetaData, String, Table, create_engine,
                        event, select)
from sqlalchemy.engine import Engine, make_url

from .errors import ConfigError
from .figures import COLUMNS

metadata = MetaData()

figures_table = Table(
    "figures", metadata,
    Column("week_commencing", Date, primary_key=True),
    Column("obsession", String(64), primary_key=True),
    Column("area", String(200), primary_key=True),
    Column("value", Float, nullable=False),
    Column("numerator", Float),
    Column("denominator", Float),
    Column("source", String(500), nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
)

revisions_table = Table(
    "figure_revisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("week_commencing", Date, nullable=False),
    Column("obsession", String(64), nullable=False),
    Column("area", String(200), nullable=False),
    Column("old_value", Float, nullable=False),
    Column("new_value", Float, nullable=False),
    Column("old_source", String(500)),
    Column("new_source", String(500), nullable=False),
    Column("revised_at", DateTime(timezone=True), nullable=False),
)


def create_tables(engine: Engine, tables: list[Table]) -> None:
    """Create the tables that do not exist yet, safe when two processes start at the same moment.

    Two concurrent CREATE TABLEs race (PostgreSQL: one fails on its catalogue's unique index;
    SQLite: "table ... already exists"); the loser finds the winner's tables on a second look.
    """
    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    for attempt in range(3):
        try:
            metadata.create_all(engine, tables=tables)
            return
        except (IntegrityError, OperationalError, ProgrammingError):
            if attempt == 2:
                raise
            import time

            time.sleep(0.2 * (attempt + 1))


def engine_for(url: str) -> Engine:
    """An engine for a SQLAlchemy URL; plain postgresql:// uses psycopg 3, SQLite gets its folder made."""
    try:
        u = make_url(url)
    except Exception:
        raise ConfigError("setting DATABASE_URL is not a database URL (like sqlite:///data/obsessions.db)") from None
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    if u.drivername.startswith("sqlite") and u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(u, future=True)
    if u.drivername.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):   # wait for a writer rather than fail at once
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout = 30000")
            cur.close()
    return engine


@dataclass
class LoadSummary:
    """What an import did: how many figures were new, revised and unchanged, and which weeks."""

    new: int = 0
    revised: int = 0
    unchanged: int = 0
    weeks: list[date] = field(default_factory=list)

    def describe(self) -> str:
        """One line for the analyst."""
        span = ""
        if self.weeks:
            first, last = min(self.weeks), max(self.weeks)
            span = f", weeks {first:%Y-%m-%d}" + (f" to {last:%Y-%m-%d}" if last != first else "") + f" ({len(set(self.weeks))} weeks)"
        return f"{self.new} new, {self.revised} revised, {self.unchanged} unchanged{span}"


def _same(a, b) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return False
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))


def _clean(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


class Store:
    """Figures and revisions in one database."""

    def __init__(self, url: str):
        self.url = url
        self.engine = engine_for(url)

    def create(self) -> None:
        """Create the tables that do not exist yet."""
        create_tables(self.engine, [figures_table, revisions_table])

    def figures_frame(self) -> pd.DataFrame:
        """Every figure, in the long format (week_commencing, obsession, area, value, numerator, denominator)."""
        # Raw driver rows, converted by pandas in one go: SQLAlchemy's per-row type processing
        # is most of the cost of reading ten years of figures.
        sql = "SELECT " + ", ".join(COLUMNS) + " FROM figures"
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute(sql)
            columns = list(zip(*cur.fetchall())) or [()] * len(COLUMNS)
            cur.close()
        finally:
            raw.close()
        frame = pd.DataFrame(dict(zip(COLUMNS, columns)), columns=COLUMNS)
        frame["week_commencing"] = pd.to_datetime(frame["week_commencing"])
        for c in ("value", "numerator", "denominator"):
            frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
        return frame

    def figure_table(self):
        """The figures as a FigureTable for the arithmetic."""
        from .figures import FigureTable

        return FigureTable(self.figures_frame())

    def count(self) -> int:
        """How many figures are stored."""
        from sqlalchemy import func

        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(figures_table)).scalar_one()

    def fingerprint(self) -> tuple:
        """How many figures, the newest load time and the newest revision: changes on every write."""
        from sqlalchemy import func

        with self.engine.connect() as conn:
            n, newest = conn.execute(select(func.count(), func.max(figures_table.c.loaded_at))).one()
            rev = conn.execute(select(func.max(revisions_table.c.id))).scalar()
        return (n, str(newest), rev)

    def revisions(self) -> list[dict]:
        """Every kept revision, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(revisions_table).order_by(revisions_table.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def save_figures(self, frame: pd.DataFrame, source: str, now: datetime | None = None) -> LoadSummary:
        """Insert new figures and replace revised ones in one transaction, keeping each revision.

        `frame` has the long-format columns and has been validated; a figure equal to the stored
        one (value, numerator and denominator) is left alone, so re-importing changes nothing. A
        `source` column, when the frame has one, names each figure's own file (several files in one run).
        """
        now = now or datetime.now(timezone.utc)
        summary = LoadSummary()
        if frame.empty:
            return summary
        frame = frame.copy()
        frame["week_commencing"] = pd.to_datetime(frame["week_commencing"]).dt.date
        incoming = {}
        sources = frame["source"] if "source" in frame.columns else [source] * len(frame)
        for (w, o, a, v, n, d), src in zip(frame[COLUMNS].itertuples(index=False, name=None), sources):
            if _clean(v) is None:   # PostgreSQL would store NaN; SQLite NULL: neither is a figure
                raise ValueError(f"no value for {o}, {a}, week {w}: validate figures before saving")
            incoming[(w, o, a)] = (float(v), _clean(n), _clean(d), src or source)
        weeks = sorted({k[0] for k in incoming})
        t = figures_table
        with self.engine.begin() as conn:
            existing = {}
            q = select(t.c.week_commencing, t.c.obsession, t.c.area, t.c.value, t.c.numerator,
                       t.c.denominator, t.c.source).where(t.c.week_commencing.between(weeks[0], weeks[-1]))
            obs = sorted({k[1] for k in incoming})
            q = q.where(t.c.obsession.in_(obs))
            for w, o, a, v, n, d, s in conn.execute(q):
                existing[(w, o, a)] = (v, n, d, s)
            new_rows, revised_rows, revision_log = [], [], []
            for key, (v, n, d, src) in incoming.items():
                old = existing.get(key)
                row = {"week_commencing": key[0], "obsession": key[1], "area": key[2], "value": v,
                       "numerator": n, "denominator": d, "source": src, "loaded_at": now}
                if old is None:
                    new_rows.append(row)
                elif _same(old[0], v) and _same(old[1], n) and _same(old[2], d):
                    summary.unchanged += 1
                else:
                    revised_rows.append(row)
                    revision_log.append({"week_commencing": key[0], "obsession": key[1], "area": key[2],
                                         "old_value": old[0], "new_value": v, "old_source": old[3],
                                         "new_source": src, "revised_at": now})
            if new_rows:
                conn.execute(t.insert(), new_rows)
            if revised_rows:
                from sqlalchemy import bindparam

                upd = (t.update()
                       .where(t.c.week_commencing == bindparam("k_week"), t.c.obsession == bindparam("k_obs"),
                              t.c.area == bindparam("k_area"))
                       .values(value=bindparam("value"), numerator=bindparam("numerator"),
                               denominator=bindparam("denominator"), source=bindparam("source"),
                               loaded_at=bindparam("loaded_at")))
                conn.execute(upd, [{**r, "k_week": r["week_commencing"], "k_obs": r["obsession"],
                                    "k_area": r["area"]} for r in revised_rows])
                conn.execute(revisions_table.insert(), revision_log)
        summary.new, summary.revised = len(new_rows), len(revised_rows)
        summary.weeks = weeks
        return summary
