"""The DfE's children's services statistical neighbour model: each authority's ten nearest neighbours.

Two layouts are read. The 2025 file (`sn_model_2025_wide.csv`): old_la_code, la_name, region_name,
SN_1, SN_1P, ... SN_10, SN_10P. Older files (`New_Statistical_Neighbour_Groupings_April_2021.csv`):
"LA num", "LA Name", "LA number", GOInd, GOReg, SN1, SNP, SN2, SNP, ... (every closeness column is
named SNP, so columns are read by position). Neighbours are old LA codes (383 is Leeds). The model
is named after its file; the model loaded most recently is the one `statistical_neighbours = "dfe"` uses.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from tracker.config import Config
from tracker.errors import InputError

from . import published as P
from .reading import check_size, decode

CODE = ("old_la_code", "la num", "la number", "la_code")
NAME = ("la_name", "la name")
REGION = ("region_name", "goreg", "region")
_SN = re.compile(r"^sn_?(\d{1,2})$")
_SNP = re.compile(r"^sn_?(\d{1,2})?p$")
MAX_BYTES = 1024 * 1024   # the model is 30 KB; a megabyte is a wrong file


def read_sn(path: str | Path, config: Config, la: str | None = None) -> P.PublishedRows:
    """Read and check a statistical neighbour model file; rows for sn_model and benchmark_areas."""
    path = Path(path)
    check_size(path, MAX_BYTES)
    text, _ = decode(path.read_bytes(), str(path))
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise InputError(f"{path}: the file is empty")
    header = [h.strip().lower() for h in rows[0]]
    where = f"{path}, line 1"

    def col(names):
        return next((header.index(n) for n in names if n in header), None)

    code_c, name_c, region_c = col(CODE), col(NAME), col(REGION)
    sn = [(int(m.group(1)), j) for j, h in enumerate(header) if (m := _SN.match(h))]
    missing = [what for what, c in (("old_la_code (or LA num)", code_c), ("la_name (or LA Name)", name_c)) if c is None]
    if missing or not sn:
        raise InputError(f"{where}: this is not a DfE statistical neighbour model: "
                         + ", ".join(missing + ([] if sn else ["SN_1 ... SN_10 (or SN1 ... SN10)"]))
                         + " missing; download sn_model_YYYY_wide.csv again")
    sn.sort()
    closeness = {rank: (j + 1 if j + 1 < len(header) and _SNP.match(header[j + 1]) else None) for rank, j in sn}
    out = P.PublishedRows()
    seen: dict[str, int] = {}
    authorities = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        row = row + [""] * (len(header) - len(row))
        code, name = row[code_c].strip(), row[name_c].strip()
        if not re.fullmatch(r"\d{3}", code):
            out.problems.append(f'{path}, line {n}, column {rows[0][code_c].strip()}: "{code}" is not an old LA code '
                                "(three digits, like 383)")
            continue
        if code in seen:
            out.problems.append(f"{path}, line {n}: the authority {code} ({name}) is given twice (first at line "
                                f"{seen[code]}); keep one row")
            continue
        seen[code] = n
        neighbours = []
        for rank, j in sn:
            v = row[j].strip()
            if not re.fullmatch(r"\d{3}", v):
                out.problems.append(f'{path}, line {n}, column {rows[0][j].strip()}: "{v}" is not an old LA code '
                                    "(three digits)")
                continue
            c = closeness[rank]
            neighbours.append((rank, v, row[c].strip() if c is not None else ""))
        region = row[region_c].strip() if region_c is not None else ""
        authorities.append((code, name, region, neighbours))
    if out.problems:
        return out
    want = P.city_authority(config, la).lower()
    city = next((a for a in authorities if want in (a[0], a[1].lower(), a[1].lower().replace(", city of", ""))), None)
    if city is None:
        raise InputError(f'{path}: no local authority "{want}" in this model; give --la as the name or old code '
                         "(383), or set [tracker] la_code; nothing was written")
    unknown = sorted({v for a in authorities for _, v, _ in a[3]} - set(seen))
    if unknown:
        out.notes.append(f"{path}: neighbours {', '.join(unknown)} are not authorities of this file")
    model = path.stem
    source = f"dfe-sn: {path.resolve()}"
    out.add("sn_model", [{"model": model, "la_code": code, "rank": rank, "neighbour_code": v, "closeness": close}
                         for code, _, _, ns in authorities for rank, v, close in ns])
    out.add("benchmark_areas", [{"area": config.city if code == city[0] else name, "level": P.LOCAL,
                                 "old_la_code": code, "new_la_code": "", "region": "", "source": source}
                                for code, name, _, _ in authorities])
    names = {a[0]: a[1] for a in authorities}
    out.notes.append(f"{path}: the statistical neighbour model {model}: {len(authorities)} authorities; "
                     f"the neighbours of {city[1]}: {', '.join(names.get(v, v) for _, v, _ in city[3])}")
    return out
