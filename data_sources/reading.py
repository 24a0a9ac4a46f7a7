"""Reading a file safely into a table of text cells: size limit, file-type sniffing, encodings, CSV and XLSX.

Every cell comes out as a stripped string ('' when empty), so validation is one vectorised pass
whatever the file type; `RawTable.where(i, column)` names the place of a cell for messages.

Every cap is checked before the part it guards is read, so a small hostile file is refused in well
under a second: only regular files (no symlinks, devices or pipes) of at most MAX_FILE_BYTES; a CSV of
at most MAX_ROWS lines of at most MAX_LINE characters; an XLSX whose parts, as the zip's directory
gives their uncompressed sizes, total at most MAX_XLSX_UNCOMPRESSED, whose shared strings are at most
MAX_SHARED_STRINGS_BYTES (and MAX_SHARED_STRINGS strings), whose sheet declares (its <dimension>) and
really has at most MAX_ROWS rows and MAX_COLUMNS columns; the sheet is streamed, never padded to its
declared size. No message quotes a line that did not parse as the expected format.
"""
from __future__ import annotations

import csv
import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from tracker.errors import InputError

MAX_FILE_BYTES = 20 * 1024 * 1024   # 20 MB: ten years of every figure is under 3 MB, so more is a mistake
MAX_ROWS = 1_000_000                # rows of a CSV or a sheet (ten years of every figure: about 100,000)
MAX_LINE = 64 * 1024                # characters of one CSV line
MAX_COLUMNS = 256                   # columns of a sheet
MAX_XLSX_UNCOMPRESSED = 200 * 1024 * 1024    # all the parts of a workbook, unzipped
MAX_SHARED_STRINGS_BYTES = 16 * 1024 * 1024  # its shared-strings part, unzipped (read whole by the reader)
MAX_SHARED_STRINGS = 500_000                 # strings it declares
MAX_XLSX_PARTS = 2000

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # Excel 97-2003 .xls


@dataclass
class RawTable:
    """Cells as strings, the original column names, and how to name the place of a cell."""

    frame: pd.DataFrame                      # columns: normalised names; index: position in the file
    label: str                               # the file (and sheet) for messages
    headers: dict[str, str]                  # normalised -> as written in the file
    locate: Callable[[int, str], str]        # (row position, normalised column) -> "file, line 7, column value"
    row_label: Callable[[int], str] = lambda i: f"line {i + 2}"   # (row position) -> "line 7"
    notes: list[str] = field(default_factory=list)
    header_where: str = ""                   # where the header is, for messages: "file, line 1"

    def __post_init__(self):
        self.header_where = self.header_where or f"{self.label}, line 1"


def check_size(path: Path, limit: int = MAX_FILE_BYTES) -> int:
    """The size of `path`; InputError when it is missing, a symlink, not a regular file, empty or over the limit."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path") from None
    except OSError as e:
        raise InputError(f"{path}: cannot be read ({e.strerror}); check the path and its permissions") from None
    if stat.S_ISLNK(st.st_mode):
        raise InputError(f"{path}: is a symbolic link; imports read only regular files, so copy the file itself "
                         "here and import the copy")
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a folder, not a file; name the file to import")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: is not a regular file (a device, pipe or socket); export the figures to a file "
                         "and import that")
    size = st.st_size
    if size == 0:
        raise InputError(f"{path}: the file is empty; export the figures again")
    if size > limit:
        raise InputError(f"{path}: the file is {size / 1024 / 1024:.1f} MB, over the {limit // (1024 * 1024)} MB "
                         "limit for one import; split it into smaller files (a year each) and import them together")
    return size


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file checked by check_size, opened without following a symlink, at most `limit`."""
    check_size(path, limit)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise InputError(f"{path}: cannot be read ({e.strerror}); imports read only regular files") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):       # swapped since it was checked
            raise InputError(f"{path}: is not a regular file; export the figures to a file and import that")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{path}: the file grew past the {limit // (1024 * 1024)} MB limit while it was read")
    return data


def check_lines(text: str, label: str) -> None:
    """InputError when a CSV's text has more than MAX_ROWS lines or a line longer than MAX_LINE characters."""
    lines = text.count("\n") + 1
    if lines > MAX_ROWS + 1:
        raise InputError(f"{label}: the file has {lines:,} lines, over the {MAX_ROWS:,} a file may have; "
                         "split it into smaller files and import them together")
    long = _LONG_LINE.search(text)
    if long is not None:
        line = text.count("\n", 0, long.start()) + 1
        raise InputError(f"{label}, line {line}: the line is over {MAX_LINE:,} characters long, which no figures "
                         "file has; check that this is the export you meant (a CSV of one figure a line)")


_LONG_LINE = re.compile(r"(?m)^[^\n]{%d}" % (MAX_LINE + 1))   # anchored at line starts: one pass


def decode(data: bytes, label: str) -> tuple[str, list[str]]:
    """Text of a CSV's bytes: UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252; else InputError."""
    if data.startswith(_ZIP_MAGIC):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            names = []
        if any(n.startswith("xl/") for n in names):
            raise InputError(f"{label}: this is an Excel workbook (XLSX) with a .csv name; rename it to .xlsx "
                             "or save it from Excel as 'CSV UTF-8'")
        raise InputError(f"{label}: this is a ZIP archive, not a CSV; unzip it and import the CSV inside")
    if data.startswith(_OLE_MAGIC):
        raise InputError(f"{label}: this is an old Excel 97-2003 (.xls) file; save it as .xlsx or 'CSV UTF-8'")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), [f"{label}: read as UTF-16 text"]
        except UnicodeDecodeError:
            raise InputError(f"{label}: starts like UTF-16 text but is not; save it as 'CSV UTF-8'") from None
    if b"\x00" in data[:4096]:
        raise InputError(f"{label}: this is not a text file (it contains NUL bytes); export the figures as 'CSV UTF-8'")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as e:
        utf8_error = e
    try:
        # Excel's plain "CSV" on Windows writes Windows-1252; the five bytes it leaves undefined
        # make decoding fail, so a file in some other encoding is refused rather than garbled.
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        line = data[: utf8_error.start].count(b"\n") + 1
        raise InputError(f"{label}, line {line}: the file is neither UTF-8 nor Windows-1252 text "
                         f"(byte 0x{data[utf8_error.start]:02x}); save it from Excel as 'CSV UTF-8'") from None
    return text, [f"{label}: not UTF-8, read as Windows-1252 (Excel's plain CSV); 'CSV UTF-8' is safer"]


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _header(first: str, sep: str, label: str) -> tuple[list[str], list[str]]:
    """(as written, normalised) column names of the first line; InputError when missing or repeated."""
    header = next(csv.reader([first], delimiter=sep), [])
    if not header or not any(h.strip() for h in header):
        raise InputError(f"{label}: the file has no header line; the first line must name the columns")
    seen: set[str] = set()
    names = []
    for h in header:
        n = h.strip().lower()
        if n and n in seen:
            raise InputError(f'{label}, line 1: the column "{h.strip()}" is named twice; keep one of them')
        seen.add(n)
        names.append(n)
    return header, names


def _read_fast(text: str, sep: str, names: list[str], keep: list[int]) -> pd.DataFrame | None:
    # pandas needs unique names; real duplicates were refused by _header, so only empty names repeat
    names = [n or f"unnamed: {j}" for j, n in enumerate(names)]
    """pandas' C parser when every record is one physical line of the header's width; else None."""
    import warnings

    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False,
                                skip_blank_lines=False, index_col=False, header=0, names=names,
                                engine="c")   # no usecols: with it, pandas drops extra cells silently
    except (pd.errors.ParserError, pd.errors.ParserWarning, ValueError, csv.Error):
        return None
    if len(frame) != lines - 1:   # a quoted line break: line numbers need the careful reader
        return None
    return frame.iloc[:, keep]


def _read_careful(text: str, sep: str, label: str, width: int, keep: list[int]) -> tuple[list[list[str]], list[int]]:
    """Rows and the physical line each starts on, with one message per malformed line."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    rows, lines, ragged = [], [], []
    try:
        next(reader)
        last = reader.line_num
        for row in reader:
            start, last = last + 1, reader.line_num
            if len(row) != width:
                if len(row) > width and not any(c.strip() for c in row[width:]):
                    row = row[:width]            # trailing empty cells Excel leaves behind
                elif len(row) < width:
                    row = row + [""] * (width - len(row))
                else:
                    ragged.append(f"{label}, line {start}: {len(row)} cells but the header has {width}; "
                                  "remove the extra cells (or quote a value that contains a comma)")
                    continue
            rows.append([row[j] for j in keep])
            lines.append(start)
    except csv.Error as e:
        raise InputError(f"{label}, line {reader.line_num}: not a well-formed CSV ({e}); check the quotes on "
                         "that line, or export it again") from None
    if ragged:
        from tracker.errors import ValidationFailed

        raise ValidationFailed(["not a well-formed CSV: " + r for r in ragged], label)
    return rows, lines


def read_csv_text(text: str, label: str, usecols=None) -> RawTable:
    """A RawTable from CSV text: every cell a stripped string; each row knows its physical line number."""
    check_lines(text, label)
    first = text.split("\n", 1)[0].rstrip("\r")
    sep = _sniff_delimiter(first)
    header, names = _header(first, sep, label)
    names = [n or f"unnamed: {j + 1}" for j, n in enumerate(names)]   # Excel's trailing empty columns
    headers = {n: h.strip() for n, h in zip(names, header)}
    keep = [j for j, n in enumerate(names) if usecols is None or usecols(n)]
    cols = [names[j] for j in keep]
    frame = _read_fast(text, sep, names, keep)
    if frame is not None:
        frame.columns = cols
        line_of = lambda i: i + 2
    else:
        rows, lines = _read_careful(text, sep, label, len(header), keep)
        frame = pd.DataFrame(rows, columns=cols, dtype=str) if rows else pd.DataFrame(columns=cols, dtype=str)
        line_of = lines.__getitem__
    return RawTable(frame=_strip(frame), label=label, headers=headers,
                    locate=lambda i, col: f"{label}, line {line_of(i)}, column {headers.get(col, col)}",
                    row_label=lambda i: f"line {line_of(i)}")


def _strip(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as a stripped string; done once per distinct value, which is fast for repetitive columns."""
    out = {}
    for c in frame.columns:
        codes, uniques = pd.factorize(frame[c].to_numpy(dtype=object), use_na_sentinel=False)
        cleaned = np.array(["" if u is None or u != u else str(u).strip() for u in uniques], dtype=object)
        out[c] = cleaned[codes] if len(codes) else np.array([], dtype=object)
    return pd.DataFrame(out, index=frame.index, columns=list(frame.columns))


def read_csv_file(path: Path, usecols=None) -> RawTable:
    """Check size and type, decode and parse a CSV file."""
    data = read_bytes(path)
    text, notes = decode(data, str(path))
    table = read_csv_text(text, str(path), usecols=usecols)
    table.notes.extend(notes)
    return table


def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _column_letter(n: int) -> str:
    s = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


_SST_COUNT = re.compile(rb'<(?:\w+:)?sst\b[^>]*?\b(?:uniqueCount|count)="(\d+)"')


def check_xlsx_parts(path: Path) -> None:
    """InputError, before anything is unzipped, when the workbook's parts are past the caps: their uncompressed
    sizes (from the zip's directory), the shared strings' size and declared count."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if len(infos) > MAX_XLSX_PARTS:
                raise InputError(f"{path}: the workbook has {len(infos):,} parts, far more than a sheet of figures "
                                 "needs; save the sheet alone as a new workbook and import that")
            total = sum(i.file_size for i in infos)
            if total > MAX_XLSX_UNCOMPRESSED:
                raise InputError(f"{path}: unzipped, the workbook would be {total / 2 ** 20:,.0f} MB, over the "
                                 f"{MAX_XLSX_UNCOMPRESSED // 2 ** 20} MB limit; save it as CSV UTF-8, or split it")
            for i in infos:
                if i.filename.lower().endswith("sharedstrings.xml"):
                    if i.file_size > MAX_SHARED_STRINGS_BYTES:
                        raise InputError(f"{path}: its shared strings would be {i.file_size / 2 ** 20:,.0f} MB "
                                         f"unzipped, over the {MAX_SHARED_STRINGS_BYTES // 2 ** 20} MB limit; save "
                                         "the sheet as CSV UTF-8 and import that")
                    with z.open(i) as f:
                        head = f.read(4096)
                    m = _SST_COUNT.search(head)
                    if m and int(m.group(1)) > MAX_SHARED_STRINGS:
                        raise InputError(f"{path}: the workbook declares {int(m.group(1)):,} shared strings, over "
                                         f"the {MAX_SHARED_STRINGS:,} limit; save the sheet as CSV UTF-8")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as e:
        raise InputError(f"{path}: the workbook is damaged or incomplete (perhaps truncated while copying) "
                         f"({type(e).__name__}); save it again from Excel and import the new copy") from None


def _xlsx_rows(path: Path, ws, label: str) -> list[tuple]:
    """The sheet's rows streamed (never padded to its declared size), refused past MAX_ROWS or MAX_COLUMNS."""
    rows_declared, cols_declared = ws.max_row, ws.max_column       # from its <dimension>, or None
    if (rows_declared or 0) > MAX_ROWS or (cols_declared or 0) > MAX_COLUMNS:
        raise InputError(f"{label}: the sheet says it spans {rows_declared or '?'} rows and {cols_declared or '?'} "
                         f"columns (at most {MAX_ROWS:,} and {MAX_COLUMNS} are read); copy the figures into a new "
                         "sheet, or delete the empty rows and columns after them, save and import again")
    ws.reset_dimensions()       # read the rows that are there, not the declared rectangle
    rows = []
    for n, r in enumerate(ws.iter_rows(values_only=True), start=1):
        if n > MAX_ROWS:
            raise InputError(f"{label}: the sheet has more than {MAX_ROWS:,} rows; split it into smaller files")
        if len(r) > MAX_COLUMNS:
            cut = r[MAX_COLUMNS:]
            if any(v is not None and v != "" for v in cut):
                raise InputError(f"{label}, row {n}: there are values past column {_column_letter(MAX_COLUMNS - 1)} "
                                 f"(at most {MAX_COLUMNS} columns are read); delete them and import again")
            r = r[:MAX_COLUMNS]
        rows.append(tuple(_cell_text(v) for v in r))
    return rows


def read_xlsx_file(path: Path, sheet: str | None = None) -> RawTable:
    """The first sheet (or `sheet`) of an XLSX workbook as a RawTable; InputError for a damaged file or one past a cap."""
    check_size(path)
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(_OLE_MAGIC):
        raise InputError(f"{path}: this is an old Excel 97-2003 (.xls) file; save it as .xlsx")
    if not head.startswith(_ZIP_MAGIC):
        raise InputError(f"{path}: this is not an XLSX workbook (it does not start like one); "
                         "if it is a CSV, give it a .csv name")
    check_xlsx_parts(path)
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as e:
        raise InputError(f"{path}: the workbook is damaged or incomplete (perhaps truncated while copying) "
                         f"({type(e).__name__}); save it again from Excel and import the new copy") from None
    except Exception as e:   # openpyxl raises assorted errors for malformed XML parts (their text is not shown)
        raise InputError(f"{path}: the workbook cannot be read ({type(e).__name__}); "
                         "save it again from Excel as .xlsx") from None
    try:
        names = wb.sheetnames
        if sheet is None:
            ws = wb[names[0]]
        else:
            match = next((n for n in names if n.lower() == sheet.strip().lower()), None)
            if match is None:
                from tracker.errors import nearest

                guess = nearest(sheet, names)
                hint = f'; did you mean "{guess}"?' if guess else ""
                raise InputError(f'{path}: there is no sheet "{sheet}"{hint} Sheets: {", ".join(names)}')
            ws = wb[match]
        title = ws.title
        try:
            rows = _xlsx_rows(path, ws, f'{path}, sheet "{title}"')
        except (zipfile.BadZipFile, EOFError, OSError, KeyError) as e:
            raise InputError(f"{path}: the workbook is damaged or incomplete ({type(e).__name__}); "
                             "save it again from Excel and import the new copy") from None
    finally:
        wb.close()
    label = f'{path}, sheet "{title}"'
    # openpyxl returns ragged trailing empties; the header is the first non-empty row
    while rows and not any(rows[0]):
        rows.pop(0)
    if not rows:
        raise InputError(f"{label}: the sheet is empty; put the header in the first row and one figure a row below")
    width = max(len(r) for r in rows)
    rows = [r + ("",) * (width - len(r)) for r in rows]
    header = list(rows[0])
    while header and not header[-1]:
        header.pop()
    width = len(header)
    names = [h.strip().lower() or f"unnamed: {j + 1}" for j, h in enumerate(header)]
    frame = pd.DataFrame([r[:width] for r in rows[1:]], columns=names, dtype=object)
    headers = dict(zip(names, header))
    letters = {n: _column_letter(j) for j, n in enumerate(names)}
    if len(set(names)) != len(names):
        twice = next(h for j, h in enumerate(header) if names[j] in names[:j])
        raise InputError(f'{label}, row 1: the column "{twice.strip()}" is named twice; keep one of them')
    return RawTable(frame=frame, label=label, headers=headers,
                    locate=lambda i, col: f"{label}, row {i + 2}, column {letters.get(col, '?')} ({headers.get(col, col)})",
                    row_label=lambda i: f"row {i + 2}", header_where=f"{label}, row 1")


def read_table(path: Path, sheet: str | None = None, usecols=None) -> RawTable:
    """A CSV or XLSX file (by its name; .xlsx/.xlsm are workbooks) as a RawTable."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_xlsx_file(path, sheet)
    if sheet:
        raise InputError(f"{path}: --sheet is only for XLSX workbooks; this file is read as CSV")
    return read_csv_file(path, usecols=usecols)
