"""The SSDA903 children-looked-after episodes table (CSV, XLSX or the XML return) into weekly counts.

For every Monday, the number of distinct children looked after that day: an episode counts when
DECOM <= Monday and (DEC is blank or DEC > Monday). Short-term breaks (legal status V3, V4) are
left out, as in the DfE's published counts. A child with overlapping episodes counts once, in the
area of the HOME_POST of the open episode that started latest. Rules are the DfE's SSDA903
validation rules; the episodes themselves are counted and let go.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from tracker.config import Config
from tracker.errors import InputError, nearest
from tracker.figures import monday_of

from . import records
from .lookups import Lookups, lookups_of
from .reading import RawTable, check_size, read_table
from .validate import Checked, parse_weeks

SPEC_COLUMNS = ("child", "decom", "rne", "ls", "cin", "place", "place_provider", "dec", "rec",
                "reason_place_change", "home_post", "pl_post", "urn")
REQUIRED = ("child", "decom", "ls", "dec", "rec", "home_post")   # what the counting and its checks read
LEGAL_STATUSES = ("C1", "C2", "D1", "E1", "J1", "J2", "J3", "L1", "L2", "L3", "V2", "V3", "V4")   # DfE rule 144
SHORT_BREAKS = ("V3", "V4")
XML_NAMES = {"CHILDID": "child", "PL": "place"}   # the XML return's element names that differ from the table's
_OPEN = np.iinfo(np.int64).max // 4   # "no DEC": after every Monday
_LINES_SHOWN = 5
_LS_SHOWN = re.compile(r"^[A-Za-z]\d?$|^[A-Za-z]{2}$|^\d[A-Za-z]$")   # shaped like a code, never an ID


def count_children(child: np.ndarray, start: np.ndarray, end: np.ndarray, area: np.ndarray,
                   mondays: np.ndarray, n_areas: int) -> tuple[np.ndarray, np.ndarray]:
    """(city counts per Monday, counts per Monday x area) of distinct children with an open episode.

    `child`: integer codes; `start`, `end`: days (int64; `end` exclusive, huge when open); `area`:
    per episode, -1 for none. Episodes must be in file order: a tie in start goes to the later row.
    Each episode becomes its run of Mondays; of one child's pairs on a Monday the latest start wins.
    """
    m = np.asarray(mondays, dtype="datetime64[D]").astype(np.int64)
    n = len(m)
    if n == 0 or len(child) == 0:
        return np.zeros(n, dtype=np.int64), np.zeros((n, n_areas), dtype=np.int64)
    m0 = m[0]
    first = np.clip(-((m0 - start) // 7), 0, n)           # the first Monday on or after DECOM
    stop = np.clip(-((m0 - np.minimum(end, m0 + 7 * n + 7)) // 7), 0, n)   # the first Monday on or after DEC
    length = np.maximum(stop - first, 0)
    rank = np.lexsort((np.arange(len(start)), start))     # by start, then file order
    length_r = length[rank]
    total = int(length_r.sum())
    ep = np.repeat(rank, length_r)
    offsets = np.arange(total) - np.repeat(np.cumsum(length_r) - length_r, length_r)
    week = first[ep] + offsets
    n_children = int(child.max()) + 1
    key = week.astype(np.int64) * n_children + child[ep]
    order = np.argsort(key, kind="stable")                # stable: the latest-started episode stays last
    key_s = key[order]
    last = np.ones(total, dtype=bool)
    last[:-1] = key_s[1:] != key_s[:-1]
    wk = key_s[last] // n_children
    ar = area[ep[order][last]]
    city = np.bincount(wk, minlength=n)
    has = ar >= 0
    by_area = np.bincount(wk[has] * n_areas + ar[has], minlength=n * n_areas).reshape(n, n_areas)
    return city, by_area


def _read_xml(path: Path, data: bytes) -> RawTable:
    """The episodes of an SSDA903 XML return (<EXPSSDA903><CHILD><HEADER><CHILDID>, <EPISODE>...)."""
    import xml.parsers.expat as expat

    label = str(path)
    rows: list[dict] = []
    lines: list[int] = []
    state: dict = {"child": "", "episode": None, "text": [], "root": None}
    parser = expat.ParserCreate()

    def start(name, _attrs):
        n = name.upper()
        if state["root"] is None:
            state["root"] = n
            if n != "EXPSSDA903":
                raise InputError(f"{label}: this XML is not an SSDA903 return (its root is <{name}>, not "
                                 "<EXPSSDA903>); export the episodes again")
        if n == "CHILD":
            state["child"] = ""
        elif n == "EPISODE":
            state["episode"] = {}
            lines.append(parser.CurrentLineNumber)
        state["text"] = []

    def end(name):
        n = name.upper()
        text = "".join(state["text"]).strip()
        if n == "CHILDID":
            state["child"] = text
        elif n == "EPISODE":
            state["episode"]["child"] = state["child"]
            rows.append(state["episode"])
            state["episode"] = None
        elif state["episode"] is not None:
            state["episode"][XML_NAMES.get(n, n.lower())] = text
        state["text"] = []

    def doctype(*_a):   # a DTD can define entities that expand without end; the return never has one
        raise InputError(f"{label}: the XML declares a document type (<!DOCTYPE>), which an SSDA903 return does "
                         "not; export the return again")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = lambda d: state["text"].append(d)
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(data, True)
    except expat.ExpatError as e:
        raise InputError(f"{label}, line {e.lineno}: not well-formed XML ({expat.ErrorString(e.code)}); "
                         "export the return again") from None
    cols = list(SPEC_COLUMNS)
    frame = pd.DataFrame([[r.get(c, "") for c in cols] for r in rows], columns=cols, dtype=object)
    tag = {c: next((k for k, v in XML_NAMES.items() if v == c), c.upper()) for c in cols}
    return RawTable(frame=frame, label=label, headers={c: tag[c] for c in cols},
                    locate=lambda i, col: f"{label}, line {lines[i]}, element {tag.get(col, col.upper())}",
                    row_label=lambda i: f"line {lines[i]}", header_where=label)


def read_episodes(path: str | Path, sheet: str | None = None) -> RawTable:
    """The episodes table from a CSV, an XLSX workbook or the XML return (told apart by content)."""
    path = Path(path)
    check_size(path)
    with path.open("rb") as fh:
        head = fh.read(512)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return _read_xml(path, path.read_bytes())
    table = read_table(path, sheet=sheet, usecols=lambda c: c in REQUIRED)
    keep = [c for c in table.frame.columns if c in REQUIRED]
    table.frame = table.frame[keep]
    return table


def _lines(table: RawTable, mask: np.ndarray) -> str:
    pos = np.flatnonzero(mask)
    shown = ", ".join(table.row_label(int(table.frame.index[p])).replace("line ", "").replace("row ", "")
                      for p in pos[:_LINES_SHOWN])
    word = ("row" if table.row_label(0).startswith("row") else "line") + ("s" if len(pos) > 1 else "")
    return f" ({word} {shown}{' ...' if len(pos) > _LINES_SHOWN else ''})"


def target_obsession(config: Config, name: str | None, default: str, unit: str | None = "count") -> str:
    """The key of the obsession a record format fills: `name` (--obsession) or the one keyed or aliased `default`."""
    wanted = name or default
    o = config.find_obsession(wanted)
    if o is None:
        keys = [x.key for x in config.obsessions]
        guess = nearest(wanted, keys)
        hint = f'did you mean "{guess}"?' if guess else f"use one of {', '.join(keys)}"
        flag = f"--obsession {name}" if name else f'obsession "{default}"'
        raise InputError(f"{flag}: no obsession keyed or aliased \"{wanted}\" in {config.path}; {hint}")
    if unit and o.unit != unit:
        raise InputError(f'--obsession {o.key}: it is a {o.unit} obsession; the counts go to a "{unit}" obsession')
    return o.key


def read_ssda903(path: str | Path, config: Config, obsession: str | None = None, start: date | None = None,
                 as_of: date | None = None, today: date | None = None, lookups: Lookups | None = None,
                 sheet: str | None = None) -> Checked:
    """Check one episodes file and count the children looked after on every Monday; ValidationFailed on a refusal."""
    today = today or date.today()
    key = target_obsession(config, obsession, "cla")
    if as_of and as_of > today:
        raise InputError(f"--as-of {as_of:%Y-%m-%d} is in the future (today is {today:%Y-%m-%d}); give a past date")
    table = read_episodes(path, sheet=sheet)
    label = table.label
    records.require_columns(table, REQUIRED, "SSDA903 episodes", upper=True)
    f = table.frame
    f = f[~(f[list(REQUIRED)] == "").all(axis=1)]
    table.frame = f
    if f.empty:
        raise InputError(f"{label}: there is a header but no episodes; export the episodes table again")

    bad = records.Problems(table)
    child = f["child"].astype(str)
    bad.add(child == "", "child", "is empty; every episode needs the child's identifier (CHILD)", 0)
    bad.add((child != "") & ~child.str.fullmatch(r"\S{1,10}"), "child",
            "is not a valid child identifier (at most 10 characters, no spaces); check the export", 0)
    decom, decom_text, decom_unreal = parse_weeks(f["decom"])
    decom_bad = (f["decom"] == "") | decom_text | decom_unreal
    bad.add(decom_bad, "decom", "is not a valid date (DfE rule 141); write it as dd/mm/yyyy, e.g. 01/04/2024", 1)
    dec, dec_text, dec_unreal = parse_weeks(f["dec"])
    bad.add(dec_text | dec_unreal, "dec", "is not a valid date (DfE rule 147); write it as dd/mm/yyyy, or leave it "
            "blank while the episode is open", 2)
    bad.add(decom.notna() & dec.notna() & (dec < decom), "dec",
            "is before DECOM, the start of the same episode (DfE rule 356); check both dates", 2)
    ls = f["ls"].astype(str).str.upper()
    ls_vals = f["ls"].to_numpy()
    bad.add(~ls.isin(LEGAL_STATUSES), "ls",
            lambda p: ("is empty" if not ls_vals[p] else f"{records.shown_code(ls_vals[p], _LS_SHOWN)} is not a legal status code")
            + f" (DfE rule 144); use one of {', '.join(LEGAL_STATUSES)}", 3)
    bad.raise_if_any()

    days_start = decom.to_numpy().astype("datetime64[D]").astype(np.int64)
    dec_days = dec.to_numpy().astype("datetime64[D]")
    open_ = np.isnat(dec_days)
    days_end = np.where(open_, _OPEN, dec_days.astype(np.int64))
    codes, _ = pd.factorize(child.to_numpy(dtype=object))
    notes = []

    # Rule 142: a child's next episode starts while the previous one is still open.
    order = np.lexsort((np.arange(len(f)), days_start, codes))
    same = codes[order][1:] == codes[order][:-1]
    prev_open = days_end[order][:-1] > days_start[order][1:]
    r142 = np.zeros(len(f), dtype=bool)
    r142[order[1:][same & prev_open]] = True
    if r142.any():
        notes.append(f"{label}: warning: {int(r142.sum())} episode(s) start while the child's previous episode is "
                     f"still open (DfE rule 142){_lines(table, r142)}; each child is counted once")
    r148 = (f["dec"] == "").to_numpy() != (f["rec"] == "").to_numpy()
    if r148.any():
        notes.append(f"{label}: warning: {int(r148.sum())} episode(s) have only one of DEC and REC (DfE rule 148)"
                     f"{_lines(table, r148)}; counted by DEC")

    short = ls.isin(SHORT_BREAKS).to_numpy()
    if short.any():
        notes.append(f"{label}: {int(short.sum())} episode(s) of short-term breaks (legal status V3, V4) left out, "
                     "as in the DfE's published counts")
    care = ~short

    first = start or pd.Timestamp(decom.min()).date()
    latest = max(pd.Timestamp(decom.max()), pd.Timestamp(dec.max()) if dec.notna().any() else pd.Timestamp(decom.max()))
    last = min(as_of or latest.date(), today)
    weeks = records.mondays_between(first, last)
    if len(weeks) == 0:
        raise InputError(f"{label}: no Monday from {first:%Y-%m-%d} to {last:%Y-%m-%d} to count; "
                         "check --from and --as-of")

    lookup = (lookups or lookups_of(config)).postcode_lookup(config)
    clusters = list(config.clusters)
    area = np.full(len(f), -1, dtype=np.int64)
    m = weeks.astype(np.int64)
    in_window = care & (days_start <= m[-1]) & (days_end > m[0])
    if lookup is not None:
        cluster, reason = lookup.match(f["home_post"])
        index = {c: k for k, c in enumerate(clusters)}
        area = cluster.map(index).fillna(-1).astype(np.int64).to_numpy()
        counts = pd.Series(reason.to_numpy()[in_window]).value_counts()
        note = records.unmatched_note(label, "episode(s)", {r: int(counts.get(r, 0)) for r in records.UNMATCHED_REASONS},
                                      "postcodes")
        if note:
            notes.append(note)
    else:
        notes.append(f"{label}: no [lookups] postcodes in the configuration, so every child is counted in the city "
                     "only; add a postcode lookup to count each cluster")

    city, by_area = count_children(codes[care], days_start[care], days_end[care], area[care], weeks, len(clusters))
    values = np.column_stack([city, by_area]) if lookup is not None else city[:, None]
    areas = [config.city, *clusters] if lookup is not None else [config.city]
    n_children = len(np.unique(codes[care & in_window]))
    notes.insert(0, f"{label}: {n_children} children in {int(in_window.sum())} episode(s) counted on "
                    f"{len(weeks)} Monday(s) from {pd.Timestamp(weeks[0]).date():%Y-%m-%d} to "
                    f"{pd.Timestamp(weeks[-1]).date():%Y-%m-%d} into {key}")
    if as_of is None and latest.date() > today:
        notes.append(f"{label}: the file has dates after today; counted up to the week of {monday_of(today):%Y-%m-%d}")
    return records.checked([records.figures(weeks, key, areas, values)], table, notes)

