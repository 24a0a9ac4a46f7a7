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
from sqlalchemy import Column, Date, DateTime, Float, Integer, MetaData, String, Table, create_engine, event, select
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


# Published benchmarks (issue 12): the DfE's annual figures, the areas imports bring, populations,
# the statistical-neighbour model and events. Separate from the weekly figures, which stay as they are.
published_table = Table(
    "published_figures", metadata,
    Column("obsession", String(64), primary_key=True),
    Column("area", String(200), primary_key=True),
    Column("as_of", Date, primary_key=True),
    Column("unit", String(16), nullable=False),
    Column("measure", String(200), nullable=False),
    Column("value", Float, nullable=False),
    Column("numerator", Float),
    Column("denominator", Float),
    Column("source", String(500), nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
)

benchmark_areas_table = Table(
    "benchmark_areas", metadata,
    Column("area", String(200), primary_key=True),
    Column("level", String(32), nullable=False),
    Column("old_la_code", String(16)),
    Column("new_la_code", String(16)),
    Column("region", String(200)),
    Column("source", String(500), nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
)

populations_table = Table(
    "populations", metadata,
    Column("area", String(200), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("population", Float, nullable=False),
    Column("source", String(500), nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
)

sn_model_table = Table(
    "sn_model", metadata,
    Column("model", String(200), primary_key=True),
    Column("la_code", String(16), primary_key=True),
    Column("rank", Integer, primary_key=True),
    Column("neighbour_code", String(16), nullable=False),
    Column("closeness", String(64)),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
)

events_table = Table(
    "events", metadata,
    Column("date", Date, primary_key=True),
    Column("label", String(200), primary_key=True),
    Column("obsession", String(64), primary_key=True),   # "" for every obsession
    Column("source", String(500), nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
)

PUBLISHED_TABLES = [published_table, benchmark_areas_table, populations_table, sn_model_table, events_table]
# The key columns of each table, and the columns compared to tell a revision from an unchanged row.
_KEYS = {"published_figures": ("obsession", "area", "as_of"), "benchmark_areas": ("area",),
         "populations": ("area", "year"), "sn_model": ("model", "la_code", "rank"),
         "events": ("date", "label", "obsession")}
_COMPARED = {"published_figures": ("unit", "measure", "value", "numerator", "denominator"),
             "benchmark_areas": ("level", "old_la_code", "new_la_code", "region"),
             "populations": ("population",), "sn_model": ("neighbour_code", "closeness"), "events": ()}


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
        create_tables(self.engine, [figures_table, revisions_table, *PUBLISHED_TABLES])

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

        table = FigureTable(self.figures_frame())
        table.published = self.published()   # benchmarks, populations, neighbours, events (tracker/benchmarks.py)
        return table

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
            published = tuple(str(conn.execute(select(func.max(x.c.loaded_at))).scalar()) for x in PUBLISHED_TABLES)
        return (n, str(newest), rev, published)

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

    def save_published(self, parts: dict[str, list[dict]], source: str, now: datetime | None = None) -> LoadSummary:
        """Upsert rows of the published tables ({table name: rows}) in one transaction.

        A row equal to the stored one is left alone, so importing a file again changes nothing;
        `source` is recorded with each row of the tables that keep one.
        """
        now = now or datetime.now(timezone.utc)
        summary = LoadSummary()
        tables = {x.name: x for x in PUBLISHED_TABLES}
        with self.engine.begin() as conn:
            for name, rows in parts.items():
                t = tables[name]
                keys, compared = _KEYS[name], _COMPARED[name]
                existing = {tuple(r[k] for k in keys): r for r in conn.execute(select(t)).mappings()}
                new_rows, changed, unchanged = [], [], 0
                for row in rows:
                    row = {**row, "loaded_at": now}
                    if "source" in t.c:
                        row["source"] = row.get("source") or source
                    old = existing.get(tuple(row[k] for k in keys))
                    if old is not None and name == "benchmark_areas":
                        # Files know different things of an area (the model has no new codes): keep what is known.
                        # A region, once known, stays: the CLA file says "Outer London" where NEET says "London".
                        row = {k: (old[k] if k in compared and (v in ("", None) or (k == "region" and old[k]))
                                   else v) for k, v in row.items()}
                    if old is None:
                        new_rows.append(row)
                    elif all(_same(old[c], row.get(c)) if isinstance(row.get(c), (int, float)) or row.get(c) is None
                             else old[c] == row.get(c) for c in compared):
                        unchanged += 1
                    else:
                        changed.append(row)
                if new_rows:
                    conn.execute(t.insert(), new_rows)
                for row in changed:
                    cond = [t.c[k] == row[k] for k in keys]
                    conn.execute(t.update().where(*cond).values(**{k: v for k, v in row.items() if k not in keys}))
                if name == "sn_model":   # loading a model again makes it the latest, even when unchanged
                    for model in {r["model"] for r in rows}:
                        conn.execute(t.update().where(t.c.model == model).values(loaded_at=now))
                if name != "benchmark_areas":   # the areas go with the figures; the analyst counts figures
                    summary.new += len(new_rows)
                    summary.revised += len(changed)
                    summary.unchanged += unchanged
        return summary

    def published(self):
        """Everything the benchmark imports stored, as a tracker.benchmarks.Published snapshot."""
        from .benchmarks import AreaInfo, Published, PublishedFigure
        from .model import Event

        with self.engine.connect() as conn:
            figs = tuple(PublishedFigure(r.obsession, r.area, r.as_of, r.unit, r.measure, r.value,
                                         _clean(r.numerator), _clean(r.denominator))
                         for r in conn.execute(select(published_table).order_by(
                             published_table.c.obsession, published_table.c.area, published_table.c.as_of)))
            areas = tuple(AreaInfo(r.area, r.level, r.old_la_code or "", r.new_la_code or "", r.region or "")
                          for r in conn.execute(select(benchmark_areas_table).order_by(benchmark_areas_table.c.area)))
            pops = tuple((r.area, int(r.year), float(r.population)) for r in conn.execute(select(populations_table)))
            sn = sn_model_table
            latest = conn.execute(select(sn.c.model).order_by(sn.c.loaded_at.desc(), sn.c.model.desc()).limit(1)).scalar()
            neighbours: dict[str, list[str]] = {}
            if latest is not None:
                for r in conn.execute(select(sn).where(sn.c.model == latest).order_by(sn.c.la_code, sn.c.rank)):
                    neighbours.setdefault(r.la_code, []).append(r.neighbour_code)
            events: dict[tuple, list[str]] = {}
            for r in conn.execute(select(events_table).order_by(events_table.c.date, events_table.c.label)):
                events.setdefault((r.date, r.label), []).append(r.obsession)
        return Published(figures=figs, areas=areas, populations=pops,
                         neighbours={k: tuple(v) for k, v in neighbours.items()}, sn_model=latest or "",
                         events=tuple(Event(d, label, tuple(o for o in obs if o) if all(obs) else ())
                                      for (d, label), obs in events.items()))
