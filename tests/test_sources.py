"""Configured sources: settings checks, a SQL warehouse (SQLite and PostgreSQL), a folder, and `obsession pull`."""
from __future__ import annotations

import os
import time
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from data_sources.pull import pull_all
from data_sources.sources import parse_sources
from tracker.config import parse_config
from tracker.errors import ConfigError

TODAY = date(2026, 1, 5)
BASE = """
[tracker]
city = "Testville"
[obsessions.cla]
title = "Children looked after"
baseline_week = "2020-01-06"
[obsessions.absence]
title = "Absence"
unit = "percent"
baseline_week = "2020-01-06"
[areas]
clusters = ["North", "South"]
"""


def _config(sources: str, path: str = "test.toml"):
    return parse_config(BASE + sources, path)


@pytest.mark.parametrize("sources, fragment", [
    ('[[sources]]\nname = "w"\nkind = "sq"\n', "sources[0].kind: 'sq' is not a kind of source; did you mean \"sql\"?"),
    ('[[sources]]\nkind = "sql"\n', "sources[0].name: is required"),
    ('[[sources]]\nname = "w"\nkind = "sql"\nurl = "postgresql://u:pw@h/db"\nquery = "select 1"\n',
     "sources[0].url: secrets never go in the configuration file"),
    ('[[sources]]\nname = "w"\nkind = "sql"\nurl_env = "postgresql://u@h/db"\nquery = "select 1"\n',
     "sources[0].url_env: \"postgresql://u@h/db\" is not the name of an environment variable"),
    ('[[sources]]\nname = "w"\nkind = "sql"\nurl_env = "W"\n', "sources[0].query: is required"),
    ('[[sources]]\nname = "w"\nkind = "sql"\nurl_env = "W"\nquery = "q"\nqeury = "q"\n',
     'sources[0].qeury: unknown key for a sql source; did you mean "query"?'),
    ('[[sources]]\nname = "w"\nkind = "sql"\nurl_env = "W"\nquery = "q"\n[sources.columns]\nvalu = "x"\n',
     'sources[0].columns.valu: not a long-format column; did you mean "value"?'),
    ('[[sources]]\nname = "f"\nkind = "folder"\npath = "x"\n[[sources]]\nname = "F"\nkind = "folder"\npath = "y"\n',
     'sources[1].name: "F" names two sources'),
    ('[[sources]]\nname = "f"\nkind = "folder"\npath = "x"\nformat = "wide"\n',
     'sources[0].format: "wide" is not a format'),
    ('[[sources]]\nname = "f"\nkind = "folder"\npath = "x"\nla = "Leeds"\n', 'sources[0].la: is only for format'),
])
def test_bad_source_settings_name_the_key(sources, fragment):
    with pytest.raises(ConfigError) as err:
        parse_sources(_config(sources))
    assert fragment in str(err.value)
    assert err.value.exit_code == 2


WAREHOUSE_ROWS = [  # (week_start, indicator, cluster_name, figure, sessions_missed, sessions_possible)
    (date(2020, 1, 6), "cla", "Testville", 70, None, None),
    (date(2020, 1, 6), "cla", "North", 40, None, None),
    (date(2020, 1, 6), "absence", "South", 5.0, 25, 500),
    (date(2020, 1, 13), "cla", "Testville", 69, None, None),
]


def _warehouse(url: str) -> None:
    u = make_url(url)
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    engine = create_engine(u)
    with engine.begin() as c:
        c.execute(text("CREATE TABLE warehouse_figures (week_start DATE, indicator VARCHAR(40), "
                       "cluster_name VARCHAR(80), figure NUMERIC(10, 2), sessions_missed INTEGER, "
                       "sessions_possible INTEGER)"))
        c.execute(text("INSERT INTO warehouse_figures VALUES (:w, :i, :c, :f, :n, :d)"),
                  [dict(zip("wicfnd", r)) for r in WAREHOUSE_ROWS])
    engine.dispose()


SQL_SOURCE = """
[[sources]]
name = "warehouse"
kind = "sql"
url_env = "WAREHOUSE_URL"
query = "SELECT week_start, indicator AS obsession, cluster_name, figure, sessions_missed, sessions_possible FROM warehouse_figures"
[sources.columns]
week_commencing = "week_start"
area = "cluster_name"
value = "figure"
numerator = "sessions_missed"
denominator = "sessions_possible"
"""


def test_sql_source_pulls_from_a_real_database(database_url, store):
    _warehouse(database_url)
    config = _config(SQL_SOURCE)
    ctx = SimpleNamespace(config=config, store=store, _figures="stale")
    (result,) = pull_all(ctx, today=TODAY, env={"WAREHOUSE_URL": database_url})
    assert result.ok, result.message
    assert (result.summary.new, result.summary.revised) == (4, 0)
    assert ctx._figures == "stale"    # a lower layer leaves the caller's cache alone: the caller refreshes
    stored = {(r.week_commencing.date(), r.obsession, r.area): (r.value, r.numerator, r.denominator)
              for r in store.figures_frame().itertuples(index=False)}
    expected = {(w, o, a): (float(v), None if n is None else float(n), None if d is None else float(d))
                for w, o, a, v, n, d in WAREHOUSE_ROWS}
    clean = {k: tuple(None if x != x else x for x in v) for k, v in stored.items()}
    assert clean == expected
    (again,) = pull_all(ctx, today=TODAY, env={"WAREHOUSE_URL": database_url})
    assert (again.summary.new, again.summary.unchanged) == (0, 4)
    assert store.revisions() == []


def test_a_failing_source_is_named_and_the_others_still_run(tmp_path, store):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "week.csv").write_text("week_commencing,obsession,area,value\n2020-01-06,cla,North,40\n")
    config = _config(SQL_SOURCE + f'\n[[sources]]\nname = "analyst"\nkind = "folder"\npath = "{folder}"\n')
    ctx = SimpleNamespace(config=config, store=store, _figures=None)
    first, second = pull_all(ctx, today=TODAY, env={})
    assert (first.name, first.ok) == ("warehouse", False)
    assert "WAREHOUSE_URL is not set" in first.message
    assert (second.name, second.ok, second.summary.new) == ("analyst", True, 1)
    assert store.count() == 1


def test_a_password_never_appears_in_a_failure(store):
    config = _config(SQL_SOURCE)
    ctx = SimpleNamespace(config=config, store=store, _figures=None)
    url = "postgresql://tracker:s3cretpw@127.0.0.1:1/warehouse?connect_timeout=2"
    (result,) = pull_all(ctx, today=TODAY, env={"WAREHOUSE_URL": url})
    assert not result.ok
    assert "s3cretpw" not in result.describe()
    assert "warehouse" in result.describe()


def test_folder_source_takes_the_newest_file_relative_to_the_configuration(tmp_path, store):
    folder = tmp_path / "exports"
    folder.mkdir()
    header = "week_commencing,obsession,area,value\n"
    old, new, lock = folder / "week1.csv", folder / "week2.csv", folder / "~$week3.csv"
    old.write_text(header + "2020-01-06,cla,North,40\n")
    new.write_text(header + "2020-01-13,cla,North,39\n")
    lock.write_text("not a csv")
    now = time.time()
    os.utime(old, (now - 100, now - 100))
    os.utime(new, (now - 50, now - 50))
    os.utime(lock, (now, now))
    toml = tmp_path / "obsession.toml"
    toml.write_text(BASE + '[[sources]]\nname = "analyst"\nkind = "folder"\npath = "exports"\n')
    from tracker.config import load_config

    config = load_config(toml)
    (result,) = pull_all(SimpleNamespace(config=config, store=store, _figures=None), today=TODAY, env={})
    assert result.ok, result.message
    assert "week2.csv" in result.notes[0]
    weeks = set(store.figures_frame()["week_commencing"].dt.date)
    assert weeks == {date(2020, 1, 13)}


def test_folder_with_no_matching_file(tmp_path, store):
    (tmp_path / "empty").mkdir()
    config = _config(f'[[sources]]\nname = "analyst"\nkind = "folder"\npath = "{tmp_path / "empty"}"\npattern = "*.xlsx"\n')
    (result,) = pull_all(SimpleNamespace(config=config, store=store, _figures=None), today=TODAY, env={})
    assert not result.ok and 'no file matching "*.xlsx"' in result.message


def test_pull_command(tmp_path, demo_env, monkeypatch, capsys):
    from bot.cli import main

    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "w.csv").write_text("week_commencing,obsession,area,value\n2020-01-06,cla,South,30\n")
    toml = tmp_path / "obsession.toml"
    toml.write_text(BASE + SQL_SOURCE + f'\n[[sources]]\nname = "analyst"\nkind = "folder"\npath = "{folder}"\n')
    monkeypatch.setenv("OBSESSION_CONFIG", str(toml))
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    assert main(["pull"]) == 1
    out = capsys.readouterr().out
    assert "warehouse (sql): FAILED" in out
    assert "analyst (folder): 1 new, 0 revised, 0 unchanged" in out
    assert "1 of 2 source(s) failed: warehouse" in out
    db = tmp_path / "warehouse.db"
    monkeypatch.setenv("WAREHOUSE_URL", f"sqlite:///{db}")
    _warehouse(f"sqlite:///{db}")
    assert main(["pull"]) == 0
    out = capsys.readouterr().out
    assert "warehouse (sql): 4 new" in out and "analyst (folder): 0 new, 0 revised, 1 unchanged" in out


def test_pull_without_sources(demo_env, capsys):
    from bot.cli import main

    assert main(["pull"]) == 0
    assert "No data sources are configured" in capsys.readouterr().out
