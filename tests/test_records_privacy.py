"""Record-level files are counted and let go: no identifier, postcode, date of birth or URN is kept or shown.

Files with distinctive identifiers and postcodes go through every path (imports of each format,
CSV, XLSX and XML, folder sources, refusals of each kind, then every text output) and the database
file, the captured logs, standard output and error, and every output file are searched for them.
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from bot.cli import main

CHILDREN = [f"QZ77{i}XK" for i in range(6)]
YOUNG = [f"YPQ{i}93Z" for i in range(6)]
POSTCODES = ["QX1 7ZW", "QX2 8ZV", "QX3 9ZU", "QY9 4WW"]      # QY9 is in no cluster
URNS = ["918273", "918274", "918299"]                           # 918299 is in no cluster
BIRTH = ("17/02/1987", "1987-02-17")
CONFIG = """
[tracker]
city = "Testville"
suppress_below = 0
[obsessions.cla]
title = "Children looked after"
unit = "count"
baseline_week = "2024-01-01"
[obsessions.neet]
title = "NEET"
unit = "percent"
baseline_week = "2024-01-01"
[obsessions.neet_not_known]
title = "Not known"
unit = "count"
baseline_week = "2024-01-01"
[obsessions.absence_primary]
title = "Primary absence"
unit = "percent"
baseline_week = "2024-01-01"
[obsessions.absence_secondary]
title = "Secondary absence"
unit = "percent"
baseline_week = "2024-01-01"
[areas]
clusters = ["North", "South", "East"]
[lookups]
postcodes = "postcodes.csv"
schools = "schools.csv"
"""
EPISODES_HEAD = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n"


def _needles() -> list[str]:
    out = [*CHILDREN, *YOUNG, *URNS, *BIRTH]
    for p in POSTCODES:
        out += [p, p.replace(" ", "")]
    return out


def _episodes(bad: str = "") -> str:
    rows = []
    for i, c in enumerate(CHILDREN):
        pc = POSTCODES[i % len(POSTCODES)]
        rows.append(f"{c},0{1 + i}/01/2024,S,C2,N1,U1,PR1,,,,{pc},{POSTCODES[0]},{URNS[0]}")
    rows.append(f"{CHILDREN[0]},05/02/2024,P,C2,N1,U1,PR1,,,,{POSTCODES[1]},,")
    if bad == "child":
        rows.append(f"{CHILDREN[1]}{CHILDREN[2]},01/01/2024,S,C2,N1,U1,PR1,,,,{POSTCODES[0]},,")
    elif bad == "ls":
        rows.append(f"{CHILDREN[1]},01/01/2024,S,{CHILDREN[3]},N1,U1,PR1,,,,{POSTCODES[0]},,")
    elif bad == "dates":
        rows.append(f"{CHILDREN[1]},{POSTCODES[2]},S,C2,N1,U1,PR1,{CHILDREN[4]},E11,,{POSTCODES[0]},,")
    elif bad == "before":
        rows.append(f"{CHILDREN[1]},05/01/2024,S,C2,N1,U1,PR1,01/01/2024,E11,,{POSTCODES[0]},,")
    return EPISODES_HEAD + "\n".join(rows) + "\n"


def _episodes_xml(bad: bool = False) -> str:
    parts = ["<?xml version='1.0'?>", "<EXPSSDA903>"]
    for i, c in enumerate(CHILDREN):
        parts.append(f"<CHILD><HEADER><CHILDID>{c}</CHILDID><SEX>1</SEX><DOB>{BIRTH[0]}</DOB><UPN>A{c}</UPN></HEADER>")
        ls = c if bad and i == 2 else "C2"
        parts.append(f"<EPISODE><DECOM>0{1 + i}/01/2024</DECOM><RNE>S</RNE><LS>{ls}</LS><CIN>N1</CIN><PL>U1</PL>"
                     f"<DEC></DEC><REC></REC><HOME_POST>{POSTCODES[i % 4]}</HOME_POST><URN>{URNS[1]}</URN></EPISODE>")
        parts.append("</CHILD>")
    parts.append("</EXPSSDA903>")
    return "\n".join(parts)


def _cohort(bad: str = "") -> str:
    codes = ["540", "110", "810", "619", "710", "130"]
    rows = [f"{y},{16 + i % 2},{codes[i]},{POSTCODES[i % 4]},2024-03-04" for i, y in enumerate(YOUNG)]
    if bad == "twice":
        rows.append(f"{YOUNG[0]},16,540,{POSTCODES[0]},2024-03-04")
    elif bad == "code":
        rows.append(f"{YOUNG[0]}X,16,{YOUNG[1]},{POSTCODES[0]},2024-03-04")
    elif bad == "age":
        rows.append(f"{YOUNG[0]}X,{POSTCODES[3]},540,{POSTCODES[0]},2024-03-04")
    return "young_person_id,academic_age,activity_code,postcode,snapshot_date\n" + "\n".join(rows) + "\n"


def _sessions(bad: str = "") -> str:
    rows = [f"2024-03-04,{u},{'primary' if k < 2 else 'secondary'},{1000 + k},{40 + k}" for k, u in enumerate(URNS)]
    if bad == "above":
        rows.append(f"2024-03-04,{URNS[0]},secondary,10,20")
    elif bad == "phase":
        rows.append(f"2024-03-04,{URNS[1]},{CHILDREN[0]},10,2")
    elif bad == "twice":
        rows.append(f"2024-03-04,{URNS[1]},primary,10,2")
    return "week_commencing,urn,phase,possible_sessions,absence_sessions\n" + "\n".join(rows) + "\n"


def _xlsx(path: Path, text: str) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    for line in text.strip().splitlines():
        wb.active.append(line.split(","))
    wb.save(path)


@pytest.fixture
def setup(demo_env, tmp_path, monkeypatch):
    (tmp_path / "postcodes.csv").write_text("postcode,cluster\nQX1,North\nQX2 8,South\nQX3,East\n")
    (tmp_path / "schools.csv").write_text(f"urn,cluster\n{URNS[0]},North\n{URNS[1]},South\n")
    folders = {}
    for fmt in ("ssda903", "nccis", "school-sessions"):
        folders[fmt] = tmp_path / f"drop-{fmt}"
        folders[fmt].mkdir()
    sources = "".join(f'\n[[sources]]\nname = "{fmt}"\nkind = "folder"\npath = "drop-{fmt}"\nformat = "{fmt}"\n'
                      for fmt in folders)
    cfg = tmp_path / "tracker.toml"
    cfg.write_text(CONFIG + sources)
    monkeypatch.setenv("OBSESSION_CONFIG", str(cfg))
    return tmp_path, folders


def test_no_identifier_postcode_birth_date_or_urn_anywhere(setup, capsys, caplog):
    tmp, folders = setup
    caplog.set_level(logging.DEBUG)
    outputs: list[str] = []
    files = {
        "episodes.csv": _episodes(), "episodes.xml": _episodes_xml(), "cohort.csv": _cohort(),
        "sessions.csv": _sessions(),
        **{f"bad-episodes-{b}.csv": _episodes(b) for b in ("child", "ls", "dates", "before")},
        "bad-episodes.xml": _episodes_xml(bad=True),
        **{f"bad-cohort-{b}.csv": _cohort(b) for b in ("twice", "code", "age")},
        **{f"bad-sessions-{b}.csv": _sessions(b) for b in ("above", "phase", "twice")},
    }
    for name, text in files.items():
        (tmp / name).write_text(text)
    _xlsx(tmp / "episodes.xlsx", _episodes())
    _xlsx(tmp / "bad-episodes.xlsx", _episodes("ls"))

    def run(argv, code):
        assert main(argv) == code, argv
        out = capsys.readouterr()
        outputs.extend([out.out, out.err])
        return out

    as_of = ["--as-of", "2024-03-04"]
    run(["import", "--format", "ssda903", "episodes.csv", *as_of], 0)
    run(["import", "--format", "ssda903", "episodes.xlsx", *as_of], 0)
    run(["import", "--format", "ssda903", "episodes.xml", *as_of], 0)
    run(["import", "--format", "nccis", "cohort.csv"], 0)
    run(["import", "--format", "school-sessions", "sessions.csv"], 0)
    for b in ("child", "ls", "dates", "before"):
        err = run(["import", "--format", "ssda903", f"bad-episodes-{b}.csv", *as_of], 2).err
        assert "nothing was written" in err
    assert "rule 144" in run(["import", "--format", "ssda903", "bad-episodes.xml", *as_of], 2).err
    assert "rule 144" in run(["import", "--format", "ssda903", "bad-episodes.xlsx", *as_of], 2).err
    for b in ("twice", "code", "age"):
        run(["import", "--format", "nccis", f"bad-cohort-{b}.csv"], 2)
    for b in ("above", "phase", "twice"):
        run(["import", "--format", "school-sessions", f"bad-sessions-{b}.csv"], 2)

    # folder sources: the weekly run's pull, a good file each, then a bad one each
    (folders["ssda903"] / "a.csv").write_text(_episodes())
    (folders["nccis"] / "a.csv").write_text(_cohort())
    (folders["school-sessions"] / "a.csv").write_text(_sessions())
    run(["pull"], 0)
    for fmt, text in (("ssda903", _episodes("ls")), ("nccis", _cohort("twice")), ("school-sessions", _sessions("phase"))):
        bad = folders[fmt] / "b.csv"
        bad.write_text(text)
        later = time.time() + 60
        os.utime(bad, (later, later))
    pulled = run(["pull"], 1)
    assert pulled.out.count("FAILED") + pulled.err.count("FAILED") == 3

    # every output the figures reach
    for area in ("Testville", "North", "South"):
        for fmt in ("text", "json", "slack", "teams"):
            run(["render", "--area", area, "--format", fmt], 0)
        html = tmp / f"tracker-{area}.html"
        run(["render", "--area", area, "--format", "html", "-o", str(html)], 0)
        outputs.append(html.read_text())
    for obsession in ("cla", "neet", "absence_primary"):
        run(["render", "--obsession", obsession, "--format", "json"], 0)
    run(["ask", "cla"], 0)

    logs = "\n".join(r.getMessage() for r in caplog.records)
    db = b"".join(p.read_bytes() for p in tmp.glob("obsessions.db*"))
    assert len(db) > 0
    text = "\n".join(outputs) + "\n" + logs
    assert "Imported" in text and "Testville" in text
    for needle in _needles():
        assert needle.lower() not in text.lower(), needle
        assert needle.encode() not in db, needle
        assert needle.lower().encode() not in db.lower(), needle
