"""The mail system's daily exports, dropped into a shared folder the way its administrators deliver them.

One file a day, `hopthu_YYYYMMDD.csv`: saved from Excel as "CSV UTF-8", so it starts with a byte-order mark,
separates fields with commas and ends lines with CRLF. One row per unit, then a control-total row (`Mã đơn vị`
empty, `Tên đơn vị` = "Tổng cộng") whose counts are the column sums. Files appear whole: each is written under a
temporary name that no reader's `hopthu_*.csv` pattern matches, then renamed.

The fault helpers act on the delivered files, so a reader is tested on what it would really find in the folder.
"""

import csv
import io
from datetime import date, timedelta
from pathlib import Path

from egov_demo.simulators.landing import write_atomically
from egov_demo.simulators.mail.generator import MailDataset

HEADERS = ("Ngày", "Mã đơn vị", "Tên đơn vị", "Số tài khoản tạo mới", "Số tài khoản đóng", "Tổng số tài khoản")
DATE, UNIT_CODE, UNIT_NAME, CREATED, CLOSED, TOTAL = HEADERS
COUNT_HEADERS = (CREATED, CLOSED, TOTAL)
CONTROL_ROW_NAME = "Tổng cộng"
FILE_PATTERN = "hopthu_*.csv"
ENCODING = "utf-8-sig"
CORRUPT_COUNT = "hai"  # a count typed in words, as happens when a row is edited by hand


def export_path(folder: Path, day: date, suffix: str = "") -> Path:
    """Where the export of `day` lands; `suffix` names a re-delivery such as "_v2" or " (1)"."""
    return folder / f"hopthu_{day:%Y%m%d}{suffix}.csv"


def _with_control_row(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    control = {DATE: rows[0][DATE], UNIT_CODE: "", UNIT_NAME: CONTROL_ROW_NAME}
    control.update({header: str(sum(int(row[header]) for row in rows)) for header in COUNT_HEADERS})
    return [*rows, control]


def _unit_rows(dataset: MailDataset, day: date) -> list[dict[str, str]]:
    created, closed, total = dataset.counts_on(day)
    return [
        {DATE: f"{day:%d/%m/%Y}", UNIT_CODE: unit.code, UNIT_NAME: unit.name,
         CREATED: str(created[i]), CLOSED: str(closed[i]), TOTAL: str(total[i])}
        for i, unit in enumerate(dataset.units)
    ]


def _render(headers: list[str] | tuple[str, ...], rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=headers, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(ENCODING)


def _write_atomically(path: Path, content: bytes) -> Path:
    return write_atomically(path, lambda temporary: temporary.write_bytes(content))


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding=ENCODING, newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _export(dataset: MailDataset, day: date) -> bytes:
    return _render(HEADERS, _with_control_row(_unit_rows(dataset, day)))


def write_day(dataset: MailDataset, folder: Path, day: date) -> Path:
    """Export `day`, replacing any earlier export of that day."""
    return _write_atomically(export_path(folder, day), _export(dataset, day))


def write_range(dataset: MailDataset, folder: Path, first: date, last: date) -> list[Path]:
    """Export every day from `first` to `last`; returns the files written.

    A day whose file already holds exactly what would be written is left alone (rerunning a delivery changes
    nothing); a missing or different file, such as one damaged by a fault helper, is written afresh.
    """
    written = []
    day = first
    while day <= last:
        path = export_path(folder, day)
        content = _export(dataset, day)
        if not path.exists() or path.read_bytes() != content:
            written.append(_write_atomically(path, content))
        day += timedelta(days=1)
    return written


def deliver_twice(folder: Path, day: date) -> Path:
    """The same export delivered again, byte-identical, as `hopthu_YYYYMMDD (1).csv` (a browser's duplicate
    download name). It matches `hopthu_*.csv`, so a reader that loads by pattern sees the day twice."""
    duplicate = export_path(folder, day, " (1)")
    _write_atomically(duplicate, export_path(folder, day).read_bytes())
    return duplicate


def revise_day(dataset: MailDataset, folder: Path, day: date, unit_code: str, extra_created: int) -> Path:
    """A corrected re-export `hopthu_YYYYMMDD_v2.csv` next to the original, in which `unit_code` created
    `extra_created` more accounts that day: its created and total counts are raised and the control row
    recomputed. The source is not regenerated, so the next day's file still starts from the unrevised total:
    for that unit, total(day+1) ≠ total_v2(day) + created(day+1) − closed(day+1), off by `extra_created`.
    """
    rows = _unit_rows(dataset, day)
    revised = [row for row in rows if row[UNIT_CODE] == unit_code]
    if not revised:
        raise ValueError(f"no unit {unit_code!r} in the export of {day}")
    for header in (CREATED, TOTAL):
        revised[0][header] = str(int(revised[0][header]) + extra_created)
    return _write_atomically(export_path(folder, day, "_v2"), _render(HEADERS, _with_control_row(rows)))


def corrupt_row(folder: Path, day: date) -> Path:
    """The first unit row of the day's file gets "hai" ("two" in words) as its created count; the control row
    keeps the numeric sum it had, so the file still looks complete."""
    path = export_path(folder, day)
    headers, rows = _read(path)
    rows[0][CREATED] = CORRUPT_COUNT
    return _write_atomically(path, _render(headers, rows))


def rename_column(folder: Path, day: date, old: str, new: str) -> Path:
    """The day's file with column `old` renamed to `new`, as when the export template changes (schema drift)."""
    path = export_path(folder, day)
    headers, rows = _read(path)
    if old not in headers:
        raise ValueError(f"{path.name} has no column {old!r}")
    renamed = [new if header == old else header for header in headers]
    rows = [{new if key == old else key: value for key, value in row.items()} for row in rows]
    return _write_atomically(path, _render(renamed, rows))


def remove_day(folder: Path, day: date) -> None:
    """The day's file goes missing (never delivered, or deleted by mistake)."""
    export_path(folder, day).unlink()
