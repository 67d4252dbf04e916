"""File drops: generated CSV exports (the mail system's) and Excel workbooks (the registers') in a landing folder,
read by the real file connectors.

A CSV row is broken cell by cell (a cell any text, a row with more or fewer cells than the header); its file
ends with the control row, whose totals the suite adds up as the connector reads the cells, so that a negative
or oversized count reaches the loader as a record problem rather than as a file whose totals do not add up. A
workbook row's cells are any value openpyxl writes (numbers of any size, texts, days of any year, times of day).
Now and then one file carries a file-level fault.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from fuzz_checks import Offer, fuzz_source
from fuzz_values import csv_cell, one_in, valid_record, xlsx_cell
from fuzz_workbook import workbook
from hypothesis import strategies as st

from egov.core.periods import month_end
from egov.core.sources import INT, MAIL, REGISTER_MONTH_FIELD, REGISTERS, Entity
from egov.ingest.connectors.files import CsvDropConnector, XlsxDropConnector, _typed

ACCOUNTS = MAIL.entities[0]
CSV_START = date(2019, 3, 1)
CONTROL_LABEL = CsvDropConnector.control_label
#: File-level faults of a CSV export, each refused as SourceDataError or SourceUnavailable.
CSV_FAULTS = ("no_control_row", "totals_do_not_add_up", "not_utf8", "column_missing", "column_reserved",
              "file_missing")
#: File-level faults of a workbook.
XLSX_FAULTS = ("truncated", "sheet_missing", "header_missing", "column_missing", "column_reserved", "file_missing")
XLSX_PATTERN = XlsxDropConnector.file_pattern


@dataclass(frozen=True)
class FileBatch:
    #: The entity's name, for a failing example's report (the registry's object would fill a page).
    what: str
    entity: Entity = field(repr=False)
    window: tuple[date, date]
    #: File name and content of each delivered file.
    files: tuple[tuple[str, bytes], ...]
    records: int
    fault: str | None


def _csv_cells(entity: Entity, number: int, day: date) -> list[str]:
    """The cells of a sound row of the mail export: dd/mm/yyyy days, counts as digits."""
    record = valid_record(entity, number, day)
    return [day.strftime("%d/%m/%Y") if name == entity.date_field else str(record[name]) for name in entity.fields]


@st.composite
def _csv_row(draw: st.DrawFn, entity: Entity, number: int, day: date) -> list[str]:
    cells = _csv_cells(entity, number, day)
    for _ in range(draw(st.integers(0, 3))):
        what = draw(st.sampled_from(("cell", "cell", "cell", "more_cells", "fewer_cells")))
        if what == "cell":
            cells[draw(st.integers(0, len(cells) - 1))] = draw(csv_cell())
        elif what == "more_cells":
            cells += draw(st.lists(csv_cell(), min_size=1, max_size=2))
        elif len(cells) > 1:
            cells = cells[: draw(st.integers(1, len(cells) - 1))]
    return cells


def _control_row(entity: Entity, rows: list[list[str]], day: date) -> list[str]:
    """The export's control row: each count column's total, as the connector reads the cells (``_typed``)."""
    names = list(entity.fields)
    totals = []
    for position, name in enumerate(names):
        values = [_typed(INT, row[position]) if position < len(row) else None for row in rows]
        totals.append(str(sum(value for value in values if isinstance(value, int)))
                      if entity.fields[name] == INT else "")
    totals[names.index(entity.date_field or "")] = day.strftime("%d/%m/%Y")
    totals[names.index(CsvDropConnector.control_column)] = CONTROL_LABEL
    return totals


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([header, *rows])
    return buffer.getvalue()


def _csv_fault(fault: str, header: list[str], rows: list[list[str]], control: list[str]) -> bytes | None:
    """The file with ``fault`` put in (None: not delivered at all)."""
    if fault == "no_control_row":
        return _csv_text(header, rows).encode("utf-8-sig")
    if fault == "totals_do_not_add_up":
        control = [*control[:3], str(int(control[3] or 0) + 1), *control[4:]]
    elif fault == "not_utf8":
        return _csv_text(header, [*rows, control]).encode("utf-16")
    elif fault == "column_missing":
        header = header[:-1]
    elif fault == "column_reserved":
        header = [*header, "_line"]
    elif fault == "file_missing":
        return None
    return _csv_text(header, [*rows, control]).encode("utf-8-sig")


@st.composite
def csv_batches(draw: st.DrawFn) -> FileBatch:
    """Seven to nine days of mail exports, one to four rows each, one batch in five with a file-level fault."""
    days = [CSV_START + timedelta(days=offset) for offset in range(draw(st.integers(7, 9)))]
    header, exports, number = list(ACCOUNTS.fields), [], 0
    for day in days:
        rows = [_csv_cells(ACCOUNTS, number, day)]
        rows += [draw(_csv_row(ACCOUNTS, number + position, day)) for position in range(1, draw(st.integers(1, 4)))]
        number += len(rows)
        exports.append((day, rows, _control_row(ACCOUNTS, rows, day)))
    fault = one_in(draw, 5, CSV_FAULTS, spread=number)
    faulty_day = draw(st.integers(0, len(days) - 1))
    files = []
    for index, (day, rows, control) in enumerate(exports):
        content = (_csv_fault(fault, header, rows, control) if fault and index == faulty_day
                   else _csv_text(header, [*rows, control]).encode("utf-8-sig"))
        if content is not None:
            files.append((f"hopthu_{day:%Y%m%d}.csv", content))
    window = (CSV_START, days[-1] + timedelta(days=1))
    return FileBatch(ACCOUNTS.name, ACCOUNTS, window, tuple(files), number, fault)


def _workbook(entity: Entity, rows: list[list[object]], fault: str | None) -> bytes:
    columns = [name for name in entity.fields if name != REGISTER_MONTH_FIELD]
    if fault == "column_missing":
        columns = columns[:-1]
    elif fault == "column_reserved":
        columns = [*columns, "_row"]
    header = [] if fault == "header_missing" else [["STT", *columns]]
    content = workbook("Sheet1" if fault == "sheet_missing" else entity.path,
                       [["SỞ THÔNG TIN VÀ TRUYỀN THÔNG TỈNH TRÀ VINH"], [entity.path.upper()], *header,
                        *([number, *row] for number, row in enumerate(rows, start=1))])
    return content[: len(content) // 2] if fault == "truncated" else content


def _xlsx_cells(entity: Entity, number: int, month: date) -> list[object]:
    record = valid_record(entity, number, month)
    return [datetime.combine(month, datetime.min.time()) if entity.fields[name].startswith("date") else record[name]
            for name in entity.fields if name != REGISTER_MONTH_FIELD]


@st.composite
def xlsx_batches(draw: st.DrawFn) -> FileBatch:
    """Seven to nine monthly workbooks of one register sheet, one to four rows each, one batch in five with a
    file-level fault."""
    entity = draw(st.sampled_from(REGISTERS.entities))
    months = [date(2019 + offset // 12, offset % 12 + 1, 1) for offset in range(draw(st.integers(7, 9)))]
    sheets, number = [], 0
    for month in months:
        rows = [_xlsx_cells(entity, number, month)]
        for position in range(1, draw(st.integers(1, 4))):
            cells = _xlsx_cells(entity, number + position, month)
            for _ in range(draw(st.integers(1, 3))):
                cells[draw(st.integers(0, len(cells) - 1))] = draw(xlsx_cell())
            rows.append(cells)
        number += len(rows)
        sheets.append(rows)
    fault = one_in(draw, 5, XLSX_FAULTS, spread=number)
    faulty_month = draw(st.integers(0, len(months) - 1))
    files = []
    for index, (month, rows) in enumerate(zip(months, sheets, strict=True)):
        this_fault = fault if index == faulty_month else None
        if this_fault != "file_missing":
            files.append((XLSX_PATTERN.format(month=month), _workbook(entity, rows, this_fault)))
    return FileBatch(entity.name, entity, (months[0], month_end(months[-1]) + timedelta(days=1)), tuple(files),
                     number, fault)


def offer(folder: Path, batch: FileBatch) -> Offer:
    """The batch's files in an empty landing ``folder``, for the connector of its source."""
    for name, content in batch.files:
        (folder / name).write_bytes(content)
    original = MAIL if batch.entity is ACCOUNTS else REGISTERS
    connector = CsvDropConnector(folder) if original is MAIL else XlsxDropConnector(folder)
    return Offer(original, fuzz_source(original, "files"), batch.entity, batch.window, connector,
                 len(batch.files), batch.records, batch.fault)
