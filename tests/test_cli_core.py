"""The core commands end to end: demo (twice), render, check, unknown names."""
import json

import pytest

from bot.cli import main


@pytest.fixture
def seeded(demo_env, monkeypatch):
    """The demo store seeded with figures up to a fixed week (fast: no outbox run)."""
    from datetime import date

    from tracker.config import load_config
    from tracker.demo_data import demo_frame
    from tracker.store import Store

    s = Store(demo_env["DATABASE_URL"])
    s.create()
    s.save_figures(demo_frame(load_config(None), date(2015, 9, 14)), "demo")
    return demo_env


def test_render_text_and_json(seeded, capsys):
    assert main(["render", "--week", "2015-07-22"]) == 0
    assert "1,247" in capsys.readouterr().out
    assert main(["render", "--week", "2015-07-20", "--format", "json", "--area", "seacroft manston"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["area"] == "Seacroft Manston" and d["week_commencing"] == "2015-07-20"


def test_render_breakdown(seeded, capsys):
    assert main(["render", "--week", "2015-07-20", "--obsession", "lac", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["obsession"] == "cla" and len(d["clusters"]) == 25 and d["city"]["latest"] == 1247


@pytest.mark.parametrize("argv, fragment", [
    (["render", "--area", "Seacroft Mansotn"], 'did you mean "Seacroft Manston"'),
    (["render", "--obsession", "neat"], 'did you mean "neet"'),
    (["render", "--week", "2031-01-01"], "figures exist for 2009-04-06 to 2015-09-14"),
])
def test_unknown_names_exit_2(seeded, capsys, argv, fragment):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Known:" in err or "figures exist" in err


def test_check(seeded, capsys):
    assert main(["check", "--week", "2015-07-20"]) == 0
    assert "every obsession has a figure" in capsys.readouterr().out
    # 3 August 2015 is in the summer holiday (school figures resume in September): absence is excused.
    assert main(["check", "--week", "2015-08-03"]) == 0
    out = capsys.readouterr().out
    assert "excused" in out


def test_check_missing_exits_3(demo_env, capsys):
    from datetime import date

    import pandas as pd

    from tracker.figures import COLUMNS
    from tracker.store import Store

    s = Store(demo_env["DATABASE_URL"])
    s.create()
    s.save_figures(pd.DataFrame([(date(2020, 1, 6), "cla", "Leeds", 1000, None, None)], columns=COLUMNS), "x")
    assert main(["check"]) == 3
    out = capsys.readouterr().out
    assert "missing: neet" in out
    # No school figures at all that week: absence is excused as a holiday, and said so.
    assert "missing: absence_primary" not in out and "absence_primary: no figure" in out and "excused" in out


def test_no_figures_yet(demo_env, capsys):
    assert main(["render"]) == 2
    assert "no figures in the store yet" in capsys.readouterr().err


def test_help_is_quick_to_import():
    import subprocess
    import sys

    code = "import sys, bot.cli; print(sorted(m for m in ('pandas', 'matplotlib', 'sqlalchemy', 'slack_sdk') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip()
    assert out == "[]"
