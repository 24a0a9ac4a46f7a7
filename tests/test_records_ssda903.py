"""SSDA903 episodes into weekly counts of children looked after: worked by hand, and against a day-by-day reference."""
from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from data_sources.importing import import_files, load_files
from data_sources.lookups import Lookups

TODAY = date(2026, 1, 5)
HEADER = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN,LA,YEAR\n"
LOOKUP = "postcode,cluster\nAA1 1AA,North\nAA2,South\nAA3 3,East\nZZ,outside\n"


def _row(child, decom, ls, dec="", rec=None, home=""):
    rec = ("E11" if dec else "") if rec is None else rec
    return f"{child},{decom},S,{ls},N1,U1,PR1,{dec},{rec},,{home},,,999,2020\n"


# Mondays 2020-01-06, 13, 20, 27, 2020-02-03
HAND = [
    _row("C1", "06/01/2020", "C2", "20/01/2020", home="AA1 1AA"),     # starts on a Monday, ends on a Monday: 6, 13
    _row("C2", "2020-01-01", "C2", "13/01/2020", home="AA2 9XY"),     # district only (South); ends on the 13th: 6
    _row("C2", "13/01/2020", "C2", "", home="AA1 1AA"),               # moves home to North: 13 on
    _row("C3", "01/01/2020", "C1", "", home="AA3 3QQ"),               # East, sector match
    _row("C3", "10/01/2020", "C1", "", home="AA1 1AA"),               # overlaps (rule 142): from the 10th North
    _row("C4", "01/01/2020", "V3", "", home="AA1 1AA"),               # short breaks: never counted
    _row("C5", "02/01/2020", "V4", "", home="AA1 1AA"),
    _row("C6", "14/01/2020", "J1", "", home=""),                      # no postcode: city only, from the 20th
    _row("C7", "01/01/2020", "L1", "28/01/2020", rec="", home="ZZ9 9ZZ"),   # outside the city; DEC without REC (148)
]
# (Monday, area) -> children, worked out line by line above
EXPECTED = {
    "2020-01-06": {"Testville": 4, "North": 1, "South": 1, "East": 1},      # C1, C2(South), C3(East till 10th), C7
    "2020-01-13": {"Testville": 4, "North": 3, "South": 0, "East": 0},      # C1, C2(North), C3, C7
    "2020-01-20": {"Testville": 4, "North": 2, "South": 0, "East": 0},      # C2, C3, C6, C7
    "2020-01-27": {"Testville": 4, "North": 2, "South": 0, "East": 0},      # C2, C3, C6, C7
    "2020-02-03": {"Testville": 3, "North": 2, "South": 0, "East": 0},      # C7 left on the 28th
}


def _lookups(tmp_path: Path) -> Lookups:
    p = tmp_path / "postcodes.csv"
    p.write_text(LOOKUP)
    return Lookups(postcodes=p)


def _stored(store) -> dict:
    out: dict = {}
    for r in store.figures_frame().itertuples(index=False):
        out.setdefault(r.week_commencing.date().isoformat(), {})[r.area] = r.value
    return out


def test_hand_worked_file_lands_exactly(tmp_path, store, small_config):
    p = tmp_path / "episodes.csv"
    p.write_text(HEADER + "".join(HAND))
    summary, notes = import_files(store, [p], small_config, fmt="ssda903", today=TODAY,
                                  as_of=date(2020, 2, 3), lookups=_lookups(tmp_path))
    assert _stored(store) == EXPECTED
    assert (summary.new, summary.revised, summary.unchanged) == (20, 0, 0)
    text = "\n".join(notes)
    assert "1 episode(s) start while the child's previous episode is still open (DfE rule 142) (line 6)" in text
    assert "1 episode(s) have only one of DEC and REC (DfE rule 148) (line 10)" in text
    assert "2 episode(s) of short-term breaks (legal status V3, V4) left out" in text
    assert "(1 no postcode, 1 outside the city)" in text
    again, _ = import_files(store, [p], small_config, fmt="ssda903", today=TODAY, as_of=date(2020, 2, 3),
                            lookups=_lookups(tmp_path))
    assert (again.new, again.revised, again.unchanged) == (0, 0, 20)


def test_from_and_default_as_of(tmp_path, small_config):
    p = tmp_path / "episodes.csv"
    p.write_text(HEADER + "".join(HAND))
    loaded = load_files([p], small_config, fmt="ssda903", today=TODAY, start=date(2020, 1, 13),
                        lookups=_lookups(tmp_path))
    weeks = sorted({w.date() for w in loaded.frame["week_commencing"]})
    # --from 13 January; the latest date in the file is DEC 28/01/2020, so the last Monday is the 27th
    assert weeks == [date(2020, 1, 13), date(2020, 1, 20), date(2020, 1, 27)]


def test_without_a_lookup_the_city_only_and_said_so(tmp_path, store, small_config):
    p = tmp_path / "episodes.csv"
    p.write_text(HEADER + "".join(HAND))
    _, notes = import_files(store, [p], small_config, fmt="ssda903", today=TODAY, as_of=date(2020, 2, 3))
    got = _stored(store)
    assert {w: v for w, v in got.items()} == {w: {"Testville": e["Testville"]} for w, e in EXPECTED.items()}
    assert any("no [lookups] postcodes" in n for n in notes)


def test_xlsx_and_xml_give_the_same_counts(tmp_path, small_config):
    import csv
    import io

    import openpyxl

    rows = list(csv.reader(io.StringIO(HEADER + "".join(HAND))))
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    x = tmp_path / "episodes.xlsx"
    wb.save(x)
    xml = ['<?xml version="1.0" encoding="utf-8"?>', "<EXPSSDA903>"]
    head = rows[0]
    by_child: dict = {}
    for r in rows[1:]:
        by_child.setdefault(r[0], []).append(dict(zip(head, r)))
    for child, eps in by_child.items():
        xml += ["<CHILD>", f"<HEADER><CHILDID>{child}</CHILDID><SEX>1</SEX></HEADER>"]
        for e in eps:
            xml.append("<EPISODE>" + "".join(f"<{'PL' if k == 'PLACE' else k}>{v}</{'PL' if k == 'PLACE' else k}>"
                                             for k, v in e.items() if k not in ("CHILD", "LA", "YEAR")) + "</EPISODE>")
        xml.append("</CHILD>")
    xml.append("</EXPSSDA903>")
    m = tmp_path / "episodes.txt"    # read by its content, whatever the name
    m.write_text("\n".join(xml))
    c = tmp_path / "episodes.csv"
    c.write_text(HEADER + "".join(HAND))
    frames = [load_files([p], small_config, fmt="ssda903", today=TODAY, as_of=date(2020, 2, 3),
                         lookups=_lookups(tmp_path)).frame.drop(columns="source") for p in (c, x, m)]
    assert frames[0].equals(frames[1]) and frames[0].equals(frames[2])


def test_xml_problem_names_its_line(tmp_path, small_config):
    from tracker.errors import ValidationFailed

    m = tmp_path / "return.xml"
    m.write_text("<EXPSSDA903>\n<CHILD><HEADER><CHILDID>C1</CHILDID></HEADER>\n"
                 "<EPISODE><DECOM>2020-01-01</DECOM><LS>XX</LS><DEC></DEC><REC></REC><HOME_POST></HOME_POST>"
                 "</EPISODE>\n</CHILD></EXPSSDA903>")
    with pytest.raises(ValidationFailed) as err:
        load_files([m], small_config, fmt="ssda903", today=TODAY)
    assert 'return.xml, line 3, element LS: "XX" is not a legal status code (DfE rule 144)' in str(err.value)


def _reference(episodes, mondays, lookup_area):
    """Day-by-day: for each Monday, each child's open episodes, the latest-started one's area."""
    out = {}
    for m in mondays:
        best: dict = {}
        for pos, (child, start, end, ls, home) in enumerate(episodes):
            if ls in ("V3", "V4"):
                continue
            if start <= m and (end is None or end > m):
                if child not in best or (start, pos) >= best[child][0]:
                    best[child] = ((start, pos), home)
        row = {"Testville": len(best), "North": 0, "South": 0, "East": 0}
        for _, home in best.values():
            a = lookup_area(home)
            if a:
                row[a] += 1
        out[m.isoformat()] = row
    return out


def test_generated_file_agrees_with_a_day_by_day_reference(tmp_path, store, small_config):
    rng = random.Random(903)
    homes = ["AA1 1AA", "AA2 5BB", "AA3 3CD", "AA3 4EF", "ZZ1 1ZZ", "", "QQ1 1QQ"]
    area = {"AA1 1AA": "North", "AA2 5BB": "South", "AA3 3CD": "East"}.get
    first = date(2019, 1, 1)
    episodes = []
    for c in range(80):
        day = first + timedelta(days=rng.randrange(0, 500))
        for _ in range(rng.randrange(1, 5)):
            length = rng.choice([0, 1, 6, 7, 8, 13, 14, 40, 120, 300])
            end = None if rng.random() < 0.15 else day + timedelta(days=length)
            episodes.append((f"G{c}", day, end, rng.choice(["C1", "C2", "J2", "L1", "V3", "V4", "E1"]),
                             rng.choice(homes)))
            if end is None:
                break
            day = end + timedelta(days=rng.choice([-3, 0, 0, 0, 5, 30]))   # sometimes overlapping
    text = HEADER + "".join(_row(c, f"{s:%d/%m/%Y}", ls, f"{e:%d/%m/%Y}" if e else "", home=h)
                            for c, s, e, ls, h in episodes)
    p = tmp_path / "generated.csv"
    p.write_text(text)
    as_of = date(2021, 6, 30)
    import_files(store, [p], small_config, fmt="ssda903", today=TODAY, as_of=as_of, lookups=_lookups(tmp_path))
    start = min(s for _, s, _, _, _ in episodes)   # --from defaults to the earliest DECOM
    monday = start + timedelta(days=(7 - start.weekday()) % 7)
    mondays = []
    while monday <= as_of:
        mondays.append(monday)
        monday += timedelta(days=7)
    expected = _reference(episodes, mondays, lambda h: area(h) or ("South" if h.startswith("AA2") else
                                                                    "East" if h.startswith("AA3 3") else None))
    assert _stored(store) == expected


def _folder_config(tmp_path: Path, extra: str = "", fmt: str = "ssda903"):
    from tracker.config import load_config

    drop = tmp_path / "drop"
    drop.mkdir(exist_ok=True)
    (drop / "episodes.csv").write_text(HEADER + "".join(HAND))
    (tmp_path / "pc.csv").write_text(LOOKUP)
    cfg = tmp_path / "t.toml"
    cfg.write_text('[tracker]\ncity = "Testville"\n[obsessions.cla]\ntitle = "Children looked after"\n'
                   'baseline_week = "2020-01-06"\n[areas]\nclusters = ["North", "South", "East"]\n'
                   '[lookups]\npostcodes = "pc.csv"\n'
                   f'[[sources]]\nname = "episodes"\nkind = "folder"\npath = "drop"\nformat = "{fmt}"\n{extra}')
    return load_config(cfg)


@pytest.mark.parametrize("written", ["from = 2020-01-13", 'from = "2020-01-13"'])
def test_a_folder_source_counts_from_its_from_date(tmp_path, written):
    from data_sources.sources import parse_sources

    config = _folder_config(tmp_path, written + "\n")
    (source,) = parse_sources(config)
    loaded = source.load(config, {}, TODAY)
    by_week: dict = {}
    for r in loaded.frame.itertuples(index=False):
        by_week.setdefault(r.week_commencing.date().isoformat(), {})[r.area] = r.value
    # From the 13th to the last Monday before the file's latest date (DEC 28/01/2020), as --from does.
    assert by_week == {w: EXPECTED[w] for w in ("2020-01-13", "2020-01-20", "2020-01-27")}
    assert not any("earliest DECOM" in n for n in loaded.notes)


def test_a_folder_source_without_from_says_where_it_counted_from(tmp_path):
    from data_sources.sources import parse_sources

    config = _folder_config(tmp_path)
    (source,) = parse_sources(config)
    loaded = source.load(config, {}, TODAY)
    assert min(w.date() for w in loaded.frame["week_commencing"]) == date(2020, 1, 6)
    assert any("counted from the earliest DECOM" in n and "sources[0].from" in n for n in loaded.notes)


@pytest.mark.parametrize("extra, fmt, words", [
    ("from = 2020-13-01", "ssda903", None),                    # not TOML: the configuration's own error
    ('from = "13/01/2020"', "ssda903", "sources[0].from: must be a date like 2024-04-01"),
    ("from = 2020-01-13T00:00:00", "ssda903", "sources[0].from: must be a date like 2024-04-01"),
    ("from = 3", "ssda903", "sources[0].from: must be a date like 2024-04-01"),
    ("from = 2020-01-13", "nccis", 'sources[0].from: is only for format = "ssda903"'),
])
def test_a_bad_from_is_refused_naming_the_key(tmp_path, extra, fmt, words):
    from data_sources.sources import parse_sources
    from tracker.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        parse_sources(_folder_config(tmp_path, extra + "\n", fmt))
    if words:
        assert words in str(err.value) and "t.toml" in str(err.value)
