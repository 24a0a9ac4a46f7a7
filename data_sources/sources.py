"""Configured data sources (`[[sources]]` in the TOML): checked settings and one small interface.

A source has a `name`, a `kind` and `load(config, env, today) -> Loaded`: it reads its figures
and checks them exactly like an imported file, writing nothing. `data_sources.pull` saves them.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Mapping, Protocol

from tracker.config import Config
from tracker.errors import ConfigError, nearest

from .importing import FORMATS, Loaded

KINDS = ("sql", "folder")
_KEYS = {
    "sql": {"name", "kind", "url_env", "query", "columns"},
    "folder": {"name", "kind", "path", "pattern", "format", "la", "sheet", "obsession", "from"},
}
_SECRET_KEYS = {"url", "database_url", "password", "dsn", "connection_string"}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LONG_COLUMNS = ("week_commencing", "obsession", "area", "value", "numerator", "denominator")


class Source(Protocol):
    """One place figures come from."""

    name: str
    kind: str

    def load(self, config: Config, env: Mapping[str, str], today: date | None = None) -> Loaded:
        """Read and check the figures (ValidationFailed / InputError / ConfigError when they are wrong)."""


def _fail(config: Config, key: str, problem: str) -> ConfigError:
    return ConfigError(f"{config.path}: {key}: {problem}")


def _string(config, raw: dict, key: str, prefix: str, default=None, required=True) -> str | None:
    v = raw.get(key, default)
    if v is None:
        if required:
            raise _fail(config, prefix + key, "is required; add it as a quoted string")
        return None
    if not isinstance(v, str) or not v.strip():
        raise _fail(config, prefix + key, f"must be a non-empty string, not {v!r}")
    return v.strip()


def _from_date(config: Config, raw: dict, prefix: str, fmt: str) -> date | None:
    """A folder source's `from` (ssda903: the first Monday counted, as --from): a TOML date or "YYYY-MM-DD"."""
    from datetime import datetime

    v = raw.get("from")
    if v is None:
        return None
    if fmt != "ssda903":
        raise _fail(config, prefix + "from", 'is only for format = "ssda903" (the start of the period the '
                    "episodes extract covers)")
    if isinstance(v, str):
        try:
            v = date.fromisoformat(v.strip())
        except ValueError:
            v = None
    if not isinstance(v, date) or isinstance(v, datetime):
        raise _fail(config, prefix + "from", "must be a date like 2024-04-01 (the start of the period the "
                    "extract covers), not " + repr(raw.get("from")))
    return v


def parse_sources(config: Config) -> list[Source]:
    """The configured sources, checked; ConfigError naming the key (e.g. sources[0].kind) when one is wrong."""
    from .folder_source import FolderSource
    from .sql_source import SqlSource

    out: list[Source] = []
    names: set[str] = set()
    for i, raw in enumerate(config.sources):
        p = f"sources[{i}]."
        if not isinstance(raw, dict):
            raise _fail(config, f"sources[{i}]", "must be a table: [[sources]]")
        name = _string(config, raw, "name", p)
        if name.lower() in names:
            raise _fail(config, p + "name", f'"{name}" names two sources; each source needs its own name')
        names.add(name.lower())
        kind = raw.get("kind")
        if kind not in KINDS:
            guess = nearest(str(kind), KINDS) if kind else None
            hint = f'; did you mean "{guess}"?' if guess else ""
            raise _fail(config, p + "kind", f"{kind!r} is not a kind of source{hint} Use \"sql\" or \"folder\"")
        for k in raw:
            if k in _SECRET_KEYS:
                raise _fail(config, p + k, "secrets never go in the configuration file; put the URL in an "
                            "environment variable and give its name as url_env")
            if k not in _KEYS[kind]:
                guess = nearest(k, _KEYS[kind])
                hint = f'; did you mean "{guess}"?' if guess else f"; allowed: {', '.join(sorted(_KEYS[kind]))}"
                raise _fail(config, p + k, f"unknown key for a {kind} source{hint}")
        if kind == "sql":
            env = _string(config, raw, "url_env", p)
            if not _ENV_NAME.fullmatch(env):
                raise _fail(config, p + "url_env", f'"{env}" is not the name of an environment variable; give the '
                            'variable\'s name (like "WAREHOUSE_URL"), never the URL itself')
            query = _string(config, raw, "query", p)
            columns = raw.get("columns", {})
            if not isinstance(columns, dict) or not all(isinstance(v, str) and v.strip() for v in columns.values()):
                raise _fail(config, p + "columns", 'must be a table like { value = "figure", area = "cluster_name" }')
            for k in columns:
                if k not in LONG_COLUMNS:
                    guess = nearest(k, LONG_COLUMNS)
                    hint = f'; did you mean "{guess}"?' if guess else ""
                    raise _fail(config, f"{p}columns.{k}", f"not a long-format column{hint} "
                                f"The columns are {', '.join(LONG_COLUMNS)}")
            out.append(SqlSource(name=name, url_env=env, query=query,
                                 columns={k: v.strip() for k, v in columns.items()}, key=f"sources[{i}]"))
        else:
            path = _string(config, raw, "path", p)
            pattern = _string(config, raw, "pattern", p, default="*.csv")
            fmt = _string(config, raw, "format", p, default="long")
            if fmt not in FORMATS:
                guess = nearest(fmt, FORMATS)
                hint = f'did you mean "{guess}"?' if guess else f"use one of {', '.join(FORMATS)}"
                raise _fail(config, p + "format", f'"{fmt}" is not a format; {hint}')
            la = _string(config, raw, "la", p, required=False)
            if la and fmt != "dfe-attendance":
                raise _fail(config, p + "la", 'is only for format = "dfe-attendance"')
            sheet = _string(config, raw, "sheet", p, required=False)
            obsession = _string(config, raw, "obsession", p, required=False)
            if obsession and fmt not in ("ssda903", "nccis"):
                raise _fail(config, p + "obsession", 'is only for format = "ssda903" or "nccis" (which obsession '
                            "the counts go to)")
            start = _from_date(config, raw, p, fmt)
            out.append(FolderSource(name=name, path=path, pattern=pattern, format=fmt, la=la, sheet=sheet,
                                    obsession=obsession, start=start,
                                    config_path=config.path, key=f"sources[{i}]"))
    return out
