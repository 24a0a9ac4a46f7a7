"""The command line under a bad or secret-bearing DATABASE_URL: one line, no traceback, the password masked."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "NotReallyThePassword42"


def obsession(args: list[str], cwd: Path, database_url: str, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), "OUTBOX_DIR": str(cwd / "out")}
    env.pop("OBSESSION_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize("command", [["render"], ["check"], ["serve", "--port", "1"]])
def test_an_unreachable_database_is_one_line_without_traceback_or_password(command, tmp_path):
    p = obsession(command, tmp_path, f"postgresql://tracker:{PASSWORD}@127.0.0.1:1/tracker")
    assert p.returncode == 1
    lines = [ln for ln in p.stderr.splitlines() if ln.strip() and not ln.startswith("obsession serve: http")]
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr and PASSWORD not in p.stderr + p.stdout
    assert "tracker:***@127.0.0.1:1/tracker" in lines[0] and "database" in lines[0]


def test_mask_url_masks_every_password():
    from tracker.settings import mask_url

    assert mask_url("postgresql://u:pw@h/db and mssql+pyodbc://a:b%40c@dwh/x") == \
        "postgresql://u:***@h/db and mssql+pyodbc://a:***@dwh/x"
    assert mask_url("sqlite:///data/obsessions.db") == "sqlite:///data/obsessions.db"


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_demo_prints_the_database_url_with_its_password_masked(tmp_path):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        # The test server trusts loopback, so any password is accepted: the point is that it is never printed.
        url = base.set(password=PASSWORD).update_query_dict({"options": f"-csearch_path={schema}"})
        p = obsession(["demo"], tmp_path, url.render_as_string(hide_password=False))
        assert p.returncode == 0, p.stderr[-2000:]
        assert PASSWORD not in p.stdout + p.stderr
        assert ":***@" in p.stdout.splitlines()[0]
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
