"""The store on SQLite (and PostgreSQL when TEST_DATABASE_URL is set)."""
from datetime import date

import pandas as pd
import pytest

from tracker.figures import COLUMNS


def _frame(rows):
    return pd.DataFrame(rows, columns=COLUMNS)


def test_save_read_and_reimport(store):
    f = _frame([(date(2020, 1, 6), "cla", "Leeds", 100, None, None),
                (date(2020, 1, 6), "absence", "Leeds", 5.0, 50, 1000),
                (date(2020, 1, 13), "cla", "Leeds", 98, None, None)])
    s = store.save_figures(f, "a.csv")
    assert (s.new, s.revised, s.unchanged) == (3, 0, 0)
    assert s.weeks == [date(2020, 1, 6), date(2020, 1, 13)]
    again = store.save_figures(f, "a.csv")
    assert (again.new, again.revised, again.unchanged) == (0, 0, 3)
    back = store.figures_frame().sort_values(["week_commencing", "obsession"]).reset_index(drop=True)
    assert back["value"].tolist() == [5.0, 100.0, 98.0]
    assert back["numerator"].tolist()[0] == 50 and pd.isna(back["numerator"].tolist()[1])
    assert store.count() == 3


def test_revision_replaces_and_is_kept(store):
    store.save_figures(_frame([(date(2020, 1, 6), "cla", "Leeds", 100, None, None)]), "first.csv")
    s = store.save_figures(_frame([(date(2020, 1, 6), "cla", "Leeds", 104, None, None),
                                   (date(2020, 1, 13), "cla", "Leeds", 99, None, None)]), "second.csv")
    assert (s.new, s.revised, s.unchanged) == (1, 1, 0)
    assert "1 new, 1 revised, 0 unchanged" in s.describe()
    rev = store.revisions()
    assert len(rev) == 1
    assert (rev[0]["old_value"], rev[0]["new_value"], rev[0]["old_source"], rev[0]["new_source"]) == (100, 104, "first.csv", "second.csv")
    table = store.figure_table()
    assert table.series("cla", "Leeds").values.tolist() == [104.0, 99.0]


def test_failed_save_leaves_store_unchanged(store):
    store.save_figures(_frame([(date(2020, 1, 6), "cla", "Leeds", 100, None, None)]), "first.csv")
    bad = _frame([(date(2020, 1, 13), "cla", "Leeds", 1, None, None),
                  (date(2020, 1, 20), "cla", "Leeds", None, None, None)])   # NULL value violates NOT NULL
    with pytest.raises(ValueError, match="no value for cla, Leeds"):
        store.save_figures(bad, "bad.csv")
    assert store.count() == 1


def test_demo_round_trip(store, demo_config):
    from tracker.arithmetic import build_tracker
    from tracker.demo_data import demo_frame

    frame = demo_frame(demo_config, date(2015, 8, 1))
    store.save_figures(frame, "demo")
    t = build_tracker(store.figure_table(), demo_config, date(2015, 7, 20))
    assert t.row("cla").latest == 1247 and round(t.row("absence_primary").latest, 1) == 4.4


def test_creating_tables_from_several_processes_at_once_is_safe(database_url):
    """Two processes starting together both create the tables; neither may fail."""
    import subprocess
    import sys

    code = ("import sys; from tracker.store import Store; from bot.ledger import Ledger; "
            "Store(sys.argv[1]).create(); Ledger.open(sys.argv[1]).close()")
    procs = [subprocess.Popen([sys.executable, "-c", code, database_url], stderr=subprocess.PIPE) for _ in range(4)]
    errs = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errs
