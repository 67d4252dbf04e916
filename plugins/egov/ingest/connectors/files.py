"""File drops: a landing folder that an agency fills with one export per day (CSV) or per month (Excel).

A delivery can arrive twice, be revised or be cut short; :func:`choose_delivery` picks the file to load
and the connectors refuse one that is incomplete or does not match the registry's columns.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from egov.core.periods import days_between, month_end, month_starts
from egov.core.sources import DATE, INT, REGISTER_MONTH_FIELD, RESERVED_PREFIX, Entity
from egov.ingest.connectors.base import Endpoint, Page
from egov.ingest.errors import SchemaDriftError, SourceDataError, SourceUnavailable
from egov.ingest.records import MALFORMED_FIELD

log = logging.getLogger(__name__)

#: File deliveries: the original a revision replaces is version 1; "name_v2.csv" is version 2.
REVISION_SUFFIX = re.compile(r"_v(\d+)$")
#: What file managers and SFTP clients call a second copy of a file: "name (1).csv".
COPY_SUFFIX = re.compile(r" \(\d+\)$")


@dataclass(frozen=True)
class Delivery:
    """The file chosen for one day or month of a file drop, and the copies set aside."""

    path: Path
    sha256: str
    ignored: tuple[str, ...]
    #: The file's bytes, read once to compare the copies and kept for the connector to parse.
    content: bytes = field(repr=False, default=b"")

    @property
    def request(self) -> str:
        note = f" (ignored: {', '.join(self.ignored)})" if self.ignored else ""
        return f"file {self.path.name} sha256:{self.sha256}{note}"


def choose_delivery(folder: Path, expected_name: str) -> Delivery:
    """Pick the file to load among what was delivered for one name.

    A byte-identical second copy ("name (1).csv") is ignored; a revision ("name_v2.csv") replaces
    the original; two different files claiming the same version are refused.
    """
    stem, suffix = Path(expected_name).stem, Path(expected_name).suffix
    candidates = sorted(path for path in folder.glob(f"{stem}*{suffix}")
                        if REVISION_SUFFIX.sub("", COPY_SUFFIX.sub("", path.stem)) == stem)
    if not candidates:
        raise SourceUnavailable(f"{folder / expected_name}: the file has not been delivered")
    by_content: dict[str, list[Path]] = {}
    contents: dict[str, bytes] = {}
    for path in candidates:
        content = path.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        by_content.setdefault(digest, []).append(path)
        contents[digest] = content

    def version(path: Path) -> int:
        match = REVISION_SUFFIX.search(COPY_SUFFIX.sub("", path.stem))
        return int(match.group(1)) if match else 1

    versions = {digest: max(version(path) for path in paths) for digest, paths in by_content.items()}
    latest = max(versions.values())
    newest = [digest for digest, number in versions.items() if number == latest]
    if len(newest) > 1:
        names = sorted(path.name for digest in newest for path in by_content[digest])
        raise SourceDataError(f"{folder}: different files claim to be version {latest} of {expected_name}: "
                              f"{', '.join(names)}; remove the wrong one")
    chosen = min(by_content[newest[0]], key=lambda path: (len(path.name), path.name))
    ignored = tuple(path.name for path in candidates if path != chosen)
    return Delivery(chosen, newest[0], ignored, contents[newest[0]])


def _typed(kind: str, text: str) -> int | str | None:
    """A cell as the registry's kind: integers and dd/mm/yyyy dates converted, anything else left as sent."""
    text = text.strip()
    if text == "":
        return None
    base = kind.rstrip("?")
    if base == INT and re.fullmatch(r"-?\d+", text):
        return int(text)
    if base == DATE:
        try:
            return datetime.strptime(text, "%d/%m/%Y").date().isoformat()
        except ValueError:
            return text
    return text


def _cell_value(kind: str, cell: object) -> object:
    """An Excel cell as JSON carries it: date cells as ISO dates, whole numbers as integers."""
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    if isinstance(cell, str):
        return _typed(kind, cell)
    return cell


def check_columns(where: str, entity: Entity, found: list[str]) -> None:
    reserved = [name for name in found if name.startswith(RESERVED_PREFIX)]
    if reserved:  # the connector's own _file, _line or _row would silently replace what the column holds
        raise SchemaDriftError(f"{where}: columns {reserved} start with {RESERVED_PREFIX!r}, which is reserved for "
                               "what the connector adds; a source may not send them")
    missing = [name for name in entity.fields if name not in found]
    if missing:
        extra = [name for name in found if name not in entity.fields]
        hint = f"; unexpected columns {extra} (renamed?)" if extra else ""
        raise SchemaDriftError(f"{where}: missing columns {missing}{hint}; found {found}")
    unexpected = [name for name in found if name not in entity.fields]
    if unexpected:
        log.warning("%s: new columns %s are kept in the raw payload but not used", where, unexpected)


def _landing_folder(endpoint: Endpoint) -> Path:
    if "path" not in endpoint.extra:
        raise ValueError("a file-drop source's connection needs the landing folder as extra.path")
    return Path(endpoint.extra["path"])


@dataclass
class CsvDropConnector:
    """A landing folder with one CSV export per day (UTF-8, possibly with a BOM), as an SFTP drop leaves it.

    ``entity.path`` is the file-name pattern, formatted with ``day``. The row that says "Tổng cộng" is the
    export's control total: each numeric column must sum to it, and it is not loaded itself.
    """

    folder: Path
    TOTAL_LABEL: ClassVar[str] = "Tổng cộng"

    @classmethod
    def from_endpoint(cls, endpoint: Endpoint) -> CsvDropConnector:
        return cls(_landing_folder(endpoint))

    def _read(self, entity: Entity, delivery: Delivery) -> list[dict]:
        try:
            text = delivery.content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SourceDataError(f"{delivery.path}: not UTF-8 ({exc}); the export's encoding changed") from None
        reader = csv.DictReader(io.StringIO(text))
        check_columns(str(delivery.path), entity, list(reader.fieldnames or []))
        numeric = [name for name, kind in entity.fields.items() if kind.rstrip("?") == INT]
        records, total_row = [], None
        for line, row in enumerate(reader, start=2):
            extra = row.pop(None, None)  # cells beyond the header: an unquoted comma, a shifted row
            if any((value or "").strip() == self.TOTAL_LABEL for value in row.values()):
                total_row = row
                continue
            record = {name: _typed(entity.fields.get(name, "text"), value or "") for name, value in row.items()}
            if extra:
                record[MALFORMED_FIELD] = f"{len(extra)} more cells than the header: {extra}"
            records.append({**record, "_file": delivery.path.name, "_line": line})
        if total_row is None:
            # The control row comes last: without it the file may be cut short (an upload still running).
            raise SourceUnavailable(f"{delivery.path}: no '{self.TOTAL_LABEL}' control row; the file may be "
                                    "incomplete")
        # A malformed cell or a shifted row leaves the sums unknown; those rows are quarantined and reported anyway.
        shifted = any(MALFORMED_FIELD in record for record in records)
        for name in numeric:
            stated = _typed(INT, total_row[name] or "")
            values = [record.get(name) for record in records]
            numbers = [value for value in values if isinstance(value, int)]
            if not shifted and len(numbers) == len(values) and sum(numbers) != stated:
                raise SourceDataError(f"{delivery.path}: column {name!r} sums to {sum(numbers)} but the "
                                      f"control total row says {stated}; the export is incomplete or altered")
        return records

    def pages(self, entity: Entity, window: tuple[date, date] | None) -> Iterator[Page]:
        if window is None:
            raise ValueError(f"{entity.name}: a daily file drop is read for a window of days")
        for day in days_between(*window):
            delivery = choose_delivery(self.folder, entity.path.format(day=day))
            if delivery.ignored:
                log.warning("%s: set aside %s", delivery.path.name, ", ".join(delivery.ignored))
            yield Page(delivery.request, self._read(entity, delivery))


@dataclass
class XlsxDropConnector:
    """A landing folder with one Excel workbook per month, one sheet per entity (``entity.path``).

    Sheets open with title rows; the header row is the first whose first cell is "STT" (the
    row-number column, which is not loaded). Every record is stamped with the report month's last
    day (``REGISTER_MONTH_FIELD``), which dates it for windows and replacement; a month's
    workbook is loaded only when the window covers its last day.
    """

    folder: Path
    file_pattern: str = "SoTTTT_BaoCao_{month:%Y_%m}.xlsx"
    HEADER_SEARCH_ROWS: ClassVar[int] = 15

    @classmethod
    def from_endpoint(cls, endpoint: Endpoint) -> XlsxDropConnector:
        return cls(_landing_folder(endpoint), endpoint.extra.get("file_pattern", cls.file_pattern))

    def _sheet_records(self, entity: Entity, delivery: Delivery, month: date) -> list[dict]:
        from zipfile import BadZipFile

        import openpyxl

        try:
            workbook = openpyxl.load_workbook(io.BytesIO(delivery.content), read_only=True, data_only=True)
        except (BadZipFile, OSError) as exc:
            raise SourceUnavailable(
                f"{delivery.path}: not a complete workbook ({exc}); still being uploaded?") from None
        try:
            if entity.path not in workbook.sheetnames:
                raise SchemaDriftError(f"{delivery.path.name}: no sheet {entity.path!r}; sheets are "
                                       f"{workbook.sheetnames}")
            rows = workbook[entity.path].iter_rows(values_only=True)
            header, header_row = None, 0
            for header_row, row in enumerate(rows, start=1):
                if row and isinstance(row[0], str) and row[0].strip() == "STT":
                    header = [str(cell).strip() if cell is not None else "" for cell in row]
                    break
                if header_row >= self.HEADER_SEARCH_ROWS:
                    break
            if header is None:
                raise SchemaDriftError(f"{delivery.path.name} sheet {entity.path!r}: no header row starting "
                                       f"with 'STT' in the first {self.HEADER_SEARCH_ROWS} rows")
            check_columns(f"{delivery.path.name} sheet {entity.path!r}", entity,
                          [name for name in header[1:] if name] + [REGISTER_MONTH_FIELD])
            records = []
            for number, row in enumerate(rows, start=header_row + 1):
                if all(cell is None or str(cell).strip() == "" for cell in row):
                    continue
                record = {name: _cell_value(entity.fields.get(name, "text"), cell)
                          for name, cell in zip(header[1:], row[1:], strict=False) if name}
                record[REGISTER_MONTH_FIELD] = month_end(month).isoformat()
                records.append({**record, "_file": delivery.path.name, "_row": number})
            return records
        finally:
            workbook.close()

    def pages(self, entity: Entity, window: tuple[date, date] | None) -> Iterator[Page]:
        if window is None:
            raise ValueError(f"{entity.name}: a monthly workbook drop is read for a window of months")
        for month in month_starts(window[0], window[1] - timedelta(days=1)):
            if not window[0] <= month_end(month) < window[1]:
                continue
            delivery = choose_delivery(self.folder, self.file_pattern.format(month=month))
            yield Page(f"{delivery.request} sheet {entity.path!r}", self._sheet_records(entity, delivery, month))
