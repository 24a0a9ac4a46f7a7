"""A source that reads figures from any SQLAlchemy database with a configured query (the council's warehouse).

The URL comes from an environment variable named in the configuration, never from the file; it
is never printed. The query's columns are mapped to the long format and checked like a file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Mapping

import pandas as pd

from tracker.config import Config
from tracker.errors import ConfigError, InputError, ValidationFailed

from .importing import Loaded
from .reading import RawTable, _cell_text
from .validate import OPTIONAL, REQUIRED, check_long, merge_checked


def _engine(url: str, key: str):
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    try:
        u = make_url(url)
    except Exception:
        raise ConfigError(f"{key}.url_env: the variable's value is not a SQLAlchemy URL "
                          "(like postgresql://user@host/db or mssql+pyodbc://...)") from None
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    try:
        return create_engine(u), u.password
    except Exception as e:   # e.g. a driver that is not installed
        raise ConfigError(f"{key}.url_env: cannot use the database URL's driver ({type(e).__name__}: "
                          f"{_first_line(e)}); install the driver for {u.drivername}") from None


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _redact(text: str, secrets) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


@dataclass
class SqlSource:
    """Figures from a query against a database named by an environment variable."""

    name: str
    url_env: str
    query: str
    columns: dict[str, str] = field(default_factory=dict)   # long-format column -> query column
    key: str = "sources[?]"
    kind: str = "sql"

    def fetch(self, env: Mapping[str, str]) -> tuple[list[str], list[tuple]]:
        """Run the query: (column names, rows)."""
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        url = env.get(self.url_env, "")
        if not url:
            raise ConfigError(f"{self.key}.url_env: the environment variable {self.url_env} is not set; set it "
                              f"to the SQLAlchemy URL of the {self.name} database (in the environment or .env)")
        engine, password = _engine(url, self.key)
        try:
            with engine.connect() as conn:
                result = conn.execute(text(self.query))
                cols = [str(c) for c in result.keys()]
                rows = [tuple(r) for r in result.fetchall()]
        except SQLAlchemyError as e:
            detail = _redact(_first_line(getattr(e, "orig", None) or e), (password, url))
            raise InputError(f"source {self.name}: the query failed: {detail}; check {self.key}.query and "
                             "that the database is reachable") from None
        finally:
            engine.dispose()
        return cols, rows

    def table(self, cols: list[str], rows: list[tuple]) -> RawTable:
        """The query's result as a RawTable in the long format, by the configured mapping or by name."""
        label = f"source {self.name}"
        if not rows:
            raise InputError(f"{label}: the query returned no rows; check {self.key}.query (its WHERE clause, "
                             "and that the figures are there)")
        by_lower = {c.lower(): j for j, c in enumerate(cols)}
        picked, problems = {}, []
        for long_col in (*REQUIRED, *OPTIONAL):
            want = self.columns.get(long_col, long_col)
            j = by_lower.get(want.lower())
            if j is None:
                if long_col in REQUIRED or long_col in self.columns:
                    how = (f'{self.key}.columns.{long_col} names "{want}"' if long_col in self.columns
                           else f'map one with {self.key}.columns.{long_col} = "..." or alias it in SQL (AS {long_col})')
                    problems.append(f'{label}: the query returned no column "{want}" for {long_col}; it returned '
                                    f"{', '.join(cols)}; {how}")
                continue
            picked[long_col] = j
        if problems:
            raise ValidationFailed(problems, label)
        frame = pd.DataFrame({c: [_cell_text(r[j]) for r in rows] for c, j in picked.items()})
        names = {c: cols[j] for c, j in picked.items()}
        return RawTable(frame=frame, label=label, headers=names,
                        locate=lambda i, c: f"{label}, row {i + 1}, column {names.get(c, c)}",
                        row_label=lambda i: f"row {i + 1}")

    def load(self, config: Config, env: Mapping[str, str], today: date | None = None) -> Loaded:
        """Run the query and check every row like a file."""
        cols, rows = self.fetch(env)
        checked = check_long(self.table(cols, rows), config, today=today)
        frame, problems, notes = merge_checked([checked])
        if problems:
            raise ValidationFailed(problems, f"source {self.name}")
        return Loaded(frame, f"sql: {self.name}", notes)
