"""Imports under hostile files: XLSX bombs (a huge declared dimension, a huge shared-strings part) refused before
they are read, CSV caps, symlinks and non-regular files refused, and no error echoing a line that did not parse."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest

from tracker.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
SECRET_LINE = "root:$6$NOT-A-REAL-HASH-BUT-SECRET:19000:0:99999:7:::"

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>"""
RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"""
WB_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>"""
MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _sheet(dimension: str, rows: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet {MAIN}>'
            f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>')


HEADER_ROW = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
              '<c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c></row>')
STRINGS = ("week_commencing", "obsession", "area", "value")


def write_xlsx(path: Path, sheet: str, shared_count: int | None = None, shared_filler_mb: int = 0) -> Path:
    """A minimal workbook written part by part (the shared strings streamed, so a big one costs no memory)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WB_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        n = shared_count if shared_count is not None else len(STRINGS)
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8"?><sst {MAIN} count="{n}" uniqueCount="{n}">'.encode())
            for s in STRINGS:
                f.write(f"<si><t>{s}</t></si>".encode())
            block = b"<si><t>" + b"x" * (1024 * 1024 - 16) + b"</t></si>"
            for _ in range(shared_filler_mb):
                f.write(block)
            f.write(b"</sst>")
    return path


def run_import(path: Path, cwd: Path) -> tuple[int, str, int]:
    """`obsession import PATH` in a subprocess: (exit code, standard error, its peak memory in kB)."""
    # VmHWM, not ru_maxrss: the child is forked (preexec_fn) and Linux keeps ru_maxrss across exec.
    code = ("import re, sys\nfrom bot.cli import main\nrc = main(['import', sys.argv[1]])\n"
            "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
            "print('PEAK_KB', hwm, file=sys.stderr)\nsys.exit(rc)")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{cwd / 'o.db'}", "PYTHONPATH": str(ROOT)}
    env.pop("OBSESSION_CONFIG", None)
    def cap_memory():          # a runaway reader fails with MemoryError instead of taking the machine's memory
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (3 * 1024 ** 3, 3 * 1024 ** 3))
    p = subprocess.run([sys.executable, "-c", code, str(path)], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=120, preexec_fn=cap_memory)
    peak = int(p.stderr.rsplit("PEAK_KB", 1)[1].split()[0]) if "PEAK_KB" in p.stderr else -1
    return p.returncode, p.stderr, peak


def test_a_declared_dimension_bomb_is_refused_quickly_and_small(tmp_path):
    # One cell in the last row: a reader that pads every row to the declared width builds 2^20 rows of 16,384.
    bomb = write_xlsx(tmp_path / "bomb.xlsx", _sheet("A1:XFD1048576", HEADER_ROW + '<row r="1048576">'
                                                     '<c r="A1048576"><v>1</v></c></row>'))
    assert bomb.stat().st_size < 3000
    rc, err, peak = run_import(bomb, tmp_path)
    assert rc == 2, err
    assert "1048576 rows" in err and "16384" in err and "new sheet" in err
    assert 0 < peak < 200 * 1024


def test_a_shared_strings_bomb_is_refused_before_it_is_read(tmp_path):
    bomb = write_xlsx(tmp_path / "strings.xlsx", _sheet("A1:D1", HEADER_ROW), shared_filler_mb=64)
    assert bomb.stat().st_size < 2 * 1024 * 1024            # 64 MB of strings, zipped to a small file
    rc, err, peak = run_import(bomb, tmp_path)
    assert rc == 2 and "shared strings" in err and "MB" in err, err
    assert 0 < peak < 200 * 1024


def test_declared_shared_string_count_and_total_size_are_capped(tmp_path, monkeypatch):
    from data_sources import reading

    many = write_xlsx(tmp_path / "many.xlsx", _sheet("A1:D1", HEADER_ROW), shared_count=10_000_000)
    with pytest.raises(InputError, match="10,000,000 shared strings"):
        reading.read_xlsx_file(many)
    monkeypatch.setattr(reading, "MAX_XLSX_UNCOMPRESSED", 2000)
    small = write_xlsx(tmp_path / "small.xlsx", _sheet("A1:D1", HEADER_ROW))
    with pytest.raises(InputError, match="unzipped, the workbook would be"):
        reading.read_xlsx_file(small)


def test_real_rows_and_columns_are_capped_whatever_the_sheet_declares(tmp_path, monkeypatch):
    from data_sources import reading

    monkeypatch.setattr(reading, "MAX_ROWS", 50)
    monkeypatch.setattr(reading, "MAX_COLUMNS", 10)
    rows = HEADER_ROW + "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(2, 80))
    lying = write_xlsx(tmp_path / "lying.xlsx", _sheet("A1:D5", rows))          # declares 5 rows, has 79
    with pytest.raises(InputError, match="more than 50 rows"):
        reading.read_xlsx_file(lying)
    far = write_xlsx(tmp_path / "far.xlsx", _sheet("A1:D2", HEADER_ROW + '<row r="2"><c r="Z2"><v>1</v></c></row>'))
    with pytest.raises(InputError, match="row 2: there are values past column J"):
        reading.read_xlsx_file(far)
    gap = write_xlsx(tmp_path / "gap.xlsx", _sheet("A1:D1", HEADER_ROW + '<row r="1000000"><c r="A1000000">'
                                                   '<v>1</v></c></row>'))
    with pytest.raises(InputError, match="more than 50 rows"):
        reading.read_xlsx_file(gap)
    # Within the caps a workbook still reads, padded to its header's width.
    ok = write_xlsx(tmp_path / "ok.xlsx", _sheet("A1:D2", HEADER_ROW + '<row r="2"><c r="A2"><v>7</v></c></row>'))
    table = reading.read_xlsx_file(ok)
    assert list(table.frame.columns) == list(STRINGS) and table.frame.iloc[0].tolist() == ["7", "", "", ""]


def test_csv_lines_and_rows_are_capped(tmp_path, monkeypatch):
    from data_sources import reading

    long = tmp_path / "long.csv"
    long.write_text("week_commencing,obsession,area,value\n2015-07-20,cla,Leeds," + "9" * 70_000 + "\n")
    with pytest.raises(InputError, match="line 2: the line is over 65,536 characters"):
        reading.read_csv_file(long)
    monkeypatch.setattr(reading, "MAX_ROWS", 10)
    many = tmp_path / "many.csv"
    many.write_text("week_commencing,obsession,area,value\n" + "2015-07-20,cla,Leeds,1\n" * 20)
    with pytest.raises(InputError, match="over the 10 a file may have"):
        reading.read_csv_file(many)


def test_a_symlink_is_refused_and_its_target_never_echoed(tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text(SECRET_LINE + "\ndaemon:*:19000:0:99999:7:::\n")
    link = tmp_path / "x.csv"
    link.symlink_to(secret)
    rc, err, _ = run_import(link, tmp_path)
    assert rc == 2 and "symbolic link" in err and "SECRET" not in err
    # The same file as a regular file: refused as not the format, its first line not echoed.
    copy = tmp_path / "copy.csv"
    copy.write_text(secret.read_text())
    rc, err, _ = run_import(copy, tmp_path)
    assert rc == 2 and "line 1" in err and "SECRET" not in err and "root:" not in err, err


def test_a_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    rc, err, _ = run_import(fifo, tmp_path)          # run_import's timeout bounds it
    assert rc == 2 and "not a regular file" in err


def test_a_folder_source_refuses_a_symlink(tmp_path, demo_config):
    from data_sources.folder_source import FolderSource

    (tmp_path / "drop").mkdir()
    target = tmp_path / "elsewhere.csv"
    target.write_text("week_commencing,obsession,area,value\n2015-07-20,cla,Leeds,1\n")
    (tmp_path / "drop" / "latest.csv").symlink_to(target)
    src = FolderSource(name="weekly", path=str(tmp_path / "drop"))
    with pytest.raises(InputError, match="symbolic link"):
        src.load(demo_config, {}, today=date(2015, 7, 27))
