"""The long format (one figure a row) from a CSV or XLSX file, checked against the configuration."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from tracker.config import Config
from tracker.errors import ValidationFailed

from .reading import read_table
from .validate import Checked, check_header, check_long


def read_long(path: str | Path, config: Config, sheet: str | None = None, today: date | None = None,
              extra_areas: tuple[str, ...] = ()) -> Checked:
    """Read and check one long-format file; problems with the columns raise ValidationFailed at once."""
    path = Path(path)
    table = read_table(path, sheet=sheet)
    header_problems = check_header(table)
    if header_problems:
        raise ValidationFailed(header_problems, str(path))
    return check_long(table, config, today=today, extra_areas=extra_areas)
